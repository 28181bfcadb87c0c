package structured

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/sparkckpt/sparkckpt/decode"
)

// Commit is one commits/N file (§2.5).
type Commit struct {
	Version int `json:"version"`
	// NextBatchWatermarkMs is the watermark the next batch starts with
	// (0 when the line is missing or "{}", as Spark 2.2 wrote it).
	NextBatchWatermarkMs int64 `json:"nextBatchWatermarkMs"`
	// Empty is true for Spark 2.2's literal "{}" or a missing line.
	Empty bool `json:"empty,omitempty"`
	// StateUniqueIDs (v2, state checkpoint format v2) maps an operator id
	// to, per partition, the unique id of each store's version N+1 files.
	StateUniqueIDs map[string][][]string `json:"stateUniqueIds,omitempty"`
	// SinkMetadata is v3's sinkMetadataMap, as written.
	SinkMetadata json.RawMessage `json:"sinkMetadataMap,omitempty"`
	Raw          string          `json:"raw"`
}

// ParseCommit decodes a commits/N file.
func ParseCommit(b []byte) (*Commit, error) {
	v, lines, err := readLog(b, "commits", MaxCommitsVersion)
	if err != nil {
		return nil, err
	}
	c := &Commit{Version: v}
	if len(lines) == 0 || strings.TrimSpace(lines[0].Text) == "" {
		c.Empty = true // 2.3+ reads a missing second line as {} (SPARK-24699)
		return c, nil
	}
	l := lines[0]
	c.Raw = l.Text
	var raw map[string]json.RawMessage
	if err := unmarshal(l.Text, &raw); err != nil {
		return nil, jsonError(err, l.Offset, "commits")
	}
	if len(raw) == 0 {
		c.Empty = true
	}
	if r, ok := raw["nextBatchWatermarkMs"]; ok {
		n, err := strconv.ParseInt(string(r), 10, 64)
		if err != nil {
			return nil, errorf(l.Offset, decode.ErrCorrupt, "commits: nextBatchWatermarkMs is %s, expected a long", clip(string(r)))
		}
		c.NextBatchWatermarkMs = n
	}
	if r, ok := raw["stateUniqueIds"]; ok && string(r) != "null" {
		if err := json.Unmarshal(r, &c.StateUniqueIDs); err != nil {
			return nil, errorf(l.Offset, decode.ErrCorrupt, "commits: stateUniqueIds is not {operator: [[id per store] per partition]}: %v", err)
		}
	}
	c.SinkMetadata = raw["sinkMetadataMap"]
	return c, nil
}
