package check_test

import (
	"context"
	"github.com/sparkckpt/sparkckpt/fixtures/tree"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sparkckpt/sparkckpt/decode/check"
	"github.com/sparkckpt/sparkckpt/decode/check/checktest"
	"github.com/sparkckpt/sparkckpt/decode/codec"
	"github.com/sparkckpt/sparkckpt/decode/crcfile"
	"github.com/sparkckpt/sparkckpt/decode/javaser"
	"github.com/sparkckpt/sparkckpt/decode/wal"
	"github.com/sparkckpt/sparkckpt/fixtures/real"
)

// generated is the repository's JVM-generated fixture trees.
func generated(p string) string {
	return filepath.Join("..", "..", "fixtures", "generated", filepath.FromSlash(p))
}

// noLocal is an empty local filesystem: file: URIs outside the checked
// tree are never found, whatever this machine holds.
var noLocal = fstest.MapFS{}

func runCheck(t *testing.T, dir string, opts check.Options) *check.Report {
	t.Helper()
	if opts.Local == nil {
		opts.Local = noLocal
	}
	rep, err := check.Dir(context.Background(), dir, opts)
	require.NoError(t, err)
	// Invariants of every report.
	n := 0
	for i, f := range rep.Findings {
		assert.NotEmpty(t, f.Code)
		assert.NotEmpty(t, f.Message)
		assert.NotContains(t, f.Message, "\n", f.Code)
		if i > 0 {
			assert.LessOrEqual(t, sevRank(rep.Findings[i-1].Severity), sevRank(f.Severity), "findings sorted by severity")
		}
		if f.Severity == check.Error {
			n++
		}
		if f.Count > 0 {
			assert.Len(t, f.Places, f.Count, f.Code)
		}
	}
	assert.Equal(t, n, rep.Counts.Error)
	assert.Equal(t, n == 0, rep.OK)
	return rep
}

func sevRank(s check.Severity) int {
	return map[check.Severity]int{check.Error: 0, check.Warning: 1, check.Info: 2}[s]
}

// codes renders the findings as sorted "severity code" strings.
func codes(rep *check.Report) []string {
	out := []string{}
	for _, f := range rep.Findings {
		out = append(out, string(f.Severity)+" "+f.Code)
	}
	sort.Strings(out)
	return out
}

func find(t *testing.T, rep *check.Report, code string) check.Finding {
	t.Helper()
	for _, f := range rep.Findings {
		if f.Code == code {
			return f
		}
	}
	t.Fatalf("no finding %s in %v", code, codes(rep))
	return check.Finding{}
}

// realTrees returns every real DStream checkpoint directory (one with
// checkpoint-<ms> files), relative to the fixtures root.
func realTrees(t *testing.T) []string {
	root := real.Root(t)
	seen := map[string]bool{}
	var dirs []string
	for _, f := range real.Files(t, real.IsCheckpoint) {
		rel := real.Rel(t, filepath.Dir(f))
		if !seen[rel] {
			seen[rel] = true
			dirs = append(dirs, rel)
		}
	}
	require.NotEmpty(t, dirs, root)
	return dirs
}

// realWant is what each real tree yields with --expect-fs file:///. Two
// snapshots are incomplete: their chosen checkpoint references RDD
// checkpoint directories that the repository does not hold (no <uuid>/
// directory at all), so Spark could not restore them either.
var realWant = map[string][]string{
	"dhruvpratapsingh-twitter-spark-streaming/checkpoint":               {},
	"ergemp-spark-training/spark/checkpoint/EnableCheckpointingExample": {"info memory-only-blocks", "info wal-uncleaned-batches"},
	"garywangop-twitterspark/checkpoint_TwitterStreamApp":               {"info memory-only-blocks", "info wal-uncleaned-batches"},
	"garywangop-twitterspark@aeef381/checkpoint_TwitterStreamApp":       {"error missing-rdd-checkpoint", "error missing-rdd-checkpoint", "info memory-only-blocks", "info wal-uncleaned-batches"},
	"hmntj-pysparkstream/checkpoint":                                    {"info memory-only-blocks", "info wal-uncleaned-batches"},
	"jleetutorial-python-spark-streaming/2_basics/checkpoint":           {"info not-checked", "info orphan-crc"},
	"jleetutorial-python-spark-streaming/3_advanced/checkpoint":         {"error missing-rdd-checkpoint", "info orphan-crc", "info wal-uncleaned-batches"},
	"omar97perez-computacionnube/P8/src/Ejercicio/Buques/Benchi":        {"info memory-only-blocks", "info wal-uncleaned-batches"},
	"omar97perez-computacionnube/P8/src/Ejercicio/Buques/Benchijigua":   {"info wal-uncleaned-batches"},
	"omar97perez-computacionnube/P8/src/Ejercicio/Buques/Betancuria":    {"info wal-uncleaned-batches"},
	"shamukh82-hw6/checkpoint":                                          {"info memory-only-blocks", "info wal-uncleaned-batches"},
	"theonly0318-spark-study/data/streaming/ck":                         {"info memory-only-blocks", "info wal-uncleaned-batches"},
	"theonly0318-spark-study/data/streaming/ck2":                        {"info memory-only-blocks", "info wal-uncleaned-batches"},
}

