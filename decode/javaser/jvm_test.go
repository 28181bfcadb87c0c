package javaser_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparkckpt/sparkckpt/decode/codec"
	"github.com/sparkckpt/sparkckpt/decode/javaser"
	"github.com/sparkckpt/sparkckpt/fixtures/jvm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// editValues appends suffix to every String that is object data (not a
// descriptor's type string, not an enum constant, not a lambda's method
// names), and re-segments every block-data run, as the rewriter will.
func editValues(s *javaser.Stream, suffix string) (edited []string) {
	seen := map[*javaser.String]bool{}
	javaser.Walk(s, func(p javaser.Path, n javaser.Node) bool {
		switch n := n.(type) {
		case *javaser.ClassDesc, *javaser.Enum:
			return false
		case *javaser.Object:
			return n.ClassName() != "java.lang.invoke.SerializedLambda"
		case *javaser.BlockData:
			n.SetData(append([]byte(nil), n.Data...))
		case *javaser.String:
			if !seen[n] && len(n.Raw) < 200 {
				seen[n] = true
				n.SetValue(n.Value() + suffix)
				edited = append(edited, n.Value())
			}
		}
		return true
	})
	return edited
}

// TestJVMReadsGoEncodedStreams edits the strings of every generated
// fixture, re-encodes the Java stream, compresses it with sparkckpt's own
// writer for the fixture's codec and block size, and has the real JVM
// (codec input streams + ObjectInputStream) read it back: the JVM must see
// exactly our bytes and the edited strings.
func TestJVMReadsGoEncodedStreams(t *testing.T) {
	peer := jvm.New(t)
	files, err := filepath.Glob("../../fixtures/generated/*.*")
	require.NoError(t, err)
	dir := t.TempDir()
	type job struct {
		out    string
		sha    string
		edited []string
	}
	var jobs []job
	for _, f := range files {
		if strings.HasSuffix(f, ".json") {
			continue
		}
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		data, kind, params, err := codec.Decompress(raw)
		require.NoError(t, err, f)
		s, err := javaser.Parse(data)
		require.NoError(t, err, f)
		edited := editValues(s, "-sparkckpt")
		enc, err := javaser.Encode(s)
		require.NoError(t, err)
		comp, err := codec.Compress(kind, params, enc)
		require.NoError(t, err)
		out := filepath.Join(dir, filepath.Base(f))
		require.NoError(t, os.WriteFile(out, comp, 0o644))
		sum := sha256.Sum256(enc)
		jobs = append(jobs, job{out, hex.EncodeToString(sum[:]), edited})
	}
	require.Greater(t, len(jobs), 70)
	outs := make([]string, len(jobs))
	for i, j := range jobs {
		outs[i] = j.out
	}
	total := 0
	for _, j := range jobs {
		total += len(j.edited)
	}
	require.Greater(t, total, 300, "strings edited across the fixtures")
	results, err := peer.Verify(outs...)
	require.NoError(t, err)
	require.Len(t, results, len(jobs))
	for i, r := range results {
		j := jobs[i]
		name := filepath.Base(j.out)
		if r.Error != nil && !strings.Contains(name, "exception") {
			t.Errorf("%s: JVM could not read it: %s", name, *r.Error)
			continue
		}
		assert.Equal(t, j.sha, r.DecompressedSha256, "%s: the JVM's codec decompressed other bytes than we encoded", name)
		for _, e := range j.edited {
			assert.Contains(t, r.StreamStrings, jvm.Summarize(e), name)
		}
	}
}
