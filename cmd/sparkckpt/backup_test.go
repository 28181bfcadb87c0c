package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/sparkckpt/sparkckpt/fixtures/real"
	"github.com/sparkckpt/sparkckpt/fixtures/tree"
	"github.com/sparkckpt/sparkckpt/rewrite/backup"
	"github.com/sparkckpt/sparkckpt/rewrite/lock"
	"github.com/sparkckpt/sparkckpt/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// backupsJSON is backups --json.
type backupsJSON []struct {
	ID               string
	Complete         bool
	Problem          string
	Files            int
	Bytes            int64
	TransferredBytes int64
	RestoresTo       *backup.RestorePoint
}

func listBackups(t *testing.T, dest string) backupsJSON {
	t.Helper()
	code, out, errs := runCLI("backups", "--json", dest)
	require.Equal(t, 0, code, errs)
	var l backupsJSON
	require.NoError(t, json.Unmarshal([]byte(out), &l), out)
	return l
}

// backupOnce runs backup and returns its folder's id; it waits for the
// next second first so that ids differ without the command waiting.
func backupOnce(t *testing.T, args ...string) *backup.Result {
	t.Helper()
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	code, out, errs := runCLI(append([]string{"backup", "--json"}, args...)...)
	require.Equal(t, 0, code, "%s%s", out, errs)
	var res backup.Result
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	return &res
}

func inode(t *testing.T, p string) uint64 {
	st, err := os.Stat(p)
	require.NoError(t, err)
	return st.Sys().(*syscall.Stat_t).Ino
}

