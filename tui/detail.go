package tui

import (
	"strings"
)

// detailView draws a file's otree: the right pane. It is a dumb component;
// the cursor and scroll position live in the otree, one per file.
type detailView struct {
	width  int
	height int
}

func (v *detailView) SetSize(w, h int) { v.width, v.height = w, h }

func (v *detailView) bodyHeight() int { return max(1, v.height-1) }

// scroll keeps t's cursor visible.
func (v *detailView) scroll(t *otree) {
	h := v.bodyHeight()
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

// Render draws header and rows, exactly v.height lines of v.width cells.
func (v *detailView) Render(t *otree, header []seg, body string, st *Styles, j *judge, focused bool) string {
	var b strings.Builder
	b.WriteString(renderLine(header, v.width))
	h := v.bodyHeight()
	if t == nil {
		lines := strings.Split(body, "\n")
		for i := 0; i < h; i++ {
			b.WriteByte('\n')
			l := ""
			if i < len(lines) {
				l = lines[i]
			}
			b.WriteString(renderLine([]seg{{l, st.Dim}}, v.width))
		}
		return b.String()
	}
	keyW := map[*onode]int{}
	for i := t.top; i < t.top+h; i++ {
		b.WriteByte('\n')
		if i >= len(t.rows) {
			b.WriteString(strings.Repeat(" ", v.width))
			continue
		}
		n := t.rows[i]
		b.WriteString(renderRow(v.rowSegs(n, i == t.cursor, st, j, keyW), v.width, i == t.cursor, focused, st))
	}
	return b.String()
}

// siblingKeyWidth is the width keys are padded to among n's siblings, so
// that summary values line up.
func siblingKeyWidth(n *onode, cache map[*onode]int) int {
	p := n.parent
	if p == nil {
		return 0
	}
	if w, ok := cache[p]; ok {
		return w
	}
	w := 0
	if len(p.kids) <= 400 {
		for _, k := range p.kids {
			w = max(w, cellWidth(k.key))
		}
	}
	if w > 18 {
		w = 0
	}
	cache[p] = w
	return w
}

func (v *detailView) rowSegs(n *onode, cur bool, st *Styles, j *judge, keyW map[*onode]int) []seg {
	c := " "
	if cur {
		c = "›"
	}
	segs := []seg{{c, st.Cursor}, {strings.Repeat("  ", n.depth), st.Plain}}
	arrow := "  "
	if n.expandable() {
		arrow = "▸ "
		if n.open {
			arrow = "▾ "
		}
	}
	segs = append(segs, seg{arrow, st.Dim})
	if n.vkind == vSection {
		segs = append(segs, seg{n.val, st.Group})
		if n.note != "" {
			segs = append(segs, seg{"  " + n.note, st.Dim})
		}
		return segs
	}
	if n.key != "" {
		k := n.key
		if w := siblingKeyWidth(n, keyW); w > 0 {
			k += strings.Repeat(" ", w-cellWidth(k))
		}
		segs = append(segs, seg{k + "  ", st.Key})
	}
	switch n.vkind {
	case vString:
		segs = append(segs, seg{`"`, st.String})
		segs = append(segs, j.highlight(sanitize(n.val), seg{st: st.String}, st)...)
		segs = append(segs, seg{`"`, st.String})
	case vText:
		segs = append(segs, j.highlight(sanitize(n.val), seg{st: st.Plain}, st)...)
	case vType:
		segs = append(segs, seg{n.val, st.Type})
	case vDim:
		segs = append(segs, seg{n.val, st.Dim})
	case vError:
		segs = append(segs, seg{n.val, st.Error})
	case vWarn:
		segs = append(segs, seg{n.val, st.Warn})
	default:
		segs = append(segs, seg{n.val, st.Plain})
	}
	if n.note != "" {
		segs = append(segs, seg{"  " + strings.TrimSpace(n.note), st.Dim})
	}
	return segs
}
