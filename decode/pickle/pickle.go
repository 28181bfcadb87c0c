// Package pickle reads Python pickles as a flat list of opcodes, far enough
// to list every string constant with its offset, and re-encodes them byte
// for byte, with edited strings (spec dstream-format.md §4.6).
//
// PySpark stores cloudpickled functions inside DStream checkpoints
// (TransformFunction: i32 length + pickle). Their strings include absolute
// paths (co_filename), module names and captured values such as output
// URIs. Nothing is ever executed or reconstructed: the package walks
// opcodes only.
//
// # Wire format
//
// A pickle is a sequence of opcodes, each a one-byte code followed by its
// argument: fixed-size integers, newline-terminated text (protocol 0), or a
// length-prefixed payload. String opcodes and their length fields:
//
//	SHORT_BINUNICODE 0x8C u8      BINUNICODE 'X' u32 LE    BINUNICODE8 0x8D u64 LE
//	SHORT_BINSTRING  'U'  u8      BINSTRING  'T' i32 LE
//	SHORT_BINBYTES   'C'  u8      BINBYTES   'B' u32 LE    BINBYTES8   0x8E u64 LE
//	BYTEARRAY8       0x96 u64 LE
//
// Protocol 4 and 5 group opcodes into FRAMEs: FRAME (0x95) + u64 LE length
// of the opcodes up to the next frame. Encode recomputes a frame's length
// when an edit changes the size of an opcode inside it.
//
// # Security
//
// Lengths are checked against the bytes remaining before any slice is
// taken; nothing is allocated from a declared length. Parsing stops at the
// STOP opcode; bytes after it are kept verbatim.
package pickle

import (
	"bytes"
	"encoding/binary"
	"unicode/utf8"

	"github.com/sparkckpt/sparkckpt/decode"
)

// Opcodes that carry strings or frame lengths.
const (
	opFrame           = 0x95
	opProto           = 0x80
	opStop            = '.'
	opShortBinUnicode = 0x8C
	opBinUnicode      = 'X'
	opBinUnicode8     = 0x8D
	opShortBinString  = 'U'
	opBinString       = 'T'
	opShortBinBytes   = 'C'
	opBinBytes        = 'B'
	opBinBytes8       = 0x8E
	opByteArray8      = 0x96
	opGlobal          = 'c'
	opInst            = 'i'
	opString          = 'S'
	opUnicode         = 'V'
)

// argument kinds
const (
	argNone  = iota
	argFixed // n bytes
	argLine  // newline-terminated
	argLine2 // two newline-terminated lines
	argLen1  // u8 length + payload
	argLen4  // u32/i32 LE length + payload
	argLen8  // u64 LE length + payload
)

type opInfo struct {
	name string
	kind int
	n    int
}

var opTable = func() [256]opInfo {
	var t [256]opInfo
	set := func(c byte, name string, kind, n int) { t[c] = opInfo{name, kind, n} }
	for _, c := range []struct {
		c    byte
		name string
	}{{'(', "MARK"}, {'.', "STOP"}, {'0', "POP"}, {'1', "POP_MARK"}, {'2', "DUP"}, {'N', "NONE"}, {'Q', "BINPERSID"},
		{'R', "REDUCE"}, {'a', "APPEND"}, {'b', "BUILD"}, {'d', "DICT"}, {'}', "EMPTY_DICT"}, {'e', "APPENDS"}, {'l', "LIST"},
		{']', "EMPTY_LIST"}, {'o', "OBJ"}, {'s', "SETITEM"}, {'t', "TUPLE"}, {')', "EMPTY_TUPLE"}, {'u', "SETITEMS"},
		{0x81, "NEWOBJ"}, {0x85, "TUPLE1"}, {0x86, "TUPLE2"}, {0x87, "TUPLE3"}, {0x88, "NEWTRUE"}, {0x89, "NEWFALSE"},
		{0x8F, "EMPTY_SET"}, {0x90, "ADDITEMS"}, {0x91, "FROZENSET"}, {0x92, "NEWOBJ_EX"}, {0x93, "STACK_GLOBAL"},
		{0x94, "MEMOIZE"}, {0x97, "NEXT_BUFFER"}, {0x98, "READONLY_BUFFER"}} {
		set(c.c, c.name, argNone, 0)
	}
	for _, c := range []struct {
		c    byte
		name string
		n    int
	}{{'J', "BININT", 4}, {'K', "BININT1", 1}, {'M', "BININT2", 2}, {'h', "BINGET", 1}, {'j', "LONG_BINGET", 4},
		{'q', "BINPUT", 1}, {'r', "LONG_BINPUT", 4}, {'G', "BINFLOAT", 8}, {0x80, "PROTO", 1}, {0x82, "EXT1", 1},
		{0x83, "EXT2", 2}, {0x84, "EXT4", 4}, {0x95, "FRAME", 8}} {
		set(c.c, c.name, argFixed, c.n)
	}
	for _, c := range []struct {
		c    byte
		name string
	}{{'F', "FLOAT"}, {'I', "INT"}, {'L', "LONG"}, {'P', "PERSID"}, {'S', "STRING"}, {'V', "UNICODE"}, {'g', "GET"}, {'p', "PUT"}} {
		set(c.c, c.name, argLine, 0)
	}
	set('c', "GLOBAL", argLine2, 0)
	set('i', "INST", argLine2, 0)
	set('U', "SHORT_BINSTRING", argLen1, 0)
	set('C', "SHORT_BINBYTES", argLen1, 0)
	set(0x8C, "SHORT_BINUNICODE", argLen1, 0)
	set(0x8A, "LONG1", argLen1, 0)
	set('T', "BINSTRING", argLen4, 0)
	set('X', "BINUNICODE", argLen4, 0)
	set('B', "BINBYTES", argLen4, 0)
	set(0x8B, "LONG4", argLen4, 0)
	set(0x8D, "BINUNICODE8", argLen8, 0)
	set(0x8E, "BINBYTES8", argLen8, 0)
	set(0x96, "BYTEARRAY8", argLen8, 0)
	return t
}()

