package rewrite

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sparkckpt/sparkckpt/decode/crcfile"
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

// Hooks observe an apply, for tests: Step is called after every durable
// step ("journal", "backup <file>", "write <file>", "rename <file>",
// "done").
type Hooks struct {
	Step func(step string)
}

func (h *Hooks) step(s string) {
	if h != nil && h.Step != nil {
		h.Step(s)
	}
}

// DefaultBackupDir is beside the checkpoint directory, outside it, so
// Spark never sees it: <dir>.sparkckpt-backup-<UTC time>.
func DefaultBackupDir(root string, now time.Time) string {
	abs, err := filepath.Abs(root)
	if err != nil {
		abs = root
	}
	return filepath.Clean(abs) + ".sparkckpt-backup-" + now.UTC().Format("20060102T150405Z")
}

// InProgress returns the journal path of an interrupted rewrite of root, if any.
func InProgress(root string) (string, bool) {
	b, err := os.ReadFile(filepath.Join(root, MarkerName))
	if err != nil {
		return "", false
	}
	return strings.TrimSpace(string(b)), true
}

// Apply carries out the plan: it writes the journal and a backup of every
// original (a hard link where the file system allows it, else a copy)
// before the first change, then replaces each file atomically (temp file
// in the same directory, fsync, rename, fsync of the directory),
// recomputing its bytes and checking them against the plan first. It
// returns the journal's path.
func Apply(p *Plan, mp *Mapper, backupDir string, h *Hooks) (string, error) {
	if len(p.Files) == 0 {
		return "", nil
	}
	root, err := filepath.Abs(p.Root)
	if err != nil {
		return "", err
	}
	if j, ok := InProgress(root); ok {
		return "", fmt.Errorf("%s: an earlier rewrite was interrupted: run 'sparkckpt rewrite --resume %s' to complete it or '--undo %s' to roll it back", root, j, j)
	}
	if err := os.MkdirAll(filepath.Dir(backupDir), 0o755); err != nil {
		return "", err
	}
	if err := os.Mkdir(backupDir, 0o700); err != nil {
		return "", fmt.Errorf("backup directory: %w", err)
	}
	id := make([]byte, 8)
	rand.Read(id)
	j := &Journal{Version: 1, ID: hex.EncodeToString(id), Created: time.Now().UTC(), Root: root, Mappings: mp.Mappings(), State: StateApplying}
	for _, fc := range p.Files {
		j.Files = append(j.Files, JournalFile{FileChange: *fc, Backup: filepath.ToSlash(filepath.Join("files", filepath.FromSlash(fc.Path))), Perm: uint32(fc.Mode)})
	}
	jpath := filepath.Join(backupDir, JournalName)
	if err := writeJournal(jpath, j); err != nil {
		return "", err
	}
	if err := WriteFileAtomic(filepath.Join(root, MarkerName), []byte(jpath+"\n"), 0o644); err != nil {
		return "", err
	}
	h.step("journal")
	for _, f := range j.Files {
		if err := backup(filepath.Join(root, filepath.FromSlash(f.Path)), filepath.Join(backupDir, filepath.FromSlash(f.Backup)), f.OldSHA256); err != nil {
			return jpath, err
		}
		h.step("backup " + f.Path)
	}
	if err := syncTree(filepath.Join(backupDir, "files")); err != nil {
		return jpath, err
	}
	if err := forward(j, mp, h); err != nil {
		return jpath, err
	}
	return jpath, finish(j, jpath, StateApplied, h)
}

// forward replaces every file still holding its original bytes by its new bytes.
func forward(j *Journal, mp *Mapper, h *Hooks) error {
	var data []byte // the new bytes of the last data file, for its sidecar
	var dataPath string
	for _, f := range j.Files {
		path := filepath.Join(j.Root, filepath.FromSlash(f.Path))
		cur, err := os.ReadFile(path)
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
			return fmt.Errorf("%s changed since the rewrite was planned (neither the original nor the rewritten bytes); not touching it", path)
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
			return fmt.Errorf("%s: the new bytes differ from the plan; not touching it", path)
		}
		if err := replace(path, out, fs.FileMode(f.Perm), h, f.Path); err != nil {
			return err
		}
	}
	return nil
}

// Resume completes an interrupted rewrite from its journal.
func Resume(jpath string, h *Hooks) error {
	j, err := ReadJournal(jpath)
	if err != nil {
		return err
	}
	if j.State == StateUndone {
		return fmt.Errorf("%s: this rewrite was undone", jpath)
	}
	mp, err := NewMapper(j.Mappings)
	if err != nil {
		return err
	}
	if err := forward(j, mp, h); err != nil {
		return err
	}
	return finish(j, jpath, StateApplied, h)
}

