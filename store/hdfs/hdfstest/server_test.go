package hdfstest

import (
	"bufio"
	"encoding/binary"
	"hash/crc32"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawClient speaks Hadoop IPC by hand, to test what the Go client never
// sends (unknown methods, bad preambles) and the exact answers.
type rawClient struct {
	t    *testing.T
	c    net.Conn
	br   *bufio.Reader
	call int32
}

func dialRaw(t *testing.T, s *Server, preamble []byte) *rawClient {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr())
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(5 * time.Second))
	_, err = c.Write(preamble)
	require.NoError(t, err)
	return &rawClient{t: t, c: c, br: bufio.NewReader(c)}
}

func (r *rawClient) send(callID int32, msgs ...enc) {
	var rh enc // RpcRequestHeaderProto
	rh.uint(1, rpcKindProtobuf)
	rh.uint(2, 0)
	rh.sint(3, int64(callID))
	rh.bytes(4, []byte("0123456789abcdef"))
	body := appendDelimited(nil, rh)
	for _, m := range msgs {
		body = appendDelimited(body, m)
	}
	_, err := r.c.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...))
	require.NoError(r.t, err)
}

func (r *rawClient) handshake(user string) {
	var ui, cc enc
	ui.str(1, user)
	cc.msg(2, ui)
	cc.str(3, clientProtocol)
	r.send(callIDConnContext, cc)
}

// invoke calls method and returns the response header and body.
func (r *rawClient) invoke(method, protocol string, req enc) (dec, dec) {
	r.call++
	var h enc // RequestHeaderProto
	h.str(1, method)
	h.str(2, protocol)
	h.uint(3, 1)
	r.send(r.call, h, req)
	var lb [4]byte
	_, err := io.ReadFull(r.br, lb[:])
	require.NoError(r.t, err)
	pkt := make([]byte, binary.BigEndian.Uint32(lb[:]))
	_, err = io.ReadFull(r.br, pkt)
	require.NoError(r.t, err)
	msgs, err := splitDelimited(pkt)
	require.NoError(r.t, err)
	hdr, err := decode(msgs[0])
	require.NoError(r.t, err)
	assert.Equal(r.t, uint64(r.call), hdr.uint(1), "call id")
	var body dec
	if len(msgs) > 1 {
		body, err = decode(msgs[1])
		require.NoError(r.t, err)
	}
	return hdr, body
}

