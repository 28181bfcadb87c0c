package javaser_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/javaser"
	"github.com/sparkckpt/sparkckpt/fixtures/real"
)

// TestTreeBudgetReal: every real checkpoint and RDD part file parses
// within half the tree budget per byte; the densest is logged.
func TestTreeBudgetReal(t *testing.T) {
	files := real.Files(t, func(rel string) bool { return real.IsCheckpoint(rel) || real.IsRDDPart(rel) })
	if len(files) < 300 {
		t.Fatalf("%d real files, want at least 300", len(files))
	}
	worst, worstFile := 0.0, ""
	for _, f := range files {
		var b []byte
		if real.IsCheckpoint(f) {
			b = payload(t, f)
		} else {
			var err error
			if b, err = os.ReadFile(f); err != nil {
				t.Fatal(err)
			}
		}
		if len(b) < 4096 { // the 1 MiB base covers small streams
			continue
		}
		_, n, err := javaser.TreeBytes(b)
		if err != nil {
			t.Fatalf("%s: %v", real.Rel(t, f), err)
		}
		if r := float64(n) / float64(len(b)); r > worst {
			worst, worstFile = r, real.Rel(t, f)
		}
	}
	t.Logf("densest tree: %.1f bytes per stream byte (%s); the budget is %d", worst, worstFile, javaser.TreeBytesPerInputByte)
	if worst > javaser.TreeBytesPerInputByte/2 {
		t.Errorf("a real file needs %.1f tree bytes per stream byte, more than half the budget %d", worst, javaser.TreeBytesPerInputByte)
	}
}

// flipTuple2 is a real RDD part file of (String, Int) pairs with
// scala.Tuple2's descriptor flags changed from SC_SERIALIZABLE (0x02) to
// SC_SERIALIZABLE|SC_WRITE_METHOD (0x03): every pair's class data may
// then be default fields plus custom data, or custom data only, and each
// reading nests the pairs that follow. It took dump to 718 MB.
func flipTuple2(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(real.Root(t) + "/" + rel)
	if err != nil {
		t.Fatal(err)
	}
	name := []byte("scala.Tuple2")
	i := bytes.Index(b, name)
	if i < 0 {
		t.Fatalf("%s has no scala.Tuple2", rel)
	}
	flags := i + len(name) + 8 // after the SUID
	if b[flags] != javaser.SCSerializable {
		t.Fatalf("%s: Tuple2 flags 0x%02x, want 0x02", rel, b[flags])
	}
	b[flags] |= javaser.SCWriteMethod
	return b
}

const tuple2Part = "dhruvpratapsingh-twitter-spark-streaming/checkpoint/09b670bd-4054-4dd5-8308-d72eb16eaf5a/rdd-3384/part-00000"

// TestTreeBudgetCrafted: crafted streams whose readings multiply fail
// with ErrTooLarge within the budget instead of growing a tree of
// hundreds of megabytes.
func TestTreeBudgetCrafted(t *testing.T) {
	b := flipTuple2(t, tuple2Part)
	_, n, err := javaser.TreeBytes(b)
	var de *decode.Error
	if !errors.As(err, &de) || !errors.Is(err, decode.ErrTooLarge) {
		t.Fatalf("got %v, want a decode.Error wrapping ErrTooLarge", err)
	}
	bound := int64(javaser.TreeBytesPerInputByte*len(b) + 1<<20)
	// The check runs before each object: one object's worth may pass it.
	if n > bound+64<<10 {
		t.Errorf("the parse allocated %d tree bytes, over the bound %d", n, bound)
	}
	if _, err := javaser.Parse(b); !errors.Is(err, decode.ErrTooLarge) {
		t.Errorf("Parse: %v, want ErrTooLarge", err)
	}
	var p javaser.Parser
	if _, err := p.Parse(b); !errors.Is(err, decode.ErrTooLarge) {
		t.Errorf("Parser.Parse: %v, want ErrTooLarge", err)
	}
}

// TestTreeBudgetDense: the densest valid stream, an Object[] of TC_NULLs
// (one byte each), parses within the budget.
func TestTreeBudgetDense(t *testing.T) {
	const n = 1 << 20
	var b bytes.Buffer
	b.Write([]byte{0xAC, 0xED, 0x00, 0x05, javaser.TCArray, javaser.TCClassDesc, 0x00, 0x13})
	b.WriteString("[Ljava.lang.Object;")
	b.Write([]byte{0x90, 0xCE, 0x58, 0x9F, 0x10, 0x73, 0x29, 0x6C, javaser.SCSerializable, 0x00, 0x00, javaser.TCEndBlockData, javaser.TCNull})
	b.Write(binary.BigEndian.AppendUint32(nil, n))
	b.Write(bytes.Repeat([]byte{javaser.TCNull}, n))
	_, tree, err := javaser.TreeBytes(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d tree bytes for %d stream bytes: %.1f per byte", tree, b.Len(), float64(tree)/float64(b.Len()))
	if s, err := javaser.Parse(b.Bytes()); err != nil || len(s.Contents[0].(*javaser.Array).Elems) != n {
		t.Fatalf("Parse: %v", err)
	}
	// Limits.MaxTree bounds the tree whatever the stream's size.
	_, err = javaser.Options{Limits: decode.Limits{MaxTree: 4 << 20}}.Parse(b.Bytes())
	if !errors.Is(err, decode.ErrTooLarge) || !strings.Contains(err.Error(), "more than 4194304 bytes of memory, the limit for one tree") {
		t.Errorf("MaxTree 4 MiB: %v, want ErrTooLarge naming the limit", err)
	}
}
