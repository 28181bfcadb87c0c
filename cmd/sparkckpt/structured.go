package main

// Structured Streaming checkpoints and file sink logs: inspect, uris,
// check and rewrite dispatch here from the DStream commands (spec
// structured-format.md; the library is decode/structured).
//
// A directory is structured when it has offsets/; a sink when it has
// _spark_metadata/ (or is one). A directory with both offsets/ and
// checkpoint-<ms> files (a DStream and a structured query writing into the
// same folder, as in the real shamukh82-hw6 tree) is "mixed": inspect and
// check report both, one after the other; uris lists both; rewrite plans
// both in one journal.

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/check"
	"github.com/sparkckpt/sparkckpt/decode/codec"
	"github.com/sparkckpt/sparkckpt/decode/dstream"
	"github.com/sparkckpt/sparkckpt/decode/structured"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// What a path is, for structured purposes.
const (
	pathNone       = ""
	pathStructured = "structured" // offsets/, no checkpoint-<ms>
	pathMixed      = "mixed"      // offsets/ and checkpoint-<ms>
	pathSink       = "sink"       // _spark_metadata/ or a _spark_metadata directory
	pathFile       = "file"       // a file of a structured checkpoint or sink log
)

// structuredPath classifies an input.
func structuredPath(in *input) string {
	if !in.dir {
		if structured.FileType(in.abs()) != "" {
			return pathFile
		}
		return pathNone
	}
	fsys := in.fsys(".")
	if structured.IsCheckpointDir(fsys) {
		names, _ := in.files(".")
		if len(dstream.Candidates(names)) > 0 {
			return pathMixed
		}
		return pathStructured
	}
	if _, ok := structured.IsSinkDir(fsys, filepath.Base(filepath.Clean(in.name))); ok {
		return pathSink
	}
	return pathNone
}

// openSink opens the local PATH as a file sink log: an output directory
// with _spark_metadata/, or the _spark_metadata directory itself.
func openSink(path string) (structured.Sink, error) { return sinkOf(&input{name: path}) }

// sinkOf opens an input as a file sink log, on the local disk or on HDFS.
func sinkOf(in *input) (structured.Sink, error) {
	fsys := in.fsys(".")
	dir, ok := structured.IsSinkDir(fsys, filepath.Base(filepath.Clean(in.name)))
	if !ok {
		return structured.Sink{}, fmt.Errorf("%s is not a file sink output directory: it has no _spark_metadata/", in.name)
	}
	return structured.Sink{FS: fsys, Dir: dir, Path: in.name}, nil
}

// ---- inspect ----

// structuredReport is inspect --json on a structured checkpoint
// (schema in the README): the library's Summary.
type structuredReport struct {
	*structured.Summary
}

// mixedReport is inspect on a directory holding both kinds of checkpoint.
type mixedReport struct {
	Kind       string              `json:"kind"` // "mixed"
	Dir        string              `json:"dir"`
	DStream    *dstreamReport      `json:"dstream"`
	Structured *structured.Summary `json:"structured"`
}

// sinkReport is inspect on a file sink log.
type sinkReport struct {
	Kind string `json:"kind"` // "file-sink"
	Path string `json:"path"`
	*structured.SinkLog
}

// structuredFileReport is inspect on one file of a structured checkpoint.
type structuredFileReport struct {
	Kind string `json:"kind"` // "structured-file"
	File string `json:"file"`
	Type string `json:"type"` // offsets, commits, source-log, sink-log, state, rocksdb-zip, state-schema, operator-metadata, metadata
	Size int64  `json:"size"`

	QueryID          string                          `json:"queryId,omitempty"`
	Offsets          *structured.OffsetSeq           `json:"offsets,omitempty"`
	Commit           *structured.Commit              `json:"commit,omitempty"`
	Log              *structured.FileLog             `json:"log,omitempty"`
	Kafka            *structured.KafkaInitialOffsets `json:"kafka,omitempty"`
	Schema           *structured.SchemaFile          `json:"schema,omitempty"`
	OperatorMetadata *structured.OperatorMetadata    `json:"operatorMetadata,omitempty"`
	Zip              *structured.RocksDBZip          `json:"zip,omitempty"`
	State            *structured.StateSummary        `json:"state,omitempty"`
	// SchemaFile is the schema used to decode the records ("" if unknown: hex).
	SchemaFile string                     `json:"schemaFile,omitempty"`
	Records    []structured.DecodedRecord `json:"records,omitempty"`
	// RecordsOmitted counts the records past --limit, which are not listed.
	RecordsOmitted int64 `json:"recordsOmitted,omitempty"`
}

func (r *structuredReport) render(p *printer)     { renderStructured(p, r.Summary) }
func (r *mixedReport) render(p *printer)          { renderMixed(p, r) }
func (r *sinkReport) render(p *printer)           { renderSink(p, r) }
func (r *structuredFileReport) render(p *printer) { renderStructuredFile(p, r) }

