package structured

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/javaser"
)

// DataType is a Spark SQL data type as StructType.json writes it.
type DataType struct {
	// Name is the JSON type name: "integer", "long", "string", "struct",
	// "array", "map", "decimal", "udt", "timestamp", ...
	Name string `json:"name"`
	// Decimal precision and scale.
	Precision int `json:"precision,omitempty"`
	Scale     int `json:"scale,omitempty"`
	// Struct fields.
	Fields []Field `json:"fields,omitempty"`
	// Array element / map key and value.
	Elem  *DataType `json:"elementType,omitempty"`
	Key   *DataType `json:"keyType,omitempty"`
	Value *DataType `json:"valueType,omitempty"`
	// UDT: its class and the SQL type it is stored as.
	Class string `json:"class,omitempty"`
}

// Field is a struct field.
type Field struct {
	Name     string   `json:"name"`
	Type     DataType `json:"type"`
	Nullable bool     `json:"nullable"`
}

// String renders t as Spark's catalog string: struct<key:int,count:bigint>.
func (t *DataType) String() string {
	if t == nil {
		return "?"
	}
	switch t.Name {
	case "struct":
		parts := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			parts[i] = f.Name + ":" + f.Type.String()
		}
		return "struct<" + strings.Join(parts, ",") + ">"
	case "array":
		return "array<" + t.Elem.String() + ">"
	case "map":
		return "map<" + t.Key.String() + "," + t.Value.String() + ">"
	case "decimal":
		return fmt.Sprintf("decimal(%d,%d)", t.Precision, t.Scale)
	case "integer":
		return "int"
	case "long":
		return "bigint"
	case "short":
		return "smallint"
	case "byte":
		return "tinyint"
	case "udt":
		if t.Elem != nil {
			return t.Elem.String()
		}
		return "udt(" + t.Class + ")"
	}
	return t.Name
}

var decimalRE = regexp.MustCompile(`^decimal\(\s*(\d+)\s*,\s*(-?\d+)\s*\)$`)

// ParseDataType reads a StructType.json / DataType.json value.
func ParseDataType(raw []byte) (*DataType, error) {
	return parseDataType(raw, 0)
}

