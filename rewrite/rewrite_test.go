package rewrite_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparkckpt/sparkckpt/decode/codec"
	"github.com/sparkckpt/sparkckpt/decode/crcfile"
	"github.com/sparkckpt/sparkckpt/decode/dstream"
	"github.com/sparkckpt/sparkckpt/decode/javaser"
	"github.com/sparkckpt/sparkckpt/fixtures/jvm"
	"github.com/sparkckpt/sparkckpt/fixtures/real"
	"github.com/sparkckpt/sparkckpt/fixtures/tree"
	"github.com/sparkckpt/sparkckpt/rewrite"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// streams returns the decompressed Java stream of every checkpoint file.
func streams(t testing.TB, files map[string][]byte) map[string][]byte {
	out := map[string][]byte{}
	for rel, b := range files {
		if len(dstream.Candidates([]string{filepath.Base(rel)})) == 1 && !strings.Contains(rel, "/") {
			d, _, _, err := codec.Decompress(b)
			require.NoError(t, err, rel)
			out[rel] = d
		}
	}
	return out
}

func mustMapper(t testing.TB, from, to string) *rewrite.Mapper {
	mp, err := rewrite.NewMapper([]rewrite.Mapping{{From: from, To: to}})
	require.NoError(t, err)
	return mp
}

// run plans and applies a rewrite and returns the journal path.
func run(t testing.TB, dir string, mp *rewrite.Mapper) (*rewrite.Plan, string) {
	t.Helper()
	p, err := rewrite.NewPlan(dir, mp, rewrite.Options{})
	require.NoError(t, err)
	require.NoError(t, p.Refusal(rewrite.Options{}))
	j, err := rewrite.Apply(p, mp, filepath.Join(t.TempDir(), "backup"), nil)
	require.NoError(t, err)
	return p, j
}

// checkpointDir returns the checkpointDir Spark would read from dir.
func checkpointDir(t testing.TB, dir string) string {
	names := []string{}
	for rel := range tree.Snapshot(t, dir) {
		if !strings.Contains(rel, "/") {
			names = append(names, rel)
		}
	}
	c, f, _ := dstream.Choose(dstream.Candidates(names), func(name string) (*dstream.File, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		return dstream.Read(b, nil)
	})
	require.NotNil(t, c)
	return f.Checkpoint.CheckpointDir
}

var realTrees = []string{
	"dhruvpratapsingh-twitter-spark-streaming/checkpoint",
	"ergemp-spark-training/spark/checkpoint/EnableCheckpointingExample",
	"garywangop-twitterspark/checkpoint_TwitterStreamApp",
	"hmntj-pysparkstream/checkpoint",
	"jleetutorial-python-spark-streaming/2_basics/checkpoint",
	"jleetutorial-python-spark-streaming/3_advanced/checkpoint",
	"omar97perez-computacionnube/P8/src/Ejercicio/Buques/Benchi",
	"shamukh82-hw6/checkpoint",
	"theonly0318-spark-study/data/streaming/ck",
	"theonly0318-spark-study/data/streaming/ck2",
}

// TestRoundTripRealTrees relocates every real DStream tree from its file:
// checkpointDir to hdfs:// and back: afterwards every checkpoint file holds
// the original Java stream byte for byte, the .crc sidecars are the
// originals, and in between no reference to the old directory remains.
func TestRoundTripRealTrees(t *testing.T) {
	root := real.Root(t)
	for _, name := range realTrees {
		t.Run(name, func(t *testing.T) {
			dir := tree.Copy(t, filepath.Join(root, name))
			orig := tree.Snapshot(t, dir)
			old := checkpointDir(t, dir)
			require.True(t, strings.HasPrefix(old, "file:/"), old)
			const moved = "hdfs://emr-master.example:8020/user/hadoop/relocated"
			p, _ := run(t, dir, mustMapper(t, old, moved))
			require.NotEmpty(t, p.Files)

			// No reference to the old directory remains, the new one is there.
			for rel, b := range tree.Snapshot(t, dir) {
				if _, isCkpt := streams(t, map[string][]byte{rel: b})[rel]; !isCkpt {
					continue
				}
				f, err := dstream.Read(b, nil)
				require.NoError(t, err, rel)
				for _, r := range dstream.References(f) {
					assert.False(t, strings.HasPrefix(r.URI, old+"/") || r.URI == old, "%s: %s still at %s", rel, r.URI, r.Location)
				}
				if f.Checkpoint.CheckpointDir != moved {
					// An older file of another run may have another checkpointDir.
					assert.NotEqual(t, old, f.Checkpoint.CheckpointDir, rel)
				}
			}
			// .crc sidecars match the rewritten files.
			after := tree.Snapshot(t, dir)
			for rel, b := range after {
				if data, ok := crcfile.IsSidecar(filepath.Base(rel)); ok {
					if d, ok := after[filepath.ToSlash(filepath.Join(filepath.Dir(rel), data))]; ok {
						assert.NoError(t, crcfile.Verify(d, b), rel)
					}
				}
			}

			run(t, dir, mustMapper(t, moved, old))
			back := tree.Snapshot(t, dir)
			assert.Equal(t, streams(t, orig), streams(t, back), "Java streams after the round trip")
			for rel, b := range orig {
				switch data, isCRC := crcfile.IsSidecar(filepath.Base(rel)); {
				case isCRC:
					// The sidecar checks the file's bytes as they are now.
					if d, ok := back[filepath.ToSlash(filepath.Join(filepath.Dir(rel), data))]; ok {
						assert.NoError(t, crcfile.Verify(d, back[rel]), rel)
					}
				default:
					// The compressors of lz4-java and snappy-java (Spark 1.x's
					// libsnappy too) are reproduced exactly, so every file,
					// checkpoints included, comes back byte for byte.
					assert.True(t, bytes.Equal(b, back[rel]), "%s differs after the round trip", rel)
				}
			}
		})
	}
}

