package check

import (
	"context"
	"errors"
	"github.com/sparkckpt/sparkckpt/fixtures/tree"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sparkckpt/sparkckpt/decode/check/checktest"
	"github.com/sparkckpt/sparkckpt/decode/javaser"
)

// Tests never dial outside 127.0.0.0/8: real dials go to a listener of
// the test's own and to a port it bound and closed.

// listener returns a reachable address and an address whose port was
// just closed (nothing listens there).
func listener(t *testing.T) (open, closed string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed = ln2.Addr().String()
	ln2.Close()
	return ln.Addr().String(), closed
}

func TestProbeAddrsReal(t *testing.T) {
	open, closed := listener(t)
	ps := probeAddrs(context.Background(), []string{open, closed}, Options{ProbeTimeout: time.Second})
	require.Len(t, ps, 2)
	assert.True(t, ps[0].Reachable, ps[0].Error)
	assert.Equal(t, open, ps[0].Addr)
	assert.False(t, ps[1].Reachable)
	assert.Equal(t, "java.net.ConnectException: Connection refused", ps[1].Exception)
	assert.Contains(t, ps[1].Error, "refused")
}

func TestProbeExceptions(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{&net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "old-nn", IsNotFound: true}}, "java.net.UnknownHostException: old-nn"},
		{&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.EHOSTUNREACH)}, "java.net.NoRouteToHostException: No route to host"},
		{&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ENETUNREACH)}, "java.net.NoRouteToHostException: No route to host"},
		{&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, "java.net.ConnectException: Connection refused"},
		{errors.New("boom"), "java.net.ConnectException: boom"},
	} {
		dial := func(ctx context.Context, network, addr string) (net.Conn, error) { return nil, c.err }
		ps := probeAddrs(context.Background(), []string{"old-nn:8020"}, Options{Dial: dial})
		assert.Equal(t, c.want, ps[0].Exception)
	}
	// A dial that hangs is cut by the timeout.
	hang := func(ctx context.Context, network, addr string) (net.Conn, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	start := time.Now()
	ps := probeAddrs(context.Background(), []string{"10.0.0.1:8020"}, Options{Dial: hang, ProbeTimeout: 20 * time.Millisecond})
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.Equal(t, "org.apache.hadoop.net.ConnectTimeoutException: connect to 10.0.0.1:8020 timed out (here after 20ms)", ps[0].Exception)
}

func TestProbeParallelBound(t *testing.T) {
	var cur, peak atomic.Int32
	var mu sync.Mutex
	dialled := map[string]bool{}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		n := cur.Add(1)
		defer cur.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		mu.Lock()
		dialled[addr] = true
		mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		return nil, errors.New("no")
	}
	var addrs []string
	for i := range 10 {
		addrs = append(addrs, net.JoinHostPort("h", string(rune('0'+i))))
	}
	ps := probeAddrs(context.Background(), addrs, Options{Dial: dial, ProbeParallel: 3})
	assert.Len(t, ps, 10)
	assert.Len(t, dialled, 10)
	assert.LessOrEqual(t, peak.Load(), int32(3))
	for i, p := range ps {
		assert.Equal(t, addrs[i], p.Addr, "results in input order")
	}
}

// guardDial dials only the given 127.0.0.1 addresses for real; any other
// 127.0.0.0/8 address is refused without dialling, and anything outside
// 127.0.0.0/8 fails the test.
func guardDial(t *testing.T, real ...string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil || !strings.HasPrefix(host, "127.") {
			t.Errorf("probe dialled %q, outside 127.0.0.0/8", addr)
			return nil, errors.New("refused by the test")
		}
		for _, r := range real {
			if r == addr {
				var d net.Dialer
				return d.DialContext(ctx, network, addr)
			}
		}
		return nil, &net.OpError{Op: "dial", Net: network, Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	}
}

