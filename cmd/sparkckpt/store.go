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
)

// location is a command-line path resolved to a store: a local path or
// file: URI (the local disk, rooted at "/"), or an hdfs:// URI.
type location struct {
	store   store.Store
	name    string // the store name
	display string // for messages: the absolute local path, or the hdfs:// URI
	uri     string // as Spark names it: file:/abs/path or hdfs://authority/path
}

// displayName shows another name of the same store.
func (l *location) displayName(name string) string {
	switch s := l.store.(type) {
	case *hdfs.FS:
		return s.Path(name)
	case *store.Local:
		return s.Path(name)
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
}

func newStores(ctx context.Context, getenv func(string) string, timeout time.Duration) *stores {
	return &stores{ctx: ctx, getenv: getenv, timeout: timeout, hdfs: map[string]*hdfs.FS{}, local: store.NewLocal("/")}
}

func (s *stores) open(arg string) (*location, error) {
	if hdfs.IsURI(arg) {
		return s.openHDFS(arg)
	}
	p := arg
	if rest, ok := strings.CutPrefix(arg, "file:"); ok {
		p = "/" + strings.TrimLeft(rest, "/")
	} else if i := strings.Index(arg, "://"); i > 0 && !strings.ContainsAny(arg[:i], "/.") {
		return nil, usageError{fmt.Errorf("%s: %s:// is not supported: sparkckpt reads local paths, file: and hdfs:// URIs (copy from %s with its own tools first)", arg, arg[:i], arg[:i])}
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
