package codec

import (
	"bytes"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// realFixturesDir is the corpus of Spark-written files, outside the
// repository (fixtures/README); tests that need it skip without it.
const realFixturesDir = "../../../shared/fixtures-real"

// realCheckpoints returns the checkpoint-* files under realFixturesDir whose
// content starts with magic, keyed by path relative to it. It skips the test
// if the corpus is absent.
func realCheckpoints(tb testing.TB, magic []byte) map[string][]byte {
	return realFiles(tb, magic, func(name string) bool { return strings.HasPrefix(name, "checkpoint-") })
}

// realFiles returns the files under realFixturesDir whose name passes keep
// and whose content starts with magic, keyed by path relative to it. It
// skips the test if the corpus is absent.
func realFiles(tb testing.TB, magic []byte, keep func(name string) bool) map[string][]byte {
	tb.Helper()
	if _, err := os.Stat(realFixturesDir); err != nil {
		tb.Skipf("real Spark fixtures not found at %s (a fresh clone has no ../shared): %v", realFixturesDir, err)
	}
	files := map[string][]byte{}
	err := filepath.WalkDir(realFixturesDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !keep(d.Name()) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.HasPrefix(b, magic) {
			rel, _ := filepath.Rel(realFixturesDir, path)
			files[rel] = b
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("walking %s: %v", realFixturesDir, err)
	}
	return files
}

// sortedKeys returns the keys of m in order, for deterministic subtests.
func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// textData returns n bytes of compressible, text-like data resembling a
// serialized checkpoint: class names, paths and numbers.
func textData(n int, seed uint64) []byte {
	words := []string{
		"org.apache.spark.streaming.", "DStream", "checkpoint", "hdfs://namenode:8020/user/spark/",
		"scala.collection.mutable.HashMap", "\x00\x00\x01", "generatedRDDs", "zeroTime", "rememberDuration",
		"\xac\xed\x00\x05sr\x00", "java.lang.Long", "value", "xp", "\x00\x00\x01b\xe3",
	}
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, 0, n+64)
	for len(b) < n {
		if r.IntN(4) == 0 {
			b = strconv.AppendUint(b, r.Uint64N(1<<40), 10)
		} else {
			b = append(b, words[r.IntN(len(words))]...)
		}
	}
	return b[:n]
}

// randomData returns n incompressible bytes.
func randomData(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// realisticPayload returns about n bytes of decompressed real checkpoint
// payloads, or generated text if the corpus is absent.
func realisticPayload(tb testing.TB, n int) []byte {
	tb.Helper()
	if _, err := os.Stat(realFixturesDir); err != nil {
		return textData(n, 42)
	}
	var out []byte
	for _, magic := range [][]byte{lz4Magic, snappyMagic} {
		files := realCheckpoints(tb, magic)
		for _, name := range sortedKeys(files) {
			raw, _, _, err := Decompress(files[name])
			if err != nil {
				tb.Fatalf("%s: %v", name, err)
			}
			out = append(out, raw...)
		}
	}
	for len(out) < n {
		out = append(out, out...)
	}
	return out[:n]
}
