// Package copytree copies a Spark checkpoint directory from one store to
// another (local disk and HDFS, either way, or within one), rewriting
// URIs on the way with the engine of package rewrite, so that a
// checkpoint is moved and relocated in one step.
//
// # Guarantees
//
//   - Same rewrite as 'sparkckpt rewrite --apply': checkpoint files (and
//     .bk) and receivedBlockMetadata/log-* are rewritten by rewrite.File,
//     which re-encodes with the same codec and verifies the new bytes by
//     decoding them; a file that does not decode, or keeps a mapped prefix
//     in bytes the rewrite cannot re-encode, stops the copy (or, with
//     SkipUndecodable, is copied unchanged and reported). RDD checkpoint
//     data and receiver data logs are copied byte for byte.
//   - Verified: every rewritten file is read back from the destination and
//     compared (CRC32C) with what was written; with Options.Verify every
//     file is. Before the destination appears, the copied tree is listed
//     and compared with the source's, file by file and size by size.
//   - Atomic: everything is written into a temporary directory beside the
//     destination (.sparkckpt-tmp-cp-<name>-<random>, on the same file
//     system), each file durable before the rename (on HDFS, every
//     datanode acknowledgement and the namenode's complete on Close; on the
//     local disk one syncfs(2) of the finished tree, store.BatchSyncer,
//     instead of an fsync per file), and the directory is renamed to the
//     destination name last (rename(2) and fsync of the
//     parent; HDFS rename2, atomic in the namenode). The destination name
//     therefore holds either nothing or the complete copy. An error or a
//     cancelled context removes the temporary directory; a killed process
//     leaves it, hidden, with a name that says what it is and an owner
//     record inside (host, pid, time); the next copy to the same
//     destination removes it once its owner is gone (a process no longer
//     running on this host, or older than lock.StaleAge) and says so
//     (Report.Removed), else reports it (Report.Leftovers).
//   - Exclusive: the copy holds the destination's lock (package
//     rewrite/lock, the lock 'rewrite --apply' takes) from before it looks
//     at the destination until it has renamed it into place, so two copies
//     to one destination never mix; the second fails with a
//     *lock.HeldError naming the first.
//   - Nothing of sparkckpt's own: temporary files and directories
//     (store.TempPrefix) and lock files in the source are never copied
//     (Report.Skipped).
//   - On an object store (S3: store.PrefixDirs), a directory rename
//     copies object by object and is not atomic, so the copy is written
//     in place instead, behind a marker (decode/check.IncompleteCopyName)
//     written first and removed last, with the checkpoint files Spark
//     restarts from written after every other file: after a kill the
//     destination is complete, or holds the marker (which 'sparkckpt
//     check' reports as incomplete-copy), and the next copy to it
//     replaces it and names it in Report.Replaced.
//
// # Checksum sidecars
//
// Hadoop's LocalFileSystem keeps a .NAME.crc sidecar beside the files it
// writes; HDFS has none (store.Checksummed). The sidecars of the source
// are verified against their files while copying (a mismatch is reported
// in Report.CRCMismatches and the bytes are copied as they are). Copying
// to a store without sidecars drops them. Copying to the local disk from
// a store without sidecars creates one for every file Spark writes through
// LocalFileSystem (checkpoint files, RDD checkpoint files, everything but
// the write-ahead logs receivedBlockMetadata/log-* and
// receivedData/*/log-*, which Spark writes raw), exactly as Hadoop computes
// them (CRC32 per 512 bytes, decode/crcfile). Local to local, a sidecar
// goes where the source had one: recomputed for a rewritten file (with the
// source's bytes per checksum), else copied.
//
// # Symbolic links
//
// The source is read by package store's rule (store.Confine): a link
// leading to a file or directory inside the source directory is copied
// as what it leads to, under the link's name (HDFS has no links, and the
// copy must stand alone); a link leading outside refuses the copy
// ([ErrSymlinkOutside]) unless Options.FollowSymlinks, which copies what
// it leads to; broken links, loops and directory links back to a
// directory already on the way are not copied. Every link is listed in
// Report.Symlinks with what was done. The destination is written only
// inside its temporary directory, which holds no links.

package copytree

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/check"
	"github.com/sparkckpt/sparkckpt/decode/crcfile"
	"github.com/sparkckpt/sparkckpt/decode/wal"
	"github.com/sparkckpt/sparkckpt/rewrite"
	"github.com/sparkckpt/sparkckpt/rewrite/lock"
	"github.com/sparkckpt/sparkckpt/store"
)

// TempPrefix starts the name of the temporary directory of a copy.
const TempPrefix = store.TempPrefix + "cp-"

