// Package backup takes verified, incremental backups of a live Spark
// checkpoint directory (DStream or Structured Streaming) into time-stamped
// folders under a destination prefix, lists them, restores one through
// the cp engine (package rewrite/copytree) and prunes them by a
// restic-style retention policy.
//
// # Layout
//
// A backup is DEST/<UTC yyyymmddThhmmssZ>/: a plain copy of the files a
// restart needs, at the paths they have in the checkpoint directory (any
// tool can copy it back), plus the manifest [ManifestName], written last.
// A backup without a manifest that parses is incomplete: a kill, an
// error, or a copy still running.
//
// # The cut
//
// By default a backup holds a restorable cut, not everything: the files
// 'sparkckpt check' reads or looks up to decide that the checkpoint
// restores (decode/check for DStream: the checkpoint file Spark picks and
// its .bk, the RDD checkpoint directories and input files under the
// directory, the driver write-ahead log and the receiver logs its blocks
// name; decode/structured for Structured Streaming: metadata, the offsets
// and commits logs, the source and sink logs, and per state store the
// snapshot and delta chain or RocksDB zip, SST files and changelogs of the
// version the restart loads), each with its Hadoop .crc sidecar. The
// source is checked through a recording view, and what the check touched
// is the cut. Options.All copies every file instead.
//
// Spark may write and delete files while a backup runs. Data is copied
// before the metadata that names it (state, RDD data and logs first;
// commits, offsets, checkpoint files and metadata last); a file of the
// cut that vanished, or a copy that does not check clean, makes the
// backup take a new cut and copy what changed, up to Options.Attempts
// times (each retry is reported). The copy is then checked where it lies
// (the same check as 'sparkckpt check'); only a clean check writes the
// manifest, created exclusively (store.Create), holding the source, the
// checkpointDir or query id, the point the backup restores to, every file
// with its size and CRC32C, and the sparkckpt version.
//
// # Incremental
//
// A file at the same path, with the same size and CRC32C as in the newest
// complete backup, is hard-linked from it where the destination has hard
// links (store.Linker, the local disk) instead of written again, so each
// backup is self-contained and can be pruned on its own. The source is
// still read to compute the checksum.
//
// # Concurrency
//
// Backup and Prune hold the lock of DEST (package rewrite/lock, the file
// DEST/.sparkckpt-backup.sparkckpt-lock), so two backups to one
// destination never interleave and a prune never removes a backup being
// written.
package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/check"
	"github.com/sparkckpt/sparkckpt/decode/crcfile"
	"github.com/sparkckpt/sparkckpt/decode/structured"
	"github.com/sparkckpt/sparkckpt/rewrite/copytree"
	"github.com/sparkckpt/sparkckpt/rewrite/lock"
	"github.com/sparkckpt/sparkckpt/store"
)

// ManifestName is the manifest of a backup, at the root of its folder.
const ManifestName = "_SPARKCKPT_BACKUP.json"

// LockDir is the name under DEST whose lock (lock.Name) backups and prunes hold.
const LockDir = ".sparkckpt-backup"

// IDLayout is the time layout of a backup's folder name (UTC).
const IDLayout = "20060102T150405Z"

var idRE = regexp.MustCompile(`^\d{8}T\d{6}Z$`)

// IsID reports whether name is a backup folder name.
func IsID(name string) bool {
	if !idRE.MatchString(name) {
		return false
	}
	_, err := time.Parse(IDLayout, name)
	return err == nil
}

// Kinds of checkpoint.
const (
	KindDStream    = "dstream"
	KindStructured = "structured"
	// KindBoth is a folder holding a Structured Streaming checkpoint and
	// a DStream one side by side.
	KindBoth = "structured+dstream"
)

