package wal_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/javaser"
	"github.com/sparkckpt/sparkckpt/decode/wal"
	"github.com/sparkckpt/sparkckpt/fixtures/real"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// wantBlock is the first BlockAdditionEvent of a log.
type wantBlock struct {
	streamID   int
	blockID    string
	numRecords int64
}

// logWant pins what a driver log decodes to. Values were read by decoding
// and checked by hand against javaser.Dump of the same records.
type logWant struct {
	rel                   string // under fixtures-real, or generated when gen is set
	records, batched      int
	adds, allocs, cleans  int
	first                 *wantBlock
	firstAlloc, lastAlloc int64 // batch times of the first and last BatchAllocationEvent
	allocatedBlocks       int   // blocks over all BatchAllocationEvents
	nonEmptyCleanups      int   // BatchCleanupEvents with at least one time
	lastCleanup           []int64
	tail                  *wal.Tail // only Offset, Length and len(Bytes) are compared
}

var realLogs = []logWant{
	{"ergemp-spark-training/spark/checkpoint/EnableCheckpointingExample/receivedBlockMetadata/log-1665484905858-1665484965858", 18, 18, 1, 8, 9, &wantBlock{0, "input-0-1665484918400", 1}, 1665484850000, 1665484920000, 1, 8, []int64{1665484900000}, nil},
	{"garywangop-twitterspark/checkpoint_TwitterStreamApp/receivedBlockMetadata/log-1582178579401-1582178639401", 314, 314, 198, 60, 60, &wantBlock{0, "input-0-1582178579200", 2}, 1582178580000, 1582178639000, 198, 60, []int64{1582178617000}, nil},
	{"garywangop-twitterspark/checkpoint_TwitterStreamApp/receivedBlockMetadata/log-1582178639601-1582178699601", 50, 50, 28, 11, 11, &wantBlock{0, "input-0-1582178639400", 1}, 1582178640000, 1582178650000, 30, 11, []int64{1582178628000}, nil},
	{"garywangop-twitterspark@aeef381/checkpoint_TwitterStreamApp/receivedBlockMetadata/log-1582076788009-1582076848009", 252, 252, 175, 39, 38, &wantBlock{0, "input-0-1582076788400", 1}, 1582076788000, 1582076826000, 174, 17, []int64{1582076804000}, nil},
	{"hmntj-pysparkstream/checkpoint/receivedBlockMetadata/log-1524251075013-1524251135013", 106, 106, 3, 52, 51, &wantBlock{0, "input-0-1524251120400", 1}, 1524251075000, 1524251126000, 3, 30, []int64{1524251104000}, nil},
	{"hmntj-pysparkstream/checkpoint/receivedBlockMetadata/log-1524251159129-1524251219129", 33, 33, 0, 33, 0, nil, 1524251127000, 1524251159000, 0, 0, nil, nil},
	// jleetutorial 2_basics: a driver with no receiver; only empty BatchCleanupEvents.
	{"jleetutorial-python-spark-streaming/2_basics/checkpoint/receivedBlockMetadata/log-1518557323415-1518557383415", 38, 38, 0, 0, 38, nil, 0, 0, 0, 0, nil, nil},
	{"jleetutorial-python-spark-streaming/2_basics/checkpoint/receivedBlockMetadata/log-1519957847369-1519957907369", 17, 17, 0, 0, 17, nil, 0, 0, 0, 0, nil, nil},
	{"jleetutorial-python-spark-streaming/2_basics/checkpoint/receivedBlockMetadata/log-1519957910693-1519957970693", 16, 16, 0, 0, 16, nil, 0, 0, 0, 0, nil, nil},
	// jleetutorial 3_advanced (F21): allocation/cleanup only, one second apart.
	{"jleetutorial-python-spark-streaming/3_advanced/checkpoint/receivedBlockMetadata/log-1519968004287-1519968064287", 44, 44, 0, 22, 22, nil, 1519968005000, 1519968026000, 0, 22, []int64{1519968023000}, nil},
	// F30 (Scala 2.12: BatchCleanupEvent.times is a Vector).
	{"omar97perez-computacionnube/P8/src/Ejercicio/Buques/Benchi/receivedBlockMetadata/log-1589764995007-1589765055007", 23, 23, 5, 9, 9, &wantBlock{0, "input-0-1589765004400", 1}, 1589764995000, 1589765035000, 5, 7, []int64{1589765025000}, nil},
	{"omar97perez-computacionnube/P8/src/Ejercicio/Buques/Benchijigua/receivedBlockMetadata/log-1589759760010-1589759820010", 4, 4, 0, 2, 2, nil, 1589759760000, 1589759765000, 0, 0, nil, nil},
	{"omar97perez-computacionnube/P8/src/Ejercicio/Buques/Betancuria/receivedBlockMetadata/log-1589759835010-1589759895010", 10, 10, 0, 5, 5, nil, 1589759835000, 1589759855000, 0, 3, []int64{1589759845000}, nil},
	{"shamukh82-hw6/checkpoint/receivedBlockMetadata/log-1508014037012-1508014097012", 42, 42, 3, 20, 19, &wantBlock{0, "input-0-1508014041200", 1}, 1508014037000, 1508014056000, 3, 0, nil, nil},
	{"shamukh82-hw6/checkpoint/receivedBlockMetadata/log-1508014078008-1508014138008", 49, 49, 7, 21, 21, &wantBlock{0, "input-0-1508014083400", 1}, 1508014078000, 1508014098000, 7, 0, nil, nil},
	// theonly0318: allocated blocks in a mutable.Queue (MutableList of LinkedList cells).
	{"theonly0318-spark-study/data/streaming/ck/receivedBlockMetadata/log-1619605120032-1619605180032", 15, 15, 3, 6, 6, &wantBlock{0, "input-0-1619605125000", 9}, 1619605120000, 1619605145000, 3, 0, nil, nil},
	{"theonly0318-spark-study/data/streaming/ck2/receivedBlockMetadata/log-1619611640007-1619611700007", 22, 22, 8, 7, 7, &wantBlock{0, "input-0-1619611647600", 4}, 1619611640000, 1619611670000, 8, 2, []int64{1619611645000}, nil},
}

