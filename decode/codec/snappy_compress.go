package codec

import (
	"encoding/binary"

	"github.com/golang/snappy"
)

// SnappyImpl names the generation of the snappy compressor (libsnappy, which
// snappy-java bundles) whose output the snappy writer reproduces byte for
// byte. The generations share the block format and the algorithm and differ
// in how the match finder hashes and skips (§2.4).
type SnappyImpl int

const (
	// SnappyCurrent reproduces libsnappy 1.1.9 and later, which index a hash
	// table smaller than 16384 entries by the low bits of the hash (as
	// snappy-java 1.1.9 and later bundle, Spark 3.4 onwards). It was
	// checked against libsnappy 1.1.9 through snappy-java. It differs from
	// SnappyGo only on fragments of at most 8192 bytes, such as the last
	// chunk of most checkpoints.
	SnappyCurrent SnappyImpl = iota
	// SnappyGo reproduces github.com/golang/snappy's Encode, which follows
	// libsnappy before 1.1.9 (snappy-java 1.1.8 and earlier back to the
	// change of SnappyLegacy; Spark 2.3 to 3.3 by the versions of §2.1).
	SnappyGo
	// SnappyLegacy reproduces the libsnappy of Spark 1.x, whose match search
	// skips ahead more slowly after misses. It reproduces every chunk of the
	// Spark 1.4/1.5 checkpoints in the corpus.
	SnappyLegacy
)

// String returns "current", "go" or "legacy".
func (i SnappyImpl) String() string {
	switch i {
	case SnappyCurrent:
		return "current"
	case SnappyGo:
		return "go"
	case SnappyLegacy:
		return "legacy"
	}
	return "SnappyImpl(?)"
}

// Snappy block format constants (golang/snappy, libsnappy snappy.cc).
const (
	snappyMaxBlockSize = 65536 // libsnappy compresses in fragments of 64 KiB
	snappyInputMargin  = 16 - 1
	snappyMinNonLit    = 1 + 1 + snappyInputMargin
	snappyMaxTableLog  = 14
	snappyMinTableLog  = 8
	snappyHashMul      = 0x1e35a7bd
	snappyTagLiteral   = 0x00
	snappyTagCopy1     = 0x01
	snappyTagCopy2     = 0x02
)

// snappyCompressor holds the hash table, reused for every fragment.
type snappyCompressor struct {
	table [1 << snappyMaxTableLog]uint16
}

// encode returns the snappy block for src, written into dst, which must
// hold snappy.MaxEncodedLen(len(src)) bytes.
func (c *snappyCompressor) encode(impl SnappyImpl, dst, src []byte) []byte {
	if impl == SnappyGo {
		return snappy.Encode(dst, src)
	}
	d := binary.PutUvarint(dst, uint64(len(src)))
	for len(src) > 0 {
		p := src
		src = nil
		if len(p) > snappyMaxBlockSize {
			p, src = p[:snappyMaxBlockSize], p[snappyMaxBlockSize:]
		}
		if len(p) < snappyMinNonLit {
			d += snappyEmitLiteral(dst[d:], p)
		} else {
			d += c.encodeFragment(impl, dst[d:], p)
		}
	}
	return dst[:d]
}

