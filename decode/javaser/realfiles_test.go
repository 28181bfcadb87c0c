package javaser_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"testing"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/codec"
	"github.com/sparkckpt/sparkckpt/decode/javaser"
	"github.com/sparkckpt/sparkckpt/fixtures/real"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// payload returns the decompressed Java stream of a real file.
func payload(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	d, _, _, err := codec.Decompress(b)
	require.NoError(t, err, path)
	return d
}

// roundTrip parses b and requires Encode to give b back byte for byte.
func roundTrip(t testing.TB, name string, b []byte) *javaser.Stream {
	t.Helper()
	s, err := javaser.Parse(b)
	require.NoError(t, err, name)
	out, err := javaser.Encode(s)
	require.NoError(t, err, name)
	if !bytes.Equal(out, b) {
		i := 0
		for i < len(out) && i < len(b) && out[i] == b[i] {
			i++
		}
		t.Fatalf("%s: re-encoding differs from the input at offset %#x (lengths %d vs %d)", name, i, len(out), len(b))
	}
	return s
}

// walRecords splits a write-ahead log into record payloads (spec §6.2:
// BE int32 length + payload; a torn tail is ignored, as Spark does).
func walRecords(b []byte) [][]byte {
	var out [][]byte
	for len(b) >= 4 {
		n := int(binary.BigEndian.Uint32(b))
		if n < 0 || 4+n > len(b) {
			break
		}
		out = append(out, b[4:4+n])
		b = b[4+n:]
	}
	return out
}

func TestRoundTripRealCheckpoints(t *testing.T) {
	files := real.Files(t, real.IsCheckpoint)
	require.GreaterOrEqual(t, len(files), 144, "checkpoint files in fixtures-real")
	for _, f := range files {
		s := roundTrip(t, real.Rel(t, f), payload(t, f))
		// Every checkpoint file is one org.apache.spark.streaming.Checkpoint object (spec §4.1).
		require.Len(t, s.Contents, 1, f)
		o, ok := s.Contents[0].(*javaser.Object)
		require.True(t, ok, f)
		assert.Equal(t, "org.apache.spark.streaming.Checkpoint", o.ClassName(), f)
		dir, ok := o.Field("checkpointDir")
		require.True(t, ok, f)
		assert.Regexp(t, `^file:/`, javaser.ResolveString(dir.Obj).Value(), f)
	}
}

func TestRoundTripRealRDDParts(t *testing.T) {
	files := real.Files(t, real.IsRDDPart)
	require.GreaterOrEqual(t, len(files), 200, "RDD part files in fixtures-real")
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		roundTrip(t, real.Rel(t, f), b)
	}
}

// TestRoundTripRealWAL round-trips every record of every driver WAL, and
// the nested event streams inside batched ([[B) records (spec §6.3).
func TestRoundTripRealWAL(t *testing.T) {
	files := real.Files(t, real.IsMetadataLog)
	require.GreaterOrEqual(t, len(files), 17)
	records, nested := 0, 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, rec := range walRecords(b) {
			records++
			s := roundTrip(t, real.Rel(t, f), rec)
			a, ok := s.Contents[0].(*javaser.Array)
			if !ok || a.Class.Name() != "[[B" {
				continue
			}
			for _, e := range a.Elems {
				inner, ok := javaser.Resolve(e).(*javaser.Array)
				require.True(t, ok)
				nested++
				is := roundTrip(t, real.Rel(t, f)+" (nested event)", inner.Prims)
				o, ok := is.Contents[0].(*javaser.Object)
				require.True(t, ok)
				assert.Regexp(t, `^org\.apache\.spark\.streaming\.scheduler\.(BlockAddition|BatchAllocation|BatchCleanup)Event$`, o.ClassName())
			}
		}
	}
	t.Logf("%d WAL records, %d nested event streams round-tripped", records, nested)
	assert.Greater(t, nested, records, "batched records hold several events")
}

