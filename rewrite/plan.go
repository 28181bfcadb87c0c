package rewrite

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/crcfile"
	"github.com/sparkckpt/sparkckpt/decode/dstream"
	"github.com/sparkckpt/sparkckpt/decode/wal"
	"github.com/sparkckpt/sparkckpt/store"
)

// File kinds in a plan.
const (
	KindCheckpoint = "checkpoint" // checkpoint-<ms> or its .bk
	KindLog        = "wal"        // receivedBlockMetadata/log-*
	KindCRC        = "crc"        // a Hadoop .crc sidecar of a rewritten file
)

// FileChange is one file the rewrite replaces.
type FileChange struct {
	Path      string      `json:"file"` // slash-separated, relative to the checkpoint directory
	Kind      string      `json:"kind"`
	Codec     string      `json:"codec,omitempty"`
	Edits     []Edit      `json:"edits"`
	OldSize   int64       `json:"oldSize"`
	NewSize   int64       `json:"newSize"`
	OldSHA256 string      `json:"oldSha256"`
	NewSHA256 string      `json:"newSha256"`
	Mode      fs.FileMode `json:"-"`
	// Of is, for a .crc sidecar, the file it checks.
	Of string `json:"of,omitempty"`
	// Link is the name the file was reached by when a symbolic link is on
	// its way (the link itself, or a linked directory); Path is then the
	// link's target inside the directory, which is what is rewritten: the
	// link stays a link (Options.FollowSymlinks).
	Link string `json:"link,omitempty"`
	// Version is the store's version of the original as the plan read it
	// (the S3 ETag; empty on stores that rename): the replace is made
	// only if the file is still that version (store.VersionedReplacer).
	Version string `json:"version,omitempty"`

	data []byte // the new bytes, when the plan kept them
}

// Problem is a file the rewrite cannot handle, or a reason to refuse.
type Problem struct {
	File      string      `json:"file"`
	Error     string      `json:"error"`
	Unhandled []Unhandled `json:"unhandled,omitempty"`
}

// Plan is everything a rewrite will change, computed without writing.
type Plan struct {
	Root     string    `json:"root"`
	Mappings []Mapping `json:"mappings"`
	// Files are the files that change, in apply order (each data file
	// followed by its .crc sidecar).
	Files []*FileChange `json:"files"`
	// Unchanged counts files read that need no change.
	Unchanged int `json:"unchanged"`
	// Undecodable are checkpoint and log files that do not decode: they
	// are not rewritten (see Options.SkipUndecodable).
	Undecodable []Problem `json:"undecodable"`
	// Unhandled are files where a mapped prefix remains after editing,
	// in bytes the rewrite does not model.
	Unhandled []Problem `json:"unhandled"`
	// Inconsistent explains, per file, where the mappings would leave a
	// checkpoint half rewritten.
	Inconsistent []Problem `json:"inconsistent"`
	// Edits counts all edits.
	Edits int `json:"edits"`
	// Symlinks are all the symbolic links in the directory (symlinks.go).
	Symlinks []store.Link `json:"symlinks"`
	// NotFollowed are links leading outside the directory where files the
	// rewrite reads may be: not followed without Options.FollowSymlinks.
	NotFollowed []Problem `json:"notFollowed"`
	// Outside are files that would change but lie outside the directory
	// (reached through a link): never written.
	Outside []Problem `json:"outside"`

	kept int64 // bytes of new file contents kept in memory for Apply
	dir  Place // the checkpoint directory
	links
}

// MemoryBudget bounds the new file contents a plan keeps for Apply; past
// it, Apply recomputes a file's bytes from its original (same result,
// twice the work), so memory does not grow with the checkpoint's size.
const MemoryBudget = 256 << 20

// keep remembers a file's new bytes for Apply while within MemoryBudget.
func (p *Plan) keep(fc *FileChange, b []byte) {
	if p.kept+int64(len(b)) <= MemoryBudget {
		fc.data = b
		p.kept += int64(len(b))
	}
}

// Options configure Plan.
type Options struct {
	// SkipUndecodable plans the files that decode when some do not;
	// otherwise such a plan is refused.
	SkipUndecodable bool
	// Force accepts unhandled occurrences and inconsistent mappings.
	Force bool
	// FollowSymlinks rewrites files reached through symbolic links: their
	// targets inside the directory are rewritten and the links stay
	// links; links leading outside are read. Without it such a plan is
	// refused. Nothing outside the directory is ever written.
	FollowSymlinks bool
}

// ErrHalfRewritten means the mappings would leave a checkpoint half
// rewritten: its checkpointDir moves but references under it do not follow.
var ErrHalfRewritten = errors.New("the mappings would leave the checkpoint half rewritten")

// ErrNotCheckpoint means the directory holds no checkpoint-<ms> file and no write-ahead log.
var ErrNotCheckpoint = errors.New("not a Spark Streaming checkpoint directory")