// TestBackupLoopDStream: backup of the generated DStream checkpoint takes
// the restorable cut (the chosen checkpoint, its .bk and both RDD
// directories, not the older checkpoint file), a second backup links
// every file, an incomplete newer folder is skipped and named by
// restore, the restored copy relocated with --map checks clean on the
// local file system, and prune keeps the newest complete backup and the
// newer incomplete one.
func TestBackupLoopDStream(t *testing.T) {
	src := tree.Copy(t, filepath.Join(repoDir(), "fixtures/generated/dstream/hdfs-app"))
	dest := filepath.Join(t.TempDir(), "backups")

	first := backupOnce(t, src, dest)
	m := first.Manifest
	assert.Equal(t, "dstream", m.Kind)
	assert.Equal(t, "hdfs://namenode.example.com:8020/user/spark/checkpoints/hdfs-app", m.CheckpointDir)
	assert.Equal(t, "checkpoint-1700000010000", m.RestoresTo.CheckpointFile)
	assert.Equal(t, int64(1700000010000), m.RestoresTo.CheckpointTimeMs)
	var paths []string
	for _, f := range m.Files {
		paths = append(paths, f.Path)
		raw, err := os.ReadFile(filepath.Join(src, f.Path))
		require.NoError(t, err)
		assert.Equal(t, int64(len(raw)), f.Size, f.Path)
	}
	assert.Contains(t, paths, "checkpoint-1700000010000")
	assert.Contains(t, paths, "checkpoint-1700000010000.bk")
	assert.Contains(t, paths, "3f0c2a9e-5b7d-4c1e-9a2f-6d8e1b4c7a90/rdd-41/part-00000")
	assert.Contains(t, paths, "3f0c2a9e-5b7d-4c1e-9a2f-6d8e1b4c7a90/rdd-57/_partitioner")
	assert.NotContains(t, paths, "checkpoint-1700000005000", "an older checkpoint Spark does not pick is not in the cut")
	assert.Len(t, paths, 12)
	assert.Equal(t, m.Bytes, m.TransferredBytes)
	assert.FileExists(t, filepath.Join(dest, m.ID, backup.ManifestName))

	all := backupOnce(t, src, filepath.Join(t.TempDir(), "all"), "--all")
	assert.Len(t, all.Manifest.Files, 13, "--all copies the older checkpoint file too")

	second := backupOnce(t, src, dest)
	assert.Equal(t, int64(0), second.Manifest.TransferredBytes)
	assert.Equal(t, 12, second.Manifest.LinkedFiles)
	assert.Equal(t, m.ID, second.Manifest.Previous)
	assert.Equal(t, inode(t, filepath.Join(dest, m.ID, "checkpoint-1700000010000")), inode(t, filepath.Join(dest, second.Manifest.ID, "checkpoint-1700000010000")))

	// An interrupted backup newer than every complete one.
	require.NoError(t, os.MkdirAll(filepath.Join(dest, "29991231T235959Z", "3f0c2a9e-5b7d-4c1e-9a2f-6d8e1b4c7a90"), 0o755))
	l := listBackups(t, dest)
	require.Len(t, l, 3)
	assert.Equal(t, "29991231T235959Z", l[0].ID)
	assert.False(t, l[0].Complete)
	assert.Contains(t, l[0].Problem, "no manifest")
	assert.True(t, l[1].Complete)
	assert.Equal(t, second.Manifest.ID, l[1].ID)
	assert.Equal(t, 12, l[1].Files)
	assert.Equal(t, int64(0), l[1].TransferredBytes)
	assert.Equal(t, "checkpoint-1700000010000", l[1].RestoresTo.CheckpointFile)
	code, out, _ := runCLI("backups", dest)
	require.Equal(t, 0, code)
	assert.Regexp(t, `29991231T235959Z +incomplete`, out)

	target := filepath.Join(t.TempDir(), "restored")
	code, out, errs := runCLI("restore", "--dry-run", dest, target)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "skipped 29991231T235959Z")
	assert.Contains(t, out, "would restore backup "+second.Manifest.ID)
	assert.NoDirExists(t, target)

	code, out, errs = runCLI("restore", dest, target,
		"--map", "hdfs://namenode.example.com:8020/user/spark/checkpoints/hdfs-app=file://"+target,
		"--map", "hdfs://namenode.example.com:8020=file:///")
	require.Equal(t, 0, code, "%s%s", out, errs)
	assert.Contains(t, out, "skipped 29991231T235959Z")
	assert.Contains(t, out, "check --expect-fs file:///: ok")
	assert.NoFileExists(t, filepath.Join(target, backup.ManifestName))
	code, out, _ = runCLI("check", target, "--expect-fs", "file:///")
	assert.Equal(t, 0, code, out)

	// Without relocating, the restored copy still names the old namenode: exit 1.
	code, out, _ = runCLI("restore", dest+"/"+m.ID, filepath.Join(t.TempDir(), "r2"))
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "foreign-authority")
	// Naming the incomplete one is refused.
	code, _, errs = runCLI("restore", dest+"/29991231T235959Z", filepath.Join(t.TempDir(), "r3"))
	assert.Equal(t, 2, code)
	assert.Contains(t, errs, "not complete")

	code, _, errs = runCLI("prune", dest)
	assert.Equal(t, 2, code, "prune needs a rule")
	assert.Contains(t, errs, "--keep-last")
	code, out, errs = runCLI("prune", dest, "--keep-last", "1", "--dry-run")
	require.Equal(t, 0, code, errs)
	assert.Regexp(t, m.ID+` +remove +no rule keeps it`, out)
	assert.Len(t, listBackups(t, dest), 3, "dry run")
	code, _, errs = runCLI("prune", dest, "--keep-last", "1")
	require.Equal(t, 0, code, errs)
	l = listBackups(t, dest)
	require.Len(t, l, 2)
	assert.Equal(t, "29991231T235959Z", l[0].ID, "an incomplete backup newer than the newest complete may be running")
	assert.Equal(t, second.Manifest.ID, l[1].ID)
	// The linked files of the pruned backup live on in the kept one.
	code, _, _ = runCLI("restore", dest, filepath.Join(t.TempDir(), "r4"), "--map", "hdfs://namenode.example.com:8020/user/spark/checkpoints/hdfs-app=file:///r4", "--map", "hdfs://namenode.example.com:8020=file:///")
	assert.Equal(t, 0, code)
}

