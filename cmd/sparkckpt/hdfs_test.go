package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/sparkckpt/sparkckpt/fixtures/tree"
	"github.com/sparkckpt/sparkckpt/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCheckOnHDFS copies a checkpoint to the in-process HDFS (the real
// colinmarc client against the test namenode/datanode) with cp, relocating
// it, then checks it where it lives: clean against the new namenode,
// foreign against the old one, and a missing RDD directory is found on HDFS.
func TestCheckOnHDFS(t *testing.T) { testCheckOnHDFS(t, startFakeHDFS) }

func testCheckOnHDFS(t *testing.T, startHDFS func(*testing.T) hdfsPeer) {
	hdfsEnv(t)
	srv := startHDFS(t)
	src := tree.Copy(t, filepath.Join(repoDir(), "fixtures/generated/dstream/hdfs-app"))
	dst := srv.URI() + "/user/spark/checkpoints/hdfs-app"
	code, _, errs := runCLI("cp", src, dst, "--map", "hdfs://namenode.example.com:8020="+srv.URI())
	require.Equal(t, 0, code, errs)

	code, out, errs := runCLI("check", "--json", dst, "--expect-fs", srv.URI())
	require.Equal(t, 0, code, "%s%s", out, errs)
	var rep struct {
		OK            bool
		CheckpointDir string
		Chosen        struct{ File string }
		Findings      []struct{ Severity, Code string }
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.True(t, rep.OK)
	assert.Equal(t, dst, rep.CheckpointDir)
	assert.Equal(t, "checkpoint-1700000010000", rep.Chosen.File)
	for _, f := range rep.Findings {
		assert.NotEqual(t, "error", f.Severity, f.Code)
		assert.NotEqual(t, "missing-rdd-checkpoint", f.Code, "the RDD directories are found on HDFS")
	}

	code, out, _ = runCLI("check", dst, "--expect-fs", "hdfs://namenode.example.com:8020")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "foreign-authority")

	// Delete one referenced RDD checkpoint directory on HDFS.
	st := newStores(context.Background(), os.Getenv, 0)
	defer st.Close()
	loc, err := st.open(dst + "/3f0c2a9e-5b7d-4c1e-9a2f-6d8e1b4c7a90/rdd-57")
	require.NoError(t, err)
	require.NoError(t, store.RemoveAll(loc.store, loc.name))
	code, out, _ = runCLI("check", dst, "--expect-fs", srv.URI())
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "missing-rdd-checkpoint")
	assert.Contains(t, out, "rdd-57")
}

// TestCheckHDFSUnreachable: a closed namenode port is a one-line error
// naming host:port, exit 2.
func TestCheckHDFSUnreachable(t *testing.T) {
	hdfsEnv(t)
	srv := startServer(t)
	uri := srv.URI()
	srv.Close()
	code, _, errs := runCLI("check", uri+"/ckpt")
	assert.Equal(t, 2, code)
	assert.Contains(t, errs, uri[len("hdfs://"):])
	assert.Contains(t, errs, "namenode")
}

// TestInspectAndURIsOnHDFS: inspect and uris read a relocated checkpoint
// (and its write-ahead log) where it lives on HDFS.
func TestInspectAndURIsOnHDFS(t *testing.T) { testInspectAndURIsOnHDFS(t, startFakeHDFS) }

func testInspectAndURIsOnHDFS(t *testing.T, startHDFS func(*testing.T) hdfsPeer) {
	hdfsEnv(t)
	srv := startHDFS(t)
	src := tree.Copy(t, filepath.Join(repoDir(), "fixtures/generated/dstream/hdfs-app"))
	tree.CopyInto(t, filepath.Join(repoDir(), "fixtures/generated/wal/ckpt-hdfs"), src)
	dst := srv.URI() + "/user/spark/checkpoints/hdfs-app"
	code, _, errs := runCLI("cp", src, dst, "--map", "hdfs://namenode.example.com:8020="+srv.URI(), "--map", "hdfs://namenode.example:8020="+srv.URI())
	require.Equal(t, 0, code, errs)

	code, out, errs := runCLI("inspect", dst)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, dst+"/checkpoint-1700000010000")
	assert.Regexp(t, `checkpointDir +`+dst+`\n`, out)
	assert.Contains(t, out, "write-ahead log (receivedBlockMetadata)")

	code, out, errs = runCLI("inspect", "--json", dst+"/receivedBlockMetadata/log-1700000000010-1700000060010")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, `"kind": "wal"`)
	assert.Contains(t, out, srv.URI()+"/user/spark/ckpt-hdfs/receivedData/0/log-1700000001200-1700000061200")

	code, out, errs = runCLI("uris", "--json", dst)
	require.Equal(t, 0, code, errs)
	var refs []struct{ URI, Authority, Role, File string }
	require.NoError(t, json.Unmarshal([]byte(out), &refs))
	roles := map[string]bool{}
	for _, r := range refs {
		assert.NotContains(t, r.URI, "namenode.example", r.File)
		if r.Authority == srv.URI()[len("hdfs://"):] {
			roles[r.Role] = true
		}
	}
	for _, role := range []string{"checkpointDir", "rdd-checkpoint", "wal-segment", "python-function"} {
		assert.True(t, roles[role], role)
	}
}