var generatedLogs = []logWant{
	{genUnbatched, 7, 0, 2, 3, 2, &wantBlock{0, "input-0-1700000002400", 3}, T0, T0 + 10000, 2, 1, []int64{T0}, nil},
	{genBatched, 6, 6, 4, 4, 3, &wantBlock{0, "input-0-1700000001000", 2}, T0, T0 + 15000, 4, 2, []int64{T0 + 5000}, nil},
	{genHDFSMeta, 6, 6, 4, 3, 2, &wantBlock{0, "input-0-1700000001000", 250}, T0, T0 + 10000, 3, 1, []int64{T0}, nil},
	// The batched log less the last 10 bytes: its last record (at 7980, 1201 bytes) is torn.
	{genTorn1, 5, 5, 4, 3, 2, &wantBlock{0, "input-0-1700000001000", 2}, T0, T0 + 10000, 4, 1, []int64{T0}, &wal.Tail{Offset: 7980, Length: 1201, Bytes: make([]byte, 1195)}},
	// Two records, then two bytes of a length prefix.
	{genTorn2, 2, 2, 0, 1, 1, nil, T0 + 60000, T0 + 60000, 0, 1, []int64{T0 + 10000}, &wal.Tail{Offset: 1250, Length: -1, Bytes: make([]byte, 2)}},
}

func TestRealLogs(t *testing.T) {
	files := real.Files(t, real.IsMetadataLog)
	require.Len(t, files, len(realLogs), "receivedBlockMetadata logs in fixtures-real")
	for i, f := range files {
		require.Equal(t, realLogs[i].rel, real.Rel(t, f))
		t.Run(realLogs[i].rel, func(t *testing.T) {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			checkLog(t, b, realLogs[i])
		})
	}
}

func TestGeneratedLogs(t *testing.T) {
	for _, want := range generatedLogs {
		t.Run(want.rel, func(t *testing.T) {
			checkLog(t, readGen(t, want.rel), want)
		})
	}
}

