package crcfile_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/crcfile"
	"github.com/sparkckpt/sparkckpt/fixtures/real"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// staleSidecars are real sidecars that do not match their files: Apache
// Spark's test resources whose offset logs were edited after Hadoop wrote
// the sidecars (the kind of corruption 'check' must report).
var staleSidecars = []string{
	"apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-4.0.0-tws-avro/offsets/.0.crc",
	"apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-4.0.0-tws-avro/offsets/.1.crc",
	"apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-4.0.0-tws-unsaferow/offsets/.0.crc",
	"apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-4.0.0-tws-unsaferow/offsets/.1.crc",
}

// TestMatchesHadoop: for every data file with a sidecar in the real
// fixtures (written by Hadoop's LocalFileSystem), Compute gives the same
// bytes, except the known stale sidecars, which Verify rejects.
func TestMatchesHadoop(t *testing.T) {
	sidecars := real.Files(t, func(rel string) bool {
		_, ok := crcfile.IsSidecar(filepath.Base(rel))
		return ok
	})
	checked, stale := 0, 0
	for _, sc := range sidecars {
		base, _ := crcfile.IsSidecar(filepath.Base(sc))
		data, err := os.ReadFile(filepath.Join(filepath.Dir(sc), base))
		if err != nil {
			continue // an orphan sidecar (its file was deleted by Spark's retention)
		}
		want, err := os.ReadFile(sc)
		require.NoError(t, err)
		if slices.Contains(staleSidecars, real.Rel(t, sc)) {
			assert.Error(t, crcfile.Verify(data, want), sc)
			stale++
			continue
		}
		assert.Equal(t, want, crcfile.Compute(data, crcfile.DefaultBytesPerChecksum), sc)
		assert.NoError(t, crcfile.Verify(data, want), sc)
		checked++
	}
	assert.Greater(t, checked, 1000, "sidecars compared")
	assert.Equal(t, len(staleSidecars), stale)
}

func TestVerifyNamesTheChunk(t *testing.T) {
	data := []byte(strings.Repeat("a", 1500))
	sc := crcfile.Compute(data, 512)
	data[700] = 'b'
	err := crcfile.Verify(data, sc)
	assert.ErrorContains(t, err, "bytes 512..1023")
	err = crcfile.Verify(data[:1000], sc)
	assert.ErrorContains(t, err, "file changed size")
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		in   string
		kind error
	}{{"crc", decode.ErrTruncated}, {"xyz\x00\x00\x00\x02\x00", decode.ErrCorrupt}, {"crc\x00\x00\x00\x02\x00\x01\x02", decode.ErrTruncated}, {"crc\x00\xff\xff\xff\xff", decode.ErrCorrupt}} {
		_, err := crcfile.Parse([]byte(tc.in))
		assert.True(t, errors.Is(err, tc.kind), "%q: %v", tc.in, err)
	}
	assert.Equal(t, "dir/.checkpoint-1.bk.crc", crcfile.SidecarName("dir/checkpoint-1.bk"))
	base, ok := crcfile.IsSidecar(".checkpoint-1.crc")
	assert.True(t, ok)
	assert.Equal(t, "checkpoint-1", base)
	_, ok = crcfile.IsSidecar("checkpoint-1")
	assert.False(t, ok)
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(crcfile.Compute([]byte("hello"), 512)))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := crcfile.Parse(b)
		if err != nil {
			var de *decode.Error
			if !errors.As(err, &de) {
				t.Fatal(err)
			}
			return
		}
		if s.BytesPerChecksum <= 0 {
			t.Fatal("accepted a non-positive chunk size")
		}
	})
}
