package copytree_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sparkckpt/sparkckpt/decode/check"
	"github.com/sparkckpt/sparkckpt/decode/crcfile"
	"github.com/sparkckpt/sparkckpt/decode/dstream"
	"github.com/sparkckpt/sparkckpt/fixtures/real"
	"github.com/sparkckpt/sparkckpt/fixtures/tree"
	"github.com/sparkckpt/sparkckpt/rewrite"
	"github.com/sparkckpt/sparkckpt/rewrite/copytree"
	"github.com/sparkckpt/sparkckpt/store"
	"github.com/sparkckpt/sparkckpt/store/hdfs"
	"github.com/sparkckpt/sparkckpt/store/hdfs/hdfstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const hdfsApp = "../../fixtures/generated/dstream/hdfs-app"

func startHDFS(t *testing.T) (*hdfstest.Server, *hdfs.FS) {
	t.Helper()
	srv, err := hdfstest.New(hdfstest.Options{BlockSize: 1 << 20})
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	cfg := &hdfs.Config{Props: map[string]string{}, User: "spark", ConnectTimeout: 5 * time.Second, IOTimeout: 10 * time.Second, Dial: hdfstest.LoopbackDial}
	f, err := hdfs.Connect(context.Background(), cfg, srv.Addr())
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return srv, f
}

func local(t *testing.T, dir string) (store.Store, string) {
	t.Helper()
	name, err := store.LocalName(dir)
	require.NoError(t, err)
	return store.NewLocal("/"), name
}

func mapper(t *testing.T, ms ...string) *rewrite.Mapper {
	t.Helper()
	var out []rewrite.Mapping
	for _, m := range ms {
		pm, err := rewrite.ParseMapping(m)
		require.NoError(t, err)
		out = append(out, pm)
	}
	mp, err := rewrite.NewMapper(out)
	require.NoError(t, err)
	return mp
}

