package wal_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/javaser"
	"github.com/sparkckpt/sparkckpt/decode/wal"
	"github.com/sparkckpt/sparkckpt/fixtures/real"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestListLogs(t *testing.T) {
	names := []string{
		"log-1519957910693-1519957970693",
		"log-1518557323415-1518557383415",
		".log-1518557323415-1518557383415.crc", // Hadoop checksum file: hidden from Spark
		"log-1519957847369-1519957907369",
		"checkpoint-1519957850000",
		"log-abc-def",
		"log-99999999999999999999-1", // overflows a Long: Spark would fail
		"old-log-5-6.bak",            // Spark's regex is searched, not anchored
		"log-5-7",                    // same start as the previous: stable order
	}
	want := []wal.LogFile{
		{Name: "old-log-5-6.bak", StartMs: 5, StopMs: 6},
		{Name: "log-5-7", StartMs: 5, StopMs: 7},
		{Name: "log-1518557323415-1518557383415", StartMs: 1518557323415, StopMs: 1518557383415},
		{Name: "log-1519957847369-1519957907369", StartMs: 1519957847369, StopMs: 1519957907369},
		{Name: "log-1519957910693-1519957970693", StartMs: 1519957910693, StopMs: 1519957970693},
	}
	assert.Equal(t, want, wal.ListLogs(names))
	assert.Empty(t, wal.ListLogs(nil))
}

type summaryWant struct {
	dir         string
	files       int
	records     int
	events      map[string]int
	startMs     int64
	stopMs      int64
	first, last int64
	uncleaned   []int64
	unallocated []string
}

// seconds returns the times from a to b ms, one second apart.
func seconds(a, b int64) []int64 {
	var out []int64
	for t := a; t <= b; t += 1000 {
		out = append(out, t)
	}
	return out
}

func TestSummarizeDirReal(t *testing.T) {
	root := real.Root(t)
	cases := []summaryWant{
		{dir: "ergemp-spark-training/spark/checkpoint/EnableCheckpointingExample", files: 1, records: 18,
			events:  map[string]int{wal.TypeBlockAddition: 1, wal.TypeBatchAllocation: 8, wal.TypeBatchCleanup: 9},
			startMs: 1665484905858, stopMs: 1665484965858, first: 1665484850000, last: 1665484920000,
			uncleaned: []int64{1665484910000, 1665484920000}, unallocated: []string{}},
		// Two files, read in order of start time; the second cleans up the first's batches.
		{dir: "garywangop-twitterspark/checkpoint_TwitterStreamApp", files: 2, records: 364,
			events:  map[string]int{wal.TypeBlockAddition: 226, wal.TypeBatchAllocation: 71, wal.TypeBatchCleanup: 71},
			startMs: 1582178579401, stopMs: 1582178699601, first: 1582178580000, last: 1582178650000,
			uncleaned: seconds(1582178629000, 1582178650000), unallocated: []string{}},
		// The last block added was never allocated.
		{dir: "garywangop-twitterspark@aeef381/checkpoint_TwitterStreamApp", files: 1, records: 252,
			events:  map[string]int{wal.TypeBlockAddition: 175, wal.TypeBatchAllocation: 39, wal.TypeBatchCleanup: 38},
			startMs: 1582076788009, stopMs: 1582076848009, first: 1582076788000, last: 1582076826000,
			uncleaned: seconds(1582076805000, 1582076826000), unallocated: []string{"input-0-1582076825800"}},
		{dir: "hmntj-pysparkstream/checkpoint", files: 2, records: 139,
			events:  map[string]int{wal.TypeBlockAddition: 3, wal.TypeBatchAllocation: 85, wal.TypeBatchCleanup: 51},
			startMs: 1524251075013, stopMs: 1524251219129, first: 1524251075000, last: 1524251159000,
			uncleaned: seconds(1524251105000, 1524251159000), unallocated: []string{}},
		// No receiver: nothing allocated, nothing to clean.
		{dir: "jleetutorial-python-spark-streaming/2_basics/checkpoint", files: 3, records: 71,
			events:  map[string]int{wal.TypeBatchCleanup: 71},
			startMs: 1518557323415, stopMs: 1519957970693, uncleaned: []int64{}, unallocated: []string{}},
		{dir: "jleetutorial-python-spark-streaming/3_advanced/checkpoint", files: 1, records: 44,
			events:  map[string]int{wal.TypeBatchAllocation: 22, wal.TypeBatchCleanup: 22},
			startMs: 1519968004287, stopMs: 1519968064287, first: 1519968005000, last: 1519968026000,
			uncleaned: seconds(1519968024000, 1519968026000), unallocated: []string{}},
		{dir: "omar97perez-computacionnube/P8/src/Ejercicio/Buques/Benchi", files: 1, records: 23,
			events:  map[string]int{wal.TypeBlockAddition: 5, wal.TypeBatchAllocation: 9, wal.TypeBatchCleanup: 9},
			startMs: 1589764995007, stopMs: 1589765055007, first: 1589764995000, last: 1589765035000,
			uncleaned: []int64{1589765030000, 1589765035000}, unallocated: []string{}},
		// Two runs 40 s apart, and no non-empty cleanup in either.
		{dir: "shamukh82-hw6/checkpoint", files: 2, records: 91,
			events:  map[string]int{wal.TypeBlockAddition: 10, wal.TypeBatchAllocation: 41, wal.TypeBatchCleanup: 40},
			startMs: 1508014037012, stopMs: 1508014138008, first: 1508014037000, last: 1508014098000,
			uncleaned: append(seconds(1508014037000, 1508014056000), seconds(1508014078000, 1508014098000)...), unallocated: []string{}},
		{dir: "theonly0318-spark-study/data/streaming/ck", files: 1, records: 15,
			events:  map[string]int{wal.TypeBlockAddition: 3, wal.TypeBatchAllocation: 6, wal.TypeBatchCleanup: 6},
			startMs: 1619605120032, stopMs: 1619605180032, first: 1619605120000, last: 1619605145000,
			uncleaned: []int64{1619605120000, 1619605125000, 1619605130000, 1619605135000, 1619605140000, 1619605145000}, unallocated: []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.dir, func(t *testing.T) {
			s, err := wal.SummarizeDir(os.DirFS(filepath.Join(root, filepath.FromSlash(tc.dir))), "receivedBlockMetadata")
			require.NoError(t, err)
			checkSummary(t, s, tc)
		})
	}
}

