package structured

import (
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/sparkckpt/sparkckpt/decode"
)

// Source log kinds.
const (
	SourceFile    = LogSource // sources/<n>/ is a FileStreamSourceLog
	SourceKafka   = "kafka"   // sources/<n>/0 holds a Kafka source's initial offsets
	SourceUnknown = "unknown" // a log sparkckpt does not recognise (third-party source)
)

// SourceLog is one source: its offset in the latest offsets file and what
// its sources/<n>/ directory holds, if it has one.
type SourceLog struct {
	Index int `json:"index"`
	// Dir is "sources/<n>", or "" when the source keeps no log (memory,
	// socket, rate).
	Dir  string `json:"dir,omitempty"`
	Kind string `json:"kind,omitempty"`
	// Offset is the source's offset in the latest offsets file.
	Offset *SourceOffset `json:"offset"`

	// File source logs: the batch files, the compact interval derived as
	// Spark does (0 without compaction), the batches Spark reads to list
	// every file and any of those that are missing, and entry counts.
	Files           []BatchFile    `json:"files,omitempty"`
	CompactInterval int64          `json:"compactInterval,omitempty"`
	ValidFirst      int64          `json:"validFirst"`
	ValidLast       int64          `json:"validLast"`
	Missing         []int64        `json:"missing,omitempty"`
	Entries         int            `json:"entries"`
	Authorities     map[string]int `json:"authorities,omitempty"`
	FirstPath       string         `json:"firstPath,omitempty"`
	LastPath        string         `json:"lastPath,omitempty"`

	// Kafka is a Kafka source's initial offsets (sources/<n>/0).
	Kafka *KafkaInitialOffsets `json:"kafka,omitempty"`

	// Err is the first file that failed to parse.
	Err error `json:"-"`
}

// Description says what the source is, for people.
func (s *SourceLog) Description() string {
	kind := ""
	if s.Offset != nil {
		kind = s.Offset.Kind
	}
	switch {
	case s.Kind == SourceKafka || kind == OffsetKafka:
		topics := map[string]bool{}
		var names []string
		rows := []KafkaPartitionOffset{}
		if s.Offset != nil {
			rows = s.Offset.Kafka
		}
		if len(rows) == 0 && s.Kafka != nil {
			rows = s.Kafka.Offsets
		}
		for _, r := range rows {
			if !topics[r.Topic] {
				topics[r.Topic] = true
				names = append(names, r.Topic)
			}
		}
		if len(names) == 0 {
			return "kafka"
		}
		return "kafka (topic " + strings.Join(names, ", ") + ")"
	case s.Kind == SourceFile || kind == OffsetFile:
		return "file source"
	case s.Kind == SourceUnknown:
		return "source with a log sparkckpt does not recognise"
	}
	switch kind {
	case OffsetLong:
		return "long offset (memory, socket or rate source)"
	case OffsetRateMicroBatch:
		return "rate-micro-batch source"
	case OffsetRate:
		return "rate source (continuous)"
	case OffsetNone:
		return "no offset yet"
	case OffsetJava:
		return "Spark 2.0 offset " + s.Offset.Class
	}
	return "unknown source"
}

// readSources lists sources/<n>/ and matches them with the latest
// offsets' source lines.
func (c *Checkpoint) readSources() error {
	byIndex := map[int]*SourceLog{}
	if c.LatestOffsets != nil {
		for i := range c.LatestOffsets.Sources {
			so := &c.LatestOffsets.Sources[i]
			byIndex[so.Index] = &SourceLog{Index: so.Index, Offset: so, ValidLast: -1}
		}
	}
	if st, err := fs.Stat(c.fsys, "sources"); err == nil && st.IsDir() {
		l, err := list(c.fsys, "sources")
		if err != nil {
			return err
		}
		c.noteDir(l, false, nil)
		for _, d := range l.dirs {
			n, err := strconv.Atoi(d)
			if err != nil {
				continue // a named source (master) or something else
			}
			s := byIndex[n]
			if s == nil {
				s = &SourceLog{Index: n, ValidLast: -1}
				byIndex[n] = s
			}
			s.Dir = "sources/" + d
			if err := c.readSourceLog(s); err != nil {
				return err
			}
		}
	}
	for _, s := range byIndex {
		c.Sources = append(c.Sources, s)
	}
	sort.Slice(c.Sources, func(i, j int) bool { return c.Sources[i].Index < c.Sources[j].Index })
	return nil
}

// readSourceLog reads a source's log directory: a Kafka initial offsets
// file or a file source log's valid batches.
func (c *Checkpoint) readSourceLog(s *SourceLog) error {
	l, err := list(c.fsys, s.Dir)
	if err != nil {
		return err
	}
	data := c.noteDir(l, false, nil)
	for _, n := range data {
		if b, compact, ok := BatchOf(n, true); ok {
			s.Files = append(s.Files, BatchFile{Name: l.rel(n), Batch: b, Compact: compact, Size: l.files[n]})
		}
	}
	sortBatches(s.Files)
	if len(s.Files) == 0 {
		s.Kind = SourceUnknown
		return nil
	}
	first, err := ReadLog(c.fsys, s.Files[0].Name)
	if err != nil {
		s.Err = err
		return nil
	}
	if len(first) > 0 && first[0] != 'v' || s.Offset != nil && s.Offset.Kind == OffsetKafka && len(s.Files) == 1 {
		s.Kind = SourceKafka
		s.Kafka, err = ParseKafkaInitialOffsets(first)
		s.Err = decode.WithFile(err, s.Files[0].Name)
		return nil
	}
	s.Kind = SourceFile
	s.CompactInterval = CompactInterval(s.Files)
	latest := s.Files[len(s.Files)-1].Batch
	s.ValidFirst, s.ValidLast = ValidBatches(latest, s.CompactInterval)
	s.Authorities = map[string]int{}
	for b := s.ValidFirst; b <= s.ValidLast; b++ {
		f, ok := findBatch(s.Files, b)
		if !ok {
			s.Missing = append(s.Missing, b)
			continue
		}
		raw, err := ReadLog(c.fsys, f.Name)
		if err != nil {
			if s.Err == nil {
				s.Err = err
			}
			continue
		}
		fl, err := ParseFileLog(raw, LogSource)
		if err != nil {
			if s.Err == nil {
				s.Err = decode.WithFile(err, f.Name)
			}
			continue
		}
		for _, e := range fl.Entries {
			s.Entries++
			s.Authorities[Authority(e.Path)]++
			if s.FirstPath == "" {
				s.FirstPath = e.Path
			}
			s.LastPath = e.Path
		}
	}
	return nil
}

