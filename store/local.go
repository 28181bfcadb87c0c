package store

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// Local is the local disk, rooted at a directory. It is a Hadoop
// ChecksumFileSystem as far as Spark is concerned ([Checksummed]): Spark
// writes local checkpoints through Hadoop's LocalFileSystem, which keeps
// .crc sidecars.
type Local struct {
	root string
}

var (
	_ Store       = (*Local)(nil)
	_ RemoveAller = (*Local)(nil)
	_ Linker      = (*Local)(nil)
	_ Checksummed = (*Local)(nil)
	_ DirSyncer   = (*Local)(nil)
	_ BatchSyncer = (*Local)(nil)
)

// NewLocal returns the local disk rooted at the directory root (made
// absolute). sparkckpt uses NewLocal("/") with names from [LocalName].
func NewLocal(root string) *Local {
	if abs, err := filepath.Abs(root); err == nil {
		root = abs
	}
	return &Local{root: root}
}

// LocalName returns the store name of the operating-system path p in a
// Local rooted at "/": the absolute, cleaned path without its leading
// slash ("." for "/").
func LocalName(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(string(filepath.Separator), abs)
	if err != nil {
		return "", err
	}
	return filepath.ToSlash(rel), nil
}

// Root returns the directory the store is rooted at.
func (l *Local) Root() string { return l.root }

// Path returns the operating-system path of a store name.
func (l *Local) Path(name string) string {
	return filepath.Join(l.root, filepath.FromSlash(name))
}

// ChecksumSidecars reports true: see [Checksummed].
func (l *Local) ChecksumSidecars() bool { return true }

func (l *Local) path(op, name string) (string, error) {
	if err := checkName(op, name); err != nil {
		return "", err
	}
	return l.Path(name), nil
}

// Stat implements [Store].
func (l *Local) Stat(name string) (fs.FileInfo, error) {
	p, err := l.path("stat", name)
	if err != nil {
		return nil, err
	}
	return os.Stat(p)
}

// ReadDir implements [Store].
func (l *Local) ReadDir(name string) ([]fs.DirEntry, error) {
	p, err := l.path("readdir", name)
	if err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(p)
	SortEntries(ents)
	return ents, err
}

// Open implements [Store]. Opening a directory fails with fs.ErrInvalid.
func (l *Local) Open(name string) (File, error) {
	p, err := l.path("open", name)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: p, Err: errIsDir}
	}
	return f, nil
}

// errIsDir wraps fs.ErrInvalid: a directory opened as a file.
var errIsDir = isDirError{}

type isDirError struct{}

func (isDirError) Error() string        { return "is a directory" }
func (isDirError) Is(target error) bool { return target == fs.ErrInvalid }

// Create implements [Store].
func (l *Local) Create(name string, perm fs.FileMode) (Writer, error) {
	return l.create(name, perm, true)
}

// CreateUnsynced implements [BatchSyncer]: Create whose Close does not fsync.
func (l *Local) CreateUnsynced(name string, perm fs.FileMode) (Writer, error) {
	return l.create(name, perm, false)
}

// SyncTree implements [BatchSyncer]: syncfs(2) of the file system holding
// name on Linux (Linux 5.8 and later report write-back errors of files
// written since they were opened); elsewhere an fsync of every file and
// directory under name.
func (l *Local) SyncTree(name string) error {
	p, err := l.path("sync", name)
	if err != nil {
		return err
	}
	return syncTree(p)
}

func (l *Local) create(name string, perm fs.FileMode, sync bool) (Writer, error) {
	p, err := l.path("create", name)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return nil, err
	}
	if perm != 0 {
		// The umask may have cleared bits the caller asked for (a copy keeps modes).
		if err := f.Chmod(perm); err != nil {
			f.Close()
			os.Remove(p)
			return nil, err
		}
	}
	return &localWriter{f: f, sync: sync}, nil
}

type localWriter struct {
	f      *os.File
	sync   bool // fsync on Close
	closed bool
}

func (w *localWriter) Write(b []byte) (int, error) { return w.f.Write(b) }

func (w *localWriter) Close() error {
	if w.closed {
		return &fs.PathError{Op: "close", Path: w.f.Name(), Err: fs.ErrClosed}
	}
	w.closed = true
	if !w.sync {
		return w.f.Close()
	}
	if err := w.f.Sync(); err != nil {
		w.f.Close()
		return err
	}
	return w.f.Close()
}

// MkdirAll implements [Store]; new directories are synced into their parents.
func (l *Local) MkdirAll(name string, perm fs.FileMode) error {
	p, err := l.path("mkdir", name)
	if err != nil {
		return err
	}
	var missing []string
	for q := p; ; q = filepath.Dir(q) {
		if _, err := os.Stat(q); err == nil || q == filepath.Dir(q) {
			break
		}
		missing = append(missing, q)
	}
	if err := os.MkdirAll(p, perm); err != nil {
		return err
	}
	for _, q := range missing {
		syncDir(filepath.Dir(q))
	}
	return nil
}

// Rename implements [Store]: rename(2), then fsync of both directories.
func (l *Local) Rename(oldname, newname string) error {
	op, err := l.path("rename", oldname)
	if err != nil {
		return err
	}
	np, err := l.path("rename", newname)
	if err != nil {
		return err
	}
	if err := os.Rename(op, np); err != nil {
		var le *os.LinkError
		if errors.As(err, &le) {
			return &fs.PathError{Op: "rename", Path: op, Err: le.Err}
		}
		return err
	}
	if err := syncDir(filepath.Dir(np)); err != nil {
		return err
	}
	if filepath.Dir(op) != filepath.Dir(np) {
		return syncDir(filepath.Dir(op))
	}
	return nil
}

// Remove implements [Store].
func (l *Local) Remove(name string) error {
	p, err := l.path("remove", name)
	if err != nil {
		return err
	}
	return os.Remove(p)
}

// RemoveAll implements [RemoveAller].
func (l *Local) RemoveAll(name string) error {
	p, err := l.path("removeall", name)
	if err != nil {
		return err
	}
	if name == "." {
		return &fs.PathError{Op: "removeall", Path: p, Err: fs.ErrInvalid}
	}
	return os.RemoveAll(p)
}

// Link implements [Linker].
func (l *Local) Link(oldname, newname string) error {
	op, err := l.path("link", oldname)
	if err != nil {
		return err
	}
	np, err := l.path("link", newname)
	if err != nil {
		return err
	}
	if err := os.Link(op, np); err != nil {
		var le *os.LinkError
		if errors.As(err, &le) {
			return &fs.PathError{Op: "link", Path: np, Err: le.Err}
		}
		return err
	}
	return nil
}

// SyncDir implements [DirSyncer]: fsync of the directory.
func (l *Local) SyncDir(name string) error {
	p, err := l.path("sync", name)
	if err != nil {
		return err
	}
	return syncDir(p)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
