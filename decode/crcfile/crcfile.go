// Package crcfile reads and writes the checksum sidecars of Hadoop's
// ChecksumFileSystem (LocalFileSystem): for a file X, the file .X.crc in
// the same directory (spec dstream-format.md §1.3).
//
// # Wire format
//
//	"crc\x00"                  4 bytes magic
//	int32 BE bytesPerChecksum  512 by default
//	uint32 BE CRC32 (zlib/IEEE) of each bytesPerChecksum-byte chunk of X; the last chunk may be short
//
// An empty X has a sidecar of just the 8-byte header. Spark writes
// checkpoint files through LocalFileSystem, so they have sidecars; its
// write-ahead logs use the raw local file system and have none.
//
// # Security
//
// Parse checks the header and that the checksum count is whole; it
// allocates nothing beyond its input.
package crcfile

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"path"

	"github.com/sparkckpt/sparkckpt/decode"
)

// Magic starts every sidecar.
const Magic = "crc\x00"

// DefaultBytesPerChecksum is Hadoop's io.bytes.per.checksum default.
const DefaultBytesPerChecksum = 512

// SidecarName returns the name of the sidecar of the file named name
// ("dir/checkpoint-1" -> "dir/.checkpoint-1.crc"), slash-separated.
func SidecarName(name string) string {
	dir, base := path.Split(name)
	return dir + "." + base + ".crc"
}

// IsSidecar reports whether base is a sidecar's base name, and returns the
// base name of the file it checks.
func IsSidecar(base string) (data string, ok bool) {
	if len(base) > len(".x.crc")-1 && base[0] == '.' && base[len(base)-4:] == ".crc" {
		return base[1 : len(base)-4], true
	}
	return "", false
}

// Sidecar is a parsed checksum file.
type Sidecar struct {
	BytesPerChecksum int
	Sums             []uint32
}

// Parse reads a sidecar. Errors are *decode.Error with Format "crc".
func Parse(b []byte) (*Sidecar, error) {
	if len(b) < 8 {
		return nil, decode.Errorf("crc", 0, decode.ErrTruncated, "expected an 8-byte header (\"crc\\0\" + bytes per checksum), got %d bytes", len(b))
	}
	if string(b[:4]) != Magic {
		return nil, decode.Errorf("crc", 0, decode.ErrCorrupt, "expected magic \"crc\\0\", got %q", b[:4])
	}
	bpc := int32(binary.BigEndian.Uint32(b[4:]))
	if bpc <= 0 {
		return nil, decode.Errorf("crc", 4, decode.ErrCorrupt, "bytes per checksum %d is not positive", bpc)
	}
	if (len(b)-8)%4 != 0 {
		return nil, decode.Errorf("crc", int64(len(b)-(len(b)-8)%4), decode.ErrTruncated, "checksums are 4 bytes each; %d bytes follow the header", len(b)-8)
	}
	s := &Sidecar{BytesPerChecksum: int(bpc), Sums: make([]uint32, (len(b)-8)/4)}
	for i := range s.Sums {
		s.Sums[i] = binary.BigEndian.Uint32(b[8+4*i:])
	}
	return s, nil
}

// Compute returns the sidecar bytes Hadoop writes for data.
func Compute(data []byte, bytesPerChecksum int) []byte {
	if bytesPerChecksum <= 0 {
		bytesPerChecksum = DefaultBytesPerChecksum
	}
	out := make([]byte, 8, 8+4*((len(data)+bytesPerChecksum-1)/bytesPerChecksum))
	copy(out, Magic)
	binary.BigEndian.PutUint32(out[4:], uint32(bytesPerChecksum))
	for off := 0; off < len(data); off += bytesPerChecksum {
		out = binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(data[off:min(off+bytesPerChecksum, len(data))]))
	}
	return out
}

// Verify checks data against a sidecar's bytes. It returns nil if they
// match, else an error saying which chunk (and so which byte range) differs.
func Verify(data, sidecar []byte) error {
	s, err := Parse(sidecar)
	if err != nil {
		return err
	}
	want := Compute(data, s.BytesPerChecksum)
	if bytes.Equal(want, sidecar) {
		return nil
	}
	n := (len(data) + s.BytesPerChecksum - 1) / s.BytesPerChecksum
	if len(s.Sums) != n {
		return fmt.Errorf("crc: sidecar has %d checksums, the file's %d bytes need %d (file changed size?)", len(s.Sums), len(data), n)
	}
	for i := range s.Sums {
		if got := binary.BigEndian.Uint32(want[8+4*i:]); got != s.Sums[i] {
			return fmt.Errorf("crc: checksum of bytes %d..%d is %08x, sidecar says %08x", i*s.BytesPerChecksum, min((i+1)*s.BytesPerChecksum, len(data))-1, got, s.Sums[i])
		}
	}
	return nil
}
