package structured

import (
	"encoding/json"
	"fmt"
	"hash"
	"hash/crc32"

	"github.com/sparkckpt/sparkckpt/decode/crcfile"
)

// crcVerifier checks a file's bytes against its Hadoop .crc sidecar (§7.1)
// as they stream past, one bytesPerChecksum chunk at a time.
type crcVerifier struct {
	sc    *crcfile.Sidecar
	h     hash.Hash32
	inBuf int   // bytes of the current chunk hashed so far
	chunk int   // index of the current chunk
	total int64 // bytes seen
	bad   error // first mismatch
}

func newCRCVerifier(sidecar []byte) (*crcVerifier, error) {
	sc, err := crcfile.Parse(sidecar)
	if err != nil {
		return nil, err
	}
	return &crcVerifier{sc: sc, h: crc32.NewIEEE()}, nil
}

func (v *crcVerifier) Write(p []byte) (int, error) {
	n := len(p)
	v.total += int64(n)
	for len(p) > 0 && v.bad == nil {
		k := min(len(p), v.sc.BytesPerChecksum-v.inBuf)
		v.h.Write(p[:k])
		v.inBuf += k
		p = p[k:]
		if v.inBuf == v.sc.BytesPerChecksum {
			v.closeChunk()
		}
	}
	return n, nil
}

func (v *crcVerifier) closeChunk() {
	if v.chunk >= len(v.sc.Sums) {
		v.bad = fmt.Errorf("the file is longer than its .crc sidecar covers (%d checksums of %d bytes)", len(v.sc.Sums), v.sc.BytesPerChecksum)
	} else if got := v.h.Sum32(); got != v.sc.Sums[v.chunk] {
		start := int64(v.chunk) * int64(v.sc.BytesPerChecksum)
		v.bad = fmt.Errorf("checksum of bytes %d..%d is %08x, the .crc sidecar says %08x (Hadoop: ChecksumException)", start, start+int64(v.inBuf)-1, got, v.sc.Sums[v.chunk])
	}
	v.chunk++
	v.inBuf = 0
	v.h.Reset()
}

// finish checks the last partial chunk and the chunk count.
func (v *crcVerifier) finish() error {
	if v.bad == nil && v.inBuf > 0 {
		v.closeChunk()
	}
	if v.bad == nil && v.chunk != len(v.sc.Sums) {
		v.bad = fmt.Errorf("the .crc sidecar has %d checksums, the file's %d bytes need %d (file changed size?)", len(v.sc.Sums), v.total, v.chunk)
	}
	return v.bad
}

// checksumFile is Spark 4.1's JSON state checksum sidecar x.crc (§7.3).
type checksumFile struct {
	Algorithm    string `json:"algorithm"`
	Value        int64  `json:"value"`
	MainFileSize int64  `json:"mainFileSize"`
}

// crc32cVerifier checks a 4.1 JSON checksum: CRC32C of the whole file and its size.
type crc32cVerifier struct {
	want checksumFile
	h    hash.Hash32
	n    int64
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func newCRC32CVerifier(b []byte) (*crc32cVerifier, error) {
	v := &crc32cVerifier{h: crc32.New(castagnoli)}
	if err := json.Unmarshal(b, &v.want); err != nil {
		return nil, fmt.Errorf("not a Spark checksum file: %v", err)
	}
	if v.want.Algorithm != "CRC32C" {
		return nil, fmt.Errorf("checksum algorithm %q; only CRC32C is known", v.want.Algorithm)
	}
	return v, nil
}

func (v *crc32cVerifier) Write(p []byte) (int, error) {
	v.n += int64(len(p))
	return v.h.Write(p)
}

func (v *crc32cVerifier) finish() error {
	if v.n != v.want.MainFileSize {
		return fmt.Errorf("the file has %d bytes, its checksum file says %d", v.n, v.want.MainFileSize)
	}
	if got := int32(v.h.Sum32()); int64(got) != v.want.Value {
		return fmt.Errorf("CRC32C is %d, its checksum file says %d", got, v.want.Value)
	}
	return nil
}
