package wal

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/javaser"
	"github.com/sparkckpt/sparkckpt/decode/jcoll"
)

// Event types: the simple class names of ReceivedBlockTracker's events (§6.4).
const (
	TypeBlockAddition   = "BlockAdditionEvent"
	TypeBatchAllocation = "BatchAllocationEvent"
	TypeBatchCleanup    = "BatchCleanupEvent"
)

// Spark class names the decoder recognises.
const (
	schedulerPkg        = "org.apache.spark.streaming.scheduler."
	classBlockAddition  = schedulerPkg + TypeBlockAddition
	classAllocation     = schedulerPkg + TypeBatchAllocation
	classCleanup        = schedulerPkg + TypeBatchCleanup
	classBlockInfo      = schedulerPkg + "ReceivedBlockInfo"
	classAllocated      = schedulerPkg + "AllocatedBlocks"
	classTime           = "org.apache.spark.streaming.Time"
	classStreamBlockID  = "org.apache.spark.storage.StreamBlockId"
	classFileSegment    = "org.apache.spark.streaming.util.FileBasedWriteAheadLogSegment"
	classVector         = "scala.collection.immutable.Vector"
	maxMetadataStrQuote = 64
)

// Event is one ReceivedBlockTracker event (§6.4). Exactly one of
// BlockAddition, Allocation and Cleanup is set for a known event that
// decoded; none for an unknown one.
//
// Event marshals to JSON as {"type": Type, ...the fields of the set payload}
// (plus "error" when Err is set); the syntax tree is left out.
type Event struct {
	// Type is TypeBlockAddition, TypeBatchAllocation or TypeBatchCleanup,
	// or, for anything else, the class name (or node kind, for a stream
	// that does not start with an object).
	Type string
	// Class is the event's full class name, "" if it is not an object.
	Class string

	// BlockAddition is a BlockAdditionEvent's receivedBlockInfo.
	BlockAddition *ReceivedBlockInfo
	// Allocation is a BatchAllocationEvent.
	Allocation *BatchAllocation
	// Cleanup is a BatchCleanupEvent.
	Cleanup *BatchCleanup

	// Err is set when the class is a known event but its fields do not
	// have the expected shape: a *decode.Error with ErrUnsupported, the
	// offset of the offending node in the record payload and its path.
	Err error

	// Syntax is the event's own Java stream, to edit and re-encode
	// ([Record.Encode]).
	Syntax *javaser.Stream
	// Array is the byte[] node of the batch the event was read from (the
	// array a back-reference points to, if the element is one), nil for an
	// unbatched record.
	Array *javaser.Array
	// Index is the event's position in its record.
	Index int
	// DataOffset is the offset of Syntax's first byte in the record
	// payload: 0 unbatched, the byte[]'s data when batched.
	DataOffset int64
}

// ReceivedBlockInfo is a block reported by a receiver (Spark's
// ReceivedBlockInfo and its store result).
type ReceivedBlockInfo struct {
	// StreamID is the receiver's input stream id.
	StreamID int `json:"streamId"`
	// NumRecords is ReceivedBlockInfo.numRecords: nil for None.
	NumRecords *int64 `json:"numRecords"`
	// BlockID is the StreamBlockId's name, "input-<streamId>-<uniqueId>".
	BlockID string `json:"blockId"`
	// StoreResult is the simple class name of blockStoreResult:
	// "BlockManagerBasedStoreResult" or "WriteAheadLogBasedStoreResult".
	StoreResult string `json:"storeResult"`
	// Segment is the receiver-log record holding the block's data, for a
	// WriteAheadLogBasedStoreResult whose handle is a file segment.
	Segment *Segment `json:"segment,omitempty"`
	// Handle is the class name of a walRecordHandle that is not a
	// FileBasedWriteAheadLogSegment (a custom WriteAheadLog).
	Handle string `json:"handle,omitempty"`
	// Metadata describes metadataOption: "None", or "Some(" + a short
	// description of the value + ")".
	Metadata string `json:"metadata"`
	// BlockIDValid is the _isBlockIdValid field, nil where the Spark
	// version has none.
	BlockIDValid *bool `json:"blockIdValid,omitempty"`
	// Syntax is the ReceivedBlockInfo object.
	Syntax *javaser.Object `json:"-"`
}

