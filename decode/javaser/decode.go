package javaser

import (
	"encoding/binary"
	"errors"
	"sync"

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
	p := getParser()
	p.a.init()
	p.start(b, o)
	s, err := p.stream()
	putParser(p)
	if err != nil {
		return nil, finalError(err)
	}
	return s, nil
}

// builtinNoDefaultFields lists classes with fields whose writeObject skips
// defaultWriteObject (spec §3.5).
func builtinNoDefaultFields(name string) bool {
	return name == "scala.collection.immutable.$colon$colon"
}

// pelem is one element of an error's object path.
type pelem struct {
	kind PathKind
	raw  []byte // class name (PathRoot, PathDesc) or field name (PathField), modified UTF-8
	idx  int
}

// perr is a parse error on its way out of the parser. The frames it passes
// through add their path elements (innermost first), so the path costs
// nothing unless an error needs it.
type perr struct {
	e   *decode.Error
	rev []pelem
}

func (e *perr) Error() string { return e.e.Error() }

// withPath adds the path element of the frame err passes through.
func withPath(err error, e pelem) error {
	if pe, ok := err.(*perr); ok {
		pe.rev = append(pe.rev, e)
	}
	return err
}

// finalError returns the *decode.Error of a parse error, its path set.
func finalError(err error) error {
	pe, ok := err.(*perr)
	if !ok {
		return err
	}
	if len(pe.rev) > 0 {
		path := make(Path, len(pe.rev))
		for i, e := range pe.rev {
			out := &path[len(pe.rev)-1-i]
			*out = PathElem{Kind: e.kind, Index: e.idx}
			switch e.kind {
			case PathRoot:
				if e.raw == nil {
					out.Name = "<content>"
				} else {
					out.Name = simpleName(DecodeMUTF8(e.raw))
				}
			default:
				out.Name = DecodeMUTF8(e.raw)
			}
		}
		pe.e.Path = path.brief()
	}
	return pe.e
}

type parser struct {
	a       *arena // pooled with the parser, cleared between parses
	b       []byte
	pos     int
	handles []uint64 // handle table: entries made by entry, read by handle
	opt     Options
	lim     decode.Limits
	depth   int
	aborted bool   // a TC_EXCEPTION was read below top level
	stack   []Node // scratch for node lists being read (annotations nest)
	budget  int64  // bounds total work, including re-reads after a failed guess
	// tree counts the bytes allocated for nodes and their text, those of
	// readings abandoned after a failed guess included; it may not pass
	// maxTree (see TreeBytesPerInputByte).
	tree, maxTree int64
	// rootName is the class name of the top-level object being read, for
	// error paths; nil until its descriptor is known.
	rootName []byte
	// smax is the most entries the stack has held, which putParser clears.
	smax int
}

// parsers holds finished parsers for reuse: their handle table, stack and
// arena struct (emptied: the chunks it handed out belong to the result).
var parsers = sync.Pool{New: func() any { return new(parser) }}

func getParser() *parser {
	p := parsers.Get().(*parser)
	if p.a == nil {
		p.a = new(arena)
	}
	return p
}

// start sets p up to parse b with o.
func (p *parser) start(b []byte, o Options) {
	p.b, p.opt, p.lim = b, o, o.Limits.OrDefault()
	p.budget = 64*int64(len(b)) + 1<<20
	p.maxTree = min(TreeBytesPerInputByte*int64(len(b))+treeBytesBase, p.lim.MaxTree)
	if p.opt.NoDefaultFields == nil {
		p.opt.NoDefaultFields = builtinNoDefaultFields
	}
	if p.handles == nil {
		// Checkpoint streams average a handle per 20-40 bytes.
		p.handles = make([]uint64, 0, min(len(b)/32+16, 1<<16))
	}
}

func putParser(p *parser) {
	*p.a = arena{}
	p.scrub()
	parsers.Put(p)
}

// scrub empties p after a parse, keeping its handle table, stack (both
// unless grown large) and arena.
func (p *parser) scrub() {
	h, st, a := p.handles, p.stack, p.a
	clear(st[:max(p.smax, len(st))])
	if cap(h) > 1<<16 {
		h = nil
	}
	if cap(st) > 1<<16 {
		st = nil
	}
	*p = parser{handles: h[:0], stack: st[:0], a: a}
}

