package tui

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparkckpt/sparkckpt/fixtures/tree"
	"github.com/sparkckpt/sparkckpt/rewrite"
	"github.com/sparkckpt/sparkckpt/rewrite/lock"
	"github.com/sparkckpt/sparkckpt/store"
)

// The browser's apply takes the lock of the checkpoint directory, like
// 'sparkckpt rewrite --apply': while another run holds it, the apply fails
// naming the holder and writes nothing (no backup directory either).
func TestRewriteApplyWhileLocked(t *testing.T) {
	dir := hdfsApp(t)
	before := tree.Snapshot(t, dir)
	name, err := store.LocalName(dir)
	if err != nil {
		t.Fatal(err)
	}
	l, err := lock.Acquire(store.NewLocal("/"), name, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	b := start(t, Options{Root: dir})
	b.settle()
	b.keys("r")
	b.typeText("hdfs://new-nn:8020")
	b.keys("enter", "a", "y")
	b.waitFor("the failed apply", func(m *Model) bool { return strings.HasPrefix(m.status, "apply failed") })
	b.probe(func(m *Model) {
		if !strings.Contains(m.status, dir+" is locked by another sparkckpt") {
			t.Errorf("status %q", m.status)
		}
	})
	if d := tree.Diff(before, tree.Snapshot(t, dir)); len(d) > 0 {
		t.Fatalf("the apply wrote: %v", d)
	}
	if bk, _ := filepath.Glob(dir + rewrite.BackupPrefix + "*"); len(bk) > 0 {
		t.Fatalf("backup directories: %v", bk)
	}
}

// TestRewriteApplyTakesOverStaleLock: the lock of a run killed on this
// host is taken over by the browser's apply, which says so in the status
// line (the CLI prints the same notice), and the apply goes ahead.
func TestRewriteApplyTakesOverStaleLock(t *testing.T) {
	dir := hdfsApp(t)
	name, err := store.LocalName(dir)
	if err != nil {
		t.Fatal(err)
	}
	p, err := os.StartProcess("/bin/true", []string{"true"}, &os.ProcAttr{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	dead := lock.Me()
	dead.PID = p.Pid // ran here, and is gone
	b0, err := json.Marshal(dead)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("/"+lock.Name(name), b0, 0o644); err != nil {
		t.Fatal(err)
	}
	b := start(t, Options{Root: dir})
	b.settle()
	b.keys("r")
	b.typeText("hdfs://new-nn:8020")
	b.keys("enter", "a", "y")
	b.waitFor("the apply", func(m *Model) bool { return strings.HasPrefix(m.status, "applied") || strings.HasPrefix(m.status, "apply failed") })
	b.probe(func(m *Model) {
		if !strings.HasPrefix(m.status, "applied (took over the stale lock") || !strings.Contains(m.status, fmt.Sprintf("pid %d", p.Pid)) {
			t.Errorf("status %q", m.status)
		}
	})
	if _, err := os.Stat(dir + lock.Suffix); !os.IsNotExist(err) {
		t.Errorf("the lock is left behind: %v", err)
	}
}