// TestBackupRealTrees backs up real Structured Streaming and DStream
// trees that check clean: the cut restores to the batch (or checkpoint
// file) check names, is no larger than --all, and a restore of it checks
// clean where it lies.
func TestBackupRealTrees(t *testing.T) {
	root := real.Root(t)
	for _, tc := range []struct{ rel, kind string }{
		{"castagnna-spark-streaming/checkpoint", "structured"},
		{"andreasrenghart-pyspark_notebooks/checkpoint", "structured"},
		{"mrblue00-bd_scala_kafka_spark_project/checkpoint", "structured"},
		{"garywangop-twitterspark/checkpoint_TwitterStreamApp", "dstream"},
		{"jleetutorial-python-spark-streaming/2_basics/checkpoint", "dstream"},
		{"shamukh82-hw6/checkpoint", "structured+dstream"},
	} {
		t.Run(tc.rel, func(t *testing.T) {
			src := filepath.Join(root, tc.rel)
			dest := filepath.Join(t.TempDir(), "b")
			res := backupOnce(t, src, dest)
			m := res.Manifest
			assert.Equal(t, tc.kind, m.Kind)
			code, out, _ := runCLI("check", "--json", src)
			require.Equal(t, 0, code)
			var rep struct {
				RunBatch int64
				QueryID  string
				Chosen   struct{ File string }
				// A folder with both kinds reports each.
				Structured *struct {
					RunBatch int64
					QueryID  string
				}
				DStream *struct{ Chosen struct{ File string } }
			}
			require.NoError(t, json.Unmarshal([]byte(out), &rep))
			if rep.Structured != nil {
				rep.RunBatch, rep.QueryID = rep.Structured.RunBatch, rep.Structured.QueryID
			}
			if rep.DStream != nil {
				rep.Chosen = rep.DStream.Chosen
			}
			if tc.kind != "dstream" {
				require.NotNil(t, m.RestoresTo.Batch)
				assert.Equal(t, rep.RunBatch, *m.RestoresTo.Batch)
				assert.Equal(t, rep.QueryID, m.QueryID)
			}
			if tc.kind != "structured" {
				assert.Equal(t, rep.Chosen.File, m.RestoresTo.CheckpointFile)
				assert.NotEmpty(t, m.RestoresTo.CheckpointFile)
			}
			all := backupOnce(t, src, filepath.Join(t.TempDir(), "all"), "--all")
			assert.LessOrEqual(t, len(m.Files), len(all.Manifest.Files))
			t.Logf("%s: cut %d files %d bytes, --all %d files %d bytes", tc.rel, len(m.Files), m.Bytes, len(all.Manifest.Files), all.Manifest.Bytes)
			target := filepath.Join(t.TempDir(), "r")
			code, out, errs := runCLI("restore", dest, target)
			assert.Equal(t, 0, code, "%s%s", out, errs)
		})
	}
	// mrblue00's checkpoint holds three queries side by side: the cut of
	// the outer one leaves the nested ones out.
	res := backupOnce(t, filepath.Join(root, "mrblue00-bd_scala_kafka_spark_project/checkpoint"), filepath.Join(t.TempDir(), "m"))
	for _, f := range res.Manifest.Files {
		assert.NotRegexp(t, `^QueryQueue`, f.Path)
	}
}

// TestBackupNotRestorable: a source whose restart fails (offsets/2
// missing before offsets/3) is not backed up: exit 1 naming why, and no
// folder is left.
func TestBackupNotRestorable(t *testing.T) {
	src := filepath.Join(real.Root(t), "peter-32-hellospark/checkpoint")
	dest := filepath.Join(t.TempDir(), "b")
	code, _, errs := runCLI("backup", src, dest)
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "missing-offsets")
	assert.Empty(t, listBackups(t, dest))
	code, _, _ = runCLI("backup", filepath.Join(t.TempDir(), "nope"), dest)
	assert.Equal(t, 2, code)
}

