// Package checktest builds checkpoint trees for tests of sparkckpt check:
// copies of fixture trees, edited the way a broken or relocated
// checkpoint looks (strings replaced in checkpoint files and write-ahead
// logs, files recompressed with another codec), with their .crc sidecars
// kept right. Only _test.go files import it.
package checktest

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparkckpt/sparkckpt/decode/codec"
	"github.com/sparkckpt/sparkckpt/decode/crcfile"
	"github.com/sparkckpt/sparkckpt/decode/dstream"
	"github.com/sparkckpt/sparkckpt/decode/javaser"
	"github.com/sparkckpt/sparkckpt/decode/pickle"
	"github.com/sparkckpt/sparkckpt/decode/wal"
)

// WriteFile writes b to path and refreshes path's .crc sidecar if it has one.
func WriteFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	sc := filepath.Join(filepath.Dir(path), crcfile.SidecarName(filepath.Base(path)))
	old, err := os.ReadFile(sc)
	if err != nil {
		return
	}
	bpc := crcfile.DefaultBytesPerChecksum
	if s, err := crcfile.Parse(old); err == nil {
		bpc = s.BytesPerChecksum
	}
	if err := os.WriteFile(sc, crcfile.Compute(b, bpc), 0o644); err != nil {
		t.Fatal(err)
	}
}

// EditCheckpoint decompresses the checkpoint file at path, lets edit change
// its Java stream, and writes it back compressed with codec k (nil: its
// own codec and parameters), refreshing its .crc sidecar.
func EditCheckpoint(t testing.TB, path string, k *codec.Kind, edit func(s *javaser.Stream)) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw, kind, params, err := codec.Decompress(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	s, err := javaser.Parse(raw)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if edit != nil {
		edit(s)
	}
	raw, err = javaser.Encode(s)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if k != nil && *k != kind {
		kind, params = *k, codec.DefaultParams(*k)
	}
	out, err := codec.Compress(kind, params, raw)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	WriteFile(t, path, out)
}

// Replacer rewrites a string; ok is false to leave it.
type Replacer func(s string) (string, bool)

// Prefix replaces the prefix from by to on a path boundary ("from" itself,
// "from/..." or "from" followed by nothing else).
func Prefix(from, to string) Replacer {
	return func(s string) (string, bool) {
		if s == from || strings.HasPrefix(s, from+"/") {
			return to + s[len(from):], true
		}
		return "", false
	}
}

// ReplaceStrings applies r to every Java string of a stream and to every
// text string of the pickled Python functions it holds.
func ReplaceStrings(s *javaser.Stream, r Replacer) {
	javaser.Walk(s, func(_ javaser.Path, n javaser.Node) bool {
		switch n := n.(type) {
		case *javaser.String:
			if v, ok := r(n.Value()); ok {
				n.SetValue(v)
			}
		case *javaser.Object:
			if bd := dstream.TransformFunctionData(n); bd != nil {
				replacePickle(bd, r)
			}
		}
		return true
	})
}

// replacePickle edits the pickle of a TransformFunction's block data
// (int32 length, pickle bytes, then the rest).
func replacePickle(bd *javaser.BlockData, r Replacer) {
	if len(bd.Data) < 4 {
		return
	}
	n := int(int32(binary.BigEndian.Uint32(bd.Data)))
	if n < 0 || 4+n > len(bd.Data) {
		return
	}
	p, err := pickle.Parse(bd.Data[4 : 4+n])
	if err != nil {
		return
	}
	edited := false
	for _, st := range p.Strings() {
		if !st.Editable {
			continue
		}
		if v, ok := r(st.Value); ok && p.SetString(st.Op, v) == nil {
			edited = true
		}
	}
	if !edited {
		return
	}
	enc := p.Encode()
	data := binary.BigEndian.AppendUint32(nil, uint32(len(enc)))
	data = append(append(data, enc...), bd.Data[4+n:]...)
	bd.SetData(data)
}

// Relocate rewrites every checkpoint-* file at the root of dir and every
// driver log in dir/receivedBlockMetadata with r, as a relocation would
// (strings inside pickled Python functions included).
func Relocate(t testing.TB, dir string, r Replacer) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.Type().IsRegular() && strings.HasPrefix(e.Name(), "checkpoint-") {
			EditCheckpoint(t, filepath.Join(dir, e.Name()), nil, func(s *javaser.Stream) { ReplaceStrings(s, r) })
		}
	}
	logs, _ := os.ReadDir(filepath.Join(dir, "receivedBlockMetadata"))
	for _, e := range logs {
		if e.Type().IsRegular() && strings.HasPrefix(e.Name(), "log-") {
			EditLog(t, filepath.Join(dir, "receivedBlockMetadata", e.Name()), r)
		}
	}
}

// EditLog rewrites the Java strings of every event of a driver log file
// with r (WAL segment paths among them), keeping a torn tail as it is.
func EditLog(t testing.TB, path string, r Replacer) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	log, err := wal.ReadLog(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []byte
	for _, rec := range log.Records {
		for _, ev := range rec.Events {
			if ev.Syntax != nil {
				ReplaceStrings(ev.Syntax, r)
			}
		}
		payload, err := rec.Encode()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = wal.AppendRecord(out, payload)
	}
	if log.Tail != nil {
		out = append(out, log.Tail.Bytes...)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}
