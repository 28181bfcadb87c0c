package codec

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/fixtures/real"
)

// addSeeds adds the real fixtures starting with magic (when present) and
// small generated streams of codec k.
func addSeeds(f *testing.F, k Kind, magic []byte) {
	if _, err := os.Stat(realFixturesDir); err == nil {
		files := realCheckpoints(f, magic)
		for _, name := range sortedKeys(files) {
			if real.Seed(len(files[name])) {
				f.Add(files[name])
			}
		}
	}
	for i, data := range [][]byte{nil, {0}, []byte("hello"), textData(100, 1), textData(5000, 2), randomData(300, 3), textData(70000, 4)} {
		p := Params{}
		if k == LZ4 && i%2 == 1 {
			p.BlockSize = 64
		}
		b, err := Compress(k, p, payloadFor(k, data))
		if err != nil {
			f.Fatal(err)
		}
		if real.Seed(len(b)) {
			f.Add(b)
		}
	}
}

// fuzzReader reads b as codec k and checks the error contract: any failure
// is an I/O-free *decode.Error at an offset within the input whose message
// says what was expected; success re-encodes and decodes back.
func fuzzReader(t *testing.T, k Kind, b []byte) {
	out, r, err := decompressKind(b, k)
	if err != nil {
		var de *decode.Error
		if !errors.As(err, &de) {
			t.Fatalf("not a *decode.Error: %T %v", err, err)
		}
		if de.Offset < 0 || de.Offset > int64(len(b)) {
			t.Fatalf("offset %d outside the %d-byte input: %v", de.Offset, len(b), err)
		}
		if !bytes.Contains([]byte(err.Error()), []byte("expected")) {
			t.Fatalf("message does not say what was expected: %v", err)
		}
		return
	}
	p := r.Params()
	re, err := Compress(k, p, out)
	if err != nil {
		t.Fatalf("re-encoding with observed %+v: %v", p, err)
	}
	back, _, err := decompressKind(re, k)
	if err != nil {
		t.Fatalf("decoding the re-encoding: %v", err)
	}
	if !bytes.Equal(out, back) {
		t.Fatal("re-encoding decodes to different data")
	}
}

func FuzzLZ4Reader(f *testing.F) {
	addSeeds(f, LZ4, lz4Magic)
	f.Fuzz(func(t *testing.T, b []byte) { fuzzReader(t, LZ4, b) })
}

func FuzzSnappyReader(f *testing.F) {
	addSeeds(f, Snappy, snappyMagic)
	f.Fuzz(func(t *testing.T, b []byte) { fuzzReader(t, Snappy, b) })
}

func FuzzZstdReader(f *testing.F) {
	addSeeds(f, Zstd, zstdMagic)
	f.Fuzz(func(t *testing.T, b []byte) { fuzzReader(t, Zstd, b) })
}

func FuzzLZFReader(f *testing.F) {
	addSeeds(f, LZF, lzfMagic)
	f.Fuzz(func(t *testing.T, b []byte) { fuzzReader(t, LZF, b) })
}

// FuzzRoundTrip compresses arbitrary data with every codec and generation
// and requires it back, through the detecting reader where the stream is
// non-empty.
func FuzzRoundTrip(f *testing.F) {
	for _, b := range [][]byte{nil, {0}, []byte("hello, hello, hello, hello"), textData(3000, 1), randomData(100, 2)} {
		f.Add(b, uint16(0))
	}
	if real.Seed(70000) {
		f.Add(textData(70000, 3), uint16(64))
	}
	f.Fuzz(func(t *testing.T, data []byte, blockSize uint16) {
		params := []struct {
			k Kind
			p Params
		}{
			{None, Params{}},
			{LZ4, Params{BlockSize: max(64, int(blockSize))}},
			{LZ4, Params{BlockSize: max(64, int(blockSize)), LZ4: LZ4PureJava}},
			{Snappy, Params{BlockSize: int(blockSize)}},
			{Snappy, Params{Snappy: SnappyGo}},
			{Snappy, Params{BlockSize: int(blockSize), Snappy: SnappyLegacy}},
			{Zstd, Params{}},
			{LZF, Params{BlockSize: int(blockSize)}},
		}
		for _, c := range params {
			in := payloadFor(c.k, data)
			comp, err := Compress(c.k, c.p, in)
			if err != nil {
				t.Fatalf("%v %+v: %v", c.k, c.p, err)
			}
			r, err := NewReaderKind(bytes.NewReader(comp), c.k)
			if err != nil {
				t.Fatalf("%v %+v: %v", c.k, c.p, err)
			}
			out, err := io.ReadAll(r)
			if err != nil {
				t.Fatalf("%v %+v: %v", c.k, c.p, err)
			}
			if !bytes.Equal(in, out) {
				t.Fatalf("%v %+v: round trip differs", c.k, c.p)
			}
			if len(comp) > 0 {
				out, k, _, err := Decompress(comp)
				if err != nil || k != c.k || !bytes.Equal(in, out) {
					t.Fatalf("%v %+v: Decompress: %v %v", c.k, c.p, k, err)
				}
			}
		}
	})
}
