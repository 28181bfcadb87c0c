package javaser

import (
	"strconv"
	"strings"
)

// PathElem is one step of an object path.
type PathElem struct {
	Kind  PathKind
	Name  string // class simple name (PathRoot), field name (PathField)
	Index int    // element index (PathIndex), custom-data index (PathData), top-level index (PathRoot)
}

// PathKind says what a PathElem steps into.
type PathKind uint8

// Path element kinds.
const (
	PathRoot  PathKind = iota // a top-level content, named by its class
	PathField                 // a default field: ".name"
	PathIndex                 // an array element: "[i]"
	PathData                  // the i-th content of custom writeObject/external data: "{i}"
	PathDesc                  // inside a class descriptor: "<desc Name>"
)

// Path is the location of a node in the object tree, rendered like
// "Checkpoint.graph.outputStreams.array[0]{2}": a root class name, field
// names, array indexes in brackets and custom-data contents in braces.
// A top-level content other than the first is prefixed "#i:".
type Path []PathElem

func (p Path) String() string {
	var b strings.Builder
	for _, e := range p {
		switch e.Kind {
		case PathRoot:
			if e.Index > 0 {
				b.WriteByte('#')
				b.WriteString(strconv.Itoa(e.Index))
				b.WriteByte(':')
			}
			b.WriteString(e.Name)
		case PathField:
			b.WriteByte('.')
			b.WriteString(e.Name)
		case PathIndex:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(e.Index))
			b.WriteByte(']')
		case PathData:
			b.WriteByte('{')
			b.WriteString(strconv.Itoa(e.Index))
			b.WriteByte('}')
		case PathDesc:
			b.WriteString("<desc ")
			b.WriteString(e.Name)
			b.WriteByte('>')
		}
	}
	return b.String()
}

// What an error's object path keeps: a path nested deeper than
// errPathHead+errPathTail+1 elements shows its first errPathHead and last
// errPathTail elements and the count of those between; a name longer than
// errPathName runes is cut.
const (
	errPathHead = 4
	errPathTail = 4
	errPathName = 80
)

// brief renders p for an error message, at a readable length however
// deep the input nests: "Checkpoint.graph[0]{1}…(4087 more)…[0][0][0][0]".
func (p Path) brief() string {
	if len(p) <= errPathHead+errPathTail+1 {
		return clipNames(p).String()
	}
	return clipNames(p[:errPathHead]).String() +
		"…(" + strconv.Itoa(len(p)-errPathHead-errPathTail) + " more)…" +
		clipNames(p[len(p)-errPathTail:]).String()
}

// clipNames returns p with every name longer than errPathName runes cut.
func clipNames(p Path) Path {
	out := p
	for i, e := range p {
		if r := []rune(e.Name); len(r) > errPathName {
			if &out[0] == &p[0] {
				out = append(Path(nil), p...)
			}
			out[i].Name = string(r[:errPathName]) + "…"
		}
	}
	return out
}

// simpleName returns the part of a Java class name after the last '.'.
func simpleName(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 && i+1 < len(name) {
		return name[i+1:]
	}
	return name
}
