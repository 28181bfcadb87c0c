package tui

// The rewrite preview: form, plan as a diff per file, confirmation, apply.

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/sparkckpt/sparkckpt/decode/dstream"
	"github.com/sparkckpt/sparkckpt/rewrite"
)

// defaultFrom proposes the place the chosen checkpoint's checkpointDir is on.
func (m *Model) defaultFrom() string {
	for _, name := range []string{m.chosen, m.sel} {
		if d := m.docs[name]; d != nil && d.file != nil {
			u := d.file.Checkpoint.CheckpointDir
			s, a := dstream.SplitURI(u)
			if a != "" {
				return s + "://" + a
			}
			return u
		}
	}
	return ""
}

// defaultTo proposes the new cluster the user named: the first hdfs or
// s3 filesystem of --expect-fs that is not the prefix being replaced.
func (m *Model) defaultTo(from string) string {
	for _, e := range m.opts.ExpectFS {
		scheme, _, _ := strings.Cut(e, ":")
		switch strings.ToLower(scheme) {
		case "hdfs", "s3", "s3a", "s3n":
			if to := strings.TrimRight(e, "/"); !strings.EqualFold(to, strings.TrimRight(from, "/")) {
				return to
			}
		}
	}
	return ""
}

func (m *Model) openForm() {
	m.mode = modeRewriteForm
	if m.from.Value() == "" {
		m.from.SetValue(m.defaultFrom())
	}
	if m.to.Value() == "" {
		m.to.SetValue(m.defaultTo(m.from.Value()))
	}
	m.formField = 0
	if m.from.Value() != "" {
		m.formField = 1
	}
	m.focusForm()
}

func (m *Model) focusForm() {
	if m.formField == 0 {
		m.from.Focus()
		m.to.Blur()
	} else {
		m.to.Focus()
		m.from.Blur()
	}
}

func (m *Model) keyForm(msg tea.KeyMsg) tea.Cmd {
	switch msg.Type {
	case tea.KeyEsc:
		m.mode = modeBrowse
		m.from.Blur()
		m.to.Blur()
		m.layout()
		return nil
	case tea.KeyTab, tea.KeyShiftTab, tea.KeyUp, tea.KeyDown:
		m.formField = 1 - m.formField
		m.focusForm()
		return nil
	case tea.KeyEnter:
		if m.formField == 0 {
			m.formField = 1
			m.focusForm()
			return nil
		}
		from, to := strings.TrimSpace(m.from.Value()), strings.TrimSpace(m.to.Value())
		if from == "" || to == "" {
			m.setStatus(true, "give both: the prefix to replace and its replacement")
			return nil
		}
		if _, err := rewrite.NewMapper([]rewrite.Mapping{{From: from, To: to}}); err != nil {
			m.setStatus(true, "%v", err)
			return nil
		}
		m.from.Blur()
		m.to.Blur()
		m.mode = modePlan
		m.plan, m.refusal = nil, nil
		m.planView = &listView{title: fmt.Sprintf("Rewrite %s → %s", from, to), empty: "planning (reading and re-encoding every checkpoint file and log)…"}
		m.layout()
		m.status = ""
		return planCmd(m.opts.Dir, m.opts.Root, []rewrite.Mapping{{From: from, To: to}})
	}
	var cmd tea.Cmd
	if m.formField == 0 {
		m.from, cmd = m.from.Update(msg)
	} else {
		m.to, cmd = m.to.Update(msg)
	}
	return cmd
}

