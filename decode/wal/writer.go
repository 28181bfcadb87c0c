package wal

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// Writer appends records to a log file as FileBasedWriteAheadLogWriter does
// (§6.2): a BE int32 length, then the payload. It does not flush or sync;
// that is the caller's store's business.
type Writer struct {
	w   io.Writer
	off int64
	err error
}

// NewWriter returns a Writer appending to w. Offsets it reports count from
// the first byte written through it; see [NewWriterAt] to continue a file.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// NewWriterAt is NewWriter for a w that already holds off bytes, so that
// the offsets reported match the file's.
func NewWriterAt(w io.Writer, off int64) *Writer { return &Writer{w: w, off: off} }

// WriteRecord appends one record and returns the offset of its length
// prefix: with len(payload), the FileBasedWriteAheadLogSegment that
// addresses it. Errors are sticky.
func (w *Writer) WriteRecord(payload []byte) (int64, error) {
	if w.err != nil {
		return 0, w.err
	}
	if len(payload) > math.MaxInt32 {
		w.err = fmt.Errorf("wal: record of %d bytes does not fit an int32 length", len(payload))
		return 0, w.err
	}
	off := w.off
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(payload)))
	if err := w.write(hdr[:]); err != nil {
		return 0, err
	}
	if err := w.write(payload); err != nil {
		return 0, err
	}
	return off, nil
}

// WriteTail appends a torn tail verbatim, so that a rewritten file keeps the
// bytes Spark ignores. A nil tail writes nothing.
func (w *Writer) WriteTail(t *Tail) error {
	if t == nil {
		return w.err
	}
	return w.write(t.Bytes)
}

// Offset returns the offset the next record will be written at.
func (w *Writer) Offset() int64 { return w.off }

func (w *Writer) write(b []byte) error {
	if w.err != nil {
		return w.err
	}
	n, err := w.w.Write(b)
	w.off += int64(n)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	w.err = err
	return err
}

// AppendRecord appends the framing of one record (length prefix and
// payload) to dst and returns the extended slice. It panics if the payload
// does not fit an int32 length, which no record read by [Reader] can exceed.
func AppendRecord(dst, payload []byte) []byte {
	if len(payload) > math.MaxInt32 {
		panic("wal: record does not fit an int32 length")
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(payload)))
	return append(dst, payload...)
}