func checkLog(t *testing.T, b []byte, want logWant) {
	log := readLog(t, b)
	require.Len(t, log.Records, want.records)
	counts := map[string]int{}
	batched, allocatedBlocks, nonEmpty := 0, 0, 0
	var first *wal.ReceivedBlockInfo
	var allocs []int64
	var lastCleanup []int64
	for _, r := range log.Records {
		if r.Batched {
			batched++
		}
		// The record re-encodes to its payload byte for byte, and so
		// does every event to its byte[] element.
		payload := b[r.Offset+4 : r.Offset+4+int64(r.Length)]
		enc, err := r.Encode()
		require.NoError(t, err)
		require.True(t, bytes.Equal(payload, enc), "record at %d re-encodes differently", r.Offset)
		for _, e := range r.Events {
			require.NoError(t, e.Err, "event %d of record at %d", e.Index, r.Offset)
			counts[e.Type]++
			eb, err := javaser.Encode(e.Syntax)
			require.NoError(t, err)
			if r.Batched {
				require.True(t, bytes.Equal(e.Array.Prims, eb))
				require.True(t, bytes.Equal(payload[e.DataOffset:e.DataOffset+int64(len(eb))], eb), "DataOffset of event %d at %d", e.Index, r.Offset)
			} else {
				require.Same(t, r.Stream, e.Syntax)
				require.Zero(t, e.DataOffset)
			}
			_, err = json.Marshal(e)
			require.NoError(t, err)
			switch {
			case e.BlockAddition != nil:
				if first == nil {
					first = e.BlockAddition
				}
			case e.Allocation != nil:
				allocs = append(allocs, e.Allocation.BatchTimeMs)
				for _, id := range e.Allocation.StreamIDs {
					allocatedBlocks += len(e.Allocation.Blocks[id])
				}
				require.Len(t, e.Allocation.Blocks, len(e.Allocation.StreamIDs))
			case e.Cleanup != nil:
				if len(e.Cleanup.TimesMs) > 0 {
					nonEmpty++
					lastCleanup = e.Cleanup.TimesMs
				}
			default:
				t.Fatalf("event of unexpected type %s", e.Type)
			}
		}
	}
	assert.Equal(t, want.batched, batched, "batched records")
	assert.Equal(t, map[string]int{wal.TypeBlockAddition: want.adds, wal.TypeBatchAllocation: want.allocs, wal.TypeBatchCleanup: want.cleans},
		map[string]int{wal.TypeBlockAddition: counts[wal.TypeBlockAddition], wal.TypeBatchAllocation: counts[wal.TypeBatchAllocation], wal.TypeBatchCleanup: counts[wal.TypeBatchCleanup]})
	assert.Equal(t, want.adds+want.allocs+want.cleans, len(log.Events()))
	if want.first == nil {
		assert.Nil(t, first)
	} else if assert.NotNil(t, first) {
		assert.Equal(t, want.first.streamID, first.StreamID)
		assert.Equal(t, want.first.blockID, first.BlockID)
		if assert.NotNil(t, first.NumRecords) {
			assert.Equal(t, want.first.numRecords, *first.NumRecords)
		}
	}
	if want.allocs > 0 {
		assert.Equal(t, want.firstAlloc, allocs[0])
		assert.Equal(t, want.lastAlloc, allocs[len(allocs)-1])
	}
	assert.Equal(t, want.allocatedBlocks, allocatedBlocks)
	assert.Equal(t, want.nonEmptyCleanups, nonEmpty)
	assert.Equal(t, want.lastCleanup, lastCleanup)
	if want.tail == nil {
		assert.Nil(t, log.Tail)
	} else if assert.NotNil(t, log.Tail) {
		assert.Equal(t, want.tail.Offset, log.Tail.Offset)
		assert.Equal(t, want.tail.Length, log.Tail.Length)
		assert.Len(t, log.Tail.Bytes, len(want.tail.Bytes))
		assert.True(t, bytes.Equal(b[log.Tail.Offset:], log.Tail.Bytes))
	}
}

