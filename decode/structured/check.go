package structured

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/check"
	"github.com/sparkckpt/sparkckpt/decode/codec"
)

// CheckOptions configure Check.
type CheckOptions struct {
	// Path names the checked directory in messages and fixes.
	Path string
	// ExpectFS are the filesystems the restarted query may use (see decode/check).
	ExpectFS []string
	// SparkVersion is the release that will restart the query; "" means
	// NewestRelease.
	SparkVersion string
	// Sinks are file sink logs checked with the checkpoint.
	Sinks []Sink
	// Codec forces the codec state files are read with; nil: the offsets
	// conf's spark.sql.streaming.stateStore.compression.codec, else lz4.
	Codec *codec.Kind
	// Limits bound allocations while decoding.
	Limits decode.Limits
	// Parallel bounds concurrent file reads; 0 means GOMAXPROCS.
	Parallel int
}

// Sink is a file sink's _spark_metadata directory.
type Sink struct {
	FS   fs.FS
	Dir  string // the _spark_metadata directory in FS ("." if FS is it)
	Path string // how to name it in messages
}

// CheckReport is the result of Check.
type CheckReport struct {
	Kind string `json:"kind"` // "structured" or "file-sink"
	Dir  string `json:"dir"`
	OK   bool   `json:"ok"`
	// QueryID is the metadata's query id.
	QueryID      string      `json:"queryId"`
	SparkVersion string      `json:"sparkVersion"`
	WrittenBy    VersionHint `json:"writtenBy"`
	LatestBatch  *int64      `json:"latestBatch"`
	LatestCommit *int64      `json:"latestCommit"`
	// RunBatch is the batch a restart runs; StateVersion the state version it loads.
	RunBatch     int64        `json:"runBatch"`
	StateVersion int64        `json:"stateVersion"`
	State        StateVerdict `json:"state"`
	ExpectFS     []string     `json:"expectFs"`
	// FilesRead and BytesRead count what the check read.
	FilesRead int             `json:"filesRead"`
	BytesRead int64           `json:"bytesRead"`
	Counts    check.Counts    `json:"counts"`
	Findings  []check.Finding `json:"findings"`
}

// StateVerdict sums up whether the state a restart loads can be rebuilt.
type StateVerdict struct {
	Operators int `json:"operators"`
	Stores    int `json:"stores"`
	// Reconstructible counts stores whose chain exists and decodes.
	Reconstructible int `json:"reconstructible"`
	// ChainFiles and Records count the files and records decoded.
	ChainFiles int   `json:"chainFiles"`
	Records    int64 `json:"records"`
	// Unrecoverable lists the stores that cannot be loaded.
	Unrecoverable []StoreState `json:"unrecoverable,omitempty"`
}

// Check runs every pre-restart check on the checkpoint at the root of
// fsys (and on opts.Sinks) and reports every finding. It fails only if
// the directory cannot be listed, is not a structured checkpoint
// (ErrNotStructured), or an option is invalid.
//
// Finding codes (stable ids) and severities:
//
//	code                       severity         meaning
//	missing-metadata           warning          no metadata file: Spark writes one with a new query id
//	metadata-unreadable        error            metadata does not parse: StreamMetadata.read fails the query
//	no-offsets                 info             offsets/ is empty: the query starts from scratch
//	offsets-unreadable         error / warning  an offsets file does not parse (error for the latest two, which a restart reads)
//	commits-unreadable         error / warning  a commits file does not parse (error for the latest)
//	log-version-unsupported    error / warning  a log version the target Spark release does not read ("UnsupportedLogVersion")
//	missing-offsets            error / warning  offsets/N-1 is missing (error: populateStartOffsets fails), or a gap
//	batch-rerun                info             the latest batch has no commit: a restart runs it again with the same offsets
//	missing-commit             error / warning  the commit log trails the offset log by more than one batch (error), or a gap
//	commit-ahead               warning          a commit without offsets
//	state-unrecoverable        error            a state store cannot be loaded at the version the restart needs
//	state-unreadable           error            a state file on that chain does not decode
//	state-codec-mismatch       error            a state file is compressed with another codec than the one Spark reads with
//	state-trailing-bytes       info             bytes after a state file's end marker (Spark ignores them)
//	sst-missing                error            a RocksDB zip names an SST/log file that is missing or has another size
//	zip-entry-unsafe           error            a RocksDB zip entry named like a path out of the unzip directory (../x, /x, ..\x)
//	schema-unreadable          error            a state schema file does not parse (the schema check fails the query)
//	operator-metadata-unreadable error          operator metadata does not parse
//	state-not-checked          info             a store whose provider sparkckpt does not know
//	source-log-missing-batch   error            a file source log batch Spark reads (allFiles) is missing
//	source-log-unreadable      error            a file source log file does not parse
//	source-log-behind          error            a file source offset points past its log
//	kafka-offsets-unreadable   warning          a Kafka source's initial offsets (sources/<n>/0) do not parse
//	sink-log-missing-batch     error            a sink log batch is missing: readers of the output fail
//	sink-log-unreadable        error            a sink log file does not parse
//	foreign-authority          error / warning  absolute URIs on a filesystem that is none of --expect-fs (error for
//	                                            state schema paths and the file source entries of the latest
//	                                            offsets' log batch, which a restart reads)
//	fs-not-checked             info             no --expect-fs: the filesystems referenced, unchecked
//	crc-mismatch               error            a file differs from its .crc sidecar: Hadoop's ChecksumException
//	crc-unreadable             warning          a .crc sidecar Hadoop cannot parse (it verifies nothing)
//	checksum-mismatch          error            a state file differs from its Spark 4.1 checksum file (x.crc)
//	tmp-file                   info             temp files of interrupted writes (.<name>.<uuid>.tmp, temp-<n>); Spark ignores them
//	orphan-crc                 info             .x.crc sidecars without x
//	nested-checkpoint          info             a subdirectory is another query's checkpoint (not checked here)
//	conf-unsupported           error            a state store provider or format the target release lacks
func Check(fsys fs.FS, opts CheckOptions) (*CheckReport, error) {
	k, err := newChecker(opts)
	if err != nil {
		return nil, err
	}
	c, err := Open(fsys)
	if err != nil {
		return nil, err
	}
	k.c, k.fsys = c, fsys
	k.rep.Kind = "structured"
	k.rep.QueryID = c.QueryID
	k.rep.WrittenBy = c.Hint()
	if n := c.LatestBatch(); n >= 0 {
		k.rep.LatestBatch = &n
	}
	if n := c.LatestCommitBatch(); n >= 0 {
		k.rep.LatestCommit = &n
	}
	k.rep.RunBatch, k.rep.StateVersion = c.RunBatch(), c.StateVersion()
	k.checkMetadata()
	k.checkOffsets()
	k.checkCommits()
	k.checkSources()
	k.checkOperators()
	k.checkState()
	for _, s := range opts.Sinks {
		k.checkSink(s)
	}
	k.checkLeftovers(c.Leftovers, opts.Path)
	k.checkRemainingCRCs()
	for _, n := range c.Nested {
		k.add(check.Finding{Severity: check.Info, Code: "nested-checkpoint", File: n + "/",
			Message: fmt.Sprintf("%s/ is the checkpoint of another query (it has offsets/); it is not part of this one and was not checked", n),
			Fix:     "check it on its own"}.WithCommand("sparkckpt", "check", check.JoinPath(opts.Path, n)))
	}
	k.checkForeign()
	k.finish()
	return k.rep, nil
}

