package codec

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/sparkckpt/sparkckpt/decode"
)

// bomb returns raw bytes of zeros compressed with k.
func bomb(t *testing.T, k Kind, raw int) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := NewWriter(&out, k, Params{})
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for n := raw; n > 0; n -= len(zeros) {
		if _, err := w.Write(zeros[:min(n, len(zeros))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestMaxDecompressed: every codec's reader stops at the bound with a
// positioned ErrTooLarge, through Read, WriteTo and DecompressLimits, and
// reads a stream of exactly the bound.
func TestMaxDecompressed(t *testing.T) {
	const limit = 1 << 20
	for _, k := range []Kind{LZ4, Snappy, Zstd, LZF, None} {
		t.Run(k.String(), func(t *testing.T) {
			var over, exact []byte
			if k == None {
				over = append([]byte{0xAC, 0xED, 0, 5}, make([]byte, 4*limit)...)
				exact = append([]byte{0xAC, 0xED, 0, 5}, make([]byte, limit-4)...)
			} else {
				over, exact = bomb(t, k, 4*limit), bomb(t, k, limit)
			}
			_, _, _, err := DecompressLimits(over, nil, decode.Limits{MaxDecompressed: limit})
			var de *decode.Error
			if !errors.As(err, &de) || !errors.Is(err, decode.ErrTooLarge) {
				t.Fatalf("DecompressLimits: got %v, want a *decode.Error wrapping ErrTooLarge", err)
			}
			if de.Format != k.formatName() || de.Offset <= 0 || de.Offset >= int64(len(over)) {
				t.Errorf("error %v: want format %s and an offset inside the %d-byte input", err, k.formatName(), len(over))
			}
			r, err := NewReader(bytes.NewReader(over))
			if err != nil {
				t.Fatal(err)
			}
			r.SetMaxDecompressed(limit)
			n, err := io.Copy(io.Discard, r)
			if !errors.Is(err, decode.ErrTooLarge) || n > limit {
				t.Errorf("io.Copy: %d bytes, %v; want at most %d bytes and ErrTooLarge", n, err, limit)
			}
			r, _ = NewReader(bytes.NewReader(over))
			r.SetMaxDecompressed(limit)
			if n, err := io.CopyBuffer(struct{ io.Writer }{io.Discard}, struct{ io.Reader }{r}, make([]byte, 4096)); !errors.Is(err, decode.ErrTooLarge) || n > limit {
				t.Errorf("Read: %d bytes, %v; want at most %d bytes and ErrTooLarge", n, err, limit)
			}
			got, _, _, err := DecompressLimits(exact, nil, decode.Limits{MaxDecompressed: limit})
			if err != nil || len(got) != limit {
				t.Errorf("stream of exactly the limit: %d bytes, %v", len(got), err)
			}
		})
	}
}

// TestMaxDecompressedDefault: a Reader starts with the default bound.
func TestMaxDecompressedDefault(t *testing.T) {
	r, err := NewReader(bytes.NewReader(bomb(t, Zstd, decode.DefaultMaxDecompressed+1)))
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, r)
	if !errors.Is(err, decode.ErrTooLarge) || n > decode.DefaultMaxDecompressed {
		t.Errorf("%d bytes, %v; want at most %d and ErrTooLarge", n, err, decode.DefaultMaxDecompressed)
	}
}
