package tui

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/javaser"
	"github.com/sparkckpt/sparkckpt/fixtures/real"
)

// decodePath decodes one file as the browser does.
func decodePath(t *testing.T, root, rel string) *doc {
	t.Helper()
	l, err := listDir(context.Background(), os.DirFS(root))
	if err != nil {
		t.Fatal(err)
	}
	e := l.byRel[rel]
	if e == nil {
		t.Fatalf("%s not listed in %s", rel, root)
	}
	return decodeFile(context.Background(), os.DirFS(root), e, decode.Limits{})
}

// checkLinks checks the offset links of every row of a file's object tree
// both ways: a row's bytes hold what the row says, and the row found at
// its first byte (what the hex view selects) starts there too.
func checkLinks(t *testing.T, d *doc) int {
	t.Helper()
	if d.err != nil {
		t.Fatalf("%s: %v", d.rel, d.err)
	}
	tr := buildDocTree(d, true)
	if tr.obj == nil {
		return 0
	}
	tr.expandAll(tr.obj)
	checked := 0
	for _, r := range tr.rows {
		if r == tr.obj || !under(r, tr.obj) {
			continue
		}
		s, e := r.span()
		if s < 0 {
			continue
		}
		if e > int64(len(d.data)) || e <= s {
			t.Errorf("%s %s: span [%d, %d) outside %d bytes", d.rel, r.objectPath(), s, e, len(d.data))
			continue
		}
		got := tr.at(s)
		if got == nil {
			t.Errorf("%s %s: nothing at offset %d", d.rel, r.objectPath(), s)
			continue
		}
		if gs, _ := got.span(); gs != s {
			t.Errorf("%s: offset %d of %s selects %s starting at %d", d.rel, s, r.objectPath(), got.objectPath(), gs)
		}
		b := d.data[s:e]
		switch {
		case r.vkind == vString && strings.Contains(r.note, "@0x"): // a Java string
			if b[0] != javaser.TCString && b[0] != javaser.TCLongString || !bytes.HasSuffix(b, javaser.EncodeMUTF8(r.val)) {
				t.Errorf("%s %s: bytes % x are not the string %q", d.rel, r.objectPath(), b, r.val)
			}
		case r.note == "int":
			if v := int32(binary.BigEndian.Uint32(b)); len(b) != 4 || strconv.Itoa(int(v)) != r.val {
				t.Errorf("%s %s: bytes % x are not the int %s", d.rel, r.objectPath(), b, r.val)
			}
		case strings.HasPrefix(r.note, "long"):
			if v := int64(binary.BigEndian.Uint64(b)); len(b) != 8 || strconv.FormatInt(v, 10) != r.val {
				t.Errorf("%s %s: bytes % x are not the long %s", d.rel, r.objectPath(), b, r.val)
			}
		case strings.HasPrefix(r.key, "pickle@"):
			// From the opcode to the string's last byte (block-data record
			// headers may sit in between: the pickle is cut into 1024-byte records).
			op, ok := pickleOpcodes[r.note]
			last := byte('\n')
			if r.val != "" {
				last = r.val[len(r.val)-1]
			}
			if r.note == "GLOBAL" || r.note == "UNICODE" || r.note == "STRING" {
				last = '\n'
			}
			if ok && (b[0] != op || r.val != "" && b[len(b)-1] != last) {
				t.Errorf("%s %s: bytes %q are not %s %q", d.rel, r.path, b, r.note, r.val)
			}
		}
		checked++
	}
	return checked
}

var pickleOpcodes = map[string]byte{"GLOBAL": 'c', "BINUNICODE": 'X', "SHORT_BINUNICODE": 0x8c, "BINUNICODE8": 0x8d,
	"SHORT_BINBYTES": 'C', "BINBYTES": 'B', "BINSTRING": 'T', "SHORT_BINSTRING": 'U', "UNICODE": 'V', "STRING": 'S'}

func under(n, anc *onode) bool {
	for p := n.parent; p != nil; p = p.parent {
		if p == anc {
			return true
		}
	}
	return false
}

func TestOffsetLinks(t *testing.T) {
	gen := repoFile("fixtures", "generated")
	cases := []struct{ root, rel string }{
		{"dstream/hdfs-app", "checkpoint-1700000010000"},
		{"dstream/hdfs-app", "checkpoint-1700000005000"},
		{"dstream/hdfs-app", "3f0c2a9e-5b7d-4c1e-9a2f-6d8e1b4c7a90/rdd-41/part-00000"},
		{"dstream/hdfs-app", "3f0c2a9e-5b7d-4c1e-9a2f-6d8e1b4c7a90/rdd-41/_partitioner"},
		{"dstream/local-app", "checkpoint-1700000010000"},
		{"wal/ckpt-batched", "receivedBlockMetadata/log-1700000000012-1700000060012"},
		{"wal/ckpt-unbatched", "receivedBlockMetadata/log-1700000000007-1700000060007"},
		{"wal/ckpt-hdfs", "receivedBlockMetadata/log-1700000000010-1700000060010"},
	}
	for _, c := range cases {
		t.Run(c.root+"/"+c.rel, func(t *testing.T) {
			if n := checkLinks(t, decodePath(t, filepath.Join(gen, c.root), c.rel)); n < 2 {
				t.Errorf("only %d rows checked", n)
			}
		})
	}
}

// TestOffsetLinksReal runs the same check on real Spark-written files:
// every DStream checkpoint and driver log of ../shared/fixtures-real.
func TestOffsetLinksReal(t *testing.T) {
	root := real.Root(t)
	files := real.Files(t, func(rel string) bool { return real.IsCheckpoint(rel) || real.IsMetadataLog(rel) })
	if len(files) == 0 {
		t.Fatal("no real checkpoint files")
	}
	// One file per directory keeps this quick; they differ by writer, not by run.
	seen := map[string]bool{}
	for _, f := range files {
		dir := filepath.Dir(f)
		key := dir + strconv.FormatBool(real.IsCheckpoint(f))
		if seen[key] {
			continue
		}
		seen[key] = true
		rel, _ := filepath.Rel(root, f)
		t.Run(rel, func(t *testing.T) {
			top := dir
			if real.IsMetadataLog(f) {
				top = filepath.Dir(dir)
			}
			r, _ := filepath.Rel(top, f)
			checkLinks(t, decodePath(t, top, filepath.ToSlash(r)))
		})
	}
}
