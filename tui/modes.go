package tui

// The search, URI and hex views.

import (
	"fmt"
	"path"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/sparkckpt/sparkckpt/decode/dstream"
	"github.com/sparkckpt/sparkckpt/decode/structured"
)

func (m *Model) keySearchInput(msg tea.KeyMsg) tea.Cmd {
	switch msg.Type {
	case tea.KeyEsc:
		m.mode = modeBrowse
		m.input.Blur()
		return nil
	case tea.KeyEnter:
		m.input.Blur()
		q := strings.TrimSpace(m.input.Value())
		if q == "" {
			m.mode = modeBrowse
			return nil
		}
		return m.startSearch(q)
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	return cmd
}

func (m *Model) cacheSnapshot() map[string]*doc {
	c := make(map[string]*doc, len(m.docs))
	for k, v := range m.docs {
		c[k] = v
	}
	return c
}

func (m *Model) startSearch(q string) tea.Cmd {
	m.query = q
	m.searchID++
	m.searching, m.searchPos = true, 0
	m.hits, m.hitIdx = nil, 0
	m.results = &listView{title: fmt.Sprintf("Search %q", q), empty: "searching…"}
	m.mode = modeResults
	m.layout()
	return searchCmd(m.ctx, m.fsys, m.searchID, strings.ToLower(q), m.order, 0, m.cacheSnapshot(), m.opts.ShowSecrets, m.opts.Limits)
}

func (m *Model) searched(msg searchMsg) tea.Cmd {
	if msg.id != m.searchID {
		return nil
	}
	for _, d := range msg.docs {
		if _, known := m.states[d.rel]; !known {
			m.setState(d)
		}
	}
	q := strings.ToLower(m.query)
	for _, h := range msg.hits {
		if len(m.hits) >= maxHits {
			break
		}
		if len(m.hits) == 0 || m.hits[len(m.hits)-1].rel != h.rel {
			m.results.items = append(m.results.items, listItem{header: true, segs: []seg{{h.rel, m.st.Group}}})
		}
		m.hits = append(m.hits, h)
		j := jump{h.rel, h.off}
		segs := []seg{{"  ", m.st.Plain}}
		segs = append(segs, matchSegs(sanitize(oneLine(h.val, 200)), q, m.st.String, m.st.Match)...)
		segs = append(segs, seg{"  " + h.kind + " " + h.path, m.st.Dim})
		m.results.items = append(m.results.items, listItem{segs: segs, to: &j, copyVal: h.val, path: h.path})
	}
	if m.results.cursor == 0 && len(m.results.items) > 1 && m.results.items[0].header {
		m.results.cursor = 1
	}
	m.searchPos = msg.next
	m.results.title = fmt.Sprintf("Search %q: %s in %d of %d files", m.query, plural(len(m.hits), "hit"), m.searchPos, len(m.order))
	if msg.next >= len(m.order) || len(m.hits) >= maxHits {
		m.searching = false
		if len(m.hits) >= maxHits {
			m.results.title += fmt.Sprintf(" (stopped at %d hits)", maxHits)
		}
		m.results.empty = "no match"
		return nil
	}
	return searchCmd(m.ctx, m.fsys, m.searchID, q, m.order, msg.next, m.cacheSnapshot(), m.opts.ShowSecrets, m.opts.Limits)
}

func (m *Model) openURIs() tea.Cmd {
	if m.list == nil {
		return nil
	}
	m.mode = modeURIs
	m.urisBusy = true
	m.uris = &listView{title: "URIs by authority", empty: "reading the metadata files…"}
	m.layout()
	var files []*entry
	ss := false
	for _, e := range m.order {
		if e.kind == kindCheckpoint || e.kind == kindDriverLog {
			files = append(files, e)
		}
		ss = ss || e.kind == kindStructured
	}
	return urisCmd(m.ctx, m.fsys, files, m.cacheSnapshot(), ss, m.opts.Limits)
}

func (m *Model) gotURIs(msg urisMsg) {
	for _, d := range msg.docs {
		if _, ok := m.docs[d.rel]; !ok {
			m.store(d)
		}
	}
	m.urisBusy = false
	type group struct {
		key   string
		refs  []uriRef
		files map[string]bool
	}
	groups := map[string]*group{}
	var keys []string
	for _, r := range msg.refs {
		k := r.Key()
		if groups[k] == nil {
			groups[k] = &group{key: k, files: map[string]bool{}}
			keys = append(keys, k)
		}
		groups[k].refs = append(groups[k].refs, r)
		groups[k].files[r.rel] = true
	}
	sortNatural(keys)
	l := m.uris
	l.items = nil
	l.empty = "no URI in the metadata checkpoints, driver logs and Structured Streaming logs"
	foreign := 0
	for _, k := range keys {
		g := groups[k]
		hs := []seg{{k, m.st.Group}, {fmt.Sprintf("  %s in %s", plural(len(g.refs), "reference"), plural(len(g.files), "file")), m.st.Dim}}
		if len(g.refs) > 0 && m.judge.foreign(g.refs[0].URI) {
			foreign++
			hs[0].st = m.st.Foreign
			hs = append(hs, seg{"  ⚠ not on --expect-fs", m.st.Warn})
		}
		l.items = append(l.items, listItem{header: true, segs: hs, copyVal: k, path: k})
		type lineKey struct{ uri, role, loc string }
		seen := map[lineKey]int{}
		for _, r := range g.refs {
			lk := lineKey{r.URI, r.Role, r.Location}
			if i, ok := seen[lk]; ok {
				l.items[i].segs[len(l.items[i].segs)-1].s = fmt.Sprintf("  %s (+ other files)", r.Location)
				continue
			}
			role := r.Role
			rs := m.st.Dim
			if restartRole(r.Role) {
				role += " (restart)"
				rs = m.st.Warn
			}
			j := jump{r.rel, r.off}
			segs := []seg{{"  ", m.st.Plain}}
			segs = append(segs, m.judge.highlight(r.URI, seg{st: m.st.Plain}, m.st)...)
			segs = append(segs, seg{"  " + role, rs}, seg{"  " + path.Base(r.rel), m.st.Plain}, seg{"  " + r.Location, m.st.Dim})
			seen[lk] = len(l.items)
			l.items = append(l.items, listItem{segs: segs, to: &j, copyVal: r.URI, path: r.Location})
		}
	}
	l.title = fmt.Sprintf("URIs by authority: %s", plural(len(keys), "place"))
	switch {
	case foreign > 0:
		l.title += fmt.Sprintf(", %d not on --expect-fs", foreign)
	case !m.judge.judging():
		l.title += " (give --expect-fs to flag foreign ones)"
	}
	l.cursor = 0
	if len(l.items) > 1 && l.items[0].header {
		l.cursor = 1
	}
	l.SetSize(m.width, m.bodyHeight())
}

func (m *Model) openHex() tea.Cmd {
	d := m.cur()
	if d == nil || len(d.data) == 0 {
		m.setStatus(true, "no bytes to show: select a decoded file")
		return nil
	}
	t := m.tree()
	m.mode = modeHex
	m.hex.data = d.data
	m.hex.title = fmt.Sprintf("%s, %s (%d bytes)", path.Base(d.rel), d.dataName(), len(d.data))
	m.hex.hlFrom, m.hex.hlTo = 0, 0
	m.layout()
	start := int64(0)
	if n := t.selected(); n != nil && m.focus == focusDetail {
		if s, e := n.span(); s >= 0 {
			start = s
			m.hex.hlFrom, m.hex.hlTo = s, max(e, s+1)
		}
	} else if d.errOff >= 0 {
		start = d.errOff
		m.hex.hlFrom, m.hex.hlTo = start, start+1
	}
	m.hex.SetCursor(start)
	m.hex.Center()
	m.focus = focusHex
	m.detail.scroll(t)
	return nil
}

// hexFollow selects the deepest row holding the hex cursor: the hex view
// leads and the tree follows.
func (m *Model) hexFollow() {
	if n := m.tree().at(m.hex.cursor); n != nil {
		m.tree().reveal(n)
		m.detail.scroll(m.tree())
		s, e := n.span()
		m.hex.hlFrom, m.hex.hlTo = s, max(e, s+1)
	} else {
		m.hex.hlFrom, m.hex.hlTo = 0, 0
	}
}

// treeFollow moves the hex cursor to the selected row's bytes: the tree
// leads and the hex view follows.
func (m *Model) treeFollow() {
	n := m.tree().selected()
	if n == nil {
		return
	}
	if s, e := n.span(); s >= 0 {
		m.hex.hlFrom, m.hex.hlTo = s, max(e, s+1)
		m.hex.SetCursor(s)
	}
}

func (m *Model) keyHex(msg tea.KeyMsg) tea.Cmd {
	k := m.keys
	switch {
	case key.Matches(msg, k.Hex), key.Matches(msg, k.Back):
		m.mode = modeBrowse
		m.focus = focusDetail
		m.layout()
		return nil
	case key.Matches(msg, k.Focus):
		if m.focus == focusHex {
			m.focus = focusDetail
		} else {
			m.focus = focusHex
		}
		return nil
	case key.Matches(msg, k.Copy):
		if m.hex.hlTo > m.hex.hlFrom {
			return copyCmd(m.opts.Clipboard, "the bytes (hex)", hexPreview(m.hex.data[m.hex.hlFrom:min(m.hex.hlTo, int64(len(m.hex.data)))], -1))
		}
		return nil
	case key.Matches(msg, k.CopyPath):
		return copyCmd(m.opts.Clipboard, "the offset", fmt.Sprintf("%d", m.hex.cursor))
	}
	if m.focus != focusHex {
		cmd := m.keyDetail(msg)
		m.focus = focusDetail
		m.treeFollow()
		return cmd
	}
	h := m.hex
	page := int64(h.bodyHeight() - 1)
	switch {
	case key.Matches(msg, k.Up):
		h.Move(-1, true)
	case key.Matches(msg, k.Down):
		h.Move(1, true)
	case key.Matches(msg, k.Collapse):
		h.Move(-1, false)
	case key.Matches(msg, k.Expand):
		h.Move(1, false)
	case key.Matches(msg, k.PageUp):
		h.Move(-page, true)
	case key.Matches(msg, k.PageDown):
		h.Move(page, true)
	case key.Matches(msg, k.Top):
		h.SetCursor(0)
	case key.Matches(msg, k.Bottom):
		h.SetCursor(int64(len(h.data)) - 1)
	case key.Matches(msg, k.Toggle):
		m.mode = modeBrowse
		m.focus = focusDetail
		m.layout()
		return nil
	default:
		return nil
	}
	m.hexFollow()
	return nil
}

// restartRole reports whether a reference's role decides where Spark reads
// or writes on restart (DStream or Structured Streaming roles).
func restartRole(role string) bool {
	if info, ok := dstream.Role(role); ok {
		return info.Restart
	}
	_, restart, ok := structured.RoleMeaning(role)
	return ok && restart
}
