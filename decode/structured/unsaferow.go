package structured

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/sparkckpt/sparkckpt/decode"
)

// Row is a decoded UnsafeRow (§5): its fields in schema order.
type Row []Column

// Column is one field of a Row. Value is nil (SQL NULL), bool, int64,
// float32, float64, string, Bytes, Decimal, Row, []any (array) or []MapEntry.
// Dates and timestamps are strings ("2024-01-31", "2024-01-31
// 12:00:00.000001 UTC"), intervals strings too.
type Column struct {
	Name  string
	Value any
}

// Bytes is a binary value, shown as hex.
type Bytes []byte

// Decimal is a decimal value as exact text ("12.50").
type Decimal string

// MapEntry is one entry of a map value.
type MapEntry struct {
	Key   any `json:"key"`
	Value any `json:"value"`
}

// MarshalJSON writes the row as an object in field order.
func (r Row) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, c := range r {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(c.Name)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(jsonSafe(c.Value))
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// jsonSafe replaces what JSON cannot hold (NaN, infinities) by strings.
func jsonSafe(v any) any {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return strconv.FormatFloat(x, 'g', -1, 64)
		}
	case float32:
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return strconv.FormatFloat(float64(x), 'g', -1, 32)
		}
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonSafe(e)
		}
		return out
	case []MapEntry:
		out := make([]MapEntry, len(x))
		for i, e := range x {
			out[i] = MapEntry{jsonSafe(e.Key), jsonSafe(e.Value)}
		}
		return out
	}
	return v
}

// MarshalJSON writes bytes as a hex string.
func (b Bytes) MarshalJSON() ([]byte, error) { return json.Marshal(hex.EncodeToString(b)) }

// String renders the row as {name=value, ...}.
func (r Row) String() string {
	parts := make([]string, len(r))
	for i, c := range r {
		parts[i] = c.Name + "=" + FormatValue(c.Value)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// FormatValue renders a decoded value for people.
func FormatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(x)
	case Bytes:
		return "0x" + hex.EncodeToString(x)
	case Decimal:
		return string(x)
	case Row:
		return x.String()
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = FormatValue(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case []MapEntry:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = FormatValue(e.Key) + " -> " + FormatValue(e.Value)
		}
		return "map(" + strings.Join(parts, ", ") + ")"
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	}
	return fmt.Sprint(v)
}

// DecodeRow decodes UnsafeRow bytes with a struct schema. The row must
// hold the null bitset and the fixed region; every variable-length value
// must lie inside b.
func DecodeRow(b []byte, schema *DataType) (Row, error) {
	if schema == nil || schema.Name != "struct" {
		return nil, errorf(0, decode.ErrUnsupported, "unsaferow: schema is not a struct")
	}
	return decodeRow(b, 0, schema, 0)
}

func decodeRow(b []byte, base int64, t *DataType, depth int) (Row, error) {
	if depth > maxJSONDepth {
		return nil, errorf(base, decode.ErrTooLarge, "unsaferow: nested deeper than %d", maxJSONDepth)
	}
	n := len(t.Fields)
	bitset := ((n + 63) / 64) * 8
	if len(b) < bitset+8*n {
		return nil, errorf(base, decode.ErrCorrupt, "unsaferow: %d bytes cannot hold %d fields (%d bytes of null bits and slots)", len(b), n, bitset+8*n)
	}
	row := make(Row, n)
	for i, f := range t.Fields {
		row[i].Name = f.Name
		if b[i/8]&(1<<(i%8)) != 0 {
			continue
		}
		slot := bitset + 8*i
		v, err := decodeSlot(b, slot, base, &t.Fields[i].Type, depth)
		if err != nil {
			return nil, fmt.Errorf("%w (field %s)", err, f.Name)
		}
		row[i].Value = v
	}
	return row, nil
}

// varRegion returns the bytes an (offset << 32 | size) word points at.
func varRegion(b []byte, word uint64, base int64) ([]byte, int64, error) {
	off, size := int64(word>>32), int64(uint32(word))
	if off < 0 || off > int64(len(b)) || size > int64(len(b))-off {
		return nil, 0, errorf(base, decode.ErrCorrupt, "unsaferow: value at offset %d size %d outside the %d-byte row", off, size, len(b))
	}
	return b[off : off+size], base + off, nil
}

