// Package lock is the exclusive lock sparkckpt takes on a checkpoint
// directory before it changes it ('rewrite --apply', '--undo', '--resume',
// the browser's apply) or creates it ('cp' into a destination), so that
// two runs never interleave their writes.
//
// # The lock file
//
// The lock of directory DIR is the file DIR.sparkckpt-lock beside it
// (outside the checkpoint, so Spark and a copy of the checkpoint never see
// it; for the root of a store, .sparkckpt-lock inside it). It is created
// with the store's exclusive Create, which fails when the name exists on
// every store (O_EXCL on the local disk, create without overwrite on the
// HDFS namenode), so exactly one of any number of concurrent runs, on one
// machine or many, gets it. It holds its owner as JSON: user, host, pid,
// the time it was taken, the command line and a random token (which tells
// two locks of one process apart). Release removes it, after checking that
// it is still the one it created.
//
// # Stale locks
//
// A process killed while holding the lock leaves the file. A lock whose
// owner ran on this host and is no longer running is stale and taken over
// (Lock.TookOver says whose it was): the file is re-read under a second
// exclusive file DIR.sparkckpt-lock.break, so that of two runs taking over
// one stale lock only one succeeds. A lock held by a live process, or
// taken on another host, is never taken over: Acquire fails with a
// *HeldError naming the holder; a lock older than StaleAge (or unreadable)
// is reported as probably stale, with how to remove it.
package lock

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/sparkckpt/sparkckpt/store"
)

// Suffix ends the name of a lock file.
const Suffix = ".sparkckpt-lock"

// StaleAge is the age after which a lock held on another host (whose
// process cannot be looked up) is reported as probably stale.
const StaleAge = 24 * time.Hour

// ErrLocked is wrapped by the error of Acquire when another run holds the lock.
var ErrLocked = errors.New("locked by another sparkckpt")

// Owner is who holds a lock.
type Owner struct {
	User    string    `json:"user"`
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Time    time.Time `json:"time"`
	Command string    `json:"command"`
	Token   string    `json:"token"`
}

// String describes the owner for people. The lock file is read from a
// store anyone may write: control characters in it are escaped.
func (o *Owner) String() string {
	s := fmt.Sprintf("%s@%s pid %d since %s", escape(o.User), escape(o.Host), o.PID, o.Time.UTC().Format(time.RFC3339))
	if o.Command != "" {
		s += fmt.Sprintf(" (%s)", escape(o.Command))
	}
	return s
}

// escape writes control characters of s as Go escapes (\x1b).
func escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Me is the owner a lock taken now by this process records.
func Me() Owner {
	host, _ := os.Hostname()
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	tok := make([]byte, 8)
	rand.Read(tok)
	cmd := strings.Join(append([]string{path.Base(os.Args[0])}, os.Args[1:]...), " ")
	if len(cmd) > 300 {
		cmd = cmd[:300] + "…"
	}
	return Owner{User: name, Host: host, PID: os.Getpid(), Time: time.Now().UTC(), Command: cmd, Token: hex.EncodeToString(tok)}
}

// Name is the store name of the lock file of directory dir.
func Name(dir string) string {
	if dir == "." {
		return Suffix
	}
	return dir + Suffix
}

// Lock is a held lock.
type Lock struct {
	s     store.Store
	name  string // store name of the lock file
	uri   string // the lock file for people
	owner Owner
	// TookOver is the owner of the stale lock this one replaced (its
	// process was no longer running on this host), or nil.
	TookOver *Owner
}

// File names the lock file for people (a path or URI).
func (l *Lock) File() string { return l.uri }

// HeldError is the error of Acquire when another run holds the lock.
type HeldError struct {
	Dir   string // the directory, as people name it
	File  string // the lock file, as people name it
	Owner *Owner // nil if the lock file could not be read
	// Stale says why the lock looks stale ("" if its holder may be at work).
	Stale string
	// ReadErr is why the lock file could not be read, if it could not.
	ReadErr error
}

