package check

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/codec"
	"github.com/sparkckpt/sparkckpt/decode/dstream"
)

// Severity is how much a finding matters for a restore.
type Severity string

// The severities, most severe first.
const (
	// Error: recovery will fail, or restore older or less state than the
	// directory holds. A report with an error fails.
	Error Severity = "error"
	// Warning: worth knowing before a restore, but Spark restores.
	Warning Severity = "warning"
	// Info: context (what was not checked, leftovers Spark ignores).
	Info Severity = "info"
)

func (s Severity) rank() int {
	switch s {
	case Error:
		return 0
	case Warning:
		return 1
	}
	return 2
}

// Finding is one result of a check.
type Finding struct {
	Severity Severity `json:"severity"`
	// Code is a stable kebab-case identifier (see the package doc).
	Code string `json:"code"`
	// Message says what is wrong and what Spark will do, in one line.
	Message string `json:"message"`
	// File is the file the finding is about, slash-separated and relative
	// to the checked directory ("" for the directory itself).
	File string `json:"file,omitempty"`
	// Location is where in File: an object path
	// (Checkpoint.graph.outputStreams.array[0]...), a WAL record
	// ("record@821 event[0]..."), or a byte offset.
	Location string `json:"location,omitempty"`
	// Fix says what to do, in prose.
	Fix string `json:"fix,omitempty"`
	// Command is the command that carries out (or, for a rewrite, previews
	// as a dry run) the fix, as an argument vector, where one exists.
	Command []string `json:"command,omitempty"`
	// Shell is Command as one POSIX shell line, each argument quoted
	// where it needs it.
	Shell string `json:"shell,omitempty"`
	// Count is, for a finding that groups several places, how many.
	Count int `json:"count,omitempty"`
	// Places lists every place of a grouped finding; File and Location
	// are the first.
	Places []Place `json:"places,omitempty"`
}

// WithCommand returns f with Command set to argv and Shell to its quoted
// shell line.
func (f Finding) WithCommand(argv ...string) Finding {
	f.Command, f.Shell = argv, ShellLine(argv)
	return f
}

// ShellLine joins argv into one POSIX shell line, quoting each argument
// where it needs it (ShellQuote).
func ShellLine(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = ShellQuote(a)
	}
	return strings.Join(q, " ")
}

// Place is one occurrence of a grouped finding.
type Place struct {
	File     string `json:"file"`
	Location string `json:"location,omitempty"`
	URI      string `json:"uri,omitempty"`
}

// Chosen is the checkpoint file Spark restores from.
type Chosen struct {
	// File is the file name in the checked directory.
	File string `json:"file"`
	// TimeMs is the time in the file name; CheckpointTimeMs the
	// Checkpoint.checkpointTime inside it (it can be older, spec §1.2).
	TimeMs           int64 `json:"timeMs"`
	CheckpointTimeMs int64 `json:"checkpointTimeMs"`
}

// CodecChoice is the codec Spark is assumed to read with, and why.
type CodecChoice struct {
	// Name is lz4, snappy, zstd, lzf, or "" when unknown.
	Name string `json:"name"`
	// Source is "option" (Options.Codec), "conf" (spark.io.compression.codec
	// stored in the checkpoint's conf), or "default" (Spark's default for
	// the version that wrote the checkpoint).
	Source string `json:"source"`
}

// Counts counts findings by severity.
type Counts struct {
	Error   int `json:"error"`
	Warning int `json:"warning"`
	Info    int `json:"info"`
}