// CheckSink checks a file sink log alone.
func CheckSink(s Sink, opts CheckOptions) (*CheckReport, error) {
	k, err := newChecker(opts)
	if err != nil {
		return nil, err
	}
	k.rep.Kind = "file-sink"
	k.checkSink(s)
	k.checkForeign()
	k.finish()
	return k.rep, nil
}

type checker struct {
	opts    CheckOptions
	support Support
	expects []check.FSPlace
	c       *Checkpoint
	fsys    fs.FS
	rep     *CheckReport
	// crcDone marks data files whose sidecar was verified.
	crcDone map[string]bool
	refs    []Reference
	refFS   map[string]string // file -> display prefix (sinks)
	mu      sync.Mutex
}

func newChecker(opts CheckOptions) (*checker, error) {
	if opts.Path == "" {
		opts.Path = "."
	}
	k := &checker{opts: opts, crcDone: map[string]bool{}, refFS: map[string]string{},
		rep: &CheckReport{Dir: opts.Path, ExpectFS: append([]string{}, opts.ExpectFS...), Findings: []check.Finding{}, RunBatch: 0}}
	for _, e := range opts.ExpectFS {
		p, err := check.ParseExpected(e)
		if err != nil {
			return nil, err
		}
		k.expects = append(k.expects, p)
	}
	sv := opts.SparkVersion
	if sv == "" {
		sv = NewestRelease
	}
	v, err := ParseSparkVersion(sv)
	if err != nil {
		return nil, err
	}
	k.support = SupportedBy(v)
	k.rep.SparkVersion = fmt.Sprintf("%d.%d", v.Major, v.Minor)
	if opts.SparkVersion != "" {
		k.rep.SparkVersion = strings.TrimPrefix(opts.SparkVersion, "v")
	}
	return k, nil
}

func (k *checker) add(f check.Finding) {
	k.mu.Lock()
	k.rep.Findings = append(k.rep.Findings, f)
	k.mu.Unlock()
}

func (k *checker) finish() {
	rank := func(s check.Severity) int {
		switch s {
		case check.Error:
			return 0
		case check.Warning:
			return 1
		}
		return 2
	}
	sort.SliceStable(k.rep.Findings, func(i, j int) bool {
		return rank(k.rep.Findings[i].Severity) < rank(k.rep.Findings[j].Severity)
	})
	for _, f := range k.rep.Findings {
		switch f.Severity {
		case check.Error:
			k.rep.Counts.Error++
		case check.Warning:
			k.rep.Counts.Warning++
		default:
			k.rep.Counts.Info++
		}
	}
	k.rep.OK = k.rep.Counts.Error == 0
}

// read reads a file and verifies its .crc sidecar, reporting a mismatch.
// The bytes are returned even when the sidecar disagrees.
func (k *checker) read(fsys fs.FS, name, display string, sidecar string, readOnRestart bool) ([]byte, error) {
	return k.readWith(fs.ReadFile, fsys, name, display, sidecar, readOnRestart)
}

// readLog is read for a metadata log: a line longer than MaxLogLine stops
// the reading (see ReadLog).
func (k *checker) readLog(fsys fs.FS, name, display string, sidecar string, readOnRestart bool) ([]byte, error) {
	return k.readWith(ReadLog, fsys, name, display, sidecar, readOnRestart)
}

func (k *checker) readWith(readFile func(fs.FS, string) ([]byte, error), fsys fs.FS, name, display string, sidecar string, readOnRestart bool) ([]byte, error) {
	b, err := readFile(fsys, name)
	k.mu.Lock()
	k.rep.FilesRead++
	k.rep.BytesRead += int64(len(b))
	k.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if sidecar != "" {
		k.crcDone[display] = true
		if sb, err := fs.ReadFile(fsys, sidecar); err == nil {
			k.rep.FilesRead++
			k.rep.BytesRead += int64(len(sb))
			k.verifySidecar(display, sidecarDisplay(display, sidecar), sb, func(w io.Writer) { w.Write(b) }, readOnRestart)
		}
	}
	return b, nil
}

func sidecarDisplay(display, sidecar string) string {
	return path.Join(path.Dir(display), path.Base(sidecar))
}

// verifySidecar feeds a file's bytes to its sidecar's verifier.
func (k *checker) verifySidecar(file, sidecar string, sb []byte, feed func(io.Writer), readOnRestart bool) {
	v, err := newCRCVerifier(sb)
	if err != nil {
		k.add(check.Finding{Severity: check.Warning, Code: "crc-unreadable", File: sidecar,
			Message: fmt.Sprintf("the .crc sidecar of %s cannot be parsed (%v): Hadoop ignores it, so nothing is verified", path.Base(file), err),
			Fix:     "delete " + sidecar})
		return
	}
	feed(v)
	if err := v.finish(); err != nil {
		k.crcMismatch(file, sidecar, err, readOnRestart)
	}
}

func (k *checker) crcMismatch(file, sidecar string, err error, readOnRestart bool) {
	sev := check.Error
	msg := fmt.Sprintf("%s differs from its .crc sidecar: %v; Spark's read fails", file, err)
	if !readOnRestart {
		sev = check.Warning
		msg = fmt.Sprintf("%s differs from its .crc sidecar: %v; a restart does not read it, but anything that does fails", file, err)
	}
	k.add(check.Finding{Severity: sev, Code: "crc-mismatch", File: file, Message: msg,
		Fix: "restore the file from a backup, or if its bytes are right, delete " + sidecar + " (Hadoop then reads it unverified)"})
}

