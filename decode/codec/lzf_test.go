package codec

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sparkckpt/sparkckpt/decode"
)

// Vectors written by compress-lzf 1.0.4 LZFOutputStream.
func TestLZFVectors(t *testing.T) {
	tests := []struct {
		name, in, hex string
	}{
		{"empty", "", ""},
		{"short stored", "hello", "5a56000005" + hex.EncodeToString([]byte("hello"))},
		{"text", "hello, hello, hello, hello, hello! spark checkpoint spark checkpoint",
			"5a5601002400440668656c6c6f2c20e01106112120737061726b20636865636b706f696e74e00610016e74"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Compress(LZF, Params{}, []byte(tt.in))
			require.NoError(t, err)
			assert.Equal(t, tt.hex, hex.EncodeToString(got))
			want, _ := hex.DecodeString(tt.hex)
			raw, _, err := decompressKind(want, LZF)
			require.NoError(t, err)
			assert.Equal(t, tt.in, string(raw))
		})
	}
}

func TestLZFErrors(t *testing.T) {
	stored := []byte("ZV\x00\x00\x03abc")
	tests := []struct {
		name   string
		in     []byte
		kind   error
		offset int64
		msg    string
	}{
		{"bad signature", cat(stored, []byte("ZX\x00\x00\x01a")), decode.ErrCorrupt, 8, `expected LZF chunk signature 5A 56 ("ZV"), got 5A 58`},
		{"bad type", cat(stored, []byte("ZV\x02\x00\x01a")), decode.ErrCorrupt, 8, "expected chunk type 0 (stored) or 1 (compressed), got 2"},
		{"short header", cat(stored, []byte("ZV\x01\x00\x01\x00")), decode.ErrTruncated, 8, "expected 7 bytes of LZF chunk header, input ends after 6"},
		{"short stored", []byte("ZV\x00\x00\x05abc"), decode.ErrTruncated, 0, "expected 5 bytes of stored LZF chunk, input ends after 3"},
		{"short compressed", []byte("ZV\x01\x00\x05\x00\x09\x02abc"), decode.ErrTruncated, 0, "expected 5 bytes of compressed LZF chunk, input ends after 4"},
		{"back-reference before start", []byte("ZV\x01\x00\x04\x00\x05\x00a\x20\x05"), decode.ErrCorrupt, 0, "back-reference 6 bytes back, only 1 written"},
		{"literal past chunk", []byte("ZV\x01\x00\x02\x00\x05\x04a"), decode.ErrCorrupt, 0, "literal run of 5 bytes runs past the end of the chunk"},
		{"too much output", []byte("ZV\x01\x00\x04\x00\x02\x02abc"), decode.ErrCorrupt, 0, "overflows the declared length"},
		{"too little output", []byte("ZV\x01\x00\x04\x00\x09\x02abc"), decode.ErrCorrupt, 0, "block ends after 3 of 9 bytes"},
		{"missing offset", []byte("ZV\x01\x00\x03\x00\x09\x00a\x20"), decode.ErrCorrupt, 0, "back-reference offset byte missing"},
		{"missing length", []byte("ZV\x01\x00\x03\x00\x09\x00a\xE0"), decode.ErrCorrupt, 0, "back-reference length byte missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := decompressKind(tt.in, LZF)
			de := requireDecodeError(t, err, tt.kind, "lzf")
			assert.Equal(t, tt.offset, de.Offset, "%v", err)
			assert.Contains(t, err.Error(), tt.msg)
		})
	}
}

func TestLZFOverlappingCopy(t *testing.T) {
	// "a" then a back-reference of 9 bytes at distance 1: run-length.
	got, _, err := decompressKind([]byte("ZV\x01\x00\x05\x00\x0A\x00a\xE0\x00\x00"), LZF)
	require.NoError(t, err)
	assert.Equal(t, "aaaaaaaaaa", string(got))
}

func TestLZFCompressOrStore(t *testing.T) {
	tests := []struct {
		name   string
		in     []byte
		stored bool
	}{
		{"15 bytes, compressible", bytes.Repeat([]byte("a"), 15), true},
		{"16 bytes, compressible", bytes.Repeat([]byte("a"), 16), false},
		{"random", randomData(1000, 1), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Compress(LZF, Params{}, tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.stored, got[2] == lzfTypeStored)
		})
	}
}

func TestLZFCorruption(t *testing.T) {
	data := textData(70000, 4)
	orig, err := Compress(LZF, Params{}, data)
	require.NoError(t, err)
	boundaries := map[int]bool{0: true}
	for off := 0; off < len(orig); {
		if orig[off+2] == lzfTypeStored {
			off += 5 + (int(orig[off+3])<<8 | int(orig[off+4]))
		} else {
			off += 7 + (int(orig[off+3])<<8 | int(orig[off+4]))
		}
		boundaries[off] = true
	}
	corruptionCase(t, LZF, orig, 3,
		func(prefix, out []byte) bool { return boundaries[len(prefix)] && bytes.HasPrefix(data, out) },
		func([]byte) bool { return true })
}
