package javaser

import (
	"encoding/binary"
	"errors"

	"github.com/sparkckpt/sparkckpt/decode"
)

// Options configure Parse. The zero value is ready to use.
type Options struct {
	// Limits bound recursion depth and allocations.
	Limits decode.Limits
	// NoDefaultFields reports, for an SC_WRITE_METHOD class that declares
	// fields, that its writeObject does NOT call defaultWriteObject, so its
	// class data is custom data only (spec §3.5). The stream does not say.
	// Nil means the built-in list (Scala 2.10's immutable "::").
	// For other classes Parse reads default fields first and, if the bytes
	// cannot be read that way, reads the class data as custom data only.
	NoDefaultFields func(className string) bool
	// ExternalSize gives the length of protocol-1 Externalizable data (no
	// SC_BLOCK_DATA), which is not self-delimiting, for classes the caller
	// knows; it is given the bytes from the data's start and returns the
	// data's length, or -1 if it does not know the class. Without it such
	// data is read only when the object is the last content of the stream
	// or what follows it can be read unambiguously.
	ExternalSize func(className string, data []byte) int
}

// Parse parses a complete Java serialization stream with default options.
// The returned nodes alias b: do not modify b while they are in use.
func Parse(b []byte) (*Stream, error) { return Options{}.Parse(b) }

// Parse parses a complete Java serialization stream (spec §3.2). Errors are
// *decode.Error with Format "javaser", the byte offset of the failing
// structure and the object path being read.
func (o Options) Parse(b []byte) (*Stream, error) {
	p := &parser{b: b, opt: o, lim: o.Limits.OrDefault()}
	p.budget = 64*int64(len(b)) + 1<<20
	// Checkpoint streams average a handle per 20-30 bytes.
	p.handles = make([]Node, 0, min(len(b)/24+16, 1<<20))
	if p.opt.NoDefaultFields == nil {
		p.opt.NoDefaultFields = builtinNoDefaultFields
	}
	return p.stream()
}

// builtinNoDefaultFields lists classes with fields whose writeObject skips
// defaultWriteObject (spec §3.5).
func builtinNoDefaultFields(name string) bool {
	return name == "scala.collection.immutable.$colon$colon"
}

type pelem struct {
	kind PathKind
	raw  []byte
	idx  int
}

type parser struct {
	a       arena
	b       []byte
	pos     int
	handles []Node
	opt     Options
	lim     decode.Limits
	depth   int
	path    []pelem
	aborted bool   // a TC_EXCEPTION was read below top level
	stack   []Node // scratch for annotation lists being read
	budget  int64  // bounds total work, including re-reads after a failed guess
}

func (p *parser) pathString() string {
	out := make(Path, len(p.path))
	for i, e := range p.path {
		out[i] = PathElem{Kind: e.kind, Index: e.idx}
		switch e.kind {
		case PathRoot:
			if e.raw == nil {
				out[i].Name = "<content>"
			} else {
				out[i].Name = simpleName(DecodeMUTF8(e.raw))
			}
		default:
			out[i].Name = DecodeMUTF8(e.raw)
		}
	}
	return out.String()
}

func (p *parser) err(off int, kind error, detail string, args ...any) error {
	e := decode.Errorf("javaser", int64(off), kind, detail, args...)
	e.Path = p.pathString()
	return e
}

func (p *parser) need(n int64, what string) error {
	if n < 0 || int64(len(p.b)-p.pos) < n {
		return p.err(p.pos, decode.ErrTruncated, "expected %d bytes of %s, only %d left", n, what, len(p.b)-p.pos)
	}
	return nil
}

func (p *parser) u8(what string) (byte, error) {
	if err := p.need(1, what); err != nil {
		return 0, err
	}
	c := p.b[p.pos]
	p.pos++
	return c, nil
}

