package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sparkckpt/sparkckpt/decode/codec"
	"github.com/sparkckpt/sparkckpt/decode/dstream"
	"github.com/sparkckpt/sparkckpt/fixtures/real"
	"github.com/sparkckpt/sparkckpt/fixtures/tree"
)

// browse is interactive: without a terminal it refuses, with exit 2.
func TestBrowseNeedsTerminal(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"browse", filepath.Join(repoDir(), "fixtures", "generated", "dstream", "hdfs-app")}, strings.NewReader(""), &out, &errb)
	if code != exitError || !strings.Contains(errb.String(), "browse needs a terminal") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
	code = run(context.Background(), []string{"browse", "--json", "."}, strings.NewReader(""), &out, &errb)
	if code != exitError {
		t.Errorf("--json: exit %d", code)
	}
	code = run(context.Background(), []string{"browse", filepath.Join(t.TempDir(), "missing")}, strings.NewReader(""), &out, &errb)
	if code != exitError {
		t.Errorf("missing PATH: exit %d", code)
	}
}

// The end-to-end tests run the real binary in tmux (as fzf's tests do),
// send keys and read the screen with capture-pane. .ci/run installs tmux
// and sets SPARKCKPT_REQUIRE_TMUX=1, which turns the skip into a failure.

func requireTmux(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		msg := "tmux not found: the end-to-end browse tests need it (apt-get install tmux)"
		if os.Getenv("SPARKCKPT_REQUIRE_TMUX") == "1" {
			t.Fatal(msg)
		}
		t.Skip("SKIP: " + msg)
	}
}