// Options configure Copy.
type Options struct {
	// Mapper rewrites URIs; nil (or no mappings) copies bytes as they are.
	Mapper *rewrite.Mapper
	// SkipUndecodable copies checkpoint and log files that do not decode
	// (or keep a mapped prefix in bytes the rewrite cannot re-encode)
	// unchanged, instead of stopping.
	SkipUndecodable bool
	// Parallel is the number of files copied at once; 4 if zero.
	Parallel int
	// Verify reads every copied file back, not only the rewritten ones.
	Verify bool
	// Progress, if set, is called (never concurrently) as bytes are copied.
	Progress func(Progress)
	// Step, if set, is called (never concurrently) after every durable
	// step: "mkdir", "file REL", "verify", "rename". For crash tests.
	Step func(step string)
	// DestURI names the destination for people in errors (the lock's
	// holder); dstDir if empty.
	DestURI string
	// SourceURI names the source for people in errors; srcDir if empty.
	SourceURI string
	// FollowSymlinks copies what source links leading outside the source
	// directory point to; without it such a copy is refused (see
	// "Symbolic links" in the package doc).
	FollowSymlinks bool
	// Exclude, if set, leaves out the source files (slash-separated,
	// relative to the source directory) for which it returns true: a
	// backup's manifest when a backup is restored.
	Exclude func(rel string) bool
}

// OwnerName is the owner record in a copy's temporary directory (a
// sparkckpt temporary itself, so it is never part of a copy); it is
// removed just before the directory is renamed into place.
const OwnerName = store.TempPrefix + "owner"

// Progress is the state of a copy.
type Progress struct {
	Files, FilesDone int
	Bytes, BytesDone int64
	Current          string // a file being copied
}

// Report says what a copy did.
type Report struct {
	Files []FileReport `json:"files"`
	// Rewritten counts files whose bytes changed; Edits their edits.
	Rewritten int `json:"rewritten"`
	Edits     int `json:"edits"`
	// Bytes read from the source and written to the destination.
	BytesRead    int64 `json:"bytesRead"`
	BytesWritten int64 `json:"bytesWritten"`
	Dirs         int   `json:"dirs"`
	// Sidecars counts .crc sidecars by what happened to them: "dropped",
	// "created", "copied", "recomputed".
	Sidecars map[string]int `json:"sidecars"`
	// CRCMismatches are source files that do not match their sidecar
	// (Hadoop's LocalFileSystem refuses to read them); copied as they are.
	CRCMismatches []Problem `json:"crcMismatches"`
	// Undecodable are files copied unchanged under SkipUndecodable.
	Undecodable []Problem `json:"undecodable"`
	// Leftovers are temporary directories of earlier interrupted copies
	// to the same destination that were kept: their owner may be at work.
	Leftovers []string `json:"leftovers"`
	// Removed are temporary directories of earlier interrupted copies to
	// the same destination that this copy removed, each with why.
	Removed []Problem `json:"removed"`
	// Skipped are sparkckpt temporaries and lock files in the source,
	// not copied.
	Skipped []string `json:"skipped"`
	// TookOverLock is the owner of a stale destination lock this copy
	// took over (a killed copy's), if any.
	TookOverLock string `json:"tookOverLock,omitempty"`
	// Symlinks are the symbolic links of the source, each with what the
	// copy did with it.
	Symlinks []Symlink `json:"symlinks"`
	// Replaced are incomplete copies an interrupted copy to an object
	// store left at the destination, removed and copied anew.
	Replaced []string `json:"replaced,omitempty"`
	// InPlace means the copy was written in place behind the
	// incomplete-copy marker (an object store), not renamed into place.
	InPlace bool `json:"inPlace,omitempty"`
	// Verified counts files read back from the destination.
	Verified int           `json:"verified"`
	Duration time.Duration `json:"durationNs"`
}

// FileReport is one copied file.
type FileReport struct {
	Path    string         `json:"file"` // slash-separated, relative to the checkpoint directory
	Kind    string         `json:"kind,omitempty"`
	Size    int64          `json:"size"`
	NewSize int64          `json:"newSize"`
	CRC32C  string         `json:"crc32c"`           // of the destination bytes (Castagnoli, hex)
	SHA256  string         `json:"sha256,omitempty"` // of the destination bytes, for rewritten files
	Edits   []rewrite.Edit `json:"edits,omitempty"`
	Sidecar string         `json:"sidecar,omitempty"` // what happened to its .crc sidecar
}

// Symlink is a symbolic link of the source and what the copy did with it.
type Symlink struct {
	store.Link
	// Copied is "file" or "dir" when the copy holds, at the link's name,
	// the file or directory it leads to; "" when it was not copied
	// (broken, a loop).
	Copied string `json:"copied"`
}

// ErrSpecialFile means the source holds a named pipe, socket or device
// file: cp neither reads it (opening a pipe blocks) nor drops it silently.
var ErrSpecialFile = errors.New("the source holds files that are neither regular files nor directories, which cp does not copy (remove them, or copy without them)")

// ErrSymlinkOutside means a source link leads outside the source
// directory and Options.FollowSymlinks is not set.
var ErrSymlinkOutside = errors.New("symbolic link(s) lead outside the source directory (copy what they point to with --follow-symlinks, or replace them by copies)")

// Problem is a file and what is wrong with it.
type Problem struct {
	File  string `json:"file"`
	Error string `json:"error"`
}

// ErrExists means the destination already exists.
var ErrExists = errors.New("destination exists (cp never overwrites: remove it or pick another name)")

