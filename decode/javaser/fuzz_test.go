package javaser_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/codec"
	"github.com/sparkckpt/sparkckpt/decode/javaser"
	"github.com/sparkckpt/sparkckpt/fixtures/real"
)

// FuzzParse: anything that parses must re-encode to exactly the input, and
// anything that does not must fail with a positioned *decode.Error.
// Seeds: the generated fixtures and, when present, real Spark files.
func FuzzParse(f *testing.F) {
	for _, d := range fuzzSeeds() {
		f.Add(d)
	}
	f.Add([]byte{0xAC, 0xED, 0x00, 0x05, 0x70})
	f.Fuzz(func(t *testing.T, b []byte) {
		// The memory assertion: whatever b says, the tree and the
		// readings abandoned on the way stay within the budget (the check
		// runs before each object, so one object's worth may pass it).
		s, n, err := javaser.TreeBytes(b)
		if n > int64(javaser.TreeBytesPerInputByte*len(b)+1<<20+64<<10) {
			t.Fatalf("the parse allocated %d tree bytes for a %d-byte stream", n, len(b))
		}
		if err != nil {
			var de *decode.Error
			if !errors.As(err, &de) || de.Offset < 0 || de.Offset > int64(len(b)) {
				t.Fatalf("error without a valid position: %v", err)
			}
			return
		}
		out, err := javaser.Encode(s)
		if err != nil {
			t.Fatalf("encode after successful parse: %v", err)
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("round trip differs")
		}
		javaser.Dump(&bytes.Buffer{}, s, javaser.DumpOptions{})
		javaser.JSON(s)
	})
}

// fuzzSeeds are the decompressed streams of the generated fixtures and,
// when present, of real Spark checkpoint and RDD part files (up to 8 per
// pattern).
func fuzzSeeds() [][]byte {
	var seeds [][]byte
	for _, pattern := range []string{"../../fixtures/generated/*", "../../../shared/fixtures-real/*/checkpoint/checkpoint-*", "../../../shared/fixtures-real/*/checkpoint/*/rdd-*/part-00000"} {
		files, _ := filepath.Glob(pattern)
		for i, p := range files {
			if i >= 8 {
				break
			}
			b, err := os.ReadFile(p)
			if err != nil {
				continue
			}
			if d, _, _, err := codec.Decompress(b); err == nil && real.Seed(len(d)) {
				seeds = append(seeds, d)
			}
		}
	}
	return seeds
}
