// Package codec reads and writes the compression framings Spark wraps around
// checkpoint files (dstream-format.md §2), without a JVM.
//
// Spark compresses a checkpoint with exactly one codec, chosen by
// spark.io.compression.codec (§2.1). The framings are:
//
//	Kind    Producer (Java class)                 Layout
//	lz4     lz4-java LZ4BlockOutputStream         blocks: "LZ4Block" | token | LE compLen | LE rawLen | LE xxh32&0x0FFFFFFF | payload,
//	                                              then an end mark (token RAW|level, zero lengths, zero checksum) (§2.3)
//	snappy  snappy-java SnappyOutputStream        82 'SNAPPY' 00 | BE version 1 | BE minCompatible 1,
//	                                              then chunks: BE compLen | raw snappy block; no end mark (§2.4)
//	zstd    zstd-jni ZstdOutputStream             zstd frames (RFC 8878), magic 28 B5 2F FD (§2.5)
//	lzf     ning compress-lzf LZFOutputStream     chunks: "ZV" 01 | BE compLen | BE rawLen | data, or "ZV" 00 | BE len | data (§2.6)
//	none    (no codec)                            the Java serialization stream itself, starting AC ED 00 05
//
// [NewReader] detects the framing by its magic number ([Detect]). Spark never
// does that: it reads with the configured codec only, which is what
// [NewReaderKind] does. [NewWriter] writes each framing as the Java class
// does, so that a checkpoint can be re-encoded. [Params] carries what shapes
// the output (block size, zstd level, compressor generation);
// [Reader.Params] reports what an input shows, and [Identify] finds the
// parameters that reproduce an input exactly.
//
// An empty stream is the bare end mark for lz4 and the bare header for
// snappy; zstd-jni and compress-lzf write nothing at all, and their readers
// here, like theirs, take empty input as an empty stream.
//
// # Byte-exactness
//
// The framing (headers, block and chunk boundaries, end marks, the
// compress-or-store decisions) is always reproduced. Whether the compressed
// payload is depends on the codec (§2.7):
//
//   - lz4: exact. The block compressor ports liblz4's LZ4_compress_default,
//     which lz4-java's JNI binding runs, and lz4-java's pure-Java
//     compressor ([LZ4Impl]). Both were checked against lz4-java 1.8.0 on
//     1000 blocks up to 300 KiB. The default reproduces all 134 LZ4
//     checkpoints of the real-file corpus, and one of the two reproduces
//     each of its 10601 LZ4Block files (checkpoints and state store files
//     written by Spark 2.1 to 4.x).
//   - snappy: exact for the three libsnappy generations of [SnappyImpl].
//     The default was checked against libsnappy 1.1.9 through snappy-java;
//     SnappyLegacy reproduces the Spark 1.x checkpoints of the corpus;
//     SnappyGo is github.com/golang/snappy, which differs from libsnappy
//     1.1.9 on about a quarter of fragments under 8 KiB.
//   - lzf: a port of compress-lzf 1.0.4's ChunkEncoder, checked against it.
//     compress-lzf recycles its hash table between streams of one thread
//     without clearing it; a stale entry can, rarely, make it choose a
//     different back-reference than a fresh encoder (this writer) would.
//   - zstd: github.com/klauspost/compress/zstd: valid zstd that zstd-jni
//     reads, but not the bytes zstd-jni writes.
//
// # Errors
//
// Every error about the input is a [*decode.Error] whose Format is
// "lz4block", "snappy", "zstd", "lzf" or "codec" (detection), whose Offset
// is the byte offset in the compressed input of the structure that failed
// (an LZ4Block header, a snappy or lzf chunk, a zstd frame or block header),
// and whose message says what was expected. For zstd, corruption inside a
// compressed block is reported at that block's header. Errors from the
// underlying io.Reader or io.Writer are returned unchanged.
//
// # Security
//
// Readers treat their input as hostile and never panic on it; a fuzz target
// per reader checks this. No length from the input is trusted beyond what
// the format allows: an lz4 block is at most the 32 MiB its token permits, a
// snappy chunk at most [MaxSnappyChunk], an lzf chunk 65535 bytes, a zstd
// window [MaxZstdWindow]. A declared decompressed size must also be one the
// compressed size can produce (255 times for lz4, 22 for snappy), and
// compressed payloads are read in steps as they arrive, so a short or
// truncated input cannot make a reader allocate much more than it has read.
// The exception is zstd, whose decoder reserves the window a frame header
// declares. Memory is bounded by one block (the window, for zstd), never by
// the size of the input.
//
// What a whole stream may decompress to is bounded too, by
// [decode.DefaultMaxDecompressed] (256 MiB) unless
// [Reader.SetMaxDecompressed] or [DecompressLimits] says otherwise: past it,
// reading fails with a [decode.ErrTooLarge] error at the block that crosses
// the bound, so that a decompression bomb (32 KB of zstd that expands to
// 1 GiB) fails instead of exhausting memory in a caller that keeps the
// stream.
//
// Every lz4 block carries a checksum of its decompressed bytes, which is
// verified. Snappy, lzf and zstd as Spark writes them carry none, so a
// corrupted literal byte in those formats decodes without error; lengths are
// still checked exactly.
package codec

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/sparkckpt/sparkckpt/decode"
)