// entry is a source file.
type entry struct {
	rel     string
	size    int64
	perm    fs.FileMode
	sidecar *entry // its .crc sidecar in the source, if any
}

type copier struct {
	ctx      context.Context
	src, dst store.Store
	srcDir   string
	tmp      string // where files are written: the temporary directory, or the destination (direct)
	srcURI   string // srcDir for people
	tmpURI   string // tmp for people
	direct   bool   // writing in place behind check.IncompleteCopyName (no atomic directory rename)
	o        Options
	dstSums  bool // the destination keeps sidecars
	srcSums  bool

	bufs  sync.Pool         // *[]byte copy buffers of copyBufSize, one per file in flight
	batch store.BatchSyncer // the destination syncs the whole tree before the rename, or nil

	mu       sync.Mutex // guards rep, prog, and serialises callbacks
	rep      *Report
	prog     Progress
	expected map[string]int64 // rel -> size of every file written
}

// Copy copies the checkpoint directory srcDir of src to dstDir of dst,
// which must not exist (its parent is created if missing). See the
// package doc for what is guaranteed.
func Copy(ctx context.Context, src store.Store, srcDir string, dst store.Store, dstDir string, o Options) (*Report, error) {
	start := time.Now()
	if o.Parallel <= 0 {
		o.Parallel = 4
	}
	srcURI, destURI := o.SourceURI, o.DestURI
	if srcURI == "" {
		srcURI = srcDir
	}
	if destURI == "" {
		destURI = dstDir
	}
	if src == dst && (within(dstDir, srcDir) || within(srcDir, dstDir)) {
		return nil, fmt.Errorf("%s and %s: one is inside the other", srcURI, destURI)
	}
	if dstDir == "." {
		return nil, &fs.PathError{Op: "copy", Path: dstDir, Err: ErrExists}
	}
	st, err := src.Stat(srcDir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s: not a directory: cp copies a checkpoint directory", srcURI)
	}
	files, dirs, links, skipped, err := listSource(src, srcDir, o.FollowSymlinks)
	if err != nil {
		return nil, err
	}
	if o.Exclude != nil {
		kept := files[:0]
		for _, f := range files {
			if !o.Exclude(f.rel) {
				kept = append(kept, f)
			}
		}
		files = kept
	}
	if err := checkSource(files, o.Mapper); err != nil {
		return nil, fmt.Errorf("%s: %w", srcURI, err)
	}
	direct := !store.RenamesDirsAtomically(dst)
	parent := store.Dir(dstDir)
	if err := dst.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	l, err := lock.Acquire(dst, dstDir, destURI)
	if err != nil {
		return nil, err
	}
	defer l.Release()
	// Under the lock: the destination may have appeared meanwhile.
	var replaced []string
	if _, err := dst.Stat(dstDir); err == nil {
		if !direct || !incomplete(dst, dstDir) {
			return nil, &fs.PathError{Op: "copy", Path: dstDir, Err: ErrExists}
		}
		// An earlier copy to this object store was interrupted: its
		// marker says so. It is ours, and incomplete: copy again.
		if err := store.RemoveAll(dst, dstDir); err != nil {
			return nil, err
		}
		replaced = append(replaced, dstDir)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	c := &copier{ctx: ctx, src: src, dst: dst, srcDir: srcDir, srcURI: srcURI, tmpURI: destURI, o: o, direct: direct,
		dstSums: store.UsesChecksumSidecars(dst), srcSums: store.UsesChecksumSidecars(src),
		rep: &Report{Files: []FileReport{}, Sidecars: map[string]int{}, CRCMismatches: []Problem{}, Undecodable: []Problem{},
			Leftovers: []string{}, Removed: []Problem{}, Skipped: skipped, Symlinks: links},
		expected: map[string]int64{}}
	c.bufs.New = func() any { b := make([]byte, copyBufSize); return &b }
	if bs, ok := dst.(store.BatchSyncer); ok {
		c.batch = bs
	}
	if l.TookOver != nil {
		c.rep.TookOverLock = l.TookOver.String()
	}
	c.rep.Replaced, c.rep.InPlace = replaced, direct
	var owner string
	if direct {
		// No atomic directory rename: write in place, behind a marker
		// written first and removed last.
		c.tmp = dstDir
		if err := dst.MkdirAll(dstDir, 0o755); err != nil {
			return nil, err
		}
		note := fmt.Sprintf("sparkckpt cp: incomplete copy of %s, started %s; copy again with 'sparkckpt cp' or delete this directory\n", srcURI, start.UTC().Format(time.RFC3339))
		if err := store.WriteFileAtomic(dst, store.Join(dstDir, check.IncompleteCopyName), []byte(note), 0o644); err != nil {
			store.RemoveAll(dst, dstDir)
			return nil, err
		}
	} else {
		c.rep.Leftovers, c.rep.Removed, _ = cleanLeftovers(dst, dstDir)
		if c.tmp, err = store.MkdirTemp(dst, parent, TempPrefix+path.Base(dstDir)+"-", 0o755); err != nil {
			return nil, err
		}
		c.tmpURI = destURI[:strings.LastIndex(destURI, "/")+1] + path.Base(c.tmp)
		owner = store.Join(c.tmp, OwnerName)
		if err := writeOwner(dst, owner, l.Owner()); err != nil {
			store.RemoveAll(dst, c.tmp)
			return nil, err
		}
	}
	if err := c.run(files, dirs); err != nil {
		store.RemoveAll(dst, c.tmp)
		return nil, err
	}
	if direct {
		if err := dst.Remove(store.Join(dstDir, check.IncompleteCopyName)); err != nil {
			return nil, err
		}
	} else {
		if err := dst.Remove(owner); err != nil {
			store.RemoveAll(dst, c.tmp)
			return nil, err
		}
		if err := dst.Rename(c.tmp, dstDir); err != nil {
			store.RemoveAll(dst, c.tmp)
			if errors.Is(err, fs.ErrExist) {
				return nil, &fs.PathError{Op: "copy", Path: dstDir, Err: ErrExists}
			}
			return nil, err
		}
	}
	c.step("rename")
	c.rep.Duration = time.Since(start)
	sort.Slice(c.rep.Files, func(i, j int) bool { return c.rep.Files[i].Path < c.rep.Files[j].Path })
	return c.rep, nil
}

// incomplete reports whether dir holds the marker of an interrupted copy.
func incomplete(s store.Store, dir string) bool {
	_, err := s.Stat(store.Join(dir, check.IncompleteCopyName))
	return err == nil
}

// within reports whether store name a is b or under it.
func within(a, b string) bool {
	return a == b || b == "." || strings.HasPrefix(a, b+"/")
}

// writeOwner records who makes a temporary directory.
func writeOwner(s store.Store, name string, o lock.Owner) error {
	w, err := s.Create(name, 0o644)
	if err != nil {
		return err
	}
	if _, err := w.Write(o.Encode()); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// cleanLeftovers looks at the temporary directories of earlier copies to
// dstDir (under dstDir's lock, so none is being written by a copy that
// holds it): those whose owner is gone (package doc) are removed and
// returned with why, the others are returned as kept.
func cleanLeftovers(dst store.Store, dstDir string) (kept []string, removed []Problem, err error) {
	kept, removed = []string{}, []Problem{}
	ents, err := dst.ReadDir(store.Dir(dstDir))
	if err != nil {
		return kept, removed, err
	}
	mine := TempPrefix + path.Base(dstDir) + "-"
	for _, e := range ents {
		// The random part has no '-': .sparkckpt-tmp-cp-ckpt-2-<random>
		// is a copy to ckpt-2, not to ckpt.
		rest, ok := strings.CutPrefix(e.Name(), mine)
		if !ok || rest == "" || strings.Contains(rest, "-") {
			continue
		}
		name := store.Join(store.Dir(dstDir), e.Name())
		why := ""
		if o, err := lock.Read(dst, store.Join(name, OwnerName)); err == nil {
			if why = o.Stale(); why != "" {
				why = fmt.Sprintf("left by %s: %s", o, why)
			}
		} else if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > lock.StaleAge {
			why = fmt.Sprintf("no owner recorded, last changed %s", info.ModTime().UTC().Format(time.RFC3339))
		}
		if why == "" || !e.IsDir() {
			kept = append(kept, name)
			continue
		}
		if err := store.RemoveAll(dst, name); err != nil {
			kept = append(kept, name)
			continue
		}
		removed = append(removed, Problem{File: name, Error: why})
	}
	return kept, removed, nil
}

// ownName reports whether base is sparkckpt's own: a temporary or a lock
// file, never part of a checkpoint.
func ownName(base string) bool {
	return store.IsTemp(base) || strings.HasSuffix(base, lock.Suffix) || strings.HasSuffix(base, lock.Suffix+".break")
}

// listTree lists the files (with their sidecars attached) and the
// directories under dir, relative to it, and sparkckpt's own temporaries
// and lock files, left out.
func listTree(s store.Store, dir string) ([]*entry, []string, []string, error) {
	files, dirs, _, skipped, err := walkTree(store.FS(s, dir), nil, false)
	if err != nil {
		return nil, nil, nil, err
	}
	return pairSidecars(files), dirs, skipped, nil
}

// listSource lists the source tree by the symbolic link rule (package
// doc) and returns every link met with what the copy does with it.
func listSource(s store.Store, dir string, follow bool) ([]*entry, []string, []Symlink, []string, error) {
	cv := store.ConfinedPlace(s, dir)
	rd := cv
	if follow {
		rd = cv.FollowingOutside()
	}
	files, dirs, links, skipped, err := walkTree(rd, cv, follow)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	var outside []string
	for _, l := range links {
		if l.Kind == store.LinkOutside && l.Copied == "" {
			outside = append(outside, l.String())
		}
	}
	if len(outside) > 0 {
		return nil, nil, nil, nil, fmt.Errorf("%w: %s", ErrSymlinkOutside, strings.Join(outside, "; "))
	}
	return pairSidecars(files), dirs, links, skipped, nil
}

// walkTree walks fsys. When cv is set (the source, confined), symbolic
// links are classified: those inside, and with follow those outside, are
// walked as what they lead to; a directory already on the way (by its
// real name) is a loop and is not walked again.
// sparkckpt's own temporaries and lock files are left out and returned
// apart.
func walkTree(fsys fs.FS, cv *store.Confined, follow bool) ([]*entry, []string, []Symlink, []string, error) {
	var files []*entry
	var dirs []string
	links := []Symlink{}
	skipped := []string{}
	var special []string
	onWay := map[string]bool{}
	var walk func(rel string) error
	walk = func(rel string) error {
		ents, err := fs.ReadDir(fsys, rel)
		if err != nil {
			return err
		}
		for _, e := range ents {
			r := store.Join(rel, e.Name())
			l, isLink := store.LinkOf(e)
			if isLink {
				l.Name = r // as the copy names it (below a linked directory too)
				sl := Symlink{Link: l}
				use := l.Kind == store.LinkInside || l.Kind == store.LinkOutside && follow
				if use && e.IsDir() {
					sl.Copied = "dir"
				} else if use && e.Type().IsRegular() {
					sl.Copied = "file"
				}
				if sl.Copied == "dir" && cv != nil {
					if real, err := cv.Real(r); err == nil && onWay[real] {
						sl.Kind, sl.Copied, sl.Resolved, sl.Dir = store.LinkLoop, "", "", false
					}
				}
				links = append(links, sl)
				if sl.Copied == "" {
					continue
				}
			}
			if ownName(e.Name()) {
				skipped = append(skipped, r)
				continue
			}
			switch {
			case e.IsDir():
				dirs = append(dirs, r)
				var real string
				if cv != nil {
					real, _ = cv.Real(r)
					onWay[real] = true
				}
				if err := walk(r); err != nil {
					return err
				}
				delete(onWay, real)
			case e.Type().IsRegular():
				info, err := e.Info()
				if err != nil {
					return err
				}
				files = append(files, &entry{rel: r, size: info.Size(), perm: info.Mode().Perm()})
			default:
				// A named pipe, socket or device: never read (opening a
				// pipe blocks), never dropped without a word.
				special = append(special, fmt.Sprintf("%s (%s)", r, specialKind(e.Type())))
			}
		}
		return nil
	}
	if cv != nil {
		onWay["."] = true
	}
	if err := walk("."); err != nil {
		return nil, nil, nil, nil, err
	}
	if len(special) > 0 && cv != nil {
		return nil, nil, nil, nil, fmt.Errorf("%w: %s", ErrSpecialFile, strings.Join(special, "; "))
	}
	return files, dirs, links, skipped, nil
}

// specialKind names what a file that is neither regular nor a directory is.
func specialKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file (" + m.String() + ")"
}

// pairSidecars attaches each .crc sidecar to its data file.
func pairSidecars(files []*entry) []*entry {
	byRel := map[string]*entry{}
	for _, f := range files {
		byRel[f.rel] = f
	}
	var out []*entry
	for _, f := range files {
		d, base := path.Split(f.rel)
		if data, ok := crcfile.IsSidecar(base); ok {
			if owner := byRel[d+data]; owner != nil {
				owner.sidecar = f
				continue
			}
		}
		out = append(out, f)
	}
	return out
}

// checkSource refuses trees a copy must not make a relocated copy of.
func checkSource(files []*entry, mp *rewrite.Mapper) error {
	rewritable := false
	for _, f := range files {
		if f.rel == rewrite.MarkerName {
			return fmt.Errorf("an earlier 'sparkckpt rewrite' of this directory was interrupted (%s): complete it with --resume or roll it back with --undo first", rewrite.MarkerName)
		}
		if f.rel == check.IncompleteCopyName {
			return fmt.Errorf("it is an incomplete copy (%s: a 'sparkckpt cp' to it was interrupted, so files may be missing): copy from the original instead", check.IncompleteCopyName)
		}
		top, _, _ := strings.Cut(f.rel, "/")
		// DStream files, or a Structured Streaming checkpoint or file sink log.
		if rewrite.KindOfPath(f.rel) != "" || top == "offsets" || top == "_spark_metadata" {
			rewritable = true
		}
	}
	if !rewritable && mp != nil && len(mp.Mappings()) > 0 {
		return fmt.Errorf("%w: no checkpoint-<ms> file, no receivedBlockMetadata/log-*, no offsets/ and no _spark_metadata/, so --map would change nothing", rewrite.ErrNotCheckpoint)
	}
	return nil
}

// isLog reports whether rel is a write-ahead log, which Spark writes
// through the raw local file system (no sidecar).
func isLog(rel string) bool {
	dir, base := path.Split(rel)
	parts := strings.Split(strings.TrimSuffix(dir, "/"), "/")
	inLogDir := dir == "receivedBlockMetadata/" || len(parts) == 2 && parts[0] == "receivedData"
	return inLogDir && len(wal.ListLogs([]string{base})) == 1
}

func (c *copier) step(s string) {
	if c.o.Step == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.o.Step(s)
}

func (c *copier) progress(current string, files int, n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.prog.FilesDone += files
	c.prog.BytesDone += n
	if current != "" {
		c.prog.Current = current
	}
	if c.o.Progress != nil {
		c.o.Progress(c.prog)
	}
}

func (c *copier) run(files []*entry, dirs []string) error {
	for _, d := range dirs {
		if err := c.dst.MkdirAll(store.Join(c.tmp, d), 0o755); err != nil {
			return err
		}
	}
	c.rep.Dirs = len(dirs)
	c.step("mkdir")
	c.prog.Files = len(files)
	for _, f := range files {
		c.prog.Bytes += f.size
		if f.sidecar != nil {
			c.prog.Bytes += f.sidecar.size
		}
	}
	c.progress("", 0, 0)

	ctx, cancel := context.WithCancel(c.ctx)
	defer cancel()
	jobs := make(chan *job)
	errs := make(chan error, c.o.Parallel)
	var wg sync.WaitGroup
	for range c.o.Parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				err := c.copyFile(ctx, j.f)
				j.done()
				if err != nil {
					errs <- err
					cancel()
					for j := range jobs { // release the feeder
						j.done()
					}
					return
				}
			}
		}()
	}
	// Largest first, so the pool ends together; ties in path order.
	order := append([]*entry(nil), files...)
	sort.SliceStable(order, func(i, j int) bool { return order[i].size > order[j].size })
	if c.direct {
		// Written in place: the checkpoint files Spark restarts from come
		// last, once everything they reference is there.
		sort.SliceStable(order, func(i, j int) bool {
			return !isCheckpointFile(order[i].rel) && isCheckpointFile(order[j].rel)
		})
	}
	var written sync.WaitGroup
