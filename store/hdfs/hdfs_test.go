package hdfs_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	hdfsclient "github.com/colinmarc/hdfs/v2"
	"github.com/sparkckpt/sparkckpt/fixtures/minihdfs"
	"github.com/sparkckpt/sparkckpt/store"
	"github.com/sparkckpt/sparkckpt/store/hdfs"
	"github.com/sparkckpt/sparkckpt/store/hdfs/hdfstest"
	"github.com/sparkckpt/sparkckpt/store/storetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testConfig is a client configuration that dials loopback only.
func testConfig(user string) *hdfs.Config {
	return &hdfs.Config{Props: map[string]string{}, User: user,
		ConnectTimeout: 5 * time.Second, IOTimeout: 10 * time.Second, Dial: hdfstest.LoopbackDial}
}

func startServer(t *testing.T, o hdfstest.Options) *hdfstest.Server {
	t.Helper()
	srv, err := hdfstest.New(o)
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	return srv
}

func connect(t *testing.T, cfg *hdfs.Config, authority string) *hdfs.FS {
	t.Helper()
	f, err := hdfs.Connect(context.Background(), cfg, authority)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}

// TestConformance runs the store suite through the real colinmarc client
// against the in-process namenode and datanode, with small blocks (so
// files span several) and small listing pages (so listings are paged).
func TestConformance(t *testing.T) {
	srv := startServer(t, hdfstest.Options{BlockSize: 64 << 10, ListLimit: 3})
	f := connect(t, testConfig("sparkckpt"), srv.Addr())
	var n atomic.Int32
	storetest.Run(t, func(t *testing.T) (store.Store, string) {
		dir := fmt.Sprintf("conformance/%02d", n.Add(1))
		require.NoError(t, f.MkdirAll(dir, 0o755))
		return f, dir
	}, storetest.Options{BigFile: 300000})

	// The suite exercised every call the issue lists.
	calls := srv.Calls()
	for _, m := range []string{"getFileInfo", "getListing", "getBlockLocations", "getServerDefaults", "mkdirs",
		"create", "addBlock", "updateBlockForPipeline", "complete", "rename2", "delete", "READ_BLOCK", "WRITE_BLOCK"} {
		assert.Positive(t, calls[m], "%s never called", m)
	}
	assert.Empty(t, unexpectedCalls(calls))
}

func unexpectedCalls(calls map[string]int) []string {
	known := map[string]bool{"getFileInfo": true, "getListing": true, "getBlockLocations": true, "getServerDefaults": true,
		"mkdirs": true, "create": true, "addBlock": true, "updateBlockForPipeline": true, "complete": true, "rename2": true,
		"delete": true, "renewLease": true, "READ_BLOCK": true, "WRITE_BLOCK": true}
	var out []string
	for k := range calls {
		if !known[k] {
			out = append(out, k)
		}
	}
	return out
}

func TestOwnerIsTheUser(t *testing.T) {
	srv := startServer(t, hdfstest.Options{})
	f := connect(t, testConfig("alice"), srv.Addr())
	require.NoError(t, store.WriteFileAtomic(f, "f", []byte("x"), 0o644))
	st, err := f.Stat("f")
	require.NoError(t, err)
	assert.Equal(t, "alice", st.(*hdfsclient.FileInfo).Owner())
	assert.Equal(t, srv.URI()+"/f", f.Path("f"))
	assert.False(t, store.UsesChecksumSidecars(f), "HDFS has no .crc sidecars")
}

// TestChecksumsAreChecked: a replica whose bytes no longer match the
// checksums the client sent is refused on read, by the real client.
func TestChecksumsAreChecked(t *testing.T) {
	srv := startServer(t, hdfstest.Options{})
	f := connect(t, testConfig("sparkckpt"), srv.Addr())
	data := []byte(strings.Repeat("checkpoint bytes ", 200))
	require.NoError(t, store.WriteFileAtomic(f, "ckpt", data, 0o644))
	got, err := store.ReadFile(f, "ckpt")
	require.NoError(t, err)
	require.Equal(t, data, got)
	require.NoError(t, srv.CorruptReplica("/ckpt"))
	_, err = store.ReadFile(f, "ckpt")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "checksum")
	assert.Contains(t, err.Error(), srv.URI()+"/ckpt")
}

