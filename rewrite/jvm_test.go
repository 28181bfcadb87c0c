package rewrite_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparkckpt/sparkckpt/decode/codec"
	"github.com/sparkckpt/sparkckpt/decode/javaser"
	"github.com/sparkckpt/sparkckpt/decode/wal"
	"github.com/sparkckpt/sparkckpt/fixtures/jvm"
	"github.com/sparkckpt/sparkckpt/fixtures/real"
	"github.com/sparkckpt/sparkckpt/fixtures/tree"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestJVMReadsRewrittenRealTrees relocates every real tree and has the JVM
// (the real lz4-java/snappy-java input streams and ObjectInputStream; the
// Spark classes are absent, so their objects are read and left
// unresolved) read every rewritten checkpoint file: it must decompress
// exactly our stream, read it to the end, and see the new URI and none of
// the old one.
func TestJVMReadsRewrittenRealTrees(t *testing.T) {
	peer := jvm.New(t)
	root := real.Root(t)
	for _, name := range realTrees {
		t.Run(name, func(t *testing.T) {
			dir := tree.Copy(t, filepath.Join(root, name))
			old := checkpointDir(t, dir)
			const moved = "hdfs://emr-master.example:8020/user/hadoop/relocated"
			p, _ := run(t, dir, mustMapper(t, old, moved))
			var files []string
			for _, f := range p.Files {
				if f.Kind == "checkpoint" {
					files = append(files, filepath.Join(dir, f.Path))
				}
			}
			require.NotEmpty(t, files)
			var origs []string
			for _, f := range files {
				origs = append(origs, filepath.Join(root, name, filepath.Base(f)))
			}
			before, err := peer.Verify(origs...)
			require.NoError(t, err)
			res, err := peer.Verify(files...)
			require.NoError(t, err)
			for i, r := range res {
				if before[i].Error != nil {
					// The JVM peer cannot read the original to its end either
					// (Scala 2.10 SUIDs against Debian's Scala 2.11 library):
					// the rewritten file must fail the same way, no sooner.
					require.NotNil(t, r.Error, files[i])
					assert.Equal(t, exceptionOf(*before[i].Error), exceptionOf(*r.Error), files[i])
				} else if r.Error != nil {
					t.Fatalf("%s: %s", files[i], *r.Error)
				}
				b, err := os.ReadFile(files[i])
				require.NoError(t, err)
				d, _, _, err := codec.Decompress(b)
				require.NoError(t, err)
				assert.Equal(t, sha(d), r.DecompressedSha256, files[i])
				found := false
				for _, s := range r.StreamStrings {
					found = found || strings.HasPrefix(s, moved)
					assert.False(t, s == old || strings.HasPrefix(s, old+"/"), "%s still holds %s", files[i], s)
				}
				assert.True(t, found, "%s: the JVM does not see %s", files[i], moved)
			}
		})
	}
}

// exceptionOf drops the offset from "deserialize at offset N: <exception>".
func exceptionOf(msg string) string {
	if _, after, ok := strings.Cut(msg, ": "); ok {
		return after
	}
	return msg
}

// TestJVMReadsRewrittenWAL writes every record of a rewritten driver log,
// and every nested event stream of its byte[][] batches, to files the JVM
// reads with ObjectInputStream.
func TestJVMReadsRewrittenWAL(t *testing.T) {
	peer := jvm.New(t)
	dir := tree.Copy(t, "../fixtures/generated/wal/ckpt-hdfs")
	run(t, dir, mustMapper(t, "hdfs://namenode.example:8020", "hdfs://emr-master:8020"))
	f, err := os.Open(filepath.Join(dir, "receivedBlockMetadata/log-1700000000010-1700000060010"))
	require.NoError(t, err)
	defer f.Close()
	out := t.TempDir()
	var files []string
	rd := wal.NewReader(f)
	for i := 0; rd.Next(); i++ {
		rec, err := wal.DecodeRecord(append([]byte(nil), rd.Record()...))
		require.NoError(t, err)
		p := filepath.Join(out, fmt.Sprintf("record-%d.ser", i))
		require.NoError(t, os.WriteFile(p, rd.Record(), 0o644))
		files = append(files, p)
		for k, ev := range rec.Events {
			b, err := javaser.Encode(ev.Syntax)
			require.NoError(t, err)
			p := filepath.Join(out, fmt.Sprintf("record-%d-event-%d.ser", i, k))
			require.NoError(t, os.WriteFile(p, b, 0o644))
			files = append(files, p)
		}
	}
	require.NoError(t, rd.Err())
	require.Greater(t, len(files), 10)
	res, err := peer.Verify(files...)
	require.NoError(t, err)
	segments := 0
	for i, r := range res {
		require.Nil(t, r.Error, files[i])
		for _, s := range r.StreamStrings {
			assert.NotContains(t, s, "namenode.example", files[i])
			if strings.HasPrefix(s, "hdfs://emr-master:8020/user/spark/ckpt-hdfs/receivedData/0/log-") {
				segments++
			}
		}
	}
	assert.Greater(t, segments, 0, "the JVM sees the rewritten segment paths")
}
