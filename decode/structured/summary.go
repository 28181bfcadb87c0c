package structured

import (
	"sort"
	"strconv"
)

// Summary is what inspect shows of a checkpoint (the --json schema).
type Summary struct {
	Kind    string `json:"kind"` // "structured"
	Dir     string `json:"dir"`
	QueryID string `json:"queryId"`
	// LatestBatch is the highest offsets/N; LatestCommit the highest
	// commits/N (null when none).
	LatestBatch  *int64 `json:"latestBatch"`
	LatestCommit *int64 `json:"latestCommit"`
	// RunBatch is the batch a restart runs; StateVersion the state version it loads.
	RunBatch     int64 `json:"runBatch"`
	StateVersion int64 `json:"stateVersion"`
	// WatermarkMs is the latest offsets' batchWatermarkMs; NextWatermarkMs
	// the latest commit's nextBatchWatermarkMs.
	WatermarkMs      *int64            `json:"watermarkMs"`
	NextWatermarkMs  *int64            `json:"nextWatermarkMs"`
	BatchTimestampMs *int64            `json:"batchTimestampMs"`
	WrittenBy        VersionHint       `json:"writtenBy"`
	OffsetsFormat    string            `json:"offsetsFormat"` // "v1", "v2", "java (Spark 2.0)"
	CommitsFormat    string            `json:"commitsFormat,omitempty"`
	Offsets          LogRange          `json:"offsets"`
	Commits          LogRange          `json:"commits"`
	Sources          []SourceSummary   `json:"sources"`
	StateOperators   []OperatorSummary `json:"stateOperators"`
	// RestartConf are the confs a restart takes from the checkpoint,
	// ignoring the session's (OffsetSeqMetadata.relevantSQLConfs).
	RestartConf []ConfPair `json:"restartConf"`
	Conf        []ConfPair `json:"conf"`
	Nested      []string   `json:"nested,omitempty"`
	Leftovers   []Leftover `json:"leftovers"`
	Files       int        `json:"files"`
	Bytes       int64      `json:"bytes"`
	// Errors lists files that could not be read while summarising.
	Errors []string `json:"errors,omitempty"`
}

// LogRange describes a batch log directory.
type LogRange struct {
	Count  int     `json:"count"`
	First  *int64  `json:"first"`
	Last   *int64  `json:"last"`
	Ranges string  `json:"ranges"` // "0..7" or "0..2, 4"
	Gaps   []int64 `json:"gaps,omitempty"`
}

// SourceSummary is one source.
type SourceSummary struct {
	Index       int    `json:"index"`
	Description string `json:"description"`
	// LatestOffset is the offset as Spark wrote it in the latest offsets
	// file (for Spark 2.0 a rendering of the Java object); null if none.
	LatestOffset *string                `json:"latestOffset"`
	OffsetKind   string                 `json:"offsetKind,omitempty"`
	Kafka        []KafkaPartitionOffset `json:"kafka,omitempty"`
	// Log describes sources/<n>/ when the source keeps one.
	Log *SourceLog `json:"log,omitempty"`
}

// OperatorSummary is one stateful operator.
type OperatorSummary struct {
	ID         int64  `json:"id"`
	Name       string `json:"name,omitempty"` // from 4.0 operator metadata
	Partitions int    `json:"partitions"`
	// ExpectedPartitions and its source (conf, operator metadata, heuristic).
	ExpectedPartitions int      `json:"expectedPartitions"`
	PartitionsFrom     string   `json:"partitionsFrom"`
	StoreNames         []string `json:"storeNames"`
	// LatestVersion is the highest state version present; MinVersion the lowest.
	LatestVersion int64  `json:"latestVersion"`
	MinVersion    int64  `json:"minVersion"`
	Format        string `json:"format"`
	Files         int    `json:"files"`
	Bytes         int64  `json:"bytes"`
	// Kinds counts files by kind (delta, snapshot, zip, changelog).
	Kinds   map[string]int           `json:"kinds"`
	Schemas map[string]SchemaSummary `json:"schemas,omitempty"`
	// Reconstructible says whether every store loads at StateVersion
	// (from the listing; check also decodes every file).
	Reconstructible bool         `json:"reconstructible"`
	Stores          int          `json:"stores"`
	Unrecoverable   []StoreState `json:"unrecoverable,omitempty"`
}

// SchemaSummary is a store's schema, as catalog strings.
type SchemaSummary struct {
	File    string `json:"file"`
	Version int    `json:"version"`
	Key     string `json:"key,omitempty"`
	Value   string `json:"value,omitempty"`
	// ColumnFamilies are v3's (name: key / value).
	ColumnFamilies []ColumnFamilySummary `json:"columnFamilies,omitempty"`
	Error          string                `json:"error,omitempty"`
}

// ColumnFamilySummary is one column family of a v3 schema.
type ColumnFamilySummary struct {
	Name  string `json:"name"`
	Key   string `json:"key"`
	Value string `json:"value"`
}

// RestartConfKeys are the confs Spark restores from the offset log
// (OffsetSeqMetadata.relevantSQLConfs, §2.3): changing them in the
// session has no effect on a restarted query.
var RestartConfKeys = []string{
	"spark.sql.shuffle.partitions",
	"spark.sql.streaming.stateStore.providerClass",
	"spark.sql.streaming.multipleWatermarkPolicy",
	"spark.sql.streaming.flatMapGroupsWithState.stateFormatVersion",
	"spark.sql.streaming.aggregation.stateFormatVersion",
	"spark.sql.streaming.join.stateFormatVersion",
	"spark.sql.streaming.stateStore.compression.codec",
	"spark.sql.streaming.stateStore.rocksdb.formatVersion",
	"spark.sql.streaming.statefulOperator.useStrictDistribution",
	"spark.sql.optimizer.pruneFiltersCanPruneStreamingSubplan",
	"spark.sql.streaming.stateStore.encodingFormat",
	"spark.sql.streaming.stateStore.rowChecksum.enabled",
}