// Kind is a compression codec.
type Kind int

// The codecs Spark can write a checkpoint with, plus None for an uncompressed
// Java serialization stream.
const (
	None Kind = iota
	LZ4
	Snappy
	Zstd
	LZF
)

var kindNames = [...]string{None: "none", LZ4: "lz4", Snappy: "snappy", Zstd: "zstd", LZF: "lzf"}

// String returns Spark's short name for k ("lz4", "snappy", "zstd", "lzf"),
// or "none".
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

func (k Kind) valid() bool { return k >= None && k <= LZF }

// formatName is the decode.Error Format of k's reader.
func (k Kind) formatName() string {
	switch k {
	case LZ4:
		return "lz4block"
	case Snappy:
		return "snappy"
	case Zstd:
		return "zstd"
	case LZF:
		return "lzf"
	}
	return "codec"
}

// sparkClassNames are the codec classes spark.io.compression.codec may name
// (CompressionCodec.scala, §2.1).
var sparkClassNames = map[string]Kind{
	"org.apache.spark.io.LZ4CompressionCodec":    LZ4,
	"org.apache.spark.io.LZFCompressionCodec":    LZF,
	"org.apache.spark.io.SnappyCompressionCodec": Snappy,
	"org.apache.spark.io.ZStdCompressionCodec":   Zstd,
}

// ParseKind maps a spark.io.compression.codec value to a Kind. Like Spark, it
// accepts the short names case-insensitively ("lz4", "lzf", "snappy", "zstd")
// and the fully-qualified class names exactly
// ("org.apache.spark.io.LZ4CompressionCodec", ...). It also accepts "none",
// which is not a Spark value.
func ParseKind(name string) (Kind, error) {
	lower := strings.ToLower(name)
	for k, n := range kindNames {
		if lower == n {
			return Kind(k), nil
		}
	}
	if k, ok := sparkClassNames[name]; ok {
		return k, nil
	}
	return 0, fmt.Errorf("codec: unknown compression codec %q: expected lz4, lzf, snappy, zstd, none or an org.apache.spark.io.*CompressionCodec class name", name)
}

// Magic numbers (§2.3-2.6, §3.1).
var (
	lz4Magic    = []byte("LZ4Block")
	snappyMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}
	zstdMagic   = []byte{0x28, 0xB5, 0x2F, 0xFD}
	lzfMagic    = []byte("ZV")
	javaMagic   = []byte{0xAC, 0xED}
)

var magics = []struct {
	kind  Kind
	magic []byte
	name  string
}{
	{LZ4, lz4Magic, `"LZ4Block" (lz4)`},
	{Snappy, snappyMagic, `82 53 4E 41 50 50 59 00 (snappy)`},
	{Zstd, zstdMagic, `28 B5 2F FD (zstd)`},
	{LZF, lzfMagic, `"ZV" (lzf)`},
	{None, javaMagic, `AC ED (uncompressed Java serialization)`},
}

// DetectLen is the number of bytes [Detect] needs to recognize every codec.
const DetectLen = 8

