package main

import (
	"io"

	"github.com/sparkckpt/sparkckpt/tui/termtext"
)

// Every human printer writes through the one escaping function,
// termtext.Append (see its package doc for what it escapes and why).

// escapeText is s escaped for a terminal (termtext.Append, no colour passes).
func escapeText(s string) string { return escape(s, false) }

// escape is s escaped with termtext.Append; with sgr, the printer's own
// colour sequences pass.
func escape(s string, sgr bool) string { return termtext.Escape(s, sgr) }

// safeWriter escapes everything written through it with termtext.Append.
type safeWriter struct {
	w   io.Writer
	sgr bool // let the printer's colour through
}

// Write escapes b as one piece: a rune split across two writes is shown
// as its bytes (fmt and text/tabwriter never split one).
func (s *safeWriter) Write(b []byte) (int, error) {
	if termtext.Safe(string(b)) {
		return s.w.Write(b)
	}
	if _, err := s.w.Write(termtext.Append(nil, b, s.sgr)); err != nil {
		return 0, err
	}
	return len(b), nil
}
