package main

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/term"
	"github.com/mattn/go-isatty"
	"github.com/sparkckpt/sparkckpt/decode/structured"
	"github.com/sparkckpt/sparkckpt/rewrite"
	"github.com/sparkckpt/sparkckpt/tui"
	"github.com/spf13/cobra"
)

type browseOptions struct {
	expectFS    []string
	showSecrets bool
	readOnly    bool
	noMouse     bool
}

const browseLong = `browse opens a checkpoint directory in an interactive terminal browser.

Left, the directory grouped by meaning: metadata checkpoints in the order Spark tries
them (★ the one it restores from, ✗ files that do not decode), write-ahead logs, RDD
checkpoint data, Structured Streaming logs, .crc sidecars and leftovers, with sizes and
modification times (UTC). Right, the selected file decoded: the typed summary first
(checkpoint model, log records), then the Java object tree, with every URI highlighted
and URIs on a filesystem other than --expect-fs in the warning colour.

Files decode in the background and only when needed, so big directories open at once.
Press ? for every key: / searches every decoded string of every file, u lists every URI
by authority, x shows the bytes behind the selected node (offsets of the decompressed
stream, linked both ways), y copies (OSC 52; in tmux: set -g set-clipboard on), r previews
a rewrite as a diff per file and applies it only after a confirmation, with the journal
and backups of 'sparkckpt rewrite --apply'. q quits.

PATH may also be a file: its directory is browsed with the file selected.`

func newBrowseCmd(g *globalOptions) *cobra.Command {
	o := &browseOptions{}
	cmd := &cobra.Command{
		Use:   "browse PATH",
		Short: "Browse a checkpoint directory interactively: files, decoded trees, URIs, hex, rewrite preview",
		Long:  browseLong + "\n\n" + hdfsPathHelp,
		Example: `  sparkckpt browse /restore/ckpt
  sparkckpt browse /restore/ckpt --expect-fs hdfs://emr-master:8020
  sparkckpt browse /restore/ckpt/checkpoint-1589765035000 --read-only`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if g.json {
				return &exitErr{code: exitError, err: usageError{errors.New("browse is interactive: --json is not supported (see inspect, uris, dump)")}}
			}
			st := newStores(cmd.Context(), g.getenv, 0)
			st.lim = g.limits()
			defer st.Close()
			root, sel, err := browseTarget(st, args[0])
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			in, out := cmd.InOrStdin(), cmd.OutOrStdout()
			if !isTerminal(in) || !isTerminal(out) {
				return &exitErr{code: exitError, err: usageError{errors.New("browse needs a terminal (for scripts: inspect, uris, dump, check)")}}
			}
			topts := tui.Options{Root: root.name, ExpectFS: o.expectFS, ShowSecrets: o.showSecrets,
				ReadOnly: o.readOnly, Select: sel, Clipboard: out, Limits: g.limits()}
			if !root.remote() && root.dir {
				// Symbolic links by the rule of every command: followed
				// inside the directory; the others are files that do not open.
				topts.FS = root.fsys(".")
			}
			if root.remote() {
				// On HDFS: read through the store, rewrite where it lives.
				topts.FS, topts.Name = root.fsys("."), root.name
				topts.Dir = rewrite.Place{Store: root.loc.store, Name: root.loc.name, URI: root.name}
			}
			m, err := tui.New(topts)
			if err != nil {
				return &exitErr{code: exitError, err: usageError{err}}
			}
			opts := []tea.ProgramOption{tea.WithAltScreen(), tea.WithContext(cmd.Context()), tea.WithInput(in), tea.WithOutput(out)}
			if !o.noMouse {
				opts = append(opts, tea.WithMouseCellMotion())
			}
			var model tea.Model = m
			if k := os.Getenv("SPARKCKPT_TEST_PANIC_KEY"); k != "" {
				model = panicOnKey{m, k} // tests: the terminal is restored after a panic
			}
			return runProgram(tea.NewProgram(model, opts...), in, out)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.expectFS, "expect-fs", nil, "filesystem the restored application may use, e.g. hdfs://new-nn:8020 (repeatable); other URIs are drawn as foreign")
	f.BoolVar(&o.showSecrets, "show-secrets", false, "show secret conf values (passwords, tokens) instead of masking them")
	f.BoolVar(&o.readOnly, "read-only", false, "preview rewrites but never apply them")
	f.BoolVar(&o.noMouse, "no-mouse", false, "leave the mouse to the terminal (text selection)")
	g.addLimitFlags(cmd)
	return cmd
}

