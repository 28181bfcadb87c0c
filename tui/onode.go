package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/sparkckpt/sparkckpt/decode/dstream"
	"github.com/sparkckpt/sparkckpt/decode/javaser"
	"github.com/sparkckpt/sparkckpt/decode/pickle"
)

// valKind says how a row's value is drawn.
type valKind uint8

const (
	vPlain   valKind = iota
	vString          // a decoded string: quoted, URIs highlighted
	vText            // free text that may hold URIs (typed summaries)
	vType            // a class name
	vDim             // null, notes
	vError           // a decode error
	vSection         // a section title
	vWarn
)

// onode is a row of the detail pane's tree: a section, a line of a typed
// summary, or a node of a Java object tree. Children are built lazily.
type onode struct {
	key     string
	val     string
	vkind   valKind
	note    string // dim suffix
	copyVal string // what y copies ("" means val)
	path    string // what Y copies: the object path
	jpath   javaser.Path
	pfx     string // prepended to jpath (the record and event of a log)
	looked  bool   // the path of link was looked up (rowPath)

	// span is the node's bytes in doc.data: [off, end). off < 0: none.
	off, end int64
	spanFn   func() (int64, int64)
	spanDone bool
	// link is, for a typed-summary row, the syntax node it was read from
	// (enter jumps to it in the object tree).
	link     javaser.Node
	linkBase int64

	kids   []*onode
	build  func() []*onode
	ref    bool // a back-reference: its children are the target's, shown again
	open   bool
	parent *onode
	depth  int
}

// expandable reports whether the row has (or may have) children.
func (n *onode) expandable() bool { return n.build != nil || len(n.kids) > 0 }

// children builds the children on first use.
func (n *onode) children() []*onode {
	if n.build != nil {
		kids := n.build()
		n.build = nil
		for _, k := range kids {
			n.addKid(k)
		}
	}
	return n.kids
}

func (n *onode) addKid(k *onode) *onode {
	k.parent = n
	n.kids = append(n.kids, k)
	return k
}

// span returns the row's byte range in doc.data, computing it once.
func (n *onode) span() (int64, int64) {
	if !n.spanDone {
		n.spanDone = true
		if n.spanFn != nil {
			n.off, n.end = n.spanFn()
		}
	}
	return n.off, n.end
}

func (n *onode) copyValue() string {
	if n.copyVal != "" {
		return n.copyVal
	}
	return n.val
}

func (n *onode) objectPath() string {
	if n.path == "" && n.jpath != nil {
		n.path = n.pfx + n.jpath.String()
	}
	return n.path
}

// otree is the detail pane's content for one file, with its own cursor so
// that coming back to a file finds the same place.
type otree struct {
	roots  []*onode
	obj    *onode // the section spans live in (reveal by offset)
	rows   []*onode
	cursor int
	top    int
}

func newOtree(roots []*onode, obj *onode) *otree {
	t := &otree{roots: roots, obj: obj}
	t.flatten()
	return t
}

func (t *otree) flatten() {
	t.rows = t.rows[:0]
	var walk func(ns []*onode, depth int)
	walk = func(ns []*onode, depth int) {
		for _, n := range ns {
			n.depth = depth
			t.rows = append(t.rows, n)
			if n.open {
				walk(n.children(), depth+1)
			}
		}
	}
	walk(t.roots, 0)
	t.cursor = min(max(t.cursor, 0), max(len(t.rows)-1, 0))
}

func (t *otree) selected() *onode {
	if t.cursor < 0 || t.cursor >= len(t.rows) {
		return nil
	}
	return t.rows[t.cursor]
}

func (t *otree) selectNode(n *onode) {
	for i, r := range t.rows {
		if r == n {
			t.cursor = i
			return
		}
	}
}

// expandLimit bounds the rows "expand all" opens at once.
const expandLimit = 5000

// expandAll opens n and everything under it, up to expandLimit rows. It
// does not follow back-references (they may lead in circles).
func (t *otree) expandAll(n *onode) {
	count := 0
	var walk func(n *onode)
	walk = func(n *onode) {
		if count > expandLimit || !n.expandable() || n.ref {
			return
		}
		n.open = true
		for _, k := range n.children() {
			count++
			walk(k)
		}
	}
	walk(n)
	t.flatten()
}

