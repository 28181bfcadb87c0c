package wal_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/wal"
	"github.com/sparkckpt/sparkckpt/fixtures/real"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// boundaries returns the offsets of every record of a clean log, plus its length.
func boundaries(t *testing.T, b []byte) []int64 {
	var out []int64
	r := wal.NewReader(bytes.NewReader(b))
	for r.Next() {
		out = append(out, r.Offset())
	}
	require.NoError(t, r.Err())
	require.Nil(t, r.Tail())
	return append(out, int64(len(b)))
}

// corruptionInputs are the logs the corruption tests run on.
func corruptionInputs(t *testing.T) map[string][]byte {
	in := map[string][]byte{
		"generated/" + genHDFSMeta:  readGen(t, genHDFSMeta),
		"generated/" + genUnbatched: readGen(t, genUnbatched),
	}
	if _, err := os.Stat(filepath.Join("..", "..", "..", "shared", "fixtures-real")); err == nil {
		root := real.Root(t)
		for _, rel := range []string{
			"omar97perez-computacionnube/P8/src/Ejercicio/Buques/Benchi/receivedBlockMetadata/log-1589764995007-1589765055007",
			"theonly0318-spark-study/data/streaming/ck/receivedBlockMetadata/log-1619605120032-1619605180032",
		} {
			b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
			require.NoError(t, err)
			in["real/"+rel] = b
		}
	}
	return in
}

// TestTruncatedEveryOffset cuts logs at every byte: reading gives the
// complete records before the cut and, unless the cut is on a record
// boundary, a tail that starts at the torn record and holds exactly the
// bytes left. Never an error, never a panic. Every cut goes through the
// Reader; one cut in 50 also through ReadLog, which decodes the records.
func TestTruncatedEveryOffset(t *testing.T) {
	for name, b := range corruptionInputs(t) {
		t.Run(name, func(t *testing.T) {
			bounds := boundaries(t, b)
			rec := 0 // records complete before cut
			for cut := 0; cut <= len(b); cut++ {
				for rec+1 < len(bounds) && bounds[rec+1] <= int64(cut) {
					rec++
				}
				r := wal.NewReader(bytes.NewReader(b[:cut]))
				n := 0
				for r.Next() {
					n++
				}
				require.NoError(t, r.Err(), "cut at %d", cut)
				require.Equal(t, rec, n, "cut at %d", cut)
				tail := r.Tail()
				if cut%50 == 0 {
					log, err := wal.ReadLog(bytes.NewReader(b[:cut]))
					require.NoError(t, err, "cut at %d", cut)
					require.Len(t, log.Records, rec, "cut at %d", cut)
					require.Equal(t, tail, log.Tail, "cut at %d", cut)
				}
				if int64(cut) == bounds[rec] {
					require.Nil(t, tail, "cut at %d", cut)
					continue
				}
				require.NotNil(t, tail, "cut at %d", cut)
				require.Equal(t, bounds[rec], tail.Offset, "cut at %d", cut)
				require.True(t, bytes.Equal(b[bounds[rec]:cut], tail.Bytes), "cut at %d", cut)
				if cut-int(bounds[rec]) >= 4 {
					require.Equal(t, int32(bounds[rec+1]-bounds[rec]-4), tail.Length)
				} else {
					require.Equal(t, int32(-1), tail.Length)
				}
			}
		})
	}
}

// TestTruncatedPayloads: a record whose payload is cut at any point (with
// its length fixed up, so the framing is intact) fails with a positioned
// error, never a panic.
func TestTruncatedPayloads(t *testing.T) {
	for name, b := range corruptionInputs(t) {
		t.Run(name, func(t *testing.T) {
			r := wal.NewReader(bytes.NewReader(b))
			seen := map[int]bool{}
			for r.Next() {
				p := r.Record()
				if seen[len(p)] { // records of equal length are alike: test one
					continue
				}
				seen[len(p)] = true
				for cut := 0; cut < len(p); cut++ {
					_, err := wal.DecodeRecord(p[:cut])
					requirePositioned(t, err, cut, nil)
				}
			}
		})
	}
}

func TestNegativeLength(t *testing.T) {
	for name, b := range corruptionInputs(t) {
		t.Run(name, func(t *testing.T) {
			bounds := boundaries(t, b)
			bad := bytes.Clone(b)
			binary.BigEndian.PutUint32(bad[bounds[2]:], 0xFFFFFF00)
			log, err := wal.ReadLog(bytes.NewReader(bad))
			de := requirePositioned(t, err, len(bad), decode.ErrCorrupt)
			assert.Equal(t, bounds[2], de.Offset)
			assert.Equal(t, "wal", de.Format)
			assert.Contains(t, err.Error(), "negative record length -256")
			assert.Len(t, log.Records, 2, "records before the bad one are returned")
			assert.Nil(t, log.Tail)
		})
	}
}

// TestBitFlips flips one bit at a stride of bytes: every outcome is a clean
// decode (whose records rewrite to the flipped bytes), a tail, or a
// positioned error, and event errors are positioned too.
func TestBitFlips(t *testing.T) {
	for name, b := range corruptionInputs(t) {
		t.Run(name, func(t *testing.T) {
			stride := max(1, len(b)/600)
			outcomes := map[string]int{}
			for i := 0; i < len(b); i += stride {
				bad := bytes.Clone(b)
				bad[i] ^= 1 << (i % 8)
				log, err := wal.ReadLog(bytes.NewReader(bad))
				if err != nil {
					var de *decode.Error
					require.True(t, errors.As(err, &de), "flip at %d: %v", i, err)
					require.GreaterOrEqual(t, de.Offset, int64(0))
					require.LessOrEqual(t, de.Offset, int64(len(bad)), "flip at %d: %v", i, err)
					outcomes["error"]++
					continue
				}
				var out []byte
				for _, r := range log.Records {
					for _, e := range r.Events {
						if e.Err != nil {
							requirePositioned(t, e.Err, len(bad), decode.ErrUnsupported)
							outcomes["event-error"]++
						}
						_, err := json.Marshal(e)
						require.NoError(t, err)
					}
					enc, err := r.Encode()
					require.NoError(t, err)
					out = wal.AppendRecord(out, enc)
				}
				if log.Tail != nil {
					out = append(out, log.Tail.Bytes...)
					outcomes["tail"]++
				} else {
					outcomes["ok"]++
				}
				require.True(t, bytes.Equal(bad, out), "flip at %d: decoded records do not re-encode to the input", i)
			}
			t.Logf("outcomes: %v", outcomes)
		})
	}
}
