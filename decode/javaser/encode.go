package javaser

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Encode returns the stream's bytes. For a stream from Parse with no
// edits, Encode(Parse(b)) == b byte for byte: every tag, length form,
// block-data record boundary and handle reference is written as read
// (spec §3.9). Edited strings and block-data runs are written as the JDK
// would write them.
func Encode(s *Stream) ([]byte, error) {
	var dst []byte
	if s.size > 0 {
		// Unedited, a parsed stream encodes to as many bytes as were read.
		dst = make([]byte, 0, s.size)
	}
	return AppendStream(dst, s)
}

// WriteTo writes the encoded stream to w.
func (s *Stream) WriteTo(w io.Writer) (int64, error) {
	b, err := Encode(s)
	if err != nil {
		return 0, err
	}
	n, err := w.Write(b)
	return int64(n), err
}

// AppendStream appends the encoding of s to dst.
func AppendStream(dst []byte, s *Stream) ([]byte, error) {
	e := encoder{b: dst}
	e.u16(s.Magic)
	e.u16(s.Version)
	for _, n := range s.Contents {
		e.node(n)
	}
	return e.b, e.err
}

// AppendNode appends the encoding of a single node (and everything it
// contains) to dst. References are written as references: the caller is
// responsible for the handle table they refer to.
func AppendNode(dst []byte, n Node) ([]byte, error) {
	e := encoder{b: dst}
	e.node(n)
	return e.b, e.err
}

type encoder struct {
	b   []byte
	err error
}

func (e *encoder) u8(v byte)    { e.b = append(e.b, v) }
func (e *encoder) u16(v uint16) { e.b = binary.BigEndian.AppendUint16(e.b, v) }
func (e *encoder) u32(v uint32) { e.b = binary.BigEndian.AppendUint32(e.b, v) }
func (e *encoder) u64(v uint64) { e.b = binary.BigEndian.AppendUint64(e.b, v) }

func (e *encoder) utf(b []byte) {
	if len(b) > 0xFFFF {
		e.fail("name of %d bytes does not fit a u16 length", len(b))
		b = b[:0xFFFF]
	}
	e.u16(uint16(len(b)))
	e.b = append(e.b, b...)
}

func (e *encoder) fail(format string, args ...any) {
	if e.err == nil {
		e.err = fmt.Errorf("javaser: encode: "+format, args...)
	}
}

func (e *encoder) node(n Node) {
	switch n := n.(type) {
	case nil:
		e.fail("nil node")
	case *Null:
		e.u8(TCNull)
	case *Reset:
		e.u8(TCReset)
	case *Ref:
		e.u8(TCReference)
		e.u32(uint32(n.Handle))
	case *String:
		e.str(n)
	case *ClassDesc:
		e.classDesc(n)
	case *Object:
		e.object(n)
	case *Array:
		e.array(n)
	case *Enum:
		e.u8(TCEnum)
		e.node(n.Desc)
		e.node(n.Constant)
	case *Class:
		e.u8(TCClass)
		e.node(n.Desc)
	case *BlockData:
		e.blockData(n)
	case *Exception:
		e.u8(TCException)
		e.node(n.Throwable)
	case *Raw:
		e.b = append(e.b, n.Data...)
	default:
		e.fail("unknown node type %T", n)
	}
}

func (e *encoder) str(s *String) {
	if s.Long {
		e.u8(TCLongString)
		e.u64(uint64(len(s.Raw)))
	} else {
		if len(s.Raw) > 0xFFFF {
			e.fail("TC_STRING of %d bytes (more than 65535 needs TC_LONGSTRING)", len(s.Raw))
		}
		e.u8(TCString)
		e.u16(uint16(len(s.Raw)))
	}
	e.b = append(e.b, s.Raw...)
}

func (e *encoder) classDesc(c *ClassDesc) {
	if c.Proxy {
		e.u8(TCProxyClassDesc)
		e.u32(uint32(len(c.Interfaces)))
		for _, i := range c.Interfaces {
			e.utf(i)
		}
	} else {
		e.u8(TCClassDesc)
		e.utf(c.NameRaw)
		e.u64(uint64(c.SUID))
		e.u8(c.Flags)
		e.u16(uint16(len(c.Fields)))
		for i := range c.Fields {
			f := &c.Fields[i]
			e.u8(f.Type)
			e.utf(f.NameRaw)
			if f.ClassName != nil {
				e.node(f.ClassName)
			}
		}
	}
	e.contents(c.Annotation, !c.Aborted)
	if !c.Aborted {
		e.node(c.Super)
	}
}

// contents writes custom data, closed by TC_ENDBLOCKDATA unless the data was aborted.
func (e *encoder) contents(ns []Node, end bool) {
	for _, n := range ns {
		e.node(n)
	}
	if end {
		e.u8(TCEndBlockData)
	}
}

func (e *encoder) object(o *Object) {
	e.u8(TCObject)
	e.node(o.Desc)
	for i := range o.Data {
		d := &o.Data[i]
		for _, v := range d.Values {
			e.value(v)
		}
		switch {
		case d.HasAnnotation:
			e.contents(d.Annotation, !d.Aborted)
		case d.External != nil:
			for _, n := range d.External {
				e.node(n)
			}
		}
	}
}

func (e *encoder) value(v Value) {
	if sz := primSize(v.Type); sz > 0 && v.Obj == nil {
		for i := sz - 1; i >= 0; i-- {
			e.b = append(e.b, byte(v.Bits>>(8*i)))
		}
		return
	}
	e.node(v.Obj)
}

func (e *encoder) array(a *Array) {
	e.u8(TCArray)
	e.node(a.Desc)
	e.u32(uint32(a.Length))
	if primSize(a.Elem) > 0 {
		e.b = append(e.b, a.Prims...)
		return
	}
	for _, n := range a.Elems {
		e.node(n)
	}
}

func (e *encoder) blockData(bd *BlockData) {
	chunks := bd.Chunks
	if chunks == nil {
		chunks = Segment(len(bd.Data))
	}
	off := 0
	for _, c := range chunks {
		if c.Len < 0 || off+c.Len > len(bd.Data) {
			e.fail("block data chunks cover %d bytes, data has %d", off+c.Len, len(bd.Data))
			return
		}
		if c.Long {
			e.u8(TCBlockDataLong)
			e.u32(uint32(c.Len))
		} else {
			if c.Len > 0xFF {
				e.fail("TC_BLOCKDATA chunk of %d bytes (more than 255 needs TC_BLOCKDATALONG)", c.Len)
			}
			e.u8(TCBlockData)
			e.u8(byte(c.Len))
		}
		e.b = append(e.b, bd.Data[off:off+c.Len]...)
		off += c.Len
	}
	if off != len(bd.Data) {
		e.fail("block data chunks cover %d bytes, data has %d", off, len(bd.Data))
	}
}

// Segment returns the records ObjectOutputStream writes for an n-byte run
// of block data (spec §3.6): 1024-byte records and a shorter last one, each
// TC_BLOCKDATA when at most 255 bytes long, TC_BLOCKDATALONG otherwise.
func Segment(n int) []Chunk {
	var out []Chunk
	for n > 0 {
		c := min(n, MaxBlockChunk)
		out = append(out, Chunk{Long: c > 0xFF, Len: c})
		n -= c
	}
	return out
}
