package tui

import (
	"fmt"
	"path"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/x/ansi"
)

// View draws the whole screen: title bar, body, status line, key reminder.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(m.titleBar())
	b.WriteByte('\n')
	b.WriteString(m.body())
	b.WriteByte('\n')
	b.WriteString(m.statusLine())
	b.WriteByte('\n')
	b.WriteString(rawLine(m.helpLine(), m.width))
	return b.String()
}

// rawLine cuts and pads a line that is already styled (a bubbles view).
func rawLine(s string, w int) string {
	s = ansi.Truncate(s, w, "…")
	return s + strings.Repeat(" ", max(0, w-ansi.StringWidth(s)))
}

func (m *Model) titleBar() string {
	left := " sparkckpt browse  " + m.opts.Name
	right := "no --expect-fs: URIs not judged "
	if m.judge.judging() {
		right = "expect-fs " + strings.Join(m.opts.ExpectFS, ", ") + " "
	}
	pad := m.width - cellWidth(left) - cellWidth(right)
	if pad < 1 {
		return renderLine([]seg{{left, m.st.Title}}, m.width)
	}
	return renderLine([]seg{{left + strings.Repeat(" ", pad) + right, m.st.Title}}, m.width)
}

func (m *Model) body() string {
	h := m.bodyHeight()
	if m.listErr != nil {
		return fill(renderLine([]seg{{" cannot list " + m.opts.Name + ": " + m.listErr.Error(), m.st.Error}}, m.width), m.width, h)
	}
	if m.files == nil {
		return fill(renderLine([]seg{{" listing " + m.opts.Name + "…", m.st.Dim}}, m.width), m.width, h)
	}
	switch m.mode {
	case modeResults:
		return m.results.Render(m.st, true)
	case modeURIs:
		return m.uris.Render(m.st, true)
	case modePlan:
		return m.planView.Render(m.st, true)
	case modeConfirm, modeApplying:
		return m.confirmView(h)
	case modeRewriteForm:
		return m.formView(h)
	case modeHelp:
		return m.helpView(h)
	case modeHex:
		left := m.detail.Render(m.tree(), m.detailHeader(), "", m.st, m.judge, m.focus == focusDetail)
		return joinPanes(left, m.hex.Render(m.st, m.focus == focusHex), m.st)
	}
	left := m.files.Render(m.st, m.focus == focusFiles, m.mark)
	right := m.detail.Render(m.tree(), m.detailHeader(), m.detailPlaceholder(), m.st, m.judge, m.focus == focusDetail)
	return joinPanes(left, right, m.st)
}

// fill pads lines with empty lines to h lines (and cuts them to h).
func fill(text string, w, h int) string {
	lines := strings.Split(text, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, strings.Repeat(" ", w))
	}
	return strings.Join(lines, "\n")
}

// joinPanes puts two blocks of equal height side by side with a rule.
func joinPanes(left, right string, st *Styles) string {
	l, r := strings.Split(left, "\n"), strings.Split(right, "\n")
	sep := st.Sep.Render("│")
	var b strings.Builder
	for i := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(l[i])
		b.WriteString(sep)
		if i < len(r) {
			b.WriteString(r[i])
		}
	}
	return b.String()
}

// detailHeader is the right pane's first line: the file and what Spark
// makes of it.
func (m *Model) detailHeader() []seg {
	e := m.files.SelectedEntry()
	if e == nil {
		if n := m.files.Selected(); n != nil {
			return []seg{{n.title, m.st.PaneTitle}}
		}
		return nil
	}
	segs := []seg{{e.name(), m.st.PaneTitle}}
	d := m.cur()
	if d == nil {
		return segs
	}
	switch {
	case d.failed():
		segs = append(segs, seg{"  ✗ does not decode", m.st.Error})
	case e.kind == kindCheckpoint && m.chosenKnown && e.rel == m.chosen:
		segs = append(segs, seg{"  ★ Spark restores from this file", m.st.Chosen})
	case e.kind == kindCheckpoint && m.chosenKnown && m.skipped[e.rel] != "":
		segs = append(segs, seg{"  skipped by Spark: " + m.skipped[e.rel], m.st.Warn})
	case e.kind == kindCheckpoint && m.chosenKnown && m.chosen != "":
		segs = append(segs, seg{"  older than " + m.chosen, m.st.Dim})
	}
	return segs
}

func (m *Model) detailPlaceholder() string {
	e := m.files.SelectedEntry()
	if e == nil {
		if n := m.files.Selected(); n != nil {
			return fmt.Sprintf("  %s, %s\n\n  select a file to decode it", plural(n.files, "file"), humanBytes(n.bytes))
		}
		return "  empty directory"
	}
	return fmt.Sprintf("  decoding %s (%s)…", e.name(), humanBytes(e.size))
}

