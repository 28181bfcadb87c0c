package main

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparkckpt/sparkckpt/decode/codec"
	"github.com/sparkckpt/sparkckpt/decode/javaser"
	"github.com/sparkckpt/sparkckpt/decode/wal"
	"github.com/sparkckpt/sparkckpt/fixtures/real"
	"github.com/sparkckpt/sparkckpt/fixtures/tree"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostile is what a crafted checkpoint puts in its strings: OSC 52 (sets
// the clipboard), clear screen, a window title, an OSC 8 link, a carriage
// return, BEL, a one-rune CSI (U+009B) and a right-to-left override.
const hostile = "\x1b]52;c;ZXZpbA==\x07\x1b[2J\x1b]0;pwned\x07\x1b]8;;http://evil/\x1b\\link\x1b]8;;\x1b\\\r\a\u009b31m\u202e"

// poisonCheckpoint appends hostile to every Java string of the checkpoint
// file path whose value passes keep, re-encoded with its codec.
func poisonCheckpoint(t *testing.T, path string, keep func(string) bool) {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	b, k, p, err := codec.Decompress(raw)
	require.NoError(t, err)
	s, err := javaser.Parse(b)
	require.NoError(t, err)
	n := 0
	javaser.Walk(s, func(_ javaser.Path, nd javaser.Node) bool {
		if str, ok := nd.(*javaser.String); ok && keep(str.Value()) {
			str.SetValue(str.Value() + hostile)
			n++
		}
		return true
	})
	require.Greater(t, n, 5, path)
	enc, err := javaser.Encode(s)
	require.NoError(t, err)
	out, err := codec.Compress(k, p, enc)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, out, 0o644))
}

// poisonWAL appends hostile to every Java string with "://" or "input-"
// (segment paths, block ids) in the events of the driver log at path.
func poisonWAL(t *testing.T, path string) {
	t.Helper()
	in, err := os.ReadFile(path)
	require.NoError(t, err)
	var out []byte
	rd := wal.NewReader(bytes.NewReader(in))
	n := 0
	for rd.Next() {
		rec, err := wal.DecodeRecord(bytes.Clone(rd.Record()))
		require.NoError(t, err)
		for _, ev := range rec.Events {
			javaser.Walk(ev.Syntax, func(_ javaser.Path, nd javaser.Node) bool {
				if _, ok := nd.(*javaser.ClassDesc); ok {
					return false
				}
				if str, ok := nd.(*javaser.String); ok && (strings.Contains(str.Value(), "://") || strings.HasPrefix(str.Value(), "input-")) {
					str.SetValue(str.Value() + hostile)
					n++
				}
				return true
			})
		}
		b, err := rec.Encode()
		require.NoError(t, err)
		out = wal.AppendRecord(out, b)
	}
	require.NoError(t, rd.Err())
	require.Greater(t, n, 2)
	require.NoError(t, os.WriteFile(path, out, 0o644))
}

// controlBytes lists the bytes below 0x20 other than newline and tab in
// out (and DEL, and the C1 controls encoded in UTF-8), with context.
func controlBytes(out string) []string {
	var bad []string
	for i := 0; i < len(out); i++ {
		c := out[i]
		c1 := c == 0xc2 && i+1 < len(out) && out[i+1] >= 0x80 && out[i+1] < 0xa0
		if c < 0x20 && c != '\n' && c != '\t' || c == 0x7f || c1 {
			bad = append(bad, fmt.Sprintf("%#x at %d in %q", c, i, out[max(0, i-30):min(len(out), i+30)]))
		}
	}
	return bad
}

