package main

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/sparkckpt/sparkckpt/fixtures/tree"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/sparkckpt/sparkckpt/decode/check"
	"github.com/sparkckpt/sparkckpt/decode/check/checktest"
	"github.com/sparkckpt/sparkckpt/decode/javaser"
	"github.com/sparkckpt/sparkckpt/fixtures/real"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func genDir(p string) string {
	return filepath.Join(repoDir(), "fixtures", "generated", filepath.FromSlash(p))
}

// TestCheckExitCodes: 0 restores, 1 errors, 2 cannot read or usage.
func TestCheckExitCodes(t *testing.T) {
	hdfs := genDir("dstream/hdfs-app")
	for _, c := range []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"check", hdfs, "--expect-fs", "hdfs://namenode.example.com:8020"}, 0, "OK: Spark will restore from checkpoint-1700000010000", ""},
		{[]string{"check", hdfs, "--expect-fs", "hdfs://new-nn:8020"}, 1, "FAIL: 4 errors, 4 warnings, 1 info", ""},
		{[]string{"check", hdfs, "--codec", "zstd", "--expect-fs", "hdfs://namenode.example.com:8020"}, 1, "no-readable-checkpoint", ""},
		{[]string{"check", genDir("wal/ckpt-hdfs")}, 1, "restores from  nothing (no checkpoint-* file)", ""},
		{[]string{"check", filepath.Join(hdfs, "nope")}, 2, "", "no such file or directory"},
		{[]string{"check", filepath.Join(hdfs, "checkpoint-1700000005000")}, 2, "", "not a directory"},
		{[]string{"check", t.TempDir()}, 2, "", "not a DStream checkpoint directory"},
		{[]string{"check", hdfs, "--expect-fs", "namenode:8020"}, 2, "", "Run 'sparkckpt --help'"},
		{[]string{"check", hdfs, "--codec", "gzip"}, 2, "", "unknown compression codec"},
		{[]string{"check", hdfs, "--probe-timeout", "0s"}, 2, "", "--probe-timeout must be positive"},
		{[]string{"check"}, 2, "", "takes 1 argument"},
	} {
		t.Run(strings.Join(c.args[1:], " "), func(t *testing.T) {
			out, errOut, code := sparkckpt(c.args...)
			assert.Equal(t, c.code, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
			assert.Contains(t, out, c.stdout)
			assert.Contains(t, errOut, c.stderr)
			if c.code != 2 {
				assert.Empty(t, errOut)
			}
		})
	}
}

// TestCheckRealTrees: every complete real tree passes with
// --expect-fs file:/// (exit 0, also in --json); the two snapshots that
// lack the RDD checkpoint directories their checkpoint references fail.
func TestCheckRealTrees(t *testing.T) {
	root := real.Root(t)
	incomplete := map[string]bool{
		"garywangop-twitterspark@aeef381/checkpoint_TwitterStreamApp": true,
		"jleetutorial-python-spark-streaming/3_advanced/checkpoint":   true,
	}
	dirs := map[string]bool{}
	for _, f := range real.Files(t, real.IsCheckpoint) {
		dirs[real.Rel(t, filepath.Dir(f))] = true
	}
	require.Len(t, dirs, 13)
	for rel := range dirs {
		t.Run(rel, func(t *testing.T) {
			want := 0
			if incomplete[rel] {
				want = 1
			}
			out, errOut, code := sparkckpt("check", filepath.Join(root, rel), "--expect-fs", "file:///")
			assert.Equal(t, want, code, out+errOut)
			out, _, code = sparkckpt("check", "--json", filepath.Join(root, rel), "--expect-fs", "file:///")
			assert.Equal(t, want, code)
			var rep struct {
				OK       bool
				Findings []struct{ Severity, Code string }
			}
			require.NoError(t, json.Unmarshal([]byte(out), &rep))
			assert.Equal(t, want == 0, rep.OK)
			for _, f := range rep.Findings {
				if f.Severity == "error" {
					assert.Equal(t, "missing-rdd-checkpoint", f.Code)
				}
			}
		})
	}
}

