package wal_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/javaser"
	"github.com/sparkckpt/sparkckpt/decode/wal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadDataLog: the generated receiver log holds four Java-serialized
// blocks of 250, 100, 7 and 1 strings, a TC_RESET after every 100 objects.
func TestReadDataLog(t *testing.T) {
	b := readGen(t, genHDFSData)
	recs, tail, err := wal.ReadDataLog(bytes.NewReader(b))
	require.NoError(t, err)
	assert.Nil(t, tail)
	want := []struct {
		offset          int64
		length          int
		elements, reset int
	}{
		{0, 8484, 250, 2},
		{8488, 3398, 100, 1},
		{11890, 239, 7, 0},
		{12133, 38, 1, 0},
	}
	require.Len(t, recs, len(want))
	for i, w := range want {
		r := recs[i]
		assert.Equal(t, w.offset, r.Offset, "record %d", i)
		assert.Equal(t, w.length, r.Length, "record %d", i)
		assert.Equal(t, wal.DataJava, r.Format)
		assert.Equal(t, w.elements, r.Elements, "record %d", i)
		assert.Equal(t, w.reset, r.Resets, "record %d", i)
		assert.Equal(t, []string{"java.lang.String"}, r.Classes)
		assert.NoError(t, r.Err)
		assert.Nil(t, r.Stream, "ReadDataLog drops the syntax")
	}
	assert.Equal(t, int64(len(b)), want[3].offset+4+int64(want[3].length))
}

// TestSummarizeDataResets looks at the syntax of the first block: TC_RESET
// nodes after objects 100 and 200, the handle table restarting after each,
// and a byte-exact re-encoding.
func TestSummarizeDataResets(t *testing.T) {
	r := wal.NewReader(bytes.NewReader(readGen(t, genHDFSData)))
	require.True(t, r.Next())
	payload := bytes.Clone(r.Record())
	sum := wal.SummarizeData(payload)
	require.Equal(t, wal.DataJava, sum.Format)
	require.NotNil(t, sum.Stream)
	require.Len(t, sum.Stream.Contents, 252)

	var resets []int
	javaser.Walk(sum.Stream, func(p javaser.Path, n javaser.Node) bool {
		if _, ok := n.(*javaser.Reset); ok {
			resets = append(resets, p[0].Index)
		}
		return true
	})
	assert.Equal(t, []int{100, 201}, resets, "content indexes of the TC_RESETs")
	first := sum.Stream.Contents[0].(*javaser.String)
	assert.Equal(t, "line 0000: sensor-0 reading 0", first.Value())
	assert.Equal(t, javaser.BaseHandle, first.Handle)
	afterReset := sum.Stream.Contents[101].(*javaser.String)
	assert.Equal(t, javaser.BaseHandle, afterReset.Handle, "handles restart after TC_RESET")
	assert.Equal(t, "line 0100: sensor-2 reading 700", afterReset.Value())
	last := sum.Stream.Contents[251].(*javaser.String)
	assert.Equal(t, "line 0249: sensor-4 reading 213", last.Value())
	assert.Equal(t, javaser.BaseHandle+49, last.Handle, "the 50th string after the second reset")

	enc, err := javaser.Encode(sum.Stream)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(payload, enc))
}

func TestSummarizeDataOpaque(t *testing.T) {
	cases := []struct {
		name    string
		payload []byte
		hasErr  bool
	}{
		{"empty", nil, false},
		{"kryo", []byte{0x01, 0x00, 0x6a, 0x61, 0x76, 0x61, 0x2e}, false},
		{"encrypted", bytes.Repeat([]byte{0x9c, 0x3e, 0x11}, 20), false},
		{"bad-java", []byte{0xAC, 0xED, 0x00, 0x05, 0x73, 0x72}, true},
		{"java-v4", []byte{0xAC, 0xED, 0x00, 0x04, 0x70}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sum := wal.SummarizeData(tc.payload)
			assert.Equal(t, wal.DataOpaque, sum.Format)
			assert.Equal(t, "opaque (Kryo or encrypted)", sum.Format)
			assert.Zero(t, sum.Elements)
			if tc.hasErr {
				requirePositioned(t, sum.Err, len(tc.payload), nil)
			} else {
				assert.NoError(t, sum.Err)
			}
		})
	}
	// Mixed classes, nulls and block data are summarised too.
	s := &javaser.Stream{Magic: javaser.StreamMagic, Version: javaser.StreamVersion, Contents: []javaser.Node{
		&javaser.String{Raw: []byte("a")}, &javaser.Null{}, &javaser.Reset{}, &javaser.String{Raw: []byte("b")},
	}}
	b, err := javaser.Encode(s)
	require.NoError(t, err)
	sum := wal.SummarizeData(b)
	assert.Equal(t, wal.DataJava, sum.Format)
	assert.Equal(t, 3, sum.Elements)
	assert.Equal(t, 1, sum.Resets)
	assert.Equal(t, []string{"java.lang.String", "null"}, sum.Classes)
}

// TestReadDataLogTorn: a receiver log cut inside its third record ends in a
// tail; a corrupt Java block inside is reported with a file offset.
func TestReadDataLogTorn(t *testing.T) {
	b := readGen(t, genHDFSData)
	recs, tail, err := wal.ReadDataLog(bytes.NewReader(b[:11900]))
	require.NoError(t, err)
	require.Len(t, recs, 2)
	require.NotNil(t, tail)
	assert.Equal(t, int64(11890), tail.Offset)
	assert.Equal(t, int32(239), tail.Length)
	assert.Len(t, tail.Bytes, 10)

	bad := bytes.Clone(b)
	bad[11890+4+4] = 0x7F // the first content of block 3 is no longer a type code
	recs, _, err = wal.ReadDataLog(bytes.NewReader(bad))
	require.NoError(t, err)
	require.Len(t, recs, 4)
	assert.Equal(t, wal.DataOpaque, recs[2].Format)
	de := requirePositioned(t, recs[2].Err, len(bad), decode.ErrCorrupt)
	assert.Equal(t, int64(11890+4+4), de.Offset)
}

// TestReadDataLogMixedClasses: ReadDataLog parses its records with one
// reused javaser.Parser; each summary must still be SummarizeData's,
// class names included, when records of other classes follow.
func TestReadDataLogMixedClasses(t *testing.T) {
	files, err := filepath.Glob("../../fixtures/generated/*.ser")
	require.NoError(t, err)
	require.Greater(t, len(files), 10)
	var log []byte
	var payloads [][]byte
	for _, f := range append(files, files...) {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		payloads = append(payloads, b)
		log = wal.AppendRecord(log, b)
	}
	recs, tail, err := wal.ReadDataLog(bytes.NewReader(log))
	require.NoError(t, err)
	assert.Nil(t, tail)
	require.Len(t, recs, len(payloads))
	classes := 0
	for i, r := range recs {
		want := wal.SummarizeData(payloads[i])
		want.Stream = nil
		assert.Equal(t, want, r.DataSummary, "record %d (%s)", i, files[i%len(files)])
		classes += len(r.Classes)
	}
	assert.Greater(t, classes, 2*len(files), "records of several classes")
}