// decodeChosen reads a checkpoint directory through any fs.FS as inspect
// does: Spark's choice of file, decoded.
func decodeChosen(t *testing.T, fsys fs.FS) (*dstream.Candidate, *dstream.File) {
	t.Helper()
	ents, err := fs.ReadDir(fsys, ".")
	require.NoError(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	chosen, f, skipped := dstream.Choose(dstream.Candidates(names), func(name string) (*dstream.File, error) {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		return dstream.Read(b, nil)
	})
	require.NotNil(t, chosen, "nothing decodes: %v", skipped)
	return chosen, f
}

// TestLocalToHDFSAndBack copies the bundled hdfs-app checkpoint to the
// in-process HDFS with a mapping onto that HDFS, reads it there as
// inspect and check would, then copies it back with the reverse mapping.
func TestLocalToHDFSAndBack(t *testing.T) {
	srv, h := startHDFS(t)
	srcDir := tree.Copy(t, hdfsApp)
	orig := tree.Snapshot(t, srcDir)
	ls, srcName := local(t, srcDir)
	const old = "hdfs://namenode.example.com:8020"
	mp := mapper(t, old+"="+srv.URI())

	rep, err := copytree.Copy(context.Background(), ls, srcName, h, "user/spark/checkpoints/hdfs-app", copytree.Options{Mapper: mp, Parallel: 3})
	require.NoError(t, err)
	assert.Equal(t, 3, rep.Rewritten, "two checkpoint files and a .bk")
	assert.Positive(t, rep.Edits)
	assert.Equal(t, len(orig), len(rep.Files))
	assert.Equal(t, 3, rep.Verified)
	assert.Empty(t, rep.CRCMismatches)
	assert.Empty(t, rep.Leftovers)

	// Read back through the store, as inspect does: the new URIs.
	view := store.FS(h, "user/spark/checkpoints/hdfs-app")
	chosen, f := decodeChosen(t, view)
	assert.Equal(t, "checkpoint-1700000010000", chosen.Name)
	assert.Equal(t, srv.URI()+"/user/spark/checkpoints/hdfs-app", f.Checkpoint.CheckpointDir)
	for _, r := range dstream.References(f) {
		assert.NotContains(t, r.URI, "namenode.example.com", r.Location)
	}
	// And as check does, with the new cluster as the expected file system.
	report, err := check.FS(context.Background(), view, check.Options{ExpectFS: []string{srv.URI()}, Path: h.Path("user/spark/checkpoints/hdfs-app")})
	require.NoError(t, err)
	for _, fd := range report.Findings {
		assert.NotEqual(t, "foreign-authority", fd.Code, fd.Message)
	}
	assert.Equal(t, "checkpoint-1700000010000", report.Chosen.File)
	// Nothing but the copy is left in HDFS.
	for _, p := range srv.Paths() {
		assert.NotContains(t, p, store.TempPrefix)
		assert.NotContains(t, p, "(writing)")
	}

	// Back to the local disk with the reverse mapping: the same bytes,
	// plus the .crc sidecars Hadoop's LocalFileSystem would have written.
	back := filepath.Join(t.TempDir(), "restored")
	_, backName := local(t, back)
	rep, err = copytree.Copy(context.Background(), h, "user/spark/checkpoints/hdfs-app", ls, backName, copytree.Options{Mapper: mapper(t, srv.URI()+"="+old)})
	require.NoError(t, err)
	got := tree.Snapshot(t, back)
	sidecars := 0
	for rel, b := range got {
		dir, base := filepath.Split(rel)
		if data, ok := crcfile.IsSidecar(base); ok {
			sidecars++
			require.NoError(t, crcfile.Verify(got[filepath.ToSlash(dir+data)], b), rel)
			continue
		}
		assert.True(t, bytes.Equal(orig[rel], b), "%s differs after the round trip", rel)
	}
	assert.Equal(t, len(orig), len(got)-sidecars)
	assert.Equal(t, len(orig), sidecars, "every file of hdfs-app gets a sidecar (it has no write-ahead log)")
	assert.Equal(t, len(orig), rep.Sidecars["created"])
}

// TestRealTreeRoundTrip: a real Spark-written local checkpoint (with .crc
// sidecars and a write-ahead log) goes to HDFS (sidecars dropped) and
// back (sidecars recreated): byte for byte the original tree.
func TestRealTreeRoundTrip(t *testing.T) {
	root := real.Root(t)
	srcDir := tree.Copy(t, filepath.Join(root, "theonly0318-spark-study/data/streaming/ck"))
	orig := tree.Snapshot(t, srcDir)
	srv, h := startHDFS(t)
	ls, srcName := local(t, srcDir)
	const old = "file:/C:/code/IdeaWorkspace/spark-code/data/streaming/ck"
	to := srv.URI() + "/ck"
	rep, err := copytree.Copy(context.Background(), ls, srcName, h, "ck", copytree.Options{Mapper: mapper(t, old+"="+to), Verify: true})
	require.NoError(t, err)
	assert.Positive(t, rep.Sidecars["dropped"])
	assert.Zero(t, rep.Sidecars["created"])
	assert.Equal(t, len(rep.Files), rep.Verified)
	_, f := decodeChosen(t, store.FS(h, "ck"))
	assert.Equal(t, to, f.Checkpoint.CheckpointDir)
	ents, err := h.ReadDir("ck")
	require.NoError(t, err)
	for _, e := range ents {
		_, isSidecar := crcfile.IsSidecar(e.Name())
		assert.False(t, isSidecar, "HDFS gets no .crc sidecar: %s", e.Name())
	}

	back := filepath.Join(t.TempDir(), "ck")
	_, backName := local(t, back)
	rep, err = copytree.Copy(context.Background(), h, "ck", ls, backName, copytree.Options{Mapper: mapper(t, to+"="+old)})
	require.NoError(t, err)
	assert.Empty(t, tree.Diff(orig, tree.Snapshot(t, back)), "the round trip gives back the original tree, sidecars included")
	assert.Positive(t, rep.Sidecars["created"])
}

// TestLocalToLocalSidecars: rewritten files get recomputed sidecars,
// others keep theirs, and a source file that no longer matches its
// sidecar is reported and copied as it is.
func TestLocalToLocalSidecars(t *testing.T) {
	root := real.Root(t)
	srcDir := tree.Copy(t, filepath.Join(root, "theonly0318-spark-study/data/streaming/ck"))
	part := filepath.Join(srcDir, "9f905c92-afa0-4011-8b04-72fdf6bb9713/rdd-26/part-00000")
	b, err := os.ReadFile(part)
	require.NoError(t, err)
	b[len(b)/2] ^= 1
	require.NoError(t, os.WriteFile(part, b, 0o644))
	ls, srcName := local(t, srcDir)
	dst := filepath.Join(t.TempDir(), "moved")
	_, dstName := local(t, dst)
	rep, err := copytree.Copy(context.Background(), ls, srcName, ls, dstName,
		copytree.Options{Mapper: mapper(t, "file:/C:/code/IdeaWorkspace/spark-code/data/streaming/ck=file:/data/ck")})
	require.NoError(t, err)
	require.Len(t, rep.CRCMismatches, 1)
	assert.Equal(t, "9f905c92-afa0-4011-8b04-72fdf6bb9713/rdd-26/part-00000", rep.CRCMismatches[0].File)
	assert.Equal(t, rep.Rewritten, rep.Sidecars["recomputed"])
	assert.Positive(t, rep.Sidecars["copied"])
	got := tree.Snapshot(t, dst)
	for rel, data := range got {
		dir, base := filepath.Split(rel)
		if d, ok := crcfile.IsSidecar(base); ok && !strings.HasSuffix(d, "part-00000") || ok && !strings.Contains(dir, "rdd-26") {
			assert.NoError(t, crcfile.Verify(got[filepath.ToSlash(dir+d)], data), rel)
		}
	}
	src := tree.Snapshot(t, srcDir)
	assert.Equal(t, src["9f905c92-afa0-4011-8b04-72fdf6bb9713/rdd-26/.part-00000.crc"], got["9f905c92-afa0-4011-8b04-72fdf6bb9713/rdd-26/.part-00000.crc"])
	assert.Equal(t, b, got["9f905c92-afa0-4011-8b04-72fdf6bb9713/rdd-26/part-00000"])
}

// failingStore fails Create after n files, like a disk filling up or a
// datanode going away half way.
type failingStore struct {
	store.Store
	mu sync.Mutex
	n  int
}

var errInjected = errors.New("injected failure")

func (f *failingStore) Create(name string, perm fs.FileMode) (store.Writer, error) {
	f.mu.Lock()
	fail := f.n == 0
	f.n--
	f.mu.Unlock()
	if fail {
		return nil, &fs.PathError{Op: "create", Path: name, Err: errInjected}
	}
	return f.Store.Create(name, perm)
}

// TestInterruptedCopyLeavesNoDestination: a copy stopped half way, by an
// error or by cancellation, leaves no destination and no temporary
// directory behind, on the local disk and on HDFS.
func TestInterruptedCopyLeavesNoDestination(t *testing.T) {
	_, h := startHDFS(t)
	srcDir := tree.Copy(t, hdfsApp)
	ls, srcName := local(t, srcDir)
	mp := mapper(t, "hdfs://namenode.example.com:8020=hdfs://new:8020")
	dstParent := t.TempDir()
	_, parentName := local(t, dstParent)
	for _, target := range []struct {
		name   string
		s      store.Store
		parent string
	}{{"local", ls, parentName}, {"hdfs", h, "restore"}} {
		t.Run(target.name+"/error", func(t *testing.T) {
			dst := store.Join(target.parent, "err")
			_, err := copytree.Copy(context.Background(), ls, srcName, &failingStore{Store: target.s, n: 5}, dst, copytree.Options{Mapper: mp})
			require.ErrorIs(t, err, errInjected)
			assertNothingAt(t, target.s, target.parent, "err")
		})
		t.Run(target.name+"/cancel", func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			dst := store.Join(target.parent, "cancelled")
			files := 0
			_, err := copytree.Copy(ctx, ls, srcName, target.s, dst, copytree.Options{Mapper: mp, Parallel: 2, Step: func(s string) {
				if strings.HasPrefix(s, "file ") {
					if files++; files == 4 {
						cancel()
					}
				}
			}})
			require.ErrorIs(t, err, context.Canceled)
			assertNothingAt(t, target.s, target.parent, "cancelled")
		})
	}
}

