package wal_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/sparkckpt/sparkckpt/decode/wal"
	"github.com/sparkckpt/sparkckpt/fixtures/real"
)

// BenchmarkReadRealLogs reads and decodes every real driver log (framing,
// byte[][] batches, Java streams, events).
func BenchmarkReadRealLogs(b *testing.B) {
	var files [][]byte
	var total int64
	for _, p := range real.Files(b, real.IsMetadataLog) {
		d, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		files = append(files, d)
		total += int64(len(d))
	}
	b.SetBytes(total)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		events := 0
		for _, d := range files {
			r := wal.NewReader(bytes.NewReader(d))
			for r.Next() {
				rec, err := wal.DecodeRecord(r.Record())
				if err != nil {
					b.Fatal(err)
				}
				events += len(rec.Events)
			}
			if r.Err() != nil {
				b.Fatal(r.Err())
			}
		}
		if events != 1057 {
			b.Fatalf("decoded %d events", events)
		}
	}
}

// BenchmarkReader is the framing layer alone.
func BenchmarkReader(b *testing.B) {
	var files [][]byte
	var total int64
	for _, p := range real.Files(b, real.IsMetadataLog) {
		d, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		files = append(files, d)
		total += int64(len(d))
	}
	b.SetBytes(total)
	b.ReportAllocs()
	for b.Loop() {
		for _, d := range files {
			r := wal.NewReader(bytes.NewReader(d))
			for r.Next() {
			}
		}
	}
}
