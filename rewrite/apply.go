package rewrite

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/sparkckpt/sparkckpt/decode/crcfile"
	"github.com/sparkckpt/sparkckpt/rewrite/lock"
	"github.com/sparkckpt/sparkckpt/store"
)

// Journal records a rewrite so it can be undone, or completed after a
// crash: for every file, the hash of its original and of its new bytes,
// and where the original is kept. New bytes are a pure function of the
// original and the mappings, so they are recomputed, never stored.
type Journal struct {
	Version  int           `json:"version"`
	ID       string        `json:"id"`
	Created  time.Time     `json:"created"`
	Root     string        `json:"root"` // absolute checkpoint directory
	Mappings []Mapping     `json:"mappings"`
	State    string        `json:"state"` // "applying", "applied", "undone"
	Files    []JournalFile `json:"files"`
}

// JournalFile is one file of a journal.
type JournalFile struct {
	FileChange
	// Backup is the original's copy, relative to the journal's directory.
	Backup string `json:"backup"`
	// Mode is the original's permission bits.
	Perm uint32 `json:"perm"`
}

// Journal states.
const (
	StateApplying = "applying"
	StateApplied  = "applied"
	StateUndone   = "undone"
)

// JournalName is the journal's file name inside the backup directory.
const JournalName = "journal.json"

// MarkerName is written into the checkpoint directory while a rewrite is
// in progress; it holds the journal's path. Spark ignores it (it matches
// neither checkpoint-* nor log-*).
const MarkerName = ".sparkckpt-rewrite-in-progress"

// Hooks observe an apply. For tests: Step is called after every durable
// step ("journal", "backup <file>", "write <file>", "rename <file>",
// "done"); CopyBackups makes every backup a copy, as when the backup
// directory is on another file system, even where a hard link would do.
// Notice, if set, is told what people should know that is not an error
// (a stale lock taken over, a lock that could not be removed).
type Hooks struct {
	Step        func(step string)
	CopyBackups bool
	Notice      func(msg string)
}

func (h *Hooks) copyBackups() bool { return h != nil && h.CopyBackups }

func (h *Hooks) notice(format string, args ...any) {
	if h != nil && h.Notice != nil {
		h.Notice(fmt.Sprintf(format, args...))
	}
}

// lockDir takes the lock of the checkpoint directory root (package
// rewrite/lock): an apply, a resume and an undo of one directory never
// run at once, whoever starts them.
func lockDir(root Place, h *Hooks) (*lock.Lock, error) {
	l, err := lock.Acquire(root.Store, root.Name, root.URI)
	if err != nil {
		return nil, err
	}
	if l.TookOver != nil {
		h.notice("took over the stale lock %s of %s (no longer running)", l.File(), l.TookOver)
	}
	return l, nil
}

// unlock releases l; a failure is a notice (the work is done; the lock
// file is left and the next run reports it).
func unlock(l *lock.Lock, h *Hooks) {
	if err := l.Release(); err != nil {
		h.notice("%v", err)
	}
}

func (h *Hooks) step(s string) {
	if h != nil && h.Step != nil {
		h.Step(s)
	}
}

// DefaultBackupDir is beside the checkpoint directory, outside it, so
// Spark never sees it: <dir>.sparkckpt-backup-<UTC time to the
// nanosecond>-<random>. Two rewrites started at the same instant (a
// rewrite and its reverse, run at once) get different names.
func DefaultBackupDir(root string, now time.Time) string {
	abs, err := filepath.Abs(root)
	if err != nil {
		abs = root
	}
	return filepath.Clean(abs) + backupSuffix(now)
}

// DefaultBackup is DefaultBackupDir on dir's store: the same name with
// .sparkckpt-backup-<UTC time>-<random> appended.
func DefaultBackup(dir Place, now time.Time) Place {
	suffix := backupSuffix(now)
	return Place{Store: dir.Store, Name: dir.Name + suffix, URI: strings.TrimSuffix(dir.URI, "/") + suffix}
}

// BackupPrefix starts the suffix of a default backup directory's name.
const BackupPrefix = ".sparkckpt-backup-"

func backupSuffix(now time.Time) string {
	r := make([]byte, 4)
	rand.Read(r)
	return BackupPrefix + now.UTC().Format("20060102T150405.000000000Z") + "-" + hex.EncodeToString(r)
}

