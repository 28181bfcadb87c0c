package wal

import (
	"errors"
	"io"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/sparkckpt/sparkckpt/decode"
)

// logFileRegex is FileBasedWriteAheadLog.logFileRegex (§6.1).
var logFileRegex = regexp.MustCompile(`log-(\d+)-(\d+)`)

// LogFile is a log file name parsed as log-<startMs>-<stopMs>.
type LogFile struct {
	// Name is the file's base name.
	Name string `json:"name"`
	// StartMs and StopMs are the times in the name: the time of the first
	// write and that plus the rolling interval.
	StartMs int64 `json:"startMs"`
	StopMs  int64 `json:"stopMs"`
}

// ListLogs returns the log files among names (base names of a log
// directory's entries), sorted by start time as Spark's
// FileBasedWriteAheadLog.logFilesTologInfo does: the regex log-(\d+)-(\d+)
// is searched for anywhere in the name, and the sort is stable, so pass
// names in listing order. Hadoop checksum files (".<name>.crc"), which
// Hadoop's listing hides from Spark, and names whose numbers overflow an
// int64 (on which Spark fails) are skipped.
func ListLogs(names []string) []LogFile {
	var out []LogFile
	for _, n := range names {
		if strings.HasPrefix(n, ".") && strings.HasSuffix(n, ".crc") {
			continue
		}
		m := logFileRegex.FindStringSubmatch(n)
		if m == nil {
			continue
		}
		start, err1 := strconv.ParseInt(m[1], 10, 64)
		stop, err2 := strconv.ParseInt(m[2], 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, LogFile{Name: n, StartMs: start, StopMs: stop})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].StartMs < out[j].StartMs })
	return out
}

// FileSummary describes one driver log file.
type FileSummary struct {
	LogFile
	// Records counts the complete records, BatchedRecords those of them
	// that are byte[][] batches.
	Records        int `json:"records"`
	BatchedRecords int `json:"batchedRecords"`
	// Events counts events by [Event.Type].
	Events map[string]int `json:"events"`
	// BadEvents counts known events whose fields could not be read
	// ([Event.Err]); they are counted in Events but not replayed.
	BadEvents int `json:"badEvents,omitempty"`
	// Tail is the file's torn last record, or nil.
	Tail *Tail `json:"tail,omitempty"`
	// Err is the error that stopped reading the file (nil if none); Error
	// is its text, for JSON.
	Err   error  `json:"-"`
	Error string `json:"error,omitempty"`
}

// Summary describes a receivedBlockMetadata directory: its files and what
// Spark's ReceivedBlockTracker would recover from them (§6.6).
type Summary struct {
	Files []FileSummary `json:"files"`
	// StartMs and StopMs are the earliest start and latest stop time in
	// the file names (0 when there are no files).
	StartMs int64 `json:"startMs"`
	StopMs  int64 `json:"stopMs"`
	// Records and Events count over all files; Events by [Event.Type].
	Records int            `json:"records"`
	Events  map[string]int `json:"events"`
	// FirstBatchMs and LastBatchMs bound the allocated batch times (0 when
	// there is no allocation).
	FirstBatchMs int64 `json:"firstBatchMs"`
	LastBatchMs  int64 `json:"lastBatchMs"`
	// Uncleaned are the batch times allocated and never cleaned up, in
	// ascending order: replaying the events in order, a
	// BatchAllocationEvent adds its time and a BatchCleanupEvent removes
	// its times, as ReceivedBlockTracker.recoverPastEvents does. These are
	// the batches recovery restores, whose blocks it will read.
	Uncleaned []int64 `json:"uncleanedBatchTimesMs"`
	// Unallocated are the blocks added and never allocated to a batch, in
	// order of addition: what recovery puts back in the receiver queues
	// (replayed as Spark 2.3+ does, removing allocated blocks by id).
	Unallocated []string `json:"unallocatedBlockIds"`
}

// Err returns the errors of all files joined, or nil.
func (s *Summary) Err() error {
	var errs []error
	for _, f := range s.Files {
		if f.Err != nil {
			errs = append(errs, f.Err)
		}
	}
	return errors.Join(errs...)
}

// Summarizer builds a [Summary] from log files added in Spark's order
// ([ListLogs]), one record at a time.
type Summarizer struct {
	s         Summary
	allocated map[int64]bool
	added     []string
	isAdded   map[string]bool
	taken     map[string]bool
	haveBatch bool
}

