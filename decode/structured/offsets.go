package structured

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/javaser"
	"github.com/sparkckpt/sparkckpt/decode/jcoll"
)

// Highest versions this package decodes (§2.2).
const (
	MaxOffsetsVersion = 2 // v2: master / 4.2-dev only
	MaxCommitsVersion = 3 // v3: master only
	MaxFileLogVersion = 1
	MaxKafkaVersion   = 1
	MaxOpMetaVersion  = 2
	MaxSchemaVersion  = 3
)

// OffsetSeq is one offsets/N file (§2.3).
type OffsetSeq struct {
	// Version is the log version: 1 or 2 for the text format, 0 for the
	// Java-serialized CompositeOffset of Spark 2.0.
	Version int `json:"version"`
	// Format is "text" or "java" (Spark 2.0).
	Format string `json:"format"`
	// Metadata is nil when the metadata line is empty, and for Spark 2.0.
	Metadata *OffsetSeqMetadata `json:"metadata"`
	// Sources holds one offset per source, in plan order.
	Sources []SourceOffset `json:"sources"`
}

// OffsetSeqMetadata is the second line of offsets/N.
type OffsetSeqMetadata struct {
	BatchWatermarkMs int64 `json:"batchWatermarkMs"`
	BatchTimestampMs int64 `json:"batchTimestampMs"`
	// Conf is in file order; nil when the line has no "conf" (Spark 2.1).
	Conf []ConfPair `json:"conf"`
	// HasConf distinguishes a missing "conf" (2.1) from an empty one.
	HasConf bool `json:"-"`
	// SourceMetadataInfo and ControlBatchInfo are the v2 additions, as written.
	SourceMetadataInfo json.RawMessage `json:"sourceMetadataInfo,omitempty"`
	ControlBatchInfo   json.RawMessage `json:"controlBatchInfo,omitempty"`
	// Raw is the line as written.
	Raw string `json:"raw"`
}

// ConfValue returns a conf value of the metadata.
func (m *OffsetSeqMetadata) ConfValue(key string) (string, bool) {
	if m == nil {
		return "", false
	}
	for _, c := range m.Conf {
		if c.Key == key {
			return c.Value, true
		}
	}
	return "", false
}

// Source offset kinds.
const (
	OffsetNone           = "none"             // "-": the source has no offset yet
	OffsetKafka          = "kafka"            // {"topic":{"0":12}}
	OffsetFile           = "file"             // {"logOffset":N}
	OffsetLong           = "long"             // N: LongOffset (memory, socket, 2.0/2.1 file source, ...)
	OffsetRateMicroBatch = "rate-micro-batch" // {"offset":N,"timestamp":T}
	OffsetRate           = "rate"             // {"0":{"value":N,"runTimeMs":T}}
	OffsetJSON           = "json"             // other JSON
	OffsetText           = "text"             // not JSON: opaque to Spark too (SerializedOffset)
	OffsetJava           = "java"             // a Spark 2.0 Java object other than LongOffset/KafkaSourceOffset
)

// SourceOffset is one source's offset in an offsets file (§2.4).
type SourceOffset struct {
	Index int `json:"index"`
	// ID is the source id of a v2 line ("0" or a source name); "" in v1.
	ID string `json:"id,omitempty"`
	// Raw is the offset as Spark wrote it; for Spark 2.0 a rendering of
	// the Java object (LongOffset(3)).
	Raw string `json:"raw"`
	// Offset is the byte offset of the line (or Java object) in the file.
	Offset int64  `json:"offset"`
	Kind   string `json:"kind"`
	// Kafka lists partition offsets sorted by topic and partition.
	Kafka []KafkaPartitionOffset `json:"kafka,omitempty"`
	// LogOffset is a file source's {"logOffset":N}.
	LogOffset *int64 `json:"logOffset,omitempty"`
	// Long is a LongOffset's value, or rate-micro-batch's "offset".
	Long *int64 `json:"long,omitempty"`
	// Class is a Spark 2.0 offset's Java class.
	Class string `json:"class,omitempty"`
}

// KafkaPartitionOffset is one row of a Kafka offset table.
type KafkaPartitionOffset struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
}

