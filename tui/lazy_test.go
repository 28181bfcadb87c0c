package tui

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/sparkckpt/sparkckpt/fixtures/tree"
)

// bigTree is the hdfs-app checkpoint plus n small RDD part files in
// directories of 500, like a long-running job's checkpoint directory.
func bigTree(t testing.TB, n int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "big-app")
	tree.CopyInto(t, repoFile("fixtures", "generated", "dstream", "hdfs-app"), dir)
	part := []byte{0xAC, 0xED, 0x00, 0x05} // an empty Java stream, as Spark writes for an empty partition
	for i := 0; i < n; i++ {
		d := filepath.Join(dir, "3f0c2a9e-5b7d-4c1e-9a2f-6d8e1b4c7a90", fmt.Sprintf("rdd-%d", 1000+i/500))
		if i%500 == 0 {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("part-%05d", i%500)), part, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// countFS records every file opened through it.
type countFS struct {
	fsys   fs.FS
	mu     sync.Mutex
	opened []string
}

func (c *countFS) Open(name string) (fs.File, error) {
	f, err := c.fsys.Open(name)
	if err == nil {
		if st, err := f.Stat(); err == nil && !st.IsDir() {
			c.mu.Lock()
			c.opened = append(c.opened, name)
			c.mu.Unlock()
		}
	}
	return f, err
}

func (c *countFS) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(c.fsys, name) }

func (c *countFS) files() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.opened...)
}

// drain runs commands and feeds their messages back, as the program does,
// until none is left; it returns how many messages it delivered.
func drain(m *Model, cmds ...tea.Cmd) int {
	n := 0
	for len(cmds) > 0 {
		c := cmds[0]
		cmds = cmds[1:]
		if c == nil {
			continue
		}
		msg := c()
		if b, ok := msg.(tea.BatchMsg); ok {
			cmds = append(cmds, b...)
			continue
		}
		n++
		_, next := m.Update(msg)
		cmds = append(cmds, next)
	}
	return n
}

// Listing a big directory and drawing the first screen opens no file; the
// background pass then reads only the metadata checkpoints, and scrolling
// through thousands of part files decodes only the one the cursor rests on.
func TestListingIsLazy(t *testing.T) {
	dir := bigTree(t, 3000)
	cfs := &countFS{fsys: os.DirFS(dir)}
	m, err := New(Options{Root: dir, FS: cfs})
	if err != nil {
		t.Fatal(err)
	}
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	msg := m.Init()()
	_, cmd := m.Update(msg)
	screen := ansi.Strip(m.View())
	if got := cfs.files(); len(got) != 0 {
		t.Fatalf("listing and the first screen opened %d files: %v", len(got), got[:min(5, len(got))])
	}
	if !strings.Contains(screen, "RDD checkpoint data (3010 files") {
		t.Fatalf("first screen:\n%s", screen)
	}
	drain(m, cmd)
	for _, f := range cfs.files() {
		if !strings.HasPrefix(f, "checkpoint-") {
			t.Errorf("the background pass opened %s", f)
		}
	}
	if !m.chosenKnown || m.chosen != "checkpoint-1700000010000" {
		t.Errorf("chosen %q (known %v)", m.chosen, m.chosenKnown)
	}
	before := len(cfs.files())

	// Open every group and run down 1000 rows, as fast as keys come.
	var open func(ns []*fnode)
	open = func(ns []*fnode) {
		for _, n := range ns {
			n.open = true
			open(n.kids)
		}
	}
	open(m.files.roots)
	m.files.flatten()
	m.files.Reveal("3f0c2a9e-5b7d-4c1e-9a2f-6d8e1b4c7a90/rdd-1000/part-00000")
	var ticks []tea.Cmd
	t0 := time.Now()
	for i := 0; i < 1000; i++ {
		_, c := m.Update(keyMsg("down"))
		ticks = append(ticks, c)
	}
	if d := time.Since(t0); d > 10*time.Second { // a sanity bound: moving never waits on a decode
		t.Errorf("1000 moves took %v", d)
	}
	if got := len(cfs.files()) - before; got != 0 {
		t.Fatalf("moving opened %d files", got)
	}
	// The debounce timers fire (in parallel, as the program runs them);
	// only the last selection is decoded.
	results := make([]tea.Msg, len(ticks))
	var wg sync.WaitGroup
	for i, c := range ticks {
		if c == nil {
			continue
		}
		wg.Add(1)
		go func() { defer wg.Done(); results[i] = c() }()
	}
	wg.Wait()
	var next []tea.Cmd
	for _, r := range results {
		if r != nil {
			_, c := m.Update(r)
			next = append(next, c)
		}
	}
	drain(m, next...)
	opened := cfs.files()[before:]
	if len(opened) != 1 || opened[0] != m.sel {
		t.Errorf("after resting on %s the browser opened %v", m.sel, opened)
	}
	if m.cur() == nil {
		t.Error("the selected part file is not decoded")
	}
}

// BenchmarkFirstScreen measures what stands between starting the browser
// on a 25,000-file directory and its first full screen: listing and
// classifying every file, building the tree and drawing it.
func BenchmarkFirstScreen(b *testing.B) {
	dir := bigTree(b, 25000)
	b.ResetTimer()
	for b.Loop() {
		m, err := New(Options{Root: dir})
		if err != nil {
			b.Fatal(err)
		}
		m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
		m.Update(m.Init()())
		if s := m.View(); !strings.Contains(s, "25010 files") {
			b.Fatalf("first screen:\n%s", s)
		}
	}
}
