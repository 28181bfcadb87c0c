package codec

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"

	"github.com/pierrec/lz4/v4"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/codec/internal/xxh32"
)

// LZ4Block header layout (§2.3):
//
//	offset size field
//	0      8    magic "LZ4Block"
//	8      1    token: method (0x10 RAW, 0x20 LZ4) | level
//	9      4 LE compressedLength
//	13     4 LE decompressedLength, at most 1<<(10+level)
//	17     4 LE XXH32(decompressed, seed 0x9747b28c) & 0x0FFFFFFF
//	21          payload
const (
	lz4HeaderLen     = 21
	lz4MethodRaw     = 0x10
	lz4MethodLZ4     = 0x20
	lz4LevelBase     = 10
	lz4ChecksumMask  = 0x0FFFFFFF
	lz4MinBlockSize  = 64
	lz4MaxBlockSize  = 1 << (lz4LevelBase + 0x0F) // 32 MiB
	lz4MagicExpected = `LZ4Block magic 4C 5A 34 42 6C 6F 63 6B`
	lz4MaxRatio      = 255
)

// lz4Source decodes an lz4-java LZ4Block stream. Like lz4-java's
// LZ4BlockInputStream with stopOnEmptyBlock=false (Spark 2.2+), it continues
// past an end mark when another block header follows (concatenated
// streams). Unlike it, it accepts the end of input only right after an end
// mark: lz4-java 1.8 also stops silently at a torn header, which hides
// truncation.
type lz4Source struct {
	in   input
	hdr  [lz4HeaderLen]byte
	comp []byte
	out  []byte

	firstLevel   int // level of the first header, -1 before it
	firstSize    int // decompressed size of the first data block
	dataBlocks   int
	afterEndMark bool // the last header read was an end mark
	at           int64
}

func (s *lz4Source) offset() int64 { return s.at }

func newLZ4Source(br *bufio.Reader) (*lz4Source, error) {
	prefix, _ := br.Peek(DetectLen)
	if !bytes.HasPrefix(prefix, lz4Magic) {
		return nil, wrongMagic(LZ4, prefix, lz4MagicExpected)
	}
	return &lz4Source{in: input{r: br, format: "lz4block"}, firstLevel: -1}, nil
}

func (s *lz4Source) params() Params {
	p := Params{BlockSize: DefaultLZ4BlockSize}
	switch {
	case s.dataBlocks > 1:
		p.BlockSize = s.firstSize
	case s.firstLevel >= 0:
		p.BlockSize = 1 << (lz4LevelBase + s.firstLevel)
	}
	return p
}

func (s *lz4Source) next() ([]byte, error) {
	for {
		at := s.in.off
		s.at = at
		err := s.in.readFull(s.hdr[:], at, "LZ4Block header")
		if err == io.EOF {
			if s.afterEndMark {
				return nil, io.EOF
			}
			return nil, decode.Errorf("lz4block", at, decode.ErrTruncated,
				"expected an LZ4Block header or end mark, input ends without an end mark")
		}
		if err != nil {
			return nil, err
		}
		h := s.hdr[:]
		if !bytes.Equal(h[:8], lz4Magic) {
			return nil, decode.Errorf("lz4block", at, decode.ErrCorrupt,
				"expected %s, got % X", lz4MagicExpected, h[:8])
		}
		token := h[8]
		method, level := int(token&0xF0), int(token&0x0F)
		compLen := int64(binary.LittleEndian.Uint32(h[9:]))
		rawLen := int64(binary.LittleEndian.Uint32(h[13:]))
		check := binary.LittleEndian.Uint32(h[17:])
		maxRaw := int64(1) << (lz4LevelBase + level)
		switch {
		case method != lz4MethodRaw && method != lz4MethodLZ4:
			return nil, decode.Errorf("lz4block", at, decode.ErrCorrupt,
				"token 0x%02X: expected method 0x10 (raw) or 0x20 (lz4)", token)
		case int32(rawLen) < 0 || int32(compLen) < 0:
			return nil, decode.Errorf("lz4block", at, decode.ErrCorrupt,
				"expected non-negative lengths, block declares compressed %d, decompressed %d", int32(compLen), int32(rawLen))
		case rawLen > maxRaw:
			return nil, decode.Errorf("lz4block", at, decode.ErrCorrupt,
				"block declares %d decompressed bytes, more than the %d its token 0x%02X allows; expected at most %d", rawLen, maxRaw, token, maxRaw)
		case (rawLen == 0) != (compLen == 0):
			return nil, decode.Errorf("lz4block", at, decode.ErrCorrupt,
				"expected both lengths zero (end mark) or both non-zero, block declares compressed %d, decompressed %d", compLen, rawLen)
		case method == lz4MethodRaw && compLen != rawLen:
			return nil, decode.Errorf("lz4block", at, decode.ErrCorrupt,
				"raw block declares compressed length %d, expected it to equal the decompressed length %d", compLen, rawLen)
		case compLen > int64(lz4Bound(int(rawLen))):
			return nil, decode.Errorf("lz4block", at, decode.ErrCorrupt,
				"block declares %d compressed bytes for %d decompressed; expected at most %d", compLen, rawLen, lz4Bound(int(rawLen)))
		case rawLen > lz4MaxRatio*compLen:
			// Checked before allocating the output: an LZ4 byte expands to
			// at most 255 (a match-length extension byte).
			return nil, decode.Errorf("lz4block", at, decode.ErrCorrupt,
				"block declares %d decompressed bytes from %d compressed; expected at most %d (255 per byte)", rawLen, compLen, lz4MaxRatio*compLen)
		}
		if s.firstLevel < 0 {
			s.firstLevel = level
		}
		if rawLen == 0 {
			// End mark (lz4-java accepts either method here).
			if check != 0 {
				return nil, decode.Errorf("lz4block", at, decode.ErrCorrupt,
					"end mark has checksum 0x%08X, expected 0", check)
			}
			s.afterEndMark = true
			continue
		}
		s.afterEndMark = false

		s.comp, err = s.in.readPayload(s.comp, int(compLen), at, "LZ4Block payload")
		if err != nil {
			return nil, err
		}
		if cap(s.out) < int(rawLen) {
			s.out = make([]byte, rawLen)
		}
		out := s.out[:rawLen]
		if method == lz4MethodRaw {
			copy(out, s.comp)
		} else {
			n, err := lz4.UncompressBlock(s.comp, out)
			if err != nil {
				return nil, decode.Errorf("lz4block", at, decode.ErrCorrupt,
					"expected a valid LZ4 block of %d compressed bytes decompressing to %d: %v", compLen, rawLen, err)
			}
			if n != int(rawLen) {
				return nil, decode.Errorf("lz4block", at, decode.ErrCorrupt,
					"block decompresses to %d bytes, expected the declared %d", n, rawLen)
			}
		}
		if sum := xxh32.Checksum(out, xxh32.LZ4BlockSeed) & lz4ChecksumMask; sum != check {
			return nil, decode.Errorf("lz4block", at, decode.ErrCorrupt,
				"checksum mismatch: expected header 0x%08X to equal 0x%08X computed from the decompressed block", check, sum)
		}
		if s.dataBlocks == 0 {
			s.firstSize = int(rawLen)
		}
		s.dataBlocks++
		return out, nil
	}
}
