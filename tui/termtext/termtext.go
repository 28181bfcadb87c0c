// Package termtext makes text read from files safe to show on a terminal.
//
// Text read from a checkpoint (Java strings, conf values, log entries, zip
// entry names) and file names are the attacker's: a string holding
// "\x1b]52;c;..." sets the user's clipboard when printed, "\x1b[2J" clears
// the screen, OSC 8 forges links, OSC 0 the window title. Every human
// printer therefore writes through Append, the one escaping function of
// sparkckpt: the CLI's (a printer's writer, its table cells, error
// messages, cp's progress line) and the browser's (every cell it draws);
// --json output is exact, JSON escapes control characters itself.
package termtext

import (
	"fmt"
	"unicode/utf8"
)

// Append appends b to dst with every byte a terminal would act on
// made visible:
//
//   - C0 controls other than newline and tab, and DEL: \a \b \f \r \v or
//     \xNN (ESC is \x1b);
//   - C1 controls U+0080..U+009F (U+009B is a one-rune CSI): \u009b;
//   - bytes that are not UTF-8 (a terminal in another mode may take 0x9b
//     as CSI): \xNN;
//   - bidirectional overrides and isolates (U+202A..U+202E,
//     U+2066..U+2069), which reorder what is shown: \u202e.
//
// With sgr set (the printer's own colour on a terminal), exactly the SGR
// sequences the printer emits (ESC [ 0/1/2/31/32/33 m) pass; a string from
// a file can then at most change the colour of what follows, nothing else.
//
// Backslashes are not doubled, so escaping is idempotent: a printer may
// escape a table cell and write it through its escaping writer.
func Append(dst []byte, b []byte, sgr bool) []byte {
	for i := 0; i < len(b); {
		c := b[i]
		if c >= 0x20 && c < 0x7f || c == '\n' || c == '\t' {
			dst = append(dst, c)
			i++
			continue
		}
		if c == 0x1b && sgr {
			if n := printerSGR(b[i:]); n > 0 {
				dst = append(dst, b[i:i+n]...)
				i += n
				continue
			}
		}
		if c < 0x80 {
			switch c {
			case '\a':
				dst = append(dst, `\a`...)
			case '\b':
				dst = append(dst, `\b`...)
			case '\f':
				dst = append(dst, `\f`...)
			case '\r':
				dst = append(dst, `\r`...)
			case '\v':
				dst = append(dst, `\v`...)
			default:
				dst = fmt.Appendf(dst, `\x%02x`, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			dst = fmt.Appendf(dst, `\x%02x`, c)
			n = 1
		case r >= 0x80 && r < 0xa0, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			dst = fmt.Appendf(dst, `\u%04x`, r)
		default:
			dst = append(dst, b[i:i+n]...)
		}
		i += n
	}
	return dst
}

// printerSGR returns the length of the SGR sequence printer.style writes
// (reset, bold, dim, red, green, yellow) that b starts with, 0 if none.
func printerSGR(b []byte) int {
	for _, code := range []string{"0", "1", "2", "31", "32", "33"} {
		s := "\x1b[" + code + "m"
		if len(b) >= len(s) && string(b[:len(s)]) == s {
			return len(s)
		}
	}
	return 0
}

// Safe reports whether Append would leave s as it is.
func Safe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 0x20 && c < 0x7f || c == '\n' || c == '\t') {
			return false
		}
	}
	return true
}

// Escape is s escaped with Append; with sgr, the printer's own colour
// sequences pass.
func Escape(s string, sgr bool) string {
	if Safe(s) {
		return s
	}
	return string(Append(nil, []byte(s), sgr))
}
