package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/sparkckpt/sparkckpt/decode/crcfile"
	"github.com/sparkckpt/sparkckpt/fixtures/real"
	"github.com/sparkckpt/sparkckpt/fixtures/tree"
	"github.com/sparkckpt/sparkckpt/rewrite/copytree"
	"github.com/sparkckpt/sparkckpt/rewrite/lock"
	"github.com/sparkckpt/sparkckpt/store/hdfs/hdfstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hdfsEnv isolates sparkckpt from any Hadoop configuration of the machine.
func hdfsEnv(t *testing.T) {
	t.Setenv("HADOOP_CONF_DIR", "")
	t.Setenv("HADOOP_HOME", "")
	t.Setenv("HADOOP_USER_NAME", "spark")
}

// hdfsPeer is the namenode an HDFS end-to-end test runs against: the
// in-process store/hdfs/hdfstest server (TestX) or a real MiniDFSCluster
// (TestRealHDFSEndToEnd/X, see realhdfs_test.go). Each test body is a
// testX(t, startHDFS) function that starts its peer with startHDFS.
type hdfsPeer interface {
	// URI is hdfs://HOST:PORT.
	URI() string
	// Paths lists every file and directory (with a trailing slash) under /.
	Paths(t *testing.T) []string
}

// fakePeer is an hdfstest server as an hdfsPeer.
type fakePeer struct{ *hdfstest.Server }

func (p fakePeer) Paths(*testing.T) []string { return p.Server.Paths() }

// startServer starts an in-process namenode and datanode for t.
func startServer(t *testing.T) *hdfstest.Server {
	t.Helper()
	srv, err := hdfstest.New(hdfstest.Options{BlockSize: 1 << 20})
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	return srv
}

// startFakeHDFS starts the in-process namenode and datanode as t's peer.
func startFakeHDFS(t *testing.T) hdfsPeer { return fakePeer{startServer(t)} }

// runCLI runs sparkckpt in process.
func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// TestCpScripts runs testdata/script/cp_hdfs*.txtar, each against a fresh
// in-process HDFS at $HDFS (TestScripts skips them: [!hdfs]).
func TestCpScripts(t *testing.T) {
	runCpScripts(t, func(env *testscript.Env) (string, error) {
		srv, err := hdfstest.New(hdfstest.Options{BlockSize: 1 << 20})
		if err != nil {
			return "", err
		}
		env.Defer(func() { srv.Close() })
		return srv.URI(), nil
	})
}

// runCpScripts runs the cp_hdfs scripts, each with $HDFS from hdfsURI.
func runCpScripts(t *testing.T, hdfsURI func(env *testscript.Env) (string, error)) {
	root := repoDir()
	realDir := filepath.Join(root, "..", "shared", "fixtures-real")
	_, realErr := os.Stat(realDir)
	files, err := filepath.Glob("testdata/script/cp_hdfs*.txtar")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	testscript.Run(t, testscript.Params{
		Files:               files,
		RequireExplicitExec: true,
		UpdateScripts:       os.Getenv("UPDATE_SCRIPTS") == "1",
		Setup: func(env *testscript.Env) error {
			uri, err := hdfsURI(env)
			if err != nil {
				return err
			}
			env.Setenv("HDFS", uri)
			env.Setenv("FIXTURES", filepath.Join(root, "fixtures", "generated"))
			env.Setenv("REAL", realDir)
			env.Setenv("HADOOP_USER_NAME", "spark")
			env.Setenv("HADOOP_CONF_DIR", "")
			env.Setenv("HADOOP_HOME", "")
			return nil
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "hdfs":
				return true, nil
			case "real":
				return realErr == nil, nil
			}
			return false, nil
		},
	})
}

// TestCpToHDFSAndBack is the acceptance test: cp from the local
// disk to (test) HDFS with a mapping, then read the destination back
// through the store as inspect does: the new URIs; then back to the local
// disk, where inspect, uris and check read it.
func TestCpToHDFSAndBack(t *testing.T) { testCpToHDFSAndBack(t, startFakeHDFS) }