func (k *checker) checkMetadata() {
	c := k.c
	switch {
	case !c.HasMetadata:
		k.add(check.Finding{Severity: check.Warning, Code: "missing-metadata", File: "metadata",
			Message: "no metadata file: on restart Spark writes a new one with a new query id (dashboards and listeners keyed by the id see a new query)",
			Fix:     "restore metadata from a backup to keep the query id"})
	default:
		b, err := k.readLog(k.fsys, "metadata", "metadata", c.Sidecars["metadata"], true)
		if err == nil {
			_, err = ParseMetadata(b)
		}
		if err != nil {
			k.add(check.Finding{Severity: check.Error, Code: "metadata-unreadable", File: "metadata", Location: errLocation(err),
				Message: "metadata cannot be read: " + errText(err) + "; StreamMetadata.read fails and the query does not start",
				Fix:     "restore metadata from a backup, or write {\"id\":\"<uuid>\"} (a new query id)"})
		}
	}
}

// errLocation gives "offset N" for a positioned error.
func errLocation(err error) string {
	var de *decode.Error
	if errors.As(err, &de) {
		return "offset " + strconv.FormatInt(de.Offset, 10)
	}
	return ""
}

// errText is the error without the decoder and file prefix.
func errText(err error) string {
	var de *decode.Error
	if errors.As(err, &de) {
		return de.Err.Error()
	}
	var ve *VersionError
	if errors.As(err, &ve) {
		return ve.Error()
	}
	return err.Error()
}

func (k *checker) checkOffsets() {
	c := k.c
	n := c.LatestBatch()
	if n < 0 {
		k.add(check.Finding{Severity: check.Info, Code: "no-offsets", File: "offsets/",
			Message: "offsets/ holds no batch: the query starts from scratch (batch 0, empty state)"})
		return
	}
	for _, f := range c.Offsets {
		restart := f.Batch == n || f.Batch == n-1
		b, err := k.readLog(k.fsys, f.Name, f.Name, c.Sidecars[f.Name], restart)
		if err != nil {
			k.unreadable("offsets-unreadable", f.Name, err, restart, "offsets")
			continue
		}
		seq, err := ParseOffsets(b)
		if err != nil {
			var ve *VersionError
			if errors.As(err, &ve) {
				k.versionFinding(f.Name, "offsets", ve.Version, k.support.MaxOffsets, restart)
				continue
			}
			k.unreadable("offsets-unreadable", f.Name, err, restart, "offsets")
			continue
		}
		switch {
		case seq.Format == "java" && !k.support.JavaOffsets:
			k.add(check.Finding{Severity: sevIf(restart), Code: "log-version-unsupported", File: f.Name,
				Message: fmt.Sprintf("%s is a Java-serialized offset (Spark 2.0); Spark %s reads only the text format (\"Log file was malformed\")", f.Name, k.rep.SparkVersion),
				Fix:     "restart with Spark 2.0, or start a new query with a new checkpoint"})
		case seq.Format == "text" && seq.Version > k.support.MaxOffsets:
			k.versionFinding(f.Name, "offsets", seq.Version, k.support.MaxOffsets, restart)
		}
	}
	// populateStartOffsets reads offsets/N-1 (§2.1); gaps are legal only
	// with async progress tracking.
	if n > 0 && !Has(c.Offsets, n-1) {
		if k.support.CommitLog { // 2.2+ (StreamExecution.populateStartOffsets)
			k.add(check.Finding{Severity: check.Error, Code: "missing-offsets", File: fmt.Sprintf("offsets/%d", n-1),
				Message: fmt.Sprintf("offsets/%d is missing but offsets/%d exists: a restart fails with \"batch %d doesn't exist\" (unless the query ran with async progress tracking, which tolerates gaps)", n-1, n, n-1),
				Fix:     fmt.Sprintf("restore offsets/%d from a backup", n-1)})
		} else {
			k.add(check.Finding{Severity: check.Info, Code: "missing-offsets", File: fmt.Sprintf("offsets/%d", n-1),
				Message: fmt.Sprintf("offsets/%d is missing; Spark %s restarts without it", n-1, k.rep.SparkVersion)})
		}
	}
	gaps := Gaps(c.Offsets)
	if len(gaps) > 0 && !(len(gaps) == 1 && gaps[0] == n-1) {
		k.add(check.Finding{Severity: check.Warning, Code: "missing-offsets", File: "offsets/",
			Message: fmt.Sprintf("the offset log has gaps (offsets %s): Spark keeps contiguous ids unless async progress tracking is on", Batches(c.Offsets))})
	}
}

func sevIf(restart bool) check.Severity {
	if restart {
		return check.Error
	}
	return check.Warning
}

func (k *checker) unreadable(code, file string, err error, restart bool, what string) {
	msg := fmt.Sprintf("%s cannot be read: %s", file, errText(err))
	if restart {
		msg += "; a restart reads it and fails"
	} else {
		msg += "; a restart does not read it"
	}
	k.add(check.Finding{Severity: sevIf(restart), Code: code, File: file, Location: errLocation(err), Message: msg,
		Fix: "restore " + file + " from a backup"})
}

// versionFinding reports a log version the target release cannot read:
// an error per file a restart reads, one grouped warning per kind of log
// for the others (older batches).
func (k *checker) versionFinding(file, what string, v, max int, restart bool) {
	supported := fmt.Sprintf("up to v%d", max)
	if max == 0 {
		supported = "none"
	}
	fix := "restart with the Spark release that wrote the checkpoint (or a newer one); check with --spark-version to see what a release reads"
	if restart {
		k.add(check.Finding{Severity: check.Error, Code: "log-version-unsupported", File: file, Location: "line 1",
			Message: fmt.Sprintf("%s is %s log version v%d; Spark %s reads %s (UnsupportedLogVersion: \"produced by a newer version of Spark\")", file, what, v, k.rep.SparkVersion, supported),
			Fix:     fix})
		return
	}
	for i := range k.rep.Findings {
		f := &k.rep.Findings[i]
		if f.Code == "log-version-unsupported" && f.Severity == check.Warning && strings.HasPrefix(f.Message, "older "+what+" ") {
			f.Count++
			f.Places = append(f.Places, check.Place{File: file, Location: "line 1"})
			f.Message = fmt.Sprintf("older %s files (%d) have versions Spark %s does not read (%s, e.g. v%d); a restart does not read them", what, f.Count, k.rep.SparkVersion, supported, v)
			return
		}
	}
	k.add(check.Finding{Severity: check.Warning, Code: "log-version-unsupported", File: file, Location: "line 1", Count: 1,
		Places:  []check.Place{{File: file, Location: "line 1"}},
		Message: fmt.Sprintf("older %s files (1) have versions Spark %s does not read (%s, e.g. v%d); a restart does not read them", what, k.rep.SparkVersion, supported, v),
		Fix:     fix})
}

