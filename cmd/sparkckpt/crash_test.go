package main

import (
	"bytes"
	"errors"
	"io/fs"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/sparkckpt/sparkckpt/decode/crcfile"
	"github.com/sparkckpt/sparkckpt/fixtures/tree"
	"github.com/sparkckpt/sparkckpt/rewrite"
	"github.com/sparkckpt/sparkckpt/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// buildBinary builds sparkckpt into a temp dir (the crash test kills a real process).
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sparkckpt")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, string(out))
	return bin
}

// withoutLeftovers drops the rewrite's own temp files and in-progress marker.
func withoutLeftovers(m map[string][]byte) map[string][]byte {
	out := map[string][]byte{}
	for k, v := range m {
		base := filepath.Base(k)
		if store.IsTemp(base) || base == rewrite.MarkerName {
			continue
		}
		out[k] = v
	}
	return out
}

// TestRewriteCrash kills 'rewrite --apply' with SIGKILL after every durable
// step it takes (and at random times), then completes the rewrite with
// --resume or rolls it back with --undo: every file must then be entirely
// the original or entirely the rewritten version, with matching .crc
// sidecars, and nothing lost: a resumed rewrite must still undo to the
// originals, so a kill in the backup phase must not let --resume replace a
// file whose backup was never made. It runs with backups as hard links and
// as copies (SPARKCKPT_TEST_BACKUP_COPY=1, as on another file system).
func TestRewriteCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test builds and kills a real process")
	}
	bin := buildBinary(t)
	cases := []struct {
		src, from, to string
	}{
		{"../../fixtures/generated/dstream/local-app", "file:/tmp/sparkckpt/local-app", "hdfs://emr-master:8020/local-app"},
		{"../../fixtures/generated/wal/ckpt-hdfs", "hdfs://namenode.example:8020", "hdfs://emr-master:8020"},
	}
	runs := 0
	rng := rand.New(rand.NewSource(1))
	for _, mode := range []string{"link", "copy"} {
		env := os.Environ()
		if mode == "copy" {
			env = append(env, "SPARKCKPT_TEST_BACKUP_COPY=1")
		}
		for _, c := range cases {
			orig := tree.Snapshot(t, c.src)
			// The complete rewrite, for reference.
			ref := t.TempDir()
			tree.CopyInto(t, c.src, ref)
			out, err := exec.Command(bin, "rewrite", ref, "--from", c.from, "--to", c.to, "--apply", "--backup-dir", ref+".bak").CombinedOutput()
			require.NoError(t, err, string(out))
			want := tree.Snapshot(t, ref)
			require.NotEqual(t, orig, want)

			attempt := func(name string, kill func(*exec.Cmd), resume bool) {
				runs++
				work := filepath.Join(t.TempDir(), "ckpt")
				tree.CopyInto(t, c.src, work)
				bak := work + ".bak"
				cmd := exec.Command(bin, "rewrite", work, "--from", c.from, "--to", c.to, "--apply", "--backup-dir", bak)
				cmd.Env = env
				kill(cmd)
				// Right after the crash: each file is the original or the new version.
				now := withoutLeftovers(tree.Snapshot(t, work))
				for rel, b := range now {
					assert.True(t, bytes.Equal(b, orig[rel]) || bytes.Equal(b, want[rel]), "%s: %s is neither original nor rewritten", name, rel)
				}
				jpath := filepath.Join(bak, "journal.json")
				if _, err := os.Stat(jpath); errors.Is(err, fs.ErrNotExist) {
					assert.Empty(t, tree.Diff(orig, tree.Snapshot(t, work)), "%s: killed before the journal: nothing changed", name)
					return
				}
				flag, expect := "--undo", orig
				if resume {
					flag, expect = "--resume", want
				}
				run := exec.Command(bin, "rewrite", flag, jpath)
				run.Env = env
				out, err := run.CombinedOutput()
				require.NoError(t, err, "%s: %s", name, out)
				got := tree.Snapshot(t, work)
				assert.Empty(t, tree.Diff(expect, got), "%s: after %s", name, flag)
				for rel, b := range got {
					if data, ok := crcfile.IsSidecar(filepath.Base(rel)); ok {
						assert.NoError(t, crcfile.Verify(got[filepath.ToSlash(filepath.Join(filepath.Dir(rel), data))], b), "%s: %s", name, rel)
					}
				}
				if resume { // every original is still in the backup: --undo restores them all
					out, err := exec.Command(bin, "rewrite", "--undo", jpath).CombinedOutput()
					require.NoError(t, err, "%s: undo after resume: %s", name, out)
					assert.Empty(t, tree.Diff(orig, tree.Snapshot(t, work)), "%s: undo after resume", name)
				}
			}
			killEverywhere(t, mode+" ", attempt, rng, 6, 40*time.Millisecond)
		}
	}
	t.Logf("%d interrupted rewrites, all completed or rolled back", runs)
	assert.GreaterOrEqual(t, runs, 100)
}

// killEverywhere runs attempt with a command killed (SIGKILL) right after
// its k-th durable step (SPARKCKPT_TEST_KILL_AT_STEP=k), for k = 1, 2, ...
// until the command completes, each k once rolled back and once resumed;
// then random times runs killed after up to maxDelay, alternately resumed.
func killEverywhere(t *testing.T, name string, attempt func(name string, kill func(*exec.Cmd), resume bool), rng *rand.Rand, random int, maxDelay time.Duration) {
	t.Helper()
	for k := 1; ; k++ {
		completed := false
		for _, resume := range []bool{false, true} {
			attempt(name+"step "+strconv.Itoa(k), func(cmd *exec.Cmd) {
				cmd.Env = append(cmd.Environ(), "SPARKCKPT_TEST_KILL_AT_STEP="+strconv.Itoa(k))
				err := cmd.Run()
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					ws := ee.Sys().(syscall.WaitStatus)
					require.True(t, ws.Signaled() && ws.Signal() == syscall.SIGKILL, "step %d: %v", k, err)
				} else {
					require.NoError(t, err)
					completed = true
				}
			}, resume)
		}
		if completed {
			break
		}
		require.Less(t, k, 100)
	}
	for i := 0; i < random; i++ {
		d := time.Duration(rng.Int63n(int64(maxDelay)))
		attempt(name+"random "+d.String(), func(cmd *exec.Cmd) {
			require.NoError(t, cmd.Start())
			time.Sleep(d)
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
		}, i%2 == 0)
	}
}
