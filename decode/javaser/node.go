package javaser

// Type codes (spec dstream-format.md §3.1; java.io.ObjectStreamConstants).
const (
	TCNull           byte = 0x70
	TCReference      byte = 0x71
	TCClassDesc      byte = 0x72
	TCObject         byte = 0x73
	TCString         byte = 0x74
	TCArray          byte = 0x75
	TCClass          byte = 0x76
	TCBlockData      byte = 0x77
	TCEndBlockData   byte = 0x78
	TCReset          byte = 0x79
	TCBlockDataLong  byte = 0x7A
	TCException      byte = 0x7B
	TCLongString     byte = 0x7C
	TCProxyClassDesc byte = 0x7D
	TCEnum           byte = 0x7E
)

// Class-descriptor flags (spec §3.1).
const (
	SCWriteMethod    byte = 0x01
	SCSerializable   byte = 0x02
	SCExternalizable byte = 0x04
	SCBlockData      byte = 0x08
	SCEnum           byte = 0x10
)

// Stream header values (spec §3.1).
const (
	StreamMagic   uint16 = 0xACED
	StreamVersion uint16 = 5
	// BaseHandle is the first handle the JDK assigns, and the first after each TC_RESET.
	BaseHandle int32 = 0x7E0000
)

// MaxBlockChunk is the largest block-data record ObjectOutputStream writes (spec §3.6).
const MaxBlockChunk = 1024

// Node is one element of a parsed stream. The concrete types are
// *Object, *ClassDesc, *String, *Array, *Enum, *Class, *Ref, *Null,
// *Reset, *BlockData, *Raw and *Exception.
type Node interface {
	// Offset is the byte offset of the node's type code in the stream it
	// was parsed from (the magic is at offset 0). Nodes created or edited
	// after parsing keep their original offset.
	Offset() int64
	node()
}

// Null is TC_NULL.
type Null struct{ Off int64 }

// Reset is TC_RESET: the handle table is cleared and the next handle is BaseHandle again.
type Reset struct{ Off int64 }

// Ref is TC_REFERENCE: a back-reference to a node read earlier.
type Ref struct {
	Off    int64
	Handle int32 // the wire handle, e.g. 0x7E0003
	Target Node  // the node the handle was assigned to
}

// String is TC_STRING or TC_LONGSTRING. Raw holds the modified UTF-8 bytes
// exactly as read (spec §3.7); Long records which tag was read.
type String struct {
	Off    int64
	Handle int32
	Long   bool
	Raw    []byte
}

// FieldDesc is one field of a class descriptor, in stream order
// (primitives first, then objects, each sorted by name: spec §3.4).
type FieldDesc struct {
	Type    byte   // 'B','C','D','F','I','J','S','Z' (primitive), '[' or 'L' (object)
	NameRaw []byte // modified UTF-8
	// ClassName is the JVM type descriptor of an object field, a *String or
	// a *Ref to one; nil for primitive fields.
	ClassName Node

	name string // NameRaw decoded once, at parse time
}

// ClassDesc is TC_CLASSDESC or TC_PROXYCLASSDESC.
type ClassDesc struct {
	Off        int64
	Handle     int32
	Proxy      bool   // TC_PROXYCLASSDESC
	Flags      byte   // SC_* flags
	Aborted    bool   // a TC_EXCEPTION inside the annotation cut the descriptor short
	NameRaw    []byte // class name (modified UTF-8); empty for a proxy
	SUID       int64  // serialVersionUID
	Fields     []FieldDesc
	Interfaces [][]byte // proxy interface names (modified UTF-8)
	Annotation []Node   // classAnnotation contents before TC_ENDBLOCKDATA
	Super      Node     // *ClassDesc, *Ref to one, or *Null

	name  string       // NameRaw decoded once, at parse time
	chain []*ClassDesc // the serializable hierarchy, topmost first, once computed
}

// Value is one default field value of a ClassData.
type Value struct {
	Type byte   // the field's type code
	Bits uint64 // a primitive's bits (big-endian value as read), for primitive types
	Obj  Node   // the value, for '[' and 'L' fields
}