// Segment is a FileBasedWriteAheadLogSegment: the record at Offset (its
// length prefix) of the file at Path, whose payload is Length bytes.
type Segment struct {
	// Path is the log file's URI as Spark stored it (hdfs://..., file:/...).
	Path string `json:"path"`
	// Offset is the file offset of the record's length prefix.
	Offset int64 `json:"offset"`
	// Length is the record's payload length.
	Length int32 `json:"length"`
	// Syntax is the FileBasedWriteAheadLogSegment object; its "path" field
	// is the string to rewrite when a checkpoint moves.
	Syntax *javaser.Object `json:"-"`
}

// BatchAllocation is a BatchAllocationEvent: the blocks allocated to the
// batch at BatchTimeMs.
type BatchAllocation struct {
	// BatchTimeMs is the batch time (Time.millis).
	BatchTimeMs int64 `json:"batchTimeMs"`
	// Blocks maps stream id to its allocated blocks.
	Blocks map[int][]ReceivedBlockInfo `json:"blocks"`
	// StreamIDs are the map's keys in stream order.
	StreamIDs []int `json:"streamIds"`
}

// BatchCleanup is a BatchCleanupEvent: the batch times whose allocations
// were dropped.
type BatchCleanup struct {
	// TimesMs are the batch times, in the event's order.
	TimesMs []int64 `json:"timesMs"`
}

// MarshalJSON renders the event as {"type": ..., <payload fields>}.
func (e Event) MarshalJSON() ([]byte, error) {
	type head struct {
		Type  string `json:"type"`
		Error string `json:"error,omitempty"`
	}
	h := head{Type: e.Type}
	if e.Err != nil {
		h.Error = e.Err.Error()
	}
	switch {
	case e.BlockAddition != nil:
		return json.Marshal(struct {
			head
			*ReceivedBlockInfo
		}{h, e.BlockAddition})
	case e.Allocation != nil:
		return json.Marshal(struct {
			head
			*BatchAllocation
		}{h, e.Allocation})
	case e.Cleanup != nil:
		return json.Marshal(struct {
			head
			*BatchCleanup
		}{h, e.Cleanup})
	}
	return json.Marshal(h)
}

// decodeEvent reads the first content of s as an event. base and prefix
// locate s in the record payload, for errors.
func decodeEvent(s *javaser.Stream, base int64, prefix string) Event {
	ev := Event{Syntax: s, DataOffset: base}
	first := s.Contents[0]
	o, ok := first.(*javaser.Object)
	if !ok {
		ev.Type = javaser.KindOf(first)
		return ev
	}
	ev.Class = o.ClassName()
	var err error
	switch ev.Class {
	case classBlockAddition:
		ev.Type = TypeBlockAddition
		root := &objPath{name: TypeBlockAddition, index: -1}
		ev.BlockAddition, err = blockInfo(field(o, "receivedBlockInfo"), o, root.field("receivedBlockInfo"))
	case classAllocation:
		ev.Type = TypeBatchAllocation
		ev.Allocation, err = allocation(o)
	case classCleanup:
		ev.Type = TypeBatchCleanup
		ev.Cleanup, err = cleanup(o)
	default:
		ev.Type = ev.Class
	}
	if err != nil {
		ev.Err = rebase(err, base, prefix)
	}
	return ev
}

// objPath is the object path of a value being read, rendered only when an
// error needs it, e.g. "BatchCleanupEvent.times[0].millis".
type objPath struct {
	parent *objPath
	name   string // a field name, or the root's class name
	index  int    // an element index, when >= 0 (then name is empty)
}

func (p *objPath) field(name string) *objPath { return &objPath{parent: p, name: name, index: -1} }
func (p *objPath) elem(i int) *objPath        { return &objPath{parent: p, index: i} }

func (p *objPath) String() string {
	if p == nil {
		return ""
	}
	s := p.parent.String()
	if p.index >= 0 {
		return s + "[" + strconv.Itoa(p.index) + "]"
	}
	if s == "" {
		return p.name
	}
	return s + "." + p.name
}

// shapeErr reports a node that does not have the shape Spark writes.
func shapeErr(at javaser.Node, p *objPath, detail string, args ...any) error {
	var off int64
	if at != nil {
		off = at.Offset()
	}
	e := decode.Errorf("wal", off, decode.ErrUnsupported, detail, args...)
	e.Path = p.String()
	return e
}

// field returns the object value of o's named default field, or nil.
func field(o *javaser.Object, name string) javaser.Node {
	v, ok := o.Field(name)
	if !ok {
		return nil
	}
	return v.Obj
}