// findBatch finds batch b in sorted files (a compact file or a plain one).
func findBatch(files []BatchFile, b int64) (BatchFile, bool) {
	i := sort.Search(len(files), func(i int) bool { return files[i].Batch >= b })
	if i < len(files) && files[i].Batch == b {
		return files[i], true
	}
	return BatchFile{}, false
}

// Authority returns a URI's "scheme://authority" ("file:" for local
// paths, "" for a path without a scheme).
func Authority(uri string) string {
	scheme, rest, ok := strings.Cut(uri, ":")
	if !ok || scheme == "" || strings.ContainsAny(scheme, "/\\") {
		return ""
	}
	scheme = strings.ToLower(scheme)
	after, ok := strings.CutPrefix(rest, "//")
	if !ok {
		return scheme + ":"
	}
	auth, _, _ := strings.Cut(after, "/")
	auth = strings.ToLower(auth)
	if scheme == "file" && (auth == "" || auth == "localhost") {
		return "file:"
	}
	return scheme + "://" + auth
}

// sinkOrSourceLog lists a compactible log directory.
func listFileLog(fsys fs.FS, dir string) ([]BatchFile, *listing, error) {
	l, err := list(fsys, dir)
	if err != nil {
		return nil, nil, err
	}
	data, _, _ := l.classify(false)
	var out []BatchFile
	for _, n := range data {
		if b, compact, ok := BatchOf(n, true); ok {
			out = append(out, BatchFile{Name: l.rel(n), Batch: b, Compact: compact, Size: l.files[n]})
		}
	}
	sortBatches(out)
	return out, l, nil
}

// SinkLog summarises a file sink's _spark_metadata directory (§3).
type SinkLog struct {
	// Dir is the _spark_metadata directory, relative to the FS given.
	Dir             string         `json:"dir"`
	Files           []BatchFile    `json:"files"`
	CompactInterval int64          `json:"compactInterval,omitempty"`
	ValidFirst      int64          `json:"validFirst"`
	ValidLast       int64          `json:"validLast"`
	Missing         []int64        `json:"missing,omitempty"`
	Entries         int            `json:"entries"`
	Deletes         int            `json:"deletes,omitempty"`
	Bytes           int64          `json:"bytes"`
	Authorities     map[string]int `json:"authorities"`
	Leftovers       []Leftover     `json:"leftovers"`
	FirstPath       string         `json:"firstPath,omitempty"`
	LastPath        string         `json:"lastPath,omitempty"`
	Err             error          `json:"-"`
}

// OpenSink reads the file sink log in dir of fsys ("_spark_metadata" of an
// output directory, or "." for the log directory itself): every batch
// Spark reads to list the output (allFiles).
func OpenSink(fsys fs.FS, dir string) (*SinkLog, error) {
	files, l, err := listFileLog(fsys, dir)
	if err != nil {
		return nil, err
	}
	s := &SinkLog{Dir: dir, Files: files, ValidLast: -1, Authorities: map[string]int{}, Leftovers: []Leftover{}}
	_, _, s.Leftovers = l.classify(false)
	if s.Leftovers == nil {
		s.Leftovers = []Leftover{}
	}
	if s.Files == nil {
		s.Files = []BatchFile{}
		return s, nil
	}
	s.CompactInterval = CompactInterval(files)
	s.ValidFirst, s.ValidLast = ValidBatches(files[len(files)-1].Batch, s.CompactInterval)
	for b := s.ValidFirst; b <= s.ValidLast; b++ {
		f, ok := findBatch(files, b)
		if !ok {
			s.Missing = append(s.Missing, b)
			continue
		}
		raw, err := ReadLog(fsys, f.Name)
		if err != nil {
			if s.Err == nil {
				s.Err = err
			}
			continue
		}
		fl, err := ParseFileLog(raw, LogSink)
		if err != nil {
			if s.Err == nil {
				s.Err = decode.WithFile(err, f.Name)
			}
			continue
		}
		for _, e := range fl.Entries {
			if e.Action == "delete" {
				s.Deletes++
				continue
			}
			s.Entries++
			s.Bytes += e.Size
			s.Authorities[Authority(e.Path)]++
			if s.FirstPath == "" {
				s.FirstPath = e.Path
			}
			s.LastPath = e.Path
		}
	}
	return s, nil
}

// String describes the valid batch range.
func validRange(first, last int64) string {
	if last < first {
		return "none"
	}
	if first == last {
		return strconv.FormatInt(first, 10)
	}
	return fmt.Sprintf("%d..%d", first, last)
}
