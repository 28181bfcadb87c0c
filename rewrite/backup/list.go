package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"time"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/rewrite"
	"github.com/sparkckpt/sparkckpt/rewrite/copytree"
	"github.com/sparkckpt/sparkckpt/rewrite/lock"
	"github.com/sparkckpt/sparkckpt/store"
)

// Info is one backup folder under DEST.
type Info struct {
	ID       string    `json:"id"`
	Time     time.Time `json:"time"`
	Complete bool      `json:"complete"`
	// Problem says why a backup is incomplete or invalid.
	Problem  string    `json:"problem,omitempty"`
	Manifest *Manifest `json:"-"`
}

// List lists the backups under destDir, newest first.
func List(dst store.Store, destDir string) ([]Info, error) {
	ents, err := dst.ReadDir(destDir)
	if err != nil {
		return nil, err
	}
	var out []Info
	for _, e := range ents {
		if !e.IsDir() || !IsID(e.Name()) {
			continue
		}
		t, _ := time.Parse(IDLayout, e.Name())
		in := Info{ID: e.Name(), Time: t}
		m, err := ReadManifest(dst, store.Join(destDir, e.Name()))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			in.Problem = "no manifest: the backup was interrupted or is still running"
		case err != nil:
			in.Problem = err.Error()
		default:
			in.Complete, in.Manifest = true, m
		}
		out = append(out, in)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	return out, nil
}

// ReadManifest reads and validates the manifest of the backup folder dir.
func ReadManifest(dst store.Store, dir string) (*Manifest, error) {
	b, err := store.ReadFile(dst, store.Join(dir, ManifestName))
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("invalid manifest %s: %v", ManifestName, err)
	}
	if m.Format != 1 {
		return nil, fmt.Errorf("invalid manifest %s: format %d, this sparkckpt reads format 1", ManifestName, m.Format)
	}
	if m.ID != path.Base(dir) {
		return nil, fmt.Errorf("invalid manifest %s: it names backup %q", ManifestName, m.ID)
	}
	return &m, nil
}

// newestComplete returns the newest complete backup, or nil.
func newestComplete(dst store.Store, destDir string) (*Info, error) {
	list, err := List(dst, destDir)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].Complete {
			return &list[i], nil
		}
	}
	return nil, nil
}

// Pick chooses the backup to restore: id, or the newest complete one.
// skipped are the newer backups passed over, each with why.
func Pick(dst store.Store, destDir, id string) (chosen *Info, skipped []Info, err error) {
	list, err := List(dst, destDir)
	if err != nil {
		return nil, nil, err
	}
	for i := range list {
		in := &list[i]
		if id != "" {
			if in.ID != id {
				continue
			}
			if !in.Complete {
				return nil, nil, fmt.Errorf("backup %s is not complete (%s): restore never picks it", id, in.Problem)
			}
			return in, nil, nil
		}
		if in.Complete {
			return in, skipped, nil
		}
		skipped = append(skipped, *in)
	}
	if id != "" {
		return nil, nil, &fs.PathError{Op: "restore", Path: store.Join(destDir, id), Err: fs.ErrNotExist}
	}
	return nil, skipped, fmt.Errorf("no complete backup under %s (%d incomplete)", destDir, len(skipped))
}

// VerifyFiles reads every file of the backup folder dir and compares it
// with the manifest (size and CRC32C); it returns the differences.
func VerifyFiles(ctx context.Context, dst store.Store, dir string, m *Manifest) ([]string, error) {
	var bad []string
	buf := make([]byte, 256<<10)
	for _, f := range m.Files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r, err := dst.Open(store.Join(dir, f.Path))
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s: %v", f.Path, err))
			continue
		}
		h := copytree.NewCRC32C()
		n, err := io.CopyBuffer(h, r, buf)
		r.Close()
		switch {
		case err != nil:
			bad = append(bad, fmt.Sprintf("%s: %v", f.Path, err))
		case n != f.Size:
			bad = append(bad, fmt.Sprintf("%s: %d bytes, the manifest says %d", f.Path, n, f.Size))
		case copytree.CRC32CHex(h.Sum32()) != f.CRC32C:
			bad = append(bad, fmt.Sprintf("%s: crc32c %s, the manifest says %s", f.Path, copytree.CRC32CHex(h.Sum32()), f.CRC32C))
		}
	}
	return bad, nil
}

