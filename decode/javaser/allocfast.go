package javaser

import "unsafe"

// The hot allocations, written out per type: a method of the generic slab
// is compiled once per GC shape and called with a dictionary, not inlined.

func (p *parser) allocObject() *Object {
	s := &p.a.objects
	if len(s.buf) == cap(s.buf) {
		s.refill(p, 1)
	}
	p.tree += int64(unsafe.Sizeof(Object{}))
	s.buf = s.buf[:len(s.buf)+1]
	return &s.buf[len(s.buf)-1]
}

func (p *parser) allocRef() *Ref {
	s := &p.a.refs
	if len(s.buf) == cap(s.buf) {
		s.refill(p, 1)
	}
	p.tree += int64(unsafe.Sizeof(Ref{}))
	s.buf = s.buf[:len(s.buf)+1]
	return &s.buf[len(s.buf)-1]
}

func (p *parser) allocNull() *Null {
	s := &p.a.nulls
	if len(s.buf) == cap(s.buf) {
		s.refill(p, 1)
	}
	p.tree += int64(unsafe.Sizeof(Null{}))
	s.buf = s.buf[:len(s.buf)+1]
	return &s.buf[len(s.buf)-1]
}

func (p *parser) allocString() *String {
	s := &p.a.strings
	if len(s.buf) == cap(s.buf) {
		s.refill(p, 1)
	}
	p.tree += int64(unsafe.Sizeof(String{}))
	s.buf = s.buf[:len(s.buf)+1]
	return &s.buf[len(s.buf)-1]
}

func (p *parser) allocArray() *Array {
	s := &p.a.arrays
	if len(s.buf) == cap(s.buf) {
		s.refill(p, 1)
	}
	p.tree += int64(unsafe.Sizeof(Array{}))
	s.buf = s.buf[:len(s.buf)+1]
	return &s.buf[len(s.buf)-1]
}

func (p *parser) allocDesc() *ClassDesc {
	s := &p.a.descs
	if len(s.buf) == cap(s.buf) {
		s.refill(p, 1)
	}
	p.tree += int64(unsafe.Sizeof(ClassDesc{}))
	s.buf = s.buf[:len(s.buf)+1]
	return &s.buf[len(s.buf)-1]
}

func (p *parser) takeData(n int) []ClassData {
	s := &p.a.data
	if cap(s.buf)-len(s.buf) < n || n == 0 {
		return s.take(p, n)
	}
	p.tree += int64(n) * int64(unsafe.Sizeof(ClassData{}))
	start := len(s.buf)
	s.buf = s.buf[:start+n]
	return s.buf[start : start+n : start+n]
}

func (p *parser) takeValues(n int) []Value {
	s := &p.a.values
	if cap(s.buf)-len(s.buf) < n || n == 0 {
		return s.take(p, n)
	}
	p.tree += int64(n) * int64(unsafe.Sizeof(Value{}))
	start := len(s.buf)
	s.buf = s.buf[:start+n]
	return s.buf[start : start+n : start+n]
}

func (p *parser) takeNodes(n int) []Node {
	s := &p.a.nodes
	if cap(s.buf)-len(s.buf) < n || n == 0 {
		return s.take(p, n)
	}
	p.tree += int64(n) * int64(unsafe.Sizeof(Node(nil)))
	start := len(s.buf)
	s.buf = s.buf[:start+n]
	return s.buf[start : start+n : start+n]
}
