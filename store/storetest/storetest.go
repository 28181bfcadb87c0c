// Package storetest is the conformance suite every store backend runs
// (the local disk, HDFS through the real client against
// store/hdfs/hdfstest): the same calls must give the same results and
// the same error kinds everywhere. Only _test.go files import it.
package storetest

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"math/rand"
	"path"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/sparkckpt/sparkckpt/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// NewHarness returns the store under test and a fresh, empty directory in
// it (created by NewHarness) under which one subtest works.
type NewHarness func(t *testing.T) (s store.Store, dir string)

// Options tune the suite to a backend.
type Options struct {
	// BigFile is the size of the file used to cross block boundaries
	// (default 300000 bytes; give more than the backend's block size).
	BigFile int
}

// Run runs every conformance test, each as a subtest with its own harness.
func Run(t *testing.T, newHarness NewHarness, o Options) {
	if o.BigFile == 0 {
		o.BigFile = 300000
	}
	tests := []struct {
		name string
		f    func(t *testing.T, s store.Store, dir string, o Options)
	}{
		{"StatMissing", testStatMissing},
		{"CreateAndRead", testCreateAndRead},
		{"EmptyFile", testEmptyFile},
		{"BigFileReadAt", testBigFileReadAt},
		{"CreateExclusive", testCreateExclusive},
		{"Mkdir", testMkdir},
		{"ReadDir", testReadDir},
		{"Rename", testRename},
		{"RenameDir", testRenameDir},
		{"Remove", testRemove},
		{"RemoveAll", testRemoveAll},
		{"WriteFileAtomic", testWriteFileAtomic},
		{"Temp", testTemp},
		{"InvalidNames", testInvalidNames},
		{"OpenDir", testOpenDir},
		{"FSView", testFSView},
		{"Link", testLink},
		{"BatchSync", testBatchSync},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, dir := newHarness(t)
			tc.f(t, s, dir, o)
		})
	}
}

// pathError asserts that err is an *fs.PathError wrapping target.
func pathError(t *testing.T, err error, target error, msgAndArgs ...any) {
	t.Helper()
	require.Error(t, err, msgAndArgs...)
	var pe *fs.PathError
	assert.True(t, errors.As(err, &pe), "error %v (%T) is not an *fs.PathError", err, err)
	if target != nil {
		assert.ErrorIs(t, err, target, msgAndArgs...)
	}
}

func write(t *testing.T, s store.Store, name string, data []byte, perm fs.FileMode) {
	t.Helper()
	w, err := s.Create(name, perm)
	require.NoError(t, err)
	// Several writes of odd sizes, like a streaming copy.
	for off := 0; off < len(data); {
		n := min(len(data)-off, 1+off%70001)
		_, err := w.Write(data[off : off+n])
		require.NoError(t, err)
		off += n
	}
	require.NoError(t, w.Close())
}

func randomBytes(n int, seed int64) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

func testStatMissing(t *testing.T, s store.Store, dir string, o Options) {
	_, err := s.Stat(store.Join(dir, "missing"))
	pathError(t, err, fs.ErrNotExist)
	_, err = s.Open(store.Join(dir, "missing"))
	pathError(t, err, fs.ErrNotExist)
	_, err = s.ReadDir(store.Join(dir, "missing"))
	pathError(t, err, fs.ErrNotExist)
	_, err = store.ReadFile(s, store.Join(dir, "missing/deeper"))
	pathError(t, err, fs.ErrNotExist)
}