// ClassData is the data written for one class of an object's hierarchy
// (spec §3.2 classdata), or the external data of an Externalizable object.
type ClassData struct {
	Class *ClassDesc
	// Values are the default field values in descriptor order. Empty when the
	// class's writeObject did not call defaultWriteObject (see DefaultFields).
	Values []Value
	// DefaultFields reports whether Values were written. False only for an
	// SC_WRITE_METHOD class whose writeObject skipped defaultWriteObject.
	DefaultFields bool
	// HasAnnotation reports whether custom data terminated by
	// TC_ENDBLOCKDATA follows (SC_WRITE_METHOD, or Externalizable with SC_BLOCK_DATA).
	HasAnnotation bool
	// Aborted reports that a TC_EXCEPTION cut this data short: it ends
	// after its last element, with no TC_ENDBLOCKDATA.
	Aborted bool
	// Annotation is that custom data: block data and objects.
	Annotation []Node
	// External holds protocol-1 Externalizable data (no SC_BLOCK_DATA): raw
	// primitive bytes as *Raw nodes and the objects written inline. Such data
	// has no framing; see Options.ExternalSize for how its end is found.
	External []Node
}

// Object is TC_OBJECT.
type Object struct {
	Off     int64
	Desc    Node       // *ClassDesc or *Ref to one, as written
	Class   *ClassDesc // Desc resolved
	Handle  int32
	Aborted bool // a TC_EXCEPTION interrupted writing this object
	// Data has one entry per serializable class, topmost superclass first;
	// for an Externalizable object, exactly one.
	Data []ClassData
}

// Array is TC_ARRAY.
type Array struct {
	Off    int64
	Desc   Node
	Class  *ClassDesc
	Handle int32
	Length int32
	// Elem is the component type code, from the class name: a primitive
	// code, or '[' / 'L' for object arrays.
	Elem    byte
	Aborted bool // a TC_EXCEPTION interrupted writing the elements
	// Prims holds a primitive array's elements as packed big-endian bytes.
	Prims []byte
	// Elems holds an object array's elements.
	Elems []Node
}

// Enum is TC_ENUM.
type Enum struct {
	Off      int64
	Desc     Node
	Class    *ClassDesc
	Handle   int32
	Constant Node // *String or *Ref to one
}

// Class is TC_CLASS: a java.lang.Class object.
type Class struct {
	Off    int64
	Desc   Node
	Class  *ClassDesc
	Handle int32
}

// Chunk is one TC_BLOCKDATA (Long false) or TC_BLOCKDATALONG (Long true) record.
type Chunk struct {
	Long bool
	Len  int
}

// BlockData is a run of consecutive block-data records (spec §3.6). Data
// is the concatenated payload; Chunks the records as read. After SetData
// the run is re-segmented as the JDK does on encode.
type BlockData struct {
	Off    int64
	Data   []byte
	Chunks []Chunk
}

// Raw is primitive data of protocol-1 Externalizable data, written with no
// block-data header.
type Raw struct {
	Off  int64
	Data []byte
}

// Exception is TC_EXCEPTION: the writer aborted and wrote the Throwable.
// The handle table is reset before and after it.
type Exception struct {
	Off       int64
	Throwable Node
}

// Stream is a parsed Java serialization stream.
type Stream struct {
	Magic    uint16
	Version  uint16
	Contents []Node

	size int // length of the stream Parse read, a capacity hint for Encode
}

func (n *Null) Offset() int64      { return n.Off }
func (n *Reset) Offset() int64     { return n.Off }
func (n *Ref) Offset() int64       { return n.Off }
func (n *String) Offset() int64    { return n.Off }
func (n *ClassDesc) Offset() int64 { return n.Off }
func (n *Object) Offset() int64    { return n.Off }
func (n *Array) Offset() int64     { return n.Off }
func (n *Enum) Offset() int64      { return n.Off }
func (n *Class) Offset() int64     { return n.Off }
func (n *BlockData) Offset() int64 { return n.Off }
func (n *Exception) Offset() int64 { return n.Off }
func (n *Raw) Offset() int64       { return n.Off }

func (*Null) node()      {}
func (*Reset) node()     {}
func (*Ref) node()       {}
func (*String) node()    {}
func (*ClassDesc) node() {}
func (*Object) node()    {}
func (*Array) node()     {}
func (*Enum) node()      {}
func (*Class) node()     {}
func (*BlockData) node() {}
func (*Exception) node() {}
func (*Raw) node()       {}