// TestBenchiBlockAddition pins the F30 event of spec §6.4 field by field
// and its JSON form.
func TestBenchiBlockAddition(t *testing.T) {
	root := real.Root(t)
	b, err := os.ReadFile(filepath.Join(root, "omar97perez-computacionnube/P8/src/Ejercicio/Buques/Benchi/receivedBlockMetadata/log-1589764995007-1589765055007"))
	require.NoError(t, err)
	var ev *wal.Event
	for _, r := range readLog(t, b).Records {
		for i := range r.Events {
			if r.Events[i].BlockAddition != nil && ev == nil {
				ev = &r.Events[i]
			}
		}
	}
	require.NotNil(t, ev)
	info := ev.BlockAddition
	assert.Equal(t, "org.apache.spark.streaming.scheduler.BlockAdditionEvent", ev.Class)
	assert.Equal(t, 0, info.StreamID)
	assert.Equal(t, "input-0-1589765004400", info.BlockID)
	assert.Equal(t, int64(1), *info.NumRecords)
	assert.Equal(t, "BlockManagerBasedStoreResult", info.StoreResult)
	assert.Equal(t, "None", info.Metadata)
	assert.Nil(t, info.Segment)
	assert.True(t, *info.BlockIDValid)
	assert.Equal(t, "org.apache.spark.streaming.scheduler.ReceivedBlockInfo", info.Syntax.ClassName())
	js, err := json.Marshal(ev)
	require.NoError(t, err)
	assert.JSONEq(t, `{"type":"BlockAdditionEvent","streamId":0,"numRecords":1,"blockId":"input-0-1589765004400",
		"storeResult":"BlockManagerBasedStoreResult","metadata":"None","blockIdValid":true}`, string(js))
}

