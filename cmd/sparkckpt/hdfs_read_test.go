package main

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/sparkckpt/sparkckpt/fixtures/real"
	"github.com/sparkckpt/sparkckpt/fixtures/tree"
	"github.com/sparkckpt/sparkckpt/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The read-only commands on hdfs:// paths say what they say about the
// same tree on the local disk: each test puts a local tree on the
// in-process HDFS byte for byte (.crc sidecars included, so that the
// checks see the same files), runs the real CLI on both, and compares
// the outputs with the local path replaced by the hdfs:// URI.

// putTree copies the local directory src to the hdfs:// URI dst through
// the store, every file byte for byte, and returns dst.
func putTree(t *testing.T, src, dst string) string {
	t.Helper()
	st := newStores(context.Background(), os.Getenv, 0)
	defer st.Close()
	loc, err := st.open(dst)
	require.NoError(t, err)
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		name := store.Join(loc.name, filepath.ToSlash(rel))
		if d.IsDir() {
			return loc.store.MkdirAll(name, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		w, err := loc.store.Create(name, 0o644)
		if err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			w.Close()
			return err
		}
		return w.Close()
	})
	require.NoError(t, err)
	return dst
}

// tmpFix matches the fix of a tmp-file finding.
var tmpFix = regexp.MustCompile(`delete them \((find|hdfs dfs -rm) [^)]*\)`)

// sameOnHDFS runs sparkckpt with args on the local path and on the URI
// (args holds "PATH" where the path goes, and may name sinks as "PATH/x")
// and requires the same exit status and the same output, the local path
// replaced by the URI, but for the fix of temp-file findings. It returns
// the HDFS run's stdout.
func sameOnHDFS(t *testing.T, local, uri string, args ...string) string {
	t.Helper()
	subst := func(p string) []string {
		out := make([]string, len(args))
		for i, a := range args {
			out[i] = strings.ReplaceAll(a, "PATH", p)
		}
		return out
	}
	lcode, lout, lerr := runCLI(subst(local)...)
	hcode, hout, herr := runCLI(subst(uri)...)
	// The one intended difference: how to delete temp files (find(1) reads
	// only the local disk; on HDFS the fix is hdfs dfs -rm of each file).
	lout = tmpFix.ReplaceAllString(lout, "delete them (FIX)")
	hfix := tmpFix.FindAllString(hout, -1)
	for _, f := range hfix {
		assert.Contains(t, f, "delete them (hdfs dfs -rm "+uri, "%v", args)
	}
	hout = tmpFix.ReplaceAllString(hout, "delete them (FIX)")
	require.NotEmpty(t, lout+lerr, "%v", args)
	assert.Equal(t, lcode, hcode, "%v: exit status (local stderr %q, HDFS stderr %q)", args, lerr, herr)
	assert.Equal(t, strings.ReplaceAll(lout, local, uri), hout, "%v", args)
	assert.Equal(t, strings.ReplaceAll(lerr, local, uri), herr, "%v", args)
	assert.NotContains(t, hout, local, "%v: the HDFS output names the local copy", args)
	return hout
}

// structgenTree generates a small synthetic Structured Streaming
// checkpoint (fixtures/structgen: offsets, commits, a file source log
// with compaction, HDFS state with deltas and snapshots, .crc sidecars).
func structgenTree(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "agg")
	cmd := exec.Command("go", "run", "./fixtures/structgen", "-out", dir, "-files", "260", "-bytes", "2e5", "-partitions", "4", "-snapshot-every", "5")
	cmd.Dir = repoDir()
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	var res struct{ Files, Batches int }
	require.NoError(t, json.Unmarshal(out, &res), "%s", out)
	require.Greater(t, res.Batches, 10, "%s", out)
	return dir
}

// TestStructuredOnHDFS: inspect, uris and check on a generated Structured
// Streaming checkpoint on HDFS, the whole checkpoint and single files,
// give what they give on the local disk; a state delta removed on HDFS is
// found there.
func TestStructuredOnHDFS(t *testing.T) { testStructuredOnHDFS(t, startFakeHDFS) }