// TestRealTrees: every complete real tree restores (exit 0) with
// --expect-fs file:///; the two incomplete snapshots fail on exactly their
// missing RDD checkpoint directories.
func TestRealTrees(t *testing.T) {
	root := real.Root(t)
	for _, rel := range realTrees(t) {
		t.Run(rel, func(t *testing.T) {
			want, ok := realWant[rel]
			require.True(t, ok, "new real tree %s: add it to realWant", rel)
			rep := runCheck(t, filepath.Join(root, rel), check.Options{ExpectFS: []string{"file:///"}})
			assert.Equal(t, want, codes(rep))
			require.NotNil(t, rep.Chosen)
			assert.Equal(t, rep.Newest, rep.Chosen.File, "every real tree restores from its newest file")
			assert.True(t, strings.HasPrefix(rep.CheckpointDir, "file:/"), rep.CheckpointDir)
			for _, f := range rep.Findings {
				if f.Code == "missing-rdd-checkpoint" {
					// Evidence: the directory is absent from the snapshot.
					uuid := strings.Split(f.Message, "is missing here (")[1]
					uuid = strings.Split(uuid, "/")[0]
					_, err := os.Stat(filepath.Join(root, rel, uuid))
					assert.ErrorIs(t, err, os.ErrNotExist)
				}
			}
		})
	}
	assert.Len(t, realWant, len(realTrees(t)), "realWant lists a tree that no longer exists")
}

// TestRealTreesRelocated: the same trees with every local URI moved to
// hdfs://new-nn:8020 (as a rewrite does) pass with --expect-fs set to the
// new namenode: references under the new checkpointDir are found in the
// copied tree. Without --expect-fs for the new place they fail.
func TestRealTreesRelocated(t *testing.T) {
	root := real.Root(t)
	for _, rel := range realTrees(t) {
		t.Run(rel, func(t *testing.T) {
			dir := tree.Copy(t, filepath.Join(root, rel))
			checktest.Relocate(t, dir, checktest.Prefix("file:", "hdfs://new-nn:8020"))
			rep := runCheck(t, dir, check.Options{ExpectFS: []string{"hdfs://new-nn:8020"}})
			assert.True(t, strings.HasPrefix(rep.CheckpointDir, "hdfs://new-nn:8020/"), rep.CheckpointDir)
			want := []string{}
			for _, c := range realWant[rel] {
				if c != "info not-checked" { // 2_basics' input file is now on hdfs: still not checkable here
					want = append(want, c)
				}
			}
			got := slices.DeleteFunc(codes(rep), func(c string) bool { return c == "info not-checked" })
			assert.Equal(t, want, got)
			assert.Equal(t, rep.Newest, rep.Chosen.File, "relocated files still decode")

			old := runCheck(t, dir, check.Options{ExpectFS: []string{"hdfs://old-nn:8020"}})
			assert.False(t, old.OK)
			f := find(t, old, "foreign-authority")
			assert.Equal(t, check.Error, f.Severity)
			assert.Equal(t, []string{"sparkckpt", "rewrite", dir, "--from", "hdfs://new-nn:8020", "--to", "hdfs://old-nn:8020"}, f.Command)
			assert.Equal(t, "sparkckpt rewrite "+check.ShellQuote(dir)+" --from hdfs://new-nn:8020 --to hdfs://old-nn:8020", f.Shell)
			assert.NotContains(t, f.Fix, "--from", "fix is prose")
		})
	}
}

