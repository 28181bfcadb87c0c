//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/sparkckpt/sparkckpt/decode/codec"
)

// memBound is the small bound of the memory tests: every run below must
// peak under 2*memBound of resident memory (sparkckpt itself starts at
// about 14 MiB). The runs use --max-decompressed 8MiB where they read a
// bomb, so that the bound is far below what the input claims.
const memBound = 48 << 20

// memRun is one run of the binary whose peak RSS is checked.
type memRun struct {
	name     string
	args     []string
	wantCode int
	wantErr  string // in stderr
}

// memRunEnv makes the test binary a small helper (see memRunMain) that
// runs a command and reports its peak RSS. The helper is needed because
// Linux charges a child the peak RSS of the process whose memory it
// shared before exec (os/exec's vfork): run from the test process, which
// may have grown to hundreds of MiB in earlier tests, every child would
// report at least that.
const memRunEnv = "SPARKCKPT_TEST_MEMRUN"

// memRunMain is the helper: it runs os.Args[1:] with stdout discarded and
// stderr passed on, then prints "<exit code> <peak RSS in bytes>".
func memRunMain() int {
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stderr = os.Stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	fmt.Printf("%d %d\n", code, ru.Maxrss<<10) // kilobytes on Linux
	return 0
}

// runMeasured runs bin with args through the helper and returns its exit
// code, stderr and peak resident set size in bytes (getrusage's
// ru_maxrss, which includes the helper's own 10-20 MiB).
func runMeasured(t *testing.T, bin string, args ...string) (int, string, int64) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{bin}, args...)...)
	cmd.Env = append(os.Environ(), memRunEnv+"=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("memory helper: %v\n%s", err, stderr.String())
	}
	var code int
	var rss int64
	if _, err := fmt.Sscan(stdout.String(), &code, &rss); err != nil {
		t.Fatalf("memory helper printed %q: %v", stdout.String(), err)
	}
	return code, stderr.String(), rss
}

func checkRuns(t *testing.T, bin string, runs []memRun) {
	t.Helper()
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			code, stderr, rss := runMeasured(t, bin, r.args...)
			t.Logf("%s: exit %d, peak RSS %.1f MiB", strings.Join(r.args, " "), code, float64(rss)/(1<<20))
			if code != r.wantCode {
				t.Errorf("exit %d, want %d; stderr:\n%.2000s", code, r.wantCode, stderr)
			}
			if !strings.Contains(stderr, r.wantErr) {
				t.Errorf("stderr does not contain %q:\n%.2000s", r.wantErr, stderr)
			}
			if rss > 2*memBound {
				t.Errorf("peak RSS %d bytes (%.1f MiB), want under %d (2 x %d MiB)", rss, float64(rss)/(1<<20), 2*memBound, memBound>>20)
			}
		})
	}
}

// TestMemoryBombs: a checkpoint file of every codec that decompresses to
// 256 MiB fails every reading command with a positioned error, within the
// memory bound.
func TestMemoryBombs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and writes 256 MiB bombs")
	}
	bin := buildSparkckpt(t)
	var runs []memRun
	for _, k := range []codec.Kind{codec.LZ4, codec.Snappy, codec.Zstd, codec.LZF} {
		dir := filepath.Join(t.TempDir(), "ckpt-"+k.String())
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, "checkpoint-1700000000000")
		writeBomb(t, f, k, 256<<20)
		format := map[codec.Kind]string{codec.LZ4: "lz4block", codec.Snappy: "snappy", codec.Zstd: "zstd", codec.LZF: "lzf"}[k]
		want := format + ": " + f + ": offset "
		lim := []string{"--max-decompressed", "8MiB"}
		runs = append(runs,
			memRun{k.String() + "/inspect-file", append([]string{"inspect", f}, lim...), 2, want},
			memRun{k.String() + "/inspect-dir", append([]string{"inspect", dir}, lim...), 2, "more than 8388608 bytes"},
			memRun{k.String() + "/uris", append([]string{"uris", f}, lim...), 2, want},
			memRun{k.String() + "/check", append([]string{"check", dir}, lim...), 1, ""},
			memRun{k.String() + "/cat", append([]string{"cat", f}, lim...), 2, want},
			memRun{k.String() + "/dump", append([]string{"dump", f}, lim...), 2, want},
			memRun{k.String() + "/dump-json", append([]string{"dump", "--json", f}, lim...), 2, want},
		)
	}
	checkRuns(t, bin, runs)
}

// TestMemoryCraftedTrees: one flipped flag bit in a real 42 KB RDD part
// file (scala.Tuple2 0x02 to 0x03: every pair may hold custom data, and
// each reading nests the pairs after it) took dump to 718 MB; now it
// fails with ErrTooLarge within the bound.
func TestMemoryCraftedTrees(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	src := filepath.Join(repoDir(), "..", "shared", "fixtures-real", "dhruvpratapsingh-twitter-spark-streaming", "checkpoint",
		"09b670bd-4054-4dd5-8308-d72eb16eaf5a", "rdd-3384", "part-00000")
	b, err := os.ReadFile(src)
	if err != nil {
		if os.Getenv("SPARKCKPT_REQUIRE_FIXTURES") == "1" {
			t.Fatal(err)
		}
		t.Skip("SKIP: real fixtures missing: ", err)
	}
	name := []byte("scala.Tuple2")
	i := bytes.Index(b, name)
	if i < 0 || b[i+len(name)+8] != 0x02 {
		t.Fatalf("%s: no scala.Tuple2 descriptor with flags 0x02", src)
	}
	b[i+len(name)+8] = 0x03
	f := filepath.Join(t.TempDir(), "part-00000")
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	bin := buildSparkckpt(t)
	want := "javaser: " + f + ": offset "
	checkRuns(t, bin, []memRun{
		{"dump", []string{"dump", f}, 2, want},
		{"dump-json", []string{"dump", "--json", f}, 2, "too large: reading the object tree would take more than"},
		{"cat", []string{"cat", f}, 0, ""},
	})
}

