// Package decode holds the vocabulary shared by every sparkckpt decoder:
// the positioned error type, the kinds of failure, and the limits that keep
// a decoder's memory and recursion bounded on untrusted input.
//
// The formats themselves live in sub-packages:
//
//	decode/codec    Spark's compression framings (lz4-java LZ4Block, snappy-java, zstd, LZF, none)
//	decode/javaser  Java Object Serialization as a lossless, re-encodable node tree
//	decode/jcoll    Java and Scala collections read from javaser trees
//	decode/pickle   Python pickles (PySpark functions): opcodes, strings, byte-exact re-encode
//	decode/wal      Spark Streaming write-ahead logs (driver metadata and receiver data)
//	decode/dstream  the DStream Checkpoint model, Spark's file choice, URI references
//
// # Security
//
// Every decoder treats its input as hostile: a length read from the input is
// checked against the bytes remaining before anything is allocated, recursion
// is bounded by [Limits.MaxDepth], what one compressed file may decompress to
// by [Limits.MaxDecompressed], and malformed input yields an [*Error], never a
// panic. The Java serialization parser also bounds the memory of its tree by
// the size of its input (javaser.TreeBytesPerInputByte), and metadata log
// lines are bounded by structured.MaxLogLine.
package decode

import (
	"errors"
	"fmt"
	"strings"
)

// The kinds of decode failure. An [*Error] wraps exactly one of them, so callers
// can test with errors.Is.
var (
	// ErrTruncated means the input ended before a structure was complete.
	ErrTruncated = errors.New("truncated")
	// ErrCorrupt means the bytes are not a valid encoding of the format.
	ErrCorrupt = errors.New("corrupt")
	// ErrUnsupported means the input is valid but uses a feature sparkckpt does not decode.
	ErrUnsupported = errors.New("unsupported")
	// ErrTooLarge means a length or depth exceeds the configured [Limits].
	ErrTooLarge = errors.New("too large")
)

// Error is a decode failure with its position.
//
// Offset counts bytes from the start of the stream the decoder was reading:
// for a compression codec, the compressed file; for the Java serialization
// layer, the decompressed stream.
type Error struct {
	Format string // the decoder: "javaser", "lz4block", "snappy", "zstd", "lzf", "codec", ...
	File   string // the file being read, when known (set by [WithFile])
	Offset int64  // byte offset of the failing structure
	Path   string // object path of the node being read, e.g. "Checkpoint.graph.outputStreams[0]"; may be empty
	Err    error  // wraps one of ErrTruncated, ErrCorrupt, ErrUnsupported, ErrTooLarge
}

// Errorf returns an *Error for format at offset whose Err wraps kind with a
// formatted detail, e.g. Errorf("lzf", 12, ErrCorrupt, "expected chunk type 0 or 1, got %d", t).
func Errorf(format string, offset int64, kind error, detail string, args ...any) *Error {
	return &Error{Format: format, Offset: offset, Err: fmt.Errorf("%w: "+detail, append([]any{kind}, args...)...)}
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Format)
	b.WriteString(": ")
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "offset %d (0x%x)", e.Offset, e.Offset)
	if e.Path != "" {
		b.WriteString(" in ")
		b.WriteString(e.Path)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the wrapped kind, so errors.Is(err, ErrTruncated) works.
func (e *Error) Unwrap() error { return e.Err }

// WithFile sets the file name on err if it is (or wraps) an *Error without
// one, and returns err. Other errors are returned unchanged.
func WithFile(err error, file string) error {
	var de *Error
	if errors.As(err, &de) && de.File == "" {
		de.File = file
	}
	return err
}

// Limits bound what a decoder will allocate or recurse into. The zero value
// means "use the defaults" (see [DefaultMaxDepth], [DefaultMaxAlloc],
// [DefaultMaxDecompressed], [DefaultMaxTree]).
type Limits struct {
	// MaxDepth bounds nesting of objects inside objects.
	MaxDepth int
	// MaxAlloc bounds any single allocation driven by a length in the input
	// (a string, an array, a decompressed block), independent of the bytes remaining.
	MaxAlloc int64
	// MaxDecompressed bounds what one compressed file may decompress to, so
	// that a small file cannot expand into more memory than the machine has
	// (a decompression bomb).
	MaxDecompressed int64
	// MaxTree bounds the memory of one decoded object tree (the Java
	// serialization parser's nodes, those of abandoned readings included),
	// whatever the size of the stream: a stream within MaxDecompressed can
	// still describe a tree many times its size (a run of TC_NULLs costs 24
	// bytes of tree per byte).
	MaxTree int64
}

// Defaults used when a field of Limits is zero.
const (
	DefaultMaxDepth = 4096
	DefaultMaxAlloc = 1 << 30
	// DefaultMaxDecompressed is far above any real checkpoint or state file
	// (the largest checkpoint of the real-file corpus decompresses to 90 KB).
	DefaultMaxDecompressed = 256 << 20
	// DefaultMaxTree is far above the tree of any real checkpoint (under
	// 2 MB for that 90 KB stream).
	DefaultMaxTree = 1 << 30
)

// OrDefault returns l with every zero field replaced by its default.
func (l Limits) OrDefault() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxAlloc <= 0 {
		l.MaxAlloc = DefaultMaxAlloc
	}
	if l.MaxDecompressed <= 0 {
		l.MaxDecompressed = DefaultMaxDecompressed
	}
	if l.MaxTree <= 0 {
		l.MaxTree = DefaultMaxTree
	}
	return l
}
