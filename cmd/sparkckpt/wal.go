package main

import (
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/wal"
)

var walName = regexp.MustCompile(`^log-\d+-\d+$`)

// isWALFile reports whether path names a write-ahead-log file.
func isWALFile(path string) bool { return walName.MatchString(filepath.Base(path)) }

// isDataLog reports whether a log file or directory is a receiver data log
// (receivedData/<streamId>/log-*), rather than the driver's metadata log.
func isDataLog(path string) bool {
	for _, part := range strings.Split(filepath.ToSlash(filepath.Clean(path)), "/") {
		if part == "receivedData" {
			return true
		}
	}
	return false
}

// walFileReport is inspect --json on one log file.
type walFileReport struct {
	Kind    string       `json:"kind"` // "wal"
	File    string       `json:"file"`
	Log     string       `json:"log"` // "metadata" (receivedBlockMetadata) or "data" (receivedData)
	Records []walRecord  `json:"records"`
	Tail    *wal.Tail    `json:"tail"` // null, or the torn last record Spark ignores
	Summary *wal.Summary `json:"summary,omitempty"`
	Data    []dataRecord `json:"-"`
	log     *wal.Log
}

type walRecord struct {
	Offset  int64       `json:"offset"`
	Length  int         `json:"length"`
	Batched bool        `json:"batched"`
	Events  []wal.Event `json:"events,omitempty"`
	// For receiver data logs:
	Format   string   `json:"format,omitempty"`
	Elements *int     `json:"elements,omitempty"`
	Resets   *int     `json:"resets,omitempty"`
	Classes  []string `json:"classes,omitempty"`
}

type dataRecord = walRecord