// collapseAll closes every row but the top-level sections.
func (t *otree) collapseAll() {
	var walk func(ns []*onode)
	walk = func(ns []*onode) {
		for _, n := range ns {
			n.open = n.parent == nil
			walk(n.kids)
		}
	}
	walk(t.roots)
	t.flatten()
}

// at returns the deepest row of the object section whose span holds off,
// building and opening the rows on the way; nil if none does.
func (t *otree) at(off int64) *onode {
	if t.obj == nil || off < 0 {
		return nil
	}
	var found *onode
	cur := t.obj.children()
	for {
		var next *onode
		for _, k := range cur {
			s, e := k.span()
			if s >= 0 && s <= off && off < max(e, s+1) {
				next = k
				break
			}
		}
		if next == nil {
			return found
		}
		found = next
		if next.ref {
			return found // its children are the target's, elsewhere in the stream
		}
		cur = next.children()
	}
}

// reveal opens the rows down to n and selects it.
func (t *otree) reveal(n *onode) {
	for p := n.parent; p != nil; p = p.parent {
		p.open = true
	}
	t.flatten()
	t.selectNode(n)
}

// ---- Java object trees ----

// jctx is what building a Java object tree needs to know about its file.
type jctx struct {
	masked map[*javaser.String]bool                       // secret conf values
	pyfn   map[*javaser.BlockData]*dstream.PythonFunction // pickled Python functions
	prefix string                                         // object paths start with it
}

const maxPrimElems = 1000

// jnode builds the row of a Java node. base is added to its offsets
// (write-ahead-log events are streams inside the file).
func (c *jctx) jnode(key string, n javaser.Node, p javaser.Path, base int64) *onode {
	r := &onode{key: key, jpath: p, pfx: c.prefix, off: -1, end: -1}
	if n == nil {
		r.val, r.vkind = "null", vDim
		return r
	}
	r.spanFn = func() (int64, int64) { return nodeSpan(n, base) }
	switch n := n.(type) {
	case *javaser.Object:
		r.val, r.vkind = simpleName(n.ClassName()), vType
		r.note = fmt.Sprintf("%s @%#x", n.ClassName(), n.Handle)
		r.copyVal = n.ClassName()
		if len(n.Data) > 0 {
			r.build = func() []*onode { return c.objectKids(n, p, base) }
		}
	case *javaser.String:
		if c.masked[n] {
			r.val, r.vkind, r.note = "********", vDim, "secret (--show-secrets)"
		} else {
			r.val, r.vkind = n.Value(), vString
		}
		r.note += fmt.Sprintf(" @%#x", n.Handle)
	case *javaser.Ref:
		r.note = fmt.Sprintf("ref %#x", n.Handle)
		r.ref = true
		switch t := n.Target.(type) {
		case *javaser.String:
			if c.masked[t] {
				r.val, r.vkind = "********", vDim
			} else {
				r.val, r.vkind = t.Value(), vString
			}
		case *javaser.Object:
			r.val, r.vkind = "→ "+simpleName(t.ClassName()), vType
			r.copyVal = t.ClassName()
			if len(t.Data) > 0 {
				r.build = func() []*onode { return c.objectKids(t, p, base) }
			}
		case *javaser.Array:
			r.val, r.vkind = "→ "+arrayType(t), vType
			r.build = c.arrayKids(t, p, base)
		default:
			r.val, r.vkind = "→ "+javaser.KindOf(n.Target), vDim
		}
	case *javaser.Array:
		r.val, r.vkind = arrayType(n), vType
		r.note = fmt.Sprintf("@%#x", n.Handle)
		if n.Elem == 'B' {
			if pk := arrayPickle(n); pk != nil {
				r.val += fmt.Sprintf("  pickle, protocol %d, %d strings", pk.Protocol, len(pk.Strings()))
			} else {
				r.val += "  " + hexPreview(n.Prims, 16)
			}
		}
		r.build = c.arrayKids(n, p, base)
	case *javaser.Enum:
		cst := ""
		if s := javaser.ResolveString(n.Constant); s != nil {
			cst = s.Value()
		}
		r.val, r.vkind = simpleName(descName(n.Class))+"."+cst, vType
		r.copyVal = cst
	case *javaser.Class:
		r.val, r.vkind = "class "+descName(n.Class), vType
	case *javaser.ClassDesc:
		r.val, r.vkind = "classdesc "+n.Name(), vType
	case *javaser.Null:
		r.val, r.vkind = "null", vDim
	case *javaser.BlockData:
		r.val, r.vkind = fmt.Sprintf("block data, %d bytes  %s", len(n.Data), hexPreview(n.Data, 12)), vDim
		if pf := c.pyfn[n]; pf != nil {
			r.val, r.vkind = fmt.Sprintf("pickled Python function: protocol %d, %d bytes, %d strings", pf.PickleProtocol, pf.PickleBytes, len(pf.Strings)), vText
			r.build = func() []*onode { return pickleKids(n, pf, c.prefix+p.String()) }
		}
	case *javaser.Raw:
		r.val, r.vkind = fmt.Sprintf("raw data, %d bytes  %s", len(n.Data), hexPreview(n.Data, 12)), vDim
	case *javaser.Reset:
		r.val, r.vkind = "TC_RESET (handles start again at 0x7e0000)", vDim
	case *javaser.Exception:
		r.val, r.vkind = "TC_EXCEPTION: the writer failed", vError
		r.build = func() []*onode {
			return []*onode{c.jnode("throwable", n.Throwable, appendPath(p, javaser.PathElem{Kind: javaser.PathField, Name: "throwable"}), base)}
		}
	}
	return r
}

