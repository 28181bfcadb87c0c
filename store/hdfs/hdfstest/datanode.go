package hdfstest

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"time"
)

// Data transfer protocol constants (DataTransferProtocol, Op, Status).
const (
	dataTransferVersion = 28
	opWriteBlock        = 0x50
	opReadBlock         = 0x51
	stSuccess           = 0
	stError             = 1
	stErrorChecksum     = 2
	stErrorInvalid      = 3
	stErrorUnsupported  = 7
	stagePipelineCreate = 6
	maxPacketData       = 64 << 10
	heartbeatSeqno      = -1
	maxOpMessage        = 1 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func checksum(ctype uint64, b []byte) uint32 {
	if ctype == checksumCRC32 {
		return crc32.ChecksumIEEE(b)
	}
	return crc32.Checksum(b, castagnoli)
}

// serveDatanode serves one data transfer connection: one operation.
func (s *Server) serveDatanode(c net.Conn) {
	br := bufio.NewReader(c)
	var hdr [3]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return
	}
	if v := binary.BigEndian.Uint16(hdr[:2]); v != dataTransferVersion {
		s.logf("datanode: %s: data transfer version %d, expected %d", c.RemoteAddr(), v, dataTransferVersion)
		return
	}
	body, err := readDelimited(br, br, maxOpMessage)
	if err != nil {
		return
	}
	op, err := decode(body)
	if err != nil {
		s.logf("datanode: %s: %v", c.RemoteAddr(), err)
		return
	}
	switch hdr[2] {
	case opReadBlock:
		s.count("READ_BLOCK")
		err = s.readBlock(c, br, op)
		s.logf("datanode: READ_BLOCK -> %v", errString(err))
	case opWriteBlock:
		s.count("WRITE_BLOCK")
		err = s.writeBlock(c, br, op)
		s.logf("datanode: WRITE_BLOCK -> %v", errString(err))
	default:
		s.count(fmt.Sprintf("op %#x", hdr[2]))
		s.logf("datanode: op %#x is not implemented", hdr[2])
		blockOpResponse(c, stErrorUnsupported, fmt.Sprintf("hdfstest does not implement data transfer op %#x", hdr[2]), nil)
	}
}

// blockOpResponse writes a BlockOpResponseProto. A successful WRITE_BLOCK
// answer carries an empty firstBadLink, as a datanode's does.
func blockOpResponse(w io.Writer, status uint64, msg string, readInfo enc) error {
	var e enc
	e.uint(1, status)
	e.str(2, "")
	if readInfo != nil {
		e.msg(4, readInfo)
	}
	if msg != "" {
		e.str(5, msg)
	}
	_, err := w.Write(appendDelimited(nil, e))
	return err
}

// opBlock reads the block of an op's ClientOperationHeaderProto.
func (s *Server) opBlock(op dec) (blockID, gs uint64, client string, err error) {
	h, err := op.msg(1) // ClientOperationHeaderProto
	if err != nil {
		return 0, 0, "", err
	}
	base, err := h.msg(1) // BaseHeaderProto
	if err != nil {
		return 0, 0, "", err
	}
	b, err := base.msg(1) // ExtendedBlockProto
	if err != nil {
		return 0, 0, "", err
	}
	if err := b.require("ExtendedBlockProto", 1, 2, 3); err != nil {
		return 0, 0, "", err
	}
	if b.str(1) != s.poolID {
		return 0, 0, "", fmt.Errorf("block pool %s is not served here (%s)", b.str(1), s.poolID)
	}
	return b.uint(2), b.uint(3), h.str(2), nil
}

