// Package jcoll reads Java and Scala collections, options, tuples and boxed
// values out of a javaser object tree, whatever Scala version wrote them
// (spec dstream-format.md §4.7). It is the one collections layer every
// semantic decoder (write-ahead logs, DStream checkpoints) goes through.
//
// Supported layouts:
//
//	sequences  Object arrays; java.util.ArrayList, Arrays$ArrayList, LinkedList;
//	           Scala 2.10 "::" and Nil$; 2.11/2.12 List$SerializationProxy;
//	           mutable.ArrayBuffer, ArraySeq (2.12 and 2.13 ofRef), WrappedArray$ofRef,
//	           immutable.ArraySeq$ofRef, Vector (≤2.12), mutable.Queue/MutableList/LinkedList;
//	           2.13 DefaultSerializationProxy
//	maps       mutable.HashMap/LinkedHashMap (≤2.12), immutable Map1..Map4 and EmptyMap,
//	           immutable.HashMap$SerializationProxy (2.11/2.12), 2.13
//	           DefaultSerializationProxy of Tuple2, java.util.HashMap/LinkedHashMap/Hashtable
//	options    scala.Some (field x or value), scala.None$, 2.13 ModuleSerializationProxy(None$)
//	tuples     scala.Tuple1..Tuple22 (fields _1.._N)
//	boxes      java.lang.Byte/Short/Integer/Long/Boolean/Character/Float/Double
//
// Element nodes are returned as stored (possibly *javaser.Ref), so callers
// can both read values (javaser.Resolve) and locate them for edits.
package jcoll

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"

	"github.com/sparkckpt/sparkckpt/decode/javaser"
)

// Entry is one key/value pair of a map.
type Entry struct {
	Key, Value javaser.Node
}

// object resolves n to an object, or nil.
func object(n javaser.Node) *javaser.Object {
	o, _ := javaser.Resolve(n).(*javaser.Object)
	return o
}

// field returns the object value of the named default field.
func field(o *javaser.Object, name string) javaser.Node {
	v, ok := o.Field(name)
	if !ok {
		return nil
	}
	return v.Obj
}

// intField returns a primitive integer field.
func intField(o *javaser.Object, name string) (int64, bool) {
	v, ok := o.Field(name)
	if !ok || !v.IsPrimitive() {
		return 0, false
	}
	return v.Int(), true
}

// customObjects returns the objects of the class data for class name
// (its writeObject data), skipping block data and end markers.
func customObjects(o *javaser.Object, class string) []javaser.Node {
	for i := range o.Data {
		cd := &o.Data[i]
		if cd.Class.Name() != class {
			continue
		}
		var out []javaser.Node
		for _, n := range cd.Annotation {
			if _, ok := n.(*javaser.BlockData); ok {
				continue
			}
			if isEndMarker(n) {
				break
			}
			out = append(out, n)
		}
		return out
	}
	return nil
}

// customBlock returns the first block-data run of the class data for class.
func customBlock(o *javaser.Object, class string) []byte {
	for i := range o.Data {
		if o.Data[i].Class.Name() != class {
			continue
		}
		for _, n := range o.Data[i].Annotation {
			if bd, ok := n.(*javaser.BlockData); ok {
				return bd.Data
			}
		}
	}
	return nil
}

// moduleName is the class of the Scala object (module) o stands for: its
// own class, or for Scala 2.13's ModuleSerializationProxy, which 2.13
// writes in place of a module (SerializeEnd$, Nil$, None$), the class in
// its moduleClass field.
func moduleName(o *javaser.Object) string {
	if o.ClassName() == "scala.runtime.ModuleSerializationProxy" {
		if c, ok := javaser.Resolve(field(o, "moduleClass")).(*javaser.Class); ok && c.Class != nil {
			return c.Class.Name()
		}
	}
	return o.ClassName()
}

func isEndMarker(n javaser.Node) bool {
	o := object(n)
	if o == nil {
		return false
	}
	switch moduleName(o) {
	case "scala.collection.immutable.ListSerializeEnd$", "scala.collection.generic.SerializeEnd$":
		return true
	}
	return false
}