// Undo restores every file of a journal to its original bytes from the
// backup, whatever point the rewrite had reached. A file that is neither
// the original nor the rewritten version is left alone and reported.
func Undo(jpath string, h *Hooks) error {
	j, err := ReadJournal(jpath)
	if err != nil {
		return err
	}
	dir := filepath.Dir(jpath)
	var errs []error
	for i := len(j.Files) - 1; i >= 0; i-- {
		f := j.Files[i]
		path := filepath.Join(j.Root, filepath.FromSlash(f.Path))
		cur, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		switch sha(cur) {
		case f.OldSHA256:
			continue
		case f.NewSHA256:
		default:
			errs = append(errs, fmt.Errorf("%s changed after the rewrite; not restoring it (its original is %s)", path, filepath.Join(dir, filepath.FromSlash(f.Backup))))
			continue
		}
		orig, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Backup)))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if sha(orig) != f.OldSHA256 {
			errs = append(errs, fmt.Errorf("backup of %s does not match the journal", path))
			continue
		}
		if err := replace(path, orig, fs.FileMode(f.Perm), h, f.Path); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return finish(j, jpath, StateUndone, h)
}

// finish records the final state, removes temp files a crash may have
// left beside the journal's files, and removes the in-progress marker.
func finish(j *Journal, jpath, state string, h *Hooks) error {
	dirs := map[string]bool{j.Root: true} // the marker is written atomically in the root
	for _, f := range j.Files {
		dirs[filepath.Dir(filepath.Join(j.Root, filepath.FromSlash(f.Path)))] = true
	}
	for d := range dirs {
		left, _ := filepath.Glob(filepath.Join(d, TempPattern))
		for _, l := range left {
			os.Remove(l)
		}
	}
	j.State = state
	if err := writeJournal(jpath, j); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(j.Root, MarkerName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := syncDir(j.Root); err != nil {
		return err
	}
	h.step("done")
	return nil
}

// ReadJournal reads a journal file.
func ReadJournal(path string) (*Journal, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	j := &Journal{}
	if err := json.Unmarshal(b, j); err != nil {
		return nil, fmt.Errorf("%s: not a sparkckpt journal: %w", path, err)
	}
	if j.Version != 1 || j.Root == "" {
		return nil, fmt.Errorf("%s: not a sparkckpt journal (version %d)", path, j.Version)
	}
	return j, nil
}

func writeJournal(path string, j *Journal) error {
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, append(b, '\n'), 0o600)
}

// crcBytes recomputes a sidecar for data, keeping the old chunk size.
func crcBytes(oldSidecar, data []byte) []byte {
	bpc := crcfile.DefaultBytesPerChecksum
	if sc, err := crcfile.Parse(oldSidecar); err == nil {
		bpc = sc.BytesPerChecksum
	}
	return crcfile.Compute(data, bpc)
}

// backup keeps the original of src at dst: a hard link (no copy: the
// original inode survives the rename that replaces src), else a copy.
func backup(src, dst, wantSHA string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if sha(b) != wantSHA {
		return fmt.Errorf("%s changed since the rewrite was planned", src)
	}
	return WriteFileAtomic(dst, b, 0o600)
}

// replace writes b over path atomically, reporting steps to h.
func replace(path string, b []byte, perm fs.FileMode, h *Hooks, name string) error {
	t, err := createTemp(path, perm)
	if err != nil {
		return err
	}
	defer t.cleanup()
	if err := t.write(b); err != nil {
		return err
	}
	h.step("write " + name)
	if err := t.commit(); err != nil {
		return err
	}
	h.step("rename " + name)
	return nil
}

// WriteFileAtomic writes b to path: a temp file in the same directory,
// fsync, rename over path, fsync of the directory. A failure leaves path
// as it was.
func WriteFileAtomic(path string, b []byte, perm fs.FileMode) error {
	t, err := createTemp(path, perm)
	if err != nil {
		return err
	}
	defer t.cleanup()
	if err := t.write(b); err != nil {
		return err
	}
	return t.commit()
}

// TempPattern matches the temporary files a rewrite creates beside the
// files it replaces (left behind only by a crash; safe to delete).
const TempPattern = ".sparkckpt-tmp-*"

type tempFile struct {
	f         *os.File
	target    string
	committed bool
}

func createTemp(target string, perm fs.FileMode) (*tempFile, error) {
	f, err := os.CreateTemp(filepath.Dir(target), ".sparkckpt-tmp-"+filepath.Base(target)+"-*")
	if err != nil {
		return nil, err
	}
	if perm != 0 {
		if err := f.Chmod(perm); err != nil {
			f.Close()
			os.Remove(f.Name())
			return nil, err
		}
	}
	return &tempFile{f: f, target: target}, nil
}

func (t *tempFile) write(b []byte) error {
	if _, err := t.f.Write(b); err != nil {
		return err
	}
	return t.f.Sync()
}

func (t *tempFile) commit() error {
	if err := t.f.Close(); err != nil {
		return err
	}
	if err := os.Rename(t.f.Name(), t.target); err != nil {
		return err
	}
	t.committed = true
	return syncDir(filepath.Dir(t.target))
}

// cleanup removes the temp file unless it was committed.
func (t *tempFile) cleanup() {
	if !t.committed {
		t.f.Close()
		os.Remove(t.f.Name())
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// syncTree fsyncs every directory under dir (backups of nested files).
func syncTree(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			return syncDir(p)
		}
		return nil
	})
}
