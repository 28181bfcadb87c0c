package dstream

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/sparkckpt/sparkckpt/decode/javaser"
	"github.com/sparkckpt/sparkckpt/decode/jcoll"
	"github.com/sparkckpt/sparkckpt/decode/pickle"
)

const dstreamClass = "org.apache.spark.streaming.dstream.DStream"

// Graph is org.apache.spark.streaming.DStreamGraph (spec §4.3).
type Graph struct {
	BatchDurationMs    int64  `json:"batchDurationMs"`
	RememberDurationMs *int64 `json:"rememberDurationMs"`
	StartTimeMs        *int64 `json:"startTimeMs"`
	ZeroTimeMs         *int64 `json:"zeroTimeMs"`
	NumReceivers       *int64 `json:"numReceivers,omitempty"` // absent before Spark 2.2
	// Inputs and Outputs are indexes into Streams, in the graph's order.
	Inputs  []int     `json:"inputStreams"`
	Outputs []int     `json:"outputStreams"`
	Streams []*Stream `json:"streams"`
}

// Attr is a named property of a stream (host, port, directory, window
// durations, partitioner, Kafka parameters, ...), as Spark serialized it.
type Attr struct {
	Name  string       `json:"name"`
	Value string       `json:"value"`
	Node  javaser.Node `json:"-"`
}

// Stream is one DStream of the graph.
type Stream struct {
	ID                   int         `json:"id"` // index in Graph.Streams
	Class                string      `json:"class"`
	Name                 string      `json:"name"` // from baseScope, e.g. "text file stream [0]"; else the class's simple name
	Role                 string      `json:"role"` // "input", "output" or "intermediate"
	InputID              *int64      `json:"inputId,omitempty"`
	Parents              []int       `json:"parents"`
	SlideMs              *int64      `json:"slideMs"`
	RememberMs           *int64      `json:"rememberMs"`
	CheckpointIntervalMs *int64      `json:"checkpointIntervalMs"`
	MustCheckpoint       bool        `json:"mustCheckpoint"`
	StorageLevel         string      `json:"storageLevel"`
	CreationSite         string      `json:"creationSite,omitempty"`
	Attrs                []Attr      `json:"attrs"`
	CheckpointData       *Data       `json:"checkpointData"`
	Functions            []*Function `json:"functions"`

	Syntax *javaser.Object `json:"-"`
}

// Data is a stream's DStreamCheckpointData (spec §4.5).
type Data struct {
	Class   string      `json:"class"`
	Entries []DataEntry `json:"entries"`
}

// DataEntry is one batch time of checkpoint data.
type DataEntry struct {
	TimeMs int64 `json:"timeMs"`
	// Kind is "rdd" (an RDD checkpoint directory URI), "files" (input
	// file URIs of a file stream), "kafka" (offset ranges) or "other".
	Kind   string         `json:"kind"`
	Values []string       `json:"values"`
	Nodes  []javaser.Node `json:"-"` // the string nodes behind Values, where they are strings
}

// Function is a function object held by a stream.
type Function struct {
	Field string `json:"field"` // the stream field holding it, demangled
	Class string `json:"class"`
	// Impl is "implClass.implMethodName" for a Java/Scala 2.12+ SerializedLambda.
	Impl   string          `json:"impl,omitempty"`
	Python *PythonFunction `json:"python,omitempty"`
}

// PythonFunction is a PySpark TransformFunction: block data holding
// i32 length + a cloudpickled (func, rdd_wrap_func, deserializers) tuple (spec §4.6).
type PythonFunction struct {
	PickleProtocol int             `json:"pickleProtocol"`
	PickleBytes    int             `json:"pickleBytes"`
	Strings        []PickleString  `json:"strings"`
	Error          string          `json:"error,omitempty"`
	Object         *javaser.Object `json:"-"` // the TransformFunction
	Pickle         *pickle.Pickle  `json:"-"`
}

// PickleString is a string constant of a pickled function, at its offset in the pickle.
type PickleString struct {
	Offset int    `json:"offset"`
	Opcode string `json:"opcode"`
	Value  string `json:"value"`
}

func isDStream(o *javaser.Object) bool {
	for i := range o.Data {
		if o.Data[i].Class.Name() == dstreamClass {
			return true
		}
	}
	return false
}

