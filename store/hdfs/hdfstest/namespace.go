package hdfstest

// The namespace: paths, inodes, blocks and the ClientProtocol methods
// that change them, with Hadoop's exceptions. s.mu is held throughout.

import (
	"fmt"
	"net"
	"sort"
	"strings"
	"time"
)

// components splits an absolute HDFS path (DFSUtil.isValidName).
func components(p string) ([]string, error) {
	if !strings.HasPrefix(p, "/") {
		return nil, throw(exInvalidPath, "Invalid path name Path is not absolute: %s", p)
	}
	var out []string
	parts := strings.Split(p[1:], "/")
	for i, c := range parts {
		if c == "" && i == len(parts)-1 {
			break
		}
		if c == "" || c == "." || c == ".." || strings.Contains(c, ":") {
			return nil, throw(exInvalidPath, "Invalid path name Invalid file name: %s", p)
		}
		out = append(out, c)
	}
	return out, nil
}

// lookup finds the inode at p; FileNotFoundException if there is none.
func (s *Server) lookup(p string) (*inode, error) {
	n, _, err := s.resolve(p)
	if err != nil {
		return nil, err
	}
	if n == nil {
		return nil, throw(exFileNotFound, "File does not exist: %s", p)
	}
	return n, nil
}

// resolve returns the inode at p (nil if missing) and its parent directory
// (nil if that is missing too, or a file: see fileAncestor).
func (s *Server) resolve(p string) (n, parent *inode, err error) {
	comps, err := components(p)
	if err != nil {
		return nil, nil, err
	}
	n = s.root
	for i, c := range comps {
		if !n.dir {
			return nil, nil, nil
		}
		parent = n
		n = n.children[c]
		if n == nil {
			if i < len(comps)-1 {
				parent = nil
			}
			return nil, parent, nil
		}
	}
	return n, parent, nil
}

// fileAncestor returns the path of a file found among the parents named
// by comps[:len(comps)-1], or "".
func (s *Server) fileAncestor(comps []string) string {
	n := s.root
	for i, c := range comps[:max(len(comps)-1, 0)] {
		n = n.children[c]
		if n == nil {
			return ""
		}
		if !n.dir {
			return "/" + strings.Join(comps[:i+1], "/")
		}
	}
	return ""
}

