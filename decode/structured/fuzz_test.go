package structured_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/codec"
	"github.com/sparkckpt/sparkckpt/decode/structured"
	"github.com/sparkckpt/sparkckpt/fixtures/real"
)

// Fuzz targets, seeded from the real files of each kind
// (go test -fuzz=FuzzOffsets -fuzzminimizetime 1s ./decode/structured).
// Every decoder must return a positioned *decode.Error, never panic.

// addSeeds adds up to max real files of a type (structured.FileType) as seeds.
func addSeeds(f *testing.F, keep func(rel string) bool, max int) {
	if os.Getenv("SPARKCKPT_FIXTURES_REAL") == "" {
		if _, err := os.Stat(filepath.Join("..", "..", "..", "shared", "fixtures-real")); err != nil {
			return // a clone without ../shared: inline seeds only
		}
	}
	n := 0
	for _, p := range real.Files(f, keep) {
		if n == max {
			break
		}
		b, err := os.ReadFile(p)
		if err == nil && real.Seed(len(b)) {
			f.Add(b)
			n++
		}
	}
}

func ofType(typ string) func(string) bool {
	return func(rel string) bool { return structured.FileType(rel) == typ }
}

// positioned fails unless err is nil or a *decode.Error (possibly wrapped).
func positioned(t *testing.T, err error) {
	t.Helper()
	var de *decode.Error
	if err != nil && !errors.As(err, &de) {
		t.Fatalf("error without position: %v", err)
	}
}

func FuzzOffsets(f *testing.F) {
	f.Add([]byte("v1\n{\"batchWatermarkMs\":0,\"batchTimestampMs\":1,\"conf\":{\"a\":\"b\"}}\n{\"t\":{\"0\":1}}\n-"))
	f.Add([]byte("v2\n{}\n0:{\"logOffset\":1}"))
	addSeeds(f, ofType(structured.FileOffsets), 150)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := structured.ParseOffsets(b)
		positioned(t, err)
	})
}

func FuzzCommit(f *testing.F) {
	f.Add([]byte("v2\n{\"nextBatchWatermarkMs\":0,\"stateUniqueIds\":{\"0\":[[\"a\"]]}}"))
	addSeeds(f, ofType(structured.FileCommits), 100)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := structured.ParseCommit(b)
		positioned(t, err)
		_, err = structured.ParseMetadata(b)
		positioned(t, err)
	})
}

// FuzzFileLog parses file source and sink logs and checks the rewrite
// invariant: replacing every path by itself gives back the input, and
// replacing by another value and back too.
func FuzzFileLog(f *testing.F) {
	f.Add([]byte("v1\n{\"path\":\"file:///a%20b\",\"timestamp\":1,\"batchId\":0}"), true)
	addSeeds2(f, ofType(structured.FileSourceLog), 80, true)
	addSeeds2(f, ofType(structured.FileSinkLog), 80, false)
	f.Fuzz(func(t *testing.T, b []byte, source bool) {
		kind := structured.LogSink
		if source {
			kind = structured.LogSource
		}
		fields, err := structured.URIFields(b, kind)
		positioned(t, err)
		if err != nil {
			return
		}
		var edit []structured.StringField
		var same, moved []string
		for _, fl := range fields {
			if structured.RewritableField(b, fl) {
				edit = append(edit, fl)
				same = append(same, fl.Value)
				moved = append(moved, "hdfs://x:1"+fl.Value)
			}
		}
		out, err := structured.ReplaceStrings(b, edit, same)
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("identity replacement changed the file: %v", err)
		}
		out, err = structured.ReplaceStrings(b, edit, moved)
		if err != nil {
			t.Fatal(err)
		}
		back, err := structured.URIFields(out, kind)
		if err != nil || len(back) != len(fields) {
			t.Fatalf("rewritten log does not parse: %v", err)
		}
		var edit2 []structured.StringField
		for i, fl := range back {
			if structured.RewritableField(b, fields[i]) {
				edit2 = append(edit2, fl)
			}
		}
		again, err := structured.ReplaceStrings(out, edit2, same)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("rewrite and back differs: %v", err)
		}
	})
}

func addSeeds2(f *testing.F, keep func(string) bool, max int, flag bool) {
	n := 0
	if _, err := os.Stat(filepath.Join("..", "..", "..", "shared", "fixtures-real")); err != nil && os.Getenv("SPARKCKPT_FIXTURES_REAL") == "" {
		return
	}
	for _, p := range real.Files(f, keep) {
		if n == max {
			break
		}
		if b, err := os.ReadFile(p); err == nil && real.Seed(len(b)) {
			f.Add(b, flag)
			n++
		}
	}
}

func FuzzKafkaInitialOffsets(f *testing.F) {
	f.Add([]byte("\x00v1\n{\"t\":{\"0\":1}}"))
	f.Add([]byte("2{\"t\":{\"0\":1}}"))
	addSeeds(f, func(rel string) bool { return strings.HasSuffix(rel, ".bin") || strings.HasSuffix(rel, "sources/0/0") }, 40)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := structured.ParseKafkaInitialOffsets(b)
		positioned(t, err)
	})
}