// readWALFile decodes the log file rel of in ("." for in itself).
func readWALFile(in *input, rel string) (*walFileReport, error) {
	f, err := in.open(rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readWAL(in.path(rel), f)
}

// readWAL decodes one driver or receiver log read from f, named path
// (a local path or a URI; a receivedData/ component marks receiver data).
func readWAL(path string, f io.Reader) (*walFileReport, error) {
	rep := &walFileReport{Kind: "wal", File: path, Records: []walRecord{}}
	if isDataLog(path) {
		rep.Log = "data"
		recs, tail, err := wal.ReadDataLog(f)
		if err != nil {
			return nil, decode.WithFile(err, path)
		}
		for _, r := range recs {
			el, rs := r.Elements, r.Resets
			rep.Records = append(rep.Records, walRecord{Offset: r.Offset, Length: r.Length, Format: r.Format, Elements: &el, Resets: &rs, Classes: r.Classes})
		}
		rep.Tail = tail
		return rep, nil
	}
	rep.Log = "metadata"
	log, err := wal.ReadLog(f)
	if err != nil {
		return nil, decode.WithFile(err, path)
	}
	rep.log = log
	for _, r := range log.Records {
		rep.Records = append(rep.Records, walRecord{Offset: r.Offset, Length: r.Length, Batched: r.Batched, Events: r.Events})
	}
	rep.Tail = log.Tail
	return rep, nil
}

// walDirReport is inspect --json on a receivedBlockMetadata or receivedData directory.
type walDirReport struct {
	Kind    string       `json:"kind"` // "wal-dir"
	Dir     string       `json:"dir"`
	Log     string       `json:"log"` // "metadata" or "data"
	Summary *wal.Summary `json:"summary,omitempty"`
	// Streams lists, for receivedData, each stream's log files.
	Streams map[string][]walFileReport `json:"streams,omitempty"`
}

// summarizeMetadataDir summarises the receivedBlockMetadata directory rel
// of in; nil if it does not exist.
func summarizeMetadataDir(in *input, rel string) (*wal.Summary, error) {
	if !in.isDir(rel) {
		return nil, nil
	}
	s, err := wal.SummarizeDir(in.fsys(rel), ".")
	if err != nil {
		return nil, decode.WithFile(err, in.path(rel))
	}
	return s, nil
}

// inspectWALDir handles a receivedBlockMetadata or receivedData directory.
func inspectWALDir(in *input) (*walDirReport, error) {
	if !isDataLog(in.name) {
		s, err := summarizeMetadataDir(in, ".")
		if err != nil {
			return nil, err
		}
		return &walDirReport{Kind: "wal-dir", Dir: in.name, Log: "metadata", Summary: s}, nil
	}
	rep := &walDirReport{Kind: "wal-dir", Dir: in.name, Log: "data", Streams: map[string][]walFileReport{}}
	err := in.walkFiles(func(rel string) error {
		if !isWALFile(rel) {
			return nil
		}
		fr, err := readWALFile(in, rel)
		if err != nil {
			return err
		}
		stream := filepath.Base(filepath.Dir(fr.File))
		rep.Streams[stream] = append(rep.Streams[stream], *fr)
		return nil
	})
	return rep, err
}

func renderWALFile(p *printer, r *walFileReport) {
	p.table("", [][]string{{"file", r.File}, {"log", r.Log}, {"records", fmt.Sprint(len(r.Records))}})
	p.section("records")
	var rows [][]string
	for _, rec := range r.Records {
		if r.Log == "data" {
			rows = append(rows, []string{fmt.Sprintf("@%d", rec.Offset), fmt.Sprintf("%d bytes", rec.Length), rec.Format,
				fmt.Sprintf("%d element(s), %d reset(s)", *rec.Elements, *rec.Resets), strings.Join(rec.Classes, ", ")})
			continue
		}
		kind := "single"
		if rec.Batched {
			kind = fmt.Sprintf("batch of %d", len(rec.Events))
		}
		rows = append(rows, []string{fmt.Sprintf("@%d", rec.Offset), fmt.Sprintf("%d bytes", rec.Length), kind, eventList(rec.Events)})
	}
	p.table("  ", rows)
	renderTail(p, r.Tail)
}

func renderTail(p *printer, t *wal.Tail) {
	if t != nil {
		p.printf("\n%s\n", p.warn(fmt.Sprintf("torn tail at offset %d: %d byte(s) of an incomplete record (Spark ignores it)", t.Offset, len(t.Bytes))))
	}
}

// eventList renders events in one line: "BatchAllocationEvent 1519968005000 (2 blocks), BatchCleanupEvent [..]".
func eventList(evs []wal.Event) string {
	var parts []string
	for _, e := range evs {
		s := e.Type
		switch {
		case e.Err != nil:
			s += " (unreadable: " + e.Err.Error() + ")"
		case e.BlockAddition != nil:
			b := e.BlockAddition
			s += " " + b.BlockID
			if b.Segment != nil {
				s += fmt.Sprintf(" -> %s@%d+%d", b.Segment.Path, b.Segment.Offset, b.Segment.Length)
			}
		case e.Allocation != nil:
			n := 0
			for _, bs := range e.Allocation.Blocks {
				n += len(bs)
			}
			s += fmt.Sprintf(" %d (%d block(s))", e.Allocation.BatchTimeMs, n)
		case e.Cleanup != nil:
			s += fmt.Sprintf(" %v", e.Cleanup.TimesMs)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// renderWALSummary prints the summary of a receivedBlockMetadata directory.
func renderWALSummary(p *printer, title string, s *wal.Summary) {
	p.section(title)
	rows := [][]string{{"files", fmt.Sprint(len(s.Files))}}
	if len(s.Files) > 0 {
		rows = append(rows, []string{"time range", fmtTime(s.StartMs) + " .. " + fmtTime(s.StopMs)})
	}
	var evs []string
	for k, v := range s.Events {
		evs = append(evs, fmt.Sprintf("%d %s", v, k))
	}
	sort.Strings(evs)
	rows = append(rows, []string{"records", fmt.Sprintf("%d (%s)", s.Records, strings.Join(evs, ", "))})
	if s.FirstBatchMs != 0 {
		rows = append(rows, []string{"batches allocated", fmtTime(s.FirstBatchMs) + " .. " + fmtTime(s.LastBatchMs)})
	}
	unc := "none"
	if n := len(s.Uncleaned); n > 0 {
		unc = fmt.Sprintf("%d, from %s to %s (recovery re-runs these and reads their blocks)", n, fmtTime(s.Uncleaned[0]), fmtTime(s.Uncleaned[n-1]))
	}
	rows = append(rows, []string{"allocated, not cleaned", unc})
	if len(s.Unallocated) > 0 {
		rows = append(rows, []string{"blocks never allocated", fmt.Sprintf("%d (%s)", len(s.Unallocated), strings.Join(firstN(s.Unallocated, 3), ", "))})
	}
	p.table("  ", rows)
	for _, f := range s.Files {
		line := fmt.Sprintf("%s: %d record(s)", f.Name, f.Records)
		if f.Tail != nil {
			line += p.warn(fmt.Sprintf(", torn tail at offset %d (%d bytes, ignored by Spark)", f.Tail.Offset, len(f.Tail.Bytes)))
		}
		if f.Err != nil {
			line += p.bad(", unreadable: " + f.Err.Error())
		}
		if f.BadEvents > 0 {
			line += p.warn(fmt.Sprintf(", %d event(s) not understood", f.BadEvents))
		}
		p.printf("    %s\n", line)
	}
}

func renderWALDir(p *printer, r *walDirReport) {
	if r.Log == "metadata" {
		renderWALSummary(p, "write-ahead log "+r.Dir, r.Summary)
		return
	}
	p.section("receiver data logs " + r.Dir)
	streams := make([]string, 0, len(r.Streams))
	for s := range r.Streams {
		streams = append(streams, s)
	}
	sort.Strings(streams)
	for _, s := range streams {
		for _, f := range r.Streams[s] {
			elems := 0
			for _, rec := range f.Records {
				elems += *rec.Elements
			}
			line := fmt.Sprintf("stream %s %s: %d record(s), %d element(s)", s, filepath.Base(f.File), len(f.Records), elems)
			if f.Tail != nil {
				line += p.warn(fmt.Sprintf(", torn tail at offset %d", f.Tail.Offset))
			}
			p.printf("  %s\n", line)
		}
	}
}

func firstN(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(append([]string(nil), s[:n]...), "...")
}
