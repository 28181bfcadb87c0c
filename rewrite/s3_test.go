package rewrite_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sparkckpt/sparkckpt/rewrite"
	"github.com/sparkckpt/sparkckpt/store"
	s3store "github.com/sparkckpt/sparkckpt/store/s3"
	"github.com/sparkckpt/sparkckpt/store/s3/s3test"
)

// sparkWrites is an S3 bucket on which "Spark" overwrites a file right
// after sparkckpt reads it, once armed: the race If-Match closes.
type sparkWrites struct {
	*s3store.FS
	t      *testing.T
	srv    *s3test.Server
	target string // store name of the file Spark overwrites
	armed  bool
}

func (s *sparkWrites) ReadFileVersion(name string) ([]byte, string, error) {
	b, v, err := s.FS.ReadFileVersion(name)
	if s.armed && name == s.target {
		s.armed = false
		s.srv.Put(s.t, s.FS.Bucket(), name, []byte("written by Spark meanwhile"))
	}
	return b, v, err
}

// s3Checkpoint uploads the hdfs-app fixture to a fresh bucket.
func s3Checkpoint(t *testing.T) (*s3test.Server, *s3store.FS, map[string][]byte) {
	srv := s3test.Start(t)
	srv.SetEnv(t)
	srv.CreateBucket(t, "ckpt")
	c, err := s3store.NewClient(context.Background(), s3store.Config{Getenv: os.Getenv})
	require.NoError(t, err)
	f, err := c.Bucket("s3a", "ckpt")
	require.NoError(t, err)
	src := filepath.Join("..", "fixtures", "generated", "dstream", "hdfs-app")
	files := map[string][]byte{}
	require.NoError(t, filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		files[rel] = b
		require.NoError(t, f.MkdirAll(store.Join("app", filepath.ToSlash(filepath.Dir(rel))), 0o755))
		return store.WriteFileAtomic(f, store.Join("app", rel), b, 0o644)
	}))
	return srv, f, files
}

// TestApplyRefusesConcurrentWriteS3: on S3 a file Spark rewrote after the
// plan read it is refused by If-Match on the plan's ETag, not overwritten,
// even when the write lands between apply's own check and its write.
func TestApplyRefusesConcurrentWriteS3(t *testing.T) {
	srv, f, _ := s3Checkpoint(t)
	sw := &sparkWrites{FS: f, t: t, srv: srv, target: "app/checkpoint-1700000010000"}
	dir := rewrite.Place{Store: sw, Name: "app", URI: "s3a://ckpt/app"}
	mp := mustMapper(t, "hdfs://namenode.example.com:8020", "s3a://ckpt")
	p, err := rewrite.NewPlanAt(dir, mp, rewrite.Options{})
	require.NoError(t, err)
	var planned []string
	for _, fc := range p.Files {
		planned = append(planned, fc.Path)
		assert.NotEmpty(t, fc.Version, "%s: the plan keeps the ETag it read", fc.Path)
	}
	sort.Strings(planned)
	require.Contains(t, planned, "checkpoint-1700000010000")

	sw.armed = true // Spark writes right after apply reads the file
	bk := rewrite.Place{Store: f, Name: "backup", URI: "s3a://ckpt/backup"}
	j, err := rewrite.ApplyAt(p, mp, bk, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "s3a://ckpt/app/checkpoint-1700000010000 changed since it was read; not touching it")
	assert.ErrorIs(t, err, s3store.ErrChanged)
	got, err := store.ReadFile(f, "app/checkpoint-1700000010000")
	require.NoError(t, err)
	assert.Equal(t, "written by Spark meanwhile", string(got), "Spark's write is kept")

	// Undo rolls back what was done and leaves Spark's file alone.
	open := func(uri string) (rewrite.Place, error) {
		return rewrite.Place{Store: f, Name: uri[len("s3a://ckpt/"):], URI: uri}, nil
	}
	err = rewrite.UndoAt(rewrite.Place{Store: f, Name: j[len("s3a://ckpt/"):], URI: j}, open, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "checkpoint-1700000010000 changed after the rewrite; not restoring it")
	got, _ = store.ReadFile(f, "app/checkpoint-1700000010000")
	assert.Equal(t, "written by Spark meanwhile", string(got))
}

// TestApplyUndoS3: apply then undo on S3 gives back the exact original
// bytes, and no temporary object is left.
func TestApplyUndoS3(t *testing.T) {
	_, f, orig := s3Checkpoint(t)
	dir := rewrite.Place{Store: f, Name: "app", URI: "s3a://ckpt/app"}
	mp := mustMapper(t, "hdfs://namenode.example.com:8020", "s3a://ckpt")
	p, err := rewrite.NewPlanAt(dir, mp, rewrite.Options{})
	require.NoError(t, err)
	require.NotEmpty(t, p.Files)
	bk := rewrite.Place{Store: f, Name: "backup", URI: "s3a://ckpt/backup"}
	j, err := rewrite.ApplyAt(p, mp, bk, nil)
	require.NoError(t, err)
	for _, fc := range p.Files {
		got, err := store.ReadFile(f, store.Join("app", fc.Path))
		require.NoError(t, err)
		assert.NotEqual(t, orig[fc.Path], got, fc.Path)
	}
	open := func(uri string) (rewrite.Place, error) {
		return rewrite.Place{Store: f, Name: uri[len("s3a://ckpt/"):], URI: uri}, nil
	}
	require.NoError(t, rewrite.UndoAt(rewrite.Place{Store: f, Name: j[len("s3a://ckpt/"):], URI: j}, open, nil))
	ents, err := f.ReadDir("app")
	require.NoError(t, err)
	n := 0
	require.NoError(t, walk(f, "app", func(rel string, b []byte) {
		n++
		assert.Equal(t, orig[rel], b, rel)
	}))
	assert.Equal(t, len(orig), n, "no leftover in %v", ents)
}

func walk(s store.Store, dir string, fn func(rel string, b []byte)) error {
	var rec func(rel string) error
	rec = func(rel string) error {
		ents, err := s.ReadDir(store.Join(dir, rel))
		if err != nil {
			return err
		}
		for _, e := range ents {
			r := store.Join(rel, e.Name())
			if e.IsDir() {
				if err := rec(r); err != nil {
					return err
				}
				continue
			}
			b, err := store.ReadFile(s, store.Join(dir, r))
			if err != nil {
				return err
			}
			fn(r, b)
		}
		return nil
	}
	return rec(".")
}