// inspectStructured handles in if it is structured; ok is false otherwise.
func inspectStructured(in *input, force *codec.Kind, limit int) (rep report, ok bool, err error) {
	switch structuredPath(in) {
	case pathStructured:
		c, err := structured.Open(in.fsys("."))
		if err != nil {
			return nil, true, err
		}
		return &structuredReport{c.Summarize(in.name)}, true, nil
	case pathMixed:
		c, err := structured.Open(in.fsys("."))
		if err != nil {
			return nil, true, err
		}
		d, err := inspectPath(in, force)
		if err != nil {
			return nil, true, err
		}
		if d.WAL, err = summarizeMetadataDir(in, "receivedBlockMetadata"); err != nil {
			return nil, true, err
		}
		return &mixedReport{Kind: "mixed", Dir: in.name, DStream: d, Structured: c.Summarize(in.name)}, true, nil
	case pathSink:
		s, err := sinkOf(in)
		if err != nil {
			return nil, true, err
		}
		sl, err := structured.OpenSink(s.FS, s.Dir)
		if err != nil {
			return nil, true, err
		}
		return &sinkReport{Kind: "file-sink", Path: in.name, SinkLog: sl}, true, nil
	case pathFile:
		r, err := inspectStructuredFile(in, force, limit)
		return r, true, err
	}
	return nil, false, nil
}

// inspectStructuredFile decodes one file by its type.
func inspectStructuredFile(in *input, force *codec.Kind, limit int) (*structuredFileReport, error) {
	abs := in.abs()
	typ := structured.FileType(abs)
	var b []byte
	var err error
	switch typ {
	case structured.FileMetadata, structured.FileOffsets, structured.FileCommits, structured.FileSourceLog, structured.FileSinkLog, structured.FileOperatorMetadata:
		b, err = readLogInput(in) // a line past structured.MaxLogLine stops the reading
	default:
		b, err = in.readFile(".")
	}
	if err != nil {
		return nil, err
	}
	r := &structuredFileReport{Kind: "structured-file", File: in.name, Type: typ, Size: int64(len(b))}
	wrap := func(err error) error { return decode.WithFile(err, in.name) }
	switch typ {
	case structured.FileMetadata:
		r.QueryID, err = structured.ParseMetadata(b)
	case structured.FileOffsets:
		r.Offsets, err = structured.ParseOffsets(b)
	case structured.FileCommits:
		r.Commit, err = structured.ParseCommit(b)
	case structured.FileSourceLog:
		if len(b) > 0 && b[0] != 'v' {
			r.Kafka, err = structured.ParseKafkaInitialOffsets(b)
		} else {
			r.Log, err = structured.ParseFileLog(b, structured.LogSource)
		}
	case structured.FileSinkLog:
		r.Log, err = structured.ParseFileLog(b, structured.LogSink)
	case structured.FileSchema:
		r.Schema, err = structured.ParseSchemaFile(b)
	case structured.FileOperatorMetadata:
		r.OperatorMetadata, err = structured.ParseOperatorMetadata(b)
	case structured.FileRocksDBZip:
		r.Zip, err = structured.ParseRocksDBZip(b)
	case structured.FileState:
		err = r.readState(in, abs, b, force, limit)
	}
	if err != nil {
		return nil, wrap(err)
	}
	return r, nil
}

// readLogInput reads the metadata log file in with structured.ReadLogFrom.
func readLogInput(in *input) ([]byte, error) {
	f, err := in.open(".")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := structured.ReadLogFrom(f)
	return b, decode.WithFile(err, in.name)
}

// readState decodes a state file's records, with the store's schema when
// the checkpoint has one; abs is the file's absolute slash path on in's
// file system. It keeps the first limit records and counts the others,
// so that memory does not grow with the file's record count (a 51 KB
// file can hold a million records).
func (r *structuredFileReport) readState(in *input, abs string, b []byte, force *codec.Kind, limit int) error {
	slash := abs
	var rc *structured.RowCodec
	if root := structured.CheckpointRoot(slash); root != "" {
		if c, err := structured.Open(in.at(root).fsys(".")); err == nil {
			rel := strings.TrimPrefix(slash, root+"/")
			rc = c.RowCodecFor(rel)
			if rc != nil {
				r.SchemaFile = schemaFileOf(c, rel)
			}
		}
	}
	kind := strings.TrimPrefix(path.Ext(abs), ".")
	r.Records = []structured.DecodedRecord{}
	sum, err := structured.ScanStateFile(strings.NewReader(string(b)), kind, force, in.lim, func(rec structured.Record) error {
		if len(r.Records) < limit {
			r.Records = append(r.Records, rc.Decode(rec))
		} else {
			r.RecordsOmitted++
		}
		return nil
	})
	r.State = sum
	return err
}

