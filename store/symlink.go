package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Symbolic links: one rule for every command.
//
// A checkpoint directory is the root the user gives (itself reached
// through symbolic links or not). Below it, sparkckpt
//
//   - follows, for reading, a symbolic link whose target (after every link
//     on the way) lies inside the root and is a file or a directory that is
//     not the link's own ancestor ([LinkInside]);
//   - never follows one that leads outside the root ([LinkOutside]), to a
//     name that does not exist ([LinkBroken]), round in a circle or back
//     to its own ancestor ([LinkLoop]): such a link reads as a file that
//     cannot be opened, with a [*LinkError] saying why;
//   - reports every link it meets ([Confined.Links]);
//   - writes only to names without a symbolic link on their way below the
//     root ([Confined.Real]), so nothing is ever written outside the root
//     and a link is never replaced by a file.
//
// Only the local disk has symbolic links ([SymlinkReader]). HDFS has them
// in its protocol but disabled (Hadoop's FileSystem.enableSymlinks is
// off, and Spark never makes one): the HDFS store does not implement
// SymlinkReader, and every HDFS entry is what its listing says.

// SymlinkReader is implemented by stores with symbolic links (the local
// disk). Store's Stat, Open and ReadDir follow links as the operating
// system does; these do not.
type SymlinkReader interface {
	// Lstat describes name; a symbolic link is described, not followed.
	Lstat(name string) (fs.FileInfo, error)
	// Readlink returns the target of the symbolic link name, as stored.
	Readlink(name string) (string, error)
}

var _ SymlinkReader = (*Local)(nil)

// Lstat implements [SymlinkReader].
func (l *Local) Lstat(name string) (fs.FileInfo, error) {
	p, err := l.path("lstat", name)
	if err != nil {
		return nil, err
	}
	return os.Lstat(p)
}

// Readlink implements [SymlinkReader].
func (l *Local) Readlink(name string) (string, error) {
	p, err := l.path("readlink", name)
	if err != nil {
		return "", err
	}
	return os.Readlink(p)
}

// LinkKind says where a symbolic link leads.
type LinkKind string

// The kinds of symbolic links (see the rule above).
const (
	LinkInside  LinkKind = "inside"  // to a file or directory inside the root: followed for reading
	LinkOutside LinkKind = "outside" // outside the root: not followed
	LinkBroken  LinkKind = "broken"  // to nothing: not followed
	LinkLoop    LinkKind = "loop"    // round in a circle, or to its own ancestor: not followed
)

// Link is a symbolic link met below a root.
type Link struct {
	// Name is the link, slash-separated and relative to the root.
	Name string `json:"name"`
	// Target is the link's target as stored.
	Target string `json:"target"`
	// Kind says where it leads.
	Kind LinkKind `json:"kind"`
	// Resolved is, for an inside link, the name it leads to relative to
	// the root, with no symbolic link on the way.
	Resolved string `json:"resolved,omitempty"`
	// Dir is true when an inside link leads to a directory.
	Dir bool `json:"dir,omitempty"`
	// Dest is, for an outside link, where it leaves the root (after the
	// links on the way): an absolute path, or a path relative to the root
	// starting with "..".
	Dest string `json:"dest,omitempty"`
}

// String describes the link in one line for people: "a -> b (inside
// the directory)". Control characters in names are escaped (\x1b), so
// that a crafted link cannot drive the terminal.
func (l Link) String() string {
	l.Name, l.Target, l.Resolved, l.Dest = printable(l.Name), printable(l.Target), printable(l.Resolved), printable(l.Dest)
	s := l.Name + " -> " + l.Target
	switch l.Kind {
	case LinkInside:
		if l.Resolved != l.Target {
			return s + " (inside the directory: " + l.Resolved + ")"
		}
		return s + " (inside the directory)"
	case LinkOutside:
		switch {
		case l.Dest == "" || l.Dest == l.Target:
			return s + " (outside the directory)"
		case path.IsAbs(l.Dest) || filepath.IsAbs(l.Dest):
			return s + " (outside the directory: " + l.Dest + ")"
		}
		return s + " (outside the directory: " + l.Dest + " from it)"
	case LinkBroken:
		return s + " (broken: its target does not exist)"
	case LinkLoop:
		return s + " (a loop)"
	}
	return s
}

