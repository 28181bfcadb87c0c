package store_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/sparkckpt/sparkckpt/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// linkTree builds, in a temporary directory, a root "ckpt" with every
// kind of symbolic link, and "outside" beside it. It returns the parent.
func linkTree(t *testing.T) string {
	t.Helper()
	top := t.TempDir()
	root := filepath.Join(top, "ckpt")
	for _, d := range []string{"ckpt/d/e", "outside"} {
		require.NoError(t, os.MkdirAll(filepath.Join(top, d), 0o755))
	}
	for name, data := range map[string]string{"ckpt/a": "A", "ckpt/d/f": "F", "outside/secret": "S"} {
		require.NoError(t, os.WriteFile(filepath.Join(top, name), []byte(data), 0o644))
	}
	links := map[string]string{
		"in":       "a",
		"indir":    "d",
		"abs":      filepath.Join(root, "a"),
		"chain":    "in",
		"d/e/back": "../../a",
		"out":      "../outside/secret",
		"outabs":   filepath.Join(top, "outside", "secret"),
		"outdir":   "../outside",
		"chainout": "out",
		"broken":   "nope",
		"loop1":    "loop2",
		"loop2":    "loop1",
		"d/up":     "..",
		"self":     ".",
	}
	for name, target := range links {
		require.NoError(t, os.Symlink(target, filepath.Join(root, name)))
	}
	return top
}

func TestConfinedLinks(t *testing.T) {
	top := linkTree(t)
	root := filepath.Join(top, "ckpt")
	for _, tc := range []struct {
		name string
		fsys *store.Confined
	}{
		{"dirfs", store.Confine(os.DirFS(root), store.OSRoots(root)...)},
		{"local store at /", func() *store.Confined {
			n, err := store.LocalName(root)
			require.NoError(t, err)
			return store.ConfinedPlace(store.NewLocal("/"), n)
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			links, err := tc.fsys.Links()
			require.NoError(t, err)
			got := map[string]store.Link{}
			for _, l := range links {
				got[l.Name] = l
			}
			want := map[string]struct {
				kind     store.LinkKind
				resolved string
			}{
				"in": {store.LinkInside, "a"}, "indir": {store.LinkInside, "d"}, "abs": {store.LinkInside, "a"},
				"chain": {store.LinkInside, "a"}, "d/e/back": {store.LinkInside, "a"},
				"out": {store.LinkOutside, ""}, "outabs": {store.LinkOutside, ""}, "outdir": {store.LinkOutside, ""},
				"chainout": {store.LinkOutside, ""}, "broken": {store.LinkBroken, ""},
				"loop1": {store.LinkLoop, ""}, "loop2": {store.LinkLoop, ""}, "d/up": {store.LinkLoop, ""}, "self": {store.LinkLoop, ""},
			}
			assert.Len(t, got, len(want))
			for name, w := range want {
				assert.Equal(t, w.kind, got[name].Kind, name)
				assert.Equal(t, w.resolved, got[name].Resolved, name)
			}
			assert.True(t, got["indir"].Dir)
			assert.Equal(t, filepath.Join(top, "outside", "secret"), got["outabs"].Dest)

			for name, want := range map[string]string{"in": "A", "abs": "A", "chain": "A", "d/e/back": "A", "indir/f": "F", "indir/e/back": "A"} {
				b, err := fs.ReadFile(tc.fsys, name)
				require.NoError(t, err, name)
				assert.Equal(t, want, string(b), name)
			}
			for name, kind := range map[string]store.LinkKind{"out": store.LinkOutside, "outabs": store.LinkOutside, "outdir/secret": store.LinkOutside,
				"chainout": store.LinkOutside, "broken": store.LinkBroken, "loop1": store.LinkLoop} {
				_, err := fs.ReadFile(tc.fsys, name)
				var le *store.LinkError
				require.ErrorAs(t, err, &le, name)
				assert.Equal(t, kind, le.Link.Kind, name)
				assert.ErrorIs(t, err, store.ErrSymlink)
				_, err = tc.fsys.Open(name)
				assert.ErrorIs(t, err, store.ErrSymlink, name)
			}
			// Following outside links reads them; Real still refuses them.
			fo := tc.fsys.FollowingOutside()
			for _, n := range []string{"out", "outabs", "chainout", "outdir/secret"} {
				b, err := fs.ReadFile(fo, n)
				require.NoError(t, err, n)
				assert.Equal(t, "S", string(b), n)
				_, err = fo.Real(n)
				assert.ErrorIs(t, err, store.ErrSymlink, n)
			}
			oents, err := fs.ReadDir(fo, "outdir")
			require.NoError(t, err)
			require.Len(t, oents, 1)
			_, err = fs.ReadFile(fo, "broken")
			assert.ErrorIs(t, err, store.ErrSymlink)

			_, err = fs.ReadFile(tc.fsys, "broken")
			assert.ErrorIs(t, err, fs.ErrNotExist)
			_, err = fs.ReadFile(tc.fsys, "missing")
			assert.ErrorIs(t, err, fs.ErrNotExist)
			assert.NotErrorIs(t, err, store.ErrSymlink)

			real, err := tc.fsys.Real("indir/e/back")
			require.NoError(t, err)
			assert.Equal(t, "a", real)
			real, err = tc.fsys.Real("d/f")
			require.NoError(t, err)
			assert.Equal(t, "d/f", real)

			// Listings: inside links as what they lead to, the others as
			// files that cannot be read; a walk ends.
			ents, err := fs.ReadDir(tc.fsys, ".")
			require.NoError(t, err)
			types := map[string]fs.FileMode{}
			for _, e := range ents {
				types[e.Name()] = e.Type()
				if _, ok := store.LinkOf(e); !ok {
					assert.Contains(t, []string{"a", "d"}, e.Name())
				}
			}
			assert.Equal(t, fs.ModeDir, types["indir"])
			assert.Equal(t, fs.FileMode(0), types["in"])
			assert.Equal(t, fs.FileMode(0), types["out"])
			var walked []string
			require.NoError(t, fs.WalkDir(tc.fsys, ".", func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					walked = append(walked, p)
				}
				return err
			}))
			assert.Contains(t, walked, "indir/e/back")
			assert.Contains(t, walked, "d/up") // shown, not followed
			sub, err := fs.Sub(tc.fsys, "indir")
			require.NoError(t, err)
			b, err := fs.ReadFile(sub, "e/back")
			require.NoError(t, err)
			assert.Equal(t, "A", string(b))
			_, err = fs.ReadFile(sub, "../out")
			assert.Error(t, err)
		})
	}
}

