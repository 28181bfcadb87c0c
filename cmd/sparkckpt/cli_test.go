package main

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/sparkckpt/sparkckpt/fixtures/tree"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparkckpt/sparkckpt/decode/codec"
	"github.com/sparkckpt/sparkckpt/fixtures/real"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sparkckpt runs the CLI in-process and returns stdout, stderr and the exit status.
func sparkckpt(args ...string) (string, string, int) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), code
}

// TestCatDumpEveryFile runs cat and dump on every checkpoint-* (and .bk)
// and RDD part-* file of fixtures-real and every generated fixture: cat
// must output exactly the decompressed stream and dump must show the
// top-level content.
func TestCatDumpEveryFile(t *testing.T) {
	files := real.Files(t, func(rel string) bool { return real.IsCheckpoint(rel) || real.IsRDDPart(rel) })
	gen, err := filepath.Glob(filepath.Join(repoDir(), "fixtures", "generated", "*.*"))
	require.NoError(t, err)
	for _, g := range gen {
		if !strings.HasSuffix(g, ".json") {
			files = append(files, g)
		}
	}
	require.Greater(t, len(files), 350)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		want, _, _, err := codec.Decompress(raw)
		require.NoError(t, err, f)

		out, stderr, code := sparkckpt("cat", f)
		require.Equal(t, 0, code, "cat %s: %s", f, stderr)
		require.True(t, out == string(want), "cat %s: output differs from the decompressed stream", f)

		out, stderr, code = sparkckpt("dump", f)
		require.Equal(t, 0, code, "dump %s: %s", f, stderr)
		require.Contains(t, out, "stream magic=0xACED version=5", f)
		if len(want) > 4 { // an empty RDD partition is the bare header
			require.Contains(t, out, "[0] = ", f)
		}
		if real.IsCheckpoint(filepath.Base(f)) {
			assert.Contains(t, out, "[0] = object org.apache.spark.streaming.Checkpoint", f)
		}
	}
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage")
	require.NoError(t, os.WriteFile(garbage, []byte("not a stream"), 0o644))
	gen := filepath.Join(repoDir(), "fixtures", "generated", "grammar-primitives.lz4")
	for _, tc := range []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"ok", []string{"cat", "--json", gen}, 0, ""},
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
		{"unknown flag", []string{"cat", "--nope", gen}, 2, "unknown flag"},
		{"missing arg", []string{"dump"}, 2, "takes 1 argument"},
		{"unreadable", []string{"dump", garbage}, 2, "offset 0"},
		{"missing file", []string{"dump", filepath.Join(dir, "nope")}, 2, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := sparkckpt(tc.args...)
			assert.Equal(t, tc.code, code, stderr)
			assert.Contains(t, stderr, tc.err)
		})
	}
}

// TestInspectFallsBack: with the newest checkpoint truncated, inspect
// reads what Spark would read next and says which file it skipped and why.
func TestInspectFallsBack(t *testing.T) {
	dir := tree.Copy(t, filepath.Join(real.Root(t), "omar97perez-computacionnube/P8/src/Ejercicio/Buques/Benchi"))
	newest := filepath.Join(dir, "checkpoint-1589765035000")
	b, err := os.ReadFile(newest)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(newest, b[:100], 0o644))

	out, stderr, code := sparkckpt("inspect", dir)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "checkpoint-1589765035000.bk")
	assert.Contains(t, out, "skipped 1 newer file(s), as Spark would")
	assert.Regexp(t, `checkpoint-1589765035000: lz4block: .*checkpoint-1589765035000: offset \d+ .*truncated`, out)

	out, _, code = sparkckpt("inspect", "--json", dir)
	require.Equal(t, 0, code)
	var rep struct {
		File    string
		Skipped []struct{ File, Reason string }
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.Equal(t, filepath.Join(dir, "checkpoint-1589765035000.bk"), rep.File)
	require.Len(t, rep.Skipped, 1)
	assert.Equal(t, newest, rep.Skipped[0].File)

	// Every file unreadable: exit 2 and say so.
	for _, n := range []string{"checkpoint-1589765035000.bk", "checkpoint-1589765030000", "checkpoint-1589765030000.bk", "checkpoint-1589765025000", "checkpoint-1589765025000.bk", "checkpoint-1589765020000", "checkpoint-1589765020000.bk", "checkpoint-1589765015000", "checkpoint-1589765015000.bk"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), nil, 0o644))
	}
	_, stderr, code = sparkckpt("inspect", dir)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "no checkpoint file in")
	assert.Contains(t, stderr, "empty file")
}

// TestInspectEveryRealWAL: inspect --json decodes every real driver log
// completely: records with events, and no error.
func TestInspectEveryRealWAL(t *testing.T) {
	files := real.Files(t, real.IsMetadataLog)
	require.GreaterOrEqual(t, len(files), 17)
	for _, f := range files {
		out, stderr, code := sparkckpt("inspect", "--json", f)
		require.Equal(t, 0, code, "%s: %s", f, stderr)
		var rep struct {
			Kind    string
			Records []struct {
				Events []struct {
					Type  string
					Error string
				}
			}
		}
		require.NoError(t, json.Unmarshal([]byte(out), &rep))
		assert.Equal(t, "wal", rep.Kind)
		require.NotEmpty(t, rep.Records, f)
		for _, r := range rep.Records {
			for _, e := range r.Events {
				assert.Contains(t, []string{"BlockAdditionEvent", "BatchAllocationEvent", "BatchCleanupEvent"}, e.Type, f)
				assert.Empty(t, e.Error, f)
			}
		}
	}
}
