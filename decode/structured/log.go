package structured

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"

	"github.com/sparkckpt/sparkckpt/decode"
)

// format is the decode.Error Format of this package.
const format = "structured"

func errorf(off int64, kind error, detail string, args ...any) *decode.Error {
	return decode.Errorf(format, off, kind, detail, args...)
}

// Line is one line of a metadata log file.
type Line struct {
	Offset int64  // byte offset of the line in the file
	Text   string // without the line terminator
}

// splitLines splits b as Scala's Source.getLines does (§2.1): on \n, \r\n
// or \r; a final terminator adds no empty line.
func splitLines(b []byte, base int64) []Line {
	var out []Line
	start := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '\n':
			out = append(out, Line{base + int64(start), string(b[start:i])})
			start = i + 1
		case '\r':
			out = append(out, Line{base + int64(start), string(b[start:i])})
			if i+1 < len(b) && b[i+1] == '\n' {
				i++
			}
			start = i + 1
		}
	}
	if start < len(b) {
		out = append(out, Line{base + int64(start), string(b[start:])})
	}
	return out
}

// parseVersionLine parses a "v<N>" header as MetadataVersionUtil does
// (§2.1): "v" then a positive Java int; anything else is malformed.
func parseVersionLine(l Line) (int, error) {
	t := l.Text
	if len(t) < 2 || t[0] != 'v' {
		return 0, errorf(l.Offset, decode.ErrCorrupt, "log file was malformed: expected a version line \"v<N>\", got %q", clip(t))
	}
	n, err := strconv.ParseInt(t[1:], 10, 32)
	if err != nil || n <= 0 {
		return 0, errorf(l.Offset, decode.ErrCorrupt, "log file was malformed: version line %q is not \"v\" and a positive int", clip(t))
	}
	return int(n), nil
}

// readLog splits a text metadata log into its version and its other lines.
// maxKnown is the highest version this package decodes: a higher one is
// an ErrUnsupported error (Spark: "UnsupportedLogVersion ... produced by a
// newer version of Spark"), returned with the version so callers can say
// which.
func readLog(b []byte, what string, maxKnown int) (int, []Line, error) {
	if err := checkLines(b); err != nil {
		return 0, nil, err
	}
	lines := splitLines(b, 0)
	if len(lines) == 0 {
		return 0, nil, errorf(0, decode.ErrTruncated, "%s: empty file; expected a version line \"v1\"", what)
	}
	v, err := parseVersionLine(lines[0])
	if err != nil {
		return 0, nil, err
	}
	if v > maxKnown {
		return v, nil, &VersionError{What: what, Version: v, Max: maxKnown,
			Err: errorf(lines[0].Offset, decode.ErrUnsupported, "%s: log version v%d is newer than any Spark release sparkckpt knows (up to v%d)", what, v, maxKnown)}
	}
	return v, lines[1:], nil
}

// VersionError is a log whose version is newer than the ones this package
// decodes. It unwraps to a *decode.Error wrapping decode.ErrUnsupported.
type VersionError struct {
	What    string // "offsets", "commits", ...
	Version int
	Max     int
	Err     error
}

func (e *VersionError) Error() string { return e.Err.Error() }
func (e *VersionError) Unwrap() error { return e.Err }

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

// jsonError converts an encoding/json error on text starting at base into
// a positioned error.
func jsonError(err error, base int64, what string) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se): // se.Offset counts the bytes read, the bad one included
		return errorf(base+max(0, se.Offset-1), decode.ErrCorrupt, "%s: invalid JSON: %v", what, err)
	case errors.As(err, &te):
		return errorf(base+te.Offset, decode.ErrCorrupt, "%s: field %s: expected %s, got JSON %s", what, te.Field, te.Type, te.Value)
	case errors.Is(err, errJSONTrailing):
		return errorf(base, decode.ErrCorrupt, "%s: text after the JSON value", what)
	}
	return errorf(base, decode.ErrCorrupt, "%s: %v", what, err)
}