func decodeSlot(b []byte, slot int, base int64, t *DataType, depth int) (any, error) {
	word := binary.LittleEndian.Uint64(b[slot:])
	if t.Name == "udt" && t.Elem != nil {
		t = t.Elem
	}
	switch t.Name {
	case "boolean":
		return b[slot] != 0, nil
	case "byte":
		return int64(int8(b[slot])), nil
	case "short":
		return int64(int16(binary.LittleEndian.Uint16(b[slot:]))), nil
	case "integer":
		return int64(int32(binary.LittleEndian.Uint32(b[slot:]))), nil
	case "long":
		return int64(word), nil
	case "float":
		return math.Float32frombits(binary.LittleEndian.Uint32(b[slot:])), nil
	case "double":
		return math.Float64frombits(word), nil
	case "date":
		return formatDate(int32(binary.LittleEndian.Uint32(b[slot:]))), nil
	case "timestamp":
		return formatMicros(int64(word)) + " UTC", nil
	case "timestamp_ntz":
		return formatMicros(int64(word)), nil
	case "null", "void":
		return nil, nil
	case "decimal":
		if t.Precision <= 18 {
			return Decimal(scaled(big.NewInt(int64(word)), t.Scale)), nil
		}
		v, _, err := varRegion(b, word, base)
		if err != nil {
			return nil, err
		}
		return Decimal(scaled(twosComplement(v), t.Scale)), nil
	case "string":
		v, _, err := varRegion(b, word, base)
		if err != nil {
			return nil, err
		}
		return string(v), nil
	case "binary":
		v, _, err := varRegion(b, word, base)
		if err != nil {
			return nil, err
		}
		return Bytes(append([]byte(nil), v...)), nil
	case "struct":
		v, at, err := varRegion(b, word, base)
		if err != nil {
			return nil, err
		}
		return decodeRow(v, at, t, depth+1)
	case "array":
		v, at, err := varRegion(b, word, base)
		if err != nil {
			return nil, err
		}
		return decodeArray(v, at, t.Elem, depth+1)
	case "map":
		v, at, err := varRegion(b, word, base)
		if err != nil {
			return nil, err
		}
		return decodeMap(v, at, t, depth+1)
	case "interval", "calendarinterval":
		v, _, err := varRegion(b, word, base)
		if err != nil {
			return nil, err
		}
		if len(v) < 16 {
			return nil, errorf(base, decode.ErrCorrupt, "unsaferow: calendar interval of %d bytes, expected 16", len(v))
		}
		months := int32(binary.LittleEndian.Uint32(v))
		days := int32(binary.LittleEndian.Uint32(v[4:]))
		micros := int64(binary.LittleEndian.Uint64(v[8:]))
		return fmt.Sprintf("%d months %d days %d microseconds", months, days, micros), nil
	}
	switch {
	case strings.HasPrefix(t.Name, "interval day"), strings.HasPrefix(t.Name, "interval hour"), strings.HasPrefix(t.Name, "interval minute"), strings.HasPrefix(t.Name, "interval second"):
		return (time.Duration(int64(word)) * time.Microsecond).String(), nil
	case strings.HasPrefix(t.Name, "interval year"), strings.HasPrefix(t.Name, "interval month"):
		return fmt.Sprintf("%d months", int32(binary.LittleEndian.Uint32(b[slot:]))), nil
	}
	return nil, errorf(base+int64(slot), decode.ErrUnsupported, "unsaferow: type %s not decoded", t.String())
}

// elemSize is an array element's width in UnsafeArrayData.
func elemSize(t *DataType) int {
	if t.Name == "udt" && t.Elem != nil {
		t = t.Elem
	}
	switch t.Name {
	case "boolean", "byte":
		return 1
	case "short":
		return 2
	case "integer", "float", "date":
		return 4
	case "decimal":
		if t.Precision > 18 {
			return 8
		}
	}
	if strings.HasPrefix(t.Name, "interval year") || strings.HasPrefix(t.Name, "interval month") {
		return 4
	}
	return 8
}