// arrayElems returns the elements of an object array.
func arrayElems(n javaser.Node) ([]javaser.Node, bool) {
	a, ok := javaser.Resolve(n).(*javaser.Array)
	if !ok || a.Elems == nil && a.Length > 0 {
		return nil, false
	}
	return a.Elems, true
}

// Seq returns the elements of a sequence-like collection.
func Seq(n javaser.Node) ([]javaser.Node, bool) {
	if elems, ok := arrayElems(n); ok {
		return elems, true
	}
	o := object(n)
	if o == nil {
		return nil, false
	}
	name := moduleName(o)
	switch name {
	case "scala.collection.immutable.Nil$", "scala.collection.immutable.List$EmptyList$":
		return nil, true
	case "scala.collection.immutable.List$SerializationProxy", "scala.collection.immutable.$colon$colon":
		return customObjects(o, name), true
	case "scala.collection.generic.DefaultSerializationProxy":
		return proxyElems(o), true
	case "java.util.ArrayList", "java.util.LinkedList", "java.util.ArrayDeque", "java.util.HashSet", "java.util.LinkedHashSet":
		return customObjects(o, name), true
	case "java.util.Arrays$ArrayList":
		return arrayElems(field(o, "a"))
	case "scala.collection.mutable.ArrayBuffer":
		size, ok := intField(o, "size0")
		elems, ok2 := arrayElems(field(o, "array"))
		if !ok || !ok2 || size < 0 || size > int64(len(elems)) {
			return nil, false
		}
		return elems[:size], true
	case "scala.collection.mutable.ArraySeq":
		size, ok := intField(o, "length")
		elems, ok2 := arrayElems(field(o, "array"))
		if !ok || !ok2 || size < 0 || size > int64(len(elems)) {
			return nil, false
		}
		return elems[:size], true
	case "scala.collection.immutable.Vector":
		return vectorElems(o)
	case "scala.collection.mutable.Queue", "scala.collection.mutable.MutableList":
		n, ok := intField(o, "len")
		if !ok {
			return nil, false
		}
		return linkedElems(field(o, "first0"), n)
	case "scala.collection.mutable.LinkedList":
		return linkedElems(o, -1)
	}
	if strings.HasSuffix(name, "$ofRef") || strings.HasPrefix(name, "scala.collection.mutable.WrappedArray$") ||
		strings.HasPrefix(name, "scala.collection.immutable.ArraySeq$") || strings.HasPrefix(name, "scala.collection.mutable.ArraySeq$") {
		for _, f := range []string{"array", "unsafeArray"} {
			if elems, ok := arrayElems(field(o, f)); ok {
				return elems, true
			}
		}
	}
	return nil, false
}

// proxyElems reads a Scala 2.13 DefaultSerializationProxy: factory field,
// then block data i32 knownSize, then elements (until SerializeEnd$ when
// knownSize is -1) (spec §4.7).
func proxyElems(o *javaser.Object) []javaser.Node {
	return customObjects(o, "scala.collection.generic.DefaultSerializationProxy")
}

// linkedElems walks a scala.collection.mutable.LinkedList: elem/next cells,
// the empty cell pointing to itself. n < 0 means "until the empty cell".
func linkedElems(start javaser.Node, n int64) ([]javaser.Node, bool) {
	var out []javaser.Node
	seen := map[*javaser.Object]bool{}
	for cell := object(start); cell != nil && (n < 0 || int64(len(out)) < n); {
		if seen[cell] {
			break
		}
		seen[cell] = true
		next := object(field(cell, "next"))
		if next == nil || next == cell {
			// The empty terminal cell (next is itself or null) holds no element.
			if n >= 0 && int64(len(out)) < n {
				out = append(out, field(cell, "elem"))
			}
			break
		}
		out = append(out, field(cell, "elem"))
		cell = next
	}
	if n >= 0 && int64(len(out)) != n {
		return nil, false
	}
	return out, true
}

