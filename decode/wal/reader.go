package wal

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"slices"

	"github.com/sparkckpt/sparkckpt/decode"
)

// readChunk is the most a Reader grows its buffer by per read, so that a
// forged length costs no more than the bytes actually present (saferio).
const readChunk = 1 << 20

// Reader reads the records of one log file in order, as Spark's
// FileBasedWriteAheadLogReader does (§6.2). It is a scanner:
//
//	r := wal.NewReader(f)
//	for r.Next() {
//		use(r.Offset(), r.Record())
//	}
//	if err := r.Err(); err != nil { ... }
//	if t := r.Tail(); t != nil { ... } // a torn last record, ignored by Spark
type Reader struct {
	r    io.Reader
	lim  decode.Limits
	off  int64 // offset of the next record
	cur  int64 // offset of the current record
	buf  []byte
	rec  []byte
	err  error
	tail *Tail
	done bool
	hdr  [4]byte // the length prefix, kept here so it does not escape per record
}

// Tail is a torn last record: the file ended inside a length prefix or
// inside the payload it declares. Spark's sequential reader treats it as the
// end of the file and ignores it; a rewrite should copy it verbatim.
type Tail struct {
	// Offset is the file offset where the torn record starts.
	Offset int64
	// Bytes are the bytes present from Offset to the end of the file.
	Bytes []byte
	// Length is the declared payload length when the 4-byte prefix is
	// complete, -1 when the file ends inside the prefix.
	Length int32
}

// MarshalJSON renders the tail as {"offset", "bytes" (the count present), "length"}.
func (t *Tail) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Offset int64 `json:"offset"`
		Bytes  int   `json:"bytes"`
		Length int32 `json:"length"`
	}{t.Offset, len(t.Bytes), t.Length})
}

// NewReader returns a Reader of the records in r with the default
// [decode.Limits].
func NewReader(r io.Reader) *Reader { return NewReaderLimits(r, decode.Limits{}) }

// NewReaderLimits is NewReader with limits: a record longer than
// lim.MaxAlloc fails with [decode.ErrTooLarge].
func NewReaderLimits(r io.Reader, lim decode.Limits) *Reader {
	return &Reader{r: r, lim: lim.OrDefault()}
}

// Next advances to the next complete record. It returns false at the end of
// the input, at a torn tail (see [Reader.Tail]) or on an error (see
// [Reader.Err]).
func (r *Reader) Next() bool {
	if r.done || r.err != nil {
		return false
	}
	r.rec = nil
	r.cur = r.off
	hdr := r.hdr[:]
	n, err := io.ReadFull(r.r, hdr)
	r.off += int64(n)
	switch {
	case err == io.EOF:
		r.done = true
		return false
	case errors.Is(err, io.ErrUnexpectedEOF):
		r.tail = &Tail{Offset: r.cur, Bytes: slices.Clone(hdr[:n]), Length: -1}
		r.done = true
		return false
	case err != nil:
		r.err = err
		return false
	}
	length := int32(binary.BigEndian.Uint32(hdr))
	if length < 0 {
		r.err = decode.Errorf("wal", r.cur, decode.ErrCorrupt, "negative record length %d", length)
		return false
	}
	if int64(length) > r.lim.MaxAlloc {
		r.err = decode.Errorf("wal", r.cur, decode.ErrTooLarge, "record length %d exceeds the limit of %d bytes", length, r.lim.MaxAlloc)
		return false
	}
	r.buf = r.buf[:0]
	for rem := int(length); rem > 0; {
		c := min(rem, readChunk)
		r.buf = slices.Grow(r.buf, c)
		m, err := io.ReadFull(r.r, r.buf[len(r.buf):len(r.buf)+c])
		r.buf = r.buf[:len(r.buf)+m]
		r.off += int64(m)
		rem -= m
		if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
			t := &Tail{Offset: r.cur, Length: length, Bytes: make([]byte, 0, 4+len(r.buf))}
			t.Bytes = append(append(t.Bytes, hdr...), r.buf...)
			r.tail = t
			r.done = true
			return false
		}
		if err != nil {
			r.err = err
			return false
		}
	}
	r.rec = r.buf
	return true
}

// Record returns the current record's payload. It is valid until the next
// call to Next, which reuses the buffer: copy it to keep it.
func (r *Reader) Record() []byte { return r.rec }

// Offset returns the file offset of the current record's length prefix,
// the offset a FileBasedWriteAheadLogSegment records. After Next returns
// false it is the offset where reading stopped.
func (r *Reader) Offset() int64 { return r.cur }

// Err returns the error that stopped the Reader, or nil at a clean end or a
// torn tail. Framing errors are [*decode.Error]s with Format "wal"; errors
// from the underlying reader are returned unchanged.
func (r *Reader) Err() error { return r.err }

// Tail returns the torn last record once Next has returned false, or nil if
// the input ended on a record boundary (or on an error).
func (r *Reader) Tail() *Tail { return r.tail }
