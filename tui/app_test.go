package tui

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/sparkckpt/sparkckpt/decode/dstream"
	"github.com/sparkckpt/sparkckpt/fixtures/tree"
	"github.com/sparkckpt/sparkckpt/rewrite"
)

// The first screen: the tree grouped by meaning, the checkpoint Spark
// restores from marked and decoded on the right.
func TestFirstScreen(t *testing.T) {
	b := start(t, Options{Root: hdfsApp(t)})
	b.settle()
	b.waitFor("the chosen checkpoint", func(m *Model) bool { return m.chosenKnown })
	b.golden()
}

// Moving down the file tree selects the .bk, then an RDD part file.
func TestNavigate(t *testing.T) {
	b := start(t, Options{Root: hdfsApp(t)})
	b.settle()
	b.keys("down")
	b.probe(func(m *Model) {
		if m.sel != "checkpoint-1700000010000.bk" {
			t.Errorf("selected %q", m.sel)
		}
	})
	b.keys("down", "down", "down", "down", "down") // into rdd-41, past _partitioner
	b.golden()
}

// Expanding rows of the typed summary and of the object tree.
func TestExpand(t *testing.T) {
	b := start(t, Options{Root: hdfsApp(t)})
	b.settle()
	b.keys("tab")
	b.selectRow("#4") // the PySpark foreachRDD stream
	b.keys("right")
	b.selectRow("foreachFunc")
	b.keys("right")
	if n := b.row(); n == nil || !n.open || len(n.kids) == 0 {
		t.Fatalf("foreachFunc did not expand into its pickled strings")
	}
	b.golden()
}

// Search across every file: results, then the jump to one.
func TestSearch(t *testing.T) {
	b := start(t, Options{Root: hdfsApp(t)})
	b.settle()
	b.keys("/")
	b.typeText("incoming")
	b.keys("enter")
	t.Run("results", func(t *testing.T) {
		b.t = t
		b.golden()
	})
	b.t = t
	b.keys("down", "enter")
	t.Run("jump", func(t *testing.T) {
		b.t = t
		n := b.row()
		if n == nil || n.objectPath() != "Checkpoint.graph.inputStreams.array[1].checkpointData.data{2}[1]" {
			t.Fatalf("jumped to %+v", n)
		}
		b.golden()
	})
	b.t = t
	// n goes to the next hit.
	b.keys("n")
	if n := b.row(); n == nil || !strings.Contains(n.val, "incoming") {
		t.Errorf("n went to %+v", n)
	}
}

// The hex view shows the bytes behind the selected node, and its cursor
// selects the node under it.
func TestHex(t *testing.T) {
	b := start(t, Options{Root: hdfsApp(t)})
	b.settle()
	b.keys("tab")
	b.selectRow("checkpointDir")
	b.keys("x")
	var from, to int64
	var data []byte
	b.probe(func(m *Model) { from, to, data = m.hex.hlFrom, m.hex.hlTo, m.hex.data })
	want := "hdfs://namenode.example.com:8020/user/spark/checkpoints/hdfs-app"
	if got := string(data[from:to]); !strings.HasSuffix(got, want) || got[0] != 't' {
		t.Fatalf("highlighted %q, want TC_STRING + length + %q", got, want)
	}
	t.Run("string", func(t *testing.T) {
		b.t = t
		b.golden()
	})
	b.t = t
	// Down in the hex view: the tree follows to whatever holds the new offset.
	b.keys("down", "down", "down", "down", "down", "down", "down", "down", "down")
	b.probe(func(m *Model) {
		n := m.tree().selected()
		s, e := n.span()
		if m.hex.cursor < s || m.hex.cursor >= e {
			t.Errorf("cursor %d outside the selected row %q [%d, %d)", m.hex.cursor, n.key, s, e)
		}
	})
	t.Run("follow", func(t *testing.T) {
		b.t = t
		b.golden()
	})
	b.t = t
	b.keys("esc")
	b.probe(func(m *Model) {
		if m.mode != modeBrowse || m.focus != focusDetail {
			t.Errorf("esc left mode %d focus %d", m.mode, m.focus)
		}
	})
}

// Every URI grouped by authority, foreign ones flagged against --expect-fs.
func TestURIs(t *testing.T) {
	b := start(t, Options{Root: hdfsApp(t), ExpectFS: []string{"hdfs://new-nn:8020"}})
	b.settle()
	b.keys("u")
	b.golden()
	b.keys("down", "enter") // the first hdfs:// reference

	if n := b.row(); n == nil || !strings.HasPrefix(n.val, "hdfs://namenode.example.com:8020") {
		t.Errorf("enter on a URI went to %+v", n)
	}
}

