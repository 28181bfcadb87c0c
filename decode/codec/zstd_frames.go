package codec

import (
	"encoding/binary"
	"io"

	"github.com/sparkckpt/sparkckpt/decode"
)

// zstd frame layout (RFC 8878 §3.1; dstream-format.md §2.5):
//
//	frame      magic 28 B5 2F FD | Frame_Header_Descriptor | [Window_Descriptor] | [Dictionary_ID] | [Frame_Content_Size]
//	           block* (3-byte LE header: Block_Size<<3 | Block_Type<<1 | Last_Block, then content) | [4-byte checksum]
//	skippable  magic 5? 2A 4D 18 | LE uint32 size | size bytes
//
// zstdFramer walks this structure on the way to the decompressor: it
// validates headers, bounds the window, finds truncation, and records where
// the current frame and block start, so that an error from the decompressor
// (which reads exactly one block at a time) can be placed.
const (
	zstdMaxBlock         = 128 << 10
	zstdMagicExpected    = `zstd frame magic 28 B5 2F FD`
	zstdSkippableMask    = 0xFFFFFFF0
	zstdSkippableMagic   = 0x184D2A50
	zstdFrameMagicLE     = 0xFD2FB528
	zstdMinWindow        = 1 << 10
	zstdBlockTypeRLE     = 1
	zstdBlockTypeReserve = 3
)

// MaxZstdWindow is the largest zstd window the reader accepts: 128 MiB, the
// default limit of libzstd and so of zstd-jni, which Spark reads with.
// Spark's default level 1 writes 512 KiB windows.
const MaxZstdWindow = 1 << 27

type zstdState int

const (
	zstdFrameStart zstdState = iota
	zstdBlockHeader
	zstdChecksum
)

type zstdFramer struct {
	in      input
	state   zstdState
	pending []byte // parsed header bytes not yet passed on
	hdrBuf  [18]byte
	remain  int64     // content bytes of the current piece still to pass on
	piece   string    // what the current piece is, for errors
	after   zstdState // state once remain reaches zero

	frameStart, blockStart int64
	checksum               bool
	frames                 int
	err                    error // sticky; also reported by zstdSource
}

func (f *zstdFramer) Read(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	for len(f.pending) == 0 && f.remain == 0 {
		if err := f.parse(); err != nil {
			if err != io.EOF {
				f.err = err
			}
			return 0, err
		}
	}
	if len(f.pending) > 0 {
		n := copy(p, f.pending)
		f.pending = f.pending[n:]
		return n, nil
	}
	if int64(len(p)) > f.remain {
		p = p[:f.remain]
	}
	n, err := f.in.r.Read(p)
	f.in.off += int64(n)
	f.remain -= int64(n)
	if f.remain == 0 {
		f.state = f.after
	}
	if err == io.EOF && f.remain > 0 {
		err = decode.Errorf("zstd", f.blockStart, decode.ErrTruncated,
			"expected %d more bytes of %s, input ends", f.remain, f.piece)
	}
	if err != nil && err != io.EOF {
		f.err = err
	}
	if n > 0 {
		return n, nil
	}
	return 0, err
}

// parse reads the next header and queues it in pending.
func (f *zstdFramer) parse() error {
	switch f.state {
	case zstdFrameStart:
		return f.parseFrameHeader()
	case zstdBlockHeader:
		return f.parseBlockHeader()
	default: // zstdChecksum
		f.blockStart = f.in.off
		f.remain, f.after, f.piece = 4, zstdFrameStart, "zstd frame checksum"
		f.state = zstdFrameStart
		return nil
	}
}

