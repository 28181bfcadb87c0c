package rewrite_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/sparkckpt/sparkckpt/rewrite"
)

// benchTree builds a metadata-heavy checkpoint directory from the
// generated fixtures: 10 checkpoint files (Spark keeps 10), their RDD
// directories, and 20 driver logs with hdfs:// segment paths. It returns
// the directory and its total size.
func benchTree(b *testing.B) (string, int64) {
	dir := filepath.Join(b.TempDir(), "ckpt")
	src := "../fixtures/generated/dstream/hdfs-app"
	copyInto := func(from, to string) int64 {
		d, err := os.ReadFile(from)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(to, d, 0o644); err != nil {
			b.Fatal(err)
		}
		return int64(len(d))
	}
	var total int64
	for i := 0; i < 10; i++ {
		total += copyInto(filepath.Join(src, "checkpoint-1700000010000"), filepath.Join(dir, fmt.Sprintf("checkpoint-%d", 1700000010000+i*5000)))
	}
	for _, part := range []string{"part-00000", "part-00001", "part-00002", "part-00003", "_partitioner"} {
		for _, rdd := range []string{"rdd-41", "rdd-57"} {
			rel := filepath.Join("3f0c2a9e-5b7d-4c1e-9a2f-6d8e1b4c7a90", rdd, part)
			total += copyInto(filepath.Join(src, rel), filepath.Join(dir, rel))
		}
	}
	log := "../fixtures/generated/wal/ckpt-hdfs/receivedBlockMetadata/log-1700000000010-1700000060010"
	for i := 0; i < 20; i++ {
		total += copyInto(log, filepath.Join(dir, "receivedBlockMetadata", fmt.Sprintf("log-%d-%d", 1700000000010+i*60000, 1700000060010+i*60000)))
	}
	return dir, total
}

// BenchmarkRewriteDir plans and applies a rewrite of the whole tree
// (backups, journal, fsyncs included), alternating the direction so
// every iteration rewrites every checkpoint file and log.
func BenchmarkRewriteDir(b *testing.B) {
	dir, total := benchTree(b)
	there, err := rewrite.NewMapper([]rewrite.Mapping{{From: "hdfs://namenode.example.com:8020", To: "hdfs://emr-master:8020"}, {From: "hdfs://namenode.example:8020", To: "hdfs://emr-master2:8020"}})
	if err != nil {
		b.Fatal(err)
	}
	back, err := rewrite.NewMapper([]rewrite.Mapping{{From: "hdfs://emr-master:8020", To: "hdfs://namenode.example.com:8020"}, {From: "hdfs://emr-master2:8020", To: "hdfs://namenode.example:8020"}})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(total)
	b.ResetTimer()
	i := 0
	for b.Loop() {
		mp := there
		if i%2 == 1 {
			mp = back
		}
		p, err := rewrite.NewPlan(dir, mp, rewrite.Options{})
		if err != nil || len(p.Files) != 30 {
			b.Fatalf("plan: %v (%d files)", err, len(p.Files))
		}
		if _, err := rewrite.Apply(p, mp, filepath.Join(b.TempDir(), fmt.Sprint("bak", i)), nil); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkCopyDir copies the same tree file by file, as cp -r does (no fsync).
func BenchmarkCopyDir(b *testing.B) {
	dir, total := benchTree(b)
	b.SetBytes(total)
	b.ResetTimer()
	i := 0
	for b.Loop() {
		dst := filepath.Join(b.TempDir(), fmt.Sprint("copy", i))
		err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			if fi.IsDir() {
				return os.MkdirAll(filepath.Join(dst, rel), 0o755)
			}
			in, err := os.Open(p)
			if err != nil {
				return err
			}
			defer in.Close()
			out, err := os.Create(filepath.Join(dst, rel))
			if err != nil {
				return err
			}
			defer out.Close()
			_, err = io.Copy(out, in)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
}
