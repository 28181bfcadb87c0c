package codec

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/golang/snappy"

	"github.com/sparkckpt/sparkckpt/decode"
)

// snappy-java stream layout (§2.4):
//
//	header  82 53 4E 41 50 50 59 00 | BE int32 version (1) | BE int32 minCompatibleVersion (1)
//	chunk*  BE int32 compressedLength | raw snappy block (varint uncompressed length, tags)
//
// There is no checksum and no end marker; an empty stream is the header
// alone. snappy-java since 1.1.x also accepts a second header where a chunk
// length is expected (concatenated streams), and so does this reader.
const (
	snappyHeaderLen      = 16
	snappyVersion        = 1
	snappyMinCompatible  = 1
	snappyMinBlockSize   = 1024 // SnappyOutputStream.MIN_BLOCK_SIZE
	snappyMagicExpected  = `snappy-java magic 82 53 4E 41 50 50 59 00`
	snappyHeaderExpected = `16-byte snappy-java header`
	snappyMaxRatio       = 22 // > 64/3, the most a snappy block expands per byte
)

// MaxSnappyChunk bounds the uncompressed size of one snappy-java chunk the
// reader accepts and the block size the writer uses. snappy-java itself
// allows up to 2 GiB; Spark writes 32 KiB unless configured otherwise.
const MaxSnappyChunk = 64 << 20

// snappySource decodes a snappy-java stream.
type snappySource struct {
	in   input
	comp []byte
	out  []byte

	chunks   int
	maxChunk int
	at       int64
}

func (s *snappySource) offset() int64 { return s.at }

func newSnappySource(br *bufio.Reader) (*snappySource, error) {
	prefix, _ := br.Peek(DetectLen)
	if !bytes.HasPrefix(prefix, snappyMagic) {
		return nil, wrongMagic(Snappy, prefix, snappyMagicExpected)
	}
	s := &snappySource{in: input{r: br, format: "snappy"}}
	var hdr [snappyHeaderLen]byte
	if err := s.in.readFull(hdr[:], 0, snappyHeaderExpected); err != nil {
		return nil, err
	}
	if err := checkSnappyHeader(hdr[:], 0); err != nil {
		return nil, err
	}
	return s, nil
}

// checkSnappyHeader validates a header whose magic is known to match.
func checkSnappyHeader(hdr []byte, at int64) error {
	version := int32(binary.BigEndian.Uint32(hdr[8:]))
	minCompat := int32(binary.BigEndian.Uint32(hdr[12:]))
	if version < snappyMinCompatible {
		return decode.Errorf("snappy", at, decode.ErrCorrupt,
			"header version %d: expected at least %d", version, snappyMinCompatible)
	}
	if minCompat > snappyVersion {
		return decode.Errorf("snappy", at, decode.ErrUnsupported,
			"header requires snappy-java stream version %d: expected %d", minCompat, snappyVersion)
	}
	return nil
}

func (s *snappySource) params() Params {
	p := Params{BlockSize: DefaultSnappyBlockSize}
	if s.chunks > 1 {
		p.BlockSize = s.maxChunk
	}
	return p
}

