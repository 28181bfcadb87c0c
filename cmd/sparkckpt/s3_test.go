package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sparkckpt/sparkckpt/decode/check"
	"github.com/sparkckpt/sparkckpt/decode/crcfile"
	"github.com/sparkckpt/sparkckpt/fixtures/real"
	"github.com/sparkckpt/sparkckpt/fixtures/tree"
	"github.com/sparkckpt/sparkckpt/rewrite"
	"github.com/sparkckpt/sparkckpt/rewrite/copytree"
	"github.com/sparkckpt/sparkckpt/store"
	"github.com/sparkckpt/sparkckpt/store/s3/s3test"
)

// startS3 starts versitygw with bucket "bkt" and points the AWS
// configuration of this process (and of the processes it starts) at it:
// AWS_ENDPOINT_URL_S3, keys and region, no other flag.
func startS3(t *testing.T) *s3test.Server {
	t.Helper()
	srv := s3test.Start(t)
	srv.SetEnv(t)
	srv.CreateBucket(t, "bkt")
	return srv
}

// TestCheckOnS3 copies a checkpoint with its write-ahead log to S3 with
// cp, relocating it to s3a://bkt, then reads it where it lives: inspect,
// uris, check (clean against s3a://bkt, foreign against the old
// namenode, a missing RDD directory found), cat and dump.
func TestCheckOnS3(t *testing.T) {
	hdfsEnv(t)
	srv := startS3(t)
	src := tree.Copy(t, filepath.Join(repoDir(), "fixtures/generated/dstream/hdfs-app"))
	tree.CopyInto(t, filepath.Join(repoDir(), "fixtures/generated/wal/ckpt-hdfs"), src)
	dst := "s3a://bkt/user/spark/checkpoints/hdfs-app"
	code, _, errs := runCLI("cp", src, dst, "--map", "hdfs://namenode.example.com:8020=s3a://bkt", "--map", "hdfs://namenode.example:8020=s3a://bkt")
	require.Equal(t, 0, code, errs)

	code, out, errs := runCLI("inspect", dst)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, dst+"/checkpoint-1700000010000")
	assert.Regexp(t, `checkpointDir +`+dst+`\n`, out)
	assert.Contains(t, out, "write-ahead log (receivedBlockMetadata)")

	code, out, errs = runCLI("uris", "--json", dst)
	require.Equal(t, 0, code, errs)
	var refs []struct{ URI, Scheme, Authority, Role, File string }
	require.NoError(t, json.Unmarshal([]byte(out), &refs))
	roles := map[string]bool{}
	for _, r := range refs {
		assert.NotContains(t, r.URI, "namenode.example", r.File)
		if r.Scheme == "s3a" && r.Authority == "bkt" {
			roles[r.Role] = true
		}
	}
	for _, role := range []string{"checkpointDir", "rdd-checkpoint", "wal-segment", "python-function"} {
		assert.True(t, roles[role], role)
	}

	code, out, errs = runCLI("check", "--json", dst, "--expect-fs", "s3a://bkt")
	require.Equal(t, 0, code, "%s%s", out, errs)
	var rep struct {
		OK            bool
		CheckpointDir string
		Chosen        struct{ File string }
		Findings      []struct{ Severity, Code string }
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.True(t, rep.OK)
	assert.Equal(t, dst, rep.CheckpointDir)
	assert.Equal(t, "checkpoint-1700000010000", rep.Chosen.File)
	for _, f := range rep.Findings {
		assert.NotEqual(t, "error", f.Severity, f.Code)
		assert.NotEqual(t, "missing-rdd-checkpoint", f.Code, "the RDD directories are found on S3")
	}
	code, out, _ = runCLI("check", dst, "--expect-fs", "hdfs://namenode.example.com:8020")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "foreign-authority")

	code, out, errs = runCLI("cat", "--json", dst+"/checkpoint-1700000010000")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, `"codec": "lz4"`)
	code, out, errs = runCLI("dump", dst+"/checkpoint-1700000010000")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "org.apache.spark.streaming.Checkpoint")

	// Delete one referenced RDD checkpoint directory on S3.
	st := newStores(context.Background(), os.Getenv, 0)
	defer st.Close()
	loc, err := st.open(dst + "/3f0c2a9e-5b7d-4c1e-9a2f-6d8e1b4c7a90/rdd-57")
	require.NoError(t, err)
	require.NoError(t, store.RemoveAll(loc.store, loc.name))
	code, out, _ = runCLI("check", dst, "--expect-fs", "s3a://bkt")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "missing-rdd-checkpoint")
	assert.Contains(t, out, "rdd-57")

	// The endpoint from --s3-endpoint, or from AWS_ENDPOINT_URL.
	t.Setenv("AWS_ENDPOINT_URL_S3", "")
	code, out, errs = runCLI("inspect", "--s3-endpoint", srv.Endpoint, dst)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, dst+"/checkpoint-1700000010000")
	t.Setenv("AWS_ENDPOINT_URL", srv.Endpoint)
	code, _, errs = runCLI("inspect", dst)
	require.Equal(t, 0, code, errs)
}