// TestRemoteErrorsKeepHadoopsMessage: exceptions that map to no io/fs
// error keep the namenode's message.
func TestRemoteErrorsKeepHadoopsMessage(t *testing.T) {
	srv := startServer(t, hdfstest.Options{})
	f := connect(t, testConfig("sparkckpt"), srv.Addr())
	require.NoError(t, f.MkdirAll("a/b", 0o755))
	err := f.Rename("a", "a/b/c")
	require.Error(t, err)
	var pe *fs.PathError
	require.True(t, errors.As(err, &pe))
	var re *hdfs.RemoteError
	require.True(t, errors.As(err, &re), "%T %v", err, err)
	assert.Equal(t, "java.io.IOException", re.Exception)
	assert.Contains(t, err.Error(), "is a directory or file under source")
}

func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// silentNamenode accepts connections and never answers.
func silentNamenode(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	return ln.Addr().String()
}

// TestUnreachableClosedPort: one line naming host:port and the error, fast.
func TestUnreachableClosedPort(t *testing.T) {
	addr := closedPort(t)
	cfg := testConfig("sparkckpt")
	cfg.ConnectTimeout = 2 * time.Second
	start := time.Now()
	_, err := hdfs.Connect(context.Background(), cfg, addr)
	require.Error(t, err)
	assert.Less(t, time.Since(start), cfg.ConnectTimeout)
	assert.ErrorIs(t, err, hdfs.ErrUnreachable)
	msg := err.Error()
	assert.NotContains(t, msg, "\n")
	assert.Equal(t, fmt.Sprintf("hdfs://%s: cannot reach the namenode at %s: dial tcp %s: connect: connection refused", addr, addr, addr), msg)
}

// TestUnreachableSilentNamenode: a namenode that accepts the connection
// and never answers fails within the connect timeout, and says so.
func TestUnreachableSilentNamenode(t *testing.T) {
	addr := silentNamenode(t)
	cfg := testConfig("sparkckpt")
	cfg.ConnectTimeout = 300 * time.Millisecond
	start := time.Now()
	_, err := hdfs.Connect(context.Background(), cfg, addr)
	require.Error(t, err)
	assert.Less(t, time.Since(start), 3*time.Second)
	assert.ErrorIs(t, err, hdfs.ErrUnreachable)
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
	assert.Equal(t, fmt.Sprintf("hdfs://%s: cannot reach the namenode at %s: connected to namenode %s, but no answer within 300ms (ipc.client.connect.timeout)", addr, addr, addr), err.Error())
}

// TestHAFailover: the first namenode of a nameservice is down (refused,
// or silent), the second answers.
func TestHAFailover(t *testing.T) {
	srv := startServer(t, hdfstest.Options{})
	for name, first := range map[string]string{"refused": closedPort(t), "silent": silentNamenode(t)} {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig("sparkckpt")
			cfg.ConnectTimeout = 300 * time.Millisecond
			cfg.Props = map[string]string{
				"fs.defaultFS":                      "hdfs://prod",
				"dfs.nameservices":                  "prod",
				"dfs.ha.namenodes.prod":             "nn1,nn2",
				"dfs.namenode.rpc-address.prod.nn1": first,
				"dfs.namenode.rpc-address.prod.nn2": srv.Addr(),
			}
			f := connect(t, cfg, "")
			assert.Equal(t, "hdfs://prod", f.URI())
			require.NoError(t, store.WriteFileAtomic(f, name, []byte("x"), 0o644))
			b, err := store.ReadFile(f, name)
			require.NoError(t, err)
			assert.Equal(t, "x", string(b))
		})
	}
}