// printable escapes control characters and invalid UTF-8 as \xNN.
func printable(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == utf8.RuneError && n == 1 {
			for j := 0; j < n; j++ {
				fmt.Fprintf(&b, "\\x%02x", s[i+j])
			}
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// LinkError is the error of a name reached through a symbolic link that
// sparkckpt does not follow. It matches fs.ErrNotExist for a broken link
// and ErrSymlink for every kind.
type LinkError struct {
	Link Link
}

// ErrSymlink is matched (errors.Is) by every [*LinkError].
var ErrSymlink = errors.New("symbolic link not followed")

func (e *LinkError) Error() string {
	l := e.Link
	l.Name, l.Target, l.Dest = printable(l.Name), printable(l.Target), printable(l.Dest)
	e = &LinkError{Link: l}
	switch e.Link.Kind {
	case LinkOutside:
		dest := e.Link.Target
		if e.Link.Dest != "" {
			dest = e.Link.Dest
		}
		return fmt.Sprintf("%s is a symbolic link to %s, outside the directory given: not followed", e.Link.Name, dest)
	case LinkBroken:
		return fmt.Sprintf("%s is a broken symbolic link (to %s, which does not exist)", e.Link.Name, e.Link.Target)
	case LinkLoop:
		return fmt.Sprintf("%s is a symbolic link loop (to %s): not followed", e.Link.Name, e.Link.Target)
	}
	return fmt.Sprintf("%s is a symbolic link to %s: not followed", e.Link.Name, e.Link.Target)
}

// Is matches ErrSymlink, and fs.ErrNotExist for a broken link.
func (e *LinkError) Is(target error) bool {
	return target == ErrSymlink || target == fs.ErrNotExist && e.Link.Kind == LinkBroken
}

// maxLinkHops bounds the links followed for one name (Linux's MAXSYMLINKS).
const maxLinkHops = 40

// Confined is a read-only fs.FS over a root that follows symbolic links
// by the rule above. It implements fs.StatFS, fs.ReadDirFS, fs.ReadFileFS
// and fs.SubFS. Its directory listings show an inside link as what it
// leads to (named as the link) and every other link as a file whose Info
// and Open fail with a [*LinkError]; every link's entry implements
// interface{ Link() Link }.
type Confined struct {
	fsys  fs.FS
	rl    fs.ReadLinkFS // nil when fsys has no symbolic links
	roots []string      // absolute OS paths of the root, for absolute targets
	base  string        // the Sub directory, relative to the root
	// outside: links leading outside the root are followed for reading
	// (FollowingOutside).
	outside bool
	// dirs caches the names (relative to the root) found to be
	// directories that are not links, so that resolving a name costs one
	// Lstat per new directory, not one per element. A view is read-only:
	// writers check their way with a fresh view (rewrite's confined).
	dirs *sync.Map
}

var (
	_ fs.StatFS     = (*Confined)(nil)
	_ fs.ReadDirFS  = (*Confined)(nil)
	_ fs.ReadFileFS = (*Confined)(nil)
	_ fs.SubFS      = (*Confined)(nil)
)

// Confine returns fsys confined to its root. Absolute link targets are
// inside the root when they lie under one of roots, the operating-system
// paths that name it (see [OSRoots]); with no roots every absolute
// target is outside. A file system without symbolic links (one that is
// not an fs.ReadLinkFS, such as an HDFS store's [FS]) is returned as is
// behind the same methods.
func Confine(fsys fs.FS, roots ...string) *Confined {
	c := &Confined{fsys: fsys, roots: roots, base: ".", dirs: &sync.Map{}}
	if rl, ok := fsys.(fs.ReadLinkFS); ok {
		c.rl = rl
	}
	return c
}

// ConfinedPlace is Confine for the directory dir of s: store.FS(s, dir)
// with the operating-system paths of dir as roots (for the local disk).
func ConfinedPlace(s Store, dir string) *Confined {
	var roots []string
	if l, ok := s.(*Local); ok {
		roots = OSRoots(l.Path(dir))
	}
	return Confine(FS(s, dir), roots...)
}

// OSRoots returns the operating-system paths naming the directory p: p
// made absolute and cleaned, and its real path with every symbolic link
// resolved (when it differs).
func OSRoots(p string) []string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return nil
	}
	roots := []string{abs}
	if real, err := filepath.EvalSymlinks(abs); err == nil && real != abs {
		roots = append(roots, real)
	}
	return roots
}

// FollowingOutside returns a view of the same root that also follows,
// for reading, links that lead outside it (what 'rewrite
// --follow-symlinks' and 'cp --follow-symlinks' read). Real still
// refuses them: nothing is ever written outside the root.
func (c *Confined) FollowingOutside() *Confined {
	o := *c
	o.outside = true
	return &o
}

