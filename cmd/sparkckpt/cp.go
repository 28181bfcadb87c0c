package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/sparkckpt/sparkckpt/decode/dstream"
	"github.com/sparkckpt/sparkckpt/rewrite"
	"github.com/sparkckpt/sparkckpt/rewrite/copytree"
	"github.com/sparkckpt/sparkckpt/store"
	"github.com/spf13/cobra"
)

type cpOptions struct {
	rw              rewriteOptions // --from, --to, --map
	skipUndecodable bool
	parallel        int
	verify          bool
	followSymlinks  bool
	noProgress      bool
	timeout         time.Duration
}

const cpLong = `cp copies a checkpoint directory between any two of the local disk, HDFS and S3 (or
within one) and relocates it on the way: with --map FROM=TO every URI is
rewritten exactly as 'sparkckpt rewrite --apply' would (same matching, re-encoding and
verification), so "copy, then fix the URIs" is one step.

SRC and DST are local paths, file: URIs, hdfs:// URIs (hdfs://NAMENODE:PORT/path, an HA
nameservice hdfs://NAMESERVICE/path, or hdfs:///path for fs.defaultFS) or S3 URIs
(s3://BUCKET/path, s3a://..., s3n://...). HDFS is configured as Hadoop is: HADOOP_CONF_DIR
(or HADOOP_HOME) with core-site.xml and hdfs-site.xml, HADOOP_USER_NAME, and Kerberos
through the ticket cache (kinit) when hadoop.security.authentication=kerberos. S3 is
configured as the AWS CLI is (AWS_PROFILE, AWS_REGION, ~/.aws, the instance profile), with
--s3-endpoint or AWS_ENDPOINT_URL_S3 for an S3-compatible server.

Never a partial destination: DST must not exist. Everything is written into a hidden
temporary directory beside DST (.sparkckpt-tmp-cp-<name>-*), every file closed durably,
rewritten files read back and compared, the copied tree compared with the source, and
the directory renamed to DST last (atomic on the local disk and in the namenode). An error
or Ctrl-C removes the temporary directory; a killed cp leaves it, and the next cp to the
same DST removes it once its owner (recorded inside it) is no longer running on this host
or is over a day old, and says so. cp holds DST's lock (DST.sparkckpt-lock, the lock
'rewrite --apply' takes) while it works: a second cp to the same DST exits 2 naming the
first. sparkckpt's own temporaries and lock files in SRC are never copied. S3 has no atomic
rename: there cp writes DST in place behind a marker (DST/.sparkckpt-cp-incomplete)
written first and removed last, the checkpoint files last of all; a killed cp leaves DST
with the marker ('check' reports incomplete-copy), and the next cp to DST replaces it.

Checksum sidecars (.NAME.crc, Hadoop's LocalFileSystem): verified when read; dropped when
copying to HDFS (it checksums blocks itself); created when copying from HDFS to the local
disk for every file Spark writes through LocalFileSystem (all but write-ahead logs);
recomputed for rewritten files.

Symbolic links in SRC: one leading to a file or directory inside SRC is copied as what it
leads to (the copy holds the file at the link's name: HDFS has no links); one leading
outside SRC refuses the copy unless --follow-symlinks (then what it leads to is copied);
broken links and loops are not copied. Every link is listed with what was done.

Exit status: 0 copied (warnings are printed), 2 nothing copied (usage, unreadable or
undecodable source, unreachable namenode, DST exists, DST locked by another run).`

func newCpCmd(g *globalOptions) *cobra.Command {
	o := &cpOptions{}
	cmd := &cobra.Command{
		Use:   "cp SRC DST [--map FROM=TO]...",
		Short: "Copy a checkpoint between the local disk, HDFS and S3, relocating its URIs on the way",
		Long:  cpLong,
		Example: `  sparkckpt cp /backup/ckpt hdfs://emr-master:8020/user/hadoop/ckpt --map hdfs://ip-172-31-45-105.ec2.internal:8020=hdfs://emr-master:8020
  sparkckpt cp hdfs://prod/user/spark/ckpt /restore/ckpt --map hdfs://prod=file:///restore --parallel 8
  sparkckpt cp hdfs://old-nn:8020/ckpt hdfs://new-nn:8020/ckpt --map hdfs://old-nn:8020=hdfs://new-nn:8020`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCp(cmd, g, o, args[0], args[1])
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.rw.maps, "map", nil, "FROM=TO URI prefix mapping, as for rewrite (repeatable; the longest FROM wins)")
	f.StringVar(&o.rw.from, "from", "", "URI prefix to replace (with --to; same as --map FROM=TO)")
	f.StringVar(&o.rw.to, "to", "", "replacement for --from")
	f.BoolVar(&o.skipUndecodable, "skip-undecodable", false, "copy checkpoint and log files that do not decode unchanged instead of stopping")
	f.IntVar(&o.parallel, "parallel", 4, "files copied at once")
	f.BoolVar(&o.followSymlinks, "follow-symlinks", false, "copy what symbolic links leading outside SRC point to (default: refuse)")
	f.BoolVar(&o.verify, "verify", false, "read every copied file back and compare (rewritten files always are)")
	f.BoolVar(&o.noProgress, "no-progress", false, "no progress bar (it is shown only on a terminal anyway)")
	f.DurationVar(&o.timeout, "timeout", 0, "HDFS: time to reach each namenode (default ipc.client.connect.timeout, else 20s); S3: time to reach the endpoint (default 5s)")
	g.addLimitFlags(cmd)
	return cmd
}

