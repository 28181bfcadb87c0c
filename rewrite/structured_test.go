package rewrite_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparkckpt/sparkckpt/decode/crcfile"
	"github.com/sparkckpt/sparkckpt/decode/structured"
	"github.com/sparkckpt/sparkckpt/fixtures/real"
	"github.com/sparkckpt/sparkckpt/fixtures/tree"
	"github.com/sparkckpt/sparkckpt/rewrite"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// structuredRefs lists the absolute URIs of a checkpoint or sink output directory.
func structuredRefs(t *testing.T, dir string) []structured.Reference {
	t.Helper()
	fsys := os.DirFS(dir)
	if d, ok := structured.IsSinkDir(fsys, filepath.Base(dir)); ok && !structured.IsCheckpointDir(fsys) {
		refs, errs := structured.SinkReferences(fsys, d)
		require.Empty(t, errs)
		return refs
	}
	c, err := structured.Open(fsys)
	require.NoError(t, err)
	refs, errs := c.References()
	require.Empty(t, errs)
	return refs
}

// prefixOf is the first URI's scheme, authority and first path segment,
// spelled as the file spells it (file:/x and file:///x both occur).
func prefixOf(uri string) string {
	i := strings.Index(uri, ":") + 1
	rest := uri[i:]
	if strings.HasPrefix(rest, "//") {
		j := strings.Index(rest[2:], "/")
		if j < 0 {
			return uri
		}
		i += 2 + j
		rest = uri[i:]
	}
	seg := strings.Index(rest[1:], "/")
	if seg < 0 {
		return uri
	}
	return uri[:i+1+seg]
}

// TestRoundTripStructuredRealTrees relocates every real structured tree
// that stores absolute URIs (file source logs, file sink logs, operator
// metadata v2) to hdfs:// and back: the second rewrite restores every
// byte, .crc sidecars included; the first leaves every URI on the new
// filesystem and every sidecar valid, and a second run changes nothing.
func TestRoundTripStructuredRealTrees(t *testing.T) {
	root := real.Root(t)
	for _, dir := range []string{
		"andreasrenghart-pyspark_notebooks/checkpoint",
		"chaithanyarlk-apache-spark-streaming-projects/checkpoint",
		"chaithanyarlk-apache-spark-streaming-projects/output",
		"devfranhan-data-eng-filling/checkpoint",
		"mehedee-hassan-spark-path/checkpoint",
		"peter-32-hellospark/checkpoint",
		"peter-32-hellospark/output",
		"peter-32-hellospark@4a312a4/checkpoint",
		"peter-32-hellospark@4a312a4/output",
		"spookytanya-pyspark-hw/checkpoint",
		"spookytanya-pyspark-hw/processed",
		"castagnna-spark-streaming/csv",
		"mrblue00-bd_scala_kafka_spark_project/data/output/outputQueues2",
		"mrblue00-bd_scala_kafka_spark_project/data/output/outputQueues3",
		"aysellioana-project_chicago_crimes_spark_kafka/output_parquet/crimes_per_year",
		"apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/escaped-path-2.4.0/output%20%25@%23output",
		"apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-4.0.0-tws-avro",
		"apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-4.0.0-tws-unsaferow",
		"apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/file-sink-log-version-2.1.0",
	} {
		t.Run(dir, func(t *testing.T) {
			src := filepath.Join(root, dir)
			work := filepath.Join(t.TempDir(), "x")
			if filepath.Base(dir) == "file-sink-log-version-2.1.0" { // the bare log: as a _spark_metadata dir
				work = filepath.Join(t.TempDir(), "out", "_spark_metadata")
			}
			tree.CopyInto(t, src, work)
			before := tree.Snapshot(t, work)
			checkRefs := work
			if filepath.Base(work) == "_spark_metadata" {
				checkRefs = filepath.Dir(work)
			}
			refs := structuredRefs(t, checkRefs)
			require.NotEmpty(t, refs)
			from := prefixOf(refs[0].URI)
			if !strings.Contains(from, ":") { // Spark 2.1's sink log test fixture stores bare paths
				t.Skipf("%s stores paths without a scheme (%s)", dir, refs[0].URI)
			}
			to := "hdfs://new-nn:8020/moved"
			p, _ := run(t, work, mustMapper(t, from, to))
			assert.NotEmpty(t, p.Files)
			// Every URI under the old prefix moved; sidecars match.
			after := tree.Snapshot(t, work)
			for _, f := range p.Files {
				if f.Kind == rewrite.KindCRC {
					assert.NoError(t, crcfile.Verify(after[f.Of], after[f.Path]), f.Path)
				}
			}
			moved := 0
			for _, r := range structuredRefs(t, checkRefs) {
				assert.False(t, strings.HasPrefix(r.URI, from+"/"), "%s still has %s", r.File, r.URI)
				if strings.HasPrefix(r.URI, to) {
					moved++
				}
			}
			assert.Positive(t, moved)
			// Idempotent.
			again, err := rewrite.NewPlan(work, mustMapper(t, from, to), rewrite.Options{})
			require.NoError(t, err)
			assert.Empty(t, again.Files)
			// And back, byte for byte.
			run(t, work, mustMapper(t, to, from))
			assert.Empty(t, tree.Diff(before, tree.Snapshot(t, work)))
		})
	}
}

