package tui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"unicode/utf8"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/codec"
	"github.com/sparkckpt/sparkckpt/decode/crcfile"
	"github.com/sparkckpt/sparkckpt/decode/dstream"
	"github.com/sparkckpt/sparkckpt/decode/javaser"
	"github.com/sparkckpt/sparkckpt/decode/structured"
	"github.com/sparkckpt/sparkckpt/decode/wal"
)

// maxBrowse bounds the size of a file (and of its decompressed stream) the
// browser decodes; larger files are listed but not opened.
const maxBrowse = 256 << 20

// docKind is how a decoded file is shown.
type docKind int

const (
	docCheckpoint docKind = iota // a DStream Checkpoint
	docJava                      // another Java serialization stream (RDD part files, _partitioner)
	docDriverLog                 // receivedBlockMetadata/log-*
	docDataLog                   // receivedData/<id>/log-*
	docCRC                       // a .crc sidecar
	docText                      // a text file (Structured Streaming logs are text)
	docBinary                    // anything else: hex only
)

// doc is one decoded file. A command builds it off the UI goroutine and
// hands it over in a decodedMsg; afterwards only the UI goroutine touches
// it (the display tree is built lazily from it).
type doc struct {
	rel    string
	kind   docKind
	size   int64
	data   []byte // the bytes offsets refer to: the decompressed stream, or the file itself
	stream bool   // data is a decompressed Java stream (not the file)
	codec  string
	block  int

	java *javaser.Stream
	file *dstream.File
	log  *wal.Log
	recs []wal.DataRecord
	tail *wal.Tail

	sidecar *crcfile.Sidecar
	crcOf   string // the file a sidecar checks
	crcErr  error  // its verification

	// Structured Streaming: the file's type (structured.FileType) and what
	// decode/structured read from it.
	ss       string
	ssID     string
	ssOff    *structured.OffsetSeq
	ssCommit *structured.Commit
	ssLog    *structured.FileLog
	ssKafka  *structured.KafkaInitialOffsets

	err    error // why the file does not decode; nil if it does
	errOff int64 // where, in data (-1: unknown)

	tree *otree // the display tree, built on first view
}

// failed reports whether the file should be marked as undecodable.
func (d *doc) failed() bool { return d.err != nil || d.crcErr != nil }

var errTooLarge = errors.New("too large to browse")

// decodeFile reads and decodes one file. It never fails: a file that does
// not decode comes back with err set (and whatever could be read). ctx is
// checked between stages; a cancelled decode returns nil.
//
// A panic while decoding (a decoder bug; never expected) is the file's
// error too, so that the browser keeps running and the terminal is left
// as it was.
func decodeFile(ctx context.Context, fsys fs.FS, e *entry, lim decode.Limits) (d *doc) {
	d = &doc{rel: e.rel, size: e.size, errOff: -1, kind: docBinary}
	defer func() {
		if r := recover(); r != nil {
			d = &doc{rel: e.rel, size: e.size, errOff: -1, kind: docBinary,
				err: fmt.Errorf("internal error decoding %s (please report it): %v", e.rel, r)}
		}
	}()
	if d.size < 0 { // not stat'ed yet
		if st, err := fs.Stat(fsys, e.rel); err == nil {
			d.size = st.Size()
		}
	}
	if d.size > maxBrowse {
		d.err = fmt.Errorf("%w (%d bytes; the limit is %d)", errTooLarge, d.size, maxBrowse)
		return d
	}
	b, err := fs.ReadFile(fsys, e.rel)
	if err != nil {
		d.err = err
		return d
	}
	d.size = int64(len(b))
	d.data = b
	if ctx.Err() != nil {
		return nil
	}
	switch e.kind {
	case kindCheckpoint:
		d.kind = docCheckpoint
		decodeCheckpoint(ctx, d, b, lim)
	case kindDriverLog:
		d.kind = docDriverLog
		d.log, d.err = wal.ReadLog(bytes.NewReader(b))
		if d.log != nil {
			d.tail = d.log.Tail
		}
		d.setErrOff()
	case kindDataLog:
		d.kind = docDataLog
		d.recs, d.tail, d.err = wal.ReadDataLog(bytes.NewReader(b))
		d.setErrOff()
	case kindCRC:
		d.kind = docCRC
		d.sidecar, d.err = crcfile.Parse(b)
		if d.err == nil {
			of, _ := crcfile.IsSidecar(path.Base(e.rel))
			d.crcOf = path.Join(path.Dir(e.rel), of)
			if data, err := fs.ReadFile(fsys, d.crcOf); err == nil {
				d.crcErr = crcfile.Verify(data, b)
			} else if errors.Is(err, fs.ErrNotExist) {
				d.crcOf += " (missing)"
			}
		}
	case kindStructured:
		decodeGeneric(ctx, d, b, lim)
		if d.err == nil {
			decodeStructured(d, b)
		}
	default:
		decodeGeneric(ctx, d, b, lim)
	}
	return d
}