// Report is the result of checking a directory.
type Report struct {
	// Dir is the checked directory as given in Options.Path.
	Dir string `json:"dir"`
	// OK is true when no finding is an error.
	OK bool `json:"ok"`
	// Chosen is the file Spark restores from; nil if none.
	Chosen *Chosen `json:"chosen"`
	// Newest is the newest checkpoint file name ("" if none).
	Newest string `json:"newest,omitempty"`
	// CheckpointDir is the checkpointDir stored in the checkpoint read
	// (or inferred from write-ahead-log segment paths); references under it
	// are looked up in the checked tree.
	CheckpointDir string `json:"checkpointDir"`
	// Codec is the codec Spark is assumed to read with.
	Codec CodecChoice `json:"codec"`
	// ExpectFS echoes Options.ExpectFS.
	ExpectFS []string `json:"expectFs"`
	Counts   Counts   `json:"counts"`
	// Findings are sorted by severity (errors first), then in the order
	// the checks ran.
	Findings []Finding `json:"findings"`
	// Probes lists every address dialled with Options.Probe.
	Probes []Probe `json:"probes,omitempty"`
}

// Options configure a check.
type Options struct {
	// ExpectFS are the filesystems the restarted application may use
	// (the new cluster's default FS): scheme and authority, optionally a
	// path prefix: "hdfs://new-nn:8020", "s3a://bucket/ckpt", "file:///"
	// (the local filesystem; file:/x and file:///x are the same place).
	// Empty: references are listed (fs-not-checked) but not judged.
	ExpectFS []string
	// Codec is the codec the restarting application reads with
	// (its spark.io.compression.codec). Nil: the value stored in the
	// checkpoint's conf, else Spark's default for the writing version
	// (snappy for 1.x, lz4 from 2.0).
	Codec *codec.Kind
	// Probe dials every referenced host:port (see the package doc).
	Probe bool
	// ProbeTimeout bounds each dial; zero means 2s.
	ProbeTimeout time.Duration
	// ProbeParallel bounds concurrent dials; zero means 16.
	ProbeParallel int
	// Dial dials for probes; nil means a net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Local is the local filesystem rooted at "/", used to check file: URIs
	// that lie outside the checked tree; nil leaves them unchecked.
	Local fs.FS
	// Path names the checked directory in fixes ("sparkckpt rewrite PATH
	// ..."); Dir sets it to its argument when empty.
	Path string
	// Symlinks are the symbolic links below the directory, one finding
	// each (SymlinkFindings). The caller lists them: fsys is expected to
	// follow only those inside the directory (store.Confine).
	Symlinks []Symlink
	// Limits bound what decoding one file may cost; a checkpoint file
	// that decompresses to more than Limits.MaxDecompressed is unreadable.
	Limits decode.Limits
}

// ErrNotCheckpointDir means the directory holds no checkpoint-* file and
// no write-ahead log.
var ErrNotCheckpointDir = errors.New("not a DStream checkpoint directory")

// Dir checks the checkpoint directory dir on the local filesystem. Local
// file: URIs outside dir are checked against the root filesystem unless
// opts.Local is set. It reads dir through os.DirFS, which follows every
// symbolic link; the command reads through store.Confine instead and
// passes the links in Options.Symlinks.
func Dir(ctx context.Context, dir string, opts Options) (*Report, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory: check takes a checkpoint directory", dir)
	}
	if opts.Path == "" {
		opts.Path = dir
	}
	if opts.Local == nil {
		opts.Local = os.DirFS("/")
	}
	return FS(ctx, os.DirFS(dir), opts)
}

// FS checks the checkpoint directory at the root of fsys. It returns an
// error only if the directory cannot be listed, is not a DStream
// checkpoint directory (wrapping [ErrNotCheckpointDir]), or an
// Options.ExpectFS entry is invalid; everything else is a finding.
func FS(ctx context.Context, fsys fs.FS, opts Options) (*Report, error) {
	expects := make([]place, 0, len(opts.ExpectFS))
	for _, e := range opts.ExpectFS {
		p, err := parseExpect(e)
		if err != nil {
			return nil, err
		}
		expects = append(expects, p)
	}
	if opts.Path == "" {
		opts.Path = "."
	}
	c := &checker{ctx: ctx, fsys: fsys, opts: opts, expects: expects,
		rep: &Report{Dir: opts.Path, ExpectFS: append([]string{}, opts.ExpectFS...), Findings: []Finding{}}}
	if err := c.list(); err != nil {
		return nil, err
	}
	c.checkFiles()
	c.checkLeftovers()
	c.readWAL()
	c.checkReferences()
	c.checkWAL()
	c.checkPendingCovered()
	c.checkForeign()
	if opts.Probe {
		c.probe()
	}
	for _, f := range SymlinkFindings(opts.Symlinks) {
		c.add(f)
	}
	c.finish()
	return c.rep, nil
}