func (p *parser) err(off int, kind error, detail string, args ...any) error {
	return &perr{e: decode.Errorf("javaser", int64(off), kind, detail, args...)}
}

// short reports that fewer than n bytes of what are left.
func (p *parser) short(n int, what string) error {
	return p.err(p.pos, decode.ErrTruncated, "expected %d bytes of %s, only %d left", n, what, len(p.b)-p.pos)
}

func (p *parser) need(n int64, what string) error {
	if n < 0 || int64(len(p.b)-p.pos) < n {
		return p.err(p.pos, decode.ErrTruncated, "expected %d bytes of %s, only %d left", n, what, len(p.b)-p.pos)
	}
	return nil
}

func (p *parser) u8(what string) (byte, error) {
	if p.pos >= len(p.b) {
		return 0, p.short(1, what)
	}
	c := p.b[p.pos]
	p.pos++
	return c, nil
}

func (p *parser) u16(what string) (uint16, error) {
	if len(p.b)-p.pos < 2 {
		return 0, p.short(2, what)
	}
	v := binary.BigEndian.Uint16(p.b[p.pos:])
	p.pos += 2
	return v, nil
}

func (p *parser) u32(what string) (uint32, error) {
	if len(p.b)-p.pos < 4 {
		return 0, p.short(4, what)
	}
	v := binary.BigEndian.Uint32(p.b[p.pos:])
	p.pos += 4
	return v, nil
}

func (p *parser) u64(what string) (uint64, error) {
	if len(p.b)-p.pos < 8 {
		return 0, p.short(8, what)
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
	if len(p.b)-p.pos < 2 {
		return nil, p.err(p.pos, decode.ErrTruncated, "expected 2 bytes of %s length, only %d left", what, len(p.b)-p.pos)
	}
	n := int(binary.BigEndian.Uint16(p.b[p.pos:]))
	p.pos += 2
	if len(p.b)-p.pos < n {
		return nil, p.short(n, what)
	}
	s := p.b[p.pos : p.pos+n : p.pos+n]
	p.pos += n
	return s, nil
}

// newHandle assigns the next handle to the node of the arena entry e.
func (p *parser) newHandle(e uint64) int32 {
	h := BaseHandle + int32(len(p.handles))
	p.handles = append(p.handles, e)
	return h
}

// clearHandles empties the handle table without touching the backing
// array, which a saved parser state may still reference.
func (p *parser) clearHandles() { p.handles = nil }

func (p *parser) overBudget() error {
	if p.tree > p.maxTree && p.maxTree == p.lim.MaxTree {
		return p.err(p.pos, decode.ErrTooLarge,
			"reading the object tree would take more than %d bytes of memory, the limit for one tree; expected a stream describing far fewer objects", p.maxTree)
	}
	if p.tree > p.maxTree {
		return p.err(p.pos, decode.ErrTooLarge,
			"reading the object tree would take more than %d bytes of memory (%d per byte of the %d-byte stream, readings abandoned included); expected a stream that reads one way, not custom writeObject data nested in ways that multiply the readings", p.maxTree, TreeBytesPerInputByte, len(p.b))
	}
	return p.err(p.pos, decode.ErrTooLarge, "parse work exceeds the bound for a %d-byte stream", len(p.b))
}

// TreeBytesPerInputByte bounds the memory of a parse: the nodes and text
// it allocates, including those of readings it abandons (an ambiguous
// writeObject's class data is read as default fields plus custom data,
// then as custom data only), take at most this many bytes per byte of
// the stream, plus 1 MiB, and at most Options.Limits.MaxTree bytes
// whatever the stream's size. Real streams need at most about 19; a run
// of TC_NULLs, one byte each, the densest stream there is, needs 24.
// Past either bound Parse fails with decode.ErrTooLarge, so that one
// flipped flag bit cannot make a 40 KB file take gigabytes.
const TreeBytesPerInputByte = 96

const treeBytesBase = 1 << 20

// grew counts n bytes allocated for the tree.
func (p *parser) grew(n int) { p.tree += int64(n) }

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
	var s *Stream
	if p.a.keep {
		s = &p.a.stream
		*s = Stream{Magic: magic, Version: version, size: len(p.b)}
	} else {
		s = &Stream{Magic: magic, Version: version, size: len(p.b)}
	}
	// Contents are gathered on the stack and copied out once.
	for i := 0; p.pos < len(p.b); i++ {
		p.rootName = nil
		n, err := p.content(true)
		if err != nil {
			return nil, withPath(err, pelem{kind: PathRoot, raw: p.rootName, idx: i})
		}
		p.stack = append(p.stack, n)
		p.aborted = false
	}
	if len(p.stack) > 0 {
		if p.a.keep {
			s.Contents = p.takeNodes(len(p.stack))
		} else {
			s.Contents = make([]Node, len(p.stack))
		}
		copy(s.Contents, p.stack)
	}
	return s, nil
}

