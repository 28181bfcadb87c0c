// Package store is sparkckpt's storage layer: the local disk and HDFS
// behind one small interface, so that commands read, check, rewrite and
// copy checkpoints where they live.
//
// # Names
//
// Names are io/fs names: slash-separated, unrooted, "." for the root of
// the store, without "." or ".." elements or a trailing slash
// (fs.ValidPath). A store is rooted somewhere: [Local] at any directory
// (sparkckpt roots it at "/"), an HDFS store at "/" of its namenode. An
// invalid name gives an *fs.PathError wrapping fs.ErrInvalid.
//
// # Errors
//
// Every method returns errors as *fs.PathError whose Path is the name as
// the user knows it (the operating system path, or the full hdfs:// URI)
// and whose Err wraps fs.ErrNotExist, fs.ErrExist, fs.ErrPermission or
// fs.ErrInvalid where one applies, so errors.Is works across backends.
//
// # Capabilities
//
// [Store] is the small required interface. Backends may also implement
// [RemoveAller] (recursive removal in one call), [Linker] (hard links) and
// [Checksummed] (the file system is a Hadoop ChecksumFileSystem with .crc
// sidecars); callers find them by type assertion, and the helpers
// ([RemoveAll], [UsesChecksumSidecars]) fall back when they are absent.
// Object stores (store/s3) have no rename: they implement
// [AtomicWriter] and [VersionedReplacer], which [WriteFileAtomic] and
// the rewrite use instead of a temporary file and Rename.
//
// # Writes
//
// Create makes a new file (never replacing one); the file is complete and
// durable only once its Writer's Close returns nil. Rename replaces a
// file atomically. [WriteFileAtomic] combines them the way every
// sparkckpt write works: a temporary file in the same directory (named
// with [TempPrefix], so leftovers can be found), Close, Rename, and
// removal of the temporary file on every error path.
//
// Package store imports only the standard library (and golang.org/x/sys
// for syncfs); backends other than the local disk live in sub-packages
// (store/hdfs, store/s3), and only the command
// picks one.
package store

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// Store is a file system sparkckpt reads checkpoints from and writes them to.
type Store interface {
	// Stat describes the named file or directory.
	Stat(name string) (fs.FileInfo, error)
	// ReadDir lists the named directory, sorted by name.
	ReadDir(name string) ([]fs.DirEntry, error)
	// Open opens the named regular file for reading.
	Open(name string) (File, error)
	// Create creates the named file for writing with permission bits
	// perm. It fails with fs.ErrExist if the name exists, and with
	// fs.ErrNotExist if its directory does not. The file is complete only
	// once the Writer's Close returns nil.
	Create(name string, perm fs.FileMode) (Writer, error)
	// MkdirAll creates a directory and any missing parents; an existing
	// directory is not an error.
	MkdirAll(name string, perm fs.FileMode) error
	// Rename moves oldname to newname atomically. An existing file at
	// newname is replaced; an existing directory is replaced only when
	// oldname is a directory and newname is empty (POSIX rename, HDFS
	// rename2 with OVERWRITE). The rename is durable when Rename returns.
	Rename(oldname, newname string) error
	// Remove removes a file or an empty directory.
	Remove(name string) error
}

// File is a file opened for reading. ReadAt may be called concurrently
// with itself (not with Read).
type File interface {
	fs.File
	io.ReaderAt
}

// Writer is a file being created. Close flushes, makes the bytes durable
// (fsync on the local disk; on HDFS, waits for every datanode
// acknowledgement and completes the file with the namenode) and closes.
type Writer interface {
	io.Writer
	Close() error
}

// RemoveAller is implemented by stores that remove a tree in one call.
type RemoveAller interface {
	// RemoveAll removes name and everything under it; a missing name is
	// not an error.
	RemoveAll(name string) error
}

// Linker is implemented by stores with hard links (the local disk).
type Linker interface {
	// Link makes newname a hard link to the file oldname.
	Link(oldname, newname string) error
}

// Copier is implemented by stores that copy a file within themselves
// without the bytes passing through the caller (S3: a server-side
// CopyObject). The copy is whole or absent, like a Create's Close.
type Copier interface {
	// CopyFile copies the file oldname to newname, which must not exist.
	CopyFile(oldname, newname string) error
}

// DirSyncer is implemented by stores whose directory entries become
// durable only when the directory is synced (the local disk: a hard link
// is durable after fsync of its directory). Create, Rename and MkdirAll
// are durable on return on every store; Link and Remove need SyncDir.
type DirSyncer interface {
	// SyncDir makes the entries of the named directory durable.
	SyncDir(name string) error
}

// AtomicWriter is implemented by stores that write a whole file
// atomically in one call and have no cheap rename (object stores: one
// PUT replaces an object whole). [WriteFileAtomic] uses it.
type AtomicWriter interface {
	// WriteFileAtomic writes data to name, replacing any file there; a
	// reader sees the old bytes or the new ones. The directory of name
	// must exist (fs.ErrNotExist otherwise).
	WriteFileAtomic(name string, data []byte, perm fs.FileMode) error
}

// VersionedReplacer is implemented by stores that can replace a file
// only if it is still the version a caller read (object stores: If-Match
// on the ETag), so that a change made in between by someone else is
// refused rather than overwritten.
type VersionedReplacer interface {
	// ReadFileVersion reads the whole file and returns the version of
	// the bytes read.
	ReadFileVersion(name string) ([]byte, string, error)
	// ReplaceIfVersion replaces the file name by data, atomically, only
	// if its current version is version; otherwise it writes nothing
	// and fails.
	ReplaceIfVersion(name string, data []byte, perm fs.FileMode, version string) error
}