func testCreateAndRead(t *testing.T, s store.Store, dir string, o Options) {
	name := store.Join(dir, "checkpoint-1700000000000")
	data := []byte("hello, checkpoint\n")
	write(t, s, name, data, 0o640)
	st, err := s.Stat(name)
	require.NoError(t, err)
	assert.Equal(t, "checkpoint-1700000000000", st.Name())
	assert.Equal(t, int64(len(data)), st.Size())
	assert.False(t, st.IsDir())
	assert.True(t, st.Mode().IsRegular())
	assert.Equal(t, fs.FileMode(0o640), st.Mode().Perm())
	assert.False(t, st.ModTime().IsZero())
	got, err := store.ReadFile(s, name)
	require.NoError(t, err)
	assert.Equal(t, data, got)

	f, err := s.Open(name)
	require.NoError(t, err)
	defer f.Close()
	fst, err := f.Stat()
	require.NoError(t, err)
	assert.Equal(t, int64(len(data)), fst.Size())
	buf := make([]byte, 5)
	n, err := f.ReadAt(buf, 7)
	require.NoError(t, err)
	assert.Equal(t, "check", string(buf[:n]))
	n, err = f.ReadAt(buf, int64(len(data)-2))
	assert.Equal(t, 2, n)
	assert.ErrorIs(t, err, io.EOF)
}

func testEmptyFile(t *testing.T, s store.Store, dir string, o Options) {
	name := store.Join(dir, "empty")
	w, err := s.Create(name, 0o644)
	require.NoError(t, err)
	n, err := w.Write(nil) // an empty write (io.Copy of an empty file does none; a caller may)
	require.NoError(t, err)
	assert.Zero(t, n)
	require.NoError(t, w.Close())
	st, err := s.Stat(name)
	require.NoError(t, err)
	assert.Equal(t, int64(0), st.Size())
	got, err := store.ReadFile(s, name)
	require.NoError(t, err)
	assert.Empty(t, got)
	// A file whose only write is empty too.
	write(t, s, store.Join(dir, "empty2"), []byte{}, 0o644)
}

func testBigFileReadAt(t *testing.T, s store.Store, dir string, o Options) {
	name := store.Join(dir, "big")
	data := randomBytes(o.BigFile, 1)
	write(t, s, name, data, 0o644)
	got, err := store.ReadFile(s, name)
	require.NoError(t, err)
	require.True(t, bytes.Equal(data, got), "read back %d bytes, differ from the %d written", len(got), len(data))

	f, err := s.Open(name)
	require.NoError(t, err)
	defer f.Close()
	// Concurrent ReadAt at offsets that straddle chunks, packets and blocks.
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 16 {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(i)))
			for range 4 {
				off := rng.Intn(len(data))
				n := min(rng.Intn(70000)+1, len(data)-off)
				buf := make([]byte, n)
				if _, err := f.ReadAt(buf, int64(off)); err != nil && !(err == io.EOF && off+n == len(data)) {
					errs <- err
					return
				}
				if !bytes.Equal(buf, data[off:off+n]) {
					errs <- errors.New("ReadAt returned other bytes")
					return
				}
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func testCreateExclusive(t *testing.T, s store.Store, dir string, o Options) {
	name := store.Join(dir, "x")
	write(t, s, name, []byte("one"), 0o644)
	_, err := s.Create(name, 0o644)
	pathError(t, err, fs.ErrExist)
	got, err := store.ReadFile(s, name)
	require.NoError(t, err)
	assert.Equal(t, "one", string(got))
	_, err = s.Create(store.Join(dir, "no/such/dir/x"), 0o644)
	pathError(t, err, fs.ErrNotExist)
}

func testMkdir(t *testing.T, s store.Store, dir string, o Options) {
	d := store.Join(dir, "a/b/c")
	require.NoError(t, s.MkdirAll(d, 0o755))
	require.NoError(t, s.MkdirAll(d, 0o755), "an existing directory is not an error")
	for _, p := range []string{"a", "a/b", "a/b/c"} {
		st, err := s.Stat(store.Join(dir, p))
		require.NoError(t, err)
		assert.True(t, st.IsDir(), p)
		assert.Equal(t, path.Base(p), st.Name())
	}
	write(t, s, store.Join(dir, "file"), []byte("x"), 0o644)
	assert.Error(t, s.MkdirAll(store.Join(dir, "file"), 0o755), "a file is in the way")
	assert.Error(t, s.MkdirAll(store.Join(dir, "file/sub"), 0o755), "a file is in the way")
}

func testReadDir(t *testing.T, s store.Store, dir string, o Options) {
	names := []string{"checkpoint-2", "checkpoint-10", ".checkpoint-2.crc", "receivedBlockMetadata", "b", "a"}
	for _, n := range names {
		if n == "receivedBlockMetadata" {
			require.NoError(t, s.MkdirAll(store.Join(dir, n), 0o755))
			continue
		}
		write(t, s, store.Join(dir, n), []byte(n), 0o644)
	}
	ents, err := s.ReadDir(dir)
	require.NoError(t, err)
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
		info, err := e.Info()
		require.NoError(t, err)
		assert.Equal(t, e.Name(), info.Name())
		if e.Name() == "receivedBlockMetadata" {
			assert.True(t, e.IsDir())
			assert.True(t, info.IsDir())
		} else {
			assert.False(t, e.IsDir())
			assert.Equal(t, int64(len(e.Name())), info.Size())
		}
	}
	assert.Equal(t, []string{".checkpoint-2.crc", "a", "b", "checkpoint-10", "checkpoint-2", "receivedBlockMetadata"}, got, "sorted by name")
	_, err = s.ReadDir(store.Join(dir, "a"))
	assert.Error(t, err, "ReadDir of a file")
	empty := store.Join(dir, "receivedBlockMetadata")
	ents, err = s.ReadDir(empty)
	require.NoError(t, err)
	assert.Empty(t, ents)
}