func (m *Model) statusLine() string {
	if m.mode == modeSearchInput {
		return rawLine(m.input.View(), m.width)
	}
	var segs []seg
	if m.status != "" {
		s := m.st.Status
		if m.bad {
			s = m.st.Error
		}
		segs = append(segs, seg{" " + m.status, s})
	} else {
		segs = m.selectionInfo()
	}
	var busy []string
	if m.inflight != "" {
		busy = append(busy, "decoding "+path.Base(m.inflight))
	}
	if m.statting {
		busy = append(busy, "reading sizes")
	}
	if m.bgBusy || len(m.bg) > 0 {
		busy = append(busy, "reading metadata files")
	}
	if m.searching {
		busy = append(busy, fmt.Sprintf("searching %d/%d", m.searchPos, len(m.order)))
	}
	if m.urisBusy {
		busy = append(busy, "collecting URIs")
	}
	if m.mode == modePlan && m.plan == nil && m.planView != nil && !strings.HasPrefix(m.planView.empty, "no plan") {
		busy = append(busy, "planning")
	}
	if len(busy) > 0 {
		right := strings.Join(busy, " · ") + "… "
		left := renderLine(segs, max(0, m.width-cellWidth(right)))
		return left + renderLine([]seg{{right, m.st.Dim}}, cellWidth(right))
	}
	return renderLine(segs, m.width)
}

func (m *Model) helpLine() string {
	k := m.keys
	var bs []key.Binding
	switch m.mode {
	case modeBrowse:
		bs = k.ShortHelp()
	case modeResults, modeURIs:
		bs = []key.Binding{k.Up, k.Down, withHelp(k.Toggle, "enter", "go to"), k.Copy, k.Search, k.Back, k.Help, k.Quit}
	case modeHex:
		bs = []key.Binding{withHelp(k.Up, "←↑↓→", "move"), withHelp(k.Focus, "tab", "tree/hex"), withHelp(k.Toggle, "enter", "go to the node"), k.Copy, withHelp(k.Back, "esc/x", "back"), k.Help}
	case modeRewriteForm:
		return "tab: switch field · enter: preview the rewrite (nothing is written) · esc: cancel"
	case modePlan:
		bs = []key.Binding{k.Up, k.Down, k.PageDown, k.Apply, withHelp(k.Back, "esc", "edit the mapping"), k.Help, k.Quit}
	case modeConfirm:
		return "y: apply · any other key: cancel"
	case modeApplying:
		return "applying…"
	case modeHelp:
		return "esc or ?: close the help"
	case modeSearchInput:
		return "enter: search every file · esc: cancel"
	}
	return m.help.ShortHelpView(bs)
}

func withHelp(b key.Binding, k, desc string) key.Binding {
	b.SetHelp(k, desc)
	return b
}

func (m *Model) formView(h int) string {
	st := m.st
	w := m.width
	lines := []string{
		renderLine([]seg{{"Rewrite preview: replace a URI prefix everywhere the checkpoint stores it", st.PaneTitle}}, w),
		renderLine(nil, w),
		renderLine([]seg{{"  from  ", st.Key}}, 8) + rawLine(m.from.View(), w-8),
		renderLine([]seg{{"  to    ", st.Key}}, 8) + rawLine(m.to.View(), w-8),
		renderLine(nil, w),
		renderLine([]seg{{"  The preview is a dry run: it reads and re-encodes every checkpoint file and driver log", st.Dim}}, w),
		renderLine([]seg{{"  and writes nothing. Applying needs an explicit confirmation and keeps a journal and", st.Dim}}, w),
		renderLine([]seg{{"  a backup of every original, as 'sparkckpt rewrite --apply' does.", st.Dim}}, w),
	}
	if d := m.docs[m.chosen]; d != nil && d.file != nil {
		lines = append(lines, renderLine(nil, w),
			renderLine(append([]seg{{"  checkpointDir  ", st.Key}}, m.judge.highlight(d.file.Checkpoint.CheckpointDir, seg{st: st.Plain}, st)...), w))
	}
	return fill(strings.Join(lines, "\n"), w, h)
}

