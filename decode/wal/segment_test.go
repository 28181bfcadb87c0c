package wal_test

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/wal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// openHDFS maps the generated fixture's hdfs:// paths to the local tree.
func openHDFS(t *testing.T, opened map[string]int) func(string) (io.ReaderAt, int64, error) {
	return func(p string) (io.ReaderAt, int64, error) {
		opened[p]++
		rel, ok := strings.CutPrefix(p, hdfsCkpt+"/")
		if !ok {
			return nil, 0, fs.ErrNotExist
		}
		f, err := os.Open(filepath.Join(generated, "ckpt-hdfs", filepath.FromSlash(rel)))
		if err != nil {
			return nil, 0, err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, 0, err
		}
		return f, st.Size(), nil
	}
}

// TestCheckSegmentsGenerated: every hdfs:// segment of the generated
// driver log points at a real record of the receiver log.
func TestCheckSegmentsGenerated(t *testing.T) {
	events := readLog(t, readGen(t, genHDFSMeta)).Events()
	var segs []wal.Segment
	for _, e := range events {
		if e.BlockAddition != nil {
			require.NotNil(t, e.BlockAddition.Segment)
			assert.Equal(t, "WriteAheadLogBasedStoreResult", e.BlockAddition.StoreResult)
			segs = append(segs, *e.BlockAddition.Segment)
		}
	}
	require.Len(t, segs, 4)
	for i, want := range []struct {
		off int64
		len int32
	}{{0, 8484}, {8488, 3398}, {11890, 239}, {12133, 38}} {
		assert.Equal(t, hdfsDataPath, segs[i].Path)
		assert.Equal(t, want.off, segs[i].Offset)
		assert.Equal(t, want.len, segs[i].Length)
	}
	opened := map[string]int{}
	assert.Empty(t, wal.CheckSegments(events, openHDFS(t, opened)))
	assert.Equal(t, map[string]int{hdfsDataPath: 1}, opened, "each path is opened once")
}

func TestCheckSegmentsProblems(t *testing.T) {
	data := readGen(t, genHDFSData)
	const p = "hdfs://nn/data/log-1-2"
	ev := func(id string, off int64, n int32) wal.Event {
		return wal.Event{Type: wal.TypeBlockAddition, BlockAddition: &wal.ReceivedBlockInfo{BlockID: id, Segment: &wal.Segment{Path: p, Offset: off, Length: n}}}
	}
	events := []wal.Event{
		ev("input-0-1", 0, 8484),      // fine
		ev("input-0-2", 8488, 3398),   // fine
		ev("input-0-2", 8488, 3398),   // the same segment again: checked once
		ev("input-0-3", 8488, 3000),   // the length prefix says 3398
		ev("input-0-4", 12133, 38),    // past the end of the truncated copy
		ev("input-0-5", 11890, 239),   // its prefix is inside the 12100-byte copy, its payload is not
		ev("input-0-6", -4, 10),       // nonsense
		{Type: wal.TypeBatchCleanup},  // no segments
		{Type: "com.example.Unknown"}, // no segments
	}
	// Allocations reference the same blocks; they add no new problems.
	events = append(events, wal.Event{Type: wal.TypeBatchAllocation, Allocation: &wal.BatchAllocation{
		StreamIDs: []int{0},
		Blocks:    map[int][]wal.ReceivedBlockInfo{0: {*events[3].BlockAddition}},
	}})
	short := data[:12100]
	probs := wal.CheckSegments(events, func(string) (io.ReaderAt, int64, error) {
		return bytes.NewReader(short), int64(len(short)), nil
	})
	require.Len(t, probs, 4)
	want := []struct {
		id   string
		off  int64
		kind error
	}{
		{"input-0-3", 8488, decode.ErrCorrupt},
		{"input-0-4", 12133, decode.ErrTruncated},
		{"input-0-5", 11890, decode.ErrTruncated},
		{"input-0-6", -4, decode.ErrCorrupt},
	}
	for i, w := range want {
		assert.Equal(t, []string{w.id}, probs[i].BlockIDs)
		assert.Equal(t, w.off, probs[i].Segment.Offset)
		assert.ErrorIs(t, probs[i].Err, w.kind, "%v", probs[i].Err)
		var de *decode.Error
		require.ErrorAs(t, probs[i].Err, &de)
		assert.Equal(t, p, de.File)
	}
	js, err := probs[0].MarshalJSON()
	require.NoError(t, err)
	assert.JSONEq(t, `{"path":"`+p+`","offset":8488,"length":3000,"blockIds":["input-0-3"],
		"error":"wal: `+p+`: offset 8488 (0x2128): corrupt: record length prefix is 3398, the segment says 3000"}`, string(js))

	// A missing file is reported for each of its segments, wrapping fs.ErrNotExist.
	probs = wal.CheckSegments(events[:2], func(string) (io.ReaderAt, int64, error) {
		_, err := os.Open(filepath.Join(t.TempDir(), "missing"))
		return nil, 0, err
	})
	require.Len(t, probs, 2)
	assert.ErrorIs(t, probs[0].Err, fs.ErrNotExist)
}

func TestLocalPath(t *testing.T) {
	cases := []struct {
		uri  string
		want string
		ok   bool
	}{
		{"file:/home/u/ckpt/receivedData/0/log-1-2", "/home/u/ckpt/receivedData/0/log-1-2", true},
		{"file:///tmp/ckpt/log-1-2", "/tmp/ckpt/log-1-2", true},
		{"file://localhost/tmp/x", "/tmp/x", true},
		{"FILE:/tmp/x", "/tmp/x", true},
		{"file:/tmp/with space/x", "/tmp/with space/x", true},
		{"file://otherhost/tmp/x", "", false},
		{"file://localhost", "", false},
		{"file:relative/x", "", false},
		{"hdfs://namenode.example:8020/user/spark/ckpt", "", false},
		{"s3a://bucket/ckpt", "", false},
		{"/tmp/x", "", false},
		{"", "", false},
	}
	for _, tc := range cases {
		got, ok := wal.LocalPath(tc.uri)
		assert.Equal(t, tc.ok, ok, tc.uri)
		assert.Equal(t, filepath.FromSlash(tc.want), got, tc.uri)
	}
}

// TestCheckSegmentsLocal: file: segments resolve through LocalPath.
func TestCheckSegmentsLocal(t *testing.T) {
	abs, err := filepath.Abs(filepath.Join(generated, filepath.FromSlash(genHDFSData)))
	require.NoError(t, err)
	uri := "file:" + filepath.ToSlash(abs)
	events := []wal.Event{{BlockAddition: &wal.ReceivedBlockInfo{BlockID: "b", Segment: &wal.Segment{Path: uri, Offset: 11890, Length: 239}}}}
	probs := wal.CheckSegments(events, func(p string) (io.ReaderAt, int64, error) {
		lp, ok := wal.LocalPath(p)
		require.True(t, ok)
		b, err := os.ReadFile(lp)
		return bytes.NewReader(b), int64(len(b)), err
	})
	assert.Empty(t, probs)
}