// ParseOffsets decodes an offsets/N file of any version.
func ParseOffsets(b []byte) (*OffsetSeq, error) {
	if len(b) >= 2 && b[0] == 0xAC && b[1] == 0xED {
		return parseJavaOffsets(b)
	}
	v, lines, err := readLog(b, "offsets", MaxOffsetsVersion)
	if err != nil {
		return nil, err
	}
	seq := &OffsetSeq{Version: v, Format: "text", Sources: []SourceOffset{}}
	if len(lines) == 0 {
		return nil, errorf(int64(len(b)), decode.ErrTruncated, "offsets: no metadata line after the version line")
	}
	md := lines[0]
	if t := strings.TrimSpace(md.Text); t != "" {
		m, err := parseOffsetMetadata(t, md.Offset)
		if err != nil {
			return nil, err
		}
		seq.Metadata = m
	}
	for i, l := range lines[1:] {
		so := SourceOffset{Index: i, Raw: l.Text, Offset: l.Offset}
		if v >= 2 {
			id, off, ok := strings.Cut(l.Text, ":")
			if !ok {
				return nil, errorf(l.Offset, decode.ErrCorrupt, "offsets v2: line %q is not <sourceId>:<offset>", clip(l.Text))
			}
			so.ID, so.Raw = id, off
		}
		classifyOffset(&so)
		seq.Sources = append(seq.Sources, so)
	}
	return seq, nil
}

func parseOffsetMetadata(t string, off int64) (*OffsetSeqMetadata, error) {
	var raw map[string]json.RawMessage
	if err := unmarshal(t, &raw); err != nil {
		return nil, jsonError(err, off, "offsets metadata")
	}
	m := &OffsetSeqMetadata{Raw: t}
	for _, f := range []struct {
		key string
		dst *int64
	}{{"batchWatermarkMs", &m.BatchWatermarkMs}, {"batchTimestampMs", &m.BatchTimestampMs}} {
		if r, ok := raw[f.key]; ok {
			n, err := strconv.ParseInt(string(r), 10, 64)
			if err != nil {
				return nil, errorf(off, decode.ErrCorrupt, "offsets metadata: %s is %s, expected a long", f.key, clip(string(r)))
			}
			*f.dst = n
		}
	}
	if r, ok := raw["conf"]; ok {
		kvs, err := orderedObject(r)
		if err != nil {
			return nil, errorf(off, decode.ErrCorrupt, "offsets metadata: conf is not a JSON object: %v", err)
		}
		m.HasConf = true
		m.Conf = []ConfPair{}
		for _, kv := range kvs {
			var s string
			if err := json.Unmarshal(kv.Value, &s); err != nil {
				s = string(kv.Value)
			}
			m.Conf = append(m.Conf, ConfPair{kv.Key, s})
		}
	}
	m.SourceMetadataInfo = raw["sourceMetadataInfo"]
	m.ControlBatchInfo = raw["controlBatchInfo"]
	return m, nil
}

// classifyOffset recognises the built-in sources' offset JSON (§2.4).
func classifyOffset(so *SourceOffset) {
	t := strings.TrimSpace(so.Raw)
	if t == "-" {
		so.Kind = OffsetNone
		return
	}
	if n, err := strconv.ParseInt(t, 10, 64); err == nil {
		so.Kind, so.Long = OffsetLong, &n
		return
	}
	kvs, err := orderedObject([]byte(t))
	if err != nil || !json.Valid([]byte(t)) {
		so.Kind = OffsetText
		if json.Valid([]byte(t)) {
			so.Kind = OffsetJSON
		}
		return
	}
	so.Kind = OffsetJSON
	if len(kvs) == 1 && kvs[0].Key == "logOffset" {
		if n, err := strconv.ParseInt(string(kvs[0].Value), 10, 64); err == nil {
			so.Kind, so.LogOffset = OffsetFile, &n
		}
		return
	}
	if len(kvs) == 2 && kvs[0].Key == "offset" && kvs[1].Key == "timestamp" {
		if n, err := strconv.ParseInt(string(kvs[0].Value), 10, 64); err == nil {
			so.Kind, so.Long = OffsetRateMicroBatch, &n
		}
		return
	}
	if k, ok := kafkaTable(kvs); ok && len(kvs) > 0 {
		so.Kind, so.Kafka = OffsetKafka, k
		return
	}
	if len(kvs) > 0 && isRateContinuous(kvs) {
		so.Kind = OffsetRate
	}
}

// kafkaTable reads {"topic":{"partition":offset,...},...}.
func kafkaTable(kvs []KV) ([]KafkaPartitionOffset, bool) {
	var out []KafkaPartitionOffset
	for _, kv := range kvs {
		parts, err := orderedObject(kv.Value)
		if err != nil {
			return nil, false
		}
		for _, p := range parts {
			pn, err1 := strconv.ParseInt(p.Key, 10, 32)
			off, err2 := strconv.ParseInt(string(p.Value), 10, 64)
			if err1 != nil || err2 != nil {
				return nil, false
			}
			out = append(out, KafkaPartitionOffset{kv.Key, int32(pn), off})
		}
	}
	sortKafka(out)
	return out, true
}

func sortKafka(k []KafkaPartitionOffset) {
	sort.Slice(k, func(i, j int) bool {
		if k[i].Topic != k[j].Topic {
			return k[i].Topic < k[j].Topic
		}
		return k[i].Partition < k[j].Partition
	})
}

