package tui

// Key and mouse handling: what each key does in each mode.

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/sparkckpt/sparkckpt/decode/check"
	"github.com/sparkckpt/sparkckpt/decode/javaser"
)

func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	k := m.keys
	if msg.Type == tea.KeyCtrlC {
		return m.quit()
	}
	// Keys typed faster than the terminal is read arrive as one message:
	// take them one at a time (the first may open a text input).
	if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste && !m.typing() {
		var cmds []tea.Cmd
		for i, r := range msg.Runes {
			if m.typing() {
				rest := msg
				rest.Runes = msg.Runes[i:]
				cmds = append(cmds, m.key(rest))
				break
			}
			cmds = append(cmds, m.key(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt}))
		}
		return tea.Batch(cmds...)
	}
	switch m.mode {
	case modeSearchInput:
		return m.keySearchInput(msg)
	case modeRewriteForm:
		return m.keyForm(msg)
	case modeConfirm:
		return m.keyConfirm(msg)
	case modeHelp:
		if key.Matches(msg, k.Quit) && msg.String() == "q" {
			return m.quit()
		}
		m.mode = m.back
		m.layout()
		return nil
	case modeApplying:
		return nil
	}
	if key.Matches(msg, k.Quit) {
		return m.quit()
	}
	if key.Matches(msg, k.Help) {
		m.back, m.mode = m.mode, modeHelp
		return nil
	}
	switch m.mode {
	case modeResults:
		return m.keyList(msg, m.results)
	case modeURIs:
		return m.keyList(msg, m.uris)
	case modePlan:
		return m.keyPlan(msg)
	case modeHex:
		return m.keyHex(msg)
	}
	return m.keyBrowse(msg)
}

// typing reports whether keys go to a text input.
func (m *Model) typing() bool { return m.mode == modeSearchInput || m.mode == modeRewriteForm }

func (m *Model) quit() tea.Cmd {
	if m.cancel != nil {
		m.cancel()
	}
	m.stop()
	return tea.Quit
}

// keyGlobal handles the keys that open another view; ok is false if msg is
// none of them.
func (m *Model) keyGlobal(msg tea.KeyMsg) (tea.Cmd, bool) {
	k := m.keys
	switch {
	case key.Matches(msg, k.Search):
		m.mode = modeSearchInput
		m.input.SetValue(m.query)
		m.input.CursorEnd()
		return m.input.Focus(), true
	case key.Matches(msg, k.Next), key.Matches(msg, k.Prev):
		if len(m.hits) == 0 {
			m.setStatus(true, "no search results: / searches")
			return nil, true
		}
		d := 1
		if key.Matches(msg, k.Prev) {
			d = -1
		}
		m.hitIdx = (m.hitIdx + d + len(m.hits)) % len(m.hits)
		h := m.hits[m.hitIdx]
		m.setStatus(false, "result %d of %d: %s %s", m.hitIdx+1, len(m.hits), h.rel, h.path)
		return m.goTo(jump{h.rel, h.off}), true
	case key.Matches(msg, k.URIs):
		return m.openURIs(), true
	case key.Matches(msg, k.Rewrite):
		m.openForm()
		return nil, true
	}
	return nil, false
}

func (m *Model) keyBrowse(msg tea.KeyMsg) tea.Cmd {
	if cmd, ok := m.keyGlobal(msg); ok {
		return cmd
	}
	k := m.keys
	switch {
	case key.Matches(msg, k.Focus):
		if m.focus == focusFiles && m.cur() != nil {
			m.focus = focusDetail
		} else {
			m.focus = focusFiles
		}
		return nil
	case key.Matches(msg, k.Hex):
		return m.openHex()
	case key.Matches(msg, k.Copy), key.Matches(msg, k.CopyPath):
		return m.copySelected(key.Matches(msg, k.CopyPath))
	}
	if m.files == nil {
		return nil
	}
	if m.focus == focusFiles {
		return m.keyFiles(msg)
	}
	return m.keyDetail(msg)
}