// Detect names the codec whose magic number prefix starts with. It needs at
// most [DetectLen] bytes. If prefix is shorter than the magic it starts to
// match, the error wraps decode.ErrTruncated; if it matches none, the error
// wraps decode.ErrCorrupt, is at offset 0 and lists the expected magics.
func Detect(prefix []byte) (Kind, error) {
	if len(prefix) > DetectLen {
		prefix = prefix[:DetectLen]
	}
	if len(prefix) == 0 {
		return 0, decode.Errorf("codec", 0, decode.ErrTruncated, "empty input; expected %s", expectedMagics())
	}
	for _, m := range magics {
		if bytes.HasPrefix(prefix, m.magic) {
			return m.kind, nil
		}
	}
	for _, m := range magics {
		if len(prefix) < len(m.magic) && bytes.HasPrefix(m.magic, prefix) {
			return 0, decode.Errorf("codec", int64(len(prefix)), decode.ErrTruncated,
				"input ends after %d bytes; expected the magic number of a compressed stream (the bytes so far match %s)", len(prefix), m.name)
		}
	}
	return 0, decode.Errorf("codec", 0, decode.ErrCorrupt, "unrecognized magic number % X; expected %s", prefix, expectedMagics())
}

func expectedMagics() string {
	names := make([]string, len(magics))
	for i, m := range magics {
		names[i] = m.name
	}
	return "one of " + strings.Join(names, ", ")
}

// describe names the codec whose magic b starts with, for hints in errors.
func describe(b []byte) string {
	if k, err := Detect(b); err == nil {
		if k == None {
			return "an uncompressed Java serialization stream"
		}
		return "a " + k.String() + " stream"
	}
	return "no known codec"
}

// wrongMagic is the error for a stream that does not start with k's magic.
func wrongMagic(k Kind, got []byte, want string) error {
	if len(got) == 0 {
		return decode.Errorf(k.formatName(), 0, decode.ErrTruncated, "empty input; expected %s", want)
	}
	for _, m := range magics {
		if m.kind == k && len(got) < len(m.magic) && bytes.HasPrefix(m.magic, got) {
			return decode.Errorf(k.formatName(), 0, decode.ErrTruncated,
				"input ends after %d bytes; expected %s", len(got), want)
		}
	}
	return decode.Errorf(k.formatName(), 0, decode.ErrCorrupt,
		"expected %s, got % X (%s; Spark reads only with its configured codec)", want, got, describe(got))
}

// Params are the settings that shape a compressed stream.
type Params struct {
	// BlockSize is, for lz4 and snappy, the uncompressed size of every block
	// but the last (Spark's spark.io.compression.{lz4,snappy}.blockSize,
	// default 32768); for lzf, the chunk size (65535, fixed in
	// compress-lzf); for zstd, Spark's buffer size
	// (spark.io.compression.zstd.bufferSize, 32768), which does not change
	// the output of this package's writer. Zero means the default.
	BlockSize int
	// Level is the zstd compression level (spark.io.compression.zstd.level,
	// default 1). Zero means Spark's default, 1, not libzstd's level 0 (which
	// means 3). Other codecs ignore it.
	Level int
	// LZ4 selects the lz4-java compressor the lz4 writer reproduces; the
	// zero value is LZ4Native, what current Spark uses.
	LZ4 LZ4Impl
	// Snappy selects the libsnappy generation the snappy writer reproduces;
	// the zero value is SnappyCurrent.
	Snappy SnappyImpl
}

// Default parameters (§2.1).
const (
	DefaultLZ4BlockSize    = 32768
	DefaultSnappyBlockSize = 32768
	DefaultZstdBufferSize  = 32768
	DefaultZstdLevel       = 1
	LZFChunkSize           = 65535
)

// DefaultParams returns Spark's default parameters for k.
func DefaultParams(k Kind) Params {
	switch k {
	case LZ4:
		return Params{BlockSize: DefaultLZ4BlockSize}
	case Snappy:
		return Params{BlockSize: DefaultSnappyBlockSize}
	case Zstd:
		return Params{BlockSize: DefaultZstdBufferSize, Level: DefaultZstdLevel}
	case LZF:
		return Params{BlockSize: LZFChunkSize}
	}
	return Params{}
}

// withDefaults fills zero fields of p with k's defaults.
func (p Params) withDefaults(k Kind) Params {
	d := DefaultParams(k)
	if p.BlockSize == 0 {
		p.BlockSize = d.BlockSize
	}
	if p.Level == 0 {
		p.Level = d.Level
	}
	return p
}