func (p *parser) u16(what string) (uint16, error) {
	if err := p.need(2, what); err != nil {
		return 0, err
	}
	v := binary.BigEndian.Uint16(p.b[p.pos:])
	p.pos += 2
	return v, nil
}

func (p *parser) u32(what string) (uint32, error) {
	if err := p.need(4, what); err != nil {
		return 0, err
	}
	v := binary.BigEndian.Uint32(p.b[p.pos:])
	p.pos += 4
	return v, nil
}

func (p *parser) u64(what string) (uint64, error) {
	if err := p.need(8, what); err != nil {
		return 0, err
	}
	v := binary.BigEndian.Uint64(p.b[p.pos:])
	p.pos += 8
	return v, nil
}

func (p *parser) bytes(n int64, what string) ([]byte, error) {
	if err := p.need(n, what); err != nil {
		return nil, err
	}
	s := p.b[p.pos : p.pos+int(n) : p.pos+int(n)]
	p.pos += int(n)
	return s, nil
}

// utf reads a u16-length modified UTF-8 string (class and field names).
func (p *parser) utf(what string) ([]byte, error) {
	n, err := p.u16(what + " length")
	if err != nil {
		return nil, err
	}
	return p.bytes(int64(n), what)
}

func (p *parser) peek() (byte, error) {
	if p.pos >= len(p.b) {
		return 0, p.err(p.pos, decode.ErrTruncated, "expected a type code, stream ended")
	}
	return p.b[p.pos], nil
}

func (p *parser) newHandle(n Node) int32 {
	h := BaseHandle + int32(len(p.handles))
	p.handles = append(p.handles, n)
	return h
}

// clearHandles empties the handle table without touching the backing
// array, which a saved parser state may still reference.
func (p *parser) clearHandles() { p.handles = nil }

func (p *parser) push(e pelem) { p.path = append(p.path, e) }
func (p *parser) pop()         { p.path = p.path[:len(p.path)-1] }

func (p *parser) spend() error {
	p.budget--
	if p.budget < 0 {
		return p.err(p.pos, decode.ErrTooLarge, "parse work exceeds the bound for a %d-byte stream", len(p.b))
	}
	return nil
}

func (p *parser) stream() (*Stream, error) {
	magic, err := p.u16("stream magic")
	if err != nil {
		return nil, err
	}
	if magic != StreamMagic {
		return nil, p.err(0, decode.ErrCorrupt, "expected stream magic 0xACED, got 0x%04X", magic)
	}
	version, err := p.u16("stream version")
	if err != nil {
		return nil, err
	}
	if version != StreamVersion {
		return nil, p.err(2, decode.ErrUnsupported, "expected stream version 5, got %d", version)
	}
	s := &Stream{Magic: magic, Version: version}
	for i := 0; p.pos < len(p.b); i++ {
		p.path = append(p.path[:0], pelem{kind: PathRoot, idx: i})
		n, err := p.content(true)
		if err != nil {
			return nil, err
		}
		s.Contents = append(s.Contents, n)
		p.aborted = false
	}
	return s, nil
}

// content reads one content: an object or a run of block data.
func (p *parser) content(top bool) (Node, error) {
	tc, err := p.peek()
	if err != nil {
		return nil, err
	}
	if tc == TCBlockData || tc == TCBlockDataLong {
		return p.blockData()
	}
	return p.object(top)
}

