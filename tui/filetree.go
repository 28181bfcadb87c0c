package tui

import (
	"fmt"
	"strings"
	"time"
)

// fnode is a node of the file tree: a group (title set) or a file (e set).
type fnode struct {
	title   string
	e       *entry
	kids    []*fnode
	parent  *fnode
	open    bool
	depth   int
	files   int   // files under a group
	bytes   int64 // their total size
	unknown int   // files whose size is not read yet
}

func (g *fnode) add(c *fnode) {
	c.parent = g
	g.kids = append(g.kids, c)
	if c.e != nil {
		for p := g; p != nil; p = p.parent {
			p.files++
			if c.e.size < 0 {
				p.unknown++
			} else {
				p.bytes += c.e.size
			}
		}
	} else {
		for p := g; p != nil; p = p.parent {
			p.files += c.files
			p.bytes += c.bytes
			p.unknown += c.unknown
		}
	}
}

// tally recomputes a group's totals (after deferred stats arrive).
func (g *fnode) tally() {
	if g.e != nil {
		return
	}
	g.files, g.bytes, g.unknown = 0, 0, 0
	for _, k := range g.kids {
		if k.e != nil {
			g.files++
			if k.e.size < 0 {
				g.unknown++
			} else {
				g.bytes += k.e.size
			}
			continue
		}
		k.tally()
		g.files += k.files
		g.bytes += k.bytes
		g.unknown += k.unknown
	}
}

// fileMark is what the file tree shows about a file beyond its name.
type fileMark struct {
	failed bool // decoded, and failed
	ok     bool // decoded fine
	chosen bool // the checkpoint Spark restores from
	newer  bool // a checkpoint newer than the chosen one (Spark skips it)
}

// fileTree is the left pane: the checkpoint directory grouped by meaning.
// It is a dumb component: the root model moves it and renders it.
type fileTree struct {
	roots  []*fnode
	rows   []*fnode // visible rows, flattened
	cursor int
	top    int
	width  int
	height int
	header string
	day    string // the one UTC day every file was modified on, "" if several
}

func newFileTree(roots []*fnode, header string, entries []*entry) *fileTree {
	t := &fileTree{roots: roots, header: header}
	t.setDay(entries)
	t.flatten()
	return t
}

// setDay finds whether every file was modified on one day (then rows show
// only the time of day).
func (t *fileTree) setDay(entries []*entry) {
	t.day = ""
	days := map[string]bool{}
	for _, e := range entries {
		if e.size < 0 {
			continue
		}
		days[e.mod.UTC().Format("2006-01-02")] = true
		if len(days) > 1 {
			return
		}
	}
	for d := range days {
		t.day = d
	}
}

func (t *fileTree) SetSize(w, h int) {
	t.width, t.height = w, h
	t.scroll()
}

func (t *fileTree) flatten() {
	t.rows = t.rows[:0]
	var walk func(ns []*fnode, depth int)
	walk = func(ns []*fnode, depth int) {
		for _, n := range ns {
			n.depth = depth
			t.rows = append(t.rows, n)
			if n.e == nil && n.open {
				walk(n.kids, depth+1)
			}
		}
	}
	walk(t.roots, 0)
	if t.cursor >= len(t.rows) {
		t.cursor = len(t.rows) - 1
	}
	if t.cursor < 0 {
		t.cursor = 0
	}
	t.scroll()
}

// bodyHeight is the number of rows shown below the header line.
func (t *fileTree) bodyHeight() int { return max(1, t.height-1) }

func (t *fileTree) scroll() {
	h := t.bodyHeight()
	if t.cursor < t.top {
		t.top = t.cursor
	}
	if t.cursor >= t.top+h {
		t.top = t.cursor - h + 1
	}
	if t.top > len(t.rows)-h {
		t.top = max(0, len(t.rows)-h)
	}
}

func (t *fileTree) Selected() *fnode {
	if t.cursor < 0 || t.cursor >= len(t.rows) {
		return nil
	}
	return t.rows[t.cursor]
}

// SelectedEntry is the selected file, nil for a group.
func (t *fileTree) SelectedEntry() *entry {
	if n := t.Selected(); n != nil {
		return n.e
	}
	return nil
}

func (t *fileTree) Move(d int) {
	t.cursor = min(max(0, t.cursor+d), len(t.rows)-1)
	t.scroll()
}

func (t *fileTree) Top()    { t.cursor = 0; t.scroll() }
func (t *fileTree) Bottom() { t.cursor = len(t.rows) - 1; t.scroll() }

// Click selects the row at body line y (0 = first row below the header).
func (t *fileTree) Click(y int) bool {
	i := t.top + y
	if y < 0 || i >= len(t.rows) {
		return false
	}
	t.cursor = i
	return true
}

// Toggle opens or closes the selected group.
func (t *fileTree) Toggle() {
	if n := t.Selected(); n != nil && n.e == nil {
		n.open = !n.open
		t.flatten()
	}
}

// Expand opens the selected group; it reports false for a file.
func (t *fileTree) Expand() bool {
	n := t.Selected()
	if n == nil || n.e != nil {
		return false
	}
	if !n.open {
		n.open = true
		t.flatten()
	}
	return true
}

