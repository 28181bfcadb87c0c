package main

import (
	"context"
	"net"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sparkckpt/sparkckpt/fixtures/minihdfs"
	"github.com/sparkckpt/sparkckpt/fixtures/sparkpeer"
	"github.com/sparkckpt/sparkckpt/store"
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

// withFS runs fn with a client of c that is closed when fn returns (an
// open client keeps dialing its namenode, see checkpointFiles).
func withFS(t *testing.T, c *minihdfs.Cluster, fn func(f *hdfs.FS)) {
	t.Helper()
	f, err := hdfs.Connect(context.Background(), minihdfs.Config(), c.Addr())
	require.NoError(t, err)
	defer f.Close()
	fn(f)
}

// putFile writes data to name (unrooted) on c, creating its directory.
func putFile(t *testing.T, c *minihdfs.Cluster, name, data string) {
	t.Helper()
	withFS(t, c, func(f *hdfs.FS) {
		require.NoError(t, f.MkdirAll(path.Dir(name), 0o755))
		require.NoError(t, store.WriteFileAtomic(f, name, []byte(data), 0o644))
	})
}

// readHDFSFile reads name on c; ok is false if it does not exist.
func readHDFSFile(t *testing.T, c *minihdfs.Cluster, name string) (b []byte, ok bool) {
	t.Helper()
	withFS(t, c, func(f *hdfs.FS) {
		var err error
		b, err = store.ReadFile(f, name)
		ok = err == nil
	})
	return b, ok
}

// listHDFS lists the names in dir on c (nil if it does not exist).
func listHDFS(t *testing.T, c *minihdfs.Cluster, dir string) []string {
	t.Helper()
	var out []string
	withFS(t, c, func(f *hdfs.FS) {
		entries, _ := f.ReadDir(dir)
		for _, e := range entries {
			out = append(out, e.Name())
		}
	})
	return out
}

// latestCounts reads StructuredWordCount's output ("BATCH WORD COUNT"
// lines, the updated counts of each batch): each word's latest count, and
// every count a word ever had.
func latestCounts(file string) (latest map[string]string, seen map[string]bool) {
	latest, seen = map[string]string{}, map[string]bool{}
	b, err := os.ReadFile(file)
	if err != nil {
		return latest, seen
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) == 3 {
			latest[f[1]] = f[2]
			seen[f[1]+"="+f[2]] = true
		}
	}
	return latest, seen
}