// object resolves n to an object of class (any class if class is ""), or
// returns an error naming p. parent locates a missing value.
func object(n, parent javaser.Node, p *objPath, class string) (*javaser.Object, error) {
	if n == nil {
		return nil, shapeErr(parent, p, "missing field")
	}
	o, ok := javaser.Resolve(n).(*javaser.Object)
	if !ok {
		return nil, shapeErr(n, p, "expected an object, got %s", javaser.KindOf(javaser.Resolve(n)))
	}
	if class != "" && o.ClassName() != class {
		return nil, shapeErr(n, p, "expected %s, got %s", class, o.ClassName())
	}
	return o, nil
}

// primField reads a primitive field of o, at path p.
func primField(o *javaser.Object, name string, p *objPath) (int64, error) {
	v, ok := o.Field(name)
	if !ok || !v.IsPrimitive() {
		return 0, shapeErr(o, p.field(name), "missing primitive field")
	}
	return v.Int(), nil
}

func blockInfo(n, parent javaser.Node, p *objPath) (*ReceivedBlockInfo, error) {
	o, err := object(n, parent, p, classBlockInfo)
	if err != nil {
		return nil, err
	}
	info := &ReceivedBlockInfo{Syntax: o}
	id, err := primField(o, "streamId", p)
	if err != nil {
		return nil, err
	}
	info.StreamID = int(id)
	if v, ok := o.Field("_isBlockIdValid"); ok && v.IsPrimitive() {
		b := v.Bits != 0
		info.BlockIDValid = &b
	}
	if nr := field(o, "numRecords"); nr != nil {
		v, some, ok := jcoll.Option(nr)
		if !ok {
			return nil, shapeErr(nr, p.field("numRecords"), "expected a scala.Option")
		}
		if some {
			x, ok := jcoll.Int(v)
			if !ok {
				return nil, shapeErr(orNode(v, nr), p.field("numRecords"), "expected Some(java.lang.Long)")
			}
			info.NumRecords = &x
		}
	}
	info.Metadata = describeOption(field(o, "metadataOption"))
	rp := p.field("blockStoreResult")
	res, err := object(field(o, "blockStoreResult"), o, rp, "")
	if err != nil {
		return nil, err
	}
	info.StoreResult = simpleName(res.ClassName())
	if bid := field(res, "blockId"); bid != nil {
		bp := rp.field("blockId")
		b, err := object(bid, res, bp, classStreamBlockID)
		if err != nil {
			return nil, err
		}
		sid, err := primField(b, "streamId", bp)
		if err != nil {
			return nil, err
		}
		uid, err := primField(b, "uniqueId", bp)
		if err != nil {
			return nil, err
		}
		info.BlockID = "input-" + strconv.FormatInt(sid, 10) + "-" + strconv.FormatInt(uid, 10)
	}
	if h := field(res, "walRecordHandle"); h != nil {
		hp := rp.field("walRecordHandle")
		ho, err := object(h, res, hp, "")
		if err != nil {
			return nil, err
		}
		if ho.ClassName() != classFileSegment {
			info.Handle = ho.ClassName()
			return info, nil
		}
		seg := &Segment{Syntax: ho}
		s, ok := jcoll.String(field(ho, "path"))
		if !ok {
			return nil, shapeErr(ho, hp.field("path"), "expected a string")
		}
		seg.Path = s
		if seg.Offset, err = primField(ho, "offset", hp); err != nil {
			return nil, err
		}
		l, err := primField(ho, "length", hp)
		if err != nil {
			return nil, err
		}
		seg.Length = int32(l)
		info.Segment = seg
	}
	return info, nil
}

// timeMs reads an org.apache.spark.streaming.Time.
func timeMs(n, parent javaser.Node, p *objPath) (int64, error) {
	o, err := object(n, parent, p, classTime)
	if err != nil {
		return 0, err
	}
	v, ok := jcoll.FieldSuffix(o, "millis")
	if !ok || !v.IsPrimitive() {
		return 0, shapeErr(o, p.field("millis"), "missing primitive field")
	}
	return v.Int(), nil
}