func (s *Server) pathOf(n *inode) string {
	if n.parent == nil {
		return "/"
	}
	var parts []string
	for ; n.parent != nil; n = n.parent {
		parts = append(parts, n.name)
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return "/" + strings.Join(parts, "/")
}

func (n *inode) length() uint64 {
	var l uint64
	for _, b := range n.blocks {
		if b.committed {
			l += b.numBytes
		}
	}
	return l
}

// status encodes HdfsFileStatusProto with the given local name.
func (s *Server) status(n *inode, local string, locations bool) enc {
	var e enc
	if n.dir {
		e.uint(1, 1) // IS_DIR
	} else {
		e.uint(1, 2) // IS_FILE
	}
	e.bytes(2, []byte(local))
	if n.dir {
		e.uint(3, 0)
	} else {
		e.uint(3, n.length())
	}
	var perm enc // FsPermissionProto
	perm.uint(1, uint64(n.perm))
	e.msg(4, perm)
	e.str(5, n.owner)
	e.str(6, n.group)
	e.uint(7, uint64(n.mtime))
	e.uint(8, uint64(n.atime))
	if !n.dir {
		e.uint(10, uint64(n.replication))
		e.uint(11, n.blockSize)
		if locations {
			e.msg(12, s.locatedBlocks(n, 0, n.length()))
		}
	}
	e.uint(13, n.id)
	if n.dir {
		e.uint(14, uint64(len(n.children)))
	}
	return e
}

func (s *Server) extendedBlock(b *blockInfo, gs uint64) enc {
	var e enc // ExtendedBlockProto
	e.str(1, s.poolID)
	e.uint(2, b.id)
	e.uint(3, gs)
	e.uint(4, b.numBytes)
	return e
}

func (s *Server) datanodeInfo() enc {
	host, port, _ := net.SplitHostPort(s.DatanodeAddr())
	var id enc // DatanodeIDProto
	id.str(1, host)
	id.str(2, "localhost")
	id.str(3, s.dnUUID)
	var p uint64
	fmt.Sscan(port, &p)
	id.uint(4, p) // xferPort
	id.uint(5, 0) // infoPort
	id.uint(6, 0) // ipcPort
	var e enc     // DatanodeInfoProto
	e.msg(1, id)
	e.uint(2, 1<<40)                          // capacity
	e.uint(6, uint64(time.Now().UnixMilli())) // lastUpdate
	e.uint(10, 0)                             // NORMAL
	return e
}

// locatedBlock encodes LocatedBlockProto.
func (s *Server) locatedBlock(b *blockInfo, offset uint64, gs uint64) enc {
	var e enc
	e.msg(1, s.extendedBlock(b, gs))
	e.uint(2, offset)
	e.msg(3, s.datanodeInfo())
	e.bool(4, false)
	var tok enc // TokenProto: empty (no block access tokens)
	tok.bytes(1, nil)
	tok.bytes(2, nil)
	tok.str(3, "")
	tok.str(4, "")
	e.msg(5, tok)
	e.uint(7, 1) // StorageTypeProto DISK
	e.str(8, "DS-"+s.dnUUID)
	return e
}

// locatedBlocks encodes LocatedBlocksProto for [off, off+length).
func (s *Server) locatedBlocks(n *inode, off, length uint64) enc {
	var e enc
	e.uint(1, n.length())
	var pos uint64
	for _, b := range n.blocks {
		if !b.committed {
			break
		}
		if pos+b.numBytes > off && (pos < off+length || length == 0 && pos == off) {
			e.msg(2, s.locatedBlock(b, pos, b.gs))
		}
		pos += b.numBytes
	}
	e.bool(3, n.writer != "")
	e.bool(5, n.writer == "")
	return e
}

func (s *Server) getFileInfo(user string, req dec) (enc, error) {
	if err := req.require("GetFileInfoRequestProto", 1); err != nil {
		return nil, err
	}
	n, _, err := s.resolve(req.str(1))
	if err != nil {
		return nil, err
	}
	var e enc
	if n != nil {
		e.msg(1, s.status(n, "", false))
	}
	return e, nil
}

func (s *Server) getListing(user string, req dec) (enc, error) {
	if err := req.require("GetListingRequestProto", 1, 2, 3); err != nil {
		return nil, err
	}
	n, _, err := s.resolve(req.str(1))
	if err != nil {
		return nil, err
	}
	var e enc
	if n == nil {
		return e, nil
	}
	loc := req.bool(3)
	var list enc // DirectoryListingProto
	if !n.dir {
		list.msg(1, s.status(n, "", loc))
		list.uint(2, 0)
		e.msg(1, list)
		return e, nil
	}
	names := make([]string, 0, len(n.children))
	after := string(req.bytes(2))
	for name := range n.children {
		if name > after {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	k := min(len(names), s.o.ListLimit)
	for _, name := range names[:k] {
		list.msg(1, s.status(n.children[name], name, loc))
	}
	list.uint(2, uint64(len(names)-k))
	e.msg(1, list)
	return e, nil
}

func (s *Server) getBlockLocations(user string, req dec) (enc, error) {
	if err := req.require("GetBlockLocationsRequestProto", 1, 2, 3); err != nil {
		return nil, err
	}
	p := req.str(1)
	n, err := s.lookup(p)
	if err != nil {
		return nil, err
	}
	if n.dir {
		return nil, throw(exFileNotFound, "Path is not a file: %s", p)
	}
	var e enc
	e.msg(1, s.locatedBlocks(n, req.uint(2), req.uint(3)))
	return e, nil
}

func (s *Server) getServerDefaults(user string, req dec) (enc, error) {
	var d enc // FsServerDefaultsProto
	d.uint(1, uint64(s.o.BlockSize))
	d.uint(2, bytesPerChecksum)
	d.uint(3, 64<<10) // writePacketSize
	d.uint(4, 1)      // replication: there is one datanode
	d.uint(5, 4096)   // fileBufferSize
	d.bool(6, false)  // encryptDataTransfer
	d.uint(7, 0)      // trashInterval
	d.uint(8, checksumCRC32C)
	var e enc
	e.msg(1, d)
	return e, nil
}

func (s *Server) newInode(name string, dir bool, parent *inode, perm uint32, user string) *inode {
	now := time.Now().UnixMilli()
	s.nextID++
	n := &inode{name: name, dir: dir, parent: parent, id: s.nextID, perm: perm & 0o7777,
		owner: user, group: "supergroup", mtime: now}
	if dir {
		n.children = map[string]*inode{}
	} else {
		n.atime = now
	}
	parent.children[name] = n
	parent.mtime = now
	return n
}

func (s *Server) mkdirs(user string, req dec) (enc, error) {
	if err := req.require("MkdirsRequestProto", 1, 2, 3); err != nil {
		return nil, err
	}
	p := req.str(1)
	masked, _ := req.msg(2)
	comps, err := components(p)
	if err != nil {
		return nil, err
	}
	n := s.root
	for i, c := range comps {
		child := n.children[c]
		switch {
		case child == nil:
			if i < len(comps)-1 && !req.bool(3) {
				return nil, throw(exFileNotFound, "Parent directory doesn't exist: /%s", strings.Join(comps[:i+1], "/"))
			}
			child = s.newInode(c, true, n, uint32(masked.uint(1)), user)
		case !child.dir && i == len(comps)-1:
			return nil, throw(exAlreadyExists, "Path is not a directory: %s", p)
		case !child.dir:
			return nil, throw(exParentNotDir, "/%s (is not a directory)", strings.Join(comps[:i+1], "/"))
		}
		n = child
	}
	var e enc
	e.bool(1, true)
	return e, nil
}

func (s *Server) create(user string, req dec) (enc, error) {
	if err := req.require("CreateRequestProto", 1, 2, 3, 4, 5, 6, 7); err != nil {
		return nil, err
	}
	p, client, flag := req.str(1), req.str(3), req.uint(4)
	masked, _ := req.msg(2)
	if flag&createFlagAppend != 0 {
		return nil, throw(exUnsupported, "append is not implemented by hdfstest")
	}
	if flag&createFlagCreate == 0 {
		return nil, throw(exIllegalArgument, "create flag %#x without CREATE", flag)
	}
	bs := req.uint(7)
	if bs == 0 || bs%bytesPerChecksum != 0 {
		return nil, throw(exIO, "Invalid values: dfs.bytes-per-checksum (=%d) must divide block size (=%d).", bytesPerChecksum, bs)
	}
	comps, err := components(p)
	if err != nil {
		return nil, err
	}
	if len(comps) == 0 {
		return nil, throw(exAlreadyExists, "/ already exists as a directory")
	}
	n, parent, err := s.resolve(p)
	if err != nil {
		return nil, err
	}
	if parent == nil || !parent.dir {
		if f := s.fileAncestor(comps); f != "" {
			return nil, throw(exParentNotDir, "%s (is not a directory)", f)
		}
		parentPath := "/" + strings.Join(comps[:len(comps)-1], "/")
		if !req.bool(5) {
			return nil, throw(exFileNotFound, "Parent directory doesn't exist: %s", parentPath)
		}
		if _, err := s.mkdirs(user, mkdirsReq(parentPath)); err != nil {
			return nil, err
		}
		n, parent, _ = s.resolve(p)
	}
	if n != nil {
		switch {
		case n.dir:
			return nil, throw(exAlreadyExists, "%s already exists as a directory", p)
		case n.writer != "":
			return nil, throw(exBeingCreated, "Failed to CREATE_FILE %s for %s because this file lease is currently owned by %s", p, client, n.writer)
		case flag&createFlagOverwrite == 0:
			return nil, throw(exAlreadyExists, "%s for client 127.0.0.1 already exists", p)
		}
		s.removeTree(n)
	}
	f := s.newInode(comps[len(comps)-1], false, parent, uint32(masked.uint(1)), user)
	f.replication = uint32(req.uint(6))
	f.blockSize = bs
	f.writer = client
	var e enc
	e.msg(1, s.status(f, "", false))
	return e, nil
}

func mkdirsReq(p string) dec {
	var perm enc
	perm.uint(1, 0o755)
	var r enc
	r.str(1, p)
	r.msg(2, perm)
	r.bool(3, true)
	d, _ := decode(r)
	return d
}

// checkLease finds the file p written by client (and with id fileID if non-zero).
func (s *Server) checkLease(p, client string, fileID uint64) (*inode, error) {
	n, _, err := s.resolve(p)
	if err != nil {
		return nil, err
	}
	if n == nil || (fileID != 0 && n.id != fileID) {
		return nil, throw(exFileNotFound, "File does not exist: %s [Lease.  Holder: %s]", p, client)
	}
	if n.dir {
		return nil, throw(exFileNotFound, "Path is not a file: %s", p)
	}
	if n.writer == "" {
		return n, throw(exLeaseExpired, "No lease on %s (inode %d): File is not open for writing. Holder %s does not have any open files.", p, n.id, client)
	}
	if n.writer != client {
		return n, throw(exLeaseExpired, "Client %s does not hold the lease on %s (holder %s)", client, p, n.writer)
	}
	return n, nil
}

// commit records the length the client reports for the file's last block,
// once the datanode finalized it with that length and generation stamp.
func (s *Server) commit(n *inode, eb dec, method string) error {
	if len(n.blocks) == 0 {
		return throw(exIO, "%s: %s has no block to commit, the client reports block %d", method, s.pathOf(n), eb.uint(2))
	}
	b := n.blocks[len(n.blocks)-1]
	if b.committed && b.id == eb.uint(2) {
		return nil
	}
	if eb.uint(2) != b.id || eb.str(1) != s.poolID {
		return throw(exIO, "%s: the client reports block %s:%d, the last block of %s is %d", method, eb.str(1), eb.uint(2), s.pathOf(n), b.id)
	}
	if eb.uint(3) != b.gs {
		return throw(exIO, "Commit block with mismatching GS. NN has blk_%d_%d, client submits blk_%d_%d", b.id, b.gs, b.id, eb.uint(3))
	}
	r := s.replicas[b.id]
	if r == nil || !r.finalized {
		return throw(exNotReplicatedYet, "Not replicated yet: %s (blk_%d)", s.pathOf(n), b.id)
	}
	if uint64(len(r.data)) != eb.uint(4) {
		return throw(exIO, "%s: blk_%d has %d bytes on the datanode, the client reports %d", method, b.id, len(r.data), eb.uint(4))
	}
	b.numBytes = eb.uint(4)
	b.committed = true
	n.mtime = time.Now().UnixMilli()
	return nil
}

func (s *Server) addBlock(user string, req dec) (enc, error) {
	if err := req.require("AddBlockRequestProto", 1, 2); err != nil {
		return nil, err
	}
	p, client := req.str(1), req.str(2)
	n, err := s.checkLease(p, client, req.uint(5))
	if err != nil {
		return nil, err
	}
	if req.has(3) {
		prev, _ := req.msg(3)
		if err := s.commit(n, prev, "addBlock"); err != nil {
			return nil, err
		}
	} else if len(n.blocks) > 0 {
		return nil, throw(exIO, "addBlock: %s: the client does not report the previous block blk_%d", p, n.blocks[len(n.blocks)-1].id)
	}
	var off uint64
	for _, b := range n.blocks {
		off += b.numBytes
	}
	b := &blockInfo{id: s.nextBlk, gs: s.nextGS, file: n}
	s.nextBlk++
	s.nextGS++
	n.blocks = append(n.blocks, b)
	s.blocks[b.id] = b
	s.replicas[b.id] = &replica{gs: b.gs}
	var e enc
	e.msg(1, s.locatedBlock(b, off, b.gs))
	return e, nil
}

func (s *Server) updateBlockForPipeline(user string, req dec) (enc, error) {
	if err := req.require("UpdateBlockForPipelineRequestProto", 1, 2); err != nil {
		return nil, err
	}
	eb, _ := req.msg(1)
	b := s.blocks[eb.uint(2)]
	if b == nil || b.committed || eb.str(1) != s.poolID {
		return nil, throw(exIO, "BP:blk_%d does not exist or is not under Construction", eb.uint(2))
	}
	if b.file.writer != req.str(2) {
		return nil, throw(exLeaseExpired, "Client %s does not hold the lease on %s", req.str(2), s.pathOf(b.file))
	}
	// As FSNamesystem.bumpBlockGenerationStamp: a new generation stamp for
	// the pipeline, recorded only when the pipeline is updated (never here).
	gs := s.nextGS
	s.nextGS++
	var off uint64
	for _, x := range b.file.blocks {
		if x == b {
			break
		}
		off += x.numBytes
	}
	var e enc
	e.msg(1, s.locatedBlock(b, off, gs))
	return e, nil
}

func (s *Server) complete(user string, req dec) (enc, error) {
	if err := req.require("CompleteRequestProto", 1, 2); err != nil {
		return nil, err
	}
	p, client := req.str(1), req.str(2)
	n, err := s.checkLease(p, client, req.uint(4))
	var e enc
	if err != nil {
		// A retried complete of a file already closed succeeds (FSNamesystem.completeFileInternal).
		if n != nil && n.writer == "" {
			e.bool(1, true)
			return e, nil
		}
		return nil, err
	}
	if req.has(3) {
		last, _ := req.msg(3)
		if err := s.commit(n, last, "complete"); err != nil {
			if re, ok := err.(*remoteError); ok && re.class == exNotReplicatedYet {
				e.bool(1, false)
				return e, nil
			}
			return nil, err
		}
	} else if len(n.blocks) > 0 && !n.blocks[len(n.blocks)-1].committed {
		return nil, throw(exIO, "complete: %s: the client does not report its last block blk_%d", p, n.blocks[len(n.blocks)-1].id)
	}
	n.writer = ""
	n.mtime = time.Now().UnixMilli()
	e.bool(1, true)
	return e, nil
}

func (s *Server) rename2(user string, req dec) (enc, error) {
	if err := req.require("Rename2RequestProto", 1, 2, 3); err != nil {
		return nil, err
	}
	src, dst, overwrite := req.str(1), req.str(2), req.bool(3)
	sn, _, err := s.resolve(src)
	if err != nil {
		return nil, err
	}
	if _, err := components(dst); err != nil {
		return nil, err
	}
	if sn == nil {
		return nil, throw(exFileNotFound, "rename source %s is not found.", src)
	}
	if sn == s.root {
		return nil, throw(exIO, "rename source / is the root")
	}
	srcPath := s.pathOf(sn)
	dn, dparent, _ := s.resolve(dst)
	if dn == sn {
		return nil, throw(exAlreadyExists, "The source %s and destination %s are the same", src, dst)
	}
	if cd := strings.TrimSuffix(dst, "/"); strings.HasPrefix(cd, srcPath+"/") {
		return nil, throw(exIO, "Rename destination %s is a directory or file under source %s", dst, src)
	}
	if dcomps, _ := components(dst); dparent == nil && s.fileAncestor(dcomps) != "" {
		return nil, throw(exParentNotDir, "rename destination parent %s is a file.", dst)
	}
	if dparent == nil {
		return nil, throw(exFileNotFound, "rename destination parent %s not found.", dst)
	}
	if dn != nil {
		switch {
		case !overwrite:
			return nil, throw(exAlreadyExists, "rename destination %s already exists", dst)
		case dn.dir && !sn.dir:
			return nil, throw(exIO, "Source %s and destination %s must both be directories", src, dst)
		case !dn.dir && sn.dir:
			return nil, throw(exIO, "Source %s and destination %s must both be files", src, dst)
		case dn.dir && len(dn.children) > 0:
			return nil, throw(exIO, "rename destination directory is not empty: %s", dst)
		}
		s.removeTree(dn)
	}
	comps, _ := components(dst)
	now := time.Now().UnixMilli()
	delete(sn.parent.children, sn.name)
	sn.parent.mtime = now
	sn.name = comps[len(comps)-1]
	sn.parent = dparent
	dparent.children[sn.name] = sn
	dparent.mtime = now
	return nil, nil
}

// removeTree unlinks n and frees the blocks under it.
func (s *Server) removeTree(n *inode) {
	var free func(n *inode)
	free = func(n *inode) {
		for _, b := range n.blocks {
			delete(s.blocks, b.id)
			delete(s.replicas, b.id)
		}
		for _, c := range n.children {
			free(c)
		}
	}
	free(n)
	delete(n.parent.children, n.name)
	n.parent.mtime = time.Now().UnixMilli()
}

func (s *Server) delete(user string, req dec) (enc, error) {
	if err := req.require("DeleteRequestProto", 1, 2); err != nil {
		return nil, err
	}
	p := req.str(1)
	n, _, err := s.resolve(p)
	if err != nil {
		return nil, err
	}
	var e enc
	if n == nil {
		e.bool(1, false)
		return e, nil
	}
	if n == s.root {
		return nil, throw(exIO, "hdfstest does not delete the root directory")
	}
	if n.dir && len(n.children) > 0 && !req.bool(2) {
		return nil, throw(exNotEmpty, "`%s is non empty': Directory is not empty", p)
	}
	s.removeTree(n)
	e.bool(1, true)
	return e, nil
}

func (s *Server) renewLease(user string, req dec) (enc, error) {
	if err := req.require("RenewLeaseRequestProto", 1); err != nil {
		return nil, err
	}
	return nil, nil
}
