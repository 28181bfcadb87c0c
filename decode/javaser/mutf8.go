package javaser

import (
	"unicode/utf16"
	"unicode/utf8"
)

// DecodeMUTF8 decodes Java's modified UTF-8 (spec §3.7): NUL is C0 80 and a
// supplementary character is a surrogate pair, each half a 3-byte sequence.
// Malformed sequences decode to U+FFFD; the raw bytes are never normalised
// by this package, so a round trip is unaffected.
func DecodeMUTF8(b []byte) string {
	ascii := true
	for _, c := range b {
		if c == 0 || c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return string(b)
	}
	out := make([]rune, 0, len(b))
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c < 0x80 && c != 0:
			out = append(out, rune(c))
			i++
		case c&0xE0 == 0xC0 && i+1 < len(b) && b[i+1]&0xC0 == 0x80:
			out = append(out, rune(c&0x1F)<<6|rune(b[i+1]&0x3F))
			i += 2
		case c&0xF0 == 0xE0 && i+2 < len(b) && b[i+1]&0xC0 == 0x80 && b[i+2]&0xC0 == 0x80:
			out = append(out, rune(c&0x0F)<<12|rune(b[i+1]&0x3F)<<6|rune(b[i+2]&0x3F))
			i += 3
		default:
			out = append(out, utf8.RuneError)
			i++
		}
	}
	// Combine surrogate pairs written as two 3-byte sequences.
	return string(utf16Combine(out))
}

func utf16Combine(rs []rune) []rune {
	w := 0
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if utf16.IsSurrogate(r) && i+1 < len(rs) {
			if c := utf16.DecodeRune(r, rs[i+1]); c != utf8.RuneError {
				rs[w] = c
				w++
				i++
				continue
			}
		}
		if utf16.IsSurrogate(r) {
			r = utf8.RuneError
		}
		rs[w] = r
		w++
	}
	return rs[:w]
}

// EncodeMUTF8 encodes s as Java's modified UTF-8. Invalid UTF-8 in s is
// encoded as U+FFFD.
func EncodeMUTF8(s string) []byte {
	out := make([]byte, 0, len(s)+4)
	for _, r := range s {
		switch {
		case r == 0:
			out = append(out, 0xC0, 0x80)
		case r < 0x80:
			out = append(out, byte(r))
		case r < 0x800:
			out = append(out, 0xC0|byte(r>>6), 0x80|byte(r&0x3F))
		case r < 0x10000:
			out = append3(out, r)
		default:
			hi, lo := utf16.EncodeRune(r)
			out = append3(append3(out, hi), lo)
		}
	}
	return out
}

func append3(out []byte, r rune) []byte {
	return append(out, 0xE0|byte(r>>12), 0x80|byte((r>>6)&0x3F), 0x80|byte(r&0x3F))
}
