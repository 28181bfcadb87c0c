package structured

import (
	"path"
	"strings"
)

// File types of a structured checkpoint or sink log, by path (§1).
const (
	FileMetadata         = "metadata"          // <root>/metadata
	FileOffsets          = "offsets"           // offsets/<batch>
	FileCommits          = "commits"           // commits/<batch>
	FileSourceLog        = "source-log"        // sources/<n>/<id>[.compact] (file source or Kafka)
	FileSinkLog          = "sink-log"          // _spark_metadata/<id>[.compact]
	FileState            = "state"             // state/.../<v>.delta|snapshot|changelog
	FileRocksDBZip       = "rocksdb-zip"       // state/.../<v>[_<id>].zip
	FileSchema           = "state-schema"      // .../_metadata/schema, _stateSchema/<store>/<batch>_<id>
	FileOperatorMetadata = "operator-metadata" // state/<op>/_metadata/metadata, _metadata/v2/<batch>
)

// FileType classifies a slash path (absolute or relative) by its last
// components; "" for anything else (sidecars, temp files, SSTs, data).
func FileType(p string) string {
	p = strings.TrimSuffix(p, "/")
	base := path.Base(p)
	dir := path.Dir(p)
	parent := path.Base(dir)
	grand := path.Base(path.Dir(dir))
	if strings.HasPrefix(base, ".") {
		return ""
	}
	isBatch := func(compactible bool) bool { _, _, ok := BatchOf(base, compactible); return ok }
	switch {
	case parent == "offsets" && isBatch(false):
		return FileOffsets
	case parent == "commits" && isBatch(false):
		return FileCommits
	case grand == "sources" && isBatch(true):
		return FileSourceLog
	case parent == "_spark_metadata" && isBatch(true):
		return FileSinkLog
	case base == "schema" && parent == "_metadata":
		return FileSchema
	case grand == "_stateSchema":
		return FileSchema
	case base == "metadata" && parent == "_metadata", parent == "v2" && grand == "_metadata" && isBatch(false):
		return FileOperatorMetadata
	case base == "metadata":
		return FileMetadata
	}
	if strings.Contains("/"+p, "/state/") {
		if _, kind, _, ok := parseStateName(base); ok {
			if kind == "zip" {
				return FileRocksDBZip
			}
			return FileState
		}
	}
	return ""
}

// CheckpointRoot returns the checkpoint directory a file of the given
// type lies in (slash path), by its position (§1), or "" if unknown.
func CheckpointRoot(p string) string {
	parts := strings.Split(strings.TrimSuffix(p, "/"), "/")
	for i := len(parts) - 1; i >= 0; i-- {
		switch parts[i] {
		case "offsets", "commits", "sources", "state":
			if i == 0 {
				return "."
			}
			return strings.Join(parts[:i], "/")
		}
	}
	return ""
}
