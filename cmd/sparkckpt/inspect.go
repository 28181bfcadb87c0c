package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/codec"
	"github.com/sparkckpt/sparkckpt/decode/dstream"
	"github.com/sparkckpt/sparkckpt/decode/wal"
	"github.com/sparkckpt/sparkckpt/store"
	"github.com/spf13/cobra"
)

type inspectOptions struct {
	codec       codecFlag
	showSecrets bool
	limit       int
}

func newInspectCmd(g *globalOptions) *cobra.Command {
	o := &inspectOptions{}
	cmd := &cobra.Command{
		Use:   "inspect PATH",
		Short: "Show what a checkpoint says: app, master, checkpointDir, times, graph, conf",
		Long: `inspect decodes a Spark Streaming checkpoint and prints a summary readable in ten seconds.

PATH is a checkpoint-<ms> file (or its .bk), a checkpoint directory, a write-ahead-log
file (receivedBlockMetadata/log-*, receivedData/<id>/log-*) or a log directory. For a
checkpoint directory,
inspect picks the file exactly as Spark's CheckpointReader does on restart: newest time
first, checkpoint-<t> before checkpoint-<t>.bk, the first that decodes; it says which
newer files it passed over and why, and summarises its write-ahead log: files, time
range, record counts, batches allocated but not cleaned up (those recovery re-runs).

Conf values whose keys look secret (*password*, *secret*, *token*, ...) are masked
unless --show-secrets. --json prints the full model (schema in the README).

` + hdfsPathHelp,
		Example: `  sparkckpt inspect /restore/ckpt
  sparkckpt inspect --json /restore/ckpt/checkpoint-1519983188000 | jq .checkpoint.checkpointDir`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			force, err := o.codec.force()
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			if o.limit < 0 {
				return &exitErr{code: exitError, err: usageError{fmt.Errorf("--limit must be 0 or more, got %d", o.limit)}}
			}
			st := newStores(cmd.Context(), g.getenv, 0)
			st.lim = g.limits()
			defer st.Close()
			rep, err := inspectAny(st, args[0], force, o.limit)
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			if r, ok := rep.(*dstreamReport); ok && !o.showSecrets {
				r.maskSecrets()
			}
			if r, ok := rep.(*mixedReport); ok && !o.showSecrets { // structured.go
				r.DStream.maskSecrets()
			}
			if g.json {
				return writeJSON(cmd.OutOrStdout(), rep)
			}
			rep.render(newPrinter(cmd))
			return nil
		},
	}
	cmd.Flags().StringVar(&o.codec.name, "codec", "auto", codecHelp)
	cmd.Flags().BoolVar(&o.showSecrets, "show-secrets", false, "show conf values whose keys look secret instead of masking them")
	cmd.Flags().IntVar(&o.limit, "limit", defaultRecordLimit, "records of a state file shown (text and --json); the rest are counted, never kept")
	g.addLimitFlags(cmd)
	return cmd
}

// force returns the codec the user forced, or nil for detection.
func (c *codecFlag) force() (*codec.Kind, error) {
	k, forced, err := c.kind()
	if err != nil || !forced {
		return nil, err
	}
	return &k, nil
}

// dstreamReport is the --json output of inspect on a DStream checkpoint.
type dstreamReport struct {
	Kind             string              `json:"kind"` // "dstream"
	File             string              `json:"file"` // the file read (for a directory: the one Spark would read)
	Dir              string              `json:"dir,omitempty"`
	Skipped          []skippedFile       `json:"skipped"` // newer files passed over, with the reason
	Codec            string              `json:"codec"`
	BlockSize        int                 `json:"blockSize"`
	CompressedBytes  int64               `json:"compressedBytes"`
	StreamBytes      int                 `json:"streamBytes"`
	SparkVersionHint string              `json:"sparkVersionHint"`
	ScalaVersionHint string              `json:"scalaVersionHint"`
	Checkpoint       *dstream.Checkpoint `json:"checkpoint"`
	SecretsMasked    bool                `json:"secretsMasked"`
	// WAL summarises <dir>/receivedBlockMetadata, for a directory that has one.
	WAL *wal.Summary `json:"wal,omitempty"`
	// Symlinks are the symbolic links in the directory (followed only
	// when they lead inside it).
	Symlinks []store.Link  `json:"symlinks,omitempty"`
	file     *dstream.File // the decoded file, for uris
}