// buildSparkckpt builds the binary once per test run.
func buildSparkckpt(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sparkckpt")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = filepath.Join(repoDir(), "cmd", "sparkckpt")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

var tmuxCount atomic.Int32

// tmuxSession is a private tmux server (its own socket, in the test's temp
// directory) running one command.
type tmuxSession struct {
	t      *testing.T
	sock   string
	status string // the command's exit status is written here
}

func startTmux(t *testing.T, args ...string) *tmuxSession {
	t.Helper()
	tmp := t.TempDir()
	s := &tmuxSession{t: t, sock: filepath.Join(tmp, fmt.Sprintf("tmux-%d", tmuxCount.Add(1))), status: filepath.Join(tmp, "status")}
	quote := func(a string) string { return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'" }
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = quote(a)
	}
	// The shell records the exit status (tmux's own pane_dead lags, at times
	// by many seconds, behind the exit).
	shell := strings.Join(quoted, " ") + "; echo $? > " + quote(s.status)
	s.tmux("-f", "/dev/null", "new-session", "-d", "-s", "main", "-x", "100", "-y", "30", shell,
		";", "set-option", "-t", "main", "remain-on-exit", "on",
		";", "set-option", "-g", "set-clipboard", "on")
	t.Cleanup(func() { exec.Command("tmux", "-S", s.sock, "kill-server").Run() })
	return s
}

func (s *tmuxSession) tmux(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", s.sock}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (s *tmuxSession) capture() string { return s.tmux("capture-pane", "-p", "-t", "main") }

// keys sends tmux key names (Enter, Escape, Down, ...) or single characters.
func (s *tmuxSession) keys(keys ...string) {
	for _, k := range keys {
		s.tmux("send-keys", "-t", "main", k)
	}
}

// text types literally.
func (s *tmuxSession) text(txt string) { s.tmux("send-keys", "-t", "main", "-l", txt) }

// waitFor polls the screen until every want is on it.
func (s *tmuxSession) waitFor(want ...string) string {
	s.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		scr := s.capture()
		missing := ""
		for _, w := range want {
			if !strings.Contains(scr, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return scr
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%q not on the screen:\n%s", missing, scr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// exited waits for the command to end and returns its exit status.
func (s *tmuxSession) exited() string {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if b, err := os.ReadFile(s.status); err == nil && strings.HasSuffix(string(b), "\n") {
			return strings.TrimSpace(string(b))
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("still running:\n%s", s.capture())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBrowseTmux drives sparkckpt browse on a copy of the bundled hdfs-app
// tree: the first screen, search and jump, hex, copy, URIs, a rewrite
// preview and its apply, and a clean exit.
func TestBrowseTmux(t *testing.T) {
	requireTmux(t)
	bin := buildSparkckpt(t)
	dir := tree.Copy(t, filepath.Join(repoDir(), "fixtures", "generated", "dstream", "hdfs-app"))
	s := startTmux(t, bin, "browse", "--expect-fs", "hdfs://new-nn:8020", dir)

	scr := s.waitFor("★ Spark restores from this file", "Metadata checkpoints (3 files", "RDD checkpoint data (10 files", "checkpoint-1700000010000.bk", "checkpointDir  hdfs://namenode.example.com:8020", "expect-fs hdfs://new-nn:8020", "? all keys") // all of it: a screen may be caught mid-draw
	for _, w := range []string{"checkpoint-1700000010000.bk", "checkpointDir  hdfs://namenode.example.com:8020", "expect-fs hdfs://new-nn:8020", "? all keys"} {
		if !strings.Contains(scr, w) {
			t.Errorf("first screen lacks %q:\n%s", w, scr)
		}
	}

	// Search every file, jump to the second hit.
	s.keys("/")
	s.waitFor("enter: search every file")
	s.text("incoming")
	s.keys("Enter")
	s.waitFor(`Search "incoming": 7 hits in 13 of 13 files`)
	s.keys("Down", "Enter")
	s.waitFor("Checkpoint.graph.inputStreams.array[1].checkpointData.data{2}[1]  hdfs://namenode.example.com")

	// Copy the value through OSC 52 into tmux's buffer.
	s.keys("y")
	s.waitFor("copied the value")
	if got := s.tmux("show-buffer"); got != "hdfs://namenode.example.com:8020/data/incoming/part-0002" {
		t.Errorf("clipboard holds %q", got)
	}

	// The bytes behind the string.
	s.keys("x")
	s.waitFor("decompressed stream", "tab tree/hex")
	s.keys("Escape")
	s.waitFor("enter open")

	// Every URI by authority, the foreign one flagged.
	s.keys("u")
	s.waitFor("URIs by authority", "hdfs://namenode.example.com:8020  29 references in 3 files  ⚠ not on --expect-fs", "checkpointDir (restart)")
	s.keys("Escape")
	s.waitFor("enter open")

	// Rewrite: preview, confirm, apply.
	s.keys("r")
	// The target is --expect-fs, proposed.
	s.waitFor("Rewrite preview", "from  hdfs://namenode.example.com:8020", "to    hdfs://new-nn:8020")
	s.keys("Enter")
	s.waitFor("29 changes in 3 files", "Dry run, nothing written", "- hdfs://namenode.example.com:8020/user/spark/checkpoints/hdfs-app", "+ hdfs://new-nn:8020/user/spark/checkpoints/hdfs-app")
	s.keys("a")
	s.waitFor("Press y to apply", ".sparkckpt-backup-")
	s.keys("y")
	scr = s.waitFor("applied; journal", "checkpointDir  hdfs://new-nn:8020/user/spark")
	raw, err := os.ReadFile(filepath.Join(dir, "checkpoint-1700000010000"))
	if err != nil {
		t.Fatal(err)
	}
	if f, err := dstream.Read(raw, nil); err != nil || f.Checkpoint.CheckpointDir != "hdfs://new-nn:8020/user/spark/checkpoints/hdfs-app" {
		t.Errorf("on disk after apply: %v", err)
	}
	journals, _ := filepath.Glob(dir + ".sparkckpt-backup-*/journal.json")
	if len(journals) != 1 {
		t.Errorf("journals: %v", journals)
	}

	// q quits, exit status 0, and the terminal is back to its normal screen.
	s.keys("q")
	if st := s.exited(); st != "0" {
		t.Errorf("exit status %s", st)
	}
	if scr := s.capture(); strings.Contains(scr, "sparkckpt browse") || strings.Contains(scr, "Metadata checkpoints") {
		t.Errorf("the browser left its screen behind:\n%s", scr)
	}
}

// TestBrowseTmuxReal browses a real Spark-written tree in place, read-only:
// a PySpark job with a driver write-ahead log.
func TestBrowseTmuxReal(t *testing.T) {
	requireTmux(t)
	dir := filepath.Join(real.Root(t), "hmntj-pysparkstream", "checkpoint")
	bin := buildSparkckpt(t)
	s := startTmux(t, bin, "browse", "--read-only", dir)
	s.waitFor("★ checkpoint-1524251126000", "Driver write-ahead log (2 files", "app            PythonStreamingStatefulNetworkWordCo")
	// The first driver log, opened from the file tree.
	for i := 0; i < 11; i++ {
		s.keys("Down")
	}
	s.waitFor("Write-ahead log (driver: ReceivedBlockTracker events)", "records  106 (106 batched)")
	s.keys("u")
	s.waitFor("URIs by authority", "file:", "checkpointDir (restart)")
	s.keys("Escape")
	s.waitFor("enter open")
	s.keys("q")
	if st := s.exited(); st != "0" {
		t.Errorf("exit status %s", st)
	}
}

// TestBrowseTmuxStructured opens a real Structured Streaming checkpoint at
// one of its files: the checkpoint is found from the file, which is
// selected and decoded by decode/structured.
func TestBrowseTmuxStructured(t *testing.T) {
	requireTmux(t)
	dir := filepath.Join(real.Root(t), "devfranhan-data-eng-filling", "checkpoint")
	bin := buildSparkckpt(t)
	s := startTmux(t, bin, "browse", "--read-only", filepath.Join(dir, "offsets", "0"))
	s.waitFor("checkpoint/ 20 files", "Structured Streaming (10 files", "Structured Streaming: offsets", `#0  file  {"logOffset":0}`)
	s.keys("u")
	s.waitFor("URIs by authority: 1 place", "file:///Users/franhan/alfred/data/discogs_20250201_releases.csv  source-file (restart)")
	s.keys("q")
	if st := s.exited(); st != "0" {
		t.Errorf("exit status %s", st)
	}
}

// TestBrowseTmuxBomb: a checkpoint that decompresses past
// --max-decompressed is shown as a file that does not decode, with its
// positioned error, and the browser keeps running and quits cleanly.
func TestBrowseTmuxBomb(t *testing.T) {
	requireTmux(t)
	bin := buildSparkckpt(t)
	dir := tree.Copy(t, filepath.Join(repoDir(), "fixtures", "generated", "dstream", "hdfs-app"))
	writeBomb(t, filepath.Join(dir, "checkpoint-1700000020000"), codec.Zstd, 64<<20)
	s := startTmux(t, bin, "browse", "--max-decompressed", "8MiB", dir)
	s.waitFor("Metadata checkpoints (4 files", "★ checkpoint-1700000010000")
	s.keys("Home", "Down") // the bomb: newest, first
	s.waitFor("✗ does not decode", "error  zstd: offset", "too large: stream")
	s.keys("Down")
	s.waitFor("checkpointDir  hdfs://namenode.example.com:8020")
	s.keys("q")
	if st := s.exited(); st != "0" {
		t.Errorf("exit status %s", st)
	}
	if scr := s.capture(); strings.Contains(scr, "Metadata checkpoints") {
		t.Errorf("the browser left its screen behind:\n%s", scr)
	}
}

// TestBrowseTmuxPanic: a panic inside the browser exits 2 with a message
// and leaves the terminal usable: the normal screen, cooked mode (a shell
// command typed afterwards runs), the cursor shown.
func TestBrowseTmuxPanic(t *testing.T) {
	requireTmux(t)
	bin := buildSparkckpt(t)
	dir := tree.Copy(t, filepath.Join(repoDir(), "fixtures", "generated", "dstream", "hdfs-app"))
	t.Setenv("SPARKCKPT_TEST_PANIC_KEY", "P")
	s := startTmux(t, "sh", "-c", fmt.Sprintf("%s browse %s; echo status=$?; read line; echo got=$line", bin, dir))
	s.waitFor("Metadata checkpoints (3 files")
	s.keys("P")
	s.waitFor("status=2")
	scr := s.capture()
	if strings.Contains(scr, "Metadata checkpoints") {
		t.Errorf("the browser left its screen behind:\n%s", scr)
	}
	if !strings.Contains(scr, "internal error") {
		t.Errorf("no message about the panic:\n%s", scr)
	}
	if cur := strings.TrimSpace(s.tmux("display-message", "-p", "-t", "main", "#{cursor_flag} #{alternate_on}")); cur != "1 0" {
		t.Errorf("cursor_flag alternate_on = %q, want \"1 0\"", cur)
	}
	s.text("typed")
	s.keys("Enter")
	s.waitFor("got=typed") // the line discipline is cooked again
}

// writeBomb writes raw zero bytes compressed with k to path.
func writeBomb(t *testing.T, path string, k codec.Kind, raw int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := codec.NewWriter(f, k, codec.Params{})
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for n := raw; n > 0; n -= len(zeros) {
		if _, err := w.Write(zeros[:min(n, len(zeros))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
