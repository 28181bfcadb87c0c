package tui

import "strings"

// jump is a place to go to: a file and an offset in its decoded bytes.
type jump struct {
	rel string
	off int64
}

// listItem is one row of a list view. header rows group the others.
type listItem struct {
	segs    []seg
	header  bool
	to      *jump
	copyVal string
	path    string
}

// listView is a scrollable list with a cursor: search results, the URIs
// view and the rewrite plan. It is a dumb component.
type listView struct {
	title  string
	items  []listItem
	cursor int
	top    int
	width  int
	height int
	empty  string
}

func (l *listView) SetSize(w, h int) {
	l.width, l.height = w, h
	l.scroll()
}

func (l *listView) bodyHeight() int { return max(1, l.height-1) }

func (l *listView) scroll() {
	h := l.bodyHeight()
	if l.cursor < l.top {
		l.top = l.cursor
	}
	if l.cursor >= l.top+h {
		l.top = l.cursor - h + 1
	}
	if l.top > len(l.items)-h {
		l.top = max(0, len(l.items)-h)
	}
}

func (l *listView) Move(d int) {
	if len(l.items) == 0 {
		return
	}
	l.cursor = min(max(0, l.cursor+d), len(l.items)-1)
	// Land on a row that leads somewhere when moving by one.
	if (d == 1 || d == -1) && l.items[l.cursor].header {
		next := l.cursor + d
		if next >= 0 && next < len(l.items) {
			l.cursor = next
		}
	}
	l.scroll()
}

func (l *listView) Top() {
	l.cursor = 0
	if len(l.items) > 1 && l.items[0].header {
		l.cursor = 1
	}
	l.scroll()
}
func (l *listView) Bottom() { l.cursor = max(0, len(l.items)-1); l.scroll() }

// Click selects the row at body line y.
func (l *listView) Click(y int) bool {
	i := l.top + y
	if y < 0 || i >= len(l.items) {
		return false
	}
	l.cursor = i
	return true
}

func (l *listView) Selected() *listItem {
	if l.cursor < 0 || l.cursor >= len(l.items) {
		return nil
	}
	return &l.items[l.cursor]
}

// Render draws the list, exactly l.height lines of l.width cells.
func (l *listView) Render(st *Styles, focused bool) string {
	var b strings.Builder
	b.WriteString(renderLine([]seg{{l.title, st.PaneTitle}}, l.width))
	h := l.bodyHeight()
	for i := l.top; i < l.top+h; i++ {
		b.WriteByte('\n')
		if i >= len(l.items) {
			if i == 0 && l.empty != "" {
				b.WriteString(renderLine([]seg{{"  " + l.empty, st.Dim}}, l.width))
				continue
			}
			b.WriteString(strings.Repeat(" ", l.width))
			continue
		}
		it := l.items[i]
		cur := " "
		if i == l.cursor {
			cur = "›"
		}
		segs := append([]seg{{cur, st.Cursor}}, it.segs...)
		b.WriteString(renderRow(segs, l.width, i == l.cursor, focused, st))
	}
	return b.String()
}
