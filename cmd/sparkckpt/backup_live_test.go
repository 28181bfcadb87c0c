package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sparkckpt/sparkckpt/rewrite/backup"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// liveWriter replays a Structured Streaming query's history into dir as
// Spark writes it, batch after batch: the file source log entry, the
// offsets, every partition's state delta (and snapshot), then the commit,
// each file (and its .crc sidecar) written to a Spark-style temporary and
// renamed; and it deletes what Spark's maintenance deletes: state files
// older than the newest snapshot a restart still needs, and offsets and
// commits more than retain batches old.
type liveWriter struct {
	full, dir  string
	partitions int
	retain     int64
	pause      time.Duration
}

func (w *liveWriter) put(rel string) error {
	for _, r := range []string{rel, filepath.Join(filepath.Dir(rel), "."+filepath.Base(rel)+".crc")} {
		b, err := os.ReadFile(filepath.Join(w.full, r))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return err
		}
		dst := filepath.Join(w.dir, r)
		tmp := filepath.Join(filepath.Dir(dst), "."+filepath.Base(dst)+".3f2c.tmp")
		if err := os.WriteFile(tmp, b, 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, dst); err != nil {
			return err
		}
	}
	return nil
}

func (w *liveWriter) remove(rel string) {
	os.Remove(filepath.Join(w.dir, rel))
	os.Remove(filepath.Join(w.dir, filepath.Dir(rel), "."+filepath.Base(rel)+".crc"))
}

func pathExists(p string) bool { _, err := os.Stat(p); return err == nil }

// batch writes batch b as Spark does, then runs maintenance.
func (w *liveWriter) batch(b int64) error {
	bs := strconv.FormatInt(b, 10)
	src := "sources/0/" + bs
	if pathExists(filepath.Join(w.full, src+".compact")) {
		src += ".compact"
	}
	steps := []string{src, "offsets/" + bs}
	v := strconv.FormatInt(b+1, 10)
	for p := range w.partitions {
		d := fmt.Sprintf("state/0/%d/", p)
		steps = append(steps, d+v+".delta")
		if pathExists(filepath.Join(w.full, d+v+".snapshot")) {
			steps = append(steps, d+v+".snapshot")
		}
	}
	steps = append(steps, "commits/"+bs)
	for _, s := range steps {
		if err := w.put(s); err != nil {
			return err
		}
		time.Sleep(w.pause)
	}
	// Maintenance: keep the state of the last retain versions.
	keepFrom := b + 1 - w.retain
	var snap int64 = -1
	for s := keepFrom; s >= 1; s-- {
		if pathExists(filepath.Join(w.dir, "state/0/0", strconv.FormatInt(s, 10)+".snapshot")) {
			snap = s
			break
		}
	}
	if snap > 0 {
		for p := range w.partitions {
			for s := int64(1); s < snap; s++ {
				for _, kind := range []string{".delta", ".snapshot"} {
					w.remove(fmt.Sprintf("state/0/%d/%d%s", p, s, kind))
				}
			}
		}
	}
	for old := int64(0); old < b-w.retain; old++ {
		w.remove("offsets/" + strconv.FormatInt(old, 10))
		w.remove("commits/" + strconv.FormatInt(old, 10))
	}
	return nil
}

// TestBackupLiveWriter backs up a Structured Streaming checkpoint again
// and again while a writer replays its history as Spark does (new
// offsets, state deltas and snapshots, commits; old state, offsets and
// commits deleted): every backup that completes restores (its source log
// relocated from hdfs://namenode:8020 to the local disk with --map), and its
// restored copy checks clean and restarts at the batch the manifest
// names. Backups Spark tore are retried or refused (exit 1), never
// completed.
func TestBackupLiveWriter(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a checkpoint and runs many backups")
	}
	full := filepath.Join(t.TempDir(), "full")
	out, err := exec.Command("go", "run", filepath.Join(repoDir(), "fixtures/structgen"), "-out", full,
		"-files", "600", "-bytes", "2e6", "-partitions", "4", "-snapshot-every", "2").CombinedOutput()
	require.NoError(t, err, string(out))
	var gen struct{ Batches int64 }
	require.NoError(t, json.Unmarshal(out[strings.LastIndexByte(strings.TrimSpace(string(out)), '\n')+1:], &gen))
	require.Greater(t, gen.Batches, int64(30))

	dir := filepath.Join(t.TempDir(), "live")
	w := &liveWriter{full: full, dir: dir, partitions: 4, retain: 1, pause: 40 * time.Millisecond}
	for _, d := range []string{"offsets", "commits", "sources/0", "state/0/0", "state/0/1", "state/0/2", "state/0/3"} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, d), 0o755))
	}
	require.NoError(t, w.put("metadata"))
	const startAt = 8
	pause := w.pause
	w.pause = 0
	for b := int64(0); b < startAt; b++ {
		require.NoError(t, w.batch(b))
	}
	w.pause = pause
	code, outS, _ := runCLI("check", dir)
	require.Equal(t, 0, code, "the replayed checkpoint checks clean: %s", outS)

	// A slow copy (10 ms a file: a cut takes about a second), so that Spark
	// overtakes it: it deletes files of the cut while they are copied.
	t.Setenv("SPARKCKPT_TEST_STEP_DELAY", "10ms")
	var done atomic.Bool
	var wg sync.WaitGroup
	var werr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer done.Store(true)
		for b := int64(startAt); b < gen.Batches; b++ {
			if werr = w.batch(b); werr != nil {
				return
			}
		}
	}()
	dest := filepath.Join(t.TempDir(), "backups")
	type taken struct {
		id    string
		batch int64
	}
	var complete []taken
	refused, retried, runs := 0, 0, 0
	for !done.Load() || runs < 20 {
		runs++
		code, out, errs := runCLI("backup", "--json", dir, dest)
		switch code {
		case 0:
			var res backup.Result
			require.NoError(t, json.Unmarshal([]byte(out), &res))
			require.NotNil(t, res.Manifest.RestoresTo.Batch)
			complete = append(complete, taken{res.Manifest.ID, *res.Manifest.RestoresTo.Batch})
			retried += len(res.Retries)
		case 1:
			refused++ // torn by Spark on every attempt, and said so
			assert.Contains(t, errs, "attempt")
		default:
			t.Fatalf("backup exit %d: %s%s", code, out, errs)
		}
		if runs >= 60 {
			break
		}
	}
	wg.Wait()
	require.NoError(t, werr)
	t.Logf("%d backup runs while Spark wrote: %d complete, %d refused, %d retried cuts", runs, len(complete), refused, retried)
	require.GreaterOrEqual(t, len(complete), 15)

	l := listBackups(t, dest)
	assert.Len(t, l, len(complete), "a refused backup leaves nothing")
	for _, c := range complete {
		target := filepath.Join(t.TempDir(), "r-"+c.id)
		code, out, errs := runCLI("restore", "--json", dest+"/"+c.id, target, "--map", "hdfs://namenode:8020=file:///")
		require.Equal(t, 0, code, "%s: %s%s", c.id, out, errs)
		code, out, _ = runCLI("check", "--json", target)
		require.Equal(t, 0, code, "%s: %s", c.id, out)
		var rep struct{ RunBatch int64 }
		require.NoError(t, json.Unmarshal([]byte(out), &rep))
		assert.Equal(t, c.batch, rep.RunBatch, c.id)
	}
}
