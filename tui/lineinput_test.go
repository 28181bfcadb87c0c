package tui

import (
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// TestLineInput: the field the search and the rewrite form type into
// edits as a shell line does, drops control characters (a paste of a
// hostile string cannot put an escape sequence in the prefix) and keeps
// the cursor visible.
func TestLineInput(t *testing.T) {
	runes := func(s string) tea.KeyMsg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)} }
	key := func(k tea.KeyType) tea.KeyMsg { return tea.KeyMsg{Type: k} }
	for _, tc := range []struct {
		name  string
		start string
		limit int
		keys  []tea.KeyMsg
		want  string
		pos   int
	}{
		{"type", "", 0, []tea.KeyMsg{runes("hdfs://nn"), runes(":8020")}, "hdfs://nn:8020", 14},
		{"insert mid", "hdfs://n:8020", 0, []tea.KeyMsg{key(tea.KeyHome), key(tea.KeyRight), runes("X")}, "hXdfs://n:8020", 2},
		{"backspace", "abc", 0, []tea.KeyMsg{key(tea.KeyBackspace)}, "ab", 2},
		{"backspace at start", "abc", 0, []tea.KeyMsg{key(tea.KeyHome), key(tea.KeyBackspace)}, "abc", 0},
		{"delete", "abc", 0, []tea.KeyMsg{key(tea.KeyHome), key(tea.KeyDelete)}, "bc", 0},
		{"ctrl+u", "abc", 0, []tea.KeyMsg{key(tea.KeyLeft), key(tea.KeyCtrlU)}, "c", 0},
		{"ctrl+k", "abc", 0, []tea.KeyMsg{key(tea.KeyHome), key(tea.KeyRight), key(tea.KeyCtrlK)}, "a", 1},
		{"ctrl+w", "hdfs://a  b", 0, []tea.KeyMsg{key(tea.KeyCtrlW)}, "hdfs://a  ", 10},
		{"control characters dropped", "", 0, []tea.KeyMsg{runes("a\x1b]52;c;eA==\x07b\u009bc")}, "a]52;c;eA==bc", 13},
		{"limit", "", 4, []tea.KeyMsg{runes("abcdef")}, "abcd", 4},
		{"space", "a", 0, []tea.KeyMsg{{Type: tea.KeySpace, Runes: []rune{' '}}}, "a ", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLineInput(DefaultStyles(), "", "", tc.limit)
			l.SetValue(tc.start)
			l.Focus()
			for _, k := range tc.keys {
				l, _ = l.Update(k)
			}
			if l.Value() != tc.want || l.pos != tc.pos {
				t.Errorf("value %q cursor %d, want %q cursor %d", l.Value(), l.pos, tc.want, tc.pos)
			}
		})
	}
	// A blurred field takes no keys.
	l := newLineInput(DefaultStyles(), "/", "", 0)
	l, _ = l.Update(runes("x"))
	if l.Value() != "" {
		t.Errorf("blurred field took %q", l.Value())
	}
	// The view scrolls to keep the cursor within Width.
	l.Width = 5
	l.Focus()
	l.SetValue("0123456789")
	if v := ansi.Strip(l.View()); v != "/6789 " {
		t.Errorf("view %q", v)
	}
	l.Blur()
	l.Placeholder = "hdfs://x"
	l.SetValue("")
	if v := ansi.Strip(l.View()); v != "/hdfs://x" {
		t.Errorf("placeholder view %q", v)
	}
}
