package store

import (
	"errors"
	"io"
	"io/fs"
)

// FS returns the directory dir of s as a read-only fs.FS, so that code
// written against io/fs (decode/check, decode/wal, the DStream reader)
// reads any store: FS(s, dir).Open("a/b") opens Join(dir, "a/b"). It
// implements fs.StatFS, fs.ReadDirFS, fs.ReadFileFS and fs.SubFS; its
// files implement io.ReaderAt (and io.Seeker when the store's files do);
// directories open as fs.ReadDirFile. Errors are the store's, naming
// paths as the store does. When s is a [SymlinkReader] the view is also
// an fs.ReadLinkFS (wrap it with [Confine] to follow links by sparkckpt's
// rule).
func FS(s Store, dir string) fs.FS {
	v := &view{s: s, dir: dir}
	if sr, ok := s.(SymlinkReader); ok {
		return &linkView{view: v, sr: sr}
	}
	return v
}

// linkView is the view of a store with symbolic links.
type linkView struct {
	*view
	sr SymlinkReader
}

var _ fs.ReadLinkFS = (*linkView)(nil)

func (v *linkView) ReadLink(name string) (string, error) {
	n, err := v.name("readlink", name)
	if err != nil {
		return "", err
	}
	return v.sr.Readlink(n)
}

func (v *linkView) Lstat(name string) (fs.FileInfo, error) {
	n, err := v.name("lstat", name)
	if err != nil {
		return nil, err
	}
	return v.sr.Lstat(n)
}

func (v *linkView) Sub(dir string) (fs.FS, error) {
	n, err := v.name("sub", dir)
	if err != nil {
		return nil, err
	}
	return &linkView{view: &view{s: v.s, dir: n}, sr: v.sr}, nil
}

type view struct {
	s   Store
	dir string
}

var (
	_ fs.StatFS     = (*view)(nil)
	_ fs.ReadDirFS  = (*view)(nil)
	_ fs.ReadFileFS = (*view)(nil)
	_ fs.SubFS      = (*view)(nil)
)

func (v *view) name(op, name string) (string, error) {
	if !fs.ValidPath(name) {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	return Join(v.dir, name), nil
}

func (v *view) Open(name string) (fs.File, error) {
	n, err := v.name("open", name)
	if err != nil {
		return nil, err
	}
	f, err := v.s.Open(n)
	if err == nil {
		return f, nil
	}
	if !errors.Is(err, fs.ErrInvalid) {
		return nil, err
	}
	st, serr := v.s.Stat(n)
	if serr != nil || !st.IsDir() {
		return nil, err
	}
	return &dirFile{v: v, name: n, info: st}, nil
}

func (v *view) Stat(name string) (fs.FileInfo, error) {
	n, err := v.name("stat", name)
	if err != nil {
		return nil, err
	}
	return v.s.Stat(n)
}

func (v *view) ReadDir(name string) ([]fs.DirEntry, error) {
	n, err := v.name("readdir", name)
	if err != nil {
		return nil, err
	}
	return v.s.ReadDir(n)
}

func (v *view) ReadFile(name string) ([]byte, error) {
	n, err := v.name("readfile", name)
	if err != nil {
		return nil, err
	}
	return ReadFile(v.s, n)
}

func (v *view) Sub(dir string) (fs.FS, error) {
	n, err := v.name("sub", dir)
	if err != nil {
		return nil, err
	}
	return &view{s: v.s, dir: n}, nil
}

// dirFile is a directory opened through the view.
type dirFile struct {
	v      *view
	name   string
	info   fs.FileInfo
	ents   []fs.DirEntry
	listed bool
	off    int
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }

func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: errIsDir}
}

func (d *dirFile) Close() error { return nil }

func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	if !d.listed {
		ents, err := d.v.s.ReadDir(d.name)
		if err != nil {
			return nil, err
		}
		d.ents, d.listed = ents, true
	}
	rest := d.ents[d.off:]
	if n <= 0 {
		d.off = len(d.ents)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(rest))
	d.off += n
	return rest[:n], nil
}