// blockSource is one codec's decoder: it yields the decompressed stream a
// block at a time.
type blockSource interface {
	// next returns the next non-empty decompressed block, valid until the
	// following call, or io.EOF at the clean end of the stream.
	next() ([]byte, error)
	// params reports the parameters observed so far.
	params() Params
	// offset is the offset in the compressed input of the block (chunk,
	// frame block) the last call to next decoded.
	offset() int64
}

// Reader decompresses a stream. It implements io.Reader.
//
// After an error, every Read returns the same error.
type Reader struct {
	kind  Kind
	src   blockSource
	buf   []byte // undelivered part of the current block
	err   error
	total int64 // decompressed bytes decoded so far
	max   int64 // the most the stream may decompress to
}

// NewReader returns a Reader that detects the codec by its magic number (see
// [Detect]) and decompresses r. It reads ahead of what it returns, so r
// should not be read by anyone else afterwards.
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReader(r)
	prefix, err := br.Peek(DetectLen)
	if err != nil && err != io.EOF {
		return nil, err
	}
	k, err := Detect(prefix)
	if err != nil {
		return nil, err
	}
	return newReader(br, k)
}

// NewReaderKind returns a Reader that decompresses r as codec k, without
// detection, as Spark does. A stream that does not start with k's magic
// number fails here, with an error that names the codec it looks like.
func NewReaderKind(r io.Reader, k Kind) (*Reader, error) {
	if !k.valid() {
		return nil, fmt.Errorf("codec: unknown kind %d", int(k))
	}
	return newReader(bufio.NewReader(r), k)
}

func newReader(br *bufio.Reader, k Kind) (*Reader, error) {
	var (
		src blockSource
		err error
	)
	switch k {
	case LZ4:
		src, err = newLZ4Source(br)
	case Snappy:
		src, err = newSnappySource(br)
	case Zstd:
		src, err = newZstdSource(br)
	case LZF:
		src, err = newLZFSource(br)
	default:
		src, err = newNoneSource(br)
	}
	if err != nil {
		return nil, err
	}
	return &Reader{kind: k, src: src, max: decode.DefaultMaxDecompressed}, nil
}

// SetMaxDecompressed bounds what the stream may decompress to: past n bytes,
// Read fails with a [decode.ErrTooLarge] error at the offset of the block
// that crosses the bound. n <= 0 means [decode.DefaultMaxDecompressed],
// which every new Reader starts with. A decompression bomb (a small file
// that expands to gigabytes) thus fails after n bytes, and a caller that
// keeps the whole stream in memory keeps at most n.
func (r *Reader) SetMaxDecompressed(n int64) {
	if n <= 0 {
		n = decode.DefaultMaxDecompressed
	}
	r.max = n
}

// fill decodes the next block into r.buf, enforcing the bound.
func (r *Reader) fill() {
	r.buf, r.err = r.src.next()
	r.total += int64(len(r.buf))
	if r.total > r.max {
		r.buf = nil
		r.err = decode.Errorf(r.kind.formatName(), r.src.offset(), decode.ErrTooLarge,
			"stream decompresses to more than %d bytes, the limit (--max-decompressed); expected a checkpoint file far smaller", r.max)
	}
}

// Kind returns the codec being read.
func (r *Reader) Kind() Kind { return r.kind }

// Params returns the parameters observed in the input so far; once Read has
// returned io.EOF they are final. For lz4, BlockSize is the size of the first
// block when the stream has more than one data block, else the largest size
// the first block's token allows (1<<(10+level)). For snappy and lzf it is the
// largest chunk's uncompressed size when there is more than one chunk, else
// the default. The other fields are the defaults: the zstd level and the
// compressor generation are not recorded in a stream ([Identify] finds the
// generation by recompressing).
func (r *Reader) Params() Params { return r.src.params() }

// Read reads decompressed bytes into p. It returns at most the rest of one
// block, without waiting for more input.
func (r *Reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for len(r.buf) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		r.fill()
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// WriteTo writes the whole decompressed stream to w. It implements
// io.WriterTo, which saves io.Copy a buffer.
func (r *Reader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if len(r.buf) > 0 {
			n, err := w.Write(r.buf)
			total += int64(n)
			r.buf = r.buf[n:]
			if err != nil {
				return total, err
			}
			continue
		}
		if r.err != nil {
			if r.err == io.EOF {
				return total, nil
			}
			return total, r.err
		}
		r.fill()
	}
}