func appendPath(p javaser.Path, e javaser.PathElem) javaser.Path {
	q := make(javaser.Path, len(p), len(p)+1)
	copy(q, p)
	return append(q, e)
}

func (c *jctx) objectKids(o *javaser.Object, p javaser.Path, base int64) []*onode {
	var out []*onode
	for ci := range o.Data {
		cd := &o.Data[ci]
		for j, v := range cd.Values {
			if cd.Class == nil || j >= len(cd.Class.Fields) {
				break
			}
			name := cd.Class.Fields[j].Name()
			fp := appendPath(p, javaser.PathElem{Kind: javaser.PathField, Name: name})
			if v.IsPrimitive() {
				ci, j := ci, j
				val, note := primValue(v.Type, v.Bits)
				out = append(out, &onode{key: name, val: val, note: note, jpath: fp, pfx: c.prefix, off: -1, end: -1,
					spanFn: func() (int64, int64) { return primSpan(o, ci, j, base) }})
				continue
			}
			out = append(out, c.jnode(name, v.Obj, fp, base))
		}
		for j, a := range cd.Annotation {
			out = append(out, c.jnode(fmt.Sprintf("{%d}", j), a, appendPath(p, javaser.PathElem{Kind: javaser.PathData, Index: j}), base))
		}
		for j, a := range cd.External {
			out = append(out, c.jnode(fmt.Sprintf("{%d}", j), a, appendPath(p, javaser.PathElem{Kind: javaser.PathData, Index: j}), base))
		}
	}
	return out
}

// arrayPickle parses a byte[] that holds a pickle (PySpark RDD data,
// broadcast values), or returns nil.
func arrayPickle(a *javaser.Array) *pickle.Pickle {
	if a.Elem != 'B' || len(a.Prims) < 3 || a.Prims[0] != 0x80 || a.Prims[1] > 5 {
		return nil
	}
	pk, err := pickle.Parse(a.Prims)
	if err != nil {
		return nil
	}
	return pk
}