// PrefixDirs is implemented by object stores, whose directories are key
// prefixes (S3): renaming a directory there copies every file under it
// one by one, so it is not atomic, and code that relies on an atomic
// directory rename (a copy's final step) must do otherwise.
type PrefixDirs interface {
	Store
	// DirRenameCopies reports whether renaming a directory copies its files.
	DirRenameCopies() bool
}

// RenamesDirsAtomically reports whether s renames a directory in one
// atomic step (the local disk, HDFS), not file by file (S3).
func RenamesDirsAtomically(s Store) bool {
	p, ok := s.(PrefixDirs)
	return !ok || !p.DirRenameCopies()
}

// BatchSyncer is implemented by stores that make many new files durable
// at once for less than one sync each (the local disk: syncfs(2) on
// Linux, one journal commit for a whole copied tree instead of one fsync
// per file). A caller that writes a tree nobody reads until it is renamed
// into place (cp's temporary directory) creates its files with
// CreateUnsynced and calls SyncTree before the rename: the tree is then
// as durable as if every Close had synced.
type BatchSyncer interface {
	// CreateUnsynced is Create, except that the Writer's Close does not
	// make the bytes durable: only SyncTree of a directory above does.
	CreateUnsynced(name string, perm fs.FileMode) (Writer, error)
	// SyncTree makes every file and directory under name durable, with
	// their data, and reports any write-back error since they were written.
	SyncTree(name string) error
}

// Checksummed is implemented by stores that are a Hadoop
// ChecksumFileSystem: Hadoop's LocalFileSystem, through which Spark writes
// checkpoint files (and RDD checkpoints) with a .NAME.crc sidecar each
// (see decode/crcfile). HDFS checksums blocks itself and has no sidecars.
// The store never writes sidecars on its own: code that writes a file
// Spark checksums keeps its sidecar in step.
type Checksummed interface {
	Store
	// ChecksumSidecars reports whether .crc sidecars are in use.
	ChecksumSidecars() bool
}

// UsesChecksumSidecars reports whether s keeps Hadoop .crc sidecars.
func UsesChecksumSidecars(s Store) bool {
	c, ok := s.(Checksummed)
	return ok && c.ChecksumSidecars()
}

// TempPrefix starts the names of temporary files and directories sparkckpt
// creates beside their final name; anything so named is a leftover of an
// interrupted run, safe to delete. (It is rewrite.TempPattern's prefix.)
const TempPrefix = ".sparkckpt-tmp-"

// IsTemp reports whether the base name base is a sparkckpt temporary.
func IsTemp(base string) bool { return strings.HasPrefix(base, TempPrefix) }

// Join joins name elements into a store name ("." for none).
func Join(elem ...string) string {
	p := path.Join(elem...)
	if p == "" {
		return "."
	}
	return p
}

// Dir returns the directory of a store name ("." for a top-level name).
func Dir(name string) string { return path.Dir(name) }

// ReadFile reads the whole named file.
func ReadFile(s Store, name string) ([]byte, error) {
	f, err := s.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var size int64
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	b := make([]byte, 0, max(size, 0)+1)
	for {
		n, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// CreateTemp creates a new file in dir whose name is prefix, a random
// string and then suffix, and returns it with its name. The caller
// renames it into place or removes it.
func CreateTemp(s Store, dir, prefix, suffix string, perm fs.FileMode) (Writer, string, error) {
	var err error
	for range 100 {
		name := Join(dir, prefix+randomString()+suffix)
		var w Writer
		w, err = s.Create(name, perm)
		if err == nil {
			return w, name, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, "", err
		}
	}
	return nil, "", err
}

// MkdirTemp creates a new directory in dir named prefix + a random string
// and returns its name.
func MkdirTemp(s Store, dir, prefix string, perm fs.FileMode) (string, error) {
	for range 100 {
		name := Join(dir, prefix+randomString())
		if _, err := s.Stat(name); err == nil {
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		if err := s.MkdirAll(name, perm); err != nil {
			return "", err
		}
		return name, nil
	}
	return "", &fs.PathError{Op: "mkdirtemp", Path: Join(dir, prefix+"*"), Err: fs.ErrExist}
}

func randomString() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// WriteFileAtomic writes data to name: a temporary file in the same
// directory, Close (durable), then Rename over name. A failure leaves name
// as it was and removes the temporary file. A store that is an
// [AtomicWriter] does it in one call instead.
func WriteFileAtomic(s Store, name string, data []byte, perm fs.FileMode) error {
	if a, ok := s.(AtomicWriter); ok {
		return a.WriteFileAtomic(name, data, perm)
	}
	w, tmp, err := CreateTemp(s, Dir(name), TempPrefix+path.Base(name)+"-", "", perm)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		w.Close()
		s.Remove(tmp)
		return err
	}
	if err := w.Close(); err != nil {
		s.Remove(tmp)
		return err
	}
	if err := s.Rename(tmp, name); err != nil {
		s.Remove(tmp)
		return err
	}
	return nil
}

// RemoveAll removes name and everything under it, through RemoveAller if
// s has it, else by walking. A missing name is not an error.
func RemoveAll(s Store, name string) error {
	if ra, ok := s.(RemoveAller); ok {
		return ra.RemoveAll(name)
	}
	st, err := s.Stat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.IsDir() {
		ents, err := s.ReadDir(name)
		if err != nil {
			return err
		}
		for _, e := range ents {
			if err := RemoveAll(s, Join(name, e.Name())); err != nil {
				return err
			}
		}
	}
	if err := s.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// checkName validates a store name for op.
func checkName(op, name string) error {
	if !fs.ValidPath(name) {
		return &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	return nil
}

// SortEntries sorts directory entries by name (for backends).
func SortEntries(ents []fs.DirEntry) {
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
}
