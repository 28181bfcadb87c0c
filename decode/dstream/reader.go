package dstream

import (
	"regexp"
	"sort"
	"strconv"
)

// checkpointRegex is Spark's Checkpoint.REGEX, matched against the whole
// file name (spec §1.3).
var checkpointRegex = regexp.MustCompile(`^checkpoint-([\d]+)([\w\.]*)$`)

// Candidate is a checkpoint file name as Spark's CheckpointReader sees it.
type Candidate struct {
	Name   string `json:"name"`
	TimeMs int64  `json:"timeMs"`
	// Backup is true for any name with a suffix after the time (".bk"):
	// Spark sorts those before the plain file of the same time.
	Backup bool `json:"backup"`
}

// Candidates returns the names Spark would consider, in the order its
// CheckpointReader tries them (spec §1.3): newest time first, and for one
// time the plain checkpoint-<t> before its backups. Other names are
// ignored, as Spark ignores them.
func Candidates(names []string) []Candidate {
	var out []Candidate
	for _, n := range names {
		m := checkpointRegex.FindStringSubmatch(n)
		if m == nil {
			continue
		}
		t, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			continue
		}
		out = append(out, Candidate{Name: n, TimeMs: t, Backup: m[2] != ""})
	}
	// Spark: sortBy (time ascending, backups first), then reverse.
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.TimeMs != b.TimeMs {
			return a.TimeMs > b.TimeMs
		}
		if a.Backup != b.Backup {
			return !a.Backup
		}
		return a.Name > b.Name
	})
	return out
}

// Skipped is a candidate passed over because it did not decode.
type Skipped struct {
	Candidate
	Reason string `json:"reason"`
	Err    error  `json:"-"`
}

// Choose tries the candidates in order with read and returns the first
// that decodes, as Spark does, with the newer ones it skipped and why.
// If none decodes, chosen is nil and skipped lists them all.
func Choose(cands []Candidate, read func(name string) (*File, error)) (chosen *Candidate, f *File, skipped []Skipped) {
	for i := range cands {
		file, err := read(cands[i].Name)
		if err == nil {
			return &cands[i], file, skipped
		}
		skipped = append(skipped, Skipped{Candidate: cands[i], Reason: err.Error(), Err: err})
	}
	return nil, nil, skipped
}
