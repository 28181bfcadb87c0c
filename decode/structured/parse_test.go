package structured_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/codec"
	"github.com/sparkckpt/sparkckpt/decode/structured"
	"github.com/sparkckpt/sparkckpt/fixtures/real"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// offsetOf returns a decode error's offset, failing if err is not one.
func offsetOf(t *testing.T, err error, kind error) int64 {
	t.Helper()
	var de *decode.Error
	require.True(t, errors.As(err, &de), "%v is not a *decode.Error", err)
	assert.Equal(t, "structured", de.Format)
	assert.ErrorIs(t, err, kind)
	return de.Offset
}

func TestParseOffsets(t *testing.T) {
	seq, err := structured.ParseOffsets([]byte("v1\r\n{\"batchWatermarkMs\":5,\"batchTimestampMs\":7,\"conf\":{\"b\":\"2\",\"a\":\"1\"}}\r\n-\r\n{\"t\":{\"1\":5,\"0\":3},\"a\":{\"0\":1}}\r\n12\n{\"logOffset\":3}\n{\"offset\":4,\"timestamp\":9}\n{\"0\":{\"value\":1,\"runTimeMs\":2}}\n{\"x\":[1]}\nnot json"))
	require.NoError(t, err)
	assert.Equal(t, int64(5), seq.Metadata.BatchWatermarkMs)
	assert.Equal(t, []structured.ConfPair{{"b", "2"}, {"a", "1"}}, seq.Metadata.Conf) // file order
	var kinds []string
	for _, s := range seq.Sources {
		kinds = append(kinds, s.Kind)
	}
	assert.Equal(t, []string{"none", "kafka", "long", "file", "rate-micro-batch", "rate", "json", "text"}, kinds)
	assert.Equal(t, []structured.KafkaPartitionOffset{{"a", 0, 1}, {"t", 0, 3}, {"t", 1, 5}}, seq.Sources[1].Kafka)
	assert.Equal(t, int64(3), *seq.Sources[3].LogOffset)

	// A trailing newline adds no source (getLines).
	seq, err = structured.ParseOffsets([]byte("v1\n\n7\n"))
	require.NoError(t, err)
	assert.Nil(t, seq.Metadata)
	assert.Len(t, seq.Sources, 1)

	// v2 (master): <sourceId>:<offset>.
	seq, err = structured.ParseOffsets([]byte("v2\n{\"batchWatermarkMs\":0,\"batchTimestampMs\":1,\"sourceMetadataInfo\":{}}\n0:{\"logOffset\":1}\nnamed:-"))
	require.NoError(t, err)
	assert.Equal(t, "named", seq.Sources[1].ID)
	assert.Equal(t, "none", seq.Sources[1].Kind)

	for _, tc := range []struct {
		in   string
		kind error
		off  int64
	}{
		{"", decode.ErrTruncated, 0},
		{"v1", decode.ErrTruncated, 2},
		{"x1\n{}", decode.ErrCorrupt, 0},
		{"v0\n{}", decode.ErrCorrupt, 0},
		{"v1x\n{}", decode.ErrCorrupt, 0},
		{"v1\n{\"batchWatermarkMs\":\"x\"}", decode.ErrCorrupt, 3},
		{"v1\n{\"batchWatermarkMs\":0,}", decode.ErrCorrupt, 3 + 22},
		{"v3\n{}", decode.ErrUnsupported, 0},
	} {
		_, err := structured.ParseOffsets([]byte(tc.in))
		require.Error(t, err, tc.in)
		assert.Equal(t, tc.off, offsetOf(t, err, tc.kind), tc.in)
	}
	var ve *structured.VersionError
	_, err = structured.ParseOffsets([]byte("v9\n{}"))
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, 9, ve.Version)
}