// TestRewriteHDFSTreeJVM rewrites the generated hdfs:// tree and has the
// real JVM (lz4-java + ObjectInputStream) read every rewritten checkpoint:
// it must see our exact stream and the new URIs, including the one inside
// the pickled Python function; python3's pickletools must accept the pickle.
func TestRewriteHDFSTreeJVM(t *testing.T) {
	peer := jvm.New(t)
	dir := tree.Copy(t, "../fixtures/generated/dstream/hdfs-app")
	p, _ := run(t, dir, mustMapper(t, "hdfs://namenode.example.com:8020", "hdfs://emr-master:8020"))
	assert.Len(t, p.Files, 3)
	var files []string
	for _, f := range p.Files {
		files = append(files, filepath.Join(dir, f.Path))
	}
	res, err := peer.Verify(files...)
	require.NoError(t, err)
	for i, r := range res {
		require.Nil(t, r.Error, files[i])
		b, err := os.ReadFile(files[i])
		require.NoError(t, err)
		d, _, _, err := codec.Decompress(b)
		require.NoError(t, err)
		assert.Equal(t, sha(d), r.DecompressedSha256)
		assert.Contains(t, r.StreamStrings, "hdfs://emr-master:8020/user/spark/checkpoints/hdfs-app")
		for _, s := range r.StreamStrings {
			assert.NotContains(t, s, "namenode.example.com", files[i])
		}
	}
	// The pickle inside the TransformFunction.
	b, err := os.ReadFile(filepath.Join(dir, "checkpoint-1700000010000"))
	require.NoError(t, err)
	f, err := dstream.Read(b, nil)
	require.NoError(t, err)
	var pk []byte
	javaser.Walk(f.Stream, func(_ javaser.Path, n javaser.Node) bool {
		if o, ok := n.(*javaser.Object); ok {
			if bd := dstream.TransformFunctionData(o); bd != nil {
				pk = bd.Data[4 : 4+binary.BigEndian.Uint32(bd.Data)]
			}
		}
		return true
	})
	require.NotNil(t, pk)
	assert.Contains(t, string(pk), "hdfs://emr-master:8020/user/spark/output/counts")
	if py, err := exec.LookPath("python3"); err == nil {
		pf := filepath.Join(t.TempDir(), "func.pickle")
		require.NoError(t, os.WriteFile(pf, pk, 0o644))
		out, err := exec.Command(py, "-m", "pickletools", pf).CombinedOutput()
		require.NoError(t, err, string(out))
		assert.Contains(t, string(out), "hdfs://emr-master:8020/user/spark/output/counts")
	} else {
		t.Log("SKIP pickletools check: python3 not installed")
	}
}

