package dstream

import (
	"fmt"
	"net"
	"regexp"
	"strings"

	"github.com/sparkckpt/sparkckpt/decode/javaser"
	"github.com/sparkckpt/sparkckpt/decode/wal"
)

// Reference is one URI or host-like value found in a checkpoint.
type Reference struct {
	URI       string `json:"uri"`
	Scheme    string `json:"scheme"`            // "hdfs", "file", ...; "" for a bare host[:port]
	Authority string `json:"authority"`         // "namenode:8020"; "" for file:/x
	File      string `json:"file"`              // set by the caller
	Location  string `json:"location"`          // object path, e.g. Checkpoint.checkpointDir
	Role      string `json:"role"`              // see Roles
	Source    string `json:"source"`            // "java" (a String), "pickle" (a pickled Python function), "wal"
	ConfKey   string `json:"confKey,omitempty"` // for role "conf": the Spark conf key
	// Shared is true when this location holds a TC_REFERENCE to a string
	// that also appears elsewhere (editing one edits both).
	Shared bool `json:"shared,omitempty"`

	// Node is the *javaser.String holding the value (for Source "java").
	Node *javaser.String `json:"-"`
	// Pickle locates a Python string: the function and the opcode index.
	Pickle *PickleRef `json:"-"`
}

// PickleRef locates a string inside a pickled Python function.
type PickleRef struct {
	Function *PythonFunction
	Op       int
}

// Key groups references by place: "scheme://authority", "file:", or the bare host.
func (r Reference) Key() string {
	switch {
	case r.Scheme == "":
		return r.Authority
	case r.Authority == "" && (r.Scheme == "file" || !strings.HasPrefix(r.URI, r.Scheme+"://")):
		// file:/x and file:///x name the same place.
		return r.Scheme + ":"
	}
	return r.Scheme + "://" + r.Authority
}

// RoleInfo explains what a role means for a restore.
type RoleInfo struct {
	// Restart is true when Spark reads or writes at this place on restart
	// (a foreign authority breaks or silently misdirects recovery).
	Restart bool
	Meaning string
}

// Role explains what a role means for a restore; ok is false for an unknown role.
func Role(role string) (info RoleInfo, ok bool) {
	switch role {
	case "checkpointDir":
		return RoleInfo{true, "Checkpoint.checkpointDir: on restart Spark uses this stored URI, not the path given to getOrCreate, for RDD checkpoints, the write-ahead logs and new checkpoint files"}, true
	case "rdd-checkpoint":
		return RoleInfo{true, "RDD checkpoint directory of a stateful/windowed stream, read back on restore"}, true
	case "input-file":
		return RoleInfo{true, "input file remembered by a file stream, re-read for pending batches"}, true
	case "input-directory":
		return RoleInfo{true, "directory a file stream monitors (as the user typed it)"}, true
	case "wal-segment":
		return RoleInfo{true, "write-ahead-log segment a recovered batch reads its received blocks from"}, true
	case "receiver":
		return RoleInfo{true, "host a receiver connects to"}, true
	case "conf":
		return RoleInfo{false, "Spark configuration value stored in the checkpoint (some keys are re-read from the new environment on restart)"}, true
	case "master":
		return RoleInfo{false, "Checkpoint.master (spark.master is re-read from the new environment on restart)"}, true
	case "jar":
		return RoleInfo{false, "application jar"}, true
	case "python-function":
		return RoleInfo{false, "string baked into a pickled Python function (e.g. an output path), used when the function runs"}, true
	case "other":
		return RoleInfo{false, "other string in the object tree"}, true
	}
	return RoleInfo{}, false
}

