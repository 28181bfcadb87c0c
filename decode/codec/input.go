package codec

import (
	"io"

	"github.com/sparkckpt/sparkckpt/decode"
)

// input reads the compressed stream and counts the bytes consumed, so that
// errors can name the offset of the structure being read.
type input struct {
	r      io.Reader
	off    int64 // bytes consumed so far
	format string
}

// readFull fills p. It returns io.EOF if the input ended before the first
// byte, and an ErrTruncated *decode.Error at offset at (the start of the
// structure, named by what) if it ended later. Errors of the underlying
// reader are returned as they are.
func (in *input) readFull(p []byte, at int64, what string) error {
	n, err := io.ReadFull(in.r, p)
	in.off += int64(n)
	switch err {
	case nil, io.EOF:
		return err
	case io.ErrUnexpectedEOF:
		return in.truncated(at, what, len(p), n)
	}
	return err
}

// maxReadStep bounds how far readPayload grows its buffer ahead of the bytes
// actually read.
const maxReadStep = 1 << 20

// readPayload reads n bytes into buf, reusing its capacity, and returns them.
// Running out of input at any point, including before the first byte, is an
// ErrTruncated error at offset at. The buffer grows as the bytes arrive, so a
// length field that promises more than the input holds never causes a large
// allocation.
func (in *input) readPayload(buf []byte, n int, at int64, what string) ([]byte, error) {
	if cap(buf) >= n {
		buf = buf[:n]
		got, err := io.ReadFull(in.r, buf)
		in.off += int64(got)
		return buf, in.payloadErr(err, at, what, n, got)
	}
	buf = buf[:0]
	for len(buf) < n {
		step := min(n-len(buf), maxReadStep)
		if cap(buf)-len(buf) < step {
			nb := make([]byte, len(buf), min(n, max(2*cap(buf), len(buf)+step)))
			copy(nb, buf)
			buf = nb
		}
		start := len(buf)
		got, err := io.ReadFull(in.r, buf[start:start+step])
		in.off += int64(got)
		buf = buf[:start+got]
		if err != nil {
			return nil, in.payloadErr(err, at, what, n, len(buf))
		}
	}
	return buf, nil
}

func (in *input) payloadErr(err error, at int64, what string, want, got int) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return in.truncated(at, what, want, got)
	}
	return err
}

func (in *input) truncated(at int64, what string, want, got int) error {
	return decode.Errorf(in.format, at, decode.ErrTruncated,
		"expected %d bytes of %s, input ends after %d", want, what, got)
}

// readRest reads the remainder of a structure that starts at offset at and
// whose first bytes were already read. Running out of input, even before the
// first byte, is an ErrTruncated error naming the structure's full size.
func (in *input) readRest(p []byte, at int64, what string) error {
	start := in.off
	n, err := io.ReadFull(in.r, p)
	in.off += int64(n)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return in.truncated(at, what, int(start-at)+len(p), int(in.off-at))
	}
	return err
}
