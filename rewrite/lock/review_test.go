package lock_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sparkckpt/sparkckpt/rewrite/lock"
	"github.com/sparkckpt/sparkckpt/store"
)

// TestOneLockPerDirectoryWhateverItsName: a directory named through a
// symbolic link (to it, or to a parent) and by its own name is one
// directory with one lock. The lock was DIR.sparkckpt-lock of the name
// given, so 'rewrite --apply link' and 'rewrite --apply ckpt' both took
// a lock and wrote the directory at once.
func TestOneLockPerDirectoryWhateverItsName(t *testing.T) {
	base := t.TempDir()
	real := filepath.Join(base, "data", "ckpt")
	require.NoError(t, os.MkdirAll(real, 0o755))
	require.NoError(t, os.Symlink("data/ckpt", filepath.Join(base, "link")))
	require.NoError(t, os.Symlink("data", filepath.Join(base, "parent")))
	ls := store.NewLocal("/")
	name := func(p string) string {
		n, err := store.LocalName(p)
		require.NoError(t, err)
		return n
	}
	l, err := lock.Acquire(ls, name(real), real)
	require.NoError(t, err)
	for _, other := range []string{filepath.Join(base, "link"), filepath.Join(base, "parent", "ckpt"), filepath.Join(base, "link") + "/"} {
		_, err := lock.Acquire(ls, name(other), other)
		assert.ErrorIs(t, err, lock.ErrLocked, other)
	}
	require.NoError(t, l.Release())

	// Taken through the link, it is the lock beside the directory itself,
	// and so named.
	l, err = lock.Acquire(ls, name(filepath.Join(base, "link")), filepath.Join(base, "link"))
	require.NoError(t, err)
	assert.Equal(t, real+lock.Suffix, l.File())
	_, err = os.Stat(real + lock.Suffix)
	assert.NoError(t, err)
	_, err = lock.Acquire(ls, name(real), real)
	assert.ErrorIs(t, err, lock.ErrLocked)
	require.NoError(t, l.Release())
	_, err = os.Lstat(filepath.Join(base, "link"+lock.Suffix))
	assert.ErrorIs(t, err, os.ErrNotExist)

	// A directory that does not exist yet (cp's destination) under a
	// linked parent.
	l, err = lock.Acquire(ls, name(filepath.Join(base, "parent", "new")), filepath.Join(base, "parent", "new"))
	require.NoError(t, err)
	_, err = lock.Acquire(ls, name(filepath.Join(base, "data", "new")), filepath.Join(base, "data", "new"))
	assert.ErrorIs(t, err, lock.ErrLocked)
	require.NoError(t, l.Release())
}