func (k *checker) checkCommits() {
	c := k.c
	n, cm := c.LatestBatch(), c.LatestCommitBatch()
	if !c.HasCommitsDir {
		if n >= 0 {
			k.add(check.Finding{Severity: check.Info, Code: "batch-rerun", File: fmt.Sprintf("offsets/%d", n),
				Message: fmt.Sprintf("no commit log (Spark 2.0/2.1): a restart runs batch %d again with the offsets it logged, loading state version %d", n, n)})
		}
		return
	}
	if !k.support.CommitLog {
		k.add(check.Finding{Severity: check.Info, Code: "log-version-unsupported", File: "commits/",
			Message: fmt.Sprintf("Spark %s has no commit log and ignores commits/: it re-runs the latest batch", k.rep.SparkVersion)})
	}
	for _, f := range c.Commits {
		restart := f.Batch == cm
		b, err := k.readLog(k.fsys, f.Name, f.Name, c.Sidecars[f.Name], restart)
		if err != nil {
			k.unreadable("commits-unreadable", f.Name, err, restart, "commits")
			continue
		}
		cmt, err := ParseCommit(b)
		if err != nil {
			var ve *VersionError
			if errors.As(err, &ve) {
				k.versionFinding(f.Name, "commits", ve.Version, k.support.MaxCommits, restart && k.support.CommitLog)
				continue
			}
			k.unreadable("commits-unreadable", f.Name, err, restart && k.support.CommitLog, "commits")
			continue
		}
		if k.support.CommitLog && cmt.Version > k.support.MaxCommits {
			k.versionFinding(f.Name, "commits", cmt.Version, k.support.MaxCommits, restart)
		}
	}
	switch {
	case n < 0:
	case cm < 0:
		if n >= 0 {
			k.add(check.Finding{Severity: check.Info, Code: "batch-rerun", File: fmt.Sprintf("offsets/%d", n),
				Message: fmt.Sprintf("no batch was committed: a restart runs batch %d again with the offsets it logged", n)})
		}
	case cm == n-1:
		k.add(check.Finding{Severity: check.Info, Code: "batch-rerun", File: fmt.Sprintf("offsets/%d", n),
			Message: fmt.Sprintf("batch %d has offsets but no commit: a restart runs it again with the same offsets (state version %d)", n, n)})
	case cm < n-1:
		k.add(check.Finding{Severity: check.Error, Code: "missing-commit", File: fmt.Sprintf("commits/%d", cm+1),
			Message: fmt.Sprintf("the commit log ends at batch %d but the offset log at %d: batches %d..%d ran without a commit; Spark logs \"not trailing batchid by one\", re-runs only batch %d, and their output and state may be lost or duplicated", cm, n, cm+1, n-1, n),
			Fix:     fmt.Sprintf("restore commits/%d..%d from a backup, or accept re-running batch %d only", cm+1, n-1, n)})
	case cm > n:
		k.add(check.Finding{Severity: check.Warning, Code: "commit-ahead", File: fmt.Sprintf("commits/%d", cm),
			Message: fmt.Sprintf("commits/%d exists but the offset log ends at %d", cm, n)})
	}
	var gaps []int64
	for _, g := range Gaps(c.Commits) {
		if Has(c.Offsets, g) {
			gaps = append(gaps, g)
		}
	}
	if len(gaps) > 0 {
		places := make([]check.Place, len(gaps))
		for i, g := range gaps {
			places[i] = check.Place{File: fmt.Sprintf("commits/%d", g)}
		}
		k.add(check.Finding{Severity: check.Warning, Code: "missing-commit", File: places[0].File, Count: len(gaps), Places: places,
			Message: fmt.Sprintf("commits/%s missing between committed batches (commits %s): a restart only reads the latest commit, but those batches' completion is not recorded", joinInts(gaps), Batches(c.Commits)),
			Fix:     "restore the missing commit files from a backup"})
	}
}

func joinInts(v []int64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatInt(x, 10)
	}
	if len(s) > 10 {
		return strings.Join(s[:10], ", ") + ", ..."
	}
	return strings.Join(s, ", ")
}

func (k *checker) checkSources() {
	c := k.c
	for _, s := range c.Sources {
		switch s.Kind {
		case SourceKafka:
			f := s.Files[0]
			b, err := k.readLog(k.fsys, f.Name, f.Name, c.Sidecars[f.Name], false)
			if err == nil {
				var ko *KafkaInitialOffsets
				ko, err = ParseKafkaInitialOffsets(b)
				if err == nil && ko.Version == 1 && !k.support.KafkaV1 {
					err = fmt.Errorf("written as v1 by Spark 2.1.1+; Spark %s reads only 2.1.0's format", k.rep.SparkVersion)
				}
			}
			if err != nil {
				var ve *VersionError
				if errors.As(err, &ve) {
					k.versionFinding(f.Name, "kafka initial offsets", ve.Version, MaxKafkaVersion, true)
					continue
				}
				k.add(check.Finding{Severity: check.Warning, Code: "kafka-offsets-unreadable", File: f.Name, Location: errLocation(err),
					Message: fmt.Sprintf("the Kafka source's initial offsets cannot be read: %s; Spark reads them when it needs the starting offsets", errText(err))})
			}
		case SourceFile:
			k.checkFileSourceLog(s)
		}
	}
}