func testStructuredOnHDFS(t *testing.T, startHDFS func(*testing.T) hdfsPeer) {
	hdfsEnv(t)
	srv := startHDFS(t)
	local := structgenTree(t)
	uri := putTree(t, local, srv.URI()+"/user/spark/agg")

	out := sameOnHDFS(t, local, uri, "inspect", "PATH")
	assert.Contains(t, out, "directory   "+uri+"\n")
	assert.Regexp(t, `state operators \(1\)\n.*\n  0 +4 +default`, out)
	assert.Contains(t, out, "reconstructible (4/4 stores)")
	out = sameOnHDFS(t, local, uri, "--json", "inspect", "PATH")
	var sum struct {
		Kind, Dir, QueryID string
		LatestBatch        int64
		StateOperators     []struct{ Partitions, Files int }
	}
	require.NoError(t, json.Unmarshal([]byte(out), &sum))
	assert.Equal(t, "structured", sum.Kind)
	assert.Equal(t, uri, sum.Dir)
	assert.Equal(t, "5b0e9c1e-0d37-4a8a-9c0a-2f1f3a6b7c8d", sum.QueryID)
	require.Len(t, sum.StateOperators, 1)
	assert.Equal(t, 4, sum.StateOperators[0].Partitions)

	out = sameOnHDFS(t, local, uri, "uris", "PATH")
	assert.Contains(t, out, "hdfs://namenode:8020  (")
	out = sameOnHDFS(t, local, uri, "--json", "uris", "PATH")
	var refs []struct{ URI, Role, File string }
	require.NoError(t, json.Unmarshal([]byte(out), &refs))
	require.NotEmpty(t, refs)
	for _, r := range refs {
		assert.Equal(t, "source-file", r.Role)
		assert.True(t, strings.HasPrefix(r.File, uri+"/sources/0/"), r.File)
	}

	out = sameOnHDFS(t, local, uri, "check", "PATH", "--expect-fs", "hdfs://namenode:8020")
	assert.Regexp(t, `^OK: Spark will restart batch \d+ with state version \d+`, out)
	out = sameOnHDFS(t, local, uri, "check", "PATH", "--expect-fs", "hdfs://new-nn:8020")
	assert.Contains(t, out, "foreign-authority")
	assert.Contains(t, out, "sparkckpt rewrite "+uri+" --from hdfs://namenode:8020 --to hdfs://new-nn:8020")
	out = sameOnHDFS(t, local, uri, "--json", "check", "PATH", "--spark-version", "3.5.1")
	var chk struct {
		Kind, Dir string
		OK        bool
		State     struct{ Stores, Reconstructible, ChainFiles int }
	}
	require.NoError(t, json.Unmarshal([]byte(out), &chk))
	assert.Equal(t, "structured", chk.Kind)
	assert.Equal(t, uri, chk.Dir)
	assert.True(t, chk.OK)
	assert.Equal(t, 4, chk.State.Reconstructible)
	assert.Greater(t, chk.State.ChainFiles, 4)

	// Single files: offsets, a source log, a delta decoded by its path.
	sameOnHDFS(t, local, uri, "inspect", "PATH/offsets/3")
	sameOnHDFS(t, local, uri, "--json", "inspect", "PATH/commits/3")
	sameOnHDFS(t, local, uri, "uris", "PATH/sources/0/9.compact")
	out = sameOnHDFS(t, local, uri, "inspect", "PATH/state/0/2/10.snapshot")
	assert.Contains(t, out, "file     "+uri+"/state/0/2/10.snapshot\n")
	assert.Contains(t, out, "type     state\n")

	// Delete the newest delta of partition 1 on both sides: the state of
	// the last batch cannot be rebuilt, on HDFS as on the local disk.
	var sv struct{ StateVersion int }
	_, jout, _ := runCLI("--json", "inspect", local)
	require.NoError(t, json.Unmarshal([]byte(jout), &sv))
	rel := path.Join("state/0/1", strconv.Itoa(sv.StateVersion)+".delta")
	require.NoError(t, os.Remove(filepath.Join(local, rel)))
	st := newStores(context.Background(), os.Getenv, 0)
	defer st.Close()
	loc, err := st.open(uri + "/" + rel)
	require.NoError(t, err)
	require.NoError(t, loc.store.Remove(loc.name))
	out = sameOnHDFS(t, local, uri, "check", "PATH")
	assert.Contains(t, out, "FAIL: 1 error")
	assert.Contains(t, out, "at state/0/1: cannot load version "+strconv.Itoa(sv.StateVersion))
}

// realStructured are real Structured Streaming trees (and file sinks)
// whose inspect, uris and check are compared on HDFS and on the local disk.
var realStructured = []string{
	"andreasrenghart-pyspark_notebooks/checkpoint",
	"chaithanyarlk-apache-spark-streaming-projects/checkpointStreamin",
	"devfranhan-data-eng-filling/checkpoint",
	"castagnna-spark-streaming/csv",
	"apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-4.0.0/rocksdb/agg",
	"apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-4.0.0-checkpoint-v2/rocksdb/join1",
	"apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-4.0.0-tws-avro",
	"apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-3.5.1-streaming-join",
}

