package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sparkckpt/sparkckpt/fixtures/tree"
	"github.com/sparkckpt/sparkckpt/rewrite"
	"github.com/sparkckpt/sparkckpt/rewrite/lock"
	"github.com/sparkckpt/sparkckpt/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRewriteAndBackAtOnce: a rewrite and its reverse, run one right after
// the other with the default backup directory (the same second), both
// succeed, each with its own backup directory, and undoing both in
// reverse order restores the original.
func TestRewriteAndBackAtOnce(t *testing.T) {
	dir := tree.Copy(t, filepath.Join(repoDir(), "fixtures/generated/dstream/local-app"))
	orig := tree.Snapshot(t, dir)
	from, to := "file:/tmp/sparkckpt/local-app", "hdfs://emr-master:8020/local-app"
	for i := 0; i < 3; i++ {
		code, out, errs := runCLI("rewrite", dir, "--from", from, "--to", to, "--apply")
		require.Equal(t, 0, code, "%s%s", out, errs)
		code, out, errs = runCLI("rewrite", dir, "--from", to, "--to", from, "--apply")
		require.Equal(t, 0, code, "%s%s", out, errs)
	}
	journals, err := filepath.Glob(dir + rewrite.BackupPrefix + "*/" + rewrite.JournalName)
	require.NoError(t, err)
	assert.Len(t, journals, 6)
	assert.Equal(t, orig, tree.Snapshot(t, dir))
}

// TestRewriteRefusedWhileLocked: while another run holds the lock of the
// checkpoint directory, 'rewrite --apply', '--undo' and '--resume' exit 2
// naming the holder and change nothing; a dry run still works (it writes
// nothing, so it takes no lock).
func TestRewriteRefusedWhileLocked(t *testing.T) {
	dir := tree.Copy(t, filepath.Join(repoDir(), "fixtures/generated/dstream/local-app"))
	from, to := "file:/tmp/sparkckpt/local-app", "hdfs://emr-master:8020/local-app"
	code, out, errs := runCLI("rewrite", dir, "--from", from, "--to", to, "--apply", "--backup-dir", dir+".bak")
	require.Equal(t, 0, code, "%s%s", out, errs)
	applied := tree.Snapshot(t, dir)
	journal := filepath.Join(dir+".bak", rewrite.JournalName)

	s := store.NewLocal("/")
	name, err := store.LocalName(dir)
	require.NoError(t, err)
	l, err := lock.Acquire(s, name, dir)
	require.NoError(t, err)
	host, _ := os.Hostname()
	for _, args := range [][]string{
		{"rewrite", dir, "--from", to, "--to", from, "--apply", "--backup-dir", dir + ".bak2"},
		{"rewrite", "--undo", journal},
		{"rewrite", "--resume", journal},
	} {
		code, out, errs := runCLI(args...)
		assert.Equal(t, 2, code, "%v: %s%s", args, out, errs)
		assert.Contains(t, errs, dir+" is locked by another sparkckpt: ", args)
		assert.Contains(t, errs, fmt.Sprintf("@%s pid %d since ", host, os.Getpid()), args)
		assert.Contains(t, errs, "wait for it to finish (the lock is "+dir+".sparkckpt-lock: remove it only if", args)
		assert.Equal(t, applied, tree.Snapshot(t, dir), args)
	}
	assert.NoDirExists(t, dir+".bak2")
	code, out, errs = runCLI("rewrite", dir, "--from", to, "--to", from)
	assert.Equal(t, 0, code, "the dry run: %s%s", out, errs)

	require.NoError(t, l.Release())
	code, out, errs = runCLI("rewrite", "--undo", journal)
	require.Equal(t, 0, code, "%s%s", out, errs)
	assert.NoFileExists(t, dir+lock.Suffix, "released")
}

// TestRewriteStaleLockTakenOver: the lock left by a killed run (its pid
// gone from this host) does not stand in the way of --resume, which says
// it took it over.
func TestRewriteStaleLockTakenOver(t *testing.T) {
	dir := tree.Copy(t, filepath.Join(repoDir(), "fixtures/generated/dstream/local-app"))
	from, to := "file:/tmp/sparkckpt/local-app", "hdfs://emr-master:8020/local-app"
	code, out, errs := runCLI("rewrite", dir, "--from", from, "--to", to, "--apply", "--backup-dir", dir+".bak")
	require.Equal(t, 0, code, "%s%s", out, errs)
	p, err := os.StartProcess("/bin/true", []string{"true"}, &os.ProcAttr{})
	require.NoError(t, err)
	_, err = p.Wait()
	require.NoError(t, err)
	dead := lock.Owner{User: "spark", PID: p.Pid, Time: time.Now(), Token: "dead"}
	dead.Host, _ = os.Hostname()
	b, err := json.Marshal(dead)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(dir+lock.Suffix, b, 0o644))
	code, out, errs = runCLI("rewrite", "--undo", filepath.Join(dir+".bak", rewrite.JournalName))
	require.Equal(t, 0, code, "%s%s", out, errs)
	assert.Contains(t, errs, fmt.Sprintf("took over the stale lock %s.sparkckpt-lock of spark@%s pid %d", dir, dead.Host, p.Pid))
	assert.NoFileExists(t, dir+lock.Suffix)
}