type skippedFile struct {
	File   string `json:"file"`
	TimeMs int64  `json:"timeMs"`
	Reason string `json:"reason"`
}

const secretMask = "********"

func (r *dstreamReport) maskSecrets() {
	conf := make([]dstream.ConfPair, len(r.Checkpoint.Conf))
	for i, p := range r.Checkpoint.Conf {
		if dstream.Secret(p.Key) {
			p.Value = secretMask
			r.SecretsMasked = true
		}
		conf[i] = p
	}
	cp := *r.Checkpoint
	cp.Conf = conf
	r.Checkpoint = &cp
}

// readCheckpointFile reads and decodes the checkpoint file rel of in
// ("." for in itself).
func readCheckpointFile(in *input, rel string, force *codec.Kind) (*dstream.File, error) {
	b, err := in.readFile(rel)
	if err != nil {
		return nil, err
	}
	return decodeCheckpoint(in.path(rel), b, force, in.lim)
}

// decodeCheckpoint decodes the bytes of a checkpoint file named name.
func decodeCheckpoint(name string, b []byte, force *codec.Kind, lim decode.Limits) (*dstream.File, error) {
	if len(b) == 0 {
		return nil, decode.WithFile(&decode.Error{Format: "codec", Err: fmt.Errorf("%w: empty file", decode.ErrTruncated)}, name)
	}
	f, err := dstream.ReadLimits(b, force, lim)
	if err != nil {
		return nil, decode.WithFile(err, name)
	}
	return f, nil
}

// report is what inspect prints: a DStream checkpoint, a log file or a log directory.
type report interface {
	render(p *printer)
}

func (r *dstreamReport) render(p *printer) { renderDStream(p, r) }
func (r *walFileReport) render(p *printer) { renderWALFile(p, r) }
func (r *walDirReport) render(p *printer)  { renderWALDir(p, r) }