type graphBuilder struct {
	g          *Graph
	ids        map[*javaser.Object]int
	skipPython bool
}

func decodeGraph(g *javaser.Object, skipPython bool) Graph {
	b := &graphBuilder{g: &Graph{}, ids: map[*javaser.Object]int{}, skipPython: skipPython}
	gr := b.g
	gr.BatchDurationMs, _ = timeMs(field(g, "batchDuration"))
	if v, ok := timeMs(field(g, "rememberDuration")); ok {
		gr.RememberDurationMs = &v
	}
	if v, ok := timeMs(field(g, "startTime")); ok {
		gr.StartTimeMs = &v
	}
	if v, ok := timeMs(field(g, "zeroTime")); ok {
		gr.ZeroTimeMs = &v
	}
	if v, ok := g.Field("numReceivers"); ok && v.IsPrimitive() {
		n := v.Int()
		gr.NumReceivers = &n
	}
	outs, _ := jcoll.Seq(field(g, "outputStreams"))
	ins, _ := jcoll.Seq(field(g, "inputStreams"))
	for _, n := range outs {
		if o := object(n); o != nil {
			gr.Outputs = append(gr.Outputs, b.add(o))
		}
	}
	for _, n := range ins {
		if o := object(n); o != nil {
			gr.Inputs = append(gr.Inputs, b.add(o))
		}
	}
	for _, id := range gr.Inputs {
		gr.Streams[id].Role = "input"
	}
	for _, id := range gr.Outputs {
		gr.Streams[id].Role = "output"
	}
	for _, s := range gr.Streams {
		s.SlideMs = b.slide(s, 0)
	}
	return *gr
}

// add registers a stream and, recursively, its parents; it returns the id.
func (b *graphBuilder) add(o *javaser.Object) int {
	if id, ok := b.ids[o]; ok {
		return id
	}
	s := &Stream{ID: len(b.g.Streams), Class: o.ClassName(), Role: "intermediate", Syntax: o, Parents: []int{}, Attrs: []Attr{}, Functions: []*Function{}}
	b.ids[o] = s.ID
	b.g.Streams = append(b.g.Streams, s)
	s.Name = simpleClass(s.Class)
	base := true
	for i := range o.Data {
		cd := &o.Data[i]
		cname := cd.Class.Name()
		switch {
		case cname == dstreamClass:
			b.base(s, o)
			base = false
			continue
		case base:
			continue
		case cname == "org.apache.spark.streaming.dstream.InputDStream":
			if v, ok := o.Field("id"); ok && v.IsPrimitive() {
				id := v.Int()
				s.InputID = &id
			}
			if name := scopeName(field(o, "baseScope")); name != "" {
				s.Name = name
			}
			continue
		}
		for j, v := range cd.Values {
			if j >= len(cd.Class.Fields) {
				break
			}
			fd := &cd.Class.Fields[j]
			b.member(s, Demangle(fd.Name()), fd.TypeName(), v)
		}
	}
	return s.ID
}

// base reads the fields of the DStream class itself (spec §4.4).
func (b *graphBuilder) base(s *Stream, o *javaser.Object) {
	var cd *javaser.ClassData
	for i := range o.Data {
		if o.Data[i].Class.Name() == dstreamClass {
			cd = &o.Data[i]
		}
	}
	get := func(name string) (javaser.Value, bool) {
		for j, v := range cd.Values {
			if j < len(cd.Class.Fields) && Demangle(cd.Class.Fields[j].Name()) == name {
				return v, true
			}
		}
		return javaser.Value{}, false
	}
	if v, ok := get("mustCheckpoint"); ok {
		s.MustCheckpoint = v.Bits != 0
	}
	if v, ok := get("baseScope"); ok {
		if name := scopeName(v.Obj); name != "" {
			s.Name = name
		}
	}
	if v, ok := get("rememberDuration"); ok {
		if ms, ok := timeMs(v.Obj); ok {
			s.RememberMs = &ms
		}
	}
	if v, ok := get("checkpointDuration"); ok {
		if ms, ok := timeMs(v.Obj); ok {
			s.CheckpointIntervalMs = &ms
		}
	}
	if v, ok := get("storageLevel"); ok {
		s.StorageLevel = storageLevel(v.Obj)
	}
	if v, ok := get("creationSite"); ok {
		s.CreationSite, _ = jcoll.String(field(object(v.Obj), "shortForm"))
	}
	// A subclass may override checkpointData (FileInputDStream): the most
	// derived field is the one Spark uses.
	s.CheckpointData = checkpointData(field(o, "checkpointData"))
}

