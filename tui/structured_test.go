package tui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// A Structured Streaming checkpoint: its logs decoded by decode/structured,
// its URIs found, each at its bytes.
func TestStructured(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"metadata":    `{"id":"36119c77-c419-4b0b-b8e1-6a0380fdac77"}` + "\n",
		"offsets/0":   "v1\n" + `{"batchWatermarkMs":0,"batchTimestampMs":1700000000000,"conf":{"spark.sql.shuffle.partitions":"200"}}` + "\n" + `{"logOffset":0}`,
		"commits/0":   "v1\n" + `{"nextBatchWatermarkMs":0}`,
		"sources/0/0": "v1\n" + `{"path":"hdfs://old-nn:8020/data/in/a.csv","timestamp":1700000000000,"batchId":0}`,
	}
	for rel, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]string{
		"metadata":    "query id  36119c77-c419-4b0b-b8e1-6a0380fdac77",
		"offsets/0":   "#0  file  {\"logOffset\":0}",
		"commits/0":   "next watermark",
		"sources/0/0": "line 2  hdfs://old-nn:8020/data/in/a.csv",
	}
	st := DefaultStyles()
	for rel, w := range want {
		d := decodePath(t, dir, rel)
		if d.failed() || d.ss == "" {
			t.Fatalf("%s: %v (type %q)", rel, d.err, d.ss)
		}
		tr := buildDocTree(d, false)
		v := detailView{width: 100, height: 30}
		if s := v.Render(tr, nil, "", st, &judge{}, true); !strings.Contains(ansi.Strip(s), w) {
			t.Errorf("%s: %q not shown:\n%s", rel, w, ansi.Strip(s))
		}
	}
	refs := structuredRefs(os.DirFS(dir))
	if len(refs) != 1 || refs[0].URI != "hdfs://old-nn:8020/data/in/a.csv" || refs[0].rel != "sources/0/0" {
		t.Fatalf("refs %+v", refs)
	}
	b := []byte(files["sources/0/0"])
	if got := string(b[refs[0].off:]); !strings.HasPrefix(got, `"hdfs://old-nn:8020`) {
		t.Errorf("reference offset points at %q", got)
	}
	// The jump from the URI lands on the entry's row.
	d := decodePath(t, dir, "sources/0/0")
	tr := buildDocTree(d, false)
	if n := tr.at(refs[0].off); n == nil || !strings.Contains(n.val, "a.csv") {
		t.Errorf("offset %d selects %+v", refs[0].off, n)
	}
}
