package rewrite

import (
	"errors"
	"io/fs"
	"path"
	"path/filepath"
	"strings"

	"github.com/sparkckpt/sparkckpt/decode/check"
	"github.com/sparkckpt/sparkckpt/store"
)

// Place is a file or directory on a store: the checkpoint directory a
// plan reads and rewrites, the backup directory Apply writes, a journal.
// The rewrite works the same on every store (the local disk, HDFS, S3):
// it reads, creates temporary files, renames and removes through the
// store.Store interface only, except on an object store without rename
// (store.VersionedReplacer: S3), where a file is replaced by one
// conditional write, made only if the file is still the version the
// plan read (If-Match on its ETag).
type Place struct {
	Store store.Store
	// Name is the store name (see package store).
	Name string
	// URI names the place for people and in journals and markers: an
	// absolute local path, or an hdfs:// URI. An Opener must resolve it
	// back to the same place.
	URI string
}

// Opener resolves a path or URI recorded in a journal or an in-progress
// marker (a Place's URI) to its Place. LocalPlace is the Opener for the
// local disk; the command resolves hdfs:// URIs too.
type Opener func(uri string) (Place, error)

// LocalPlace is the local path p (made absolute) on the local disk.
func LocalPlace(p string) (Place, error) {
	name, err := store.LocalName(p)
	if err != nil {
		return Place{}, err
	}
	l := store.NewLocal("/")
	return Place{Store: l, Name: name, URI: l.Path(name)}, nil
}

// Join returns the place of rel (slash-separated) under pl.
func (pl Place) Join(rel string) Place {
	return Place{Store: pl.Store, Name: store.Join(pl.Name, rel), URI: check.JoinPath(pl.URI, rel)}
}

// Dir returns the directory containing pl.
func (pl Place) Dir() Place {
	return Place{Store: pl.Store, Name: store.Dir(pl.Name), URI: dirURI(pl.URI)}
}

// Base is the last element of pl's name.
func (pl Place) Base() string { return path.Base(pl.Name) }

// dirURI is the parent of a local path or a URI's path.
func dirURI(uri string) string {
	if isLocalPath(uri) {
		return filepath.Dir(uri)
	}
	i := strings.Index(uri, "://")
	if i >= 0 && strings.HasSuffix(uri, "/") && strings.Count(uri[i+3:], "/") > 1 {
		uri = strings.TrimSuffix(uri, "/") // a directory named with a trailing slash
	}
	slash := strings.LastIndex(uri, "/")
	if i < 0 || slash <= i+2 {
		return uri
	}
	if first := strings.Index(uri[i+3:], "/"); first >= 0 && i+3+first == slash {
		return uri[:slash+1] // the root of the authority
	}
	return uri[:slash]
}

func isLocalPath(uri string) bool { return !strings.Contains(uri, "://") }

// readFile reads the whole file at pl.
func readFile(pl Place) ([]byte, error) { return store.ReadFile(pl.Store, pl.Name) }

// readVersion reads the whole file at pl and, on a store that replaces
// files conditionally (store.VersionedReplacer), the version read.
func readVersion(pl Place) ([]byte, string, error) {
	if vr, ok := pl.Store.(store.VersionedReplacer); ok {
		return vr.ReadFileVersion(pl.Name)
	}
	b, err := readFile(pl)
	return b, "", err
}

// stat describes pl.
func stat(pl Place) (fs.FileInfo, error) { return pl.Store.Stat(pl.Name) }

// exists reports whether pl exists; an error other than "does not exist" is returned.
func exists(pl Place) (bool, error) {
	_, err := stat(pl)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// sameStore reports whether a and b are on the same store (hard links
// work only within one).
func sameStore(a, b Place) bool {
	if a.Store == b.Store {
		return true
	}
	la, ok1 := a.Store.(*store.Local)
	lb, ok2 := b.Store.(*store.Local)
	return ok1 && ok2 && la.Root() == lb.Root()
}
