package structured

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/crcfile"
)

// ErrNotStructured means a directory has no offsets/ directory (and no
// _spark_metadata/ for a sink).
var ErrNotStructured = errors.New("not a Structured Streaming checkpoint directory")

// IsCheckpointDir reports whether the root of fsys looks like a Structured
// Streaming checkpoint: it has an offsets/ directory (§1).
func IsCheckpointDir(fsys fs.FS) bool {
	st, err := fs.Stat(fsys, "offsets")
	return err == nil && st.IsDir()
}

// IsSinkDir reports whether the root of fsys is a file sink's output
// directory (it has _spark_metadata/) or a _spark_metadata directory itself
// (named so, holding batch files); the second result is the log directory.
func IsSinkDir(fsys fs.FS, name string) (string, bool) {
	if st, err := fs.Stat(fsys, "_spark_metadata"); err == nil && st.IsDir() {
		return "_spark_metadata", true
	}
	if path.Base(name) == "_spark_metadata" {
		return ".", true
	}
	return "", false
}

// listing is one directory's entries.
type listing struct {
	dir   string
	files map[string]int64 // regular files and their sizes
	names []string         // regular file names, sorted
	dirs  []string         // subdirectories, sorted
}

func list(fsys fs.FS, dir string) (*listing, error) {
	ents, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	l := &listing{dir: dir, files: make(map[string]int64, len(ents))}
	for _, e := range ents {
		switch {
		case e.IsDir():
			l.dirs = append(l.dirs, e.Name())
		case e.Type().IsRegular():
			var size int64
			if info, err := e.Info(); err == nil {
				size = info.Size()
			}
			l.files[e.Name()] = size
			l.names = append(l.names, e.Name())
		}
	}
	sort.Strings(l.names)
	sort.Strings(l.dirs)
	return l, nil
}

func (l *listing) has(name string) bool {
	_, ok := l.files[name]
	return ok
}

func (l *listing) rel(name string) string {
	if l.dir == "." {
		return name
	}
	return l.dir + "/" + name
}

// Leftover is a file Spark left behind and ignores.
type Leftover struct {
	File string `json:"file"`
	// Kind is "tmp" (an atomic write's temp file, .<name>.<uuid>.tmp, or
	// its checksum ..<name>.<uuid>.tmp.crc, §1.2), "temp" (the 2.x HDFS
	// state store's temp-<n>) or "orphan-crc" (a .x.crc without x).
	Kind string `json:"kind"`
	Size int64  `json:"size"`
}

// classify sorts a directory's files into data files, .crc sidecars,
// 4.1 JSON checksum files and leftovers.
func (l *listing) classify(state bool) (data []string, sidecars map[string]string, leftovers []Leftover) {
	sidecars = map[string]string{}
	for _, n := range l.names {
		switch {
		case isTmpName(n):
			leftovers = append(leftovers, Leftover{l.rel(n), "tmp", l.files[n]})
		case state && strings.HasPrefix(n, "temp-"):
			leftovers = append(leftovers, Leftover{l.rel(n), "temp", l.files[n]})
		default:
			if d, ok := crcfile.IsSidecar(n); ok {
				if l.has(d) {
					sidecars[d] = n
				} else if !(state && strings.HasSuffix(d, ".crc") && l.has(strings.TrimSuffix(d, ".crc"))) {
					leftovers = append(leftovers, Leftover{l.rel(n), "orphan-crc", l.files[n]})
				} else {
					sidecars[d] = n
				}
				continue
			}
			data = append(data, n)
		}
	}
	return data, sidecars, leftovers
}

// isTmpName matches the temp files of CheckpointFileManager.createAtomic
// and HDFSMetadataLog (§1.2): .<name>.<uuid>[.TID<n>].tmp, .<uuid>.tmp and
// their ..<...>.tmp.crc sidecars.
func isTmpName(n string) bool {
	return strings.HasPrefix(n, ".") && (strings.HasSuffix(n, ".tmp") || strings.HasSuffix(n, ".tmp.crc"))
}