// TestRealStructuredOnHDFS compares inspect, uris and check of real
// Spark-written trees on HDFS with the same trees on the local disk.
func TestRealStructuredOnHDFS(t *testing.T) { testRealStructuredOnHDFS(t, startFakeHDFS) }

func testRealStructuredOnHDFS(t *testing.T, startHDFS func(*testing.T) hdfsPeer) {
	root := real.Root(t)
	hdfsEnv(t)
	srv := startHDFS(t)
	for i, rel := range realStructured {
		t.Run(strconv.Itoa(i)+"-"+path.Base(rel), func(t *testing.T) {
			local := tree.Copy(t, filepath.Join(root, rel))
			uri := putTree(t, local, srv.URI()+"/real/"+strconv.Itoa(i)+"/"+path.Base(rel))
			sameOnHDFS(t, local, uri, "inspect", "PATH")
			sameOnHDFS(t, local, uri, "--json", "inspect", "PATH")
			sameOnHDFS(t, local, uri, "uris", "PATH")
			sameOnHDFS(t, local, uri, "--json", "uris", "PATH")
			sameOnHDFS(t, local, uri, "check", "PATH")
			sameOnHDFS(t, local, uri, "check", "PATH", "--expect-fs", "hdfs://new-nn:8020")
			sameOnHDFS(t, local, uri, "--json", "check", "PATH", "--expect-fs", "file:///")
		})
	}

	// The pinned values, read on HDFS: the join's four stores, the Kafka
	// offsets; the sink's compacted log; tws-avro's checksum failure.
	t.Run("values", func(t *testing.T) {
		uri := srv.URI() + "/real/1/checkpointStreamin"
		code, out, errs := runCLI("--json", "inspect", uri)
		require.Equal(t, 0, code, errs)
		var r struct {
			QueryID string
			Sources []struct {
				LatestOffset string
				Kafka        []struct{ Offset int64 }
			}
			StateOperators []struct{ StoreNames []string }
		}
		require.NoError(t, json.Unmarshal([]byte(out), &r))
		assert.Equal(t, "6fd064d7-8978-49f2-8fdf-98c7e4a79c6a", r.QueryID)
		assert.Equal(t, `{"topic":{"0":18,"1":30,"2":0}}`, r.Sources[0].LatestOffset)
		assert.Equal(t, int64(30), r.Sources[0].Kafka[1].Offset)
		assert.Equal(t, []string{"left-keyToNumValues", "left-keyWithIndexToValue", "right-keyToNumValues", "right-keyWithIndexToValue"}, r.StateOperators[0].StoreNames)

		code, out, errs = runCLI("inspect", srv.URI()+"/real/3/csv")
		require.Equal(t, 0, code, errs)
		assert.Contains(t, out, "kind           file sink log (_spark_metadata)")
		assert.Contains(t, out, "compact interval 10")

		code, out, _ = runCLI("check", srv.URI()+"/real/6/checkpoint-version-4.0.0-tws-avro")
		assert.Equal(t, 1, code, out)
		assert.Contains(t, out, "crc-mismatch")
	})

	// A state delta decoded with the schema found from its path on HDFS.
	t.Run("files", func(t *testing.T) {
		uri := srv.URI() + "/real/7/checkpoint-version-3.5.1-streaming-join"
		local := filepath.Join(root, realStructured[7])
		for _, f := range []string{"state/0/4/right-keyWithIndexToValue/1.delta", "commits/0", "offsets/0", "state/0/0/left-keyToNumValues/_metadata/schema", "metadata"} {
			lcode, lout, lerr := runCLI("inspect", local+"/"+f)
			hcode, hout, herr := runCLI("inspect", uri+"/"+f)
			require.Equal(t, 0, lcode, lerr)
			assert.Equal(t, lcode, hcode, herr)
			assert.Equal(t, strings.ReplaceAll(lout, local, uri), hout, f)
		}
		code, out, errs := runCLI("inspect", uri+"/state/0/4/right-keyWithIndexToValue/1.delta")
		require.Equal(t, 0, code, errs)
		assert.Contains(t, out, "schema   state/0/0/right-keyWithIndexToValue/_metadata/schema\n")
		assert.Contains(t, out, `{field0=2, index=0} -> {rightId=2, rightTime="1970-01-01 00:00:02 UTC", matched=true}`)
	})

	// A mixed folder: both reports, on HDFS as on the local disk.
	t.Run("mixed", func(t *testing.T) {
		local := tree.Copy(t, filepath.Join(root, "shamukh82-hw6/checkpoint"))
		uri := putTree(t, local, srv.URI()+"/real/mixed/checkpoint")
		out := sameOnHDFS(t, local, uri, "inspect", "PATH")
		assert.Contains(t, out, uri+" holds two checkpoints")
		sameOnHDFS(t, local, uri, "--json", "uris", "PATH")
		sameOnHDFS(t, local, uri, "check", "PATH", "--expect-fs", "file:///")
	})

	// Spark 2.0 with its file sink given as --sink, both on HDFS.
	t.Run("sink", func(t *testing.T) {
		local := tree.Copy(t, filepath.Join(root, "peter-32-hellospark"))
		uri := putTree(t, local, srv.URI()+"/real/peter")
		out := sameOnHDFS(t, local, uri, "check", "PATH/checkpoint", "--spark-version", "2.0.2", "--sink", "PATH/output")
		assert.Regexp(t, `^OK: Spark will restart batch 3 with state version 3`, out)
		sameOnHDFS(t, local, uri, "--json", "check", "PATH/checkpoint", "--sink", "PATH/output", "--expect-fs", "hdfs://new-nn:8020")
		sameOnHDFS(t, local, uri, "check", "PATH/output/_spark_metadata")
		out = sameOnHDFS(t, local, uri, "uris", "PATH/output")
		assert.Contains(t, out, "sink-file  file:///Users/peterjmyers/bids/HelloSpark/output/eefbce12-7a07-4054-accb-5907ae8bb866")
	})
}