// encodeFragment is libsnappy's CompressFragment, in the shape of
// golang/snappy's encodeBlock (encode_other.go), for impl SnappyCurrent or
// SnappyLegacy.
func (c *snappyCompressor) encodeFragment(impl SnappyImpl, dst, src []byte) (d int) {
	// The table has the smallest power-of-two size >= len(src), within
	// [2^8, 2^14]. Before 1.1.9 the index is the top log2(size) bits of the
	// hash; from 1.1.9, bits 18 and up, masked to the size.
	tableLog := uint32(snappyMinTableLog)
	for tableLog < snappyMaxTableLog && 1<<tableLog < len(src) {
		tableLog++
	}
	mask := uint32(1)<<tableLog - 1
	shift := 32 - tableLog
	if impl == SnappyCurrent {
		shift = 32 - snappyMaxTableLog
	}
	table := c.table[:mask+1]
	clear(table)

	sLimit := len(src) - snappyInputMargin
	nextEmit := 0
	s := 1
	nextHash := (binary.LittleEndian.Uint32(src[s:]) * snappyHashMul >> shift) & mask
	for {
		// Look for a 4-byte match, skipping faster the longer none is
		// found: every 32 misses add a byte to the step, and in legacy
		// libsnappy the step grows only by one per miss.
		skip := 32
		nextS := s
		candidate := 0
		for {
			s = nextS
			step := skip >> 5
			nextS = s + step
			if impl == SnappyLegacy {
				skip++
			} else {
				skip += step
			}
			if nextS > sLimit {
				goto emitRemainder
			}
			candidate = int(table[nextHash])
			table[nextHash] = uint16(s)
			nextHash = (binary.LittleEndian.Uint32(src[nextS:]) * snappyHashMul >> shift) & mask
			if binary.LittleEndian.Uint32(src[s:]) == binary.LittleEndian.Uint32(src[candidate:]) {
				break
			}
		}

		d += snappyEmitLiteral(dst[d:], src[nextEmit:s])

		// Emit copies while the bytes right after a copy match again.
		for {
			base := s
			s += 4
			for i := candidate + 4; s < len(src) && src[i] == src[s]; i, s = i+1, s+1 {
			}
			d += snappyEmitCopy(dst[d:], base-candidate, s-base)
			nextEmit = s
			if s >= sLimit {
				goto emitRemainder
			}
			x := binary.LittleEndian.Uint64(src[s-1:])
			table[(uint32(x)*snappyHashMul>>shift)&mask] = uint16(s - 1)
			currHash := (uint32(x>>8) * snappyHashMul >> shift) & mask
			candidate = int(table[currHash])
			table[currHash] = uint16(s)
			if uint32(x>>8) != binary.LittleEndian.Uint32(src[candidate:]) {
				nextHash = (uint32(x>>16) * snappyHashMul >> shift) & mask
				s++
				break
			}
		}
	}

emitRemainder:
	if nextEmit < len(src) {
		d += snappyEmitLiteral(dst[d:], src[nextEmit:])
	}
	return d
}

// snappyEmitLiteral writes a literal of at most 65536 bytes.
func snappyEmitLiteral(dst, lit []byte) int {
	i, n := 0, uint(len(lit)-1)
	switch {
	case n < 60:
		dst[0] = uint8(n)<<2 | snappyTagLiteral
		i = 1
	case n < 1<<8:
		dst[0] = 60<<2 | snappyTagLiteral
		dst[1] = uint8(n)
		i = 2
	default:
		dst[0] = 61<<2 | snappyTagLiteral
		dst[1] = uint8(n)
		dst[2] = uint8(n >> 8)
		i = 3
	}
	return i + copy(dst[i:], lit)
}

// snappyEmitCopy writes a copy of length bytes from offset back, in pieces of
// at most 64 bytes.
func snappyEmitCopy(dst []byte, offset, length int) int {
	i := 0
	for length >= 68 {
		dst[i+0] = 63<<2 | snappyTagCopy2
		dst[i+1] = uint8(offset)
		dst[i+2] = uint8(offset >> 8)
		i += 3
		length -= 64
	}
	if length > 64 {
		dst[i+0] = 59<<2 | snappyTagCopy2
		dst[i+1] = uint8(offset)
		dst[i+2] = uint8(offset >> 8)
		i += 3
		length -= 60
	}
	if length >= 12 || offset >= 2048 {
		dst[i+0] = uint8(length-1)<<2 | snappyTagCopy2
		dst[i+1] = uint8(offset)
		dst[i+2] = uint8(offset >> 8)
		return i + 3
	}
	dst[i+0] = uint8(offset>>8)<<5 | uint8(length-4)<<2 | snappyTagCopy1
	dst[i+1] = uint8(offset)
	return i + 2
}
