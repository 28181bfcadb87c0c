package wal_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/javaser"
	"github.com/sparkckpt/sparkckpt/decode/wal"
	"github.com/sparkckpt/sparkckpt/fixtures/real"
)

// seedFiles returns the generated fixtures and, when ../shared is present,
// the real driver logs.
func seedFiles() [][]byte {
	var out [][]byte
	for _, p := range append(generatedFiles(), realLogsIfPresent()...) {
		if b, err := os.ReadFile(p); err == nil {
			out = append(out, b)
		}
	}
	return out
}

// mutationSeeds is seedFiles without what real.Seed keeps from the
// mutator: whole logs of many KB stay regression seeds of go test.
func mutationSeeds() [][]byte {
	var out [][]byte
	for _, b := range seedFiles() {
		if real.Seed(len(b)) {
			out = append(out, b)
		}
	}
	return out
}

// FuzzReader: any input frames into records, a tail and at most one
// positioned error; what was read rewrites to exactly the input.
func FuzzReader(f *testing.F) {
	for _, b := range mutationSeeds() {
		f.Add(b)
	}
	f.Add([]byte{0, 0, 0})
	f.Add([]byte{0xFF, 0xFF, 0xFF, 0xFF, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := wal.NewReaderLimits(bytes.NewReader(b), decode.Limits{MaxAlloc: 1 << 20})
		var out bytes.Buffer
		w := wal.NewWriter(&out)
		last := int64(-1)
		for r.Next() {
			if r.Offset() <= last {
				t.Fatalf("offsets not increasing: %d after %d", r.Offset(), last)
			}
			last = r.Offset()
			off, err := w.WriteRecord(r.Record())
			if err != nil || off != r.Offset() {
				t.Fatalf("writer offset %d, reader offset %d, err %v", off, r.Offset(), err)
			}
		}
		if err := r.Err(); err != nil {
			var de *decode.Error
			if !errors.As(err, &de) || de.Offset < 0 || de.Offset > int64(len(b)) || de.Offset != r.Offset() {
				t.Fatalf("error without a valid position: %v", err)
			}
			if r.Tail() != nil {
				t.Fatal("both an error and a tail")
			}
			if !bytes.Equal(out.Bytes(), b[:de.Offset]) {
				t.Fatal("records before the error do not rewrite to the input")
			}
			return
		}
		w.WriteTail(r.Tail())
		if !bytes.Equal(out.Bytes(), b) {
			t.Fatalf("rewrite differs from input (%d vs %d bytes)", out.Len(), len(b))
		}
	})
}

// FuzzDecodeRecord: a payload decodes and re-encodes byte for byte, or
// fails with a positioned error; events, their JSON, segment checks and
// the data summary never panic.
func FuzzDecodeRecord(f *testing.F) {
	for _, b := range seedFiles() {
		r := wal.NewReader(bytes.NewReader(b))
		for n := 0; r.Next() && n < 12; n++ {
			if real.Seed(len(r.Record())) {
				f.Add(bytes.Clone(r.Record()))
			}
		}
	}
	f.Add([]byte{0xAC, 0xED, 0x00, 0x05})
	f.Fuzz(func(t *testing.T, b []byte) {
		sum := wal.SummarizeData(b)
		if sum.Stream != nil {
			enc, err := javaser.Encode(sum.Stream)
			if err != nil || !bytes.Equal(enc, b) {
				t.Fatalf("data summary stream does not re-encode: %v", err)
			}
		}
		rec, err := wal.DecodeRecord(b)
		if err != nil {
			var de *decode.Error
			if !errors.As(err, &de) || de.Offset < 0 || de.Offset > int64(len(b)) {
				t.Fatalf("error without a valid position: %v", err)
			}
			return
		}
		for _, e := range rec.Events {
			if e.Err != nil {
				var de *decode.Error
				if !errors.As(e.Err, &de) || de.Offset < 0 || de.Offset > int64(len(b)) {
					t.Fatalf("event error without a valid position: %v", e.Err)
				}
			}
			if _, err := json.Marshal(e); err != nil {
				t.Fatalf("json: %v", err)
			}
		}
		wal.CheckSegments(rec.Events, func(string) (io.ReaderAt, int64, error) {
			return bytes.NewReader(b), int64(len(b)), nil
		})
		enc, err := rec.Encode()
		if err != nil {
			t.Fatalf("encode after successful decode: %v", err)
		}
		if !bytes.Equal(enc, b) {
			t.Fatalf("round trip differs")
		}
	})
}