func testRename(t *testing.T, s store.Store, dir string, o Options) {
	a, b := store.Join(dir, "a"), store.Join(dir, "b")
	write(t, s, a, []byte("A"), 0o644)
	require.NoError(t, s.Rename(a, b))
	_, err := s.Stat(a)
	pathError(t, err, fs.ErrNotExist)
	got, err := store.ReadFile(s, b)
	require.NoError(t, err)
	assert.Equal(t, "A", string(got))

	// Replacing an existing file.
	write(t, s, a, []byte("new"), 0o644)
	require.NoError(t, s.Rename(a, b))
	got, err = store.ReadFile(s, b)
	require.NoError(t, err)
	assert.Equal(t, "new", string(got))

	// Into another directory.
	require.NoError(t, s.MkdirAll(store.Join(dir, "sub"), 0o755))
	require.NoError(t, s.Rename(b, store.Join(dir, "sub/b")))
	got, err = store.ReadFile(s, store.Join(dir, "sub/b"))
	require.NoError(t, err)
	assert.Equal(t, "new", string(got))

	pathError(t, s.Rename(store.Join(dir, "missing"), store.Join(dir, "c")), fs.ErrNotExist)
	assert.Error(t, s.Rename(store.Join(dir, "sub/b"), store.Join(dir, "nodir/b")), "missing destination directory")
}

func testRenameDir(t *testing.T, s store.Store, dir string, o Options) {
	tmp := store.Join(dir, store.TempPrefix+"ckpt")
	require.NoError(t, s.MkdirAll(store.Join(tmp, "receivedBlockMetadata"), 0o755))
	write(t, s, store.Join(tmp, "checkpoint-1"), []byte("1"), 0o644)
	write(t, s, store.Join(tmp, "receivedBlockMetadata/log-1-2"), []byte("log"), 0o644)
	final := store.Join(dir, "ckpt")
	require.NoError(t, s.Rename(tmp, final))
	_, err := s.Stat(tmp)
	pathError(t, err, fs.ErrNotExist)
	got, err := store.ReadFile(s, store.Join(final, "receivedBlockMetadata/log-1-2"))
	require.NoError(t, err)
	assert.Equal(t, "log", string(got))

	// A directory does not replace a non-empty directory.
	other := store.Join(dir, "other")
	require.NoError(t, s.MkdirAll(other, 0o755))
	write(t, s, store.Join(other, "f"), []byte("f"), 0o644)
	assert.Error(t, s.Rename(other, final))
	got, err = store.ReadFile(s, store.Join(final, "checkpoint-1"))
	require.NoError(t, err)
	assert.Equal(t, "1", string(got))
}

