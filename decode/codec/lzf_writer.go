package codec

import (
	"encoding/binary"
	"fmt"
	"io"
)

// lzfWriter is compress-lzf's LZFOutputStream with finishBlockOnFlush, as
// Spark builds it (§2.1, §2.6): it buffers BlockSize (65535) bytes, writes a
// chunk whenever the buffer is full and the partial rest at Close, and
// compresses a chunk only if it has at least 16 bytes and compression saves
// more than the 2 extra header bytes.
type lzfWriter struct {
	chunker
	w   io.Writer
	out []byte
	enc lzfEncoder
}

func newLZFWriter(w io.Writer, p Params) (*lzfWriter, error) {
	if p.BlockSize < 1 || p.BlockSize > LZFChunkSize {
		return nil, fmt.Errorf("codec: lzf chunk size %d out of range: expected 1 to %d", p.BlockSize, LZFChunkSize)
	}
	return &lzfWriter{
		chunker: chunker{buf: make([]byte, p.BlockSize)},
		w:       w,
		out:     make([]byte, 7+lzfCompressBound(p.BlockSize)),
	}, nil
}

func (w *lzfWriter) Write(p []byte) (int, error) { return w.write(p, w.flushChunk) }

// flushChunk is ChunkEncoder.encodeAndWriteChunk.
func (w *lzfWriter) flushChunk() error {
	if w.o == 0 {
		return nil
	}
	data := w.buf[:w.o]
	n := len(data)
	w.o = 0
	var chunk []byte
	if n >= lzfMinBlockToCompress {
		compLen := w.enc.tryCompress(data, w.out[7:])
		if compLen < n-2 {
			w.out[0], w.out[1], w.out[2] = 'Z', 'V', lzfTypeCompressed
			binary.BigEndian.PutUint16(w.out[3:], uint16(compLen))
			binary.BigEndian.PutUint16(w.out[5:], uint16(n))
			chunk = w.out[:7+compLen]
		}
	}
	if chunk == nil {
		w.out[0], w.out[1], w.out[2] = 'Z', 'V', lzfTypeStored
		binary.BigEndian.PutUint16(w.out[3:], uint16(n))
		chunk = w.out[:5+copy(w.out[5:], data)]
	}
	if _, err := w.w.Write(chunk); err != nil {
		w.err = err
		return err
	}
	return nil
}

// Close writes the last partial chunk. It does not close the underlying
// writer.
func (w *lzfWriter) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	return w.flushChunk()
}
