package tui

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/sparkckpt/sparkckpt/decode/check"
	"github.com/sparkckpt/sparkckpt/decode/dstream"
)

// judge tells URIs on the expected filesystems (--expect-fs) from foreign
// ones, by decode/check's rules. With no expectation nothing is judged.
type judge struct {
	expects []check.FSPlace
}

func newJudge(expect []string) (*judge, error) {
	j := &judge{}
	for _, e := range expect {
		p, err := check.ParseExpected(e)
		if err != nil {
			return nil, err
		}
		j.expects = append(j.expects, p)
	}
	return j, nil
}

// judging reports whether any filesystem is expected.
func (j *judge) judging() bool { return j != nil && len(j.expects) > 0 }

// foreign reports whether u lies on none of the expected filesystems. A
// bare host:port is not a filesystem URI and is never foreign.
func (j *judge) foreign(u string) bool {
	if !j.judging() {
		return false
	}
	if _, rest, ok := strings.Cut(u, ":"); !ok || !strings.HasPrefix(rest, "/") {
		return false
	}
	p, ok := check.ParseFSPlace(u)
	if !ok {
		return false
	}
	for _, e := range j.expects {
		if p.On(e) {
			return false
		}
	}
	return true
}

// highlight splits text into segments with every URI in it styled: the
// foreign style for a URI on a filesystem that is not expected.
func (j *judge) highlight(text string, base seg, st *Styles) []seg {
	uris := dstream.FindURIs(text)
	if len(uris) == 0 {
		return []seg{{text, base.st}}
	}
	var out []seg
	rest := text
	for _, u := range uris {
		i := strings.Index(rest, u)
		if i < 0 {
			continue
		}
		if i > 0 {
			out = append(out, seg{rest[:i], base.st})
		}
		s := st.URI
		if j.foreign(u) {
			s = st.Foreign
		}
		out = append(out, seg{u, s})
		rest = rest[i+len(u):]
	}
	if rest != "" {
		out = append(out, seg{rest, base.st})
	}
	return out
}

// matchSegs highlights every case-insensitive occurrence of q in text.
func matchSegs(text, q string, base, match lipgloss.Style) []seg {
	if q == "" {
		return []seg{{text, base}}
	}
	lower := strings.ToLower(text)
	var out []seg
	pos := 0
	for {
		i := strings.Index(lower[pos:], q)
		if i < 0 || len(lower) != len(text) {
			break
		}
		if i > 0 {
			out = append(out, seg{text[pos : pos+i], base})
		}
		out = append(out, seg{text[pos+i : pos+i+len(q)], match})
		pos += i + len(q)
	}
	if pos < len(text) {
		out = append(out, seg{text[pos:], base})
	}
	return out
}
