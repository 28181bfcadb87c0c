package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sparkckpt/sparkckpt/fixtures/minihdfs"
	"github.com/sparkckpt/sparkckpt/fixtures/sparkpeer"
	"github.com/sparkckpt/sparkckpt/store/hdfs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkpointFiles lists the checkpoint-* files of a DStream checkpoint
// directory on HDFS.
func checkpointFiles(t *testing.T, c *minihdfs.Cluster, dir string) []string {
	t.Helper()
	// Closed at once: an open client renews leases with its namenode every
	// second (colinmarc/hdfs), and would dial A after A stopped.
	f, err := hdfs.Connect(context.Background(), minihdfs.Config(), c.Addr())
	require.NoError(t, err)
	defer f.Close()
	entries, err := f.ReadDir(strings.TrimPrefix(dir, "/"))
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "checkpoint-") {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// countsAre says whether the latest batch in the app's output file has
// exactly want.
func countsAre(file string, want map[string]string) func() bool {
	return func() bool {
		_, got, err := sparkpeer.Counts(file)
		if err != nil || len(got) != len(want) {
			return false
		}
		for k, v := range want {
			if got[k] != v {
				return false
			}
		}
		return true
	}
}

// recorder listens on addr (a stopped cluster's namenode address) and
// counts the connections anything makes to it until stop is called.
func recorder(t *testing.T, addr string) (n *atomic.Int32, stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	n = new(atomic.Int32)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return n, func() { ln.Close() }
}

// TestSparkRestartDStreamWordCount is the seed story, real end to end, on
// Spark 3.5 and 4.0: a DStream word count (socketTextStream from a TCP
// source run here, updateStateByKey, foreachRDD appending to a local file,
// receiver write-ahead log) checkpoints to HDFS cluster A for several
// batches and stops; sparkckpt cp copies the checkpoint to cluster B with
// --map A=B, and once without; A stops. Spark itself then restarts from
// B with StreamingContext.getOrCreate: the running counts continue from
// their values before the move, new checkpoint files appear under B, and
// nothing connects to A's address. The copy without --map makes Spark
// fail with its own ConnectException naming A; check --expect-fs B
// exits 1 on it and 0 on the mapped copy.
func TestSparkRestartDStreamWordCount(t *testing.T) {
	hdfsEnv(t)
	b := minihdfs.Start(t, minihdfs.Options{})
	for _, line := range sparkpeer.Lines() {
		t.Run(line.Name, func(t *testing.T) {
			prog := sparkpeer.Build(t, line)
			a := minihdfs.Start(t, minihdfs.Options{})
			src := sparkpeer.NewSource(t)
			out := filepath.Join(t.TempDir(), "counts.txt")
			dir := "/user/spark/checkpoints/wordcount-" + line.Name
			ckA, ckB, unmapped := a.URI()+dir, b.URI()+dir, b.URI()+"/unmapped/wordcount-"+line.Name
			start := func(ckpt string) *sparkpeer.App {
				return sparkpeer.Start(t, prog, "sparkckpt.DStreamWordCount", ckpt, src.Host(), src.Port(), out)
			}

			// Several batches on A.
			app := start(ckA)
			conns := src.Accepted()
			require.True(t, app.WaitFor(3*time.Minute, func() bool { return src.Accepted() > conns }),
				"the receiver never connected:\n%s", app.Output())
			time.Sleep(time.Second)
			require.Positive(t, src.Send("alpha alpha beta"))
			require.True(t, app.WaitFor(time.Minute, countsAre(out, map[string]string{"alpha": "2", "beta": "1"})),
				"counts on A:\n%s", app.Output())
			time.Sleep(5 * time.Second) // more batches, a state checkpoint after the data
			require.NoError(t, app.Stop(2*time.Minute), app.Output())
			before := checkpointFiles(t, a, dir)
			require.NotEmpty(t, before)

			if keep := os.Getenv("SPARKCKPT_SPARKPEER_KEEP"); keep != "" {
				// Regenerating the committed sample (fixtures/sparkpeer/README.md).
				code, stdout, errs := runCLI("cp", ckA, filepath.Join(keep, line.Name, "dstream-wordcount"))
				require.Equal(t, 0, code, "%s%s", stdout, errs)
			}

			// Copy with and without the mapping; check both against B.
			code, stdout, errs := runCLI("cp", ckA, ckB, "--map", a.URI()+"="+b.URI())
			require.Equal(t, 0, code, "%s%s", stdout, errs)
			code, stdout, errs = runCLI("cp", ckA, unmapped)
			require.Equal(t, 0, code, "%s%s", stdout, errs)
			code, stdout, errs = runCLI("check", ckB, "--expect-fs", b.URI())
			assert.Equal(t, 0, code, "check of the mapped copy:\n%s%s", stdout, errs)
			code, stdout, errs = runCLI("check", unmapped, "--expect-fs", b.URI())
			assert.Equal(t, 1, code, "check of the unmapped copy:\n%s%s", stdout, errs)
			assert.Contains(t, stdout, a.Addr())

			// A goes away; anything that connects to its address is counted.
			a.Stop()
			dialsToA, stopRecorder := recorder(t, a.Addr())

			// Spark restarts from B and the counts continue.
			app = start(ckB)
			conns = src.Accepted()
			require.True(t, app.WaitFor(3*time.Minute, func() bool { return src.Accepted() > conns }),
				"the restarted receiver never connected:\n%s", app.Output())
			require.True(t, app.WaitFor(time.Minute, countsAre(out, map[string]string{"alpha": "2", "beta": "1"})),
				"restored state on B:\n%s", app.Output())
			time.Sleep(time.Second)
			require.Positive(t, src.Send("alpha gamma"))
			require.True(t, app.WaitFor(time.Minute, countsAre(out, map[string]string{"alpha": "3", "beta": "1", "gamma": "1"})),
				"counts on B continue from A's:\n%s", app.Output())
			time.Sleep(3 * time.Second)
			require.NoError(t, app.Stop(2*time.Minute), app.Output())
			after := checkpointFiles(t, b, dir)
			assert.Greater(t, after[len(after)-1], before[len(before)-1], "new checkpoint files under B")
			assert.Zero(t, dialsToA.Load(), "something connected to A's address %s:\n%s", a.Addr(), app.Output())
			assert.NotContains(t, app.Output(), a.Addr())

			// Negative control: the unmapped copy makes Spark fail on A.
			stopRecorder()
			app = start(unmapped)
			err := app.Wait(3 * time.Minute)
			require.Error(t, err, "Spark restarted from the unmapped copy:\n%s", app.Output())
			t.Logf("negative control, Spark's own failure:\n%s", firstLines(app.Output(), "Exception", 3))
			// Hadoop names 127.0.0.1 as localhost in the message.
			_, portA, _ := net.SplitHostPort(a.Addr())
			assert.Regexp(t, `(ConnectException|NoRouteToHostException|UnknownHostException).*\b(127\.0\.0\.1|localhost):`+portA+`\b`, app.Output())
		})
	}
}

// firstLines returns the first n lines of s containing sub.
func firstLines(s, sub string, n int) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) && len(out) < n {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestSparkPeerSampleDStream pins the checkpoint real Spark 4.0.1 wrote on
// HDFS in TestSparkRestartDStreamWordCount (copied to the local disk with
// sparkckpt cp, fixtures/sparkpeer/testdata): it checks clean against its
// cluster, and a relocation rewrites the receiver block paths in the
// driver log too (they were left on the old cluster: a raw-bytes filter
// took the string's length byte 'o' for part of a word).
func TestSparkPeerSampleDStream(t *testing.T) {
	src := filepath.Join(repoDir(), "fixtures/sparkpeer/testdata/spark4.0-dstream-wordcount")
	const old = "hdfs://127.0.0.1:37359"
	code, stdout, errs := runCLI("check", src, "--expect-fs", old)
	assert.Equal(t, 0, code, "%s%s", stdout, errs)
	assert.NotContains(t, stdout, "wal-bad-events")

	code, stdout, errs = runCLI("rewrite", "--json", src, "--map", old+"=hdfs://new-nn:8020")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, stdout, `"receivedBlockMetadata/log-1796687634294-1796687694294"`)
	assert.Equal(t, 2, strings.Count(stdout, `"after": "hdfs://new-nn:8020/user/spark/checkpoints/wordcount-spark4.0/receivedData/0/log-1796687638492-1796687698492"`))
	assert.Contains(t, stdout, `"unchanged": 0,`)
}