// Manifest is the content of ManifestName.
type Manifest struct {
	Format int       `json:"format"` // 1
	ID     string    `json:"id"`
	Time   time.Time `json:"time"` // when the backup started
	// Source is the checkpoint directory backed up (a path or URI).
	Source string `json:"source"`
	Kind   string `json:"kind"` // KindDStream, KindStructured or KindBoth
	// CheckpointDir (DStream) is the checkpointDir stored in the
	// checkpoint; QueryID (Structured) the query id in metadata.
	CheckpointDir string       `json:"checkpointDir,omitempty"`
	QueryID       string       `json:"queryId,omitempty"`
	RestoresTo    RestorePoint `json:"restoresTo"`
	// All is true for an --all backup (every file, not the cut).
	All   bool   `json:"all"`
	Files []File `json:"files"`
	Bytes int64  `json:"bytes"`
	// TransferredBytes were written; the rest was linked from Previous.
	TransferredBytes int64  `json:"transferredBytes"`
	LinkedFiles      int    `json:"linkedFiles"`
	Previous         string `json:"previous,omitempty"`
	// Attempts is how many cuts were taken (1 unless Spark changed files
	// under the backup).
	Attempts     int           `json:"attempts"`
	Verification Verification  `json:"verification"`
	Version      string        `json:"sparkckptVersion"`
	Duration     time.Duration `json:"durationNs"`
}

// File is one file of a backup.
type File struct {
	Path   string `json:"path"` // slash-separated, relative to the backup folder
	Size   int64  `json:"size"`
	CRC32C string `json:"crc32c"` // Castagnoli, 8 hex digits
}

// RestorePoint is the point a checkpoint restarts from.
type RestorePoint struct {
	// DStream: the checkpoint file Spark picks and its checkpoint time.
	CheckpointFile   string `json:"checkpointFile,omitempty"`
	CheckpointTimeMs int64  `json:"checkpointTimeMs,omitempty"`
	// Structured: the batch a restart runs and the state version it loads.
	Batch        *int64 `json:"batch,omitempty"`
	StateVersion *int64 `json:"stateVersion,omitempty"`
}

// String describes the point for people.
func (p RestorePoint) String() string {
	var parts []string
	if p.Batch != nil {
		s := fmt.Sprintf("batch %d", *p.Batch)
		if p.StateVersion != nil && *p.StateVersion > 0 {
			s += fmt.Sprintf(" (state version %d)", *p.StateVersion)
		}
		parts = append(parts, s)
	}
	if p.CheckpointFile != "" {
		parts = append(parts, fmt.Sprintf("%s (checkpoint time %s)", p.CheckpointFile, time.UnixMilli(p.CheckpointTimeMs).UTC().Format(time.RFC3339)))
	}
	if len(parts) == 0 {
		return "nothing (no checkpoint yet)"
	}
	return strings.Join(parts, " and ")
}

// Verification is the check of a tree.
type Verification struct {
	OK       bool `json:"ok"`
	Errors   int  `json:"errors"`
	Warnings int  `json:"warnings"`
	// Findings are the error findings (all of them when not OK).
	Findings []check.Finding `json:"findings,omitempty"`
}

// Verdict is the result of CheckTree.
type Verdict struct {
	Kind          string
	Verification  Verification
	RestoresTo    RestorePoint
	CheckpointDir string
	QueryID       string
	// Chosen is the DStream checkpoint file Spark picks ("" otherwise).
	Chosen string
}

// CheckTree runs 'sparkckpt check' on the checkpoint at the root of fsys:
// the Structured Streaming check if it has offsets/, the DStream check if
// it has checkpoint files or a write-ahead log, both (Kind KindBoth) for
// a folder that holds both. path names it in findings; expect are
// --expect-fs values.
func CheckTree(ctx context.Context, fsys fs.FS, path string, expect []string, lim decode.Limits) (*Verdict, error) {
	return checkTree(ctx, fsys, fsys, path, expect, lim)
}