var (
	uriPattern = regexp.MustCompile(`\b([a-zA-Z][a-zA-Z0-9+.\-]{0,15}):(//[^\s,;"'<>(){}]*|/[^\s,;"'<>(){}]*)`)
	hostName   = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9\-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9\-]*[A-Za-z0-9])?)*$`)
	hostKeys   = regexp.MustCompile(`(^|\.)(host|hostname|bindAddress|address|bootstrap\.servers|metadata\.broker\.list|zookeeper\.connect|PROXY_HOSTS)$`)
)

// FindURIs returns the URI-like substrings of s ("scheme:/path" or
// "scheme://authority/...").
func FindURIs(s string) []string {
	if !strings.Contains(s, ":/") {
		return nil
	}
	return uriPattern.FindAllString(s, -1)
}

// SplitURI returns the scheme and authority of a URI found by FindURIs.
func SplitURI(u string) (scheme, authority string) {
	scheme, rest, _ := strings.Cut(u, ":")
	if strings.HasPrefix(rest, "//") {
		authority, _, _ = strings.Cut(rest[2:], "/")
	}
	return strings.ToLower(scheme), authority
}

// References lists every URI and host-like value in the checkpoint:
// Java strings anywhere in the tree (with their object path), conf
// values, RDD checkpoint paths and strings inside pickled functions.
func References(f *File) []Reference {
	cp := f.Checkpoint
	var out []Reference
	confKey := map[string]string{} // location prefix of a conf pair -> key
	for i, p := range cp.Conf {
		confKey[fmt.Sprintf("Checkpoint.sparkConfPairs[%d]._2", i)] = p.Key
	}
	hostAttr := map[*javaser.String]bool{}
	for _, st := range cp.Graph.Streams {
		for _, a := range st.Attrs {
			if s := javaser.ResolveString(a.Node); s != nil && hostKeys.MatchString(a.Name) {
				hostAttr[s] = true
			}
		}
	}
	javaser.Walk(f.Stream, func(p javaser.Path, n javaser.Node) bool {
		if _, isDesc := n.(*javaser.ClassDesc); isDesc {
			return false
		}
		s := javaser.ResolveString(n)
		if s == nil {
			return true
		}
		_, shared := n.(*javaser.Ref)
		loc := p.String()
		value := s.Value()
		role := roleOf(loc)
		key, isConf := confKey[loc]
		uris := FindURIs(value)
		for _, u := range uris {
			scheme, auth := SplitURI(u)
			out = append(out, Reference{URI: u, Scheme: scheme, Authority: auth, Location: loc, Role: role, Source: "java", ConfKey: key, Shared: shared, Node: s})
		}
		if len(uris) > 0 {
			return true
		}
		if (isConf && hostKeys.MatchString(key)) || hostAttr[s] {
			r := role
			if !isConf {
				r = "receiver"
			}
			for _, h := range strings.Split(value, ",") {
				if h = strings.TrimSpace(h); h != "" && looksLikeHost(h) {
					out = append(out, Reference{URI: h, Authority: h, Location: loc, Role: r, Source: "java", ConfKey: key, Shared: shared, Node: s})
				}
			}
		}
		return true
	})
	for _, st := range cp.Graph.Streams {
		for _, fn := range st.Functions {
			if fn.Python == nil || fn.Python.Pickle == nil {
				continue
			}
			base := streamPath(f, st) + "." + fn.Field
			for _, ps := range fn.Python.Pickle.Strings() {
				if ps.Kind == "bytes" {
					continue
				}
				for _, u := range FindURIs(ps.Value) {
					scheme, auth := SplitURI(u)
					out = append(out, Reference{URI: u, Scheme: scheme, Authority: auth,
						Location: fmt.Sprintf("%s(pickle@%d %s)", base, ps.Off, ps.Opcode), Role: "python-function", Source: "pickle",
						Pickle: &PickleRef{Function: fn.Python, Op: ps.Op}})
				}
			}
		}
	}
	return out
}

func looksLikeHost(h string) bool {
	host := h
	if hh, _, err := net.SplitHostPort(h); err == nil {
		host = hh
	}
	if net.ParseIP(host) != nil {
		return true
	}
	return hostName.MatchString(host)
}

// streamPath returns the object path of a stream (where it is defined).
func streamPath(f *File, st *Stream) string {
	var found string
	javaser.Walk(f.Stream, func(p javaser.Path, n javaser.Node) bool {
		if found != "" {
			return false
		}
		if n == javaser.Node(st.Syntax) {
			found = p.String()
			return false
		}
		return true
	})
	if found == "" {
		return st.Class
	}
	return found
}

// roleOf classifies a location by its object path.
func roleOf(loc string) string {
	switch {
	case loc == "Checkpoint.checkpointDir":
		return "checkpointDir"
	case loc == "Checkpoint.master":
		return "master"
	case strings.HasPrefix(loc, "Checkpoint.jars"):
		return "jar"
	case strings.HasPrefix(loc, "Checkpoint.sparkConfPairs["):
		return "conf"
	case strings.Contains(loc, "checkpointData.data{") || strings.Contains(loc, "checkpointData.data."):
		if strings.HasSuffix(loc, "]") {
			return "input-file"
		}
		return "rdd-checkpoint"
	case strings.HasSuffix(loc, ".directory") || strings.HasSuffix(loc, "$$directory"):
		return "input-directory"
	}
	return "other"
}

// WALReferences lists the URIs a driver write-ahead log stores: the
// FileBasedWriteAheadLogSegment paths of block-addition events (and of the
// blocks listed in allocation events), which recovery reads by full URI
// (spec §6.4, §6.6). Locations name the record offset and event index.
func WALReferences(log *wal.Log) []Reference {
	var out []Reference
	add := func(rec wal.LogRecord, i int, what string, b *wal.ReceivedBlockInfo) {
		if b == nil || b.Segment == nil {
			return
		}
		s := b.Segment
		var node *javaser.String
		if s.Syntax != nil {
			if v, ok := s.Syntax.Field("path"); ok {
				node = javaser.ResolveString(v.Obj)
			}
		}
		loc := fmt.Sprintf("record@%d event[%d].%s.walRecordHandle.path", rec.Offset, i, what)
		for _, u := range FindURIs(s.Path) {
			scheme, auth := SplitURI(u)
			out = append(out, Reference{URI: u, Scheme: scheme, Authority: auth, Location: loc, Role: "wal-segment", Source: "wal", Node: node})
		}
	}
	for _, rec := range log.Records {
		for i, e := range rec.Events {
			if e.BlockAddition != nil {
				add(rec, i, "receivedBlockInfo.blockStoreResult", e.BlockAddition)
			}
			if e.Allocation != nil {
				for _, id := range e.Allocation.StreamIDs {
					for j := range e.Allocation.Blocks[id] {
						add(rec, i, fmt.Sprintf("allocatedBlocks[%d][%d].blockStoreResult", id, j), &e.Allocation.Blocks[id][j])
					}
				}
			}
		}
	}
	return out
}