// Value returns the string's value decoded from modified UTF-8.
func (s *String) Value() string { return DecodeMUTF8(s.Raw) }

// SetValue replaces the string's value. Every TC_REFERENCE to this string
// sees the new value. The tag follows the JDK's rule (spec §3.7):
// TC_STRING up to 65535 bytes of modified UTF-8, TC_LONGSTRING beyond.
func (s *String) SetValue(v string) {
	s.Raw = EncodeMUTF8(v)
	s.Long = len(s.Raw) > 0xFFFF
}

// Name returns the class name (for a proxy, "<proxy>").
func (c *ClassDesc) Name() string {
	if c.Proxy {
		return "<proxy>"
	}
	if c.name != "" {
		return c.name
	}
	return DecodeMUTF8(c.NameRaw)
}

// SuperDesc returns the resolved superclass descriptor, or nil.
func (c *ClassDesc) SuperDesc() *ClassDesc { return ResolveDesc(c.Super) }

// Name returns the field's name.
func (f *FieldDesc) Name() string {
	if f.name != "" {
		return f.name
	}
	return DecodeMUTF8(f.NameRaw)
}

// TypeName returns the field's JVM type descriptor: the single primitive
// code, or the descriptor string of an object field ("Ljava/lang/String;").
func (f *FieldDesc) TypeName() string {
	if f.ClassName == nil {
		return string(f.Type)
	}
	if s := ResolveString(f.ClassName); s != nil {
		return s.Value()
	}
	return string(f.Type)
}

// SetData replaces the run's payload. On encode it is cut into 1024-byte
// records, each written as TC_BLOCKDATA when it is at most 255 bytes long
// and TC_BLOCKDATALONG otherwise, as ObjectOutputStream does.
func (b *BlockData) SetData(d []byte) {
	b.Data = d
	b.Chunks = nil
}

// Resolve follows a *Ref to its target; other nodes are returned unchanged.
func Resolve(n Node) Node {
	if r, ok := n.(*Ref); ok {
		return r.Target
	}
	return n
}

// ResolveDesc returns the class descriptor n is or refers to, or nil.
func ResolveDesc(n Node) *ClassDesc {
	c, _ := Resolve(n).(*ClassDesc)
	return c
}

// ResolveString returns the string n is or refers to, or nil.
func ResolveString(n Node) *String {
	s, _ := Resolve(n).(*String)
	return s
}

// Field returns the value of the named default field, searching the
// object's class data from the concrete class up (so an overriding
// subclass field wins). ok is false if no class has such a field.
func (o *Object) Field(name string) (Value, bool) {
	for i := len(o.Data) - 1; i >= 0; i-- {
		cd := &o.Data[i]
		for j := range cd.Values {
			if j < len(cd.Class.Fields) && string(cd.Class.Fields[j].NameRaw) == name {
				return cd.Values[j], true
			}
		}
	}
	return Value{}, false
}

// ClassName returns the name of the object's class.
func (o *Object) ClassName() string {
	if o.Class == nil {
		return ""
	}
	return o.Class.Name()
}

// Int returns a 'B','C','I','S' or 'Z' value as int64 (sign-extended where the type is signed).
func (v Value) Int() int64 {
	switch v.Type {
	case 'B':
		return int64(int8(v.Bits))
	case 'S':
		return int64(int16(v.Bits))
	case 'I':
		return int64(int32(v.Bits))
	case 'C', 'Z':
		return int64(v.Bits)
	}
	return int64(v.Bits)
}

// IsPrimitive reports whether the value is of a primitive type.
func (v Value) IsPrimitive() bool { return v.Obj == nil && isPrimCode(v.Type) }

func isPrimCode(c byte) bool {
	switch c {
	case 'B', 'C', 'D', 'F', 'I', 'J', 'S', 'Z':
		return true
	}
	return false
}

// primSize returns the wire size of a primitive type code, or 0.
func primSize(c byte) int {
	switch c {
	case 'B', 'Z':
		return 1
	case 'C', 'S':
		return 2
	case 'I', 'F':
		return 4
	case 'J', 'D':
		return 8
	}
	return 0
}
