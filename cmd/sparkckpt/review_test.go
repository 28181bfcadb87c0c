package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sparkckpt/sparkckpt/decode/check"
	"github.com/sparkckpt/sparkckpt/fixtures/tree"
	"github.com/sparkckpt/sparkckpt/rewrite/lock"
)

// runBin runs the built binary and returns its exit code and outputs.
func runBin(t *testing.T, bin string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

// TestS3ObjectsWithoutChecksumQuiet: objects another tool wrote (Spark's
// s3a, aws s3 cp of old) carry no stored checksum. Reading them printed
// the AWS SDK's own log line, "SDK <time> DEBUG Response has no supported
// checksum. Not validating response payload.", once per object, straight
// to stderr, concurrent ones run together on one line.
func TestS3ObjectsWithoutChecksumQuiet(t *testing.T) {
	srv := startS3(t)
	// The posix backend keeps objects as files: a file put there has no
	// checksum, as an object uploaded without one.
	tree.CopyInto(t, filepath.Join(repoDir(), "fixtures/generated/dstream/hdfs-app"), filepath.Join(srv.Root, "bkt", "raw"))
	bin := buildSparkckpt(t)
	for _, args := range [][]string{
		{"check", "s3://bkt/raw"},
		{"check", "--json", "s3://bkt/raw"},
		{"uris", "s3://bkt/raw"},
		{"cp", "s3://bkt/raw", filepath.Join(t.TempDir(), "copy")},
		{"rewrite", "s3://bkt/raw", "--from", "hdfs://namenode.example.com:8020", "--to", "hdfs://new-nn:8020"},
	} {
		code, _, errs := runBin(t, bin, args...)
		require.Equal(t, 0, code, "%v: %s", args, errs)
		assert.NotContains(t, errs, "SDK", args)
		assert.NotContains(t, errs, "checksum", args)
	}
}

// TestCpErrorsNameTheSourceAsGiven: cp's errors about its source named
// the store's internal name ("tmp/x/ff", no leading slash: a relative
// path that is not the file), not the path given.
func TestCpErrorsNameTheSourceAsGiven(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(f, []byte("x"), 0o644))
	code, _, errs := runCLI("cp", f, filepath.Join(dir, "copy"))
	assert.Equal(t, 2, code)
	assert.Equal(t, "sparkckpt: "+f+": not a directory: cp copies a checkpoint directory\n", errs)
	src := tree.Copy(t, filepath.Join(repoDir(), "fixtures/generated/dstream/hdfs-app"))
	code, _, errs = runCLI("cp", src, filepath.Join(src, "inner"))
	assert.Equal(t, 2, code)
	assert.Equal(t, "sparkckpt: "+src+" and "+filepath.Join(src, "inner")+": one is inside the other\n", errs)
}

// TestStaleLockNoticeEscaped: the notice of a stale lock taken over by
// rewrite --apply quoted the lock file's owner with a right-to-left
// override (U+202E) raw; the lock package escapes only C0/C1 controls.
func TestStaleLockNoticeEscaped(t *testing.T) {
	dir := tree.Copy(t, filepath.Join(repoDir(), "fixtures/generated/dstream/hdfs-app"))
	p, err := os.StartProcess("/bin/true", []string{"true"}, &os.ProcAttr{})
	require.NoError(t, err)
	_, err = p.Wait()
	require.NoError(t, err)
	o := lock.Me()
	o.PID, o.User, o.Command = p.Pid, "ev\u202eil", "x\u2066y"
	require.NoError(t, os.WriteFile(dir+lock.Suffix, o.Encode(), 0o644))
	code, _, errs := runCLI("rewrite", dir, "--from", "hdfs://namenode.example.com:8020", "--to", "hdfs://new-nn:8020", "--apply")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, errs, `took over the stale lock `+dir+lock.Suffix+` of ev\u202eil@`)
	assert.NotContains(t, errs, "\u202e")
	assert.NotContains(t, errs, "\u2066")
}

// TestRewriteAtBucketRootNeedsBackupDir: a checkpoint at the root of an
// S3 bucket has nothing beside it. The default backup directory became
// the key "..sparkckpt-backup-…" inside the bucket, and the journal was
// printed as s3://ckr.sparkckpt-backup-…/journal.json, another bucket:
// the undo command the rewrite printed failed. Now --apply asks for
// --backup-dir (exit 2) and writes nothing; with it, apply and undo work.
func TestRewriteAtBucketRootNeedsBackupDir(t *testing.T) {
	srv := startS3(t)
	srv.CreateBucket(t, "ckr")
	code, _, errs := runCLI("cp", filepath.Join(repoDir(), "fixtures/generated/dstream/hdfs-app"), "s3://bkt/app")
	require.Equal(t, 0, code, errs)
	tree.CopyInto(t, filepath.Join(repoDir(), "fixtures/generated/dstream/hdfs-app"), filepath.Join(srv.Root, "ckr"))
	before := tree.Snapshot(t, filepath.Join(srv.Root, "ckr"))
	args := []string{"rewrite", "s3://ckr", "--from", "hdfs://namenode.example.com:8020", "--to", "hdfs://new-nn:8020", "--apply"}
	code, out, errs := runCLI(args...)
	assert.Equal(t, 2, code, out)
	assert.Contains(t, errs, "sparkckpt: s3://ckr: the checkpoint is the root of its store")
	assert.Empty(t, tree.Diff(before, tree.Snapshot(t, filepath.Join(srv.Root, "ckr"))), "nothing written")

	code, out, errs = runCLI(append(args, "--backup-dir", "s3://bkt/ckr-backup")...)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "sparkckpt rewrite --undo s3://bkt/ckr-backup/journal.json")
	code, _, errs = runCLI("rewrite", "--undo", "s3://bkt/ckr-backup/journal.json")
	require.Equal(t, 0, code, errs)
}