// cpResult is cp --json.
type cpResult struct {
	Source        string            `json:"source"`
	Destination   string            `json:"destination"`
	Mappings      []rewrite.Mapping `json:"mappings"`
	CheckpointDir string            `json:"checkpointDir,omitempty"` // stored in the copy's newest readable checkpoint
	Warnings      []string          `json:"warnings"`
	*copytree.Report
}

func runCp(cmd *cobra.Command, g *globalOptions, o *cpOptions, srcArg, dstArg string) error {
	mp, err := o.rw.mapperIfAny(g.limits()) // nil: a plain copy
	if err != nil {
		return &exitErr{code: exitError, err: usageError{err}}
	}
	if o.parallel < 1 {
		return &exitErr{code: exitError, err: usageError{fmt.Errorf("--parallel must be at least 1")}}
	}
	ctx := cmdContext(cmd)
	st := newStores(ctx, g.getenv, o.timeout)
	defer st.Close()
	src, err := st.open(srcArg)
	if err != nil {
		return &exitErr{code: exitError, err: err}
	}
	dst, err := st.open(dstArg)
	if err != nil {
		return &exitErr{code: exitError, err: err}
	}
	copts := copytree.Options{Mapper: mp, SkipUndecodable: o.skipUndecodable, Parallel: o.parallel, Verify: o.verify, DestURI: dst.display, SourceURI: src.display, FollowSymlinks: o.followSymlinks}
	if h := crashHooks(); h != nil {
		copts.Step = h.Step
	}
	var bar *progressBar
	if w, ok := cmd.ErrOrStderr().(*os.File); ok && !o.noProgress && !g.json && isatty.IsTerminal(w.Fd()) {
		bar = &progressBar{w: w}
		copts.Progress = bar.update
	}
	rep, err := copytree.Copy(ctx, src.store, src.name, dst.store, dst.name, copts)
	bar.clear()
	if err != nil {
		if errors.Is(err, context.Canceled) {
			err = fmt.Errorf("interrupted: nothing was written at %s (the partial copy was removed)", dst.display)
		} else if errors.Is(err, copytree.ErrExists) {
			err = fmt.Errorf("%s exists: cp never overwrites (remove it, or copy to a new name)", dst.display)
		}
		return &exitErr{code: exitError, err: err}
	}
	res := cpResult{Source: src.display, Destination: dst.display, Mappings: []rewrite.Mapping{}, Warnings: []string{}, Report: rep}
	if mp != nil {
		res.Mappings = mp.Mappings()
	}
	res.CheckpointDir, res.Warnings = cpWarnings(dst, rep)
	if g.json {
		return writeJSON(cmd.OutOrStdout(), res)
	}
	renderCp(newPrinter(cmd), &res, o.parallel)
	return nil
}

// cpWarnings reads the copy back as inspect would and says what needs attention.
func cpWarnings(dst *location, rep *copytree.Report) (string, []string) {
	var warns []string
	for _, p := range rep.CRCMismatches {
		warns = append(warns, fmt.Sprintf("%s %s in the source (Hadoop's LocalFileSystem refuses to read it); copied as it is", p.File, p.Error))
	}
	for _, p := range rep.Undecodable {
		warns = append(warns, fmt.Sprintf("%s does not decode; copied unchanged: %s", p.File, p.Error))
	}
	if rep.TookOverLock != "" {
		warns = append(warns, fmt.Sprintf("took over the stale lock of %s, a cp or rewrite that is no longer running", rep.TookOverLock))
	}
	for _, r := range rep.Removed {
		warns = append(warns, fmt.Sprintf("removed %s, the partial copy of an interrupted cp to the same destination (%s)", dst.displayName(r.File), r.Error))
	}
	for _, l := range rep.Leftovers {
		warns = append(warns, fmt.Sprintf("%s is left over from a cp to the same destination whose process may still be running (another host, or recent); delete it once it is not", dst.displayName(l)))
	}
	for _, sk := range rep.Skipped {
		warns = append(warns, fmt.Sprintf("not copied: %s in the source is a sparkckpt temporary or lock file", sk))
	}
	for _, l := range rep.Replaced {
		warns = append(warns, fmt.Sprintf("%s was an incomplete copy left by an interrupted cp; it was removed and copied again", dst.displayName(l)))
	}
	fsys := store.FS(dst.store, dst.name)
	ents, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return "", warns
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	_, f, _ := dstream.Choose(dstream.Candidates(names), func(name string) (*dstream.File, error) {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		return dstream.Read(b, nil)
	})
	if f == nil || f.Checkpoint == nil {
		return "", warns
	}
	dir := f.Checkpoint.CheckpointDir
	if !sameURI(dir, dst.uri) {
		warns = append(warns, fmt.Sprintf("the copy's checkpointDir is %s, not %s: Spark restarted from the copy keeps reading and writing %s (relocate with --map %s=%s)", dir, dst.uri, dir, dir, dst.uri))
	}
	return dir, warns
}