// Checkpoint summarises a Structured Streaming checkpoint directory from
// its listing and the files a restart reads first.
type Checkpoint struct {
	fsys fs.FS

	// QueryID is metadata's id; "" when metadata is missing or unreadable.
	QueryID     string `json:"queryId"`
	HasMetadata bool   `json:"hasMetadata"`
	MetadataErr error  `json:"-"`

	Offsets []BatchFile `json:"offsets"`
	Commits []BatchFile `json:"commits"`
	// HasCommitsDir is false for Spark 2.0 and 2.1 checkpoints.
	HasCommitsDir bool `json:"hasCommitsDir"`

	// LatestOffsets is offsets/<LatestBatch>; nil if none or unreadable.
	LatestOffsets    *OffsetSeq `json:"latestOffsets"`
	LatestOffsetsErr error      `json:"-"`
	// LatestCommit is commits/<LatestCommitBatch>.
	LatestCommit    *Commit `json:"latestCommit"`
	LatestCommitErr error   `json:"-"`

	Sources   []*SourceLog `json:"sources"`
	Operators []*Operator  `json:"operators"`
	// Nested lists subdirectories that are checkpoints themselves.
	Nested    []string   `json:"nested,omitempty"`
	Leftovers []Leftover `json:"leftovers"`
	// Sidecars maps a data file (slash path) to its .crc sidecar.
	Sidecars map[string]string `json:"-"`
	// ChecksumFiles maps a state file to its 4.1 JSON checksum file (x.crc).
	ChecksumFiles map[string]string `json:"-"`
	// Files and Bytes count what the listing saw under the checkpoint's
	// own directories.
	Files int   `json:"files"`
	Bytes int64 `json:"bytes"`
}

// LatestBatch is the highest offsets/N, or -1.
func (c *Checkpoint) LatestBatch() int64 {
	if len(c.Offsets) == 0 {
		return -1
	}
	return c.Offsets[len(c.Offsets)-1].Batch
}

// LatestCommitBatch is the highest commits/N, or -1.
func (c *Checkpoint) LatestCommitBatch() int64 {
	if len(c.Commits) == 0 {
		return -1
	}
	return c.Commits[len(c.Commits)-1].Batch
}

// RunBatch is the batch a restart runs (MicroBatchExecution.populateStartOffsets):
// the latest batch again if it has no commit, else the next one.
func (c *Checkpoint) RunBatch() int64 {
	n, cm := c.LatestBatch(), c.LatestCommitBatch()
	if n < 0 {
		return 0
	}
	if cm >= n {
		return n + 1
	}
	return n
}

// StateVersion is the state version the restarted batch loads: batch R
// loads version R (and commits R+1), §4.6.
func (c *Checkpoint) StateVersion() int64 { return c.RunBatch() }

// Conf returns a conf value of the latest offsets file.
func (c *Checkpoint) Conf(key string) (string, bool) {
	if c.LatestOffsets == nil {
		return "", false
	}
	return c.LatestOffsets.Metadata.ConfValue(key)
}

// Provider is the state store provider: "hdfs", "rocksdb" or another class
// name, from the conf (HDFS when unset, as in 2.x).
func (c *Checkpoint) Provider() string {
	v, ok := c.Conf("spark.sql.streaming.stateStore.providerClass")
	switch {
	case !ok || strings.HasSuffix(v, ".HDFSBackedStateStoreProvider"):
		return "hdfs"
	case strings.HasSuffix(v, ".RocksDBStateStoreProvider"):
		return "rocksdb"
	}
	return v
}

// ReadFile reads a file of the checkpoint.
func (c *Checkpoint) ReadFile(name string) ([]byte, error) { return fs.ReadFile(c.fsys, name) }

// FS returns the checkpoint's file system.
func (c *Checkpoint) FS() fs.FS { return c.fsys }

