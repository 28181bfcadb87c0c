package s3_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sparkckpt/sparkckpt/store"
	s3store "github.com/sparkckpt/sparkckpt/store/s3"
	"github.com/sparkckpt/sparkckpt/store/s3/s3test"
	"github.com/sparkckpt/sparkckpt/store/storetest"
)

// open starts versitygw, creates bucket and opens it with scheme.
func open(t *testing.T, scheme, bucket string, partSize int64) (*s3test.Server, *s3store.FS) {
	t.Helper()
	srv := s3test.Start(t)
	srv.SetEnv(t)
	srv.CreateBucket(t, bucket)
	c, err := s3store.NewClient(context.Background(), s3store.Config{Getenv: os.Getenv, PartSize: partSize})
	require.NoError(t, err)
	f, err := c.Bucket(scheme, bucket)
	require.NoError(t, err)
	return srv, f
}

func TestConformance(t *testing.T) {
	_, f := open(t, "s3a", "conformance", 0)
	n := 0
	storetest.Run(t, func(t *testing.T) (store.Store, string) {
		n++
		dir := fmt.Sprintf("t%d/sub", n)
		require.NoError(t, f.MkdirAll(dir, 0o755))
		return f, dir
	}, storetest.Options{BigFile: 5<<20 + 4321}) // past the 4 MiB read whole: ranged ReadAt
}

func TestSplit(t *testing.T) {
	tests := []struct {
		uri, scheme, bucket, name string
		err                       bool
	}{
		{"s3://b/ckpt/app", "s3", "b", "ckpt/app", false},
		{"s3a://b/ckpt/app/", "s3a", "b", "ckpt/app", false},
		{"S3N://b", "s3n", "b", ".", false},
		{"s3://b/", "s3", "b", ".", false},
		{"s3://b//x/./y", "s3", "b", "x/y", false},
		{"s3:///x", "", "", "", true},
		{"hdfs://nn/x", "", "", "", true},
		{"s3://user@b/x", "", "", "", true},
	}
	for _, tc := range tests {
		sc, b, n, err := s3store.Split(tc.uri)
		if tc.err {
			require.Error(t, err, tc.uri)
			continue
		}
		require.NoError(t, err, tc.uri)
		require.Equal(t, []string{tc.scheme, tc.bucket, tc.name}, []string{sc, b, n}, tc.uri)
	}
}

// FuzzSplit: any string either fails to split or gives a valid store
// name, a lower-case scheme among Schemes and a bucket without a slash.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{"s3://b/ckpt/app", "s3a://b/", "S3N://b//x/../y", "s3://", "s3:///x", "s3://b?x", "hdfs://nn/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		scheme, bucket, name, err := s3store.Split(uri)
		if err != nil {
			return
		}
		if !fs.ValidPath(name) {
			t.Errorf("Split(%q): name %q is not a valid store name", uri, name)
		}
		if bucket == "" || strings.Contains(bucket, "/") {
			t.Errorf("Split(%q): bucket %q", uri, bucket)
		}
		if scheme != "s3" && scheme != "s3a" && scheme != "s3n" {
			t.Errorf("Split(%q): scheme %q", uri, scheme)
		}
	})
}

// TestCopyFile: a server-side copy holds the source's bytes, refuses an
// existing destination (fs.ErrExist) and a missing source (fs.ErrNotExist).
func TestCopyFile(t *testing.T) {
	_, f := open(t, "s3", "copy", 0)
	require.NoError(t, f.MkdirAll("a", 0o755))
	require.NoError(t, f.MkdirAll("b", 0o755))
	require.NoError(t, store.WriteFileAtomic(f, "a/x", []byte("state delta"), 0o644))
	require.NoError(t, f.CopyFile("a/x", "b/x"))
	got, err := store.ReadFile(f, "b/x")
	require.NoError(t, err)
	require.Equal(t, "state delta", string(got))
	require.ErrorIs(t, f.CopyFile("a/x", "b/x"), fs.ErrExist)
	require.ErrorIs(t, f.CopyFile("a/nope", "b/y"), fs.ErrNotExist)
	var _ store.Copier = f
}