// sameURI compares URIs as the rewrite does (file:/x and file:///x are one place).
func sameURI(a, b string) bool {
	norm := func(s string) string {
		s = strings.TrimRight(s, "/")
		if rest, ok := strings.CutPrefix(s, "file:///"); ok {
			return "file:/" + rest
		}
		return s
	}
	return norm(a) == norm(b)
}

func renderCp(p *printer, r *cpResult, parallel int) {
	secs := r.Duration.Seconds()
	rate := ""
	if secs > 0 {
		rate = fmt.Sprintf(", %s/s", humanBytes(int64(float64(r.BytesRead)/secs)))
	}
	p.printf("%s %s -> %s\n", p.good("copied"), r.Source, r.Destination)
	rows := [][]string{
		{"files", fmt.Sprintf("%d file(s) in %d dir(s), %s read, %s written in %s%s (%d in parallel)",
			len(r.Files), r.Dirs, humanBytes(r.BytesRead), humanBytes(r.BytesWritten), r.Duration.Round(time.Millisecond), rate, parallel)},
	}
	if len(r.Mappings) > 0 {
		var ms []string
		for _, m := range r.Mappings {
			ms = append(ms, m.From+" -> "+m.To)
		}
		rows = append(rows, []string{"rewritten", fmt.Sprintf("%d file(s), %d change(s) (%s)", r.Rewritten, r.Edits, strings.Join(ms, ", "))})
	}
	var sc []string
	for _, k := range []string{"dropped", "created", "copied", "recomputed"} {
		if n := r.Sidecars[k]; n > 0 {
			sc = append(sc, fmt.Sprintf("%d %s", n, k))
		}
	}
	if len(sc) > 0 {
		rows = append(rows, []string{".crc", strings.Join(sc, ", ")})
	}
	if r.InPlace {
		rows = append(rows, []string{"verified", fmt.Sprintf("%d file(s) read back, the tree listed and compared, then the incomplete-copy marker removed", r.Verified)})
	} else {
		rows = append(rows, []string{"verified", fmt.Sprintf("%d file(s) read back, the tree listed and compared, then renamed into place", r.Verified)})
	}
	if r.CheckpointDir != "" {
		rows = append(rows, []string{"checkpointDir", r.CheckpointDir})
	}
	p.table("  ", rows)
	for _, f := range r.Files {
		if len(f.Edits) > 0 {
			p.printf("  %s %s\n", p.bold(f.Path), p.dim(fmt.Sprintf("(%s, %d change(s), %d -> %d bytes)", f.Kind, len(f.Edits), f.Size, f.NewSize)))
		}
	}
	for _, l := range r.Symlinks {
		done := "not copied"
		switch l.Copied {
		case "file":
			done = "copied as the file it leads to"
		case "dir":
			done = "copied as the directory it leads to"
		}
		label := p.dim("symlink")
		if l.Kind != store.LinkInside {
			label = p.warn("symlink")
		}
		p.printf("  %s %s: %s\n", label, l.Link.String(), done)
	}
	for _, w := range r.Warnings {
		p.printf("%s %s\n", p.warn("warning:"), w)
	}
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// progressBar draws copy progress on a terminal, at most ten times a second.
type progressBar struct {
	w     io.Writer
	mu    sync.Mutex
	last  time.Time
	start time.Time
	drawn bool
}

func (b *progressBar) update(p copytree.Progress) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	if b.start.IsZero() {
		b.start = now
	}
	if now.Sub(b.last) < 100*time.Millisecond && p.FilesDone < p.Files {
		return
	}
	b.last = now
	frac := 1.0
	if p.Bytes > 0 {
		frac = min(float64(p.BytesDone)/float64(p.Bytes), 1)
	}
	const width = 24
	full := int(frac * width)
	bar := strings.Repeat("=", full)
	if full < width {
		bar += ">" + strings.Repeat(" ", width-full-1)
	}
	rate := ""
	if el := now.Sub(b.start).Seconds(); el > 0.2 {
		bps := float64(p.BytesDone) / el
		rate = " " + humanBytes(int64(bps)) + "/s"
		if bps > 0 && p.BytesDone < p.Bytes {
			rate += " ETA " + (time.Duration(float64(p.Bytes-p.BytesDone)/bps) * time.Second).Round(time.Second).String()
		}
	}
	cur := escapeText(p.Current) // a file name (escape.go)
	if len(cur) > 30 {
		cur = "..." + cur[len(cur)-27:]
	}
	fmt.Fprintf(b.w, "\r\x1b[K%3.0f%% [%s] %d/%d files %s/%s%s %s", frac*100, bar, p.FilesDone, p.Files, humanBytes(p.BytesDone), humanBytes(p.Bytes), rate, cur)
	b.drawn = true
}

func (b *progressBar) clear() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drawn {
		fmt.Fprint(b.w, "\r\x1b[K")
	}
}
