package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"math/rand"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sparkckpt/sparkckpt/decode/crcfile"
	"github.com/sparkckpt/sparkckpt/fixtures/tree"
	"github.com/sparkckpt/sparkckpt/rewrite"
	"github.com/sparkckpt/sparkckpt/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// snapshotURI reads every regular file under a local path or hdfs:// URI,
// keyed by slash-separated path relative to it.
func snapshotURI(t *testing.T, uri string) map[string][]byte {
	t.Helper()
	st := newStores(context.Background(), os.Getenv, 0)
	defer st.Close()
	loc, err := st.open(uri)
	require.NoError(t, err)
	out := map[string][]byte{}
	fsys := store.FS(loc.store, loc.name)
	require.NoError(t, fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		out[p] = b
		return err
	}))
	return out
}

// withoutSidecars drops .crc sidecars (HDFS has none: cp drops them).
func withoutSidecars(m map[string][]byte) map[string][]byte {
	out := map[string][]byte{}
	for k, v := range m {
		if _, ok := crcfile.IsSidecar(path.Base(k)); !ok {
			out[k] = v
		}
	}
	return out
}

// rewriteCases are checkpoints whose rewrite changes checkpoint files
// (with a pickled function and RDD paths) and write-ahead logs.
var rewriteCases = []struct {
	name, src, from string
}{
	{"dstream", "fixtures/generated/dstream/hdfs-app", "hdfs://namenode.example.com:8020"},
	{"wal", "fixtures/generated/wal/ckpt-hdfs", "hdfs://namenode.example:8020"},
}

// TestRewriteOnHDFS rewrites checkpoints where they live on the test HDFS
// (the real colinmarc client against the in-process namenode/datanode):
// the dry run writes nothing, --apply gives byte for byte what the same
// rewrite gives on the local disk, check and uris then see only the new
// namenode, and --undo restores the exact originals, with the journal
// and backups on HDFS or on the local disk.
func TestRewriteOnHDFS(t *testing.T) { testRewriteOnHDFS(t, startFakeHDFS) }

func testRewriteOnHDFS(t *testing.T, startHDFS func(*testing.T) hdfsPeer) {
	hdfsEnv(t)
	srv := startHDFS(t)
	to := srv.URI()
	for _, c := range rewriteCases {
		t.Run(c.name, func(t *testing.T) {
			src := filepath.Join(repoDir(), c.src)
			dst := to + "/user/spark/" + c.name
			code, _, errs := runCLI("cp", src, dst)
			require.Equal(t, 0, code, errs)
			orig := snapshotURI(t, dst)
			require.Equal(t, withoutSidecars(tree.Snapshot(t, src)), orig)

			// The same rewrite on the local disk, for reference.
			ref := tree.Copy(t, src)
			code, out, errs := runCLI("rewrite", ref, "--from", c.from, "--to", to, "--apply", "--backup-dir", ref+".bak")
			require.Equal(t, 0, code, "%s%s", out, errs)
			want := withoutSidecars(tree.Snapshot(t, ref))
			require.NotEqual(t, orig, want)

			// Dry run: the plan, nothing written.
			code, out, errs = runCLI("rewrite", dst, "--from", c.from, "--to", to)
			require.Equal(t, 0, code, "%s%s", out, errs)
			assert.Contains(t, out, "dry run, nothing written")
			assert.Contains(t, out, "+ "+to)
			assert.Equal(t, orig, snapshotURI(t, dst))

			// Apply: journal and backups beside the directory, on HDFS.
			code, out, errs = runCLI("rewrite", "--json", dst, "--from", c.from, "--to", to, "--apply")
			require.Equal(t, 0, code, "%s%s", out, errs)
			var res struct {
				Applied bool
				Journal string
				Files   []struct{ File string }
			}
			require.NoError(t, json.Unmarshal([]byte(out), &res))
			assert.True(t, res.Applied)
			require.True(t, strings.HasPrefix(res.Journal, dst+".sparkckpt-backup-"), res.Journal)
			assert.True(t, strings.HasSuffix(res.Journal, "/"+rewrite.JournalName), res.Journal)
			assert.NotEmpty(t, res.Files)
			got := snapshotURI(t, dst)
			assert.Empty(t, tree.Diff(want, got), "HDFS and local rewrites differ")
			// The backups on HDFS are the originals.
			backups := snapshotURI(t, strings.TrimSuffix(res.Journal, "/"+rewrite.JournalName)+"/files")
			require.Len(t, backups, len(res.Files))
			for rel, b := range backups {
				assert.Equal(t, orig[rel], b, rel)
			}

			// The rewritten checkpoint points at the new namenode only.
			for _, f := range res.Files {
				code, out, errs = runCLI("uris", dst+"/"+f.File)
				require.Equal(t, 0, code, "%s%s", out, errs)
				assert.NotContains(t, out, c.from, f.File)
				assert.Contains(t, out, to, f.File)
			}
			if c.name == "dstream" {
				code, out, errs = runCLI("check", dst, "--expect-fs", to)
				assert.Equal(t, 0, code, "%s%s", out, errs)
			}

			// Running it again changes nothing.
			code, out, _ = runCLI("rewrite", dst, "--from", c.from, "--to", to, "--apply")
			require.Equal(t, 0, code, out)
			assert.Contains(t, out, "nothing to rewrite")

			// Undo from the HDFS journal.
			code, out, errs = runCLI("rewrite", "--undo", res.Journal)
			require.Equal(t, 0, code, "%s%s", out, errs)
			assert.Equal(t, orig, snapshotURI(t, dst))

			// Journal and backups on the local disk, checkpoint on HDFS.
			bak := filepath.Join(t.TempDir(), "bak")
			code, out, errs = runCLI("rewrite", dst, "--from", c.from, "--to", to, "--apply", "--backup-dir", bak)
			require.Equal(t, 0, code, "%s%s", out, errs)
			assert.Empty(t, tree.Diff(want, snapshotURI(t, dst)))
			j, err := rewrite.ReadJournal(filepath.Join(bak, rewrite.JournalName))
			require.NoError(t, err)
			assert.Equal(t, dst, j.Root)
			assert.Equal(t, rewrite.StateApplied, j.State)
			code, out, errs = runCLI("rewrite", "--undo", filepath.Join(bak, rewrite.JournalName))
			require.Equal(t, 0, code, "%s%s", out, errs)
			assert.Equal(t, orig, snapshotURI(t, dst))
		})
	}
}