// decodeStructured reads a Structured Streaming log file with
// decode/structured; other files of the checkpoint (state stores, schemas)
// are shown generically.
func decodeStructured(d *doc, b []byte) {
	d.ss = structured.FileType(d.rel)
	var err error
	switch d.ss {
	case structured.FileMetadata:
		d.ssID, err = structured.ParseMetadata(b)
	case structured.FileOffsets:
		d.ssOff, err = structured.ParseOffsets(b)
	case structured.FileCommits:
		d.ssCommit, err = structured.ParseCommit(b)
	case structured.FileSinkLog:
		d.ssLog, err = structured.ParseFileLog(b, structured.LogSink)
	case structured.FileSourceLog:
		// A file source's log, or a Kafka source's initial offsets (sources/<n>/0).
		if d.ssLog, err = structured.ParseFileLog(b, structured.LogSource); err != nil {
			if k, kerr := structured.ParseKafkaInitialOffsets(b); kerr == nil {
				d.ssLog, d.ssKafka, err = nil, k, nil
			}
		}
	}
	if err != nil {
		d.err = err
		d.setErrOff()
	}
}

func (d *doc) setErrOff() {
	var de *decode.Error
	if errors.As(d.err, &de) {
		d.errOff = de.Offset
	}
}

// decompress decodes a codec framing, bounded by lim.MaxDecompressed.
func decompress(b []byte, lim decode.Limits) ([]byte, codec.Kind, codec.Params, error) {
	return codec.DecompressLimits(b, nil, lim)
}

// decodeCheckpoint does what dstream.Read does, keeping the decompressed
// stream for the hex view.
func decodeCheckpoint(ctx context.Context, d *doc, b []byte, lim decode.Limits) {
	if len(b) == 0 {
		d.err = &decode.Error{Format: "codec", Err: fmt.Errorf("%w: empty file", decode.ErrTruncated)}
		d.errOff = 0
		return
	}
	data, k, p, err := decompress(b, lim)
	d.codec, d.block = k.String(), p.BlockSize
	if err != nil {
		d.err = err
		d.setErrOff()
		return
	}
	d.data, d.stream = data, true
	if ctx.Err() != nil {
		return
	}
	s, err := javaser.Options{Limits: lim}.Parse(data)
	if err != nil {
		d.err = err
		d.setErrOff()
		return
	}
	d.java = s
	cp, err := dstream.Decode(s)
	if err != nil {
		d.err = err
		d.setErrOff()
		return
	}
	d.file = &dstream.File{Codec: k, Params: p, Stream: s, Checkpoint: cp, Size: int64(len(b)), Raw: len(data)}
}

// decodeGeneric shows a file of no known kind: a Java stream (compressed
// or not) as an object tree, text as text, anything else as bytes.
func decodeGeneric(ctx context.Context, d *doc, b []byte, lim decode.Limits) {
	data := b
	if k, err := codec.Detect(b); err == nil && k != codec.None && len(b) >= codec.DetectLen {
		out, k, p, err := decompress(b, lim)
		d.codec, d.block = k.String(), p.BlockSize
		if err != nil {
			d.err = err
			d.setErrOff()
			return
		}
		data, d.data, d.stream = out, out, true
	}
	if ctx.Err() != nil {
		return
	}
	if len(data) >= 4 && data[0] == 0xAC && data[1] == 0xED {
		d.kind = docJava
		d.data, d.stream = data, true
		d.java, d.err = javaser.Options{Limits: lim}.Parse(data)
		d.setErrOff()
		return
	}
	if looksText(data) {
		d.kind = docText
		d.data = data
	}
}

// looksText reports whether b is UTF-8 text with few control characters.
func looksText(b []byte) bool {
	if len(b) == 0 || !utf8.Valid(b) {
		return len(b) == 0
	}
	ctl := 0
	for _, c := range b {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' {
			ctl++
		}
	}
	return ctl*20 < len(b)
}