func (f *zstdFramer) parseFrameHeader() error {
	at := f.in.off
	f.frameStart, f.blockStart = at, at
	h := f.hdrBuf[:4]
	err := f.in.readFull(h, at, "zstd frame magic")
	if err == io.EOF {
		return io.EOF // clean end between frames
	}
	if err != nil {
		return err
	}
	magic := binary.LittleEndian.Uint32(h)
	if magic&zstdSkippableMask == zstdSkippableMagic {
		h = f.hdrBuf[:8]
		if err := f.in.readRest(h[4:], at, "skippable frame size"); err != nil {
			return err
		}
		f.pending = h
		f.remain = int64(binary.LittleEndian.Uint32(h[4:]))
		f.after, f.piece = zstdFrameStart, "skippable frame content"
		f.frames++
		return nil
	}
	if magic != zstdFrameMagicLE {
		what := "or a skippable frame"
		if f.frames > 0 {
			what = "or a skippable frame after the previous frame (trailing data?)"
		}
		return decode.Errorf("zstd", at, decode.ErrCorrupt, "expected %s %s, got % X", zstdMagicExpected, what, h)
	}
	h = f.hdrBuf[:5]
	if err := f.in.readRest(h[4:5], at, "zstd frame header"); err != nil {
		return err
	}
	fhd := h[4]
	singleSegment := fhd&0x20 != 0
	if fhd&0x08 != 0 {
		return decode.Errorf("zstd", at, decode.ErrCorrupt,
			"frame header descriptor 0x%02X: expected reserved bit 3 to be zero", fhd)
	}
	fcsSize := [4]int{0, 2, 4, 8}[fhd>>6]
	if fcsSize == 0 && singleSegment {
		fcsSize = 1
	}
	dictSize := [4]int{0, 1, 2, 4}[fhd&3]
	n := 5 + dictSize + fcsSize
	if !singleSegment {
		n++
	}
	h = f.hdrBuf[:n]
	if err := f.in.readRest(h[5:], at, "zstd frame header"); err != nil {
		return err
	}
	p := 5
	var window uint64
	if !singleSegment {
		wd := h[p]
		p++
		log := 10 + uint64(wd>>3)
		base := uint64(1) << log
		window = base + base/8*uint64(wd&7)
	}
	var dictID uint32
	switch dictSize {
	case 1:
		dictID = uint32(h[p])
	case 2:
		dictID = uint32(binary.LittleEndian.Uint16(h[p:]))
	case 4:
		dictID = binary.LittleEndian.Uint32(h[p:])
	}
	p += dictSize
	if dictID != 0 {
		return decode.Errorf("zstd", at, decode.ErrUnsupported,
			"frame needs dictionary %d; expected a frame without dictionary, as Spark writes", dictID)
	}
	if singleSegment {
		switch fcsSize {
		case 1:
			window = uint64(h[p])
		case 2:
			window = uint64(binary.LittleEndian.Uint16(h[p:])) + 256
		case 4:
			window = uint64(binary.LittleEndian.Uint32(h[p:]))
		case 8:
			window = binary.LittleEndian.Uint64(h[p:])
		}
		window = max(window, zstdMinWindow)
	}
	if window > MaxZstdWindow {
		return decode.Errorf("zstd", at, decode.ErrTooLarge,
			"frame window is %d bytes, expected at most %d", window, MaxZstdWindow)
	}
	f.checksum = fhd&0x04 != 0
	f.pending = h
	f.state = zstdBlockHeader
	f.frames++
	return nil
}

func (f *zstdFramer) parseBlockHeader() error {
	at := f.in.off
	f.blockStart = at
	h := f.hdrBuf[:3]
	if err := f.in.readFull(h, at, "zstd block header"); err != nil {
		if err == io.EOF {
			return f.in.truncated(at, "zstd block header", 3, 0)
		}
		return err
	}
	v := uint32(h[0]) | uint32(h[1])<<8 | uint32(h[2])<<16
	last, typ, size := v&1 != 0, (v>>1)&3, int64(v>>3)
	if typ == zstdBlockTypeReserve {
		return decode.Errorf("zstd", at, decode.ErrCorrupt,
			"block header % X: expected block type 0 (raw), 1 (RLE) or 2 (compressed), got reserved type 3", h)
	}
	if size > zstdMaxBlock {
		return decode.Errorf("zstd", at, decode.ErrCorrupt,
			"block declares %d bytes, expected at most %d", size, zstdMaxBlock)
	}
	if typ == zstdBlockTypeRLE {
		size = 1
	}
	f.pending = h
	f.remain = size
	f.piece = "zstd block content"
	f.after = zstdBlockHeader
	if last {
		f.after = zstdFrameStart
		if f.checksum {
			f.after = zstdChecksum
		}
	}
	if f.remain == 0 {
		f.state = f.after
	}
	return nil
}
