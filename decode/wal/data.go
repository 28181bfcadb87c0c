package wal

import (
	"errors"
	"io"
	"slices"
	"strings"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/javaser"
)

// Formats of a receiver data payload ([DataSummary.Format]).
const (
	// DataJava is a block written by Spark's JavaSerializer: one stream
	// header, one object per element, TC_RESET every objectStreamReset
	// objects (§6.5).
	DataJava = "java"
	// DataOpaque is anything that is not a Java serialization stream: a
	// block written by the KryoSerializer, an encrypted block
	// (spark.io.encryption.enabled), or a corrupt one.
	DataOpaque = "opaque (Kryo or encrypted)"
)

// DataSummary describes one receiver data record (receivedData/<id>/log-*).
type DataSummary struct {
	// Format is DataJava or DataOpaque.
	Format string `json:"format"`
	// Elements counts the top-level objects of a Java block: the block's
	// records (TC_RESET markers are not counted).
	Elements int `json:"elements"`
	// Resets counts TC_RESET markers (one per objectStreamReset objects).
	Resets int `json:"resets"`
	// Classes are the distinct classes of the elements, sorted
	// ("java.lang.String", "[B", ...); "null" for null elements.
	Classes []string `json:"classes,omitempty"`
	// Err is why a payload that starts with the Java stream magic did not
	// parse (then Format is DataOpaque); nil otherwise.
	Err error `json:"-"`
	// Stream is the parsed Java block, nil when opaque.
	Stream *javaser.Stream `json:"-"`
}

// SummarizeData summarises the payload of one receiver data record. It
// never fails: what does not parse as Java serialization is DataOpaque. The
// result aliases payload.
func SummarizeData(payload []byte) DataSummary {
	return summarizeData(payload, new(javaser.Parser)) // used once: the tree stays valid
}

// summarizeData is SummarizeData parsing with p: the summary's Stream is
// valid until p's next parse; its other fields do not depend on the tree.
func summarizeData(payload []byte, p *javaser.Parser) DataSummary {
	if len(payload) < 2 || payload[0] != 0xAC || payload[1] != 0xED {
		return DataSummary{Format: DataOpaque}
	}
	s, err := p.Parse(payload)
	if err != nil {
		return DataSummary{Format: DataOpaque, Err: err}
	}
	sum := DataSummary{Format: DataJava, Stream: s}
	seen := map[string]bool{}
	for _, n := range s.Contents {
		switch n.(type) {
		case *javaser.Reset:
			sum.Resets++
			continue
		case *javaser.BlockData:
			continue
		}
		sum.Elements++
		c := className(n)
		if !seen[c] {
			seen[c] = true
			// A copy: a class name can be text of the tree, which p reuses.
			sum.Classes = append(sum.Classes, strings.Clone(c))
		}
	}
	slices.Sort(sum.Classes)
	return sum
}

// DataRecord is one record of a receiver data log.
type DataRecord struct {
	// Offset is the file offset of the record's length prefix: a
	// FileBasedWriteAheadLogSegment's offset.
	Offset int64 `json:"offset"`
	// Length is the payload length: the segment's length.
	Length int `json:"length"`
	DataSummary
}

// ReadDataLog reads a receiver data log file and summarises each record.
// Only the summaries are kept (their Stream is dropped), so memory is
// bounded by the largest record. It stops at the first framing error and
// returns the records read before it.
func ReadDataLog(r io.Reader) ([]DataRecord, *Tail, error) {
	var out []DataRecord
	var p javaser.Parser // each record's tree is dropped before the next
	rd := NewReader(r)
	for rd.Next() {
		sum := summarizeData(rd.Record(), &p)
		sum.Stream = nil
		var de *decode.Error
		if errors.As(sum.Err, &de) {
			de.Offset += rd.Offset() + 4
		}
		out = append(out, DataRecord{Offset: rd.Offset(), Length: len(rd.Record()), DataSummary: sum})
	}
	return out, rd.Tail(), rd.Err()
}
