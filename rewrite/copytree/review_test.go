package copytree_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sparkckpt/sparkckpt/decode/check"
	"github.com/sparkckpt/sparkckpt/fixtures/tree"
	"github.com/sparkckpt/sparkckpt/rewrite/copytree"
	"github.com/sparkckpt/sparkckpt/rewrite/lock"
	"github.com/sparkckpt/sparkckpt/store"
)

// TestLeftoversOfAnotherDestinationKept: the temporary directory of a cp
// to ckpt-2 (.sparkckpt-tmp-cp-ckpt-2-<random>) starts like one of a cp
// to ckpt. A cp to ckpt removed it, said it was "the partial copy of an
// interrupted cp to the same destination", and did so even while that
// other copy was at work (a cp running for over a day, which holds
// ckpt-2's lock, not ckpt's).
func TestLeftoversOfAnotherDestinationKept(t *testing.T) {
	ls := store.NewLocal("/")
	srcDir := tree.Copy(t, hdfsApp)
	_, srcName := local(t, srcDir)
	parent := t.TempDir()
	_, parentName := local(t, parent)
	working := lock.Me()
	working.Time = time.Now().Add(-30 * time.Hour) // a long copy, still running
	other := filepath.Join(parent, copytree.TempPrefix+"ckpt-2-0123456789ab")
	require.NoError(t, os.MkdirAll(other, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(other, copytree.OwnerName), working.Encode(), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(other, "part-00000"), []byte("being copied"), 0o644))

	rep, err := copytree.Copy(context.Background(), ls, srcName, ls, parentName+"/ckpt", copytree.Options{})
	require.NoError(t, err)
	assert.Empty(t, rep.Removed)
	assert.Empty(t, rep.Leftovers, "not a leftover of a cp to ckpt")
	b, err := os.ReadFile(filepath.Join(other, "part-00000"))
	require.NoError(t, err)
	assert.Equal(t, "being copied", string(b))
}

// TestSpecialFilesInSourceRefused: a named pipe in the source (here named
// as the newest checkpoint, and as an RDD part file) was silently left
// out of the copy, which then said it matched the source.
func TestSpecialFilesInSourceRefused(t *testing.T) {
	ls := store.NewLocal("/")
	srcDir := tree.Copy(t, hdfsApp)
	require.NoError(t, syscall.Mkfifo(filepath.Join(srcDir, "checkpoint-1700000099000"), 0o644))
	_, srcName := local(t, srcDir)
	parent := t.TempDir()
	_, parentName := local(t, parent)
	_, err := copytree.Copy(context.Background(), ls, srcName, ls, parentName+"/ckpt", copytree.Options{})
	require.ErrorIs(t, err, copytree.ErrSpecialFile)
	assert.Contains(t, err.Error(), "checkpoint-1700000099000 (a named pipe)")
	ents, err := os.ReadDir(parent)
	require.NoError(t, err)
	assert.Empty(t, ents, "nothing written")
}

// TestIncompleteCopyNotCopiedOnward: a source that is itself an
// interrupted copy (the .sparkckpt-cp-incomplete marker of a cp to S3)
// was copied on with exit 0, marker and all (and a .crc made for it).
func TestIncompleteCopyNotCopiedOnward(t *testing.T) {
	ls := store.NewLocal("/")
	srcDir := tree.Copy(t, hdfsApp)
	require.NoError(t, os.WriteFile(filepath.Join(srcDir, check.IncompleteCopyName), []byte("sparkckpt cp: incomplete copy\n"), 0o644))
	_, srcName := local(t, srcDir)
	parent := t.TempDir()
	_, parentName := local(t, parent)
	_, err := copytree.Copy(context.Background(), ls, srcName, ls, parentName+"/ckpt", copytree.Options{SourceURI: srcDir})
	require.Error(t, err)
	assert.Contains(t, err.Error(), srcDir+": it is an incomplete copy")
	ents, err := os.ReadDir(parent)
	require.NoError(t, err)
	assert.Empty(t, ents, "nothing written")
}
