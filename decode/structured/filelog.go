package structured

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"github.com/sparkckpt/sparkckpt/decode"
)

// File log kinds.
const (
	LogSource = "file-source" // sources/<n>/: FileStreamSourceLog
	LogSink   = "file-sink"   // _spark_metadata/: FileStreamSinkLog
)

// FileLog is one file of a compactible log (§3): a file source's
// sources/<n>/<id>[.compact] or a file sink's _spark_metadata/<id>[.compact].
type FileLog struct {
	Version int        `json:"version"`
	Kind    string     `json:"kind"`
	Entries []LogEntry `json:"entries"`
}

// LogEntry is one line of a compactible log: a FileEntry (source) or a
// SinkFileStatus (sink).
type LogEntry struct {
	Path string `json:"path"`
	// File source: when the file was seen, and the log id it was first
	// written to.
	Timestamp int64 `json:"timestamp,omitempty"`
	BatchID   int64 `json:"batchId,omitempty"`
	// File sink.
	Size             int64  `json:"size,omitempty"`
	IsDir            bool   `json:"isDir,omitempty"`
	ModificationTime int64  `json:"modificationTime,omitempty"`
	BlockReplication int    `json:"blockReplication,omitempty"`
	BlockSize        int64  `json:"blockSize,omitempty"`
	Action           string `json:"action,omitempty"`
	// Line is the 1-based line in the file, PathField the path's token.
	Line      int         `json:"line"`
	PathField StringField `json:"-"`
}

// ParseFileLog decodes a compactible log file of the given kind
// (LogSource or LogSink). Every line after the version must be a JSON
// object with a string "path".
func ParseFileLog(b []byte, kind string) (*FileLog, error) {
	v, lines, err := readLog(b, kind+" log", MaxFileLogVersion)
	if err != nil {
		return nil, err
	}
	fl := &FileLog{Version: v, Kind: kind, Entries: []LogEntry{}}
	for i, l := range lines {
		e, err := parseLogEntry(l, i+2)
		if err != nil {
			return nil, err
		}
		fl.Entries = append(fl.Entries, e)
	}
	return fl, nil
}

func parseLogEntry(l Line, lineNo int) (LogEntry, error) {
	var e LogEntry
	var pathField *StringField
	err := scanStrings([]byte(l.Text), l.Offset, func(f StringField) {
		if f.Path == "path" && pathField == nil {
			f.Line = lineNo
			pathField = &f
		}
	})
	if err != nil {
		return e, err
	}
	var raw struct {
		Path             *string     `json:"path"`
		Timestamp        json.Number `json:"timestamp"`
		BatchID          json.Number `json:"batchId"`
		Size             json.Number `json:"size"`
		IsDir            bool        `json:"isDir"`
		ModificationTime json.Number `json:"modificationTime"`
		BlockReplication json.Number `json:"blockReplication"`
		BlockSize        json.Number `json:"blockSize"`
		Action           string      `json:"action"`
	}
	if err := unmarshal(l.Text, &raw); err != nil {
		return e, jsonError(err, l.Offset, "log entry")
	}
	if raw.Path == nil || pathField == nil {
		return e, errorf(l.Offset, decode.ErrCorrupt, "log entry on line %d has no \"path\"", lineNo)
	}
	e.Path, e.PathField, e.Line = *raw.Path, *pathField, lineNo
	e.Action = raw.Action
	e.IsDir = raw.IsDir
	for _, f := range []struct {
		n   json.Number
		dst *int64
	}{{raw.Timestamp, &e.Timestamp}, {raw.BatchID, &e.BatchID}, {raw.Size, &e.Size}, {raw.ModificationTime, &e.ModificationTime}, {raw.BlockSize, &e.BlockSize}} {
		if f.n != "" {
			v, err := f.n.Int64()
			if err != nil {
				return e, errorf(l.Offset, decode.ErrCorrupt, "log entry on line %d: %s is not a long", lineNo, f.n)
			}
			*f.dst = v
		}
	}
	if raw.BlockReplication != "" {
		v, err := raw.BlockReplication.Int64()
		if err != nil {
			return e, errorf(l.Offset, decode.ErrCorrupt, "log entry on line %d: blockReplication %s is not an int", lineNo, raw.BlockReplication)
		}
		e.BlockReplication = int(v)
	}
	return e, nil
}

// BatchFile is a file of a metadata log directory.
type BatchFile struct {
	Name    string `json:"name"`
	Batch   int64  `json:"batch"`
	Compact bool   `json:"compact,omitempty"`
	Size    int64  `json:"size"`
}

// BatchOf parses a metadata-log file name: a Java long, or with
// compactible "<long>.compact" (HDFSMetadataLog.isBatchFile, §1.1).
func BatchOf(name string, compactible bool) (batch int64, compact bool, ok bool) {
	base := name
	if compactible {
		if b, found := strings.CutSuffix(name, ".compact"); found {
			base, compact = b, true
		}
	}
	if base == "" || base[0] == '+' || base[0] == '-' && len(base) == 1 {
		return 0, false, false
	}
	n, err := strconv.ParseInt(base, 10, 64)
	if err != nil {
		return 0, false, false
	}
	return n, compact, true
}

// sortBatches orders batch files by id (a compact file before a plain
// file of the same id, which cannot both exist in a healthy log).
func sortBatches(fs []BatchFile) {
	sort.Slice(fs, func(i, j int) bool {
		if fs[i].Batch != fs[j].Batch {
			return fs[i].Batch < fs[j].Batch
		}
		return fs[i].Compact && !fs[j].Compact
	})
}

// CompactInterval derives a compactible log's interval from its compact
// files as Spark does on restart (CompactibleFileStreamLog.compactInterval):
// the distance between the two latest compact batches, else
// deriveCompactInterval from the latest one with Spark's default 10. It
// returns 0 when there is no compact file.
func CompactInterval(files []BatchFile) int64 {
	var compacts []int64
	for _, f := range files {
		if f.Compact {
			compacts = append(compacts, f.Batch)
		}
	}
	if len(compacts) == 0 {
		return 0
	}
	sort.Slice(compacts, func(i, j int) bool { return compacts[i] > compacts[j] })
	if len(compacts) > 1 {
		return compacts[0] - compacts[1]
	}
	return deriveCompactInterval(10, compacts[0])
}

func deriveCompactInterval(def, latestCompact int64) int64 {
	n := latestCompact + 1
	switch {
	case n <= def:
		return n
	case def < n/2:
		for i := def; i <= n/2; i++ {
			if n%i == 0 {
				return i
			}
		}
		return n
	}
	return n
}

// ValidBatches returns the batch ids Spark reads to list every file of a
// compactible log whose latest batch is latest (getAllValidBatches, §3):
// from the latest compaction batch on. interval 0 means no compaction.
func ValidBatches(latest, interval int64) (first, last int64) {
	if latest < 0 {
		return 0, -1
	}
	if interval <= 0 {
		return 0, latest
	}
	first = (latest+1)/interval*interval - 1
	return max(0, first), latest
}

// IsCompactBatch reports whether batch is a compaction batch for interval.
func IsCompactBatch(batch, interval int64) bool {
	return interval > 0 && (batch+1)%interval == 0
}
