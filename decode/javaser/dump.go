package javaser

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// DumpOptions control Dump.
type DumpOptions struct {
	// MaxString truncates string values longer than this many characters
	// in the text dump (0: 160). Negative: never truncate.
	MaxString int
	// MaxBytes limits the hex shown for block data and byte arrays (0: 32).
	// Negative: show everything.
	MaxBytes int
}

// Dump writes a readable tree of the stream to w: every node with its
// byte offset, handle, class and field names and values. Class
// descriptors are shown in full where they are defined and by name where
// they are referenced.
func Dump(w io.Writer, s *Stream, o DumpOptions) error {
	if o.MaxString == 0 {
		o.MaxString = 160
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = 32
	}
	d := &dumper{o: o}
	fmt.Fprintf(&d.b, "stream magic=0x%04X version=%d contents=%d\n", s.Magic, s.Version, len(s.Contents))
	for i, n := range s.Contents {
		d.node(0, fmt.Sprintf("[%d]", i), n)
	}
	_, err := io.WriteString(w, d.b.String())
	return err
}

type dumper struct {
	b strings.Builder
	o DumpOptions
}

func (d *dumper) line(depth int, label, format string, args ...any) {
	d.b.WriteString(strings.Repeat("  ", depth))
	if label != "" {
		d.b.WriteString(label)
		d.b.WriteString(" = ")
	}
	fmt.Fprintf(&d.b, format, args...)
	d.b.WriteByte('\n')
}

func at(n Node) string { return fmt.Sprintf("@%#x", n.Offset()) }

func (d *dumper) quote(s string) string {
	r := []rune(s)
	if d.o.MaxString > 0 && len(r) > d.o.MaxString {
		return strconv.Quote(string(r[:d.o.MaxString])) + fmt.Sprintf("…(%d chars)", len(r))
	}
	return strconv.Quote(s)
}

func (d *dumper) hexBytes(b []byte) string {
	if d.o.MaxBytes > 0 && len(b) > d.o.MaxBytes {
		return hex.EncodeToString(b[:d.o.MaxBytes]) + "…"
	}
	return hex.EncodeToString(b)
}

func (d *dumper) node(depth int, label string, n Node) {
	switch n := n.(type) {
	case *Null:
		d.line(depth, label, "null %s", at(n))
	case *Reset:
		d.line(depth, label, "RESET %s (handles restart at %#x)", at(n), BaseHandle)
	case *Ref:
		d.line(depth, label, "ref %#x %s -> %s", n.Handle, at(n), describe(n.Target))
	case *String:
		tag := "string"
		if n.Long {
			tag = "longstring"
		}
		d.line(depth, label, "%s %#x %s %s", tag, n.Handle, at(n), d.quote(n.Value()))
	case *ClassDesc:
		d.desc(depth, label, n)
	case *Object:
		d.object(depth, label, n)
	case *Array:
		d.array(depth, label, n)
	case *Enum:
		d.line(depth, label, "enum %s %#x %s %s", descName(n.Desc), n.Handle, at(n), d.quote(stringOf(n.Constant)))
		d.newDesc(depth+1, n.Desc)
	case *Class:
		d.line(depth, label, "class %s %#x %s", descName(n.Desc), n.Handle, at(n))
		d.newDesc(depth+1, n.Desc)
	case *BlockData:
		d.line(depth, label, "blockdata %s %d bytes in %d record(s): %s", at(n), len(n.Data), len(n.Chunks), d.hexBytes(n.Data))
	case *Raw:
		d.line(depth, label, "raw %s %d bytes: %s", at(n), len(n.Data), d.hexBytes(n.Data))
	case *Exception:
		d.line(depth, label, "EXCEPTION %s (writer aborted)", at(n))
		d.node(depth+1, "throwable", n.Throwable)
	}
}

// newDesc shows a descriptor defined in place (not a reference).
func (d *dumper) newDesc(depth int, n Node) {
	if c, ok := n.(*ClassDesc); ok {
		d.desc(depth, "desc", c)
	}
}

