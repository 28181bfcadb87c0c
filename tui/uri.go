package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/sparkckpt/sparkckpt/decode/dstream"
)

// place is a URI split for comparison, as decode/check compares them:
// scheme and authority case-insensitively, file:/x and file:///x alike.
type place struct {
	scheme, authority, path string
}

func parsePlace(u string) (place, bool) {
	scheme, rest, ok := strings.Cut(u, ":")
	if !ok || scheme == "" || strings.ContainsAny(scheme, "/ ") || !strings.HasPrefix(rest, "/") {
		return place{}, false // a bare host:port is not a filesystem URI
	}
	p := place{scheme: strings.ToLower(scheme)}
	if after, ok := strings.CutPrefix(rest, "//"); ok {
		auth, pth, found := strings.Cut(after, "/")
		p.authority = strings.ToLower(auth)
		if found {
			p.path = "/" + pth
		}
	} else {
		p.path = rest
	}
	if p.scheme == "file" && p.authority == "localhost" {
		p.authority = ""
	}
	return p, true
}

// judge tells URIs on the expected filesystems (--expect-fs) from foreign
// ones. With no expectation nothing is judged.
type judge struct {
	expects []place
}

func newJudge(expect []string) (*judge, error) {
	j := &judge{}
	for _, e := range expect {
		p, ok := parsePlace(e)
		if !ok {
			return nil, fmt.Errorf("--expect-fs %q: not a URI (want e.g. hdfs://namenode:8020 or file:///)", e)
		}
		p.path = strings.TrimSuffix(p.path, "/")
		j.expects = append(j.expects, p)
	}
	return j, nil
}

// judging reports whether any filesystem is expected.
func (j *judge) judging() bool { return j != nil && len(j.expects) > 0 }

// foreign reports whether u lies on none of the expected filesystems.
func (j *judge) foreign(u string) bool {
	if !j.judging() {
		return false
	}
	p, ok := parsePlace(u)
	if !ok {
		return false
	}
	for _, e := range j.expects {
		if e.scheme != p.scheme || e.authority != p.authority {
			continue
		}
		if e.path == "" || p.path == e.path || strings.HasPrefix(p.path, e.path+"/") {
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
