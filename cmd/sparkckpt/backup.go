package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"runtime/debug"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/sparkckpt/sparkckpt/rewrite/backup"
	"github.com/sparkckpt/sparkckpt/rewrite/copytree"
	"github.com/sparkckpt/sparkckpt/store/s3"
	"github.com/spf13/cobra"
)

const backupLong = `backup copies a live checkpoint directory (DStream or Structured Streaming; Spark may be
writing it) into a new folder DEST/<UTC yyyymmddThhmmssZ>/: a plain tree any tool can copy
back, plus the manifest _SPARKCKPT_BACKUP.json, written last.

By default it copies a restorable cut: the files a restart needs, found by running 'check' on
SRC (DStream: the checkpoint file Spark picks and its .bk, the RDD checkpoint directories and
input files under SRC, the driver WAL and receiver logs; Structured: metadata, offsets and
commits, source and sink logs, every state store's snapshot and delta chain or RocksDB zip,
SST files and changelogs for the batch a restart runs). --all copies every file. Data is
copied before the metadata that names it; when Spark deletes a file of the cut meanwhile,
or the copy does not check clean, a new cut is taken (up to 3 times, each retry reported).
The copy is checked where it lies; only then is the manifest written (created exclusively),
with every file's size and CRC32C. A folder without a manifest is an incomplete backup.

Incremental: a file with the same path, size and CRC32C as in the newest complete backup is
hard-linked from it on a local DEST, copied server side on S3, instead of written again.
--bwlimit RATE bounds the bytes per second copied and checksummed, all files together.

SRC and DEST are local paths, file: or hdfs:// URIs. One backup or prune at a time per DEST
(the lock DEST/.sparkckpt-backup.sparkckpt-lock).

Exit status: 0 backed up, 1 SRC cannot be backed up restorably (the findings say why),
2 usage or I/O error, DEST locked.`

type backupOptions struct {
	bwlimit  byteSize
	all      bool
	dryRun   bool
	parallel int
	timeout  time.Duration
}

