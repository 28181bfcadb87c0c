package hdfstest

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
)

// IPC constants (Hadoop's Server and RpcConstants).
const (
	ipcVersion          = 9
	authNone            = 0
	callIDConnContext   = -3
	callIDPing          = -4
	rpcKindProtobuf     = 2
	rpcOpClose          = 2
	clientProtocol      = "org.apache.hadoop.hdfs.protocol.ClientProtocol"
	maxRPCPacket        = 64 << 20
	statusSuccess       = 0
	statusError         = 1
	errApplication      = 1
	errNoSuchMethod     = 2
	errNoSuchProtocol   = 3
	createFlagCreate    = 0x01
	createFlagOverwrite = 0x02
	createFlagAppend    = 0x04
	bytesPerChecksum    = 512
	checksumCRC32       = 1
	checksumCRC32C      = 2
)

// Java exception classes clients interpret.
const (
	exFileNotFound      = "java.io.FileNotFoundException"
	exIO                = "java.io.IOException"
	exAlreadyExists     = "org.apache.hadoop.fs.FileAlreadyExistsException"
	exParentNotDir      = "org.apache.hadoop.fs.ParentNotDirectoryException"
	exNotEmpty          = "org.apache.hadoop.fs.PathIsNotEmptyDirectoryException"
	exBeingCreated      = "org.apache.hadoop.hdfs.protocol.AlreadyBeingCreatedException"
	exLeaseExpired      = "org.apache.hadoop.hdfs.server.namenode.LeaseExpiredException"
	exInvalidPath       = "org.apache.hadoop.fs.InvalidPathException"
	exUnsupported       = "java.lang.UnsupportedOperationException"
	exNoSuchMethod      = "org.apache.hadoop.ipc.RpcNoSuchMethodException"
	exNoSuchProtocol    = "org.apache.hadoop.ipc.RpcNoSuchProtocolException"
	exNotReplicatedYet  = "org.apache.hadoop.hdfs.server.namenode.NotReplicatedYetException"
	exIllegalArgument   = "org.apache.hadoop.HadoopIllegalArgumentException"
	exInvalidRPCRequest = "org.apache.hadoop.ipc.RpcServerException"
)

// remoteError is a Java exception thrown by the namenode.
type remoteError struct {
	class, msg string
	detail     uint64 // RpcErrorCodeProto
}

func (e *remoteError) Error() string { return e.class + ": " + e.msg }

func throw(class, format string, args ...any) error {
	return &remoteError{class: class, msg: fmt.Sprintf(format, args...), detail: errApplication}
}

