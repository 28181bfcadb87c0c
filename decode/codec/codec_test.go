package codec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sparkckpt/sparkckpt/decode"
)

var allKinds = []Kind{None, LZ4, Snappy, Zstd, LZF}

func TestKindString(t *testing.T) {
	want := map[Kind]string{None: "none", LZ4: "lz4", Snappy: "snappy", Zstd: "zstd", LZF: "lzf", Kind(9): "Kind(9)"}
	for k, s := range want {
		assert.Equal(t, s, k.String())
	}
}

func TestParseKind(t *testing.T) {
	tests := []struct {
		name string
		want Kind
		err  bool
	}{
		{"lz4", LZ4, false},
		{"LZ4", LZ4, false},
		{"Snappy", Snappy, false},
		{"zstd", Zstd, false},
		{"ZSTD", Zstd, false},
		{"lzf", LZF, false},
		{"none", None, false},
		{"org.apache.spark.io.LZ4CompressionCodec", LZ4, false},
		{"org.apache.spark.io.LZFCompressionCodec", LZF, false},
		{"org.apache.spark.io.SnappyCompressionCodec", Snappy, false},
		{"org.apache.spark.io.ZStdCompressionCodec", Zstd, false},
		{"org.apache.spark.io.zstdcompressioncodec", 0, true}, // class names are case-sensitive
		{"gzip", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseKind(tt.name)
			if tt.err {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "expected")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, k)
		})
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name   string
		prefix []byte
		want   Kind
		kind   error // nil: success
		off    int64
	}{
		{"lz4", []byte("LZ4Block\x25"), LZ4, nil, 0},
		{"snappy", snappyMagic, Snappy, nil, 0},
		{"zstd", []byte{0x28, 0xB5, 0x2F, 0xFD, 0x00}, Zstd, nil, 0},
		{"lzf", []byte("ZV\x01"), LZF, nil, 0},
		{"java", []byte{0xAC, 0xED, 0x00, 0x05}, None, nil, 0},
		{"empty", nil, 0, decode.ErrTruncated, 0},
		{"lz4 prefix", []byte("LZ4Bl"), 0, decode.ErrTruncated, 5},
		{"snappy prefix", snappyMagic[:3], 0, decode.ErrTruncated, 3},
		{"gzip", []byte{0x1F, 0x8B, 0x08, 0x00}, 0, decode.ErrCorrupt, 0},
		{"text", []byte("hello world"), 0, decode.ErrCorrupt, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := Detect(tt.prefix)
			if tt.kind == nil {
				require.NoError(t, err)
				assert.Equal(t, tt.want, k)
				return
			}
			de := requireDecodeError(t, err, tt.kind, "codec")
			assert.Equal(t, tt.off, de.Offset)
			assert.Contains(t, err.Error(), "expected")
		})
	}
	_, err := Detect([]byte("hello world"))
	for _, m := range []string{"LZ4Block", "82 53 4E 41 50 50 59 00", "28 B5 2F FD", "ZV", "AC ED", "68 65 6C 6C"} {
		assert.Contains(t, err.Error(), m, "the error lists the expected magics and the bytes seen")
	}
}

func TestDefaultParams(t *testing.T) {
	assert.Equal(t, Params{BlockSize: 32768}, DefaultParams(LZ4))
	assert.Equal(t, Params{BlockSize: 32768}, DefaultParams(Snappy))
	assert.Equal(t, Params{BlockSize: 32768, Level: 1}, DefaultParams(Zstd))
	assert.Equal(t, Params{BlockSize: 65535}, DefaultParams(LZF))
	assert.Equal(t, Params{}, DefaultParams(None))
}

// requireDecodeError asserts that err is a *decode.Error of the given kind and
// format, and returns it.
func requireDecodeError(t testing.TB, err error, kind error, format string) *decode.Error {
	t.Helper()
	require.Error(t, err)
	var de *decode.Error
	require.True(t, errors.As(err, &de), "want *decode.Error, got %T: %v", err, err)
	require.ErrorIs(t, err, kind, "%v", err)
	require.Equal(t, format, de.Format, "%v", err)
	return de
}

