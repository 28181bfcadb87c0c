package javaser

import "unsafe"

// MaxParserRetain is the most memory, in bytes of arena chunks, a
// Parser keeps for its next parse. The tree of a parse may need more
// (roughly seven times the stream's size); the chunks beyond the bound
// are left to the tree, for the garbage collector to free once the
// caller drops it, and the next parse allocates afresh what it needs
// beyond the bound.
const MaxParserRetain = 16 << 20

// Parser parses Java serialization streams, one after another, into
// memory it recycles: the node slabs, text and scratch space of one parse
// are handed out again by the next. A loop that parses many streams and
// discards each tree before the next makes little garbage this way (as
// with valyala/fastjson's Parser or encoding/csv's ReuseRecord).
//
// The Stream returned by Parse, and every node, slice and string
// reachable from it, are valid only until the next call to Parse on the
// same Parser: that call overwrites them. Callers that keep a tree, or
// any part of one (a node, a Name, a Raw or Data slice), past the next
// Parse use the package-level Parse or Options.Parse instead, or copy
// what they keep. As with Parse, the tree also aliases the input.
//
// Between parses a Parser holds at most MaxParserRetain bytes of arena
// chunks, the handle table and stack of its last parse (each dropped when
// it grows beyond 64 Ki entries) and the last tree (so the last input):
// whatever it has parsed before, that is all it keeps.
//
// The zero value is ready to use. A Parser must not be copied after its
// first use (a copy would share its memory). It is not safe for
// concurrent use: give each goroutine its own.
type Parser struct {
	// Options apply to every Parse; they may be changed between calls.
	Options Options

	p *parser
}

// Parse parses a complete Java serialization stream as Options.Parse
// does, with p.Options, and returns the same tree and the same error.
// The tree is valid only until the next call to Parse on p (see Parser);
// an error stays valid.
func (p *Parser) Parse(b []byte) (*Stream, error) {
	q := p.p
	if q == nil {
		q = &parser{a: new(arena)}
		q.a.init()
		q.a.keep = true
		for _, s := range q.a.slabs() {
			s.setKeep()
		}
		p.p = q
	}
	q.start(b, p.Options)
	s, err := q.stream()
	q.a.finish()
	q.scrub()
	if err != nil {
		return nil, finalError(err)
	}
	return s, nil
}

// keptSlab is the part of a slab the arena of a Parser works with
// between parses, whatever the slab's type.
type keptSlab interface {
	setKeep()
	end()
	trim(budget int, spares bool) int
	restart()
}

func (a *arena) slabs() []keptSlab {
	return []keptSlab{&a.objects, &a.strings, &a.refs, &a.nulls, &a.arrays, &a.values, &a.data, &a.nodes, &a.descs, &a.fields, &a.chains, &a.blocks, &a.classes, &a.enums, &a.chunks}
}

func (s *slab[T]) setKeep() {
	s.keep = true
	if s.chunks == nil {
		s.chunks = s.chunks0[:0]
	}
}

// next moves on to the next chunk: the next spare, cleared where an
// earlier parse wrote it, or a new chunk. Every kind of node is cleared
// so, rather than each field being written on reuse: the clearing costs
// what zeroing a new chunk did, a few percent of a parse, and a node
// from a reused chunk is exactly as Parse would have made it.
func (s *slab[T]) next() {
	if s.buf != nil {
		s.leave()
	}
	i := len(s.chunks)
	if i < len(s.dirty) {
		s.chunks = s.chunks[:i+1]
		if c := s.chunks[i]; c != nil {
			clear(c[:s.dirty[i]])
			s.dirty[i] = 0
			s.buf = c[:0]
			return
		}
	} else {
		s.chunks = append(s.chunks, nil)
		s.dirty = append(s.dirty, 0)
	}
	c := make([]T, s.maxChunk())
	s.chunks[i] = c
	s.buf = c[:0]
}

// leave records how much of the current chunk this parse wrote (next
// cleared it when handing it out, so that is all that may be non-zero).
func (s *slab[T]) leave() {
	s.dirty[len(s.chunks)-1] = len(s.buf)
}

