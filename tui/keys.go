package tui

import "github.com/charmbracelet/bubbles/key"

// KeyMap is every key the browser answers to. The help screen (?) lists
// all of them, grouped as FullHelp returns them.
type KeyMap struct {
	// Navigation
	Up, Down, PageUp, PageDown, Top, Bottom          key.Binding
	Expand, Collapse, Toggle, ExpandAll, CollapseAll key.Binding
	Focus, Back                                      key.Binding
	// Views
	Search, Next, Prev, URIs, Hex, Help key.Binding
	// Actions
	Copy, CopyPath, Rewrite, Apply, Confirm, Quit key.Binding
}

// DefaultKeyMap returns the browser's keys.
func DefaultKeyMap() KeyMap {
	b := func(keys []string, help, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	return KeyMap{
		Up:          b([]string{"up", "k"}, "↑/k", "up"),
		Down:        b([]string{"down", "j"}, "↓/j", "down"),
		PageUp:      b([]string{"pgup", "ctrl+b", "ctrl+u"}, "pgup", "page up"),
		PageDown:    b([]string{"pgdown", "ctrl+f", "ctrl+d"}, "pgdn", "page down"),
		Top:         b([]string{"home", "g"}, "g/home", "first row"),
		Bottom:      b([]string{"end", "G"}, "G/end", "last row"),
		Expand:      b([]string{"right", "l"}, "→/l", "expand / open the file"),
		Collapse:    b([]string{"left", "h"}, "←/h", "collapse / go to parent"),
		Toggle:      b([]string{"enter", " "}, "enter", "toggle; go to the node or result"),
		ExpandAll:   b([]string{"e"}, "e", "expand everything below"),
		CollapseAll: b([]string{"c"}, "c", "collapse all"),
		Focus:       b([]string{"tab"}, "tab", "switch pane"),
		Back:        b([]string{"esc"}, "esc", "back / cancel"),
		Search:      b([]string{"/"}, "/", "search all decoded strings"),
		Next:        b([]string{"n"}, "n", "next search result"),
		Prev:        b([]string{"N"}, "N", "previous search result"),
		URIs:        b([]string{"u"}, "u", "all URIs by authority"),
		Hex:         b([]string{"x"}, "x", "hex view of the node's bytes"),
		Help:        b([]string{"?"}, "?", "help"),
		Copy:        b([]string{"y"}, "y", "copy the value (OSC 52)"),
		CopyPath:    b([]string{"Y"}, "Y", "copy the path"),
		Rewrite:     b([]string{"r"}, "r", "rewrite preview (from/to)"),
		Apply:       b([]string{"a"}, "a", "apply the previewed rewrite…"),
		Confirm:     b([]string{"y"}, "y", "confirm the apply"),
		Quit:        b([]string{"q", "ctrl+c"}, "q", "quit"),
	}
}

// ShortHelp is the bottom line's reminder.
func (k KeyMap) ShortHelp() []key.Binding {
	short := func(b key.Binding, desc string) key.Binding {
		b.SetHelp(b.Help().Key, desc)
		return b
	}
	return []key.Binding{short(k.Toggle, "open"), short(k.Focus, "pane"), short(k.Search, "search"), short(k.URIs, "URIs"),
		short(k.Hex, "hex"), short(k.Copy, "copy"), short(k.Rewrite, "rewrite"), short(k.Help, "all keys"), short(k.Quit, "quit")}
}

// FullHelp is every key, in the help screen's columns.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom, k.Expand, k.Collapse, k.Toggle, k.ExpandAll, k.CollapseAll, k.Focus, k.Back},
		{k.Search, k.Next, k.Prev, k.URIs, k.Hex, k.Copy, k.CopyPath, k.Rewrite, k.Apply, k.Confirm, k.Help, k.Quit},
	}
}