func (k *checker) checkFileSourceLog(s *SourceLog) {
	c := k.c
	for _, b := range s.Missing {
		k.add(check.Finding{Severity: check.Error, Code: "source-log-missing-batch", File: fmt.Sprintf("%s/%d", s.Dir, b),
			Message: fmt.Sprintf("%s/%d is missing: Spark lists the source's seen files from batches %s and fails (\"doesn't exist\")", s.Dir, b, validRange(s.ValidFirst, s.ValidLast)),
			Fix:     "restore it from a backup"})
	}
	for _, f := range s.Files {
		valid := f.Batch >= s.ValidFirst && f.Batch <= s.ValidLast
		b, err := k.readLog(k.fsys, f.Name, f.Name, c.Sidecars[f.Name], valid)
		if err != nil {
			k.unreadable("source-log-unreadable", f.Name, err, valid, "file source log")
			continue
		}
		fl, err := ParseFileLog(b, LogSource)
		if err != nil {
			var ve *VersionError
			if errors.As(err, &ve) {
				k.versionFinding(f.Name, "file source", ve.Version, MaxFileLogVersion, valid)
				continue
			}
			k.unreadable("source-log-unreadable", f.Name, err, valid, "file source log")
			continue
		}
		reread := s.Offset != nil && s.Offset.LogOffset != nil && *s.Offset.LogOffset == f.Batch
		for _, e := range fl.Entries {
			k.refs = append(k.refs, Reference{URI: e.Path, File: f.Name, Location: fmt.Sprintf("line %d: path", e.Line), Role: RoleSourceFile, Reread: reread})
		}
	}
	if s.Offset != nil && s.Offset.LogOffset != nil && len(s.Files) > 0 {
		if lo := *s.Offset.LogOffset; lo > s.Files[len(s.Files)-1].Batch {
			k.add(check.Finding{Severity: check.Error, Code: "source-log-behind", File: s.Dir + "/",
				Message: fmt.Sprintf("the latest offsets point at log batch %d of %s, whose last batch is %d: the re-run batch cannot list its files", lo, s.Dir, s.Files[len(s.Files)-1].Batch),
				Fix:     "restore the missing source log files from a backup"})
		}
	}
}

func (k *checker) checkOperators() {
	c := k.c
	for _, op := range c.Operators {
		if op.MetadataErr != nil {
			k.add(check.Finding{Severity: sevIf(k.support.MaxOpMeta > 0), Code: "operator-metadata-unreadable", File: op.MetadataFile, Location: errLocation(op.MetadataErr),
				Message: "operator metadata cannot be read: " + errText(op.MetadataErr), Fix: "restore it from a backup"})
		} else if op.Metadata != nil && k.support.MaxOpMeta > 0 && op.Metadata.Version > k.support.MaxOpMeta {
			k.versionFinding(op.MetadataFile, "operator metadata", op.Metadata.Version, k.support.MaxOpMeta, true)
		}
		for _, name := range op.V2MetadataFiles {
			b, err := k.readLog(k.fsys, name, name, c.Sidecars[name], name == op.MetadataFile)
			if err != nil {
				continue
			}
			if m, err := ParseOperatorMetadata(b); err == nil {
				for _, u := range m.URIs {
					k.refs = append(k.refs, Reference{URI: u.Value, File: name, Location: "line 2: " + u.Path, Role: RoleStateSchema})
				}
			}
		}
		stores := make([]string, 0, len(op.SchemaFiles))
		for s := range op.SchemaFiles {
			stores = append(stores, s)
		}
		sort.Strings(stores)
		for _, s := range stores {
			name := op.SchemaFiles[s]
			k.read(k.fsys, name, name, c.Sidecars[name], true)
			if err := op.SchemaErrs[s]; err != nil {
				var ve *VersionError
				if errors.As(err, &ve) {
					k.versionFinding(name, "state schema", ve.Version, k.support.MaxSchema, k.support.MaxSchema > 0)
					continue
				}
				k.add(check.Finding{Severity: sevIf(k.support.MaxSchema > 0), Code: "schema-unreadable", File: name, Location: errLocation(err),
					Message: "the state schema file cannot be read: " + errText(err) + "; Spark's state schema check reads it on restart",
					Fix:     "restore it from a backup, or restart with spark.sql.streaming.stateStore.stateSchemaCheck=false"})
				continue
			}
			if sf := op.Schemas[s]; sf != nil && k.support.MaxSchema > 0 && sf.Version > k.support.MaxSchema {
				k.versionFinding(name, "state schema", sf.Version, k.support.MaxSchema, true)
			}
		}
	}
}

// stateCodec is the codec Spark reads state files with (§2.3 conf,
// stateStore.compression.codec; lz4 when absent).
func (k *checker) stateCodec() (codec.Kind, string) {
	if k.opts.Codec != nil {
		return *k.opts.Codec, "--codec"
	}
	if v, ok := k.c.Conf("spark.sql.streaming.stateStore.compression.codec"); ok {
		if kind, err := codec.ParseKind(v); err == nil {
			return kind, "spark.sql.streaming.stateStore.compression.codec in the offsets conf"
		}
	}
	return codec.LZ4, "Spark's default (lz4; before 3.1 spark.io.compression.codec, not recorded in the checkpoint)"
}

// stateTask is a state file to read: decoded when on a chain, else only
// checksummed.
type stateTask struct {
	name     string
	kind     string // state kind to decode; "" to only verify checksums
	sidecar  string
	checksum string
	onChain  bool
	// results
	records  int64
	trailing int64
	detected codec.Kind
	err      error
	crcErr   error
	crcBad   error
	sumErr   error
	zip      *RocksDBZip
	n        int64
	// sidecars read
	extraFiles int
	extraBytes int64
}

