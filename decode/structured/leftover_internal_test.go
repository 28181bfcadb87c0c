package structured

import (
	"strings"
	"testing"
)

// TestLeftoverFixNamesTheFileSystem: the fix for temp-file leftovers is
// a find(1) command on the local disk, and hdfs dfs -rm for a checkpoint
// on HDFS (find cannot read an hdfs:// URI).
func TestLeftoverFixNamesTheFileSystem(t *testing.T) {
	for _, c := range []struct{ root, want string }{
		{"/data/ckpt", "find /data/ckpt -name '.*.tmp'"},
		{"hdfs://nn:8020/user/spark/ckpt", "hdfs dfs -rm hdfs://nn:8020/user/spark/ckpt/offsets/.4.6d3a.tmp)"},
	} {
		k := &checker{rep: &CheckReport{}}
		k.checkLeftovers([]Leftover{{Kind: "tmp", File: "offsets/.4.6d3a.tmp"}}, c.root)
		if len(k.rep.Findings) != 1 {
			t.Fatalf("%s: %d findings, want 1", c.root, len(k.rep.Findings))
		}
		if fix := k.rep.Findings[0].Fix; !strings.Contains(fix, c.want) {
			t.Errorf("%s: fix %q does not contain %q", c.root, fix, c.want)
		}
	}
}
