package codec

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"testing"

	"github.com/golang/snappy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sparkckpt/sparkckpt/decode"
)

// TestSnappyRealFiles decodes the Spark 1.x snappy checkpoints and requires
// SnappyLegacy to reproduce them byte for byte. (dstream-format.md §2.4 found
// that neither golang/snappy nor libsnappy 1.1.9 does; the difference is the
// skip heuristic of older libsnappy.)
func TestSnappyRealFiles(t *testing.T) {
	files := realCheckpoints(t, snappyMagic)
	require.NotEmpty(t, files)
	for _, name := range sortedKeys(files) {
		b := files[name]
		raw, k, p, err := Decompress(b)
		require.NoError(t, err, name)
		require.Equal(t, Snappy, k)
		assert.Equal(t, 32768, p.BlockSize, name)
		assert.True(t, bytes.HasPrefix(raw, []byte{0xAC, 0xED, 0x00, 0x05}), name)
		re, err := Compress(k, p, raw)
		require.NoError(t, err)
		again, _, _, err := Decompress(re)
		require.NoError(t, err)
		assert.True(t, bytes.Equal(raw, again), name)
		assert.Equal(t, b[:snappyHeaderLen], re[:snappyHeaderLen], "header")
		assert.Equal(t, len(snappyChunks(t, b)), len(snappyChunks(t, re)), "chunking")

		k, p, exact, err := Identify(b)
		require.NoError(t, err)
		assert.True(t, exact, "%s: no SnappyImpl reproduces it", name)
		assert.Equal(t, Snappy, k)
		assert.Equal(t, Params{BlockSize: 32768, Snappy: SnappyLegacy}, p, name)
	}
}

// TestSnappyImplsAgreeOnFullTables checks the port against golang/snappy:
// the generations differ only in how they index hash tables smaller than
// 16384 entries (SnappyCurrent) and in the skip heuristic (SnappyLegacy), so
// SnappyCurrent must equal golang/snappy on fragments over 8192 bytes.
func TestSnappyImplsAgreeOnFullTables(t *testing.T) {
	var c snappyCompressor
	for i, n := range []int{8193, 10000, 32768, 65536, 65536 + 8193, 3*65536 + 9000} {
		for _, src := range [][]byte{textData(n, uint64(i)), randomData(n, uint64(i)), make([]byte, n)} {
			want := snappy.Encode(nil, src)
			got := c.encode(SnappyCurrent, make([]byte, snappy.MaxEncodedLen(n)), src)
			require.True(t, bytes.Equal(want, got), "size %d", n)
		}
	}
	// And they do differ on small fragments.
	differ := 0
	for i := range 50 {
		src := textData(1000+i*100, uint64(i))
		if !bytes.Equal(snappy.Encode(nil, src), c.encode(SnappyCurrent, make([]byte, snappy.MaxEncodedLen(len(src))), src)) {
			differ++
		}
	}
	assert.NotZero(t, differ)
}

func TestSnappyImplsDecode(t *testing.T) {
	for _, impl := range []SnappyImpl{SnappyCurrent, SnappyGo, SnappyLegacy} {
		for _, n := range []int{0, 1, 16, 17, 100, 8192, 65536, 65537, 300000} {
			for _, src := range [][]byte{textData(n, 1), randomData(n, 1), make([]byte, n)} {
				comp, err := Compress(Snappy, Params{Snappy: impl}, src)
				require.NoError(t, err)
				got, _, err := decompressKind(comp, Snappy)
				require.NoError(t, err)
				require.True(t, bytes.Equal(src, got), "%v %d", impl, n)
			}
		}
	}
}

// snappyChunks splits a stream into its chunks' payloads.
func snappyChunks(t *testing.T, b []byte) [][]byte {
	var chunks [][]byte
	b = b[snappyHeaderLen:]
	for len(b) > 0 {
		n := binary.BigEndian.Uint32(b)
		chunks = append(chunks, b[4:4+n])
		b = b[4+n:]
	}
	return chunks
}

// Vectors written by snappy-java 1.1.8.3 SnappyOutputStream.
func TestSnappyVectors(t *testing.T) {
	tests := []struct {
		name, in, hex string
	}{
		{"empty", "", "82534e41505059000000000100000001"},
		{"text", "hello, hello, hello, hello, hello! spark checkpoint spark checkpoint",
			"82534e4150505900000000010000000100000022441868656c6c6f2c20660700442120737061726b20636865636b706f696e74421100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Compress(Snappy, Params{}, []byte(tt.in))
			require.NoError(t, err)
			assert.Equal(t, tt.hex, hex.EncodeToString(got))
			want, _ := hex.DecodeString(tt.hex)
			raw, _, err := decompressKind(want, Snappy)
			require.NoError(t, err)
			assert.Equal(t, tt.in, string(raw))
		})
	}
}