// roundTripSizes are the sizes every codec is tested on: block boundaries of
// the defaults and a few blocks' worth.
var roundTripSizes = []int{0, 1, 1023, 32767, 32768, 32769, 65535, 65536, 100000, 1 << 20}

// payloadFor returns data every reader of k accepts: an uncompressed stream
// must start with the Java magic.
func payloadFor(k Kind, data []byte) []byte {
	if k == None {
		return append([]byte{0xAC, 0xED, 0x00, 0x05}, data...)
	}
	return data
}

// decompressKind reads b as codec k to the end.
func decompressKind(b []byte, k Kind) ([]byte, *Reader, error) {
	r, err := NewReaderKind(bytes.NewReader(b), k)
	if err != nil {
		return nil, nil, err
	}
	out, err := io.ReadAll(r)
	return out, r, err
}

func TestRoundTrip(t *testing.T) {
	for _, k := range allKinds {
		for _, size := range roundTripSizes {
			for _, gen := range []struct {
				name string
				data func(int, uint64) []byte
			}{{"text", textData}, {"random", randomData}, {"zeros", func(n int, _ uint64) []byte { return make([]byte, n) }}} {
				t.Run(fmt.Sprintf("%v/%s/%d", k, gen.name, size), func(t *testing.T) {
					data := payloadFor(k, gen.data(size, uint64(size)))
					comp, err := Compress(k, Params{}, data)
					require.NoError(t, err)

					got, r, err := decompressKind(comp, k)
					require.NoError(t, err)
					assert.True(t, bytes.Equal(data, got), "round trip differs")
					assert.Equal(t, k, r.Kind())

					if len(data) > 0 {
						got, k2, p, err := Decompress(comp)
						require.NoError(t, err)
						assert.Equal(t, k, k2)
						assert.True(t, bytes.Equal(data, got))
						if k == LZ4 || k == Snappy || k == LZF {
							assert.Equal(t, DefaultParams(k).BlockSize, p.BlockSize, "observed block size")
						}
					}
				})
			}
		}
	}
}

func TestRoundTripParams(t *testing.T) {
	data := textData(300000, 7)
	tests := []struct {
		k Kind
		p Params
	}{
		{LZ4, Params{BlockSize: 64}},
		{LZ4, Params{BlockSize: 100}},
		{LZ4, Params{BlockSize: 65536}},
		{LZ4, Params{BlockSize: 1 << 17}},
		{LZ4, Params{BlockSize: 1 << 17, LZ4: LZ4PureJava}},
		{LZ4, Params{BlockSize: 1 << 20}},
		{Snappy, Params{BlockSize: 1024}},
		{Snappy, Params{BlockSize: 100000}},
		{Zstd, Params{Level: 3}},
		{Zstd, Params{Level: 9}},
		{Zstd, Params{Level: 19}},
		{Zstd, Params{Level: -5}},
		{LZF, Params{BlockSize: 100}},
		{LZF, Params{BlockSize: 40000}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v/%+v", tt.k, tt.p), func(t *testing.T) {
			comp, err := Compress(tt.k, tt.p, data)
			require.NoError(t, err)
			got, k, p, err := Decompress(comp)
			require.NoError(t, err)
			assert.Equal(t, tt.k, k)
			assert.True(t, bytes.Equal(data, got), "round trip differs")
			if tt.k != Zstd {
				assert.Equal(t, tt.p.BlockSize, p.BlockSize, "observed block size")
				p.LZ4 = tt.p.LZ4 // not recorded in the stream
				again, err := Compress(k, p, got)
				require.NoError(t, err)
				assert.True(t, bytes.Equal(comp, again), "re-encoding with the observed params reproduces the stream")
			}
		})
	}
}

func TestWriterParamsInvalid(t *testing.T) {
	tests := []struct {
		k Kind
		p Params
	}{
		{LZ4, Params{BlockSize: 63}},
		{LZ4, Params{BlockSize: 1<<25 + 1}},
		{LZ4, Params{LZ4: 7}},
		{Snappy, Params{BlockSize: -1}},
		{Snappy, Params{BlockSize: MaxSnappyChunk + 1}},
		{LZF, Params{BlockSize: 65536}},
		{Zstd, Params{Level: 23}},
		{Kind(17), Params{}},
	}
	for _, tt := range tests {
		_, err := NewWriter(io.Discard, tt.k, tt.p)
		assert.Error(t, err, "%v %+v", tt.k, tt.p)
	}
}

