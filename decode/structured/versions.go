package structured

import (
	"fmt"
	"strconv"
	"strings"
)

// NewestRelease is the newest Spark release whose formats this package
// knows; a check without a target version judges against it.
const NewestRelease = "4.1"

// SparkVersion is a Spark release, major.minor.patch.
type SparkVersion struct {
	Major, Minor, Patch int
}

// ParseSparkVersion parses "3.5", "3.5.1" or "4.0.0-preview2".
func ParseSparkVersion(s string) (SparkVersion, error) {
	core, _, _ := strings.Cut(strings.TrimPrefix(s, "v"), "-")
	parts := strings.Split(core, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return SparkVersion{}, fmt.Errorf("spark version %q: expected MAJOR.MINOR[.PATCH], e.g. 3.5.1", s)
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 {
			return SparkVersion{}, fmt.Errorf("spark version %q: expected MAJOR.MINOR[.PATCH], e.g. 3.5.1", s)
		}
		n[i] = v
	}
	if n[0] < 2 || n[0] > 9 {
		return SparkVersion{}, fmt.Errorf("spark version %q: Structured Streaming exists in Spark 2.0 and later", s)
	}
	return SparkVersion{n[0], n[1], n[2]}, nil
}

func (v SparkVersion) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// atLeast compares with major.minor[.patch].
func (v SparkVersion) atLeast(major, minor, patch int) bool {
	if v.Major != major {
		return v.Major > major
	}
	if v.Minor != minor {
		return v.Minor > minor
	}
	return v.Patch >= patch
}

// Support is what a Spark release reads (§2.2, §4).
type Support struct {
	Version SparkVersion
	// JavaOffsets: Spark 2.0's Java-serialized offsets (2.0 only).
	JavaOffsets bool
	// MaxOffsets is the highest text offsets version read (0: none, 2.0).
	MaxOffsets int
	// CommitLog: the commit log is read at all (2.2+).
	CommitLog  bool
	MaxCommits int
	// MaxSchema is the highest state schema file version read (0: schema
	// files are ignored, before 3.1).
	MaxSchema int
	// OperatorMetadata: state/<op>/_metadata is read (4.0+); MaxOpMeta its version.
	MaxOpMeta int
	// MaxChangelog is the highest changelog version read (0: none, before 3.5).
	MaxChangelog int
	// RocksDB: the RocksDB state store provider exists (3.2+).
	RocksDB bool
	// CheckpointIDs: state checkpoint format v2 (4.0+).
	CheckpointIDs bool
	// KafkaV1: a Kafka source's "v1" initial offsets are read (2.1.1+).
	KafkaV1 bool
}

// SupportedBy returns what release v reads.
func SupportedBy(v SparkVersion) Support {
	s := Support{Version: v, MaxOffsets: 1, MaxCommits: 1, CommitLog: true, KafkaV1: true}
	switch {
	case !v.atLeast(2, 1, 0):
		s.JavaOffsets, s.MaxOffsets, s.CommitLog, s.MaxCommits = true, 0, false, 0
	case !v.atLeast(2, 2, 0):
		s.CommitLog, s.MaxCommits = false, 0
		s.KafkaV1 = v.atLeast(2, 1, 1)
	}
	if v.atLeast(3, 1, 0) {
		s.MaxSchema = 1
	}
	if v.atLeast(3, 2, 0) {
		s.MaxSchema, s.RocksDB = 2, true
	}
	if v.atLeast(3, 5, 0) {
		s.MaxChangelog = 1
	}
	if v.atLeast(4, 0, 0) {
		s.MaxCommits, s.MaxSchema, s.MaxOpMeta, s.MaxChangelog, s.CheckpointIDs = 2, 3, 2, 4, true
	}
	if v.atLeast(4, 2, 0) { // master at the time of writing: offsets v2, commits v3 (§2.3, §2.5)
		s.MaxOffsets, s.MaxCommits = 2, 3
	}
	return s
}

// VersionHint is the lowest Spark release consistent with what a
// checkpoint holds, and why.
type VersionHint struct {
	Min      string `json:"min"`
	Evidence string `json:"evidence"`
}

// String renders "≥3.3 (evidence)".
func (h VersionHint) String() string {
	if h.Min == "" {
		return "unknown"
	}
	return h.Min + " (" + h.Evidence + ")"
}

// confHints are offset-log conf keys in the order Spark added them to
// OffsetSeqMetadata.relevantSQLConfs (fixtures, SOURCES.md).
var confHints = []struct{ key, min string }{
	{"spark.sql.streaming.stateStore.encodingFormat", "4.0"},
	{"spark.sql.optimizer.pruneFiltersCanPruneStreamingSubplan", "3.5"},
	{"spark.sql.streaming.statefulOperator.useStrictDistribution", "3.3"},
	{"spark.sql.streaming.stateStore.rocksdb.formatVersion", "3.2"},
	{"spark.sql.streaming.stateStore.compression.codec", "3.1"},
	{"spark.sql.streaming.join.stateFormatVersion", "3.0"},
	{"spark.sql.streaming.multipleWatermarkPolicy", "2.4"},
	{"spark.sql.streaming.stateStore.providerClass", "2.3"},
	{"spark.sql.shuffle.partitions", "2.2"},
}

// Hint guesses the Spark release that wrote the checkpoint.
func (c *Checkpoint) Hint() VersionHint {
	if lc := c.LatestCommit; lc != nil && lc.Version >= 2 {
		return VersionHint{"4.0+", fmt.Sprintf("commits v%d", lc.Version)}
	}
	for _, op := range c.Operators {
		if op.Metadata != nil {
			return VersionHint{"4.0+", "operator metadata " + op.MetadataFile}
		}
	}
	lo := c.LatestOffsets
	if lo == nil {
		return VersionHint{}
	}
	if lo.Format == "java" {
		return VersionHint{"2.0.x", "Java-serialized offsets"}
	}
	if lo.Version >= 2 {
		return VersionHint{"4.2+ (unreleased)", "offsets v2"}
	}
	if lo.Metadata != nil && !lo.Metadata.HasConf {
		return VersionHint{"2.1.x", "offsets metadata without conf"}
	}
	for _, h := range confHints {
		if _, ok := lo.Metadata.ConfValue(h.key); ok {
			ev := h.key + " in the offsets conf"
			if h.min == "2.2" && c.LatestCommit != nil && c.LatestCommit.Empty && c.LatestCommit.Raw == "{}" {
				return VersionHint{"2.2.x", "commits hold {}"}
			}
			return VersionHint{"≥" + h.min, ev}
		}
	}
	return VersionHint{}
}