// TestEventJSON pins the JSON of each event type, from the generated logs.
func TestEventJSON(t *testing.T) {
	hdfs := readLog(t, readGen(t, genHDFSMeta)).Events()
	unb := readLog(t, readGen(t, genUnbatched)).Events()
	cases := []struct {
		name string
		ev   wal.Event
		want string
	}{
		{"wal-block", hdfs[1], `{"type":"BlockAdditionEvent","streamId":0,"numRecords":250,"blockId":"input-0-1700000001000",
			"storeResult":"WriteAheadLogBasedStoreResult","metadata":"None","blockIdValid":true,
			"segment":{"path":"` + hdfsDataPath + `","offset":0,"length":8484}}`},
		{"metadata", unb[2], `{"type":"BlockAdditionEvent","streamId":1,"numRecords":5,"blockId":"input-1-1700000002600",
			"storeResult":"BlockManagerBasedStoreResult","metadata":"Some(\"topic=clicks partition=0 offsets=[40,45)\")","blockIdValid":true}`},
		{"allocation", unb[3], `{"type":"BatchAllocationEvent","batchTimeMs":1700000005000,"streamIds":[0,1],"blocks":{
			"0":[{"streamId":0,"numRecords":3,"blockId":"input-0-1700000002400","storeResult":"BlockManagerBasedStoreResult","metadata":"None","blockIdValid":true}],
			"1":[{"streamId":1,"numRecords":5,"blockId":"input-1-1700000002600","storeResult":"BlockManagerBasedStoreResult","metadata":"Some(\"topic=clicks partition=0 offsets=[40,45)\")","blockIdValid":true}]}}`},
		{"empty-allocation", unb[0], `{"type":"BatchAllocationEvent","batchTimeMs":1700000000000,"streamIds":[0,1],"blocks":{"0":[],"1":[]}}`},
		{"cleanup", unb[6], `{"type":"BatchCleanupEvent","timesMs":[1700000000000]}`},
		{"empty-cleanup", unb[4], `{"type":"BatchCleanupEvent","timesMs":[]}`},
		{"unknown", wal.Event{Type: "com.example.Other", Class: "com.example.Other"}, `{"type":"com.example.Other"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			js, err := json.Marshal(tc.ev)
			require.NoError(t, err)
			assert.JSONEq(t, tc.want, string(js))
		})
	}
}

// payloadOf returns the payload of the i-th record of a generated log.
func payloadOf(t *testing.T, rel string, i int) []byte {
	r := wal.NewReader(bytes.NewReader(readGen(t, rel)))
	for n := 0; r.Next(); n++ {
		if n == i {
			return bytes.Clone(r.Record())
		}
	}
	t.Fatalf("%s has no record %d", rel, i)
	return nil
}

// TestUnknownEventDegrades: an event class sparkckpt does not know is
// reported by name, without error.
func TestUnknownEventDegrades(t *testing.T) {
	for _, rel := range []string{genUnbatched, genBatched} {
		rec, err := wal.DecodeRecord(payloadOf(t, rel, 1))
		require.NoError(t, err)
		ev := rec.Events[0]
		ev.Syntax.Contents[0].(*javaser.Object).Class.NameRaw = []byte("com.example.CustomEvent")
		payload, err := rec.Encode()
		require.NoError(t, err)
		rec2, err := wal.DecodeRecord(payload)
		require.NoError(t, err, rel)
		got := rec2.Events[0]
		assert.Equal(t, "com.example.CustomEvent", got.Type)
		assert.Equal(t, "com.example.CustomEvent", got.Class)
		assert.NoError(t, got.Err)
		assert.Nil(t, got.BlockAddition)
		assert.Equal(t, rec.Batched, rec2.Batched)
	}
	// A stream whose object is not an object at all.
	s := &javaser.Stream{Magic: javaser.StreamMagic, Version: javaser.StreamVersion, Contents: []javaser.Node{&javaser.String{Raw: []byte("hello")}}}
	b, err := javaser.Encode(s)
	require.NoError(t, err)
	rec, err := wal.DecodeRecord(b)
	require.NoError(t, err)
	assert.False(t, rec.Batched)
	assert.Equal(t, "string", rec.Events[0].Type)
	assert.Equal(t, "", rec.Events[0].Class)
}

// TestKnownEventBadShape: a known event whose fields are not what Spark
// writes keeps its type and gets a positioned Err, rebased to the payload.
func TestKnownEventBadShape(t *testing.T) {
	// Record 4 of the batched log: [BatchAllocationEvent(T0+10000), BatchCleanupEvent([T0])].
	rec, err := wal.DecodeRecord(payloadOf(t, genBatched, 4))
	require.NoError(t, err)
	cleanup := rec.Events[1]
	require.Equal(t, wal.TypeBatchCleanup, cleanup.Type)
	// Rename Time's millis field in the cleanup event's stream.
	javaser.Walk(cleanup.Syntax, func(_ javaser.Path, n javaser.Node) bool {
		if c, ok := n.(*javaser.ClassDesc); ok && c.Name() == "org.apache.spark.streaming.Time" {
			c.Fields[0].NameRaw = []byte("nanos")
		}
		return true
	})
	payload, err := rec.Encode()
	require.NoError(t, err)

	log, err := wal.ReadLog(bytes.NewReader(wal.AppendRecord(nil, payload)))
	require.NoError(t, err)
	got := log.Records[0].Events[1]
	assert.Equal(t, wal.TypeBatchCleanup, got.Type)
	assert.Nil(t, got.Cleanup)
	de := requirePositioned(t, got.Err, 4+len(payload), decode.ErrUnsupported)
	assert.Equal(t, "event[1]:BatchCleanupEvent.times[0].millis", de.Path)
	// The offset is a file offset: 4 (length prefix) + the Time object's
	// offset in the payload, where its TC_OBJECT is.
	assert.Equal(t, javaser.TCObject, payload[de.Offset-4])
	js, err := json.Marshal(got)
	require.NoError(t, err)
	assert.Contains(t, string(js), `"error":"wal: offset`)
}

// TestDecodeRecordErrors: malformed payloads fail with positioned errors.
func TestDecodeRecordErrors(t *testing.T) {
	good := payloadOf(t, genBatched, 1) // three events
	rec, err := wal.DecodeRecord(good)
	require.NoError(t, err)
	arr := rec.Stream.Contents[0].(*javaser.Array)

	// A byte[][] whose element is null.
	saved := arr.Elems[2]
	arr.Elems[2] = &javaser.Null{}
	nullElem, err := javaser.Encode(rec.Stream)
	require.NoError(t, err)
	arr.Elems[2] = saved

	// An inner event stream cut short.
	inner := arr.Elems[1].(*javaser.Array)
	full := inner.Prims
	inner.Prims = full[:len(full)-3]
	inner.Length = int32(len(inner.Prims))
	cut, err := javaser.Encode(rec.Stream)
	require.NoError(t, err)

	cases := []struct {
		name    string
		payload []byte
		kind    error
		format  string
		path    string
	}{
		{"empty", nil, decode.ErrTruncated, "javaser", ""},
		{"header-only", []byte{0xAC, 0xED, 0x00, 0x05}, decode.ErrTruncated, "wal", ""},
		{"not-java", []byte("kryo\x01\x02"), decode.ErrCorrupt, "javaser", ""},
		{"null-element", nullElem, decode.ErrCorrupt, "wal", ""},
		{"cut-inner", cut, decode.ErrTruncated, "javaser", "event[1]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := wal.DecodeRecord(tc.payload)
			de := requirePositioned(t, err, len(tc.payload), tc.kind)
			assert.Equal(t, tc.format, de.Format)
			if tc.path != "" {
				assert.Contains(t, de.Path, tc.path)
			}
		})
	}
}

// TestRecordEncodeEdit: editing an event's syntax (the segment path a
// checkpoint move rewrites) re-encodes the batch with new inner and outer
// lengths, and decodes to the new value.
func TestRecordEncodeEdit(t *testing.T) {
	payload := payloadOf(t, genHDFSMeta, 1) // two WAL-backed BlockAdditionEvents
	rec, err := wal.DecodeRecord(payload)
	require.NoError(t, err)
	const moved = "hdfs://nn2.example.com:9000/data/spark/ckpt-hdfs/receivedData/0/log-1700000001200-1700000061200"
	for _, ev := range rec.Events {
		seg := ev.BlockAddition.Segment
		require.NotNil(t, seg)
		require.Equal(t, hdfsDataPath, seg.Path)
		p, ok := seg.Syntax.Field("path")
		require.True(t, ok)
		javaser.ResolveString(p.Obj).SetValue(moved)
	}
	out, err := rec.Encode()
	require.NoError(t, err)
	assert.Equal(t, len(payload)+2*(len(moved)-len(hdfsDataPath)), len(out))
	rec2, err := wal.DecodeRecord(out)
	require.NoError(t, err)
	require.Len(t, rec2.Events, 2)
	for i, ev := range rec2.Events {
		assert.Equal(t, moved, ev.BlockAddition.Segment.Path)
		assert.Equal(t, rec.Events[i].BlockAddition.Segment.Offset, ev.BlockAddition.Segment.Offset)
		assert.Equal(t, rec.Events[i].BlockAddition.BlockID, ev.BlockAddition.BlockID)
	}
}

// TestVectorElementBound is the regression test for a fuzz finding: a
// 510-byte BatchCleanupEvent whose Vector shares its display arrays by
// back-reference and claims 1879048193 elements made jcoll.Seq walk them
// all (out of memory). jcoll now bounds it by the leaf arrays present.
func TestVectorElementBound(t *testing.T) {
	raw, err := os.ReadFile("testdata/fuzz/FuzzDecodeRecord/65b74ce4f7ba9c6d")
	require.NoError(t, err)
	lines := strings.Split(string(raw), "\n")
	require.GreaterOrEqual(t, len(lines), 2)
	v, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
	require.NoError(t, err)
	rec, err := wal.DecodeRecord([]byte(v))
	require.NoError(t, err)
	require.Len(t, rec.Events, 1)
	ev := rec.Events[0]
	assert.Equal(t, wal.TypeBatchCleanup, ev.Type)
	assert.Nil(t, ev.Cleanup)
	de := requirePositioned(t, ev.Err, len(v), decode.ErrUnsupported)
	assert.Equal(t, "event[0]:BatchCleanupEvent.times", de.Path)
	assert.Contains(t, de.Error(), "not a sequence jcoll reads (scala.collection.immutable.Vector)")
}
