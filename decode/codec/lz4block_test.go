package codec

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/pierrec/lz4/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/codec/internal/xxh32"
)

// TestLZ4RealFilesByteExact re-encodes every LZ4 checkpoint Spark wrote in the
// corpus and requires the original bytes.
func TestLZ4RealFilesByteExact(t *testing.T) {
	files := realCheckpoints(t, lz4Magic)
	require.NotEmpty(t, files)
	pureJava := 0
	for _, name := range sortedKeys(files) {
		b := files[name]
		raw, k, p, err := Decompress(b)
		require.NoError(t, err, name)
		require.Equal(t, LZ4, k)
		re, err := Compress(k, p, raw)
		require.NoError(t, err)
		if !bytes.Equal(re, b) {
			t.Errorf("%s: re-encoding with %+v differs from the original:\n%s", name, p, bytediff(re, b))
		}
		p.LZ4 = LZ4PureJava
		if re, _ := Compress(k, p, raw); bytes.Equal(re, b) {
			pureJava++
		}
		_, ip, exact, err := Identify(b)
		require.NoError(t, err)
		assert.True(t, exact)
		assert.Equal(t, LZ4Native, ip.LZ4, "Identify prefers LZ4Native")
	}
	t.Logf("%d files byte-exact with LZ4Native; %d also with LZ4PureJava", len(files), pureJava)
}

// TestLZ4RealFilesIdentify checks every LZ4Block file of the corpus
// (checkpoints, state store deltas, snapshots and changelogs, written by
// Spark 2.1 to 4.x) decodes, and that Identify finds parameters reproducing
// it byte for byte.
func TestLZ4RealFilesIdentify(t *testing.T) {
	files := realFiles(t, lz4Magic, func(string) bool { return true })
	byImpl := map[LZ4Impl]int{}
	for _, name := range sortedKeys(files) {
		k, p, exact, err := Identify(files[name])
		require.NoError(t, err, name)
		require.Equal(t, LZ4, k)
		if !exact {
			t.Errorf("%s: not reproduced by any LZ4Impl", name)
			continue
		}
		byImpl[p.LZ4]++
	}
	t.Logf("%d LZ4Block files, reproduced by: %v", len(files), byImpl)
}

// bytediff describes the first difference between got and want.
func bytediff(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	lo := max(0, i-8)
	return fmt.Sprintf("lengths %d, %d; first difference at offset %d\n got: % X\nwant: % X",
		len(got), len(want), i, got[lo:min(len(got), i+8)], want[lo:min(len(want), i+8)])
}

// Vectors written by lz4-java 1.8.0 LZ4BlockOutputStream (JNI compressor).
func TestLZ4Vectors(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		blockSize int
		hex       string
	}{
		{"empty", "", 64, "4c5a34426c6f636b10000000000000000000000000"},
		{"two blocks", "hello, hello, hello, hello, hello! spark checkpoint spark checkpoint", 64,
			"4c5a34426c6f636b202700000040000000d25daa097f68656c6c6f2c20070007f4032120737061726b20636865636b706f696e74" +
				"1100506865636b704c5a34426c6f636b1004000000040000001cd8f5036f696e74" +
				"4c5a34426c6f636b10000000000000000000000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, _ := hex.DecodeString(tt.hex)
			got, err := Compress(LZ4, Params{BlockSize: tt.blockSize}, []byte(tt.in))
			require.NoError(t, err)
			assert.Equal(t, tt.hex, hex.EncodeToString(got))
			raw, _, err := decompressKind(want, LZ4)
			require.NoError(t, err)
			assert.Equal(t, tt.in, string(raw))
		})
	}
}

// lz4Header builds an LZ4Block header.
func lz4Header(token byte, compLen, rawLen, check uint32) []byte {
	h := append([]byte(nil), lz4Magic...)
	h = append(h, token)
	h = binary.LittleEndian.AppendUint32(h, compLen)
	h = binary.LittleEndian.AppendUint32(h, rawLen)
	return binary.LittleEndian.AppendUint32(h, check)
}

var lz4EndMark = lz4Header(0x15, 0, 0, 0)