// vectorElems reads scala.collection.immutable.Vector (Scala ≤2.12): a
// radix-32 tree in display0..display5 indexed from startIndex to endIndex.
func vectorElems(o *javaser.Object) ([]javaser.Node, bool) {
	depth, ok1 := intField(o, "depth")
	start, ok2 := intField(o, "startIndex")
	end, ok3 := intField(o, "endIndex")
	if !ok1 || !ok2 || !ok3 || depth < 0 || depth > 6 || start < 0 || end < start {
		return nil, false
	}
	if depth == 0 || end == start {
		return nil, true
	}
	root := field(o, "display"+strconv.Itoa(int(depth-1)))
	// Display arrays may refer to each other by handle, so a corrupt
	// Vector could claim far more elements than the stream holds: bound
	// the count by the distinct leaf arrays actually present.
	if leaves := countLeaves(root, depth-1, map[*javaser.Array]bool{}); end-start > 32*leaves {
		return nil, false
	}
	out := make([]javaser.Node, 0, end-start)
	for i := start; i < end; i++ {
		node := root
		for level := depth - 1; level >= 1; level-- {
			elems, ok := arrayElems(node)
			idx := (i >> (5 * level)) & 31
			if !ok || idx >= int64(len(elems)) {
				return nil, false
			}
			node = elems[idx]
		}
		elems, ok := arrayElems(node)
		if !ok || i&31 >= int64(len(elems)) {
			return nil, false
		}
		out = append(out, elems[i&31])
	}
	return out, true
}

// countLeaves counts the distinct leaf arrays of a Vector display tree.
func countLeaves(n javaser.Node, level int64, seen map[*javaser.Array]bool) int64 {
	a, ok := javaser.Resolve(n).(*javaser.Array)
	if !ok || seen[a] {
		return 0
	}
	seen[a] = true
	if level == 0 {
		return 1
	}
	var total int64
	for _, e := range a.Elems {
		total += countLeaves(e, level-1, seen)
	}
	return total
}

// Map returns the entries of a map-like collection, in stream order.
func Map(n javaser.Node) ([]Entry, bool) {
	o := object(n)
	if o == nil {
		return nil, false
	}
	name := o.ClassName()
	switch name {
	case "scala.collection.mutable.HashMap", "scala.collection.mutable.LinkedHashMap",
		"scala.collection.immutable.HashMap$SerializationProxy", "scala.collection.immutable.HashMap$HashTrieMap",
		"java.util.HashMap", "java.util.LinkedHashMap", "java.util.Hashtable", "java.util.TreeMap",
		"java.util.concurrent.ConcurrentHashMap":
		cls := name
		if name == "java.util.LinkedHashMap" {
			cls = "java.util.HashMap" // LinkedHashMap inherits HashMap's writeObject
		}
		return pairs(customObjects(o, cls))
	case "scala.collection.immutable.Map$EmptyMap$", "scala.collection.immutable.HashMap$EmptyHashMap$":
		return nil, true
	case "scala.collection.generic.DefaultSerializationProxy":
		var out []Entry
		for _, e := range proxyElems(o) {
			t, ok := Tuple(e)
			if !ok || len(t) != 2 {
				return nil, false
			}
			out = append(out, Entry{t[0], t[1]})
		}
		return out, true
	}
	if strings.HasPrefix(name, "scala.collection.immutable.Map$Map") && len(name) == len("scala.collection.immutable.Map$Map1") {
		k := int(name[len(name)-1] - '0')
		out := make([]Entry, 0, k)
		for i := 1; i <= k; i++ {
			out = append(out, Entry{field(o, "key"+strconv.Itoa(i)), field(o, "value"+strconv.Itoa(i))})
		}
		return out, true
	}
	return nil, false
}

// pairs groups k1, v1, k2, v2, ... into entries; a trailing null/null pair
// (ConcurrentHashMap's terminator) is dropped.
func pairs(objs []javaser.Node) ([]Entry, bool) {
	if len(objs)%2 != 0 {
		return nil, false
	}
	out := make([]Entry, 0, len(objs)/2)
	for i := 0; i < len(objs); i += 2 {
		_, kn := objs[i].(*javaser.Null)
		_, vn := objs[i+1].(*javaser.Null)
		if kn && vn && i+2 == len(objs) {
			break
		}
		out = append(out, Entry{objs[i], objs[i+1]})
	}
	return out, true
}

