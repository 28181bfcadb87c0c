package main

import (
	"errors"
	"io/fs"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sparkckpt/sparkckpt/decode/crcfile"
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

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	}))
}

// tree returns the files of dir by relative path, leaving out the
// rewrite's own temp files and in-progress marker.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	}))
	return out
}

func withoutLeftovers(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		base := filepath.Base(k)
		if strings.HasPrefix(base, ".sparkckpt-tmp-") || base == ".sparkckpt-rewrite-in-progress" {
			continue
		}
		out[k] = v
	}
	return out
}

// treeDiff lists the paths whose content differs, or that only one side has.
func treeDiff(want, got map[string]string) []string {
	var out []string
	for k, v := range want {
		if g, ok := got[k]; !ok {
			out = append(out, "missing "+k)
		} else if g != v {
			out = append(out, "differs "+k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			out = append(out, "extra "+k)
		}
	}
	return out
}

// TestRewriteCrash kills 'rewrite --apply' with SIGKILL after every durable
// step it takes (and at random times), then completes the rewrite with
// --resume or rolls it back with --undo: every file must then be entirely
// the original or entirely the rewritten version, with matching .crc
// sidecars, and nothing lost.
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
	for _, c := range cases {
		orig := tree(t, c.src)
		// The complete rewrite, for reference.
		ref := t.TempDir()
		copyDir(t, c.src, ref)
		out, err := exec.Command(bin, "rewrite", ref, "--from", c.from, "--to", c.to, "--apply", "--backup-dir", ref+".bak").CombinedOutput()
		require.NoError(t, err, string(out))
		want := tree(t, ref)
		require.NotEqual(t, orig, want)

		attempt := func(name string, kill func(*exec.Cmd), resume bool) {
			runs++
			work := filepath.Join(t.TempDir(), "ckpt")
			copyDir(t, c.src, work)
			bak := work + ".bak"
			cmd := exec.Command(bin, "rewrite", work, "--from", c.from, "--to", c.to, "--apply", "--backup-dir", bak)
			kill(cmd)
			// Right after the crash: each file is the original or the new version.
			now := withoutLeftovers(tree(t, work))
			for rel, b := range now {
				assert.True(t, b == orig[rel] || b == want[rel], "%s: %s is neither original nor rewritten", name, rel)
			}
			jpath := filepath.Join(bak, "journal.json")
			if _, err := os.Stat(jpath); errors.Is(err, fs.ErrNotExist) {
				assert.Empty(t, treeDiff(orig, tree(t, work)), "%s: killed before the journal: nothing changed", name)
				return
			}
			flag, expect := "--undo", orig
			if resume {
				flag, expect = "--resume", want
			}
			out, err := exec.Command(bin, "rewrite", flag, jpath).CombinedOutput()
			require.NoError(t, err, "%s: %s", name, out)
			got := tree(t, work)
			assert.Empty(t, treeDiff(expect, got), "%s: after %s", name, flag)
			for rel, b := range got {
				if data, ok := crcfile.IsSidecar(filepath.Base(rel)); ok {
					assert.NoError(t, crcfile.Verify([]byte(got[filepath.ToSlash(filepath.Join(filepath.Dir(rel), data))]), []byte(b)), "%s: %s", name, rel)
				}
			}
		}
		// Kill after step k, for every step the rewrite takes.
		for k := 1; ; k++ {
			completed := false
			for _, resume := range []bool{false, true} {
				attempt("step "+strconv.Itoa(k), func(cmd *exec.Cmd) {
					cmd.Env = append(os.Environ(), "SPARKCKPT_TEST_KILL_AT_STEP="+strconv.Itoa(k))
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
		// And at random times.
		for i := 0; i < 6; i++ {
			d := time.Duration(rng.Intn(40)) * time.Millisecond
			attempt("random "+d.String(), func(cmd *exec.Cmd) {
				require.NoError(t, cmd.Start())
				time.Sleep(d)
				cmd.Process.Signal(syscall.SIGKILL)
				cmd.Wait()
			}, i%2 == 0)
		}
	}
	t.Logf("%d interrupted rewrites, all completed or rolled back", runs)
	assert.GreaterOrEqual(t, runs, 50)
}