func allocation(o *javaser.Object) (*BatchAllocation, error) {
	root := &objPath{name: TypeBatchAllocation, index: -1}
	t, err := timeMs(field(o, "time"), o, root.field("time"))
	if err != nil {
		return nil, err
	}
	ap := root.field("allocatedBlocks")
	ab, err := object(field(o, "allocatedBlocks"), o, ap, classAllocated)
	if err != nil {
		return nil, err
	}
	mp := ap.field("streamIdToAllocatedBlocks")
	m := field(ab, "streamIdToAllocatedBlocks")
	entries, ok := jcoll.Map(m)
	if !ok {
		return nil, shapeErr(orNode(m, ab), mp, "not a map jcoll reads (%s)", className(m))
	}
	out := &BatchAllocation{BatchTimeMs: t, Blocks: make(map[int][]ReceivedBlockInfo, len(entries))}
	for i, e := range entries {
		ep := mp.elem(i)
		k, ok := jcoll.Int(e.Key)
		if !ok {
			return nil, shapeErr(orNode(e.Key, ab), ep.field("key"), "expected a java.lang.Integer (%s)", className(e.Key))
		}
		vp := ep.field("value")
		elems, why := seq(e.Value)
		if why != "" {
			return nil, shapeErr(orNode(e.Value, ab), vp, "%s", why)
		}
		id := int(k)
		if _, seen := out.Blocks[id]; !seen {
			out.StreamIDs = append(out.StreamIDs, id)
			out.Blocks[id] = make([]ReceivedBlockInfo, 0, len(elems))
		}
		for j, el := range elems {
			info, err := blockInfo(el, orNode(e.Value, ab), vp.elem(j))
			if err != nil {
				return nil, err
			}
			out.Blocks[id] = append(out.Blocks[id], *info)
		}
	}
	return out, nil
}

func cleanup(o *javaser.Object) (*BatchCleanup, error) {
	tp := (&objPath{name: TypeBatchCleanup, index: -1}).field("times")
	times := field(o, "times")
	elems, why := seq(times)
	if why != "" {
		return nil, shapeErr(orNode(times, o), tp, "%s", why)
	}
	out := &BatchCleanup{TimesMs: make([]int64, 0, len(elems))}
	for i, el := range elems {
		t, err := timeMs(el, orNode(times, o), tp.elem(i))
		if err != nil {
			return nil, err
		}
		out.TimesMs = append(out.TimesMs, t)
	}
	return out, nil
}

// seq is jcoll.Seq returning why n is not a sequence. jcoll bounds a
// Vector's element count by the arrays it holds (a fuzz finding: shared
// display arrays claimed billions of elements).
func seq(n javaser.Node) ([]javaser.Node, string) {
	elems, ok := jcoll.Seq(n)
	if !ok {
		return nil, fmt.Sprintf("not a sequence jcoll reads (%s)", className(n))
	}
	return elems, ""
}

// describeOption summarises a scala.Option for ReceivedBlockInfo.Metadata.
func describeOption(n javaser.Node) string {
	if n == nil {
		return ""
	}
	v, some, ok := jcoll.Option(n)
	switch {
	case !ok:
		return className(n)
	case !some:
		return "None"
	}
	return "Some(" + describeValue(v) + ")"
}

// describeValue is a short description of a value: a quoted string, a
// boxed number, or a class name.
func describeValue(n javaser.Node) string {
	r := javaser.Resolve(n)
	if r == nil {
		return "null"
	}
	if s, ok := jcoll.String(r); ok {
		if len(s) > maxMetadataStrQuote {
			s = s[:maxMetadataStrQuote] + "…"
		}
		return strconv.Quote(s)
	}
	if i, ok := jcoll.Int(r); ok {
		return strconv.FormatInt(i, 10)
	}
	if a, ok := r.(*javaser.Array); ok {
		return fmt.Sprintf("%s[%d]", className(a), a.Length)
	}
	return className(r)
}

// className names what n is: a class name for objects and arrays, the
// node kind otherwise.
func className(n javaser.Node) string {
	switch r := javaser.Resolve(n).(type) {
	case nil:
		return "missing"
	case *javaser.Object:
		return r.ClassName()
	case *javaser.Array:
		if r.Class != nil {
			return r.Class.Name()
		}
	case *javaser.String:
		return "java.lang.String"
	case *javaser.Enum:
		if r.Class != nil {
			return r.Class.Name()
		}
	case *javaser.Class:
		return "java.lang.Class"
	}
	return javaser.KindOf(javaser.Resolve(n))
}

// orNode returns n, or fallback when n is nil, to locate an error.
func orNode(n, fallback javaser.Node) javaser.Node {
	if n != nil {
		return n
	}
	return fallback
}

// simpleName returns the part of a class name after the last '.'.
func simpleName(name string) string {
	return name[strings.LastIndexByte(name, '.')+1:]
}
