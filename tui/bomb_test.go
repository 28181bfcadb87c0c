package tui

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"testing/fstest"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/codec"
)

// TestDecodeFileBomb: a checkpoint, or any other file, that decompresses
// past Limits.MaxDecompressed comes back as a file that does not decode,
// with the codec's positioned error, whatever the file's kind.
func TestDecodeFileBomb(t *testing.T) {
	bomb, err := codec.Compress(codec.Zstd, codec.Params{}, make([]byte, 4<<20))
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{"checkpoint-1700000000000": {Data: bomb}, "rdd-1/part-00000": {Data: bomb}}
	for _, e := range []*entry{
		{rel: "checkpoint-1700000000000", size: -1, kind: kindCheckpoint},
		{rel: "rdd-1/part-00000", size: -1, kind: classify("rdd-1/part-00000", false)},
	} {
		d := decodeFile(context.Background(), fsys, e, decode.Limits{MaxDecompressed: 1 << 20})
		var de *decode.Error
		if !errors.As(d.err, &de) || !errors.Is(d.err, decode.ErrTooLarge) || de.Format != "zstd" {
			t.Errorf("%s: err %v, want a zstd ErrTooLarge", e.rel, d.err)
			continue
		}
		if !d.failed() || d.errOff != de.Offset || d.errOff <= 0 {
			t.Errorf("%s: failed %v, errOff %d (error at %d)", e.rel, d.failed(), d.errOff, de.Offset)
		}
		if len(d.data) > 1<<20 && !bytes.Equal(d.data, bomb) {
			t.Errorf("%s: the doc keeps %d decompressed bytes", e.rel, len(d.data))
		}
		// The default bound lets the same file through.
		if d := decodeFile(context.Background(), fsys, e, decode.Limits{}); errors.Is(d.err, decode.ErrTooLarge) {
			t.Errorf("%s with the default bound: %v", e.rel, d.err)
		}
	}
}
