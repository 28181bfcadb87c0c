package tui

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"
	"github.com/sparkckpt/sparkckpt/fixtures/tree"
)

// Goldens are the ANSI-stripped View() of the model, drawn with a fixed
// colour profile. Refresh them with: go test ./tui -update

func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.ANSI)
	os.Exit(m.Run())
}

// fixedTime is the modification time every copied fixture file gets, so
// that the file tree's times are the same on every run.
var fixedTime = time.Date(2023, 11, 14, 22, 15, 0, 0, time.UTC)

// repoFile returns a path in the repository.
func repoFile(parts ...string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(append([]string{filepath.Dir(file), ".."}, parts...)...)
}

// hdfsApp copies the bundled hdfs-app checkpoint tree (tests never touch
// the fixtures) with fixed modification times.
func hdfsApp(t testing.TB) string {
	t.Helper()
	dir := tree.Copy(t, repoFile("fixtures", "generated", "dstream", "hdfs-app"))
	touchAll(t, dir)
	return dir
}

func touchAll(t testing.TB, dir string) {
	t.Helper()
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		return os.Chtimes(p, fixedTime, fixedTime)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// probeMsg runs fn on the model inside its event loop, so tests read the
// model's state without racing it.
type probeMsg struct {
	fn   func(*Model)
	done chan struct{}
}

// harness wraps the model to answer probes; everything else is the model's.
type harness struct{ *Model }

func (h harness) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if p, ok := msg.(probeMsg); ok {
		p.fn(h.Model)
		close(p.done)
		return h, nil
	}
	_, cmd := h.Model.Update(msg)
	return h, cmd
}

// browser runs the model in a teatest program, 100x30.
type browser struct {
	t  *testing.T
	tm *teatest.TestModel
}

func start(t *testing.T, o Options) *browser {
	t.Helper()
	if o.Name == "" {
		o.Name = filepath.Base(o.Root)
	}
	m, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t, tm: teatest.NewTestModel(t, harness{m}, teatest.WithInitialTermSize(100, 30))}
	t.Cleanup(func() {
		b.tm.Quit()
		b.tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	})
	return b
}

// probe runs fn in the event loop and waits for it.
func (b *browser) probe(fn func(*Model)) {
	b.t.Helper()
	done := make(chan struct{})
	b.tm.Send(probeMsg{fn: fn, done: done})
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		b.t.Fatal("the model does not answer")
	}
}

// waitFor polls the model until cond holds.
func (b *browser) waitFor(what string, cond func(*Model) bool) {
	b.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ok := false
		b.probe(func(m *Model) { ok = cond(m) })
		if ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("timed out waiting for %s; screen:\n%s", what, b.screen())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// idle reports that nothing is being decoded, searched or planned.
func idle(m *Model) bool {
	return m.files != nil && !m.bgBusy && !m.statting && len(m.bg) == 0 && m.inflight == "" && !m.searching && !m.urisBusy &&
		m.mode != modeApplying && !(m.mode == modePlan && m.plan == nil && !strings.HasPrefix(m.planView.empty, "no plan"))
}

// settle waits until the selected file is decoded and nothing runs.
func (b *browser) settle() {
	b.t.Helper()
	b.waitFor("idle", func(m *Model) bool {
		return idle(m) && (m.files.SelectedEntry() == nil || m.cur() != nil)
	})
}

// screen is the model's View without colours.
func (b *browser) screen() string {
	var s string
	b.probe(func(m *Model) { s = ansi.Strip(m.View()) })
	return s
}

// keys sends each key, letting the model settle after each.
func (b *browser) keys(keys ...string) {
	b.t.Helper()
	for _, k := range keys {
		b.tm.Send(keyMsg(k))
		b.settle()
	}
}

// typeText types text into a text input.
func (b *browser) typeText(s string) {
	b.tm.Type(s)
	b.settle()
}

func keyMsg(k string) tea.KeyMsg {
	switch k {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "left":
		return tea.KeyMsg{Type: tea.KeyLeft}
	case "right":
		return tea.KeyMsg{Type: tea.KeyRight}
	case "pgdown":
		return tea.KeyMsg{Type: tea.KeyPgDown}
	case "ctrl+c":
		return tea.KeyMsg{Type: tea.KeyCtrlC}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

// golden compares the screen with testdata/<test name>.golden.
func (b *browser) golden() {
	b.t.Helper()
	golden.RequireEqual(b.t, []byte(b.screen()))
}

// row returns the detail pane's selected row.
func (b *browser) row() *onode {
	var n *onode
	b.probe(func(m *Model) {
		if t := m.tree(); t != nil {
			n = t.selected()
		}
	})
	return n
}

// selectRow moves the detail cursor to the first row whose key is key
// (expanding nothing): the row must be visible.
func (b *browser) selectRow(key string) {
	b.t.Helper()
	found := false
	b.probe(func(m *Model) {
		t := m.tree()
		for i, r := range t.rows {
			if r.key == key {
				t.cursor = i
				m.focus = focusDetail
				m.detail.scroll(t)
				found = true
				return
			}
		}
	})
	if !found {
		b.t.Fatalf("no visible row %q; screen:\n%s", key, b.screen())
	}
}