func FuzzSchemaFile(f *testing.F) {
	addSeeds(f, ofType(structured.FileSchema), 60)
	f.Fuzz(func(t *testing.T, b []byte) {
		sf, err := structured.ParseSchemaFile(b)
		positioned(t, err)
		if err == nil && sf.Key != nil {
			_ = sf.Key.String()
		}
	})
}

func FuzzOperatorMetadata(f *testing.F) {
	f.Add([]byte(`v2
{"operatorInfo":{"operatorId":0,"operatorName":"x"},"stateStoreInfo":[{"storeName":"default","numColsPrefixKey":0,"numPartitions":5,"stateSchemaFilePaths":["file:/a","file:/b"]}],"operatorPropertiesJson":"{}"}`))
	addSeeds(f, ofType(structured.FileOperatorMetadata), 40)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := structured.ParseOperatorMetadata(b)
		positioned(t, err)
		if err == nil {
			for _, u := range m.URIs {
				if u.Start < 0 || u.End > int64(len(b)) || u.Start >= u.End {
					t.Fatalf("field %s out of range", u.Path)
				}
			}
		}
	})
}

func FuzzRocksDBZip(f *testing.F) {
	// A small zip for the mutator: the metadata entry and one SST.
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	for _, e := range []struct{ name, data string }{
		{"metadata", "v1\n{\"sstFiles\":[{\"localFileName\":\"000008.sst\",\"dfsSstFileName\":\"000008-a.sst\",\"sizeBytes\":1}],\"logFiles\":[],\"numKeys\":1}"},
		{"000008.sst", "x"},
	} {
		w, err := zw.Create(e.name)
		if err != nil {
			f.Fatal(err)
		}
		w.Write([]byte(e.data))
	}
	if err := zw.Close(); err != nil {
		f.Fatal(err)
	}
	f.Add(zb.Bytes())
	addSeeds(f, ofType(structured.FileRocksDBZip), 40)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := structured.ParseRocksDBZip(b)
		positioned(t, err)
		_, err = structured.ParseRocksDBMetadata(b)
		positioned(t, err)
	})
}

// FuzzStateReader feeds decompressed streams to the record reader; the
// first byte picks the kind.
func FuzzStateReader(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 1, 'k', 0, 0, 0, 1, 'v', 0xFF, 0xFF, 0xFF, 0xFF})
	f.Add(append([]byte{2, 0, 2, 'v', '2', 1}, 0, 0, 0, 1, 'k', 0, 0, 0, 1, 'v', 0))
	if _, err := os.Stat(filepath.Join("..", "..", "..", "shared", "fixtures-real")); err == nil {
		n := 0
		for _, p := range real.Files(f, ofType(structured.FileState)) {
			if n == 200 {
				break
			}
			b, err := os.ReadFile(p)
			if err != nil {
				continue
			}
			raw, _, _, err := codec.Decompress(b)
			if err != nil || !real.Seed(len(raw)+1) {
				continue
			}
			k := byte(0)
			switch filepath.Ext(p) {
			case ".snapshot":
				k = 1
			case ".changelog":
				k = 2
			}
			f.Add(append([]byte{k}, raw...))
			n++
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		kind := []string{structured.KindDelta, structured.KindSnapshot, structured.KindChangelog}[int(b[0])%3]
		sr, err := structured.NewStateReader(bytes.NewReader(b[1:]), kind, decode.Limits{MaxAlloc: 1 << 20})
		positioned(t, err)
		if err != nil {
			return
		}
		for sr.Next() {
			r := sr.Record()
			if r.Offset < 0 || r.Offset >= int64(len(b)) {
				t.Fatalf("record offset %d outside the stream", r.Offset)
			}
		}
		positioned(t, sr.Err())
		sr.Release()
	})
}

// FuzzDecodeRow decodes arbitrary bytes with the schemas of real trees.
func FuzzDecodeRow(f *testing.F) {
	schemas := []string{
		`{"type":"struct","fields":[{"name":"a","type":"integer"},{"name":"s","type":"string"},{"name":"t","type":"timestamp"}]}`,
		`{"type":"struct","fields":[{"name":"w","type":{"type":"struct","fields":[{"name":"start","type":"timestamp"},{"name":"end","type":"timestamp"}]}},{"name":"d","type":"decimal(38,4)"}]}`,
		`{"type":"struct","fields":[{"name":"arr","type":{"type":"array","elementType":"string"}},{"name":"m","type":{"type":"map","keyType":"string","valueType":{"type":"array","elementType":"double"}}}]}`,
		`{"type":"struct","fields":[{"name":"b","type":"boolean"},{"name":"x","type":"binary"},{"name":"i","type":"interval"},{"name":"f","type":"float"},{"name":"y","type":"byte"},{"name":"z","type":"short"},{"name":"d","type":"date"}]}`,
	}
	var types []*structured.DataType
	for _, s := range schemas {
		dt, err := structured.ParseDataType([]byte(s))
		if err != nil {
			f.Fatal(err)
		}
		types = append(types, dt)
	}
	f.Add(byte(0), make([]byte, 32))
	f.Add(byte(2), append(make([]byte, 8), 24, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
	f.Fuzz(func(t *testing.T, which byte, b []byte) {
		r, err := structured.DecodeRow(b, types[int(which)%len(types)])
		positioned(t, err)
		if err == nil {
			_ = r.String()
			if _, err := r.MarshalJSON(); err != nil {
				t.Fatal(err)
			}
		}
	})
}