// member interprets one field of a DStream subclass.
func (b *graphBuilder) member(s *Stream, name, typ string, v javaser.Value) {
	if name == "mustCheckpoint" && v.IsPrimitive() {
		// An overriding subclass val (PythonStateDStream, StateDStream) is what Spark reads.
		s.MustCheckpoint = v.Bits != 0
		return
	}
	if v.IsPrimitive() {
		s.Attrs = append(s.Attrs, Attr{Name: name, Value: strings.TrimPrefix(javaser.PrimString(v.Type, v.Bits), string(v.Type)+" ")})
		return
	}
	switch name {
	case "checkpointData", "graph", "ssc", "$outer", "mustCheckpoint", "rateController", "asJavaDStream":
		return
	}
	o := object(v.Obj)
	if o != nil && isDStream(o) {
		s.addParent(b.add(o))
		return
	}
	if elems, ok := jcoll.Seq(v.Obj); ok && len(elems) > 0 && o != nil {
		all := true
		for _, e := range elems {
			if eo := object(e); eo == nil || !isDStream(eo) {
				all = false
				break
			}
		}
		if all {
			for _, e := range elems {
				s.addParent(b.add(object(e)))
			}
			return
		}
	}
	if f := function(name, typ, v.Obj, b.skipPython); f != nil {
		s.Functions = append(s.Functions, f)
		return
	}
	if str, ok := jcoll.String(v.Obj); ok {
		s.Attrs = append(s.Attrs, Attr{Name: name, Value: str, Node: v.Obj})
		return
	}
	if ms, ok := timeMs(v.Obj); ok {
		s.Attrs = append(s.Attrs, Attr{Name: name, Value: strconv.FormatInt(ms, 10) + "ms"})
		return
	}
	if entries, ok := jcoll.Map(v.Obj); ok {
		for _, e := range entries {
			k, _ := jcoll.String(e.Key)
			val, isStr := jcoll.String(e.Value)
			if !isStr {
				val = describe(e.Value)
			}
			s.Attrs = append(s.Attrs, Attr{Name: name + "." + k, Value: val, Node: e.Value})
		}
		return
	}
	if o == nil {
		return
	}
	switch {
	case strings.HasSuffix(o.ClassName(), "Partitioner"):
		var n int64
		for _, f := range []string{"partitions", "numPartitions"} {
			// Scala 2.11 mangles it: org$apache$spark$HashPartitioner$$partitions.
			if v, ok := jcoll.FieldSuffix(o, f); ok && v.IsPrimitive() {
				n = v.Int()
				break
			}
		}
		s.Attrs = append(s.Attrs, Attr{Name: name, Value: fmt.Sprintf("%s(%d)", simpleClass(o.ClassName()), n)})
	case o.ClassName() == "org.apache.spark.storage.StorageLevel":
		s.Attrs = append(s.Attrs, Attr{Name: name, Value: storageLevel(o)})
	default:
		if val, some, ok := jcoll.Option(o); ok {
			desc := "None"
			if some {
				desc = "Some(" + describe(val) + ")"
			}
			s.Attrs = append(s.Attrs, Attr{Name: name, Value: desc})
		}
	}
}

// addParent records a parent once: Python streams hold the same parent
// in fields of two classes of their hierarchy.
func (s *Stream) addParent(id int) {
	for _, p := range s.Parents {
		if p == id {
			return
		}
	}
	s.Parents = append(s.Parents, id)
}