// The rewrite preview is a diff per file and writes nothing; declining the
// confirmation writes nothing either.
func TestRewritePreview(t *testing.T) {
	dir := hdfsApp(t)
	before := tree.Snapshot(t, dir)
	b := start(t, Options{Root: dir})
	b.settle()
	b.keys("r")
	b.probe(func(m *Model) {
		if m.from.Value() != "hdfs://namenode.example.com:8020" {
			t.Errorf("from is prefilled with %q", m.from.Value())
		}
	})
	b.typeText("hdfs://new-nn:8020")
	b.keys("enter")
	b.golden()
	b.keys("a")
	if s := b.screen(); !strings.Contains(s, "Press y to apply") || !strings.Contains(s, ".sparkckpt-backup-") {
		t.Fatalf("no confirmation:\n%s", s)
	}
	b.keys("n")
	if d := tree.Diff(before, tree.Snapshot(t, dir)); len(d) > 0 {
		t.Fatalf("the preview wrote: %v", d)
	}
}

// With --expect-fs naming the new cluster, the preview proposes it as the
// target (the first hdfs or s3 one; file:/// is not a target), so enter
// alone previews the move there.
func TestRewriteTargetFromExpectFS(t *testing.T) {
	for _, tc := range []struct {
		expect []string
		want   string
	}{
		{[]string{"file:///", "hdfs://new-nn:8020", "s3a://bucket"}, "hdfs://new-nn:8020"},
		{[]string{"s3a://bucket/", "hdfs://new-nn:8020"}, "s3a://bucket"},
		{[]string{"hdfs://namenode.example.com:8020", "hdfs://other:8020"}, "hdfs://other:8020"}, // not the prefix replaced
		{[]string{"file:///"}, ""},
		{nil, ""},
	} {
		b := start(t, Options{Root: hdfsApp(t), ExpectFS: tc.expect})
		b.settle()
		b.keys("r")
		b.probe(func(m *Model) {
			if m.from.Value() != "hdfs://namenode.example.com:8020" || m.to.Value() != tc.want {
				t.Errorf("--expect-fs %q: from %q to %q, want to %q", tc.expect, m.from.Value(), m.to.Value(), tc.want)
			}
		})
		if tc.want == "" {
			continue
		}
		b.keys("enter")
		b.waitFor("the plan", func(m *Model) bool { return m.plan != nil })
		b.probe(func(m *Model) {
			if got := m.mapper.Mappings(); len(got) != 1 || got[0].To != tc.want {
				t.Errorf("--expect-fs %q: planned %+v", tc.expect, got)
			}
		})
	}
}

