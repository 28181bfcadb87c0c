package termtext

import (
	"bytes"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

// hostile is what a crafted checkpoint puts in its strings: OSC 52 (sets
// the clipboard), clear screen, window title, an OSC 8 link, CR, BEL, a
// one-rune CSI and a right-to-left override.
const hostile = "\x1b]52;c;ZXZpbA==\x07\x1b[2J\x1b]0;pwned\x07\x1b]8;;http://evil/\x1b\\link\x1b]8;;\x1b\\\r\a\u009b31m\u202e"

func TestAppend(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		sgr      bool
	}{
		{"plain text, tabs\tand\nnewlines", "plain text, tabs\tand\nnewlines", false},
		{"héllo wörld ★", "héllo wörld ★", false},
		{"\x1b]52;c;eA==\x07", `\x1b]52;c;eA==\a`, false},
		{"\x00\x01\b\f\r\v\x7f", `\x00\x01\b\f\r\v\x7f`, false},
		{"a\u009bb\u0085c", `a\u009bb\u0085c`, false},
		{"\xff\xfe\xc2", `\xff\xfe\xc2`, false},
		{"abc\u202edef\u2066", `abc\u202edef\u2066`, false},
		{"\x1b[1mbold\x1b[0m", `\x1b[1mbold\x1b[0m`, false},
		{"\x1b[1mbold\x1b[0m \x1b[33mwarn\x1b[0m", "\x1b[1mbold\x1b[0m \x1b[33mwarn\x1b[0m", true},
		{"\x1b[2J\x1b[8m\x1b]0;t\x07", `\x1b[2J\x1b[8m\x1b]0;t\a`, true}, // only the printer's own SGR pass
	} {
		got := string(Append(nil, []byte(tc.in), tc.sgr))
		assert.Equal(t, tc.want, got, "%q", tc.in)
		assert.Equal(t, got, string(Append(nil, []byte(got), tc.sgr)), "not idempotent on %q", tc.in)
		assert.Equal(t, Escape(tc.in, tc.sgr), got)
		if Safe(tc.in) {
			assert.Equal(t, tc.in, got, "Safe(%q) but escaped", tc.in)
		}
	}
}

// controlBytes lists the bytes a terminal acts on left in out: below 0x20
// other than newline and tab, DEL, and the C1 controls encoded in UTF-8.
func controlBytes(out []byte) []int {
	var bad []int
	for i, c := range out {
		c1 := c == 0xc2 && i+1 < len(out) && out[i+1] >= 0x80 && out[i+1] < 0xa0
		if c < 0x20 && c != '\n' && c != '\t' || c == 0x7f || c1 {
			bad = append(bad, i)
		}
	}
	return bad
}

// FuzzAppend: whatever the input, the escaped text holds no control byte
// but newline and tab (nor DEL, a C1 control or a byte that is not
// UTF-8), and escaping it again changes nothing.
func FuzzAppend(f *testing.F) {
	f.Add([]byte(hostile), false)
	f.Add([]byte("\x1b[1mbold\x1b[0m\x1b[2J\xff"), true)
	f.Fuzz(func(t *testing.T, b []byte, sgr bool) {
		out := Append(nil, b, sgr)
		if !sgr && len(controlBytes(out)) > 0 {
			t.Fatalf("%q -> %q keeps control bytes at %v", b, out, controlBytes(out))
		}
		if !sgr && !utf8.Valid(out) {
			t.Fatalf("%q -> %q is not UTF-8", b, out)
		}
		if again := Append(nil, out, sgr); !bytes.Equal(again, out) {
			t.Fatalf("%q -> %q -> %q", b, out, again)
		}
	})
}