func TestHAAllDown(t *testing.T) {
	a, b := closedPort(t), silentNamenode(t)
	cfg := testConfig("sparkckpt")
	cfg.ConnectTimeout = 300 * time.Millisecond
	cfg.Props = map[string]string{
		"dfs.nameservices":                  "prod",
		"dfs.ha.namenodes.prod":             "nn1, nn2",
		"dfs.namenode.rpc-address.prod.nn1": a,
		"dfs.namenode.rpc-address.prod.nn2": b,
	}
	_, err := hdfs.Connect(context.Background(), cfg, "prod")
	require.Error(t, err)
	assert.Equal(t, fmt.Sprintf("hdfs://prod: cannot reach any of its 2 namenodes: nn1 (%s): dial tcp %s: connect: connection refused; nn2 (%s): connected to namenode %s, but no answer within 300ms (ipc.client.connect.timeout)", a, a, b, b), err.Error())
}

// TestConnectionLostLater: a namenode that goes away after connecting
// turns later calls into the same one-line unreachable error.
func TestConnectionLostLater(t *testing.T) {
	srv, err := hdfstest.New(hdfstest.Options{})
	require.NoError(t, err)
	f := connect(t, testConfig("sparkckpt"), srv.Addr())
	require.NoError(t, f.MkdirAll("d", 0o755))
	srv.Close()
	_, err = f.Stat("d")
	require.Error(t, err)
	_, err = f.Stat("d") // the client reconnects on the next call, which is refused
	require.Error(t, err)
	assert.ErrorIs(t, err, hdfs.ErrUnreachable)
	assert.Contains(t, err.Error(), srv.Addr())
	assert.NotContains(t, err.Error(), "\n")
}

func TestKerberosWithoutTicket(t *testing.T) {
	dir := t.TempDir()
	krb5 := filepath.Join(dir, "krb5.conf")
	require.NoError(t, os.WriteFile(krb5, []byte("[libdefaults]\n  default_realm = EXAMPLE.COM\n"), 0o644))
	cfg := testConfig("")
	cfg.Props = map[string]string{"hadoop.security.authentication": "kerberos", "dfs.namenode.kerberos.principal": "nn/_HOST@EXAMPLE.COM"}
	cfg.Krb5Conf = krb5
	cfg.CCache = filepath.Join(dir, "krb5cc_missing")
	_, err := hdfs.Connect(context.Background(), cfg, "127.0.0.1:1")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Kerberos")
	assert.Contains(t, err.Error(), "run kinit")
	assert.Contains(t, err.Error(), cfg.CCache)

	cfg.CCache = "KEYRING:persistent:0"
	_, err = hdfs.Connect(context.Background(), cfg, "127.0.0.1:1")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "only FILE: caches")
}

func TestSplit(t *testing.T) {
	for _, c := range []struct{ in, auth, name string }{
		{"hdfs://nn:8020/user/spark/ckpt", "nn:8020", "user/spark/ckpt"},
		{"hdfs://nn:8020/user/spark/ckpt/", "nn:8020", "user/spark/ckpt"},
		{"hdfs://nn:8020", "nn:8020", "."},
		{"hdfs://nn:8020/", "nn:8020", "."},
		{"HDFS://prod/a//b/../c", "prod", "a/c"},
		{"hdfs:///ckpt", "", "ckpt"},
		{"hdfs://nn/a%20b", "nn", "a b"},
	} {
		auth, name, err := hdfs.Split(c.in)
		require.NoError(t, err, c.in)
		assert.Equal(t, c.auth, auth, c.in)
		assert.Equal(t, c.name, name, c.in)
	}
	for _, bad := range []string{"/local/path", "s3a://b/x", "hdfs://u@nn/x", "hdfs://nn/x?y"} {
		_, _, err := hdfs.Split(bad)
		assert.Error(t, err, bad)
	}
}

// TestRealHDFSConformance runs the store suite through the real client
// against a real namenode and datanode (MiniDFSCluster, Hadoop 3.3.4) with
// 64 KiB blocks, so that the big file spans several.
func TestRealHDFSConformance(t *testing.T) {
	c := minihdfs.Start(t, minihdfs.Options{BlockSize: 64 << 10})
	f := c.Connect(t, "sparkckpt")
	var n atomic.Int32
	storetest.Run(t, func(t *testing.T) (store.Store, string) {
		dir := fmt.Sprintf("conformance/%02d", n.Add(1))
		require.NoError(t, f.MkdirAll(dir, 0o755))
		return f, dir
	}, storetest.Options{BigFile: 300000})
}