func (m *Model) keyFiles(msg tea.KeyMsg) tea.Cmd {
	k, f := m.keys, m.files
	switch {
	case m.moveCursor(msg, f):
	case key.Matches(msg, k.Collapse):
		f.Collapse()
	case key.Matches(msg, k.Expand), key.Matches(msg, k.Toggle):
		if f.SelectedEntry() == nil {
			if key.Matches(msg, k.Toggle) {
				f.Toggle()
			} else {
				f.Expand()
			}
			return nil
		}
		if m.cur() != nil {
			m.focus = focusDetail
		}
		return m.selectionChanged(true)
	case key.Matches(msg, k.ExpandAll):
		if n := f.Selected(); n != nil && n.e == nil {
			var open func(n *fnode)
			open = func(n *fnode) {
				n.open = true
				for _, k := range n.kids {
					open(k)
				}
			}
			open(n)
			f.flatten()
		}
	case key.Matches(msg, k.Back):
		m.status = ""
	}
	return m.selectionChanged(false)
}

func (m *Model) keyDetail(msg tea.KeyMsg) tea.Cmd {
	t := m.tree()
	if t == nil {
		m.focus = focusFiles
		return nil
	}
	k := m.keys
	page := m.detail.bodyHeight() - 1
	switch {
	case key.Matches(msg, k.Up):
		t.cursor = max(0, t.cursor-1)
	case key.Matches(msg, k.Down):
		t.cursor = min(len(t.rows)-1, t.cursor+1)
	case key.Matches(msg, k.PageUp):
		t.cursor = max(0, t.cursor-page)
	case key.Matches(msg, k.PageDown):
		t.cursor = min(len(t.rows)-1, t.cursor+page)
	case key.Matches(msg, k.Top):
		t.cursor = 0
	case key.Matches(msg, k.Bottom):
		t.cursor = len(t.rows) - 1
	case key.Matches(msg, k.Expand):
		if n := t.selected(); n != nil && n.expandable() {
			if n.open {
				t.cursor++
			} else {
				n.open = true
				t.flatten()
			}
		}
	case key.Matches(msg, k.Collapse):
		if n := t.selected(); n != nil {
			if n.open && n.expandable() {
				n.open = false
				t.flatten()
			} else if n.parent != nil {
				t.selectNode(n.parent)
			} else {
				m.focus = focusFiles
			}
		}
	case key.Matches(msg, k.Toggle):
		n := t.selected()
		switch {
		case n == nil:
		case n.link != nil && !n.expandable():
			if !m.revealOffset(n.linkBase + n.link.Offset()) {
				m.setStatus(true, "not found in the object tree")
			}
		case n.expandable():
			n.open = !n.open
			t.flatten()
		}
	case key.Matches(msg, k.ExpandAll):
		if n := t.selected(); n != nil {
			t.expandAll(n)
		}
	case key.Matches(msg, k.CollapseAll):
		t.collapseAll()
	case key.Matches(msg, k.Back):
		m.focus = focusFiles
	}
	t.cursor = min(max(t.cursor, 0), max(len(t.rows)-1, 0))
	m.detail.scroll(t)
	return nil
}

func (m *Model) keyList(msg tea.KeyMsg, l *listView) tea.Cmd {
	if cmd, ok := m.keyGlobal(msg); ok {
		return cmd
	}
	k := m.keys
	if l == nil {
		m.mode = modeBrowse
		return nil
	}
	switch {
	case m.moveCursor(msg, l):
	case key.Matches(msg, k.Toggle), key.Matches(msg, k.Expand):
		if it := l.Selected(); it != nil && it.to != nil {
			if l == m.results {
				m.hitIdx = l.cursor
			}
			return m.goTo(*it.to)
		}
	case key.Matches(msg, k.Copy), key.Matches(msg, k.CopyPath):
		if it := l.Selected(); it != nil {
			if key.Matches(msg, k.CopyPath) {
				return copyCmd(m.opts.Clipboard, "the location", it.path)
			}
			return copyCmd(m.opts.Clipboard, "the value", it.copyVal)
		}
	case key.Matches(msg, k.Back), key.Matches(msg, k.Collapse):
		m.mode = modeBrowse
		m.layout()
	}
	return nil
}