func testCpToHDFSAndBack(t *testing.T, startHDFS func(*testing.T) hdfsPeer) {
	hdfsEnv(t)
	srv := startHDFS(t)
	src := tree.Copy(t, filepath.Join(repoDir(), "fixtures/generated/dstream/hdfs-app"))
	dst := srv.URI() + "/user/spark/checkpoints/hdfs-app"
	code, out, errs := runCLI("cp", "--json", src, dst, "--map", "hdfs://namenode.example.com:8020="+srv.URI())
	require.Equal(t, 0, code, errs)
	var res struct {
		CheckpointDir string   `json:"checkpointDir"`
		Rewritten     int      `json:"rewritten"`
		Edits         int      `json:"edits"`
		Warnings      []string `json:"warnings"`
		Files         []struct {
			File  string `json:"file"`
			Edits []struct{ Before, After string }
		} `json:"files"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	assert.Equal(t, dst, res.CheckpointDir, "read back from HDFS through the store: the new checkpointDir")
	assert.Equal(t, 3, res.Rewritten)
	assert.Equal(t, 29, res.Edits)
	assert.Empty(t, res.Warnings)
	for _, f := range res.Files {
		for _, e := range f.Edits {
			assert.True(t, strings.HasPrefix(e.After, srv.URI()), "%s: %s", f.File, e.After)
		}
	}

	back := filepath.Join(t.TempDir(), "restored")
	code, out, errs = runCLI("cp", dst, back)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "13 created")
	code, out, errs = runCLI("inspect", back)
	require.Equal(t, 0, code, errs)
	assert.Regexp(t, `checkpointDir +`+dst+`\n`, out)
	code, out, _ = runCLI("uris", back)
	require.Equal(t, 0, code)
	assert.NotContains(t, out, "namenode.example.com:8020/user")
	code, out, errs = runCLI("check", back, "--expect-fs", srv.URI())
	assert.NotContains(t, out, "crc-mismatch")
	assert.NotContains(t, out, "foreign-authority", errs)
}

// TestCpRealTreeRoundTrip: a real Spark-written local checkpoint, to HDFS
// and back with the reverse mapping: byte for byte the original tree,
// .crc sidecars included.
func TestCpRealTreeRoundTrip(t *testing.T) { testCpRealTreeRoundTrip(t, startFakeHDFS) }

func testCpRealTreeRoundTrip(t *testing.T, startHDFS func(*testing.T) hdfsPeer) {
	hdfsEnv(t)
	src := tree.Copy(t, filepath.Join(real.Root(t), "theonly0318-spark-study/data/streaming/ck"))
	orig := tree.Snapshot(t, src)
	srv := startHDFS(t)
	const old = "file:/C:/code/IdeaWorkspace/spark-code/data/streaming/ck"
	dst := srv.URI() + "/ck"
	code, out, errs := runCLI("cp", src, dst, "--map", old+"="+dst, "--parallel", "8")
	require.Equal(t, 0, code, errs)
	assert.NotContains(t, out, "warning")
	assert.Regexp(t, `\.crc +\d+ dropped`, out)
	back := filepath.Join(t.TempDir(), "ck")
	code, _, errs = runCLI("cp", dst, back, "--map", dst+"="+old)
	require.Equal(t, 0, code, errs)
	assert.Empty(t, tree.Diff(orig, tree.Snapshot(t, back)))
}

func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestCpUnreachableNamenode: one line naming host:port and what happened,
// within the configured timeout, and nothing written.
func TestCpUnreachableNamenode(t *testing.T) {
	hdfsEnv(t)
	src := filepath.Join(repoDir(), "fixtures/generated/dstream/hdfs-app")
	t.Run("closed port", func(t *testing.T) {
		addr := closedPort(t)
		start := time.Now()
		code, out, errs := runCLI("cp", src, "hdfs://"+addr+"/ckpt", "--timeout", "2s")
		assert.Less(t, time.Since(start), 2*time.Second)
		assert.Equal(t, exitError, code)
		assert.Empty(t, out)
		assert.Equal(t, fmt.Sprintf("sparkckpt: hdfs://%s: cannot reach the namenode at %s: dial tcp %s: connect: connection refused\n", addr, addr, addr), errs)
	})
	t.Run("silent namenode", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0") // accepts (in the kernel) and never answers
		require.NoError(t, err)
		defer ln.Close()
		addr := ln.Addr().String()
		start := time.Now()
		code, _, errs := runCLI("cp", "hdfs://"+addr+"/ckpt", t.TempDir()+"/x", "--timeout", "300ms")
		assert.Less(t, time.Since(start), 2*time.Second)
		assert.Equal(t, exitError, code)
		assert.Equal(t, fmt.Sprintf("sparkckpt: hdfs://%s: cannot reach the namenode at %s: connected to namenode %s, but no answer within 300ms (ipc.client.connect.timeout)\n", addr, addr, addr), errs)
	})
	t.Run("HA nameservice from HADOOP_CONF_DIR", func(t *testing.T) {
		a, b := closedPort(t), closedPort(t)
		conf := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(conf, "hdfs-site.xml"), []byte(`<?xml version="1.0"?>
<configuration>
  <property><name>dfs.nameservices</name><value>prod</value></property>
  <property><name>dfs.ha.namenodes.prod</name><value>nn1,nn2</value></property>
  <property><name>dfs.namenode.rpc-address.prod.nn1</name><value>`+a+`</value></property>
  <property><name>dfs.namenode.rpc-address.prod.nn2</name><value>`+b+`</value></property>
  <property><name>ipc.client.connect.timeout</name><value>1000</value></property>
</configuration>
`), 0o644))
		t.Setenv("HADOOP_CONF_DIR", conf)
		code, _, errs := runCLI("cp", src, "hdfs://prod/ckpt")
		assert.Equal(t, exitError, code)
		assert.Equal(t, fmt.Sprintf("sparkckpt: hdfs://prod: cannot reach any of its 2 namenodes: nn1 (%s): dial tcp %s: connect: connection refused; nn2 (%s): dial tcp %s: connect: connection refused\n", a, a, b, b), errs)
	})
}

// TestCpKilled kills 'cp' with SIGKILL after every durable step it takes,
// copying to the local disk and to HDFS: until the final rename, the
// destination does not exist (only a hidden temporary directory does);
// after it, the destination is complete. A new cp then succeeds, takes
// over the killed one's lock, removes its partial copy and says so.
func TestCpKilled(t *testing.T) { testCpKilled(t, startFakeHDFS) }

func testCpKilled(t *testing.T, startHDFS func(*testing.T) hdfsPeer) {
	if testing.Short() {
		t.Skip("builds and kills a real process")
	}
	hdfsEnv(t)
	bin := buildBinary(t)
	srv := startHDFS(t)
	src := filepath.Join(repoDir(), "fixtures/generated/dstream/hdfs-app")
	mapping := "hdfs://namenode.example.com:8020=hdfs://emr-master:8020"
	ref := filepath.Join(t.TempDir(), "ref")
	out, err := exec.Command(bin, "cp", src, ref, "--map", mapping).CombinedOutput()
	require.NoError(t, err, string(out))
	want := tree.Snapshot(t, ref)
	const steps = 1 + 13 + 1 + 1 // mkdir, 13 files, verify, rename

	for _, target := range []string{"local", "hdfs"} {
		for step := 1; step <= steps; step++ {
			var dst string
			if target == "local" {
				dst = filepath.Join(t.TempDir(), "ckpt")
			} else {
				dst = fmt.Sprintf("%s/killed-%d/ckpt", srv.URI(), step)
			}
			cmd := exec.Command(bin, "cp", src, dst, "--map", mapping, "--parallel", "2")
			cmd.Env = append(os.Environ(), "SPARKCKPT_TEST_KILL_AT_STEP="+strconv.Itoa(step))
			err := cmd.Run()
			var ee *exec.ExitError
			require.ErrorAs(t, err, &ee, "%s step %d: cp was not killed", target, step)

			exists, leftovers := inspectDest(t, srv, target, dst)
			if step < steps {
				assert.False(t, exists, "%s: killed at step %d, the destination exists", target, step)
				assert.Equal(t, 1, leftovers, "%s step %d: the temporary directory stays, hidden", target, step)
			} else {
				assert.True(t, exists, "%s: killed after the rename, the copy is complete", target)
				assert.Equal(t, 0, leftovers)
				if target == "local" {
					assert.Empty(t, tree.Diff(want, tree.Snapshot(t, dst)))
				}
				continue
			}
			// A new cp succeeds and removes the leftover.
			out, err := exec.Command(bin, "cp", "--json", src, dst, "--map", mapping).Output()
			require.NoError(t, err)
			var res cpResult
			require.NoError(t, json.Unmarshal(out, &res))
			assert.Empty(t, res.Leftovers, "%s step %d", target, step)
			require.Len(t, res.Removed, 1, "%s step %d", target, step)
			assert.Contains(t, res.Removed[0].File, copytree.TempPrefix+"ckpt-")
			assert.Regexp(t, `^left by .*@.* pid \d+ since .*: process \d+ is not running on `, res.Removed[0].Error)
			assert.Contains(t, res.TookOverLock, " pid ", "%s step %d: the killed cp's lock", target, step)
			assert.Contains(t, strings.Join(res.Warnings, "\n"), "removed "+dst[:strings.LastIndex(dst, "/")+1]+copytree.TempPrefix+"ckpt-")
			exists, leftovers = inspectDest(t, srv, target, dst)
			assert.True(t, exists)
			assert.Equal(t, 0, leftovers, "%s step %d: the partial copy is gone", target, step)
			if target == "local" {
				assert.Empty(t, tree.Diff(want, tree.Snapshot(t, dst)))
				assert.NoFileExists(t, dst+lock.Suffix, "the lock is released")
			}
		}
	}
}

// inspectDest says whether dst exists and counts temporary directories beside it.
func inspectDest(t *testing.T, srv hdfsPeer, target, dst string) (bool, int) {
	t.Helper()
	if target == "local" {
		_, err := os.Stat(dst)
		ents, rerr := os.ReadDir(filepath.Dir(dst))
		require.NoError(t, rerr)
		n := 0
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), copytree.TempPrefix) {
				n++
			}
		}
		return err == nil, n
	}
	p := strings.TrimPrefix(dst, srv.URI())
	parent := filepath.Dir(p)
	exists, n := false, 0
	for _, q := range srv.Paths(t) {
		if q == p+"/" {
			exists = true
		}
		if rest, ok := strings.CutPrefix(q, parent+"/"+copytree.TempPrefix); ok && strings.HasSuffix(rest, "/") && !strings.Contains(strings.TrimSuffix(rest, "/"), "/") {
			n++
		}
	}
	return exists, n
}

func TestProgressBar(t *testing.T) {
	var b bytes.Buffer
	bar := &progressBar{w: &b}
	bar.update(copytree.Progress{Files: 4, FilesDone: 1, Bytes: 2048, BytesDone: 1024, Current: "checkpoint-1700000010000"})
	assert.Contains(t, b.String(), " 50% [============>           ] 1/4 files 1.0 KiB/2.0 KiB")
	bar.update(copytree.Progress{Files: 4, FilesDone: 4, Bytes: 2048, BytesDone: 2048})
	assert.Contains(t, b.String(), "100% [========================] 4/4 files")
	bar.clear()
	assert.True(t, strings.HasSuffix(b.String(), "\r\x1b[K"))
}

// TestCpSidecarsFromHDFS: files copied from HDFS to the local disk get
// the sidecars Hadoop's LocalFileSystem would write; write-ahead logs none.
func TestCpSidecarsFromHDFS(t *testing.T) { testCpSidecarsFromHDFS(t, startFakeHDFS) }

func testCpSidecarsFromHDFS(t *testing.T, startHDFS func(*testing.T) hdfsPeer) {
	hdfsEnv(t)
	srv := startHDFS(t)
	// A checkpoint with write-ahead logs: hdfs-app and the WAL fixture tree in one directory.
	src := t.TempDir()
	tree.CopyInto(t, filepath.Join(repoDir(), "fixtures/generated/dstream/hdfs-app"), src)
	tree.CopyInto(t, filepath.Join(repoDir(), "fixtures/generated/wal/ckpt-hdfs"), src)
	code, _, errs := runCLI("cp", src, srv.URI()+"/w")
	require.Equal(t, 0, code, errs)
	back := filepath.Join(t.TempDir(), "w")
	code, _, errs = runCLI("cp", srv.URI()+"/w", back)
	require.Equal(t, 0, code, errs)
	got := tree.Snapshot(t, back)
	logs := 0
	for rel, b := range got {
		dir, base := filepath.Split(rel)
		if d, ok := crcfile.IsSidecar(base); ok {
			require.NoError(t, crcfile.Verify(got[filepath.ToSlash(dir+d)], b), rel)
			continue
		}
		_, hasSidecar := got[filepath.ToSlash(dir+"."+base+".crc")]
		isLog := strings.HasPrefix(base, "log-") && (strings.HasPrefix(rel, "receivedBlockMetadata/") || strings.HasPrefix(rel, "receivedData/"))
		if isLog {
			logs++
		}
		assert.Equal(t, !isLog, hasSidecar, rel)
	}
	assert.Equal(t, 2, logs)
}