// browseTarget returns the directory to browse and the file to select
// (slash-separated, relative to it), on the local disk or on HDFS: for a
// file, the checkpoint directory it belongs to (a log's, a part file's, a
// Structured Streaming file's) or else its own directory.
func browseTarget(st *stores, p string) (root *input, sel string, err error) {
	in, err := st.openInput(p)
	if err != nil {
		return nil, "", err
	}
	if in.dir {
		return in, "", nil
	}
	abs := in.abs()
	dir := browseRoot(abs)
	return in.at(dir), strings.TrimPrefix(abs, strings.TrimSuffix(dir, "/")+"/"), nil
}

// browseRoot is the directory to browse for the file at the absolute
// slash path abs.
func browseRoot(abs string) string {
	dir := path.Dir(abs)
	parent := path.Base(dir)
	switch {
	case structured.CheckpointRoot(abs) != "":
		return structured.CheckpointRoot(abs)
	case parent == "receivedBlockMetadata":
		return path.Dir(dir)
	case path.Base(path.Dir(dir)) == "receivedData":
		return path.Dir(path.Dir(dir))
	case strings.HasPrefix(parent, "rdd-"):
		return path.Dir(path.Dir(dir))
	}
	return dir
}

// resetTerminal leaves the alternate screen, shows the cursor and turns
// mouse reporting off: what bubbletea undoes on a clean exit.
const resetTerminal = "\x1b[?1049l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?25h"

// runProgram runs the browser and leaves the terminal as it found it on
// every way out: a normal quit, a signal, and a panic, whether bubbletea
// caught it (in Update, View or a command; Run then returns
// ErrProgramPanic, and sparkckpt exits 2 saying so) or not.
func runProgram(p *tea.Program, in, out any) (err error) {
	var restore func()
	if f, ok := in.(*os.File); ok {
		if st, serr := term.GetState(f.Fd()); serr == nil {
			restore = func() {
				term.Restore(f.Fd(), st)
				if o, ok := out.(*os.File); ok {
					o.WriteString(resetTerminal)
				}
			}
		}
	}
	defer func() {
		if r := recover(); r != nil {
			if restore != nil {
				restore()
			}
			err = &exitErr{code: exitError, err: fmt.Errorf("browse: internal error (please report it): %v", r)}
		}
	}()
	_, err = p.Run()
	switch {
	case errors.Is(err, tea.ErrProgramPanic):
		if restore != nil {
			restore()
		}
		return &exitErr{code: exitError, err: fmt.Errorf("browse: internal error (please report it): %w", err)}
	case err != nil && !errors.Is(err, tea.ErrProgramKilled):
		return &exitErr{code: exitError, err: fmt.Errorf("browse: %w", err)}
	}
	return nil
}

// panicOnKey panics when key is pressed (SPARKCKPT_TEST_PANIC_KEY, for
// the test that a panic leaves the terminal usable).
type panicOnKey struct {
	tea.Model
	key string
}

func (p panicOnKey) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if k, ok := msg.(tea.KeyMsg); ok && k.String() == p.key {
		panic("SPARKCKPT_TEST_PANIC_KEY " + p.key)
	}
	m, cmd := p.Model.Update(msg)
	return panicOnKey{m, p.key}, cmd
}

func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}
