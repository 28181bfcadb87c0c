package backup

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func infos(complete map[string]bool, ids ...string) []Info {
	var out []Info
	for _, id := range ids {
		t, _ := time.Parse(IDLayout, id)
		out = append(out, Info{ID: id, Time: t, Complete: complete[id], Problem: "no manifest"})
	}
	return out
}

// TestDecide pins the retention rules (restic's): last, hourly and daily
// buckets counted over backups newest first, within measured from the
// newest, the newest complete backup always kept, incomplete backups kept
// only when newer than it.
func TestDecide(t *testing.T) {
	ids := []string{"20260102T120000Z", "20260102T110500Z", "20260102T110000Z", "20260102T090000Z", "20260101T230000Z", "20260101T100000Z", "20251231T080000Z"}
	all := map[string]bool{}
	for _, id := range ids {
		all[id] = true
	}
	for _, tc := range []struct {
		name     string
		p        Policy
		complete map[string]bool
		ids      []string
		keep     []string
	}{
		{"last 2", Policy{Last: 2}, all, ids, []string{"20260102T120000Z", "20260102T110500Z"}},
		{"hourly 3: newest of each hour", Policy{Hourly: 3}, all, ids, []string{"20260102T120000Z", "20260102T110500Z", "20260102T090000Z"}},
		{"daily 2", Policy{Daily: 2}, all, ids, []string{"20260102T120000Z", "20260101T230000Z"}},
		{"within 3h of the newest", Policy{Within: 3 * time.Hour}, all, ids, []string{"20260102T120000Z", "20260102T110500Z", "20260102T110000Z", "20260102T090000Z"}},
		{"rules add up", Policy{Last: 1, Daily: 3}, all, ids, []string{"20260102T120000Z", "20260101T230000Z", "20251231T080000Z"}},
		{"newest complete always kept", Policy{Last: 1},
			map[string]bool{"20260102T110000Z": true, "20260101T100000Z": true},
			[]string{"20260102T120000Z", "20260102T110000Z", "20260101T230000Z", "20260101T100000Z"},
			[]string{"20260102T120000Z", "20260102T110000Z"}},
		{"no complete backup: incomplete ones may be running", Policy{Last: 1}, map[string]bool{},
			[]string{"20260102T120000Z", "20260101T100000Z"}, []string{"20260102T120000Z", "20260101T100000Z"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var kept []string
			for _, d := range Decide(infos(tc.complete, tc.ids...), tc.p) {
				if d.Keep {
					kept = append(kept, d.ID)
				}
				assert.NotEmpty(t, d.Reasons, d.ID)
			}
			assert.Equal(t, tc.keep, kept)
		})
	}
}

func TestIsID(t *testing.T) {
	assert.True(t, IsID("20261208T005056Z"))
	assert.False(t, IsID("20261308T005056Z"), "month 13")
	assert.False(t, IsID("20261208T005056"))
	assert.False(t, IsID(".sparkckpt-backup"))
}