func TestParseJavaOffsets(t *testing.T) {
	root := real.Root(t)
	b, err := os.ReadFile(filepath.Join(root, "peter-32-hellospark/checkpoint/offsets/3"))
	require.NoError(t, err)
	seq, err := structured.ParseOffsets(b)
	require.NoError(t, err)
	assert.Equal(t, "java", seq.Format)
	require.Len(t, seq.Sources, 1)
	assert.Equal(t, "LongOffset(3)", seq.Sources[0].Raw)
	assert.Equal(t, int64(3), *seq.Sources[0].Long)
	_, err = structured.ParseOffsets(b[:len(b)-3])
	require.Error(t, err)
}

func TestParseCommit(t *testing.T) {
	for _, tc := range []struct {
		in    string
		wm    int64
		empty bool
		ids   int
	}{
		{"v1\n{}", 0, true, 0}, // Spark 2.2
		{"v1", 0, true, 0},     // 2.3 reads a missing line as {}
		{"v1\n{\"nextBatchWatermarkMs\":1}", 1, false, 0},
		{"v2\n{\"nextBatchWatermarkMs\":0,\"stateUniqueIds\":{\"0\":[[\"a\",\"b\"]],\"1\":[[\"c\"]]}}", 0, false, 2},
		{"v3\n{\"nextBatchWatermarkMs\":2,\"sinkMetadataMap\":{}}", 2, false, 0},
	} {
		c, err := structured.ParseCommit([]byte(tc.in))
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.wm, c.NextBatchWatermarkMs, tc.in)
		assert.Equal(t, tc.empty, c.Empty, tc.in)
		assert.Len(t, c.StateUniqueIDs, tc.ids, tc.in)
	}
	_, err := structured.ParseCommit([]byte("v1\n{\"nextBatchWatermarkMs\":1.5}"))
	assert.Equal(t, int64(3), offsetOf(t, err, decode.ErrCorrupt))
	// Spark's golden commit logs.
	root := real.Root(t)
	for dir, n := range map[string]int{"testCommitLogV1": 0, "testCommitLogV2": 2, "testCommitLogV2-empty-unique-id": 0} {
		b, err := os.ReadFile(filepath.Join(root, sparkRes+dir, "testCommitLog"))
		require.NoError(t, err)
		c, err := structured.ParseCommit(b)
		require.NoError(t, err)
		assert.Len(t, c.StateUniqueIDs, n, dir)
	}
}

func TestParseFileLog(t *testing.T) {
	in := "v1\n{\"path\":\"hdfs://nn:8020/out/p%20q.parquet\",\"size\":12,\"isDir\":false,\"modificationTime\":3,\"blockReplication\":1,\"blockSize\":4,\"action\":\"add\"}\n{\"path\":\"/a/\\u00e9\\\"x\",\"size\":1,\"isDir\":false,\"modificationTime\":1,\"blockReplication\":1,\"blockSize\":1,\"action\":\"delete\"}"
	fl, err := structured.ParseFileLog([]byte(in), structured.LogSink)
	require.NoError(t, err)
	require.Len(t, fl.Entries, 2)
	e := fl.Entries[0]
	assert.Equal(t, "hdfs://nn:8020/out/p%20q.parquet", e.Path)
	assert.Equal(t, int64(12), e.Size)
	assert.Equal(t, 2, e.Line)
	assert.Equal(t, `"hdfs://nn:8020/out/p%20q.parquet"`, in[e.PathField.Start:e.PathField.End])
	assert.True(t, structured.RewritableField([]byte(in), e.PathField))
	// json4s writes é literally: an escaped one cannot be re-encoded byte for byte.
	assert.Equal(t, "/a/é\"x", fl.Entries[1].Path)
	assert.False(t, structured.RewritableField([]byte(in), fl.Entries[1].PathField))
	out, err := structured.ReplaceStrings([]byte(in), []structured.StringField{e.PathField}, []string{"s3a://b/out/p%20q.parquet"})
	require.NoError(t, err)
	assert.Equal(t, strings.Replace(in, "hdfs://nn:8020", "s3a://b", 1), string(out))

	_, err = structured.ParseFileLog([]byte("v1\n{\"timestamp\":1}"), structured.LogSource)
	assert.Equal(t, int64(3), offsetOf(t, err, decode.ErrCorrupt))
	_, err = structured.ParseFileLog([]byte("v1\n{\"path\":\"x\",\"timestamp\":1"), structured.LogSource)
	offsetOf(t, err, decode.ErrTruncated)
	fl, err = structured.ParseFileLog([]byte("v1"), structured.LogSource)
	require.NoError(t, err)
	assert.Empty(t, fl.Entries)
}

