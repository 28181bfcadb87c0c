package structured

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sparkckpt/sparkckpt/decode"
)

// StringField is a JSON string value located in a file, byte for byte,
// so that it can be replaced without touching anything else.
type StringField struct {
	// Path names the value: "path", "stateStoreInfo[0].stateSchemaFilePath".
	Path  string `json:"path"`
	Value string `json:"value"`
	// Start and End delimit the string token, quotes included, in the file.
	Start int64 `json:"start"`
	End   int64 `json:"end"`
	// Line is the 1-based line of the file.
	Line int `json:"line"`
}

// maxJSONDepth bounds JSON nesting in metadata files.
const maxJSONDepth = 64

// scanStrings walks one JSON value in b (at file offset base) and calls fn
// for every string value (not keys) with its path and byte range.
func scanStrings(b []byte, base int64, fn func(StringField)) error {
	s := &jscan{b: b, base: base, fn: fn}
	s.ws()
	if err := s.value("", 0); err != nil {
		return err
	}
	s.ws()
	if s.i != len(b) {
		return errorf(base+int64(s.i), decode.ErrCorrupt, "text after the JSON value")
	}
	return nil
}

type jscan struct {
	b    []byte
	i    int
	base int64
	fn   func(StringField)
}

func (s *jscan) fail(kind error, detail string, args ...any) error {
	return errorf(s.base+int64(s.i), kind, "invalid JSON: "+detail, args...)
}

func (s *jscan) ws() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

func (s *jscan) value(path string, depth int) error {
	if depth > maxJSONDepth {
		return s.fail(decode.ErrTooLarge, "nesting deeper than %d", maxJSONDepth)
	}
	if s.i >= len(s.b) {
		return s.fail(decode.ErrTruncated, "expected a value")
	}
	switch c := s.b[s.i]; {
	case c == '{':
		s.i++
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == '}' {
			s.i++
			return nil
		}
		for {
			s.ws()
			start := s.i
			if err := s.str(); err != nil {
				return err
			}
			var key string
			if err := json.Unmarshal(s.b[start:s.i], &key); err != nil {
				return s.fail(decode.ErrCorrupt, "bad key")
			}
			s.ws()
			if s.i >= len(s.b) || s.b[s.i] != ':' {
				return s.fail(decode.ErrCorrupt, "expected ':'")
			}
			s.i++
			s.ws()
			p := key
			if path != "" {
				p = path + "." + key
			}
			if err := s.value(p, depth+1); err != nil {
				return err
			}
			s.ws()
			if s.i >= len(s.b) {
				return s.fail(decode.ErrTruncated, "expected ',' or '}'")
			}
			if s.b[s.i] == '}' {
				s.i++
				return nil
			}
			if s.b[s.i] != ',' {
				return s.fail(decode.ErrCorrupt, "expected ',' or '}', got %q", s.b[s.i])
			}
			s.i++
		}
	case c == '[':
		s.i++
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == ']' {
			s.i++
			return nil
		}
		for n := 0; ; n++ {
			s.ws()
			if err := s.value(path+"["+strconv.Itoa(n)+"]", depth+1); err != nil {
				return err
			}
			s.ws()
			if s.i >= len(s.b) {
				return s.fail(decode.ErrTruncated, "expected ',' or ']'")
			}
			if s.b[s.i] == ']' {
				s.i++
				return nil
			}
			if s.b[s.i] != ',' {
				return s.fail(decode.ErrCorrupt, "expected ',' or ']', got %q", s.b[s.i])
			}
			s.i++
		}
	case c == '"':
		start := s.i
		if err := s.str(); err != nil {
			return err
		}
		v, err := DecodeJSONString(s.b[start:s.i])
		if err != nil {
			return errorf(s.base+int64(start), decode.ErrCorrupt, "invalid JSON string: %v", err)
		}
		if s.fn != nil {
			s.fn(StringField{Path: path, Value: v, Start: s.base + int64(start), End: s.base + int64(s.i)})
		}
		return nil
	case c == '-' || c >= '0' && c <= '9':
		start := s.i
		for s.i < len(s.b) && strings.IndexByte("+-0123456789.eE", s.b[s.i]) >= 0 {
			s.i++
		}
		if !json.Valid(s.b[start:s.i]) {
			s.i = start
			return s.fail(decode.ErrCorrupt, "bad number")
		}
		return nil
	default:
		for _, lit := range []string{"true", "false", "null"} {
			if strings.HasPrefix(string(s.b[s.i:min(len(s.b), s.i+5)]), lit) {
				s.i += len(lit)
				return nil
			}
		}
		return s.fail(decode.ErrCorrupt, "unexpected %q", c)
	}
}

// str skips a string token.
func (s *jscan) str() error {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return s.fail(decode.ErrCorrupt, "expected a string")
	}
	for j := s.i + 1; j < len(s.b); j++ {
		switch s.b[j] {
		case '\\':
			j++
		case '"':
			s.i = j + 1
			return nil
		}
	}
	return s.fail(decode.ErrTruncated, "unterminated string")
}

// DecodeJSONString decodes a JSON string token (with its quotes).
func DecodeJSONString(tok []byte) (string, error) {
	var v string
	if err := json.Unmarshal(tok, &v); err != nil {
		return "", err
	}
	return v, nil
}

// EncodeJSONString encodes s as json4s writes a string (Spark's metadata
// logs): quotes, backslash and control characters escaped (\b \f \n \r \t
// short forms, others \uXXXX), U+0080-U+009F and U+2000-U+20FF as \uXXXX,
// everything else (non-ASCII letters, '/') literal.
func EncodeJSONString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			switch {
			case r < 0x20 || r >= 0x80 && r < 0xa0 || r >= 0x2000 && r < 0x2100:
				fmt.Fprintf(&b, `\u%04X`, r)
			case r == utf8.RuneError:
				b.WriteRune(r)
			default:
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
