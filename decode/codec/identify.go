package codec

import "bytes"

// Identify decompresses b, detecting the codec, and looks for the parameters
// with which [Compress] reproduces b byte for byte, trying each compressor
// generation this package models ([LZ4Impl], [SnappyImpl]). If one does, it
// returns them with exact set; otherwise (always for zstd, which this
// package cannot reproduce) it returns the parameters [Reader.Params]
// observed. A caller re-encoding changed content with the returned
// parameters gets what the same Spark build would have written.
//
// Identify compresses b once per candidate, so it costs a few times more
// than [Decompress].
func Identify(b []byte) (k Kind, p Params, exact bool, err error) {
	raw, k, p, err := Decompress(b)
	if err != nil {
		return k, p, false, err
	}
	var candidates []Params
	switch k {
	case None, LZF:
		candidates = []Params{p}
	case LZ4:
		for _, impl := range []LZ4Impl{LZ4Native, LZ4PureJava} {
			c := p
			c.LZ4 = impl
			candidates = append(candidates, c)
		}
	case Snappy:
		for _, impl := range []SnappyImpl{SnappyCurrent, SnappyGo, SnappyLegacy} {
			c := p
			c.Snappy = impl
			candidates = append(candidates, c)
		}
	}
	for _, c := range candidates {
		re, err := Compress(k, c, raw)
		if err == nil && bytes.Equal(re, b) {
			return k, c, true, nil
		}
	}
	return k, p, false, nil
}
