package codec

import "encoding/binary"

// Parameters of compress-lzf's ChunkEncoder (1.0.4).
const (
	lzfHashSize           = 16384   // MAX_HASH_SIZE; LZFOutputStream always gets it
	lzfMaxOff             = 1 << 13 // MAX_OFF, 8 KiB window
	lzfMaxRef             = 1<<8 + 1<<3
	lzfMaxLiteral         = 32
	lzfTailLength         = 4
	lzfMinBlockToCompress = 16
)

// lzfEncoder is compress-lzf's ChunkEncoder. Its hash table is kept from
// chunk to chunk, as compress-lzf keeps it: stale entries are harmless
// (every candidate is verified) but change which matches are found, so
// byte-exact output depends on it.
type lzfEncoder struct {
	table [lzfHashSize]int32
}

func lzfHash(h uint32) uint32 { return (h * 57321 >> 9) & (lzfHashSize - 1) }

// lzfCompressBound is the largest output of tryCompress for n input bytes:
// one length byte per 32 literals.
func lzfCompressBound(n int) int { return n + (n+31)/32 }

// tryCompress compresses in (at least lzfMinBlockToCompress bytes) into out,
// which must hold lzfCompressBound(len(in)) bytes, and returns the
// compressed length. It is UnsafeChunkEncoderLE.tryCompress, which produces
// the same output as VanillaChunkEncoder.
func (e *lzfEncoder) tryCompress(in, out []byte) int {
	inPos, outPos, literals := 0, 0, 0
	inEnd := len(in) - lzfTailLength
	seen := uint32(in[0])<<8 | uint32(in[1])
	for inPos < inEnd {
		seen = seen<<8 | uint32(in[inPos+2])
		h := lzfHash(seen)
		ref := int(e.table[h])
		e.table[h] = int32(inPos)
		if ref >= inPos || inPos-ref > lzfMaxOff ||
			seen&0xFFFFFF != uint32(in[ref])<<16|uint32(in[ref+1])<<8|uint32(in[ref+2]) {
			inPos++
			literals++
			if literals == lzfMaxLiteral {
				outPos = lzfLiterals(in[inPos-literals:inPos], out, outPos)
				literals = 0
			}
			continue
		}
		if literals > 0 {
			outPos = lzfLiterals(in[inPos-literals:inPos], out, outPos)
			literals = 0
		}
		maxLen := min(lzfMaxRef, inEnd-inPos+2)
		m := 3
		for m < maxLen && in[ref+m] == in[inPos+m] {
			m++
		}
		n := m - 2
		off := inPos - ref - 1
		if n < 7 {
			out[outPos] = byte(off>>8 + n<<5)
			outPos++
		} else {
			out[outPos] = byte(off>>8 + 7<<5)
			out[outPos+1] = byte(n - 7)
			outPos += 2
		}
		out[outPos] = byte(off)
		outPos++
		// Hash the two positions before the end of the match.
		inPos += n
		seen = binary.BigEndian.Uint32(in[inPos:])
		e.table[lzfHash(seen>>8)] = int32(inPos)
		inPos++
		e.table[lzfHash(seen)] = int32(inPos)
		inPos++
	}
	// The tail is copied as literals.
	for inPos < len(in) {
		inPos++
		literals++
		if literals == lzfMaxLiteral {
			outPos = lzfLiterals(in[inPos-literals:inPos], out, outPos)
			literals = 0
		}
	}
	if literals > 0 {
		outPos = lzfLiterals(in[inPos-literals:inPos], out, outPos)
	}
	return outPos
}

// lzfLiterals writes a literal run of 1 to 32 bytes.
func lzfLiterals(lit, out []byte, outPos int) int {
	out[outPos] = byte(len(lit) - 1)
	return outPos + 1 + copy(out[outPos+1:], lit)
}