func (d *dumper) desc(depth int, label string, c *ClassDesc) {
	if c.Proxy {
		names := make([]string, len(c.Interfaces))
		for i, x := range c.Interfaces {
			names[i] = DecodeMUTF8(x)
		}
		d.line(depth, label, "proxyclassdesc %#x %s interfaces=[%s]", c.Handle, at(c), strings.Join(names, ", "))
	} else {
		d.line(depth, label, "classdesc %s %#x %s suid=%d flags=%s fields=%d", c.Name(), c.Handle, at(c), c.SUID, FlagString(c.Flags), len(c.Fields))
		for i := range c.Fields {
			f := &c.Fields[i]
			if f.ClassName != nil {
				if s, ok := f.ClassName.(*String); ok {
					d.line(depth+1, "", "field %c %s %s (type string %#x)", f.Type, f.Name(), s.Value(), s.Handle)
					continue
				}
			}
			d.line(depth+1, "", "field %c %s %s", f.Type, f.Name(), f.TypeName())
		}
	}
	for i, a := range c.Annotation {
		d.node(depth+1, fmt.Sprintf("annotation{%d}", i), a)
	}
	if c.Super != nil {
		if _, isNull := c.Super.(*Null); !isNull {
			if sc, ok := c.Super.(*ClassDesc); ok {
				d.desc(depth+1, "super", sc)
			} else {
				d.line(depth+1, "super", "%s", describe(c.Super))
			}
		}
	}
}

func (d *dumper) object(depth int, label string, o *Object) {
	extra := ""
	if o.Aborted {
		extra = " (aborted)"
	}
	d.line(depth, label, "object %s %#x %s%s", o.ClassName(), o.Handle, at(o), extra)
	d.newDesc(depth+1, o.Desc)
	multi := len(o.Data) > 1
	for i := range o.Data {
		cd := &o.Data[i]
		fd := depth + 1
		if multi && (len(cd.Values) > 0 || len(cd.Annotation) > 0 || cd.External != nil) {
			d.line(fd, "", "[%s]", cd.Class.Name())
			fd++
		}
		for j, v := range cd.Values {
			name := "?"
			if j < len(cd.Class.Fields) {
				name = cd.Class.Fields[j].Name()
			}
			if v.Obj != nil {
				d.node(fd, name, v.Obj)
			} else {
				d.line(fd, name, "%s", PrimString(v.Type, v.Bits))
			}
		}
		if cd.HasAnnotation && !cd.DefaultFields && len(cd.Class.Fields) > 0 {
			d.line(fd, "", "(writeObject wrote no default fields)")
		}
		for j, a := range cd.Annotation {
			d.node(fd, fmt.Sprintf("{%d}", j), a)
		}
		if cd.External != nil {
			d.line(fd, "", "(protocol-1 external data, %d part(s))", len(cd.External))
			for j, x := range cd.External {
				d.node(fd, fmt.Sprintf("{%d}", j), x)
			}
		}
	}
}

func (d *dumper) array(depth int, label string, a *Array) {
	d.line(depth, label, "array %s %#x %s length=%d", descName(a.Desc), a.Handle, at(a), a.Length)
	d.newDesc(depth+1, a.Desc)
	if sz := primSize(a.Elem); sz > 0 {
		if a.Elem == 'B' {
			d.line(depth+1, "", "bytes: %s", d.hexBytes(a.Prims))
			return
		}
		vals := make([]string, 0, a.Length)
		for i := 0; i+sz <= len(a.Prims); i += sz {
			if d.o.MaxBytes > 0 && i >= d.o.MaxBytes*sz {
				vals = append(vals, "…")
				break
			}
			vals = append(vals, PrimString(a.Elem, beBits(a.Prims[i:i+sz])))
		}
		d.line(depth+1, "", "values: [%s]", strings.Join(vals, ", "))
		return
	}
	for i, e := range a.Elems {
		d.node(depth+1, fmt.Sprintf("[%d]", i), e)
	}
}

func beBits(b []byte) uint64 {
	var v uint64
	for _, x := range b {
		v = v<<8 | uint64(x)
	}
	return v
}

// PrimString formats a primitive value of type code t.
func PrimString(t byte, bits uint64) string {
	switch t {
	case 'B':
		return "B " + strconv.Itoa(int(int8(bits)))
	case 'S':
		return "S " + strconv.Itoa(int(int16(bits)))
	case 'I':
		return "I " + strconv.Itoa(int(int32(bits)))
	case 'J':
		return "J " + strconv.FormatInt(int64(bits), 10)
	case 'Z':
		return "Z " + strconv.FormatBool(bits != 0)
	case 'C':
		return "C " + strconv.QuoteRune(rune(bits))
	case 'F':
		return "F " + strconv.FormatFloat(float64(math.Float32frombits(uint32(bits))), 'g', -1, 32)
	case 'D':
		return "D " + strconv.FormatFloat(math.Float64frombits(bits), 'g', -1, 64)
	}
	return fmt.Sprintf("%c %#x", t, bits)
}