// TestCheckJSONShape pins the documented --json keys.
func TestCheckJSONShape(t *testing.T) {
	out, _, code := sparkckpt("check", "--json", genDir("dstream/hdfs-app"), "--expect-fs", "hdfs://new-nn:8020")
	require.Equal(t, 1, code)
	var rep map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.Equal(t, []string{"checkpointDir", "chosen", "codec", "counts", "dir", "expectFs", "findings", "newest", "ok"}, keys(rep))
	var chosen, codec, counts map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(rep["chosen"], &chosen))
	assert.Equal(t, []string{"checkpointTimeMs", "file", "timeMs"}, keys(chosen))
	require.NoError(t, json.Unmarshal(rep["codec"], &codec))
	assert.Equal(t, []string{"name", "source"}, keys(codec))
	require.NoError(t, json.Unmarshal(rep["counts"], &counts))
	assert.Equal(t, []string{"error", "info", "warning"}, keys(counts))
	var findings []map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(rep["findings"], &findings))
	all := map[string]bool{}
	for _, f := range findings {
		for _, k := range keys(f) {
			all[k] = true
		}
	}
	assert.Equal(t, []string{"code", "command", "count", "file", "fix", "location", "message", "places", "severity", "shell"}, keys(all))
	// fix is prose; a command is an argv list and a ready shell line,
	// never inside fix.
	var fs []check.Finding
	require.NoError(t, json.Unmarshal(rep["findings"], &fs))
	commands := 0
	for _, f := range fs {
		assert.NotContains(t, f.Fix, "sparkckpt ", "%s: fix holds a command", f.Code)
		if f.Command != nil {
			commands++
			assert.Equal(t, "sparkckpt", f.Command[0])
			assert.Equal(t, check.ShellLine(f.Command), f.Shell)
		}
	}
	assert.Positive(t, commands)
	var places []map[string]string
	for _, f := range findings {
		if f["places"] != nil {
			require.NoError(t, json.Unmarshal(f["places"], &places))
			assert.Equal(t, []string{"file", "location", "uri"}, keys(places[0]))
		}
	}
	assert.NotEmpty(t, places)
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestCheckProbe runs --probe on a tree whose every referenced host is
// 127.0.0.1: its namenode on a port that was just closed, then on a
// listener of the test's own. The dialer refuses (and reports) any address
// outside 127.0.0.0/8, and dials for real only the two test addresses.
func TestCheckProbe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed, open := ln2.Addr().String(), ln.Addr().String()
	ln2.Close()

	checkDial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil || !strings.HasPrefix(host, "127.") {
			t.Errorf("probe dialled %q, outside 127.0.0.0/8", addr)
			return nil, errors.New("refused by the test")
		}
		if addr == open || addr == closed {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}
		return nil, &net.OpError{Op: "dial", Net: network, Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	}
	defer func() { checkDial = nil }()

	for _, c := range []struct {
		nn   string
		code int
	}{{closed, 1}, {open, 0}} {
		dir := tree.Copy(t, genDir("dstream/hdfs-app"))
		r := checktest.Prefix("hdfs://namenode.example.com:8020", "hdfs://"+c.nn)
		for _, f := range []string{"checkpoint-1700000005000", "checkpoint-1700000010000", "checkpoint-1700000010000.bk"} {
			checktest.EditCheckpoint(t, filepath.Join(dir, f), nil, func(s *javaser.Stream) {
				checktest.ReplaceStrings(s, func(s string) (string, bool) {
					if s == "stream-source.example.com" {
						return "127.0.0.1", true
					}
					return r(s)
				})
			})
		}
		out, errOut, code := sparkckpt("check", dir, "--expect-fs", "hdfs://"+c.nn, "--probe", "--probe-timeout", "1s")
		assert.Equal(t, c.code, code, out+errOut)
		assert.Contains(t, out, "probed         2 address(es), "+map[int]string{0: "1 reachable", 1: "0 reachable"}[c.code])
		assert.Contains(t, out, "receiver source 127.0.0.1:9999")
		if c.code == 1 {
			assert.Contains(t, out, "namenode "+closed+" (hdfs://"+closed+" (checkpointDir, rdd-checkpoint, input-file, input-directory, conf, jar, python-function)) does not answer from here")
			assert.Contains(t, out, "java.net.ConnectException: Connection refused")
		}
		out, _, _ = sparkckpt("check", "--json", dir, "--expect-fs", "hdfs://"+c.nn, "--probe")
		assert.Contains(t, out, `"probes": [`)
		assert.Contains(t, out, `"addr": "`+c.nn+`"`)
	}
}