// Refusal reports why a plan cannot be applied.
func (p *Plan) Refusal(o Options) error {
	var errs []error
	if len(p.Undecodable) > 0 && !o.SkipUndecodable {
		errs = append(errs, fmt.Errorf("%d file(s) do not decode (rewrite the rest with --skip-undecodable): %s", len(p.Undecodable), problemList(p.Undecodable)))
	}
	if len(p.Unhandled) > 0 && !o.Force {
		errs = append(errs, fmt.Errorf("a mapped prefix remains in bytes sparkckpt cannot re-encode safely in %d file(s) (use --force to rewrite the rest anyway): %s", len(p.Unhandled), problemList(p.Unhandled)))
	}
	if len(p.Inconsistent) > 0 && !o.Force {
		errs = append(errs, fmt.Errorf("the mappings would leave the checkpoint half rewritten (add a --map for the rest, or --force): %s", problemList(p.Inconsistent)))
	}
	errs = append(errs, p.linkRefusal(o)...) // symlinks.go
	return errors.Join(errs...)
}

func problemList(ps []Problem) string {
	var parts []string
	for _, p := range ps {
		parts = append(parts, p.File+": "+p.Error)
	}
	return strings.Join(parts, "; ")
}

// NewPlan reads the checkpoint directory root on the local disk and
// computes every change the mappings make, verifying each new file by
// decoding it. It writes nothing and keeps no file's bytes in memory
// beyond the one it is working on. Plan.Root is root as given.
func NewPlan(root string, mp *Mapper, o Options) (*Plan, error) {
	dir, err := LocalPlace(root)
	if err != nil {
		return nil, err
	}
	p, err := NewPlanAt(dir, mp, o)
	if p != nil {
		p.Root = root
	}
	return p, err
}