// TestRewriteStructuredThenCheck: after relocation, check finds no
// foreign authority for the new filesystem; undo restores the original.
func TestRewriteStructuredThenCheck(t *testing.T) {
	root := real.Root(t)
	work := tree.Copy(t, filepath.Join(root, "devfranhan-data-eng-filling/checkpoint"))
	before := tree.Snapshot(t, work)
	mp := mustMapper(t, "file:///Users/franhan", "hdfs://new-nn:8020/user/franhan")
	p, j := run(t, work, mp)
	require.Len(t, p.Files, 4) // sources/0/0, sources/0/1 and their sidecars
	assert.Equal(t, rewrite.KindSourceLog, p.Files[0].Kind)
	assert.Equal(t, rewrite.KindCRC, p.Files[1].Kind)
	assert.Equal(t, "line 2: path", p.Files[0].Edits[0].Location)
	assert.Equal(t, "json", p.Files[0].Edits[0].Source)
	r, err := structured.Check(os.DirFS(work), structured.CheckOptions{ExpectFS: []string{"hdfs://new-nn:8020"}})
	require.NoError(t, err)
	assert.True(t, r.OK, "%+v", r.Findings)
	for _, f := range r.Findings {
		assert.NotEqual(t, "foreign-authority", f.Code)
	}
	require.NoError(t, rewrite.Undo(j, nil))
	assert.Empty(t, tree.Diff(before, tree.Snapshot(t, work)))
}

// TestRewriteMixedDirectory plans the DStream checkpoint files and the
// structured query's source log of the same folder together.
func TestRewriteMixedDirectory(t *testing.T) {
	root := real.Root(t)
	work := tree.Copy(t, filepath.Join(root, "shamukh82-hw6/checkpoint"))
	before := tree.Snapshot(t, work)
	p, _ := run(t, work, mustMapper(t, "file:/Users/smukherjee5", "hdfs://nn:8020/user/sm"))
	kinds := map[string]int{}
	for _, f := range p.Files {
		kinds[f.Kind]++
	}
	assert.Positive(t, kinds[rewrite.KindCheckpoint])
	assert.Equal(t, 2, kinds[rewrite.KindSourceLog])
	run(t, work, mustMapper(t, "hdfs://nn:8020/user/sm", "file:/Users/smukherjee5"))
	// file:/x and file:///x are one place: the mapping back writes the
	// spelling of --to, so compare what the files say, not their bytes,
	// for the source log (it spelled file:///); the DStream files used file:/.
	after := tree.Snapshot(t, work)
	for _, d := range tree.Diff(before, after) {
		assert.True(t, strings.HasPrefix(d, "differs sources/0/"), d)
	}
}

// TestRewriteStructuredRefusesUnhandled: a mapped path whose JSON escapes
// json4s would not write is left alone and reported, and the plan refused.
func TestRewriteStructuredRefusesUnhandled(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "_spark_metadata"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "_spark_metadata", "0"), []byte("v1\n{\"path\":\"hdfs://nn:8020/out/\\u00e9.parquet\",\"size\":1,\"isDir\":false,\"modificationTime\":1,\"blockReplication\":1,\"blockSize\":1,\"action\":\"add\"}"), 0o644))
	p, err := rewrite.NewPlan(dir, mustMapper(t, "hdfs://nn:8020", "hdfs://nn2:8020"), rewrite.Options{})
	require.NoError(t, err)
	require.Len(t, p.Unhandled, 1)
	assert.Error(t, p.Refusal(rewrite.Options{}))
	assert.Equal(t, rewrite.KindSinkLog, rewrite.KindOfPath("_spark_metadata/9.compact"))
	assert.Equal(t, rewrite.KindSourceLog, rewrite.KindOfPath("sources/0/3"))
	assert.Equal(t, rewrite.KindOperatorMetadata, rewrite.KindOfPath("state/0/_metadata/v2/0"))
	assert.Equal(t, "", rewrite.KindOfPath("state/0/_metadata/metadata"))
	assert.Equal(t, "", rewrite.KindOfPath("offsets/3"))
}

// TestRewriteStructuredFile rewrites single files as the copy path does;
// a Kafka source's initial offsets come back unchanged.
func TestRewriteStructuredFile(t *testing.T) {
	mp := mustMapper(t, "file:///data", "s3a://bucket/data")
	out, edits, err := rewrite.File("sources/0/0", []byte("\x00v1\n{\"t\":{\"0\":1}}"), mp)
	require.NoError(t, err)
	assert.Nil(t, out)
	assert.Empty(t, edits)
	out, edits, err = rewrite.File("sources/0/0", []byte("v1\n{\"path\":\"file:///data/a.csv\",\"timestamp\":1,\"batchId\":0}"), mp)
	require.NoError(t, err)
	assert.Equal(t, "v1\n{\"path\":\"s3a://bucket/data/a.csv\",\"timestamp\":1,\"batchId\":0}", string(out))
	require.Len(t, edits, 1)
}