// NewWriter returns a writer that compresses to w with codec k and
// parameters p (zero fields mean Spark's defaults, see [DefaultParams]).
// Close finishes the stream (lz4's end mark, the last partial block) but does
// not close w.
//
// The writer produces what the Java class produces from the same sequence of
// bytes when the stream is flushed only at its end, as Spark's are (§2.2):
// its output does not depend on how the bytes are split into Write calls.
func NewWriter(w io.Writer, k Kind, p Params) (io.WriteCloser, error) {
	switch k {
	case LZ4:
		return newLZ4Writer(w, p.withDefaults(k))
	case Snappy:
		return newSnappyWriter(w, p.withDefaults(k))
	case Zstd:
		return newZstdWriter(w, p.withDefaults(k))
	case LZF:
		return newLZFWriter(w, p.withDefaults(k))
	case None:
		return &noneWriter{w: w}, nil
	}
	return nil, fmt.Errorf("codec: unknown kind %d", int(k))
}

// Decompress decompresses b, detecting the codec, and returns the
// decompressed bytes with the codec and the parameters observed. The result
// can be some 255 times larger than b (lz4's limit); a [Reader] streams it
// in bounded memory instead.
func Decompress(b []byte) ([]byte, Kind, Params, error) {
	return DecompressLimits(b, nil, decode.Limits{})
}

// DecompressLimits is Decompress reading with codec *force instead of
// detecting it when force is not nil, and failing with [decode.ErrTooLarge]
// once the stream exceeds lim.MaxDecompressed (zero: the default).
func DecompressLimits(b []byte, force *Kind, lim decode.Limits) ([]byte, Kind, Params, error) {
	var (
		r   *Reader
		err error
	)
	if force != nil {
		r, err = NewReaderKind(bytes.NewReader(b), *force)
	} else {
		r, err = NewReader(bytes.NewReader(b))
	}
	if err != nil {
		return nil, 0, Params{}, err
	}
	r.SetMaxDecompressed(lim.MaxDecompressed)
	out, err := r.ReadAll()
	if err != nil {
		return nil, r.Kind(), r.Params(), err
	}
	return out, r.Kind(), r.Params(), nil
}

// ReadAll reads the rest of the stream, as io.ReadAll(r) does. It collects
// the blocks in chunks and joins them once at the end, so that a stream
// refused at the bound (see SetMaxDecompressed) costs no more than the
// bound (io.ReadAll's doubling buffer reserves up to twice as much), and
// one read to the end costs at most twice its size.
func (r *Reader) ReadAll() ([]byte, error) {
	const chunk = 1 << 20
	var (
		chunks [][]byte
		cur    []byte
		total  int
	)
	for {
		for len(r.buf) > 0 {
			if len(cur) == cap(cur) {
				if cur != nil {
					chunks = append(chunks, cur)
				}
				cur = make([]byte, 0, min(chunk, max(len(r.buf), 4096, total)))
			}
			n := min(cap(cur)-len(cur), len(r.buf))
			cur = append(cur, r.buf[:n]...)
			r.buf = r.buf[n:]
			total += n
		}
		if r.err != nil {
			if r.err != io.EOF {
				return nil, r.err
			}
			break
		}
		r.fill()
	}
	if len(chunks) == 0 {
		return cur, nil
	}
	out := make([]byte, 0, total)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return append(out, cur...), nil
}

// Compress compresses b with codec k and parameters p.
func Compress(k Kind, p Params, b []byte) ([]byte, error) {
	var out bytes.Buffer
	w, err := NewWriter(&out, k, p)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(b); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// errClosed is returned by a writer's Write after Close.
var errClosed = errors.New("codec: write after Close")

// chunker buffers written bytes into fixed-size chunks for the writers
// whose format compresses each full chunk as soon as it is full
// (snappy-java, LZF); it is embedded in them.
type chunker struct {
	buf    []byte // one chunk
	o      int    // bytes of buf in use
	err    error  // sticky write error
	closed bool
}

// write copies p into the chunk buffer, calling flush each time it fills.
func (c *chunker) write(p []byte, flush func() error) (int, error) {
	if c.closed {
		return 0, errClosed
	}
	if c.err != nil {
		return 0, c.err
	}
	n := 0
	for len(p) > 0 {
		k := copy(c.buf[c.o:], p)
		c.o += k
		p = p[k:]
		n += k
		if c.o == len(c.buf) {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}
