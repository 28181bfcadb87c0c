// Package hdfstest is an in-process HDFS namenode and datanode that speak
// the real Hadoop protocols over TCP on the loopback interface, so tests
// drive the real github.com/colinmarc/hdfs/v2 client (and the sparkckpt
// binary) against something that answers like a cluster, without Hadoop
// or a JVM. It is named like net/http/httptest; only tests and the
// hdfs-testserver command use it.
//
// # What it implements
//
// The namenode accepts Hadoop IPC connections: the 7-byte "hrpc" preamble
// (version 9, any service class, auth protocol NONE, i.e. SIMPLE
// authentication), the IpcConnectionContextProto (call id -3) that names
// the effective user, then length-prefixed calls made of varint-delimited
// RpcRequestHeaderProto, RequestHeaderProto and request messages, answered
// with RpcResponseHeaderProto (status, exception class and message on
// failure, as Hadoop's Server sends them) and the response. It serves
// these ClientProtocol methods on an in-memory namespace (directories,
// files, blocks, leases, permission bits, owners, times):
//
//	getFileInfo getListing (paged, dfs.ls.limit) getBlockLocations
//	getServerDefaults mkdirs create addBlock updateBlockForPipeline
//	complete rename2 delete renewLease
//
// with Hadoop's exception classes for the failures clients interpret
// (FileNotFoundException, FileAlreadyExistsException,
// ParentNotDirectoryException, PathIsNotEmptyDirectoryException,
// AlreadyBeingCreatedException, LeaseExpiredException,
// InvalidPathException, RpcNoSuchMethodException).
//
// The datanode speaks data transfer protocol version 28: READ_BLOCK
// (BlockOpResponseProto with ReadOpChecksumInfoProto, then packets of up
// to 64 KiB, each a PacketHeaderProto, one checksum per 512-byte chunk
// and the data, chunk-aligned as a real datanode sends them, ending with
// an empty last packet) and WRITE_BLOCK for a pipeline of one (packets
// checked for contiguous offsets, checksum count and every CRC32C or CRC32
// checksum; PipelineAckProto per packet, heartbeats acknowledged; an
// ERROR_CHECKSUM ack and a closed connection on a bad checksum). The
// replica keeps the client's checksums, as a datanode's .meta file does,
// and the namenode commits a block (addBlock's previous, complete's last)
// only when the datanode finalized it with the length and generation
// stamp the client reports.
//
// # What it does not implement
//
// SASL (Kerberos, delegation tokens, data transfer encryption) and block
// tokens (it sends empty ones); permission checks (modes and owners are
// stored and reported, never enforced); more than one datanode,
// replication, pipeline recovery and block reports (the namenode learns
// of finalized replicas in process; generation stamps are checked, never
// bumped for real); append, truncate, concat, hflush and packets that
// continue a partial checksum chunk, reads of blocks under construction,
// snapshots, symlinks, xattrs,
// ACLs, quotas, erasure coding, encryption zones, storage policies,
// content summaries, getBlockChecksum (BLOCK_CHECKSUM),
// short-circuit reads, HA (no standby state) and lease recovery (a dead
// writer's file stays under construction until deleted); on the IPC side,
// RPC continuation packets, call queues, backoff and the server's own
// timeouts (pings are accepted and ignored). Every other
// method answers RpcNoSuchMethodException and every other datanode op
// ERROR_UNSUPPORTED. The namespace lives in memory and dies with the
// server; there is no minimum block size, so tests can use small blocks.
//
// # Network
//
// Both servers listen on 127.0.0.1 only; New refuses other addresses.
package hdfstest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Options configure a Server.
type Options struct {
	// Addr is the namenode's listen address, "127.0.0.1:0" if empty.
	Addr string
	// DatanodeAddr is the datanode's listen address, "127.0.0.1:0" if empty.
	DatanodeAddr string
	// BlockSize is the default block size clients are told
	// (getServerDefaults); 128 MiB if zero. It must be a multiple of 512.
	BlockSize int64
	// ListLimit is the number of entries per getListing answer
	// (dfs.ls.limit); 1000 if zero.
	ListLimit int
	// Log, if set, receives one line per call and datanode operation.
	Log func(format string, args ...any)
}

// Server is a running namenode and datanode.
type Server struct {
	o      Options
	nnLn   net.Listener
	dnLn   net.Listener
	poolID string
	dnUUID string

	mu       sync.Mutex
	root     *inode
	nextID   uint64 // inode ids
	nextBlk  uint64
	nextGS   uint64
	blocks   map[uint64]*blockInfo // by block id
	calls    map[string]int
	conns    map[net.Conn]bool
	closed   bool
	wg       sync.WaitGroup
	replicas map[uint64]*replica // the datanode's storage, by block id
}

// inode is a file or directory of the namespace.
type inode struct {
	name         string
	dir          bool
	children     map[string]*inode
	parent       *inode
	id           uint64
	perm         uint32
	owner, group string
	mtime, atime int64 // ms since the epoch
	// files
	blocks      []*blockInfo
	replication uint32
	blockSize   uint64
	writer      string // client holding the lease; "" once complete
}

// blockInfo is the namenode's view of a block.
type blockInfo struct {
	id, gs    uint64
	numBytes  uint64
	committed bool
	file      *inode
}

