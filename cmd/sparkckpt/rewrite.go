package main

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/rewrite"
	"github.com/sparkckpt/sparkckpt/store"
	"github.com/spf13/cobra"
)

type rewriteOptions struct {
	from, to        string
	maps            []string
	apply           bool
	backupDir       string
	skipUndecodable bool
	force           bool
	followSymlinks  bool
	undo, resume    string
	sinks           []string // structured.go
}

const rewriteLong = `rewrite relocates a Spark Streaming checkpoint: it replaces URI prefixes everywhere the
checkpoint stores them, so that it restores on another cluster with nothing else touched.

Where: every Java string in checkpoint-* files and their .bk (checkpointDir, conf values,
jars, RDD checkpoint paths, input files), strings inside pickled PySpark functions (the
pickle opcode and length, FRAME lengths, the length Spark writes before the pickle and the
block-data records around it), and the events of receivedBlockMetadata/log-* write-ahead
logs (WAL segment paths, nested byte[][] streams and record lengths). Unmatched bytes stay
byte-identical; files are re-encoded with the same codec and block size; Hadoop .crc
sidecars are regenerated. Receiver data logs and RDD part files are application data and
are not touched.

Matching: FROM and TO are URI prefixes. A match ends on a path boundary: hdfs://nn:8020
matches hdfs://nn:8020/x and hdfs://nn:8020 but not hdfs://nn:80200. With several
--map FROM=TO the longest FROM wins. file:/x and file:///x are the same place.
Default ports are NOT assumed: hdfs://nn does not match hdfs://nn:8020; give the port
exactly as the checkpoint stores it ('sparkckpt uris' shows it). A FROM with a path moves
just that directory (e.g. the checkpoint directory itself).

Safety: the default is a dry run that prints every change. --apply first writes a journal
and a backup of every original (--backup-dir, default beside the checkpoint directory),
then replaces each file atomically after verifying its new bytes by decoding them.
'sparkckpt rewrite --undo JOURNAL' restores the exact original bytes; an interrupted
rewrite (crash, kill -9) is completed with --resume JOURNAL or rolled back with --undo.
Running the same rewrite twice changes nothing the second time.

Where it lives: PATH, --backup-dir and the journal may be local paths, hdfs:// URIs
(HADOOP_CONF_DIR, HADOOP_USER_NAME and Kerberos as for every command) or S3 URIs (s3://,
s3a://, s3n://; the AWS configuration as for every command). On HDFS and S3 the backups
are verified copies (no hard links); .crc sidecars already present are kept correct, none
are created. S3 has no rename: each file is replaced by one PUT carrying If-Match on the
ETag read when the plan was made, so a file that Spark (or anyone) changed meanwhile is
refused, not overwritten.

Structured Streaming checkpoints (offsets/): the "path" of every file source log entry
(sources/<n>/, compact files included, so compaction stays consistent) and the state
schema paths of transformWithState operator metadata (state/<op>/_metadata/v2); a file
sink's output directory (PATH, or --sink with the checkpoint): the "path" of every
_spark_metadata entry. Only those JSON strings change; every other byte stays.

Refused: a directory that is not a checkpoint, files that do not decode (listed; rewrite
the rest with --skip-undecodable), a mapped prefix left in bytes sparkckpt cannot re-encode,
and mappings that would leave the checkpoint half rewritten (--force overrides the last two).

Symbolic links: every link in PATH is listed. Nothing outside PATH is ever written, and no
write goes through a link: a file reached through a link inside PATH (a linked checkpoint
file, .crc sidecar or receivedBlockMetadata/) is rewritten only with --follow-symlinks, at
the link's target, and the link stays a link (--undo restores the target). A link leading
outside PATH where files to rewrite may be is not followed (refused; --follow-symlinks reads
it, and the rewrite is still refused if anything there would change). Broken links and
loops are reported and left alone.`