// Open lists the checkpoint at the root of fsys and reads metadata, the
// latest offsets and commit, the sources' logs and the operators' metadata
// and schema files. Unreadable files are recorded, not fatal: the error is
// only for an unlistable directory or one without offsets/.
func Open(fsys fs.FS) (*Checkpoint, error) {
	if !IsCheckpointDir(fsys) {
		return nil, fmt.Errorf("%w: no offsets/ directory", ErrNotStructured)
	}
	c := &Checkpoint{fsys: fsys, Offsets: []BatchFile{}, Commits: []BatchFile{}, Sources: []*SourceLog{}, Operators: []*Operator{},
		Leftovers: []Leftover{}, Sidecars: map[string]string{}, ChecksumFiles: map[string]string{}}
	root, err := list(fsys, ".")
	if err != nil {
		return nil, err
	}
	c.noteDir(root, false, map[string]bool{"metadata": true})
	if root.has("metadata") {
		c.HasMetadata = true
		b, err := ReadLog(fsys, "metadata")
		if err == nil {
			c.QueryID, err = ParseMetadata(b)
		}
		c.MetadataErr = decode.WithFile(err, "metadata")
	}
	for _, d := range root.dirs {
		switch d {
		case "offsets", "commits", "sources", "state":
			continue
		}
		if IsCheckpointDir(subFS(fsys, d)) {
			c.Nested = append(c.Nested, d)
		}
	}
	if c.Offsets, err = c.batchLog("offsets"); err != nil {
		return nil, err
	}
	if st, err := fs.Stat(fsys, "commits"); err == nil && st.IsDir() {
		c.HasCommitsDir = true
		if c.Commits, err = c.batchLog("commits"); err != nil {
			return nil, err
		}
	}
	if n := c.LatestBatch(); n >= 0 {
		name := "offsets/" + strconv.FormatInt(n, 10)
		b, err := ReadLog(fsys, name)
		if err == nil {
			c.LatestOffsets, err = ParseOffsets(b)
		}
		c.LatestOffsetsErr = decode.WithFile(err, name)
	}
	if n := c.LatestCommitBatch(); n >= 0 {
		name := "commits/" + strconv.FormatInt(n, 10)
		b, err := ReadLog(fsys, name)
		if err == nil {
			c.LatestCommit, err = ParseCommit(b)
		}
		c.LatestCommitErr = decode.WithFile(err, name)
	}
	if err := c.readSources(); err != nil {
		return nil, err
	}
	if err := c.readState(); err != nil {
		return nil, err
	}
	return c, nil
}

// noteDir records a directory's sidecars, leftovers and totals, and
// returns its data files.
func (c *Checkpoint) noteDir(l *listing, state bool, only map[string]bool) []string {
	data, sc, left := l.classify(state)
	for d, s := range sc {
		if only != nil && !only[d] {
			continue
		}
		c.Sidecars[l.rel(d)] = l.rel(s)
	}
	for _, lo := range left {
		if only != nil && lo.Kind == "orphan-crc" {
			continue // the root of a mixed directory: DStream files are not ours
		}
		if only != nil && lo.Kind == "tmp" && !strings.HasPrefix(path.Base(lo.File), ".metadata") {
			continue
		}
		c.Leftovers = append(c.Leftovers, lo)
	}
	for _, n := range l.names {
		if only == nil || only[n] {
			c.Files++
			c.Bytes += l.files[n]
		}
	}
	return data
}

// batchLog lists a metadata log directory (offsets/, commits/).
func (c *Checkpoint) batchLog(dir string) ([]BatchFile, error) {
	l, err := list(c.fsys, dir)
	if err != nil {
		return nil, err
	}
	data := c.noteDir(l, false, nil)
	out := []BatchFile{}
	for _, n := range data {
		if b, _, ok := BatchOf(n, false); ok {
			out = append(out, BatchFile{Name: l.rel(n), Batch: b, Size: l.files[n]})
		}
	}
	sortBatches(out)
	return out, nil
}

// subFS is fs.Sub without the error (dir is a listed subdirectory).
func subFS(fsys fs.FS, dir string) fs.FS {
	s, err := fs.Sub(fsys, dir)
	if err != nil {
		return fsys
	}
	return s
}

// Batches lists the ids of a batch log, for messages: "0..7" or "0..2, 4".
func Batches(fs []BatchFile) string {
	if len(fs) == 0 {
		return "none"
	}
	var parts []string
	start := fs[0].Batch
	prev := start
	flush := func() {
		if start == prev {
			parts = append(parts, strconv.FormatInt(start, 10))
		} else {
			parts = append(parts, fmt.Sprintf("%d..%d", start, prev))
		}
	}
	for _, f := range fs[1:] {
		if f.Batch == prev+1 || f.Batch == prev {
			prev = f.Batch
			continue
		}
		flush()
		start, prev = f.Batch, f.Batch
	}
	flush()
	return strings.Join(parts, ", ")
}

// Gaps returns the ids missing between the first and last batch of fs.
func Gaps(fs []BatchFile) []int64 {
	var out []int64
	for i := 1; i < len(fs); i++ {
		for b := fs[i-1].Batch + 1; b < fs[i].Batch && len(out) < 1000; b++ {
			out = append(out, b)
		}
	}
	return out
}

// Has reports whether a batch log has batch id b.
func Has(fs []BatchFile, b int64) bool {
	i := sort.Search(len(fs), func(i int) bool { return fs[i].Batch >= b })
	return i < len(fs) && fs[i].Batch == b
}