// hdfsAppWithWAL builds a complete hdfs:// tree: the generated hdfs-app
// checkpoint with the generated ckpt-hdfs write-ahead logs (receiver WAL
// enabled) moved under its checkpointDir.
func hdfsAppWithWAL(t *testing.T) string {
	dir := tree.Copy(t, generated("dstream/hdfs-app"))
	tree.CopyInto(t, generated("wal/ckpt-hdfs"), dir)
	checktest.Relocate(t, dir, checktest.Prefix("hdfs://namenode.example:8020/user/spark/ckpt-hdfs", "hdfs://namenode.example.com:8020/user/spark/checkpoints/hdfs-app"))
	return dir
}

const hdfsNN = "hdfs://namenode.example.com:8020"

func truncate(t *testing.T, p string, n int) {
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(p, b[:n], 0o644))
}

func removeSidecar(t *testing.T, dir, name string) {
	require.NoError(t, os.Remove(filepath.Join(dir, crcfile.SidecarName(name))))
}

// TestBroken: broken variants of real and generated trees, each with the
// exact findings it must yield and whether the check passes.
func TestBroken(t *testing.T) {
	lz4, snappy := codec.LZ4, codec.Snappy
	type tc struct {
		name   string
		tree   func(t *testing.T) string // the tree to break (a copy)
		opts   check.Options
		break_ func(t *testing.T, dir string)
		want   []string
		ok     bool
		check  func(t *testing.T, rep *check.Report)
	}
	realTree := func(rel string) func(t *testing.T) string {
		return func(t *testing.T) string { return tree.Copy(t, filepath.Join(real.Root(t), rel)) }
	}
	const (
		hmntj   = "hmntj-pysparkstream/checkpoint"                             // newest has no .bk, no .crc
		benchi  = "omar97perez-computacionnube/P8/src/Ejercicio/Buques/Benchi" // .bk pairs with .crc
		gary    = "garywangop-twitterspark/checkpoint_TwitterStreamApp"        // .crc, RDD dirs, newest without .bk
		basics  = "jleetutorial-python-spark-streaming/2_basics/checkpoint"    // RDD dirs, file stream
		newestH = "checkpoint-1524251126000"
		newestB = "checkpoint-1589765035000"
		newestG = "checkpoint-1582178650000"
	)
	fileExpect := check.Options{ExpectFS: []string{"file:///"}}
	hdfsExpect := check.Options{ExpectFS: []string{hdfsNN}}
	uncleanedMem := []string{"info memory-only-blocks", "info wal-uncleaned-batches"}
	with := func(extra ...string) []string {
		out := append(append([]string{}, extra...), uncleanedMem...)
		sort.Strings(out)
		return out
	}
	for _, c := range []tc{
		{name: "truncated newest, no sidecar", tree: realTree(hmntj), opts: fileExpect,
			break_: func(t *testing.T, dir string) { truncate(t, filepath.Join(dir, newestH), 3000) },
			want:   with("error newest-unreadable"),
			check: func(t *testing.T, rep *check.Report) {
				assert.Equal(t, "checkpoint-1524251125000", rep.Chosen.File)
				f := find(t, rep, "newest-unreadable")
				assert.Equal(t, newestH, f.File)
				assert.Contains(t, f.Message, "restores from the older checkpoint-1524251125000 (1s of batches")
			}},
		{name: "empty newest", tree: realTree(hmntj), opts: fileExpect,
			break_: func(t *testing.T, dir string) { truncate(t, filepath.Join(dir, newestH), 0) },
			want:   with("error newest-unreadable"),
			check: func(t *testing.T, rep *check.Report) {
				assert.Contains(t, find(t, rep, "newest-unreadable").Message, "is empty (0 bytes)")
			}},
		{name: "truncated newest with its old sidecar: ChecksumException, .bk of the same time", tree: realTree(benchi), opts: fileExpect,
			break_: func(t *testing.T, dir string) { truncate(t, filepath.Join(dir, newestB), 2000) },
			want:   with("warning crc-mismatch"),
			ok:     true,
			check: func(t *testing.T, rep *check.Report) {
				assert.Equal(t, newestB+".bk", rep.Chosen.File)
				f := find(t, rep, "crc-mismatch")
				assert.Contains(t, f.Message, "ChecksumException")
				assert.Contains(t, f.Fix, "restore "+newestB)
			}},
		{name: "truncated newest and its .bk", tree: realTree(benchi), opts: fileExpect,
			break_: func(t *testing.T, dir string) {
				for _, n := range []string{newestB, newestB + ".bk"} {
					truncate(t, filepath.Join(dir, n), 100)
					removeSidecar(t, dir, n)
				}
			},
			want: with("error newest-unreadable", "error newest-unreadable"),
			check: func(t *testing.T, rep *check.Report) {
				assert.Equal(t, "checkpoint-1589765030000", rep.Chosen.File)
			}},
		{name: "corrupt .crc of the newest", tree: realTree(gary), opts: fileExpect,
			break_: func(t *testing.T, dir string) {
				p := filepath.Join(dir, crcfile.SidecarName(newestG))
				b, err := os.ReadFile(p)
				require.NoError(t, err)
				b[10] ^= 0xff
				require.NoError(t, os.WriteFile(p, b, 0o644))
			},
			want: with("error crc-mismatch"),
			check: func(t *testing.T, rep *check.Report) {
				assert.Equal(t, "checkpoint-1582178649000", rep.Chosen.File)
				f := find(t, rep, "crc-mismatch")
				assert.Equal(t, newestG, f.File)
				assert.Contains(t, f.Fix, "sidecar is probably stale")
			}},
		{name: "unparseable .crc: Hadoop ignores it", tree: realTree(gary), opts: fileExpect,
			break_: func(t *testing.T, dir string) {
				require.NoError(t, os.WriteFile(filepath.Join(dir, crcfile.SidecarName(newestG)), []byte("xyz"), 0o644))
			},
			want: with("warning crc-unreadable"), ok: true},
		{name: "newest recompressed with snappy", tree: realTree(gary), opts: fileExpect,
			break_: func(t *testing.T, dir string) {
				checktest.EditCheckpoint(t, filepath.Join(dir, newestG), &snappy, nil)
			},
			want: with("error codec-mismatch"),
			check: func(t *testing.T, rep *check.Report) {
				assert.Equal(t, "checkpoint-1582178649000", rep.Chosen.File)
				f := find(t, rep, "codec-mismatch")
				assert.Contains(t, f.Message, "compressed with snappy, but Spark reads with lz4")
				assert.Contains(t, f.Message, "java.io.IOException: Stream is corrupted")
				assert.Contains(t, f.Fix, "--conf spark.io.compression.codec=snappy")
			}},
		{name: "restarting with --codec snappy on an lz4 tree", tree: realTree(gary), opts: check.Options{ExpectFS: []string{"file:///"}, Codec: &snappy},
			want: with("error codec-mismatch", "error no-readable-checkpoint"),
			check: func(t *testing.T, rep *check.Report) {
				assert.Nil(t, rep.Chosen)
				assert.Equal(t, check.CodecChoice{Name: "snappy", Source: "option"}, rep.Codec)
				f := find(t, rep, "codec-mismatch")
				assert.Equal(t, 10, f.Count)
				assert.Contains(t, f.Message, "FAILED_TO_UNCOMPRESS")
				assert.Equal(t, "restart the application with --conf spark.io.compression.codec=lz4", find(t, rep, "no-readable-checkpoint").Fix)
				assert.Equal(t, "no-readable-checkpoint", rep.Findings[0].Code)
			}},
		{name: "every file recompressed with snappy, restarted with lz4", tree: realTree(benchi), opts: check.Options{ExpectFS: []string{"file:///"}, Codec: &lz4},
			break_: func(t *testing.T, dir string) {
				ents, _ := os.ReadDir(dir)
				for _, e := range ents {
					if strings.HasPrefix(e.Name(), "checkpoint-") {
						checktest.EditCheckpoint(t, filepath.Join(dir, e.Name()), &snappy, nil)
					}
				}
			},
			want: with("error codec-mismatch", "error no-readable-checkpoint")},
		{name: "deleted RDD checkpoint directory", tree: realTree(basics), opts: fileExpect,
			break_: func(t *testing.T, dir string) {
				require.NoError(t, os.RemoveAll(filepath.Join(dir, "24932bca-b023-408e-a835-1a888a7d6aa6", "rdd-2642")))
			},
			want: []string{"error missing-rdd-checkpoint", "info not-checked", "info orphan-crc"},
			check: func(t *testing.T, rep *check.Report) {
				f := find(t, rep, "missing-rdd-checkpoint")
				assert.Contains(t, f.Message, "rdd-2642")
				assert.Contains(t, f.Message, "Checkpoint directory does not exist")
				assert.Equal(t, "checkpoint-1519957966000", f.File)
				assert.Contains(t, f.Location, "Checkpoint.graph.outputStreams")
			}},
		{name: "corrupt RDD part file", tree: realTree(basics), opts: fileExpect,
			break_: func(t *testing.T, dir string) {
				p := filepath.Join(dir, "24932bca-b023-408e-a835-1a888a7d6aa6", "rdd-2642", "part-00000")
				b, err := os.ReadFile(p)
				require.NoError(t, err)
				b[len(b)/2] ^= 1
				require.NoError(t, os.WriteFile(p, b, 0o644))
			},
			want: []string{"error crc-mismatch", "info not-checked", "info orphan-crc"},
			check: func(t *testing.T, rep *check.Report) {
				assert.Equal(t, "24932bca-b023-408e-a835-1a888a7d6aa6/rdd-2642/part-00000", find(t, rep, "crc-mismatch").File)
			}},
		{name: "temp and other leftovers", tree: realTree(hmntj), opts: fileExpect,
			break_: func(t *testing.T, dir string) {
				for _, n := range []string{"temp", "x.tmp", ".checkpoint-1.crc"} {
					require.NoError(t, os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644))
				}
			},
			want: with("warning temp-file", "info tmp-file", "info orphan-crc"), ok: true},
		{name: "hdfs tree with its WAL", tree: hdfsAppWithWAL, opts: hdfsExpect,
			want: []string{"info not-checked", "info wal-uncleaned-batches", "warning pending-batch-not-in-wal"}, ok: true,
			check: func(t *testing.T, rep *check.Report) {
				f := find(t, rep, "not-checked")
				assert.Equal(t, 2, f.Count)
				assert.Contains(t, f.Message, "input-file references on hdfs://namenode.example.com:8020")
				// The two fixtures were generated apart: the log cleaned up
				// a batch the checkpoint still lists as pending.
				f = find(t, rep, "pending-batch-not-in-wal")
				assert.Contains(t, f.Message, "1 pending batch(es) of checkpoint-1700000010000 (1700000000000) are re-run on restart, but receivedBlockMetadata/ has no allocation for them")
			}},
		// Real Spark stopping gracefully under load closes the log before
		// its last allocations are written (TestSparkRestartDStreamWordCount
		// saw it): a pending batch after the last allocation gets its
		// blocks at restart (JobGenerator.restart allocates them), so it is
		// no finding. (A cleaned-up pending batch still is: "hdfs tree
		// with its WAL".)
		{name: "pending batch after the last allocation", tree: hdfsAppWithWAL, opts: hdfsExpect,
			break_: func(t *testing.T, dir string) {
				// Drop the records from the allocation of 1700000010000 on
				// (the fifth record).
				p := filepath.Join(dir, "receivedBlockMetadata", "log-1700000000010-1700000060010")
				f, err := os.Open(p)
				require.NoError(t, err)
				defer f.Close()
				rd := wal.NewReader(f)
				for i := 0; i < 5; i++ {
					require.True(t, rd.Next())
				}
				truncate(t, p, int(rd.Offset()))
			},
			want: []string{"info not-checked", "info wal-uncleaned-batches"}, ok: true,
			check: func(t *testing.T, rep *check.Report) {
				assert.Contains(t, find(t, rep, "wal-uncleaned-batches").Message, "2 batch(es) allocated and not cleaned up")
			}},
		{name: "receiver app without its WAL", tree: func(t *testing.T) string { return tree.Copy(t, generated("dstream/hdfs-app")) }, opts: hdfsExpect,
			want: []string{"info not-checked", "warning pending-batch-not-in-wal"}, ok: true,
			check: func(t *testing.T, rep *check.Report) {
				assert.Contains(t, find(t, rep, "pending-batch-not-in-wal").Message, "3 pending batch(es) of checkpoint-1700000010000 (1700000000000, 1700000005000, 1700000010000) are re-run on restart, but there is no receivedBlockMetadata/ directory")
			}},
		{name: "deleted WAL segment", tree: hdfsAppWithWAL, opts: hdfsExpect,
			break_: func(t *testing.T, dir string) {
				require.NoError(t, os.Remove(filepath.Join(dir, "receivedData", "0", "log-1700000001200-1700000061200")))
			},
			want: []string{"error missing-wal-segment", "info not-checked", "info wal-uncleaned-batches", "warning pending-batch-not-in-wal"},
			check: func(t *testing.T, rep *check.Report) {
				f := find(t, rep, "missing-wal-segment")
				assert.Contains(t, f.Message, "4 block(s) of batch(es) 1700000005000, 1700000010000")
				assert.Contains(t, f.Message, "Could not read data from write ahead log record")
				assert.Equal(t, "receivedBlockMetadata/log-1700000000010-1700000060010", f.File)
				assert.Equal(t, 4, f.Count)
			}},
		{name: "truncated WAL segment", tree: hdfsAppWithWAL, opts: hdfsExpect,
			break_: func(t *testing.T, dir string) {
				truncate(t, filepath.Join(dir, "receivedData", "0", "log-1700000001200-1700000061200"), 9000)
			},
			want: []string{"error bad-wal-segment", "info not-checked", "info wal-uncleaned-batches", "warning pending-batch-not-in-wal"},
			check: func(t *testing.T, rep *check.Report) {
				f := find(t, rep, "bad-wal-segment")
				assert.Contains(t, f.Message, "3 block(s)")
			}},
		{name: "torn WAL tail", tree: hdfsAppWithWAL, opts: hdfsExpect,
			break_: func(t *testing.T, dir string) {
				p := filepath.Join(dir, "receivedBlockMetadata", "log-1700000000010-1700000060010")
				f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
				require.NoError(t, err)
				_, err = f.Write([]byte{0, 0, 1})
				require.NoError(t, err)
				require.NoError(t, f.Close())
			},
			want: []string{"info not-checked", "info wal-uncleaned-batches", "warning pending-batch-not-in-wal", "warning wal-torn-tail"}, ok: true,
			check: func(t *testing.T, rep *check.Report) {
				f := find(t, rep, "wal-torn-tail")
				assert.True(t, strings.HasPrefix(f.Location, "offset "), f.Location)
				assert.Contains(t, f.Message, "ends with 3 byte(s) of a torn record")
			}},
		{name: "corrupt WAL record", tree: hdfsAppWithWAL, opts: hdfsExpect,
			break_: func(t *testing.T, dir string) {
				p := filepath.Join(dir, "receivedBlockMetadata", "log-1700000000010-1700000060010")
				b, err := os.ReadFile(p)
				require.NoError(t, err)
				copy(b[4:], "XXXX") // the first record's Java stream magic
				require.NoError(t, os.WriteFile(p, b, 0o644))
			},
			want: []string{"error wal-unreadable", "info not-checked", "warning pending-batch-not-in-wal"},
			check: func(t *testing.T, rep *check.Report) {
				f := find(t, rep, "wal-unreadable")
				assert.Equal(t, "receivedBlockMetadata/log-1700000000010-1700000060010", f.File)
				assert.Equal(t, "offset 4", f.Location)
			}},
		{name: "WAL without checkpoint files: base inferred from the segments", tree: func(t *testing.T) string { return tree.Copy(t, generated("wal/ckpt-hdfs")) },
			opts: check.Options{ExpectFS: []string{"hdfs://namenode.example:8020"}},
			want: []string{"error no-checkpoint", "info wal-uncleaned-batches"},
			check: func(t *testing.T, rep *check.Report) {
				assert.Equal(t, "hdfs://namenode.example:8020/user/spark/ckpt-hdfs", rep.CheckpointDir)
				assert.Nil(t, rep.Chosen)
				assert.Empty(t, rep.Newest)
			}},
		{name: "WAL without checkpoint files, segment deleted", tree: func(t *testing.T) string { return tree.Copy(t, generated("wal/ckpt-hdfs")) },
			opts: check.Options{ExpectFS: []string{"hdfs://namenode.example:8020"}},
			break_: func(t *testing.T, dir string) {
				require.NoError(t, os.RemoveAll(filepath.Join(dir, "receivedData")))
			},
			want: []string{"error missing-wal-segment", "error no-checkpoint", "info wal-uncleaned-batches"}},
		{name: "hdfs tree against a new namenode", tree: hdfsAppWithWAL, opts: check.Options{ExpectFS: []string{"hdfs://new-nn:8020"}},
			want: []string{
				"error foreign-authority", // checkpointDir
				"error foreign-authority", // rdd-checkpoint
				"error foreign-authority", // input-file
				"error foreign-authority", // conf (spark.eventLog.dir with spark.eventLog.enabled=true)
				"error foreign-authority", // wal-segment
				"info not-checked", "info wal-uncleaned-batches",
				"warning foreign-authority", // input-directory
				"warning foreign-authority", // jar
				"warning foreign-authority", // python-function
				"warning pending-batch-not-in-wal",
			},
			check: func(t *testing.T, rep *check.Report) {
				roles := map[string]check.Severity{}
				for _, f := range rep.Findings {
					if f.Code == "foreign-authority" {
						role := strings.Fields(strings.TrimLeft(f.Message, "0123456789 "))[0]
						roles[role] = f.Severity
						assert.Equal(t, []string{"sparkckpt", "rewrite", rep.Dir, "--from", "hdfs://namenode.example.com:8020", "--to", "hdfs://new-nn:8020"}, f.Command)
						assert.Equal(t, "move the references onto hdfs://new-nn:8020 (the command is a dry run of the rewrite; add --apply to write)", f.Fix)
					}
				}
				assert.Equal(t, map[string]check.Severity{"checkpointDir": check.Error, "rdd-checkpoint": check.Error, "input-file": check.Error,
					"wal-segment": check.Error, "conf": check.Error, "input-directory": check.Warning, "jar": check.Warning, "python-function": check.Warning}, roles)
				f := findRole(t, rep, "wal-segment")
				assert.Equal(t, 4, f.Count)
				assert.Contains(t, findRole(t, rep, "conf").Message, "spark.eventLog.dir, spark.hadoop.fs.defaultFS, spark.jars")
			}},
		{name: "hdfs tree, no --expect-fs", tree: hdfsAppWithWAL,
			want: []string{"info fs-not-checked", "info not-checked", "info wal-uncleaned-batches", "warning pending-batch-not-in-wal"}, ok: true,
			check: func(t *testing.T, rep *check.Report) {
				assert.Contains(t, find(t, rep, "fs-not-checked").Message, "hdfs://namenode.example.com:8020 (checkpointDir, ")
			}},
		{name: "expected fs with a path prefix", tree: hdfsAppWithWAL, opts: check.Options{ExpectFS: []string{hdfsNN + "/user/spark"}},
			want: []string{"error foreign-authority", "error foreign-authority", "info not-checked", "info wal-uncleaned-batches", "warning foreign-authority", "warning pending-batch-not-in-wal"},
			check: func(t *testing.T, rep *check.Report) {
				// input files and the event log dir are outside /user/spark
				assert.Contains(t, findRole(t, rep, "input-file").Shell, "--from hdfs://namenode.example.com:8020/data/incoming --to hdfs://namenode.example.com:8020/user/spark")
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := c.tree(t)
			if c.break_ != nil {
				c.break_(t, dir)
			}
			rep := runCheck(t, dir, c.opts)
			assert.Equal(t, c.want, codes(rep))
			assert.Equal(t, c.ok, rep.OK)
			if c.check != nil && !t.Failed() {
				c.check(t, rep)
			}
		})
	}
}

