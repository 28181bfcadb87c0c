package structured_test

import (
	"archive/zip"
	"bytes"
	"os"
	"path"
	"path/filepath"
	"testing"

	"github.com/sparkckpt/sparkckpt/decode/check"
	"github.com/sparkckpt/sparkckpt/decode/codec"
	"github.com/sparkckpt/sparkckpt/decode/crcfile"
	"github.com/sparkckpt/sparkckpt/decode/structured"
	"github.com/sparkckpt/sparkckpt/fixtures/real"
	"github.com/sparkckpt/sparkckpt/fixtures/tree"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// finding returns the findings with code.
func findingsOf(r *structured.CheckReport, code string) []check.Finding {
	var out []check.Finding
	for _, f := range r.Findings {
		if f.Code == code {
			out = append(out, f)
		}
	}
	return out
}

func write(t *testing.T, dir, rel string, b []byte) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, rel), b, 0o644))
}

// remove deletes files; a .crc sidecar may be absent (not every tree has them).
func remove(t *testing.T, dir string, rels ...string) {
	t.Helper()
	for _, r := range rels {
		err := os.Remove(filepath.Join(dir, r))
		if os.IsNotExist(err) && filepath.Ext(r) == ".crc" {
			continue
		}
		require.NoError(t, err)
	}
}

func read(t *testing.T, dir, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, rel))
	require.NoError(t, err)
	return b
}