func assertNothingAt(t *testing.T, s store.Store, parent, name string) {
	t.Helper()
	_, err := s.Stat(store.Join(parent, name))
	assert.ErrorIs(t, err, fs.ErrNotExist, "no destination")
	ents, err := s.ReadDir(parent)
	require.NoError(t, err)
	for _, e := range ents {
		assert.False(t, store.IsTemp(e.Name()), "temporary %s left behind", e.Name())
	}
}

func TestRefusals(t *testing.T) {
	ls := store.NewLocal("/")
	srcDir := tree.Copy(t, hdfsApp)
	_, srcName := local(t, srcDir)
	mp := mapper(t, "hdfs://namenode.example.com:8020=hdfs://new:8020")

	t.Run("destination exists", func(t *testing.T) {
		dst := t.TempDir()
		_, dstName := local(t, dst)
		_, err := copytree.Copy(context.Background(), ls, srcName, ls, dstName, copytree.Options{Mapper: mp})
		assert.ErrorIs(t, err, copytree.ErrExists)
	})
	t.Run("inside the source", func(t *testing.T) {
		_, err := copytree.Copy(context.Background(), ls, srcName, ls, srcName+"/copy", copytree.Options{Mapper: mp})
		assert.ErrorContains(t, err, "inside")
	})
	t.Run("not a checkpoint", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "data.txt"), []byte("x"), 0o644))
		_, name := local(t, dir)
		_, err := copytree.Copy(context.Background(), ls, name, ls, name+"-copy", copytree.Options{Mapper: mp})
		assert.ErrorIs(t, err, rewrite.ErrNotCheckpoint)
	})
	t.Run("interrupted rewrite", func(t *testing.T) {
		dir := tree.Copy(t, hdfsApp)
		require.NoError(t, os.WriteFile(filepath.Join(dir, rewrite.MarkerName), []byte("/x/journal.json\n"), 0o644))
		_, name := local(t, dir)
		_, err := copytree.Copy(context.Background(), ls, name, ls, name+"-copy", copytree.Options{Mapper: mp})
		assert.ErrorContains(t, err, "interrupted")
	})
	t.Run("undecodable", func(t *testing.T) {
		dir := tree.Copy(t, hdfsApp)
		ck := filepath.Join(dir, "checkpoint-1700000010000")
		b, err := os.ReadFile(ck)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(ck, b[:len(b)/2], 0o644))
		_, name := local(t, dir)
		_, err = copytree.Copy(context.Background(), ls, name, ls, name+"-copy", copytree.Options{Mapper: mp})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "checkpoint-1700000010000")
		assert.Contains(t, err.Error(), "--skip-undecodable")
		assertNothingAt(t, ls, store.Dir(name), path(name)+"-copy")

		rep, err := copytree.Copy(context.Background(), ls, name, ls, name+"-copy", copytree.Options{Mapper: mp, SkipUndecodable: true})
		require.NoError(t, err)
		require.Len(t, rep.Undecodable, 1)
		assert.Equal(t, "checkpoint-1700000010000", rep.Undecodable[0].File)
		assert.Equal(t, 2, rep.Rewritten)
	})
}