// checker holds the state of one check.
type checker struct {
	ctx     context.Context
	fsys    fs.FS
	opts    Options
	expects []place
	rep     *Report

	names map[string]bool // regular files at the root
	order []string        // their names, sorted
	dirs  map[string]bool // directories at the root
	cands []dstream.Candidate

	// used is the decoded checkpoint the reference checks read: the one
	// Spark restores from, else the newest that decodes with any codec.
	used     *dstream.File
	usedName string
	base     place // the stored checkpointDir
	haveBase bool

	wal *walState
	// refs are the filesystem references of used and of the WAL segments
	// recovery reads, for the foreign-authority check and probes.
	refs []ref
	// unchecked are references that cannot be checked from here.
	unchecked unchecked
}

// list reads the root directory.
func (c *checker) list() error {
	ents, err := fs.ReadDir(c.fsys, ".")
	if err != nil {
		return err
	}
	c.names, c.dirs = map[string]bool{}, map[string]bool{}
	for _, e := range ents {
		switch {
		case e.IsDir():
			c.dirs[e.Name()] = true
		case e.Type().IsRegular():
			c.names[e.Name()] = true
			c.order = append(c.order, e.Name())
		}
	}
	sort.Strings(c.order)
	c.cands = dstream.Candidates(c.order)
	if len(c.cands) == 0 && !c.dirs["receivedBlockMetadata"] {
		if c.names[IncompleteCopyName] {
			return fmt.Errorf("%s is an incomplete copy ('sparkckpt cp' was interrupted before it wrote the checkpoint files; copy it again): %w", c.opts.Path, ErrNotCheckpointDir)
		}
		if c.dirs["offsets"] || c.names["metadata"] {
			return fmt.Errorf("%s looks like a Structured Streaming checkpoint (offsets/, metadata), which check does not handle yet: %w", c.opts.Path, ErrNotCheckpointDir)
		}
		return fmt.Errorf("%s has no checkpoint-<ms> file and no receivedBlockMetadata/: %w", c.opts.Path, ErrNotCheckpointDir)
	}
	if len(c.cands) > 0 {
		c.rep.Newest = c.cands[0].Name
	}
	return nil
}

func (c *checker) add(f Finding) {
	c.rep.Findings = append(c.rep.Findings, f)
}

// finish sorts the findings and fills the counts and verdict.
func (c *checker) finish() {
	sort.SliceStable(c.rep.Findings, func(i, j int) bool {
		return c.rep.Findings[i].Severity.rank() < c.rep.Findings[j].Severity.rank()
	})
	for _, f := range c.rep.Findings {
		switch f.Severity {
		case Error:
			c.rep.Counts.Error++
		case Warning:
			c.rep.Counts.Warning++
		default:
			c.rep.Counts.Info++
		}
	}
	c.rep.OK = c.rep.Counts.Error == 0
}

// exists reports whether name exists in fsys, and whether it is a directory.
func exists(fsys fs.FS, name string) (ok, dir bool, err error) {
	st, err := fs.Stat(fsys, name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return false, false, nil // ENOTDIR: a parent is a file
		}
		return false, false, err
	}
	return true, st.IsDir(), nil
}

// joinRel joins slash-separated relative paths.
func joinRel(elem ...string) string { return path.Join(elem...) }