func (s *Server) readBlock(c net.Conn, br *bufio.Reader, op dec) error {
	if err := op.require("OpReadBlockProto", 1, 2, 3); err != nil {
		blockOpResponse(c, stError, err.Error(), nil)
		return err
	}
	id, gs, _, err := s.opBlock(op)
	if err != nil {
		blockOpResponse(c, stError, err.Error(), nil)
		return err
	}
	off, length := op.uint(2), op.uint(3)
	sendSums := !op.has(4) || op.bool(4)
	s.mu.Lock()
	r := s.replicas[id]
	var data, sums []byte
	var bpc int
	var ctype uint64
	if r != nil && r.finalized {
		data, sums, bpc, ctype = r.data, r.sums, r.bpc, r.ctype
	}
	rgs := uint64(0)
	if r != nil {
		rgs = r.gs
	}
	s.mu.Unlock()
	switch {
	case r == nil:
		err = fmt.Errorf("Replica not found for BP-?:blk_%d_%d", id, gs)
	case !r.finalized:
		err = fmt.Errorf("blk_%d_%d is not finalized (being written)", id, gs)
	case rgs < gs:
		err = fmt.Errorf("Replica gen stamp < block genstamp, block=blk_%d_%d, replica gen stamp %d", id, gs, rgs)
	case off > uint64(len(data)) || length > uint64(len(data))-off:
		err = fmt.Errorf("Offset %d and length %d don't match block blk_%d_%d ( blockLen %d )", off, length, id, gs, len(data))
	}
	if err != nil {
		blockOpResponse(c, stError, err.Error(), nil)
		return err
	}
	// As BlockSender: start at the chunk holding off, end on a chunk boundary.
	start := off - off%uint64(bpc)
	end := min(off+length, uint64(len(data)))
	if rem := end % uint64(bpc); rem != 0 {
		end = min(end+uint64(bpc)-rem, uint64(len(data)))
	}
	var cs enc // ChecksumProto
	if sendSums {
		cs.uint(1, ctype)
	} else {
		cs.uint(1, 0) // CHECKSUM_NULL
	}
	cs.uint(2, uint64(bpc))
	var ri enc // ReadOpChecksumInfoProto
	ri.msg(1, cs)
	ri.uint(2, start)
	bw := bufio.NewWriterSize(c, maxPacketData+maxPacketData/bpc*4+64)
	if err := blockOpResponse(bw, stSuccess, "", ri); err != nil {
		return err
	}
	seq := int64(0)
	for pos := start; pos < end; {
		n := min(end-pos, uint64(maxPacketData))
		chunk0, chunk1 := pos/uint64(bpc), (pos+n+uint64(bpc)-1)/uint64(bpc)
		var ck []byte
		if sendSums {
			ck = sums[chunk0*4 : chunk1*4]
		}
		if err := writePacket(bw, int64(pos), seq, false, ck, data[pos:pos+n]); err != nil {
			return err
		}
		pos += n
		seq++
	}
	if err := writePacket(bw, int64(end), seq, true, nil, nil); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	// A Java client then sends ClientReadStatusProto (CHECKSUM_OK); the Go
	// client just closes. Either ends the operation.
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	readDelimited(br, br, 64)
	return nil
}

// writePacket writes one data packet: payload length (itself, checksums
// and data), header length, PacketHeaderProto, checksums, data.
func writePacket(w io.Writer, off, seq int64, last bool, sums, data []byte) error {
	var h enc // PacketHeaderProto
	h.sfixed64(1, off)
	h.sfixed64(2, seq)
	h.bool(3, last)
	h.sfixed32(4, int32(len(data)))
	b := binary.BigEndian.AppendUint32(nil, uint32(4+len(sums)+len(data)))
	b = binary.BigEndian.AppendUint16(b, uint16(len(h)))
	b = append(b, h...)
	b = append(b, sums...)
	if _, err := w.Write(b); err != nil {
		return err
	}
	_, err := w.Write(data)
	return err
}

// writeAck writes a PipelineAckProto.
func writeAck(w io.Writer, seq int64, status uint64) error {
	var e enc
	e.sint(1, seq)
	e.uint(2, status)
	e.uint(3, 0) // downstreamAckTimeNanos
	_, err := w.Write(appendDelimited(nil, e))
	return err
}