func (p *parser) blockData() (*BlockData, error) {
	bd := &BlockData{Off: int64(p.pos)}
	// Measure the run first, so a run of several records is copied once.
	total, records := 0, 0
	for q := p.pos; q < len(p.b); {
		var n, hdr int
		switch p.b[q] {
		case TCBlockData:
			if q+2 > len(p.b) {
				break
			}
			n, hdr = int(p.b[q+1]), 2
		case TCBlockDataLong:
			if q+5 > len(p.b) {
				break
			}
			n, hdr = int(int32(binary.BigEndian.Uint32(p.b[q+1:]))), 5
		}
		if hdr == 0 || n < 0 || n > len(p.b)-q-hdr {
			break // not block data, or malformed: the loop below reports it
		}
		total += n
		records++
		q += hdr + n
	}
	if records > 1 {
		bd.Data = make([]byte, 0, total)
		bd.Chunks = make([]Chunk, 0, records)
	}
	for p.pos < len(p.b) {
		tc := p.b[p.pos]
		var n int64
		switch tc {
		case TCBlockData:
			p.pos++
			c, err := p.u8("block data length")
			if err != nil {
				return nil, err
			}
			n = int64(c)
		case TCBlockDataLong:
			off := p.pos
			p.pos++
			v, err := p.u32("block data length")
			if err != nil {
				return nil, err
			}
			if int32(v) < 0 {
				return nil, p.err(off, decode.ErrCorrupt, "TC_BLOCKDATALONG with negative length %d", int32(v))
			}
			n = int64(v)
		default:
			return bd, nil
		}
		d, err := p.bytes(n, "block data")
		if err != nil {
			return nil, err
		}
		if records > 1 {
			bd.Data = append(bd.Data, d...)
		} else {
			bd.Data = d
		}
		bd.Chunks = append(bd.Chunks, Chunk{Long: tc == TCBlockDataLong, Len: int(n)})
	}
	return bd, nil
}

// object reads one object (spec §3.2 "object"); block data is not allowed here.
func (p *parser) object(top bool) (Node, error) {
	if err := p.spend(); err != nil {
		return nil, err
	}
	off := p.pos
	tc, err := p.u8("type code")
	if err != nil {
		return nil, err
	}
	switch tc {
	case TCNull:
		n := p.a.nulls.new()
		n.Off = int64(off)
		return n, nil
	case TCReference:
		return p.ref(off, "object")
	case TCString, TCLongString:
		return p.str(off, tc)
	case TCObject:
		return p.newObject(off)
	case TCArray:
		return p.newArray(off)
	case TCClassDesc, TCProxyClassDesc:
		p.pos = off
		return p.classDesc()
	case TCClass:
		return p.newClass(off)
	case TCEnum:
		return p.newEnum(off)
	case TCReset:
		if !top {
			return nil, p.err(off, decode.ErrCorrupt, "TC_RESET inside an object (the JDK allows it only between top-level objects)")
		}
		p.clearHandles()
		return &Reset{Off: int64(off)}, nil
	case TCException:
		return p.exception(off, top)
	case TCBlockData, TCBlockDataLong:
		return nil, p.err(off, decode.ErrCorrupt, "expected an object, found block data (type code 0x%02X)", tc)
	case TCEndBlockData:
		return nil, p.err(off, decode.ErrCorrupt, "expected an object, found TC_ENDBLOCKDATA")
	}
	return nil, p.err(off, decode.ErrCorrupt, "expected a type code 0x70-0x7E, got 0x%02X", tc)
}

func (p *parser) ref(off int, what string) (*Ref, error) {
	h, err := p.u32("handle")
	if err != nil {
		return nil, err
	}
	idx := int64(int32(h)) - int64(BaseHandle)
	if idx < 0 || idx >= int64(len(p.handles)) {
		return nil, p.err(off, decode.ErrCorrupt, "TC_REFERENCE to handle 0x%X, but only handles 0x%X..0x%X exist", h, BaseHandle, BaseHandle+int32(len(p.handles))-1)
	}
	r := p.a.refs.new()
	*r = Ref{Off: int64(off), Handle: int32(h), Target: p.handles[idx]}
	return r, nil
}