// Collapse closes the selected group, or moves to the parent group.
func (t *fileTree) Collapse() {
	n := t.Selected()
	if n == nil {
		return
	}
	if n.e == nil && n.open {
		n.open = false
		t.flatten()
		return
	}
	if n.parent != nil {
		t.selectNode(n.parent)
	}
}

func (t *fileTree) selectNode(n *fnode) bool {
	for i, r := range t.rows {
		if r == n {
			t.cursor = i
			t.scroll()
			return true
		}
	}
	return false
}

// Reveal opens the groups holding rel and selects it.
func (t *fileTree) Reveal(rel string) bool {
	var find func(ns []*fnode) *fnode
	find = func(ns []*fnode) *fnode {
		for _, n := range ns {
			if n.e != nil && n.e.rel == rel {
				return n
			}
			if f := find(n.kids); f != nil {
				return f
			}
		}
		return nil
	}
	n := find(t.roots)
	if n == nil {
		return false
	}
	for p := n.parent; p != nil; p = p.parent {
		p.open = true
	}
	t.flatten()
	return t.selectNode(n)
}

// Render draws the pane, exactly t.height lines of t.width cells.
func (t *fileTree) Render(st *Styles, focused bool, mark func(*entry) fileMark) string {
	var b strings.Builder
	head := t.header
	if t.day != "" {
		head += " · " + t.day
	}
	b.WriteString(renderLine([]seg{{head, st.PaneTitle}}, t.width))
	h := t.bodyHeight()
	for i := t.top; i < t.top+h; i++ {
		b.WriteByte('\n')
		if i >= len(t.rows) {
			b.WriteString(strings.Repeat(" ", t.width))
			continue
		}
		b.WriteString(t.row(st, t.rows[i], i == t.cursor, focused, mark))
	}
	return b.String()
}

func (t *fileTree) row(st *Styles, n *fnode, cur, focused bool, mark func(*entry) fileMark) string {
	var segs []seg
	cursor := " "
	if cur {
		cursor = "›"
	}
	segs = append(segs, seg{cursor, st.Cursor})
	indent := strings.Repeat("  ", n.depth)
	if n.e == nil {
		arrow := "▸ "
		if n.open {
			arrow = "▾ "
		}
		size := humanBytes(n.bytes)
		if n.unknown > 0 {
			size = "…"
		}
		note := fmt.Sprintf(" (%s, %s)", plural(n.files, "file"), size)
		title := n.title
		if n.depth > 0 {
			title = midTrunc(title, max(8, t.width-1-len(indent)-2-cellWidth(note)))
		}
		segs = append(segs, seg{indent + arrow, st.Dim}, seg{title, st.Group}, seg{note, st.Dim})
		return renderRow(segs, t.width, cur, focused, st)
	}
	m := mark(n.e)
	sym, symSt, nameSt := "  ", st.Plain, st.Plain
	switch {
	case m.failed:
		sym, symSt, nameSt = "✗ ", st.Error, st.Error
	case m.chosen:
		sym, symSt, nameSt = "★ ", st.Chosen, st.Chosen
	case m.newer:
		nameSt = st.Warn
	}
	// A file's mark sits where its group's arrow is.
	indent = strings.Repeat("  ", max(0, n.depth-1))
	tm := n.e.mod.UTC().Format("01-02 15:04")
	if t.day != "" {
		tm = n.e.mod.UTC().Format("15:04")
	}
	size := humanBytes(n.e.size)
	if n.e.size < 0 {
		size, tm = "…", strings.Repeat(" ", len(tm))
	}
	right := fmt.Sprintf(" %5s %s", size, tm)
	nameW := t.width - 1 - len(indent) - 2 - cellWidth(right)
	name := midTrunc(n.e.name(), nameW)
	pad := max(0, nameW-cellWidth(name))
	segs = append(segs, seg{indent, st.Plain}, seg{sym, symSt}, seg{name, nameSt}, seg{strings.Repeat(" ", pad), st.Plain}, seg{right, st.Dim})
	return renderRow(segs, t.width, cur, focused, st)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// humanBytes renders a size compactly: 812B, 5.8K, 1.2M.
func humanBytes(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%dB", n)
	case n < 1000*1024:
		return trimZero(fmt.Sprintf("%.1fK", float64(n)/1024))
	case n < 1000*1024*1024:
		return trimZero(fmt.Sprintf("%.1fM", float64(n)/(1024*1024)))
	}
	return trimZero(fmt.Sprintf("%.1fG", float64(n)/(1024*1024*1024)))
}

func trimZero(s string) string {
	if len(s) > 5 {
		return strings.Replace(s, ".0", "", 1)
	}
	return s
}

// fmtMs renders epoch milliseconds as UTC with the raw value.
func fmtMs(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02 15:04:05.000 UTC") + fmt.Sprintf(" (%d)", ms)
}

// fmtDur renders a duration in milliseconds as Go prints durations.
func fmtDur(ms int64) string { return (time.Duration(ms) * time.Millisecond).String() }