feed:
	for i, f := range order {
		if c.direct && i > 0 && isCheckpointFile(f.rel) && !isCheckpointFile(order[i-1].rel) {
			written.Wait() // every other file is written before the first checkpoint file starts
		}
		written.Add(1)
		select {
		case jobs <- &job{f, written.Done}:
		case <-ctx.Done():
			written.Done()
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	if err := c.ctx.Err(); err != nil {
		return err
	}
	if c.batch != nil {
		// Every file was created unsynced: make the tree durable before
		// it is verified and renamed into place.
		if err := c.batch.SyncTree(c.tmp); err != nil {
			return err
		}
	}
	if err := c.verifyTree(); err != nil {
		return err
	}
	c.step("verify")
	return nil
}

// job is a file to copy and what to call once it is copied.
type job struct {
	f    *entry
	done func()
}

// isCheckpointFile reports whether rel is a checkpoint-<ms> file (or .bk)
// of the copied directory.
func isCheckpointFile(rel string) bool { return rewrite.KindOfPath(rel) == rewrite.KindCheckpoint }

// copyFile copies one file and its sidecar into the temporary directory.
func (c *copier) copyFile(ctx context.Context, f *entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	kind := rewrite.KindOfPath(f.rel)
	var srcSidecar []byte
	if f.sidecar != nil {
		b, err := store.ReadFile(c.src, store.Join(c.srcDir, f.sidecar.rel))
		if err != nil {
			return err
		}
		srcSidecar = b
	}
	fr := FileReport{Path: f.rel, Kind: kind, Size: f.size}
	var written []byte // the destination bytes, when held in memory
	var srcCRC *crcChunker
	var err error
	if kind != "" {
		written, srcCRC, err = c.rewriteFile(f, srcSidecar, &fr)
	} else {
		srcCRC, err = c.streamFile(ctx, f, srcSidecar, &fr)
	}
	if err != nil {
		return err
	}
	if err := c.sidecar(f, srcSidecar, srcCRC, written, &fr); err != nil {
		return err
	}
	if kind != "" && fr.Edits != nil || c.o.Verify {
		if err := c.verifyFile(f.rel, fr.CRC32C); err != nil {
			return err
		}
	}
	c.mu.Lock()
	c.rep.Files = append(c.rep.Files, fr)
	if fr.Edits != nil {
		c.rep.Rewritten++
		c.rep.Edits += len(fr.Edits)
	}
	c.rep.BytesRead += f.size
	c.rep.BytesWritten += fr.NewSize
	c.expected[f.rel] = fr.NewSize
	c.mu.Unlock()
	c.step("file " + f.rel)
	c.progress(f.rel, 1, 0)
	return nil
}

// rewriteFile reads a checkpoint or log file whole, rewrites it and writes the result.
func (c *copier) rewriteFile(f *entry, srcSidecar []byte, fr *FileReport) ([]byte, *crcChunker, error) {
	in, err := store.ReadFile(c.src, store.Join(c.srcDir, f.rel))
	if err != nil {
		return nil, nil, err
	}
	c.progress(f.rel, 0, int64(len(in)))
	var srcCRC *crcChunker
	if srcSidecar != nil {
		srcCRC = newChunker(sidecarBPC(srcSidecar))
		srcCRC.Write(in)
	}
	out := in
	if c.o.Mapper != nil && len(c.o.Mapper.Mappings()) > 0 {
		nb, edits, err := rewrite.File(f.rel, in, c.o.Mapper)
		switch {
		case err != nil && c.o.SkipUndecodable:
			c.mu.Lock()
			c.rep.Undecodable = append(c.rep.Undecodable, Problem{File: f.rel, Error: decode.WithFile(err, f.rel).Error()})
			c.mu.Unlock()
		case err != nil:
			return nil, nil, fmt.Errorf("%w (copy it unchanged with --skip-undecodable)", decode.WithFile(err, f.rel))
		case nb != nil:
			out, fr.Edits = nb, edits
		}
	}
	if err := c.write(f.rel, f.perm, bytes.NewReader(out)); err != nil {
		return nil, nil, err
	}
	fr.NewSize = int64(len(out))
	fr.CRC32C = crcHex(crc32.Checksum(out, castagnoli()))
	if fr.Edits != nil {
		fr.SHA256 = hashHex(out)
	}
	return out, srcCRC, nil
}

// streamFile copies a file the rewrite never changes, without holding it.
func (c *copier) streamFile(ctx context.Context, f *entry, srcSidecar []byte, fr *FileReport) (*crcChunker, error) {
	r, err := c.src.Open(store.Join(c.srcDir, f.rel))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	h := crc32.New(castagnoli())
	ws := []io.Writer{h}
	var srcCRC *crcChunker
	if srcSidecar != nil {
		srcCRC = newChunker(sidecarBPC(srcSidecar))
		ws = append(ws, srcCRC)
	} else if c.createsSidecar(f) {
		// The bytes do not change: the chunker of the source is the destination's.
		srcCRC = newChunker(crcfile.DefaultBytesPerChecksum)
		ws = append(ws, srcCRC)
	}
	counted := &progressReader{ctx: ctx, r: r, c: c, rel: f.rel}
	if err := c.write(f.rel, f.perm, io.TeeReader(counted, io.MultiWriter(ws...))); err != nil {
		return nil, err
	}
	if counted.n != f.size {
		return nil, fmt.Errorf("%s: read %d bytes, the listing said %d (changed while copying?)", c.srcURI+"/"+f.rel, counted.n, f.size)
	}
	fr.NewSize = counted.n
	fr.CRC32C = crcHex(h.Sum32())
	return srcCRC, nil
}

type progressReader struct {
	ctx context.Context
	r   io.Reader
	c   *copier
	rel string
	n   int64
}

func (p *progressReader) Read(b []byte) (int, error) {
	if err := p.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := p.r.Read(b)
	p.n += int64(n)
	if n > 0 {
		p.c.progress(p.rel, 0, int64(n))
	}
	return n, err
}

// write creates rel in the temporary directory from r, durably.
func (c *copier) write(rel string, perm fs.FileMode, r io.Reader) error {
	if perm == 0 {
		perm = 0o644
	}
	name := store.Join(c.tmp, rel)
	var w store.Writer
	var err error
	if c.batch != nil {
		w, err = c.batch.CreateUnsynced(name, perm)
	} else {
		w, err = c.dst.Create(name, perm)
	}
	if err != nil {
		return err
	}
	buf := c.bufs.Get().(*[]byte)
	defer c.bufs.Put(buf)
	if _, err := io.CopyBuffer(onlyWriter{w}, r, *buf); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// onlyWriter hides ReadFrom so that CopyBuffer uses our buffer size.
type onlyWriter struct{ io.Writer }

// createsSidecar reports whether the destination gets a sidecar the
// source does not have: copying to the local disk from a store without
// sidecars, for files Spark writes through LocalFileSystem.
func (c *copier) createsSidecar(f *entry) bool {
	return c.dstSums && !c.srcSums && f.sidecar == nil && !isLog(f.rel) && !store.IsTemp(path.Base(f.rel))
}

// sidecar verifies the source sidecar and writes the destination's.
func (c *copier) sidecar(f *entry, srcSidecar []byte, srcCRC *crcChunker, written []byte, fr *FileReport) error {
	var out []byte
	switch {
	case srcSidecar != nil:
		matches := srcCRC != nil && bytes.Equal(srcCRC.Sidecar(), srcSidecar)
		if !matches {
			msg := "does not match its .crc sidecar"
			if _, err := crcfile.Parse(srcSidecar); err != nil {
				msg = "has a .crc sidecar Hadoop cannot parse: " + err.Error()
			}
			c.mu.Lock()
			c.rep.CRCMismatches = append(c.rep.CRCMismatches, Problem{File: f.rel, Error: msg})
			c.mu.Unlock()
		}
		switch {
		case !c.dstSums:
			fr.Sidecar = "dropped"
		case fr.Edits != nil:
			out = crcfile.Compute(written, sidecarBPC(srcSidecar))
			fr.Sidecar = "recomputed"
		default:
			out = srcSidecar
			fr.Sidecar = "copied"
		}
		c.progress("", 0, int64(len(srcSidecar)))
	case c.createsSidecar(f):
		if written != nil {
			out = crcfile.Compute(written, crcfile.DefaultBytesPerChecksum)
		} else {
			out = srcCRC.Sidecar()
		}
		fr.Sidecar = "created"
	}
	if fr.Sidecar != "" {
		c.mu.Lock()
		c.rep.Sidecars[fr.Sidecar]++
		c.mu.Unlock()
	}
	if out == nil {
		return nil
	}
	rel := crcfile.SidecarName(f.rel)
	perm := f.perm
	if f.sidecar != nil {
		perm = f.sidecar.perm
	}
	if err := c.write(rel, perm, bytes.NewReader(out)); err != nil {
		return err
	}
	c.mu.Lock()
	c.expected[rel] = int64(len(out))
	c.mu.Unlock()
	return nil
}

func sidecarBPC(sidecar []byte) int {
	if s, err := crcfile.Parse(sidecar); err == nil {
		return s.BytesPerChecksum
	}
	return crcfile.DefaultBytesPerChecksum
}

// verifyFile reads rel back from the destination and compares its CRC32C.
func (c *copier) verifyFile(rel, want string) error {
	r, err := c.dst.Open(store.Join(c.tmp, rel))
	if err != nil {
		return err
	}
	defer r.Close()
	h := crc32.New(castagnoli())
	buf := c.bufs.Get().(*[]byte)
	defer c.bufs.Put(buf)
	if _, err := io.CopyBuffer(h, r, *buf); err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if got := crcHex(h.Sum32()); got != want {
		return fmt.Errorf("verify: %s: the destination holds other bytes than were written (crc32c %s, wrote %s)", c.tmpURI+"/"+rel, got, want)
	}
	c.mu.Lock()
	c.rep.Verified++
	c.mu.Unlock()
	return nil
}

// verifyTree lists the temporary directory and compares it with what was written.
func (c *copier) verifyTree() error {
	files, _, _, err := listTree(c.dst, c.tmp)
	if err != nil {
		return err
	}
	got := map[string]int64{}
	for _, f := range files {
		if c.direct && f.rel == check.IncompleteCopyName {
			continue
		}
		got[f.rel] = f.size
		if f.sidecar != nil {
			got[f.sidecar.rel] = f.sidecar.size
		}
	}
	var problems []string
	for rel, size := range c.expected {
		if g, ok := got[rel]; !ok {
			problems = append(problems, "missing "+rel)
		} else if g != size {
			problems = append(problems, fmt.Sprintf("%s has %d bytes, %d were written", rel, g, size))
		}
	}
	for rel := range got {
		if _, ok := c.expected[rel]; !ok {
			problems = append(problems, "unexpected "+rel)
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("verify: the copy in %s differs from what was written: %s", c.tmpURI, strings.Join(problems, "; "))
	}
	return nil
}

// copyBufSize is the size of the buffers files are copied through.
const copyBufSize = 256 << 10

// castagnoli is the CRC32C table (hardware-accelerated on amd64 and arm64):
// the checksum a copy reports and verifies with, and the one S3 stores.
// (crc32 caches the table: MakeTable is cheap after the first call).
func castagnoli() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) }

func crcHex(sum uint32) string {
	return fmt.Sprintf("%08x", sum)
}

// NewCRC32C returns the checksum a copy reports and verifies every file
// with (FileReport.CRC32C): CRC32C, Castagnoli, the one S3 stores.
func NewCRC32C() hash.Hash32 { return crc32.New(castagnoli()) }

// CRC32CHex formats a CRC32C as FileReport.CRC32C holds it: 8 lower-case
// hex digits.
func CRC32CHex(sum uint32) string { return crcHex(sum) }

func hashHex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// crcChunker computes a Hadoop sidecar while bytes stream through it,
// the same bytes as crcfile.Compute.
type crcChunker struct {
	bpc     int
	partial []byte
	sums    []byte
}

func newChunker(bpc int) *crcChunker {
	if bpc <= 0 {
		bpc = crcfile.DefaultBytesPerChecksum
	}
	return &crcChunker{bpc: bpc, partial: make([]byte, 0, bpc)}
}

func (k *crcChunker) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if len(k.partial) == 0 && len(p) >= k.bpc {
			k.sums = binary.BigEndian.AppendUint32(k.sums, crc32.ChecksumIEEE(p[:k.bpc]))
			p = p[k.bpc:]
			continue
		}
		m := min(k.bpc-len(k.partial), len(p))
		k.partial = append(k.partial, p[:m]...)
		p = p[m:]
		if len(k.partial) == k.bpc {
			k.sums = binary.BigEndian.AppendUint32(k.sums, crc32.ChecksumIEEE(k.partial))
			k.partial = k.partial[:0]
		}
	}
	return n, nil
}

// Sidecar returns the sidecar of everything written so far.
func (k *crcChunker) Sidecar() []byte {
	out := append([]byte(crcfile.Magic), 0, 0, 0, 0)
	binary.BigEndian.PutUint32(out[4:], uint32(k.bpc))
	out = append(out, k.sums...)
	if len(k.partial) > 0 {
		out = binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(k.partial))
	}
	return out
}