// TestCheckBrokenVariants breaks copies of real trees the ways restores
// break and checks that the exact finding is reported.
func TestCheckBrokenVariants(t *testing.T) {
	root := real.Root(t)
	hdfsAgg := filepath.Join(root, sparkRes+"checkpoint-version-4.0.0/hdfs/agg")
	rocksAgg := filepath.Join(root, sparkRes+"checkpoint-version-4.0.0/rocksdb/agg")
	v2Join := filepath.Join(root, sparkRes+"checkpoint-version-4.0.0-checkpoint-v2/rocksdb/join1")
	devfranhan := filepath.Join(root, "devfranhan-data-eng-filling/checkpoint")
	for _, tc := range []struct {
		name     string
		src      string
		mutate   func(t *testing.T, dir string)
		opts     structured.CheckOptions
		ok       bool
		code     string
		severity check.Severity
		file     string
		location string
		count    int
	}{
		{
			name: "deleted delta covered by a snapshot is harmless", src: hdfsAgg,
			mutate: func(t *testing.T, d string) { remove(t, d, "state/0/1/3.delta", "state/0/1/.3.delta.crc") },
			ok:     true,
		},
		{
			name: "deleted delta in the chain", src: hdfsAgg,
			mutate: func(t *testing.T, d string) {
				remove(t, d, "state/0/1/4.snapshot", "state/0/1/.4.snapshot.crc", "state/0/1/3.delta", "state/0/1/.3.delta.crc")
			},
			code: "state-unrecoverable", severity: check.Error, file: "state/0/1",
			location: "cannot load version 4 from state/0/1/2.snapshot: 3.delta missing", count: 1,
		},
		{
			name: "missing partition directory", src: hdfsAgg,
			mutate: func(t *testing.T, d string) { require.NoError(t, os.RemoveAll(filepath.Join(d, "state/0/4"))) },
			code:   "state-unrecoverable", severity: check.Error, file: "state/0/4", location: "partition directory state/0/4 is missing", count: 1,
		},
		{
			name: "truncated delta on the chain", src: hdfsAgg,
			mutate: func(t *testing.T, d string) {
				b := read(t, d, "state/0/2/4.delta")
				write(t, d, "state/0/2/4.delta", b[:len(b)-10])
				remove(t, d, "state/0/2/.4.delta.crc", "state/0/2/4.snapshot", "state/0/2/.4.snapshot.crc")
			},
			code: "state-unreadable", severity: check.Error, file: "state/0/2/4.delta",
		},
		{
			name: "delta in another codec", src: hdfsAgg,
			mutate: func(t *testing.T, d string) {
				raw, _, _, err := codec.Decompress(read(t, d, "state/0/3/4.delta"))
				require.NoError(t, err)
				b, err := codec.Compress(codec.Snappy, codec.Params{}, raw)
				require.NoError(t, err)
				write(t, d, "state/0/3/4.delta", b)
				remove(t, d, "state/0/3/.4.delta.crc", "state/0/3/4.snapshot", "state/0/3/.4.snapshot.crc")
			},
			code: "state-codec-mismatch", severity: check.Error, file: "state/0/3/4.delta",
		},
		{
			name: "missing commit between committed batches", src: hdfsAgg,
			mutate: func(t *testing.T, d string) { remove(t, d, "commits/1", "commits/.1.crc") },
			ok:     true, code: "missing-commit", severity: check.Warning, file: "commits/1", count: 1,
		},
		{
			name: "commit log trails the offset log by two", src: hdfsAgg,
			mutate: func(t *testing.T, d string) {
				remove(t, d, "commits/2", "commits/.2.crc", "commits/3", "commits/.3.crc")
			},
			code: "missing-commit", severity: check.Error, file: "commits/2",
		},
		{
			name: "latest batch not committed", src: hdfsAgg,
			mutate: func(t *testing.T, d string) { remove(t, d, "commits/3", "commits/.3.crc") },
			ok:     true, code: "batch-rerun", severity: check.Info, file: "offsets/3",
		},
		{
			name: "missing offsets before the latest", src: hdfsAgg,
			mutate: func(t *testing.T, d string) { remove(t, d, "offsets/2", "offsets/.2.crc") },
			code:   "missing-offsets", severity: check.Error, file: "offsets/2",
		},
		{
			name: "leftover tmp file", src: hdfsAgg,
			mutate: func(t *testing.T, d string) {
				write(t, d, "offsets/.4.6d3a0e3c-5b1f-4d7e-9f51-2f7d2f3c0a11.tmp", []byte("v1\n"))
			},
			ok: true, code: "tmp-file", severity: check.Info, file: "offsets/.4.6d3a0e3c-5b1f-4d7e-9f51-2f7d2f3c0a11.tmp", count: 1,
		},
		{
			name: "future offsets log version", src: hdfsAgg,
			mutate: func(t *testing.T, d string) {
				b := read(t, d, "offsets/3")
				write(t, d, "offsets/3", append([]byte("v9"), b[2:]...))
				remove(t, d, "offsets/.3.crc")
			},
			code: "log-version-unsupported", severity: check.Error, file: "offsets/3", location: "line 1",
		},
		{
			name: "future commits version", src: hdfsAgg,
			mutate: func(t *testing.T, d string) {
				write(t, d, "commits/3", []byte("v7\n{\"nextBatchWatermarkMs\":0}"))
				remove(t, d, "commits/.3.crc")
			},
			code: "log-version-unsupported", severity: check.Error, file: "commits/3",
		},
		{
			name: "file changed behind its .crc", src: devfranhan,
			mutate: func(t *testing.T, d string) { write(t, d, "commits/1", []byte("v1\n{\"nextBatchWatermarkMs\":7}")) },
			code:   "crc-mismatch", severity: check.Error, file: "commits/1",
		},
		{
			name: "unreadable latest offsets", src: hdfsAgg,
			mutate: func(t *testing.T, d string) {
				write(t, d, "offsets/3", []byte("v1\n{\"batchWatermarkMs\":0,"))
				remove(t, d, "offsets/.3.crc")
			},
			code: "offsets-unreadable", severity: check.Error, file: "offsets/3", location: "offset 3",
		},
		{
			name: "missing metadata", src: hdfsAgg,
			mutate: func(t *testing.T, d string) { remove(t, d, "metadata", ".metadata.crc") },
			ok:     true, code: "missing-metadata", severity: check.Warning, file: "metadata",
		},
		{
			name: "schema file of a newer Spark", src: hdfsAgg,
			mutate: func(t *testing.T, d string) {
				b := read(t, d, "state/0/0/_metadata/schema")
				b[3] = '9'
				write(t, d, "state/0/0/_metadata/schema", b)
				remove(t, d, "state/0/0/_metadata/.schema.crc")
			},
			code: "log-version-unsupported", severity: check.Error, file: "state/0/0/_metadata/schema",
		},
		{
			name: "RocksDB SST missing", src: rocksAgg,
			mutate: func(t *testing.T, d string) {
				remove(t, d, "state/0/1/SSTs/000015-97d0e283-eed7-4af0-87d9-eded3afe15ca.sst", "state/0/1/SSTs/.000015-97d0e283-eed7-4af0-87d9-eded3afe15ca.sst.crc")
			},
			code: "sst-missing", severity: check.Error, file: "state/0/1/SSTs/000015-97d0e283-eed7-4af0-87d9-eded3afe15ca.sst",
		},
		{
			name: "RocksDB zip and changelog missing", src: rocksAgg,
			mutate: func(t *testing.T, d string) {
				remove(t, d, "state/0/2/4.zip", "state/0/2/.4.zip.crc", "state/0/2/3.changelog", "state/0/2/.3.changelog.crc")
			},
			code: "state-unrecoverable", severity: check.Error, file: "state/0/2",
			location: "cannot load version 4 from state/0/2/2.zip: 3.changelog missing", count: 1,
		},
		{
			name: "RocksDB zip missing, changelogs replay", src: rocksAgg,
			mutate: func(t *testing.T, d string) { remove(t, d, "state/0/2/4.zip", "state/0/2/.4.zip.crc") },
			ok:     true,
		},
		{
			name: "checkpoint v2: the lineage's snapshot missing", src: v2Join,
			mutate: func(t *testing.T, d string) {
				remove(t, d, "state/0/3/left-keyWithIndexToValue/4_eeb41fb7-2005-48d1-8ebe-fc4540c8e53b.zip", "state/0/3/left-keyWithIndexToValue/.4_eeb41fb7-2005-48d1-8ebe-fc4540c8e53b.zip.crc")
			},
			code: "state-unrecoverable", severity: check.Error, file: "state/0/3/left-keyWithIndexToValue", count: 1,
			location: "no snapshot zip exists for any version in the lineage of 5_8683c28d-8fcf-48d2-8b3f-6d1834c5968c.changelog (from version 4)",
		},
		{
			name: "checkpoint v2 read by Spark 3.5", src: v2Join, opts: structured.CheckOptions{SparkVersion: "3.5.1"},
			code: "log-version-unsupported", severity: check.Error, file: "commits/4",
		},
		{
			name: "RocksDB read by Spark 3.1", src: rocksAgg, opts: structured.CheckOptions{SparkVersion: "3.1"},
			code: "conf-unsupported", severity: check.Error, file: "state/0/",
		},
		{
			// Files of earlier log batches only look new to the restarted source.
			name: "file source paths on a foreign filesystem", src: devfranhan, opts: structured.CheckOptions{ExpectFS: []string{"hdfs://new-nn:8020"}},
			code: "foreign-authority", severity: check.Warning, file: "sources/0/0", location: "line 2: path", count: 1,
		},
		{
			// Those of the log batch the latest offsets point at are resolved
			// again on restart: real Spark 3.5 and 4.0 fail there with
			// ConnectException (TestSparkRestartStructured's negative control).
			name: "latest file source batch on a foreign filesystem", src: devfranhan, opts: structured.CheckOptions{ExpectFS: []string{"hdfs://new-nn:8020"}},
			code: "foreign-authority", severity: check.Error, file: "sources/0/1", location: "line 2: path", count: 1,
		},
		{
			name: "file source paths on the expected filesystem", src: devfranhan, opts: structured.CheckOptions{ExpectFS: []string{"file:///Users/franhan"}},
			ok: true,
		},
		{
			name: "file source log batch missing", src: devfranhan,
			mutate: func(t *testing.T, d string) { remove(t, d, "sources/0/0", "sources/0/.0.crc") },
			code:   "source-log-missing-batch", severity: check.Error, file: "sources/0/0",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tree.Copy(t, tc.src)
			if tc.mutate != nil {
				tc.mutate(t, dir)
			}
			tc.opts.Path = "ckpt"
			r, err := structured.Check(os.DirFS(dir), tc.opts)
			require.NoError(t, err)
			assert.Equal(t, tc.ok, r.OK, "ok; findings: %+v", r.Findings)
			if tc.code == "" {
				for _, f := range r.Findings {
					assert.NotEqual(t, check.Error, f.Severity, "%+v", f)
					assert.NotEqual(t, check.Warning, f.Severity, "%+v", f)
				}
				return
			}
			var fs []check.Finding
			for _, f := range findingsOf(r, tc.code) {
				if f.Severity == tc.severity {
					fs = append(fs, f)
				}
			}
			require.Len(t, fs, 1, "findings: %+v", r.Findings)
			f := fs[0]
			assert.Equal(t, tc.severity, f.Severity)
			assert.Equal(t, tc.file, f.File)
			if tc.location != "" {
				assert.Equal(t, tc.location, f.Location)
			}
			if tc.count > 0 {
				assert.Equal(t, tc.count, max(f.Count, 1))
			}
			assert.NotEmpty(t, f.Message)
		})
	}
}

