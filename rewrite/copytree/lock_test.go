package copytree_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sparkckpt/sparkckpt/fixtures/tree"
	"github.com/sparkckpt/sparkckpt/rewrite/copytree"
	"github.com/sparkckpt/sparkckpt/rewrite/lock"
	"github.com/sparkckpt/sparkckpt/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConcurrentCopiesToOneDestination: of several copies to one
// destination at once exactly one succeeds; the others fail (the lock is
// held, or the destination exists by the time they get it) and the
// destination is the one complete copy, with no temporary left, on the
// local disk and on HDFS.
func TestConcurrentCopiesToOneDestination(t *testing.T) {
	_, h := startHDFS(t)
	srcDir := tree.Copy(t, hdfsApp)
	ls, srcName := local(t, srcDir)
	_, parentName := local(t, t.TempDir())
	for _, target := range []struct {
		name   string
		s      store.Store
		parent string
	}{{"local", ls, parentName}, {"hdfs", h, "restore"}} {
		t.Run(target.name, func(t *testing.T) {
			dst := store.Join(target.parent, "ckpt")
			var wg sync.WaitGroup
			var mu sync.Mutex
			ok, locked, exists := 0, 0, 0
			for i := 0; i < 4; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					mp := mapper(t, "hdfs://namenode.example.com:8020=hdfs://new-"+string(rune('a'+i))+":8020")
					_, err := copytree.Copy(context.Background(), ls, srcName, target.s, dst, copytree.Options{Mapper: mp, Parallel: 2})
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						ok++
					case errors.Is(err, lock.ErrLocked):
						locked++
					case errors.Is(err, copytree.ErrExists):
						exists++
					default:
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			assert.Equal(t, 1, ok, "locked %d, exists %d", locked, exists)
			assert.Equal(t, 3, locked+exists)
			ents, err := target.s.ReadDir(target.parent)
			require.NoError(t, err)
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
			}
			assert.Equal(t, []string{"ckpt"}, names, "the copy, no temporary, no lock")
		})
	}
}

// TestStaleLeftoversRemoved: under the destination's lock, the partial
// copies of earlier runs whose owner is gone (a process no longer running
// here, or older than lock.StaleAge) are removed and reported with why; a
// partial copy whose owner may be at work (this process) is kept and
// reported; and no sparkckpt temporary or lock file of the source is
// copied.
func TestStaleLeftoversRemoved(t *testing.T) {
	ls := store.NewLocal("/")
	srcDir := tree.Copy(t, hdfsApp)
	want := tree.Snapshot(t, srcDir)
	// sparkckpt's own files in the source: never copied.
	require.NoError(t, os.MkdirAll(filepath.Join(srcDir, copytree.TempPrefix+"sub-0123", "x"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(srcDir, copytree.TempPrefix+"sub-0123", "x", "part-00000"), []byte("partial"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(srcDir, store.TempPrefix+"checkpoint-1700000010000-abc"), []byte("torn"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(srcDir, "sub"+lock.Suffix), []byte("{}"), 0o644))
	_, srcName := local(t, srcDir)

	parent := t.TempDir()
	_, parentName := local(t, parent)
	leftover := func(name string, o *lock.Owner, age time.Duration) string {
		dir := filepath.Join(parent, copytree.TempPrefix+"ckpt-"+name)
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "receivedBlockMetadata"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "checkpoint-1700000010000"), []byte("partial"), 0o644))
		if o != nil {
			require.NoError(t, os.WriteFile(filepath.Join(dir, copytree.OwnerName), o.Encode(), 0o644))
		}
		when := time.Now().Add(-age)
		require.NoError(t, os.Chtimes(dir, when, when))
		return parentName + "/" + filepath.Base(dir)
	}
	p, err := os.StartProcess("/bin/true", []string{"true"}, &os.ProcAttr{})
	require.NoError(t, err)
	_, err = p.Wait()
	require.NoError(t, err)
	dead, alive, other := lock.Me(), lock.Me(), lock.Me()
	dead.PID = p.Pid
	other.Host, other.Time = "other.example", time.Now().Add(-48*time.Hour)
	killed := leftover("killed", &dead, 0)
	old := leftover("old", &other, 0)
	ownerless := leftover("ownerless", nil, 30*time.Hour)
	running := leftover("running", &alive, 0)
	recent := leftover("recent", nil, time.Minute)

	rep, err := copytree.Copy(context.Background(), ls, srcName, ls, parentName+"/ckpt", copytree.Options{})
	require.NoError(t, err)
	removed := map[string]string{}
	for _, r := range rep.Removed {
		removed[r.File] = r.Error
	}
	assert.Len(t, removed, 3)
	assert.Regexp(t, `^left by .* pid \d+ since .*: process \d+ is not running on `, removed[killed])
	assert.Regexp(t, `^left by .*@other\.example pid \d+ since .*: 48h0m0s old$`, removed[old])
	assert.Regexp(t, `^no owner recorded, last changed `, removed[ownerless])
	assert.ElementsMatch(t, []string{running, recent}, rep.Leftovers)
	for _, gone := range []string{killed, old, ownerless} {
		_, err := ls.Stat(gone)
		assert.ErrorIs(t, err, os.ErrNotExist, gone)
	}
	for _, kept := range []string{running, recent} {
		_, err := ls.Stat(kept)
		assert.NoError(t, err, kept)
	}
	assert.ElementsMatch(t, []string{copytree.TempPrefix + "sub-0123", store.TempPrefix + "checkpoint-1700000010000-abc", "sub" + lock.Suffix}, rep.Skipped)
	assert.Empty(t, tree.Diff(want, tree.Snapshot(t, filepath.Join(parent, "ckpt"))), "the copy holds the checkpoint only")
}
