package javaser

import (
	"fmt"
	"reflect"
	"slices"
	"unsafe"
)

// SameTree reports how got differs from want, two trees parsed from in,
// or nil if they are the same: the same types, fields (unexported ones,
// offsets and handles included) and values, with pointers related one to
// one (a Ref's target, a shared descriptor or string is the same node in
// both), slices equal up to their capacity (so nothing stale lies past
// their length), byte slices into in at the same place in both, and no
// slice of got overlapping another one.
func SameTree(got, want *Stream, in []byte) error {
	c := &treeCmp{in: in, ab: map[ptrKey]uintptr{}, ba: map[ptrKey]uintptr{}}
	if err := c.val(reflect.ValueOf(got), reflect.ValueOf(want), "stream"); err != nil {
		return err
	}
	return overlaps(c.spans)
}

type ptrKey struct {
	t reflect.Type
	p uintptr
}

type span struct {
	lo, hi uintptr
	path   string
}

type treeCmp struct {
	in     []byte
	ab, ba map[ptrKey]uintptr
	spans  []span
}

func (c *treeCmp) inInput(p uintptr) bool {
	if len(c.in) == 0 {
		return false
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(c.in)))
	return p >= lo && p < lo+uintptr(cap(c.in))
}

func (c *treeCmp) val(a, b reflect.Value, path string) error {
	if a.Type() != b.Type() {
		return fmt.Errorf("%s: type %s, want %s", path, a.Type(), b.Type())
	}
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				return fmt.Errorf("%s: nil %v, want nil %v", path, a.IsNil(), b.IsNil())
			}
			return nil
		}
		ka, kb := ptrKey{a.Type(), a.Pointer()}, ptrKey{b.Type(), b.Pointer()}
		pa, seenA := c.ab[ka]
		pb, seenB := c.ba[kb]
		if seenA || seenB {
			if pa != b.Pointer() || pb != a.Pointer() {
				return fmt.Errorf("%s: pointer shared differently than in the fresh tree", path)
			}
			return nil
		}
		c.ab[ka], c.ba[kb] = b.Pointer(), a.Pointer()
		return c.val(a.Elem(), b.Elem(), path)
	case reflect.Interface:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				return fmt.Errorf("%s: nil %v, want nil %v", path, a.IsNil(), b.IsNil())
			}
			return nil
		}
		return c.val(a.Elem(), b.Elem(), path)
	case reflect.Struct:
		for i := range a.NumField() {
			if err := c.val(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() || a.Cap() != b.Cap() {
			return fmt.Errorf("%s: nil %v len %d cap %d, want nil %v len %d cap %d", path, a.IsNil(), a.Len(), a.Cap(), b.IsNil(), b.Len(), b.Cap())
		}
		if a.Cap() == 0 {
			return nil
		}
		inA, inB := c.inInput(a.Pointer()), c.inInput(b.Pointer())
		if inA != inB || inA && a.Pointer() != b.Pointer() {
			return fmt.Errorf("%s: slice at %#x (in input %v), want %#x (in input %v)", path, a.Pointer(), inA, b.Pointer(), inB)
		}
		if !inA {
			size := uintptr(a.Cap()) * a.Type().Elem().Size()
			c.spans = append(c.spans, span{a.Pointer(), a.Pointer() + size, path})
		}
		// Up to the capacity: what lies past the length must match too.
		fa, fb := a.Slice(0, a.Cap()), b.Slice(0, b.Cap())
		if a.Type().Elem().Kind() == reflect.Uint8 {
			ba := unsafe.Slice((*byte)(a.UnsafePointer()), a.Cap())
			bb := unsafe.Slice((*byte)(b.UnsafePointer()), b.Cap())
			if string(ba) != string(bb) {
				return fmt.Errorf("%s: bytes differ", path)
			}
			return nil
		}
		for i := range fa.Len() {
			if err := c.val(fa.Index(i), fb.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	case reflect.String:
		if a.String() != b.String() {
			return fmt.Errorf("%s: %q, want %q", path, a.String(), b.String())
		}
		return nil
	case reflect.Bool:
		if a.Bool() != b.Bool() {
			return fmt.Errorf("%s: %v, want %v", path, a.Bool(), b.Bool())
		}
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if a.Int() != b.Int() {
			return fmt.Errorf("%s: %d, want %d", path, a.Int(), b.Int())
		}
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if a.Uint() != b.Uint() {
			return fmt.Errorf("%s: %d, want %d", path, a.Uint(), b.Uint())
		}
		return nil
	}
	return fmt.Errorf("%s: unexpected kind %s", path, a.Kind())
}

// overlaps reports two distinct slices sharing memory.
func overlaps(spans []span) error {
	slices.SortFunc(spans, func(x, y span) int {
		if x.lo != y.lo {
			if x.lo < y.lo {
				return -1
			}
			return 1
		}
		if x.hi < y.hi {
			return -1
		} else if x.hi > y.hi {
			return 1
		}
		return 0
	})
	for i := 1; i < len(spans); i++ {
		p, s := spans[i-1], spans[i]
		if s.lo == p.lo && s.hi == p.hi {
			continue // the same slice, reached twice
		}
		if s.lo < p.hi {
			return fmt.Errorf("%s and %s share memory", p.path, s.path)
		}
	}
	return nil
}

// TreeBytes parses b as Parse does and also returns the bytes the parse
// counted against its tree budget (see TreeBytesPerInputByte).
func TreeBytes(b []byte) (*Stream, int64, error) {
	p := getParser()
	p.a.init()
	p.start(b, Options{})
	s, err := p.stream()
	n := p.tree
	putParser(p)
	if err != nil {
		return nil, n, finalError(err)
	}
	return s, n, nil
}