// followsOutside reports whether err (from Real) is an outside link that
// the view reads anyway.
func (c *Confined) followsOutside(err error) bool {
	var le *LinkError
	return c.outside && errors.As(err, &le) && le.Link.Kind == LinkOutside
}

func splitName(name string) []string {
	if name == "." || name == "" {
		return nil
	}
	return strings.Split(name, "/")
}

// full is name of the Sub view as a name relative to the root.
func (c *Confined) full(name string) string { return Join(c.base, name) }

// Real resolves name (relative to the root, or to the Sub directory)
// through every symbolic link on its way and returns the name it denotes
// relative to the root, with no link left on the way: name itself when no
// link is met. A link that is not followed gives a [*LinkError]. A name
// that does not exist (without a link being at fault) comes back as it
// is, for the caller's open to report.
func (c *Confined) Real(name string) (string, error) {
	if !fs.ValidPath(name) {
		return "", &fs.PathError{Op: "resolve", Path: name, Err: fs.ErrInvalid}
	}
	return c.resolve(c.full(name))
}

// resolve implements Real for a name relative to the root.
func (c *Confined) resolve(name string) (string, error) {
	if c.rl == nil {
		return name, nil
	}
	todo := splitName(name)
	cur := "."
	hops := 0
	fromLink := 0 // how many of todo's first elements come from a link's target
	var first *Link
	fail := func(k LinkKind, dest string) error {
		l := *first
		l.Kind, l.Dest = k, dest
		return &LinkError{Link: l}
	}
	for len(todo) > 0 {
		elem := todo[0]
		todo = todo[1:]
		viaLink := fromLink > 0
		if fromLink > 0 {
			fromLink--
		}
		next := Join(cur, elem)
		if _, ok := c.dirs.Load(next); ok {
			cur = next
			continue
		}
		fi, err := c.rl.Lstat(next)
		if err != nil {
			if viaLink && errors.Is(err, fs.ErrNotExist) {
				return "", fail(LinkBroken, "")
			}
			return Join(append([]string{next}, todo...)...), nil
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			if fi.IsDir() {
				c.dirs.Store(next, true)
			}
			cur = next
			continue
		}
		target, err := c.rl.ReadLink(next)
		if err != nil {
			return "", err
		}
		if first == nil {
			first = &Link{Name: next, Target: target}
		}
		if hops++; hops > maxLinkHops {
			return "", fail(LinkLoop, "")
		}
		var dest string
		if path.IsAbs(target) || filepath.IsAbs(target) {
			rel, ok := c.underRoot(target)
			if !ok {
				return "", fail(LinkOutside, filepath.Clean(target))
			}
			dest = rel
		} else {
			dest = path.Join(cur, filepath.ToSlash(target))
			if dest == ".." || strings.HasPrefix(dest, "../") {
				return "", fail(LinkOutside, dest)
			}
		}
		elems := splitName(dest)
		todo = append(elems, todo...)
		fromLink = len(elems) + max(fromLink, 0)
		cur = "."
	}
	return cur, nil
}

// underRoot returns the name of the absolute OS path p relative to the
// root, if p lies under one of its roots.
func (c *Confined) underRoot(p string) (string, bool) {
	p = filepath.Clean(p)
	for _, r := range c.roots {
		rel, err := filepath.Rel(r, p)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			continue
		}
		return filepath.ToSlash(rel), true
	}
	return "", false
}

// within reports whether name a is b or below it (names relative to the root).
func within(a, b string) bool {
	return a == b || b == "." || strings.HasPrefix(a, b+"/")
}

// classify describes the symbolic link name (relative to the root).
func (c *Confined) classify(name string) Link {
	target, _ := c.rl.ReadLink(name)
	l := Link{Name: name, Target: target}
	real, err := c.resolve(name)
	var le *LinkError
	switch {
	case errors.As(err, &le):
		l.Kind, l.Dest = le.Link.Kind, le.Link.Dest
		return l
	case err != nil:
		l.Kind = LinkBroken
		return l
	}
	st, err := fs.Stat(c.fsys, real)
	if err != nil {
		l.Kind = LinkBroken
		return l
	}
	l.Kind, l.Resolved, l.Dir = LinkInside, real, st.IsDir()
	if l.Dir {
		// A directory link to its own ancestor would make every walk endless.
		if parent, err := c.resolve(Dir(name)); err == nil && within(parent, real) {
			l.Kind, l.Resolved, l.Dir = LinkLoop, "", false
		}
	}
	return l
}