func lz4RawBlock(data []byte) []byte {
	sum := xxh32.Checksum(data, xxh32.LZ4BlockSeed) & lz4ChecksumMask
	return append(lz4Header(0x15, uint32(len(data)), uint32(len(data)), sum), data...)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestLZ4Errors(t *testing.T) {
	hello := []byte("hello")
	block := lz4RawBlock(hello)
	badSum := lz4RawBlock(hello)
	badSum[17] ^= 1
	tests := []struct {
		name   string
		in     []byte
		kind   error
		offset int64
		msg    string
	}{
		{"no end mark", block, decode.ErrTruncated, 26, "without an end mark"},
		{"truncated header", cat(block, lz4EndMark[:10]), decode.ErrTruncated, 26, "expected 21 bytes of LZ4Block header, input ends after 10"},
		{"truncated payload", block[:23], decode.ErrTruncated, 0, "expected 5 bytes of LZ4Block payload, input ends after 2"},
		{"checksum", cat(badSum, lz4EndMark), decode.ErrCorrupt, 0, "checksum mismatch: expected header 0x"},
		{"end mark checksum", lz4Header(0x15, 0, 0, 7), decode.ErrCorrupt, 0, "end mark has checksum 0x00000007, expected 0"},
		{"bad method", cat(lz4Header(0x35, 5, 5, 0), hello), decode.ErrCorrupt, 0, "expected method 0x10 (raw) or 0x20 (lz4)"},
		{"too large for level", lz4Header(0x25, 100, 40000, 0), decode.ErrCorrupt, 0, "block declares 40000 decompressed bytes, more than the 32768 its token 0x25 allows"},
		{"raw length mismatch", lz4Header(0x15, 4, 5, 0), decode.ErrCorrupt, 0, "expected it to equal the decompressed length 5"},
		{"one length zero", lz4Header(0x25, 0, 5, 0), decode.ErrCorrupt, 0, "expected both lengths zero"},
		{"negative", lz4Header(0x2F, 0x80000000, 5, 0), decode.ErrCorrupt, 0, "expected non-negative lengths"},
		{"compressed too long", lz4Header(0x25, 1000, 10, 0), decode.ErrCorrupt, 0, "expected at most 26"},
		{"garbage after end mark", cat(block, lz4EndMark, []byte("garbage garbage garbage")), decode.ErrCorrupt, 47, "expected LZ4Block magic"},
		{"bad lz4 data", cat(lz4Header(0x25, 3, 5, 0), []byte{0xF0, 0xFF, 0xFF}), decode.ErrCorrupt, 0, "expected a valid LZ4 block"},
		{"lz4 data too short", cat(lz4Header(0x25, 4, 10, 0), []byte{0x30, 'a', 'b', 'c'}), decode.ErrCorrupt, 0, "decompresses to 3 bytes, expected the declared 10"},
		{"impossible ratio", cat(lz4Header(0x25, 10, 30000, 0), make([]byte, 10)), decode.ErrCorrupt, 0, "block declares 30000 decompressed bytes from 10 compressed; expected at most 2550"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := decompressKind(tt.in, LZ4)
			de := requireDecodeError(t, err, tt.kind, "lz4block")
			assert.Equal(t, tt.offset, de.Offset, "%v", err)
			assert.Contains(t, err.Error(), tt.msg)
		})
	}
}

func TestLZ4Concatenated(t *testing.T) {
	a, b := textData(50000, 1), randomData(40000, 2)
	sa, err := Compress(LZ4, Params{}, a)
	require.NoError(t, err)
	sb, err := Compress(LZ4, Params{BlockSize: 1 << 16}, b)
	require.NoError(t, err)
	empty, err := Compress(LZ4, Params{}, nil)
	require.NoError(t, err)
	got, _, err := decompressKind(cat(sa, empty, sb, empty), LZ4)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(cat(a, b), got))

	// An LZ4 end mark token with zero lengths is accepted, as lz4-java does.
	got, _, err = decompressKind(cat(lz4RawBlock([]byte("x")), lz4Header(0x25, 0, 0, 0)), LZ4)
	require.NoError(t, err)
	assert.Equal(t, "x", string(got))
}

func TestLZ4Params(t *testing.T) {
	tests := []struct {
		name      string
		blockSize int
		n         int
		want      int
	}{
		{"several blocks", 40000, 100000, 40000},
		{"one block: the token's size", 40000, 1000, 65536},
		{"empty", 32768, 0, 32768},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			comp, err := Compress(LZ4, Params{BlockSize: tt.blockSize}, textData(tt.n, 1))
			require.NoError(t, err)
			_, r, err := decompressKind(comp, LZ4)
			require.NoError(t, err)
			assert.Equal(t, tt.want, r.Params().BlockSize)
		})
	}
}

// TestLZ4NativeMatchesCCompat cross-checks the LZ4Native port against
// pierrec/lz4's CompressorCCompat, an independent port of
// LZ4_compress_fast verified against liblz4 1.10.
func TestLZ4NativeMatchesCCompat(t *testing.T) {
	var c lz4Compressor
	var cc lz4.CompressorCCompat
	r := rand.New(rand.NewPCG(1, 1))
	for i := range 400 {
		var n int
		switch i % 4 {
		case 0:
			n = r.IntN(100)
		case 1:
			n = r.IntN(70000)
		case 2:
			n = 65530 + r.IntN(30) // around the 64K limit
		default:
			n = 65547 + r.IntN(300000)
		}
		src := make([]byte, n)
		alphabet := 2 + r.IntN(40)
		for j := range src {
			src[j] = byte('a' + r.IntN(alphabet))
		}
		if i%5 == 0 {
			src = textData(n, uint64(i))
		}
		want := make([]byte, lz4Bound(n))
		m, err := cc.CompressBlock(src, want)
		require.NoError(t, err)
		got := make([]byte, lz4Bound(n))
		g := c.compress(LZ4Native, src, got)
		if !bytes.Equal(got[:g], want[:m]) {
			t.Fatalf("input %d (%d bytes): %s", i, n, bytediff(got[:g], want[:m]))
		}
	}
}