// localTree is the generated hdfs-app tree with its namenode at
// hdfs://<nn> and its socket receiver at 127.0.0.1:9999.
func localTree(t *testing.T, nn string) string {
	dir := tree.Copy(t, filepath.Join("..", "..", "fixtures", "generated", "dstream", "hdfs-app"))
	r := checktest.Prefix("hdfs://namenode.example.com:8020", "hdfs://"+nn)
	host := func(s string) (string, bool) {
		if s == "stream-source.example.com" {
			return "127.0.0.1", true
		}
		return r(s)
	}
	for _, f := range []string{"checkpoint-1700000005000", "checkpoint-1700000010000", "checkpoint-1700000010000.bk"} {
		checktest.EditCheckpoint(t, filepath.Join(dir, f), nil, func(s *javaser.Stream) { checktest.ReplaceStrings(s, host) })
	}
	return dir
}

func TestProbeCheck(t *testing.T) {
	open, closed := listener(t)
	for _, c := range []struct {
		nn    string
		want  []string
		fails bool
	}{
		{closed, []string{"error unreachable-host", "warning pending-batch-not-in-wal", "warning unreachable-host", "info not-checked"}, true},
		{open, []string{"warning pending-batch-not-in-wal", "warning unreachable-host", "info not-checked"}, false},
	} {
		dir := localTree(t, c.nn)
		rep, err := Dir(context.Background(), dir, Options{ExpectFS: []string{"hdfs://" + c.nn}, Probe: true, Dial: guardDial(t, open, closed), ProbeTimeout: time.Second})
		require.NoError(t, err)
		var got []string
		for _, f := range rep.Findings {
			got = append(got, string(f.Severity)+" "+f.Code)
		}
		assert.Equal(t, c.want, got)
		assert.Equal(t, !c.fails, rep.OK)
		require.Len(t, rep.Probes, 2)
		byAddr := map[string]Probe{}
		for _, p := range rep.Probes {
			byAddr[p.Addr] = p
		}
		assert.Equal(t, c.nn == open, byAddr[c.nn].Reachable)
		assert.Equal(t, []string{"hdfs://" + c.nn + " (checkpointDir, rdd-checkpoint, input-file, input-directory, conf, jar, python-function)"}, byAddr[c.nn].For)
		assert.False(t, byAddr["127.0.0.1:9999"].Reachable)
		assert.Equal(t, []string{`receiver of stream #3 SocketInputDStream "socket text stream [0]"`}, byAddr["127.0.0.1:9999"].For)
		if c.fails {
			f := rep.Findings[0]
			assert.Contains(t, f.Message, "namenode "+closed)
			assert.Contains(t, f.Message, "on restart Spark fails with java.net.ConnectException: Connection refused")
			assert.Equal(t, "if that cluster is gone, move the references (the command is a dry run of the rewrite; add --apply to write)", f.Fix)
			assert.Equal(t, []string{"sparkckpt", "rewrite", dir, "--from", "hdfs://" + closed, "--to", "hdfs://" + closed}, f.Command)
		}
	}
}

func TestProbeSkipsPortlessHDFS(t *testing.T) {
	dir := localTree(t, "nameservice1")
	rep, err := Dir(context.Background(), dir, Options{ExpectFS: []string{"hdfs://nameservice1"}, Probe: true, Dial: guardDial(t)})
	require.NoError(t, err)
	var got []string
	for _, f := range rep.Findings {
		got = append(got, string(f.Severity)+" "+f.Code)
	}
	assert.Equal(t, []string{"warning pending-batch-not-in-wal", "warning unreachable-host", "info not-checked", "info probe-skipped"}, got)
	require.Len(t, rep.Probes, 1, "only the receiver is dialled")
	assert.Equal(t, "127.0.0.1:9999", rep.Probes[0].Addr)
}

func TestHostPort(t *testing.T) {
	for in, want := range map[string]string{
		"nn:8020": "nn:8020", "user@nn:8020": "nn:8020", "[::1]:8020": "[::1]:8020", "nn": "", "nameservice1": "", "nn:": "",
	} {
		got, ok := hostPort(in)
		assert.Equal(t, want, got, in)
		assert.Equal(t, want != "", ok, in)
	}
}