func (p *parser) str(off int, tc byte) (*String, error) {
	var n int64
	if tc == TCString {
		v, err := p.u16("string length")
		if err != nil {
			return nil, err
		}
		n = int64(v)
	} else {
		v, err := p.u64("long string length")
		if err != nil {
			return nil, err
		}
		n = int64(v)
		if n < 0 {
			return nil, p.err(off, decode.ErrCorrupt, "TC_LONGSTRING with negative length %d", n)
		}
		if n > p.lim.MaxAlloc {
			return nil, p.err(off, decode.ErrTooLarge, "TC_LONGSTRING of %d bytes exceeds the limit of %d", n, p.lim.MaxAlloc)
		}
	}
	s := p.a.strings.new()
	*s = String{Off: int64(off), Long: tc == TCLongString}
	s.Handle = p.newHandle(s)
	raw, err := p.bytes(n, "string data")
	if err != nil {
		return nil, err
	}
	s.Raw = raw
	return s, nil
}

// typeString reads a field's type descriptor: a string, a reference to one, or null.
func (p *parser) typeString() (Node, error) {
	off := p.pos
	tc, err := p.u8("field type string")
	if err != nil {
		return nil, err
	}
	switch tc {
	case TCString, TCLongString:
		return p.str(off, tc)
	case TCReference:
		r, err := p.ref(off, "string")
		if err != nil {
			return nil, err
		}
		if _, ok := r.Target.(*String); !ok {
			return nil, p.err(off, decode.ErrCorrupt, "field type descriptor refers to handle 0x%X, which is not a string", r.Handle)
		}
		return r, nil
	case TCNull:
		return &Null{Off: int64(off)}, nil
	}
	return nil, p.err(off, decode.ErrCorrupt, "expected a field type string (TC_STRING or TC_REFERENCE), got 0x%02X", tc)
}