func TestCompaction(t *testing.T) {
	files := func(names ...string) []structured.BatchFile {
		var out []structured.BatchFile
		for _, n := range names {
			b, c, ok := structured.BatchOf(n, true)
			require.True(t, ok, n)
			out = append(out, structured.BatchFile{Name: n, Batch: b, Compact: c})
		}
		return out
	}
	assert.Equal(t, int64(10), structured.CompactInterval(files("9.compact", "10", "19.compact", "20")))
	assert.Equal(t, int64(3), structured.CompactInterval(files("2.compact", "3", "4"))) // Spark's 2.1.0 file source log fixture
	assert.Equal(t, int64(10), structured.CompactInterval(files("29.compact")))
	assert.Equal(t, int64(0), structured.CompactInterval(files("0", "1")))
	first, last := structured.ValidBatches(11, 10)
	assert.Equal(t, [2]int64{9, 11}, [2]int64{first, last})
	first, last = structured.ValidBatches(19, 10)
	assert.Equal(t, [2]int64{19, 19}, [2]int64{first, last})
	first, last = structured.ValidBatches(4, 0)
	assert.Equal(t, [2]int64{0, 4}, [2]int64{first, last})
	for _, bad := range []string{"", "+1", "-", "1.delta", ".1.crc", "x"} {
		_, _, ok := structured.BatchOf(bad, true)
		assert.False(t, ok, bad)
	}
}

func TestParseKafkaInitialOffsets(t *testing.T) {
	root := real.Root(t)
	dir := filepath.Join(root, "apache-spark-3.5.0-kafka-test-resources/connector/kafka-0-10-sql/src/test/resources")
	b, err := os.ReadFile(filepath.Join(dir, "kafka-source-initial-offset-version-2.1.0.bin"))
	require.NoError(t, err)
	k, err := structured.ParseKafkaInitialOffsets(b)
	require.NoError(t, err)
	assert.Equal(t, 0, k.Version)
	assert.Equal(t, []structured.KafkaPartitionOffset{{"kafka-initial-offset-2-1-0", 0, 0}, {"kafka-initial-offset-2-1-0", 1, 1}, {"kafka-initial-offset-2-1-0", 2, 2}}, k.Offsets)
	b, err = os.ReadFile(filepath.Join(dir, "kafka-source-initial-offset-future-version.bin"))
	require.NoError(t, err)
	_, err = structured.ParseKafkaInitialOffsets(b)
	var ve *structured.VersionError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, 99999, ve.Version)
	b, err = os.ReadFile(filepath.Join(dir, "structured-streaming/checkpoint-version-2.4.3-kafka-include-headers-default/sources/0/0"))
	require.NoError(t, err)
	k, err = structured.ParseKafkaInitialOffsets(b)
	require.NoError(t, err)
	assert.Equal(t, 1, k.Version)
	assert.Len(t, k.Offsets, 5)
}

// utf writes Java's writeUTF.
func utf(s string) []byte { return append(binary.BigEndian.AppendUint16(nil, uint16(len(s))), s...) }

func chunked(parts ...string) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(parts)))
	for _, p := range parts {
		b = append(b, utf(p)...)
	}
	return b
}