// TestBackupHDFS: backup from HDFS to the local disk (incremental links)
// and from the local disk to HDFS; backups and restore read HDFS.
func TestBackupHDFS(t *testing.T) { testBackupHDFS(t, startFakeHDFS) }

func testBackupHDFS(t *testing.T, startHDFS func(*testing.T) hdfsPeer) {
	hdfsEnv(t)
	srv := startServer(t)
	src := tree.Copy(t, filepath.Join(repoDir(), "fixtures/generated/dstream/hdfs-app"))
	hsrc := srv.URI() + "/user/spark/checkpoints/hdfs-app"
	code, _, errs := runCLI("cp", src, hsrc, "--map", "hdfs://namenode.example.com:8020="+srv.URI())
	require.Equal(t, 0, code, errs)

	local := filepath.Join(t.TempDir(), "b")
	one := backupOnce(t, hsrc, local)
	assert.Equal(t, hsrc, one.Manifest.Source)
	assert.Equal(t, hsrc, one.Manifest.CheckpointDir)
	assert.Len(t, one.Manifest.Files, 12)
	two := backupOnce(t, hsrc, local)
	assert.Equal(t, 12, two.Manifest.LinkedFiles)

	hdest := srv.URI() + "/backups/hdfs-app"
	h1 := backupOnce(t, src, hdest)
	h2 := backupOnce(t, src, hdest)
	assert.Equal(t, 0, h2.Manifest.LinkedFiles, "HDFS has no hard links: copied again")
	assert.Equal(t, h2.Manifest.Bytes, h2.Manifest.TransferredBytes)
	l := listBackups(t, hdest)
	require.Len(t, l, 2)
	assert.Equal(t, []string{h2.Manifest.ID, h1.Manifest.ID}, []string{l[0].ID, l[1].ID})

	// HDFS backup -> HDFS target on the "new cluster" (same test namenode,
	// new path), relocated, then checked against that namenode.
	target := srv.URI() + "/restored/hdfs-app"
	code, out, errs := runCLI("restore", hdest, target, "--map", "hdfs://namenode.example.com:8020/user/spark/checkpoints/hdfs-app="+target,
		"--map", "hdfs://namenode.example.com:8020="+srv.URI())
	require.Equal(t, 0, code, "%s%s", out, errs)
	assert.Contains(t, out, "check --expect-fs "+srv.URI()+": ok")
	code, out, _ = runCLI("check", target, "--expect-fs", srv.URI())
	assert.Equal(t, 0, code, out)

	code, _, errs = runCLI("prune", hdest, "--keep-last", "1")
	require.Equal(t, 0, code, errs)
	assert.Len(t, listBackups(t, hdest), 1)
}

// TestBackupKill kills backup with SIGKILL after each durable step it
// takes (the folder, every file, the check, the manifest): before the
// manifest the backup is incomplete, backups says so, restore skips it
// for the previous complete backup, prune removes it; the next backup
// takes over the dead run's lock.
func TestBackupKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a real process")
	}
	bin := buildBinary(t)
	src := tree.Copy(t, filepath.Join(repoDir(), "fixtures/generated/dstream/hdfs-app"))
	// Steps: mkdir, 12 files, check, manifest.
	const steps = 15
	for n := 1; n <= steps; n++ {
		dest := filepath.Join(t.TempDir(), "b")
		base := backupOnce(t, src, dest)
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
		cmd := exec.Command(bin, "backup", src, dest)
		cmd.Env = append(os.Environ(), "SPARKCKPT_TEST_KILL_AT_STEP="+strconv.Itoa(n))
		err := cmd.Run()
		require.Error(t, err, "step %d", n)
		ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
		require.True(t, ws.Signaled(), "step %d: %v", n, err)
		l := listBackups(t, dest)
		require.Len(t, l, 2, "step %d", n)
		if n == steps { // killed after the manifest: complete
			assert.True(t, l[0].Complete, "step %d", n)
			continue
		}
		assert.False(t, l[0].Complete, "step %d", n)
		assert.Equal(t, base.Manifest.ID, l[1].ID)
		target := filepath.Join(t.TempDir(), "r")
		code, out, errs := runCLI("restore", dest, target, "--map", "hdfs://namenode.example.com:8020/user/spark/checkpoints/hdfs-app=file://"+target, "--map", "hdfs://namenode.example.com:8020=file:///")
		require.Equal(t, 0, code, "step %d: %s%s", n, out, errs)
		assert.Contains(t, out, "skipped "+l[0].ID)
		assert.Contains(t, out, "restored backup "+base.Manifest.ID)
		// A new backup takes over the killed run's lock.
		third := backupOnce(t, src, dest)
		code, _, errs = runCLI("prune", dest, "--keep-last", "1")
		require.Equal(t, 0, code, errs)
		l = listBackups(t, dest)
		require.Len(t, l, 1, "step %d: prune removes the incomplete and the older complete backup", n)
		assert.Equal(t, third.Manifest.ID, l[0].ID)
		names, _ := filepath.Glob(filepath.Join(dest, "*"))
		sort.Strings(names)
		assert.Equal(t, []string{filepath.Join(dest, third.Manifest.ID)}, names, "step %d: nothing else left under DEST (the lock released)", n)
	}
}