// slide derives a stream's slide duration: its own (windowed streams),
// the batch duration for inputs, else its first parent's.
func (b *graphBuilder) slide(s *Stream, depth int) *int64 {
	for _, a := range s.Attrs {
		if strings.HasSuffix(a.Name, "slideDuration") && strings.HasSuffix(a.Value, "ms") {
			v, err := strconv.ParseInt(strings.TrimSuffix(a.Value, "ms"), 10, 64)
			if err == nil {
				return &v
			}
		}
	}
	if len(s.Parents) == 0 || depth > len(b.g.Streams) {
		v := b.g.BatchDurationMs
		return &v
	}
	return b.slide(b.g.Streams[s.Parents[0]], depth+1)
}

// checkpointData reads DStreamCheckpointData.data: HashMap[Time, AnyRef].
func checkpointData(n javaser.Node) *Data {
	o := object(n)
	if o == nil {
		return nil
	}
	d := &Data{Class: o.ClassName(), Entries: []DataEntry{}}
	entries, _ := jcoll.Map(field(o, "data"))
	for _, e := range entries {
		t, _ := timeMs(e.Key)
		de := DataEntry{TimeMs: t, Kind: "other", Values: []string{}}
		if s, ok := jcoll.String(e.Value); ok {
			de.Kind, de.Values, de.Nodes = "rdd", []string{s}, []javaser.Node{e.Value}
		} else if a, ok := javaser.Resolve(e.Value).(*javaser.Array); ok && a.Class.Name() == "[Ljava.lang.String;" {
			de.Kind = "files"
			for _, x := range a.Elems {
				if s, ok := jcoll.String(x); ok {
					de.Values = append(de.Values, s)
					de.Nodes = append(de.Nodes, x)
				}
			}
		} else if elems, ok := jcoll.Seq(e.Value); ok {
			de.Kind = "kafka"
			for _, x := range elems {
				t, ok := jcoll.Tuple(x)
				if !ok || len(t) != 4 {
					de.Kind = "other"
					de.Values = append(de.Values, describe(x))
					continue
				}
				topic, _ := jcoll.String(t[0])
				part, _ := jcoll.Int(t[1])
				from, _ := jcoll.Int(t[2])
				until, _ := jcoll.Int(t[3])
				de.Values = append(de.Values, fmt.Sprintf("%s-%d [%d, %d)", topic, part, from, until))
			}
		} else {
			de.Values = append(de.Values, describe(e.Value))
		}
		d.Entries = append(d.Entries, de)
	}
	return d
}

// function recognises a function object in a field.
func function(name, typ string, n javaser.Node, skipPython bool) *Function {
	o := object(n)
	if o == nil {
		return nil
	}
	c := o.ClassName()
	isFunc := strings.HasPrefix(typ, "Lscala/Function") || strings.HasPrefix(typ, "Lorg/apache/spark/api/java/function/") ||
		c == "java.lang.invoke.SerializedLambda" || strings.Contains(c, "$anonfun$") || strings.Contains(c, "$$Lambda") ||
		c == transformFunction || strings.HasSuffix(typ, "/TransformFunction;")
	if !isFunc {
		return nil
	}
	f := &Function{Field: name, Class: c}
	if c == "java.lang.invoke.SerializedLambda" {
		ic, _ := jcoll.String(field(o, "implClass"))
		im, _ := jcoll.String(field(o, "implMethodName"))
		f.Impl = strings.ReplaceAll(ic, "/", ".") + "." + im
	}
	if tf := findTransformFunction(o, 0, map[*javaser.Object]bool{}); tf != nil {
		if skipPython {
			f.Python = &PythonFunction{Object: tf, Strings: []PickleString{}}
		} else {
			f.Python = pythonFunction(tf)
		}
	}
	return f
}

const transformFunction = "org.apache.spark.streaming.api.python.TransformFunction"

// findTransformFunction looks for a PySpark TransformFunction in a function
// object and what it captures (a Scala 2.11 anonfun's func$1, a 2.12
// SerializedLambda's capturedArgs), not descending into DStreams.
func findTransformFunction(o *javaser.Object, depth int, seen map[*javaser.Object]bool) *javaser.Object {
	if o == nil || depth > 4 || seen[o] || isDStream(o) {
		return nil
	}
	seen[o] = true
	if o.ClassName() == transformFunction {
		return o
	}
	for i := range o.Data {
		for _, v := range o.Data[i].Values {
			if v.Obj == nil {
				continue
			}
			if tf := findTransformFunction(object(v.Obj), depth+1, seen); tf != nil {
				return tf
			}
			if a, ok := javaser.Resolve(v.Obj).(*javaser.Array); ok {
				for _, e := range a.Elems {
					if tf := findTransformFunction(object(e), depth+1, seen); tf != nil {
						return tf
					}
				}
			}
		}
	}
	return nil
}