func (m *Model) gotPlan(msg planMsg) {
	if m.mode != modePlan || m.planView == nil {
		return
	}
	l := m.planView
	if msg.err != nil {
		l.empty = "no plan: " + msg.err.Error()
		m.setStatus(true, "rewrite: %v", msg.err)
		return
	}
	m.plan, m.mapper, m.refusal = msg.plan, msg.mapper, msg.refusal
	st := m.st
	p := msg.plan
	data := 0
	for _, f := range p.Files {
		if f.Kind == rewrite.KindCRC {
			l.items = append(l.items, listItem{segs: []seg{{f.Path, st.Group}, {" (.crc sidecar of " + f.Of + ", regenerated)", st.Dim}}})
			continue
		}
		data++
		extra := ""
		if f.Codec != "" {
			extra = " " + f.Codec
		}
		l.items = append(l.items, listItem{header: true, segs: []seg{{f.Path, st.Group},
			{fmt.Sprintf(" (%s%s, %d → %d bytes, %s)", f.Kind, extra, f.OldSize, f.NewSize, plural(len(f.Edits), "change")), st.Dim}}})
		for _, e := range f.Edits {
			l.items = append(l.items,
				listItem{segs: []seg{{"  " + e.Location, st.Dim}}, path: e.Location, copyVal: e.After},
				listItem{segs: []seg{{"  - ", st.Del}, {sanitize(e.Before), st.Del}}, path: e.Location, copyVal: e.Before},
				listItem{segs: []seg{{"  + ", st.Add}, {sanitize(e.After), st.Add}}, path: e.Location, copyVal: e.After})
		}
	}
	for _, u := range p.Undecodable {
		l.items = append(l.items, listItem{segs: []seg{{"undecodable ", st.Error}, {u.File + ": " + u.Error, st.Plain}}})
	}
	for _, u := range p.Unhandled {
		l.items = append(l.items, listItem{segs: []seg{{"unhandled ", st.Warn}, {u.File + ": " + u.Error, st.Plain}}})
	}
	for _, u := range p.Inconsistent {
		l.items = append(l.items, listItem{segs: []seg{{"inconsistent ", st.Warn}, {u.File + ": " + u.Error, st.Plain}}})
	}
	l.title = fmt.Sprintf("Dry run, nothing written: %s in %s (+%d .crc), %d unchanged · %s",
		plural(p.Edits, "change"), plural(data, "file"), len(p.Files)-data, p.Unchanged, mappingText(p.Mappings))
	switch {
	case len(p.Files) == 0:
		l.empty = fmt.Sprintf("nothing to rewrite: no string matches (%d files read)", p.Unchanged)
		m.setStatus(false, "nothing to rewrite")
	case msg.refusal != nil:
		m.setStatus(true, "refused, nothing can be written: %v", msg.refusal)
	case m.opts.ReadOnly:
		m.setStatus(false, "read-only: preview only")
	default:
		m.setStatus(false, "a applies (after a confirmation); esc goes back")
	}
	l.cursor = 0
	l.SetSize(m.width, m.bodyHeight())
}

func mappingText(ms []rewrite.Mapping) string {
	var parts []string
	for _, x := range ms {
		parts = append(parts, x.From+" → "+x.To)
	}
	return strings.Join(parts, ", ")
}

func (m *Model) keyPlan(msg tea.KeyMsg) tea.Cmd {
	k := m.keys
	switch {
	case key.Matches(msg, k.Apply):
		switch {
		case m.plan == nil:
			m.setStatus(true, "no plan to apply")
		case len(m.plan.Files) == 0:
			m.setStatus(true, "nothing to apply")
		case m.refusal != nil:
			m.setStatus(true, "refused: %v", m.refusal)
		case m.opts.ReadOnly:
			m.setStatus(true, "read-only: the browser was started with --read-only")
		default:
			m.backup = rewrite.DefaultBackup(m.opts.Dir, m.opts.Now())
			m.mode = modeConfirm
		}
		return nil
	case key.Matches(msg, k.Back):
		m.openForm()
		return nil
	}
	return m.keyList(msg, m.planView)
}

func (m *Model) keyConfirm(msg tea.KeyMsg) tea.Cmd {
	if key.Matches(msg, m.keys.Confirm) {
		m.mode = modeApplying
		m.setStatus(false, "applying…")
		return applyCmd(m.plan, m.mapper, m.backup)
	}
	m.mode = modePlan
	m.setStatus(false, "not applied")
	return nil
}

func (m *Model) applied(msg appliedMsg) tea.Cmd {
	if msg.err != nil {
		m.mode = modePlan
		m.setStatus(true, "apply failed: %v", msg.err)
		return nil
	}
	m.setStatus(false, "applied; journal %s (undo: sparkckpt rewrite --undo %s)", msg.journal, msg.journal)
	if len(msg.notices) > 0 {
		m.setStatus(false, "applied (%s); journal %s (undo: sparkckpt rewrite --undo %s)", strings.Join(msg.notices, "; "), msg.journal, msg.journal)
	}
	m.mode = modeBrowse
	m.plan, m.planView = nil, nil
	m.from.SetValue("")
	m.to.SetValue("")
	// Everything may have changed: list and decode again.
	if m.cancel != nil {
		m.cancel()
	}
	m.docs, m.lru, m.states = map[string]*doc{}, nil, map[string]fileState{}
	m.chosen, m.chosenKnown, m.skipped = "", false, map[string]string{}
	m.inflight, m.cancel, m.bgBusy = "", nil, false
	m.opts.Select = m.sel
	m.searchID++
	m.hits, m.results = nil, nil
	return listCmd(m.ctx, m.fsys)
}