func logRange(fs []BatchFile) LogRange {
	r := LogRange{Count: len(fs), Ranges: Batches(fs), Gaps: Gaps(fs)}
	if len(fs) > 0 {
		a, b := fs[0].Batch, fs[len(fs)-1].Batch
		r.First, r.Last = &a, &b
	}
	return r
}

// Summarize builds the inspect view; dir names the checkpoint.
func (c *Checkpoint) Summarize(dir string) *Summary {
	s := &Summary{Kind: "structured", Dir: dir, QueryID: c.QueryID, RunBatch: c.RunBatch(), StateVersion: c.StateVersion(),
		WrittenBy: c.Hint(), Offsets: logRange(c.Offsets), Commits: logRange(c.Commits),
		Sources: []SourceSummary{}, StateOperators: []OperatorSummary{}, RestartConf: []ConfPair{}, Conf: []ConfPair{},
		Nested: c.Nested, Leftovers: c.Leftovers, Files: c.Files, Bytes: c.Bytes}
	if n := c.LatestBatch(); n >= 0 {
		s.LatestBatch = &n
	}
	if n := c.LatestCommitBatch(); n >= 0 {
		s.LatestCommit = &n
	}
	for _, err := range []error{c.MetadataErr, c.LatestOffsetsErr, c.LatestCommitErr} {
		if err != nil {
			s.Errors = append(s.Errors, err.Error())
		}
	}
	if lo := c.LatestOffsets; lo != nil {
		s.OffsetsFormat = "v" + itoa(int64(lo.Version))
		if lo.Format == "java" {
			s.OffsetsFormat = "java (Spark 2.0 CompositeOffset)"
		}
		if md := lo.Metadata; md != nil {
			w, t := md.BatchWatermarkMs, md.BatchTimestampMs
			s.WatermarkMs, s.BatchTimestampMs = &w, &t
			s.Conf = append(s.Conf, md.Conf...)
			for _, k := range RestartConfKeys {
				if v, ok := md.ConfValue(k); ok {
					s.RestartConf = append(s.RestartConf, ConfPair{k, v})
				}
			}
		}
	}
	if lc := c.LatestCommit; lc != nil {
		s.CommitsFormat = "v" + itoa(int64(lc.Version))
		w := lc.NextBatchWatermarkMs
		s.NextWatermarkMs = &w
	}
	for _, src := range c.Sources {
		ss := SourceSummary{Index: src.Index, Description: src.Description()}
		if src.Offset != nil {
			raw := src.Offset.Raw
			ss.LatestOffset, ss.OffsetKind, ss.Kafka = &raw, src.Offset.Kind, src.Offset.Kafka
		}
		if src.Dir != "" {
			ss.Log = src
		}
		if src.Err != nil {
			s.Errors = append(s.Errors, src.Err.Error())
		}
		s.Sources = append(s.Sources, ss)
	}
	states := c.StateAt(c.StateVersion(), c.commitFor(c.StateVersion()-1))
	for _, op := range c.Operators {
		n, from := c.ExpectedPartitions(op)
		os := OperatorSummary{ID: op.ID, Partitions: len(op.Partitions), ExpectedPartitions: n, PartitionsFrom: from,
			StoreNames: op.StoreNames, LatestVersion: op.MaxVersion, MinVersion: op.MinVersion, Format: op.Format,
			Files: op.Files, Bytes: op.Bytes, Kinds: map[string]int{}, Reconstructible: true}
		if op.Metadata != nil {
			os.Name = op.Metadata.OperatorName
		}
		for _, p := range op.Partitions {
			for _, st := range p.Stores {
				for _, f := range st.Files {
					os.Kinds[f.Kind]++
				}
			}
		}
		stores := make([]string, 0, len(op.SchemaFiles))
		for st := range op.SchemaFiles {
			stores = append(stores, st)
		}
		sort.Strings(stores)
		if len(stores) > 0 {
			os.Schemas = map[string]SchemaSummary{}
		}
		for _, st := range stores {
			ss := SchemaSummary{File: op.SchemaFiles[st]}
			if err := op.SchemaErrs[st]; err != nil {
				ss.Error = err.Error()
			} else if sf := op.Schemas[st]; sf != nil {
				ss.Version = sf.Version
				if sf.Key != nil {
					ss.Key, ss.Value = sf.Key.String(), sf.Value.String()
				}
				for _, cf := range sf.ColumnFamilies {
					ss.ColumnFamilies = append(ss.ColumnFamilies, ColumnFamilySummary{cf.Name, cf.Key.String(), cf.Value.String()})
				}
			}
			os.Schemas[st] = ss
		}
		for _, st := range states {
			if st.Operator != op.ID {
				continue
			}
			os.Stores++
			if !st.OK {
				os.Reconstructible = false
				os.Unrecoverable = append(os.Unrecoverable, st)
			}
		}
		if op.MetadataErr != nil {
			s.Errors = append(s.Errors, op.MetadataErr.Error())
		}
		s.StateOperators = append(s.StateOperators, os)
	}
	return s
}

// commitFor returns commits/b, parsed, or nil.
func (c *Checkpoint) commitFor(b int64) *Commit {
	if b < 0 {
		return nil
	}
	if b == c.LatestCommitBatch() {
		return c.LatestCommit
	}
	raw, err := ReadLog(c.fsys, "commits/"+itoa(b))
	if err != nil {
		return nil
	}
	cm, _ := ParseCommit(raw)
	return cm
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
