package structured

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"testing/iotest"

	"github.com/sparkckpt/sparkckpt/decode"
)

// TestReadLogLineBound: ReadLog and every log parser refuse a line longer
// than MaxLogLine at its offset, whatever terminates the lines before it,
// and accept one of exactly MaxLogLine bytes.
func TestReadLogLineBound(t *testing.T) {
	long := strings.Repeat("x", MaxLogLine)
	for _, tc := range []struct {
		name    string
		data    string
		wantOff int64 // -1: no error
	}{
		{"at the limit", "v1\n" + long + "\n{}", -1},
		{"at the limit, last line", "v1\n" + long, -1},
		{"one over", "v1\n" + long + "x\n{}", 3},
		{"no newline at all", long + "y", 0},
		{"after CR", "v1\r" + long + "z", 3},
		{"after CRLF lines", "v1\r\n{}\r\n" + long + "z", 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{"offsets/0": {Data: []byte(tc.data)}}
			b, err := ReadLog(fsys, "offsets/0")
			// One byte at a time, too: the bound holds across reads.
			b1, err1 := ReadLogFrom(iotest.OneByteReader(strings.NewReader(tc.data)))
			for _, e := range []error{err, err1} {
				if tc.wantOff < 0 {
					if e != nil {
						t.Fatalf("ReadLog: %v", e)
					}
					continue
				}
				var de *decode.Error
				if !errors.As(e, &de) || !errors.Is(e, decode.ErrTooLarge) || de.Offset != tc.wantOff {
					t.Fatalf("got %v, want ErrTooLarge at offset %d", e, tc.wantOff)
				}
			}
			if tc.wantOff < 0 && (!bytes.Equal(b, []byte(tc.data)) || !bytes.Equal(b1, b)) {
				t.Fatalf("ReadLog returned %d bytes, want the %d of the file", len(b), len(tc.data))
			}
			// The parsers, given the bytes directly, say the same.
			for name, parse := range map[string]func([]byte) error{
				"offsets":  func(b []byte) error { _, err := ParseOffsets(b); return err },
				"commits":  func(b []byte) error { _, err := ParseCommit(b); return err },
				"sink log": func(b []byte) error { _, err := ParseFileLog(b, LogSink); return err },
				"metadata": func(b []byte) error { _, err := ParseMetadata(b); return err },
				"kafka":    func(b []byte) error { _, err := ParseKafkaInitialOffsets(b); return err },
			} {
				err := parse([]byte(tc.data))
				if tc.wantOff >= 0 && !errors.Is(err, decode.ErrTooLarge) {
					t.Errorf("%s: got %v, want ErrTooLarge", name, err)
				}
				if tc.wantOff < 0 && errors.Is(err, decode.ErrTooLarge) {
					t.Errorf("%s: %v", name, err)
				}
			}
		})
	}
}