// pickleArrayKids lists the strings of a pickle held in a byte[].
func (c *jctx) pickleArrayKids(a *javaser.Array, pk *pickle.Pickle, p javaser.Path, base int64) []*onode {
	var out []*onode
	for _, s := range pk.Strings() {
		s := s
		arg := len(pk.Ops[s.Op].Arg)
		out = append(out, &onode{key: fmt.Sprintf("pickle@%d", s.Off), val: s.Value, vkind: vString, note: s.Opcode,
			path: fmt.Sprintf("%s%s{pickle@%d}", c.prefix, p.String(), s.Off), off: -1, end: -1,
			spanFn: func() (int64, int64) {
				_, e := nodeSpan(a, base)
				start := e - int64(len(a.Prims)) + int64(s.Off)
				return start, start + 1 + int64(arg)
			}})
	}
	return out
}

func (c *jctx) arrayKids(a *javaser.Array, p javaser.Path, base int64) func() []*onode {
	if pk := arrayPickle(a); pk != nil {
		return func() []*onode { return c.pickleArrayKids(a, pk, p, base) }
	}
	if len(a.Elems) == 0 && (a.Elem == 'B' || len(a.Prims) == 0) {
		return nil
	}
	return func() []*onode {
		var out []*onode
		for i, e := range a.Elems {
			out = append(out, c.jnode(fmt.Sprintf("[%d]", i), e, appendPath(p, javaser.PathElem{Kind: javaser.PathIndex, Index: i}), base))
		}
		if sz := primSize(a.Elem); sz > 0 && len(a.Elems) == 0 {
			n := len(a.Prims) / sz
			for i := 0; i < n && i < maxPrimElems; i++ {
				var bits uint64
				for _, b := range a.Prims[i*sz : (i+1)*sz] {
					bits = bits<<8 | uint64(b)
				}
				i := i
				val, _ := primValue(a.Elem, bits)
				out = append(out, &onode{key: fmt.Sprintf("[%d]", i), val: val,
					jpath: appendPath(p, javaser.PathElem{Kind: javaser.PathIndex, Index: i}), pfx: c.prefix, off: -1, end: -1,
					spanFn: func() (int64, int64) {
						// TC_ARRAY, descriptor, handle-less length, then the values.
						_, e := nodeSpan(a, base)
						start := e - int64(len(a.Prims)) + int64(i*sz)
						return start, start + int64(sz)
					}})
			}
			if n > maxPrimElems {
				out = append(out, &onode{key: "…", val: fmt.Sprintf("%d more (x shows them in hex)", n-maxPrimElems), vkind: vDim, off: -1, end: -1})
			}
		}
		return out
	}
}

// pickleKids lists the strings of a pickled Python function, each with
// its bytes in the Java stream.
func pickleKids(bd *javaser.BlockData, pf *dstream.PythonFunction, p string) []*onode {
	var out []*onode
	if pf.Error != "" {
		out = append(out, &onode{key: "error", val: pf.Error, vkind: vError, off: -1, end: -1})
	}
	for _, s := range pf.Strings {
		s := s
		out = append(out, &onode{key: fmt.Sprintf("pickle@%d", s.Offset), val: s.Value, vkind: vString, note: s.Opcode,
			path: fmt.Sprintf("%s{pickle@%d}", p, s.Offset), off: -1, end: -1,
			spanFn: func() (int64, int64) { return pickleSpan(bd, s) }})
	}
	return out
}

// nodeSpan is a node's byte range: its offset and encoded length.
func nodeSpan(n javaser.Node, base int64) (int64, int64) {
	b, err := javaser.AppendNode(nil, n)
	if err != nil {
		return base + n.Offset(), base + n.Offset() + 1
	}
	return base + n.Offset(), base + n.Offset() + int64(len(b))
}

var primNames = map[byte]string{'B': "byte", 'C': "char", 'D': "double", 'F': "float", 'I': "int", 'J': "long", 'S': "short", 'Z': "boolean"}

// primValue renders a primitive value and notes its type; a long that
// reads as a time of this century (epoch milliseconds) also gets the date.
func primValue(t byte, bits uint64) (string, string) {
	v := strings.TrimPrefix(javaser.PrimString(t, bits), string(t)+" ")
	note := primNames[t]
	if ms := int64(bits); t == 'J' && ms >= 946684800000 && ms < 4102444800000 {
		note += ", " + time.UnixMilli(ms).UTC().Format("2006-01-02 15:04:05.000 UTC")
	}
	return v, note
}

