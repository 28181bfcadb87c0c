package tui

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/fixtures/real"
)

// TestRealTrees opens every real Spark-written tree of ../shared/fixtures-real
// (DStream and Structured Streaming) as the browser does: list it, decode a
// sample of every kind of file, build and fully expand each display tree and
// draw it. Only metadata checkpoints that really are broken may fail.
func TestRealTrees(t *testing.T) {
	root := real.Root(t)
	var roots []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		names, _ := os.ReadDir(p)
		for _, n := range names {
			if strings.HasPrefix(n.Name(), "checkpoint-") || n.Name() == "offsets" {
				roots = append(roots, p)
				return filepath.SkipDir
			}
		}
		return nil
	})
	if len(roots) < 10 {
		t.Fatalf("only %d checkpoint directories found", len(roots))
	}
	st := DefaultStyles()
	for _, dir := range roots {
		rel, _ := filepath.Rel(root, dir)
		t.Run(rel, func(t *testing.T) {
			fsys := os.DirFS(dir)
			l, err := listDir(context.Background(), fsys)
			if err != nil {
				t.Fatal(err)
			}
			perKind := map[fileKind]int{}
			decoded := 0
			for _, e := range l.entries {
				if perKind[e.kind]++; perKind[e.kind] > 12 {
					continue
				}
				statEntry(e)
				d := decodeFile(context.Background(), fsys, e, decode.Limits{})
				decoded++
				if d.failed() && e.kind != kindCheckpoint {
					t.Errorf("%s: %v %v", e.rel, d.err, d.crcErr)
				}
				tr := buildDocTree(d, false)
				for _, r := range tr.roots {
					tr.expandAll(r)
				}
				v := detailView{width: 80, height: 20}
				for tr.top = 0; tr.top < len(tr.rows); tr.top += 19 {
					for _, line := range strings.Split(v.Render(tr, nil, "", st, &judge{}, true), "\n") {
						if w := ansi.StringWidth(line); w != 80 {
							t.Fatalf("%s: a line is %d cells wide: %q", e.rel, w, ansi.Strip(line))
						}
					}
				}
				if len(searchDoc(d, "e", true)) == 0 && d.java != nil && len(d.java.Contents) > 0 && d.kind == docCheckpoint {
					t.Errorf("%s: search finds no 'e'", e.rel)
				}
			}
			if decoded == 0 {
				t.Fatal("nothing decoded")
			}
		})
	}
}