// TestBackupS3: backups to S3 (the test server): the manifest is created
// with If-None-Match, the second backup copies unchanged files server
// side (nothing transferred), backups lists them, restore reads S3 and
// checks the relocated local copy clean, prune removes on S3.
func TestBackupS3(t *testing.T) {
	hdfsEnv(t)
	srv := startS3(t)
	src := tree.Copy(t, filepath.Join(repoDir(), "fixtures/generated/dstream/hdfs-app"))
	dest := "s3://bkt/backups/hdfs-app"
	one := backupOnce(t, src, dest)
	assert.Len(t, one.Manifest.Files, 12)
	assert.Equal(t, one.Manifest.Bytes, one.Manifest.TransferredBytes)
	two := backupOnce(t, src, dest)
	assert.Equal(t, 12, two.Manifest.LinkedFiles, "server-side copies")
	assert.Equal(t, int64(0), two.Manifest.TransferredBytes)
	l := listBackups(t, dest)
	require.Len(t, l, 2)
	assert.True(t, l[0].Complete)
	assert.Equal(t, two.Manifest.ID, l[0].ID)

	target := filepath.Join(t.TempDir(), "r")
	code, out, errs := runCLI("restore", dest, target, "--map", "hdfs://namenode.example.com:8020/user/spark/checkpoints/hdfs-app=file://"+target, "--map", "hdfs://namenode.example.com:8020=file:///")
	require.Equal(t, 0, code, "%s%s", out, errs)
	code, out, _ = runCLI("check", target, "--expect-fs", "file:///")
	assert.Equal(t, 0, code, out)
	got := tree.Snapshot(t, target)
	for _, f := range two.Manifest.Files {
		if f.Path != "checkpoint-1700000010000" && f.Path != "checkpoint-1700000010000.bk" && filepath.Base(f.Path)[0] != '.' {
			want, err := os.ReadFile(filepath.Join(src, f.Path))
			require.NoError(t, err)
			assert.Equal(t, want, got[f.Path], f.Path)
		}
	}

	// A second restore of the same backup into S3 itself, relocated to it.
	s3target := "s3a://bkt/restored/hdfs-app"
	code, out, errs = runCLI("restore", dest+"/"+one.Manifest.ID, s3target, "--map", "hdfs://namenode.example.com:8020/user/spark/checkpoints/hdfs-app="+s3target, "--map", "hdfs://namenode.example.com:8020=s3a://bkt")
	require.Equal(t, 0, code, "%s%s", out, errs)
	assert.Contains(t, out, "check --expect-fs s3a://bkt: ok")

	// The upload of a killed backup: prune aborts it under DEST's lock.
	_, err := srv.Client().CreateMultipartUpload(context.Background(), &s3sdk.CreateMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("backups/hdfs-app/29991231T235959Z/checkpoint-1700000010000")})
	require.NoError(t, err)
	code, out, errs = runCLI("prune", dest, "--keep-last", "1")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "aborted the incomplete multipart upload of s3://bkt/backups/hdfs-app/29991231T235959Z/checkpoint-1700000010000")
	ups, err := srv.Client().ListMultipartUploads(context.Background(), &s3sdk.ListMultipartUploadsInput{Bucket: aws.String("bkt")})
	require.NoError(t, err)
	assert.Empty(t, ups.Uploads)
	l = listBackups(t, dest)
	require.Len(t, l, 1)
	assert.Equal(t, two.Manifest.ID, l[0].ID)
}