func latestAre(file string, want map[string]string) func() bool {
	return func() bool {
		got, _ := latestCounts(file)
		if len(got) != len(want) {
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

// TestSparkRestartStructured: a Structured Streaming word count over a
// file source on HDFS cluster A, with its aggregation state in the
// HDFS-backed and in the RocksDB state store, and the same source into a
// file sink, on Spark 3.5 and 4.0. sparkckpt cp copies both checkpoints
// and the sink to cluster B with --map A=B (the input files are copied as
// they are); A stops; the same queries restart on B with the same
// checkpointLocation: the counts continue from A's state, the input file
// A processed is not read again (the source log names it on B now), the
// sink's batch 0 is not rewritten and new batches follow, and nothing
// connects to A's address. Without --map, check --expect-fs B exits 1,
// and the restarted query fails with Spark's own ConnectException naming
// A.
func TestSparkRestartStructured(t *testing.T) {
	hdfsEnv(t)
	b := minihdfs.Start(t, minihdfs.Options{})
	for _, line := range sparkpeer.Lines() {
		for _, state := range []string{"hdfs", "rocksdb"} {
			t.Run(line.Name+"/"+state, func(t *testing.T) {
				prog := sparkpeer.Build(t, line)
				a := minihdfs.Start(t, minihdfs.Options{})
				base := "user/spark/structured-" + line.Name + "-" + state
				out := filepath.Join(t.TempDir(), "counts.txt")
				start := func(c *minihdfs.Cluster, dir, out string) *sparkpeer.App {
					return sparkpeer.Start(t, prog, "sparkckpt.StructuredWordCount",
						c.URI()+"/"+dir+"/ckpt", c.URI()+"/"+base+"/input", c.URI()+"/"+dir+"/out", state, out)
				}

				putFile(t, a, base+"/input/f1.txt", "alpha alpha beta\n")
				app := start(a, base, out)
				require.True(t, app.WaitFor(4*time.Minute, latestAre(out, map[string]string{"alpha": "2", "beta": "1"})),
					"counts on A:\n%s", app.Output())
				require.True(t, app.WaitFor(time.Minute, func() bool {
					_, ok := readHDFSFile(t, a, base+"/ckpt/sink/commits/0")
					return ok
				}), "sink batch 0 never committed:\n%s", app.Output())
				time.Sleep(2 * time.Second)
				require.NoError(t, app.Stop(2*time.Minute), app.Output())

				// The input as it is; the checkpoints and the sink relocated, and once not.
				putFile(t, b, base+"/input/f1.txt", "alpha alpha beta\n")
				unmapped := base + "-unmapped"
				for _, sub := range []string{"ckpt/counts", "ckpt/sink", "out"} {
					code, stdout, errs := runCLI("cp", a.URI()+"/"+base+"/"+sub, b.URI()+"/"+base+"/"+sub, "--map", a.URI()+"="+b.URI())
					require.Equal(t, 0, code, "cp %s: %s%s", sub, stdout, errs)
					if sub != "out" {
						code, stdout, errs = runCLI("cp", a.URI()+"/"+base+"/"+sub, b.URI()+"/"+unmapped+"/"+sub)
						require.Equal(t, 0, code, "cp %s: %s%s", sub, stdout, errs)
					}
				}
				for _, sub := range []string{"ckpt/counts", "ckpt/sink"} {
					code, stdout, errs := runCLI("check", b.URI()+"/"+base+"/"+sub, "--expect-fs", b.URI())
					assert.Equal(t, 0, code, "check of the mapped %s:\n%s%s", sub, stdout, errs)
					code, stdout, errs = runCLI("check", b.URI()+"/"+unmapped+"/"+sub, "--expect-fs", b.URI())
					assert.Equal(t, 1, code, "check of the unmapped %s:\n%s%s", sub, stdout, errs)
					assert.Contains(t, stdout, a.Addr())
				}
				sinkBatch0, ok := readHDFSFile(t, b, base+"/out/_spark_metadata/0")
				require.True(t, ok)
				commitsBefore := listHDFS(t, b, base+"/ckpt/counts/commits")

				a.Stop()
				dialsToA, stopRecorder := recorder(t, a.Addr())

				app = start(b, base, out)
				time.Sleep(3 * time.Second)
				putFile(t, b, base+"/input/f2.txt", "alpha gamma\n")
				require.True(t, app.WaitFor(4*time.Minute, latestAre(out, map[string]string{"alpha": "3", "beta": "1", "gamma": "1"})),
					"counts on B continue from A's state:\n%s", app.Output())
				require.True(t, app.WaitFor(time.Minute, func() bool {
					return len(listHDFS(t, b, base+"/out/_spark_metadata")) > 1
				}), "no new sink batch on B:\n%s", app.Output())
				time.Sleep(2 * time.Second)
				require.NoError(t, app.Stop(2*time.Minute), app.Output())
				_, seen := latestCounts(out)
				assert.False(t, seen["alpha=4"] || seen["beta=2"], "f1 was read again on B")
				after, _ := readHDFSFile(t, b, base+"/out/_spark_metadata/0")
				assert.Equal(t, sinkBatch0, after, "the sink's batch 0 was rewritten")
				assert.Greater(t, len(listHDFS(t, b, base+"/ckpt/counts/commits")), len(commitsBefore), "new commits on B")
				assert.Zero(t, dialsToA.Load(), "something connected to A's address %s:\n%s", a.Addr(), app.Output())

				// Negative control: restarted from the unmapped copy, the
				// source log names f1 on A, so f1 on B is new: read again.
				stopRecorder()
				out2 := filepath.Join(t.TempDir(), "counts.txt")
				app = start(b, unmapped, out2)
				err := app.Wait(4 * time.Minute)
				require.Error(t, err, "Spark restarted from the unmapped copy:\n%s", app.Output())
				t.Logf("negative control, Spark's own failure:\n%s", stackOf(app.Output(), "ConnectException", 25))
				_, portA, _ := net.SplitHostPort(a.Addr())
				assert.Regexp(t, `(ConnectException|NoRouteToHostException|UnknownHostException).*\b(127\.0\.0\.1|localhost):`+portA+`\b`, app.Output())
			})
		}
	}
}

// stackOf returns n lines of s from the first one containing sub, without
// the frames of Hadoop's IPC client and of the JDK.
func stackOf(s, sub string, n int) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if !strings.Contains(l, sub) {
			continue
		}
		var out []string
		for _, l := range lines[i:] {
			if strings.Contains(l, "at org.apache.hadoop.ipc.") || strings.Contains(l, "at java.base/") ||
				strings.Contains(l, "at org.apache.hadoop.io.retry.") {
				continue
			}
			if out = append(out, l); len(out) == n {
				break
			}
		}
		return strings.Join(out, "\n")
	}
	return ""
}
