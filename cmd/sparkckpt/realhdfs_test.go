package main

import (
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/sparkckpt/sparkckpt/fixtures/minihdfs"
)

// realPeer is a MiniDFSCluster as an hdfsPeer.
type realPeer struct{ *minihdfs.Cluster }

func (p realPeer) Paths(t *testing.T) []string { return p.Cluster.Paths(t) }

// TestRealHDFSEndToEnd runs every HDFS end-to-end test of the command
// (inspect, uris, check, cp in every direction, rewrite --apply/--undo/
// --resume, the kill -9 crash tests, browse) against a real namenode and
// datanode (MiniDFSCluster, Hadoop 3.3.4) instead of hdfstest. One
// cluster serves every case; it is emptied before each.
func TestRealHDFSEndToEnd(t *testing.T) {
	c := minihdfs.Start(t, minihdfs.Options{BlockSize: 1 << 20})
	for _, tc := range []struct {
		name string
		f    func(*testing.T, func(*testing.T) hdfsPeer)
	}{
		{"CheckOnHDFS", testCheckOnHDFS},
		{"InspectAndURIsOnHDFS", testInspectAndURIsOnHDFS},
		{"StructuredOnHDFS", testStructuredOnHDFS},
		{"RealStructuredOnHDFS", testRealStructuredOnHDFS},
		{"DStreamFilesOnHDFS", testDStreamFilesOnHDFS},
		{"CpToHDFSAndBack", testCpToHDFSAndBack},
		{"CpRealTreeRoundTrip", testCpRealTreeRoundTrip},
		{"CpSidecarsFromHDFS", testCpSidecarsFromHDFS},
		{"CpKilled", testCpKilled},
		{"RewriteOnHDFS", testRewriteOnHDFS},
		{"RewriteCrashHDFS", testRewriteCrashHDFS},
		{"BrowseTmuxHDFS", testBrowseTmuxHDFS},
		{"BrowseTmuxHDFSFile", testBrowseTmuxHDFSFile},
		{"BrowseTargetHDFS", testBrowseTargetHDFS},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.Reset(t)
			tc.f(t, func(*testing.T) hdfsPeer { return realPeer{c} })
		})
	}
	t.Run("CpScripts", func(t *testing.T) {
		c.Reset(t)
		runCpScripts(t, func(env *testscript.Env) (string, error) { return c.URI(), nil })
	})
}
