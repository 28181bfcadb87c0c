package wal_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"runtime"
	"testing"
	"testing/iotest"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/wal"
	"github.com/sparkckpt/sparkckpt/fixtures/real"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// frame builds a log from payloads.
func frame(payloads ...[]byte) []byte {
	var b []byte
	for _, p := range payloads {
		b = wal.AppendRecord(b, p)
	}
	return b
}

func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// readerConstructors run every case through differently-behaved readers
// (Prometheus wlog's readerConstructors).
var readerConstructors = map[string]func([]byte) io.Reader{
	"bytes":   func(b []byte) io.Reader { return bytes.NewReader(b) },
	"onebyte": func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) },
	"half":    func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) },
	"dataerr": func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) },
}

func TestReader(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 3<<20/16+3) // > 3 MiB: several read chunks
	cases := []struct {
		name     string
		in       []byte
		records  [][]byte
		offsets  []int64
		tail     *wal.Tail
		kind     error
		errOff   int64
		maxAlloc int64
	}{
		{name: "empty"},
		{name: "one", in: frame([]byte("abc")), records: [][]byte{[]byte("abc")}, offsets: []int64{0}},
		{name: "three", in: frame([]byte("a"), nil, []byte("bcd")),
			records: [][]byte{[]byte("a"), {}, []byte("bcd")}, offsets: []int64{0, 5, 9}},
		{name: "big", in: frame(big, []byte("x")), records: [][]byte{big, []byte("x")}, offsets: []int64{0, int64(4 + len(big))}},
		{name: "prefix-1", in: cat(frame([]byte("a")), []byte{0}), records: [][]byte{[]byte("a")}, offsets: []int64{0},
			tail: &wal.Tail{Offset: 5, Bytes: []byte{0}, Length: -1}},
		{name: "prefix-3", in: []byte{0, 0, 1}, tail: &wal.Tail{Offset: 0, Bytes: []byte{0, 0, 1}, Length: -1}},
		{name: "short-payload", in: cat(frame([]byte("ab")), be32(10), []byte("xyz")), records: [][]byte{[]byte("ab")}, offsets: []int64{0},
			tail: &wal.Tail{Offset: 6, Bytes: cat(be32(10), []byte("xyz")), Length: 10}},
		{name: "no-payload", in: be32(7), tail: &wal.Tail{Offset: 0, Bytes: be32(7), Length: 7}},
		{name: "short-big", in: cat(be32(5<<20), big[:2<<20+17]), tail: &wal.Tail{Offset: 0, Bytes: cat(be32(5<<20), big[:2<<20+17]), Length: 5 << 20}},
		{name: "negative", in: cat(frame([]byte("ok")), be32(0xFFFFFFFE), []byte("zz")), records: [][]byte{[]byte("ok")}, offsets: []int64{0},
			kind: decode.ErrCorrupt, errOff: 6},
		{name: "min-int32", in: be32(0x80000000), kind: decode.ErrCorrupt, errOff: 0},
		{name: "too-large", in: frame([]byte("ok"), []byte("0123456789")), records: [][]byte{[]byte("ok")}, offsets: []int64{0},
			kind: decode.ErrTooLarge, errOff: 6, maxAlloc: 8},
		{name: "too-large-default", in: be32(0x7FFFFFFF), kind: decode.ErrTooLarge, errOff: 0},
	}
	for _, tc := range cases {
		for rname, mk := range readerConstructors {
			t.Run(tc.name+"/"+rname, func(t *testing.T) {
				r := wal.NewReaderLimits(mk(tc.in), decode.Limits{MaxAlloc: tc.maxAlloc})
				var recs [][]byte
				var offs []int64
				for r.Next() {
					recs = append(recs, bytes.Clone(r.Record()))
					offs = append(offs, r.Offset())
				}
				require.Len(t, recs, len(tc.records))
				for i := range recs {
					require.True(t, bytes.Equal(tc.records[i], recs[i]), "record %d", i)
				}
				assert.Equal(t, tc.offsets, offs)
				if tc.kind != nil {
					de := requirePositioned(t, r.Err(), len(tc.in), tc.kind)
					assert.Equal(t, tc.errOff, de.Offset)
					assert.Equal(t, "wal", de.Format)
					assert.Nil(t, r.Tail())
					return
				}
				require.NoError(t, r.Err())
				assert.Equal(t, tc.tail, r.Tail())
				assert.False(t, r.Next(), "Next after the end")
			})
		}
	}
}

