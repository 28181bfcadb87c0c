package structured

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"sync"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/codec"
	"github.com/sparkckpt/sparkckpt/decode/javaser"
)

// State file kinds (by name: <v>.delta, <v>.snapshot, <v>[_<id>].changelog).
const (
	KindDelta     = "delta"
	KindSnapshot  = "snapshot"
	KindChangelog = "changelog"
)

// Op is a record's operation.
type Op byte

// Record operations; the values are the changelog V2/V4 record-type bytes
// (StateStoreChangelog RecordType, §4.3).
const (
	OpPut    Op = 0x01
	OpDelete Op = 0x10
	OpMerge  Op = 0x11
)

func (o Op) String() string {
	switch o {
	case OpPut:
		return "put"
	case OpDelete:
		return "delete"
	case OpMerge:
		return "merge"
	}
	return "op(" + strconv.Itoa(int(o)) + ")"
}

// MarshalText names the operation in JSON.
func (o Op) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// Record is one record of a state file. Key and Value are valid until the
// next call to Next.
type Record struct {
	// Offset is the record's offset in the decompressed stream.
	Offset int64
	Op     Op
	Key    []byte
	Value  []byte // nil for a delete
}

// LineageItem is one entry of a V3/V4 changelog's lineage (§4.3, §4.4).
type LineageItem struct {
	Version            int64  `json:"version"`
	CheckpointUniqueID string `json:"checkpointUniqueId"`
}

// StateReader reads the records of a decompressed state file (§4.1, §4.3):
//
//	delta, changelog V1/V3:  { i32 keyLen, key, i32 valueLen, value | i32 -1 (delete) } ... i32 -1
//	snapshot:                { i32 keyLen, key, i32 valueLen, value } ... i32 -1
//	changelog V2/V4:         { u8 type (01 put, 10 delete, 11 merge), i32 keyLen, key, i32 valueLen|-1, value } ... u8 00
//
// preceded, for V2-V4, by writeUTF("vN") and, for V3/V4, writeUTF(lineage JSON).
// It is a scanner: for s.Next() { s.Record() }; then s.Err(). Records
// that fit its buffer are returned without copying.
type StateReader struct {
	src      io.Reader
	buf      []byte // buffered stream bytes are buf[pos:end]
	pos, end int
	rerr     error // the source's error, once it returned one
	off      int64 // stream offset of buf[pos]
	kind     string
	// Version is the changelog version (1-4); 0 for delta and snapshot.
	Version int
	// Lineage is a V3/V4 changelog's lineage.
	Lineage []LineageItem
	// Ended is true once the end marker was read.
	Ended bool
	// Trailing counts bytes after the end marker (Spark ignores them).
	Trailing int64

	limit    int64
	rec      Record
	key, val []byte // copies of records too large for buf
	err      error
}

// Buffer sizes: records up to maxBuffered bytes are parsed in place.
const (
	stateBufSize = 64 << 10
	maxBuffered  = 4 << 20
)

// bufPool recycles StateReader buffers (Release), so that checking many
// small files allocates little.
var bufPool = sync.Pool{New: func() any { b := make([]byte, stateBufSize); return &b }}

func getBuf() []byte { return *(bufPool.Get().(*[]byte)) }

// Release returns the reader's buffer for reuse; the reader and the
// slices of its last Record must not be used afterwards.
func (s *StateReader) Release() {
	if s.buf != nil && cap(s.buf) == stateBufSize {
		b := s.buf[:stateBufSize]
		bufPool.Put(&b)
	}
	s.buf, s.err = nil, errors.New("structured: StateReader used after Release")
}

