package tui

import (
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/sparkckpt/sparkckpt/decode/check"
	"github.com/stretchr/testify/assert"
)

func TestJudge(t *testing.T) {
	j, err := newJudge([]string{"hdfs://New-NN:8020", "s3a://bucket/ckpt", "file:///"})
	if err != nil {
		t.Fatal(err)
	}
	for uri, foreign := range map[string]bool{
		"hdfs://new-nn:8020/user/x":         false,
		"HDFS://new-nn:8020":                false,
		"hdfs://new-nn/user/x":              true, // default ports are not assumed
		"hdfs://old-nn:8020/user/x":         true,
		"s3a://bucket/ckpt/x":               false,
		"s3a://bucket/ckpt2":                true,
		"s3a://other/ckpt":                  true,
		"file:/home/x":                      false,
		"file://localhost/home/x":           false,
		"historyserver.example.com:18080":   false, // a host, not a filesystem
		"hdfs://ip-172-31-45-105.ec2:8020/": true,
	} {
		if got := j.foreign(uri); got != foreign {
			t.Errorf("foreign(%q) = %v", uri, got)
		}
	}
	if (&judge{}).foreign("hdfs://x:1/") {
		t.Error("without --expect-fs nothing is foreign")
	}
	if _, err := newJudge([]string{"namenode:8020"}); err == nil {
		t.Error("a bare host is not a filesystem")
	}
	st := DefaultStyles()
	segs := j.highlight("a=hdfs://old:1/x, b=hdfs://new-nn:8020/y", seg{st: st.Plain}, st)
	var out []string
	for _, s := range segs {
		out = append(out, ansi.Strip(s.s))
	}
	if len(segs) != 4 || segs[1].s != "hdfs://old:1/x" || segs[3].s != "hdfs://new-nn:8020/y" {
		t.Errorf("segments %q", out)
	}
	if segs[1].st.GetForeground() != st.Foreign.GetForeground() || segs[3].st.GetForeground() != st.URI.GetForeground() {
		t.Error("foreign and expected URIs are styled alike")
	}
}

func TestNaturalLess(t *testing.T) {
	for _, c := range [][2]string{{"offsets/2", "offsets/10"}, {"part-00009", "part-00010"}, {"a", "b"}, {"log-1-2", "log-10-2"}, {"x1", "x01"}} {
		if !naturalLess(c[0], c[1]) || naturalLess(c[1], c[0]) {
			t.Errorf("naturalLess(%q, %q)", c[0], c[1])
		}
	}
}

func TestClassify(t *testing.T) {
	for rel, want := range map[string]fileKind{
		"receivedBlockMetadata/log-1-2":     kindDriverLog,
		"receivedData/0/log-1-2":            kindDataLog,
		"3f0c/rdd-41/part-00000":            kindRDD,
		"3f0c/rdd-41/_partitioner":          kindRDD,
		".checkpoint-1.crc":                 kindCRC,
		"temp":                              kindLeftover,
		"offsets/7":                         kindStructured,
		"state/0/1/2.delta":                 kindStructured,
		"README":                            kindOther,
		"3f0c/rdd-x/part-00000":             kindOther,
		"receivedBlockMetadata/log-1-2.tmp": kindLeftover,
		".sparkckpt-rewrite-in-progress":    kindLeftover,
	} {
		if got := classify(rel, false); got != want {
			t.Errorf("classify(%q) = %d, want %d", rel, got, want)
		}
	}
}

// TestFilePath: the file path the browser copies (check.JoinPath under Root)
// is a local path as given, or keeps an hdfs:// URI's authority.
func TestFilePath(t *testing.T) {
	for _, c := range []struct{ root, rel, want string }{
		{"ckpt", "receivedBlockMetadata/log-1", "ckpt/receivedBlockMetadata/log-1"},
		{"/data/ckpt/", "checkpoint-1", "/data/ckpt/checkpoint-1"},
		{"hdfs://nn:8020/user/spark/ckpt", "rdd-7/part-00000", "hdfs://nn:8020/user/spark/ckpt/rdd-7/part-00000"},
		{"hdfs://nn:8020/", "checkpoint-1", "hdfs://nn:8020/checkpoint-1"},
	} {
		if got := check.JoinPath(c.root, c.rel); got != c.want {
			t.Errorf("JoinPath(%q, %q) = %q, want %q", c.root, c.rel, got, c.want)
		}
	}
}

// TestSanitize: what the browser draws from a file goes through the same
// escaping as the CLI's output (termtext), with newline and tab as glyphs;
// the bidi override the old placeholder code let through is escaped too.
func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{
		"hdfs://nn:8020/x":               "hdfs://nn:8020/x",
		"héllo ★":                        "héllo ★",
		"a\nb\tc":                        "a⏎b→c",
		"\x1b]52;c;ZXZpbA==\x07":         `\x1b]52;c;ZXZpbA==\a`,
		"evil\u202etxt.exe":              `evil\u202etxt.exe`,
		"\x1b[2J\u009b31m\xff":           `\x1b[2J\u009b31m\xff`,
		"\x1b]8;;http://evil/\x1b\\link": `\x1b]8;;http://evil/\x1b\link`,
	} {
		assert.Equal(t, want, sanitize(in), "%q", in)
	}
}