// findRole returns the foreign-authority finding about a role.
func findRole(t *testing.T, rep *check.Report, role string) check.Finding {
	t.Helper()
	for _, f := range rep.Findings {
		if f.Code == "foreign-authority" && strings.Fields(strings.TrimLeft(f.Message, "0123456789 "))[0] == role {
			return f
		}
	}
	t.Fatalf("no foreign-authority finding for %s", role)
	return check.Finding{}
}

// TestReadOnly: a check writes nothing.
func TestReadOnly(t *testing.T) {
	dir := hdfsAppWithWAL(t)
	before := tree.Snapshot(t, dir)
	runCheck(t, dir, check.Options{ExpectFS: []string{"hdfs://new-nn:8020"}})
	assert.Equal(t, before, tree.Snapshot(t, dir))
}

// TestLocalReferences: file: URIs outside the tree are looked up in
// Options.Local; missing there they are not-checked info, never errors.
func TestLocalReferences(t *testing.T) {
	dir := tree.Copy(t, generated("dstream/local-app"))
	local := fstest.MapFS{
		"tmp/sparkckpt/incoming/part-0001": {Data: []byte("a")},
		"tmp/sparkckpt/incoming/part-0002": {Data: []byte("b")},
	}
	rep := runCheck(t, dir, check.Options{ExpectFS: []string{"file:///"}, Local: local})
	// (a receiver app whose generated tree has no write-ahead log)
	assert.Equal(t, []string{"warning pending-batch-not-in-wal"}, codes(rep), "RDD dirs found in the tree via the stored checkpointDir, inputs locally")
	delete(local, "tmp/sparkckpt/incoming/part-0002")
	rep = runCheck(t, dir, check.Options{ExpectFS: []string{"file:///"}, Local: local})
	assert.Equal(t, []string{"info not-checked", "warning pending-batch-not-in-wal"}, codes(rep))
	assert.Contains(t, find(t, rep, "not-checked").Message, "part-0002: local path not found on this machine")
}