// RestoreOptions configure Restore.
type RestoreOptions struct {
	// ID picks a backup; "" the newest complete one.
	ID     string
	Mapper *rewrite.Mapper
	// ExpectFS are the file systems the restored checkpoint may name
	// (the target's), for the final check.
	ExpectFS []string
	// TargetURI names the target in messages and findings.
	TargetURI string
	DestURI   string
	Parallel  int
	DryRun    bool
	Limits    decode.Limits
	Step      func(string)
	Progress  func(copytree.Progress)
}

// RestoreResult says what Restore did.
type RestoreResult struct {
	Backup   string    `json:"backup"`
	Skipped  []Info    `json:"skipped"`
	Manifest *Manifest `json:"-"`
	// Copy is the cp engine's report (nil on a dry run).
	Copy *copytree.Report `json:"copy,omitempty"`
	// Check is the check of the target (nil on a dry run).
	Check  *Verification `json:"check,omitempty"`
	DryRun bool          `json:"dryRun"`
}

// ErrCorrupt means a backup's files differ from its manifest.
var ErrCorrupt = errors.New("backup differs from its manifest")

// Restore copies a complete backup under destDir of src to target of
// dst through the cp engine (rewriting URIs with o.Mapper; target must
// not exist), after verifying the backup against its manifest, then
// checks the target.
func Restore(ctx context.Context, src store.Store, destDir string, dst store.Store, target string, o RestoreOptions) (*RestoreResult, error) {
	in, skipped, err := Pick(src, destDir, o.ID)
	if err != nil {
		return nil, err
	}
	res := &RestoreResult{Backup: in.ID, Skipped: skipped, Manifest: in.Manifest, DryRun: o.DryRun}
	if res.Skipped == nil {
		res.Skipped = []Info{}
	}
	bdir := store.Join(destDir, in.ID)
	bad, err := VerifyFiles(ctx, src, bdir, in.Manifest)
	if err != nil {
		return nil, err
	}
	if len(bad) > 0 {
		return res, fmt.Errorf("%s: %w: %s", in.ID, ErrCorrupt, first(bad))
	}
	if o.DryRun {
		if _, err := dst.Stat(target); err == nil {
			return res, &fs.PathError{Op: "restore", Path: o.TargetURI, Err: copytree.ErrExists}
		}
		return res, nil
	}
	rep, err := copytree.Copy(ctx, src, bdir, dst, target, copytree.Options{Mapper: o.Mapper, Parallel: o.Parallel,
		DestURI: o.TargetURI, Step: o.Step, Progress: o.Progress,
		Exclude: func(rel string) bool { return rel == ManifestName }})
	if err != nil {
		return res, err
	}
	res.Copy = rep
	v, err := CheckTree(ctx, store.FS(dst, target), o.TargetURI, o.ExpectFS, o.Limits)
	if err != nil {
		return res, err
	}
	res.Check = &v.Verification
	return res, nil
}

// Policy is a restic-style retention policy. A backup is kept if any
// rule keeps it; the newest complete backup always is.
type Policy struct {
	Last   int           // the newest N
	Hourly int           // the newest of each of the last N hours that have backups
	Daily  int           // the newest of each of the last N days that have backups
	Within time.Duration // every backup within this of the newest
}

// Empty reports whether the policy has no rule.
func (p Policy) Empty() bool { return p.Last == 0 && p.Hourly == 0 && p.Daily == 0 && p.Within == 0 }

// Decision is what Prune does with one backup.
type Decision struct {
	ID       string   `json:"id"`
	Complete bool     `json:"complete"`
	Keep     bool     `json:"keep"`
	Reasons  []string `json:"reasons"`
}