// InProgress returns the journal of an interrupted rewrite of the local
// directory root, if any.
func InProgress(root string) (string, bool) {
	dir, err := LocalPlace(root)
	if err != nil {
		return "", false
	}
	return InProgressAt(dir)
}

// InProgressAt returns the journal (its URI) of an interrupted rewrite
// of dir, if any.
func InProgressAt(dir Place) (string, bool) {
	b, err := readFile(dir.Join(MarkerName))
	if err != nil {
		return "", false
	}
	return strings.TrimSpace(string(b)), true
}

// Apply is ApplyAt with the backup directory on the local disk.
func Apply(p *Plan, mp *Mapper, backupDir string, h *Hooks) (string, error) {
	b, err := LocalPlace(backupDir)
	if err != nil {
		return "", err
	}
	return ApplyAt(p, mp, b, h)
}

// ApplyAt carries out the plan: it writes the journal and a backup of
// every original into the new directory backup (a hard link where the
// store has them and backup is on the plan's store, else a verified copy)
// before the first change, then replaces each file atomically (temporary
// file in the same directory, durable close, rename), recomputing its
// bytes and checking them against the plan first. It returns the
// journal's URI (empty when the plan changes nothing).
func ApplyAt(p *Plan, mp *Mapper, backup Place, h *Hooks) (string, error) {
	if len(p.Files) == 0 {
		return "", nil
	}
	root := p.dir
	l, err := lockDir(root, h)
	if err != nil {
		return "", err
	}
	defer unlock(l, h)
	if j, ok := InProgressAt(root); ok {
		return "", fmt.Errorf("%s: an earlier rewrite was interrupted: run 'sparkckpt rewrite --resume %s' to complete it or '--undo %s' to roll it back", root.URI, j, j)
	}
	for _, fc := range p.Files {
		if err := confined(root, fc.Path); err != nil { // symlinks.go
			return "", err
		}
	}
	// The plan was made before the lock was taken: every file must still
	// be the original it was planned from (another run may have rewritten
	// it since).
	for _, fc := range p.Files {
		b, err := readFile(root.Join(fc.Path))
		if err != nil {
			return "", err
		}
		if sha(b) != fc.OldSHA256 {
			return "", fmt.Errorf("%s changed since the rewrite was planned (another rewrite, or Spark, wrote it); nothing was written: plan again", root.Join(fc.Path).URI)
		}
	}
	if ok, err := exists(backup); err != nil || ok {
		if err == nil {
			err = &fs.PathError{Op: "mkdir", Path: backup.URI, Err: fs.ErrExist}
		}
		return "", fmt.Errorf("backup directory: %w", err)
	}
	if err := backup.Store.MkdirAll(store.Dir(backup.Name), 0o755); err != nil {
		return "", fmt.Errorf("backup directory: %w", err)
	}
	if err := backup.Store.MkdirAll(backup.Name, 0o700); err != nil { // the originals may be private
		return "", fmt.Errorf("backup directory: %w", err)
	}
	// Until the in-progress marker is written nothing has changed: a
	// failure (a full disk, a lost namenode) removes what was created.
	abandon := func(err error) (string, error) {
		removeBackupDir(backup)
		return "", err
	}
	id := make([]byte, 8)
	rand.Read(id)
	j := &Journal{Version: 1, ID: hex.EncodeToString(id), Created: time.Now().UTC(), Root: root.URI, Mappings: mp.Mappings(), State: StateApplying}
	for _, fc := range p.Files {
		j.Files = append(j.Files, JournalFile{FileChange: *fc, Backup: path.Join("files", fc.Path), Perm: uint32(fc.Mode)})
	}
	jpl := backup.Join(JournalName)
	if err := writeJournal(jpl, j); err != nil {
		return abandon(fmt.Errorf("journal: %w", err))
	}
	if err := store.WriteFileAtomic(root.Store, root.Join(MarkerName).Name, []byte(jpl.URI+"\n"), 0o644); err != nil {
		if m, ok := InProgressAt(root); ok && m == jpl.URI { // renamed after all
			root.Store.Remove(root.Join(MarkerName).Name)
		}
		return abandon(err)
	}
	h.step("journal")
	if err := backupAll(j, root, backup, h); err != nil {
		return jpl.URI, err
	}
	if err := forward(j, root, mp, h); err != nil {
		return jpl.URI, err
	}
	return jpl.URI, finish(j, root, jpl, StateApplied, h)
}