func TestParseSchemaFile(t *testing.T) {
	key := `{"type":"struct","fields":[{"name":"k","type":"integer","nullable":false,"metadata":{}}]}`
	val := `{"type":"struct","fields":[{"name":"d","type":"decimal(38,10)","nullable":true,"metadata":{}},{"name":"a","type":{"type":"array","elementType":"string","containsNull":true},"nullable":true,"metadata":{}},{"name":"m","type":{"type":"map","keyType":"string","valueType":"long","valueContainsNull":true},"nullable":true,"metadata":{}}]}`
	v1 := append(append(utf("v1"), utf(key)...), utf(val)...)
	sf, err := structured.ParseSchemaFile(v1)
	require.NoError(t, err)
	assert.Equal(t, "struct<k:int>", sf.Key.String())
	assert.Equal(t, "struct<d:decimal(38,10),a:array<string>,m:map<string,bigint>>", sf.Value.String())
	v2 := append(append(utf("v2"), chunked(key[:10], key[10:])...), chunked(val)...)
	sf, err = structured.ParseSchemaFile(v2)
	require.NoError(t, err)
	assert.Equal(t, "struct<k:int>", sf.Key.String())
	v3 := append(utf("v3"), binary.BigEndian.AppendUint32(nil, 1)...)
	v3 = append(v3, utf("cf")...)
	v3 = append(append(append(append(v3, chunked(key)...), chunked(val)...), chunked(`{"keyStateEncoderType":"NoPrefixKeyStateEncoderSpec"}`)...), chunked("{    }")...)
	sf, err = structured.ParseSchemaFile(v3)
	require.NoError(t, err)
	require.Len(t, sf.ColumnFamilies, 1)
	assert.Equal(t, "cf", sf.ColumnFamilies[0].Name)
	// Truncated in the value schema: the offset is where the string starts.
	_, err = structured.ParseSchemaFile(v1[:len(v1)-5])
	assert.Equal(t, int64(4+2+len(key)), offsetOf(t, err, decode.ErrTruncated))
	// A chunk count that cannot fit.
	bad := append(utf("v2"), 0x7f, 0, 0, 0)
	_, err = structured.ParseSchemaFile(bad)
	assert.Equal(t, int64(4), offsetOf(t, err, decode.ErrCorrupt))
	_, err = structured.ParseSchemaFile(utf("v4"))
	offsetOf(t, err, decode.ErrUnsupported)
}

// row builds an UnsafeRow: fixed slots, then variable parts.
type rowBuilder struct {
	n     int
	fixed []byte
	vars  []byte
}

func newRow(n int) *rowBuilder {
	w := ((n + 63) / 64) * 8
	return &rowBuilder{n: n, fixed: make([]byte, w+8*n)}
}
func (r *rowBuilder) slot(i int) []byte { return r.fixed[((r.n+63)/64)*8+8*i:] }
func (r *rowBuilder) null(i int)        { r.fixed[i/8] |= 1 << (i % 8) }
func (r *rowBuilder) long(i int, v uint64) {
	binary.LittleEndian.PutUint64(r.slot(i), v)
}
func (r *rowBuilder) bytes(i int, b []byte) {
	off := len(r.fixed) + len(r.vars)
	binary.LittleEndian.PutUint64(r.slot(i), uint64(off)<<32|uint64(len(b)))
	r.vars = append(r.vars, b...)
	for len(r.vars)%8 != 0 {
		r.vars = append(r.vars, 0)
	}
}
func (r *rowBuilder) build() []byte { return append(append([]byte{}, r.fixed...), r.vars...) }