// TestNoControlBytesReachTheTerminal builds a crafted tree (Java strings
// holding escape sequences in every checkpoint file, a structured
// checkpoint whose file source log, offsets and RocksDB zip entry names
// hold them, file names with control bytes) and runs every command's human
// output over it: no byte below 0x20 other than newline and tab (nor DEL,
// nor a C1 control) may be written, to stdout or stderr. --json keeps the
// exact strings.
func TestNoControlBytesReachTheTerminal(t *testing.T) {
	dst := tree.Copy(t, filepath.Join(repoDir(), "fixtures", "generated", "dstream", "hdfs-app"))
	names, err := filepath.Glob(filepath.Join(dst, "checkpoint-*"))
	require.NoError(t, err)
	for _, n := range names {
		poisonCheckpoint(t, n, func(v string) bool {
			// URIs, the app name and conf values; not the short tokens the
			// model parses (storage levels, durations).
			return strings.Contains(v, "://") || strings.Contains(v, "app") || strings.HasPrefix(v, "spark.")
		})
	}
	// Leftovers and orphan sidecars named with control bytes.
	for _, n := range []string{"temp\x1b]0;title\x07", "x\x1b[2J.tmp", ".gone\x1b]52;c;eA==\x07.crc", "checkpoint-1800000000000\r\x1b[2K"} {
		require.NoError(t, os.WriteFile(filepath.Join(dst, n), []byte("x"), 0o644))
	}

	ss := tree.Copy(t, filepath.Join(real.Root(t), "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-4.0.0/rocksdb/agg"))
	addZipEntriesCLI(t, filepath.Join(ss, "state/0/0/4.zip"), "..\x1b]52;c;eA==\x07/x", "OPTIONS\x1b[2J")
	require.NoError(t, os.WriteFile(filepath.Join(ss, "x\x1b]0;t\x07.tmp"), []byte("x"), 0o644))

	fsrc := tree.Copy(t, filepath.Join(real.Root(t), "devfranhan-data-eng-filling/checkpoint"))
	log := filepath.Join(fsrc, "sources/0/0")
	b, err := os.ReadFile(log)
	require.NoError(t, err)
	b = bytes.Replace(b, []byte(".csv"), []byte(`.csv\u001b]52;c;ZXZpbA==\u0007\u001b[2J\r`), -1)
	require.NoError(t, os.WriteFile(log, b, 0o644))
	os.Remove(filepath.Join(fsrc, "sources/0/.0.crc"))

	wd := tree.Copy(t, filepath.Join(repoDir(), "fixtures", "generated", "wal", "ckpt-hdfs"))
	logs, err := filepath.Glob(filepath.Join(wd, "receivedBlockMetadata", "log-*"))
	require.NoError(t, err)
	require.NotEmpty(t, logs)
	for _, l := range logs {
		poisonWAL(t, l)
	}
	tree.CopyInto(t, dst, wd) // the checkpoint files beside the log

	cpDst := filepath.Join(t.TempDir(), "copy")
	runs := [][]string{
		{"inspect", dst},
		{"inspect", filepath.Join(dst, "checkpoint-1700000010000")},
		{"uris", dst},
		{"check", dst, "--expect-fs", "hdfs://new-nn:8020"},
		{"check", dst},
		{"dump", filepath.Join(dst, "checkpoint-1700000010000")},
		{"dump", "--full", filepath.Join(dst, "checkpoint-1700000010000")},
		{"dump", filepath.Join(dst, "temp\x1b]0;title\x07")},
		{"inspect", filepath.Join(dst, "x\x1b[2J.tmp")},
		{"rewrite", dst, "--from", "hdfs://namenode.example.com:8020", "--to", "hdfs://new-nn:8020"},
		{"cp", dst, cpDst, "--map", "hdfs://namenode.example.com:8020=hdfs://new-nn:8020"},
		{"inspect", wd},
		{"inspect", logs[0]},
		{"inspect", filepath.Join(wd, "receivedBlockMetadata")},
		{"uris", wd},
		{"check", wd, "--expect-fs", "hdfs://new-nn:8020"},
		{"cat", "--json", filepath.Join(dst, "checkpoint-1700000010000")},
		{"inspect", ss},
		{"inspect", filepath.Join(ss, "state/0/0/4.zip")},
		{"check", ss},
		{"uris", ss},
		{"inspect", fsrc},
		{"inspect", log},
		{"uris", fsrc},
		{"check", fsrc, "--expect-fs", "hdfs://new-nn:8020"},
	}
	for _, args := range runs {
		t.Run(args[0], func(t *testing.T) {
			out, stderr, code := sparkckpt(args...)
			assert.Empty(t, controlBytes(out), "%q stdout", args)
			assert.Empty(t, controlBytes(stderr), "%q stderr", args)
			if code == 0 || code == 1 {
				assert.NotEmpty(t, out, "%q: %s", args, stderr)
			}
		})
	}
	// The escapes are shown, not dropped: the reader sees what is there.
	out, _, _ := sparkckpt("inspect", dst)
	assert.Contains(t, out, `\x1b]52;c;ZXZpbA==\a\x1b[2J\x1b]0;pwned\a`)
	assert.Contains(t, out, `\r\a\u009b31m\u202e`)
	out, _, _ = sparkckpt("inspect", logs[0])
	assert.Contains(t, out, `\x1b]52;c;ZXZpbA==\a`, "the log's strings are shown")
	out, _, _ = sparkckpt("check", dst)
	assert.Contains(t, out, `x\x1b[2J.tmp`)
	// --json is exact: the same strings, escaped only as JSON escapes them.
	out, _, code := sparkckpt("--json", "uris", dst)
	require.Equal(t, 0, code)
	assert.Contains(t, out, `\u001b]52;c;ZXZpbA==\u0007\u001b[2J`)
}

// addZipEntriesCLI rewrites the zip at path with its entries plus entries
// named names, and drops its .crc sidecar.
func addZipEntriesCLI(t *testing.T, path string, names ...string) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	require.NoError(t, err)
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		require.NoError(t, zw.Copy(f))
	}
	for _, n := range names {
		w, err := zw.Create(n)
		require.NoError(t, err)
		_, err = w.Write([]byte("x"))
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	require.NoError(t, os.WriteFile(path, out.Bytes(), 0o644))
	os.Remove(filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".crc"))
}

func TestSafeWriter(t *testing.T) {
	var b bytes.Buffer
	w := &safeWriter{w: &b}
	n, err := fmt.Fprintf(w, "file %s\n", "x\x1b[2J")
	require.NoError(t, err)
	assert.Equal(t, len("file x\x1b[2J\n"), n, "Write reports the bytes given")
	assert.Equal(t, "file x\\x1b[2J\n", b.String())
}