// TestRewriteCrashHDFS kills 'rewrite --apply' of a checkpoint on the test
// HDFS with SIGKILL after every durable step (and at random times), then
// completes it with --resume or rolls it back with --undo: right after
// the kill every file is entirely the original or entirely the new
// version, and afterwards the directory is exactly one of the two; a
// resumed rewrite still undoes to the originals (a kill while the backups
// were being copied must not let --resume replace unsaved files), with
// the backups on HDFS and on the local disk (another store).
func TestRewriteCrashHDFS(t *testing.T) { testRewriteCrashHDFS(t, startFakeHDFS) }

func testRewriteCrashHDFS(t *testing.T, startHDFS func(*testing.T) hdfsPeer) {
	if testing.Short() {
		t.Skip("crash test builds and kills a real process")
	}
	hdfsEnv(t)
	srv := startHDFS(t)
	bin := buildBinary(t)
	to := srv.URI()
	runs := 0
	rng := rand.New(rand.NewSource(2))
	for _, c := range rewriteCases {
		src := filepath.Join(repoDir(), c.src)
		orig := withoutSidecars(tree.Snapshot(t, src))
		ref := tree.Copy(t, src)
		code, out, errs := runCLI("rewrite", ref, "--from", c.from, "--to", to, "--apply", "--backup-dir", ref+".bak")
		require.Equal(t, 0, code, "%s%s", out, errs)
		want := withoutSidecars(tree.Snapshot(t, ref))

		bakDir := func(work string) string { return work + ".bak" } // on HDFS, beside the checkpoint
		attempt := func(name string, kill func(*exec.Cmd), resume bool) {
			runs++
			work := to + "/crash/" + c.name + "-" + strconv.Itoa(runs)
			bak := bakDir(work)
			code, _, errs := runCLI("cp", src, work)
			require.Equal(t, 0, code, errs)
			cmd := exec.Command(bin, "rewrite", work, "--from", c.from, "--to", to, "--apply", "--backup-dir", bak)
			kill(cmd)
			for rel, b := range withoutLeftovers(snapshotURI(t, work)) {
				assert.True(t, bytes.Equal(b, orig[rel]) || bytes.Equal(b, want[rel]), "%s: %s is neither original nor rewritten", name, rel)
			}
			jpath := bak + "/" + rewrite.JournalName
			st := newStores(context.Background(), os.Getenv, 0)
			jp, err := st.place(jpath)
			require.NoError(t, err)
			_, err = jp.Store.Stat(jp.Name)
			st.Close()
			if errors.Is(err, fs.ErrNotExist) {
				assert.Empty(t, tree.Diff(orig, withoutLeftovers(snapshotURI(t, work))), "%s: killed before the journal: nothing changed", name)
				return
			}
			require.NoError(t, err)
			flag, expect := "--undo", orig
			if resume {
				flag, expect = "--resume", want
			}
			out, err := exec.Command(bin, "rewrite", flag, jpath).CombinedOutput()
			require.NoError(t, err, "%s: %s", name, out)
			assert.Empty(t, tree.Diff(expect, snapshotURI(t, work)), "%s: after %s", name, flag)
			assert.Len(t, snapshotURI(t, work), len(expect), "%s: after %s: leftovers", name, flag)
			if resume { // the backups (copies on HDFS) hold every original: --undo restores them all
				out, err := exec.Command(bin, "rewrite", "--undo", jpath).CombinedOutput()
				require.NoError(t, err, "%s: undo after resume: %s", name, out)
				assert.Empty(t, tree.Diff(orig, snapshotURI(t, work)), "%s: undo after resume", name)
			}
		}
		killEverywhere(t, c.name+" ", attempt, rng, 4, 60*time.Millisecond)
		// The backups on another store (the local disk): copies again.
		local := t.TempDir()
		bakDir = func(work string) string { return filepath.Join(local, path.Base(work)+".bak") }
		killEverywhere(t, c.name+" local backups ", attempt, rng, 2, 60*time.Millisecond)
	}
	t.Logf("%d interrupted rewrites on HDFS, all completed or rolled back", runs)
	assert.GreaterOrEqual(t, runs, 40)
}
