package rewrite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/sparkckpt/sparkckpt/decode/check"
	"github.com/sparkckpt/sparkckpt/fixtures/real"
	"github.com/sparkckpt/sparkckpt/fixtures/tree"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// incomplete are the real snapshots whose newest checkpoint references an
// RDD checkpoint directory the repository snapshot does not contain:
// check rightly fails them before and after relocation.
var incomplete = map[string]bool{"jleetutorial-python-spark-streaming/3_advanced/checkpoint": true}

func codes(r *check.Report, sev check.Severity) []string {
	var out []string
	for _, f := range r.Findings {
		if f.Severity == sev {
			out = append(out, f.Code)
		}
	}
	return out
}

// TestRelocatedTreesPassCheck: every clean real tree passes 'check' with
// --expect-fs file:/// as it is, and, relocated with rewrite to
// hdfs://new-nn:8020, passes with --expect-fs hdfs://new-nn:8020 (plus
// file:/// where the app reads input files outside its checkpoint
// directory), while the old filesystem alone is now foreign.
func TestRelocatedTreesPassCheck(t *testing.T) {
	root := real.Root(t)
	ctx := context.Background()
	for _, name := range realTrees {
		t.Run(name, func(t *testing.T) {
			dir := tree.Copy(t, filepath.Join(root, name))
			before, err := check.Dir(ctx, dir, check.Options{ExpectFS: []string{"file:///"}})
			require.NoError(t, err)
			assert.Equal(t, !incomplete[name], before.OK, "before: %v", codes(before, check.Error))

			old := checkpointDir(t, dir)
			const moved = "hdfs://new-nn:8020/user/spark/relocated"
			run(t, dir, mustMapper(t, old, moved))
			after, err := check.Dir(ctx, dir, check.Options{ExpectFS: []string{"hdfs://new-nn:8020", "file:///"}})
			require.NoError(t, err)
			assert.Equal(t, before.OK, after.OK, "after: %v", codes(after, check.Error))
			assert.Equal(t, codes(before, check.Error), codes(after, check.Error))

			stale, err := check.Dir(ctx, dir, check.Options{ExpectFS: []string{"file:///"}})
			require.NoError(t, err)
			assert.False(t, stale.OK)
			assert.Contains(t, codes(stale, check.Error), "foreign-authority")
		})
	}
}
