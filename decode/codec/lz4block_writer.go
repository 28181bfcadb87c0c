package codec

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"

	"github.com/sparkckpt/sparkckpt/decode/codec/internal/xxh32"
)

// lz4Writer is lz4-java's LZ4BlockOutputStream with syncFlush=false (§2.3):
// it buffers exactly BlockSize bytes, emits a block when the buffer is full
// and more data arrives or at Close, stores a block raw when compression does
// not make it smaller, and ends the stream with an end mark.
type lz4Writer struct {
	w      io.Writer
	impl   LZ4Impl
	level  int
	size   int    // the block size
	buf    []byte // len == cap, at most size; buf[:o] is pending
	o      int
	out    []byte // header + lz4Bound of the largest block so far
	c      lz4Compressor
	err    error
	closed bool
}

func newLZ4Writer(w io.Writer, p Params) (*lz4Writer, error) {
	if p.BlockSize < lz4MinBlockSize || p.BlockSize > lz4MaxBlockSize {
		return nil, fmt.Errorf("codec: lz4 block size %d out of range: expected %d to %d", p.BlockSize, lz4MinBlockSize, lz4MaxBlockSize)
	}
	if p.LZ4 != LZ4Native && p.LZ4 != LZ4PureJava {
		return nil, fmt.Errorf("codec: unknown LZ4Impl %d", int(p.LZ4))
	}
	return &lz4Writer{
		w:     w,
		impl:  p.LZ4,
		level: lz4Level(p.BlockSize),
		size:  p.BlockSize,
	}, nil
}

// grow makes room for n pending bytes (n <= size). The buffers grow with
// the data, so that a short stream with a large block size (up to 32 MiB)
// does not allocate whole blocks it never fills.
func (w *lz4Writer) grow(n int) {
	if n <= len(w.buf) {
		return
	}
	nb := make([]byte, min(w.size, max(n, 2*len(w.buf), 4096)))
	copy(nb, w.buf[:w.o])
	w.buf = nb
}

// lz4Level is LZ4BlockOutputStream.compressionLevel: ceil(log2(blockSize))-10,
// at least 0.
func lz4Level(blockSize int) int {
	return max(0, bits.Len32(uint32(blockSize-1))-lz4LevelBase)
}

func (w *lz4Writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, errClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	n := 0
	for w.o+len(p) > w.size {
		w.grow(w.size)
		c := copy(w.buf[w.o:], p)
		w.o += c
		p = p[c:]
		n += c
		if err := w.flushBlock(); err != nil {
			return n, err
		}
	}
	w.grow(w.o + len(p))
	w.o += copy(w.buf[w.o:], p)
	return n + len(p), nil
}

// flushBlock writes the pending bytes as one block (flushBufferedData).
func (w *lz4Writer) flushBlock() error {
	if w.o == 0 {
		return nil
	}
	block := w.buf[:w.o]
	if need := lz4HeaderLen + lz4Bound(w.o); len(w.out) < need {
		w.out = make([]byte, need)
	}
	check := xxh32.Checksum(block, xxh32.LZ4BlockSeed) & lz4ChecksumMask
	compLen := w.c.compress(w.impl, block, w.out[lz4HeaderLen:])
	method := lz4MethodLZ4
	if compLen >= w.o {
		method = lz4MethodRaw
		compLen = copy(w.out[lz4HeaderLen:], block)
	}
	w.putHeader(method, compLen, w.o, check)
	w.o = 0
	return w.write(w.out[:lz4HeaderLen+compLen])
}

func (w *lz4Writer) putHeader(method, compLen, rawLen int, check uint32) {
	copy(w.out, lz4Magic)
	w.out[8] = byte(method | w.level)
	binary.LittleEndian.PutUint32(w.out[9:], uint32(compLen))
	binary.LittleEndian.PutUint32(w.out[13:], uint32(rawLen))
	binary.LittleEndian.PutUint32(w.out[17:], check)
}

func (w *lz4Writer) write(b []byte) error {
	if _, err := w.w.Write(b); err != nil {
		w.err = err
		return err
	}
	return nil
}

// Close writes the last block and the end mark (finish). It does not close
// the underlying writer.
func (w *lz4Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	if err := w.flushBlock(); err != nil {
		return err
	}
	if len(w.out) < lz4HeaderLen {
		w.out = make([]byte, lz4HeaderLen)
	}
	w.putHeader(lz4MethodRaw, 0, 0, 0)
	return w.write(w.out[:lz4HeaderLen])
}