// Op is one opcode as read.
type Op struct {
	Off  int    // offset of the opcode byte in the pickle
	Code byte   // the opcode
	Arg  []byte // the argument bytes exactly as read (length prefix included)
	// Data is the payload of a length-prefixed opcode (a string or bytes),
	// or the text of a newline-terminated one (without the newline); it
	// aliases Arg.
	Data   []byte
	edited bool
}

// Name returns the opcode's name, e.g. "SHORT_BINUNICODE".
func (o *Op) Name() string { return opTable[o.Code].name }

// Pickle is a parsed pickle: its opcodes up to and including STOP, and
// any bytes after STOP.
type Pickle struct {
	Protocol int // from PROTO, 0 if absent
	Ops      []Op
	Trailing []byte
}

// Parse reads a pickle. Errors are *decode.Error with Format "pickle".
func Parse(b []byte) (*Pickle, error) {
	p := &Pickle{}
	pos := 0
	for {
		if pos >= len(b) {
			return nil, decode.Errorf("pickle", int64(pos), decode.ErrTruncated, "expected an opcode (no STOP before the end)")
		}
		off := pos
		code := b[pos]
		info := opTable[code]
		if info.name == "" {
			return nil, decode.Errorf("pickle", int64(off), decode.ErrCorrupt, "unknown opcode 0x%02X", code)
		}
		pos++
		op := Op{Off: off, Code: code}
		rest := b[pos:]
		switch info.kind {
		case argFixed:
			if len(rest) < info.n {
				return nil, decode.Errorf("pickle", int64(off), decode.ErrTruncated, "%s expects %d argument bytes, %d left", info.name, info.n, len(rest))
			}
			op.Arg = rest[:info.n]
		case argLine, argLine2:
			lines := 1
			if info.kind == argLine2 {
				lines = 2
			}
			n := 0
			for l := 0; l < lines; l++ {
				i := bytes.IndexByte(rest[n:], '\n')
				if i < 0 {
					return nil, decode.Errorf("pickle", int64(off), decode.ErrTruncated, "%s expects a newline-terminated argument", info.name)
				}
				n += i + 1
			}
			op.Arg = rest[:n]
			op.Data = rest[:n-1]
		case argLen1, argLen4, argLen8:
			w := map[int]int{argLen1: 1, argLen4: 4, argLen8: 8}[info.kind]
			if len(rest) < w {
				return nil, decode.Errorf("pickle", int64(off), decode.ErrTruncated, "%s expects a %d-byte length, %d left", info.name, w, len(rest))
			}
			var n uint64
			switch w {
			case 1:
				n = uint64(rest[0])
			case 4:
				n = uint64(binary.LittleEndian.Uint32(rest))
				if code == opBinString || code == 0x8B {
					if int32(n) < 0 {
						return nil, decode.Errorf("pickle", int64(off), decode.ErrCorrupt, "%s with negative length %d", info.name, int32(n))
					}
				}
			case 8:
				n = binary.LittleEndian.Uint64(rest)
			}
			if n > uint64(len(rest)-w) {
				return nil, decode.Errorf("pickle", int64(off), decode.ErrTruncated, "%s declares %d bytes, only %d left", info.name, n, len(rest)-w)
			}
			op.Arg = rest[:w+int(n)]
			op.Data = rest[w : w+int(n)]
		}
		pos += len(op.Arg)
		if code == opProto {
			p.Protocol = int(op.Arg[0])
		}
		p.Ops = append(p.Ops, op)
		if code == opStop {
			p.Trailing = b[pos:]
			return p, nil
		}
	}
}