// end closes the current chunk at the end of a parse.
func (s *slab[T]) end() {
	if s.buf != nil {
		s.leave()
		s.buf = nil
	}
}

// trim keeps the chunks this parse handed out (or, if spares, the ones
// it did not) while their size fits budget, drops the others and
// returns what is left of budget.
func (s *slab[T]) trim(budget int, spares bool) int {
	lo, hi := 0, len(s.chunks)
	if spares {
		lo, hi = hi, len(s.dirty)
	}
	all := s.chunks[:len(s.dirty)]
	for i := lo; i < hi; i++ {
		if all[i] == nil {
			continue
		}
		if size := cap(all[i]) * s.elemSize(); size <= budget {
			budget -= size
		} else {
			all[i], s.dirty[i] = nil, 0
		}
	}
	return budget
}

// restart clears the spares, so no chunk holds anything but the tree of
// the last parse, and rewinds for the next parse.
func (s *slab[T]) restart() {
	all := s.chunks[:len(s.dirty)]
	for i := len(s.chunks); i < len(all); i++ {
		if all[i] != nil {
			clear(all[i][:s.dirty[i]])
		}
		s.dirty[i] = 0
	}
	s.chunks = s.chunks[:0]
	s.used = 0
}

// finish ends a parse in a Parser's arena: the chunks the parse handed
// out are kept first, then spares, up to MaxParserRetain bytes in all.
func (a *arena) finish() {
	slabs := a.slabs()
	for _, s := range slabs {
		s.end()
	}
	budget := MaxParserRetain
	for _, s := range slabs {
		budget = s.trim(budget, false)
	}
	budget = a.trimBytes(budget, false)
	for _, s := range slabs {
		budget = s.trim(budget, true)
	}
	a.trimBytes(budget, true)
	for _, s := range slabs {
		s.restart()
	}
	a.text = nil
	a.ntexts = 0
}

// trimBytes is trim for the byte chunks.
func (a *arena) trimBytes(budget int, spares bool) int {
	lo, hi := 0, a.ntexts
	if spares {
		lo, hi = hi, len(a.texts)
	}
	for i := lo; i < hi; i++ {
		if a.texts[i] == nil {
			continue
		}
		if size := cap(a.texts[i]); size <= budget {
			budget -= size
		} else {
			a.texts[i] = nil
		}
	}
	return budget
}

// nextText returns an empty byte chunk with room for n bytes: a kept one
// or a new one.
func (a *arena) nextText(n int) []byte {
	if n > keptChunkSize {
		return make([]byte, 0, n)
	}
	i := a.ntexts
	a.ntexts++
	if i < len(a.texts) {
		if t := a.texts[i]; t != nil {
			return t[:0]
		}
	} else {
		a.texts = append(a.texts, nil)
	}
	t := make([]byte, 0, keptChunkSize)
	a.texts[i] = t
	return t
}

// byteRun returns an empty slice with capacity n for a block-data run:
// its own allocation, or in a Parser's arena a piece of a byte chunk.
func (p *parser) byteRun(n int) []byte {
	p.grew(n)
	a := p.a
	if !a.keep || n > keptChunkSize/4 {
		return make([]byte, 0, n)
	}
	t := a.text
	if cap(t)-len(t) < n {
		t = a.nextText(n)
	}
	k := len(t)
	a.text = t[:k+n]
	return t[k : k : k+n]
}

// textString returns raw copied into the text chunks as a string.
func (p *parser) textString(raw []byte) string {
	p.grew(len(raw))
	a := p.a
	t := a.text
	if cap(t)-len(t) < len(raw) {
		if a.keep {
			t = a.nextText(len(raw))
		} else {
			t = make([]byte, 0, max(len(raw), min(max(2*cap(t), 256), 8<<10)))
		}
	}
	n := len(t)
	t = append(t, raw...)
	a.text = t
	return unsafe.String(&t[n], len(raw))
}