// Applying after the confirmation rewrites the copy with the CLI's journal,
// which undoes it byte for byte.
func TestRewriteApply(t *testing.T) {
	dir := hdfsApp(t)
	before := tree.Snapshot(t, dir)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	b := start(t, Options{Root: dir, Now: func() time.Time { return now }})
	b.settle()
	b.keys("r")
	b.typeText("hdfs://new-nn:8020")
	b.keys("enter", "a", "y")
	b.waitFor("the apply", func(m *Model) bool { return strings.HasPrefix(m.status, "applied") && m.cur() != nil })
	journals, _ := filepath.Glob(dir + rewrite.BackupPrefix + now.Format("20060102T150405") + ".*-*/" + rewrite.JournalName)
	if len(journals) != 1 {
		t.Fatalf("journals: %v", journals)
	}
	journal := journals[0]
	j, err := rewrite.ReadJournal(journal)
	if err != nil || j.State != rewrite.StateApplied {
		t.Fatalf("journal %s: %v %+v", journal, err, j)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "checkpoint-1700000010000"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := dstream.Read(raw, nil)
	if err != nil || f.Checkpoint.CheckpointDir != "hdfs://new-nn:8020/user/spark/checkpoints/hdfs-app" {
		t.Fatalf("after apply: %v %+v", err, f)
	}
	// The browser shows the new contents.
	b.probe(func(m *Model) {
		if m.cur().file.Checkpoint.CheckpointDir != f.Checkpoint.CheckpointDir {
			t.Errorf("the browser still shows %s", m.cur().file.Checkpoint.CheckpointDir)
		}
	})
	if err := rewrite.Undo(journal, nil); err != nil {
		t.Fatal(err)
	}
	if d := tree.Diff(before, tree.Snapshot(t, dir)); len(d) > 0 {
		t.Fatalf("undo did not restore: %v", d)
	}
}

// ReadOnly previews but never applies.
func TestRewriteReadOnly(t *testing.T) {
	dir := hdfsApp(t)
	before := tree.Snapshot(t, dir)
	b := start(t, Options{Root: dir, ReadOnly: true})
	b.settle()
	b.keys("r")
	b.typeText("hdfs://new-nn:8020")
	b.keys("enter", "a")
	b.probe(func(m *Model) {
		if m.mode != modePlan || !strings.Contains(m.status, "read-only") {
			t.Errorf("mode %d status %q", m.mode, m.status)
		}
	})
	if d := tree.Diff(before, tree.Snapshot(t, dir)); len(d) > 0 {
		t.Fatalf("read-only wrote: %v", d)
	}
}

// ? lists every key of the KeyMap.
func TestHelp(t *testing.T) {
	b := start(t, Options{Root: hdfsApp(t)})
	b.settle()
	b.keys("?")
	s := b.screen()
	for _, col := range DefaultKeyMap().FullHelp() {
		for _, k := range col {
			if !strings.Contains(s, k.Help().Desc) {
				t.Errorf("help lacks %q", k.Help().Desc)
			}
		}
	}
	b.golden()
	b.keys("esc")
	b.probe(func(m *Model) {
		if m.mode != modeBrowse {
			t.Errorf("esc left mode %d", m.mode)
		}
	})
}

// The wheel scrolls the pane under the pointer; a click selects a row.
func TestMouse(t *testing.T) {
	b := start(t, Options{Root: hdfsApp(t)})
	b.settle()
	b.tm.Send(tea.MouseMsg{X: 5, Y: 10, Button: tea.MouseButtonWheelDown, Action: tea.MouseActionPress})
	b.settle()
	b.probe(func(m *Model) {
		if m.files.cursor != 4 || m.files.SelectedEntry() != nil {
			t.Errorf("wheel: file cursor %d, want 4 (a group)", m.files.cursor)
		}
	})
	b.tm.Send(tea.MouseMsg{X: 5, Y: 10, Button: tea.MouseButtonWheelUp, Action: tea.MouseActionPress})
	b.settle()
	// A click on the right pane's 4th body row.
	b.tm.Send(tea.MouseMsg{X: 70, Y: 5, Button: tea.MouseButtonLeft, Action: tea.MouseActionPress})
	b.settle()
	b.probe(func(m *Model) {
		if m.focus != focusDetail || m.tree().cursor != 3 {
			t.Errorf("click: focus %d cursor %d", m.focus, m.tree().cursor)
		}
	})
	b.tm.Send(tea.MouseMsg{X: 70, Y: 10, Button: tea.MouseButtonWheelDown, Action: tea.MouseActionPress})
	b.settle()
	b.probe(func(m *Model) {
		if m.tree().cursor != 6 {
			t.Errorf("wheel: detail cursor %d, want 6", m.tree().cursor)
		}
	})
}

// A smaller terminal lays everything out again.
func TestResize(t *testing.T) {
	b := start(t, Options{Root: hdfsApp(t)})
	b.settle()
	b.tm.Send(tea.WindowSizeMsg{Width: 72, Height: 16})
	b.settle()
	s := b.screen()
	lines := strings.Split(s, "\n")
	if len(lines) != 16 {
		t.Fatalf("%d lines after resizing to 16", len(lines))
	}
	for i, l := range lines {
		if w := cellWidth(l); w != 72 {
			t.Errorf("line %d is %d cells wide: %q", i, w, l)
		}
	}
	b.golden()
}

// syncBuffer is a clipboard terminal for tests.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var osc52Seq = regexp.MustCompile("\x1b]52;c;([A-Za-z0-9+/=]*)\a")

// y copies the value, Y its path, through an OSC 52 sequence.
func TestCopy(t *testing.T) {
	clip := &syncBuffer{}
	b := start(t, Options{Root: hdfsApp(t), Clipboard: clip})
	b.settle()
	b.keys("tab")
	b.selectRow("checkpointDir")
	// One key at a time: each copy is written by its own command, which
	// bubbletea runs concurrently, so two keys at once may land in either order.
	b.keys("y")
	b.waitFor("one copy", func(*Model) bool { return len(osc52Seq.FindAllString(clip.String(), -1)) == 1 })
	b.keys("Y")
	b.waitFor("two copies", func(*Model) bool { return len(osc52Seq.FindAllString(clip.String(), -1)) == 2 })
	var got []string
	for _, m := range osc52Seq.FindAllStringSubmatch(clip.String(), -1) {
		v, err := base64.StdEncoding.DecodeString(m[1])
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(v))
	}
	want := []string{"hdfs://namenode.example.com:8020/user/spark/checkpoints/hdfs-app", "Checkpoint.checkpointDir"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("copied %q, want %q", got, want)
	}
}

// A truncated newest checkpoint is marked ✗ and Spark's choice moves to its .bk.
func TestUndecodable(t *testing.T) {
	dir := hdfsApp(t)
	p := filepath.Join(dir, "checkpoint-1700000010000")
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, raw[:len(raw)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	touchAll(t, dir)
	b := start(t, Options{Root: dir})
	b.settle()
	b.waitFor("the chosen checkpoint", func(m *Model) bool { return m.chosenKnown })
	b.probe(func(m *Model) {
		if m.chosen != "checkpoint-1700000010000.bk" {
			t.Errorf("chosen %q", m.chosen)
		}
		if !m.mark(m.list.byRel["checkpoint-1700000010000"]).failed {
			t.Error("the truncated file is not marked")
		}
	})
	b.golden()
}

// q quits and the program ends.
func TestQuit(t *testing.T) {
	m, err := New(Options{Root: hdfsApp(t)})
	if err != nil {
		t.Fatal(err)
	}
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(100, 30))
	tm.Send(keyMsg("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}
