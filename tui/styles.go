package tui

import (
	"github.com/sparkckpt/sparkckpt/tui/termtext"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// Styles are every style the browser uses; nothing else in the package
// builds one. Colours are the 16 ANSI colours, so the terminal's theme
// decides the exact shades.
type Styles struct {
	Title     lipgloss.Style // the top bar
	PaneTitle lipgloss.Style // a pane's first line
	Cursor    lipgloss.Style // the › marker
	Selected  lipgloss.Style // the cursor row of the focused pane
	Group     lipgloss.Style // group and section titles
	Plain     lipgloss.Style
	Dim       lipgloss.Style
	Key       lipgloss.Style // field names
	Type      lipgloss.Style // class names
	String    lipgloss.Style // string values
	URI       lipgloss.Style // a URI on an expected (or unjudged) filesystem
	Foreign   lipgloss.Style // a URI on a filesystem that is not --expect-fs
	Error     lipgloss.Style // files that fail to decode, errors
	Warn      lipgloss.Style
	Chosen    lipgloss.Style // the checkpoint Spark restores from
	Match     lipgloss.Style // a search match
	Del       lipgloss.Style // diff: before
	Add       lipgloss.Style // diff: after
	HexRange  lipgloss.Style // the bytes of the selected node
	HexCursor lipgloss.Style // the byte under the hex cursor
	Status    lipgloss.Style // the status line
	HelpKey   lipgloss.Style
	HelpDesc  lipgloss.Style
	Sep       lipgloss.Style // the pane separator
}

// DefaultStyles returns the browser's styles.
func DefaultStyles() *Styles {
	s := lipgloss.NewStyle
	return &Styles{
		Title:     s().Bold(true).Reverse(true),
		PaneTitle: s().Bold(true).Underline(true),
		Cursor:    s().Bold(true).Foreground(lipgloss.Color("5")),
		Selected:  s().Reverse(true),
		Group:     s().Bold(true),
		Plain:     s(),
		Dim:       s().Faint(true),
		Key:       s().Foreground(lipgloss.Color("4")),
		Type:      s().Foreground(lipgloss.Color("5")),
		String:    s().Foreground(lipgloss.Color("2")),
		URI:       s().Foreground(lipgloss.Color("6")).Underline(true),
		Foreign:   s().Foreground(lipgloss.Color("3")).Bold(true).Underline(true),
		Error:     s().Foreground(lipgloss.Color("1")),
		Warn:      s().Foreground(lipgloss.Color("3")),
		Chosen:    s().Foreground(lipgloss.Color("2")).Bold(true),
		Match:     s().Foreground(lipgloss.Color("0")).Background(lipgloss.Color("3")),
		Del:       s().Foreground(lipgloss.Color("1")),
		Add:       s().Foreground(lipgloss.Color("2")),
		HexRange:  s().Foreground(lipgloss.Color("0")).Background(lipgloss.Color("6")),
		HexCursor: s().Reverse(true).Bold(true),
		Status:    s().Faint(true),
		HelpKey:   s().Bold(true).Foreground(lipgloss.Color("4")),
		HelpDesc:  s(),
		Sep:       s().Faint(true),
	}
}

// seg is a run of text with one style.
type seg struct {
	s  string
	st lipgloss.Style
}

func cellWidth(s string) int { return ansi.StringWidth(s) }

// renderLine renders segments cut and padded to exactly width cells.
func renderLine(segs []seg, width int) string {
	var b strings.Builder
	left := width
	for _, sg := range segs {
		if left <= 0 {
			break
		}
		t := sanitize(sg.s)
		w := cellWidth(t)
		if w > left {
			t = ansi.Truncate(t, left, "…")
			w = cellWidth(t)
		}
		if t != "" {
			b.WriteString(sg.st.Render(t))
		}
		left -= w
	}
	if left > 0 {
		b.WriteString(strings.Repeat(" ", left))
	}
	return b.String()
}

// renderRow is renderLine for a list row: the cursor row of the focused
// pane is drawn in the selection style.
func renderRow(segs []seg, width int, cur, focused bool, st *Styles) string {
	if !(cur && focused) {
		return renderLine(segs, width)
	}
	var b strings.Builder
	for _, sg := range segs {
		b.WriteString(sanitize(sg.s))
	}
	return renderLine([]seg{{b.String(), st.Selected}}, width)
}

// sanitize makes decoded text safe to draw in a cell: newline and tab
// become ⏎ and →, and everything else a terminal would act on is escaped
// by termtext.Append, the escaping function the CLI's printers use too
// (ESC is shown as \x1b, a right-to-left override as \u202e).
func sanitize(s string) string {
	if termtext.Safe(s) && !strings.ContainsAny(s, "\n\t") {
		return s
	}
	return termtext.Escape(strings.NewReplacer("\n", "⏎", "\t", "→").Replace(s), false)
}

// midTrunc shortens s to w cells by cutting out its middle, so that both
// a name's prefix and its suffix (".bk", the time) stay visible.
func midTrunc(s string, w int) string {
	if cellWidth(s) <= w {
		return s
	}
	if w < 6 {
		return ansi.Truncate(s, max(w, 0), "…")
	}
	r := []rune(s)
	tail := (w - 1) / 2
	head := w - 1 - tail
	if head+tail >= len(r) {
		return ansi.Truncate(s, w, "…")
	}
	return string(r[:head]) + "…" + string(r[len(r)-tail:])
}