func newRewriteCmd(g *globalOptions) *cobra.Command {
	o := &rewriteOptions{}
	cmd := &cobra.Command{
		Use:   "rewrite PATH (--from URI --to URI | --map FROM=TO...) [--apply]",
		Short: "Relocate a checkpoint to another cluster: rewrite URIs safely (dry run unless --apply)",
		Long:  rewriteLong,
		Example: `  sparkckpt rewrite /restore/ckpt --from hdfs://ip-172-31-45-105.ec2.internal:8020 --to hdfs://emr-master:8020
  sparkckpt rewrite /restore/ckpt --from hdfs://ip-172-31-45-105.ec2.internal:8020 --to hdfs://emr-master:8020 --apply
  sparkckpt rewrite /restore/ckpt --map hdfs://nn:8020/user/hadoop/checkpointtest2=hdfs://nn2:8020/user/hadoop/sparkstreamtest --apply
  sparkckpt rewrite --undo /restore/ckpt.sparkckpt-backup-20261121T170000.123456789Z-9f86d081/journal.json
  sparkckpt rewrite hdfs://emr-master:8020/user/hadoop/ckpt --from hdfs://ip-172-31-45-105.ec2.internal:8020 --to hdfs://emr-master:8020 --apply
  sparkckpt rewrite s3a://backups/ckpt --map s3://backups=s3a://backups --apply`,
		Args: func(cmd *cobra.Command, args []string) error {
			if o.undo != "" || o.resume != "" {
				if len(args) != 0 {
					return usageError{fmt.Errorf("--undo and --resume take the journal, not a PATH")}
				}
				return nil
			}
			return exactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			hooks := crashHooks()
			if hooks == nil {
				hooks = &rewrite.Hooks{}
			}
			// A notice quotes a lock file anyone may write: escaped.
			hooks.Notice = func(msg string) { fmt.Fprintf(&safeWriter{w: cmd.ErrOrStderr()}, "sparkckpt: %s\n", msg) }
			st := newStores(cmd.Context(), g.getenv, 0)
			defer st.Close()
			switch {
			case o.undo != "" && o.resume != "":
				return &exitErr{code: exitError, err: usageError{fmt.Errorf("give --undo or --resume, not both")}}
			case o.undo != "":
				j, err := st.place(o.undo)
				if err == nil {
					err = rewrite.UndoAt(j, st.place, hooks)
				}
				if err != nil {
					return &exitErr{code: exitError, err: err}
				}
				newPrinter(cmd).printf("restored the original files of %s\n", o.undo)
				return nil
			case o.resume != "":
				j, err := st.place(o.resume)
				if err == nil {
					err = rewrite.ResumeAt(j, st.place, hooks)
				}
				if err != nil {
					return &exitErr{code: exitError, err: err}
				}
				newPrinter(cmd).printf("completed the rewrite of %s\n", o.resume)
				return nil
			}
			mp, err := o.mapper(g.limits())
			if err != nil {
				return &exitErr{code: exitError, err: usageError{err}}
			}
			plan, refusal, err := o.plan(st, args[0], mp)
			if err != nil {
				return err
			}
			if len(o.sinks) > 0 { // file sink logs with the checkpoint (rewritesinks.go)
				return runRewriteWithSinks(cmd, g, o, st, plan, refusal, mp, hooks)
			}
			res := rewriteResult{Plan: plan, Applied: false}
			if o.apply && refusal == nil && len(plan.Files) > 0 {
				backup, err := o.backup(st, plan.Dir(), "")
				if err != nil {
					return &exitErr{code: exitError, err: err}
				}
				jpath, err := rewrite.ApplyAt(plan, mp, backup, hooks)
				if err != nil {
					return &exitErr{code: exitError, err: applyFailed(err, jpath)}
				}
				res.Applied, res.Journal = true, jpath
			}
			if g.json {
				if err := writeJSON(cmd.OutOrStdout(), res); err != nil {
					return err
				}
			} else {
				renderRewrite(newPrinter(cmd), &res, o.apply, refusal)
			}
			if refusal != nil {
				return &exitErr{code: exitError, err: refusal}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.from, "from", "", "URI prefix to replace, e.g. hdfs://old-namenode:8020")
	f.StringVar(&o.to, "to", "", "replacement for --from, e.g. hdfs://new-namenode:8020")
	f.StringArrayVar(&o.maps, "map", nil, "FROM=TO prefix mapping (repeatable; the longest FROM wins)")
	f.BoolVar(&o.apply, "apply", false, "write the changes (default: dry run)")
	f.StringVar(&o.backupDir, "backup-dir", "", "where to keep the journal and the originals (default: <PATH>.sparkckpt-backup-<time>-<random>, beside PATH)")
	f.BoolVar(&o.skipUndecodable, "skip-undecodable", false, "rewrite the files that decode when some do not")
	f.BoolVar(&o.followSymlinks, "follow-symlinks", false, "rewrite files reached through symbolic links: their targets inside PATH are rewritten, the links stay links;\nlinks leading outside PATH are read (nothing outside PATH is ever written)")
	f.BoolVar(&o.force, "force", false, "rewrite even if a mapped prefix remains in bytes sparkckpt cannot re-encode, or the mappings leave the checkpoint half rewritten")
	f.StringVar(&o.undo, "undo", "", "restore the original bytes of every file of this journal")
	f.StringVar(&o.resume, "resume", "", "complete the interrupted rewrite of this journal")
	f.StringArrayVar(&o.sinks, "sink", nil, "Structured Streaming: also rewrite this file sink output directory's _spark_metadata log\n(repeatable; each gets its own journal)")
	g.addLimitFlags(cmd)
	return cmd
}

// plan plans the rewrite of the directory root (a local path or an
// hdfs:// URI) and tells whether the options refuse it; an interrupted
// earlier rewrite of root is an error.
func (o *rewriteOptions) plan(st *stores, root string, mp *rewrite.Mapper) (*rewrite.Plan, error, error) {
	dir, err := st.place(root)
	if err != nil {
		return nil, nil, &exitErr{code: exitError, err: err}
	}
	if j, ok := rewrite.InProgressAt(dir); ok {
		return nil, nil, &exitErr{code: exitError, err: fmt.Errorf("%s: an earlier rewrite was interrupted: run 'sparkckpt rewrite --resume %s' to complete it or '--undo %s' to roll it back", root, j, j)}
	}
	ro := rewrite.Options{SkipUndecodable: o.skipUndecodable, Force: o.force, FollowSymlinks: o.followSymlinks}
	p, err := rewrite.NewPlanAt(dir, mp, ro)
	if err != nil {
		return nil, nil, &exitErr{code: exitError, err: err}
	}
	p.Root = root // as the user named it
	return p, p.Refusal(ro), nil
}

// backup is where Apply keeps the journal and originals of dir: under
// --backup-dir (in its subdirectory sub, if any), else beside dir on dir's store.
func (o *rewriteOptions) backup(st *stores, dir rewrite.Place, sub string) (rewrite.Place, error) {
	if o.backupDir == "" {
		b, err := rewrite.DefaultBackup(dir, time.Now())
		if err != nil {
			return b, &exitErr{code: exitError, err: usageError{err}}
		}
		return b, nil
	}
	b, err := st.place(o.backupDir)
	if err != nil || sub == "" {
		return b, err
	}
	return b.Join(sub), nil
}

// applyFailed explains a failed apply: once the journal exists, nothing
// is lost and the rewrite can be completed or rolled back.
func applyFailed(err error, journal string) error {
	if journal == "" {
		return err
	}
	return fmt.Errorf("%w\nnothing is lost: complete with 'sparkckpt rewrite --resume %s' or roll back with 'sparkckpt rewrite --undo %s'", err, journal, journal)
}

// mapperIfAny is mapper for a command where the mapping is optional (cp,
// restore): nil, a plain copy, when no --from, --to or --map was given.
func (o *rewriteOptions) mapperIfAny(lim decode.Limits) (*rewrite.Mapper, error) {
	if len(o.maps) == 0 && o.from == "" && o.to == "" {
		return nil, nil
	}
	return o.mapper(lim)
}

// mapper builds the mapping of --from/--to and --map; files rewritten with
// it are decoded within lim (--max-decompressed).
func (o *rewriteOptions) mapper(lim decode.Limits) (*rewrite.Mapper, error) {
	var ms []rewrite.Mapping
	if o.from != "" || o.to != "" {
		if o.from == "" || o.to == "" {
			return nil, fmt.Errorf("--from and --to go together")
		}
		ms = append(ms, rewrite.Mapping{From: o.from, To: o.to})
	}
	for _, m := range o.maps {
		pm, err := rewrite.ParseMapping(m)
		if err != nil {
			return nil, err
		}
		ms = append(ms, pm)
	}
	mp, err := rewrite.NewMapper(ms)
	if err != nil {
		return nil, err
	}
	mp.SetLimits(lim)
	return mp, nil
}

// rewriteResult is rewrite --json.
type rewriteResult struct {
	*rewrite.Plan
	Applied bool   `json:"applied"`
	Journal string `json:"journal,omitempty"`
}

func renderRewrite(p *printer, r *rewriteResult, apply bool, refusal error) {
	renderSymlinks(p, r.Symlinks)
	for _, f := range r.Files {
		name := f.Path
		if f.Link != "" {
			name = f.Link + " -> " + f.Path
		}
		if f.Kind == rewrite.KindCRC {
			p.printf("%s %s\n", p.bold(name), p.dim("(.crc sidecar of "+f.Of+", regenerated)"))
			continue
		}
		extra := ""
		if f.Codec != "" {
			extra = " " + f.Codec
		}
		p.printf("%s %s\n", p.bold(name), p.dim(fmt.Sprintf("(%s%s, %d -> %d bytes, %d change(s))", f.Kind, extra, f.OldSize, f.NewSize, len(f.Edits))))
		for _, e := range f.Edits {
			p.printf("  %s\n    %s %s\n    %s %s\n", p.dim(e.Location), p.bad("-"), e.Before, p.good("+"), e.After)
		}
	}
	for _, u := range r.Undecodable {
		p.printf("%s %s\n", p.bad("undecodable"), u.File+": "+u.Error)
	}
	for _, u := range r.Unhandled {
		p.printf("%s %s\n", p.warn("unhandled"), u.File+": "+u.Error)
	}
	for _, u := range r.Inconsistent {
		p.printf("%s %s\n", p.warn("inconsistent"), u.File+": "+u.Error)
	}
	for _, u := range r.NotFollowed {
		p.printf("%s %s\n", p.bad("not followed"), u.Error)
	}
	for _, u := range r.Outside {
		p.printf("%s %s\n", p.bad("outside"), u.Error)
	}
	data := 0
	for _, f := range r.Files {
		if f.Kind != rewrite.KindCRC {
			data++
		}
	}
	summary := fmt.Sprintf("%d change(s) in %d file(s) (+%d .crc sidecar(s)), %d file(s) unchanged", r.Edits, data, len(r.Files)-data, r.Unchanged)
	switch {
	case refusal != nil:
		p.printf("\n%s; %s\n", summary, p.bad("refused, nothing written"))
	case len(r.Files) == 0:
		p.printf("\nnothing to rewrite: no string matches the mappings (%d file(s) read)\n", r.Unchanged)
	case r.Applied:
		p.printf("\n%s; %s\njournal: %s (undo with 'sparkckpt rewrite --undo %s')\n", summary, p.good("applied"), r.Journal, r.Journal)
	default:
		p.printf("\n%s; dry run, nothing written (add --apply)\n", summary)
	}
}

// renderSymlinks prints one line per symbolic link met (rewrite, cp).
func renderSymlinks(p *printer, links []store.Link) {
	for _, l := range links {
		label := p.dim("symlink")
		if l.Kind != store.LinkInside {
			label = p.warn("symlink")
		}
		p.printf("%s %s\n", label, l.String())
	}
	if len(links) > 0 {
		p.printf("\n")
	}
}

// crashHooks lets the crash test kill the process with SIGKILL right
// after a given durable step: SPARKCKPT_TEST_KILL_AT_STEP=N, and make
// every backup a copy (as on another file system) with
// SPARKCKPT_TEST_BACKUP_COPY=1. It exists only so tests can prove that an
// interrupted rewrite loses nothing.
func crashHooks() *rewrite.Hooks {
	n, err := strconv.Atoi(os.Getenv("SPARKCKPT_TEST_KILL_AT_STEP"))
	copyBackups := os.Getenv("SPARKCKPT_TEST_BACKUP_COPY") == "1"
	if (err != nil || n <= 0) && !copyBackups {
		return nil
	}
	h := &rewrite.Hooks{CopyBackups: copyBackups}
	if err != nil || n <= 0 {
		return h
	}
	count := 0
	h.Step = func(string) {
		count++
		if count == n {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	}
	return h
}