// TestCheckSink checks file sink logs alone and with a checkpoint.
func TestCheckSink(t *testing.T) {
	root := real.Root(t)
	sink := func(dir string) structured.Sink {
		return structured.Sink{FS: os.DirFS(dir), Dir: "_spark_metadata", Path: "out"}
	}
	// castagnna: 20 batches compacted at 9 and 19; readers read only 19.compact.
	r, err := structured.CheckSink(sink(filepath.Join(root, "castagnna-spark-streaming/csv")), structured.CheckOptions{ExpectFS: []string{"file:///"}})
	require.NoError(t, err)
	assert.True(t, r.OK, "%+v", r.Findings)
	assert.Equal(t, 40, r.FilesRead) // 20 log files and their .crc sidecars
	// A missing batch that readers need.
	dir := tree.Copy(t, filepath.Join(root, "peter-32-hellospark/output"))
	remove(t, dir, "_spark_metadata/1")
	r, err = structured.CheckSink(sink(dir), structured.CheckOptions{})
	require.NoError(t, err)
	assert.False(t, r.OK)
	fs := findingsOf(r, "sink-log-missing-batch")
	require.Len(t, fs, 1)
	assert.Equal(t, "out/_spark_metadata/1", fs[0].File)
	// A checkpoint with its sink: the sink's paths are judged too.
	ck := filepath.Join(root, "peter-32-hellospark/checkpoint")
	r, err = structured.Check(os.DirFS(ck), structured.CheckOptions{SparkVersion: "2.0.2", ExpectFS: []string{"hdfs://nn:8020"}, Sinks: []structured.Sink{sink(filepath.Join(root, "peter-32-hellospark/output"))}})
	require.NoError(t, err)
	var roles []string
	for _, f := range findingsOf(r, "foreign-authority") {
		roles = append(roles, f.Places[0].File)
	}
	assert.Equal(t, []string{"out/_spark_metadata/0", "sources/0/0"}, roles)
}