// TestNotACheckpoint: errors only for what cannot be checked at all.
func TestNotACheckpoint(t *testing.T) {
	_, err := check.Dir(context.Background(), t.TempDir(), check.Options{})
	assert.ErrorIs(t, err, check.ErrNotCheckpointDir)
	_, err = check.Dir(context.Background(), filepath.Join(t.TempDir(), "nope"), check.Options{})
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, err = check.Dir(context.Background(), generated("dstream/hdfs-app/checkpoint-1700000005000"), check.Options{})
	assert.ErrorContains(t, err, "not a directory")
	_, err = check.Dir(context.Background(), generated("dstream/hdfs-app"), check.Options{ExpectFS: []string{"namenode:8020"}})
	assert.ErrorContains(t, err, `--expect-fs "namenode:8020"`)
	ss := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(ss, "offsets"), 0o755))
	_, err = check.Dir(context.Background(), ss, check.Options{})
	assert.ErrorContains(t, err, "Structured Streaming")
}

// TestFS: the checker runs on any fs.FS (here an in-memory copy).
func TestFS(t *testing.T) {
	src := generated("dstream/hdfs-app")
	m := fstest.MapFS{}
	require.NoError(t, filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(src, p)
		m[path.Clean(filepath.ToSlash(rel))] = &fstest.MapFile{Data: b}
		return err
	}))
	rep, err := check.FS(context.Background(), m, check.Options{ExpectFS: []string{hdfsNN}, Path: "mem"})
	require.NoError(t, err)
	assert.True(t, rep.OK, codes(rep))
	assert.Equal(t, "mem", rep.Dir)
	delete(m, "3f0c2a9e-5b7d-4c1e-9a2f-6d8e1b4c7a90/rdd-57/part-00000")
	delete(m, "3f0c2a9e-5b7d-4c1e-9a2f-6d8e1b4c7a90/rdd-57/part-00001")
	delete(m, "3f0c2a9e-5b7d-4c1e-9a2f-6d8e1b4c7a90/rdd-57/part-00002")
	delete(m, "3f0c2a9e-5b7d-4c1e-9a2f-6d8e1b4c7a90/rdd-57/part-00003")
	delete(m, "3f0c2a9e-5b7d-4c1e-9a2f-6d8e1b4c7a90/rdd-57/_partitioner")
	rep, err = check.FS(context.Background(), m, check.Options{ExpectFS: []string{hdfsNN}, Path: "mem"})
	require.NoError(t, err)
	assert.Equal(t, []string{"error missing-rdd-checkpoint", "info not-checked", "warning pending-batch-not-in-wal"}, codes(rep))
}

// TestEditedStringsStillDecode guards the test helper: an edited
// checkpoint decodes with the new value.
func TestEditedStringsStillDecode(t *testing.T) {
	dir := tree.Copy(t, generated("dstream/hdfs-app"))
	checktest.EditCheckpoint(t, filepath.Join(dir, "checkpoint-1700000010000"), nil, func(s *javaser.Stream) {
		checktest.ReplaceStrings(s, checktest.Prefix(hdfsNN, "hdfs://127.0.0.1:1"))
	})
	rep := runCheck(t, dir, check.Options{})
	assert.Equal(t, "hdfs://127.0.0.1:1/user/spark/checkpoints/hdfs-app", rep.CheckpointDir)
}
