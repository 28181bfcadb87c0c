package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparkckpt/sparkckpt/fixtures/real"
	"github.com/sparkckpt/sparkckpt/fixtures/tree"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Attack tests of the symbolic link rule (store.Confine), from the CLI:
// links leading outside the directory given, chains, loops, broken links,
// linked .crc sidecars and linked directories, for rewrite, inspect,
// check and cp.

const (
	walFrom = "hdfs://namenode.example:8020"
	walTo   = "hdfs://new-nn:8020"
	lclFrom = "file:/tmp/sparkckpt"
	lclTo   = "file:/data/moved"
)

// fixture copies a bundled fixture directory into a fresh directory and
// returns the copy's path.
func fixture(t *testing.T, rel string) string {
	t.Helper()
	return tree.Copy(t, filepath.Join(repoDir(), "fixtures", "generated", filepath.FromSlash(rel)))
}

func sha(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	require.NoError(t, os.Symlink(target, link))
}

// isLink asserts p is still a symbolic link to target.
func isLink(t *testing.T, p, target string) {
	t.Helper()
	st, err := os.Lstat(p)
	require.NoError(t, err)
	require.True(t, st.Mode()&os.ModeSymlink != 0, "%s is no longer a symbolic link", p)
	got, err := os.Readlink(p)
	require.NoError(t, err)
	assert.Equal(t, target, got)
}

// snapshotAll hashes every regular file under dir (links not followed).
func snapshotAll(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			out[p] = sha(t, p)
		}
		return err
	}))
	return out
}

type jsonLink struct {
	Name, Target, Kind, Resolved, Dest, Copied string
}