// TestCheckReportsSpecialFiles: a named pipe named like the newest
// checkpoint file passed check ("OK: Spark will restore from …") though
// Spark lists it first and blocks reading it on restart.
func TestCheckReportsSpecialFiles(t *testing.T) {
	dir := tree.Copy(t, filepath.Join(repoDir(), "fixtures/generated/dstream/hdfs-app"))
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "checkpoint-1700000099000"), 0o644))
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644))
	code, out, errs := runCLI("check", "--json", dir)
	require.Equal(t, 1, code, errs)
	var rep struct {
		Findings []struct{ Severity, Code, File, Message string }
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	got := map[string]string{}
	for _, f := range rep.Findings {
		if f.Code == "special-file" {
			got[f.File] = f.Severity
		}
	}
	assert.Equal(t, map[string]string{"checkpoint-1700000099000": "error", "fifo": "warning"}, got)
}

// TestRewriteRefusesIncompleteCopy: a copy to S3 that cp was interrupted
// writing (its .sparkckpt-cp-incomplete marker still there) was rewritten
// and reported "applied", exit 0, though files may be missing and the
// next cp to it replaces it; check calls it an error (incomplete-copy).
func TestRewriteRefusesIncompleteCopy(t *testing.T) {
	srv := startS3(t)
	code, _, errs := runCLI("cp", filepath.Join(repoDir(), "fixtures/generated/dstream/hdfs-app"), "s3://bkt/inc")
	require.Equal(t, 0, code, errs)
	srv.Put(t, "bkt", "inc/"+check.IncompleteCopyName, []byte("sparkckpt cp: incomplete copy\n"))
	for _, extra := range [][]string{nil, {"--apply"}} {
		args := append([]string{"rewrite", "s3://bkt/inc", "--from", "hdfs://namenode.example.com:8020", "--to", "hdfs://new-nn:8020"}, extra...)
		code, out, errs := runCLI(args...)
		assert.Equal(t, 2, code, out)
		assert.Contains(t, errs, "sparkckpt: s3://bkt/inc: an incomplete copy", extra)
	}
	code, out, _ := runCLI("inspect", "s3://bkt/inc")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "hdfs://namenode.example.com:8020", "nothing rewritten")
}

// TestCheckReportsInterruptedRewrite: after 'rewrite --apply' was killed
// half way, check said "OK: Spark will restore from …" of a checkpoint
// whose files point half at the old place and half at the new.
func TestCheckReportsInterruptedRewrite(t *testing.T) {
	bin := buildSparkckpt(t)
	dir := tree.Copy(t, filepath.Join(repoDir(), "fixtures/generated/dstream/hdfs-app"))
	cmd := exec.Command(bin, "rewrite", dir, "--from", "hdfs://namenode.example.com:8020", "--to", "hdfs://new-nn:8020", "--apply", "--backup-dir", dir+".bak")
	cmd.Env = append(os.Environ(), "SPARKCKPT_TEST_KILL_AT_STEP=3")
	require.Error(t, cmd.Run(), "killed")
	journal := dir + ".bak/journal.json"
	code, out, errs := runCLI("check", "--json", dir)
	require.Equal(t, 1, code, errs)
	var rep struct {
		Findings []struct {
			Code, Severity, Message string
			Command                 []string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	found := false
	for _, f := range rep.Findings {
		if f.Code == "rewrite-in-progress" {
			found = true
			assert.Equal(t, "error", f.Severity)
			assert.Contains(t, f.Message, journal)
			assert.Equal(t, []string{"sparkckpt", "rewrite", "--resume", journal}, f.Command)
		}
	}
	require.True(t, found, out)
	code, _, errs = runCLI("rewrite", "--resume", journal)
	require.Equal(t, 0, code, errs)
	code, out, errs = runCLI("check", dir)
	assert.Equal(t, 0, code, errs)
	assert.NotContains(t, out, "rewrite-in-progress")
}

// TestRewriteAndCpHonourMaxDecompressed: the files rewrite and cp re-encode
// are decoded within --max-decompressed, as the reading commands' files are
// (the error names the flag, so the flag must exist where it is raised):
// the generated checkpoint files decompress to 14,846 bytes.
func TestRewriteAndCpHonourMaxDecompressed(t *testing.T) {
	src := filepath.Join(repoDir(), "fixtures/generated/dstream/hdfs-app")
	for _, tc := range []struct {
		name string
		args func(dir string) []string
	}{
		{"rewrite", func(dir string) []string {
			return []string{"rewrite", dir, "--from", "hdfs://namenode.example.com:8020", "--to", "hdfs://new-nn:8020"}
		}},
		{"cp", func(dir string) []string {
			return []string{"cp", dir, dir + "-copy", "--map", "hdfs://namenode.example.com:8020=hdfs://new-nn:8020"}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tree.Copy(t, src)
			before := tree.Snapshot(t, dir)
			code, out, errs := runCLI(append(tc.args(dir), "--max-decompressed", "8KiB")...)
			assert.Equal(t, exitError, code, "%s%s", out, errs)
			assert.Contains(t, errs+out, "decompresses to more than 8192 bytes, the limit (--max-decompressed)")
			assert.Empty(t, tree.Diff(before, tree.Snapshot(t, dir)), "nothing written")
			code, out, errs = runCLI(append(tc.args(dir), "--max-decompressed", "64KiB")...)
			assert.Equal(t, exitOK, code, "%s%s", out, errs)
		})
	}
}