// checkTree reads the Structured Streaming checkpoint through sfs and
// the DStream one through dfs (the same tree; two recorders for a cut).
func checkTree(ctx context.Context, sfs, dfs fs.FS, path string, expect []string, lim decode.Limits) (*Verdict, error) {
	var v *Verdict
	if structured.IsCheckpointDir(sfs) {
		r, err := structured.Check(sfs, structured.CheckOptions{Path: path, ExpectFS: expect, Limits: lim})
		if err != nil {
			return nil, err
		}
		v = &Verdict{Kind: KindStructured, QueryID: r.QueryID,
			Verification: verification(r.OK, r.Counts, r.Findings)}
		if r.LatestBatch != nil {
			b, sv := r.RunBatch, r.StateVersion
			v.RestoresTo = RestorePoint{Batch: &b, StateVersion: &sv}
		}
	}
	r, err := check.FS(ctx, dfs, check.Options{Path: path, ExpectFS: expect, Limits: lim})
	if v != nil && errors.Is(err, check.ErrNotCheckpointDir) {
		return v, nil
	}
	if err != nil {
		return nil, err
	}
	d := verification(r.OK, r.Counts, r.Findings)
	if v == nil {
		v = &Verdict{Kind: KindDStream, Verification: d}
	} else {
		v.Kind = KindBoth
		v.Verification.OK = v.Verification.OK && d.OK
		v.Verification.Errors += d.Errors
		v.Verification.Warnings += d.Warnings
		v.Verification.Findings = append(v.Verification.Findings, d.Findings...)
	}
	v.CheckpointDir = r.CheckpointDir
	if r.Chosen != nil {
		v.Chosen = r.Chosen.File
		v.RestoresTo.CheckpointFile, v.RestoresTo.CheckpointTimeMs = r.Chosen.File, r.Chosen.CheckpointTimeMs
	}
	return v, nil
}

func verification(ok bool, c check.Counts, fs []check.Finding) Verification {
	v := Verification{OK: ok, Errors: c.Error, Warnings: c.Warning}
	for _, f := range fs {
		if f.Severity == check.Error {
			v.Findings = append(v.Findings, f)
		}
	}
	return v
}

// releaseCodes are findings about the Spark release that will restart
// the checkpoint, not about its files: they do not stop a backup (the
// backup is as restorable as its source by the release that wrote it).
var releaseCodes = map[string]bool{"log-version-unsupported": true, "conf-unsupported": true}

// backupOK reports whether a verification lets a backup proceed: no
// error but release findings.
func backupOK(v Verification) bool {
	for _, f := range v.Findings {
		if !releaseCodes[f.Code] {
			return false
		}
	}
	return true
}

// fingerprint sums up a listing (names and sizes): Spark changed the
// directory when it differs.
func fingerprint(files []srcFile) string {
	h := copytree.NewCRC32C()
	for _, f := range files {
		fmt.Fprintf(h, "%s\x00%d\x00", f.rel, f.size)
	}
	return copytree.CRC32CHex(h.Sum32())
}

// Options configure Backup.
type Options struct {
	// SourceURI names the source in the manifest and messages.
	SourceURI string
	// DestURI names DEST in messages.
	DestURI string
	// All copies every file instead of the restorable cut.
	All bool
	// DryRun computes the cut and says what would be copied and linked;
	// nothing is written and no lock is taken.
	DryRun bool
	// Parallel files are copied at once; 4 if zero.
	Parallel int
	// Attempts bounds the cuts taken when Spark changes files under the
	// backup; 3 if zero.
	Attempts int
	// Version is sparkckpt's version, recorded in the manifest.
	Version string
	Limits  decode.Limits
	// Now is the clock; time.Now if nil.
	Now func() time.Time
	// Step, if set, is called after every durable step ("mkdir", "file
	// REL", "check", "manifest"): for crash tests.
	Step func(string)
	// AfterCopy, if set, is called after an attempt's copy, before its
	// check (tests make Spark act there).
	AfterCopy func(attempt int)
	// BWLimit, if positive, bounds the bytes per second the backup reads
	// to copy and checksum files (all transfers together; the checks'
	// own reads are not limited).
	BWLimit int64
	// Progress, if set, is called (never concurrently) as files are
	// copied or linked; each attempt starts a new count.
	Progress func(copytree.Progress)
}

// Result says what Backup did (or, with DryRun, would do).
type Result struct {
	// Dir is the backup folder's store name; ID its name.
	Dir      string    `json:"dir"`
	Manifest *Manifest `json:"manifest"`
	// Retries says why each cut after the first was taken.
	Retries []string `json:"retries"`
	// Notes are other things worth saying (a stale lock taken over).
	Notes  []string `json:"notes"`
	DryRun bool     `json:"dryRun"`
}

// NotRestorableError means the source cannot be backed up restorably:
// its check, or the check of every attempted copy, found errors.
type NotRestorableError struct {
	What     string
	Findings []check.Finding
}

