package codec

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"

	"github.com/sparkckpt/sparkckpt/decode"
)

// zstdMaxMemory bounds what the zstd decoder allocates (its window and one
// block); see MaxZstdWindow.
const zstdMaxMemory = 256 << 20

// zstdSource decodes zstd frames (§2.5) with klauspost/compress/zstd in
// synchronous streaming mode, fed through a zstdFramer. Empty input is an
// empty stream, as for zstd-jni's ZstdInputStream (and zstd-jni writes
// nothing for an empty stream).
type zstdSource struct {
	fr  *zstdFramer
	dec *zstd.Decoder
	buf []byte
}

func newZstdSource(br *bufio.Reader) (*zstdSource, error) {
	prefix, _ := br.Peek(DetectLen)
	if len(prefix) > 0 && !bytes.HasPrefix(prefix, zstdMagic) {
		// A skippable frame first would be valid zstd, but zstd-jni output
		// never starts with one; insist on the frame magic, as Detect does.
		return nil, wrongMagic(Zstd, prefix, zstdMagicExpected)
	}
	fr := &zstdFramer{in: input{r: br, format: "zstd"}}
	dec, err := zstd.NewReader(fr,
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(MaxZstdWindow),
		zstd.WithDecoderMaxMemory(zstdMaxMemory),
	)
	if err != nil {
		return nil, err
	}
	return &zstdSource{fr: fr, dec: dec, buf: make([]byte, 64<<10)}, nil
}

func (s *zstdSource) params() Params { return DefaultParams(Zstd) }

func (s *zstdSource) offset() int64 { return s.fr.blockStart }

func (s *zstdSource) next() ([]byte, error) {
	for {
		n, err := s.dec.Read(s.buf)
		if n > 0 {
			return s.buf[:n], nil
		}
		if err == nil {
			continue
		}
		if s.fr.err != nil {
			err = s.fr.err
		} else if err != io.EOF {
			err = s.decoderError(err)
		}
		s.dec.Close()
		return nil, err
	}
}

// decoderError places an error of the decompressor at the block (or frame
// header) it was reading: it reads one block at a time, exactly.
func (s *zstdSource) decoderError(err error) error {
	kind := decode.ErrCorrupt
	switch {
	case errors.Is(err, zstd.ErrWindowSizeExceeded), errors.Is(err, zstd.ErrDecoderSizeExceeded):
		kind = decode.ErrTooLarge
	case errors.Is(err, zstd.ErrUnknownDictionary):
		kind = decode.ErrUnsupported
	case errors.Is(err, io.ErrUnexpectedEOF):
		kind = decode.ErrTruncated
	}
	return decode.Errorf("zstd", s.fr.blockStart, kind,
		"expected a valid zstd block (frame at offset %d): %v", s.fr.frameStart, err)
}

// zstdWriter compresses with klauspost/compress/zstd: valid zstd frames that
// zstd-jni reads, but not the bytes zstd-jni writes (§2.5). Like zstd-jni's
// defaults it writes no content checksum. The level maps to klauspost's
// levels with zstd.EncoderLevelFromZstd: below 3 fastest, below 6 default,
// below 10 better, else best.
//
// Like zstd-jni, it writes nothing at all for an empty stream: the encoder
// starts at the first non-empty Write.
type zstdWriter struct {
	w      io.Writer
	opts   []zstd.EOption
	enc    *zstd.Encoder
	closed bool
}

// zstdWindowForLevel is the window libzstd picks for a level when the input
// size is unknown, as in zstd-jni's streams (ZSTD_defaultCParameters, window
// log 19 at level 1), capped at 8 MiB.
func zstdWindowForLevel(level int) int {
	switch {
	case level <= 1:
		return 1 << 19
	case level == 2:
		return 1 << 20
	case level <= 7:
		return 1 << 21
	case level <= 16:
		return 1 << 22
	}
	return 1 << 23
}

// zstdMinLevel and zstdMaxLevel bound spark.io.compression.zstd.level as
// libzstd accepts it (negative levels are its "fast" levels).
const (
	zstdMinLevel = -(1 << 17)
	zstdMaxLevel = 22
)

func newZstdWriter(w io.Writer, p Params) (*zstdWriter, error) {
	if p.Level < zstdMinLevel || p.Level > zstdMaxLevel {
		return nil, fmt.Errorf("codec: zstd level %d out of range: expected %d to %d", p.Level, zstdMinLevel, zstdMaxLevel)
	}
	if p.BlockSize < 1 {
		return nil, fmt.Errorf("codec: zstd buffer size %d: expected a positive size", p.BlockSize)
	}
	opts := []zstd.EOption{
		zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(p.Level)),
		zstd.WithEncoderCRC(false),
		zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(zstdWindowForLevel(p.Level)),
	}
	// Validate the options now rather than at the first Write.
	if _, err := zstd.NewWriter(nil, opts...); err != nil {
		return nil, err
	}
	return &zstdWriter{w: w, opts: opts}, nil
}

func (w *zstdWriter) Write(p []byte) (int, error) {
	if w.closed {
		return 0, errClosed
	}
	if len(p) == 0 {
		return 0, nil
	}
	if w.enc == nil {
		enc, err := zstd.NewWriter(w.w, w.opts...)
		if err != nil {
			return 0, err
		}
		w.enc = enc
	}
	return w.enc.Write(p)
}

// Close ends the frame. It does not close the underlying writer.
func (w *zstdWriter) Close() error {
	if w.closed || w.enc == nil {
		w.closed = true
		return nil
	}
	w.closed = true
	return w.enc.Close()
}