// TestDStreamFilesOnHDFS: dump and cat of checkpoint and RDD files, and
// inspect, uris and check of a checkpoint with its write-ahead logs (the
// log directories and files themselves too), on HDFS as on the local disk.
func TestDStreamFilesOnHDFS(t *testing.T) { testDStreamFilesOnHDFS(t, startFakeHDFS) }

func testDStreamFilesOnHDFS(t *testing.T, startHDFS func(*testing.T) hdfsPeer) {
	hdfsEnv(t)
	srv := startHDFS(t)
	local := tree.Copy(t, filepath.Join(repoDir(), "fixtures/generated/dstream/hdfs-app"))
	tree.CopyInto(t, filepath.Join(repoDir(), "fixtures/generated/wal/ckpt-hdfs"), local)
	uri := putTree(t, local, srv.URI()+"/user/spark/checkpoints/hdfs-app")

	ckpt := "PATH/checkpoint-1700000010000"
	part := "PATH/3f0c2a9e-5b7d-4c1e-9a2f-6d8e1b4c7a90/rdd-57/part-00000"
	out := sameOnHDFS(t, local, uri, "dump", ckpt)
	assert.True(t, strings.HasPrefix(out, "file "+uri+"/checkpoint-1700000010000 codec=lz4 decompressed=14846 bytes\n"), out[:min(len(out), 200)])
	assert.Contains(t, out, "org.apache.spark.streaming.Checkpoint")
	out = sameOnHDFS(t, local, uri, "--json", "dump", ckpt)
	var d struct{ Kind, File, Codec string }
	require.NoError(t, json.Unmarshal([]byte(out), &d))
	assert.Equal(t, "javaser", d.Kind)
	assert.Equal(t, uri+"/checkpoint-1700000010000", d.File)
	sameOnHDFS(t, local, uri, "dump", "--full", part)
	sameOnHDFS(t, local, uri, "dump", "PATH/checkpoint-1700000010000.bk")

	// cat writes the same stream; --json its sizes and hash.
	_, raw, _ := runCLI("cat", local+"/checkpoint-1700000005000")
	code, hraw, errs := runCLI("cat", uri+"/checkpoint-1700000005000")
	require.Equal(t, 0, code, errs)
	require.Greater(t, len(raw), 1000)
	assert.True(t, raw == hraw, "cat on HDFS wrote other bytes")
	assert.True(t, strings.HasPrefix(hraw, "\xac\xed\x00\x05"), "a Java serialization stream")
	out = sameOnHDFS(t, local, uri, "--json", "cat", ckpt)
	var c struct {
		File                               string
		CompressedBytes, DecompressedBytes int64
		Sha256                             string
	}
	require.NoError(t, json.Unmarshal([]byte(out), &c))
	assert.Equal(t, int64(5930), c.CompressedBytes)
	assert.Equal(t, int64(14846), c.DecompressedBytes)
	assert.Len(t, c.Sha256, 64)
	sameOnHDFS(t, local, uri, "--json", "cat", part)

	// Errors name the hdfs:// file: a codec that is not the file's, a
	// missing file, a directory.
	sameOnHDFS(t, local, uri, "cat", "--codec", "snappy", ckpt)
	code, _, errs = runCLI("dump", uri+"/checkpoint-1")
	assert.Equal(t, 2, code)
	assert.Equal(t, "sparkckpt: stat "+uri+"/checkpoint-1: file does not exist\n", errs)
	code, _, errs = runCLI("cat", uri)
	assert.Equal(t, 2, code)
	assert.Contains(t, errs, uri+": is a directory")

	// The checkpoint with its driver log summary, each log directory and file.
	out = sameOnHDFS(t, local, uri, "inspect", "PATH")
	assert.Contains(t, out, "write-ahead log (receivedBlockMetadata)")
	for _, p := range []string{"PATH/receivedBlockMetadata", "PATH/receivedData", "PATH/receivedData/0/log-1700000001200-1700000061200", "PATH/receivedBlockMetadata/log-1700000000010-1700000060010"} {
		sameOnHDFS(t, local, uri, "inspect", p)
		sameOnHDFS(t, local, uri, "--json", "inspect", p)
	}
	out = sameOnHDFS(t, local, uri, "inspect", "PATH/receivedData")
	assert.Contains(t, out, "receiver data logs "+uri+"/receivedData\n")
	assert.Contains(t, out, "stream 0 log-1700000001200-1700000061200: ")
	out = sameOnHDFS(t, local, uri, "uris", "PATH")
	assert.Contains(t, out, "wal-segment")
	sameOnHDFS(t, local, uri, "uris", "PATH/receivedBlockMetadata")
	sameOnHDFS(t, local, uri, "--json", "check", "PATH", "--expect-fs", "hdfs://namenode.example.com:8020")

	// A DStream check on HDFS names a missing RDD directory by its URI.
	st := newStores(context.Background(), os.Getenv, 0)
	defer st.Close()
	loc, err := st.open(uri + "/3f0c2a9e-5b7d-4c1e-9a2f-6d8e1b4c7a90/rdd-57")
	require.NoError(t, err)
	require.NoError(t, store.RemoveAll(loc.store, loc.name))
	require.NoError(t, os.RemoveAll(filepath.Join(local, "3f0c2a9e-5b7d-4c1e-9a2f-6d8e1b4c7a90/rdd-57")))
	out = sameOnHDFS(t, local, uri, "check", "PATH", "--expect-fs", "hdfs://namenode.example.com:8020")
	assert.Contains(t, out, "fix: copy 3f0c2a9e-5b7d-4c1e-9a2f-6d8e1b4c7a90/rdd-57 from the original checkpoint directory into "+uri+"/3f0c2a9e-5b7d-4c1e-9a2f-6d8e1b4c7a90/rdd-57;")
}