func (e *NotRestorableError) Error() string {
	var b strings.Builder
	b.WriteString(e.What)
	for i, f := range e.Findings {
		if i == 5 {
			fmt.Fprintf(&b, "; and %d more", len(e.Findings)-5)
			break
		}
		fmt.Fprintf(&b, "; %s: %s", f.Code, f.Message)
	}
	return b.String()
}

// recorder is an fs.FS that records what a check opens and stats.
type recorder struct {
	fsys   fs.FS
	mu     sync.Mutex
	opened map[string]bool
	stated map[string]bool
}

func newRecorder(fsys fs.FS) *recorder {
	return &recorder{fsys: fsys, opened: map[string]bool{}, stated: map[string]bool{}}
}

func (r *recorder) note(m map[string]bool, name string) {
	r.mu.Lock()
	m[path.Clean(name)] = true
	r.mu.Unlock()
}

func (r *recorder) Open(name string) (fs.File, error) {
	r.note(r.opened, name)
	return r.fsys.Open(name)
}

func (r *recorder) Stat(name string) (fs.FileInfo, error) {
	r.note(r.stated, name)
	return fs.Stat(r.fsys, name)
}

func (r *recorder) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(r.fsys, name) }

func (r *recorder) ReadFile(name string) ([]byte, error) {
	r.note(r.opened, name)
	return fs.ReadFile(r.fsys, name)
}

// srcFile is a regular file of the source.
type srcFile struct {
	rel  string
	size int64
	perm fs.FileMode
}

// listFiles lists the regular files under dir of s, leaving out
// sparkckpt's temporaries and locks, and symbolic links.
func listFiles(s store.Store, dir string) ([]srcFile, error) {
	var out []srcFile
	var walk func(rel string) error
	walk = func(rel string) error {
		ents, err := s.ReadDir(store.Join(dir, rel))
		if err != nil {
			if rel != "." && errors.Is(err, fs.ErrNotExist) {
				return nil // deleted by Spark meanwhile
			}
			return err
		}
		for _, e := range ents {
			n := e.Name()
			if store.IsTemp(n) || strings.HasSuffix(n, lock.Suffix) || strings.HasSuffix(n, lock.Suffix+".break") {
				continue
			}
			r := store.Join(rel, n)
			switch {
			case e.IsDir():
				if err := walk(r); err != nil {
					return err
				}
			case e.Type().IsRegular():
				info, err := e.Info()
				if err != nil {
					continue
				}
				out = append(out, srcFile{rel: r, size: info.Size(), perm: info.Mode().Perm()})
			}
		}
		return nil
	}
	if err := walk("."); err != nil {
		return nil, err
	}
	return out, nil
}

var ckptRE = regexp.MustCompile(`^checkpoint-\d+(\.bk)?$`)

// cut is what one attempt copies.
type cut struct {
	files       []srcFile
	verdict     *Verdict
	fingerprint string // of the whole listing
}

// takeCut checks the source through a recorder and returns the files a
// restart needs (all of them with all).
func takeCut(ctx context.Context, src store.Store, srcDir, display string, all bool, lim decode.Limits) (*cut, error) {
	rec, drec := newRecorder(store.FS(src, srcDir)), newRecorder(store.FS(src, srcDir))
	v, err := checkTree(ctx, rec, drec, display, nil, lim)
	if err != nil {
		return nil, err
	}
	files, err := listFiles(src, srcDir)
	if err != nil {
		return nil, err
	}
	c := &cut{verdict: v, fingerprint: fingerprint(files)}
	if all {
		c.files = files
		return c, nil
	}
	want := map[string]bool{}
	for _, r := range []*recorder{rec, drec} {
		for n := range r.opened {
			want[n] = true
		}
		for n := range r.stated {
			want[n] = true
		}
	}
	var dirs []string
	for n := range drec.stated {
		if n != "." {
			dirs = append(dirs, n+"/") // an RDD checkpoint directory: all of it
		}
	}
	if v.Chosen != "" {
		want[v.Chosen+".bk"] = true
	}
	inCut := func(rel string) bool {
		if ckptRE.MatchString(rel) { // only the one Spark picks, and its .bk
			return v.Chosen != "" && (rel == v.Chosen || rel == v.Chosen+".bk")
		}
		if want[rel] {
			return true
		}
		for _, d := range dirs {
			if strings.HasPrefix(rel, d) {
				return true
			}
		}
		return false
	}
	chosen := map[string]bool{}
	for _, f := range files {
		if inCut(f.rel) {
			chosen[f.rel] = true
		}
	}
	for _, f := range files { // sidecars of the files in the cut
		d, base := path.Split(f.rel)
		if data, ok := crcfile.IsSidecar(base); ok && chosen[d+data] {
			chosen[f.rel] = true
		}
	}
	for _, f := range files {
		if chosen[f.rel] {
			c.files = append(c.files, f)
		}
	}
	return c, nil
}