func TestDecodeRow(t *testing.T) {
	schema, err := structured.ParseDataType([]byte(`{"type":"struct","fields":[
		{"name":"i","type":"integer"},{"name":"s","type":"string"},{"name":"n","type":"long"},
		{"name":"d","type":"decimal(5,2)"},{"name":"big","type":"decimal(38,2)"},{"name":"b","type":"boolean"},
		{"name":"arr","type":{"type":"array","elementType":"integer"}},
		{"name":"m","type":{"type":"map","keyType":"string","valueType":"long"}},
		{"name":"st","type":{"type":"struct","fields":[{"name":"x","type":"double"}]}},
		{"name":"dt","type":"date"},{"name":"f","type":"float"}]}`))
	require.NoError(t, err)
	r := newRow(11)
	r.long(0, uint64(0xFFFFFFFF)) // int -1 in the low 4 bytes
	r.bytes(1, []byte("héllo"))
	r.null(2)
	r.long(3, 12345)               // 123.45
	r.bytes(4, []byte{0xFF, 0x85}) // -123 unscaled -> -1.23
	r.long(5, 1)
	arr := binary.LittleEndian.AppendUint64(nil, 3)
	arr = append(arr, 2, 0, 0, 0, 0, 0, 0, 0) // element 1 is null
	arr = binary.LittleEndian.AppendUint32(arr, 7)
	arr = binary.LittleEndian.AppendUint32(arr, 0)
	arr = binary.LittleEndian.AppendUint32(arr, 9)
	arr = append(arr, 0, 0, 0, 0)
	r.bytes(6, arr)
	keys := binary.LittleEndian.AppendUint64(nil, 1)
	keys = append(keys, make([]byte, 8)...)
	keys = binary.LittleEndian.AppendUint64(keys, uint64(24)<<32|1)
	keys = append(keys, 'k', 0, 0, 0, 0, 0, 0, 0)
	vals := binary.LittleEndian.AppendUint64(nil, 1)
	vals = append(vals, make([]byte, 8)...)
	vals = binary.LittleEndian.AppendUint64(vals, 42)
	m := binary.LittleEndian.AppendUint64(nil, uint64(len(keys)))
	m = append(append(m, keys...), vals...)
	r.bytes(7, m)
	inner := newRow(1)
	inner.long(0, 0x3FF8000000000000) // 1.5
	r.bytes(8, inner.build())
	r.long(9, 19000)
	r.long(10, 0x3FC00000) // 1.5f
	row, err := structured.DecodeRow(r.build(), schema)
	require.NoError(t, err)
	assert.Equal(t, `{i=-1, s="héllo", n=null, d=123.45, big=-1.23, b=true, arr=[7, null, 9], m=map("k" -> 42), st={x=1.5}, dt="2022-01-08", f=1.5}`, row.String())
	js, err := row.MarshalJSON()
	require.NoError(t, err)
	assert.Equal(t, `{"i":-1,"s":"héllo","n":null,"d":"123.45","big":"-1.23","b":true,"arr":[7,null,9],"m":[{"key":"k","value":42}],"st":{"x":1.5},"dt":"2022-01-08","f":1.5}`, string(js))

	// Out-of-range variable parts are errors, not panics.
	b := r.build()
	binary.LittleEndian.PutUint64(b[16:], uint64(1000)<<32|5)
	_, err = structured.DecodeRow(b, schema)
	offsetOf(t, err, decode.ErrCorrupt)
	_, err = structured.DecodeRow(b[:20], schema)
	offsetOf(t, err, decode.ErrCorrupt)
}

// stream builds a decompressed state stream.
type stream struct{ bytes.Buffer }

func (s *stream) i32(v int32) *stream { binary.Write(&s.Buffer, binary.BigEndian, v); return s }
func (s *stream) rec(k, v string) *stream {
	s.i32(int32(len(k))).WriteString(k)
	s.i32(int32(len(v))).WriteString(v)
	return s
}
func (s *stream) del(k string) *stream { s.i32(int32(len(k))).WriteString(k); return s.i32(-1) }

func scan(t *testing.T, b []byte, kind string) ([]string, *structured.StateReader, error) {
	t.Helper()
	sr, err := structured.NewStateReader(bytes.NewReader(b), kind, decode.Limits{MaxAlloc: 1 << 20})
	if err != nil {
		return nil, nil, err
	}
	var out []string
	for sr.Next() {
		r := sr.Record()
		out = append(out, r.Op.String()+":"+string(r.Key)+"="+string(r.Value))
	}
	return out, sr, sr.Err()
}