// TestCpS3AllDirections copies a checkpoint local -> S3 -> HDFS -> S3 ->
// S3 (under another scheme) -> local: every copy byte for byte the
// source (sidecars dropped going to stores without them, recreated
// coming back to the local disk), relocated on the way back to HDFS.
func TestCpS3AllDirections(t *testing.T) {
	hdfsEnv(t)
	startS3(t)
	hsrv := startServer(t)
	src := filepath.Join(repoDir(), "fixtures/generated/dstream/hdfs-app")
	plain := withoutSidecars(tree.Snapshot(t, src))

	steps := []struct{ from, to string }{
		{src, "s3://bkt/backup/hdfs-app"},                   // local -> S3
		{"s3://bkt/backup/hdfs-app", hsrv.URI() + "/ckpt"},  // S3 -> HDFS
		{hsrv.URI() + "/ckpt", "s3a://bkt/again/hdfs-app"},  // HDFS -> S3
		{"s3a://bkt/again/hdfs-app", "s3n://bkt/third/app"}, // S3 -> S3
	}
	for _, s := range steps {
		code, out, errs := runCLI("cp", s.from, s.to)
		require.Equal(t, 0, code, "%s -> %s: %s%s", s.from, s.to, out, errs)
		assert.Contains(t, out, "copied "+s.from+" -> "+s.to)
		assert.Empty(t, tree.Diff(plain, snapshotURI(t, s.to)), "%s -> %s", s.from, s.to)
	}
	back := filepath.Join(t.TempDir(), "restored")
	code, out, errs := runCLI("cp", "s3n://bkt/third/app", back) // S3 -> local
	require.Equal(t, 0, code, "%s%s", out, errs)
	restored := tree.Snapshot(t, back)
	assert.Empty(t, tree.Diff(plain, withoutSidecars(restored)))
	sidecars := 0
	for rel, b := range restored {
		if data, ok := crcfile.IsSidecar(path.Base(rel)); ok {
			sidecars++
			assert.NoError(t, crcfile.Verify(restored[path.Join(path.Dir(rel), data)], b), rel)
		}
	}
	assert.Equal(t, 13, sidecars, "sidecars created as Hadoop's LocalFileSystem writes them")

	// Restore from the S3 backup to HDFS, relocated, in one step.
	code, out, errs = runCLI("cp", "--json", "s3://bkt/backup/hdfs-app", hsrv.URI()+"/user/spark/checkpoints/hdfs-app", "--map", "hdfs://namenode.example.com:8020="+hsrv.URI())
	require.Equal(t, 0, code, "%s%s", out, errs)
	var res struct {
		CheckpointDir string   `json:"checkpointDir"`
		Rewritten     int      `json:"rewritten"`
		Warnings      []string `json:"warnings"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	assert.Equal(t, hsrv.URI()+"/user/spark/checkpoints/hdfs-app", res.CheckpointDir)
	assert.Equal(t, 3, res.Rewritten)
	assert.Empty(t, res.Warnings)
	code, out, errs = runCLI("check", hsrv.URI()+"/user/spark/checkpoints/hdfs-app", "--expect-fs", hsrv.URI())
	assert.Equal(t, 0, code, "%s%s", out, errs)
}

// TestRewriteOnS3 rewrites checkpoints where they live on S3: the dry
// run writes nothing, --apply gives byte for byte what the same rewrite
// gives on the local disk, a second run changes nothing, --undo restores
// the exact originals, with the journal and backups on S3 or locally.
func TestRewriteOnS3(t *testing.T) {
	hdfsEnv(t)
	startS3(t)
	to := "s3a://bkt"
	for _, c := range rewriteCases {
		t.Run(c.name, func(t *testing.T) {
			src := filepath.Join(repoDir(), c.src)
			dst := to + "/user/spark/" + c.name
			code, _, errs := runCLI("cp", src, dst)
			require.Equal(t, 0, code, errs)
			orig := snapshotURI(t, dst)
			require.Equal(t, withoutSidecars(tree.Snapshot(t, src)), orig)

			ref := tree.Copy(t, src)
			code, out, errs := runCLI("rewrite", ref, "--from", c.from, "--to", to, "--apply", "--backup-dir", ref+".bak")
			require.Equal(t, 0, code, "%s%s", out, errs)
			want := withoutSidecars(tree.Snapshot(t, ref))
			require.NotEqual(t, orig, want)

			code, out, errs = runCLI("rewrite", dst, "--from", c.from, "--to", to)
			require.Equal(t, 0, code, "%s%s", out, errs)
			assert.Contains(t, out, "dry run, nothing written")
			assert.Equal(t, orig, snapshotURI(t, dst))

			code, out, errs = runCLI("rewrite", "--json", dst, "--from", c.from, "--to", to, "--apply")
			require.Equal(t, 0, code, "%s%s", out, errs)
			var res struct {
				Applied bool
				Journal string
				Files   []struct{ File string }
			}
			require.NoError(t, json.Unmarshal([]byte(out), &res))
			assert.True(t, res.Applied)
			require.True(t, strings.HasPrefix(res.Journal, dst+".sparkckpt-backup-"), res.Journal)
			assert.Empty(t, tree.Diff(want, snapshotURI(t, dst)), "S3 and local rewrites differ")
			backups := snapshotURI(t, strings.TrimSuffix(res.Journal, "/"+rewrite.JournalName)+"/files")
			require.Len(t, backups, len(res.Files))
			for rel, b := range backups {
				assert.Equal(t, orig[rel], b, rel)
			}
			if c.name == "dstream" {
				code, out, errs = runCLI("check", dst, "--expect-fs", to)
				assert.Equal(t, 0, code, "%s%s", out, errs)
			}
			code, out, _ = runCLI("rewrite", dst, "--from", c.from, "--to", to, "--apply")
			require.Equal(t, 0, code, out)
			assert.Contains(t, out, "nothing to rewrite")

			code, out, errs = runCLI("rewrite", "--undo", res.Journal)
			require.Equal(t, 0, code, "%s%s", out, errs)
			assert.Equal(t, orig, snapshotURI(t, dst))

			bak := filepath.Join(t.TempDir(), "bak")
			code, out, errs = runCLI("rewrite", dst, "--from", c.from, "--to", to, "--apply", "--backup-dir", bak)
			require.Equal(t, 0, code, "%s%s", out, errs)
			assert.Empty(t, tree.Diff(want, snapshotURI(t, dst)))
			code, out, errs = runCLI("rewrite", "--undo", filepath.Join(bak, rewrite.JournalName))
			require.Equal(t, 0, code, "%s%s", out, errs)
			assert.Equal(t, orig, snapshotURI(t, dst))
		})
	}
}

// TestRewriteCrashS3 kills 'rewrite --apply' on S3 after every durable
// step and at random times, then completes it with --resume or rolls it
// back with --undo: right after the kill every object is entirely the
// original or entirely the new version (one PUT each), and afterwards
// the directory is exactly one of the two.
func TestRewriteCrashS3(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test builds and kills a real process")
	}
	hdfsEnv(t)
	startS3(t)
	bin := buildBinary(t)
	to := "s3a://bkt"
	runs := 0
	rng := rand.New(rand.NewSource(3))
	for _, c := range rewriteCases {
		src := filepath.Join(repoDir(), c.src)
		orig := withoutSidecars(tree.Snapshot(t, src))
		ref := tree.Copy(t, src)
		code, out, errs := runCLI("rewrite", ref, "--from", c.from, "--to", to, "--apply", "--backup-dir", ref+".bak")
		require.Equal(t, 0, code, "%s%s", out, errs)
		want := withoutSidecars(tree.Snapshot(t, ref))

		attempt := func(name string, kill func(*exec.Cmd), resume bool) {
			runs++
			work := to + "/crash/" + c.name + "-" + strconv.Itoa(runs)
			code, _, errs := runCLI("cp", src, work)
			require.Equal(t, 0, code, errs)
			cmd := exec.Command(bin, "rewrite", work, "--from", c.from, "--to", to, "--apply", "--backup-dir", work+".bak")
			kill(cmd)
			for rel, b := range withoutLeftovers(snapshotURI(t, work)) {
				assert.True(t, bytes.Equal(b, orig[rel]) || bytes.Equal(b, want[rel]), "%s: %s is neither original nor rewritten", name, rel)
			}
			jpath := work + ".bak/" + rewrite.JournalName
			st := newStores(context.Background(), os.Getenv, 0)
			jp, err := st.place(jpath)
			require.NoError(t, err)
			_, err = jp.Store.Stat(jp.Name)
			st.Close()
			if errors.Is(err, fs.ErrNotExist) {
				assert.Empty(t, tree.Diff(orig, withoutLeftovers(snapshotURI(t, work))), "%s: killed before the journal: nothing changed", name)
				return
			}
			require.NoError(t, err)
			flag, expect := "--undo", orig
			if resume {
				flag, expect = "--resume", want
			}
			out, err := exec.Command(bin, "rewrite", flag, jpath).CombinedOutput()
			require.NoError(t, err, "%s: %s", name, out)
			assert.Empty(t, tree.Diff(expect, snapshotURI(t, work)), "%s: after %s", name, flag)
			assert.Len(t, snapshotURI(t, work), len(expect), "%s: after %s: leftovers", name, flag)
		}
		killEverywhere(t, c.name+" ", attempt, rng, 4, 60*time.Millisecond)
	}
	t.Logf("%d interrupted rewrites on S3, all completed or rolled back", runs)
	assert.GreaterOrEqual(t, runs, 20)
}

// TestCpKilledS3 kills 'cp' to S3 after every durable step: until the
// last step the destination does not exist or holds the incomplete-copy
// marker (check says incomplete-copy, exit 1, or not a checkpoint yet,
// exit 2), and never a checkpoint file before the rest; after it the
// copy is complete. A new cp replaces the incomplete copy and says so.
func TestCpKilledS3(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a real process")
	}
	hdfsEnv(t)
	startS3(t)
	bin := buildBinary(t)
	src := filepath.Join(repoDir(), "fixtures/generated/dstream/hdfs-app")
	mapping := "hdfs://namenode.example.com:8020=s3a://bkt"
	ref := filepath.Join(t.TempDir(), "ref")
	out, err := exec.Command(bin, "cp", src, ref, "--map", mapping).CombinedOutput()
	require.NoError(t, err, string(out))
	want := withoutSidecars(tree.Snapshot(t, ref))
	const steps = 1 + 13 + 1 + 1 // mkdir, 13 files, verify, marker removed

	for step := 1; step <= steps; step++ {
		dst := fmt.Sprintf("s3a://bkt/killed-%d/ckpt", step)
		cmd := exec.Command(bin, "cp", src, dst, "--map", mapping, "--parallel", "2")
		cmd.Env = append(os.Environ(), "SPARKCKPT_TEST_KILL_AT_STEP="+strconv.Itoa(step))
		err := cmd.Run()
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee, "step %d: cp was not killed", step)

		got := snapshotURI(t, dst)
		if step == steps {
			assert.Empty(t, tree.Diff(want, got), "killed after the marker's removal, the copy is complete")
			continue
		}
		require.Contains(t, got, check.IncompleteCopyName, "step %d: the destination is recognisably incomplete", step)
		for rel := range got {
			if rewrite.KindOfPath(rel) != rewrite.KindCheckpoint {
				continue
			}
			for w := range want { // a checkpoint file only once every other file is there
				if rewrite.KindOfPath(w) != rewrite.KindCheckpoint {
					assert.Contains(t, got, w, "step %d: %s written before %s", step, rel, w)
				}
			}
		}
		code, out, errs := runCLI("check", dst)
		if code == 2 {
			assert.Contains(t, errs, "is an incomplete copy", "step %d", step)
		} else {
			assert.Equal(t, 1, code, "step %d: %s", step, out)
			assert.Contains(t, out, "incomplete-copy", "step %d", step)
		}
		// A new cp replaces it and says so.
		out2, err := exec.Command(bin, "cp", "--json", src, dst, "--map", mapping).Output()
		require.NoError(t, err, "step %d", step)
		var res copytree.Report
		require.NoError(t, json.Unmarshal(out2, &res))
		assert.Equal(t, []string{strings.TrimPrefix(dst, "s3a://bkt/")}, res.Replaced, "step %d", step)
		assert.Empty(t, tree.Diff(want, snapshotURI(t, dst)), "step %d", step)
	}
}

// TestS3Errors: every S3 failure is one line on stderr and exit 2.
func TestS3Errors(t *testing.T) {
	hdfsEnv(t)
	srv := startS3(t)
	closed := closedPort(t)
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no such bucket", nil, []string{"check", "s3a://nobucket/ckpt"}, "sparkckpt: s3a://nobucket: no such bucket at " + srv.Endpoint + "\n"},
		{"access denied", map[string]string{"AWS_SECRET_ACCESS_KEY": "wrong"}, []string{"inspect", "s3://bkt/ckpt"}, "sparkckpt: s3://bkt: access denied (HeadBucket, access key sparkckpt-test at " + srv.Endpoint + ")\n"},
		{"wrong region", map[string]string{"AWS_REGION": "eu-west-1"}, []string{"uris", "s3n://bkt/ckpt"}, "sparkckpt: s3n://bkt: the bucket is in region us-east-1, not eu-west-1 (from the AWS configuration): set AWS_REGION=us-east-1\n"},
		{"unreachable", nil, []string{"cp", "--s3-endpoint", "http://" + closed, "s3://bkt/a", "s3://bkt/b"}, "sparkckpt: s3://bkt: S3 endpoint http://" + closed + " unreachable: dial tcp " + closed + ": connect: connection refused\n"},
		{"missing object", nil, []string{"cat", "s3://bkt/nothing"}, "sparkckpt: stat s3://bkt/nothing: file does not exist\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			start := time.Now()
			code, _, errs := runCLI(c.args...)
			assert.Equal(t, exitError, code)
			assert.Equal(t, c.want, errs)
			assert.Less(t, time.Since(start), 10*time.Second)
		})
	}
	t.Run("no credentials", func(t *testing.T) {
		t.Setenv("AWS_ACCESS_KEY_ID", "")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "")
		code, _, errs := runCLI("check", "s3://bkt/ckpt")
		assert.Equal(t, exitError, code)
		assert.Equal(t, 1, strings.Count(errs, "\n"), errs)
		assert.True(t, strings.HasPrefix(errs, "sparkckpt: S3: no AWS credentials found; tried the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), ~/.aws/credentials and ~/.aws/config (profile default: keys, assume-role, SSO, credential_process), web identity (AWS_WEB_IDENTITY_TOKEN_FILE), the container endpoint and EC2 instance metadata (IMDSv2): "), errs)
	})
}

// TestCheckEMRCheckpointOffEMR: a checkpoint written on EMR names its
// bucket s3://bkt (EMRFS); restored where s3a://bkt is the filesystem,
// check says s3:// does not resolve off EMR and gives the --map fix,
// which makes it pass. s3n:// references count as s3a://.
func TestCheckEMRCheckpointOffEMR(t *testing.T) {
	ckpt := tree.Copy(t, filepath.Join(repoDir(), "fixtures/generated/dstream/hdfs-app"))
	code, out, errs := runCLI("rewrite", ckpt, "--from", "hdfs://namenode.example.com:8020", "--to", "s3://bkt", "--apply", "--backup-dir", ckpt+".bak1")
	require.Equal(t, 0, code, "%s%s", out, errs)

	code, out, errs = runCLI("check", "--json", ckpt, "--expect-fs", "s3a://bkt")
	require.Equal(t, 1, code, "%s%s", out, errs)
	var rep struct {
		Findings []struct {
			Severity, Code, Message, Fix, Shell string
			Command                             []string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	found := false
	for _, f := range rep.Findings {
		if f.Code != "foreign-authority" {
			continue
		}
		assert.Contains(t, f.Message, "the same bucket as s3a://bkt, but s3:// is EMRFS, which only EMR resolves")
		assert.Contains(t, f.Message, `no FileSystem for scheme "s3"`)
		assert.Equal(t, []string{"sparkckpt", "rewrite", ckpt, "--map", "s3://bkt=s3a://bkt"}, f.Command)
		assert.Equal(t, "sparkckpt rewrite "+ckpt+" --map s3://bkt=s3a://bkt", f.Shell)
		assert.NotContains(t, f.Fix, "sparkckpt rewrite", "fix is prose; the command is apart")
		if f.Severity == "error" {
			found = true
		}
	}
	require.True(t, found, "%s", out)

	// The fix as given, then the check passes.
	code, out, errs = runCLI("rewrite", ckpt, "--map", "s3://bkt=s3a://bkt", "--apply", "--backup-dir", ckpt+".bak2")
	require.Equal(t, 0, code, "%s%s", out, errs)
	code, out, errs = runCLI("check", ckpt, "--expect-fs", "s3a://bkt")
	assert.Equal(t, 0, code, "%s%s", out, errs)
	// s3n:// names the same place.
	code, out, errs = runCLI("check", ckpt, "--expect-fs", "s3n://bkt")
	assert.Equal(t, 0, code, "%s%s", out, errs)
	// On EMR (s3:// expected) s3a:// resolves too.
	code, out, errs = runCLI("check", ckpt, "--expect-fs", "s3://bkt")
	assert.Equal(t, 0, code, "%s%s", out, errs)
}

// TestBrowseTmuxS3 drives sparkckpt browse on a checkpoint on S3 (the
// binary reaches versitygw through AWS_ENDPOINT_URL_S3 like any S3): the
// first screen with the URI as title, a search reading every file from
// S3, the URIs view, and a rewrite applied from the browser, whose files
// are then what 'rewrite --apply' makes.
func TestBrowseTmuxS3(t *testing.T) {
	requireTmux(t)
	hdfsEnv(t)
	startS3(t)
	bin := buildSparkckpt(t)
	local := tree.Copy(t, filepath.Join(repoDir(), "fixtures", "generated", "dstream", "hdfs-app"))
	uri := putTree(t, local, "s3a://bkt/ckpt/hdfs-app")
	s := startTmux(t, bin, "browse", "--expect-fs", "hdfs://new-nn:8020", uri)
	scr := s.waitFor("★ Spark restores from this file", "Metadata checkpoints (3 files", "RDD checkpoint data (10 files", " sparkckpt browse  "+uri, "hdfs-app/ 13 files", "checkpointDir  hdfs://namenode.example.com:8020") // all of it: a screen may be caught mid-draw
	for _, w := range []string{" sparkckpt browse  " + uri, "hdfs-app/ 13 files", "checkpointDir  hdfs://namenode.example.com:8020"} {
		if !strings.Contains(scr, w) {
			t.Errorf("first screen lacks %q:\n%s", w, scr)
		}
	}
	s.keys("/")
	s.waitFor("enter: search every file")
	s.text("incoming")
	s.keys("Enter")
	s.waitFor(`Search "incoming": 7 hits in 13 of 13 files`)
	s.keys("Escape")
	s.waitFor("enter open")
	s.keys("u")
	s.waitFor("URIs by authority", "hdfs://namenode.example.com:8020  29 references in 3 files  ⚠ not on --expect-fs")
	s.keys("Escape")
	s.waitFor("enter open")
	s.keys("q")
	if st := s.exited(); st != "0" {
		t.Errorf("exit status %s:\n%s", st, s.capture())
	}

	ref := tree.Copy(t, local)
	code, out, errs := runCLI("rewrite", ref, "--from", "hdfs://namenode.example.com:8020", "--to", "s3a://bkt", "--apply", "--backup-dir", ref+".bak")
	require.Equal(t, 0, code, "%s%s", out, errs)
	s = startTmux(t, bin, "browse", uri)
	s.waitFor("★ Spark restores from this file")
	s.keys("r")
	s.waitFor("Rewrite preview", "from  hdfs://namenode.example.com:8020")
	s.text("s3a://bkt")
	s.keys("Enter")
	s.waitFor("29 changes in 3 files", "Dry run, nothing written")
	s.keys("a")
	s.waitFor("Press y to apply", uri+".sparkckpt-backup-")
	s.keys("y")
	s.waitFor("applied; journal "+uri+".sparkckpt-backup-", "checkpointDir  s3a://bkt/user/spark")
	s.keys("q")
	if st := s.exited(); st != "0" {
		t.Errorf("exit status %s:\n%s", st, s.capture())
	}
	assert.Empty(t, tree.Diff(withoutSidecars(tree.Snapshot(t, ref)), snapshotURI(t, uri)), "the browser's rewrite on S3 is the CLI's")
}

// TestCheckReportsIncompleteUploads: check on S3 lists the multipart
// uploads left under the checkpoint (a warning: Spark is unaffected,
// S3 bills them) with the command that aborts them, and writes nothing.
func TestCheckReportsIncompleteUploads(t *testing.T) {
	hdfsEnv(t)
	srv := startS3(t)
	dst := "s3a://bkt/ckpt/hdfs-app"
	code, _, errs := runCLI("cp", filepath.Join(repoDir(), "fixtures/generated/dstream/hdfs-app"), dst, "--map", "hdfs://namenode.example.com:8020=s3a://bkt")
	require.Equal(t, 0, code, errs)
	code, out, _ := runCLI("check", dst)
	require.Equal(t, 0, code, out)
	require.NotContains(t, out, "incomplete-upload")

	up, err := srv.Client().CreateMultipartUpload(context.Background(), &s3sdk.CreateMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("ckpt/hdfs-app/checkpoint-1700000015000")})
	require.NoError(t, err)
	code, out, errs = runCLI("check", "--json", dst)
	require.Equal(t, 0, code, "%s%s", out, errs)
	var rep struct {
		Counts   struct{ Warning int }
		Findings []struct{ Severity, Code, File, Message, Fix, Shell string }
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	var got []string
	for _, f := range rep.Findings {
		if f.Code == "incomplete-upload" {
			assert.Equal(t, "warning", f.Severity)
			assert.Equal(t, "checkpoint-1700000015000", f.File)
			assert.Contains(t, f.Message, "1 incomplete multipart upload(s) under "+dst)
			assert.NotContains(t, f.Fix, "aws ", "fix is prose; the command is apart")
			got = append(got, f.Shell)
		}
	}
	assert.Equal(t, []string{"aws s3api abort-multipart-upload --bucket bkt --key ckpt/hdfs-app/checkpoint-1700000015000 --upload-id " + check.ShellQuote(aws.ToString(up.UploadId))}, got)
	ups, err := srv.Client().ListMultipartUploads(context.Background(), &s3sdk.ListMultipartUploadsInput{Bucket: aws.String("bkt")})
	require.NoError(t, err)
	assert.Len(t, ups.Uploads, 1, "check aborts nothing")
}

// TestStructuredOnS3: a real Structured Streaming checkpoint (Spark-written,
// from the real fixtures) copied to S3 inspects and checks there exactly
// as on the local disk: same verdict, batch, state and finding codes.
func TestStructuredOnS3(t *testing.T) {
	hdfsEnv(t)
	startS3(t)
	src := tree.Copy(t, filepath.Join(real.Root(t), "devfranhan-data-eng-filling", "checkpoint"))
	uri := putTree(t, src, "s3n://bkt/real/checkpoint")
	type summary struct {
		OK           bool
		RunBatch     *int64
		StateVersion *int64
		Counts       struct{ Error, Warning, Info int }
		Findings     []struct{ Severity, Code string }
	}
	read := func(args ...string) summary {
		code, out, errs := runCLI(args...)
		require.Contains(t, []int{0, 1}, code, "%v: %s%s", args, out, errs)
		var s summary
		require.NoError(t, json.Unmarshal([]byte(out), &s), out)
		return s
	}
	local := read("check", "--json", src)
	remote := read("check", "--json", uri)
	assert.Equal(t, local, remote)
	_, lout, _ := runCLI("inspect", "--json", src)
	code, rout, errs := runCLI("inspect", "--json", uri)
	require.Equal(t, 0, code, errs)
	var l, r struct {
		Kind, QueryID string
		LatestBatch   *int64
		Files         int
		Bytes         int64
	}
	require.NoError(t, json.Unmarshal([]byte(lout), &l))
	require.NoError(t, json.Unmarshal([]byte(rout), &r))
	assert.Equal(t, "structured", r.Kind)
	assert.Equal(t, l.QueryID, r.QueryID)
	assert.Equal(t, l.LatestBatch, r.LatestBatch)
}
