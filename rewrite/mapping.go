// Package rewrite relocates Spark checkpoints: it plans URI replacements
// in every place a checkpoint stores them, shows the plan, and applies it
// safely — re-encoding byte-exactly, verifying by re-decoding, writing
// each file atomically, keeping Hadoop .crc sidecars right, with a journal
// and backups so a rewrite can be undone or completed after a crash.
//
// The engine is one: Plan computes every change and the new bytes purely;
// a dry run prints the plan; Apply writes exactly those bytes.
//
// It works on any store.Store (the local disk, HDFS): a checkpoint
// directory, a backup directory and a journal are each a [Place]. NewPlan,
// Apply, Resume and Undo are the local-disk forms of NewPlanAt, ApplyAt,
// ResumeAt and UndoAt. Backups are hard links where the store has them
// ([store.Linker], same store) and verified copies elsewhere; every write
// is a temporary file in the same directory, closed durably, then renamed.
package rewrite

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sparkckpt/sparkckpt/decode/check"
)

// Mapping replaces the URI prefix From by To.
type Mapping struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Mapper applies mappings to strings. A prefix matches only on a path
// boundary: "hdfs://nn:8020" matches "hdfs://nn:8020/x" and "hdfs://nn:8020"
// but not "hdfs://nn:80200" or "hdfs://nn:8020x". The longest matching From
// wins. Default ports are never assumed: "hdfs://nn" does not match
// "hdfs://nn:8020". The local file system's spellings are one place: a
// From of "file:/x" (or "file:///x", "file://localhost/x") matches all three.
type Mapper struct {
	rules []rule    // longest first
	first [256]bool // bytes a pattern can start with
}

type rule struct {
	m        Mapping
	patterns []string // From and its equivalent spellings
}

// ParseMapping parses "FROM=TO".
func ParseMapping(s string) (Mapping, error) {
	from, to, ok := strings.Cut(s, "=")
	if !ok || from == "" || to == "" {
		return Mapping{}, fmt.Errorf("mapping %q: expected FROM=TO", s)
	}
	return Mapping{From: from, To: to}, nil
}

// NewMapper validates the mappings and returns a Mapper. It refuses
// mappings that are empty, whose From or To is not a URI Spark and Hadoop
// accept (check.ValidateURI: a scheme, no control characters, a host and
// a port of 1 to 65535, ...), that map a prefix to itself, and mappings
// whose To lies under their From (the rewrite would not be idempotent: a
// second run would apply it again).
func NewMapper(ms []Mapping) (*Mapper, error) {
	for _, m := range ms {
		if err := check.ValidateURI(m.From); err != nil {
			return nil, fmt.Errorf("mapping FROM %w", err)
		}
		if err := check.ValidateURI(m.To); err != nil {
			return nil, fmt.Errorf("mapping TO %w", err)
		}
	}
	return newMapper(ms)
}

// newMapper is NewMapper without the URI validation, for the mappings of
// a journal written before it (a resume or undo must never be refused).
func newMapper(ms []Mapping) (*Mapper, error) {
	if len(ms) == 0 {
		return nil, fmt.Errorf("no mapping: give --from and --to, or --map FROM=TO")
	}
	mp := &Mapper{}
	seen := map[string]bool{}
	for _, m := range ms {
		m.From, m.To = trimSlash(m.From), trimSlash(m.To)
		if !strings.Contains(m.From, ":") {
			return nil, fmt.Errorf("mapping %s=%s: FROM must be a URI with a scheme (hdfs://host:port, file:/path)", m.From, m.To)
		}
		if m.From == m.To {
			return nil, fmt.Errorf("mapping %s=%s maps a prefix to itself", m.From, m.To)
		}
		if under(m.To, m.From) {
			return nil, fmt.Errorf("mapping %s=%s: TO lies under FROM, so running the rewrite twice would apply it twice", m.From, m.To)
		}
		if seen[m.From] {
			return nil, fmt.Errorf("mapping for %s given twice", m.From)
		}
		seen[m.From] = true
		mp.rules = append(mp.rules, rule{m: m, patterns: spellings(m.From)})
		for _, p := range spellings(m.From) {
			mp.first[p[0]] = true
		}
	}
	sort.SliceStable(mp.rules, func(i, j int) bool { return len(mp.rules[i].m.From) > len(mp.rules[j].m.From) })
	return mp, nil
}

