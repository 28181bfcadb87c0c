package rewrite_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/sparkckpt/sparkckpt/fixtures/tree"
	"github.com/sparkckpt/sparkckpt/rewrite"
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