// TestCheckCRCSidecars pins the .crc handling on a real tree: every
// sidecar verified, a regenerated one passes.
func TestCheckCRCSidecars(t *testing.T) {
	root := real.Root(t)
	dir := tree.Copy(t, filepath.Join(root, sparkRes+"checkpoint-version-4.0.0-tws-avro"))
	r, err := structured.Check(os.DirFS(dir), structured.CheckOptions{})
	require.NoError(t, err)
	fs := findingsOf(r, "crc-mismatch")
	require.Len(t, fs, 2) // the fixture's offsets were edited after Spark wrote them
	assert.Equal(t, "offsets/0", fs[0].File)
	assert.Equal(t, "offsets/1", fs[1].File)
	for _, f := range []string{"offsets/0", "offsets/1"} {
		write(t, dir, filepath.Join(filepath.Dir(f), "."+filepath.Base(f)+".crc"), crcfile.Compute(read(t, dir, f), 512))
	}
	r, err = structured.Check(os.DirFS(dir), structured.CheckOptions{})
	require.NoError(t, err)
	assert.True(t, r.OK, "%+v", r.Findings)
}

// addZipEntries rewrites the zip rel of dir with its entries plus empty
// entries named names (and drops its .crc sidecar).
func addZipEntries(t *testing.T, dir, rel string, names ...string) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(read(t, dir, rel)), int64(len(read(t, dir, rel))))
	require.NoError(t, err)
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		require.NoError(t, zw.Copy(f))
	}
	for _, n := range names {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Deflate})
		require.NoError(t, err)
		_, err = w.Write([]byte("x"))
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	write(t, dir, rel, out.Bytes())
	remove(t, dir, path.Join(path.Dir(rel), "."+path.Base(rel)+".crc"))
}

// TestCheckZipEntryNames: entries of a RocksDB zip named like paths out
// of the directory Spark unzips into are error findings (before, check
// passed them), one per entry; the zip's real entries are not.
func TestCheckZipEntryNames(t *testing.T) {
	src := filepath.Join(real.Root(t), sparkRes+"checkpoint-version-4.0.0/rocksdb/agg")
	dir := tree.Copy(t, src)
	bad := []string{"../../../tmp/x", "/abs/x", `..\..\x`, `\abs\x`, "C:x", "OPTIONS-000007/../../y", "a\x1b]52;c;eA==\x07"}
	addZipEntries(t, dir, "state/0/0/4.zip", bad...)
	r, err := structured.Check(os.DirFS(dir), structured.CheckOptions{Path: "ckpt"})
	require.NoError(t, err)
	assert.False(t, r.OK)
	fs := findingsOf(r, "zip-entry-unsafe")
	var names []string
	for _, f := range fs {
		assert.Equal(t, check.Error, f.Severity)
		assert.Equal(t, "state/0/0/4.zip", f.File)
		assert.Contains(t, f.Message, "writes outside the state store's local directory")
		names = append(names, f.Location)
	}
	assert.Equal(t, bad, names)

	// The real zips have none.
	r, err = structured.Check(os.DirFS(src), structured.CheckOptions{Path: "ckpt"})
	require.NoError(t, err)
	assert.Empty(t, findingsOf(r, "zip-entry-unsafe"))
}

func TestUnsafeZipName(t *testing.T) {
	for name, want := range map[string]string{
		"CURRENT": "", "MANIFEST-000005": "", "000004.log": "", "metadata": "", "a..b": "", "..x": "",
		"": "is empty", "/etc/x": "is an absolute path", `\x`: "is an absolute path", "c:/x": "starts with a drive letter",
		"../x": `climbs out of the directory with ".."`, `a\..\..\x`: `climbs out of the directory with ".."`, "..": `climbs out of the directory with ".."`,
		"a\x00b": "holds control characters",
	} {
		assert.Equal(t, want, structured.UnsafeZipName(name), "%q", name)
	}
}