// FlagString renders class-descriptor flags, e.g. "SERIALIZABLE|WRITE_METHOD".
func FlagString(f byte) string {
	var parts []string
	for _, x := range []struct {
		bit  byte
		name string
	}{{SCSerializable, "SERIALIZABLE"}, {SCExternalizable, "EXTERNALIZABLE"}, {SCWriteMethod, "WRITE_METHOD"}, {SCBlockData, "BLOCK_DATA"}, {SCEnum, "ENUM"}} {
		if f&x.bit != 0 {
			parts = append(parts, x.name)
			f &^= x.bit
		}
	}
	if f != 0 {
		parts = append(parts, fmt.Sprintf("%#x", f))
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, "|")
}

func descName(n Node) string {
	if c := ResolveDesc(n); c != nil {
		return c.Name()
	}
	return "?"
}

func stringOf(n Node) string {
	if s := ResolveString(n); s != nil {
		return s.Value()
	}
	return ""
}

// describe names what a reference points to, in one short phrase.
func describe(n Node) string {
	switch n := n.(type) {
	case *String:
		v := n.Value()
		if r := []rune(v); len(r) > 60 {
			v = string(r[:60]) + "…"
		}
		return "string " + strconv.Quote(v)
	case *ClassDesc:
		return "classdesc " + n.Name()
	case *Object:
		return "object " + n.ClassName()
	case *Array:
		return "array " + descName(n.Desc)
	case *Enum:
		return "enum " + descName(n.Desc) + "." + stringOf(n.Constant)
	case *Class:
		return "class " + descName(n.Desc)
	case *Null:
		return "null"
	case *Ref:
		return fmt.Sprintf("ref %#x -> %s", n.Handle, describe(n.Target))
	}
	return KindOf(n)
}

// JSON returns a tree of plain values (maps, slices, strings, numbers)
// describing s, for encoding/json. See JSONNode for the shape of a node.
func JSON(s *Stream) map[string]any {
	out := make([]any, len(s.Contents))
	for i, n := range s.Contents {
		out[i] = JSONNode(n)
	}
	return map[string]any{"magic": fmt.Sprintf("0x%04X", s.Magic), "version": s.Version, "contents": out}
}

// JSONNode describes one node as plain values. Every node has "kind" and
// "offset"; nodes with handles have "handle" ("0x7e0003"); objects have
// "class" and "classdata" (per class: "class", "fields" as
// [{"name","type","value"}], "annotation"); strings have "value";
// references have "handle" and "target" (a one-line description);
// primitive values are {"kind":"int"|..., "value"}.
func JSONNode(n Node) map[string]any {
	m := map[string]any{"kind": KindOf(n), "offset": n.Offset()}
	switch n := n.(type) {
	case *Ref:
		m["handle"] = hexHandle(n.Handle)
		m["target"] = describe(n.Target)
	case *String:
		m["handle"] = hexHandle(n.Handle)
		m["value"] = n.Value()
		m["long"] = n.Long
	case *ClassDesc:
		m["handle"] = hexHandle(n.Handle)
		if n.Proxy {
			names := make([]string, len(n.Interfaces))
			for i, x := range n.Interfaces {
				names[i] = DecodeMUTF8(x)
			}
			m["interfaces"] = names
		} else {
			m["name"] = n.Name()
			m["suid"] = n.SUID
			m["flags"] = FlagString(n.Flags)
			fields := make([]any, len(n.Fields))
			for i := range n.Fields {
				fields[i] = map[string]any{"name": n.Fields[i].Name(), "type": n.Fields[i].TypeName()}
			}
			m["fields"] = fields
		}
		m["annotation"] = jsonNodes(n.Annotation)
		if n.Super != nil {
			m["super"] = JSONNode(n.Super)
		}
	case *Object:
		m["handle"] = hexHandle(n.Handle)
		m["class"] = n.ClassName()
		m["desc"] = JSONNode(n.Desc)
		data := make([]any, len(n.Data))
		for i := range n.Data {
			data[i] = jsonClassData(&n.Data[i])
		}
		m["classdata"] = data
		if n.Aborted {
			m["aborted"] = true
		}
	case *Array:
		m["handle"] = hexHandle(n.Handle)
		m["class"] = descName(n.Desc)
		m["desc"] = JSONNode(n.Desc)
		m["length"] = n.Length
		if sz := primSize(n.Elem); sz > 0 {
			if n.Elem == 'B' {
				m["bytes"] = base64.StdEncoding.EncodeToString(n.Prims)
			} else {
				vals := make([]any, 0, n.Length)
				for i := 0; i+sz <= len(n.Prims); i += sz {
					vals = append(vals, primJSON(n.Elem, beBits(n.Prims[i:i+sz])))
				}
				m["values"] = vals
			}
		} else {
			m["elements"] = jsonNodes(n.Elems)
		}
	case *Enum:
		m["handle"] = hexHandle(n.Handle)
		m["class"] = descName(n.Desc)
		m["desc"] = JSONNode(n.Desc)
		m["constant"] = stringOf(n.Constant)
	case *Class:
		m["handle"] = hexHandle(n.Handle)
		m["class"] = descName(n.Desc)
		m["desc"] = JSONNode(n.Desc)
	case *Raw:
		m["length"] = len(n.Data)
		m["hex"] = hex.EncodeToString(n.Data)
	case *BlockData:
		m["length"] = len(n.Data)
		m["records"] = len(n.Chunks)
		m["hex"] = hex.EncodeToString(n.Data)
	case *Exception:
		m["throwable"] = JSONNode(n.Throwable)
	}
	return m
}