// replica is the datanode's copy of a block.
type replica struct {
	gs        uint64
	data      []byte
	sums      []byte // one checksum per chunk, big-endian
	bpc       int    // bytes per checksum
	ctype     uint64 // ChecksumTypeProto: 1 CRC32, 2 CRC32C
	finalized bool
	writing   bool
}

// New starts a namenode and a datanode on the loopback interface.
func New(o Options) (*Server, error) {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.DatanodeAddr == "" {
		o.DatanodeAddr = "127.0.0.1:0"
	}
	if o.BlockSize == 0 {
		o.BlockSize = 128 << 20
	}
	if o.BlockSize%512 != 0 || o.BlockSize < 0 {
		return nil, fmt.Errorf("hdfstest: block size %d is not a positive multiple of 512", o.BlockSize)
	}
	if o.ListLimit <= 0 {
		o.ListLimit = 1000
	}
	for _, a := range []string{o.Addr, o.DatanodeAddr} {
		if err := loopbackOnly(a); err != nil {
			return nil, err
		}
	}
	now := time.Now().UnixMilli()
	s := &Server{
		o:        o,
		poolID:   "BP-" + strconv.FormatInt(now%1000000007, 10) + "-127.0.0.1-" + strconv.FormatInt(now, 10),
		dnUUID:   fmt.Sprintf("%08x-hdfs-test-datanode", uint32(now)),
		nextID:   16386, // Hadoop's first inode id after the root
		nextBlk:  1073741825,
		nextGS:   1001,
		blocks:   map[uint64]*blockInfo{},
		replicas: map[uint64]*replica{},
		calls:    map[string]int{},
		conns:    map[net.Conn]bool{},
	}
	s.root = &inode{name: "", dir: true, children: map[string]*inode{}, id: 16385, perm: 0o755,
		owner: "hdfs", group: "supergroup", mtime: now, atime: 0}
	var err error
	if s.nnLn, err = net.Listen("tcp", o.Addr); err != nil {
		return nil, fmt.Errorf("hdfstest: namenode: %w", err)
	}
	if s.dnLn, err = net.Listen("tcp", o.DatanodeAddr); err != nil {
		s.nnLn.Close()
		return nil, fmt.Errorf("hdfstest: datanode: %w", err)
	}
	s.wg.Add(2)
	go s.accept(s.nnLn, s.serveNamenode)
	go s.accept(s.dnLn, s.serveDatanode)
	return s, nil
}

// loopbackOnly refuses listen addresses outside 127.0.0.0/8.
func loopbackOnly(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("hdfstest: %w", err)
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() || ip.To4() == nil {
		return fmt.Errorf("hdfstest: listen address %s: only 127.0.0.1 (IPv4 loopback) is allowed", addr)
	}
	return nil
}

// Addr is the namenode's address (host:port).
func (s *Server) Addr() string { return s.nnLn.Addr().String() }

// DatanodeAddr is the datanode's data transfer address (host:port).
func (s *Server) DatanodeAddr() string { return s.dnLn.Addr().String() }

// URI is the file system's URI, hdfs://127.0.0.1:PORT.
func (s *Server) URI() string { return "hdfs://" + s.Addr() }

// Calls returns how many times each namenode method and datanode
// operation (READ_BLOCK, WRITE_BLOCK) was served.
func (s *Server) Calls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.calls))
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

// Paths lists every file and directory of the namespace, sorted, with
// "/" for directories' trailing slash, and "(writing)" after files still
// under construction.
func (s *Server) Paths() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	var walk func(n *inode, p string)
	walk = func(n *inode, p string) {
		for _, c := range n.children {
			cp := p + "/" + c.name
			switch {
			case c.dir:
				out = append(out, cp+"/")
				walk(c, cp)
			case c.writer != "":
				out = append(out, cp+" (writing)")
			default:
				out = append(out, cp)
			}
		}
	}
	walk(s.root, "")
	sort.Strings(out)
	return out
}

// CorruptReplica flips one bit of the stored data of the first block of
// the file at path (an absolute HDFS path) without touching its
// checksums, as a failing disk would: clients must then refuse to read it.
func (s *Server) CorruptReplica(path string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.lookup(path)
	if err != nil {
		return err
	}
	if n.dir || len(n.blocks) == 0 {
		return fmt.Errorf("hdfstest: %s has no block", path)
	}
	r := s.replicas[n.blocks[0].id]
	if r == nil || len(r.data) == 0 {
		return fmt.Errorf("hdfstest: %s: no replica data", path)
	}
	r.data[len(r.data)/2] ^= 0x10
	return nil
}

// Close stops both servers and closes every connection.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	err := errors.Join(s.nnLn.Close(), s.dnLn.Close())
	s.wg.Wait()
	return err
}

func (s *Server) accept(ln net.Listener, serve func(net.Conn)) {
	defer s.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = true
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				c.Close()
			}()
			serve(c)
		}()
	}
}

func (s *Server) logf(format string, args ...any) {
	if s.o.Log != nil {
		s.o.Log(format, args...)
	}
}

func (s *Server) count(what string) {
	s.mu.Lock()
	s.calls[what]++
	s.mu.Unlock()
}

// LoopbackDial dials like a net.Dialer but refuses any address outside
// 127.0.0.0/8, so a test can never reach a real host named in a fixture.
// Give it to clients as their dial function.
func LoopbackDial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, &net.OpError{Op: "dial", Net: network, Err: fmt.Errorf("hdfstest: refusing to dial %s: tests dial 127.0.0.1 only", addr)}
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}