// writeTinyRecords writes an HDFS state store delta file (lz4, as Spark
// writes it) of n puts of a 1-byte key and a 1-byte value: a million
// records in about 50 KB.
func writeTinyRecords(t *testing.T, path string, n int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	rec := []byte{0, 0, 0, 1, 'k', 0, 0, 0, 1, 'v'}
	raw := append(bytes.Repeat(rec, n), 0xFF, 0xFF, 0xFF, 0xFF) // -1: the end
	b, err := codec.Compress(codec.LZ4, codec.Params{}, raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestMemoryStateRecords: inspect on a 50 KB state file of a million
// tiny records took 440 MB (text) and 950 MB (--json); now it keeps
// --limit records (default 50) and counts the rest.
func TestMemoryStateRecords(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	f := filepath.Join(t.TempDir(), "ckpt", "state", "0", "0", "1.delta")
	writeTinyRecords(t, f, 1_000_000)
	bin := buildSparkckpt(t)
	checkRuns(t, bin, []memRun{
		{"text", []string{"inspect", f}, 0, ""},
		{"json", []string{"inspect", "--json", f}, 0, ""},
		{"json-limit", []string{"inspect", "--json", "--limit", "50000", f}, 0, ""},
	})
	out, err := exec.Command(bin, "inspect", f).Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "1000000 put, 0 delete, 0 merge") || !strings.Contains(string(out), "... 999950 more record(s) (--limit N shows more)") {
		t.Errorf("text output lacks the counts:\n%.3000s", out)
	}
	out, err = exec.Command(bin, "inspect", "--json", "--limit", "3", f).Output()
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Records        []struct{ Offset int64 } `json:"records"`
		RecordsOmitted int64                    `json:"recordsOmitted"`
		State          struct{ Puts int64 }     `json:"state"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Records) != 3 || rep.Records[2].Offset != 20 || rep.RecordsOmitted != 999_997 || rep.State.Puts != 1_000_000 {
		t.Errorf("--json --limit 3: %d records (third at %d), %d omitted, %d puts", len(rep.Records), rep.Records[len(rep.Records)-1].Offset, rep.RecordsOmitted, rep.State.Puts)
	}
}

// TestMemoryLongLogLines: a 64 MiB offsets file of one line, and one with
// no line break at all, stop every reading command at
// structured.MaxLogLine (a 500 MB line took inspect to 4.1 GB and check
// to 5.8 GB).
func TestMemoryLongLogLines(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and writes 128 MiB of logs")
	}
	bin := buildSparkckpt(t)
	huge := bytes.Repeat([]byte("a"), 64<<20)
	var runs []memRun
	for name, content := range map[string][]byte{
		"one-line":   append(append([]byte("v1\n{\"batchWatermarkMs\":0,\"x\":\""), huge...), "\"}\n{}\n"...),
		"no-newline": huge,
	} {
		dir := filepath.Join(t.TempDir(), name)
		for _, d := range []string{"offsets", "commits"} {
			if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, "metadata"), []byte(`{"id":"5b3c1c3e-8a4e-4d5e-9f0a-1a2b3c4d5e6f"}`+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, "offsets", "0")
		if err := os.WriteFile(f, content, 0o644); err != nil {
			t.Fatal(err)
		}
		off := map[string]string{"one-line": "offset 3 ", "no-newline": "offset 0 "}[name]
		runs = append(runs,
			memRun{name + "/inspect-file", []string{"inspect", f}, 2, "structured: " + f + ": " + off},
			memRun{name + "/inspect-file-json", []string{"inspect", "--json", f}, 2, "a line longer than 16777216 bytes"},
			memRun{name + "/inspect-dir", []string{"inspect", dir}, 0, ""},
			memRun{name + "/check", []string{"check", dir}, 1, ""},
			memRun{name + "/uris", []string{"uris", dir}, 0, ""},
		)
	}
	checkRuns(t, bin, runs)
}

// TestMemoryNullTree: a stream within --max-decompressed can still
// describe a tree many times its size: an Object[] of 8M TC_NULLs (8 MiB,
// 6 KB of zstd) needs 192 MiB of nodes. The tree is bounded too, by twice
// --max-decompressed.
func TestMemoryNullTree(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	const n = 8 << 20
	var raw bytes.Buffer
	raw.Write([]byte{0xAC, 0xED, 0x00, 0x05, 0x75, 0x72, 0x00, 0x13})
	raw.WriteString("[Ljava.lang.Object;")
	raw.Write([]byte{0x90, 0xCE, 0x58, 0x9F, 0x10, 0x73, 0x29, 0x6C, 0x02, 0x00, 0x00, 0x78, 0x70})
	raw.Write([]byte{n >> 24, n >> 16 & 0xFF, n >> 8 & 0xFF, n & 0xFF})
	raw.Write(bytes.Repeat([]byte{0x70}, n))
	dir := filepath.Join(t.TempDir(), "ckpt")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, "checkpoint-1700000000000")
	b, err := codec.Compress(codec.Zstd, codec.Params{}, raw.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	bin := buildSparkckpt(t)
	lim := []string{"--max-decompressed", "12MiB"}
	want := "the limit for one tree"
	checkRuns(t, bin, []memRun{
		{"dump", append([]string{"dump", f}, lim...), 2, want},
		{"inspect", append([]string{"inspect", f}, lim...), 2, want},
		{"check", append([]string{"check", "--codec", "zstd", dir}, lim...), 1, ""},
	})
}