func (k *checker) checkState() {
	c := k.c
	v := c.StateVersion()
	states := c.StateAt(v, c.commitFor(v-1))
	verdict := &k.rep.State
	verdict.Operators = len(c.Operators)
	onChain := map[string]string{}
	for _, st := range states {
		for i, f := range st.Chain {
			onChain[f] = st.Kinds[i]
		}
	}
	for _, op := range c.Operators {
		if p := c.Provider(); p != FormatHDFS && p != FormatRocksDB {
			k.add(check.Finding{Severity: check.Info, Code: "state-not-checked", File: op.Dir + "/",
				Message: fmt.Sprintf("state store provider %s is not one sparkckpt knows; its files were listed, not decoded", p)})
		}
		if strings.Contains(op.Format, FormatRocksDB) && !k.support.RocksDB {
			k.add(check.Finding{Severity: check.Error, Code: "conf-unsupported", File: op.Dir + "/",
				Message: fmt.Sprintf("operator %d uses the RocksDB state store, which Spark %s does not have (3.2+)", op.ID, k.rep.SparkVersion)})
		}
	}
	// Every state file: decode the chain files, checksum the others.
	var tasks []*stateTask
	for _, op := range c.Operators {
		for _, p := range op.Partitions {
			for _, s := range p.Stores {
				for _, f := range s.Files {
					kind, ok := onChain[f.Name]
					t := &stateTask{name: f.Name, sidecar: c.Sidecars[f.Name], checksum: c.ChecksumFiles[f.Name], onChain: ok}
					if ok {
						t.kind = kind
					}
					if t.kind == "" && t.sidecar == "" && t.checksum == "" {
						continue
					}
					tasks = append(tasks, t)
				}
				for _, sub := range []struct {
					dir   string
					files map[string]int64
				}{{"SSTs", s.SSTs}, {"logs", s.Logs}} {
					for n := range sub.files {
						name := s.Dir + "/" + sub.dir + "/" + n
						if sc := c.Sidecars[name]; sc != "" {
							tasks = append(tasks, &stateTask{name: name, sidecar: sc})
						}
					}
				}
			}
		}
	}
	sort.Slice(tasks, func(i, j int) bool { return tasks[i].name < tasks[j].name })
	want, wantSrc := k.stateCodec()
	k.run(tasks, want)
	byName := map[string]*stateTask{}
	for _, t := range tasks {
		byName[t.name] = t
		k.crcDone[t.name] = true
		k.rep.FilesRead += 1 + t.extraFiles
		k.rep.BytesRead += t.n + t.extraBytes
		if t.crcErr != nil {
			k.add(check.Finding{Severity: check.Warning, Code: "crc-unreadable", File: t.sidecar,
				Message: fmt.Sprintf("the .crc sidecar of %s cannot be parsed (%v): Hadoop ignores it, so nothing is verified", path.Base(t.name), t.crcErr)})
		}
		if t.crcBad != nil {
			k.crcMismatch(t.name, t.sidecar, t.crcBad, t.onChain)
		}
		if t.sumErr != nil {
			k.add(check.Finding{Severity: sevIf(t.onChain), Code: "checksum-mismatch", File: t.name,
				Message: fmt.Sprintf("%s differs from its Spark checksum file %s: %v; Spark 4.1+ fails to load it", path.Base(t.name), path.Base(t.checksum), t.sumErr),
				Fix:     "restore the file from a backup"})
		}
	}
	// Verdict per store.
	bad := map[int64][]StoreState{}
	for _, st := range states {
		verdict.Stores++
		ok := st.OK
		if ok {
			for i, f := range st.Chain {
				t := byName[f]
				if t == nil {
					continue
				}
				verdict.ChainFiles++
				verdict.Records += t.records
				if t.err != nil {
					ok = false
					k.stateUnreadable(st, f, st.Kinds[i], t, want, wantSrc)
					continue
				}
				if t.trailing > 0 {
					k.add(check.Finding{Severity: check.Info, Code: "state-trailing-bytes", File: f,
						Message: fmt.Sprintf("%d byte(s) follow the end marker; Spark stops reading at the marker", t.trailing)})
				}
				if t.zip != nil {
					k.checkZipNames(f, t.zip)
					if !k.checkZipFiles(st, f, t.zip) {
						ok = false
					}
				}
			}
		}
		if ok {
			verdict.Reconstructible++
		} else if !st.OK {
			bad[st.Operator] = append(bad[st.Operator], st)
		}
	}
	ops := make([]int64, 0, len(bad))
	for op := range bad {
		ops = append(ops, op)
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i] < ops[j] })
	for _, op := range ops {
		sts := bad[op]
		verdict.Unrecoverable = append(verdict.Unrecoverable, sts...)
		places := make([]check.Place, len(sts))
		parts := map[int]bool{}
		for i, st := range sts {
			places[i] = check.Place{File: st.Dir, Location: st.Problem}
			parts[st.Partition] = true
		}
		what := fmt.Sprintf("%d store(s) in %d partition(s)", len(sts), len(parts))
		k.add(check.Finding{Severity: check.Error, Code: "state-unrecoverable", File: sts[0].Dir, Location: sts[0].Problem, Count: len(sts), Places: places,
			Message: fmt.Sprintf("operator %d: the state of the last committed batch (version %d) cannot be rebuilt for %s: Spark fails with \"Error reading delta file ... does not exist\" / CANNOT_LOAD_STATE_STORE", op, v, what),
			Fix:     "restore the missing state files from a backup; without them the query must start over with a new checkpoint (its state is lost)"})
	}
}

func (k *checker) stateUnreadable(st StoreState, f, kind string, t *stateTask, want codec.Kind, wantSrc string) {
	if kind != "zip" && t.detected != want && errors.Is(t.err, errCodecMismatch) {
		k.add(check.Finding{Severity: check.Error, Code: "state-codec-mismatch", File: f,
			Message: fmt.Sprintf("%s is compressed with %s, but Spark reads state with %s (%s)", path.Base(f), t.detected, want, wantSrc),
			Fix:     fmt.Sprintf("restart with spark.sql.streaming.stateStore.compression.codec=%s, or check with --codec %s", t.detected, t.detected)})
		return
	}
	k.add(check.Finding{Severity: check.Error, Code: "state-unreadable", File: f, Location: errLocation(t.err),
		Message: fmt.Sprintf("%s (needed to load operator %d partition %d store %s at version %d) does not decode: %s", path.Base(f), st.Operator, st.Partition, st.Store, st.Version, errText(t.err)),
		Fix:     "restore the file from a backup"})
}

var errCodecMismatch = errors.New("codec mismatch")

// checkZipNames reports the entries of a RocksDB zip whose names would
// land outside the directory Spark unzips it into (Zip Slip), or that are
// no plain file name.
func (k *checker) checkZipNames(zipName string, z *RocksDBZip) {
	for _, e := range z.Entries {
		why := UnsafeZipName(e.Name)
		if why == "" {
			continue
		}
		k.add(check.Finding{Severity: check.Error, Code: "zip-entry-unsafe", File: zipName, Location: e.Name,
			Message: fmt.Sprintf("%s has an entry named %q, which %s: unzipping it on restart writes outside the state store's local directory", path.Base(zipName), e.Name, why),
			Fix:     "restore the zip from a backup; do not restart from a checkpoint whose archives were crafted"})
	}
}

