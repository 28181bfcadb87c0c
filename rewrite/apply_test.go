package rewrite_test

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sparkckpt/sparkckpt/fixtures/tree"
	"github.com/sparkckpt/sparkckpt/rewrite"
	"github.com/sparkckpt/sparkckpt/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// applyKilledAfter applies the rewrite of dir with its goroutine stopped
// dead (runtime.Goexit, nothing after it runs) right after the k-th
// durable step, and returns the steps taken.
func applyKilledAfter(t *testing.T, dir, backup string, mp *rewrite.Mapper, k int, copyBackups bool) []string {
	t.Helper()
	p, err := rewrite.NewPlan(dir, mp, rewrite.Options{})
	require.NoError(t, err)
	var steps []string
	h := &rewrite.Hooks{CopyBackups: copyBackups, Step: func(s string) {
		steps = append(steps, s)
		if len(steps) == k {
			runtime.Goexit()
		}
	}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, err := rewrite.Apply(p, mp, backup, h)
		assert.NoError(t, err)
	}()
	<-done
	return steps
}

// TestResumeAfterKillInBackupPhase: a rewrite killed while it was making
// its backups, then resumed, must still undo to the exact originals:
// resume makes the missing backups (verified) before it replaces
// anything. With copies (as on another file system) and hard links.
func TestResumeAfterKillInBackupPhase(t *testing.T) {
	mp := mustMapper(t, "file:/tmp/sparkckpt/local-app", "hdfs://nn:8020/local-app")
	for _, copyBackups := range []bool{false, true} {
		for k := 2; ; k++ { // step 1 is the journal
			dir := tree.Copy(t, "../fixtures/generated/dstream/local-app")
			orig := tree.Snapshot(t, dir)
			backup := filepath.Join(t.TempDir(), "backup")
			steps := applyKilledAfter(t, dir, backup, mp, k, copyBackups)
			if !strings.HasPrefix(steps[len(steps)-1], "backup ") {
				break // past the backup phase
			}
			now := tree.Snapshot(t, dir)
			delete(now, rewrite.MarkerName)
			assert.Equal(t, orig, now, "killed in the backup phase: nothing replaced yet")
			first := strings.TrimPrefix(steps[1], "backup ")
			a, err := os.Stat(filepath.Join(dir, first))
			require.NoError(t, err)
			b, err := os.Stat(filepath.Join(backup, "files", first))
			require.NoError(t, err)
			assert.Equal(t, !copyBackups, os.SameFile(a, b), "copy=%v: the backup of %s is a hard link", copyBackups, first)

			j := filepath.Join(backup, rewrite.JournalName)
			require.NoError(t, rewrite.Resume(j, nil), "copy=%v k=%d", copyBackups, k)
			assert.NotEqual(t, orig, tree.Snapshot(t, dir))
			require.NoError(t, rewrite.Undo(j, nil), "copy=%v k=%d: undo after resume", copyBackups, k)
			assert.Equal(t, orig, tree.Snapshot(t, dir), "copy=%v k=%d: undo after resume", copyBackups, k)
		}
	}
}

// TestResumeRedoesTornBackup: a backup that does not hold the original
// (a torn copy) is made again by resume before the file is replaced.
func TestResumeRedoesTornBackup(t *testing.T) {
	mp := mustMapper(t, "file:/tmp/sparkckpt/local-app", "hdfs://nn:8020/local-app")
	dir := tree.Copy(t, "../fixtures/generated/dstream/local-app")
	orig := tree.Snapshot(t, dir)
	backup := filepath.Join(t.TempDir(), "backup")
	steps := applyKilledAfter(t, dir, backup, mp, 3, true) // journal, two backups
	require.Equal(t, "journal", steps[0])
	torn := filepath.Join(backup, "files", strings.TrimPrefix(steps[1], "backup "))
	require.NoError(t, os.WriteFile(torn, []byte("torn"), 0o600))
	j := filepath.Join(backup, rewrite.JournalName)
	require.NoError(t, rewrite.Resume(j, nil))
	require.NoError(t, rewrite.Undo(j, nil))
	assert.Equal(t, orig, tree.Snapshot(t, dir))
}

// TestDefaultBackupNamesUnique: two rewrites started at the same instant
// (a rewrite and its reverse, run at once) get different backup
// directories, both beside the checkpoint directory.
func TestDefaultBackupNamesUnique(t *testing.T) {
	now := time.Date(2026, 12, 7, 23, 0, 0, 0, time.UTC)
	a, b := rewrite.DefaultBackupDir("/data/ckpt", now), rewrite.DefaultBackupDir("/data/ckpt", now)
	assert.NotEqual(t, a, b)
	assert.True(t, strings.HasPrefix(a, "/data/ckpt.sparkckpt-backup-20261207T230000.000000000Z-"), a)
	dir, err := rewrite.LocalPlace("/data/ckpt")
	require.NoError(t, err)
	assert.NotEqual(t, rewrite.DefaultBackup(dir, now).Name, rewrite.DefaultBackup(dir, now).Name)
}

// failingStore is the local disk where creating the journal fails as on
// a full disk.
type failingStore struct{ store.Store }

var errDiskFull = errors.New("no space left on device")

func (s failingStore) Create(name string, perm fs.FileMode) (store.Writer, error) {
	if strings.Contains(path.Base(name), rewrite.JournalName) {
		return nil, &fs.PathError{Op: "create", Path: name, Err: errDiskFull}
	}
	return s.Store.Create(name, perm)
}

// TestApplyRemovesBackupDirWhenJournalFails: when the journal cannot be
// written the apply fails with nothing changed and leaves no backup
// directory behind (so retrying with the same name works).
func TestApplyRemovesBackupDirWhenJournalFails(t *testing.T) {
	dir := tree.Copy(t, "../fixtures/generated/dstream/local-app")
	orig := tree.Snapshot(t, dir)
	mp := mustMapper(t, "file:/tmp/sparkckpt/local-app", "hdfs://nn:8020/local-app")
	p, err := rewrite.NewPlan(dir, mp, rewrite.Options{})
	require.NoError(t, err)
	bdir := filepath.Join(t.TempDir(), "backup")
	name, err := store.LocalName(bdir)
	require.NoError(t, err)
	backup := rewrite.Place{Store: failingStore{store.NewLocal("/")}, Name: name, URI: bdir}
	j, err := rewrite.ApplyAt(p, mp, backup, nil)
	assert.ErrorIs(t, err, errDiskFull)
	assert.Empty(t, j, "no journal to resume or undo")
	assert.NoDirExists(t, bdir)
	assert.Equal(t, orig, tree.Snapshot(t, dir), "nothing changed, no marker")
	_, err = rewrite.Apply(p, mp, bdir, nil)
	require.NoError(t, err, "the same backup directory works once the disk has room")
}