func (s *snappySource) next() ([]byte, error) {
	for {
		at := s.in.off
		s.at = at
		var lb [4]byte
		if err := s.in.readFull(lb[:], at, "snappy-java chunk length"); err != nil {
			return nil, err // io.EOF here is the clean end
		}
		if bytes.Equal(lb[:], snappyMagic[:4]) {
			// A concatenated stream's header.
			var hdr [snappyHeaderLen]byte
			copy(hdr[:], lb[:])
			if err := s.in.readRest(hdr[4:], at, snappyHeaderExpected); err != nil {
				return nil, err
			}
			if !bytes.Equal(hdr[:8], snappyMagic) {
				return nil, decode.Errorf("snappy", at, decode.ErrCorrupt,
					"expected a chunk length or a concatenated stream's %s, got % X", snappyMagicExpected, hdr[:8])
			}
			if err := checkSnappyHeader(hdr[:], at); err != nil {
				return nil, err
			}
			continue
		}
		compLen := int32(binary.BigEndian.Uint32(lb[:]))
		switch {
		case compLen <= 0:
			return nil, decode.Errorf("snappy", at, decode.ErrCorrupt,
				"chunk length %d: expected a positive length", compLen)
		case int(compLen) > snappy.MaxEncodedLen(MaxSnappyChunk):
			return nil, decode.Errorf("snappy", at, decode.ErrTooLarge,
				"chunk length %d: expected at most %d (the bound for %d uncompressed bytes)", compLen, snappy.MaxEncodedLen(MaxSnappyChunk), MaxSnappyChunk)
		}
		var err error
		s.comp, err = s.in.readPayload(s.comp, int(compLen), at, "snappy chunk")
		if err != nil {
			return nil, err
		}
		n, err := snappy.DecodedLen(s.comp)
		if err != nil {
			return nil, decode.Errorf("snappy", at, decode.ErrCorrupt,
				"expected a snappy block starting with a varint length: %v", err)
		}
		if n > MaxSnappyChunk {
			return nil, decode.Errorf("snappy", at, decode.ErrTooLarge,
				"chunk declares %d uncompressed bytes, expected at most %d", n, MaxSnappyChunk)
		}
		if n > snappyMaxRatio*len(s.comp) {
			// Checked before allocating the output: a 3-byte copy tag
			// expands to at most 64 bytes.
			return nil, decode.Errorf("snappy", at, decode.ErrCorrupt,
				"chunk declares %d uncompressed bytes from %d compressed; expected at most %d", n, len(s.comp), snappyMaxRatio*len(s.comp))
		}
		if cap(s.out) < n {
			s.out = make([]byte, n)
		}
		out, err := snappy.Decode(s.out[:n], s.comp)
		if err != nil {
			return nil, decode.Errorf("snappy", at, decode.ErrCorrupt,
				"expected a valid snappy block of %d bytes decompressing to %d: %v", compLen, n, err)
		}
		s.chunks++
		s.maxChunk = max(s.maxChunk, n)
		if len(out) > 0 {
			return out, nil
		}
	}
}

// snappyWriter is snappy-java's SnappyOutputStream (1.1.8): it compresses
// every BlockSize input bytes into a chunk with Snappy.rawCompress, and the
// partial rest at Close. The header is written with the first chunk, or at
// Close for an empty stream.
type snappyWriter struct {
	chunker
	w          io.Writer
	impl       SnappyImpl
	c          snappyCompressor
	out        []byte
	headerDone bool
}

func newSnappyWriter(w io.Writer, p Params) (*snappyWriter, error) {
	if p.BlockSize < 1 || p.BlockSize > MaxSnappyChunk {
		return nil, fmt.Errorf("codec: snappy block size %d out of range: expected 1 to %d", p.BlockSize, MaxSnappyChunk)
	}
	if p.Snappy < SnappyCurrent || p.Snappy > SnappyLegacy {
		return nil, fmt.Errorf("codec: unknown SnappyImpl %d", int(p.Snappy))
	}
	bs := max(p.BlockSize, snappyMinBlockSize)
	return &snappyWriter{
		chunker: chunker{buf: make([]byte, bs)},
		w:       w,
		impl:    p.Snappy,
		out:     make([]byte, snappyHeaderLen+4+snappy.MaxEncodedLen(bs)),
	}, nil
}

func (w *snappyWriter) Write(p []byte) (int, error) { return w.write(p, w.flushChunk) }

// flushChunk writes the header if not yet written, then the pending bytes as
// a chunk (compressInput).
func (w *snappyWriter) flushChunk() error {
	d := 0
	if !w.headerDone {
		d += copy(w.out, snappyMagic)
		binary.BigEndian.PutUint32(w.out[d:], snappyVersion)
		binary.BigEndian.PutUint32(w.out[d+4:], snappyMinCompatible)
		d += 8
		w.headerDone = true
	}
	if w.o > 0 {
		enc := w.c.encode(w.impl, w.out[d+4:], w.buf[:w.o])
		binary.BigEndian.PutUint32(w.out[d:], uint32(len(enc)))
		d += 4 + len(enc)
		w.o = 0
	}
	if d == 0 {
		return nil
	}
	if _, err := w.w.Write(w.out[:d]); err != nil {
		w.err = err
		return err
	}
	return nil
}

// Close writes the last partial chunk. It does not close the underlying
// writer.
func (w *snappyWriter) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	return w.flushChunk()
}