func snappyChunk(data []byte) []byte {
	enc := snappy.Encode(nil, data)
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(enc))), enc...)
}

func TestSnappyErrors(t *testing.T) {
	hdr := bytes.Clone(snappyMagic)
	hdr = binary.BigEndian.AppendUint32(hdr, 1)
	hdr = binary.BigEndian.AppendUint32(hdr, 1)
	chunk := snappyChunk([]byte("hello hello hello"))
	be := func(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
	hugeVarint := cat(be(6), []byte{0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00})
	bigVarint := cat(be(4), []byte{0x80, 0x80, 0x04, 0x00}) // 65536 from 4 bytes
	tests := []struct {
		name   string
		in     []byte
		kind   error
		offset int64
		msg    string
	}{
		{"short header", hdr[:12], decode.ErrTruncated, 0, "expected 16 bytes of 16-byte snappy-java header, input ends after 12"},
		{"version 0", cat(snappyMagic, be(0), be(0)), decode.ErrCorrupt, 0, "expected at least 1"},
		{"future version", cat(snappyMagic, be(2), be(2)), decode.ErrUnsupported, 0, "requires snappy-java stream version 2"},
		{"partial length", cat(hdr, chunk, []byte{0, 0}), decode.ErrTruncated, int64(16 + len(chunk)), "expected 4 bytes of snappy-java chunk length"},
		{"partial chunk", cat(hdr, chunk[:10]), decode.ErrTruncated, 16, "snappy chunk, input ends after 6"},
		{"negative length", cat(hdr, be(0x80000000)), decode.ErrCorrupt, 16, "expected a positive length"},
		{"zero length", cat(hdr, be(0)), decode.ErrCorrupt, 16, "expected a positive length"},
		{"huge length", cat(hdr, be(0x7FFFFFFF)), decode.ErrTooLarge, 16, "expected at most"},
		{"huge varint", cat(hdr, hugeVarint), decode.ErrTooLarge, 16, "chunk declares 4294967295 uncompressed bytes"},
		{"bad block", cat(hdr, be(3), []byte{10, 0xFE, 0xFF}), decode.ErrCorrupt, 16, "expected a valid snappy block"},
		{"impossible ratio", cat(hdr, bigVarint), decode.ErrCorrupt, 16, "chunk declares 65536 uncompressed bytes from 4 compressed; expected at most 88"},
		{"bad second header", cat(hdr, chunk, snappyMagic[:4], []byte("1234567890ab")), decode.ErrCorrupt, int64(16 + len(chunk)), "expected a chunk length or a concatenated stream's"},
		{"truncated second header", cat(hdr, snappyMagic[:6]), decode.ErrTruncated, 16, "expected 16 bytes of 16-byte snappy-java header, input ends after 6"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := decompressKind(tt.in, Snappy)
			de := requireDecodeError(t, err, tt.kind, "snappy")
			assert.Equal(t, tt.offset, de.Offset, "%v", err)
			assert.Contains(t, err.Error(), tt.msg)
		})
	}
}

func TestSnappyConcatenated(t *testing.T) {
	a, b := textData(50000, 1), textData(1000, 2)
	sa, err := Compress(Snappy, Params{}, a)
	require.NoError(t, err)
	sb, err := Compress(Snappy, Params{}, b)
	require.NoError(t, err)
	empty, err := Compress(Snappy, Params{}, nil)
	require.NoError(t, err)
	got, _, err := decompressKind(cat(sa, empty, sb), Snappy)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(cat(a, b), got))
}

func TestSnappyMinBlockSize(t *testing.T) {
	// SnappyOutputStream raises block sizes below 1024 to 1024.
	comp, err := Compress(Snappy, Params{BlockSize: 100}, textData(5000, 1))
	require.NoError(t, err)
	_, r, err := decompressKind(comp, Snappy)
	require.NoError(t, err)
	assert.Equal(t, 1024, r.Params().BlockSize)
}

func TestSnappyCorruption(t *testing.T) {
	files := realCheckpoints(t, snappyMagic)
	orig := files[sortedKeys(files)[0]]
	want, _, err := decompressKind(orig, Snappy)
	require.NoError(t, err)
	// Chunk boundaries: a prefix ending at one is a valid, shorter stream,
	// since snappy-java has no end marker.
	boundaries := map[int]bool{snappyHeaderLen: true}
	for off := snappyHeaderLen; off < len(orig); {
		off += 4 + int(binary.BigEndian.Uint32(orig[off:]))
		boundaries[off] = true
	}
	corruptionCase(t, Snappy, orig, 1,
		func(prefix, out []byte) bool { return boundaries[len(prefix)] && bytes.HasPrefix(want, out) },
		// No checksum: a flipped literal decodes to different bytes.
		func([]byte) bool { return true })
}