func newBackupCmd(g *globalOptions) *cobra.Command {
	o := &backupOptions{}
	cmd := &cobra.Command{
		Use:   "backup SRC DEST",
		Short: "Back up a live checkpoint into DEST/<time>/, verified and incremental",
		Long:  backupLong,
		Example: `  sparkckpt backup hdfs://nn:8020/user/spark/ckpt /backups/ckpt
  sparkckpt backup /data/ckpt hdfs://nn:8020/backups/ckpt --all --parallel 8`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error { return runBackup(cmd, g, o, args[0], args[1]) },
	}
	f := cmd.Flags()
	f.BoolVar(&o.all, "all", false, "copy every file, not only the restorable cut")
	f.BoolVar(&o.dryRun, "dry-run", false, "say what would be copied and linked; write nothing")
	f.IntVar(&o.parallel, "parallel", 4, "files copied at once")
	f.Var(&o.bwlimit, "bwlimit", "at most this many bytes per second copied and checksummed, all files together (e.g. 50MiB)")
	f.DurationVar(&o.timeout, "timeout", 0, "HDFS: time to reach each namenode")
	g.addLimitFlags(cmd)
	return cmd
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

func runBackup(cmd *cobra.Command, g *globalOptions, o *backupOptions, srcArg, dstArg string) error {
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
	bo := backup.Options{SourceURI: src.display, DestURI: dst.display, All: o.all, DryRun: o.dryRun,
		Parallel: o.parallel, Version: version(), Limits: g.limits(), BWLimit: int64(o.bwlimit)}
	if h := crashHooks(); h != nil {
		bo.Step = h.Step
	}
	if d, err := time.ParseDuration(os.Getenv("SPARKCKPT_TEST_STEP_DELAY")); err == nil && bo.Step == nil {
		bo.Step = func(string) { time.Sleep(d) } // tests: a slow copy that Spark overtakes
	}
	var bar *progressBar
	if w, ok := cmd.ErrOrStderr().(*os.File); ok && !g.json && isatty.IsTerminal(w.Fd()) {
		bar = &progressBar{w: w}
		bo.Progress = bar.update
	}
	res, err := backup.Backup(ctx, src.store, src.name, dst.store, dst.name, bo)
	bar.clear()
	if err != nil {
		var nr *backup.NotRestorableError
		if errors.As(err, &nr) {
			if g.json {
				writeJSON(cmd.OutOrStdout(), map[string]any{"ok": false, "error": err.Error(), "findings": nr.Findings, "retries": res.Retries})
			}
			return &exitErr{code: exitFindings, err: err}
		}
		if errors.Is(err, context.Canceled) {
			err = fmt.Errorf("interrupted: the partial backup was removed")
		}
		return &exitErr{code: exitError, err: err}
	}
	if g.json {
		return writeJSON(cmd.OutOrStdout(), res)
	}
	p := newPrinter(cmd)
	m := res.Manifest
	verb := p.good("backed up")
	if res.DryRun {
		verb = p.bold("would back up")
	}
	what := "restorable cut"
	if m.All {
		what = "every file (--all)"
	}
	p.printf("%s %s -> %s\n", verb, escapeText(src.display), escapeText(dst.displayName(res.Dir)))
	rows := [][]string{
		{"kind", m.Kind},
		{"restores to", m.RestoresTo.String()},
		{"files", fmt.Sprintf("%d (%s), %s; %s transferred, %d file(s) linked from %s", len(m.Files), what, humanBytes(m.Bytes), humanBytes(m.TransferredBytes), m.LinkedFiles, orNone(m.Previous))},
	}
	if m.CheckpointDir != "" {
		rows = append(rows, []string{"checkpointDir", escapeText(m.CheckpointDir)})
	}
	if m.QueryID != "" {
		rows = append(rows, []string{"query id", escapeText(m.QueryID)})
	}
	if !res.DryRun {
		ok := "ok"
		if n := m.Verification.Errors; n > 0 {
			ok = fmt.Sprintf("%d error(s), only about the Spark release that restarts it (%s)", n, m.Verification.Findings[0].Code)
		}
		rows = append(rows, []string{"verified", fmt.Sprintf("check of the copy: %s, %d warning(s); manifest %s written in %s", ok, m.Verification.Warnings, backup.ManifestName, m.Duration.Round(time.Millisecond))})
	}
	p.table("  ", rows)
	for _, r := range res.Retries {
		p.printf("%s %s\n", p.warn("retried:"), r)
	}
	for _, n := range res.Notes {
		p.printf("%s %s\n", p.warn("note:"), n)
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "none (first backup)"
	}
	return s
}

// backupsEntry is one element of backups --json.
type backupsEntry struct {
	backup.Info
	Source           string               `json:"source,omitempty"`
	Kind             string               `json:"kind,omitempty"`
	CheckpointDir    string               `json:"checkpointDir,omitempty"`
	QueryID          string               `json:"queryId,omitempty"`
	Files            int                  `json:"files"`
	Bytes            int64                `json:"bytes"`
	TransferredBytes int64                `json:"transferredBytes"`
	RestoresTo       *backup.RestorePoint `json:"restoresTo"`
	Verification     *backup.Verification `json:"verification,omitempty"`
}

func newBackupsCmd(g *globalOptions) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "backups DEST",
		Short: "List the backups under DEST, newest first, complete or not",
		Long: `backups lists every backup folder under DEST, newest first: its time, source, app or query
id, the point it restores to, files, bytes, bytes actually transferred (the rest was linked
from the previous backup), and whether it is complete (has a valid manifest) and verified.
--json prints an array of objects with id, time, complete, files, bytes, transferredBytes
and restoresTo. Exit 0, 2 if DEST cannot be read.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st := newStores(cmdContext(cmd), g.getenv, timeout)
			defer st.Close()
			dst, err := st.open(args[0])
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			list, err := backup.List(dst.store, dst.name)
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			out := make([]backupsEntry, 0, len(list))
			for _, in := range list {
				e := backupsEntry{Info: in}
				if m := in.Manifest; m != nil {
					e.Source, e.Kind, e.CheckpointDir, e.QueryID = m.Source, m.Kind, m.CheckpointDir, m.QueryID
					e.Files, e.Bytes, e.TransferredBytes = len(m.Files), m.Bytes, m.TransferredBytes
					rp, v := m.RestoresTo, m.Verification
					e.RestoresTo, e.Verification = &rp, &v
				}
				out = append(out, e)
			}
			if g.json {
				return writeJSON(cmd.OutOrStdout(), out)
			}
			p := newPrinter(cmd)
			if len(out) == 0 {
				p.printf("no backups under %s\n", escapeText(dst.display))
				return nil
			}
			rows := [][]string{{"ID", "STATE", "FILES", "BYTES", "SENT", "RESTORES TO", "SOURCE"}}
			for _, e := range out {
				if !e.Complete {
					rows = append(rows, []string{e.ID, p.bad("incomplete"), "-", "-", "-", "-", escapeText(e.Problem)})
					continue
				}
				state := p.good("complete")
				if e.Verification != nil {
					state += fmt.Sprintf(" (checked, %d warning(s))", e.Verification.Warnings)
				}
				id := e.QueryID
				if id == "" {
					id = e.CheckpointDir
				}
				rows = append(rows, []string{e.ID, state, fmt.Sprint(e.Files), humanBytes(e.Bytes), humanBytes(e.TransferredBytes),
					e.RestoresTo.String(), escapeText(e.Source) + " " + p.dim(escapeText(id))})
			}
			p.table("", rows)
			return nil
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "HDFS: time to reach each namenode")
	return cmd
}

type restoreOptions struct {
	rw       rewriteOptions
	dryRun   bool
	parallel int
	timeout  time.Duration
}

func newRestoreCmd(g *globalOptions) *cobra.Command {
	o := &restoreOptions{}
	cmd := &cobra.Command{
		Use:   "restore DEST[/ID] TARGET [--map FROM=TO]...",
		Short: "Restore the newest complete backup (or ID) to TARGET, relocated and checked",
		Long: `restore picks the newest complete backup under DEST (incomplete or invalid ones are skipped
and named, never picked), or the backup DEST/ID, verifies every file against its manifest
(size and CRC32C), copies it to TARGET with the cp engine (URIs rewritten with --map, a
temporary tree renamed into place; TARGET must not exist), then runs check --expect-fs with
TARGET's file system on the result.

Exit status: 0 restored and Spark restarts cleanly there, 1 restored but the check found
errors (or, with --dry-run, nothing done), 2 usage or I/O error, no complete backup, a backup
that differs from its manifest, TARGET exists.`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error { return runRestore(cmd, g, o, args[0], args[1]) },
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.rw.maps, "map", nil, "FROM=TO URI prefix mapping, as for rewrite (repeatable)")
	f.StringVar(&o.rw.from, "from", "", "URI prefix to replace (with --to)")
	f.StringVar(&o.rw.to, "to", "", "replacement for --from")
	f.BoolVar(&o.dryRun, "dry-run", false, "pick and verify the backup, say what would be done; write nothing")
	f.IntVar(&o.parallel, "parallel", 4, "files copied at once")
	f.DurationVar(&o.timeout, "timeout", 0, "HDFS: time to reach each namenode")
	g.addLimitFlags(cmd)
	return cmd
}

// fsOf is the --expect-fs value of a location: its scheme and authority.
func fsOf(l *location) string {
	if strings.HasPrefix(l.uri, "file:") {
		return "file:///"
	}
	if i := strings.Index(l.uri, "://"); i > 0 {
		rest := l.uri[i+3:]
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			rest = rest[:j]
		}
		return l.uri[:i+3] + rest
	}
	return l.uri
}

func runRestore(cmd *cobra.Command, g *globalOptions, o *restoreOptions, srcArg, dstArg string) error {
	mp, err := o.rw.mapperIfAny(g.limits()) // nil: restored as it was backed up
	if err != nil {
		return &exitErr{code: exitError, err: usageError{err}}
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
	destDir, id := src.name, ""
	if base := path.Base(src.name); backup.IsID(base) {
		destDir, id = path.Dir(src.name), base
	}
	ro := backup.RestoreOptions{ID: id, Mapper: mp, ExpectFS: []string{fsOf(dst)}, TargetURI: dst.display, DestURI: src.display,
		Parallel: o.parallel, DryRun: o.dryRun, Limits: g.limits()}
	if h := crashHooks(); h != nil {
		ro.Step = h.Step
	}
	var bar *progressBar
	if w, ok := cmd.ErrOrStderr().(*os.File); ok && !g.json && isatty.IsTerminal(w.Fd()) {
		bar = &progressBar{w: w}
		ro.Progress = func(p copytree.Progress) { bar.update(p) }
	}
	res, err := backup.Restore(ctx, src.store, destDir, dst.store, dst.name, ro)
	bar.clear()
	if err != nil {
		if errors.Is(err, copytree.ErrExists) {
			err = fmt.Errorf("%s exists: restore never overwrites (remove it, or restore to a new name)", dst.display)
		}
		return &exitErr{code: exitError, err: err}
	}
	if g.json {
		if err := writeJSON(cmd.OutOrStdout(), res); err != nil {
			return err
		}
	} else {
		p := newPrinter(cmd)
		for _, s := range res.Skipped {
			p.printf("%s %s: %s\n", p.warn("skipped"), s.ID, escapeText(s.Problem))
		}
		m := res.Manifest
		verb := p.good("restored")
		if res.DryRun {
			verb = p.bold("would restore")
		}
		p.printf("%s backup %s (%s, %d file(s), %s, verified against its manifest) -> %s\n", verb, res.Backup,
			m.RestoresTo.String(), len(m.Files), humanBytes(m.Bytes), escapeText(dst.display))
		if mp != nil {
			for _, mm := range mp.Mappings() {
				p.printf("  map %s -> %s\n", escapeText(mm.From), escapeText(mm.To))
			}
		}
		if res.Copy != nil {
			p.printf("  rewritten %d file(s), %d change(s)\n", res.Copy.Rewritten, res.Copy.Edits)
		}
		if res.Check != nil {
			if res.Check.OK {
				p.printf("  %s check --expect-fs %s: ok (%d warning(s))\n", p.good("checked"), fsOf(dst), res.Check.Warnings)
			} else {
				p.printf("  %s check --expect-fs %s: %d error(s): Spark would not restart cleanly there\n", p.bad("checked"), fsOf(dst), res.Check.Errors)
				renderFindings(p, res.Check.Findings)
			}
		}
	}
	if res.Check != nil && !res.Check.OK {
		return findings()
	}
	return nil
}

func newPruneCmd(g *globalOptions) *cobra.Command {
	var p backup.Policy
	var dryRun bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "prune DEST --keep-last N --keep-hourly N --keep-daily N --keep-within DURATION [--dry-run]",
		Short: "Remove backups under DEST that a restic-style retention policy does not keep",
		Long: `prune keeps every backup that one of the rules keeps (--keep-last N: the newest N;
--keep-hourly N / --keep-daily N: the newest of each of the last N hours / days that have
backups; --keep-within D: every backup within D of the newest), always the newest complete
backup, and incomplete backups newer than it (they may be running). Everything else is
removed: a backup's manifest first, then its files, so a half-removed backup is never taken
for complete. Incomplete backups older than the newest complete one are removed. At least
one --keep rule is required. Holds DEST's lock.

Exit status: 0, 2 usage or I/O error, DEST locked.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if p.Empty() {
				return &exitErr{code: exitError, err: usageError{fmt.Errorf("prune needs at least one of --keep-last, --keep-hourly, --keep-daily, --keep-within")}}
			}
			if p.Last < 0 || p.Hourly < 0 || p.Daily < 0 || p.Within < 0 {
				return &exitErr{code: exitError, err: usageError{fmt.Errorf("--keep values must not be negative")}}
			}
			st := newStores(cmdContext(cmd), g.getenv, timeout)
			defer st.Close()
			dst, err := st.open(args[0])
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			var abort func() ([]string, error)
			if s3fs, ok := dst.store.(*s3.FS); ok {
				abort = func() ([]string, error) {
					ups, err := s3fs.Uploads(dst.name)
					if err != nil {
						return nil, err
					}
					var done []string
					for _, u := range ups {
						if err := s3fs.AbortUpload(u); err != nil {
							return done, err
						}
						done = append(done, s3fs.Path(u.Name))
					}
					return done, nil
				}
			}
			res, err := backup.Prune(dst.store, dst.name, strings.TrimSuffix(dst.display, "/"), p, dryRun, abort)
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			if g.json {
				return writeJSON(cmd.OutOrStdout(), res)
			}
			pr := newPrinter(cmd)
			rows := [][]string{}
			for _, d := range res.Decisions {
				what := pr.good("keep")
				if !d.Keep {
					what = pr.bad("remove")
					if !dryRun {
						what = pr.bad("removed")
					}
				}
				rows = append(rows, []string{d.ID, what, strings.Join(d.Reasons, ", ")})
			}
			pr.table("", rows)
			for _, u := range res.AbortedUploads {
				pr.printf("%s the incomplete multipart upload of %s (a killed run's)\n", pr.warn("aborted"), escapeText(u))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&p.Last, "keep-last", 0, "keep the newest N backups")
	f.IntVar(&p.Hourly, "keep-hourly", 0, "keep the newest backup of each of the last N hours")
	f.IntVar(&p.Daily, "keep-daily", 0, "keep the newest backup of each of the last N days")
	f.DurationVar(&p.Within, "keep-within", 0, "keep every backup within DURATION of the newest (e.g. 48h)")
	f.BoolVar(&dryRun, "dry-run", false, "say what would be removed; remove nothing")
	f.DurationVar(&timeout, "timeout", 0, "HDFS: time to reach each namenode")
	return cmd
}