// TestF21Handles checks handle assignment against the spec's worked example
// (§3.3, §4.2): in F21 the Checkpoint class descriptor is 0x7E0000, its 7
// distinct field type strings 0x7E0001-0x7E0007, the object 0x7E0008.
func TestF21Handles(t *testing.T) {
	root := real.Root(t)
	f := root + "/jleetutorial-python-spark-streaming/3_advanced/checkpoint/checkpoint-1519983188000"
	s := roundTrip(t, "F21", payload(t, f))
	o := s.Contents[0].(*javaser.Object)
	assert.Equal(t, int32(0x7E0000), o.Class.Handle)
	assert.Equal(t, int32(0x7E0008), o.Handle)
	assert.Equal(t, int64(-5529346214493608607), o.Class.SUID)
	assert.Equal(t, int64(0x19B), mustField(t, o, "checkpointDir").Offset())
	assert.Equal(t, "pyspark-shell", javaser.ResolveString(mustField(t, o, "framework")).Value())
	assert.Equal(t, "local[*]", javaser.ResolveString(mustField(t, o, "master")).Value())
	ct := javaser.Resolve(mustField(t, o, "checkpointTime")).(*javaser.Object)
	ms, ok := ct.Field("org$apache$spark$streaming$Time$$millis")
	require.True(t, ok)
	assert.Equal(t, int64(1519983188000), int64(ms.Bits))
	pt := mustField(t, o, "pendingTimes").(*javaser.Array)
	assert.Equal(t, int32(729), pt.Length)
}

func mustField(t *testing.T, o *javaser.Object, name string) javaser.Node {
	t.Helper()
	v, ok := o.Field(name)
	require.True(t, ok, "field %s of %s", name, o.ClassName())
	return v.Obj
}

// TestTruncatedEverywhere cuts a real stream at every offset: each prefix
// must give a *decode.Error (never a panic) whose offset lies in the prefix.
func TestTruncatedEverywhere(t *testing.T) {
	root := real.Root(t)
	b := payload(t, root+"/jleetutorial-python-spark-streaming/3_advanced/checkpoint/checkpoint-1519983188000")
	if testing.Short() {
		b = b[:4096]
	}
	for n := 0; n < len(b); n++ {
		s, err := javaser.Parse(b[:n])
		if n == 4 {
			// The bare header is a valid, empty stream.
			require.NoError(t, err)
			require.Empty(t, s.Contents)
			continue
		}
		var de *decode.Error
		require.True(t, errors.As(err, &de), "prefix %d: %v", n, err)
		require.LessOrEqual(t, de.Offset, int64(n), "prefix %d: %v", n, err)
		require.True(t, errors.Is(err, decode.ErrTruncated) || errors.Is(err, decode.ErrCorrupt), "prefix %d: %v", n, err)
	}
}

// TestBitFlips flips random bits of a real stream: parsing either fails with
// a positioned error or succeeds and re-encodes to the same bytes.
func TestBitFlips(t *testing.T) {
	root := real.Root(t)
	orig := payload(t, root+"/omar97perez-computacionnube/P8/src/Ejercicio/Buques/Benchi/checkpoint-1589765015000")
	seed := uint64(0x5eed)
	next := func() uint64 { seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17; return seed }
	failed := 0
	for i := 0; i < 2000; i++ {
		b := bytes.Clone(orig)
		for k := 0; k < 1+int(next()%3); k++ {
			pos := next() % uint64(len(b))
			b[pos] ^= 1 << (next() % 8)
		}
		s, err := javaser.Parse(b)
		if err != nil {
			var de *decode.Error
			require.True(t, errors.As(err, &de), "%v", err)
			require.GreaterOrEqual(t, de.Offset, int64(0))
			require.LessOrEqual(t, de.Offset, int64(len(b)))
			failed++
			continue
		}
		out, err := javaser.Encode(s)
		require.NoError(t, err)
		require.Equal(t, b, out, "a stream that parses must re-encode byte for byte")
	}
	t.Logf("%d of 2000 mutated streams rejected", failed)
}
