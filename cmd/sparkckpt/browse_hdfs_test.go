package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparkckpt/sparkckpt/fixtures/real"
	"github.com/sparkckpt/sparkckpt/fixtures/tree"
	"github.com/sparkckpt/sparkckpt/store"
)

// readHDFS reads one file of the test HDFS through the store.
func readHDFS(t *testing.T, uri string) []byte {
	t.Helper()
	st := newStores(context.Background(), os.Getenv, 0)
	defer st.Close()
	loc, err := st.open(uri)
	if err != nil {
		t.Fatal(err)
	}
	b, err := store.ReadFile(loc.store, loc.name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBrowseTmuxHDFS drives sparkckpt browse on a checkpoint that lives on
// the in-process HDFS (the binary connects to it like to any namenode):
// the first screen with the URI as title, a search that reads every file
// from HDFS, the URIs view, a rewrite preview that writes nothing, and a
// clean exit.
func TestBrowseTmuxHDFS(t *testing.T) { testBrowseTmuxHDFS(t, startFakeHDFS) }

func testBrowseTmuxHDFS(t *testing.T, startHDFS func(*testing.T) hdfsPeer) {
	requireTmux(t)
	hdfsEnv(t)
	srv := startHDFS(t)
	bin := buildSparkckpt(t)
	local := tree.Copy(t, filepath.Join(repoDir(), "fixtures", "generated", "dstream", "hdfs-app"))
	uri := putTree(t, local, srv.URI()+"/ckpt/hdfs-app")
	s := startTmux(t, bin, "browse", "--expect-fs", "hdfs://new-nn:8020", uri)

	scr := s.waitFor("★ Spark restores from this file", "Metadata checkpoints (3 files", "RDD checkpoint data (10 files", " sparkckpt browse  "+uri, "hdfs-app/ 13 files", "checkpoint-1700000010000.bk", "checkpointDir  hdfs://namenode.example.com:8020", "expect-fs hdfs://new-nn:8020") // all of it: a screen may be caught mid-draw
	for _, w := range []string{" sparkckpt browse  " + uri, "hdfs-app/ 13 files", "checkpoint-1700000010000.bk", "checkpointDir  hdfs://namenode.example.com:8020", "expect-fs hdfs://new-nn:8020"} {
		if !strings.Contains(scr, w) {
			t.Errorf("first screen lacks %q:\n%s", w, scr)
		}
	}

	// Search decodes every file, each read from HDFS.
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

	// The rewrite preview plans on HDFS; nothing is written.
	s.keys("r")
	s.waitFor("Rewrite preview", "from  hdfs://namenode.example.com:8020", "to    hdfs://new-nn:8020") // --expect-fs, proposed
	s.keys("Enter")
	s.waitFor("29 changes in 3 files", "Dry run, nothing written", "+ hdfs://new-nn:8020/user/spark/checkpoints/hdfs-app")
	s.keys("Escape")
	s.waitFor("enter: preview the rewrite")
	s.keys("Escape")
	s.waitFor("enter open")
	s.keys("q")
	if st := s.exited(); st != "0" {
		t.Errorf("exit status %s:\n%s", st, s.capture())
	}
	for _, f := range []string{"checkpoint-1700000010000", "checkpoint-1700000010000.bk", "checkpoint-1700000005000"} {
		want, err := os.ReadFile(filepath.Join(local, f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(readHDFS(t, uri+"/"+f), want) {
			t.Errorf("%s changed on HDFS", f)
		}
	}

	// Apply from the browser: the journal and backups go beside the
	// directory on HDFS, and the files become what 'rewrite --apply' makes.
	ref := tree.Copy(t, local)
	code, out, errs := runCLI("rewrite", ref, "--from", "hdfs://namenode.example.com:8020", "--to", "hdfs://new-nn:8020", "--apply", "--backup-dir", ref+".bak")
	if code != 0 {
		t.Fatalf("local rewrite: %s%s", out, errs)
	}
	s = startTmux(t, bin, "browse", uri)
	s.waitFor("★ Spark restores from this file")
	s.keys("r")
	s.waitFor("Rewrite preview", "from  hdfs://namenode.example.com:8020")
	s.text("hdfs://new-nn:8020")
	s.keys("Enter")
	s.waitFor("29 changes in 3 files", "Dry run, nothing written")
	s.keys("a")
	s.waitFor("Press y to apply", uri+".sparkckpt-backup-")
	s.keys("y")
	s.waitFor("applied; journal "+uri+".sparkckpt-backup-", "checkpointDir  hdfs://new-nn:8020/user/spark")
	s.keys("q")
	if st := s.exited(); st != "0" {
		t.Errorf("exit status %s:\n%s", st, s.capture())
	}
	for _, f := range []string{"checkpoint-1700000010000", "checkpoint-1700000010000.bk", "checkpoint-1700000005000"} {
		want, err := os.ReadFile(filepath.Join(ref, f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(readHDFS(t, uri+"/"+f), want) {
			t.Errorf("%s on HDFS differs from the local rewrite", f)
		}
	}
}

// TestBrowseTmuxHDFSFile opens files on HDFS: a driver log selects itself
// in its checkpoint directory, and (with the real fixtures) a Structured
// Streaming offsets file selects itself in its checkpoint.
func TestBrowseTmuxHDFSFile(t *testing.T) { testBrowseTmuxHDFSFile(t, startFakeHDFS) }

func testBrowseTmuxHDFSFile(t *testing.T, startHDFS func(*testing.T) hdfsPeer) {
	requireTmux(t)
	hdfsEnv(t)
	srv := startHDFS(t)
	bin := buildSparkckpt(t)
	local := tree.Copy(t, filepath.Join(repoDir(), "fixtures", "generated", "dstream", "hdfs-app"))
	tree.CopyInto(t, filepath.Join(repoDir(), "fixtures", "generated", "wal", "ckpt-hdfs"), local)
	uri := putTree(t, local, srv.URI()+"/ckpt/hdfs-app")

	s := startTmux(t, bin, "browse", "--read-only", uri+"/receivedBlockMetadata/log-1700000000010-1700000060010")
	s.waitFor(" sparkckpt browse  "+uri+" ", "hdfs-app/ 15 files", "Driver write-ahead log (1 file", "Write-ahead log (driver: ReceivedBlockTracker events)")
	s.keys("q")
	if st := s.exited(); st != "0" {
		t.Errorf("exit status %s", st)
	}

	t.Run("structured", func(t *testing.T) {
		src := filepath.Join(real.Root(t), "devfranhan-data-eng-filling", "checkpoint")
		suri := putTree(t, tree.Copy(t, src), srv.URI()+"/real/checkpoint")
		s := startTmux(t, bin, "browse", "--read-only", suri+"/offsets/0")
		s.waitFor(" sparkckpt browse  "+suri+" ", "checkpoint/ 20 files", "Structured Streaming (10 files", "Structured Streaming: offsets", `#0  file  {"logOffset":0}`)
		s.keys("u")
		s.waitFor("URIs by authority: 1 place", "file:///Users/franhan/alfred/data/discogs_20250201_releases.csv  source-file (restart)")
		s.keys("q")
		if st := s.exited(); st != "0" {
			t.Errorf("exit status %s", st)
		}
	})
}

// browseTarget resolves hdfs:// files to their checkpoint directory and
// the file within it, as for local paths.
func TestBrowseTargetHDFS(t *testing.T) { testBrowseTargetHDFS(t, startFakeHDFS) }

func testBrowseTargetHDFS(t *testing.T, startHDFS func(*testing.T) hdfsPeer) {
	hdfsEnv(t)
	srv := startHDFS(t)
	local := tree.Copy(t, filepath.Join(repoDir(), "fixtures", "generated", "dstream", "hdfs-app"))
	tree.CopyInto(t, filepath.Join(repoDir(), "fixtures", "generated", "wal", "ckpt-hdfs"), local)
	if err := os.MkdirAll(filepath.Join(local, "sq", "offsets"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(local, "sq", "offsets", "0"), []byte("v1\n{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	uri := putTree(t, local, srv.URI()+"/ckpt/hdfs-app")
	st := newStores(context.Background(), os.Getenv, 0)
	defer st.Close()
	for _, c := range []struct{ arg, root, sel string }{
		{uri, uri, ""},
		{uri + "/", uri, ""},
		{uri + "/checkpoint-1700000005000", uri, "checkpoint-1700000005000"},
		{uri + "/3f0c2a9e-5b7d-4c1e-9a2f-6d8e1b4c7a90/rdd-57/part-00001", uri, "3f0c2a9e-5b7d-4c1e-9a2f-6d8e1b4c7a90/rdd-57/part-00001"},
		{uri + "/receivedData/0/log-1700000001200-1700000061200", uri, "receivedData/0/log-1700000001200-1700000061200"},
		{uri + "/receivedBlockMetadata/log-1700000000010-1700000060010", uri, "receivedBlockMetadata/log-1700000000010-1700000060010"},
		{uri + "/sq/offsets/0", uri + "/sq", "offsets/0"},
	} {
		root, sel, err := browseTarget(st, c.arg)
		if err != nil {
			t.Errorf("%s: %v", c.arg, err)
			continue
		}
		if root.name != c.root || sel != c.sel || !root.remote() {
			t.Errorf("%s: root %q (remote %v), select %q; want %q, %q", c.arg, root.name, root.remote(), sel, c.root, c.sel)
		}
	}
	if _, _, err := browseTarget(st, uri+"/missing"); err == nil || !strings.Contains(err.Error(), uri+"/missing") {
		t.Errorf("missing file: %v", err)
	}
}