func TestReaderContract(t *testing.T) {
	data := textData(200000, 3)
	for _, k := range allKinds {
		t.Run(k.String(), func(t *testing.T) {
			data := payloadFor(k, data)
			comp, err := Compress(k, Params{}, data)
			require.NoError(t, err)
			r, err := NewReader(iotest.OneByteReader(bytes.NewReader(comp)))
			require.NoError(t, err)
			assert.NoError(t, iotest.TestReader(r, data))
		})
	}
}

func TestWriterSmallWrites(t *testing.T) {
	data := textData(100000, 5)
	for _, k := range allKinds {
		t.Run(k.String(), func(t *testing.T) {
			data := payloadFor(k, data)
			whole, err := Compress(k, Params{}, data)
			require.NoError(t, err)
			var buf bytes.Buffer
			w, err := NewWriter(&buf, k, Params{})
			require.NoError(t, err)
			for i := 0; i < len(data); i += 1029 { // ObjectOutputStream's largest write
				_, err := w.Write(data[i:min(i+1029, len(data))])
				require.NoError(t, err)
			}
			require.NoError(t, w.Close())
			require.NoError(t, w.Close(), "Close is idempotent")
			_, err = w.Write([]byte{1})
			assert.Error(t, err, "write after close")
			if k != Zstd {
				assert.True(t, bytes.Equal(whole, buf.Bytes()), "output independent of write sizes")
			}
			got, _, err := decompressKind(buf.Bytes(), k)
			require.NoError(t, err)
			assert.True(t, bytes.Equal(data, got))
		})
	}
}

func TestWrongMagic(t *testing.T) {
	data := payloadFor(None, textData(1000, 1))
	streams := map[Kind][]byte{}
	for _, k := range allKinds {
		var err error
		streams[k], err = Compress(k, Params{}, data)
		require.NoError(t, err)
	}
	for _, want := range allKinds {
		for _, got := range allKinds {
			if want == got {
				continue
			}
			t.Run(fmt.Sprintf("read %v as %v", got, want), func(t *testing.T) {
				_, err := NewReaderKind(bytes.NewReader(streams[got]), want)
				de := requireDecodeError(t, err, decode.ErrCorrupt, want.formatName())
				assert.Equal(t, int64(0), de.Offset)
				assert.Contains(t, err.Error(), "expected")
				assert.Contains(t, err.Error(), describe(streams[got]), "names what the stream looks like")
			})
		}
	}
	_, err := NewReader(bytes.NewReader([]byte("PK\x03\x04 not a checkpoint")))
	requireDecodeError(t, err, decode.ErrCorrupt, "codec")
	_, err = NewReaderKind(bytes.NewReader(nil), LZ4)
	requireDecodeError(t, err, decode.ErrTruncated, "lz4block")
}

// errReader fails after delivering its data.
type errReader struct {
	data []byte
	err  error
}

func (r *errReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestReaderPassesIOErrors(t *testing.T) {
	ioErr := errors.New("disk on fire")
	data := payloadFor(None, textData(100000, 2))
	for _, k := range allKinds {
		t.Run(k.String(), func(t *testing.T) {
			comp, err := Compress(k, Params{}, data)
			require.NoError(t, err)
			r, err := NewReaderKind(&errReader{data: comp[:len(comp)/2], err: ioErr}, k)
			require.NoError(t, err)
			_, err = io.ReadAll(r)
			assert.ErrorIs(t, err, ioErr)
			_, err2 := r.Read(make([]byte, 10))
			assert.Equal(t, err, err2, "errors are sticky")
		})
	}
}

// errWriter fails every write.
type errWriter struct{ err error }

func (w errWriter) Write([]byte) (int, error) { return 0, w.err }

func TestWriterPassesIOErrors(t *testing.T) {
	ioErr := errors.New("disk full")
	for _, k := range allKinds {
		w, err := NewWriter(errWriter{ioErr}, k, Params{})
		require.NoError(t, err)
		_, err = w.Write(textData(200000, 1))
		if err == nil {
			err = w.Close()
		}
		assert.ErrorIs(t, err, ioErr, "%v", k)
	}
}
