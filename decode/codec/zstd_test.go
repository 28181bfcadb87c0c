package codec

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sparkckpt/sparkckpt/decode"
)

// zstdBlock is a block found by zstdBlocks.
type zstdBlock struct {
	off  int // offset of the 3-byte header
	typ  int
	size int // content bytes
}

// zstdBlocks lists the blocks of a single frame without dictionary, written
// independently of zstdFramer.
func zstdBlocks(t *testing.T, b []byte) (blocks []zstdBlock, end int) {
	t.Helper()
	require.Equal(t, zstdMagic, b[:4])
	fhd := b[4]
	p := 5
	if fhd&0x20 == 0 {
		p++ // window descriptor
	}
	p += [4]int{0, 2, 4, 8}[fhd>>6]
	if fhd>>6 == 0 && fhd&0x20 != 0 {
		p++
	}
	for {
		v := int(b[p]) | int(b[p+1])<<8 | int(b[p+2])<<16
		blk := zstdBlock{off: p, typ: v >> 1 & 3, size: v >> 3}
		blocks = append(blocks, blk)
		if blk.typ == 1 {
			blk.size = 1
		}
		p += 3 + blk.size
		if v&1 != 0 {
			break
		}
	}
	if fhd&0x04 != 0 {
		p += 4
	}
	return blocks, p
}

func zstdEncode(t *testing.T, data []byte, opts ...zstd.EOption) []byte {
	enc, err := zstd.NewWriter(nil, opts...)
	require.NoError(t, err)
	return enc.EncodeAll(data, nil)
}

func TestZstdFrames(t *testing.T) {
	a, b := textData(300000, 1), randomData(5000, 2)
	fa := zstdEncode(t, a, zstd.WithEncoderCRC(true))
	fb := zstdEncode(t, b, zstd.WithSingleSegment(true))
	skippable := cat([]byte{0x5A, 0x2A, 0x4D, 0x18}, binary.LittleEndian.AppendUint32(nil, 3), []byte("abc"))
	emptySkippable := []byte{0x50, 0x2A, 0x4D, 0x18, 0, 0, 0, 0}
	got, _, err := decompressKind(cat(fa, skippable, fb, emptySkippable, fa), Zstd)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(cat(a, b, a), got))
}

func TestZstdErrors(t *testing.T) {
	data := textData(200000, 3)
	frame := zstdEncode(t, data, zstd.WithEncoderCRC(true))
	blocks, end := zstdBlocks(t, frame)
	require.Equal(t, len(frame), end)
	var comp zstdBlock
	for _, b := range blocks {
		if b.typ == 2 && b.size > 100 {
			comp = b
			break
		}
	}
	require.NotZero(t, comp.off, "a compressed block")

	corruptBlock := bytes.Clone(frame)
	for i := comp.off + 3; i < comp.off+3+comp.size; i += 7 {
		corruptBlock[i] ^= 0x5A
	}
	badSum := bytes.Clone(frame)
	badSum[len(badSum)-1] ^= 1
	reserved := bytes.Clone(frame)
	reserved[4] |= 0x08
	badType := bytes.Clone(frame)
	badType[blocks[0].off] |= 0x06
	bigBlock := bytes.Clone(frame)
	bigBlock[blocks[0].off+2] = 0xFF
	dict := []byte{0x28, 0xB5, 0x2F, 0xFD, 0x01, 0x00, 0x07}
	hugeWindow := []byte{0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x89} // window 2^27 + 2^27/8
	tests := []struct {
		name   string
		in     []byte
		kind   error
		offset int64
		msg    string
	}{
		{"corrupt block", corruptBlock, decode.ErrCorrupt, int64(comp.off), "expected a valid zstd block (frame at offset 0)"},
		{"checksum", badSum, decode.ErrCorrupt, int64(len(frame) - 4), "expected a valid zstd block"},
		{"trailing garbage", cat(frame, []byte("garbage")), decode.ErrCorrupt, int64(len(frame)), "expected zstd frame magic 28 B5 2F FD or a skippable frame after the previous frame"},
		{"reserved bit", reserved, decode.ErrCorrupt, 0, "expected reserved bit 3 to be zero"},
		{"reserved block type", badType, decode.ErrCorrupt, int64(blocks[0].off), "expected block type 0 (raw), 1 (RLE) or 2 (compressed)"},
		{"block too large", bigBlock, decode.ErrCorrupt, int64(blocks[0].off), "expected at most 131072"},
		{"dictionary", dict, decode.ErrUnsupported, 0, "frame needs dictionary 7"},
		{"huge window", hugeWindow, decode.ErrTooLarge, 0, "frame window is 150994944 bytes, expected at most 134217728"},
		{"truncated header", frame[:5], decode.ErrTruncated, 0, "zstd frame header"},
		{"truncated block", frame[:comp.off+10], decode.ErrTruncated, int64(comp.off), "more bytes of zstd block content"},
		{"truncated block header", frame[:comp.off+1], decode.ErrTruncated, int64(comp.off), "expected 3 bytes of zstd block header, input ends after 1"},
		{"truncated checksum", frame[:len(frame)-2], decode.ErrTruncated, int64(len(frame) - 4), "zstd frame checksum"},
		{"truncated skippable", cat(frame, []byte{0x5A, 0x2A, 0x4D, 0x18, 9, 0}), decode.ErrTruncated, int64(len(frame)), "skippable frame size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := decompressKind(tt.in, Zstd)
			de := requireDecodeError(t, err, tt.kind, "zstd")
			assert.Equal(t, tt.offset, de.Offset, "%v", err)
			assert.Contains(t, err.Error(), tt.msg)
		})
	}
}

func TestZstdCorruption(t *testing.T) {
	data := textData(40000, 4)
	f1 := zstdEncode(t, data[:25000])
	f2 := zstdEncode(t, data[25000:])
	orig := cat(f1, f2)
	corruptionCase(t, Zstd, orig, 3,
		func(prefix, out []byte) bool {
			return len(prefix) == 0 || len(prefix) == len(f1) && bytes.Equal(out, data[:25000])
		},
		// Spark's zstd frames carry no checksum.
		func([]byte) bool { return true })
}
