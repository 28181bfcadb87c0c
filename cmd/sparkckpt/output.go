package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
)

// printer writes human output: aligned, coloured only on a terminal
// (and never when NO_COLOR is set), and escaped: everything it writes
// goes through appendSafe (escape.go), so no string from a file reaches
// the terminal as a control sequence.
type printer struct {
	w     io.Writer // a *safeWriter
	color bool
}

func newPrinter(cmd *cobra.Command) *printer {
	w := cmd.OutOrStdout()
	color := false
	if f, ok := w.(*os.File); ok && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb" {
		color = isatty.IsTerminal(f.Fd())
	}
	return &printer{w: &safeWriter{w: w, sgr: color}, color: color}
}

func (p *printer) style(code, s string) string {
	if !p.color || s == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (p *printer) bold(s string) string { return p.style("1", s) }
func (p *printer) warn(s string) string { return p.style("33", s) }
func (p *printer) bad(s string) string  { return p.style("31", s) }
func (p *printer) good(s string) string { return p.style("32", s) }
func (p *printer) dim(s string) string  { return p.style("2", s) }

func (p *printer) printf(format string, args ...any) { fmt.Fprintf(p.w, format, args...) }

// section prints a heading line.
func (p *printer) section(title string) { p.printf("\n%s\n", p.bold(title)) }

// table writes rows of cells aligned in columns, indented by indent.
func (p *printer) table(indent string, rows [][]string) {
	tw := tabwriter.NewWriter(p.w, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, c := range r {
			// Escaped before alignment, so that columns line up with
			// the escapes shown; a tab or newline in a value would
			// break the table.
			cells[i] = strings.NewReplacer("\t", `\t`, "\n", `\n`).Replace(escape(c, p.color))
		}
		fmt.Fprintln(tw, indent+strings.Join(cells, "\t"))
	}
	tw.Flush()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// fmtMs renders a duration in milliseconds the way Go prints durations ("2s", "1m0s").
func fmtMs(ms int64) string { return (time.Duration(ms) * time.Millisecond).String() }

// fmtTime renders epoch milliseconds as UTC with the raw value.
func fmtTime(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02 15:04:05.000 UTC") + fmt.Sprintf(" (%d)", ms)
}