func newServer(t *testing.T, o Options) *Server {
	t.Helper()
	s, err := New(o)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

var hrpc = []byte{'h', 'r', 'p', 'c', 9, 0, 0}

func TestRPCErrors(t *testing.T) {
	s := newServer(t, Options{})
	r := dialRaw(t, s, hrpc)
	r.handshake("alice")

	hdr, _ := r.invoke("getContentSummary", clientProtocol, nil)
	assert.Equal(t, uint64(statusError), hdr.uint(2))
	assert.Equal(t, exNoSuchMethod, hdr.str(4))
	assert.Equal(t, uint64(errNoSuchMethod), hdr.uint(6))

	hdr, _ = r.invoke("getFileInfo", "org.apache.hadoop.hdfs.protocol.DatanodeProtocol", nil)
	assert.Equal(t, exNoSuchProtocol, hdr.str(4))

	var req enc
	req.str(1, "relative/path")
	hdr, _ = r.invoke("getFileInfo", clientProtocol, req)
	assert.Equal(t, exInvalidPath, hdr.str(4))

	// A missing required field is an error, as a Java server's parse would be.
	hdr, _ = r.invoke("getFileInfo", clientProtocol, nil)
	assert.Equal(t, uint64(statusError), hdr.uint(2))

	// The connection survives errors, and the namespace answers.
	req = nil
	req.str(1, "/")
	hdr, body := r.invoke("getFileInfo", clientProtocol, req)
	require.Equal(t, uint64(statusSuccess), hdr.uint(2), hdr.str(5))
	st, _ := body.msg(1)
	assert.Equal(t, uint64(1), st.uint(1), "IS_DIR")
	assert.Equal(t, uint64(ipcVersion), hdr.uint(3))
}

func TestPreamble(t *testing.T) {
	s := newServer(t, Options{})
	for name, pre := range map[string][]byte{
		"SASL":        {'h', 'r', 'p', 'c', 9, 0, 0xdf},
		"old version": {'h', 'r', 'p', 'c', 7, 0, 0},
		"not hrpc":    []byte("GET / H"),
	} {
		t.Run(name, func(t *testing.T) {
			r := dialRaw(t, s, pre)
			_, err := r.br.ReadByte()
			assert.ErrorIs(t, err, io.EOF, "the server closes the connection")
		})
	}
	t.Run("call before the connection context", func(t *testing.T) {
		r := dialRaw(t, s, hrpc)
		var req enc
		req.str(1, "/")
		hdr, _ := r.invoke("getFileInfo", clientProtocol, req)
		assert.Equal(t, uint64(statusError), hdr.uint(2))
	})
}

func TestLoopbackOnly(t *testing.T) {
	for _, a := range []string{"0.0.0.0:0", "[::1]:0", "localhost:0", "10.0.0.1:0"} {
		_, err := New(Options{Addr: a})
		assert.Error(t, err, a)
		_, err = New(Options{DatanodeAddr: a})
		assert.Error(t, err, a)
	}
	_, err := LoopbackDial(t.Context(), "tcp", "192.0.2.1:8020")
	assert.ErrorContains(t, err, "tests dial 127.0.0.1 only")
}

// namespace calls through the raw client, for semantics the Go client hides.
func TestNamespaceSemantics(t *testing.T) {
	s := newServer(t, Options{ListLimit: 2})
	r := dialRaw(t, s, hrpc)
	r.handshake("alice")
	call := func(method string, fields func(e *enc)) (dec, dec) {
		var req enc
		fields(&req)
		return r.invoke(method, clientProtocol, req)
	}
	perm := func(p uint64) enc { var e enc; e.uint(1, p); return e }
	mkdirs := func(p string, parents bool) dec {
		h, _ := call("mkdirs", func(e *enc) { e.str(1, p); e.msg(2, perm(0o755)); e.bool(3, parents) })
		return h
	}
	create := func(p, client string, flag uint64, parents bool) (dec, dec) {
		return call("create", func(e *enc) {
			e.str(1, p)
			e.msg(2, perm(0o644))
			e.str(3, client)
			e.uint(4, flag)
			e.bool(5, parents)
			e.uint(6, 3)
			e.uint(7, 1<<20)
		})
	}
	assert.Equal(t, exFileNotFound, mkdirs("/a/b", false).str(4))
	assert.Equal(t, uint64(statusSuccess), mkdirs("/a/b", true).uint(2))

	h, body := create("/a/b/f", "c1", createFlagCreate, false)
	require.Equal(t, uint64(statusSuccess), h.uint(2), h.str(5))
	fst, _ := body.msg(1)
	assert.NotZero(t, fst.uint(13), "fileId")
	h, _ = create("/a/b/f", "c2", createFlagCreate|createFlagOverwrite, false)
	assert.Equal(t, exBeingCreated, h.str(4), "a file being written is leased")
	h, _ = create("/a/b/f/x", "c1", createFlagCreate, true)
	assert.Equal(t, exParentNotDir, h.str(4))
	h, _ = create("/a/b", "c1", createFlagCreate, false)
	assert.Equal(t, exAlreadyExists, h.str(4))
	h, _ = create("/a/b/g", "c1", createFlagCreate|createFlagAppend, false)
	assert.Equal(t, exUnsupported, h.str(4))
	h, _ = create("/z/y/g", "c1", createFlagCreate, false)
	assert.Equal(t, exFileNotFound, h.str(4))

	// complete by another client: no lease.
	h, _ = call("complete", func(e *enc) { e.str(1, "/a/b/f"); e.str(2, "c2") })
	assert.Equal(t, exLeaseExpired, h.str(4))
	h, body = call("complete", func(e *enc) { e.str(1, "/a/b/f"); e.str(2, "c1") })
	require.Equal(t, uint64(statusSuccess), h.uint(2), h.str(5))
	assert.True(t, body.bool(1))
	h, body = call("complete", func(e *enc) { e.str(1, "/a/b/f"); e.str(2, "c1") })
	assert.True(t, body.bool(1), "a retried complete succeeds")

	// Paged listing.
	for _, n := range []string{"/a/b/g", "/a/b/h", "/a/b/i"} {
		create(n, "c1", createFlagCreate, false)
	}
	var names []string
	after := ""
	for {
		h, body = call("getListing", func(e *enc) { e.str(1, "/a/b"); e.bytes(2, []byte(after)); e.bool(3, false) })
		require.Equal(t, uint64(statusSuccess), h.uint(2))
		dl, _ := body.msg(1)
		sts, _ := dl.msgs(1)
		for _, st := range sts {
			names = append(names, st.str(2))
			after = st.str(2)
		}
		if dl.uint(2) == 0 {
			break
		}
		assert.Len(t, sts, 2)
	}
	assert.Equal(t, []string{"f", "g", "h", "i"}, names)

	// delete and rename2 edge cases.
	h, _ = call("delete", func(e *enc) { e.str(1, "/a"); e.bool(2, false) })
	assert.Equal(t, exNotEmpty, h.str(4))
	h, _ = call("rename2", func(e *enc) { e.str(1, "/a/b/f"); e.str(2, "/a/b/f"); e.bool(3, true) })
	assert.Equal(t, exAlreadyExists, h.str(4))
	h, _ = call("rename2", func(e *enc) { e.str(1, "/a/b/f"); e.str(2, "/a/b/g"); e.bool(3, false) })
	assert.Equal(t, exAlreadyExists, h.str(4))
	h, _ = call("rename2", func(e *enc) { e.str(1, "/a/b/f"); e.str(2, "/nope/f"); e.bool(3, true) })
	assert.Equal(t, exFileNotFound, h.str(4))
	h, _ = call("rename2", func(e *enc) { e.str(1, "/a/b/f"); e.str(2, "/a/b/g/f"); e.bool(3, true) })
	assert.Equal(t, exParentNotDir, h.str(4))
	h, _ = call("rename2", func(e *enc) { e.str(1, "/a/b"); e.str(2, "/a/b/c"); e.bool(3, true) })
	assert.Equal(t, exIO, h.str(4))
	h, body = call("delete", func(e *enc) { e.str(1, "/missing"); e.bool(2, true) })
	assert.False(t, body.bool(1), "deleting nothing answers false")
	h, body = call("delete", func(e *enc) { e.str(1, "/a"); e.bool(2, true) })
	assert.True(t, body.bool(1))
	assert.Empty(t, s.Paths())
}

// writeBlockRaw writes one block through the data transfer protocol.
func writeBlockRaw(t *testing.T, s *Server, blockID, gs uint64, client string, data []byte, corrupt bool) []dec {
	t.Helper()
	c, err := net.Dial("tcp", s.DatanodeAddr())
	require.NoError(t, err)
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	var eb, base, hdr, cs, op enc
	eb.str(1, s.poolID)
	eb.uint(2, blockID)
	eb.uint(3, gs)
	base.msg(1, eb)
	hdr.msg(1, base)
	hdr.str(2, client)
	cs.uint(1, checksumCRC32C)
	cs.uint(2, 512)
	op.msg(1, hdr)
	op.uint(4, stagePipelineCreate)
	op.uint(5, 0)
	op.uint(6, 0)
	op.uint(7, 0)
	op.uint(8, 0)
	op.msg(9, cs)
	_, err = c.Write(appendDelimited([]byte{0, dataTransferVersion, opWriteBlock}, op))
	require.NoError(t, err)
	br := bufio.NewReader(c)
	resp, err := readDelimited(br, br, 1<<10)
	require.NoError(t, err)
	rd, _ := decode(resp)
	require.Equal(t, uint64(stSuccess), rd.uint(1), rd.str(5))
	var sums []byte
	for off := 0; off < len(data); off += 512 {
		sums = binary.BigEndian.AppendUint32(sums, crc32.Checksum(data[off:min(off+512, len(data))], castagnoli))
	}
	if corrupt {
		sums[0] ^= 1
	}
	require.NoError(t, writePacket(c, 0, 1, false, sums, data))
	if !corrupt { // else the datanode refuses the first packet and closes: writing more would race its close
		require.NoError(t, writePacket(c, int64(len(data)), 2, true, nil, nil))
	}
	var acks []dec
	for {
		b, err := readDelimited(br, br, 1<<10)
		if err != nil {
			break
		}
		a, _ := decode(b)
		acks = append(acks, a)
	}
	return acks
}

func TestWriteBlockChecksums(t *testing.T) {
	s := newServer(t, Options{})
	r := dialRaw(t, s, hrpc)
	r.handshake("alice")
	var perm enc
	perm.uint(1, 0o644)
	alloc := func(p string) (uint64, uint64) {
		var req enc
		req.str(1, p)
		req.msg(2, perm)
		req.str(3, "c1")
		req.uint(4, createFlagCreate)
		req.bool(5, true)
		req.uint(6, 1)
		req.uint(7, 1<<20)
		h, _ := r.invoke("create", clientProtocol, req)
		require.Equal(t, uint64(statusSuccess), h.uint(2), h.str(5))
		req = nil
		req.str(1, p)
		req.str(2, "c1")
		h, body := r.invoke("addBlock", clientProtocol, req)
		require.Equal(t, uint64(statusSuccess), h.uint(2), h.str(5))
		lb, _ := body.msg(1)
		eb, _ := lb.msg(1)
		return eb.uint(2), eb.uint(3)
	}
	data := []byte(strings.Repeat("0123456789", 120))

	id, gs := alloc("/bad")
	acks := writeBlockRaw(t, s, id, gs, "c1", data, true)
	require.Len(t, acks, 1)
	assert.Equal(t, uint64(stErrorChecksum), acks[0].uint(2), "a bad checksum is refused")

	id, gs = alloc("/good")
	acks = writeBlockRaw(t, s, id, gs, "c1", data, false)
	require.Len(t, acks, 2)
	for i, a := range acks {
		assert.Equal(t, int64(i+1), a.sint(1), "seqno")
		assert.Equal(t, uint64(stSuccess), a.uint(2))
	}
	// The namenode commits only what the datanode finalized, at the right length.
	var eb enc
	eb.str(1, s.poolID)
	eb.uint(2, id)
	eb.uint(3, gs)
	eb.uint(4, uint64(len(data))+1)
	var req enc
	req.str(1, "/good")
	req.str(2, "c1")
	req.msg(3, eb)
	h, _ := r.invoke("complete", clientProtocol, req)
	assert.Equal(t, exIO, h.str(4))
	assert.Contains(t, h.str(5), "the client reports 1201")

	// Another data transfer protocol version is refused.
	c, err := net.Dial("tcp", s.DatanodeAddr())
	require.NoError(t, err)
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	_, err = c.Write([]byte{0, 27, opReadBlock})
	require.NoError(t, err)
	_, err = bufio.NewReader(c).ReadByte()
	assert.ErrorIs(t, err, io.EOF, "data transfer version 27 is refused")
}