func TestSummarizeDirGenerated(t *testing.T) {
	cases := []summaryWant{
		{dir: "ckpt-unbatched", files: 1, records: 7,
			events:  map[string]int{wal.TypeBlockAddition: 2, wal.TypeBatchAllocation: 3, wal.TypeBatchCleanup: 2},
			startMs: T0 + 7, stopMs: T0 + 60007, first: T0, last: T0 + 10000,
			uncleaned: []int64{T0 + 5000, T0 + 10000}, unallocated: []string{}},
		{dir: "ckpt-batched", files: 1, records: 6,
			events:  map[string]int{wal.TypeBlockAddition: 4, wal.TypeBatchAllocation: 4, wal.TypeBatchCleanup: 3},
			startMs: T0 + 12, stopMs: T0 + 60012, first: T0, last: T0 + 15000,
			uncleaned: []int64{T0 + 10000, T0 + 15000}, unallocated: []string{}},
		{dir: "ckpt-hdfs", files: 1, records: 6,
			events:  map[string]int{wal.TypeBlockAddition: 4, wal.TypeBatchAllocation: 3, wal.TypeBatchCleanup: 2},
			startMs: T0 + 10, stopMs: T0 + 60010, first: T0, last: T0 + 10000,
			uncleaned: []int64{T0 + 5000, T0 + 10000}, unallocated: []string{"input-0-1700000011000"}},
		// The torn record of the first file (allocation of T0+15000, cleanup
		// of T0+5000) is lost, as Spark loses it.
		{dir: "ckpt-torn", files: 2, records: 7,
			events:  map[string]int{wal.TypeBlockAddition: 4, wal.TypeBatchAllocation: 4, wal.TypeBatchCleanup: 3},
			startMs: T0 + 12, stopMs: T0 + 120500, first: T0, last: T0 + 60000,
			uncleaned: []int64{T0 + 5000, T0 + 60000}, unallocated: []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.dir, func(t *testing.T) {
			s, err := wal.SummarizeDir(os.DirFS(filepath.Join(generated, tc.dir)), "receivedBlockMetadata")
			require.NoError(t, err)
			checkSummary(t, s, tc)
		})
	}
}

func checkSummary(t *testing.T, s *wal.Summary, w summaryWant) {
	require.NoError(t, s.Err())
	assert.Len(t, s.Files, w.files)
	for i := 1; i < len(s.Files); i++ {
		assert.Less(t, s.Files[i-1].StartMs, s.Files[i].StartMs, "files in order of start time")
	}
	assert.Equal(t, w.records, s.Records)
	assert.Equal(t, w.events, s.Events)
	assert.Equal(t, w.startMs, s.StartMs)
	assert.Equal(t, w.stopMs, s.StopMs)
	assert.Equal(t, w.first, s.FirstBatchMs)
	assert.Equal(t, w.last, s.LastBatchMs)
	assert.Equal(t, w.uncleaned, s.Uncleaned)
	assert.Equal(t, w.unallocated, s.Unallocated)
	_, err := json.Marshal(s)
	require.NoError(t, err)
}