// backupAll makes sure the backup of every file of j is in dir, durable
// and verified (its bytes read back and matched against the journal's
// hash of the original), before any file is replaced: an apply makes
// every backup, a resume after a kill in the backup phase makes the
// missing ones. A file already holding its new bytes must have a good
// backup (an apply replaces nothing before every backup is made); if it
// has not, the rewrite stops there rather than lose another original.
func backupAll(j *Journal, root, dir Place, h *Hooks) error {
	dirs := map[string]bool{}
	for _, f := range j.Files {
		src, dst := root.Join(f.Path), dir.Join(f.Backup)
		if b, err := readFile(dst); err == nil && sha(b) == f.OldSHA256 {
			dirs[store.Dir(dst.Name)] = true
			continue // made before the interruption
		}
		if err := backupFile(src, dst, f.OldSHA256, h.copyBackups()); err != nil {
			return err
		}
		dirs[store.Dir(dst.Name)] = true
		h.step("backup " + f.Path)
	}
	// Hard links (and removals of torn copies) are durable once their
	// directories are synced (the local disk).
	if ds, ok := dir.Store.(store.DirSyncer); ok {
		for d := range dirs {
			if err := ds.SyncDir(d); err != nil {
				return err
			}
		}
	}
	return nil
}

// removeBackupDir removes the backup directory of an apply that failed
// before it changed anything: its journal and any temporary file, then the
// directory itself, and nothing else (a file it does not know of stays,
// and so does the directory).
func removeBackupDir(backup Place) {
	ents, _ := backup.Store.ReadDir(backup.Name)
	for _, e := range ents {
		if !e.IsDir() && (e.Name() == JournalName || store.IsTemp(e.Name())) {
			backup.Store.Remove(backup.Join(e.Name()).Name)
		}
	}
	backup.Store.Remove(backup.Name)
}

// forward replaces every file still holding its original bytes by its new bytes.
func forward(j *Journal, root Place, mp *Mapper, h *Hooks) error {
	var data []byte // the new bytes of the last data file, for its sidecar
	var dataPath string
	for _, f := range j.Files {
		pl := root.Join(f.Path)
		cur, curVersion, err := readVersion(pl)
		if err != nil {
			return err
		}
		switch sha(cur) {
		case f.NewSHA256:
			if f.Kind != KindCRC {
				data, dataPath = cur, f.Path
			}
			continue
		case f.OldSHA256:
		default:
			return fmt.Errorf("%s changed since the rewrite was planned (neither the original nor the rewritten bytes); not touching it", pl.URI)
		}
		var out []byte
		switch {
		case f.data != nil:
			out = f.data
			if f.Kind != KindCRC {
				data, dataPath = out, f.Path
			}
		case f.Kind == KindCRC:
			if dataPath != f.Of {
				return fmt.Errorf("journal: sidecar %s does not follow its file %s", f.Path, f.Of)
			}
			out = crcBytes(cur, data)
		default:
			res, err := transform(f.Kind, cur, mp)
			if err != nil {
				return fmt.Errorf("%s: %w", f.Path, err)
			}
			out = res.out
			data, dataPath = out, f.Path
		}
		if out == nil || sha(out) != f.NewSHA256 {
			return fmt.Errorf("%s: the new bytes differ from the plan; not touching it", pl.URI)
		}
		if err := confined(root, f.Path); err != nil {
			return err
		}
		version := f.Version // as the plan read it: a change since is refused
		if version == "" {
			version = curVersion
		}
		if err := replace(pl, out, fs.FileMode(f.Perm), version, h, f.Path); err != nil {
			return err
		}
	}
	return nil
}

// Resume completes an interrupted rewrite from its journal, on the local disk.
func Resume(jpath string, h *Hooks) error {
	jpl, err := LocalPlace(jpath)
	if err != nil {
		return err
	}
	return ResumeAt(jpl, LocalPlace, h)
}