func (m *Model) confirmView(h int) string {
	st := m.st
	w := m.width
	p := m.plan
	data := 0
	for _, f := range p.Files {
		if f.Kind != "crc" {
			data++
		}
	}
	lines := []string{
		renderLine([]seg{{"Apply the rewrite?", st.PaneTitle}}, w),
		renderLine(nil, w),
		renderLine([]seg{{fmt.Sprintf("  %s in %s (+%d .crc sidecars) of %s", plural(p.Edits, "change"), plural(data, "file"), len(p.Files)-data, m.opts.Root), st.Plain}}, w),
		renderLine([]seg{{"  " + mappingText(p.Mappings), st.Plain}}, w),
		renderLine(nil, w),
		renderLine([]seg{{"  Before the first change, the journal and a backup of every original go to", st.Plain}}, w),
		renderLine([]seg{{"    " + m.backup.URI, st.Key}}, w),
		renderLine([]seg{{"  Each file is then replaced atomically after its new bytes decode. Undo with", st.Plain}}, w),
		renderLine([]seg{{"    sparkckpt rewrite --undo " + m.backup.URI + "/journal.json", st.Key}}, w),
		renderLine(nil, w),
	}
	if m.mode == modeApplying {
		lines = append(lines, renderLine([]seg{{"  applying…", st.Warn}}, w))
	} else {
		lines = append(lines, renderLine([]seg{{"  Press y to apply, any other key to go back.", st.Warn}}, w))
	}
	return fill(strings.Join(lines, "\n"), w, h)
}

func (m *Model) helpView(h int) string {
	st := m.st
	w := m.width
	lines := []string{renderLine([]seg{{"Keys", st.PaneTitle}}, w)}
	cols := m.keys.FullHelp()
	colW := w / 2
	rows := 0
	for _, c := range cols {
		rows = max(rows, len(c))
	}
	for i := 0; i < rows; i++ {
		var segs []seg
		for ci, c := range cols {
			cell := []seg{}
			used := 0
			if i < len(c) {
				hk := c[i].Help()
				k := fmt.Sprintf("  %-8s", hk.Key)
				cell = append(cell, seg{k, st.HelpKey}, seg{hk.Desc, st.HelpDesc})
				used = cellWidth(k) + cellWidth(hk.Desc)
			}
			segs = append(segs, cell...)
			if ci < len(cols)-1 && used < colW {
				segs = append(segs, seg{strings.Repeat(" ", colW-used), st.Plain})
			}
		}
		lines = append(lines, renderLine(segs, w))
	}
	notes := []string{
		"",
		"  mouse   the wheel scrolls the pane under the pointer; a click selects, a second click toggles",
		"  y/Y     copy through the terminal (OSC 52); in tmux: set -g set-clipboard on",
		"  x       bytes are those of the decompressed stream (the offsets 'sparkckpt dump' shows);",
		"          moving in the hex view selects the node there, and moving in the tree moves the hex",
		"  r       the preview writes nothing; a then y applies, with a journal and backups",
		"  marks   ★ the checkpoint Spark restores from · ✗ does not decode · yellow: skipped by Spark",
	}
	for _, n := range notes {
		lines = append(lines, renderLine([]seg{{n, st.Dim}}, w))
	}
	return fill(strings.Join(lines, "\n"), w, h)
}

// selectionInfo is the status line when there is nothing to report: the
// whole of what the selected row shows cut short (its path and value).
func (m *Model) selectionInfo() []seg {
	st := m.st
	switch {
	case m.files == nil:
		return nil
	case m.mode == modeBrowse && m.focus == focusFiles:
		if e := m.files.SelectedEntry(); e != nil {
			info := fmt.Sprintf("  %d bytes, modified %s UTC", e.size, e.mod.UTC().Format("2006-01-02 15:04:05"))
			if st, ok := m.states[e.rel]; ok && st.err != nil {
				return []seg{{" " + e.rel, m.st.Plain}, {"  ✗ " + oneLine(st.err.Error(), 300), m.st.Error}}
			}
			return []seg{{" " + e.rel, st.Plain}, {info, st.Dim}}
		}
	case m.mode == modeHex && m.focus == focusHex:
		out := []seg{{fmt.Sprintf(" offset %d (%#x)", m.hex.cursor, m.hex.cursor), st.Plain}}
		if m.hex.hlTo > m.hex.hlFrom {
			out = append(out, seg{fmt.Sprintf(" in [%d, %d), %d bytes", m.hex.hlFrom, m.hex.hlTo, m.hex.hlTo-m.hex.hlFrom), st.Plain})
			if t := m.tree(); t != nil {
				if n := t.selected(); n != nil {
					if p := m.rowPath(n); p != "" {
						out = append(out, seg{"  " + p, st.Dim})
					}
				}
			}
		}
		return out
	case m.mode == modeBrowse && m.focus == focusDetail, m.mode == modeHex && m.focus == focusDetail:
		if t := m.tree(); t != nil {
			if n := t.selected(); n != nil && n.vkind != vSection {
				out := []seg{{" ", st.Plain}}
				if p := m.rowPath(n); p != "" {
					out = append(out, seg{p + "  ", st.Dim})
				}
				return append(out, m.judge.highlight(sanitize(oneLine(n.copyValue(), 500)), seg{st: st.Plain}, st)...)
			}
		}
	}
	return nil
}
