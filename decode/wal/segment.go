package wal

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/sparkckpt/sparkckpt/decode"
)

// SegmentProblem is a segment whose data Spark could not read back.
type SegmentProblem struct {
	Segment Segment
	// BlockIDs are the blocks whose events reference the segment.
	BlockIDs []string
	// Err says what is wrong: an error from open (wrapping, e.g.,
	// fs.ErrNotExist), or a *decode.Error with File set to the segment's
	// path, Offset to its offset and kind ErrTruncated (the file ends
	// before the record does) or ErrCorrupt (the length prefix differs).
	Err error
}

// MarshalJSON renders the problem as {"path", "offset", "length", "blockIds", "error"}.
func (p SegmentProblem) MarshalJSON() ([]byte, error) {
	msg := ""
	if p.Err != nil {
		msg = p.Err.Error()
	}
	return json.Marshal(struct {
		Path     string   `json:"path"`
		Offset   int64    `json:"offset"`
		Length   int32    `json:"length"`
		BlockIDs []string `json:"blockIds"`
		Error    string   `json:"error"`
	}{p.Segment.Path, p.Segment.Offset, p.Segment.Length, p.BlockIDs, msg})
}

type segKey struct {
	path   string
	offset int64
	length int32
}

type openFile struct {
	r    io.ReaderAt
	size int64
	err  error
}

// CheckSegments checks every receiver-log segment referenced by the
// block-addition and batch-allocation events, as Spark's
// FileBasedWriteAheadLogRandomReader will read it on recovery: the file
// exists, at Offset there is a BE int32 equal to Length, and Length payload
// bytes follow it. Each distinct segment is checked once.
//
// open maps a segment's path (a URI such as hdfs://nn:8020/... or
// file:/...; see [LocalPath]) to its contents and size. It is called once
// per distinct path; a returned io.ReaderAt that is also an io.Closer is
// closed before CheckSegments returns. The result is empty when all is well.
func CheckSegments(events []Event, open func(path string) (io.ReaderAt, int64, error)) []SegmentProblem {
	var order []segKey
	blocks := map[segKey][]string{}
	add := func(info *ReceivedBlockInfo) {
		if info == nil || info.Segment == nil {
			return
		}
		k := segKey{info.Segment.Path, info.Segment.Offset, info.Segment.Length}
		ids, seen := blocks[k]
		if !seen {
			order = append(order, k)
		}
		for _, id := range ids {
			if id == info.BlockID {
				return
			}
		}
		blocks[k] = append(ids, info.BlockID)
	}
	for i := range events {
		ev := &events[i]
		add(ev.BlockAddition)
		if ev.Allocation != nil {
			for _, id := range ev.Allocation.StreamIDs {
				for j := range ev.Allocation.Blocks[id] {
					add(&ev.Allocation.Blocks[id][j])
				}
			}
		}
	}

	files := map[string]*openFile{}
	defer func() {
		for _, f := range files {
			if c, ok := f.r.(io.Closer); ok {
				c.Close()
			}
		}
	}()
	var out []SegmentProblem
	for _, k := range order {
		f := files[k.path]
		if f == nil {
			f = &openFile{}
			f.r, f.size, f.err = open(k.path)
			files[k.path] = f
		}
		seg := Segment{Path: k.path, Offset: k.offset, Length: k.length}
		var err error
		if f.err != nil {
			err = fmt.Errorf("wal: segment file %s: %w", k.path, f.err)
		} else {
			err = checkSegment(f.r, f.size, seg)
		}
		if err != nil {
			out = append(out, SegmentProblem{Segment: seg, BlockIDs: blocks[k], Err: err})
		}
	}
	return out
}

// checkSegment checks one segment against a file of size bytes.
func checkSegment(r io.ReaderAt, size int64, s Segment) error {
	fail := func(kind error, detail string, args ...any) error {
		e := decode.Errorf("wal", s.Offset, kind, detail, args...)
		e.File = s.Path
		return e
	}
	if s.Offset < 0 || s.Length < 0 {
		return fail(decode.ErrCorrupt, "segment has negative offset or length (%d, %d)", s.Offset, s.Length)
	}
	if s.Offset > size-4 {
		return fail(decode.ErrTruncated, "file has %d bytes, no length prefix at the segment's offset", size)
	}
	var hdr [4]byte
	if _, err := r.ReadAt(hdr[:], s.Offset); err != nil {
		return fmt.Errorf("wal: segment file %s: %w", s.Path, err)
	}
	if n := int32(binary.BigEndian.Uint32(hdr[:])); n != s.Length {
		return fail(decode.ErrCorrupt, "record length prefix is %d, the segment says %d", n, s.Length)
	}
	if end := s.Offset + 4 + int64(s.Length); end > size {
		return fail(decode.ErrTruncated, "record ends at %d, past the end of the %d-byte file", end, size)
	}
	return nil
}

// LocalPath returns the local file path a file: URI names, as Hadoop's
// Path.toString writes it: "file:/a/b" (the usual form), "file:///a/b" or
// "file://localhost/a/b" give "/a/b". ok is false for any other scheme
// (hdfs://, s3a://, ...) or a scheme-less path, which the caller must map
// to storage itself. Hadoop stores paths unescaped, so no percent-decoding
// is done.
func LocalPath(uri string) (string, bool) {
	if len(uri) < 5 || !strings.EqualFold(uri[:5], "file:") {
		return "", false
	}
	p := uri[5:]
	if rest, ok := strings.CutPrefix(p, "//"); ok {
		host, path, found := strings.Cut(rest, "/")
		if host != "" && !strings.EqualFold(host, "localhost") {
			return "", false
		}
		if !found {
			return "", false
		}
		p = "/" + path
	}
	if !strings.HasPrefix(p, "/") {
		return "", false
	}
	return filepath.FromSlash(p), true
}
