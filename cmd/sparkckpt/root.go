package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/pprof"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/spf13/cobra"
)

// Exit codes (documented in the README and in --help).
const (
	exitOK       = 0
	exitFindings = 1
	exitError    = 2
)

// exitErr carries an exit status up to main; only main calls os.Exit.
type exitErr struct {
	code int
	err  error // nil: the command already reported what it had to say
}

func (e *exitErr) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitErr) Unwrap() error { return e.err }

// findings returns an error that makes sparkckpt exit 1 without printing more.
func findings() error { return &exitErr{code: exitFindings} }

const rootLong = `sparkckpt opens Apache Spark checkpoints without Spark or a JVM.

Spark Streaming writes the fully qualified checkpoint directory
(hdfs://namenode:8020/...) into every checkpoint file and write-ahead log.
Restored on a new cluster, Spark keeps calling the old namenode.
sparkckpt shows what a checkpoint references, checks it, and moves it safely.

Every command takes --json for machine-readable output.
Exit status: 0 ok, 1 findings, 2 usage error or unreadable input.`

// globalOptions are the flags every command shares.
type globalOptions struct {
	json            bool
	maxDecompressed byteSize
	s3Endpoint      string
	// cpuProfile, if set, names a file for a pprof CPU profile of the
	// command (hidden flag, for measuring: see README "Measuring").
	cpuProfile  string
	stopProfile func()
}

// addLimitFlags adds the flags that bound what reading one file may
// cost to a command that decodes files (inspect, uris, check, cat, dump,
// browse, and rewrite and cp for the files they rewrite; a resumed or
// undone rewrite reads with the defaults).
func (g *globalOptions) addLimitFlags(cmd *cobra.Command) {
	cmd.Flags().Var(&g.maxDecompressed, "max-decompressed",
		"most bytes one compressed file may decompress to (e.g. 256MiB, 1GiB); a file past it fails with its offset instead of exhausting memory")
}

// setMemoryLimit sets the Go runtime's soft memory limit to what reading
// one file may cost (three times --max-decompressed, see limits) plus
// 64 MiB, unless GOMEMLIMIT is set: garbage left by a file refused at a
// bound is then collected before the next file is read, instead of the
// heap doubling first (check on a directory of two bombs peaked at 556 MB
// without it, 300 MB with it). It is soft: a legitimate need beyond it
// only makes the collector run more often.
func (g *globalOptions) setMemoryLimit(getenv func(string) string) {
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(3*int64(g.maxDecompressed) + 64<<20)
	}
}

// limits are the decode limits the flags set.
// The tree of one file may take twice what its stream may: reading one
// file then costs about three times --max-decompressed at most.
func (g *globalOptions) limits() decode.Limits {
	return decode.Limits{MaxDecompressed: int64(g.maxDecompressed), MaxTree: 2 * int64(g.maxDecompressed)}
}

// getenv is os.Getenv, with --s3-endpoint as AWS_ENDPOINT_URL_S3.
func (g *globalOptions) getenv(key string) string {
	if key == "AWS_ENDPOINT_URL_S3" && g.s3Endpoint != "" {
		return g.s3Endpoint
	}
	return os.Getenv(key)
}

// newRoot builds the command tree and returns it with its shared options.
func newRoot(stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) (*cobra.Command, *globalOptions) {
	g := &globalOptions{maxDecompressed: decode.DefaultMaxDecompressed}
	root := &cobra.Command{
		Use:           "sparkckpt",
		Short:         "Inspect, check and relocate Apache Spark checkpoints",
		Long:          rootLong,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().BoolVar(&g.json, "json", false, "print machine-readable JSON instead of text")
	root.PersistentFlags().StringVar(&g.s3Endpoint, "s3-endpoint", "", "S3-compatible endpoint for s3://, s3a:// and s3n:// paths, http(s)://HOST[:PORT], addressed path-style (default AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL, else AWS)")
	root.PersistentFlags().StringVar(&g.cpuProfile, "cpuprofile", "", "write a pprof CPU profile of the command to `FILE`")
	root.PersistentFlags().MarkHidden("cpuprofile")
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		g.setMemoryLimit(getenv)
		if g.cpuProfile == "" {
			return nil
		}
		stop, err := startCPUProfile(g.cpuProfile)
		if err != nil {
			return &exitErr{code: exitError, err: err}
		}
		g.stopProfile = stop
		return nil
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitErr{code: exitError, err: usageError{err}}
	})
	root.AddCommand(
		newCatCmd(g),
		newCheckCmd(g),
		newDumpCmd(g),
		newInspectCmd(g),
		newURIsCmd(g),
		newRewriteCmd(g),
		newBrowseCmd(g),
		newCpCmd(g),
		newBackupCmd(g),
		newBackupsCmd(g),
		newRestoreCmd(g),
		newPruneCmd(g),
	)
	return root, g
}

// startCPUProfile starts a pprof CPU profile into file and returns its stop.
func startCPUProfile(file string) (func(), error) {
	f, err := os.Create(file)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// usageError marks errors in how sparkckpt was called.
type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }

// cmdContext is the command's context, or a background one when the
// command runs without (a test calling RunE directly).
func cmdContext(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

// run executes sparkckpt with args and returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1)) // a command's limit ends with it
	root, g := newRoot(stdin, stdout, stderr, os.Getenv)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if g.stopProfile != nil {
		g.stopProfile()
	}
	if err == nil {
		return exitOK
	}
	// Errors name files and quote what they hold: escaped like all
	// human output (escape.go).
	stderr = &safeWriter{w: stderr}
	var ee *exitErr
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(stderr, "sparkckpt: %v\n", ee.err)
			var ue usageError
			if errors.As(ee.err, &ue) {
				fmt.Fprintln(stderr, "Run 'sparkckpt --help' for usage.")
			}
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "sparkckpt: %v\n", err)
	if isUsage(err) {
		fmt.Fprintln(stderr, "Run 'sparkckpt --help' for usage.")
	}
	return exitError
}