// rank orders copying: data before the metadata that names it.
func rank(rel string) int {
	d, base := path.Split(rel)
	if data, ok := crcfile.IsSidecar(base); ok {
		rel = d + data
	}
	top, _, _ := strings.Cut(rel, "/")
	switch {
	case rel == "metadata":
		return 4
	case top == "offsets", ckptRE.MatchString(rel):
		return 3
	case top == "commits", top == "receivedBlockMetadata":
		return 2
	}
	return 1
}

// Backup backs up the checkpoint directory srcDir of src into a new
// folder under destDir of dst. See the package doc.
func Backup(ctx context.Context, src store.Store, srcDir string, dst store.Store, destDir string, o Options) (*Result, error) {
	start := time.Now()
	if o.Parallel <= 0 {
		o.Parallel = 4
	}
	if o.Attempts <= 0 {
		o.Attempts = 3
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	if o.SourceURI == "" {
		o.SourceURI = srcDir
	}
	if o.DestURI == "" {
		o.DestURI = destDir
	}
	if src == dst && (within(destDir, srcDir) || within(srcDir, destDir)) {
		return nil, fmt.Errorf("%s and %s: one is inside the other", o.SourceURI, o.DestURI)
	}
	st, err := src.Stat(srcDir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s: not a directory: backup takes a checkpoint directory", o.SourceURI)
	}
	res := &Result{Retries: []string{}, Notes: []string{}, DryRun: o.DryRun}
	if !o.DryRun {
		if err := dst.MkdirAll(destDir, 0o755); err != nil {
			return nil, err
		}
		l, err := lock.Acquire(dst, store.Join(destDir, LockDir), strings.TrimSuffix(o.DestURI, "/")+"/"+LockDir)
		if err != nil {
			return nil, err
		}
		defer l.Release()
		if l.TookOver != nil {
			res.Notes = append(res.Notes, fmt.Sprintf("took over the stale lock of %s, a backup or prune that is no longer running", l.TookOver))
		}
	}
	prev, err := newestComplete(dst, destDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	old := map[string]File{}
	if prev != nil {
		for _, f := range prev.Manifest.Files {
			old[f.Path] = f
		}
	}
	t := now().UTC().Truncate(time.Second)
	id := t.Format(IDLayout)
	bdir := store.Join(destDir, id)
	if !o.DryRun {
		for {
			if _, err := dst.Stat(bdir); errors.Is(err, fs.ErrNotExist) {
				break
			} else if err != nil {
				return nil, err
			}
			// One backup per second: wait for the next name.
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(t.Add(time.Second).Sub(now())):
			}
			t = now().UTC().Truncate(time.Second)
			id = t.Format(IDLayout)
			bdir = store.Join(destDir, id)
		}
	}
	m := &Manifest{Format: 1, ID: id, Time: t, Source: o.SourceURI, All: o.All, Version: o.Version}
	if prev != nil {
		m.Previous = prev.ID
	}
	res.Dir = bdir
	res.Manifest = m
	b := &backuper{ctx: ctx, src: src, srcDir: srcDir, dst: dst, bdir: bdir, o: o, old: old, copied: map[string]File{}}
	if prev != nil {
		b.prevDir = store.Join(destDir, prev.ID)
	}
	if lk, ok := dst.(store.Linker); ok && prev != nil {
		b.linker = lk
	} else if cp, ok := dst.(store.Copier); ok && prev != nil {
		b.linker = copierLinker{cp}
	}
	if bs, ok := dst.(store.BatchSyncer); ok {
		b.batch = bs
	}
	if o.BWLimit > 0 {
		b.limit = newLimiter(o.BWLimit)
	}
	var lastFail error
	for attempt := 1; attempt <= o.Attempts; attempt++ {
		m.Attempts = attempt
		c, err := takeCut(ctx, src, srcDir, o.SourceURI, o.All, o.Limits)
		if err != nil {
			b.cleanup()
			return nil, err
		}
		m.Kind, m.CheckpointDir, m.QueryID, m.RestoresTo = c.verdict.Kind, c.verdict.CheckpointDir, c.verdict.QueryID, c.verdict.RestoresTo
		if !backupOK(c.verdict.Verification) {
			lastFail = &NotRestorableError{What: fmt.Sprintf("%s does not check clean, so no backup of it restores", o.SourceURI), Findings: c.verdict.Verification.Findings}
			now, err := listFiles(src, srcDir)
			if err == nil && fingerprint(now) == c.fingerprint {
				break // nothing changed: the source is what it is
			}
			if attempt < o.Attempts {
				res.Retries = append(res.Retries, fmt.Sprintf("attempt %d: the source did not check clean (Spark may be writing it); cut again", attempt))
				continue
			}
			break
		}
		if o.DryRun {
			b.dryRun(c, m)
			return res, nil
		}
		if attempt == 1 {
			if err := dst.MkdirAll(bdir, 0o755); err != nil {
				return nil, err
			}
			b.made = true
			b.step("mkdir")
		}
		vanished, err := b.copyCut(c)
		if err != nil {
			b.cleanup()
			return nil, err
		}
		if o.AfterCopy != nil {
			o.AfterCopy(attempt)
		}
		if len(vanished) > 0 {
			lastFail = &NotRestorableError{What: fmt.Sprintf("files of the cut vanished while copying (%s)", strings.Join(vanished, ", "))}
			res.Retries = append(res.Retries, fmt.Sprintf("attempt %d: %d file(s) of the cut were deleted by Spark while copying (%s); cut again", attempt, len(vanished), first(vanished)))
			continue
		}
		if b.batch != nil {
			if err := b.batch.SyncTree(bdir); err != nil {
				b.cleanup()
				return nil, err
			}
		}
		v, err := CheckTree(ctx, store.FS(dst, bdir), strings.TrimSuffix(o.DestURI, "/")+"/"+id, nil, o.Limits)
		if err != nil {
			lastFail = err
			res.Retries = append(res.Retries, fmt.Sprintf("attempt %d: the copy could not be checked (%v); cut again", attempt, err))
			continue
		}
		b.step("check")
		if !backupOK(v.Verification) {
			lastFail = &NotRestorableError{What: "the copy does not check clean", Findings: v.Verification.Findings}
			res.Retries = append(res.Retries, fmt.Sprintf("attempt %d: the copy did not check clean (%s); cut again", attempt, findingsLine(v.Verification.Findings)))
			continue
		}
		m.Verification = v.Verification
		m.Kind, m.CheckpointDir, m.QueryID, m.RestoresTo = v.Kind, v.CheckpointDir, v.QueryID, v.RestoresTo
		m.Files = b.files()
		m.Bytes, m.TransferredBytes, m.LinkedFiles = 0, b.transferred, b.linked
		for _, f := range m.Files {
			m.Bytes += f.Size
		}
		m.Duration = time.Since(start)
		if err := writeManifest(dst, bdir, m); err != nil {
			b.cleanup()
			return nil, err
		}
		b.step("manifest")
		return res, nil
	}
	b.cleanup()
	if lastFail == nil {
		lastFail = errors.New("no attempt succeeded")
	}
	var nr *NotRestorableError
	if errors.As(lastFail, &nr) && len(res.Retries) > 0 {
		nr.What += fmt.Sprintf(" (after %d attempt(s): %s)", m.Attempts, strings.Join(res.Retries, "; "))
	}
	return res, lastFail
}

func first(s []string) string {
	if len(s) > 3 {
		return strings.Join(s[:3], ", ") + ", ..."
	}
	return strings.Join(s, ", ")
}

func findingsLine(fs []check.Finding) string {
	var parts []string
	for i, f := range fs {
		if i == 3 {
			parts = append(parts, "...")
			break
		}
		parts = append(parts, f.Code+" "+f.File)
	}
	return strings.Join(parts, "; ")
}

func within(a, b string) bool {
	return a == b || b == "." || strings.HasPrefix(a, b+"/")
}

// backuper holds the state of one backup.
type backuper struct {
	ctx         context.Context
	src         store.Store
	srcDir      string
	dst         store.Store
	bdir        string
	prevDir     string
	o           Options
	old         map[string]File
	linker      store.Linker // hard links, or server-side copies
	dirs        map[string]bool
	batch       store.BatchSyncer
	made        bool
	mu          sync.Mutex
	copied      map[string]File
	prog        copytree.Progress
	limit       *limiter // nil: no --bwlimit
	transferred int64
	linked      int
}

// done counts a file copied (or linked) for Progress.
func (b *backuper) done(f srcFile) {
	if b.o.Progress == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.prog.FilesDone++
	b.prog.BytesDone += f.size
	b.prog.Current = f.rel
	b.o.Progress(b.prog)
}

func (b *backuper) step(s string) {
	if b.o.Step != nil {
		b.mu.Lock()
		b.o.Step(s)
		b.mu.Unlock()
	}
}

// cleanup removes the folder of a backup that failed cleanly.
func (b *backuper) cleanup() {
	if b.made {
		store.RemoveAll(b.dst, b.bdir)
	}
}

func (b *backuper) files() []File {
	out := make([]File, 0, len(b.copied))
	for _, f := range b.copied {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func (b *backuper) dryRun(c *cut, m *Manifest) {
	for _, f := range c.files {
		m.Files = append(m.Files, File{Path: f.rel, Size: f.size})
		m.Bytes += f.size
		if o, ok := b.old[f.rel]; ok && o.Size == f.size && b.linker != nil {
			m.LinkedFiles++ // at most: the checksum decides
		} else {
			m.TransferredBytes += f.size
		}
	}
}

// copyCut copies the files of c not yet in the backup (and the metadata
// again), rank by rank, and removes files of earlier attempts that are
// not in c. It returns the files that vanished from the source.
func (b *backuper) copyCut(c *cut) ([]string, error) {
	in := map[string]bool{}
	byRank := map[int][]srcFile{}
	for _, f := range c.files {
		in[f.rel] = true
		r := rank(f.rel)
		if have, ok := b.copied[f.rel]; ok && r == 1 && have.Size == f.size {
			continue // data never changes once written
		}
		byRank[r] = append(byRank[r], f)
	}
	for rel := range b.copied {
		if !in[rel] {
			if err := b.dst.Remove(store.Join(b.bdir, rel)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, err
			}
			delete(b.copied, rel)
		}
	}
	b.prog = copytree.Progress{}
	for _, group := range byRank {
		for _, f := range group {
			b.prog.Files++
			b.prog.Bytes += f.size
		}
	}
	var vanished []string
	for r := 1; r <= 4; r++ {
		v, err := b.copyAll(byRank[r])
		if err != nil {
			return nil, err
		}
		vanished = append(vanished, v...)
	}
	sort.Strings(vanished)
	return vanished, nil
}

func (b *backuper) copyAll(files []srcFile) ([]string, error) {
	if len(files) == 0 {
		return nil, nil
	}
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	jobs := make(chan srcFile)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		vanished []string
	)
	for range b.o.Parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range jobs {
				err := b.copyFile(ctx, f)
				mu.Lock()
				if errors.Is(err, errVanished) {
					if b.o.All {
						// --all: Spark deleted it; the check decides.
					} else {
						vanished = append(vanished, f.rel)
					}
				} else if err != nil && firstErr == nil {
					firstErr = err
					cancel()
				}
				mu.Unlock()
			}
		}()
	}
	sort.SliceStable(files, func(i, j int) bool { return files[i].size > files[j].size })
feed:
	for _, f := range files {
		select {
		case jobs <- f:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := b.ctx.Err(); err != nil {
		return nil, err
	}
	return vanished, nil
}

var errVanished = errors.New("vanished")

// copyFile copies (or links) one file into the backup.
func (b *backuper) copyFile(ctx context.Context, f srcFile) error {
	dst := store.Join(b.bdir, f.rel)
	if err := b.mkdir(store.Dir(dst)); err != nil {
		return err
	}
	b.mu.Lock()
	_, had := b.copied[f.rel]
	b.mu.Unlock()
	if had {
		if err := b.dst.Remove(dst); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	srcName := store.Join(b.srcDir, f.rel)
	if o, ok := b.old[f.rel]; ok && b.linker != nil && o.Size == f.size {
		sum, n, err := b.sum(ctx, srcName)
		if err != nil {
			return err
		}
		if n == o.Size && copytree.CRC32CHex(sum) == o.CRC32C {
			if err := b.linker.Link(store.Join(b.prevDir, f.rel), dst); err == nil {
				b.mu.Lock()
				b.copied[f.rel] = File{Path: f.rel, Size: n, CRC32C: o.CRC32C}
				b.linked++
				b.mu.Unlock()
				b.done(f)
				b.step("file " + f.rel)
				return nil
			}
			// The previous backup lost it (pruned meanwhile?): copy.
		}
	}
	r, err := b.src.Open(srcName)
	if errors.Is(err, fs.ErrNotExist) {
		return errVanished
	}
	if err != nil {
		return err
	}
	defer r.Close()
	var w store.Writer
	if b.batch != nil {
		w, err = b.batch.CreateUnsynced(dst, f.perm|0o200)
	} else {
		w, err = b.dst.Create(dst, f.perm|0o200)
	}
	if err != nil {
		return err
	}
	h := copytree.NewCRC32C()
	n, err := io.Copy(io.MultiWriter(w, h), b.reader(ctx, r))
	if err != nil {
		w.Close()
		b.dst.Remove(dst)
		return fmt.Errorf("%s: %w", srcName, err)
	}
	if err := w.Close(); err != nil {
		b.dst.Remove(dst)
		return err
	}
	b.mu.Lock()
	b.copied[f.rel] = File{Path: f.rel, Size: n, CRC32C: copytree.CRC32CHex(h.Sum32())}
	b.transferred += n
	b.mu.Unlock()
	b.done(f)
	b.step("file " + f.rel)
	return nil
}

// mkdir makes a directory of the backup once.
func (b *backuper) mkdir(dir string) error {
	b.mu.Lock()
	done := b.dirs[dir]
	b.mu.Unlock()
	if done {
		return nil
	}
	if err := b.dst.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b.mu.Lock()
	if b.dirs == nil {
		b.dirs = map[string]bool{}
	}
	b.dirs[dir] = true
	b.mu.Unlock()
	return nil
}

// copierLinker "links" with a server-side copy (S3): the bytes do not
// pass through sparkckpt, and each backup stays self-contained.
type copierLinker struct{ c store.Copier }

func (c copierLinker) Link(oldname, newname string) error { return c.c.CopyFile(oldname, newname) }

// sum reads a source file and returns its CRC32C and size.
func (b *backuper) sum(ctx context.Context, name string) (uint32, int64, error) {
	r, err := b.src.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, 0, errVanished
	}
	if err != nil {
		return 0, 0, err
	}
	defer r.Close()
	h := copytree.NewCRC32C()
	n, err := io.Copy(h, b.reader(ctx, r))
	return h.Sum32(), n, err
}

// reader reads r, stopping when ctx ends, within --bwlimit.
func (b *backuper) reader(ctx context.Context, r io.Reader) io.Reader {
	if b.limit != nil {
		return limitedReader{ctx: ctx, l: b.limit, r: ctxReader{ctx, r}}
	}
	return ctxReader{ctx, r}
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// writeManifest creates the manifest exclusively: the backup is complete
// once its Close returns nil.
func writeManifest(dst store.Store, bdir string, m *Manifest) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	name := store.Join(bdir, ManifestName)
	w, err := dst.Create(name, 0o644)
	if err != nil {
		return err
	}
	if _, err := w.Write(append(data, '\n')); err != nil {
		w.Close()
		dst.Remove(name)
		return err
	}
	if err := w.Close(); err != nil {
		dst.Remove(name)
		return err
	}
	if ds, ok := dst.(store.DirSyncer); ok {
		return ds.SyncDir(bdir)
	}
	return nil
}
