package hdfstest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/encoding/protowire"
)

// This file is a hand-written protobuf codec for just the messages and
// fields the server needs; field numbers are those of Hadoop's .proto
// files (the comments name the message).

// enc appends protobuf fields.
type enc []byte

func (e *enc) uint(num protowire.Number, v uint64) {
	*e = protowire.AppendTag(*e, num, protowire.VarintType)
	*e = protowire.AppendVarint(*e, v)
}

func (e *enc) sint(num protowire.Number, v int64) {
	e.uint(num, protowire.EncodeZigZag(v))
}

func (e *enc) bool(num protowire.Number, v bool) {
	e.uint(num, protowire.EncodeBool(v))
}

func (e *enc) bytes(num protowire.Number, b []byte) {
	*e = protowire.AppendTag(*e, num, protowire.BytesType)
	*e = protowire.AppendBytes(*e, b)
}

func (e *enc) str(num protowire.Number, s string) { e.bytes(num, []byte(s)) }

func (e *enc) msg(num protowire.Number, m enc) { e.bytes(num, m) }

func (e *enc) sfixed64(num protowire.Number, v int64) {
	*e = protowire.AppendTag(*e, num, protowire.Fixed64Type)
	*e = protowire.AppendFixed64(*e, uint64(v))
}

func (e *enc) sfixed32(num protowire.Number, v int32) {
	*e = protowire.AppendTag(*e, num, protowire.Fixed32Type)
	*e = protowire.AppendFixed32(*e, uint32(v))
}

// field is one decoded field value.
type field struct {
	typ protowire.Type
	v   uint64 // varint, fixed32, fixed64
	b   []byte // bytes
}

// dec is a decoded message: its fields by number, in order.
type dec map[protowire.Number][]field

var errMalformed = errors.New("malformed protobuf message")

func decode(b []byte) (dec, error) {
	d := dec{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, fmt.Errorf("%w: %v", errMalformed, protowire.ParseError(n))
		}
		b = b[n:]
		var f field
		f.typ = typ
		switch typ {
		case protowire.VarintType:
			f.v, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(b)
			f.v = uint64(v)
		case protowire.Fixed64Type:
			f.v, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			f.b, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return nil, fmt.Errorf("%w: field %d: %v", errMalformed, num, protowire.ParseError(n))
		}
		b = b[n:]
		d[num] = append(d[num], f)
	}
	return d, nil
}

func (d dec) has(num protowire.Number) bool { return len(d[num]) > 0 }

func (d dec) last(num protowire.Number) (field, bool) {
	fs := d[num]
	if len(fs) == 0 {
		return field{}, false
	}
	return fs[len(fs)-1], true
}

func (d dec) uint(num protowire.Number) uint64 {
	f, _ := d.last(num)
	return f.v
}

func (d dec) sint(num protowire.Number) int64 { return protowire.DecodeZigZag(d.uint(num)) }

func (d dec) bool(num protowire.Number) bool { return d.uint(num) != 0 }

func (d dec) bytes(num protowire.Number) []byte {
	f, _ := d.last(num)
	return f.b
}

func (d dec) str(num protowire.Number) string { return string(d.bytes(num)) }

// msg decodes an embedded message field (empty if absent).
func (d dec) msg(num protowire.Number) (dec, error) {
	return decode(d.bytes(num))
}

// msgs decodes every instance of a repeated message field.
func (d dec) msgs(num protowire.Number) ([]dec, error) {
	var out []dec
	for _, f := range d[num] {
		m, err := decode(f.b)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// require checks that required fields are present.
func (d dec) require(what string, nums ...protowire.Number) error {
	for _, n := range nums {
		if !d.has(n) {
			return fmt.Errorf("%s: required field %d missing", what, n)
		}
	}
	return nil
}

// appendDelimited appends a varint length and m.
func appendDelimited(b []byte, m []byte) []byte {
	b = protowire.AppendVarint(b, uint64(len(m)))
	return append(b, m...)
}

// readDelimited reads one varint-delimited message from r, one byte at a
// time for the length (as Hadoop's parseDelimitedFrom does), so nothing
// after the message is consumed.
func readDelimited(r io.ByteReader, rr io.Reader, limit int) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	if n > uint64(limit) {
		return nil, fmt.Errorf("message of %d bytes is larger than the %d allowed", n, limit)
	}
	b := make([]byte, n)
	_, err = io.ReadFull(rr, b)
	return b, err
}

// splitDelimited splits a buffer of varint-delimited messages.
func splitDelimited(b []byte) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		n, k := protowire.ConsumeVarint(b)
		if k < 0 || uint64(len(b)-k) < n {
			return nil, fmt.Errorf("%w: bad delimited message length", errMalformed)
		}
		out = append(out, b[k:k+int(n)])
		b = b[k+int(n):]
	}
	return out, nil
}
