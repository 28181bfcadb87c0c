package tui

import (
	"fmt"
	"strings"
)

// hexView shows bytes in hex and ASCII with a cursor and a highlighted
// range (the bytes behind the selected node). It is a dumb component.
type hexView struct {
	data   []byte
	cursor int64
	top    int64 // first line shown
	hlFrom int64
	hlTo   int64 // exclusive
	width  int
	height int
	title  string
}

// perLine is the number of bytes per line that fits the width.
func (h *hexView) perLine() int {
	switch {
	case h.width >= 10+16*3+2+16+2:
		return 16
	case h.width >= 10+8*3+2+8+2:
		return 8
	}
	return 4
}

func (h *hexView) SetSize(w, hh int) {
	h.width, h.height = w, hh
	h.scroll()
}

func (h *hexView) bodyHeight() int { return max(1, h.height-1) }

func (h *hexView) scroll() {
	per := int64(h.perLine())
	line := h.cursor / per
	n := int64(h.bodyHeight())
	if line < h.top {
		h.top = line
	}
	if line >= h.top+n {
		h.top = line - n + 1
	}
	last := (int64(len(h.data)) + per - 1) / per
	if h.top > last-n {
		h.top = max(0, last-n)
	}
}

// SetCursor moves the cursor to off, clamped to the data.
func (h *hexView) SetCursor(off int64) {
	h.cursor = min(max(0, off), max(0, int64(len(h.data))-1))
	h.scroll()
}

// Center scrolls so that the cursor line is in the upper third.
func (h *hexView) Center() {
	per := int64(h.perLine())
	h.top = max(0, h.cursor/per-int64(h.bodyHeight()/3))
	h.scroll()
}

// Move moves the cursor by d bytes, or by lines if lines is set.
func (h *hexView) Move(d int64, lines bool) {
	if lines {
		d *= int64(h.perLine())
	}
	h.SetCursor(h.cursor + d)
}

// Click puts the cursor on the byte at body line y, column x.
func (h *hexView) Click(x, y int) bool {
	per := h.perLine()
	col := -1
	hexStart := 10
	if x >= hexStart {
		rel := x - hexStart
		group := 3*(per/2) + 1
		if rel >= group {
			rel--
		}
		if c := rel / 3; c < per {
			col = c
		}
	}
	if col < 0 || y < 0 {
		return false
	}
	off := (h.top+int64(y))*int64(per) + int64(col)
	if off >= int64(len(h.data)) {
		return false
	}
	h.SetCursor(off)
	return true
}

// Render draws the view, exactly h.height lines of h.width cells.
func (h *hexView) Render(st *Styles, focused bool) string {
	var b strings.Builder
	title := h.title
	if len(h.data) > 0 {
		title += fmt.Sprintf("  cursor %d (%#x)", h.cursor, h.cursor)
	}
	b.WriteString(renderLine([]seg{{title, st.PaneTitle}}, h.width))
	per := int64(h.perLine())
	for i := int64(0); i < int64(h.bodyHeight()); i++ {
		b.WriteByte('\n')
		start := (h.top + i) * per
		if start >= int64(len(h.data)) {
			if start == 0 {
				b.WriteString(renderLine([]seg{{"  (no bytes)", st.Dim}}, h.width))
				continue
			}
			b.WriteString(strings.Repeat(" ", h.width))
			continue
		}
		segs := []seg{{fmt.Sprintf("%08x  ", start), st.Dim}}
		var ascii []seg
		for j := int64(0); j < per; j++ {
			off := start + j
			if j == per/2 {
				segs = append(segs, seg{" ", st.Plain})
			}
			if off >= int64(len(h.data)) {
				segs = append(segs, seg{"   ", st.Plain})
				ascii = append(ascii, seg{" ", st.Plain})
				continue
			}
			c := h.data[off]
			s := st.Plain
			if off >= h.hlFrom && off < h.hlTo {
				s = st.HexRange
			}
			if off == h.cursor {
				s = st.HexCursor
			}
			segs = append(segs, seg{fmt.Sprintf("%02x", c), s}, seg{" ", st.Plain})
			ch := "."
			if c >= 0x20 && c < 0x7f {
				ch = string(rune(c))
			}
			ascii = append(ascii, seg{ch, s})
		}
		segs = append(segs, seg{" |", st.Dim})
		segs = append(segs, ascii...)
		segs = append(segs, seg{"|", st.Dim})
		b.WriteString(renderLine(segs, h.width))
	}
	return b.String()
}
