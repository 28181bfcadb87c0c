package main

import (
	"path/filepath"
	"testing"

	"github.com/sparkckpt/sparkckpt/fixtures/tree"
	"github.com/sparkckpt/sparkckpt/rewrite"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRewriteAndBackAtOnce: a rewrite and its reverse, run one right after
// the other with the default backup directory (the same second), both
// succeed, each with its own backup directory, and undoing both in
// reverse order restores the original.
func TestRewriteAndBackAtOnce(t *testing.T) {
	dir := tree.Copy(t, filepath.Join(repoDir(), "fixtures/generated/dstream/local-app"))
	orig := tree.Snapshot(t, dir)
	from, to := "file:/tmp/sparkckpt/local-app", "hdfs://emr-master:8020/local-app"
	for i := 0; i < 3; i++ {
		code, out, errs := runCLI("rewrite", dir, "--from", from, "--to", to, "--apply")
		require.Equal(t, 0, code, "%s%s", out, errs)
		code, out, errs = runCLI("rewrite", dir, "--from", to, "--to", from, "--apply")
		require.Equal(t, 0, code, "%s%s", out, errs)
	}
	journals, err := filepath.Glob(dir + rewrite.BackupPrefix + "*/" + rewrite.JournalName)
	require.NoError(t, err)
	assert.Len(t, journals, 6)
	assert.Equal(t, orig, tree.Snapshot(t, dir))
}