// classDesc reads the classDesc production: a new descriptor, null or a reference to one.
func (p *parser) classDesc() (Node, error) {
	off := p.pos
	tc, err := p.u8("class descriptor")
	if err != nil {
		return nil, err
	}
	switch tc {
	case TCNull:
		return &Null{Off: int64(off)}, nil
	case TCReference:
		r, err := p.ref(off, "class descriptor")
		if err != nil {
			return nil, err
		}
		if _, ok := r.Target.(*ClassDesc); !ok {
			return nil, p.err(off, decode.ErrCorrupt, "class descriptor refers to handle 0x%X, which is a %s", r.Handle, KindOf(r.Target))
		}
		return r, nil
	case TCClassDesc:
		return p.newClassDesc(off)
	case TCProxyClassDesc:
		return p.newProxyClassDesc(off)
	}
	return nil, p.err(off, decode.ErrCorrupt, "expected a class descriptor (TC_CLASSDESC, TC_PROXYCLASSDESC, TC_NULL or TC_REFERENCE), got 0x%02X", tc)
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > p.lim.MaxDepth {
		return p.err(p.pos, decode.ErrTooLarge, "nesting deeper than %d", p.lim.MaxDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func (p *parser) newClassDesc(off int) (*ClassDesc, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	name, err := p.utf("class name")
	if err != nil {
		return nil, err
	}
	p.push(pelem{kind: PathDesc, raw: name})
	defer p.pop()
	suid, err := p.u64("serialVersionUID")
	if err != nil {
		return nil, err
	}
	cd := &ClassDesc{Off: int64(off), NameRaw: name, SUID: int64(suid), name: DecodeMUTF8(name)}
	cd.Handle = p.newHandle(cd)
	if cd.Flags, err = p.u8("class flags"); err != nil {
		return nil, err
	}
	if cd.Flags&SCSerializable != 0 && cd.Flags&SCExternalizable != 0 {
		return nil, p.err(p.pos-1, decode.ErrCorrupt, "class %s has both SC_SERIALIZABLE and SC_EXTERNALIZABLE set", cd.Name())
	}
	nf, err := p.u16("field count")
	if err != nil {
		return nil, err
	}
	// Each field takes at least 3 bytes, so nf is bounded by the input.
	if err := p.need(int64(nf)*3, "field descriptors"); err != nil {
		return nil, err
	}
	cd.Fields = make([]FieldDesc, nf)
	for i := range cd.Fields {
		f := &cd.Fields[i]
		toff := p.pos
		if f.Type, err = p.u8("field type code"); err != nil {
			return nil, err
		}
		if f.NameRaw, err = p.utf("field name"); err != nil {
			return nil, err
		}
		f.name = DecodeMUTF8(f.NameRaw)
		switch {
		case isPrimCode(f.Type):
		case f.Type == '[' || f.Type == 'L':
			if f.ClassName, err = p.typeString(); err != nil {
				return nil, err
			}
		default:
			return nil, p.err(toff, decode.ErrCorrupt, "field %q has type code %q, expected one of BCDFIJSZ[L", f.NameRaw, f.Type)
		}
	}
	if err := p.descTail(cd); err != nil {
		return nil, err
	}
	return cd, nil
}

// descTail reads classAnnotation and superClassDesc.
func (p *parser) descTail(cd *ClassDesc) error {
	ann, err := p.annotation()
	if err != nil {
		return err
	}
	cd.Annotation = ann
	if p.aborted {
		cd.Aborted = true
		return nil
	}
	cd.Super, err = p.classDesc()
	return err
}

func (p *parser) newProxyClassDesc(off int) (*ClassDesc, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	cd := &ClassDesc{Off: int64(off), Proxy: true}
	cd.Handle = p.newHandle(cd)
	n, err := p.u32("proxy interface count")
	if err != nil {
		return nil, err
	}
	if int32(n) < 0 || n > 65535 {
		return nil, p.err(p.pos-4, decode.ErrCorrupt, "proxy interface count %d outside 0..65535", int32(n))
	}
	if err := p.need(int64(n)*2, "proxy interface names"); err != nil {
		return nil, err
	}
	cd.Interfaces = make([][]byte, n)
	for i := range cd.Interfaces {
		if cd.Interfaces[i], err = p.utf("proxy interface name"); err != nil {
			return nil, err
		}
	}
	if err := p.descTail(cd); err != nil {
		return nil, err
	}
	return cd, nil
}

// annotation reads contents up to and including TC_ENDBLOCKDATA. If a
// TC_EXCEPTION aborts the data, it returns what was read with p.aborted set.
// Contents are gathered on p.stack (annotations nest) and copied out once.
func (p *parser) annotation() ([]Node, error) {
	base := len(p.stack)
	defer func() { p.stack = p.stack[:base] }()
	done := func() []Node {
		n := len(p.stack) - base
		if n == 0 {
			return nil
		}
		out := p.a.nodes.take(n)
		copy(out, p.stack[base:])
		return out
	}
	for i := 0; ; i++ {
		tc, err := p.peek()
		if err != nil {
			return nil, err
		}
		if tc == TCEndBlockData {
			p.pos++
			return done(), nil
		}
		p.push(pelem{kind: PathData, idx: i})
		n, err := p.content(false)
		p.pop()
		if err != nil {
			return nil, err
		}
		p.stack = append(p.stack, n)
		if p.aborted {
			return done(), nil
		}
	}
}

// hierarchy returns the serializable classes of cd, topmost superclass
// first, computed once per descriptor.
func (p *parser) hierarchy(cd *ClassDesc) ([]*ClassDesc, error) {
	if cd.chain != nil {
		return cd.chain, nil
	}
	var chain []*ClassDesc
	for c := cd; c != nil; c = c.SuperDesc() {
		if len(chain) > p.lim.MaxDepth {
			return nil, p.err(int(cd.Off), decode.ErrCorrupt, "class %s: superclass chain longer than %d (cycle?)", cd.Name(), p.lim.MaxDepth)
		}
		chain = append(chain, c)
	}
	for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
		chain[i], chain[j] = chain[j], chain[i]
	}
	cd.chain = chain
	return chain, nil
}

func (p *parser) objectDesc(what string) (Node, *ClassDesc, error) {
	descOff := p.pos
	desc, err := p.classDesc()
	if err != nil {
		return nil, nil, err
	}
	cd := ResolveDesc(desc)
	if cd == nil {
		return nil, nil, p.err(descOff, decode.ErrCorrupt, "%s has a null class descriptor", what)
	}
	return desc, cd, nil
}

func (p *parser) newObject(off int) (Node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	desc, cd, err := p.objectDesc("TC_OBJECT")
	if err != nil {
		return nil, err
	}
	if len(p.path) == 1 && p.path[0].kind == PathRoot && p.path[0].raw == nil {
		p.path[0].raw = cd.NameRaw
	}
	o := p.a.objects.new()
	*o = Object{Off: int64(off), Desc: desc, Class: cd}
	o.Handle = p.newHandle(o)
	if cd.Flags&SCExternalizable != 0 {
		cd0 := ClassData{Class: cd}
		if cd.Flags&SCBlockData != 0 {
			cd0.HasAnnotation = true
			if cd0.Annotation, err = p.annotation(); err != nil {
				return nil, err
			}
			cd0.Aborted = p.aborted
		} else {
			if cd0.External, err = p.external(cd); err != nil {
				return nil, err
			}
			if cd0.External == nil {
				cd0.External = []Node{}
			}
		}
		o.Data = []ClassData{cd0}
		o.Aborted = p.aborted
		return o, nil
	}
	chain, err := p.hierarchy(cd)
	if err != nil {
		return nil, err
	}
	o.Data = p.a.data.take(len(chain))[:0]
	for _, c := range chain {
		d, err := p.classData(c)
		if err != nil {
			return nil, err
		}
		o.Data = append(o.Data, d)
		if p.aborted {
			o.Aborted = true
			break
		}
	}
	return o, nil
}

type savedState struct {
	pos     int
	handles []Node
	path    int
	depth   int
}

func (p *parser) save() savedState {
	return savedState{pos: p.pos, handles: p.handles, path: len(p.path), depth: p.depth}
}

func (p *parser) restore(s savedState) {
	p.pos, p.handles, p.path, p.depth, p.aborted = s.pos, s.handles, p.path[:s.path], s.depth, false
}

func (p *parser) classData(c *ClassDesc) (ClassData, error) {
	d := ClassData{Class: c, DefaultFields: true}
	if c.Flags&SCWriteMethod == 0 {
		vals, err := p.fieldValues(c)
		d.Values = vals
		d.Aborted = p.aborted
		return d, err
	}
	d.HasAnnotation = true
	if len(c.Fields) > 0 && p.opt.NoDefaultFields(c.Name()) {
		d.DefaultFields = false
		ann, err := p.annotation()
		d.Annotation, d.Aborted = ann, p.aborted
		return d, err
	}
	st := p.save()
	vals, err := p.fieldValues(c)
	if err == nil && p.aborted {
		d.Values, d.Aborted = vals, true
		return d, nil
	}
	if err == nil {
		var ann []Node
		if ann, err = p.annotation(); err == nil {
			d.Values, d.Annotation, d.Aborted = vals, ann, p.aborted
			return d, nil
		}
	}
	if len(c.Fields) == 0 {
		return d, err
	}
	// The bytes are not default fields followed by custom data: read the
	// class data as custom data only (writeObject without defaultWriteObject).
	firstErr := err
	p.restore(st)
	d = ClassData{Class: c, HasAnnotation: true}
	ann, err := p.annotation()
	if err != nil {
		// Report whichever reading got further into the stream.
		return d, furthest(firstErr, err)
	}
	d.Annotation, d.Aborted = ann, p.aborted
	return d, nil
}

func furthest(a, b error) error {
	var ea, eb *decode.Error
	if errors.As(a, &ea) && errors.As(b, &eb) && eb.Offset > ea.Offset {
		return b
	}
	return a
}

func (p *parser) fieldValues(c *ClassDesc) ([]Value, error) {
	if len(c.Fields) == 0 {
		return nil, nil
	}
	vals := p.a.values.take(len(c.Fields))[:0]
	for i := range c.Fields {
		f := &c.Fields[i]
		if sz := primSize(f.Type); sz > 0 {
			if len(p.b)-p.pos < sz {
				p.push(pelem{kind: PathField, raw: f.NameRaw})
				err := p.err(p.pos, decode.ErrTruncated, "expected %d bytes of %c field value, only %d left", sz, f.Type, len(p.b)-p.pos)
				p.pop()
				return nil, err
			}
			var bits uint64
			for _, x := range p.b[p.pos : p.pos+sz] {
				bits = bits<<8 | uint64(x)
			}
			p.pos += sz
			vals = append(vals, Value{Type: f.Type, Bits: bits})
			continue
		}
		p.push(pelem{kind: PathField, raw: f.NameRaw})
		n, err := p.object(false)
		p.pop()
		if err != nil {
			return nil, err
		}
		vals = append(vals, Value{Type: f.Type, Obj: n})
		if p.aborted {
			break
		}
	}
	return vals, nil
}

// external reads protocol-1 Externalizable data (no SC_BLOCK_DATA), which
// carries no length: primitive data is written raw and objects inline.
// With Options.ExternalSize the caller gives the length. Otherwise, for a
// top-level object, objects are recognised greedily where one parses and
// the data ends at the first position after which the rest of the stream
// parses as top-level contents. Any such reading re-encodes byte for byte;
// which split is meant can only be known from the class.
func (p *parser) external(cd *ClassDesc) ([]Node, error) {
	if p.opt.ExternalSize != nil {
		if n := p.opt.ExternalSize(cd.Name(), p.b[p.pos:]); n >= 0 {
			off := p.pos
			b, err := p.bytes(int64(n), "external data of "+cd.Name())
			if err != nil {
				return nil, err
			}
			return []Node{&Raw{Off: int64(off), Data: b}}, nil
		}
	}
	if len(p.path) != 1 || p.depth != 1 {
		return nil, p.err(p.pos, decode.ErrUnsupported,
			"protocol-1 Externalizable data of class %s inside another object has no length; its end cannot be found without the class", cd.Name())
	}
	var out []Node
	rawStart := p.pos
	flush := func() {
		if p.pos > rawStart {
			out = append(out, &Raw{Off: int64(rawStart), Data: p.b[rawStart:p.pos:p.pos]})
		}
	}
	for {
		if p.restParses(p.pos) {
			flush()
			return out, nil
		}
		if err := p.spend(); err != nil {
			return nil, err
		}
		if startsObject(p.b[p.pos]) {
			st := p.save()
			p.push(pelem{kind: PathData, idx: len(out)})
			n, err := p.object(false)
			p.pop()
			if err == nil && !p.aborted {
				end := p.pos
				p.pos = st.pos
				flush()
				p.pos = end
				out = append(out, n)
				rawStart = p.pos
				continue
			}
			p.restore(st)
		}
		p.pos++
	}
}

// startsObject reports whether c begins an object written by writeObject
// (TC_NULL is left out: in raw data a 0x70 byte is far more often data).
func startsObject(c byte) bool {
	switch c {
	case TCObject, TCString, TCLongString, TCArray, TCClass, TCEnum, TCReference:
		return true
	}
	return false
}

func startsContent(c byte) bool { return c >= TCNull && c <= TCEnum && c != TCEndBlockData }

// restParses reports whether b[from:] parses as top-level contents, given
// the current handle table.
func (p *parser) restParses(from int) bool {
	q := &parser{b: p.b, pos: from, opt: p.opt, lim: p.lim, budget: p.budget}
	q.handles = append([]Node(nil), p.handles...)
	defer func() { p.budget = q.budget }()
	for q.pos < len(q.b) {
		q.path = append(q.path[:0], pelem{kind: PathRoot})
		if _, err := q.content(true); err != nil {
			return false
		}
		q.aborted = false
	}
	return true
}

func (p *parser) newArray(off int) (Node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	desc, cd, err := p.objectDesc("TC_ARRAY")
	if err != nil {
		return nil, err
	}
	if len(cd.NameRaw) < 2 || cd.NameRaw[0] != '[' {
		return nil, p.err(int(cd.Off), decode.ErrCorrupt, "array class name %q does not start with '['", cd.NameRaw)
	}
	if len(p.path) == 1 && p.path[0].kind == PathRoot && p.path[0].raw == nil {
		p.path[0].raw = cd.NameRaw
	}
	a := p.a.arrays.new()
	*a = Array{Off: int64(off), Desc: desc, Class: cd, Elem: cd.NameRaw[1]}
	a.Handle = p.newHandle(a)
	n, err := p.u32("array length")
	if err != nil {
		return nil, err
	}
	if int32(n) < 0 {
		return nil, p.err(p.pos-4, decode.ErrCorrupt, "array of %s with negative length %d", cd.Name(), int32(n))
	}
	a.Length = int32(n)
	if sz := primSize(a.Elem); sz > 0 {
		if a.Prims, err = p.bytes(int64(n)*int64(sz), "array elements"); err != nil {
			return nil, err
		}
		return a, nil
	}
	if a.Elem != '[' && a.Elem != 'L' {
		return nil, p.err(int(cd.Off), decode.ErrCorrupt, "array class %q has unknown component type %q", cd.NameRaw, a.Elem)
	}
	// Each element takes at least one byte.
	if err := p.need(int64(n), "array elements"); err != nil {
		return nil, err
	}
	a.Elems = p.a.nodes.take(int(n))[:0]
	for i := 0; i < int(n); i++ {
		p.push(pelem{kind: PathIndex, idx: i})
		e, err := p.object(false)
		p.pop()
		if err != nil {
			return nil, err
		}
		a.Elems = append(a.Elems, e)
		if p.aborted {
			a.Aborted = true
			break
		}
	}
	return a, nil
}

func (p *parser) newClass(off int) (Node, error) {
	desc, cd, err := p.objectDesc("TC_CLASS")
	if err != nil {
		return nil, err
	}
	c := &Class{Off: int64(off), Desc: desc, Class: cd}
	c.Handle = p.newHandle(c)
	return c, nil
}

func (p *parser) newEnum(off int) (Node, error) {
	desc, cd, err := p.objectDesc("TC_ENUM")
	if err != nil {
		return nil, err
	}
	e := &Enum{Off: int64(off), Desc: desc, Class: cd}
	e.Handle = p.newHandle(e)
	noff := p.pos
	tc, err := p.u8("enum constant name")
	if err != nil {
		return nil, err
	}
	switch tc {
	case TCString, TCLongString:
		e.Constant, err = p.str(noff, tc)
	case TCReference:
		var r *Ref
		if r, err = p.ref(noff, "string"); err == nil {
			if _, ok := r.Target.(*String); !ok {
				return nil, p.err(noff, decode.ErrCorrupt, "enum constant name refers to handle 0x%X, which is a %s", r.Handle, KindOf(r.Target))
			}
			e.Constant = r
		}
	default:
		return nil, p.err(noff, decode.ErrCorrupt, "expected the enum constant name (TC_STRING or TC_REFERENCE), got 0x%02X", tc)
	}
	return e, err
}

func (p *parser) exception(off int, top bool) (Node, error) {
	p.clearHandles()
	t, err := p.object(false)
	if err != nil {
		return nil, err
	}
	if _, ok := t.(*Object); !ok {
		return nil, p.err(off, decode.ErrCorrupt, "TC_EXCEPTION must be followed by a Throwable object, got a %s", KindOf(t))
	}
	p.clearHandles()
	p.aborted = !top
	return &Exception{Off: int64(off), Throwable: t}, nil
}