func testRemove(t *testing.T, s store.Store, dir string, o Options) {
	f := store.Join(dir, "f")
	write(t, s, f, []byte("x"), 0o644)
	require.NoError(t, s.Remove(f))
	_, err := s.Stat(f)
	pathError(t, err, fs.ErrNotExist)
	pathError(t, s.Remove(f), fs.ErrNotExist)

	d := store.Join(dir, "d")
	require.NoError(t, s.MkdirAll(d, 0o755))
	write(t, s, store.Join(d, "f"), []byte("x"), 0o644)
	assert.Error(t, s.Remove(d), "a non-empty directory")
	_, err = s.Stat(store.Join(d, "f"))
	require.NoError(t, err, "a failed Remove removes nothing")
	require.NoError(t, s.Remove(store.Join(d, "f")))
	require.NoError(t, s.Remove(d), "an empty directory")
	_, err = s.Stat(d)
	pathError(t, err, fs.ErrNotExist)
}

func testRemoveAll(t *testing.T, s store.Store, dir string, o Options) {
	d := store.Join(dir, "tree")
	require.NoError(t, s.MkdirAll(store.Join(d, "x/y"), 0o755))
	write(t, s, store.Join(d, "x/y/z"), []byte("z"), 0o644)
	write(t, s, store.Join(d, "top"), []byte("t"), 0o644)
	require.NoError(t, store.RemoveAll(s, d))
	_, err := s.Stat(d)
	pathError(t, err, fs.ErrNotExist)
	require.NoError(t, store.RemoveAll(s, d), "a missing tree is not an error")
	ents, err := s.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, ents)
}

func testWriteFileAtomic(t *testing.T, s store.Store, dir string, o Options) {
	name := store.Join(dir, "checkpoint-1")
	require.NoError(t, store.WriteFileAtomic(s, name, []byte("first"), 0o644))
	require.NoError(t, store.WriteFileAtomic(s, name, []byte("second"), 0o600))
	got, err := store.ReadFile(s, name)
	require.NoError(t, err)
	assert.Equal(t, "second", string(got))
	st, err := s.Stat(name)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o600), st.Mode().Perm())
	ents, err := s.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, ents, 1, "no temporary file is left behind")
	assert.Equal(t, "checkpoint-1", ents[0].Name())
	err = store.WriteFileAtomic(s, store.Join(dir, "missing/x"), []byte("x"), 0o644)
	pathError(t, err, fs.ErrNotExist)
}

func testTemp(t *testing.T, s store.Store, dir string, o Options) {
	seen := map[string]bool{}
	for range 3 {
		w, name, err := store.CreateTemp(s, dir, store.TempPrefix+"f-", ".part", 0o644)
		require.NoError(t, err)
		require.NoError(t, w.Close())
		assert.True(t, store.IsTemp(path.Base(name)), name)
		assert.True(t, strings.HasSuffix(name, ".part"), name)
		assert.False(t, seen[name])
		seen[name] = true
	}
	d, err := store.MkdirTemp(s, dir, store.TempPrefix+"d-", 0o755)
	require.NoError(t, err)
	st, err := s.Stat(d)
	require.NoError(t, err)
	assert.True(t, st.IsDir())
	assert.Equal(t, dir, store.Dir(d))
}

func testInvalidNames(t *testing.T, s store.Store, dir string, o Options) {
	for _, bad := range []string{"/abs", "../up", dir + "/../x", dir + "/", dir + "//x", ""} {
		_, err := s.Stat(bad)
		pathError(t, err, fs.ErrInvalid, "Stat(%q)", bad)
		_, err = s.Open(bad)
		pathError(t, err, fs.ErrInvalid, "Open(%q)", bad)
		_, err = s.ReadDir(bad)
		pathError(t, err, fs.ErrInvalid, "ReadDir(%q)", bad)
		_, err = s.Create(bad, 0o644)
		pathError(t, err, fs.ErrInvalid, "Create(%q)", bad)
		pathError(t, s.MkdirAll(bad, 0o755), fs.ErrInvalid, "MkdirAll(%q)", bad)
		pathError(t, s.Remove(bad), fs.ErrInvalid, "Remove(%q)", bad)
		pathError(t, s.Rename(bad, store.Join(dir, "x")), fs.ErrInvalid, "Rename(%q, ...)", bad)
		pathError(t, s.Rename(store.Join(dir, "x"), bad), fs.ErrInvalid, "Rename(..., %q)", bad)
	}
}

