package wal_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/wal"
	"github.com/stretchr/testify/require"
)

// generated is the directory of the JVM-generated fixtures (fixtures/walgen).
const generated = "../../fixtures/generated/wal"

// T0 is the base time of the generated fixtures (WalGen.T0).
const T0 = int64(1_700_000_000_000)

// Paths of the generated fixtures, relative to generated.
const (
	genUnbatched = "ckpt-unbatched/receivedBlockMetadata/log-1700000000007-1700000060007"
	genBatched   = "ckpt-batched/receivedBlockMetadata/log-1700000000012-1700000060012"
	genHDFSMeta  = "ckpt-hdfs/receivedBlockMetadata/log-1700000000010-1700000060010"
	genHDFSData  = "ckpt-hdfs/receivedData/0/log-1700000001200-1700000061200"
	genTorn1     = "ckpt-torn/receivedBlockMetadata/log-1700000000012-1700000060012"
	genTorn2     = "ckpt-torn/receivedBlockMetadata/log-1700000060500-1700000120500"
	hdfsCkpt     = "hdfs://namenode.example:8020/user/spark/ckpt-hdfs"
	hdfsDataPath = hdfsCkpt + "/receivedData/0/log-1700000001200-1700000061200"
)

func readGen(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(generated, filepath.FromSlash(rel)))
	require.NoError(t, err, "generated fixture %s (run fixtures/walgen/regen.sh)", rel)
	return b
}

func readLog(t testing.TB, b []byte) *wal.Log {
	t.Helper()
	log, err := wal.ReadLog(bytes.NewReader(b))
	require.NoError(t, err)
	return log
}

// realLogsIfPresent lists the real driver logs for fuzz seeds and
// benchmarks without skipping when ../shared is absent.
func realLogsIfPresent() []string {
	root := filepath.Join("..", "..", "..", "shared", "fixtures-real")
	if env := os.Getenv("SPARKCKPT_FIXTURES_REAL"); env != "" {
		root = env
	}
	re := regexp.MustCompile(`/receivedBlockMetadata/log-\d+-\d+$`)
	var out []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && re.MatchString(filepath.ToSlash(p)) {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// generatedFiles lists every generated fixture file.
func generatedFiles() []string {
	var out []string
	filepath.WalkDir(generated, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && filepath.Base(filepath.Dir(p)) != "wal" {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// requirePositioned requires err to be a *decode.Error of kind with an
// offset in [0, size], and returns it.
func requirePositioned(t testing.TB, err error, size int, kind error) *decode.Error {
	t.Helper()
	var de *decode.Error
	require.True(t, errors.As(err, &de), "want a *decode.Error, got %T: %v", err, err)
	require.GreaterOrEqual(t, de.Offset, int64(0), "%v", err)
	require.LessOrEqual(t, de.Offset, int64(size), "%v", err)
	if kind != nil {
		require.ErrorIs(t, err, kind)
	}
	return de
}