// TestReadHDFSUnreachable: every read-only command on a namenode that
// does not answer fails with one line naming host:port, exit 2.
func TestReadHDFSUnreachable(t *testing.T) {
	hdfsEnv(t)
	srv := startServer(t)
	uri := srv.URI()
	srv.Close()
	hostport := strings.TrimPrefix(uri, "hdfs://")
	for _, args := range [][]string{
		{"inspect", uri + "/ckpt"},
		{"inspect", "--json", uri + "/ckpt/offsets/0"},
		{"uris", uri + "/ckpt"},
		{"check", uri + "/ckpt/_spark_metadata"},
		{"dump", uri + "/ckpt/checkpoint-1"},
		{"cat", uri + "/ckpt/checkpoint-1"},
		{"browse", uri + "/ckpt"},
	} {
		code, out, errs := runCLI(args...)
		assert.Equal(t, 2, code, "%v", args)
		assert.Empty(t, out, "%v", args)
		assert.Equal(t, 1, strings.Count(errs, "\n"), "%v: %q", args, errs)
		assert.Contains(t, errs, "namenode at "+hostport, "%v", args)
	}
	// A --sink on an unreachable namenode: the same one line.
	dir := filepath.Join(t.TempDir(), "ckpt")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "offsets"), 0o755))
	code, _, errs := runCLI("check", dir, "--sink", uri+"/out")
	assert.Equal(t, 2, code)
	assert.Equal(t, 1, strings.Count(errs, "\n"), errs)
	assert.Contains(t, errs, "--sink: "+uri+": cannot reach the namenode at "+hostport)
}