func jsonClassData(cd *ClassData) map[string]any {
	m := map[string]any{"class": cd.Class.Name()}
	fields := make([]any, len(cd.Values))
	for j, v := range cd.Values {
		f := map[string]any{"type": string(v.Type)}
		if j < len(cd.Class.Fields) {
			f["name"] = cd.Class.Fields[j].Name()
			f["type"] = cd.Class.Fields[j].TypeName()
		}
		if v.Obj != nil {
			f["value"] = JSONNode(v.Obj)
		} else {
			f["value"] = primJSON(v.Type, v.Bits)
		}
		fields[j] = f
	}
	m["fields"] = fields
	if cd.HasAnnotation {
		m["annotation"] = jsonNodes(cd.Annotation)
		m["defaultFields"] = cd.DefaultFields
	}
	if cd.External != nil {
		m["external"] = jsonNodes(cd.External)
	}
	if cd.Aborted {
		m["aborted"] = true
	}
	return m
}

func jsonNodes(ns []Node) []any {
	out := make([]any, len(ns))
	for i, n := range ns {
		out[i] = JSONNode(n)
	}
	return out
}

func primJSON(t byte, bits uint64) any {
	switch t {
	case 'B':
		return map[string]any{"kind": "byte", "value": int8(bits)}
	case 'S':
		return map[string]any{"kind": "short", "value": int16(bits)}
	case 'I':
		return map[string]any{"kind": "int", "value": int32(bits)}
	case 'J':
		return map[string]any{"kind": "long", "value": int64(bits)}
	case 'Z':
		return map[string]any{"kind": "boolean", "value": bits != 0}
	case 'C':
		return map[string]any{"kind": "char", "value": string(rune(bits))}
	case 'F':
		f := float64(math.Float32frombits(uint32(bits)))
		return map[string]any{"kind": "float", "value": jsonFloat(f)}
	case 'D':
		return map[string]any{"kind": "double", "value": jsonFloat(math.Float64frombits(bits))}
	}
	return map[string]any{"kind": string(t), "bits": bits}
}

// jsonFloat keeps NaN and infinities representable in JSON.
func jsonFloat(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return f
}

func hexHandle(h int32) string { return fmt.Sprintf("0x%x", h) }

// KindOf names a node's type: "null", "ref", "string", "classdesc",
// "object", "array", "enum", "class", "blockdata", "raw", "reset" or "exception".
func KindOf(n Node) string {
	switch n.(type) {
	case *Null:
		return "null"
	case *Ref:
		return "ref"
	case *String:
		return "string"
	case *ClassDesc:
		return "classdesc"
	case *Object:
		return "object"
	case *Array:
		return "array"
	case *Enum:
		return "enum"
	case *Class:
		return "class"
	case *BlockData:
		return "blockdata"
	case *Reset:
		return "reset"
	case *Exception:
		return "exception"
	case *Raw:
		return "raw"
	}
	return "unknown"
}