func schemaFileOf(c *structured.Checkpoint, rel string) string {
	parts := strings.Split(rel, "/")
	store := structured.DefaultStore
	if len(parts) >= 5 {
		store = parts[3]
	}
	for _, op := range c.Operators {
		if op.Dir == parts[0]+"/"+parts[1] {
			return op.SchemaFiles[store]
		}
	}
	return ""
}

// fmtBytes renders a size for people.
func fmtBytes(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
}

func optInt(v *int64) string {
	if v == nil {
		return "none"
	}
	return strconv.FormatInt(*v, 10)
}

func renderStructured(p *printer, s *structured.Summary) {
	qid := s.QueryID
	if qid == "" {
		qid = p.warn("none (no metadata file)")
	}
	restart := "nothing to restart: offsets/ is empty"
	if s.LatestBatch != nil {
		switch {
		case s.LatestCommit != nil && *s.LatestCommit >= *s.LatestBatch:
			restart = fmt.Sprintf("batch %d is committed; a restart runs batch %d, loading state version %d", *s.LatestBatch, s.RunBatch, s.StateVersion)
		default:
			restart = p.warn(fmt.Sprintf("batch %d has offsets but no commit: a restart runs it again, loading state version %d", *s.LatestBatch, s.StateVersion))
		}
	}
	commits := "none (no commits/: Spark 2.0/2.1)"
	if s.Commits.Count > 0 || s.CommitsFormat != "" {
		commits = fmt.Sprintf("%s (%d file(s), %s)", s.Commits.Ranges, s.Commits.Count, s.CommitsFormat)
	}
	offFormat := s.OffsetsFormat
	if offFormat == "" {
		offFormat = p.bad("latest unreadable")
	}
	rows := [][]string{
		{"directory", s.Dir},
		{"kind", "Structured Streaming checkpoint"},
		{"query id", qid},
		{"written by", "Spark " + s.WrittenBy.String()},
		{"offsets", fmt.Sprintf("%s (%d file(s), %s)", s.Offsets.Ranges, s.Offsets.Count, offFormat)},
		{"commits", commits},
		{"restart", restart},
	}
	if s.WatermarkMs != nil {
		w := fmtTime(*s.WatermarkMs)
		if *s.WatermarkMs == 0 {
			w = "0 (no watermark)"
		}
		rows = append(rows, []string{"watermark", w})
		rows = append(rows, []string{"batch time", fmtTime(*s.BatchTimestampMs)})
	}
	rows = append(rows, []string{"files", fmt.Sprintf("%d, %s", s.Files, fmtBytes(s.Bytes))})
	p.table("", rows)
	for _, e := range s.Errors {
		p.printf("%s %s\n", p.bad("unreadable:"), e)
	}

	p.section(fmt.Sprintf("sources (%d)", len(s.Sources)))
	for _, src := range s.Sources {
		off := "none"
		if src.LatestOffset != nil {
			off = *src.LatestOffset
		}
		p.printf("  #%d  %s  %s\n", src.Index, p.bold(src.Description), off)
		if len(src.Kafka) > 0 {
			rows := [][]string{{p.dim("topic"), p.dim("partition"), p.dim("offset")}}
			for _, k := range src.Kafka {
				rows = append(rows, []string{k.Topic, strconv.Itoa(int(k.Partition)), strconv.FormatInt(k.Offset, 10)})
			}
			p.table("      ", rows)
		}
		if l := src.Log; l != nil {
			switch l.Kind {
			case structured.SourceFile:
				ci := "no compaction"
				if l.CompactInterval > 0 {
					ci = fmt.Sprintf("compact interval %d", l.CompactInterval)
				}
				p.printf("      %s: %d file(s) (%s), %s; %d file(s) seen in batches %d..%d, on %s\n", l.Dir, len(l.Files), structured.Batches(l.Files), ci, l.Entries, l.ValidFirst, l.ValidLast, authorities(l.Authorities))
				if len(l.Missing) > 0 {
					p.printf("      %s\n", p.bad(fmt.Sprintf("missing log batches: %v", l.Missing)))
				}
			case structured.SourceKafka:
				if l.Kafka != nil {
					p.printf("      %s/0: initial offsets %s\n", l.Dir, strings.TrimSpace(l.Kafka.Raw))
				}
			default:
				p.printf("      %s: %d file(s), not a log sparkckpt recognises\n", l.Dir, len(l.Files))
			}
		}
	}

	if len(s.StateOperators) > 0 {
		p.section(fmt.Sprintf("state operators (%d)", len(s.StateOperators)))
		rows := [][]string{{p.dim("op"), p.dim("partitions"), p.dim("stores"), p.dim("versions"), p.dim("format"), p.dim("files"), p.dim("size"), p.dim(fmt.Sprintf("state version %d", s.StateVersion))}}
		for _, op := range s.StateOperators {
			id := strconv.FormatInt(op.ID, 10)
			if op.Name != "" {
				id += " " + op.Name
			}
			verdict := p.good(fmt.Sprintf("reconstructible (%d/%d stores)", op.Stores, op.Stores))
			if !op.Reconstructible {
				verdict = p.bad(fmt.Sprintf("NOT reconstructible (%d of %d stores)", len(op.Unrecoverable), op.Stores))
			}
			parts := fmt.Sprintf("%d", op.Partitions)
			if op.ExpectedPartitions != op.Partitions {
				parts = fmt.Sprintf("%d of %d", op.Partitions, op.ExpectedPartitions)
			}
			rows = append(rows, []string{id, parts, strings.Join(op.StoreNames, ", "), fmt.Sprintf("%d..%d", op.MinVersion, op.LatestVersion), op.Format, kinds(op.Kinds), fmtBytes(op.Bytes), verdict})
		}
		p.table("  ", rows)
		for _, op := range s.StateOperators {
			if op.PartitionsFrom != "spark.sql.shuffle.partitions" {
				p.printf("  %s\n", p.dim(fmt.Sprintf("operator %d: %d partition(s): %s", op.ID, op.ExpectedPartitions, op.PartitionsFrom)))
			}
			stores := make([]string, 0, len(op.Schemas))
			for st := range op.Schemas {
				stores = append(stores, st)
			}
			sort.Strings(stores)
			for _, st := range stores {
				sc := op.Schemas[st]
				switch {
				case sc.Error != "":
					p.printf("  operator %d %s schema: %s\n", op.ID, st, p.bad(sc.Error))
				case len(sc.ColumnFamilies) > 0:
					for _, cf := range sc.ColumnFamilies {
						p.printf("  operator %d %s schema v%d, column family %s: key %s, value %s\n", op.ID, st, sc.Version, cf.Name, cf.Key, cf.Value)
					}
				default:
					p.printf("  operator %d %s schema v%d: key %s, value %s\n", op.ID, st, sc.Version, sc.Key, sc.Value)
				}
			}
			for i, u := range op.Unrecoverable {
				if i == 5 {
					p.printf("  %s\n", p.bad(fmt.Sprintf("... and %d more (check --json lists them all)", len(op.Unrecoverable)-5)))
					break
				}
				p.printf("  %s %s\n", p.bad(u.Dir+":"), u.Problem)
			}
		}
	}
	if len(s.RestartConf) > 0 {
		p.section("restart conf (restored from the checkpoint; the session's values are ignored)")
		rows := make([][]string, len(s.RestartConf))
		for i, c := range s.RestartConf {
			rows[i] = []string{c.Key, c.Value}
		}
		p.table("  ", rows)
	}
	var other [][]string
	for _, c := range s.Conf {
		if !contains(structured.RestartConfKeys, c.Key) {
			other = append(other, []string{c.Key, c.Value})
		}
	}
	if len(other) > 0 {
		p.section("other conf")
		p.table("  ", other)
	}
	if len(s.Nested) > 0 {
		p.section("nested checkpoints (other queries, not part of this one)")
		for _, n := range s.Nested {
			p.printf("  %s/\n", n)
		}
	}
	if len(s.Leftovers) > 0 {
		p.printf("\n%s\n", p.dim(fmt.Sprintf("%d leftover file(s) Spark ignores (temp files, orphan .crc): see check", len(s.Leftovers))))
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func kinds(m map[string]int) string {
	var parts []string
	for _, k := range []string{"delta", "snapshot", "zip", "changelog"} {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", m[k], k))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func authorities(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		if k == "" {
			parts[i] = fmt.Sprintf("relative paths (%d)", m[k])
		} else {
			parts[i] = fmt.Sprintf("%s (%d)", k, m[k])
		}
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}

func renderMixed(p *printer, r *mixedReport) {
	p.printf("%s\n", p.warn(fmt.Sprintf("%s holds two checkpoints: a DStream (Spark Streaming) checkpoint and a Structured Streaming checkpoint; both are shown.", r.Dir)))
	p.section("DStream checkpoint")
	renderDStream(p, r.DStream)
	p.section("Structured Streaming checkpoint")
	renderStructured(p, r.Structured)
}

func renderSink(p *printer, r *sinkReport) {
	ci := "no compaction"
	if r.CompactInterval > 0 {
		ci = fmt.Sprintf("compact interval %d", r.CompactInterval)
	}
	rows := [][]string{
		{"directory", r.Path},
		{"kind", "file sink log (_spark_metadata)"},
		{"batches", fmt.Sprintf("%s (%d file(s)), %s", structured.Batches(r.Files), len(r.Files), ci)},
		{"read by Spark", "batches " + validRangeStr(r.ValidFirst, r.ValidLast)},
		{"output files", fmt.Sprintf("%d, %s, on %s", r.Entries, fmtBytes(r.Bytes), authorities(r.Authorities))},
	}
	if r.Deletes > 0 {
		rows = append(rows, []string{"deleted", fmt.Sprintf("%d (Spark 2.x delete entries)", r.Deletes)})
	}
	if r.FirstPath != "" {
		rows = append(rows, []string{"first file", r.FirstPath}, []string{"last file", r.LastPath})
	}
	p.table("", rows)
	if len(r.Missing) > 0 {
		p.printf("%s %v\n", p.bad("missing batches:"), r.Missing)
	}
	if r.Err != nil {
		p.printf("%s %v\n", p.bad("unreadable:"), r.Err)
	}
}

func validRangeStr(first, last int64) string {
	if last < first {
		return "none"
	}
	return fmt.Sprintf("%d..%d", first, last)
}

// defaultRecordLimit is the default of inspect --limit: the records of a
// state file inspect shows.
const defaultRecordLimit = 50

func renderStructuredFile(p *printer, r *structuredFileReport) {
	rows := [][]string{{"file", r.File}, {"type", r.Type}, {"size", fmtBytes(r.Size)}}
	switch {
	case r.QueryID != "":
		rows = append(rows, []string{"query id", r.QueryID})
		p.table("", rows)
	case r.Offsets != nil:
		o := r.Offsets
		f := fmt.Sprintf("v%d", o.Version)
		if o.Format == "java" {
			f = "Java-serialized CompositeOffset (Spark 2.0)"
		}
		rows = append(rows, []string{"format", f})
		if md := o.Metadata; md != nil {
			rows = append(rows, []string{"watermark", fmt.Sprint(md.BatchWatermarkMs)}, []string{"batch time", fmtTime(md.BatchTimestampMs)})
		}
		p.table("", rows)
		p.section(fmt.Sprintf("sources (%d)", len(o.Sources)))
		for _, s := range o.Sources {
			p.printf("  #%d  %-16s %s\n", s.Index, s.Kind, s.Raw)
			if len(s.Kafka) > 0 {
				krows := [][]string{{p.dim("topic"), p.dim("partition"), p.dim("offset")}}
				for _, k := range s.Kafka {
					krows = append(krows, []string{k.Topic, strconv.Itoa(int(k.Partition)), strconv.FormatInt(k.Offset, 10)})
				}
				p.table("      ", krows)
			}
		}
		if o.Metadata != nil && len(o.Metadata.Conf) > 0 {
			p.section(fmt.Sprintf("conf (%d)", len(o.Metadata.Conf)))
			crows := make([][]string, len(o.Metadata.Conf))
			for i, c := range o.Metadata.Conf {
				crows[i] = []string{c.Key, c.Value}
			}
			p.table("  ", crows)
		}
	case r.Commit != nil:
		rows = append(rows, []string{"format", fmt.Sprintf("v%d", r.Commit.Version)}, []string{"next watermark", strconv.FormatInt(r.Commit.NextBatchWatermarkMs, 10)})
		p.table("", rows)
		ops := make([]string, 0, len(r.Commit.StateUniqueIDs))
		for op := range r.Commit.StateUniqueIDs {
			ops = append(ops, op)
		}
		sort.Strings(ops)
		for _, op := range ops {
			p.section("state checkpoint ids of operator " + op + " (version N+1)")
			for part, ids := range r.Commit.StateUniqueIDs[op] {
				p.printf("  partition %d: %s\n", part, strings.Join(ids, ", "))
			}
		}
	case r.Log != nil:
		rows = append(rows, []string{"format", fmt.Sprintf("v%d", r.Log.Version)}, []string{"entries", strconv.Itoa(len(r.Log.Entries))})
		p.table("", rows)
		if len(r.Log.Entries) > 0 {
			p.printf("\n")
		}
		for _, e := range r.Log.Entries {
			if r.Log.Kind == structured.LogSink {
				p.printf("  %s  %s %s\n", e.Path, p.dim(fmtBytes(e.Size)), p.dim(e.Action))
			} else {
				p.printf("  %s  %s\n", e.Path, p.dim(fmt.Sprintf("batch %d, %s", e.BatchID, fmtTime(e.Timestamp))))
			}
		}
	case r.Kafka != nil:
		rows = append(rows, []string{"format", fmt.Sprintf("Kafka initial offsets v%d", r.Kafka.Version)})
		p.table("", rows)
		krows := [][]string{{p.dim("topic"), p.dim("partition"), p.dim("offset")}}
		for _, k := range r.Kafka.Offsets {
			krows = append(krows, []string{k.Topic, strconv.Itoa(int(k.Partition)), strconv.FormatInt(k.Offset, 10)})
		}
		p.printf("\n")
		p.table("  ", krows)
	case r.Schema != nil:
		rows = append(rows, []string{"format", fmt.Sprintf("schema v%d", r.Schema.Version)})
		if r.Schema.Key != nil {
			rows = append(rows, []string{"key", r.Schema.Key.String()}, []string{"value", r.Schema.Value.String()})
		}
		for _, cf := range r.Schema.ColumnFamilies {
			rows = append(rows, []string{"column family", cf.Name}, []string{"  key", cf.Key.String()}, []string{"  value", cf.Value.String()}, []string{"  encoder", cf.KeyStateEncoderSpec})
		}
		p.table("", rows)
	case r.OperatorMetadata != nil:
		m := r.OperatorMetadata
		rows = append(rows, []string{"format", fmt.Sprintf("v%d", m.Version)}, []string{"operator", fmt.Sprintf("%d %s", m.OperatorID, m.OperatorName)})
		for _, s := range m.Stores {
			rows = append(rows, []string{"store", fmt.Sprintf("%s, %d partition(s), %d prefix key column(s)", s.StoreName, s.NumPartitions, s.NumColsPrefixKey)})
			if s.StateSchemaFilePath != "" {
				rows = append(rows, []string{"  schema file", s.StateSchemaFilePath})
			}
			for _, sp := range s.StateSchemaFilePaths {
				rows = append(rows, []string{"  schema file", sp})
			}
		}
		p.table("", rows)
	case r.Zip != nil:
		md := r.Zip.Metadata
		rows = append(rows, []string{"keys", strconv.FormatInt(md.NumKeys, 10)})
		for _, e := range r.Zip.Entries {
			rows = append(rows, []string{"entry", fmt.Sprintf("%s (%s)", e.Name, fmtBytes(e.Size))})
		}
		for _, f := range md.SSTFiles {
			rows = append(rows, []string{"sst", fmt.Sprintf("SSTs/%s (%s, local %s)", f.DFSFileName, fmtBytes(f.SizeBytes), f.LocalFileName)})
		}
		for _, f := range md.LogFiles {
			rows = append(rows, []string{"log", fmt.Sprintf("logs/%s (%s)", f.DFSFileName, fmtBytes(f.SizeBytes))})
		}
		for _, kv := range md.ColumnFamilyMapping {
			rows = append(rows, []string{"column family", kv.Key + " = " + string(kv.Value)})
		}
		p.table("", rows)
	case r.State != nil:
		st := r.State
		format := "HDFS state store record stream"
		if st.Version > 0 {
			format = fmt.Sprintf("changelog v%d", st.Version)
		}
		schema := r.SchemaFile
		if schema == "" {
			schema = "unknown (no schema file: keys and values in hex)"
		}
		rows = append(rows,
			[]string{"codec", fmt.Sprintf("%s, %d bytes decompressed", st.Codec, st.Raw)},
			[]string{"format", format},
			[]string{"records", fmt.Sprintf("%d put, %d delete, %d merge; keys %s, values %s", st.Puts, st.Deletes, st.Merges, fmtBytes(st.KeyBytes), fmtBytes(st.ValueBytes))},
			[]string{"schema", schema})
		for _, l := range st.Lineage {
			rows = append(rows, []string{"lineage", fmt.Sprintf("version %d, id %s", l.Version, l.CheckpointUniqueID)})
		}
		if st.Trailing > 0 {
			rows = append(rows, []string{"trailing", fmt.Sprintf("%d byte(s) after the end marker (ignored by Spark)", st.Trailing)})
		}
		p.table("", rows)
		if len(r.Records) > 0 {
			p.printf("\n")
		}
		for _, d := range r.Records {
			fam := ""
			if d.Family != "" {
				fam = d.Family + " "
			}
			line := fmt.Sprintf("  @%-6d %-6s %s%s", d.Offset, d.Op, fam, structured.FormatValue(d.Key))
			if d.Op != structured.OpDelete {
				line += " -> " + structured.FormatValue(d.Value)
			}
			p.printf("%s\n", line)
		}
		if r.RecordsOmitted > 0 {
			p.printf("  %s\n", p.dim(fmt.Sprintf("... %d more record(s) (--limit N shows more)", r.RecordsOmitted)))
		}
	default:
		p.table("", rows)
	}
}

// ---- uris ----

// collectStructuredURIs lists the absolute URIs of a structured
// checkpoint, a sink log or one of their files, in the DStream
// reference shape; ok is false if in is none of them.
func collectStructuredURIs(in *input) (refs []dstream.Reference, files []string, ok bool, err error) {
	var srefs []structured.Reference
	var errs []error
	switch structuredPath(in) {
	case pathStructured, pathMixed:
		c, err := structured.Open(in.fsys("."))
		if err != nil {
			return nil, nil, true, err
		}
		srefs, errs = c.References()
		for i := range srefs {
			srefs[i].File = in.path(srefs[i].File)
		}
	case pathSink:
		s, err := sinkOf(in)
		if err != nil {
			return nil, nil, true, err
		}
		srefs, errs = structured.SinkReferences(s.FS, s.Dir)
		for i := range srefs {
			srefs[i].File = in.path(srefs[i].File)
		}
	case pathFile:
		b, err := in.readFile(".")
		if err != nil {
			return nil, nil, true, err
		}
		kind, role := "", ""
		switch structured.FileType(in.abs()) {
		case structured.FileSourceLog:
			kind, role = structured.LogSource, structured.RoleSourceFile
		case structured.FileSinkLog:
			kind, role = structured.LogSink, structured.RoleSinkFile
		case structured.FileOperatorMetadata:
			kind, role = structured.KindOperatorMetadata, structured.RoleStateSchema
		}
		if kind != "" && !(kind == structured.LogSource && len(b) > 0 && b[0] != 'v') {
			fields, err := structured.URIFields(b, kind)
			if err != nil {
				return nil, nil, true, decode.WithFile(err, in.name)
			}
			for _, f := range fields {
				srefs = append(srefs, structured.Reference{URI: f.Value, File: in.name, Location: fmt.Sprintf("line %d: %s", f.Line, f.Path), Role: role})
			}
		}
		files = []string{in.name}
	default:
		return nil, nil, false, nil
	}
	if len(errs) > 0 && len(srefs) == 0 {
		return nil, nil, true, errors.Join(errs...)
	}
	seen := map[string]bool{}
	for _, f := range files {
		seen[f] = true
	}
	refs = []dstream.Reference{}
	for _, r := range srefs {
		refs = append(refs, toDStreamRef(r))
		if !seen[r.File] {
			seen[r.File] = true
			files = append(files, r.File)
		}
	}
	return refs, files, true, nil
}

// toDStreamRef gives a structured reference the shape uris prints.
func toDStreamRef(r structured.Reference) dstream.Reference {
	out := dstream.Reference{URI: r.URI, File: r.File, Location: r.Location, Role: r.Role, Source: "json"}
	scheme, rest, ok := strings.Cut(r.URI, ":")
	if ok && scheme != "" && !strings.ContainsAny(scheme, "/\\") {
		out.Scheme = strings.ToLower(scheme)
		if after, ok := strings.CutPrefix(rest, "//"); ok {
			auth, _, _ := strings.Cut(after, "/")
			out.Authority = auth
		}
	}
	return out
}

// structuredRole explains the structured roles to renderURIs.
func structuredRole(role string) (dstream.RoleInfo, bool) {
	m, restart, ok := structured.RoleMeaning(role)
	return dstream.RoleInfo{Restart: restart, Meaning: m}, ok
}

// ---- check ----

// structuredCheckOptions are check's flags for structured checkpoints.
type structuredCheckOptions struct {
	sparkVersion string
	sinks        []string
}

func addStructuredCheckFlags(f *pflag.FlagSet, o *structuredCheckOptions) {
	f.StringVar(&o.sparkVersion, "spark-version", "", "Structured Streaming: the Spark release that will restart the query (e.g. 3.5.1); log versions it\ncannot read are errors (default: the newest release sparkckpt knows, "+structured.NewestRelease+")")
	f.StringArrayVar(&o.sinks, "sink", nil, "Structured Streaming: a file sink's output directory (or its _spark_metadata) to check with the\ncheckpoint (repeatable)")
}

// structuredCheckResult is check --json for a mixed directory.
type structuredCheckResult struct {
	Kind       string                  `json:"kind"` // "mixed"
	Dir        string                  `json:"dir"`
	OK         bool                    `json:"ok"`
	DStream    *check.Report           `json:"dstream"`
	Structured *structured.CheckReport `json:"structured"`
}

// runStructuredCheck runs check on a structured checkpoint, sink log or
// mixed directory; done is false when in is none of them (and no
// structured flag was given). --sink directories are resolved with st.
func runStructuredCheck(cmd *cobra.Command, g *globalOptions, st *stores, in *input, o *checkOptions, so *structuredCheckOptions, force *codec.Kind) (done bool, err error) {
	kind := structuredPath(in)
	if kind == pathNone || kind == pathFile {
		if (so.sparkVersion != "" || len(so.sinks) > 0) && in.dir {
			return true, &exitErr{code: exitError, err: usageError{fmt.Errorf("--spark-version and --sink apply to Structured Streaming checkpoints; %s has no offsets/", in.name)}}
		}
		return false, nil
	}
	if so.sparkVersion != "" {
		if _, err := structured.ParseSparkVersion(so.sparkVersion); err != nil {
			return true, &exitErr{code: exitError, err: usageError{fmt.Errorf("--spark-version: %w", err)}}
		}
	}
	opts := structured.CheckOptions{Path: in.name, ExpectFS: o.expectFS, SparkVersion: so.sparkVersion, Codec: force, Limits: g.limits()}
	for _, s := range so.sinks {
		sin, err := st.input(s)
		if err != nil {
			return true, &exitErr{code: exitError, err: fmt.Errorf("--sink: %w", err)}
		}
		sk, err := sinkOf(sin)
		if err != nil {
			return true, &exitErr{code: exitError, err: usageError{fmt.Errorf("--sink: %w", err)}}
		}
		opts.Sinks = append(opts.Sinks, sk)
	}
	var rep *structured.CheckReport
	switch kind {
	case pathSink:
		sk, err := sinkOf(in)
		if err != nil {
			return true, &exitErr{code: exitError, err: err}
		}
		rep, err = structured.CheckSink(sk, opts)
		if err != nil {
			return true, &exitErr{code: exitError, err: err}
		}
	default:
		rep, err = structured.Check(in.fsys("."), opts)
		if err != nil {
			return true, &exitErr{code: exitError, err: err}
		}
	}
	if kind != pathMixed { // a mixed directory's links are reported once, by the DStream check
		rep.Findings = check.AddFindings(rep.Findings, &rep.Counts, &rep.OK, check.SymlinkFindings(checkSymlinks(in)))
	}
	ok := rep.OK
	var drep *check.Report
	if kind == pathMixed {
		drep, err = checkDStream(cmd.Context(), in, check.Options{ExpectFS: o.expectFS, Codec: force, Probe: o.probe, ProbeTimeout: o.probeTimeout, Dial: checkDial, Limits: g.limits()})
		if err != nil {
			return true, &exitErr{code: exitError, err: err}
		}
		ok = ok && drep.OK
	}
	if g.json {
		var v any = rep
		if drep != nil {
			v = &structuredCheckResult{Kind: "mixed", Dir: in.name, OK: ok, DStream: drep, Structured: rep}
		}
		if err := writeJSON(cmd.OutOrStdout(), v); err != nil {
			return true, err
		}
	} else {
		p := newPrinter(cmd)
		if drep != nil {
			p.printf("%s\n", p.warn(fmt.Sprintf("%s holds a DStream checkpoint and a Structured Streaming checkpoint; both are checked.", in.name)))
			p.section("DStream checkpoint")
			renderCheck(p, drep)
			p.section("Structured Streaming checkpoint")
		}
		renderStructuredCheck(p, rep)
	}
	if !ok {
		return true, findings()
	}
	return true, nil
}

func renderStructuredCheck(p *printer, r *structured.CheckReport) {
	counts := fmt.Sprintf("%s, %s, %d info", plural(r.Counts.Error, "error", "errors"), plural(r.Counts.Warning, "warning", "warnings"), r.Counts.Info)
	switch {
	case r.OK && r.Kind == "file-sink":
		p.printf("%s the sink log reads (%s)\n", p.good(p.bold("OK:")), counts)
	case r.OK:
		p.printf("%s Spark will restart batch %d with state version %d (%s)\n", p.good(p.bold("OK:")), r.RunBatch, r.StateVersion, counts)
	default:
		p.printf("%s %s\n", p.bad(p.bold("FAIL:")), counts)
	}
	rows := [][]string{{"directory", r.Dir}}
	if r.Kind == "structured" {
		qid := r.QueryID
		if qid == "" {
			qid = "none"
		}
		restart := fmt.Sprintf("batch %d (latest offsets %s, latest commit %s)", r.RunBatch, optInt(r.LatestBatch), optInt(r.LatestCommit))
		st := "no stateful operator"
		if r.State.Stores > 0 {
			st = fmt.Sprintf("version %d: %d of %d store(s) reconstructible (%d operator(s); %d chain file(s), %d record(s) decoded)", r.StateVersion, r.State.Reconstructible, r.State.Stores, r.State.Operators, r.State.ChainFiles, r.State.Records)
			if r.State.Reconstructible == r.State.Stores {
				st = p.good(st)
			} else {
				st = p.bad(st)
			}
		}
		rows = append(rows, []string{"query id", qid}, []string{"written by", "Spark " + r.WrittenBy.String()}, []string{"restarts", restart}, []string{"state", st})
	}
	expect := strings.Join(r.ExpectFS, ", ")
	if expect == "" {
		expect = "not given (--expect-fs): filesystems are listed, not checked"
	}
	rows = append(rows, []string{"judged for", "Spark " + r.SparkVersion}, []string{"expected fs", expect}, []string{"read", fmt.Sprintf("%d file(s), %s", r.FilesRead, fmtBytes(r.BytesRead))})
	p.printf("\n")
	p.table("  ", rows)
	renderFindings(p, r.Findings)
}
