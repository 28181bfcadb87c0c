package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/rewrite"
	"github.com/sparkckpt/sparkckpt/store"
	"github.com/sparkckpt/sparkckpt/store/hdfs"
	"github.com/sparkckpt/sparkckpt/store/s3"
)

// location is a command-line path resolved to a store: a local path or
// file: URI (the local disk, rooted at "/"), an hdfs:// URI, or an
// s3://, s3a:// or s3n:// URI (the bucket, named with the scheme given).
type location struct {
	store   store.Store
	name    string // the store name
	display string // for messages: the absolute local path, or the hdfs:// or s3 URI
	uri     string // as Spark names it: file:/abs/path, hdfs://authority/path, s3a://bucket/key
}

// displayName shows another name of the same store.
func (l *location) displayName(name string) string {
	switch s := l.store.(type) {
	case *hdfs.FS:
		return s.Path(name)
	case *store.Local:
		return s.Path(name)
	case *s3.FS:
		return s3Path(s, name)
	}
	return name
}

// stores opens the stores that command-line paths live in, one
// connection per HDFS file system. (Every command that takes a path can
// use it; see the wiring notes in store's package documentation.)
type stores struct {
	ctx     context.Context
	getenv  func(string) string
	timeout time.Duration
	cfg     *hdfs.Config
	hdfs    map[string]*hdfs.FS
	local   *store.Local
	lim     decode.Limits // what one file may decompress to (--max-decompressed)
	s3      *s3.Client
	buckets map[string]*s3.FS // by scheme://bucket
}

func newStores(ctx context.Context, getenv func(string) string, timeout time.Duration) *stores {
	return &stores{ctx: ctx, getenv: getenv, timeout: timeout, hdfs: map[string]*hdfs.FS{}, local: store.NewLocal("/"), buckets: map[string]*s3.FS{}}
}

func (s *stores) open(arg string) (*location, error) {
	if hdfs.IsURI(arg) {
		return s.openHDFS(arg)
	}
	if s3.IsURI(arg) {
		return s.openS3(arg)
	}
	p := arg
	if rest, ok := strings.CutPrefix(arg, "file:"); ok {
		p = "/" + strings.TrimLeft(rest, "/")
	} else if i := strings.Index(arg, "://"); i > 0 && !strings.ContainsAny(arg[:i], "/.") {
		return nil, usageError{fmt.Errorf("%s: %s:// is not supported: sparkckpt reads local paths, file:, hdfs://, s3://, s3a:// and s3n:// URIs (copy from %s with its own tools first)", arg, arg[:i], arg[:i])}
	}
	name, err := store.LocalName(p)
	if err != nil {
		return nil, err
	}
	abs := s.local.Path(name)
	return &location{store: s.local, name: name, display: abs, uri: "file:" + filepath.ToSlash(abs)}, nil
}

func (s *stores) openHDFS(arg string) (*location, error) {
	authority, name, err := hdfs.Split(arg)
	if err != nil {
		return nil, usageError{err}
	}
	if s.cfg == nil {
		if s.cfg, err = hdfs.LoadConfig(s.getenv); err != nil {
			return nil, err
		}
		if s.timeout > 0 {
			s.cfg.ConnectTimeout = s.timeout
		}
	}
	f := s.hdfs[authority]
	if f == nil {
		if f, err = hdfs.Connect(s.ctx, s.cfg, authority); err != nil {
			return nil, err
		}
		s.hdfs[authority] = f
	}
	return &location{store: f, name: name, display: f.Path(name), uri: f.Path(name)}, nil
}

// openS3 opens an S3 URI: one client for the command (the AWS
// configuration, credentials found once), one HeadBucket per bucket.
func (s *stores) openS3(arg string) (*location, error) {
	scheme, bucket, name, err := s3.Split(arg)
	if err != nil {
		return nil, usageError{err}
	}
	if s.s3 == nil {
		if s.s3, err = s3.NewClient(s.ctx, s3.Config{Getenv: s.getenv, Timeout: s.timeout}); err != nil {
			return nil, err
		}
	}
	f := s.buckets[scheme+"://"+bucket]
	if f == nil {
		if f, err = s.s3.Bucket(scheme, bucket); err != nil {
			return nil, err
		}
		s.buckets[scheme+"://"+bucket] = f
	}
	return &location{store: f, name: name, display: s3Path(f, name), uri: s3Path(f, name)}, nil
}

// s3Path names a store name of a bucket: the bucket itself without a
// trailing slash, as a directory is named everywhere else.
func s3Path(f *s3.FS, name string) string {
	if name == "." {
		return f.Scheme() + "://" + f.Bucket()
	}
	return f.Path(name)
}

// place opens arg as a rewrite.Place; it is also the rewrite's Opener
// for the directories journals and markers name.
func (s *stores) place(arg string) (rewrite.Place, error) {
	loc, err := s.open(arg)
	if err != nil {
		return rewrite.Place{}, err
	}
	return rewrite.Place{Store: loc.store, Name: loc.name, URI: loc.display}, nil
}

func (s *stores) Close() {
	for _, f := range s.hdfs {
		f.Close()
	}
}