var errJSONTrailing = errors.New("trailing data")

// unmarshal decodes one JSON value from text, refusing trailing non-space
// text, with numbers kept exact.
func unmarshal(text string, v any) error {
	d := json.NewDecoder(bytes.NewReader([]byte(text)))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		if err.Error() == "EOF" {
			return fmt.Errorf("empty JSON")
		}
		return err
	}
	if d.More() {
		return errJSONTrailing
	}
	if _, err := d.Token(); err == nil {
		return errJSONTrailing
	}
	return nil
}

// KV is one member of a JSON object, in file order.
type KV struct {
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
}

// orderedObject reads a JSON object's members in file order (Spark's
// json4s writes confs in declaration order; Kafka offsets as a HashMap
// iterates).
func orderedObject(raw []byte) ([]KV, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	t, err := d.Token()
	if err != nil {
		return nil, err
	}
	if delim, ok := t.(json.Delim); !ok || delim != '{' {
		return nil, fmt.Errorf("expected a JSON object")
	}
	var out []KV
	for d.More() {
		kt, err := d.Token()
		if err != nil {
			return nil, err
		}
		k, _ := kt.(string)
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, KV{k, v})
	}
	if _, err := d.Token(); err != nil {
		return nil, err
	}
	return out, nil
}

// ConfPair is a conf entry as stored.
type ConfPair struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// MaxLogLine bounds a line of a metadata log (offsets/, commits/,
// sources/, a sink's _spark_metadata, metadata, operator metadata). Real
// lines are at most some hundreds of KB (the offsets of a Kafka topic of
// thousands of partitions); a longer one is refused with
// decode.ErrTooLarge, so that a file of one 500 MB line cannot make a
// reader hold or decode it.
const MaxLogLine = 16 << 20

// lineTooLong is the error for a line starting at off that runs past
// MaxLogLine.
func lineTooLong(off int64) error {
	return errorf(off, decode.ErrTooLarge,
		"a line longer than %d bytes (the limit for a metadata log line); expected lines of JSON or a version line, at most some hundreds of KB", MaxLogLine)
}

// checkLines fails on the first line of b longer than MaxLogLine.
func checkLines(b []byte) error {
	start := 0
	for i, c := range b {
		if c == '\n' || c == '\r' {
			start = i + 1
		} else if i-start >= MaxLogLine {
			return lineTooLong(int64(start))
		}
	}
	return nil
}

// ReadLog reads the metadata log file name of fsys. It fails with
// decode.ErrTooLarge at the first line longer than MaxLogLine, having read
// at most MaxLogLine bytes of it: a file of one huge line, or of no line
// break at all, costs no more than that.
func ReadLog(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadLogFrom(f)
}

// ReadLogFrom reads a metadata log from r as ReadLog does. If r has a
// Stat method (an fs.File, an *os.File), the size it reports sizes the
// buffer, so that a file refused at MaxLogLine costs about MaxLogLine.
func ReadLogFrom(r io.Reader) ([]byte, error) {
	const step = 64 << 10
	var out []byte
	if st, ok := r.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if fi, err := st.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 {
			out = make([]byte, 0, min(fi.Size(), MaxLogLine+1)+step)
		}
	}
	start := 0 // where the current line starts in out
	for {
		if cap(out)-len(out) < step {
			nb := make([]byte, len(out), 2*cap(out)+step)
			copy(nb, out)
			out = nb
		}
		n, err := r.Read(out[len(out) : len(out)+step])
		old := len(out)
		out = out[:old+n]
		for i := old; i < len(out); i++ {
			if c := out[i]; c == '\n' || c == '\r' {
				if i-start > MaxLogLine {
					return nil, lineTooLong(int64(start))
				}
				start = i + 1
			}
		}
		if len(out)-start > MaxLogLine {
			return nil, lineTooLong(int64(start))
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
	}
}