// PruneResult says what Prune did (or would do).
type PruneResult struct {
	Decisions []Decision `json:"decisions"`
	Removed   []string   `json:"removed"`
	// AbortedUploads are the incomplete multipart uploads under DEST
	// (S3) that were aborted: with DEST's lock held no backup is
	// uploading, so every one is a killed run's.
	AbortedUploads []string `json:"abortedUploads"`
	DryRun         bool     `json:"dryRun"`
}

// Decide applies p to backups (newest first, as List returns them).
func Decide(backups []Info, p Policy) []Decision {
	out := make([]Decision, len(backups))
	var newest *Info
	for i := range backups {
		if backups[i].Complete {
			newest = &backups[i]
			break
		}
	}
	hours, days := map[string]bool{}, map[string]bool{}
	last := 0
	for i, b := range backups {
		d := Decision{ID: b.ID, Complete: b.Complete, Reasons: []string{}}
		if !b.Complete {
			if newest == nil || b.ID > newest.ID {
				d.Keep = true
				d.Reasons = append(d.Reasons, "incomplete and newer than every complete backup: it may still be running")
			} else {
				d.Reasons = append(d.Reasons, "incomplete ("+b.Problem+") and older than the newest complete backup")
			}
			out[i] = d
			continue
		}
		if newest != nil && b.ID == newest.ID {
			d.Keep = true
			d.Reasons = append(d.Reasons, "newest complete backup")
		}
		if last < p.Last {
			last++
			d.Keep = true
			d.Reasons = append(d.Reasons, fmt.Sprintf("last %d", p.Last))
		}
		if h := b.Time.Format("2006-01-02T15"); len(hours) < p.Hourly && !hours[h] {
			hours[h] = true
			d.Keep = true
			d.Reasons = append(d.Reasons, "hourly "+h+"h")
		}
		if dd := b.Time.Format("2006-01-02"); len(days) < p.Daily && !days[dd] {
			days[dd] = true
			d.Keep = true
			d.Reasons = append(d.Reasons, "daily "+dd)
		}
		if p.Within > 0 && newest != nil && newest.Time.Sub(b.Time) <= p.Within {
			d.Keep = true
			d.Reasons = append(d.Reasons, "within "+p.Within.String())
		}
		if !d.Keep {
			d.Reasons = append(d.Reasons, "no rule keeps it")
		}
		out[i] = d
	}
	return out
}

// Prune removes the backups under destDir that p does not keep: each
// complete one's manifest first (so it is never seen as complete while
// half removed), then its files. It holds DEST's lock; under it, abort
// (if set, and not dryRun) aborts the stale multipart uploads under DEST
// and returns them.
func Prune(dst store.Store, destDir, destURI string, p Policy, dryRun bool, abort func() ([]string, error)) (*PruneResult, error) {
	if !dryRun {
		l, err := lock.Acquire(dst, store.Join(destDir, LockDir), destURI+"/"+LockDir)
		if err != nil {
			return nil, err
		}
		defer l.Release()
	}
	list, err := List(dst, destDir)
	if err != nil {
		return nil, err
	}
	res := &PruneResult{Decisions: Decide(list, p), Removed: []string{}, AbortedUploads: []string{}, DryRun: dryRun}
	for _, d := range res.Decisions {
		if d.Keep || dryRun {
			continue
		}
		dir := store.Join(destDir, d.ID)
		if d.Complete {
			if err := dst.Remove(store.Join(dir, ManifestName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return res, err
			}
			if ds, ok := dst.(store.DirSyncer); ok {
				ds.SyncDir(dir)
			}
		}
		if err := store.RemoveAll(dst, dir); err != nil {
			return res, err
		}
		res.Removed = append(res.Removed, d.ID)
	}
	if abort != nil && !dryRun {
		ups, err := abort()
		res.AbortedUploads = append(res.AbortedUploads, ups...)
		if err != nil {
			return res, err
		}
	}
	return res, nil
}
