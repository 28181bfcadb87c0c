package javaser

import (
	"encoding/binary"
	"unsafe"
)

// slab hands out pointers into chunks of T, so a parse makes a few
// allocations instead of one per node. A chunk is sized for what the rest
// of the stream is predicted to need (see refill), at most 32 KiB (the Go
// allocator's small-object limit), so small streams stay small and large
// ones waste little at the end of their last chunk.
type slab[T any] struct {
	buf  []T
	used int // Ts handed out from earlier chunks
	per  int // prior: stream bytes per T, for sizing the first chunk
}

// maxChunk is the number of Ts in 32 KiB.
func (s *slab[T]) maxChunk() int {
	var zero T
	return max(1, 32<<10/int(unsafe.Sizeof(zero)))
}

func (s *slab[T]) new(p *parser) *T {
	if len(s.buf) == cap(s.buf) {
		s.refill(p, 1)
	}
	s.buf = s.buf[:len(s.buf)+1]
	return &s.buf[len(s.buf)-1]
}

// take returns a zeroed slice of n elements whose capacity is n, so an
// append never writes into a neighbour.
func (s *slab[T]) take(p *parser, n int) []T {
	if n == 0 {
		return nil
	}
	if cap(s.buf)-len(s.buf) < n {
		if n > 256 {
			return make([]T, n)
		}
		s.refill(p, n)
	}
	start := len(s.buf)
	s.buf = s.buf[:start+n]
	return s.buf[start : start+n : start+n]
}

// refill starts a new chunk with room for at least n Ts. Its size is the
// number of Ts the rest of the stream needs at the rate the parse has used
// them so far (at the prior rate for the first chunk), plus an eighth, but
// at most the number used so far: the total at most doubles per chunk.
func (s *slab[T]) refill(p *parser, n int) {
	s.used += len(s.buf)
	done, left := int64(p.pos), int64(max(len(p.b)-p.pos, 0))
	var want int64
	if s.used > 0 && done > 0 {
		want = int64(s.used) * left / done
	} else {
		// The prior is only a guess: streams differ a lot (a byte array
		// of megabytes, or ten objects in a hundred bytes).
		want = min(left/int64(max(s.per, 1)), 32)
	}
	// Kinds of node that crowd the start of a stream (class descriptors)
	// would be overestimated, so a chunk is at most what was used so far.
	want = min(want+want/8+4, int64(s.used)+16, int64(s.maxChunk()))
	size := max(int(want), n)
	s.buf = make([]T, 0, size)
}

// text returns raw (modified UTF-8) decoded. Plain ASCII, what class and
// field names almost always are, is copied into a chunk of the parse's
// text, so the names of a stream share a few allocations. The bytes of a
// chunk are never written again once a string refers to them.
func (p *parser) text(raw []byte) string {
	if len(raw) == 0 || !plainASCII(raw) {
		return DecodeMUTF8(raw)
	}
	t := p.a.text
	if cap(t)-len(t) < len(raw) {
		t = make([]byte, 0, max(len(raw), min(max(2*cap(t), 256), 8<<10)))
	}
	n := len(t)
	t = append(t, raw...)
	p.a.text = t
	return unsafe.String(&t[n], len(raw))
}

// plainASCII reports whether b has no NUL and no byte above 0x7F, so its
// modified UTF-8 decoding is b itself.
func plainASCII(b []byte) bool {
	const hi, lo = 0x8080808080808080, 0x0101010101010101
	for len(b) >= 8 {
		x := binary.LittleEndian.Uint64(b)
		if (x|(x-lo)&^x)&hi != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c == 0 || c >= 0x80 {
			return false
		}
	}
	return true
}

// arena holds the slabs of one parse.
type arena struct {
	text    []byte
	objects slab[Object]
	strings slab[String]
	refs    slab[Ref]
	nulls   slab[Null]
	arrays  slab[Array]
	values  slab[Value]
	data    slab[ClassData]
	nodes   slab[Node]
	descs   slab[ClassDesc]
	fields  slab[FieldDesc]
	chains  slab[*ClassDesc]
	blocks  slab[BlockData]
	chunks  slab[Chunk]
}

// init sets the priors: stream bytes per node of each kind, as measured
// over real Spark checkpoints and RDD part files.
func (a *arena) init() {
	a.objects.per = 64
	a.strings.per = 200
	a.refs.per = 40
	a.nulls.per = 180
	a.arrays.per = 250
	a.values.per = 30
	a.data.per = 56
	a.nodes.per = 60
	a.descs.per = 500
	a.fields.per = 250
	a.chains.per = 300
	a.blocks.per = 1500
	a.chunks.per = 1500
}