func TestStateReader(t *testing.T) {
	s := (&stream{}).rec("a", "1").del("b").rec("c", strings.Repeat("x", 5<<20)).i32(-1)
	s.WriteString("junk")
	recs, sr, err := scan(t, s.Bytes(), structured.KindDelta)
	require.ErrorIs(t, err, decode.ErrTooLarge) // 5 MiB value, 1 MiB limit
	assert.Equal(t, []string{"put:a=1", "delete:b="}, recs)

	s = (&stream{}).rec("a", "1").del("b").rec("c", strings.Repeat("x", 5<<20)).i32(-1)
	s.WriteString("junk")
	sr2, err := structured.NewStateReader(bytes.NewReader(s.Bytes()), structured.KindDelta, decode.Limits{})
	require.NoError(t, err)
	n := 0
	for sr2.Next() {
		n++
	}
	require.NoError(t, sr2.Err())
	assert.Equal(t, 3, n)
	assert.Equal(t, int64(4), sr2.Trailing)

	// A snapshot holds no deletes.
	_, _, err = scan(t, (&stream{}).rec("a", "1").del("b").i32(-1).Bytes(), structured.KindSnapshot)
	assert.Equal(t, int64(15), offsetOf(t, err, decode.ErrCorrupt)) // the -1 value length
	// No end marker.
	_, _, err = scan(t, (&stream{}).rec("a", "1").Bytes(), structured.KindDelta)
	offsetOf(t, err, decode.ErrTruncated)
	// A lying key length on a short stream allocates nothing large.
	_, _, err = scan(t, (&stream{}).i32(1<<30).Bytes(), structured.KindDelta)
	require.Error(t, err)
	_, _, err = scan(t, (&stream{}).i32(-7).Bytes(), structured.KindDelta)
	assert.Equal(t, int64(0), offsetOf(t, err, decode.ErrCorrupt))

	// Changelog V2 (column families): typed records, a 0x00 end byte.
	v2 := &stream{}
	v2.Write(utf("v2"))
	v2.WriteByte(0x01)
	v2.rec("k", "v")
	v2.WriteByte(0x11)
	v2.rec("k", "w")
	v2.WriteByte(0x10)
	v2.del("k")
	v2.WriteByte(0)
	recs, sr, err = scan(t, v2.Bytes(), structured.KindChangelog)
	require.NoError(t, err)
	assert.Equal(t, 2, sr.Version)
	assert.Equal(t, []string{"put:k=v", "merge:k=w", "delete:k="}, recs)
	// V3: lineage then V1 records.
	v3 := &stream{}
	v3.Write(utf("v3"))
	v3.Write(utf(`[{"version":3,"checkpointUniqueId":"u3"}]`))
	v3.rec("a", "b").i32(-1)
	recs, sr, err = scan(t, v3.Bytes(), structured.KindChangelog)
	require.NoError(t, err)
	assert.Equal(t, []structured.LineageItem{{3, "u3"}}, sr.Lineage)
	assert.Equal(t, []string{"put:a=b"}, recs)
	// V1 changelog: no header.
	recs, sr, err = scan(t, (&stream{}).rec("a", "b").i32(-1).Bytes(), structured.KindChangelog)
	require.NoError(t, err)
	assert.Equal(t, 1, sr.Version)
	assert.Equal(t, []string{"put:a=b"}, recs)
	// Unknown record type.
	bad := &stream{}
	bad.Write(utf("v2"))
	bad.WriteByte(0x07)
	_, _, err = scan(t, bad.Bytes(), structured.KindChangelog)
	assert.Equal(t, int64(4), offsetOf(t, err, decode.ErrCorrupt))
	// A future changelog version.
	_, err = structured.NewStateReader(bytes.NewReader(utf("v5")), structured.KindChangelog, decode.Limits{})
	offsetOf(t, err, decode.ErrUnsupported)
}

func TestScanStateFileCodecs(t *testing.T) {
	raw := (&stream{}).rec("k", "v").i32(-1).Bytes()
	for _, k := range []codec.Kind{codec.LZ4, codec.Snappy, codec.Zstd, codec.LZF} {
		b, err := codec.Compress(k, codec.Params{}, raw)
		require.NoError(t, err)
		sum, err := structured.ScanStateFile(bytes.NewReader(b), structured.KindDelta, nil, decode.Limits{}, nil)
		require.NoError(t, err, k)
		assert.Equal(t, k.String(), sum.Codec)
		assert.Equal(t, int64(1), sum.Puts)
		// Read with another codec, as Spark would with the wrong conf.
		other := codec.LZ4
		if k == codec.LZ4 {
			other = codec.Snappy
		}
		_, err = structured.ScanStateFile(bytes.NewReader(b), structured.KindDelta, &other, decode.Limits{}, nil)
		require.Error(t, err, k)
	}
}