// UnsafeZipName says why an entry name of a RocksDB checkpoint zip is
// unsafe to unzip ("" if it is safe): Spark writes only plain file names
// (CURRENT, MANIFEST-*, OPTIONS-*, metadata), never a path.
func UnsafeZipName(name string) string {
	switch {
	case name == "":
		return "is empty"
	case strings.HasPrefix(name, "/") || strings.HasPrefix(name, `\`):
		return "is an absolute path"
	case len(name) >= 2 && name[1] == ':' && (name[0]|0x20 >= 'a' && name[0]|0x20 <= 'z'):
		return "starts with a drive letter"
	}
	for _, el := range strings.FieldsFunc(name, func(r rune) bool { return r == '/' || r == '\\' }) {
		if el == ".." {
			return "climbs out of the directory with \"..\""
		}
	}
	if strings.IndexFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		return "holds control characters"
	}
	return ""
}

// checkZipFiles checks that a RocksDB zip's SST and log files exist with
// the sizes it records (§4.2).
func (k *checker) checkZipFiles(st StoreState, zipName string, z *RocksDBZip) bool {
	var s *Store
	for _, op := range k.c.Operators {
		if op.ID != st.Operator {
			continue
		}
		for _, p := range op.Partitions {
			if p.ID != st.Partition {
				continue
			}
			for _, x := range p.Stores {
				if x.Name == st.Store {
					s = x
				}
			}
		}
	}
	if s == nil || z.Metadata == nil {
		return true
	}
	ok := true
	check1 := func(dir string, have map[string]int64, f RocksDBFile) {
		size, found := have[f.DFSFileName]
		switch {
		case !found:
			ok = false
			k.add(check.Finding{Severity: check.Error, Code: "sst-missing", File: s.Dir + "/" + dir + "/" + f.DFSFileName,
				Message: fmt.Sprintf("%s names %s/%s (%d bytes) but it is missing: RocksDB cannot open version %d", path.Base(zipName), dir, f.DFSFileName, f.SizeBytes, st.Version),
				Fix:     "restore the file from a backup"})
		case size != f.SizeBytes:
			ok = false
			k.add(check.Finding{Severity: check.Error, Code: "sst-missing", File: s.Dir + "/" + dir + "/" + f.DFSFileName,
				Message: fmt.Sprintf("%s says %s has %d bytes, it has %d: Spark's size check after download fails", path.Base(zipName), f.DFSFileName, f.SizeBytes, size),
				Fix:     "restore the file from a backup"})
		}
	}
	for _, f := range z.Metadata.SSTFiles {
		check1("SSTs", s.SSTs, f)
	}
	for _, f := range z.Metadata.LogFiles {
		check1("logs", s.Logs, f)
	}
	return ok
}

// run processes state tasks in parallel: each file is read once, through
// its checksum verifiers and, on a chain, the decoder.
func (k *checker) run(tasks []*stateTask, want codec.Kind) {
	par := k.opts.Parallel
	if par <= 0 {
		par = runtime.GOMAXPROCS(0)
	}
	ch := make(chan *stateTask)
	var wg sync.WaitGroup
	for range par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 128<<10)
			for t := range ch {
				k.runTask(t, want, buf)
			}
		}()
	}
	for _, t := range tasks {
		ch <- t
	}
	close(ch)
	wg.Wait()
}

// readerPool buffers file reads (the codecs read headers of a few bytes).
var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 128<<10) }}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func (k *checker) runTask(t *stateTask, want codec.Kind, buf []byte) {
	var writers []io.Writer
	var crcV *crcVerifier
	var sumV *crc32cVerifier
	if t.sidecar != "" {
		if sb, err := fs.ReadFile(k.fsys, t.sidecar); err == nil {
			t.extraFiles++
			t.extraBytes += int64(len(sb))
			if crcV, err = newCRCVerifier(sb); err != nil {
				t.crcErr = err
			} else {
				writers = append(writers, crcV)
			}
		}
	}
	if t.checksum != "" {
		if sb, err := fs.ReadFile(k.fsys, t.checksum); err == nil {
			t.extraFiles++
			t.extraBytes += int64(len(sb))
			if sumV, err = newCRC32CVerifier(sb); err != nil {
				t.sumErr = err
			} else {
				writers = append(writers, sumV)
			}
		}
	}
	cw := &countWriter{}
	writers = append(writers, cw)
	f, err := k.fsys.Open(t.name)
	if err != nil {
		t.err = err
		return
	}
	defer f.Close()
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(f)
	defer readerPool.Put(br)
	r := io.TeeReader(br, io.MultiWriter(writers...))
	switch t.kind {
	case "":
		_, err = io.CopyBuffer(io.Discard, struct{ io.Reader }{r}, buf)
		if err != nil {
			t.err = err
		}
	case "zip":
		b, err := io.ReadAll(r)
		if err == nil {
			t.zip, err = ParseRocksDBZip(b)
		}
		t.err = decode.WithFile(err, t.name)
	default:
		// Detect the codec first so that a file in another codec is
		// reported as such, not as corrupt.
		var head [codec.DetectLen]byte
		n, _ := io.ReadFull(r, head[:])
		if d, derr := codec.Detect(head[:n]); derr == nil {
			t.detected = d
			if d != want {
				t.err = fmt.Errorf("%w: %s", errCodecMismatch, d)
			}
		}
		if t.err == nil {
			sum, err := ScanStateFile(io.MultiReader(bytes.NewReader(head[:n]), r), t.kind, &want, k.opts.Limits, nil)
			if sum != nil {
				t.records, t.trailing = sum.Puts+sum.Deletes+sum.Merges, sum.Trailing
			}
			t.err = decode.WithFile(err, t.name)
		}
		io.CopyBuffer(io.Discard, struct{ io.Reader }{r}, buf) // the rest, for the checksums
	}
	t.n = cw.n
	if crcV != nil {
		t.crcBad = crcV.finish()
	}
	if sumV != nil {
		t.sumErr = sumV.finish()
	}
}

// checkSink checks a file sink log: every batch readers list, every file
// parses, versions, checksums, leftovers.
func (k *checker) checkSink(s Sink) {
	sl, err := OpenSink(s.FS, s.Dir)
	disp := func(name string) string { return check.JoinPath(s.Path, name) }
	if err != nil {
		k.add(check.Finding{Severity: check.Error, Code: "sink-log-unreadable", File: s.Path, Message: "the sink log cannot be listed: " + err.Error()})
		return
	}
	l, err := list(s.FS, s.Dir)
	if err != nil {
		return
	}
	_, sidecars, _ := l.classify(false)
	for _, b := range sl.Missing {
		name := disp(path.Join(s.Dir, strconv.FormatInt(b, 10)))
		k.add(check.Finding{Severity: check.Error, Code: "sink-log-missing-batch", File: name,
			Message: fmt.Sprintf("sink log batch %d is missing: readers of the output (and the sink on restart) list files from batches %s and fail (\"doesn't exist\")", b, validRange(sl.ValidFirst, sl.ValidLast)),
			Fix:     "restore it from a backup"})
	}
	for _, f := range sl.Files {
		valid := f.Batch >= sl.ValidFirst && f.Batch <= sl.ValidLast
		sc := ""
		if n := sidecars[path.Base(f.Name)]; n != "" {
			sc = path.Join(path.Dir(f.Name), n)
		}
		b, err := k.readLog(s.FS, f.Name, disp(f.Name), sc, valid)
		if err != nil {
			k.unreadable("sink-log-unreadable", disp(f.Name), err, valid, "sink log")
			continue
		}
		fl, err := ParseFileLog(b, LogSink)
		if err != nil {
			var ve *VersionError
			if errors.As(err, &ve) {
				k.versionFinding(disp(f.Name), "file sink", ve.Version, MaxFileLogVersion, valid)
				continue
			}
			k.unreadable("sink-log-unreadable", disp(f.Name), err, valid, "sink log")
			continue
		}
		for _, e := range fl.Entries {
			k.refs = append(k.refs, Reference{URI: e.Path, File: disp(f.Name), Location: fmt.Sprintf("line %d: path", e.Line), Role: RoleSinkFile})
		}
	}
	var left []Leftover
	for _, lo := range sl.Leftovers {
		lo.File = disp(lo.File)
		left = append(left, lo)
	}
	k.checkLeftovers(left, s.Path)
}

func (k *checker) checkLeftovers(left []Leftover, root string) {
	group := func(kind, code, msg, fix string) {
		var places []check.Place
		for _, l := range left {
			if l.Kind == kind {
				places = append(places, check.Place{File: l.File})
			}
		}
		if len(places) == 0 {
			return
		}
		k.add(check.Finding{Severity: check.Info, Code: code, File: places[0].File, Count: len(places), Places: places,
			Message: fmt.Sprintf(msg, len(places)), Fix: fix})
	}
	fix := "delete them (find " + check.ShellQuote(root) + " -name '.*.tmp' -o -name '.*.tmp.crc')"
	if strings.Contains(root, "://") { // find(1) reads only the local disk
		var files []string
		for _, l := range left {
			if l.Kind == "tmp" {
				f := l.File
				if !strings.Contains(f, "://") { // sink files are named in full already
					f = check.JoinPath(root, f)
				}
				files = append(files, check.ShellQuote(f))
			}
		}
		fix = "delete them (hdfs dfs -rm " + strings.Join(files, " ") + ")"
	}
	group("tmp", "tmp-file", "%d temp file(s) of interrupted atomic writes (.<name>.<uuid>.tmp and their .crc): Spark ignores them", fix)
	group("temp", "tmp-file", "%d temp-<n> file(s) of the HDFS state store's interrupted writes: Spark ignores them", "delete them")
	group("orphan-crc", "orphan-crc", "%d .crc sidecar(s) without their data file: Hadoop ignores them", "delete them")
}

// checkRemainingCRCs verifies the sidecars of files no other check read.
func (k *checker) checkRemainingCRCs() {
	names := make([]string, 0, len(k.c.Sidecars))
	for d := range k.c.Sidecars {
		if !k.crcDone[d] {
			names = append(names, d)
		}
	}
	sort.Strings(names)
	for _, d := range names {
		k.read(k.fsys, d, d, k.c.Sidecars[d], true)
	}
}

// checkForeign judges every absolute URI against --expect-fs.
func (k *checker) checkForeign() {
	if len(k.refs) == 0 {
		return
	}
	type group struct {
		key    string
		role   string
		reread bool
		places []check.Place
	}
	groups := map[string]*group{}
	var order []string
	for _, r := range k.refs {
		p, ok := check.ParseFSPlace(r.URI)
		key := "(no scheme)"
		if ok {
			key = p.Key()
		}
		if len(k.expects) > 0 && ok {
			expected := false
			for _, e := range k.expects {
				if p.On(e) {
					expected = true
					break
				}
			}
			if expected {
				continue
			}
		}
		gk := key + "\x00" + r.Role
		if r.Reread {
			gk += "\x00reread"
		}
		if groups[gk] == nil {
			groups[gk] = &group{key: key, role: r.Role, reread: r.Reread}
			order = append(order, gk)
		}
		groups[gk].places = append(groups[gk].places, check.Place{File: r.File, Location: r.Location, URI: r.URI})
	}
	sort.Strings(order)
	if len(k.expects) == 0 {
		var parts []string
		for _, gk := range order {
			g := groups[gk]
			parts = append(parts, fmt.Sprintf("%s (%d %s)", g.key, len(g.places), g.role))
		}
		var places []check.Place
		for _, gk := range order {
			places = append(places, groups[gk].places...)
		}
		k.add(check.Finding{Severity: check.Info, Code: "fs-not-checked", Count: len(places), Places: places, File: places[0].File, Location: places[0].Location,
			Message: "absolute URIs reference " + strings.Join(parts, ", ") + "; give --expect-fs to check them against the new cluster"})
		return
	}
	for _, gk := range order {
		g := groups[gk]
		sev := check.Warning
		if g.role == RoleStateSchema || g.reread {
			sev = check.Error
		}
		meaning, _, _ := RoleMeaning(g.role)
		if g.reread {
			meaning = "files of the source log batch the latest offsets point at: a restart resolves them again " +
				"(getBatch of the latest batch) and fails with ConnectException, NoRouteToHostException or UnknownHostException once that cluster is gone"
		}
		first := g.places[0]
		from := commonPrefix(g.places)
		k.add(check.Finding{Severity: sev, Code: "foreign-authority", File: first.File, Location: first.Location, Count: len(g.places), Places: g.places,
			Message: fmt.Sprintf("%d %s URI(s) on %s, which is not among --expect-fs (%s)", len(g.places), g.role, g.key, meaning),
			Fix:     "move them onto " + k.opts.ExpectFS[0] + " (the command is a dry run of the rewrite; add --apply to write)"}.WithCommand("sparkckpt", "rewrite", k.opts.Path, "--from", from, "--to", k.opts.ExpectFS[0]))
	}
}

// commonPrefix is what a rewrite should move for a group of URIs: the
// scheme and authority, or for local files their longest common directory.
func commonPrefix(places []check.Place) string {
	p, ok := check.ParseFSPlace(places[0].URI)
	if !ok {
		return places[0].URI
	}
	if !p.Local() {
		u := places[0].URI
		scheme, _, _ := strings.Cut(u, ":")
		return scheme + "://" + strings.SplitN(strings.TrimPrefix(u[len(scheme)+1:], "//"), "/", 2)[0]
	}
	dir := path.Dir(p.Path())
	for _, pl := range places[1:] {
		q, ok := check.ParseFSPlace(pl.URI)
		if !ok {
			continue
		}
		for dir != "/" && !(q.Path() == dir || strings.HasPrefix(q.Path(), dir+"/")) {
			dir = path.Dir(dir)
		}
	}
	return "file:" + dir
}
