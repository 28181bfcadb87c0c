package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/sparkckpt/sparkckpt/decode/check"
	"github.com/spf13/cobra"
)

type checkOptions struct {
	expectFS     []string
	probe        bool
	probeTimeout time.Duration
	codec        codecFlag
	structured   structuredCheckOptions // structured.go
}

// checkDial replaces the prober's dialer in tests; nil means net.Dialer.
var checkDial func(ctx context.Context, network, addr string) (net.Conn, error)

const checkLong = `check tells, before Spark is started, whether Spark Streaming will restore from a
checkpoint directory, and if not, why and what to do. It reads only; it never writes.

It runs every check and reports every finding (severity, code, message, file and
location, a fix in prose and, where one exists, the command that carries it out,
often a sparkckpt rewrite dry run):

  - the file Spark's CheckpointReader picks (newest first, checkpoint-<t> before
    checkpoint-<t>.bk, the first that decodes), and the newer files it cannot read:
    truncated, empty, .crc mismatch (Hadoop's ChecksumException), or another codec than
    the one Spark reads with (--codec; default: spark.io.compression.codec in the
    checkpoint's conf, else Spark's default, lz4 since 2.0);
  - the RDD checkpoint directories and input files the restored graph reads, the
    driver write-ahead log (receivedBlockMetadata: unreadable files, torn tails, batches
    allocated and not cleaned up) and the receiver logs those batches read;
  - every filesystem the checkpoint references against --expect-fs, the new cluster's
    default filesystem: a foreign namenode is tomorrow's NoRouteToHostException;
  - with --probe, that each referenced namenode host:port (and receiver source) accepts
    a TCP connection (nothing is sent); hdfs URIs without a port are not probed;
  - leftovers: temp, *.tmp, .crc files without their data file.

URIs under the checkpointDir stored in the checkpoint (e.g. hdfs://old-nn:8020/user/x/ckpt)
are looked up at the same relative path under PATH; local file: paths elsewhere are
looked up on this machine; other references cannot be checked here (info).

A Structured Streaming checkpoint (offsets/) is checked for what a restart reads: offsets
against commits (the batch that re-runs), that the state of the last committed batch can
be rebuilt for every partition (snapshot + delta chain, or RocksDB zip + changelog
lineage, every file on it decoded), that every log parses with a version --spark-version
reads, file source logs, .crc sidecars, leftovers, and absolute URIs against --expect-fs;
--sink adds a file sink's _spark_metadata log. A directory holding both kinds is checked
as both. The structured finding codes are listed in 'go doc ./decode/structured Check'.

Exit status: 0 if no finding is an error (warnings and info alone pass), 1 if any
finding is an error (recovery will fail or restore older state), 2 if PATH cannot
be read or is not a checkpoint directory (DStream or Structured Streaming) or a
file sink, or on a usage error.

--json prints {dir, ok, chosen, newest, checkpointDir, codec, expectFs, counts,
findings: [{severity, code, message, file, location, fix, command, shell, count,
places}], probes}; fix is prose, command an argv list, shell that command quoted
(schema in the README).`

func newCheckCmd(g *globalOptions) *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check PATH",
		Short: "Check that Spark will restore from a checkpoint directory (read-only)",
		Long:  checkLong + "\n\n" + hdfsPathHelp + "\nSo may each --sink.",
		Example: `  sparkckpt check /restore/ckpt --expect-fs hdfs://new-nn:8020
  sparkckpt check /restore/ckpt --expect-fs file:/// --probe --probe-timeout 500ms
  sparkckpt check --json /restore/ckpt | jq -r '.findings[] | select(.severity=="error") | .code'`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			force, err := o.codec.force()
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			for _, e := range o.expectFS {
				if err := check.ParseExpectFS(e); err != nil {
					return &exitErr{code: exitError, err: usageError{err}}
				}
			}
			if o.probeTimeout <= 0 {
				return &exitErr{code: exitError, err: usageError{fmt.Errorf("--probe-timeout must be positive, got %s", o.probeTimeout)}}
			}
			opts := check.Options{
				ExpectFS:     o.expectFS,
				Codec:        force,
				Probe:        o.probe,
				ProbeTimeout: o.probeTimeout,
				Dial:         checkDial,
				Limits:       g.limits(),
			}
			st := newStores(cmd.Context(), g.getenv, 0)
			st.lim = g.limits()
			defer st.Close()
			in, err := st.openInput(args[0])
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			// Structured Streaming checkpoints, file sink logs and mixed
			// directories (structured.go).
			if done, err := runStructuredCheck(cmd, g, st, in, o, &o.structured, force); done {
				return err
			}
			rep, err := checkDStream(cmd.Context(), in, opts)
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			if err := addUploadFindings(in, rep); err != nil { // s3uploads.go
				return &exitErr{code: exitError, err: err}
			}
			if g.json {
				if err := writeJSON(cmd.OutOrStdout(), rep); err != nil {
					return err
				}
			} else {
				renderCheck(newPrinter(cmd), rep)
			}
			if !rep.OK {
				return findings()
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&o.expectFS, "expect-fs", nil, "filesystem the restarted application may use, as scheme://authority[/path] or file:/// (repeatable);\nreferences elsewhere are findings")
	cmd.Flags().BoolVar(&o.probe, "probe", false, "TCP-connect to every referenced namenode host:port and receiver source (sends nothing)")
	cmd.Flags().DurationVar(&o.probeTimeout, "probe-timeout", check.DefaultProbeTimeout, "timeout of each --probe connection")
	cmd.Flags().StringVar(&o.codec.name, "codec", "auto", `the codec the restarting application reads with (its spark.io.compression.codec):
lz4, snappy, zstd, lzf or a Spark codec class name; "auto" (the default) takes the
value stored in the checkpoint's conf, else Spark's default (lz4; snappy for 1.x)`)
	addStructuredCheckFlags(cmd.Flags(), &o.structured) // structured.go
	g.addLimitFlags(cmd)
	return cmd
}

