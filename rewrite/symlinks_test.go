package rewrite_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sparkckpt/sparkckpt/fixtures/tree"
	"github.com/sparkckpt/sparkckpt/rewrite"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// walTree copies the bundled write-ahead-log fixture into top/ckpt.
func walTree(t *testing.T, top string) string {
	t.Helper()
	ckpt := filepath.Join(top, "ckpt")
	tree.CopyInto(t, filepath.Join("..", "fixtures", "generated", "wal", "ckpt-hdfs"), ckpt)
	return ckpt
}

// swapForLink moves dir out of the tree and leaves a symbolic link to it.
func swapForLink(t *testing.T, dir, outside string) {
	t.Helper()
	require.NoError(t, os.Rename(dir, outside))
	require.NoError(t, os.Symlink(outside, dir))
}

// TestApplyRefusesLinkAppearedAfterPlan: a directory swapped for a link
// to somewhere outside between the plan and Apply is not written through
// (Apply checks each file's way before writing anything).
func TestApplyRefusesLinkAppearedAfterPlan(t *testing.T) {
	top := t.TempDir()
	ckpt := walTree(t, top)
	mp := mustMapper(t, "hdfs://namenode.example:8020", "hdfs://new-nn:8020")
	p, err := rewrite.NewPlan(ckpt, mp, rewrite.Options{})
	require.NoError(t, err)
	require.Len(t, p.Files, 1)
	require.NoError(t, p.Refusal(rewrite.Options{}))
	outside := filepath.Join(top, "outside")
	swapForLink(t, filepath.Join(ckpt, "receivedBlockMetadata"), outside)
	before := tree.Snapshot(t, outside)
	_, err = rewrite.Apply(p, mp, filepath.Join(top, "bk"), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "outside the directory given")
	assert.Empty(t, tree.Diff(before, tree.Snapshot(t, outside)))
}

// TestResumeAndUndoRefuseLinkAppeared: a link that appears on a file's
// way after a crash (before --resume) or after the rewrite (before
// --undo) is not written through.
func TestResumeAndUndoRefuseLinkAppeared(t *testing.T) {
	for _, undo := range []bool{false, true} {
		top := t.TempDir()
		ckpt := walTree(t, top)
		mp := mustMapper(t, "hdfs://namenode.example:8020", "hdfs://new-nn:8020")
		p, err := rewrite.NewPlan(ckpt, mp, rewrite.Options{})
		require.NoError(t, err)
		stop := &rewrite.Hooks{Step: func(s string) {
			if s == "journal" && !undo {
				panic("crash")
			}
		}}
		func() {
			defer func() { recover() }() // the crash: the journal is written, nothing replaced
			_, err := rewrite.Apply(p, mp, filepath.Join(top, "bk"), stop)
			require.NoError(t, err)
		}()
		j := filepath.Join(top, "bk", rewrite.JournalName)
		outside := filepath.Join(top, "outside")
		swapForLink(t, filepath.Join(ckpt, "receivedBlockMetadata"), outside)
		before := tree.Snapshot(t, outside)
		if undo {
			err = rewrite.Undo(j, nil)
		} else {
			err = rewrite.Resume(j, nil)
		}
		require.Error(t, err, "undo=%v", undo)
		assert.Contains(t, err.Error(), "symbolic link")
		assert.Empty(t, tree.Diff(before, tree.Snapshot(t, outside)), "undo=%v", undo)
	}
}

// TestPlanRefusesLinkedMarker: a link planted where Apply writes its
// in-progress marker refuses the plan (the marker would replace it).
func TestPlanRefusesLinkedMarker(t *testing.T) {
	top := t.TempDir()
	ckpt := walTree(t, top)
	require.NoError(t, os.Symlink(filepath.Join(top, "nowhere"), filepath.Join(ckpt, rewrite.MarkerName)))
	mp := mustMapper(t, "hdfs://namenode.example:8020", "hdfs://new-nn:8020")
	p, err := rewrite.NewPlan(ckpt, mp, rewrite.Options{})
	require.NoError(t, err)
	require.Len(t, p.Symlinks, 1)
	err = p.Refusal(rewrite.Options{FollowSymlinks: true})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "in-progress marker")
}

// TestLinksInTheWay: only links where files the rewrite reads may be
// block it; RDD and state data linked elsewhere do not.
func TestLinksInTheWay(t *testing.T) {
	top := t.TempDir()
	ckpt := walTree(t, top)
	outside := filepath.Join(top, "outside")
	require.NoError(t, os.MkdirAll(outside, 0o755))
	for _, name := range []string{"rdd-3", "receivedData/1", "state/0/0/1.delta"} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(ckpt, name)), 0o755))
		require.NoError(t, os.Symlink(outside, filepath.Join(ckpt, name)))
	}
	mp := mustMapper(t, "hdfs://namenode.example:8020", "hdfs://new-nn:8020")
	p, err := rewrite.NewPlan(ckpt, mp, rewrite.Options{})
	require.NoError(t, err)
	assert.Len(t, p.Symlinks, 3)
	assert.Empty(t, p.NotFollowed)
	require.NoError(t, p.Refusal(rewrite.Options{}))
	for _, name := range []string{"state/0/_metadata", "checkpoint-1700000000000", ".checkpoint-1700000000000.crc"} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(ckpt, name)), 0o755))
		require.NoError(t, os.Symlink(outside, filepath.Join(ckpt, name)))
	}
	p, err = rewrite.NewPlan(ckpt, mp, rewrite.Options{})
	require.NoError(t, err)
	var names []string
	for _, n := range p.NotFollowed {
		names = append(names, n.File)
	}
	assert.Equal(t, []string{".checkpoint-1700000000000.crc", "checkpoint-1700000000000", "state/0/_metadata"}, names)
	assert.Error(t, p.Refusal(rewrite.Options{}))
}
