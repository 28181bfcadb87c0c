package structured

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"strings"

	"github.com/sparkckpt/sparkckpt/decode"
)

// RocksDBZip is a RocksDB state store checkpoint, <v>[_<uuid>].zip (§4.2):
// the files of a RocksDB checkpoint other than SSTs and archived logs,
// plus Spark's metadata.
type RocksDBZip struct {
	Entries  []ZipEntry       `json:"entries"`
	Metadata *RocksDBMetadata `json:"metadata"`
}

// ZipEntry is one file in the zip.
type ZipEntry struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
}

// RocksDBMetadata is the zip's metadata file: "v1\n" + JSON.
type RocksDBMetadata struct {
	Version  int           `json:"version"`
	SSTFiles []RocksDBFile `json:"sstFiles"`
	LogFiles []RocksDBFile `json:"logFiles,omitempty"`
	NumKeys  int64         `json:"numKeys"`
	// NumInternalKeys and the column-family fields are 4.0+.
	NumInternalKeys     *int64          `json:"numInternalKeys,omitempty"`
	ColumnFamilyMapping []KV            `json:"columnFamilyMapping,omitempty"`
	MaxColumnFamilyID   *int64          `json:"maxColumnFamilyId,omitempty"`
	ColumnFamilyTypeMap json.RawMessage `json:"columnFamilyTypeMap,omitempty"`
}

// RocksDBFile is an immutable file a version uses: an SST under SSTs/ or
// an archived log under logs/, by its DFS name.
type RocksDBFile struct {
	LocalFileName string `json:"localFileName"`
	DFSFileName   string `json:"dfsFileName"`
	SizeBytes     int64  `json:"sizeBytes"`
}

// maxZipMetadata bounds the metadata entry read from a zip.
const maxZipMetadata = 64 << 20

// ParseRocksDBZip reads a RocksDB checkpoint zip and its metadata entry.
func ParseRocksDBZip(b []byte) (*RocksDBZip, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, errorf(0, decode.ErrCorrupt, "rocksdb zip: %v", err)
	}
	z := &RocksDBZip{Entries: []ZipEntry{}}
	var meta *zip.File
	for _, f := range zr.File {
		z.Entries = append(z.Entries, ZipEntry{f.Name, int64(f.UncompressedSize64)})
		if f.Name == "metadata" {
			meta = f
		}
	}
	if meta == nil {
		return nil, errorf(0, decode.ErrCorrupt, "rocksdb zip: no metadata entry (entries: %s)", entryNames(z.Entries))
	}
	off, _ := meta.DataOffset()
	if meta.UncompressedSize64 > maxZipMetadata {
		return nil, errorf(off, decode.ErrTooLarge, "rocksdb zip: metadata entry of %d bytes", meta.UncompressedSize64)
	}
	rc, err := meta.Open()
	if err != nil {
		return nil, errorf(off, decode.ErrCorrupt, "rocksdb zip: metadata: %v", err)
	}
	defer rc.Close()
	mb, err := io.ReadAll(io.LimitReader(rc, maxZipMetadata+1))
	if err != nil {
		return nil, errorf(off, decode.ErrCorrupt, "rocksdb zip: metadata: %v", err)
	}
	m, err := ParseRocksDBMetadata(mb)
	if err != nil {
		return nil, err
	}
	z.Metadata = m
	return z, nil
}

func entryNames(es []ZipEntry) string {
	var n []string
	for _, e := range es {
		n = append(n, e.Name)
	}
	return strings.Join(n, ", ")
}

// ParseRocksDBMetadata decodes RocksDBCheckpointMetadata ("v1\n" + JSON).
// Spark accepts exactly v1.
func ParseRocksDBMetadata(b []byte) (*RocksDBMetadata, error) {
	v, lines, err := readLog(b, "rocksdb metadata", 1)
	if err != nil {
		return nil, err
	}
	if len(lines) == 0 {
		return nil, errorf(int64(len(b)), decode.ErrTruncated, "rocksdb metadata: no JSON after the version line")
	}
	var raw struct {
		SST []struct {
			Local string `json:"localFileName"`
			DFS   string `json:"dfsSstFileName"`
			Size  int64  `json:"sizeBytes"`
		} `json:"sstFiles"`
		Logs []struct {
			Local string `json:"localFileName"`
			DFS   string `json:"dfsLogFileName"`
			Size  int64  `json:"sizeBytes"`
		} `json:"logFiles"`
		NumKeys             int64           `json:"numKeys"`
		NumInternalKeys     *int64          `json:"numInternalKeys"`
		ColumnFamilyMapping json.RawMessage `json:"columnFamilyMapping"`
		MaxColumnFamilyID   *int64          `json:"maxColumnFamilyId"`
		ColumnFamilyTypeMap json.RawMessage `json:"columnFamilyTypeMap"`
	}
	l := lines[0]
	if err := unmarshal(strings.TrimRight(string(b[l.Offset:]), "\r\n"), &raw); err != nil {
		return nil, jsonError(err, l.Offset, "rocksdb metadata")
	}
	m := &RocksDBMetadata{Version: v, SSTFiles: []RocksDBFile{}, NumKeys: raw.NumKeys, NumInternalKeys: raw.NumInternalKeys,
		MaxColumnFamilyID: raw.MaxColumnFamilyID, ColumnFamilyTypeMap: raw.ColumnFamilyTypeMap}
	for _, f := range raw.SST {
		m.SSTFiles = append(m.SSTFiles, RocksDBFile{f.Local, f.DFS, f.Size})
	}
	for _, f := range raw.Logs {
		m.LogFiles = append(m.LogFiles, RocksDBFile{f.Local, f.DFS, f.Size})
	}
	if len(raw.ColumnFamilyMapping) > 0 {
		if kvs, err := orderedObject(raw.ColumnFamilyMapping); err == nil {
			m.ColumnFamilyMapping = kvs
		}
	}
	return m, nil
}
