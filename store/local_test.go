package store_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sparkckpt/sparkckpt/store"
	"github.com/sparkckpt/sparkckpt/store/storetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLocalConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (store.Store, string) {
		s := store.NewLocal(t.TempDir())
		require.NoError(t, s.MkdirAll("work", 0o755))
		return s, "work"
	}, storetest.Options{})
}

// TestLocalRootedAtSlash is how sparkckpt uses the local store: rooted at
// "/", with names from LocalName.
func TestLocalRootedAtSlash(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644))
	name, err := store.LocalName(filepath.Join(dir, "f"))
	require.NoError(t, err)
	s := store.NewLocal("/")
	b, err := store.ReadFile(s, name)
	require.NoError(t, err)
	assert.Equal(t, "x", string(b))
	assert.Equal(t, filepath.Join(dir, "f"), s.Path(name))
	root, err := store.LocalName("/")
	require.NoError(t, err)
	assert.Equal(t, ".", root)

	wd, err := os.Getwd()
	require.NoError(t, err)
	rel, err := store.LocalName("x/../y")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(wd, "y"), s.Path(rel))
	assert.True(t, store.UsesChecksumSidecars(s))
}