// TestConfinedRootThroughLink: the root given may itself be reached
// through a link; absolute targets naming it by either path are inside.
func TestConfinedRootThroughLink(t *testing.T) {
	top := linkTree(t)
	via := filepath.Join(top, "via")
	require.NoError(t, os.Symlink("ckpt", via))
	require.NoError(t, os.Symlink(filepath.Join(via, "a"), filepath.Join(top, "ckpt", "absvia")))
	c := store.Confine(os.DirFS(via), store.OSRoots(via)...)
	for _, n := range []string{"absvia", "abs", "in"} {
		b, err := fs.ReadFile(c, n)
		require.NoError(t, err, n)
		assert.Equal(t, "A", string(b))
	}
	_, err := fs.ReadFile(c, "out")
	assert.ErrorIs(t, err, store.ErrSymlink)
}

// TestConfineWithoutLinks: a file system without symbolic links (HDFS,
// a store without SymlinkReader) is read as it is.
func TestConfineWithoutLinks(t *testing.T) {
	c := store.Confine(fsNoLinks{os.DirFS(linkTree(t))})
	links, err := c.Links()
	require.NoError(t, err)
	assert.Empty(t, links)
	b, err := fs.ReadFile(c, "ckpt/a")
	require.NoError(t, err)
	assert.Equal(t, "A", string(b))
	real, err := c.Real("ckpt/in")
	require.NoError(t, err)
	assert.Equal(t, "ckpt/in", real)
	assert.False(t, errors.Is(err, store.ErrSymlink))
}

type fsNoLinks struct{ fs.FS }

// TestLinkStringEscapes: a crafted link target cannot drive the terminal.
func TestLinkStringEscapes(t *testing.T) {
	l := store.Link{Name: "checkpoint-1", Target: "\x1b]52;c;aGk=\x07x", Kind: store.LinkBroken}
	assert.Equal(t, `checkpoint-1 -> \x1b]52;c;aGk=\x07x (broken: its target does not exist)`, l.String())
	assert.Equal(t, `checkpoint-1 is a broken symbolic link (to \x1b]52;c;aGk=\x07x, which does not exist)`, (&store.LinkError{Link: l}).Error())
	assert.Equal(t, "é -> ü (a loop)", store.Link{Name: "é", Target: "ü", Kind: store.LinkLoop}.String())
}