func TestSummaryTornJSON(t *testing.T) {
	s, err := wal.SummarizeDir(os.DirFS(filepath.Join(generated, "ckpt-torn")), "receivedBlockMetadata")
	require.NoError(t, err)
	require.Len(t, s.Files, 2)
	js, err := json.Marshal(s.Files)
	require.NoError(t, err)
	assert.JSONEq(t, `[
		{"name":"log-1700000000012-1700000060012","startMs":1700000000012,"stopMs":1700000060012,"records":5,"batchedRecords":5,
		 "events":{"BatchAllocationEvent":3,"BatchCleanupEvent":2,"BlockAdditionEvent":4},
		 "tail":{"offset":7980,"bytes":1195,"length":1201}},
		{"name":"log-1700000060500-1700000120500","startMs":1700000060500,"stopMs":1700000120500,"records":2,"batchedRecords":2,
		 "events":{"BatchAllocationEvent":1,"BatchCleanupEvent":1},
		 "tail":{"offset":1250,"bytes":2,"length":-1}}]`, string(js))
}

// TestSummarizeDirErrors: a corrupt file is reported with its name and
// offset; the other files are still summarised.
func TestSummarizeDirErrors(t *testing.T) {
	good := readGen(t, genBatched)
	bad := bytes.Clone(readGen(t, genUnbatched))
	bad[949] = 0xFF // the second record's length becomes negative
	fsys := fstest.MapFS{
		"rbm/log-2000-3000": {Data: good},
		"rbm/log-1000-2000": {Data: bad},
		"rbm/README":        {Data: []byte("not a log")},
	}
	s, err := wal.SummarizeDir(fsys, "rbm")
	require.NoError(t, err)
	require.Len(t, s.Files, 2)
	assert.Equal(t, "log-1000-2000", s.Files[0].Name)
	assert.Equal(t, 1, s.Files[0].Records)
	de := requirePositioned(t, s.Files[0].Err, len(bad), decode.ErrCorrupt)
	assert.Equal(t, int64(949), de.Offset)
	assert.Equal(t, "log-1000-2000", de.File)
	assert.Contains(t, s.Files[0].Error, "negative record length")
	assert.NoError(t, s.Files[1].Err)
	assert.Equal(t, 1+6, s.Records)
	require.ErrorIs(t, s.Err(), decode.ErrCorrupt)

	_, err = wal.SummarizeDir(fsys, "nope")
	require.Error(t, err)
}

// TestSummaryBadEvents: a known event whose fields cannot be read is
// counted, and not replayed.
func TestSummaryBadEvents(t *testing.T) {
	rec, err := wal.DecodeRecord(payloadOf(t, genBatched, 4)) // allocation T0+10000, cleanup [T0]
	require.NoError(t, err)
	alloc := rec.Events[0].Syntax.Contents[0].(*javaser.Object)
	for i := range alloc.Class.Fields {
		if alloc.Class.Fields[i].Name() == "time" {
			alloc.Class.Fields[i].NameRaw = []byte("when")
		}
	}
	payload, err := rec.Encode()
	require.NoError(t, err)
	fsys := fstest.MapFS{"rbm/log-1-2": {Data: wal.AppendRecord(nil, payload)}}
	s, err := wal.SummarizeDir(fsys, "rbm")
	require.NoError(t, err)
	require.NoError(t, s.Err())
	assert.Equal(t, 1, s.Files[0].BadEvents)
	assert.Equal(t, map[string]int{wal.TypeBatchAllocation: 1, wal.TypeBatchCleanup: 1}, s.Events)
	assert.Empty(t, s.Uncleaned, "the unreadable allocation is not replayed")
}

// TestSummarizeDirSpark4 reads the driver log real Spark 4.0.1 (Scala
// 2.13) wrote in TestSparkRestartDStreamWordCount
// (fixtures/sparkpeer/testdata): Scala 2.13 writes the end of a
// DefaultSerializationProxy collection as a ModuleSerializationProxy of
// SerializeEnd$, which was read as an element, so every event with a
// non-empty Seq or Map was not understood (11 of 33) and its cleanups
// never applied.
func TestSummarizeDirSpark4(t *testing.T) {
	dir := filepath.Join("..", "..", "fixtures", "sparkpeer", "testdata", "spark4.0-dstream-wordcount")
	s, err := wal.SummarizeDir(os.DirFS(dir), "receivedBlockMetadata")
	require.NoError(t, err)
	require.Len(t, s.Files, 1)
	assert.Zero(t, s.Files[0].BadEvents)
	checkSummary(t, s, summaryWant{files: 1, records: 33,
		events:  map[string]int{wal.TypeBlockAddition: 1, wal.TypeBatchAllocation: 17, wal.TypeBatchCleanup: 15},
		startMs: 1796687634294, stopMs: 1796687694294, first: 1796687634000, last: 1796687650000,
		uncleaned: seconds(1796687644000, 1796687650000), unallocated: []string{}})
}
