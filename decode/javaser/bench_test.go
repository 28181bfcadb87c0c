package javaser_test

import (
	"testing"

	"github.com/sparkckpt/sparkckpt/decode/javaser"
	"github.com/sparkckpt/sparkckpt/fixtures/real"
)

// realPayloads returns the decompressed Java streams of every real
// checkpoint file and RDD part file.
func realPayloads(b *testing.B) ([][]byte, int64) {
	var out [][]byte
	var total int64
	for _, f := range real.Files(b, func(rel string) bool { return real.IsCheckpoint(rel) || real.IsRDDPart(rel) }) {
		p := payload(b, f)
		out = append(out, p)
		total += int64(len(p))
	}
	return out, total
}

// BenchmarkParse measures Java-stream parsing throughput (MB/s of
// decompressed stream) over every real checkpoint and RDD part payload.
func BenchmarkParse(b *testing.B) {
	payloads, total := realPayloads(b)
	b.SetBytes(total)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, p := range payloads {
			if _, err := javaser.Parse(p); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkParserReuse is BenchmarkParse with one Parser reused for
// every payload, each tree dropped before the next parse.
func BenchmarkParserReuse(b *testing.B) {
	payloads, total := realPayloads(b)
	var p javaser.Parser
	b.SetBytes(total)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, in := range payloads {
			if _, err := p.Parse(in); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkEncode measures re-encoding throughput on the same payloads.
func BenchmarkEncode(b *testing.B) {
	payloads, total := realPayloads(b)
	streams := make([]*javaser.Stream, len(payloads))
	for i, p := range payloads {
		s, err := javaser.Parse(p)
		if err != nil {
			b.Fatal(err)
		}
		streams[i] = s
	}
	b.SetBytes(total)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, s := range streams {
			if _, err := javaser.Encode(s); err != nil {
				b.Fatal(err)
			}
		}
	}
}