func decodeArray(b []byte, base int64, et *DataType, depth int) ([]any, error) {
	if depth > maxJSONDepth {
		return nil, errorf(base, decode.ErrTooLarge, "unsaferow: nested deeper than %d", maxJSONDepth)
	}
	if len(b) < 8 {
		return nil, errorf(base, decode.ErrCorrupt, "unsaferow: array of %d bytes has no element count", len(b))
	}
	n := int64(binary.LittleEndian.Uint64(b))
	if n < 0 || n > int64(len(b))*8 {
		return nil, errorf(base, decode.ErrCorrupt, "unsaferow: array of %d elements in %d bytes", n, len(b))
	}
	nulls := 8 + int((n+63)/64)*8
	es := elemSize(et)
	if int64(nulls)+n*int64(es) > int64(len(b)) {
		return nil, errorf(base, decode.ErrCorrupt, "unsaferow: array of %d elements of %d bytes does not fit in %d bytes", n, es, len(b))
	}
	out := make([]any, n)
	// Element slots of width es; reuse decodeSlot through an 8-byte window.
	var win [8]byte
	for i := int64(0); i < n; i++ {
		if b[8+i/8]&(1<<(i%8)) != 0 {
			continue
		}
		at := nulls + int(i)*es
		if es == 8 {
			v, err := decodeSlot(b, at, base, et, depth)
			if err != nil {
				return nil, err
			}
			out[i] = v
			continue
		}
		win = [8]byte{}
		copy(win[:], b[at:at+es])
		v, err := decodeSlot(win[:], 0, base, et, depth)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func decodeMap(b []byte, base int64, t *DataType, depth int) ([]MapEntry, error) {
	if len(b) < 8 {
		return nil, errorf(base, decode.ErrCorrupt, "unsaferow: map of %d bytes", len(b))
	}
	kb := int64(binary.LittleEndian.Uint64(b))
	if kb < 0 || kb > int64(len(b))-8 {
		return nil, errorf(base, decode.ErrCorrupt, "unsaferow: map key array of %d bytes in %d", kb, len(b))
	}
	keys, err := decodeArray(b[8:8+kb], base+8, t.Key, depth)
	if err != nil {
		return nil, err
	}
	vals, err := decodeArray(b[8+kb:], base+8+kb, t.Value, depth)
	if err != nil {
		return nil, err
	}
	if len(keys) != len(vals) {
		return nil, errorf(base, decode.ErrCorrupt, "unsaferow: map with %d keys and %d values", len(keys), len(vals))
	}
	out := make([]MapEntry, len(keys))
	for i := range keys {
		out[i] = MapEntry{keys[i], vals[i]}
	}
	return out, nil
}

func twosComplement(b []byte) *big.Int {
	v := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return v
}

// scaled renders unscaled * 10^-scale exactly.
func scaled(u *big.Int, scale int) string {
	s := u.String()
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	if scale > 0 {
		for len(s) <= scale {
			s = "0" + s
		}
		s = s[:len(s)-scale] + "." + s[len(s)-scale:]
	} else if scale < 0 {
		s += strings.Repeat("0", -scale)
	}
	if neg {
		s = "-" + s
	}
	return s
}

func formatDate(days int32) string {
	return time.Unix(int64(days)*86400, 0).UTC().Format("2006-01-02")
}

func formatMicros(us int64) string {
	t := time.UnixMicro(us).UTC()
	if us%1_000_000 == 0 {
		return t.Format("2006-01-02 15:04:05")
	}
	return t.Format("2006-01-02 15:04:05.000000")
}

// State key/value layouts: where the UnsafeRow starts (§4.2).
const (
	LayoutHDFS      = "hdfs"       // the bytes are the row
	LayoutRocksDB   = "rocksdb"    // a 0x00 encoding-version byte, then the row
	LayoutRocksDBCF = "rocksdb-cf" // a 2-byte column family id, the version byte, then the row
)

// RowBytes strips a RocksDB key or value prefix; cf is the column family
// id for LayoutRocksDBCF (-1 otherwise).
func RowBytes(b []byte, layout string) (row []byte, cf int, err error) {
	switch layout {
	case LayoutRocksDB:
		if len(b) < 1 || b[0] != 0 {
			return nil, -1, errorf(0, decode.ErrUnsupported, "rocksdb: expected the unsaferow encoding version byte 0x00")
		}
		return b[1:], -1, nil
	case LayoutRocksDBCF:
		if len(b) < 3 {
			return nil, -1, errorf(0, decode.ErrCorrupt, "rocksdb: %d bytes cannot hold a column family id and a version byte", len(b))
		}
		cf = int(binary.LittleEndian.Uint16(b))
		if b[2] != 0 {
			return nil, cf, errorf(2, decode.ErrUnsupported, "rocksdb: expected the unsaferow encoding version byte 0x00, got 0x%02x", b[2])
		}
		return b[3:], cf, nil
	}
	return b, -1, nil
}
