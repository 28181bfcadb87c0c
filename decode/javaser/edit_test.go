package javaser_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sparkckpt/sparkckpt/decode/javaser"
	"github.com/sparkckpt/sparkckpt/fixtures/real"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func f21(t *testing.T) []byte {
	return payload(t, real.Root(t)+"/jleetutorial-python-spark-streaming/3_advanced/checkpoint/checkpoint-1519983188000")
}

func reparse(t *testing.T, s *javaser.Stream) (*javaser.Stream, []byte) {
	t.Helper()
	b, err := javaser.Encode(s)
	require.NoError(t, err)
	s2, err := javaser.Parse(b)
	require.NoError(t, err)
	return s2, b
}

// confValue returns the value node of a sparkConfPairs entry.
func confValue(t *testing.T, o *javaser.Object, key string) javaser.Node {
	t.Helper()
	pairs := mustField(t, o, "sparkConfPairs").(*javaser.Array)
	for _, e := range pairs.Elems {
		tup := javaser.Resolve(e).(*javaser.Object)
		k, _ := tup.Field("_1")
		if javaser.ResolveString(k.Obj).Value() == key {
			v, _ := tup.Field("_2")
			return v.Obj
		}
	}
	t.Fatalf("no conf key %s", key)
	return nil
}

// TestSetValueShared edits Checkpoint.master: spark.master in the conf is a
// TC_REFERENCE to the same String (spec §3.7), so it changes too.
func TestSetValueShared(t *testing.T) {
	orig := f21(t)
	s := roundTrip(t, "F21", orig)
	o := s.Contents[0].(*javaser.Object)
	_, isRef := confValue(t, o, "spark.master").(*javaser.Ref)
	require.True(t, isRef, "spark.master is a reference in F21")

	javaser.ResolveString(mustField(t, o, "master")).SetValue("yarn")
	s2, b := reparse(t, s)
	o2 := s2.Contents[0].(*javaser.Object)
	assert.Equal(t, "yarn", javaser.ResolveString(mustField(t, o2, "master")).Value())
	assert.Equal(t, "yarn", javaser.ResolveString(confValue(t, o2, "spark.master")).Value())
	assert.Equal(t, len(orig)-len("local[*]")+len("yarn"), len(b), "only the string's bytes change")
}

// TestSetValueLongString crosses the 65535-byte boundary both ways (spec §3.7).
func TestSetValueLongString(t *testing.T) {
	orig := f21(t)
	s := roundTrip(t, "F21", orig)
	o := s.Contents[0].(*javaser.Object)
	dir := javaser.ResolveString(mustField(t, o, "checkpointDir"))
	old := dir.Value()
	for _, tc := range []struct {
		n    int
		long bool
	}{{65535, false}, {65536, true}, {70000, true}} {
		v := "hdfs://nn:8020/" + strings.Repeat("x", tc.n-len("hdfs://nn:8020/"))
		dir.SetValue(v)
		s2, _ := reparse(t, s)
		d2 := javaser.ResolveString(mustField(t, s2.Contents[0].(*javaser.Object), "checkpointDir"))
		assert.Equal(t, tc.long, d2.Long, "length %d", tc.n)
		assert.Equal(t, v, d2.Value())
		assert.Equal(t, int32(0x7E0009), d2.Handle, "handles do not move")
	}
	dir.SetValue(old)
	_, b := reparse(t, s)
	assert.Equal(t, orig, b, "restoring the value restores the bytes")
}

// TestBlockDataResegment: F21's TransformFunction run (4+1223 bytes) is
// TC_BLOCKDATALONG 1024 + TC_BLOCKDATA 203 (spec §3.6). Re-segmenting the
// same data reproduces the JDK's bytes; growing it adds 1024-byte records.
func TestBlockDataResegment(t *testing.T) {
	orig := f21(t)
	s := roundTrip(t, "F21", orig)
	var runs []*javaser.BlockData
	javaser.Walk(s, func(p javaser.Path, n javaser.Node) bool {
		if bd, ok := n.(*javaser.BlockData); ok && len(bd.Chunks) > 1 {
			runs = append(runs, bd)
		}
		return true
	})
	require.NotEmpty(t, runs)
	for _, bd := range runs {
		bd.SetData(bytes.Clone(bd.Data))
	}
	_, b := reparse(t, s)
	require.Equal(t, orig, b, "JDK segmentation reproduced")

	bd := runs[0]
	bd.SetData(append(bytes.Clone(bd.Data), make([]byte, 2000)...))
	want := javaser.Segment(len(bd.Data))
	s2, _ := reparse(t, s)
	var got *javaser.BlockData
	javaser.Walk(s2, func(p javaser.Path, n javaser.Node) bool {
		if b2, ok := n.(*javaser.BlockData); ok && got == nil && len(b2.Data) == len(bd.Data) {
			got = b2
		}
		return true
	})
	require.NotNil(t, got)
	assert.Equal(t, want, got.Chunks)
	assert.Equal(t, javaser.Chunk{Long: true, Len: 1024}, got.Chunks[0])
}

func TestSegment(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want []javaser.Chunk
	}{
		{0, nil},
		{1, []javaser.Chunk{{Len: 1}}},
		{255, []javaser.Chunk{{Len: 255}}},
		{256, []javaser.Chunk{{Long: true, Len: 256}}},
		{1024, []javaser.Chunk{{Long: true, Len: 1024}}},
		{1227, []javaser.Chunk{{Long: true, Len: 1024}, {Len: 203}}},
		{2048 + 300, []javaser.Chunk{{Long: true, Len: 1024}, {Long: true, Len: 1024}, {Long: true, Len: 300}}},
	} {
		assert.Equal(t, tc.want, javaser.Segment(tc.n), "n=%d", tc.n)
	}
}

// TestWalkPaths checks the object paths Walk reports on a real checkpoint.
func TestWalkPaths(t *testing.T) {
	s := roundTrip(t, "F21", f21(t))
	paths := map[string]string{}
	javaser.Walk(s, func(p javaser.Path, n javaser.Node) bool {
		if str, ok := n.(*javaser.String); ok {
			paths[p.String()] = str.Value()
		}
		return true
	})
	assert.Equal(t, "pyspark-shell", paths["Checkpoint.framework"])
	assert.Regexp(t, `^file:/home/matthew/.*/3_advanced/checkpoint$`, paths["Checkpoint.checkpointDir"])
	assert.Equal(t, "spark.rdd.compress", paths["Checkpoint.sparkConfPairs[0]._1"])
}