// content reads one content: an object or a run of block data.
func (p *parser) content(top bool) (Node, error) {
	if p.pos >= len(p.b) {
		return nil, p.err(p.pos, decode.ErrTruncated, "expected a type code, stream ended")
	}
	if tc := p.b[p.pos]; tc == TCBlockData || tc == TCBlockDataLong {
		return p.blockData()
	}
	return p.object(top)
}

func (p *parser) blockData() (*BlockData, error) {
	bd := p.a.blocks.new(p)
	bd.Off = int64(p.pos)
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
		bd.Data = p.byteRun(total)
	}
	bd.Chunks = p.a.chunks.take(p, records)[:0]
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
	p.budget--
	if p.budget < 0 || p.tree > p.maxTree {
		return nil, p.overBudget()
	}
	off := p.pos
	if off >= len(p.b) {
		return nil, p.short(1, "type code")
	}
	tc := p.b[off]
	p.pos++
	switch tc {
	case TCObject:
		p.depth++
		if p.depth > p.lim.MaxDepth {
			return nil, p.tooDeep()
		}
		o, err := p.objectBody(off)
		p.depth--
		if err != nil {
			return nil, err
		}
		return o, nil
	case TCReference:
		return p.ref(off)
	case TCNull:
		n := p.allocNull()
		n.Off = int64(off)
		return n, nil
	case TCString, TCLongString:
		return p.str(off, tc)
	case TCArray:
		p.depth++
		if p.depth > p.lim.MaxDepth {
			return nil, p.tooDeep()
		}
		a, err := p.arrayBody(off)
		p.depth--
		if err != nil {
			return nil, err
		}
		return a, nil
	case TCClassDesc, TCProxyClassDesc:
		p.pos = off
		n, _, err := p.classDesc()
		return n, err
	case TCClass:
		return p.newClass(off)
	case TCEnum:
		return p.newEnum(off)
	case TCReset:
		if !top {
			return nil, p.err(off, decode.ErrCorrupt, "TC_RESET inside an object (the JDK allows it only between top-level objects)")
		}
		// No saved parser state exists at top level, so the table's
		// backing array can be reused.
		p.handles = p.handles[:0]
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

// ref reads a TC_REFERENCE's handle (the type code at off is read).
func (p *parser) ref(off int) (*Ref, error) {
	r, _, err := p.refKind(off)
	return r, err
}

// refKind is ref that also returns the kind of node referred to (hObject...).
func (p *parser) refKind(off int) (*Ref, uint64, error) {
	if len(p.b)-p.pos < 4 {
		return nil, 0, p.short(4, "handle")
	}
	h := binary.BigEndian.Uint32(p.b[p.pos:])
	p.pos += 4
	idx := int64(int32(h)) - int64(BaseHandle)
	if idx < 0 || idx >= int64(len(p.handles)) {
		return nil, 0, p.err(off, decode.ErrCorrupt, "TC_REFERENCE to handle 0x%X, but only handles 0x%X..0x%X exist", h, BaseHandle, BaseHandle+int32(len(p.handles))-1)
	}
	e := p.handles[idx]
	r := p.allocRef()
	r.Off = int64(off)
	r.Handle = int32(h)
	r.Target = p.handle(e)
	return r, e & hKindMask, nil
}

func (p *parser) str(off int, tc byte) (*String, error) {
	// A complete TC_STRING, the usual case, is read directly.
	if q := p.pos; tc == TCString && len(p.b)-q >= 2 {
		if n := int(binary.BigEndian.Uint16(p.b[q:])); len(p.b)-q-2 >= n {
			s := p.allocString()
			s.Off = int64(off)
			s.Handle = p.newHandle(entry(&p.a.strings, hString))
			s.Raw = p.b[q+2 : q+2+n : q+2+n]
			p.pos = q + 2 + n
			return s, nil
		}
	}
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
	s := p.allocString()
	s.Off = int64(off)
	s.Long = tc == TCLongString
	s.Handle = p.newHandle(entry(&p.a.strings, hString))
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
		r, k, err := p.refKind(off)
		if err != nil {
			return nil, err
		}
		if k != hString {
			return nil, p.err(off, decode.ErrCorrupt, "field type descriptor refers to handle 0x%X, which is not a string", r.Handle)
		}
		return r, nil
	case TCNull:
		n := p.allocNull()
		n.Off = int64(off)
		return n, nil
	}
	return nil, p.err(off, decode.ErrCorrupt, "expected a field type string (TC_STRING or TC_REFERENCE), got 0x%02X", tc)
}

