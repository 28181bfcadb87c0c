package codec

import (
	"encoding/binary"
	"math/bits"
)

// LZ4Impl names the lz4-java block compressor whose output the lz4 writer
// reproduces byte for byte. Spark builds its LZ4BlockOutputStream with
// LZ4Factory.fastestInstance().fastCompressor() (§2.1): the JNI binding to
// the liblz4 bundled with lz4-java when it loads, else pure Java. The
// generations agree on most blocks, not all (§2.3); [Identify] tells them
// apart on a given stream.
type LZ4Impl int

const (
	// LZ4Native reproduces LZ4_compress_default of liblz4 1.9 (checked
	// against lz4-java 1.8.0's JNI compressor linked to liblz4 1.9.4, and
	// against pierrec/lz4's CompressorCCompat). Below 65547 bytes it hashes
	// 4 bytes into 8192 16-bit positions; from there on, 5 bytes into 4096
	// 32-bit positions. Spark 3.x and later write this; the Spark 3.0-era
	// checkpoints of the corpus need it.
	LZ4Native LZ4Impl = iota
	// LZ4PureJava reproduces lz4-java's pure-Java fastCompressor
	// (safeInstance and unsafeInstance, compress.template). Below 65547
	// bytes it differs from LZ4Native only in stopping the match search one
	// byte earlier, as liblz4 did before 1.9 (bundled by lz4-java 1.3 and
	// 1.4, Spark 2.x): 24 Spark 2.3/2.4 state files of the corpus need it.
	// From 65547 bytes on it hashes 4 bytes, not 5.
	LZ4PureJava
)

// String returns "native" or "pure-java".
func (i LZ4Impl) String() string {
	switch i {
	case LZ4Native:
		return "native"
	case LZ4PureJava:
		return "pure-java"
	}
	return "LZ4Impl(?)"
}

// LZ4 block-format constants (lz4-java LZ4Constants.java, liblz4 lz4.c).
const (
	lz4MinMatch     = 4
	lz4MFLimit      = 12 // a match must start at least this far from the end
	lz4LastLiterals = 5  // the last bytes are always literals
	lz4MinLength    = lz4MFLimit + 1
	lz4SkipStrength = 6
	lz4MLBits       = 4
	lz4MLMask       = 1<<lz4MLBits - 1
	lz4RunMask      = 1<<(8-lz4MLBits) - 1
	lz4Limit64K     = 1<<16 + lz4MFLimit - 1 // below this, 16-bit positions
	lz4MaxDistance  = 1<<16 - 1
	lz4HashLog64K   = 13
	lz4HashLog      = 12
)

// lz4Bound is the largest compressed size of n bytes
// (LZ4Utils.maxCompressedLength, LZ4_compressBound).
func lz4Bound(n int) int { return n + n/255 + 16 }

// lz4Compressor holds the hash tables, reused (and cleared) for every block.
type lz4Compressor struct {
	t16 [1 << lz4HashLog64K]uint16
	t32 [1 << lz4HashLog]uint32
}

// compress compresses src as one LZ4 block into dst, which must hold
// lz4Bound(len(src)) bytes, and returns the compressed length.
func (c *lz4Compressor) compress(impl LZ4Impl, src, dst []byte) int {
	// liblz4 1.9 searches while the next candidate is at most
	// len-MFLIMIT+1 (mflimitPlusOne); lz4-java's Java code, and liblz4
	// before it, stop one byte earlier.
	searchLimit := len(src) - lz4MFLimit
	if impl == LZ4Native {
		searchLimit++
	}
	if len(src) < lz4Limit64K {
		clear(c.t16[:])
		return lz4CompressGeneric(src, dst, c.t16[:], lz4Hasher{shift: 32 - lz4HashLog64K}, searchLimit, false)
	}
	clear(c.t32[:])
	return lz4CompressGeneric(src, dst, c.t32[:], lz4Hasher{five: impl == LZ4Native, shift: 32 - lz4HashLog}, searchLimit, true)
}

// lz4Hasher hashes the bytes at a position to a table index.
type lz4Hasher struct {
	// five selects liblz4's LZ4_hash5 (64-bit builds, 32-bit tables), which
	// hashes 5 bytes. Otherwise the hash is of 4 bytes: lz4-java's hash64k
	// and hash, liblz4's LZ4_hash4.
	five  bool
	shift uint32 // 32 - log2(table size)
}

func (h lz4Hasher) hash(src []byte, p int) uint32 {
	if h.five {
		v := binary.LittleEndian.Uint64(src[p:]) // LZ4_read_ARCH; only 5 bytes count
		return uint32(((v << 24) * 889523592379) >> (64 - lz4HashLog))
	}
	return (binary.LittleEndian.Uint32(src[p:]) * 2654435761) >> h.shift
}