// inspectAny dispatches on what PATH is, on the local disk or on HDFS.
func inspectAny(st *stores, path string, force *codec.Kind, limit int) (report, error) {
	in, err := st.openInput(path)
	if err != nil {
		return nil, err
	}
	switch {
	case !in.dir && isWALFile(in.name):
		return readWALFile(in, ".")
	case in.dir && (filepath.Base(filepath.Clean(in.name)) == "receivedBlockMetadata" || isDataLog(in.name)):
		return inspectWALDir(in)
	}
	// Structured Streaming checkpoints (and mixed directories), file sink
	// logs and their files (structured.go).
	if rep, ok, err := inspectStructured(in, force, limit); ok {
		return rep, err
	}
	rep, err := inspectPath(in, force)
	if err != nil {
		return nil, err
	}
	if in.dir {
		if rep.WAL, err = summarizeMetadataDir(in, "receivedBlockMetadata"); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// inspectPath decodes a checkpoint file, or picks and decodes the file
// Spark would read from a checkpoint directory.
func inspectPath(in *input, force *codec.Kind) (*dstreamReport, error) {
	if !in.dir {
		f, err := readCheckpointFile(in, ".", force)
		if err != nil {
			return nil, err
		}
		return newReport(in.name, "", f, nil), nil
	}
	names, err := in.files(".")
	if err != nil {
		return nil, err
	}
	rep, err := chooseCheckpoint(in.name, names, in.path, in.readFile, force, in.lim)
	if rep != nil {
		rep.Symlinks = in.symlinks()
	}
	return rep, err
}

// chooseCheckpoint picks and decodes the file Spark would read from the
// directory dir holding names, wherever it lives: join names a file for
// messages, read reads one.
func chooseCheckpoint(dir string, names []string, join func(string) string, read func(string) ([]byte, error), force *codec.Kind, lim decode.Limits) (*dstreamReport, error) {
	cands := dstream.Candidates(names)
	if len(cands) == 0 {
		return nil, notCheckpointDir(dir, names)
	}
	chosen, f, skipped := dstream.Choose(cands, func(name string) (*dstream.File, error) {
		b, err := read(name)
		if err != nil {
			return nil, err
		}
		return decodeCheckpoint(join(name), b, force, lim)
	})
	if chosen == nil {
		var errs []error
		for _, s := range skipped {
			errs = append(errs, s.Err)
		}
		return nil, fmt.Errorf("no checkpoint file in %s can be read (Spark would fail with \"Failed to read checkpoint from directory\"):\n%w", dir, errors.Join(errs...))
	}
	rep := newReport(join(chosen.Name), dir, f, skipped)
	for i, sk := range skipped {
		rep.Skipped[i].File = join(sk.Name)
	}
	return rep, nil
}

func notCheckpointDir(path string, names []string) error {
	has := map[string]bool{}
	for _, n := range names {
		has[n] = true
	}
	if has["metadata"] { // offsets/ directories are handled by structured.go
		return fmt.Errorf("%s has a metadata file but no offsets/ directory: not a Structured Streaming checkpoint (and no checkpoint-<ms> files: not a DStream one)", path)
	}
	return fmt.Errorf("%s is not a DStream checkpoint directory: it has no checkpoint-<ms> files", path)
}

func newReport(file, dir string, f *dstream.File, skipped []dstream.Skipped) *dstreamReport {
	rep := &dstreamReport{
		Kind: "dstream", File: file, Dir: dir, Skipped: []skippedFile{},
		Codec: f.Codec.String(), BlockSize: f.Params.BlockSize, CompressedBytes: f.Size, StreamBytes: f.Raw,
		SparkVersionHint: f.Checkpoint.SparkVersionHint, ScalaVersionHint: f.Checkpoint.ScalaVersionHint,
		Checkpoint: f.Checkpoint, file: f,
	}
	for _, s := range skipped {
		rep.Skipped = append(rep.Skipped, skippedFile{File: filepath.Join(dir, s.Name), TimeMs: s.TimeMs, Reason: s.Reason})
	}
	return rep
}

func renderDStream(p *printer, r *dstreamReport) {
	cp := r.Checkpoint
	rows := [][]string{
		{"file", r.File},
		{"codec", fmt.Sprintf("%s (block size %d), %d bytes compressed, %d bytes of Java stream", r.Codec, r.BlockSize, r.CompressedBytes, r.StreamBytes)},
		{"app", cp.AppName},
		{"master", cp.Master},
		{"checkpointDir", p.bold(cp.CheckpointDir)},
		{"checkpoint time", fmtTime(cp.CheckpointTimeMs)},
		{"batch duration", fmtMs(cp.BatchDurationMs)},
		{"pending batches", pendingSummary(cp.PendingTimesMs)},
	}
	if cp.DelaySeconds != nil {
		rows = append(rows, []string{"delaySeconds", strconv.FormatInt(*cp.DelaySeconds, 10)})
	}
	if len(cp.Jars) > 0 {
		rows = append(rows, []string{"jars", strings.Join(cp.Jars, ", ")})
	}
	rows = append(rows, []string{"written by", versionLine(r)})
	p.table("", rows)
	if len(r.Skipped) > 0 {
		p.section(p.warn(fmt.Sprintf("skipped %d newer file(s), as Spark would", len(r.Skipped))))
		for _, s := range r.Skipped {
			p.printf("  %s: %s\n", filepath.Base(s.File), p.warn(s.Reason))
		}
	}
	if len(r.Symlinks) > 0 {
		p.section(p.warn(fmt.Sprintf("%d symbolic link(s): followed only inside the directory", len(r.Symlinks))))
		for _, l := range r.Symlinks {
			p.printf("  %s\n", l.String())
		}
	}
	renderGraph(p, &cp.Graph)
	p.section(fmt.Sprintf("conf (%d)", len(cp.Conf)))
	var conf [][]string
	for _, c := range cp.SortedConf() {
		conf = append(conf, []string{c.Key, c.Value})
	}
	p.table("  ", conf)
	if r.WAL != nil {
		renderWALSummary(p, "write-ahead log (receivedBlockMetadata)", r.WAL)
	}
}

func versionLine(r *dstreamReport) string {
	var parts []string
	if r.SparkVersionHint != "" {
		parts = append(parts, "Spark "+r.SparkVersionHint)
	}
	if r.ScalaVersionHint != "" {
		parts = append(parts, "Scala "+r.ScalaVersionHint)
	}
	if len(parts) == 0 {
		return "unknown"
	}
	return strings.Join(parts, "; ")
}

func pendingSummary(ts []int64) string {
	if len(ts) == 0 {
		return "none"
	}
	s := append([]int64(nil), ts...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s) == 1 {
		return "1: " + fmtTime(s[0])
	}
	return fmt.Sprintf("%d, from %s to %s", len(s), fmtTime(s[0]), fmtTime(s[len(s)-1]))
}

// renderGraph prints the graph from each output stream up to its inputs.
func renderGraph(p *printer, g *dstream.Graph) {
	p.section(fmt.Sprintf("graph: %d output, %d input, %d stream(s) in all", len(g.Outputs), len(g.Inputs), len(g.Streams)))
	shown := map[int]bool{}
	var walk func(id int, prefix, branch string)
	walk = func(id int, prefix, branch string) {
		s := g.Streams[id]
		if shown[id] {
			p.printf("%s%s#%d %s %s\n", prefix, branch, id, s.Name, p.dim("(shown above)"))
			return
		}
		shown[id] = true
		p.printf("%s%s%s\n", prefix, branch, streamLine(p, s))
		child := prefix
		switch branch {
		case "└─ ":
			child += "   "
		case "├─ ":
			child += "│  "
		}
		details := streamDetails(s)
		for _, d := range details {
			bar := "│  "
			if len(s.Parents) == 0 {
				bar = "   "
			}
			p.printf("%s%s%s\n", child, bar, p.dim(d))
		}
		for i, parent := range s.Parents {
			b := "├─ "
			if i == len(s.Parents)-1 {
				b = "└─ "
			}
			walk(parent, child, b)
		}
	}
	for _, id := range g.Outputs {
		walk(id, "  ", "")
	}
	for _, id := range g.Inputs {
		if !shown[id] {
			walk(id, "  ", "")
		}
	}
}

func streamLine(p *printer, s *dstream.Stream) string {
	cls := s.Class[strings.LastIndexByte(s.Class, '.')+1:]
	line := fmt.Sprintf("#%d %s %s", s.ID, p.bold(cls), strconv.Quote(s.Name))
	if s.Role != "intermediate" {
		line += " [" + s.Role + "]"
	}
	if s.SlideMs != nil {
		line += " slide " + fmtMs(*s.SlideMs)
	}
	if s.RememberMs != nil {
		line += " remember " + fmtMs(*s.RememberMs)
	}
	if s.CheckpointIntervalMs != nil {
		line += " checkpoint every " + fmtMs(*s.CheckpointIntervalMs)
	}
	if s.MustCheckpoint {
		line += " (must checkpoint)"
	}
	if s.StorageLevel != "" && s.StorageLevel != "NONE" {
		line += " " + s.StorageLevel
	}
	return line
}

func streamDetails(s *dstream.Stream) []string {
	var out []string
	for _, a := range s.Attrs {
		out = append(out, a.Name+" = "+a.Value)
	}
	for _, f := range s.Functions {
		d := f.Field + ": " + f.Class
		if f.Impl != "" {
			d = f.Field + ": " + f.Impl
		}
		if f.Python != nil {
			d += fmt.Sprintf(" (Python, pickle protocol %d, %d bytes, %d strings)", f.Python.PickleProtocol, f.Python.PickleBytes, len(f.Python.Strings))
		}
		out = append(out, d)
	}
	if d := s.CheckpointData; d != nil && len(d.Entries) > 0 {
		kinds := map[string]int{}
		n := 0
		for _, e := range d.Entries {
			kinds[e.Kind]++
			n += len(e.Values)
		}
		var ks []string
		for k, c := range kinds {
			ks = append(ks, fmt.Sprintf("%d %s", c, k))
		}
		sort.Strings(ks)
		out = append(out, fmt.Sprintf("checkpoint data: %d batch time(s) (%s), %d value(s)", len(d.Entries), strings.Join(ks, ", "), n))
		for _, e := range d.Entries {
			if e.Kind == "rdd" {
				out = append(out, fmt.Sprintf("  %d -> %s", e.TimeMs, strings.Join(e.Values, ", ")))
			}
		}
	}
	return out
}
