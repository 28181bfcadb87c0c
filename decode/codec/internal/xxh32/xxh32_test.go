package xxh32

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The seed-0 values are the xxHash reference values; the seeded values were
// computed with lz4-java 1.8.0,
// XXHashFactory.safeInstance().hash32().hash(b, 0, len, 0x9747b28c).
func TestChecksum(t *testing.T) {
	tests := []struct {
		in             string
		seed0, seedLZ4 uint32
	}{
		{"", 0x02cc5d05, 0x8d3b42d8},
		{"a", 0x550d7456, 0x12b7e114},
		{"abc", 0x32d153ff, 0x4d4cb222},
		{"message digest", 0x7c948494, 0xad12ccbf},
		{"abcdefghijklmnopqrstuvwxyz", 0x63a14d5f, 0x82d26340},
		{"0123456789012345678901234567890123456789012345678901234567890123456789", 0x5699316a, 0x1f105c2f},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.in), func(t *testing.T) {
			assert.Equal(t, tt.seed0, Checksum([]byte(tt.in), 0), "seed 0")
			assert.Equal(t, tt.seedLZ4, Checksum([]byte(tt.in), LZ4BlockSeed), "seed 0x9747b28c")
		})
	}
}

func BenchmarkChecksum(b *testing.B) {
	buf := make([]byte, 32768)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		Checksum(buf, LZ4BlockSeed)
	}
}