func (m *Model) copySelected(asPath bool) tea.Cmd {
	if m.focus == focusFiles {
		e := m.files.SelectedEntry()
		if e == nil {
			return nil
		}
		if asPath {
			return copyCmd(m.opts.Clipboard, "the relative path", e.rel)
		}
		return copyCmd(m.opts.Clipboard, "the file path", check.JoinPath(m.opts.Root, e.rel))
	}
	t := m.tree()
	if t == nil {
		return nil
	}
	n := t.selected()
	if n == nil {
		return nil
	}
	if asPath {
		p := m.rowPath(n)
		if p == "" {
			p = n.key
		}
		return copyCmd(m.opts.Clipboard, "the path", p)
	}
	return copyCmd(m.opts.Clipboard, "the value", n.copyValue())
}

// rowPath is the object path of a row: its own, or for a typed-summary
// row that of the syntax node it was read from.
func (m *Model) rowPath(n *onode) string {
	if p := n.objectPath(); p != "" || n.link == nil || n.looked {
		return p
	}
	n.looked = true
	if d := m.cur(); d != nil && d.java != nil {
		javaser.Walk(d.java, func(p javaser.Path, x javaser.Node) bool {
			if n.path != "" {
				return false
			}
			if x == n.link {
				n.path = p.String()
				return false
			}
			_, desc := x.(*javaser.ClassDesc)
			return !desc
		})
	}
	return n.path
}

func (m *Model) mouse(msg tea.MouseMsg) tea.Cmd {
	if msg.Action != tea.MouseActionPress {
		return nil
	}
	wheel := 0
	switch msg.Button {
	case tea.MouseButtonWheelUp:
		wheel = -3
	case tea.MouseButtonWheelDown:
		wheel = 3
	case tea.MouseButtonLeft:
	default:
		return nil
	}
	y := msg.Y - 2 // title bar, pane header
	left := msg.X < m.leftWidth()
	switch m.mode {
	case modeResults, modeURIs, modePlan:
		l := map[mode]*listView{modeResults: m.results, modeURIs: m.uris, modePlan: m.planView}[m.mode]
		if l == nil {
			return nil
		}
		if wheel != 0 {
			l.Move(wheel)
		} else if l.Click(y) {
			l.scroll()
		}
		return nil
	case modeHex:
		if !left {
			if wheel != 0 {
				m.hex.Move(int64(wheel), true)
			} else if !m.hex.Click(msg.X-m.leftWidth()-1, y) {
				return nil
			}
			m.focus = focusHex
			m.hexFollow()
			return nil
		}
		m.detailMouse(wheel, y)
		m.focus = focusDetail
		m.treeFollow()
		return nil
	case modeBrowse:
	default:
		return nil
	}
	if m.files == nil {
		return nil
	}
	if left {
		if wheel != 0 {
			m.files.Move(wheel)
		} else {
			if !m.files.Click(y) {
				return nil
			}
			m.focus = focusFiles
			if m.files.SelectedEntry() == nil {
				m.files.Toggle()
			}
		}
		return m.selectionChanged(false)
	}
	if m.tree() == nil {
		return nil
	}
	m.focus = focusDetail
	m.detailMouse(wheel, y)
	return nil
}

func (m *Model) detailMouse(wheel, y int) {
	t := m.tree()
	if wheel != 0 {
		t.cursor = min(max(0, t.cursor+wheel), len(t.rows)-1)
	} else {
		i := t.top + y
		if y < 0 || i >= len(t.rows) {
			return
		}
		if i == t.cursor {
			if n := t.selected(); n != nil && n.expandable() {
				n.open = !n.open
				t.flatten()
			}
		}
		t.cursor = i
	}
	m.detail.scroll(t)
}

// lineCursor is a component with a line cursor: the file tree and the list views.
type lineCursor interface {
	Move(d int)
	Top()
	Bottom()
	bodyHeight() int
}

// moveCursor applies the movement keys (up, down, page up/down, top,
// bottom) to c, and reports whether msg was one of them.
func (m *Model) moveCursor(msg tea.KeyMsg, c lineCursor) bool {
	k := m.keys
	page := c.bodyHeight() - 1
	switch {
	case key.Matches(msg, k.Up):
		c.Move(-1)
	case key.Matches(msg, k.Down):
		c.Move(1)
	case key.Matches(msg, k.PageUp):
		c.Move(-page)
	case key.Matches(msg, k.PageDown):
		c.Move(page)
	case key.Matches(msg, k.Top):
		c.Top()
	case key.Matches(msg, k.Bottom):
		c.Bottom()
	default:
		return false
	}
	return true
}