func TestLZ4CompressDecompresses(t *testing.T) {
	var c lz4Compressor
	for _, impl := range []LZ4Impl{LZ4Native, LZ4PureJava} {
		for _, n := range []int{0, 1, 12, 13, 14, 100, 65546, 65547, 200000} {
			for _, src := range [][]byte{textData(n, 1), randomData(n, 1), make([]byte, n)} {
				dst := make([]byte, lz4Bound(n))
				m := c.compress(impl, src, dst)
				out := make([]byte, n)
				k, err := lz4.UncompressBlock(dst[:m], out)
				if n == 0 {
					assert.Equal(t, []byte{0}, dst[:m])
					continue
				}
				require.NoError(t, err, "%v %d", impl, n)
				require.Equal(t, n, k)
				require.True(t, bytes.Equal(src, out))
			}
		}
	}
}

// corruptionCase reads every stride-th prefix and many bit-flipped copies of
// a stream and checks that the reader fails cleanly, at an offset within the
// input, saying what it expected. truncOK and flipOK decide whether a
// mutation that decoded without error is acceptable.
func corruptionCase(t *testing.T, k Kind, orig []byte, stride int, truncOK func(prefix, out []byte) bool, flipOK func(out []byte) bool) {
	want, _, err := decompressKind(orig, k)
	require.NoError(t, err)
	checkErr := func(err error, what string, n int) {
		t.Helper()
		var de *decode.Error
		if !errors.As(err, &de) {
			t.Fatalf("%s: want *decode.Error, got %T: %v", what, err, err)
		}
		if de.Format != k.formatName() {
			t.Fatalf("%s: format %q: %v", what, de.Format, err)
		}
		if de.Offset < 0 || de.Offset > int64(n) {
			t.Fatalf("%s: offset %d outside the %d-byte input: %v", what, de.Offset, n, err)
		}
		if !bytes.Contains([]byte(err.Error()), []byte("expected")) {
			t.Fatalf("%s: message does not say what was expected: %v", what, err)
		}
	}

	clean := 0
	for n := 0; n < len(orig); n += stride {
		out, _, err := decompressKind(orig[:n], k)
		if err == nil {
			if !truncOK(orig[:n], out) {
				t.Fatalf("prefix of %d bytes decoded without error", n)
			}
			clean++
			continue
		}
		if !errors.Is(err, decode.ErrTruncated) {
			t.Fatalf("prefix of %d bytes: want ErrTruncated, got %v", n, err)
		}
		checkErr(err, fmt.Sprintf("prefix of %d bytes", n), n)
	}

	r := rand.New(rand.NewPCG(20260101, uint64(len(orig))))
	undetected := 0
	const flips = 3000
	for i := range flips {
		b := bytes.Clone(orig)
		nflip := 1 + r.IntN(3)
		for range nflip {
			b[r.IntN(len(b))] ^= 1 << r.IntN(8)
		}
		out, _, err := decompressKind(b, k)
		if err == nil {
			if !flipOK(out) {
				t.Fatalf("flip %d: decoded without error to different data", i)
			}
			if !bytes.Equal(out, want) {
				undetected++
			}
			continue
		}
		checkErr(err, fmt.Sprintf("flip %d", i), len(b))
	}
	t.Logf("%d of %d prefixes decode cleanly; %d of %d bit-flipped copies decode without error to different data",
		clean, (len(orig)+stride-1)/stride, undetected, flips)
}

func TestLZ4Corruption(t *testing.T) {
	files := realCheckpoints(t, lz4Magic)
	orig := files[sortedKeys(files)[0]]
	want, _, err := decompressKind(orig, LZ4)
	require.NoError(t, err)
	corruptionCase(t, LZ4, orig, 1,
		func([]byte, []byte) bool { return false },
		// Only flips that leave the data intact (e.g. raising a token's
		// level) may go unnoticed: every block has a checksum.
		func(out []byte) bool { return bytes.Equal(out, want) })
}

func TestLZ4ReaderSmallBuffers(t *testing.T) {
	data := textData(100000, 9)
	comp, err := Compress(LZ4, Params{}, data)
	require.NoError(t, err)
	r, err := NewReaderKind(bytes.NewReader(comp), LZ4)
	require.NoError(t, err)
	var out []byte
	buf := make([]byte, 7)
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
	}
	assert.True(t, bytes.Equal(data, out))
}
