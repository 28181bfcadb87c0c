package codec

import (
	"bufio"
	"bytes"
	"io"
)

const noneMagicExpected = `Java serialization magic AC ED`

// noneSource passes an uncompressed Java serialization stream through,
// checking only its magic.
type noneSource struct {
	r   *bufio.Reader
	buf []byte
	off int64 // bytes returned so far
	at  int64 // offset of the last piece returned
}

func (s *noneSource) offset() int64 { return s.at }

func newNoneSource(br *bufio.Reader) (*noneSource, error) {
	prefix, _ := br.Peek(DetectLen)
	if !bytes.HasPrefix(prefix, javaMagic) {
		return nil, wrongMagic(None, prefix, noneMagicExpected)
	}
	return &noneSource{r: br, buf: make([]byte, 32<<10)}, nil
}

func (s *noneSource) params() Params { return Params{} }

func (s *noneSource) next() ([]byte, error) {
	n, err := io.ReadAtLeast(s.r, s.buf, 1)
	s.at = s.off
	s.off += int64(n)
	if n > 0 {
		return s.buf[:n], nil
	}
	return nil, err
}

// noneWriter passes bytes through unchanged; it does not check the magic.
type noneWriter struct {
	w      io.Writer
	closed bool
}

func (w *noneWriter) Write(p []byte) (int, error) {
	if w.closed {
		return 0, errClosed
	}
	return w.w.Write(p)
}

// Close marks the writer closed. It does not close the underlying writer.
func (w *noneWriter) Close() error {
	w.closed = true
	return nil
}
