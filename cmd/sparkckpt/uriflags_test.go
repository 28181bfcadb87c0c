package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sparkckpt/sparkckpt/fixtures/tree"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRewriteRefusesBadURIs: rewrite and cp refuse a --from, --to or
// --map side that is no URI Spark and Hadoop accept, with exit 2 and the
// reason, before reading or writing anything (before, rewrite --apply
// wrote "not a uri", control characters and port 99999 into the files).
func TestRewriteRefusesBadURIs(t *testing.T) {
	dir := tree.Copy(t, filepath.Join(repoDir(), "fixtures", "generated", "dstream", "hdfs-app"))
	before := tree.Snapshot(t, dir)
	const from = "hdfs://namenode.example.com:8020"
	for _, tc := range []struct {
		flags []string
		err   string
	}{
		{[]string{"--from", from, "--to", "not a uri"}, `mapping TO "not a uri" is not a URI`},
		{[]string{"--from", from, "--to", "hdfs://new-nn:99999"}, "port 99999 is out of range: expected 1 to 65535"},
		{[]string{"--from", from, "--to", "hdfs://new\x1b]52;c;eA==\x07nn:8020"}, `holds the control character U+001B`},
		{[]string{"--from", from, "--to", "hdfs://new nn:8020"}, `holds ' '`},
		{[]string{"--from", "hdfs://old:0", "--to", "hdfs://new-nn:8020"}, "mapping FROM \"hdfs://old:0\": port 0 is out of range"},
		{[]string{"--map", from + "=hdfs://new-nn:8020:8020"}, `host "new-nn:8020" holds ':'`},
		{[]string{"--map", "nn:8020=hdfs://new-nn:8020"}, `mapping FROM "nn:8020": the path after the scheme must start with "/"`},
	} {
		for _, apply := range []bool{false, true} {
			args := append([]string{"rewrite", dir}, tc.flags...)
			if apply {
				args = append(args, "--apply")
			}
			_, stderr, code := sparkckpt(args...)
			assert.Equal(t, 2, code, "%q: %s", args, stderr)
			assert.Contains(t, stderr, tc.err, "%q", args)
			assert.Empty(t, controlBytes(stderr))
		}
		dst := filepath.Join(t.TempDir(), "copy")
		args := append([]string{"cp", dir, dst}, tc.flags...)
		_, stderr, code := sparkckpt(args...)
		assert.Equal(t, 2, code, "%q: %s", args, stderr)
		assert.Contains(t, stderr, tc.err, "%q", args)
		_, err := os.Stat(dst)
		assert.True(t, os.IsNotExist(err), "cp wrote %s", dst)
	}
	require.Empty(t, tree.Diff(before, tree.Snapshot(t, dir)), "a refused rewrite wrote")
	// A good mapping still plans.
	_, stderr, code := sparkckpt("rewrite", dir, "--from", from, "--to", "hdfs://new-nn:8020")
	require.Equal(t, 0, code, stderr)
}