// String is a string (or bytes) constant found in a pickle.
type String struct {
	Op     int    // index into Pickle.Ops
	Off    int    // offset of the opcode in the pickle
	Opcode string // e.g. "SHORT_BINUNICODE", "GLOBAL"
	Kind   string // "str" (text), "bytes", or "global" (module and name of a GLOBAL/INST)
	Value  string
	// Editable reports whether SetString can change it (length-prefixed text).
	Editable bool
}

// Strings lists the string constants in opcode order.
func (p *Pickle) Strings() []String {
	var out []String
	for i := range p.Ops {
		op := &p.Ops[i]
		s := String{Op: i, Off: op.Off, Opcode: op.Name()}
		switch op.Code {
		case opShortBinUnicode, opBinUnicode, opBinUnicode8, opShortBinString, opBinString:
			s.Kind, s.Value, s.Editable = "str", string(op.Data), true
			if !utf8.Valid(op.Data) {
				s.Kind, s.Editable = "bytes", false
			}
		case opShortBinBytes, opBinBytes, opBinBytes8, opByteArray8:
			s.Kind, s.Value = "bytes", string(op.Data)
		case opGlobal, opInst:
			s.Kind, s.Value = "global", string(bytes.ReplaceAll(op.Data, []byte{'\n'}, []byte{' '}))
		case opString, opUnicode:
			s.Kind, s.Value = "str", string(op.Data)
		default:
			continue
		}
		out = append(out, s)
	}
	return out
}

// SetString replaces the text of the string opcode at Ops[i]. The opcode
// is chosen as Python's pickler would for the new length: for text,
// SHORT_BINUNICODE up to 255 bytes under protocol 4+, else BINUNICODE
// (BINUNICODE8 beyond 4 GiB); a Python 2 str keeps SHORT_BINSTRING up to
// 255 bytes, else BINSTRING.
func (p *Pickle) SetString(i int, v string) error {
	if i < 0 || i >= len(p.Ops) {
		return decode.Errorf("pickle", 0, decode.ErrUnsupported, "no opcode %d", i)
	}
	op := &p.Ops[i]
	n := len(v)
	switch op.Code {
	case opShortBinUnicode, opBinUnicode, opBinUnicode8:
		switch {
		case n <= 0xFF && p.Protocol >= 4:
			op.Code = opShortBinUnicode
		case n <= 0xFFFFFFFF:
			op.Code = opBinUnicode
		default:
			op.Code = opBinUnicode8
		}
	case opShortBinString, opBinString:
		if n <= 0xFF {
			op.Code = opShortBinString
		} else {
			op.Code = opBinString
		}
	default:
		return decode.Errorf("pickle", int64(op.Off), decode.ErrUnsupported, "%s at offset %d is not an editable string", op.Name(), op.Off)
	}
	var arg []byte
	switch opTable[op.Code].kind {
	case argLen1:
		arg = append([]byte{byte(n)}, v...)
	case argLen4:
		arg = binary.LittleEndian.AppendUint32(nil, uint32(n))
		arg = append(arg, v...)
	case argLen8:
		arg = binary.LittleEndian.AppendUint64(nil, uint64(n))
		arg = append(arg, v...)
	}
	op.Arg = arg
	op.Data = arg[len(arg)-n:]
	op.edited = true
	return nil
}

// Encode returns the pickle's bytes. Without edits it is exactly the input
// Parse read. After SetString, every FRAME whose opcodes changed size gets
// its new length.
func (p *Pickle) Encode() []byte {
	size := 0
	for i := range p.Ops {
		size += 1 + len(p.Ops[i].Arg)
	}
	out := make([]byte, 0, size+len(p.Trailing))
	frameAt := -1  // index in out of the current FRAME's length field
	frameEnd := -1 // offset in the original pickle where the current frame ends
	frameDirty := false
	closeFrame := func() {
		if frameAt >= 0 && frameDirty {
			binary.LittleEndian.PutUint64(out[frameAt:], uint64(len(out)-frameAt-8))
		}
		frameAt, frameEnd, frameDirty = -1, -1, false
	}
	for i := range p.Ops {
		op := &p.Ops[i]
		if frameAt >= 0 && op.Off >= frameEnd {
			// Opcodes past the frame's original extent (e.g. the C pickler's
			// large strings) stay outside it.
			closeFrame()
		}
		if op.Code == opFrame {
			closeFrame()
			out = append(out, op.Code)
			frameAt = len(out)
			frameEnd = op.Off + 1 + len(op.Arg) + int(binary.LittleEndian.Uint64(op.Arg))
			out = append(out, op.Arg...)
			continue
		}
		if op.edited {
			frameDirty = true
		}
		out = append(out, op.Code)
		out = append(out, op.Arg...)
	}
	closeFrame()
	return append(out, p.Trailing...)
}