// NewSummarizer returns an empty Summarizer.
func NewSummarizer() *Summarizer {
	return &Summarizer{
		s:         Summary{Events: map[string]int{}},
		allocated: map[int64]bool{},
		isAdded:   map[string]bool{},
		taken:     map[string]bool{},
	}
}

// Add reads one log file and applies its events. It returns the error that
// stopped reading the file, also recorded in the file's summary; the
// events read before it are applied.
func (z *Summarizer) Add(f LogFile, r io.Reader) error {
	sum := FileSummary{LogFile: f, Events: map[string]int{}}
	rd := NewReader(r)
	for rd.Next() {
		rec, err := DecodeRecord(rd.Record())
		if err != nil {
			sum.Err = decode.WithFile(rebase(err, rd.Offset()+4, ""), f.Name)
			break
		}
		sum.Records++
		if rec.Batched {
			sum.BatchedRecords++
		}
		for i := range rec.Events {
			sum.Events[rec.Events[i].Type]++
			if rec.Events[i].Err != nil {
				sum.BadEvents++
			}
			z.apply(&rec.Events[i])
		}
	}
	if sum.Err == nil {
		sum.Err = decode.WithFile(rd.Err(), f.Name)
	}
	sum.Tail = rd.Tail()
	if sum.Err != nil {
		sum.Error = sum.Err.Error()
	}
	z.s.Records += sum.Records
	for t, n := range sum.Events {
		z.s.Events[t] += n
	}
	if len(z.s.Files) == 0 || f.StartMs < z.s.StartMs {
		z.s.StartMs = f.StartMs
	}
	if len(z.s.Files) == 0 || f.StopMs > z.s.StopMs {
		z.s.StopMs = f.StopMs
	}
	z.s.Files = append(z.s.Files, sum)
	return sum.Err
}

func (z *Summarizer) apply(ev *Event) {
	switch {
	case ev.BlockAddition != nil:
		if id := ev.BlockAddition.BlockID; !z.isAdded[id] {
			z.isAdded[id] = true
			z.added = append(z.added, id)
		}
	case ev.Allocation != nil:
		t := ev.Allocation.BatchTimeMs
		if !z.haveBatch || t < z.s.FirstBatchMs {
			z.s.FirstBatchMs = t
		}
		if !z.haveBatch || t > z.s.LastBatchMs {
			z.s.LastBatchMs = t
		}
		z.haveBatch = true
		z.allocated[t] = true
		for _, blocks := range ev.Allocation.Blocks {
			for _, b := range blocks {
				z.taken[b.BlockID] = true
			}
		}
	case ev.Cleanup != nil:
		for _, t := range ev.Cleanup.TimesMs {
			delete(z.allocated, t)
		}
	}
}

// Summary returns the summary of the files added so far.
func (z *Summarizer) Summary() *Summary {
	s := z.s
	s.Files = slices.Clone(z.s.Files)
	s.Events = make(map[string]int, len(z.s.Events))
	for k, v := range z.s.Events {
		s.Events[k] = v
	}
	s.Uncleaned = make([]int64, 0, len(z.allocated))
	for t := range z.allocated {
		s.Uncleaned = append(s.Uncleaned, t)
	}
	slices.Sort(s.Uncleaned)
	s.Unallocated = []string{}
	for _, id := range z.added {
		if !z.taken[id] {
			s.Unallocated = append(s.Unallocated, id)
		}
	}
	return &s
}

// SummarizeDir summarises the receivedBlockMetadata directory dir of fsys
// (e.g. os.DirFS(checkpointDir), "receivedBlockMetadata"). It fails only
// if the directory cannot be listed; errors reading a file are in its
// [FileSummary] and in [Summary.Err].
func SummarizeDir(fsys fs.FS, dir string) (*Summary, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	z := NewSummarizer()
	for _, lf := range ListLogs(names) {
		f, err := fsys.Open(path.Join(dir, lf.Name))
		if err != nil {
			z.s.Files = append(z.s.Files, FileSummary{LogFile: lf, Events: map[string]int{}, Err: err, Error: err.Error()})
			continue
		}
		z.Add(lf, f)
		f.Close()
	}
	return z.Summary(), nil
}
