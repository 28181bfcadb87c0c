package structured

import (
	"path"
	"strconv"
	"strings"
)

// RowCodec decodes a store's keys and values when their schema is known.
type RowCodec struct {
	Key, Value *DataType
	// Layout is LayoutHDFS, LayoutRocksDB or LayoutRocksDBCF (§4.2).
	Layout string
	// ColumnFamilies maps a column family id to its schema (4.0 TWS).
	ColumnFamilies map[int]ColumnFamilySchema
	// Avro is true when the conf says stateStore.encodingFormat=avro:
	// values are not UnsafeRows and stay hex.
	Avro bool
}

// DecodedRecord is a record with its key and value decoded: each is a
// Row when the schema decodes it, else Bytes.
type DecodedRecord struct {
	Offset int64  `json:"offset"`
	Op     Op     `json:"op"`
	Family string `json:"columnFamily,omitempty"`
	// KeyBytes and ValueBytes are the raw lengths.
	KeyBytes   int `json:"keyBytes"`
	ValueBytes int `json:"valueBytes"`
	Key        any `json:"key"`
	Value      any `json:"value"`
	// DecodeError says why a key or value stayed hex.
	DecodeError string `json:"decodeError,omitempty"`
}

// Decode decodes a record (its bytes are copied).
func (rc *RowCodec) Decode(rec Record) DecodedRecord {
	d := DecodedRecord{Offset: rec.Offset, Op: rec.Op, KeyBytes: len(rec.Key), ValueBytes: len(rec.Value)}
	d.Key = Bytes(append([]byte(nil), rec.Key...))
	if rec.Value != nil {
		d.Value = Bytes(append([]byte(nil), rec.Value...))
	}
	if rc == nil {
		return d
	}
	key, val := rc.Key, rc.Value
	kb, cf, err := RowBytes(rec.Key, rc.Layout)
	if err != nil {
		d.DecodeError = "key: " + errText(err)
		return d
	}
	if cf >= 0 {
		s, ok := rc.ColumnFamilies[cf]
		if !ok {
			d.Family = "cf" + strconv.Itoa(cf)
			d.DecodeError = "no schema for column family " + strconv.Itoa(cf)
			return d
		}
		d.Family, key, val = s.Name, s.Key, s.Value
	}
	if key != nil && !rc.Avro {
		if r, err := DecodeRow(kb, key); err == nil {
			d.Key = r
		} else {
			d.DecodeError = "key: " + errText(err)
		}
	}
	if rec.Value != nil && val != nil && !rc.Avro {
		vb := rec.Value
		if rc.Layout != LayoutHDFS {
			if len(vb) > 0 && vb[0] == 0 {
				vb = vb[1:]
			}
		} else if len(vb)%8 == 4 {
			vb = vb[:len(vb)-4] // pre-2.3 writers appended 4 bytes (§4.1)
		}
		if r, err := DecodeRow(vb, val); err == nil {
			d.Value = r
		} else if d.DecodeError == "" {
			d.DecodeError = "value: " + errText(err)
		}
	}
	return d
}

// RowCodecFor returns the codec for a state file of the checkpoint (a
// slash path like state/0/3/left-keyToNumValues/2.delta), or nil when
// the store's schema is unknown (Spark before 3.1 wrote none).
func (c *Checkpoint) RowCodecFor(file string) *RowCodec {
	parts := strings.Split(file, "/")
	if len(parts) < 4 || parts[0] != "state" {
		return nil
	}
	opID, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return nil
	}
	store := DefaultStore
	if len(parts) >= 5 {
		store = parts[3]
	}
	var op *Operator
	for _, o := range c.Operators {
		if o.ID == opID {
			op = o
		}
	}
	if op == nil {
		return nil
	}
	sf := op.Schemas[store]
	if sf == nil {
		return nil
	}
	rc := &RowCodec{Key: sf.Key, Value: sf.Value, Layout: LayoutHDFS}
	if v, ok := c.Conf("spark.sql.streaming.stateStore.encodingFormat"); ok && v == "avro" {
		rc.Avro = true
	}
	ext := path.Ext(file)
	if ext == ".changelog" || ext == ".zip" {
		rc.Layout = LayoutRocksDB
	}
	if len(sf.ColumnFamilies) > 0 {
		rc.Layout = LayoutRocksDBCF
		rc.ColumnFamilies = map[int]ColumnFamilySchema{}
		ids := c.columnFamilyIDs(path.Dir(file))
		for _, cf := range sf.ColumnFamilies {
			if id, ok := ids[cf.Name]; ok {
				rc.ColumnFamilies[id] = cf
			}
		}
		if len(rc.ColumnFamilies) == 0 && len(sf.ColumnFamilies) == 1 {
			rc.ColumnFamilies[1] = sf.ColumnFamilies[0] // the first user column family (id 0 is default)
		}
	}
	return rc
}

// columnFamilyIDs reads a store's latest zip for its column family ids.
func (c *Checkpoint) columnFamilyIDs(storeDir string) map[string]int {
	out := map[string]int{}
	for _, op := range c.Operators {
		for _, p := range op.Partitions {
			for _, s := range p.Stores {
				if s.Dir != storeDir {
					continue
				}
				for i := len(s.Files) - 1; i >= 0; i-- {
					if s.Files[i].Kind != "zip" {
						continue
					}
					b, err := c.ReadFile(s.Files[i].Name)
					if err != nil {
						continue
					}
					z, err := ParseRocksDBZip(b)
					if err != nil || z.Metadata == nil {
						continue
					}
					for _, kv := range z.Metadata.ColumnFamilyMapping {
						if n, err := strconv.Atoi(string(kv.Value)); err == nil {
							out[kv.Key] = n
						}
					}
					return out
				}
			}
		}
	}
	return out
}