// TestRestoreKill kills restore with SIGKILL after each durable step of
// the cp engine: TARGET is then absent or complete (and checks clean),
// and the next restore to it succeeds, removing the killed run's
// temporary directory.
func TestRestoreKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a real process")
	}
	bin := buildBinary(t)
	src := tree.Copy(t, filepath.Join(repoDir(), "fixtures/generated/dstream/hdfs-app"))
	dest := filepath.Join(t.TempDir(), "b")
	backupOnce(t, src, dest)
	complete := 0
	for n := 1; n <= 16; n++ {
		target := filepath.Join(t.TempDir(), "r")
		args := []string{"restore", dest, target, "--map", "hdfs://namenode.example.com:8020/user/spark/checkpoints/hdfs-app=file://" + target, "--map", "hdfs://namenode.example.com:8020=file:///"}
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "SPARKCKPT_TEST_KILL_AT_STEP="+strconv.Itoa(n))
		err := cmd.Run()
		if err == nil {
			assert.Greater(t, n, 14, "restore took fewer steps than expected")
			break
		}
		require.True(t, cmd.ProcessState.Sys().(syscall.WaitStatus).Signaled(), "step %d: %v", n, err)
		if _, err := os.Stat(target); err == nil {
			complete++
			code, out, _ := runCLI("check", target, "--expect-fs", "file:///")
			assert.Equal(t, 0, code, "step %d: a TARGET that exists is complete: %s", n, out)
			continue
		}
		code, out, errs := runCLI(args...)
		require.Equal(t, 0, code, "step %d: %s%s", n, out, errs)
		left, _ := filepath.Glob(filepath.Join(filepath.Dir(target), ".sparkckpt-tmp-*"))
		assert.Empty(t, left, "step %d", n)
	}
	assert.Equal(t, 1, complete, "killed after the rename only")
}

// TestBackupLocked: while another run holds DEST's lock, backup and
// prune exit 2 naming it and write nothing; a dry run needs no lock.
func TestBackupLocked(t *testing.T) {
	src := filepath.Join(repoDir(), "fixtures/generated/dstream/hdfs-app")
	dest := filepath.Join(t.TempDir(), "b")
	require.NoError(t, os.MkdirAll(dest, 0o755))
	local := store.NewLocal("/")
	name, err := store.LocalName(dest)
	require.NoError(t, err)
	l, err := lock.Acquire(local, store.Join(name, backup.LockDir), dest+"/"+backup.LockDir)
	require.NoError(t, err)
	code, _, errs := runCLI("backup", src, dest)
	assert.Equal(t, 2, code)
	assert.Contains(t, errs, "locked")
	code, _, errs = runCLI("prune", dest, "--keep-last", "1")
	assert.Equal(t, 2, code)
	assert.Contains(t, errs, "locked")
	assert.Empty(t, listBackups(t, dest))
	code, out, errs := runCLI("backup", "--dry-run", src, dest)
	assert.Equal(t, 0, code, errs)
	assert.Contains(t, out, "would back up")
	assert.Empty(t, listBackups(t, dest), "a dry run writes nothing")
	require.NoError(t, l.Release())
	backupOnce(t, src, dest)
	assert.Len(t, listBackups(t, dest), 1)
}