// TestReaderIOError: errors from the underlying reader come back unchanged.
func TestReaderIOError(t *testing.T) {
	boom := errors.New("boom")
	r := wal.NewReader(io.MultiReader(bytes.NewReader(frame([]byte("ok"))), iotest.ErrReader(boom)))
	require.True(t, r.Next())
	require.False(t, r.Next())
	require.ErrorIs(t, r.Err(), boom)
	assert.Nil(t, r.Tail())

	r = wal.NewReader(io.MultiReader(bytes.NewReader(be32(100)), bytes.NewReader([]byte("abc")), iotest.ErrReader(boom)))
	require.False(t, r.Next())
	require.ErrorIs(t, r.Err(), boom)
}

// TestReaderForgedLength: a declared length far beyond the bytes present
// costs no more than the bytes read (the 1 MiB read chunk), never the
// declared length.
func TestReaderForgedLength(t *testing.T) {
	in := cat(be32(1<<30-1), []byte("only a few bytes"))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := wal.NewReader(bytes.NewReader(in))
	require.False(t, r.Next())
	runtime.ReadMemStats(&after)
	require.NoError(t, r.Err())
	require.NotNil(t, r.Tail())
	assert.Equal(t, int32(1<<30-1), r.Tail().Length)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(4<<20), "bytes allocated for a 1 GiB forged length")
}

// TestWriterRoundTrip: Writer output equals the original file, byte for
// byte, for every real log and every generated file (torn tails included),
// and WriteRecord reports the offsets the Reader saw.
func TestWriterRoundTrip(t *testing.T) {
	t.Run("generated", func(t *testing.T) {
		files := generatedFiles()
		require.Len(t, files, 6)
		for _, f := range files {
			rewriteEqual(t, f)
		}
	})
	t.Run("real", func(t *testing.T) {
		files := real.Files(t, real.IsMetadataLog)
		require.Len(t, files, 17)
		for _, f := range files {
			rewriteEqual(t, f)
		}
	})
}

func rewriteEqual(t *testing.T, f string) {
	t.Helper()
	in, err := os.ReadFile(f)
	require.NoError(t, err)
	var out bytes.Buffer
	w := wal.NewWriter(&out)
	r := wal.NewReader(bytes.NewReader(in))
	n := 0
	for r.Next() {
		off, err := w.WriteRecord(r.Record())
		require.NoError(t, err)
		require.Equal(t, r.Offset(), off, f)
		n++
	}
	require.NoError(t, r.Err(), f)
	require.NoError(t, w.WriteTail(r.Tail()))
	require.Greater(t, n, 0, f)
	require.Equal(t, int64(len(in)), w.Offset(), f)
	require.True(t, bytes.Equal(in, out.Bytes()), "%s: rewritten file differs", f)
}

func TestWriterErrors(t *testing.T) {
	boom := errors.New("disk full")
	w := wal.NewWriter(&failWriter{budget: 6, err: boom})
	_, err := w.WriteRecord([]byte("ab"))
	require.NoError(t, err)
	_, err = w.WriteRecord([]byte("cd"))
	require.ErrorIs(t, err, boom)
	_, err = w.WriteRecord([]byte("ef"))
	require.ErrorIs(t, err, boom, "errors are sticky")

	w = wal.NewWriterAt(io.Discard, 100)
	off, err := w.WriteRecord([]byte("xyz"))
	require.NoError(t, err)
	assert.Equal(t, int64(100), off)
	assert.Equal(t, int64(107), w.Offset())
}

// failWriter accepts budget bytes, then fails.
type failWriter struct {
	budget int
	err    error
}

func (f *failWriter) Write(p []byte) (int, error) {
	if len(p) > f.budget {
		n := f.budget
		f.budget = 0
		return n, f.err
	}
	f.budget -= len(p)
	return len(p), nil
}