func primSize(t byte) int {
	switch t {
	case 'B', 'Z':
		return 1
	case 'C', 'S':
		return 2
	case 'I', 'F':
		return 4
	case 'J', 'D':
		return 8
	}
	return 0
}

// primSpan finds the bytes of the j-th field value of class data ci: the
// class data of an object follows its descriptor, one class after the
// other, primitive values first (spec §3.2).
func primSpan(o *javaser.Object, ci, j int, base int64) (int64, int64) {
	pos := o.Off + 1
	if o.Desc != nil {
		b, err := javaser.AppendNode(nil, o.Desc)
		if err != nil {
			return -1, -1
		}
		pos += int64(len(b))
	}
	for k := 0; k <= ci; k++ {
		cd := &o.Data[k]
		if len(cd.External) > 0 && k < ci {
			return -1, -1
		}
		for f, v := range cd.Values {
			var n int64
			if v.IsPrimitive() {
				n = int64(primSize(v.Type))
			} else {
				b, err := javaser.AppendNode(nil, v.Obj)
				if err != nil {
					return -1, -1
				}
				n = int64(len(b))
			}
			if k == ci && f == j {
				return base + pos, base + pos + n
			}
			pos += n
		}
		for _, a := range cd.Annotation {
			b, err := javaser.AppendNode(nil, a)
			if err != nil {
				return -1, -1
			}
			pos += int64(len(b))
		}
		if cd.HasAnnotation {
			pos++ // TC_ENDBLOCKDATA
		}
	}
	return -1, -1
}

// blockOffset maps index i of a block-data run's payload to its offset in
// the stream, past the record headers in between.
func blockOffset(bd *javaser.BlockData, i int) int64 {
	pos, idx := bd.Off, 0
	for _, c := range bd.Chunks {
		hdr := int64(2)
		if c.Long {
			hdr = 5
		}
		if i < idx+c.Len {
			return pos + hdr + int64(i-idx)
		}
		pos += hdr + int64(c.Len)
		idx += c.Len
	}
	return -1
}

// pickleSpan is the stream range of a pickle string: its opcode, length
// and bytes (the pickle follows an i32 length in the block data).
func pickleSpan(bd *javaser.BlockData, s dstream.PickleString) (int64, int64) {
	n := 1 + len(s.Value) + 1
	switch s.Opcode {
	case "SHORT_BINUNICODE", "SHORT_BINBYTES", "SHORT_BINSTRING":
		n = 2 + len(s.Value)
	case "BINUNICODE", "BINBYTES", "BINSTRING":
		n = 5 + len(s.Value)
	case "BINUNICODE8", "BINBYTES8":
		n = 9 + len(s.Value)
	}
	start := blockOffset(bd, 4+s.Offset)
	if start < 0 {
		return -1, -1
	}
	last := blockOffset(bd, min(4+s.Offset+n-1, len(bd.Data)-1))
	if last < start {
		last = start
	}
	return start, last + 1
}

func simpleName(c string) string {
	if i := strings.LastIndexByte(c, '.'); i >= 0 {
		return c[i+1:]
	}
	return c
}

func descName(c *javaser.ClassDesc) string {
	if c == nil {
		return "?"
	}
	return c.Name()
}

// arrayType renders an array's type as Java source does: "byte[12]".
func arrayType(a *javaser.Array) string {
	name := descName(a.Class)
	elem := strings.TrimPrefix(name, "[")
	t := ""
	switch {
	case strings.HasPrefix(elem, "L"):
		t = simpleName(strings.TrimSuffix(elem[1:], ";"))
	case strings.HasPrefix(elem, "["):
		t = "array"
	default:
		t = primNames[a.Elem]
	}
	return fmt.Sprintf("%s[%d]", t, a.Length)
}

func hexPreview(b []byte, n int) string {
	var s strings.Builder
	for i, c := range b {
		if i == n {
			s.WriteString("…")
			break
		}
		if i > 0 {
			s.WriteByte(' ')
		}
		fmt.Fprintf(&s, "%02x", c)
	}
	return s.String()
}
