package codec

import (
	"bytes"
	"io"
	"testing"
)

// benchKinds are the codecs benchmarked, with Spark's default parameters.
var benchKinds = []Kind{LZ4, Snappy, Zstd, LZF, None}

// benchPayload is about 1 MiB of decompressed real checkpoints (generated
// text without the corpus).
func benchPayload(b *testing.B) []byte {
	return payloadFor(None, realisticPayload(b, 1<<20))
}

func BenchmarkDecompress(b *testing.B) {
	data := benchPayload(b)
	for _, k := range benchKinds {
		comp, err := Compress(k, Params{}, data)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(k.String(), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				r, err := NewReaderKind(bytes.NewReader(comp), k)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := r.WriteTo(io.Discard); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(comp))/float64(len(data)), "ratio")
		})
	}
}

func BenchmarkCompress(b *testing.B) {
	data := benchPayload(b)
	for _, k := range benchKinds {
		b.Run(k.String(), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				w, err := NewWriter(io.Discard, k, Params{})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := w.Write(data); err != nil {
					b.Fatal(err)
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