// checkDStream checks a DStream checkpoint directory where it lives. On
// HDFS, file: URIs in it name the cluster's disks, not this machine's:
// opts.Local stays unset.
func checkDStream(ctx context.Context, in *input, opts check.Options) (*check.Report, error) {
	if !in.dir {
		return nil, fmt.Errorf("%s is not a directory: check takes a checkpoint directory", in.name)
	}
	if !in.remote() {
		opts.Local = os.DirFS("/")
	}
	opts.Path = in.name
	opts.Symlinks = checkSymlinks(in)
	return check.FS(ctx, in.fsys("."), opts)
}

// checkSymlinks lists the symbolic links below the input for check.
func checkSymlinks(in *input) []check.Symlink {
	var out []check.Symlink
	for _, l := range in.symlinks() {
		out = append(out, check.Symlink{Name: l.Name, Target: l.Target, Kind: string(l.Kind), Resolved: l.Resolved, Dest: l.Dest})
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func renderCheck(p *printer, r *check.Report) {
	counts := fmt.Sprintf("%s, %s, %d info", plural(r.Counts.Error, "error", "errors"), plural(r.Counts.Warning, "warning", "warnings"), r.Counts.Info)
	switch {
	case r.OK && r.Chosen != nil:
		p.printf("%s Spark will restore from %s (%s)\n", p.good(p.bold("OK:")), r.Chosen.File, counts)
	case r.OK:
		p.printf("%s %s\n", p.good(p.bold("OK:")), counts)
	default:
		p.printf("%s %s\n", p.bad(p.bold("FAIL:")), counts)
	}
	restores := "nothing (no checkpoint file Spark can read)"
	if r.Newest == "" {
		restores = "nothing (no checkpoint-* file)"
	}
	if r.Chosen != nil {
		restores = r.Chosen.File
		if r.Chosen.File == r.Newest {
			restores += " (the newest)"
		} else {
			restores += fmt.Sprintf(" (not the newest, %s)", r.Newest)
		}
		restores += ", checkpoint time " + fmtTime(r.Chosen.CheckpointTimeMs)
	}
	codecLine := r.Codec.Name
	switch r.Codec.Source {
	case "option":
		codecLine += " (--codec)"
	case "conf":
		codecLine += " (spark.io.compression.codec in the checkpoint's conf)"
	case "default":
		codecLine += " (Spark's default; the conf does not set spark.io.compression.codec)"
	}
	expect := strings.Join(r.ExpectFS, ", ")
	if expect == "" {
		expect = "not given (--expect-fs): filesystems are listed, not checked"
	}
	rows := [][]string{
		{"directory", r.Dir},
		{"restores from", restores},
	}
	if r.CheckpointDir != "" {
		rows = append(rows, []string{"checkpointDir", r.CheckpointDir})
	}
	if codecLine != "" {
		rows = append(rows, []string{"codec", codecLine})
	}
	rows = append(rows, []string{"expected fs", expect})
	if len(r.Probes) > 0 {
		up := 0
		for _, pr := range r.Probes {
			if pr.Reachable {
				up++
			}
		}
		rows = append(rows, []string{"probed", fmt.Sprintf("%d address(es), %d reachable", len(r.Probes), up)})
	}
	p.printf("\n")
	p.table("  ", rows)

	renderFindings(p, r.Findings)
}

// findingWhere renders "file: location (and N more)".
func findingWhere(f check.Finding) string {
	w := f.File
	if f.Location != "" {
		if w != "" {
			w += ": "
		}
		w += f.Location
	}
	if f.Count > 1 {
		w += fmt.Sprintf(" (and %d more; --json lists them all)", f.Count-1)
	}
	return w
}

// renderFindings prints findings grouped by severity, each with where it
// is and its fix (check, on every kind of checkpoint).
func renderFindings(p *printer, findingsList []check.Finding) {
	codeW := 0
	for _, f := range findingsList {
		codeW = max(codeW, len(f.Code))
	}
	indent := strings.Repeat(" ", 2+7+2+codeW+2)
	for _, sev := range []struct {
		s     check.Severity
		title string
	}{{check.Error, "errors"}, {check.Warning, "warnings"}, {check.Info, "info"}} {
		var fs []check.Finding
		for _, f := range findingsList {
			if f.Severity == sev.s {
				fs = append(fs, f)
			}
		}
		if len(fs) == 0 {
			continue
		}
		p.section(fmt.Sprintf("%s (%d)", sev.title, len(fs)))
		for _, f := range fs {
			label := fmt.Sprintf("%-7s", f.Severity)
			switch f.Severity {
			case check.Error:
				label = p.bad(label)
			case check.Warning:
				label = p.warn(label)
			default:
				label = p.dim(label)
			}
			p.printf("  %s  %-*s  %s\n", label, codeW, f.Code, f.Message)
			if where := findingWhere(f); where != "" {
				p.printf("%s%s\n", indent, p.dim("at "+where))
			}
			if f.Fix != "" {
				p.printf("%sfix: %s\n", indent, f.Fix)
			}
			if f.Shell != "" {
				p.printf("%srun: %s\n", indent, f.Shell)
			}
		}
	}
}
