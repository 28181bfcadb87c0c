package javaser

import "unsafe"

// slab hands out pointers into chunks of T, so a parse makes a few
// allocations instead of one per node. Chunks grow from 16 elements up to
// 32 KiB (the Go allocator's small-object limit), so small streams stay small.
type slab[T any] struct {
	buf  []T
	next int
}

// maxChunk is the number of Ts in 32 KiB.
func (s *slab[T]) maxChunk() int {
	var zero T
	return max(1, 32<<10/int(unsafe.Sizeof(zero)))
}

func (s *slab[T]) new() *T {
	if len(s.buf) == cap(s.buf) {
		s.next = min(max(2*s.next, 16), s.maxChunk())
		s.buf = make([]T, 0, s.next)
	}
	s.buf = s.buf[:len(s.buf)+1]
	return &s.buf[len(s.buf)-1]
}

// take returns a zeroed slice of n elements whose capacity is n, so an
// append never writes into a neighbour.
func (s *slab[T]) take(n int) []T {
	if n == 0 {
		return nil
	}
	if n > 256 {
		return make([]T, n)
	}
	if cap(s.buf)-len(s.buf) < n {
		s.next = min(max(2*s.next, 64), s.maxChunk())
		s.buf = make([]T, 0, max(s.next, n))
	}
	start := len(s.buf)
	s.buf = s.buf[:start+n]
	return s.buf[start : start+n : start+n]
}

// arena holds the slabs of one parse.
type arena struct {
	objects slab[Object]
	strings slab[String]
	refs    slab[Ref]
	nulls   slab[Null]
	arrays  slab[Array]
	values  slab[Value]
	data    slab[ClassData]
	nodes   slab[Node]
}