// Mappings returns the mappings, longest From first.
func (mp *Mapper) Mappings() []Mapping {
	out := make([]Mapping, len(mp.rules))
	for i, r := range mp.rules {
		out[i] = r.m
	}
	return out
}

// trimSlash drops a trailing "/" unless the path is the root.
func trimSlash(s string) string {
	if strings.HasSuffix(s, "/") && !strings.HasSuffix(s, ":/") && !strings.HasSuffix(s, "://") && !strings.HasSuffix(s, ":///") {
		return strings.TrimRight(s, "/")
	}
	return s
}

// spellings returns the equivalent spellings of a prefix: the local file
// system's file:/x, file:///x and file://localhost/x (Hadoop and Spark
// write all three; the one given comes first).
func spellings(from string) []string {
	var path string
	switch {
	case strings.HasPrefix(from, "file:///"):
		path = strings.TrimPrefix(from, "file://")
	case strings.HasPrefix(from, "file://localhost/"):
		path = strings.TrimPrefix(from, "file://localhost")
	case strings.HasPrefix(from, "file:/") && !strings.HasPrefix(from, "file://"):
		path = strings.TrimPrefix(from, "file:")
	default:
		return []string{from}
	}
	out := []string{from}
	for _, s := range []string{"file:" + path, "file://" + path, "file://localhost" + path} {
		if s != from {
			out = append(out, s)
		}
	}
	return out
}

// under reports whether s equals prefix or continues it on a path boundary.
func under(s, prefix string) bool {
	for _, p := range spellings(prefix) {
		if strings.HasPrefix(s, p) && (len(s) == len(p) || boundary(s[len(p)]) || strings.HasSuffix(p, "/")) {
			return true
		}
	}
	return false
}

// boundary reports whether c may follow a matched prefix: anything that
// does not continue a host, port or path segment.
func boundary(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return false
	}
	return !strings.ContainsRune("-._~%:@+!$&*=", rune(c))
}

// leftBoundary reports whether a match may start after c: a URI does not
// start in the middle of a word or of another URI.
func leftBoundary(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return false
	}
	return !strings.ContainsRune("-._~%:@+/", rune(c))
}

// matchAt returns the rule whose prefix matches s at i (longest From
// first) and the length of the spelling that matched.
func (mp *Mapper) matchAt(s string, i int) (*rule, int) {
	if !mp.first[s[i]] || i > 0 && !leftBoundary(s[i-1]) {
		return nil, 0
	}
	return mp.prefixAt(s, i)
}

// prefixAt is matchAt without the boundary before i.
func (mp *Mapper) prefixAt(s string, i int) (*rule, int) {
	for k := range mp.rules {
		for _, p := range mp.rules[k].patterns {
			if strings.HasPrefix(s[i:], p) && (i+len(p) == len(s) || boundary(s[i+len(p)]) || strings.HasSuffix(p, "/")) {
				return &mp.rules[k], len(p)
			}
		}
	}
	return nil, 0
}

// Map returns s with every mapped URI prefix replaced, and the number of
// replacements. URIs may appear anywhere in s (comma-separated lists,
// values inside longer text).
func (mp *Mapper) Map(s string) (string, int) {
	if !strings.Contains(s, ":") {
		return s, 0
	}
	var b strings.Builder
	n, last := 0, 0
	for i := 0; i < len(s); i++ {
		r, l := mp.matchAt(s, i)
		if r == nil {
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(r.m.To)
		i += l - 1
		last = i + 1
		n++
	}
	if n == 0 {
		return s, 0
	}
	b.WriteString(s[last:])
	return b.String(), n
}

// Find returns the byte offsets in s where a mapped prefix matches.
func (mp *Mapper) Find(s string) []int {
	var out []int
	for i := 0; i < len(s); i++ {
		if r, l := mp.matchAt(s, i); r != nil {
			out = append(out, i)
			i += l - 1
		}
	}
	return out
}

// FindRaw returns the byte offsets in b, raw bytes of a file (a Java
// stream, a pickle), where a mapped prefix matches. Unlike Find it does not
// ask for a boundary before the match: there the byte before a string is
// its length, which may be any byte ('o' for a 111-byte string).
func (mp *Mapper) FindRaw(b []byte) []int {
	var out []int
	s := string(b)
	for i := 0; i < len(s); i++ {
		if !mp.first[s[i]] {
			continue
		}
		if r, l := mp.prefixAt(s, i); r != nil {
			out = append(out, i)
			i += l - 1
		}
	}
	return out
}