// Option reads scala.Option: (value, true, true) for Some, (nil, false, true)
// for None, ok false for anything else.
func Option(n javaser.Node) (value javaser.Node, some bool, ok bool) {
	o := object(n)
	if o == nil {
		return nil, false, false
	}
	switch o.ClassName() {
	case "scala.Some":
		for _, f := range []string{"value", "x"} {
			if v, ok := o.Field(f); ok {
				return v.Obj, true, true
			}
		}
		return nil, false, false
	case "scala.None$":
		return nil, false, true
	case "scala.runtime.ModuleSerializationProxy":
		if moduleName(o) == "scala.None$" {
			return nil, false, true
		}
	}
	return nil, false, false
}

// Tuple returns the elements of a scala.TupleN.
func Tuple(n javaser.Node) ([]javaser.Node, bool) {
	o := object(n)
	if o == nil || !strings.HasPrefix(o.ClassName(), "scala.Tuple") {
		return nil, false
	}
	k, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(o.ClassName(), "scala.Tuple"), "$mcII$sp"))
	if err != nil || k < 1 || k > 22 {
		return nil, false
	}
	out := make([]javaser.Node, k)
	for i := range out {
		v, ok := o.Field("_" + strconv.Itoa(i+1))
		if !ok {
			return nil, false
		}
		out[i] = v.Obj
		if v.IsPrimitive() {
			out[i] = nil
		}
	}
	return out, true
}

// Int returns the value of a boxed java.lang.Byte, Short, Integer, Long or Character.
func Int(n javaser.Node) (int64, bool) {
	o := object(n)
	if o == nil {
		return 0, false
	}
	switch o.ClassName() {
	case "java.lang.Byte", "java.lang.Short", "java.lang.Integer", "java.lang.Long", "java.lang.Character":
		return intField(o, "value")
	}
	return 0, false
}

// Float returns the value of a boxed java.lang.Float or Double.
func Float(n javaser.Node) (float64, bool) {
	o := object(n)
	if o == nil {
		return 0, false
	}
	v, ok := o.Field("value")
	if !ok {
		return 0, false
	}
	switch o.ClassName() {
	case "java.lang.Float":
		return float64(math.Float32frombits(uint32(v.Bits))), true
	case "java.lang.Double":
		return math.Float64frombits(v.Bits), true
	}
	return 0, false
}

// Bool returns the value of a boxed java.lang.Boolean.
func Bool(n javaser.Node) (bool, bool) {
	o := object(n)
	if o == nil || o.ClassName() != "java.lang.Boolean" {
		return false, false
	}
	v, ok := o.Field("value")
	return ok && v.Bits != 0, ok
}

// String returns the value of a string node (or a reference to one).
func String(n javaser.Node) (string, bool) {
	s := javaser.ResolveString(n)
	if s == nil {
		return "", false
	}
	return s.Value(), true
}

// Long returns a primitive long/int field of o, e.g. Spark's Time.millis
// whose name varies by Scala version: the first of names that exists wins.
func Long(o *javaser.Object, names ...string) (int64, bool) {
	for _, n := range names {
		if v, ok := intField(o, n); ok {
			return v, true
		}
	}
	return 0, false
}

// FieldSuffix returns the value of the first default field whose name is
// name or ends with "$"+name: Scala mangles private fields by version
// (e.g. org$apache$spark$streaming$Time$$millis vs millis, spec §3.4).
func FieldSuffix(o *javaser.Object, name string) (javaser.Value, bool) {
	if v, ok := o.Field(name); ok {
		return v, true
	}
	for i := len(o.Data) - 1; i >= 0; i-- {
		cd := &o.Data[i]
		for j, v := range cd.Values {
			if j < len(cd.Class.Fields) && strings.HasSuffix(cd.Class.Fields[j].Name(), "$"+name) {
				return v, true
			}
		}
	}
	return javaser.Value{}, false
}

// BlockInt32 reads the big-endian int32 at off of o's custom block data
// for class, e.g. a java.util.ArrayList's capacity.
func BlockInt32(o *javaser.Object, class string, off int) (int32, bool) {
	b := customBlock(o, class)
	if off < 0 || off+4 > len(b) {
		return 0, false
	}
	return int32(binary.BigEndian.Uint32(b[off:])), true
}