// classDesc reads the classDesc production: a new descriptor, null or a
// reference to one. It returns the node as written and the descriptor it
// is or refers to (nil for null).
func (p *parser) classDesc() (Node, *ClassDesc, error) {
	off := p.pos
	tc, err := p.u8("class descriptor")
	if err != nil {
		return nil, nil, err
	}
	switch tc {
	case TCNull:
		n := p.allocNull()
		n.Off = int64(off)
		return n, nil, nil
	case TCReference:
		r, k, err := p.refKind(off)
		if err != nil {
			return nil, nil, err
		}
		if k != hDesc {
			return nil, nil, p.err(off, decode.ErrCorrupt, "class descriptor refers to handle 0x%X, which is a %s", r.Handle, KindOf(r.Target))
		}
		return r, r.Target.(*ClassDesc), nil
	case TCClassDesc:
		cd, err := p.newClassDesc(off)
		if err != nil {
			return nil, nil, err
		}
		return cd, cd, nil
	case TCProxyClassDesc:
		cd, err := p.newProxyClassDesc(off)
		if err != nil {
			return nil, nil, err
		}
		return cd, cd, nil
	}
	return nil, nil, p.err(off, decode.ErrCorrupt, "expected a class descriptor (TC_CLASSDESC, TC_PROXYCLASSDESC, TC_NULL or TC_REFERENCE), got 0x%02X", tc)
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > p.lim.MaxDepth {
		return p.tooDeep()
	}
	return nil
}

func (p *parser) tooDeep() error {
	return p.err(p.pos, decode.ErrTooLarge, "nesting deeper than %d", p.lim.MaxDepth)
}

// noFields is the (non-nil, empty) field list of a descriptor without fields.
var noFields = []FieldDesc{}

func (p *parser) newClassDesc(off int) (*ClassDesc, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	name, err := p.utf("class name")
	if err != nil {
		return nil, err
	}
	cd, err := p.classDescBody(off, name)
	p.depth--
	if err != nil {
		return nil, withPath(err, pelem{kind: PathDesc, raw: name})
	}
	return cd, nil
}

