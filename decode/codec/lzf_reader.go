package codec

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/sparkckpt/sparkckpt/decode"
)

// ning compress-lzf chunk layout (§2.6):
//
//	compressed  5A 56 01 | BE uint16 compLen | BE uint16 uncompLen | compLen bytes of LZF
//	stored      5A 56 00 | BE uint16 len | len bytes
//
// Chunks follow each other without a stream header or end marker; an empty
// stream has no chunks.
const (
	lzfTypeStored     = 0
	lzfTypeCompressed = 1
	lzfMagicExpected  = `LZF chunk signature 5A 56 ("ZV")`
)

// lzfSource decodes a sequence of LZF chunks.
type lzfSource struct {
	in   input
	hdr  [7]byte
	comp []byte
	out  []byte

	chunks   int
	maxChunk int
	at       int64
}

func (s *lzfSource) offset() int64 { return s.at }

func newLZFSource(br *bufio.Reader) (*lzfSource, error) {
	prefix, _ := br.Peek(DetectLen)
	if len(prefix) > 0 && !bytes.HasPrefix(prefix, lzfMagic) {
		return nil, wrongMagic(LZF, prefix, lzfMagicExpected)
	}
	return &lzfSource{in: input{r: br, format: "lzf"}}, nil
}

func (s *lzfSource) params() Params {
	p := Params{BlockSize: LZFChunkSize}
	if s.chunks > 1 {
		p.BlockSize = s.maxChunk
	}
	return p
}

func (s *lzfSource) next() ([]byte, error) {
	for {
		at := s.in.off
		s.at = at
		h := s.hdr[:5]
		if err := s.in.readFull(h, at, "LZF chunk header"); err != nil {
			return nil, err // io.EOF here is the clean end
		}
		if h[0] != 'Z' || h[1] != 'V' {
			return nil, decode.Errorf("lzf", at, decode.ErrCorrupt,
				"expected %s, got % X", lzfMagicExpected, h[:2])
		}
		var out []byte
		switch h[2] {
		case lzfTypeStored:
			n := int(binary.BigEndian.Uint16(h[3:]))
			var err error
			out, err = s.in.readPayload(s.out, n, at, "stored LZF chunk")
			if err != nil {
				return nil, err
			}
			s.out = out
		case lzfTypeCompressed:
			h = s.hdr[:7]
			if err := s.in.readRest(h[5:], at, "LZF chunk header"); err != nil {
				return nil, err
			}
			compLen := int(binary.BigEndian.Uint16(h[3:]))
			rawLen := int(binary.BigEndian.Uint16(h[5:]))
			comp, err := s.in.readPayload(s.comp, compLen, at, "compressed LZF chunk")
			if err != nil {
				return nil, err
			}
			s.comp = comp
			if cap(s.out) < rawLen {
				s.out = make([]byte, LZFChunkSize)
			}
			out = s.out[:rawLen]
			if err := lzfDecompress(comp, out); err != nil {
				return nil, decode.Errorf("lzf", at, decode.ErrCorrupt,
					"expected %d compressed bytes decompressing to exactly %d: %v", compLen, rawLen, err)
			}
		default:
			return nil, decode.Errorf("lzf", at, decode.ErrCorrupt,
				"expected chunk type 0 (stored) or 1 (compressed), got %d", h[2])
		}
		s.chunks++
		s.maxChunk = max(s.maxChunk, len(out))
		if len(out) > 0 {
			return out, nil
		}
	}
}

// lzfErr describes an invalid LZF block; the caller adds the chunk offset.
func lzfErr(at, op int, format string, args ...any) error {
	return fmt.Errorf(format+" (at byte %d of the compressed data, output byte %d)", append(args, at, op)...)
}

// lzfDecompress decodes one LZF block (liblzf's lzf_decompress, as ning's
// ChunkDecoder runs it) from in into out, which must come out exactly full
// with in exactly consumed. Every back-reference is checked to lie within the
// output written so far.
//
//	000LLLLL                 literal run of L+1 bytes
//	LLLooooo oooooooo        back-reference, L in 1..6: copy L+2 bytes from distance o+1
//	111ooooo LLLLLLLL oooooooo  back-reference of L+9 bytes
func lzfDecompress(in, out []byte) error {
	ip, op := 0, 0
	for ip < len(in) {
		ctrl := int(in[ip])
		ip++
		if ctrl < 1<<5 {
			n := ctrl + 1
			if ip+n > len(in) {
				return lzfErr(ip-1, op, "literal run of %d bytes runs past the end of the chunk", n)
			}
			if op+n > len(out) {
				return lzfErr(ip-1, op, "literal run of %d bytes overflows the declared length", n)
			}
			copy(out[op:], in[ip:ip+n])
			ip += n
			op += n
			continue
		}
		n := ctrl >> 5
		start := ip - 1
		if n == 7 {
			if ip >= len(in) {
				return lzfErr(start, op, "back-reference length byte missing")
			}
			n += int(in[ip])
			ip++
		}
		if ip >= len(in) {
			return lzfErr(start, op, "back-reference offset byte missing")
		}
		ref := op - (ctrl&0x1f)<<8 - int(in[ip]) - 1
		ip++
		n += 2
		if ref < 0 {
			return lzfErr(start, op, "back-reference %d bytes back, only %d written", op-ref, op)
		}
		if op+n > len(out) {
			return lzfErr(start, op, "back-reference of %d bytes overflows the declared length", n)
		}
		switch dist := op - ref; {
		case dist >= 8 && op+n+8 <= len(out):
			// Copy 8 bytes at a time; the last word may run past the match
			// into output not written yet.
			for i := 0; i < n; i += 8 {
				binary.LittleEndian.PutUint64(out[op+i:], binary.LittleEndian.Uint64(out[ref+i:]))
			}
		case dist >= n:
			copy(out[op:op+n], out[ref:])
		default:
			for i := range n {
				out[op+i] = out[ref+i]
			}
		}
		op += n
	}
	if op != len(out) {
		return lzfErr(ip, op, "block ends after %d of %d bytes", op, len(out))
	}
	return nil
}
