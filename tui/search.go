package tui

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/sparkckpt/sparkckpt/decode/dstream"
	"github.com/sparkckpt/sparkckpt/decode/javaser"
)

// Search limits: hits per file and in all.
const (
	maxHitsPerFile = 200
	maxHits        = 5000
)

// hit is a search result: a decoded string (or class name, or text line)
// holding the query.
type hit struct {
	rel  string
	off  int64 // in doc.data
	path string
	val  string
	kind string // "string", "class", "pickle", "line"
}

// searchDoc finds q (lower-case) in every decoded string of d.
func searchDoc(d *doc, q string, showSecrets bool) []hit {
	var out []hit
	add := func(h hit) bool {
		if len(out) >= maxHitsPerFile {
			return false
		}
		h.rel = d.rel
		out = append(out, h)
		return true
	}
	has := func(s string) bool { return strings.Contains(strings.ToLower(s), q) }
	masked := map[*javaser.String]bool{}
	if d.file != nil && !showSecrets {
		for _, p := range d.file.Checkpoint.Conf {
			if dstream.Secret(p.Key) {
				if s := javaser.ResolveString(p.ValueNode); s != nil {
					masked[s] = true
				}
			}
		}
	}
	walk := func(s *javaser.Stream, base int64, prefix string) {
		javaser.Walk(s, func(p javaser.Path, n javaser.Node) bool {
			switch n := n.(type) {
			case *javaser.ClassDesc:
				return false
			case *javaser.String:
				if !masked[n] && has(n.Value()) {
					return add(hit{off: base + n.Off, path: prefix + p.String(), val: n.Value(), kind: "string"})
				}
			case *javaser.Object:
				if has(n.ClassName()) {
					return add(hit{off: base + n.Off, path: prefix + p.String(), val: n.ClassName(), kind: "class"})
				}
			case *javaser.Array:
				if pk := arrayPickle(n); pk != nil {
					var dataStart int64 = -1
					for _, s := range pk.Strings() {
						if !has(s.Value) {
							continue
						}
						if dataStart < 0 {
							_, e := nodeSpan(n, base)
							dataStart = e - int64(len(n.Prims))
						}
						if !add(hit{off: dataStart + int64(s.Off), path: fmt.Sprintf("%s%s{pickle@%d}", prefix, p.String(), s.Off), val: s.Value, kind: "pickle"}) {
							return false
						}
					}
				}
			}
			return len(out) < maxHitsPerFile
		})
	}
	switch {
	case d.java != nil && d.log == nil:
		walk(d.java, 0, "")
		if d.file != nil {
			for _, st := range d.file.Checkpoint.Graph.Streams {
				for _, fn := range st.Functions {
					py := fn.Python
					if py == nil || py.Object == nil {
						continue
					}
					bd := dstream.TransformFunctionData(py.Object)
					if bd == nil {
						continue
					}
					for _, s := range py.Strings {
						if has(s.Value) {
							off, _ := pickleSpan(bd, s)
							add(hit{off: off, path: fmt.Sprintf("%s{pickle@%d}", fn.Field, s.Offset), val: s.Value, kind: "pickle"})
						}
					}
				}
			}
		}
	case d.log != nil:
		for _, rec := range d.log.Records {
			for j, e := range rec.Events {
				if e.Syntax != nil {
					walk(e.Syntax, rec.Offset+4+e.DataOffset, fmt.Sprintf("record@%d event[%d]: ", rec.Offset, j))
				}
			}
		}
	case d.kind == docText:
		off := 0
		for i := 1; off < len(d.data); i++ {
			n := bytes.IndexByte(d.data[off:], '\n')
			end := len(d.data)
			if n >= 0 {
				end = off + n
			}
			if line := string(d.data[off:end]); has(line) && !add(hit{off: int64(off), path: fmt.Sprintf("line %d", i), val: line, kind: "line"}) {
				break
			}
			off = end + 1
		}
	}
	return out
}