// NewPlanAt is NewPlan for a checkpoint directory on any store (the
// local disk, HDFS). Plan.Root is dir.URI.
func NewPlanAt(dir Place, mp *Mapper, o Options) (*Plan, error) {
	st, err := stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s: rewrite takes a checkpoint directory", dir.URI)
	}
	p := &Plan{Root: dir.URI, Mappings: mp.Mappings(), Files: []*FileChange{}, Undecodable: []Problem{}, Unhandled: []Problem{}, Inconsistent: []Problem{}, dir: dir}
	if err := p.findLinks(o); err != nil { // symlinks.go
		return nil, err
	}
	names, err := regularFiles(p.rd, ".")
	if err != nil {
		return nil, err
	}
	var targets []target
	for _, c := range dstream.Candidates(names) {
		targets = append(targets, target{c.Name, KindCheckpoint})
	}
	logNames, _ := regularFiles(p.rd, "receivedBlockMetadata")
	for _, l := range wal.ListLogs(logNames) {
		targets = append(targets, target{"receivedBlockMetadata/" + l.Name, KindLog})
	}
	// Structured Streaming checkpoints and file sink logs (structured.go):
	// their URI-bearing logs; a structured directory with none is a plan
	// with nothing to change, not an error.
	sTargets, isStructured, err := structuredTargets(dir, p.rd)
	if err != nil {
		return nil, err
	}
	targets = append(targets, sTargets...)
	if len(targets) == 0 && !isStructured && len(p.NotFollowed) == 0 {
		return nil, fmt.Errorf("%s: %w: no checkpoint-<ms> file, no receivedBlockMetadata/log-*, no offsets/ and no _spark_metadata/", dir.URI, ErrNotCheckpoint)
	}
	for _, t := range targets {
		if err := p.addFile(t.rel, t.kind, mp); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Dir is the checkpoint directory the plan was made for.
func (p *Plan) Dir() Place { return p.dir }

func (p *Plan) addFile(rel, kind string, mp *Mapper) error {
	real, skip, err := p.reach(rel) // symlinks.go
	if err != nil || skip {
		return err
	}
	in, version, err := p.readTarget(rel, real)
	if err != nil {
		return err
	}
	st, err := fs.Stat(p.rd, rel)
	if err != nil {
		return err
	}
	res, err := transform(kind, in, mp)
	if err != nil {
		p.Undecodable = append(p.Undecodable, Problem{File: rel, Error: decode.WithFile(err, rel).Error()})
		return nil
	}
	if len(res.unhandled) > 0 {
		p.Unhandled = append(p.Unhandled, Problem{File: rel, Error: fmt.Sprintf("%d occurrence(s) left, first at offset %d: %q", len(res.unhandled), res.unhandled[0].Offset, res.unhandled[0].Context), Unhandled: res.unhandled})
	}
	if res.out == nil {
		p.unchanged(real)
		return nil
	}
	if p.outside(rel, real) {
		return nil
	}
	if fc := p.planned[real]; fc != nil { // a second name of a file already planned
		return p.addSidecar(rel, fc, res.out)
	}
	if res.inconsistent != "" {
		p.Inconsistent = append(p.Inconsistent, Problem{File: rel, Error: res.inconsistent})
	}
	fc := &FileChange{Path: real, Kind: kind, Edits: res.edits, OldSize: int64(len(in)), NewSize: int64(len(res.out)),
		OldSHA256: sha(in), NewSHA256: sha(res.out), Mode: st.Mode().Perm(), Version: version}
	if real != rel {
		fc.Link = rel
	}
	if kind == KindCheckpoint {
		fc.Codec = res.codec.String()
	}
	p.keep(fc, res.out)
	p.Files = append(p.Files, fc)
	p.planned[real] = fc
	p.Edits += len(res.edits)
	return p.addSidecar(rel, fc, res.out)
}

// addSidecar plans the .crc sidecar of the data file reached as rel (and
// planned as fc, with the new bytes out). A Hadoop LocalFileSystem
// sidecar must match the new bytes (spec §1.3). An existing sidecar is
// kept correct on every store; none is created (HDFS has none:
// store.Checksummed). It goes right after its data file's entries.
func (p *Plan) addSidecar(rel string, fc *FileChange, out []byte) error {
	crcRel := crcfile.SidecarName(rel)
	real, skip, err := p.reach(crcRel)
	if err != nil || skip || p.planned[real] != nil {
		return err
	}
	old, cversion, err := p.readTarget(crcRel, real)
	if err != nil {
		return nil
	}
	if p.outside(crcRel, real) {
		return nil
	}
	nb := crcBytes(old, out)
	var perm fs.FileMode = 0o644
	if cst, err := fs.Stat(p.rd, crcRel); err == nil {
		perm = cst.Mode().Perm()
	}
	cfc := &FileChange{Path: real, Kind: KindCRC, Of: fc.Path, Edits: []Edit{}, OldSize: int64(len(old)), NewSize: int64(len(nb)),
		OldSHA256: sha(old), NewSHA256: sha(nb), Mode: perm, Version: cversion}
	if real != crcRel {
		cfc.Link = crcRel
	}
	p.keep(cfc, nb)
	p.planned[real] = cfc
	at := len(p.Files)
	for i, f := range p.Files {
		if f == fc {
			at = i + 1
			for at < len(p.Files) && p.Files[at].Kind == KindCRC && p.Files[at].Of == fc.Path {
				at++
			}
		}
	}
	p.Files = append(p.Files[:at], append([]*FileChange{cfc}, p.Files[at:]...)...)
	return nil
}

// readTarget reads a file the plan may rewrite, listed as rel and written
// at its real name: through the plan's confined view (symlinks.go) and, on
// a store that replaces files conditionally (store.VersionedReplacer),
// from the store at the real name with the version read, so that the
// replace is refused if the file changes after the plan.
func (p *Plan) readTarget(rel, real string) ([]byte, string, error) {
	if _, ok := p.dir.Store.(store.VersionedReplacer); ok {
		return readVersion(p.dir.Join(real))
	}
	b, err := fs.ReadFile(p.rd, rel)
	return b, "", err
}

// transform computes a file's new bytes.
func transform(kind string, in []byte, mp *Mapper) (*result, error) {
	if kind == KindLog {
		return transformLog(in, mp)
	}
	if isStructuredKind(kind) { // Structured Streaming logs (structured.go)
		return transformStructured(kind, in, mp)
	}
	return transformCheckpoint(in, mp)
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// regularFiles lists the regular files of dir in fsys, sorted (in a
// store.Confined view: the links to files too, and the links it does not
// follow, whose reading fails).
func regularFiles(fsys fs.FS, dir string) ([]string, error) {
	ents, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if e.Type().IsRegular() {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// KindOfPath returns the kind of a file by its slash-separated path
// relative to the checkpoint directory: KindCheckpoint for checkpoint-<ms>
// (and .bk) files, KindLog for receivedBlockMetadata/log-*, the structured
// kinds for file source/sink logs and operator metadata v2, "" for files
// the rewrite never changes (RDD data, receiver data logs, sidecars).
func KindOfPath(rel string) string {
	dir, base := path.Split(rel)
	switch {
	case dir == "" && len(dstream.Candidates([]string{base})) == 1:
		return KindCheckpoint
	case dir == "receivedBlockMetadata/" && len(wal.ListLogs([]string{base})) == 1:
		return KindLog
	}
	return structuredKindOfPath(rel) // Structured Streaming logs (structured.go)
}

// File rewrites the bytes of one file of a checkpoint directory, named by
// its slash-separated path relative to the directory, exactly as Plan and
// Apply do (same re-encoding and verification). out is nil when the file
// does not change. Files of no rewritable kind come back unchanged.
func File(rel string, in []byte, mp *Mapper) (out []byte, edits []Edit, err error) {
	kind := KindOfPath(rel)
	if kind == "" {
		return nil, nil, nil
	}
	res, err := transform(kind, in, mp)
	if err != nil {
		return nil, nil, err
	}
	if len(res.unhandled) > 0 {
		return nil, nil, fmt.Errorf("%s: a mapped prefix remains in bytes sparkckpt cannot re-encode safely, at offset %d: %q", rel, res.unhandled[0].Offset, res.unhandled[0].Context)
	}
	if res.inconsistent != "" {
		return nil, nil, fmt.Errorf("%s: %w: %s", rel, ErrHalfRewritten, res.inconsistent)
	}
	return res.out, res.edits, nil
}