// NewStateReader starts reading the decompressed stream r of a state file
// of the given kind (KindDelta, KindSnapshot, KindChangelog). For a
// changelog it reads the version header now.
func NewStateReader(r io.Reader, kind string, lim decode.Limits) (*StateReader, error) {
	lim = lim.OrDefault()
	s := &StateReader{src: r, buf: getBuf(), kind: kind, limit: lim.MaxAlloc}
	if kind == KindChangelog {
		s.Version = 1
		if err := s.header(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// ensure buffers at least n bytes at buf[pos:], growing the buffer if
// needed; false if the stream ends (or fails) first.
func (s *StateReader) ensure(n int) bool {
	if s.end-s.pos >= n {
		return true
	}
	if s.pos > 0 {
		copy(s.buf, s.buf[s.pos:s.end])
		s.end -= s.pos
		s.pos = 0
	}
	if n > len(s.buf) {
		nb := make([]byte, max(n, 2*len(s.buf)))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	for s.end < n && s.rerr == nil {
		m, err := s.src.Read(s.buf[s.end:])
		s.end += m
		if err != nil {
			s.rerr = err
		}
	}
	return s.end >= n
}

// consume drops n buffered bytes.
func (s *StateReader) consume(n int) {
	s.pos += n
	s.off += int64(n)
}

// truncated records why ensure failed: the codec's error, or a short stream.
func (s *StateReader) truncated(missing int) {
	if s.err != nil {
		return
	}
	var de *decode.Error
	if errors.As(s.rerr, &de) {
		s.err = s.rerr
		return
	}
	if s.rerr != nil && s.rerr != io.EOF && s.rerr != io.ErrUnexpectedEOF {
		s.err = s.rerr
		return
	}
	s.err = errorf(s.off+int64(s.end-s.pos), decode.ErrTruncated, "%s: stream ends %d byte(s) short of the record, with no end marker (Spark: EOFException)", s.kind, missing)
}

// header detects a changelog's version as the reader factory does: a
// writeUTF string starting with 'v' names it, anything else (V1's first
// key length, usually 00 00) means V1.
func (s *StateReader) header() error {
	if !s.ensure(2) {
		return nil // empty: V1 (and then truncated, reported by Next)
	}
	n := int(binary.BigEndian.Uint16(s.buf[s.pos:]))
	if n < 2 || n > 16 || !s.ensure(2+n) || s.buf[s.pos+2] != 'v' {
		return nil
	}
	v, err := strconv.Atoi(string(s.buf[s.pos+3 : s.pos+2+n]))
	if err != nil || v <= 0 {
		return nil
	}
	if v > 4 {
		return &VersionError{What: "changelog", Version: v, Max: 4,
			Err: errorf(0, decode.ErrUnsupported, "changelog: version v%d is newer than any Spark release sparkckpt knows (up to v4)", v)}
	}
	s.consume(2 + n)
	s.Version = v
	if v == 3 || v == 4 {
		at := s.off
		if !s.ensure(2) {
			s.truncated(2)
			return s.err
		}
		ln := int(binary.BigEndian.Uint16(s.buf[s.pos:]))
		if !s.ensure(2 + ln) {
			s.truncated(2 + ln - (s.end - s.pos))
			return s.err
		}
		text := javaser.DecodeMUTF8(s.buf[s.pos+2 : s.pos+2+ln])
		s.consume(2 + ln)
		if err := json.Unmarshal([]byte(text), &s.Lineage); err != nil {
			return errorf(at, decode.ErrCorrupt, "changelog v%d: lineage is not [{\"version\":N,\"checkpointUniqueId\":id}]: %v", v, err)
		}
	}
	return nil
}

// readBig reads n bytes of a record too large to parse in place into dst,
// growing it as data arrives so that a lying length cannot allocate more
// than what was read plus one step.
func (s *StateReader) readBig(dst []byte, n int32, what string, at int64) ([]byte, bool) {
	if int64(n) > s.limit {
		s.err = errorf(at, decode.ErrTooLarge, "%s: %s of %d bytes exceeds the limit of %d", s.kind, what, n, s.limit)
		return nil, false
	}
	dst = dst[:0]
	for int32(len(dst)) < n {
		if s.end == s.pos && !s.ensure(1) {
			s.truncated(int(n) - len(dst))
			return nil, false
		}
		k := min(int(n)-len(dst), s.end-s.pos)
		dst = append(dst, s.buf[s.pos:s.pos+k]...)
		s.consume(k)
	}
	return dst, true
}

// Next reads the next record; false at the end marker or on an error.
func (s *StateReader) Next() bool {
	if s.err != nil || s.Ended {
		return false
	}
	at := s.off
	h := 0
	op := OpPut
	typed := s.Version == 2 || s.Version == 4
	if typed {
		if !s.ensure(1) {
			s.truncated(1)
			return false
		}
		switch t := Op(s.buf[s.pos]); t {
		case 0:
			s.consume(1)
			s.end_()
			return false
		case OpPut, OpDelete, OpMerge:
			op, h = t, 1
		default:
			s.err = errorf(at, decode.ErrCorrupt, "changelog v%d: record type 0x%02x; expected 01 (put), 10 (delete), 11 (merge) or 00 (end)", s.Version, byte(t))
			return false
		}
	}
	if !s.ensure(h + 4) {
		s.truncated(h + 4 - (s.end - s.pos))
		return false
	}
	kl := int32(binary.BigEndian.Uint32(s.buf[s.pos+h:]))
	if kl == -1 && !typed {
		s.consume(4)
		s.end_()
		return false
	}
	if kl < 0 {
		s.err = errorf(at, decode.ErrCorrupt, "%s: key length %d", s.kind, kl)
		return false
	}
	s.rec = Record{Offset: at, Op: op}
	var vl int32
	if int64(h)+8+int64(kl) <= maxBuffered {
		// Small record: parse in place.
		need := h + 8 + int(kl)
		if !s.ensure(need) {
			s.truncated(need - (s.end - s.pos))
			return false
		}
		vl = int32(binary.BigEndian.Uint32(s.buf[s.pos+h+4+int(kl):]))
		if vl >= 0 && int64(need)+int64(vl) <= maxBuffered {
			if !s.validValue(op, vl, at+int64(h+4)+int64(kl)) {
				return false
			}
			total := need + int(vl)
			if !s.ensure(total) {
				s.truncated(total - (s.end - s.pos))
				return false
			}
			s.rec.Key = s.buf[s.pos+h+4 : s.pos+h+4+int(kl)]
			if vl == -1 {
				s.rec.Op = OpDelete
			} else {
				s.rec.Value = s.buf[s.pos+need : s.pos+total]
			}
			s.consume(total)
			return true
		}
		if vl < 0 {
			if !s.validValue(op, vl, at+int64(h+4)+int64(kl)) {
				return false
			}
			s.rec.Key = s.buf[s.pos+h+4 : s.pos+h+4+int(kl)]
			s.rec.Op = OpDelete
			s.consume(need)
			return true
		}
		// A large value after a small key: copy the key, stream the value.
		s.key = append(s.key[:0], s.buf[s.pos+h+4:s.pos+h+4+int(kl)]...)
		s.consume(need)
		s.rec.Key = s.key
	} else {
		s.consume(h + 4)
		var ok bool
		if s.key, ok = s.readBig(s.key, kl, "key", at); !ok {
			return false
		}
		s.rec.Key = s.key
		if !s.ensure(4) {
			s.truncated(4 - (s.end - s.pos))
			return false
		}
		vl = int32(binary.BigEndian.Uint32(s.buf[s.pos:]))
		s.consume(4)
		if vl < 0 {
			if !s.validValue(op, vl, s.off-4) {
				return false
			}
			s.rec.Op = OpDelete
			return true
		}
	}
	if !s.validValue(op, vl, s.off-4) {
		return false
	}
	var ok bool
	if s.val, ok = s.readBig(s.val, vl, "value", s.off-4); !ok {
		return false
	}
	s.rec.Value = s.val
	return true
}

// validValue checks a value length against the record's operation.
func (s *StateReader) validValue(op Op, vl int32, at int64) bool {
	switch {
	case vl == -1 && s.kind == KindSnapshot:
		s.err = errorf(at, decode.ErrCorrupt, "snapshot: value length -1 (a delete); a snapshot holds puts only")
	case vl == -1 && op == OpMerge:
		s.err = errorf(at, decode.ErrCorrupt, "%s: merge record with value length -1", s.kind)
	case vl < -1:
		s.err = errorf(at, decode.ErrCorrupt, "%s: value length %d", s.kind, vl)
	case vl >= 0 && op == OpDelete:
		s.err = errorf(at, decode.ErrCorrupt, "%s: delete record with a %d-byte value", s.kind, vl)
	default:
		return true
	}
	return false
}

// end_ records the end marker and counts what follows it.
func (s *StateReader) end_() {
	s.Ended = true
	s.Trailing = int64(s.end - s.pos)
	s.consume(s.end - s.pos)
	if s.rerr == nil {
		n, err := io.Copy(io.Discard, s.src)
		s.Trailing += n
		s.rerr = err
	}
	var de *decode.Error
	if s.rerr != nil && errors.As(s.rerr, &de) {
		s.err = s.rerr // a codec error after the marker still fails Spark's close
	}
}

// Record returns the current record.
func (s *StateReader) Record() Record { return s.rec }

// Err returns the first error; nil after a clean end marker.
func (s *StateReader) Err() error {
	if s.err != nil {
		return s.err
	}
	if !s.Ended {
		return errorf(s.off, decode.ErrTruncated, "%s: not read to the end", s.kind)
	}
	return nil
}

// Offset is the current offset in the decompressed stream.
func (s *StateReader) Offset() int64 { return s.off }

// StateSummary counts a state file's records.
type StateSummary struct {
	Codec      string        `json:"codec"`
	Compressed int64         `json:"compressedBytes"`
	Raw        int64         `json:"rawBytes"`
	Version    int           `json:"changelogVersion,omitempty"`
	Lineage    []LineageItem `json:"lineage,omitempty"`
	Puts       int64         `json:"puts"`
	Deletes    int64         `json:"deletes"`
	Merges     int64         `json:"merges,omitempty"`
	KeyBytes   int64         `json:"keyBytes"`
	ValueBytes int64         `json:"valueBytes"`
	Trailing   int64         `json:"trailingBytes,omitempty"`
}

// countingReader counts bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// ScanStateFile decompresses a state file from r (with force, or the codec
// its magic number shows when force is nil) and calls fn for every record
// (fn may be nil). It returns the file's summary; the error is positioned
// in the decompressed stream for record errors and in the file for codec
// errors.
func ScanStateFile(r io.Reader, kind string, force *codec.Kind, lim decode.Limits, fn func(Record) error) (*StateSummary, error) {
	cr := &countingReader{r: r}
	var zr *codec.Reader
	var err error
	if force != nil {
		zr, err = codec.NewReaderKind(cr, *force)
	} else {
		zr, err = codec.NewReader(cr)
	}
	if err != nil {
		return nil, err
	}
	zr.SetMaxDecompressed(lim.MaxDecompressed)
	sum := &StateSummary{Codec: zr.Kind().String()}
	raw := &countingReader{r: zr}
	sr, err := NewStateReader(raw, kind, lim)
	if err != nil {
		return sum, err
	}
	defer sr.Release()
	sum.Version, sum.Lineage = sr.Version, sr.Lineage
	for sr.Next() {
		rec := sr.Record()
		switch rec.Op {
		case OpDelete:
			sum.Deletes++
		case OpMerge:
			sum.Merges++
		default:
			sum.Puts++
		}
		sum.KeyBytes += int64(len(rec.Key))
		sum.ValueBytes += int64(len(rec.Value))
		if fn != nil {
			if err := fn(rec); err != nil {
				return sum, err
			}
		}
	}
	sum.Trailing = sr.Trailing
	sum.Compressed, sum.Raw = cr.n, raw.n
	if kind == KindChangelog && sum.Version == 0 {
		sum.Version = 1
	}
	if kind != KindChangelog {
		sum.Version = 0
	}
	return sum, sr.Err()
}

// ReadChangelogHeader reads a compressed changelog's version and, for
// V3/V4, its lineage.
func ReadChangelogHeader(r io.Reader) (int, []LineageItem, error) {
	zr, err := codec.NewReader(r)
	if err != nil {
		return 0, nil, err
	}
	sr, err := NewStateReader(zr, KindChangelog, decode.Limits{})
	if err != nil {
		return 0, nil, err
	}
	defer sr.Release()
	return sr.Version, sr.Lineage, nil
}
