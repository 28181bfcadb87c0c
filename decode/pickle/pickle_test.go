package pickle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const genDir = "../../fixtures/generated/pickle"

func load(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(genDir, name))
	require.NoError(t, err)
	return b
}

func TestRoundTripGenerated(t *testing.T) {
	for _, name := range []string{"value-p2.pickle", "value-p4.pickle", "value-p5.pickle", "big-p5.pickle"} {
		b := load(t, name)
		p, err := Parse(b)
		require.NoError(t, err, name)
		assert.Equal(t, b, p.Encode(), name)
	}
}

// TestStringsEveryProtocol: the same value pickled at protocols 2, 4 and 5
// yields the same text constants (gen_pickle.py VALUE).
func TestStringsEveryProtocol(t *testing.T) {
	for _, tc := range []struct {
		file  string
		proto int
		op    string // opcode of the output URI
	}{{"value-p2.pickle", 2, "BINUNICODE"}, {"value-p4.pickle", 4, "SHORT_BINUNICODE"}, {"value-p5.pickle", 5, "SHORT_BINUNICODE"}} {
		p, err := Parse(load(t, tc.file))
		require.NoError(t, err)
		assert.Equal(t, tc.proto, p.Protocol)
		var texts []string
		var outOp string
		var globals []string
		for _, s := range p.Strings() {
			switch s.Kind {
			case "str":
				texts = append(texts, s.Value)
				if strings.HasPrefix(s.Value, "hdfs://") {
					outOp = s.Opcode
				}
			case "global":
				globals = append(globals, s.Value)
			}
		}
		assert.Contains(t, texts, "hdfs://ip-172-31-45-105.ec2.internal:8020/user/hadoop/out", tc.file)
		assert.Contains(t, texts, "/opt/spark/python/lib/pyspark.zip/pyspark/streaming/dstream.py", tc.file)
		assert.Contains(t, texts, "caf\u00e9 \u4e2d \U0001F600", tc.file)
		assert.Contains(t, texts, "file:/data/"+strings.Repeat("x", 300), tc.file)
		assert.Equal(t, tc.op, outOp, tc.file)
		if tc.proto == 2 {
			assert.Contains(t, globals, "posixpath join")
		} else {
			assert.Contains(t, texts, "posixpath") // STACK_GLOBAL takes module and name as strings
		}
	}
}

func findString(t *testing.T, p *Pickle, prefix string) int {
	t.Helper()
	for _, s := range p.Strings() {
		if strings.HasPrefix(s.Value, prefix) && s.Editable {
			return s.Op
		}
	}
	t.Fatalf("no string with prefix %q", prefix)
	return -1
}

// TestSetStringFrames grows a short string past 255 bytes under protocol 4:
// the opcode becomes BINUNICODE and the FRAME length grows by the same delta.
func TestSetStringFrames(t *testing.T) {
	orig := load(t, "value-p4.pickle")
	p, err := Parse(orig)
	require.NoError(t, err)
	require.Equal(t, byte(0x95), orig[2])
	frame := binary.LittleEndian.Uint64(orig[3:])
	i := findString(t, p, "hdfs://")
	oldLen := len(p.Ops[i].Data)
	newVal := "hdfs://emr-master:8020/" + strings.Repeat("p", 300)
	require.NoError(t, p.SetString(i, newVal))
	out := p.Encode()
	assert.Equal(t, "BINUNICODE", p.Ops[i].Name())
	// SHORT_BINUNICODE had a 1-byte length, BINUNICODE a 4-byte one.
	delta := (len(newVal) + 4) - (oldLen + 1)
	assert.Equal(t, frame+uint64(delta), binary.LittleEndian.Uint64(out[3:]))
	assert.Equal(t, len(orig)+delta, len(out))
	p2, err := Parse(out)
	require.NoError(t, err)
	assert.Equal(t, newVal, string(p2.Ops[findString(t, p2, "hdfs://")].Data))
	pythonCheck(t, out, "output", newVal)

	// Setting the original value back restores the original bytes.
	require.NoError(t, p2.SetString(findString(t, p2, "hdfs://"), "hdfs://ip-172-31-45-105.ec2.internal:8020/user/hadoop/out"))
	assert.Equal(t, orig, p2.Encode())
}

// TestSetStringOutsideFrame: CPython writes strings of 64 KiB or more
// outside any frame; editing a string after it must fix only its own frame.
func TestSetStringOutsideFrame(t *testing.T) {
	orig := load(t, "big-p5.pickle")
	p, err := Parse(orig)
	require.NoError(t, err)
	var frames int
	for _, op := range p.Ops {
		if op.Code == 0x95 {
			frames++
		}
	}
	require.GreaterOrEqual(t, frames, 2, "the big string splits the frames")
	i := findString(t, p, "hdfs://nn:8020/after")
	require.NoError(t, p.SetString(i, "hdfs://other-namenode:9000/after"))
	out := p.Encode()
	pythonCheck(t, out, "z", "hdfs://other-namenode:9000/after")
	pythonCheck(t, out, "a", "hdfs://nn:8020/small")
}

// pythonCheck unpickles b with CPython (pickle.loads: plain data and a
// stdlib function reference only) and compares one key.
func pythonCheck(t *testing.T, b []byte, key, want string) {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Log("SKIP python3 check: python3 not installed")
		return
	}
	cmd := exec.Command(py, "-c", "import pickle,sys; d=pickle.loads(sys.stdin.buffer.read()); sys.stdout.write(d[sys.argv[1]])", key)
	cmd.Stdin = bytes.NewReader(b)
	out, err := cmd.Output()
	require.NoError(t, err, "python3 pickle.loads rejected the re-encoded pickle")
	assert.Equal(t, want, string(out))
}

func TestParseErrors(t *testing.T) {
	b := load(t, "value-p4.pickle")
	for n := 0; n < len(b); n++ {
		_, err := Parse(b[:n])
		var de *decode.Error
		require.True(t, errors.As(err, &de), "prefix %d", n)
		require.LessOrEqual(t, de.Offset, int64(n))
	}
	_, err := Parse([]byte{0x80, 0x02, 0xFF})
	assert.ErrorContains(t, err, "offset 2")
	assert.ErrorContains(t, err, "unknown opcode 0xFF")
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"value-p2.pickle", "value-p4.pickle", "value-p5.pickle"} {
		f.Add(load(f, name))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			var de *decode.Error
			if !errors.As(err, &de) {
				t.Fatalf("unpositioned error %v", err)
			}
			return
		}
		if !bytes.Equal(p.Encode(), b) {
			t.Fatal("round trip differs")
		}
		for _, s := range p.Strings() {
			if s.Editable {
				if err := p.SetString(s.Op, s.Value+"/x"); err != nil {
					t.Fatal(err)
				}
			}
		}
		if _, err := Parse(p.Encode()); err != nil {
			t.Fatalf("edited pickle does not parse: %v", err)
		}
	})
}
