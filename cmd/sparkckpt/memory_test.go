//go:build linux

package main

import (
	"bytes"
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

// runMeasured runs bin with args and returns its exit code, stderr and
// peak resident set size in bytes (getrusage's ru_maxrss).
func runMeasured(t *testing.T, bin string, args ...string) (int, string, int64) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = nil, &stderr // stdout to /dev/null
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		t.Fatal("no rusage")
	}
	return code, stderr.String(), ru.Maxrss << 10 // kilobytes on Linux
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