// classDescBody reads a TC_CLASSDESC after its class name.
func (p *parser) classDescBody(off int, name []byte) (*ClassDesc, error) {
	suid, err := p.u64("serialVersionUID")
	if err != nil {
		return nil, err
	}
	cd := p.allocDesc()
	cd.Off = int64(off)
	cd.NameRaw = name
	cd.SUID = int64(suid)
	cd.Handle = p.newHandle(entry(&p.a.descs, hDesc))
	if cd.Flags, err = p.u8("class flags"); err != nil {
		return nil, err
	}
	cd.name = p.text(name)
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
	if nf == 0 {
		cd.Fields = noFields
	} else {
		cd.Fields = p.a.fields.take(p, int(nf))
	}
	for i := range cd.Fields {
		f := &cd.Fields[i]
		toff := p.pos
		if f.Type, err = p.u8("field type code"); err != nil {
			return nil, err
		}
		if f.NameRaw, err = p.utf("field name"); err != nil {
			return nil, err
		}
		f.name = p.text(f.NameRaw)
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
	super, _, err := p.classDesc()
	if err != nil {
		return err
	}
	cd.Super = super
	return nil
}

func (p *parser) newProxyClassDesc(off int) (*ClassDesc, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	cd, err := p.proxyClassDescBody(off)
	p.depth--
	return cd, err
}

func (p *parser) proxyClassDescBody(off int) (*ClassDesc, error) {
	cd := p.allocDesc()
	cd.Off = int64(off)
	cd.Proxy = true
	cd.Handle = p.newHandle(entry(&p.a.descs, hDesc))
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
	for i := 0; ; i++ {
		if p.pos >= len(p.b) {
			p.truncStack(base)
			return nil, p.err(p.pos, decode.ErrTruncated, "expected a type code, stream ended")
		}
		if p.b[p.pos] == TCEndBlockData {
			p.pos++
			return p.popStack(base), nil
		}
		n, err := p.content(false)
		if err != nil {
			p.truncStack(base)
			return nil, withPath(err, pelem{kind: PathData, idx: i})
		}
		p.stack = append(p.stack, n)
		if p.aborted {
			return p.popStack(base), nil
		}
	}
}

// popStack returns a copy of p.stack[base:] and truncates the stack to base.
func (p *parser) popStack(base int) []Node {
	n := len(p.stack) - base
	if n == 0 {
		return nil
	}
	out := p.takeNodes(n)
	copy(out, p.stack[base:])
	p.truncStack(base)
	return out
}

// truncStack truncates the stack to base entries.
func (p *parser) truncStack(base int) {
	p.smax = max(p.smax, len(p.stack))
	p.stack = p.stack[:base]
}

// hierarchy returns the serializable classes of cd, topmost superclass
// first, computed once per descriptor.
func (p *parser) hierarchy(cd *ClassDesc) ([]*ClassDesc, error) {
	if cd.chain != nil {
		return cd.chain, nil
	}
	n := 0
	for c := cd; c != nil; c = c.SuperDesc() {
		if n > p.lim.MaxDepth {
			return nil, p.err(int(cd.Off), decode.ErrCorrupt, "class %s: superclass chain longer than %d (cycle?)", cd.Name(), p.lim.MaxDepth)
		}
		n++
	}
	chain := p.a.chains.take(p, n)
	for c := cd; c != nil; c = c.SuperDesc() {
		n--
		chain[n] = c
	}
	cd.chain = chain
	return chain, nil
}

// descRef reads, at p.pos, a TC_REFERENCE to a class descriptor, which is
// how an object's class is written but the first time. It returns nil
// (having read nothing) for anything else, including a malformed
// reference, which classDesc then reads and reports.
func (p *parser) descRef() (*Ref, *ClassDesc) {
	q := p.pos
	if len(p.b)-q < 5 || p.b[q] != TCReference {
		return nil, nil
	}
	idx := int64(int32(binary.BigEndian.Uint32(p.b[q+1:]))) - int64(BaseHandle)
	if idx < 0 || idx >= int64(len(p.handles)) {
		return nil, nil
	}
	e := p.handles[idx]
	if e&hKindMask != hDesc {
		return nil, nil
	}
	cd := &p.a.descs.chunks[e>>32][uint32(e)>>3]
	r := p.allocRef()
	r.Off = int64(q)
	r.Handle = BaseHandle + int32(idx)
	r.Target = cd
	p.pos = q + 5
	return r, cd
}

// bodyDesc reads the class descriptor of a TC_OBJECT or TC_ARRAY (what):
// a back-reference read inline, else a full descriptor, which must not be null.
func (p *parser) bodyDesc(what string) (Node, *ClassDesc, error) {
	if r, cd := p.descRef(); cd != nil {
		return r, cd, nil
	}
	descOff := p.pos
	desc, cd, err := p.classDesc()
	if err != nil {
		return nil, nil, err
	}
	if cd == nil {
		return nil, nil, p.err(descOff, decode.ErrCorrupt, what+" has a null class descriptor")
	}
	return desc, cd, nil
}

// objectBody reads a TC_OBJECT after its type code (at off).
func (p *parser) objectBody(off int) (*Object, error) {
	desc, cd, err := p.bodyDesc("TC_OBJECT")
	if err != nil {
		return nil, err
	}
	if p.depth == 1 && p.rootName == nil {
		p.rootName = cd.NameRaw
	}
	o := p.allocObject()
	o.Off = int64(off)
	o.Desc = desc
	o.Class = cd
	o.Handle = p.newHandle(entry(&p.a.objects, hObject))
	if cd.Flags&SCExternalizable != 0 {
		return p.externalizable(o, cd)
	}
	chain := cd.chain
	if chain == nil {
		var err error
		if chain, err = p.hierarchy(cd); err != nil {
			return nil, err
		}
	}
	data := p.takeData(len(chain))
	o.Data = data
	for i, c := range chain {
		d := &data[i]
		if c.Flags&SCWriteMethod != 0 {
			if err := p.classData(c, d); err != nil {
				return nil, err
			}
		} else {
			d.Class = c
			d.DefaultFields = true
			if len(c.Fields) > 0 {
				vals, err := p.fieldValues(c.Fields)
				if err != nil {
					return nil, err
				}
				d.Values = vals
			}
			d.Aborted = p.aborted
		}
		if p.aborted {
			o.Data = data[:i+1]
			o.Aborted = true
			break
		}
	}
	return o, nil
}

// externalizable reads the data of o, whose class cd is Externalizable.
func (p *parser) externalizable(o *Object, cd *ClassDesc) (*Object, error) {
	var err error
	data := p.takeData(1)
	d := &data[0]
	d.Class = cd
	if cd.Flags&SCBlockData != 0 {
		d.HasAnnotation = true
		if d.Annotation, err = p.annotation(); err != nil {
			return nil, err
		}
		d.Aborted = p.aborted
	} else {
		if d.External, err = p.external(cd); err != nil {
			return nil, err
		}
		if d.External == nil {
			d.External = []Node{}
		}
	}
	o.Data = data
	o.Aborted = p.aborted
	return o, nil
}

type savedState struct {
	pos     int
	handles []uint64
	depth   int
}

func (p *parser) save() savedState {
	return savedState{pos: p.pos, handles: p.handles, depth: p.depth}
}

func (p *parser) restore(s savedState) {
	p.pos, p.handles, p.depth, p.aborted = s.pos, s.handles, s.depth, false
}

// classData reads the class data of c into d, which is zero.
func (p *parser) classData(c *ClassDesc, d *ClassData) error {
	d.Class = c
	d.DefaultFields = true
	if c.Flags&SCWriteMethod == 0 {
		vals, err := p.fieldValues(c.Fields)
		d.Values = vals
		d.Aborted = p.aborted
		return err
	}
	d.HasAnnotation = true
	if len(c.Fields) > 0 && p.opt.NoDefaultFields(c.Name()) {
		d.DefaultFields = false
		ann, err := p.annotation()
		d.Annotation, d.Aborted = ann, p.aborted
		return err
	}
	st := p.save()
	vals, err := p.fieldValues(c.Fields)
	if err == nil && p.aborted {
		d.Values, d.Aborted = vals, true
		return nil
	}
	if err == nil {
		var ann []Node
		if ann, err = p.annotation(); err == nil {
			d.Values, d.Annotation, d.Aborted = vals, ann, p.aborted
			return nil
		}
	}
	if len(c.Fields) == 0 {
		return err
	}
	// The bytes are not default fields followed by custom data: read the
	// class data as custom data only (writeObject without defaultWriteObject).
	firstErr := err
	p.restore(st)
	*d = ClassData{Class: c, HasAnnotation: true}
	ann, err := p.annotation()
	if err != nil {
		// Report whichever reading got further into the stream.
		return furthest(firstErr, err)
	}
	d.Annotation, d.Aborted = ann, p.aborted
	return nil
}

// furthest returns the error of the reading that got further, or the one
// that ran out of budget (the other reading may have failed only because
// of it).
func furthest(a, b error) error {
	ea, okA := a.(*perr)
	eb, okB := b.(*perr)
	if okA && okB && errors.Is(ea.e, decode.ErrTooLarge) != errors.Is(eb.e, decode.ErrTooLarge) {
		if errors.Is(ea.e, decode.ErrTooLarge) {
			return a
		}
		return b
	}
	if okA && okB && eb.e.Offset > ea.e.Offset {
		return b
	}
	return a
}

// primSizes maps a type code to its primitive's wire size (0: not primitive).
var primSizes = [256]uint8{'B': 1, 'Z': 1, 'C': 2, 'S': 2, 'I': 4, 'F': 4, 'J': 8, 'D': 8}

func (p *parser) fieldValues(fs []FieldDesc) ([]Value, error) {
	if len(fs) == 0 {
		return nil, nil
	}
	vals := p.takeValues(len(fs))
	for i := range fs {
		f := &fs[i]
		v := &vals[i]
		v.Type = f.Type
		if sz := int(primSizes[f.Type]); sz > 0 {
			b := p.b[p.pos:]
			if len(b) < sz {
				err := p.err(p.pos, decode.ErrTruncated, "expected %d bytes of %c field value, only %d left", sz, f.Type, len(b))
				return nil, withPath(err, pelem{kind: PathField, raw: f.NameRaw})
			}
			switch sz {
			case 1:
				v.Bits = uint64(b[0])
			case 2:
				v.Bits = uint64(binary.BigEndian.Uint16(b))
			case 4:
				v.Bits = uint64(binary.BigEndian.Uint32(b))
			default:
				v.Bits = binary.BigEndian.Uint64(b)
			}
			p.pos += sz
			continue
		}
		if q := p.pos; q < len(p.b) && p.b[q] == TCNull && p.budget > 0 {
			// null, the commonest object value, read directly
			p.budget--
			n := p.allocNull()
			n.Off = int64(q)
			p.pos = q + 1
			v.Obj = n
			continue
		}
		n, err := p.object(false)
		if err != nil {
			return nil, withPath(err, pelem{kind: PathField, raw: f.NameRaw})
		}
		v.Obj = n
		if p.aborted {
			return vals[:i+1], nil
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
	if p.depth != 1 {
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
		p.budget--
		if p.budget < 0 {
			return nil, p.overBudget()
		}
		if startsObject(p.b[p.pos]) {
			st := p.save()
			n, err := p.object(false)
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
	// q allocates from p's arena, which the handle entries it starts
	// with refer to. Afterwards the chunks q started are forgotten, so
	// what it read can be collected.
	q := &parser{b: p.b, pos: from, opt: p.opt, lim: p.lim, budget: p.budget, a: p.a, tree: p.tree, maxTree: p.maxTree}
	q.handles = append([]uint64(nil), p.handles...)
	m := p.a.mark()
	defer func() { p.budget, p.tree = q.budget, q.tree; p.a.release(m) }()
	for q.pos < len(q.b) {
		q.rootName = nil
		if _, err := q.content(true); err != nil {
			return false
		}
		q.aborted = false
	}
	return true
}

func (p *parser) arrayBody(off int) (*Array, error) {
	desc, cd, err := p.bodyDesc("TC_ARRAY")
	if err != nil {
		return nil, err
	}
	if len(cd.NameRaw) < 2 || cd.NameRaw[0] != '[' {
		return nil, p.err(int(cd.Off), decode.ErrCorrupt, "array class name %q does not start with '['", cd.NameRaw)
	}
	if p.depth == 1 && p.rootName == nil {
		p.rootName = cd.NameRaw
	}
	a := p.allocArray()
	a.Off = int64(off)
	a.Desc = desc
	a.Class = cd
	a.Elem = cd.NameRaw[1]
	a.Handle = p.newHandle(entry(&p.a.arrays, hArray))
	n, err := p.u32("array length")
	if err != nil {
		return nil, err
	}
	if int32(n) < 0 {
		return nil, p.err(p.pos-4, decode.ErrCorrupt, "array of %s with negative length %d", cd.Name(), int32(n))
	}
	a.Length = int32(n)
	if sz := primSizes[a.Elem]; sz > 0 {
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
	elems := p.takeNodes(int(n))
	for i := range elems {
		e, err := p.object(false)
		if err != nil {
			return nil, withPath(err, pelem{kind: PathIndex, idx: i})
		}
		elems[i] = e
		if p.aborted {
			elems = elems[:i+1]
			a.Aborted = true
			break
		}
	}
	a.Elems = elems
	return a, nil
}

func (p *parser) newClass(off int) (Node, error) {
	descOff := p.pos
	desc, cd, err := p.classDesc()
	if err != nil {
		return nil, err
	}
	if cd == nil {
		return nil, p.err(descOff, decode.ErrCorrupt, "TC_CLASS has a null class descriptor")
	}
	c := p.a.classes.new(p)
	c.Off, c.Desc, c.Class = int64(off), desc, cd
	c.Handle = p.newHandle(entry(&p.a.classes, hClass))
	return c, nil
}

func (p *parser) newEnum(off int) (Node, error) {
	descOff := p.pos
	desc, cd, err := p.classDesc()
	if err != nil {
		return nil, err
	}
	if cd == nil {
		return nil, p.err(descOff, decode.ErrCorrupt, "TC_ENUM has a null class descriptor")
	}
	e := p.a.enums.new(p)
	e.Off, e.Desc, e.Class = int64(off), desc, cd
	e.Handle = p.newHandle(entry(&p.a.enums, hEnum))
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
		if r, err = p.ref(noff); err == nil {
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