func path(name string) string { return name[strings.LastIndexByte(name, '/')+1:] }

func TestLeftoversReported(t *testing.T) {
	ls := store.NewLocal("/")
	srcDir := tree.Copy(t, hdfsApp)
	_, srcName := local(t, srcDir)
	parent := t.TempDir()
	left := filepath.Join(parent, copytree.TempPrefix+"ckpt-0123456789ab")
	require.NoError(t, os.Mkdir(left, 0o755))
	_, parentName := local(t, parent)
	rep, err := copytree.Copy(context.Background(), ls, srcName, ls, parentName+"/ckpt", copytree.Options{})
	require.NoError(t, err)
	assert.Equal(t, []string{parentName + "/" + filepath.Base(left)}, rep.Leftovers)
	assert.Zero(t, rep.Rewritten, "no mapping: a plain copy")
	assert.Empty(t, tree.Diff(tree.Snapshot(t, srcDir), tree.Snapshot(t, filepath.Join(parent, "ckpt"))))
}

// TestSidecarStreamingMatchesCompute: the sidecar computed while streaming
// equals crcfile.Compute, whatever the write sizes.
func TestSidecarStreamingMatchesCompute(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, size := range []int{0, 1, 511, 512, 513, 4096, 100000} {
		data := make([]byte, size)
		rng.Read(data)
		srv, h := startHDFS(t)
		_ = srv
		require.NoError(t, h.MkdirAll("src", 0o755))
		require.NoError(t, store.WriteFileAtomic(h, "src/checkpoint-1", []byte("not a checkpoint"), 0o644))
		require.NoError(t, store.WriteFileAtomic(h, "src/part-00000", data, 0o644))
		dst := filepath.Join(t.TempDir(), "out")
		ls, dstName := local(t, dst)
		_, err := copytree.Copy(context.Background(), h, "src", ls, dstName, copytree.Options{})
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(dst, ".part-00000.crc"))
		require.NoError(t, err)
		assert.Equal(t, crcfile.Compute(data, 512), got, "size %d", size)
	}
}