func parseDataType(raw []byte, depth int) (*DataType, error) {
	if depth > maxJSONDepth {
		return nil, fmt.Errorf("type nested deeper than %d", maxJSONDepth)
	}
	var name string
	if err := json.Unmarshal(raw, &name); err == nil {
		t := &DataType{Name: name}
		if m := decimalRE.FindStringSubmatch(name); m != nil {
			t.Name = "decimal"
			t.Precision, _ = strconv.Atoi(m[1])
			t.Scale, _ = strconv.Atoi(m[2])
		} else if name == "decimal" {
			t.Precision, t.Scale = 10, 0
		} else if strings.HasPrefix(name, "char(") || strings.HasPrefix(name, "varchar(") {
			t.Name = "string"
		}
		return t, nil
	}
	var obj struct {
		Type        string            `json:"type"`
		Fields      []json.RawMessage `json:"fields"`
		ElementType json.RawMessage   `json:"elementType"`
		KeyType     json.RawMessage   `json:"keyType"`
		ValueType   json.RawMessage   `json:"valueType"`
		Class       string            `json:"class"`
		SQLType     json.RawMessage   `json:"sqlType"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("not a Spark data type: %v", err)
	}
	t := &DataType{Name: obj.Type}
	var err error
	switch obj.Type {
	case "struct":
		t.Fields = []Field{}
		for _, fr := range obj.Fields {
			var f struct {
				Name     string          `json:"name"`
				Type     json.RawMessage `json:"type"`
				Nullable bool            `json:"nullable"`
			}
			if err := json.Unmarshal(fr, &f); err != nil {
				return nil, fmt.Errorf("struct field: %v", err)
			}
			ft, err := parseDataType(f.Type, depth+1)
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", f.Name, err)
			}
			t.Fields = append(t.Fields, Field{f.Name, *ft, f.Nullable})
		}
	case "array":
		t.Elem, err = parseDataType(obj.ElementType, depth+1)
	case "map":
		if t.Key, err = parseDataType(obj.KeyType, depth+1); err == nil {
			t.Value, err = parseDataType(obj.ValueType, depth+1)
		}
	case "udt":
		t.Class = obj.Class
		if len(obj.SQLType) > 0 {
			t.Elem, err = parseDataType(obj.SQLType, depth+1)
		}
	default:
		return nil, fmt.Errorf("unknown data type object %q", obj.Type)
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// SchemaFile is a state schema file (§4.5): v1/v2
// state/<op>/<part>[/<store>]/_metadata/schema, or v3
// state/<op>/_stateSchema/<store>/<batch>_<uuid>.
type SchemaFile struct {
	Version int `json:"version"`
	// Key and Value are the schemas of v1 and v2 files.
	Key   *DataType `json:"key,omitempty"`
	Value *DataType `json:"value,omitempty"`
	// ColumnFamilies are v3's per-column-family schemas.
	ColumnFamilies []ColumnFamilySchema `json:"columnFamilies,omitempty"`
}

// ColumnFamilySchema is one column family of a v3 schema file.
type ColumnFamilySchema struct {
	Name  string    `json:"name"`
	Key   *DataType `json:"key"`
	Value *DataType `json:"value"`
	// KeyStateEncoderSpec is the encoder spec JSON, UserKeySchema the user
	// key schema JSON ("{    }" when none), both as written.
	KeyStateEncoderSpec string `json:"keyStateEncoderSpec"`
	UserKeySchema       string `json:"userKeySchema,omitempty"`
}

// schemaReader reads DataOutputStream primitives with a sticky error.
type schemaReader struct {
	b   []byte
	off int
	err error
}

func (r *schemaReader) fail(kind error, detail string, args ...any) {
	if r.err == nil {
		r.err = errorf(int64(r.off), kind, "schema file: "+detail, args...)
	}
}

func (r *schemaReader) utf() string {
	if r.err != nil {
		return ""
	}
	if r.off+2 > len(r.b) {
		r.fail(decode.ErrTruncated, "expected a 2-byte string length")
		return ""
	}
	n := int(binary.BigEndian.Uint16(r.b[r.off:]))
	if r.off+2+n > len(r.b) {
		r.fail(decode.ErrTruncated, "string of %d bytes, %d left", n, len(r.b)-r.off-2)
		return ""
	}
	s := javaser.DecodeMUTF8(r.b[r.off+2 : r.off+2+n])
	r.off += 2 + n
	return s
}

func (r *schemaReader) int32() int {
	if r.err != nil {
		return 0
	}
	if r.off+4 > len(r.b) {
		r.fail(decode.ErrTruncated, "expected a 4-byte int")
		return 0
	}
	v := int32(binary.BigEndian.Uint32(r.b[r.off:]))
	r.off += 4
	return int(v)
}

// chunked reads v2's int32 count and that many writeUTF chunks.
func (r *schemaReader) chunked() string {
	at := r.off
	n := r.int32()
	if r.err != nil {
		return ""
	}
	if n < 0 || n > (len(r.b)-r.off)/2 {
		r.off = at
		r.fail(decode.ErrCorrupt, "%d string chunks cannot fit in %d bytes", n, len(r.b)-r.off)
		return ""
	}
	var sb strings.Builder
	for range n {
		sb.WriteString(r.utf())
	}
	return sb.String()
}

func (r *schemaReader) dataType(s string, at int) *DataType {
	if r.err != nil {
		return nil
	}
	t, err := ParseDataType([]byte(s))
	if err != nil && r.err == nil {
		r.err = errorf(int64(at), decode.ErrCorrupt, "schema file: %v", err)
	}
	return t
}

// ParseSchemaFile decodes a state schema file of version 1, 2 or 3.
func ParseSchemaFile(b []byte) (*SchemaFile, error) {
	r := &schemaReader{b: b}
	vs := r.utf()
	if r.err != nil {
		return nil, r.err
	}
	v, err := parseVersionLine(Line{Text: vs})
	if err != nil {
		return nil, err
	}
	if v > MaxSchemaVersion {
		return nil, &VersionError{What: "state schema", Version: v, Max: MaxSchemaVersion,
			Err: errorf(0, decode.ErrUnsupported, "schema file: version v%d is newer than any Spark release sparkckpt knows (up to v%d)", v, MaxSchemaVersion)}
	}
	sf := &SchemaFile{Version: v}
	switch v {
	case 1:
		at := r.off
		sf.Key = r.dataType(r.utf(), at)
		at = r.off
		sf.Value = r.dataType(r.utf(), at)
	case 2:
		at := r.off
		sf.Key = r.dataType(r.chunked(), at)
		at = r.off
		sf.Value = r.dataType(r.chunked(), at)
	case 3:
		at := r.off
		n := r.int32()
		if r.err == nil && (n < 0 || n > len(b)/2) {
			r.off = at
			r.fail(decode.ErrCorrupt, "%d column families cannot fit in %d bytes", n, len(b))
		}
		for i := 0; i < n && r.err == nil; i++ {
			cf := ColumnFamilySchema{Name: r.utf()}
			at = r.off
			cf.Key = r.dataType(r.chunked(), at)
			at = r.off
			cf.Value = r.dataType(r.chunked(), at)
			cf.KeyStateEncoderSpec = r.chunked()
			cf.UserKeySchema = r.chunked()
			sf.ColumnFamilies = append(sf.ColumnFamilies, cf)
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	return sf, nil
}
