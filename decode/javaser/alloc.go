package javaser

import (
	"encoding/binary"
	"unsafe"
)

// slab hands out pointers into chunks of T, so a parse makes a few
// allocations instead of one per node. A chunk is sized for what the rest
// of the stream is predicted to need (see refill), at most 32 KiB (the Go
// allocator's small-object limit, see maxChunk), so small streams stay
// small and large ones waste little at the end of their last chunk.
type slab[T any] struct {
	buf  []T
	used int // Ts handed out from earlier chunks
	per  int // prior: stream bytes per T, for sizing the first chunk
	// chunks lists every chunk at full length, for the handle table
	// entries of the kinds of node that get handles (track), in chunks0
	// while there are few.
	track   bool
	chunks  [][]T
	chunks0 [4][]T
	// keep is set in the arena of a Parser, whose chunks serve parse
	// after parse: then chunks lists every chunk this parse has handed
	// out, and the slots past its length, up to len(dirty), hold the
	// spares, chunks of earlier parses not handed out again yet (nil
	// where one was dropped). Chunks are then all maxChunk long.
	keep bool
	// dirty[i] is how many leading Ts of chunk i may be non-zero (keep
	// only): the rest of a kept chunk is always zero.
	dirty []int
}

// maxChunk is the number of Ts in 32 KiB less the 8-byte header the Go
// allocator puts before a pointerful object over 512 bytes: a bigger
// chunk would be a large object, with a span of its own.
func (s *slab[T]) maxChunk() int {
	var zero T
	return max(1, (32<<10-8)/int(unsafe.Sizeof(zero)))
}

func (s *slab[T]) elemSize() int {
	var zero T
	return int(unsafe.Sizeof(zero))
}

// sizeClasses are the Go allocator's size classes from 576 bytes up
// (internal/runtime/gc); an allocation is rounded up to one.
var sizeClasses = [...]int{576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768}

// fitClass returns n, or more if that many elements of size es still
// fit the size class a chunk of n is rounded up to (its 8-byte header
// included), which is allocated and zeroed anyway.
func fitClass(n, es int) int {
	b := n*es + 8
	if b <= 512 || b > 32<<10 {
		return n
	}
	for _, c := range sizeClasses {
		if c >= b {
			return (c - 8) / es
		}
	}
	return n
}

// keptChunkSize is the length of the byte chunks of a Parser's arena
// (text and block data).
const keptChunkSize = 32 << 10

func (s *slab[T]) new(p *parser) *T {
	if len(s.buf) == cap(s.buf) {
		s.refill(p, 1)
	}
	p.grew(s.elemSize())
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
		if n > 256 && (!s.keep || n > s.maxChunk()) {
			p.grew(n * s.elemSize())
			return make([]T, n)
		}
		s.refill(p, n)
	}
	p.grew(n * s.elemSize())
	start := len(s.buf)
	s.buf = s.buf[:start+n]
	return s.buf[start : start+n : start+n]
}

// refill starts a new chunk with room for at least n Ts. Its size is the
// number of Ts the rest of the stream needs at the rate the parse has used
// them so far (at the prior rate for the first chunk), plus an eighth, but
// at most the number used so far: the total at most doubles per chunk.
func (s *slab[T]) refill(p *parser, n int) {
	if s.keep {
		s.next()
		return
	}
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
	size := fitClass(max(int(want), n), s.elemSize())
	s.buf = make([]T, 0, size)
	if s.track {
		if s.chunks == nil {
			s.chunks = s.chunks0[:0]
		}
		s.chunks = append(s.chunks, s.buf[:size])
	}
}

// Kinds of node a handle can be assigned to, the low bits of a handle
// table entry.
const (
	hObject uint64 = iota
	hArray
	hString
	hDesc
	hClass
	hEnum

	hKindMask = 7
)

// entry returns the handle table entry of the node s handed out last: its
// kind, chunk and index. Entries name nodes by place rather than by
// pointer, so the table (written for every object, array, string and
// descriptor) costs no write barriers and needs no clearing.
func entry[T any](s *slab[T], kind uint64) uint64 {
	return uint64(len(s.chunks)-1)<<32 | uint64(len(s.buf)-1)<<3 | kind
}

// handle returns the node of entry e.
func (p *parser) handle(e uint64) Node {
	c, i := e>>32, uint32(e)>>3
	switch e & hKindMask {
	case hObject:
		return &p.a.objects.chunks[c][i]
	case hArray:
		return &p.a.arrays.chunks[c][i]
	case hString:
		return &p.a.strings.chunks[c][i]
	case hDesc:
		return &p.a.descs.chunks[c][i]
	case hClass:
		return &p.a.classes.chunks[c][i]
	default:
		return &p.a.enums.chunks[c][i]
	}
}

// arenaMark is the number of chunks of each kind of node with handles.
type arenaMark [6]int

func (a *arena) mark() arenaMark {
	return arenaMark{len(a.objects.chunks), len(a.arrays.chunks), len(a.strings.chunks), len(a.descs.chunks), len(a.classes.chunks), len(a.enums.chunks)}
}

// release forgets the chunks of nodes with handles started since m; the
// next such node starts a new chunk.
func (a *arena) release(m arenaMark) {
	forget(&a.objects, m[0])
	forget(&a.arrays, m[1])
	forget(&a.strings, m[2])
	forget(&a.descs, m[3])
	forget(&a.classes, m[4])
	forget(&a.enums, m[5])
}

func forget[T any](s *slab[T], n int) {
	if len(s.chunks) == n {
		return
	}
	if s.keep {
		// The chunks become spares again: the next such node starts
		// chunk n, which is cleared where the look-ahead wrote it.
		s.end()
		s.chunks = s.chunks[:n]
		return
	}
	clear(s.chunks[n:])
	s.chunks = s.chunks[:n]
	s.used += len(s.buf)
	s.buf = nil
}

// text returns raw (modified UTF-8) decoded. Plain ASCII, what class and
// field names almost always are, is copied into a chunk of the parse's
// text, so the names of a stream share a few allocations. The bytes of a
// chunk are never written again once a string refers to them.
func (p *parser) text(raw []byte) string {
	if len(raw) == 0 || !plainASCII(raw) {
		p.grew(2 * len(raw))
		return DecodeMUTF8(raw)
	}
	return p.textString(raw)
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

// arena holds the slabs of one parse, or of every parse of a Parser.
type arena struct {
	// text is the current byte chunk: names, and in a Parser's arena
	// block-data runs of several records too.
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
	classes slab[Class]
	enums   slab[Enum]
	chunks  slab[Chunk]

	// keep marks the arena of a Parser (see slab.keep). Its byte chunks
	// are texts, the first ntexts of them handed out by this parse.
	keep   bool
	texts  [][]byte
	ntexts int
	stream Stream // the Stream a Parser returns
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
	a.classes.per = 4000
	a.enums.per = 4000
	a.objects.track = true
	a.arrays.track = true
	a.strings.track = true
	a.descs.track = true
	a.classes.track = true
	a.enums.track = true
}