// Links walks the whole tree below the root (the Sub directory) without
// following links and returns every symbolic link met, sorted by name.
func (c *Confined) Links() ([]Link, error) {
	links := []Link{}
	if c.rl == nil {
		return links, nil
	}
	start, err := c.resolve(c.base)
	if err != nil {
		return nil, err
	}
	var walk func(dir string) error
	walk = func(dir string) error {
		ents, err := fs.ReadDir(c.fsys, dir)
		if err != nil {
			return err
		}
		for _, e := range ents {
			n := Join(dir, e.Name())
			switch {
			case e.Type()&fs.ModeSymlink != 0:
				links = append(links, c.classify(n))
			case e.IsDir():
				if err := walk(n); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(start); err != nil {
		return nil, err
	}
	sort.Slice(links, func(i, j int) bool { return links[i].Name < links[j].Name })
	return links, nil
}

// Open implements fs.FS.
func (c *Confined) Open(name string) (fs.File, error) {
	real, err := c.Real(name)
	if c.followsOutside(err) {
		return c.fsys.Open(c.full(name))
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return c.fsys.Open(real)
}

// Stat implements fs.StatFS.
func (c *Confined) Stat(name string) (fs.FileInfo, error) {
	real, err := c.Real(name)
	if c.followsOutside(err) {
		return fs.Stat(c.fsys, c.full(name))
	}
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	return fs.Stat(c.fsys, real)
}

// ReadFile implements fs.ReadFileFS.
func (c *Confined) ReadFile(name string) ([]byte, error) {
	real, err := c.Real(name)
	if c.followsOutside(err) {
		return fs.ReadFile(c.fsys, c.full(name))
	}
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return fs.ReadFile(c.fsys, real)
}

// Sub implements fs.SubFS: the directory dir, still confined to the root.
func (c *Confined) Sub(dir string) (fs.FS, error) {
	if !fs.ValidPath(dir) {
		return nil, &fs.PathError{Op: "sub", Path: dir, Err: fs.ErrInvalid}
	}
	s := *c
	s.base = c.full(dir)
	return &s, nil
}

// ReadDir implements fs.ReadDirFS, showing links by the rule above.
func (c *Confined) ReadDir(name string) ([]fs.DirEntry, error) {
	real, err := c.Real(name)
	if c.followsOutside(err) {
		real, err = c.full(name), nil // listed through the outside link; its entries are read the same way
	}
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	ents, err := fs.ReadDir(c.fsys, real)
	if c.rl == nil {
		return ents, err
	}
	for i, e := range ents {
		if e.Type()&fs.ModeSymlink == 0 {
			continue
		}
		l := c.classify(Join(real, e.Name()))
		le := &linkEntry{name: e.Name(), link: l}
		if l.Kind == LinkOutside && c.outside {
			if st, serr := fs.Stat(c.fsys, Join(real, e.Name())); serr == nil {
				le.typ, le.info = st.Mode().Type(), namedInfo{st, e.Name()}
			} else {
				le.err = serr
			}
		} else if l.Kind == LinkInside {
			if st, serr := fs.Stat(c.fsys, l.Resolved); serr == nil {
				le.typ, le.info = st.Mode().Type(), namedInfo{st, e.Name()}
			} else {
				le.err = serr
			}
		} else {
			le.err = &fs.PathError{Op: "stat", Path: Join(name, e.Name()), Err: &LinkError{Link: l}}
		}
		ents[i] = le
	}
	return ents, err
}

// linkEntry is the directory entry of a symbolic link in a Confined listing.
type linkEntry struct {
	name string
	typ  fs.FileMode
	info fs.FileInfo
	err  error
	link Link
}

func (e *linkEntry) Name() string               { return e.name }
func (e *linkEntry) IsDir() bool                { return e.typ.IsDir() }
func (e *linkEntry) Type() fs.FileMode          { return e.typ }
func (e *linkEntry) Info() (fs.FileInfo, error) { return e.info, e.err }
func (e *linkEntry) String() string             { return fs.FormatDirEntry(e) }

// Link describes the symbolic link the entry is.
func (e *linkEntry) Link() Link { return e.link }

// namedInfo is a link target's FileInfo under the link's name.
type namedInfo struct {
	fs.FileInfo
	name string
}

func (i namedInfo) Name() string       { return i.name }
func (i namedInfo) ModTime() time.Time { return i.FileInfo.ModTime() }

// LinkOf returns the symbolic link a directory entry of a [Confined]
// listing is, if it is one.
func LinkOf(e fs.DirEntry) (Link, bool) {
	le, ok := e.(interface{ Link() Link })
	if !ok {
		return Link{}, false
	}
	return le.Link(), true
}