func testOpenDir(t *testing.T, s store.Store, dir string, o Options) {
	_, err := s.Open(dir)
	pathError(t, err, fs.ErrInvalid, "Open of a directory")
}

func testFSView(t *testing.T, s store.Store, dir string, o Options) {
	files := map[string][]byte{
		"checkpoint-1700000005000":                  []byte("ck1"),
		"checkpoint-1700000005000.bk":               randomBytes(1500, 2),
		"receivedBlockMetadata/log-1-2":             randomBytes(3000, 3), // fstest reads at many offsets: keep it small
		"3f0c2a9e/rdd-41/part-00000":                []byte("part"),
		"3f0c2a9e/rdd-41/_partitioner":              nil,
		"3f0c2a9e/rdd-41/.part-00000.crc":           []byte("crc\x00"),
		"receivedData/0/log-1700000001000-17000002": []byte("data"),
	}
	var names []string
	for n, b := range files {
		require.NoError(t, s.MkdirAll(store.Join(dir, path.Dir(n)), 0o755))
		write(t, s, store.Join(dir, n), b, 0o644)
		names = append(names, n)
	}
	fsys := store.FS(s, dir)
	require.NoError(t, fstest.TestFS(fsys, names...))
	for n, b := range files {
		got, err := fs.ReadFile(fsys, n)
		require.NoError(t, err)
		assert.Equal(t, len(b), len(got), n)
	}
	sub, err := fs.Sub(fsys, "receivedBlockMetadata")
	require.NoError(t, err)
	got, err := fs.ReadFile(sub, "log-1-2")
	require.NoError(t, err)
	assert.Equal(t, files["receivedBlockMetadata/log-1-2"], got)
	_, err = fs.Stat(fsys, "missing")
	assert.ErrorIs(t, err, fs.ErrNotExist)
}

func testLink(t *testing.T, s store.Store, dir string, o Options) {
	l, ok := s.(store.Linker)
	if !ok {
		t.Skip("store has no hard links")
	}
	a, b := store.Join(dir, "a"), store.Join(dir, "b")
	write(t, s, a, []byte("A"), 0o644)
	require.NoError(t, l.Link(a, b))
	require.NoError(t, store.WriteFileAtomic(s, a, []byte("replaced"), 0o644))
	got, err := store.ReadFile(s, b)
	require.NoError(t, err)
	assert.Equal(t, "A", string(got), "the link keeps the original inode")
	pathError(t, l.Link(a, b), fs.ErrExist)
}

func testBatchSync(t *testing.T, s store.Store, dir string, o Options) {
	bs, ok := s.(store.BatchSyncer)
	if !ok {
		t.Skip("store syncs every file on Close")
	}
	tree := store.Join(dir, "tree")
	require.NoError(t, s.MkdirAll(store.Join(tree, "sub"), 0o755))
	want := map[string][]byte{}
	for i, name := range []string{"a", "sub/b", "sub/c"} {
		data := randomBytes(1000*(i+1), int64(i))
		w, err := bs.CreateUnsynced(store.Join(tree, name), 0o640)
		require.NoError(t, err)
		_, err = w.Write(data)
		require.NoError(t, err)
		require.NoError(t, w.Close())
		want[name] = data
	}
	_, err := bs.CreateUnsynced(store.Join(tree, "a"), 0o640)
	pathError(t, err, fs.ErrExist, "CreateUnsynced is exclusive like Create")
	require.NoError(t, bs.SyncTree(tree))
	for name, data := range want {
		got, err := store.ReadFile(s, store.Join(tree, name))
		require.NoError(t, err)
		assert.Equal(t, data, got, name)
		st, err := s.Stat(store.Join(tree, name))
		require.NoError(t, err)
		assert.Equal(t, fs.FileMode(0o640), st.Mode().Perm(), name)
	}
	pathError(t, bs.SyncTree(store.Join(dir, "missing")), fs.ErrNotExist)
}
