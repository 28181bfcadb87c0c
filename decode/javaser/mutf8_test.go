package javaser

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestMUTF8(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    string
		enc  []byte
	}{
		{"ascii", "abc", []byte("abc")},
		{"empty", "", []byte{}},
		{"nul", "a\x00b", []byte{'a', 0xC0, 0x80, 'b'}},
		{"latin1", "é", []byte{0xC3, 0xA9}},
		{"bmp", "中", []byte{0xE4, 0xB8, 0xAD}},
		// Spec §3.7: 😀 is written as two 3-byte surrogate encodings.
		{"supplementary", "😀", []byte{0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.enc, EncodeMUTF8(tc.s))
			assert.Equal(t, tc.s, DecodeMUTF8(tc.enc))
		})
	}
}

func TestMUTF8Malformed(t *testing.T) {
	// A lone continuation byte and a truncated sequence decode to U+FFFD.
	assert.Equal(t, "\uFFFDa", DecodeMUTF8([]byte{0x80, 'a'}))
	assert.Equal(t, "a\uFFFD", DecodeMUTF8([]byte{'a', 0xE4}))
	// A lone surrogate is not valid in a Go string.
	assert.Equal(t, "\uFFFD", DecodeMUTF8([]byte{0xED, 0xA0, 0xBD}))
}