// TestRewriteWAL relocates the generated write-ahead log whose block
// events store hdfs:// segment paths: the JVM reads every rewritten
// record and nested event stream, and the torn tail of the other tree is
// kept verbatim.
func TestRewriteWAL(t *testing.T) {
	dir := tree.Copy(t, "../fixtures/generated/wal/ckpt-hdfs")
	mp := mustMapper(t, "hdfs://namenode.example:8020/user/spark/ckpt-hdfs", "hdfs://nn2:9000/ckpt")
	p, _ := run(t, dir, mp)
	require.Len(t, p.Files, 1)
	assert.Equal(t, "receivedBlockMetadata/log-1700000000010-1700000060010", p.Files[0].Path)
	// 7 references, 6 strings: an allocation's two blocks share one path
	// String (a TC_REFERENCE), which is edited once.
	assert.Equal(t, 6, p.Edits)
	for _, e := range p.Files[0].Edits {
		assert.True(t, strings.HasPrefix(e.After, "hdfs://nn2:9000/ckpt/receivedData/0/log-"), e.After)
	}
	// Receiver data is application data: untouched.
	orig := tree.Snapshot(t, "../fixtures/generated/wal/ckpt-hdfs")
	now := tree.Snapshot(t, dir)
	assert.Equal(t, orig["receivedData/0/log-1700000001200-1700000061200"], now["receivedData/0/log-1700000001200-1700000061200"])

	torn := tree.Copy(t, "../fixtures/generated/wal/ckpt-torn")
	before := tree.Snapshot(t, torn)
	tp, err := rewrite.NewPlan(torn, mustMapper(t, "hdfs://nowhere:1", "hdfs://x:2"), rewrite.Options{})
	require.NoError(t, err)
	assert.Empty(t, tp.Files, "nothing matches: nothing changes")
	assert.Equal(t, before, tree.Snapshot(t, torn))
}

// TestRefusals: not a checkpoint, undecodable files, half-rewritten mappings.
func TestRefusals(t *testing.T) {
	empty := t.TempDir()
	_, err := rewrite.NewPlan(empty, mustMapper(t, "hdfs://a:1", "hdfs://b:2"), rewrite.Options{})
	assert.ErrorIs(t, err, rewrite.ErrNotCheckpoint)

	dir := tree.Copy(t, "../fixtures/generated/dstream/hdfs-app")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "checkpoint-1700000010000.bk"), []byte("LZ4Block garbage"), 0o644))
	mp := mustMapper(t, "hdfs://namenode.example.com:8020", "hdfs://emr-master:8020")
	p, err := rewrite.NewPlan(dir, mp, rewrite.Options{})
	require.NoError(t, err)
	require.Len(t, p.Undecodable, 1)
	assert.Equal(t, "checkpoint-1700000010000.bk", p.Undecodable[0].File)
	assert.ErrorContains(t, p.Refusal(rewrite.Options{}), "--skip-undecodable")
	assert.NoError(t, p.Refusal(rewrite.Options{SkipUndecodable: true}))

	// Moving the RDD directory elsewhere than the checkpointDir would leave
	// the checkpoint half rewritten.
	dir = tree.Copy(t, "../fixtures/generated/dstream/hdfs-app")
	nn := "hdfs://namenode.example.com:8020/user/spark/checkpoints/hdfs-app"
	mp2, err := rewrite.NewMapper([]rewrite.Mapping{{From: nn, To: "hdfs://nn2:8020/ckpt"}, {From: nn + "/3f0c2a9e-5b7d-4c1e-9a2f-6d8e1b4c7a90", To: "hdfs://elsewhere:8020/rdds"}})
	require.NoError(t, err)
	p, err = rewrite.NewPlan(dir, mp2, rewrite.Options{})
	require.NoError(t, err)
	require.NotEmpty(t, p.Inconsistent)
	assert.Contains(t, p.Inconsistent[0].Error, "rdd-41")
	assert.ErrorContains(t, p.Refusal(rewrite.Options{}), "half rewritten")
}

// TestUndoAndResume: undo restores exact bytes; a second apply is a no-op.
func TestUndoAndResume(t *testing.T) {
	dir := tree.Copy(t, "../fixtures/generated/dstream/local-app")
	orig := tree.Snapshot(t, dir)
	mp := mustMapper(t, "file:/tmp/sparkckpt/local-app", "hdfs://nn:8020/local-app")
	p, j := run(t, dir, mp)
	assert.Len(t, p.Files, 6, "3 checkpoint files and their .crc sidecars")
	applied := tree.Snapshot(t, dir)
	for rel, b := range applied {
		if data, ok := crcfile.IsSidecar(rel); ok {
			assert.NoError(t, crcfile.Verify(applied[data], b), rel)
		}
	}
	_, inProgress := rewrite.InProgress(dir)
	assert.False(t, inProgress)

	p2, err := rewrite.NewPlan(dir, mp, rewrite.Options{})
	require.NoError(t, err)
	assert.Empty(t, p2.Files, "running the same rewrite twice changes nothing")

	require.NoError(t, rewrite.Undo(j, nil))
	assert.Equal(t, orig, tree.Snapshot(t, dir))
	jr, err := rewrite.ReadJournal(j)
	require.NoError(t, err)
	assert.Equal(t, rewrite.StateUndone, jr.State)
	assert.ErrorContains(t, rewrite.Resume(j, nil), "undone")
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