func (e *HeldError) Error() string {
	var b strings.Builder
	if e.Owner != nil {
		fmt.Fprintf(&b, "%s is locked by another sparkckpt: %s", e.Dir, e.Owner)
	} else {
		fmt.Fprintf(&b, "%s is locked by another sparkckpt (lock file %s unreadable: %v)", e.Dir, e.File, e.ReadErr)
	}
	if e.Stale != "" {
		fmt.Fprintf(&b, "; the lock looks stale (%s): if no sparkckpt is working on %s, remove %s and run again", e.Stale, e.Dir, e.File)
	} else {
		fmt.Fprintf(&b, "; wait for it to finish (the lock is %s: remove it only if that run is not running, e.g. it was killed on another host)", e.File)
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrLocked) true.
func (e *HeldError) Unwrap() error { return ErrLocked }

// Acquire takes the lock of directory dir (a store name) on s; dirURI
// names dir for people (a path or URI). It fails with a *HeldError if
// another run holds it (see the package doc for stale locks).
func Acquire(s store.Store, dir, dirURI string) (*Lock, error) {
	return acquire(s, dir, dirURI, Me(), pidRunning)
}

func acquire(s store.Store, dir, dirURI string, me Owner, running func(int) bool) (*Lock, error) {
	l := &Lock{s: s, name: Name(dir), uri: lockURI(dir, dirURI), owner: me}
	err := l.create()
	if err == nil {
		return l, nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("lock %s: %w", l.uri, err)
	}
	held := l.held(dirURI, running)
	if held.Owner == nil || held.Owner.Host != me.Host || running(held.Owner.PID) {
		return nil, held
	}
	// Its owner ran here and is gone: take the lock over, under the
	// breaker file, if it is still the same stale lock.
	stale := held.Owner
	breaker := l.name + ".break"
	w, err := s.Create(breaker, 0o644)
	if err != nil {
		held.Stale += fmt.Sprintf("; another run is taking it over (or was killed doing so: then remove %s too)", lockURI(dir, dirURI)+".break")
		return nil, held
	}
	w.Write(l.encode())
	w.Close()
	defer s.Remove(breaker)
	again := l.held(dirURI, running)
	if again.Owner == nil || again.Owner.Token != stale.Token {
		return nil, again
	}
	if err := s.Remove(l.name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("lock %s: removing the stale lock: %w", l.uri, err)
	}
	if err := l.create(); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, l.held(dirURI, running)
		}
		return nil, fmt.Errorf("lock %s: %w", l.uri, err)
	}
	l.TookOver = stale
	return l, nil
}

// lockURI names the lock file of dir for people.
func lockURI(dir, dirURI string) string {
	if dir == "." {
		return strings.TrimSuffix(dirURI, "/") + "/" + Suffix
	}
	return strings.TrimSuffix(dirURI, "/") + Suffix
}

func (l *Lock) encode() []byte { return l.owner.Encode() }

// Owner is who holds l (this process).
func (l *Lock) Owner() Owner { return l.owner }

// create creates the lock file exclusively and writes the owner.
func (l *Lock) create() error {
	w, err := l.s.Create(l.name, 0o644)
	if err != nil {
		return err
	}
	_, err = w.Write(l.encode())
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		l.s.Remove(l.name)
		return err
	}
	return nil
}

// read reads the owner of the lock file.
func read(s store.Store, name string) (*Owner, error) {
	b, err := store.ReadFile(s, name)
	if err != nil {
		return nil, err
	}
	o := &Owner{}
	if err := json.Unmarshal(b, o); err != nil {
		return nil, fmt.Errorf("not a sparkckpt lock (%d bytes): %w", len(b), err)
	}
	return o, nil
}

// Stale says why a lock (or any work) of owner o is stale, or "" if its
// process may still be at work: it ran on this host and is no longer
// running, or it started more than StaleAge ago.
func (o *Owner) Stale() string {
	return o.stale(pidRunning)
}

func (o *Owner) stale(running func(int) bool) string {
	host, _ := os.Hostname()
	switch {
	case o.Host == host && !running(o.PID):
		return fmt.Sprintf("process %d is not running on %s", o.PID, host)
	case time.Since(o.Time) > StaleAge:
		return fmt.Sprintf("%s old", time.Since(o.Time).Round(time.Minute))
	}
	return ""
}

// Read reads an owner record (a lock file, or the owner file of a
// temporary tree) from name on s.
func Read(s store.Store, name string) (*Owner, error) { return read(s, name) }

// Encode is the owner record of o, as a lock file holds it.
func (o Owner) Encode() []byte {
	b, _ := json.MarshalIndent(o, "", "  ")
	return append(b, '\n')
}

// held describes the lock file as it is now.
func (l *Lock) held(dirURI string, running func(int) bool) *HeldError {
	e := &HeldError{Dir: dirURI, File: l.uri}
	o, err := read(l.s, l.name)
	if err != nil {
		e.ReadErr = err
		// Being written right now, or torn: only its age tells.
		if st, serr := l.s.Stat(l.name); serr == nil && time.Since(st.ModTime()) > time.Minute {
			e.Stale = "unreadable, written " + st.ModTime().UTC().Format(time.RFC3339)
		}
		return e
	}
	e.Owner = o
	e.Stale = o.stale(running)
	return e
}

// Release removes the lock file if it is still this lock's.
func (l *Lock) Release() error {
	if l == nil {
		return nil
	}
	o, err := read(l.s, l.name)
	if err != nil {
		return fmt.Errorf("lock %s: %w", l.uri, err)
	}
	if o.Token != l.owner.Token {
		return fmt.Errorf("lock %s: taken over by %s while held; not removing it", l.uri, o)
	}
	if err := l.s.Remove(l.name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("lock %s: %w", l.uri, err)
	}
	return nil
}