func (s *Server) writeBlock(c net.Conn, br *bufio.Reader, op dec) error {
	fail := func(status uint64, format string, args ...any) error {
		err := fmt.Errorf(format, args...)
		blockOpResponse(c, status, err.Error(), nil)
		return err
	}
	if err := op.require("OpWriteBlockProto", 1, 4, 5, 6, 7, 8, 9); err != nil {
		return fail(stError, "%v", err)
	}
	id, gs, client, err := s.opBlock(op)
	if err != nil {
		return fail(stError, "%v", err)
	}
	if stage := op.uint(4); stage != stagePipelineCreate {
		return fail(stErrorUnsupported, "block construction stage %d is not implemented (only PIPELINE_SETUP_CREATE)", stage)
	}
	if targets := op[2]; len(targets) > 0 {
		return fail(stErrorUnsupported, "a pipeline of %d more datanode(s): hdfstest has one datanode", len(targets))
	}
	cs, _ := op.msg(9) // ChecksumProto
	ctype, bpc := cs.uint(1), int(cs.uint(2))
	if (ctype != checksumCRC32 && ctype != checksumCRC32C) || bpc <= 0 || bpc > 1<<20 {
		return fail(stErrorInvalid, "checksum type %d with %d bytes per checksum is not supported", ctype, bpc)
	}
	s.mu.Lock()
	r := s.replicas[id]
	b := s.blocks[id]
	var limit uint64
	switch {
	case r == nil || b == nil:
		err = fmt.Errorf("blk_%d_%d was not allocated by the namenode", id, gs)
	case r.gs != gs:
		err = fmt.Errorf("blk_%d: generation stamp %d, the namenode allocated %d", id, gs, r.gs)
	case r.finalized || r.writing:
		err = fmt.Errorf("Block blk_%d_%d already exists in state %s", id, gs, map[bool]string{true: "FINALIZED", false: "RBW"}[r.finalized])
	case b.file.writer != client:
		err = fmt.Errorf("client %s does not hold the lease on the file of blk_%d", client, id)
	default:
		r.writing, r.bpc, r.ctype = true, bpc, ctype
		limit = b.file.blockSize
	}
	s.mu.Unlock()
	if err != nil {
		return fail(stError, "%v", err)
	}
	defer func() {
		s.mu.Lock()
		r.writing = false
		s.mu.Unlock()
	}()
	if err := blockOpResponse(c, stSuccess, "", nil); err != nil {
		return err
	}
	// Packets, each acknowledged once stored.
	var data, sums []byte
	for {
		var pre [6]byte
		if _, err := io.ReadFull(br, pre[:]); err != nil {
			return fmt.Errorf("blk_%d: connection ended before the last packet: %w", id, err)
		}
		plen := binary.BigEndian.Uint32(pre[:4])
		hlen := binary.BigEndian.Uint16(pre[4:])
		if plen < 4 || plen > 16<<20 {
			return fmt.Errorf("blk_%d: packet payload length %d", id, plen)
		}
		hb := make([]byte, hlen)
		if _, err := io.ReadFull(br, hb); err != nil {
			return err
		}
		h, err := decode(hb)
		if err != nil {
			return err
		}
		if err := h.require("PacketHeaderProto", 1, 2, 3, 4); err != nil {
			return err
		}
		off, seq, last, dlen := int64(h.uint(1)), int64(h.uint(2)), h.bool(3), int64(int32(h.uint(4)))
		payload := make([]byte, plen-4)
		if _, err := io.ReadFull(br, payload); err != nil {
			return err
		}
		if seq == heartbeatSeqno {
			if err := writeAck(c, seq, stSuccess); err != nil {
				return err
			}
			continue
		}
		if dlen < 0 || dlen > int64(len(payload)) {
			writeAck(c, seq, stErrorInvalid)
			return fmt.Errorf("blk_%d: packet %d: data length %d in a payload of %d", id, seq, dlen, len(payload))
		}
		chunks := (dlen + int64(bpc) - 1) / int64(bpc)
		ck, pd := payload[:int64(len(payload))-dlen], payload[int64(len(payload))-dlen:]
		if int64(len(ck)) != 4*chunks {
			writeAck(c, seq, stErrorInvalid)
			return fmt.Errorf("blk_%d: packet %d: %d checksum bytes for %d data bytes (%d chunks)", id, seq, len(ck), dlen, chunks)
		}
		if off != int64(len(data)) {
			writeAck(c, seq, stErrorInvalid)
			return fmt.Errorf("blk_%d: packet %d at offset %d, the replica has %d bytes", id, seq, off, len(data))
		}
		if len(data)%bpc != 0 && dlen > 0 {
			writeAck(c, seq, stErrorInvalid)
			return fmt.Errorf("blk_%d: packet %d continues a partial chunk (offset %d)", id, seq, off)
		}
		for i := int64(0); i < chunks; i++ {
			chunk := pd[i*int64(bpc) : min((i+1)*int64(bpc), dlen)]
			if got, want := checksum(ctype, chunk), binary.BigEndian.Uint32(ck[4*i:]); got != want {
				writeAck(c, seq, stErrorChecksum)
				return fmt.Errorf("blk_%d: packet %d: checksum error in chunk at offset %d: %08x, packet says %08x", id, seq, off+i*int64(bpc), got, want)
			}
		}
		if uint64(len(data))+uint64(dlen) > limit {
			writeAck(c, seq, stErrorInvalid)
			return fmt.Errorf("blk_%d: %d bytes exceed the block size %d", id, len(data)+int(dlen), limit)
		}
		data = append(data, pd...)
		sums = append(sums, ck...)
		if last {
			if dlen != 0 {
				writeAck(c, seq, stErrorInvalid)
				return fmt.Errorf("blk_%d: last packet carries %d bytes", id, dlen)
			}
			// Finalize before the last ack: the client calls complete once acknowledged.
			s.mu.Lock()
			r.data, r.sums, r.finalized = data, sums, true
			s.mu.Unlock()
			return writeAck(c, seq, stSuccess)
		}
		if err := writeAck(c, seq, stSuccess); err != nil {
			return err
		}
	}
}