// TransformFunctionData returns the block-data run holding a
// TransformFunction's i32 length + pickle (spec §4.6), or nil.
func TransformFunctionData(o *javaser.Object) *javaser.BlockData {
	for i := range o.Data {
		if o.Data[i].Class.Name() != transformFunction {
			continue
		}
		for _, n := range o.Data[i].Annotation {
			if bd, ok := n.(*javaser.BlockData); ok {
				return bd
			}
		}
	}
	return nil
}

func pythonFunction(tf *javaser.Object) *PythonFunction {
	pf := &PythonFunction{Object: tf, Strings: []PickleString{}}
	bd := TransformFunctionData(tf)
	if bd == nil || len(bd.Data) < 4 {
		pf.Error = "no pickle data"
		return pf
	}
	n := int(int32(binary.BigEndian.Uint32(bd.Data)))
	if n < 0 || 4+n > len(bd.Data) {
		pf.Error = fmt.Sprintf("pickle length %d does not fit the %d bytes of block data", n, len(bd.Data)-4)
		return pf
	}
	pf.PickleBytes = n
	p, err := pickle.Parse(bd.Data[4 : 4+n])
	if err != nil {
		pf.Error = err.Error()
		return pf
	}
	pf.Pickle = p
	pf.PickleProtocol = p.Protocol
	for _, s := range p.Strings() {
		if s.Kind == "bytes" {
			continue
		}
		pf.Strings = append(pf.Strings, PickleString{Offset: s.Off, Opcode: s.Opcode, Value: s.Value})
	}
	return pf
}

// storageLevel renders a StorageLevel (Externalizable: flags byte and
// replication byte, spec §4.8) the way Spark names them.
func storageLevel(n javaser.Node) string {
	o := object(n)
	if o == nil || len(o.Data) == 0 {
		return ""
	}
	var b []byte
	for _, a := range o.Data[0].Annotation {
		if bd, ok := a.(*javaser.BlockData); ok {
			b = bd.Data
		}
	}
	if len(b) < 2 {
		return ""
	}
	flags, repl := b[0], b[1]
	names := map[byte]string{0: "NONE", 8: "DISK_ONLY", 4 | 1: "MEMORY_ONLY", 4: "MEMORY_ONLY_SER", 8 | 4 | 1: "MEMORY_AND_DISK",
		8 | 4: "MEMORY_AND_DISK_SER", 2 | 8 | 4: "OFF_HEAP"}
	name, ok := names[flags]
	if !ok {
		name = fmt.Sprintf("StorageLevel(flags=%#x)", flags)
	}
	if repl > 1 {
		name += "_" + strconv.Itoa(int(repl))
	}
	return name
}

// scopeName returns the "name" of a baseScope Option[String] holding
// RDDOperationScope JSON.
func scopeName(n javaser.Node) string {
	v, some, ok := jcoll.Option(n)
	if !ok || !some {
		return ""
	}
	js, ok := jcoll.String(v)
	if !ok {
		return ""
	}
	var scope struct {
		Name string `json:"name"`
	}
	if json.Unmarshal([]byte(js), &scope) != nil {
		return ""
	}
	return scope.Name
}

func simpleClass(c string) string {
	if i := strings.LastIndexByte(c, '.'); i >= 0 {
		return c[i+1:]
	}
	return c
}

// describe summarises a value in a few words for attributes.
func describe(n javaser.Node) string {
	switch x := javaser.Resolve(n).(type) {
	case *javaser.String:
		return x.Value()
	case *javaser.Object:
		if v, ok := jcoll.Int(x); ok {
			return strconv.FormatInt(v, 10)
		}
		return simpleClass(x.ClassName())
	case *javaser.Array:
		return fmt.Sprintf("%s[%d]", x.Class.Name(), x.Length)
	case *javaser.Null:
		return "null"
	}
	return javaser.KindOf(n)
}