func TestFileType(t *testing.T) {
	for p, want := range map[string]string{
		"/x/ckpt/metadata":                              structured.FileMetadata,
		"/x/ckpt/offsets/12":                            structured.FileOffsets,
		"ckpt/commits/0":                                structured.FileCommits,
		"ckpt/sources/0/9.compact":                      structured.FileSourceLog,
		"out/_spark_metadata/19.compact":                structured.FileSinkLog,
		"ckpt/state/0/3/2.delta":                        structured.FileState,
		"ckpt/state/0/3/left-keyToNumValues/2.snapshot": structured.FileState,
		"ckpt/state/0/3/5_8683c28d.changelog":           structured.FileState,
		"ckpt/state/0/3/5_8683c28d.zip":                 structured.FileRocksDBZip,
		"ckpt/state/0/0/_metadata/schema":               structured.FileSchema,
		"ckpt/state/0/_stateSchema/default/0_6b12":      structured.FileSchema,
		"ckpt/state/0/_metadata/metadata":               structured.FileOperatorMetadata,
		"ckpt/state/0/_metadata/v2/0":                   structured.FileOperatorMetadata,
		"ckpt/offsets/.3.crc":                           "",
		"ckpt/state/0/3/SSTs/000008-c7bd.sst":           "",
		"ckpt/checkpoint-1700000000000":                 "",
		"ckpt/offsets/..0.6d3a.tmp.crc":                 "",
	} {
		assert.Equal(t, want, structured.FileType(p), p)
	}
	assert.Equal(t, "/x/ckpt", structured.CheckpointRoot("/x/ckpt/state/0/3/left-keyToNumValues/2.delta"))
	assert.Equal(t, ".", structured.CheckpointRoot("offsets/3"))
}

func TestSparkVersions(t *testing.T) {
	for _, tc := range []struct {
		v                     string
		offsets, commits, sch int
		java, rocks           bool
	}{
		{"2.0.2", 0, 0, 0, true, false},
		{"2.1", 1, 0, 0, false, false},
		{"2.4.8", 1, 1, 0, false, false},
		{"3.1.3", 1, 1, 1, false, false},
		{"3.5.1", 1, 1, 2, false, true},
		{"4.0.0-preview2", 1, 2, 3, false, true},
	} {
		v, err := structured.ParseSparkVersion(tc.v)
		require.NoError(t, err)
		s := structured.SupportedBy(v)
		assert.Equal(t, tc.offsets, s.MaxOffsets, tc.v)
		assert.Equal(t, tc.commits, s.MaxCommits, tc.v)
		assert.Equal(t, tc.sch, s.MaxSchema, tc.v)
		assert.Equal(t, tc.java, s.JavaOffsets, tc.v)
		assert.Equal(t, tc.rocks, s.RocksDB, tc.v)
	}
	for _, bad := range []string{"3", "x.y", "1.6.3", "3.5.1.2"} {
		_, err := structured.ParseSparkVersion(bad)
		assert.Error(t, err, bad)
	}
}

func TestEncodeJSONString(t *testing.T) {
	for in, want := range map[string]string{
		"a/b":                  `"a/b"`,
		"Таня":                 `"Таня"`,
		"q\"\\\n\t\x01":        `"q\"\\\n\t\u0001"`,
		"\u0085\u2028":         `"\u0085\u2028"`,
		"hdfs://nn:8020/x%20y": `"hdfs://nn:8020/x%20y"`,
	} {
		got := structured.EncodeJSONString(in)
		assert.Equal(t, want, got, in)
		back, err := structured.DecodeJSONString([]byte(got))
		require.NoError(t, err)
		assert.Equal(t, in, back)
	}
}