// ResumeAt completes an interrupted rewrite from its journal jpath;
// open resolves the checkpoint directory the journal names.
func ResumeAt(jpath Place, open Opener, h *Hooks) error {
	j, root, err := openJournal(jpath, open)
	if err != nil {
		return err
	}
	l, err := lockDir(root, h)
	if err != nil {
		return err
	}
	defer unlock(l, h)
	if j, err = ReadJournalAt(jpath); err != nil { // as it is under the lock
		return err
	}
	if j.State == StateUndone {
		return fmt.Errorf("%s: this rewrite was undone", jpath.URI)
	}
	mp, err := newMapper(j.Mappings)
	if err != nil {
		return err
	}
	// A kill in the backup phase leaves some backups unmade (or a copy
	// torn): make and verify them all before replacing anything.
	if err := backupAll(j, root, jpath.Dir(), h); err != nil {
		return err
	}
	if err := forward(j, root, mp, h); err != nil {
		return err
	}
	return finish(j, root, jpath, StateApplied, h)
}

// Undo restores every file of a local journal to its original bytes.
func Undo(jpath string, h *Hooks) error {
	jpl, err := LocalPlace(jpath)
	if err != nil {
		return err
	}
	return UndoAt(jpl, LocalPlace, h)
}

// UndoAt restores every file of a journal to its original bytes from the
// backup, whatever point the rewrite had reached. A file that is neither
// the original nor the rewritten version is left alone and reported.
// open resolves the checkpoint directory the journal names.
func UndoAt(jpath Place, open Opener, h *Hooks) error {
	j, root, err := openJournal(jpath, open)
	if err != nil {
		return err
	}
	l, err := lockDir(root, h)
	if err != nil {
		return err
	}
	defer unlock(l, h)
	if j, err = ReadJournalAt(jpath); err != nil { // as it is under the lock
		return err
	}
	dir := jpath.Dir()
	var errs []error
	for i := len(j.Files) - 1; i >= 0; i-- {
		f := j.Files[i]
		pl := root.Join(f.Path)
		cur, curVersion, err := readVersion(pl)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		bk := dir.Join(f.Backup)
		switch sha(cur) {
		case f.OldSHA256:
			continue
		case f.NewSHA256:
		default:
			errs = append(errs, fmt.Errorf("%s changed after the rewrite; not restoring it (its original is %s)", pl.URI, bk.URI))
			continue
		}
		orig, err := readFile(bk)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if sha(orig) != f.OldSHA256 {
			errs = append(errs, fmt.Errorf("backup of %s does not match the journal", pl.URI))
			continue
		}
		if err := confined(root, f.Path); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := replace(pl, orig, fs.FileMode(f.Perm), curVersion, h, f.Path); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return finish(j, root, jpath, StateUndone, h)
}

// finish records the final state, removes temporary files a crash may
// have left beside the journal's files, and removes the in-progress marker.
func finish(j *Journal, root, jpath Place, state string, h *Hooks) error {
	dirs := map[string]bool{root.Name: true} // the marker is written atomically in the root
	for _, f := range j.Files {
		dirs[store.Dir(root.Join(f.Path).Name)] = true
	}
	for d := range dirs {
		ents, _ := root.Store.ReadDir(d)
		for _, e := range ents {
			if store.IsTemp(e.Name()) && !e.IsDir() {
				root.Store.Remove(store.Join(d, e.Name()))
			}
		}
	}
	j.State = state
	if err := writeJournal(jpath, j); err != nil {
		return err
	}
	if err := root.Store.Remove(root.Join(MarkerName).Name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if ds, ok := root.Store.(store.DirSyncer); ok {
		if err := ds.SyncDir(root.Name); err != nil {
			return err
		}
	}
	h.step("done")
	return nil
}

// openJournal reads the journal at jpath and opens the checkpoint
// directory it names.
func openJournal(jpath Place, open Opener) (*Journal, Place, error) {
	j, err := ReadJournalAt(jpath)
	if err != nil {
		return nil, Place{}, err
	}
	root, err := open(j.Root)
	return j, root, err
}

// ReadJournal reads a journal file on the local disk.
func ReadJournal(path string) (*Journal, error) {
	pl, err := LocalPlace(path)
	if err != nil {
		return nil, err
	}
	return ReadJournalAt(pl)
}

// ReadJournalAt reads a journal file.
func ReadJournalAt(pl Place) (*Journal, error) {
	b, err := readFile(pl)
	if err != nil {
		return nil, err
	}
	j := &Journal{}
	if err := json.Unmarshal(b, j); err != nil {
		return nil, fmt.Errorf("%s: not a sparkckpt journal: %w", pl.URI, err)
	}
	if j.Version != 1 || j.Root == "" {
		return nil, fmt.Errorf("%s: not a sparkckpt journal (version %d)", pl.URI, j.Version)
	}
	return j, nil
}

func writeJournal(pl Place, j *Journal) error {
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	return store.WriteFileAtomic(pl.Store, pl.Name, append(b, '\n'), 0o600)
}

// crcBytes recomputes a sidecar for data, keeping the old chunk size.
func crcBytes(oldSidecar, data []byte) []byte {
	bpc := crcfile.DefaultBytesPerChecksum
	if sc, err := crcfile.Parse(oldSidecar); err == nil {
		bpc = sc.BytesPerChecksum
	}
	return crcfile.Compute(data, bpc)
}

// backupFile keeps the original of src at dst: a hard link where the
// store has them (no copy: the original inode survives the rename that
// replaces src) unless copy is set, else a copy. Either way the backup is
// read back and its bytes checked against the journal's hash wantSHA: a
// file that is not its original (changed since the plan, or already
// rewritten with its backup lost) is never backed up as one.
func backupFile(src, dst Place, wantSHA string, copy bool) error {
	if err := dst.Store.MkdirAll(store.Dir(dst.Name), 0o700); err != nil {
		return err
	}
	if err := dst.Store.Remove(dst.Name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err // a torn or wrong backup of an interrupted run
	}
	linked := false
	if l, ok := src.Store.(store.Linker); ok && sameStore(src, dst) && !copy {
		linked = l.Link(src.Name, dst.Name) == nil
	}
	if !linked {
		b, err := readFile(src)
		if err != nil {
			return err
		}
		if sha(b) != wantSHA {
			return notOriginal(src, wantSHA, sha(b))
		}
		if err := store.WriteFileAtomic(dst.Store, dst.Name, b, 0o600); err != nil {
			return err
		}
	}
	b, err := readFile(dst)
	if err != nil {
		return fmt.Errorf("backup of %s: %w", src.URI, err)
	}
	if got := sha(b); got != wantSHA {
		if linked {
			dst.Store.Remove(dst.Name) // not the original: never keep it as one
			return notOriginal(src, wantSHA, got)
		}
		return fmt.Errorf("backup of %s: %s reads back different bytes than were written", src.URI, dst.URI)
	}
	return nil
}

// notOriginal says that src no longer holds the original the journal names.
func notOriginal(src Place, wantSHA, got string) error {
	return fmt.Errorf("%s is not the original the rewrite planned from (SHA-256 %s, expected %s): changed since the plan, or its backup was lost; not touching it", src.URI, short(got), short(wantSHA))
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// replace writes b over pl atomically, reporting steps to h: a
// temporary file in the same directory, written and closed (durable),
// then renamed over pl. On a store.VersionedReplacer (S3: no rename) it
// is one write made only if pl is still version, so that a file changed
// by someone else since it was read is refused, not overwritten.
func replace(pl Place, b []byte, perm fs.FileMode, version string, h *Hooks, name string) error {
	if vr, ok := pl.Store.(store.VersionedReplacer); ok && version != "" {
		if err := vr.ReplaceIfVersion(pl.Name, b, perm, version); err != nil {
			return fmt.Errorf("%s changed since it was read; not touching it: %w", pl.URI, err)
		}
		h.step("write " + name)
		h.step("rename " + name)
		return nil
	}
	w, tmp, err := store.CreateTemp(pl.Store, store.Dir(pl.Name), store.TempPrefix+pl.Base()+"-", "", perm)
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		w.Close()
		pl.Store.Remove(tmp)
		return err
	}
	if err := w.Close(); err != nil {
		pl.Store.Remove(tmp)
		return err
	}
	h.step("write " + name)
	if err := pl.Store.Rename(tmp, pl.Name); err != nil {
		pl.Store.Remove(tmp)
		return err
	}
	h.step("rename " + name)
	return nil
}

// WriteFileAtomic writes b to the local path path: a temporary file in
// the same directory, fsync, rename over path, fsync of the directory. A
// failure leaves path as it was.
func WriteFileAtomic(path string, b []byte, perm fs.FileMode) error {
	pl, err := LocalPlace(path)
	if err != nil {
		return err
	}
	return store.WriteFileAtomic(pl.Store, pl.Name, b, perm)
}

// TempPattern matches the temporary files a rewrite creates beside the
// files it replaces (left behind only by a crash; safe to delete).
const TempPattern = store.TempPrefix + "*"