// serveNamenode serves one IPC connection.
func (s *Server) serveNamenode(c net.Conn) {
	br := bufio.NewReader(c)
	var pre [7]byte
	if _, err := io.ReadFull(br, pre[:]); err != nil {
		return
	}
	if string(pre[:4]) != "hrpc" {
		s.logf("namenode: %s: not a Hadoop IPC connection (%q)", c.RemoteAddr(), pre[:])
		return
	}
	if pre[4] != ipcVersion {
		s.logf("namenode: %s: IPC version %d, expected %d", c.RemoteAddr(), pre[4], ipcVersion)
		return
	}
	if pre[6] != authNone {
		s.logf("namenode: %s: auth protocol %#x (SASL) is not implemented; only SIMPLE (none)", c.RemoteAddr(), pre[6])
		return
	}
	user := ""
	for {
		var lb [4]byte
		if _, err := io.ReadFull(br, lb[:]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(lb[:])
		if n > maxRPCPacket {
			s.logf("namenode: %s: call of %d bytes", c.RemoteAddr(), n)
			return
		}
		pkt := make([]byte, n)
		if _, err := io.ReadFull(br, pkt); err != nil {
			return
		}
		msgs, err := splitDelimited(pkt)
		if err != nil || len(msgs) == 0 {
			s.logf("namenode: %s: bad call: %v", c.RemoteAddr(), err)
			return
		}
		rh, err := decode(msgs[0]) // RpcRequestHeaderProto
		if err != nil || rh.require("RpcRequestHeaderProto", 3, 4) != nil {
			s.logf("namenode: %s: bad RpcRequestHeaderProto", c.RemoteAddr())
			return
		}
		callID := int32(rh.sint(3))
		clientID := rh.bytes(4)
		switch {
		case callID == callIDConnContext:
			if len(msgs) < 2 {
				return
			}
			cc, err := decode(msgs[1]) // IpcConnectionContextProto
			if err != nil {
				return
			}
			ui, _ := cc.msg(2) // UserInformationProto
			user = ui.str(1)
			if p := cc.str(3); p != "" && p != clientProtocol {
				s.logf("namenode: %s: connection for protocol %s", c.RemoteAddr(), p)
			}
			continue
		case callID == callIDPing:
			continue
		case rh.uint(2) == rpcOpClose:
			return
		}
		var resp enc
		var callErr error
		if user == "" {
			callErr = &remoteError{class: exInvalidRPCRequest, msg: "call before the connection context", detail: errApplication}
		} else if rh.uint(1) != rpcKindProtobuf {
			callErr = &remoteError{class: exInvalidRPCRequest, msg: fmt.Sprintf("RPC kind %d is not protocol buffers", rh.uint(1)), detail: errApplication}
		} else if len(msgs) < 2 {
			callErr = &remoteError{class: exInvalidRPCRequest, msg: "call without a RequestHeaderProto", detail: errApplication}
		} else {
			var method string
			method, resp, callErr = s.call(user, msgs[1:])
			s.logf("namenode: %s %s -> %v", user, method, errString(callErr))
		}
		if err := writeResponse(c, callID, clientID, resp, callErr); err != nil {
			return
		}
	}
}

func errString(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// writeResponse sends RpcResponseHeaderProto and, on success, the response.
func writeResponse(w io.Writer, callID int32, clientID []byte, resp enc, callErr error) error {
	var h enc // RpcResponseHeaderProto
	h.uint(1, uint64(uint32(callID)))
	if callErr == nil {
		h.uint(2, statusSuccess)
	} else {
		h.uint(2, statusError)
	}
	h.uint(3, ipcVersion)
	if callErr != nil {
		re, ok := callErr.(*remoteError)
		if !ok {
			re = &remoteError{class: exIO, msg: callErr.Error(), detail: errApplication}
		}
		h.str(4, re.class)
		h.str(5, re.class+": "+re.msg)
		h.uint(6, re.detail)
	}
	h.bytes(7, clientID)
	body := appendDelimited(nil, h)
	if callErr == nil {
		body = appendDelimited(body, resp)
	}
	out := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	_, err := w.Write(append(out, body...))
	return err
}

// call dispatches one ClientProtocol call.
func (s *Server) call(user string, msgs [][]byte) (string, enc, error) {
	rh, err := decode(msgs[0]) // RequestHeaderProto
	if err != nil {
		return "", nil, err
	}
	method := rh.str(1)
	if p := rh.str(2); p != clientProtocol {
		return method, nil, &remoteError{class: exNoSuchProtocol, msg: "Unknown protocol: " + p, detail: errNoSuchProtocol}
	}
	var body []byte
	if len(msgs) > 1 {
		body = msgs[1]
	}
	req, err := decode(body)
	if err != nil {
		return method, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[method]++
	h, ok := methods[method]
	if !ok {
		return method, nil, &remoteError{class: exNoSuchMethod,
			msg: "Unknown method " + method + " called on " + clientProtocol + " protocol.", detail: errNoSuchMethod}
	}
	resp, err := h(s, user, req)
	return method + " " + req.str(1), resp, err
}

// methods are the ClientProtocol methods served; s.mu is held.
var methods = map[string]func(s *Server, user string, req dec) (enc, error){
	"getFileInfo":            (*Server).getFileInfo,
	"getListing":             (*Server).getListing,
	"getBlockLocations":      (*Server).getBlockLocations,
	"getServerDefaults":      (*Server).getServerDefaults,
	"mkdirs":                 (*Server).mkdirs,
	"create":                 (*Server).create,
	"addBlock":               (*Server).addBlock,
	"updateBlockForPipeline": (*Server).updateBlockForPipeline,
	"complete":               (*Server).complete,
	"rename2":                (*Server).rename2,
	"delete":                 (*Server).delete,
	"renewLease":             (*Server).renewLease,
}