// TestConcurrentRewritesNeverMix runs two rewrites of one directory at
// once, again and again (X→Y against X→Z, and an undo against a further
// rewrite): every run exits 0 or 2, and the directory is always entirely
// one version, never a mix.
func TestConcurrentRewritesNeverMix(t *testing.T) {
	if testing.Short() {
		t.Skip("races 40 rewrites of 300 files")
	}
	// A driver log directory of 300 segments, so that a rewrite takes a while.
	one, err := os.ReadFile(filepath.Join(repoDir(), "fixtures/generated/wal/ckpt-hdfs/receivedBlockMetadata/log-1700000000010-1700000060010"))
	require.NoError(t, err)
	src := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(src, "receivedBlockMetadata"), 0o755))
	for i := 0; i < 300; i++ {
		start := 1700000000010 + int64(i)*60000
		require.NoError(t, os.WriteFile(filepath.Join(src, "receivedBlockMetadata", fmt.Sprintf("log-%d-%d", start, start+60000)), one, 0o644))
	}
	x, y, z := "hdfs://namenode.example:8020", "hdfs://emr-y:8020", "hdfs://emr-z:8020"
	version := func(from, to string) map[string][]byte {
		d := tree.Copy(t, src)
		code, out, errs := runCLI("rewrite", d, "--from", from, "--to", to, "--apply", "--backup-dir", d+".bak")
		require.Equal(t, 0, code, "%s%s", out, errs)
		return tree.Snapshot(t, d)
	}
	orig, wantY, wantZ := tree.Snapshot(t, src), version(x, y), version(x, z)
	which := func(got map[string][]byte) string {
		for name, v := range map[string]map[string][]byte{"X": orig, "Y": wantY, "Z": wantZ} {
			if len(tree.Diff(v, got)) == 0 {
				return name
			}
		}
		return "a mix"
	}
	race := func(a, b []string) (int, int) {
		var wg sync.WaitGroup
		codes := [2]int{}
		for i, args := range [][]string{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var errs string
				codes[i], _, errs = runCLI(args...)
				if codes[i] != 0 {
					assert.Equal(t, 2, codes[i], errs)
				}
			}()
		}
		wg.Wait()
		return codes[0], codes[1]
	}
	outcomes := map[string]int{}
	for i := 0; i < 10; i++ {
		dir := tree.Copy(t, src)
		ca, cb := race(
			[]string{"rewrite", dir, "--from", x, "--to", y, "--apply", "--backup-dir", dir + ".y"},
			[]string{"rewrite", dir, "--from", x, "--to", z, "--apply", "--backup-dir", dir + ".z"})
		got := which(tree.Snapshot(t, dir))
		assert.Contains(t, []string{"Y", "Z"}, got, "round %d: exit %d and %d", i, ca, cb)
		outcomes[fmt.Sprintf("%s %d %d", got, ca, cb)]++

		// Undo the winner while rewriting it further.
		jy, jz := filepath.Join(dir+".y", rewrite.JournalName), filepath.Join(dir+".z", rewrite.JournalName)
		j, cur := jy, y
		if got == "Z" {
			j, cur = jz, z
		}
		ca, cb = race(
			[]string{"rewrite", "--undo", j},
			[]string{"rewrite", dir, "--from", cur, "--to", x, "--apply", "--backup-dir", dir + ".back"})
		after := which(tree.Snapshot(t, dir))
		assert.Contains(t, []string{"X", got}, after, "round %d: undo and rewrite: exit %d and %d", i, ca, cb)
		_, inProgress := rewrite.InProgress(dir)
		assert.False(t, inProgress, "round %d", i)
		assert.NoFileExists(t, dir+lock.Suffix, "round %d: the lock is released", i)
	}
	t.Logf("outcomes (version, exit codes): %v", outcomes)
}

// TestCpRefusedWhileLocked: 'cp' into a destination another run holds the
// lock of exits 2 naming the holder and writes nothing beside it.
func TestCpRefusedWhileLocked(t *testing.T) {
	src := filepath.Join(repoDir(), "fixtures/generated/dstream/hdfs-app")
	parent := t.TempDir()
	dst := filepath.Join(parent, "ckpt")
	name, err := store.LocalName(dst)
	require.NoError(t, err)
	l, err := lock.Acquire(store.NewLocal("/"), name, dst)
	require.NoError(t, err)
	code, out, errs := runCLI("cp", src, dst)
	assert.Equal(t, 2, code, "%s%s", out, errs)
	assert.Contains(t, errs, dst+" is locked by another sparkckpt: ")
	assert.Contains(t, errs, fmt.Sprintf(" pid %d since ", os.Getpid()))
	ents, err := os.ReadDir(parent)
	require.NoError(t, err)
	require.Len(t, ents, 1, "only the lock")
	require.NoError(t, l.Release())
	code, out, errs = runCLI("cp", src, dst)
	require.Equal(t, 0, code, "%s%s", out, errs)
	assert.Empty(t, tree.Diff(tree.Snapshot(t, src), tree.Snapshot(t, dst)))
	assert.NoFileExists(t, dst+lock.Suffix)
}