// TestSymlinkRewriteDirOutside: a receivedBlockMetadata/ linked outside
// the checkpoint directory is never written, with or without
// --follow-symlinks; today's bug wrote the log outside the tree.
func TestSymlinkRewriteDirOutside(t *testing.T) {
	top := t.TempDir()
	ckpt := filepath.Join(top, "ckpt")
	tree.CopyInto(t, filepath.Join(repoDir(), "fixtures", "generated", "wal", "ckpt-hdfs"), ckpt)
	outside := filepath.Join(top, "elsewhere")
	require.NoError(t, os.Rename(filepath.Join(ckpt, "receivedBlockMetadata"), outside))
	symlink(t, "../elsewhere", filepath.Join(ckpt, "receivedBlockMetadata"))
	before := snapshotAll(t, outside)

	code, out, errs := runCLI("rewrite", ckpt, "--from", walFrom, "--to", walTo, "--apply", "--backup-dir", filepath.Join(top, "bk"))
	assert.Equal(t, 2, code, out+errs)
	assert.Contains(t, out, "symlink receivedBlockMetadata -> ../elsewhere (outside the directory)")
	assert.Contains(t, errs, "not followed (read them with --follow-symlinks")
	assert.NoDirExists(t, filepath.Join(top, "bk"))

	code, out, errs = runCLI("rewrite", ckpt, "--from", walFrom, "--to", walTo, "--apply", "--follow-symlinks", "--backup-dir", filepath.Join(top, "bk"))
	assert.Equal(t, 2, code, out+errs)
	assert.Contains(t, errs, "sparkckpt never writes there")
	assert.Contains(t, out, "refused, nothing written")
	assert.NoDirExists(t, filepath.Join(top, "bk"))
	assert.Equal(t, before, snapshotAll(t, outside))
	isLink(t, filepath.Join(ckpt, "receivedBlockMetadata"), "../elsewhere")

	code, out, _ = runCLI("rewrite", "--json", ckpt, "--from", walFrom, "--to", walTo)
	assert.Equal(t, 2, code)
	var res struct {
		Symlinks    []jsonLink
		NotFollowed []struct{ File, Error string }
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	require.Len(t, res.Symlinks, 1)
	assert.Equal(t, jsonLink{Name: "receivedBlockMetadata", Target: "../elsewhere", Kind: "outside", Dest: "../elsewhere"}, res.Symlinks[0])
	require.Len(t, res.NotFollowed, 1)
	assert.Equal(t, "receivedBlockMetadata", res.NotFollowed[0].File)
}

// TestSymlinkRewriteSourcesOutside: a Structured Streaming sources/
// directory linked outside is not read or written (real Spark files).
func TestSymlinkRewriteSourcesOutside(t *testing.T) {
	root := real.Root(t)
	top := t.TempDir()
	ckpt := filepath.Join(top, "ckpt")
	tree.CopyInto(t, filepath.Join(root, "devfranhan-data-eng-filling", "checkpoint"), ckpt)
	outside := filepath.Join(top, "sources-elsewhere")
	require.NoError(t, os.Rename(filepath.Join(ckpt, "sources"), outside))
	symlink(t, outside, filepath.Join(ckpt, "sources")) // absolute target
	before := snapshotAll(t, outside)
	for _, follow := range []bool{false, true} {
		args := []string{"rewrite", ckpt, "--from", "file:///Users/franhan", "--to", "hdfs://new-nn:8020/user/franhan", "--apply", "--backup-dir", filepath.Join(top, "bk")}
		if follow {
			args = append(args, "--follow-symlinks")
		}
		code, out, errs := runCLI(args...)
		assert.Equal(t, 2, code, out+errs)
		assert.Contains(t, out, "symlink sources -> "+outside+" (outside the directory)")
		assert.NoDirExists(t, filepath.Join(top, "bk"))
	}
	assert.Equal(t, before, snapshotAll(t, outside))

	// A linked sources/ inside the directory: rewritten where it leads
	// with --follow-symlinks; the link stays a link; undo restores.
	inside := filepath.Join(ckpt, "real-sources")
	require.NoError(t, os.Remove(filepath.Join(ckpt, "sources")))
	require.NoError(t, os.Rename(outside, inside))
	symlink(t, "real-sources", filepath.Join(ckpt, "sources"))
	orig := snapshotAll(t, ckpt)
	code, _, errs := runCLI("rewrite", ckpt, "--from", "file:///Users/franhan", "--to", "hdfs://new-nn:8020/user/franhan", "--apply", "--backup-dir", filepath.Join(top, "bk"))
	assert.Equal(t, 2, code)
	assert.Contains(t, errs, "reached through symbolic links")
	assert.Equal(t, orig, snapshotAll(t, ckpt))
	code, out, errs := runCLI("rewrite", ckpt, "--from", "file:///Users/franhan", "--to", "hdfs://new-nn:8020/user/franhan", "--apply", "--follow-symlinks", "--backup-dir", filepath.Join(top, "bk"))
	require.Equal(t, 0, code, out+errs)
	assert.Contains(t, out, "sources/0/0 -> real-sources/0/0 (file-source-log")
	isLink(t, filepath.Join(ckpt, "sources"), "real-sources")
	b, err := os.ReadFile(filepath.Join(inside, "0", "0"))
	require.NoError(t, err)
	assert.Contains(t, string(b), "hdfs://new-nn:8020/user/franhan")
	code, out, errs = runCLI("rewrite", "--undo", filepath.Join(top, "bk", "journal.json"))
	require.Equal(t, 0, code, out+errs)
	isLink(t, filepath.Join(ckpt, "sources"), "real-sources")
	assert.Equal(t, orig, snapshotAll(t, ckpt))
}

// TestSymlinkRewriteInside: a linked receivedBlockMetadata/ inside the
// directory, a linked newest checkpoint file and a linked .crc sidecar
// (through a chain): refused without --follow-symlinks; with it, the
// targets are rewritten, every link stays a link, Hadoop's sidecar still
// matches through the link, and --undo restores every byte and link.
func TestSymlinkRewriteInside(t *testing.T) {
	top := t.TempDir()
	ckpt := filepath.Join(top, "ckpt")
	tree.CopyInto(t, filepath.Join(repoDir(), "fixtures", "generated", "dstream", "local-app"), ckpt)
	require.NoError(t, os.MkdirAll(filepath.Join(ckpt, "crcs"), 0o755))
	require.NoError(t, os.Rename(filepath.Join(ckpt, ".checkpoint-1700000010000.crc"), filepath.Join(ckpt, "crcs", "c.crc")))
	symlink(t, "crcs/hop.crc", filepath.Join(ckpt, ".checkpoint-1700000010000.crc")) // a chain of two links
	symlink(t, "c.crc", filepath.Join(ckpt, "crcs", "hop.crc"))
	symlink(t, "checkpoint-1700000010000", filepath.Join(ckpt, "checkpoint-1700000020000")) // newest, a link
	orig := snapshotAll(t, ckpt)

	code, out, errs := runCLI("rewrite", ckpt, "--from", lclFrom, "--to", lclTo, "--apply", "--backup-dir", filepath.Join(top, "bk"))
	assert.Equal(t, 2, code, out+errs)
	assert.Contains(t, errs, "2 file(s) to rewrite are reached through symbolic links")
	assert.Contains(t, out, "checkpoint-1700000020000 -> checkpoint-1700000010000 (checkpoint lz4")
	assert.Contains(t, out, ".checkpoint-1700000010000.crc -> crcs/c.crc (.crc sidecar of checkpoint-1700000010000")
	assert.Equal(t, orig, snapshotAll(t, ckpt))
	assert.NoDirExists(t, filepath.Join(top, "bk"))

	code, out, errs = runCLI("rewrite", ckpt, "--from", lclFrom, "--to", lclTo, "--apply", "--follow-symlinks", "--backup-dir", filepath.Join(top, "bk"))
	require.Equal(t, 0, code, out+errs)
	assert.Contains(t, out, "symlink checkpoint-1700000020000 -> checkpoint-1700000010000 (inside the directory)")
	isLink(t, filepath.Join(ckpt, ".checkpoint-1700000010000.crc"), "crcs/hop.crc")
	isLink(t, filepath.Join(ckpt, "crcs", "hop.crc"), "c.crc")
	isLink(t, filepath.Join(ckpt, "checkpoint-1700000020000"), "checkpoint-1700000010000")
	assert.NotEqual(t, orig[filepath.Join(ckpt, "crcs", "c.crc")], sha(t, filepath.Join(ckpt, "crcs", "c.crc")))
	var j struct {
		Files []struct{ File, Link, Of string }
	}
	b, err := os.ReadFile(filepath.Join(top, "bk", "journal.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &j))
	assert.Equal(t, "checkpoint-1700000010000", j.Files[0].File)
	assert.Equal(t, "checkpoint-1700000020000", j.Files[0].Link)
	assert.Equal(t, "crcs/c.crc", j.Files[1].File)
	assert.Equal(t, ".checkpoint-1700000010000.crc", j.Files[1].Link)

	// What Spark reads through the links is relocated and checksums match.
	code, out, errs = runCLI("check", "--json", ckpt)
	assert.Equal(t, 0, code, out+errs)
	assert.NotContains(t, out, "crc-mismatch")
	assert.Contains(t, out, `"file": "checkpoint-1700000020000"`)
	assert.Contains(t, out, `"code": "symlink"`)
	code, out, _ = runCLI("inspect", ckpt)
	assert.Equal(t, 0, code)
	assert.Contains(t, out, lclTo+"/local-app")

	code, out, errs = runCLI("rewrite", "--undo", filepath.Join(top, "bk", "journal.json"))
	require.Equal(t, 0, code, out+errs)
	isLink(t, filepath.Join(ckpt, ".checkpoint-1700000010000.crc"), "crcs/hop.crc")
	isLink(t, filepath.Join(ckpt, "checkpoint-1700000020000"), "checkpoint-1700000010000")
	assert.Equal(t, orig, snapshotAll(t, ckpt))
}

// TestSymlinkRewriteFileOutside: a checkpoint file linked outside the
// directory (absolute, through a chain) is never written.
func TestSymlinkRewriteFileOutside(t *testing.T) {
	top := t.TempDir()
	ckpt := filepath.Join(top, "ckpt")
	tree.CopyInto(t, filepath.Join(repoDir(), "fixtures", "generated", "dstream", "local-app"), ckpt)
	elsewhere := filepath.Join(top, "elsewhere")
	tree.CopyInto(t, filepath.Join(repoDir(), "fixtures", "generated", "dstream", "local-app"), elsewhere)
	symlink(t, filepath.Join(elsewhere, "checkpoint-1700000010000"), filepath.Join(ckpt, "hop"))
	symlink(t, "hop", filepath.Join(ckpt, "checkpoint-1700000020000"))
	before := snapshotAll(t, elsewhere)
	orig := snapshotAll(t, ckpt)
	for _, follow := range []bool{false, true} {
		args := []string{"rewrite", ckpt, "--from", lclFrom, "--to", lclTo, "--apply", "--backup-dir", filepath.Join(top, "bk")}
		if follow {
			args = append(args, "--follow-symlinks")
		}
		code, out, errs := runCLI(args...)
		assert.Equal(t, 2, code, out+errs)
		assert.Contains(t, out, "symlink checkpoint-1700000020000 -> hop (outside the directory: "+filepath.Join(elsewhere, "checkpoint-1700000010000")+")")
		if follow {
			assert.Contains(t, errs, "sparkckpt never writes there")
		} else {
			assert.Contains(t, errs, "not followed")
		}
	}
	assert.Equal(t, before, snapshotAll(t, elsewhere))
	assert.Equal(t, orig, snapshotAll(t, ckpt))
}

// TestSymlinkRewriteBrokenAndLoops: broken links, loops and a directory
// linked to its own ancestor are reported, not followed, and do not stop
// a rewrite of the rest (Spark cannot read them either).
func TestSymlinkRewriteBrokenAndLoops(t *testing.T) {
	top := t.TempDir()
	ckpt := filepath.Join(top, "ckpt")
	tree.CopyInto(t, filepath.Join(repoDir(), "fixtures", "generated", "dstream", "local-app"), ckpt)
	symlink(t, "nothing-here", filepath.Join(ckpt, "checkpoint-1700000090000"))
	symlink(t, "checkpoint-1700000095000", filepath.Join(ckpt, "checkpoint-1700000095000"))
	symlink(t, "loop-b", filepath.Join(ckpt, "loop-a"))
	symlink(t, "loop-a", filepath.Join(ckpt, "loop-b"))
	symlink(t, "..", filepath.Join(ckpt, "7c1d9e42-0b3a-4f6e-8d25-91a4c3e5f7b8", "up"))

	code, out, errs := runCLI("rewrite", "--json", ckpt, "--from", lclFrom, "--to", lclTo)
	require.Equal(t, 0, code, out+errs)
	var res struct{ Symlinks []jsonLink }
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	kinds := map[string]string{}
	for _, l := range res.Symlinks {
		kinds[l.Name] = l.Kind
	}
	assert.Equal(t, map[string]string{"checkpoint-1700000090000": "broken", "checkpoint-1700000095000": "loop", "loop-a": "loop", "loop-b": "loop",
		"7c1d9e42-0b3a-4f6e-8d25-91a4c3e5f7b8/up": "loop"}, kinds)
	code, out, errs = runCLI("rewrite", ckpt, "--from", lclFrom, "--to", lclTo, "--apply", "--backup-dir", filepath.Join(top, "bk"))
	require.Equal(t, 0, code, out+errs)
	assert.Contains(t, out, "symlink checkpoint-1700000090000 -> nothing-here (broken: its target does not exist)")
	assert.Contains(t, out, "applied")
	isLink(t, filepath.Join(ckpt, "checkpoint-1700000090000"), "nothing-here")
	isLink(t, filepath.Join(ckpt, "loop-a"), "loop-b")
}

// TestSymlinkInspectCheck: a symlinked newest checkpoint file inside the
// directory is read (it used to be skipped silently); one leading outside
// or broken is named as skipped with why; check reports every link with
// its code, and finishes on loops.
func TestSymlinkInspectCheck(t *testing.T) {
	top := t.TempDir()
	ckpt := filepath.Join(top, "ckpt")
	tree.CopyInto(t, filepath.Join(repoDir(), "fixtures", "generated", "dstream", "local-app"), ckpt)
	symlink(t, "checkpoint-1700000010000", filepath.Join(ckpt, "checkpoint-1700000020000"))

	code, out, errs := runCLI("inspect", "--json", ckpt)
	require.Equal(t, 0, code, errs)
	var rep struct {
		File     string
		Skipped  []struct{ File, Reason string }
		Symlinks []jsonLink
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.Equal(t, filepath.Join(ckpt, "checkpoint-1700000020000"), rep.File)
	assert.Empty(t, rep.Skipped)
	assert.Equal(t, []jsonLink{{Name: "checkpoint-1700000020000", Target: "checkpoint-1700000010000", Kind: "inside", Resolved: "checkpoint-1700000010000"}}, rep.Symlinks)
	code, out, _ = runCLI("check", "--json", ckpt)
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, `"file": "checkpoint-1700000020000"`) // chosen
	assert.Contains(t, out, `"code": "symlink"`)

	outsideFile := filepath.Join(repoDir(), "fixtures", "generated", "dstream", "hdfs-app", "checkpoint-1700000010000")
	symlink(t, outsideFile, filepath.Join(ckpt, "checkpoint-1700000030000"))
	symlink(t, "gone", filepath.Join(ckpt, "checkpoint-1700000040000"))
	symlink(t, ".", filepath.Join(ckpt, "self"))
	symlink(t, "../../..", filepath.Join(ckpt, "7c1d9e42-0b3a-4f6e-8d25-91a4c3e5f7b8", "rdd-41", "escape"))

	code, out, errs = runCLI("inspect", ckpt)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "checkpoint-1700000040000: open "+filepath.Join(ckpt, "checkpoint-1700000040000")+": checkpoint-1700000040000 is a broken symbolic link")
	assert.Contains(t, out, "checkpoint-1700000030000: open "+filepath.Join(ckpt, "checkpoint-1700000030000")+": checkpoint-1700000030000 is a symbolic link to "+outsideFile+", outside the directory given: not followed")
	assert.Contains(t, out, "5 symbolic link(s)")
	assert.NotContains(t, out, "hdfs://namenode.example.com") // the outside file was not read

	code, out, _ = runCLI("check", "--json", ckpt)
	assert.Equal(t, 1, code, out) // symlink-outside is an error: what Spark reads there is unchecked
	var crep struct {
		Findings []struct{ Severity, Code, File string }
	}
	require.NoError(t, json.Unmarshal([]byte(out), &crep))
	got := map[string]string{}
	for _, f := range crep.Findings {
		if strings.HasPrefix(f.Code, "symlink") {
			got[f.File] = f.Severity + " " + f.Code
		}
	}
	assert.Equal(t, map[string]string{
		"checkpoint-1700000020000": "info symlink",
		"checkpoint-1700000030000": "error symlink-outside",
		"checkpoint-1700000040000": "warning symlink-broken",
		"self":                     "warning symlink-loop",
		"7c1d9e42-0b3a-4f6e-8d25-91a4c3e5f7b8/rdd-41/escape": "error symlink-outside",
	}, got)
	code, out, _ = runCLI("uris", ckpt)
	assert.Equal(t, 0, code)
	assert.NotContains(t, out, "namenode.example.com")
}

// TestSymlinkCp: cp copies links inside the source as what they lead to,
// refuses links leading outside unless --follow-symlinks, skips broken
// links and loops, and lists every one (it used to drop them silently).
func TestSymlinkCp(t *testing.T) {
	top := t.TempDir()
	src := filepath.Join(top, "src")
	tree.CopyInto(t, filepath.Join(repoDir(), "fixtures", "generated", "wal", "ckpt-hdfs"), src)
	require.NoError(t, os.Rename(filepath.Join(src, "receivedBlockMetadata"), filepath.Join(src, "wal")))
	symlink(t, "wal", filepath.Join(src, "receivedBlockMetadata"))
	symlink(t, "../wal/log-1700000000010-1700000060010", filepath.Join(src, "receivedData", "copy-of-log"))
	symlink(t, "missing", filepath.Join(src, "broken"))
	symlink(t, "..", filepath.Join(src, "wal", "up"))
	outside := filepath.Join(top, "outside")
	require.NoError(t, os.MkdirAll(outside, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(outside, "note"), []byte("kept outside"), 0o644))
	symlink(t, outside, filepath.Join(src, "extra"))

	code, out, errs := runCLI("cp", src, filepath.Join(top, "dst"))
	assert.Equal(t, 2, code, out+errs)
	assert.Contains(t, errs, "symbolic link(s) lead outside the source directory")
	assert.Contains(t, errs, "extra -> "+outside)
	assert.NoDirExists(t, filepath.Join(top, "dst"))

	require.NoError(t, os.Remove(filepath.Join(src, "extra")))
	code, out, errs = runCLI("cp", src, filepath.Join(top, "dst"))
	require.Equal(t, 0, code, out+errs)
	assert.Contains(t, out, "symlink receivedBlockMetadata -> wal (inside the directory): copied as the directory it leads to")
	assert.Contains(t, out, "symlink broken -> missing (broken: its target does not exist): not copied")
	assert.Contains(t, out, "symlink wal/up -> .. (a loop): not copied")
	dst := filepath.Join(top, "dst")
	log := sha(t, filepath.Join(src, "wal", "log-1700000000010-1700000060010"))
	for _, p := range []string{"receivedBlockMetadata/log-1700000000010-1700000060010", "wal/log-1700000000010-1700000060010", "receivedData/copy-of-log"} {
		st, err := os.Lstat(filepath.Join(dst, p))
		require.NoError(t, err, p)
		assert.True(t, st.Mode().IsRegular(), p)
		assert.Equal(t, log, sha(t, filepath.Join(dst, p)), p)
	}
	assert.NoFileExists(t, filepath.Join(dst, "broken"))
	_, err := os.Lstat(filepath.Join(dst, "wal", "up"))
	assert.True(t, os.IsNotExist(err))

	// --follow-symlinks copies what an outside link leads to; --json lists links.
	symlink(t, outside, filepath.Join(src, "extra"))
	code, out, errs = runCLI("cp", "--json", "--follow-symlinks", src, filepath.Join(top, "dst2"))
	require.Equal(t, 0, code, out+errs)
	var rep struct{ Symlinks []jsonLink }
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	copied := map[string]string{}
	for _, l := range rep.Symlinks {
		copied[l.Name] = l.Kind + " " + l.Copied
	}
	assert.Equal(t, map[string]string{"broken": "broken ", "extra": "outside dir", "receivedBlockMetadata": "inside dir",
		"receivedData/copy-of-log": "inside file", "wal/up": "loop ", "receivedBlockMetadata/up": "loop "}, copied)
	b, err := os.ReadFile(filepath.Join(top, "dst2", "extra", "note"))
	require.NoError(t, err)
	assert.Equal(t, "kept outside", string(b))
}

// TestSymlinkRootIsALink: the directory given may itself be a link (or be
// reached through one): that is the root, and it is rewritten in place.
func TestSymlinkRootIsALink(t *testing.T) {
	top := t.TempDir()
	ckpt := filepath.Join(top, "ckpt")
	tree.CopyInto(t, filepath.Join(repoDir(), "fixtures", "generated", "dstream", "local-app"), ckpt)
	via := filepath.Join(top, "via")
	symlink(t, "ckpt", via)
	symlink(t, filepath.Join(via, "checkpoint-1700000010000"), filepath.Join(ckpt, "checkpoint-1700000020000")) // absolute, through the root's link
	code, out, errs := runCLI("rewrite", via, "--from", lclFrom, "--to", lclTo, "--apply", "--follow-symlinks", "--backup-dir", filepath.Join(top, "bk"))
	require.Equal(t, 0, code, out+errs)
	assert.Contains(t, out, "checkpoint-1700000020000 -> checkpoint-1700000010000 (checkpoint lz4")
	isLink(t, via, "ckpt")
	assert.NotEqual(t, sha(t, filepath.Join(repoDir(), "fixtures", "generated", "dstream", "local-app", "checkpoint-1700000010000")),
		sha(t, filepath.Join(ckpt, "checkpoint-1700000010000")))
	code, out, _ = runCLI("inspect", via)
	assert.Equal(t, 0, code)
	assert.Contains(t, out, lclTo+"/local-app")
	code, out, _ = runCLI("check", via)
	assert.Equal(t, 0, code, out)
}

// TestSymlinkCpMutualLoop: two directory links leading into each other
// end the walk: each directory is copied once, the link that closes the
// circle is reported as a loop. A linked .crc sidecar is copied as the
// sidecar it leads to, and still verified.
func TestSymlinkCpMutualLoop(t *testing.T) {
	top := t.TempDir()
	src := filepath.Join(top, "src")
	tree.CopyInto(t, filepath.Join(repoDir(), "fixtures", "generated", "dstream", "local-app"), src)
	for _, d := range []string{"a", "b"} {
		require.NoError(t, os.MkdirAll(filepath.Join(src, d), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(src, d, "f"), []byte(d), 0o644))
	}
	symlink(t, "../b", filepath.Join(src, "a", "to-b"))
	symlink(t, "../a", filepath.Join(src, "b", "to-a"))
	require.NoError(t, os.Rename(filepath.Join(src, ".checkpoint-1700000010000.crc"), filepath.Join(src, "a", "sidecar")))
	symlink(t, "a/sidecar", filepath.Join(src, ".checkpoint-1700000010000.crc"))
	code, out, errs := runCLI("cp", "--json", src, filepath.Join(top, "dst"))
	require.Equal(t, 0, code, out+errs)
	var rep struct {
		Symlinks      []jsonLink
		CRCMismatches []struct{ File string }
		Sidecars      map[string]int
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	got := map[string]string{}
	for _, l := range rep.Symlinks {
		got[l.Name] = l.Kind + " " + l.Copied
	}
	assert.Equal(t, map[string]string{".checkpoint-1700000010000.crc": "inside file", "a/to-b": "inside dir", "a/to-b/to-a": "loop ",
		"b/to-a": "inside dir", "b/to-a/to-b": "loop "}, got)
	assert.Empty(t, rep.CRCMismatches)
	assert.Equal(t, 3, rep.Sidecars["copied"])
	for p, want := range map[string]string{"a/f": "a", "a/to-b/f": "b", "b/to-a/f": "a"} {
		b, err := os.ReadFile(filepath.Join(top, "dst", p))
		require.NoError(t, err, p)
		assert.Equal(t, want, string(b))
	}
	st, err := os.Lstat(filepath.Join(top, "dst", ".checkpoint-1700000010000.crc"))
	require.NoError(t, err)
	assert.True(t, st.Mode().IsRegular())
}