// lz4CompressGeneric is lz4-java's compress64k/compress (compress.template),
// which is also liblz4's LZ4_compress_generic for a fresh state without
// dictionary at acceleration 1. The variable names follow lz4-java.
// searchLimit is the largest position the search may advance to; checkDist
// rejects matches more than 65535 bytes back (only possible with 32-bit
// tables).
func lz4CompressGeneric[T uint16 | uint32](src, dst []byte, table []T, h lz4Hasher, searchLimit int, checkDist bool) int {
	srcEnd := len(src)
	srcLimit := srcEnd - lz4LastLiterals
	mflimit := srcEnd - lz4MFLimit
	dOff, anchor := 0, 0

	if srcEnd >= lz4MinLength {
		sOff := 1
	main:
		for {
			// Find a match, skipping faster the longer none is found.
			forwardOff := sOff
			var ref int
			step := 1
			searchMatchNb := 1 << lz4SkipStrength
			for {
				sOff = forwardOff
				forwardOff += step
				step = searchMatchNb >> lz4SkipStrength
				searchMatchNb++
				if forwardOff > searchLimit {
					break main
				}
				x := h.hash(src, sOff)
				ref = int(table[x])
				table[x] = T(sOff)
				if checkDist && sOff-ref > lz4MaxDistance {
					continue
				}
				if binary.LittleEndian.Uint32(src[ref:]) == binary.LittleEndian.Uint32(src[sOff:]) {
					break
				}
			}

			// Catch up: extend the match backwards.
			for sOff > anchor && ref > 0 && src[sOff-1] == src[ref-1] {
				sOff--
				ref--
			}

			// Literal length and literals.
			runLen := sOff - anchor
			tokenOff := dOff
			dOff++
			if runLen >= lz4RunMask {
				dst[tokenOff] = lz4RunMask << lz4MLBits
				dOff = lz4WriteLen(runLen-lz4RunMask, dst, dOff)
			} else {
				dst[tokenOff] = byte(runLen << lz4MLBits)
			}
			dOff += copy(dst[dOff:], src[anchor:sOff])

			for {
				// Offset.
				binary.LittleEndian.PutUint16(dst[dOff:], uint16(sOff-ref))
				dOff += 2

				// Match length.
				sOff += lz4MinMatch
				ref += lz4MinMatch
				matchLen := lz4CommonBytes(src, ref, sOff, srcLimit)
				sOff += matchLen
				if matchLen >= lz4MLMask {
					dst[tokenOff] |= lz4MLMask
					dOff = lz4WriteLen(matchLen-lz4MLMask, dst, dOff)
				} else {
					dst[tokenOff] |= byte(matchLen)
				}

				// End of block?
				if sOff > mflimit {
					anchor = sOff
					break main
				}

				// Fill the table, then test the next position for an
				// immediate match (a sequence without literals).
				table[h.hash(src, sOff-2)] = T(sOff - 2)
				x := h.hash(src, sOff)
				ref = int(table[x])
				table[x] = T(sOff)
				if (checkDist && sOff-ref > lz4MaxDistance) ||
					binary.LittleEndian.Uint32(src[sOff:]) != binary.LittleEndian.Uint32(src[ref:]) {
					break
				}
				tokenOff = dOff
				dOff++
				dst[tokenOff] = 0
			}

			anchor = sOff
			sOff++
		}
	}

	// Last literals.
	runLen := srcEnd - anchor
	if runLen >= lz4RunMask {
		dst[dOff] = lz4RunMask << lz4MLBits
		dOff = lz4WriteLen(runLen-lz4RunMask, dst, dOff+1)
	} else {
		dst[dOff] = byte(runLen << lz4MLBits)
		dOff++
	}
	dOff += copy(dst[dOff:], src[anchor:])
	return dOff
}

// lz4WriteLen writes the 255-run extension of a literal or match length.
func lz4WriteLen(n int, dst []byte, dOff int) int {
	for n >= 0xFF {
		dst[dOff] = 0xFF
		dOff++
		n -= 0xFF
	}
	dst[dOff] = byte(n)
	return dOff + 1
}

// lz4CommonBytes counts the bytes that match at ref and at sOff, stopping
// before sOff reaches limit.
func lz4CommonBytes(src []byte, ref, sOff, limit int) int {
	n := 0
	for sOff+n+8 <= limit {
		x := binary.LittleEndian.Uint64(src[ref+n:]) ^ binary.LittleEndian.Uint64(src[sOff+n:])
		if x != 0 {
			return n + bits.TrailingZeros64(x)/8
		}
		n += 8
	}
	for sOff+n < limit && src[ref+n] == src[sOff+n] {
		n++
	}
	return n
}