func isRateContinuous(kvs []KV) bool {
	for _, kv := range kvs {
		inner, err := orderedObject(kv.Value)
		if err != nil || len(inner) != 2 || inner[0].Key != "value" || inner[1].Key != "runTimeMs" {
			return false
		}
	}
	return true
}

// parseJavaOffsets decodes Spark 2.0's offsets/N: a Java-serialized
// org.apache.spark.sql.execution.streaming.CompositeOffset whose offsets
// field is a Seq[Option[Offset]] (LongOffset, KafkaSourceOffset).
func parseJavaOffsets(b []byte) (*OffsetSeq, error) {
	s, err := javaser.Parse(b)
	if err != nil {
		return nil, err
	}
	if len(s.Contents) == 0 {
		return nil, errorf(4, decode.ErrTruncated, "offsets (Spark 2.0): empty Java stream")
	}
	root, ok := javaser.Resolve(s.Contents[0]).(*javaser.Object)
	if !ok {
		return nil, errorf(4, decode.ErrCorrupt, "offsets (Spark 2.0): expected a CompositeOffset object, got %s", javaser.KindOf(s.Contents[0]))
	}
	seq := &OffsetSeq{Version: 0, Format: "java", Sources: []SourceOffset{}}
	var elems []javaser.Node
	switch root.ClassName() {
	case "org.apache.spark.sql.execution.streaming.CompositeOffset":
		v, ok := root.Field("offsets")
		if !ok {
			return nil, errorf(root.Off, decode.ErrCorrupt, "offsets (Spark 2.0): CompositeOffset has no offsets field")
		}
		if elems, ok = jcoll.Seq(v.Obj); !ok {
			return nil, errorf(root.Off, decode.ErrUnsupported, "offsets (Spark 2.0): CompositeOffset.offsets is not a sequence sparkckpt reads")
		}
	default:
		elems = []javaser.Node{root} // a single offset
	}
	for i, e := range elems {
		so := SourceOffset{Index: i, Offset: nodeOffset(e)}
		n := e
		if val, some, ok := jcoll.Option(e); ok {
			if !some {
				so.Kind, so.Raw = OffsetNone, "None"
				seq.Sources = append(seq.Sources, so)
				continue
			}
			n = val
		}
		javaOffset(&so, n)
		seq.Sources = append(seq.Sources, so)
	}
	return seq, nil
}

func nodeOffset(n javaser.Node) int64 {
	if n == nil {
		return 0
	}
	return n.Offset()
}

func javaOffset(so *SourceOffset, n javaser.Node) {
	o, ok := javaser.Resolve(n).(*javaser.Object)
	if !ok {
		so.Kind, so.Raw = OffsetJava, javaser.KindOf(n)
		return
	}
	so.Class = o.ClassName()
	short := so.Class[strings.LastIndexByte(so.Class, '.')+1:]
	switch short {
	case "LongOffset":
		if v, ok := jcoll.Long(o, "offset"); ok {
			so.Kind, so.Long, so.Raw = OffsetLong, &v, fmt.Sprintf("LongOffset(%d)", v)
			return
		}
	case "KafkaSourceOffset":
		if f, ok := o.Field("partitionToOffsets"); ok {
			if entries, ok := jcoll.Map(f.Obj); ok {
				var rows []KafkaPartitionOffset
				for _, e := range entries {
					tp, _ := javaser.Resolve(e.Key).(*javaser.Object)
					off, ok := jcoll.Int(e.Value)
					if tp == nil || !ok {
						continue
					}
					topic := ""
					if t, ok := tp.Field("topic"); ok {
						topic, _ = jcoll.String(t.Obj)
					}
					part, _ := jcoll.Long(tp, "partition")
					rows = append(rows, KafkaPartitionOffset{topic, int32(part), off})
				}
				sortKafka(rows)
				so.Kind, so.Kafka = OffsetKafka, rows
				so.Raw = "KafkaSourceOffset(" + kafkaJSON(rows) + ")"
				return
			}
		}
	}
	so.Kind, so.Raw = OffsetJava, so.Class
}

// kafkaJSON renders a table as Spark's {"topic":{"p":offset}} JSON.
func kafkaJSON(rows []KafkaPartitionOffset) string {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, r := range rows {
		if i == 0 || rows[i-1].Topic != r.Topic {
			if i > 0 {
				b.WriteString("},")
			}
			t, _ := json.Marshal(r.Topic)
			b.Write(t)
			b.WriteString(":{")
		} else {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:%d", strconv.Itoa(int(r.Partition)), r.Offset)
	}
	if len(rows) > 0 {
		b.WriteByte('}')
	}
	b.WriteByte('}')
	return b.String()
}
