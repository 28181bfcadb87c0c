package structured

import (
	"encoding/json"
	"strings"

	"github.com/sparkckpt/sparkckpt/decode"
)

// ParseMetadata decodes the checkpoint's metadata file, {"id":"<uuid>"}
// (§2.7), and returns the query id.
func ParseMetadata(b []byte) (string, error) {
	if err := checkLines(b); err != nil {
		return "", err
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", errorf(0, decode.ErrTruncated, "metadata: empty file; expected {\"id\":\"<query id>\"}")
	}
	var m struct {
		ID *string `json:"id"`
	}
	if err := unmarshal(t, &m); err != nil {
		return "", jsonError(err, 0, "metadata")
	}
	if m.ID == nil {
		return "", errorf(0, decode.ErrCorrupt, "metadata: no \"id\"")
	}
	return *m.ID, nil
}

// KafkaInitialOffsets is a Kafka source's sources/<n>/0 (§2.6).
type KafkaInitialOffsets struct {
	// Version is 1, or 0 for Spark 2.1.0's bare JSON.
	Version int                    `json:"version"`
	Raw     string                 `json:"raw"`
	Offsets []KafkaPartitionOffset `json:"offsets"`
}

// ParseKafkaInitialOffsets decodes a Kafka source's initial offsets. Like
// KafkaSource's reader it skips the first byte (0x00, SPARK-19517), then
// reads a "v<N>" line if the content starts with one, then the
// {"topic":{"partition":offset}} JSON.
func ParseKafkaInitialOffsets(b []byte) (*KafkaInitialOffsets, error) {
	if err := checkLines(b); err != nil {
		return nil, err
	}
	if len(b) < 2 {
		return nil, errorf(int64(len(b)), decode.ErrTruncated, "kafka initial offsets: %d bytes; expected a 0x00 byte, \"v1\\n\" and JSON", len(b))
	}
	content := b[1:]
	k := &KafkaInitialOffsets{}
	body, base := content, int64(1)
	if content[0] == 'v' {
		nl := strings.IndexByte(string(content), '\n')
		if nl > 0 {
			v, err := parseVersionLine(Line{Offset: 1, Text: strings.TrimSuffix(string(content[:nl]), "\r")})
			if err != nil {
				return nil, err
			}
			if v > MaxKafkaVersion {
				return nil, &VersionError{What: "kafka initial offsets", Version: v, Max: MaxKafkaVersion,
					Err: errorf(1, decode.ErrUnsupported, "kafka initial offsets: version v%d is newer than any Spark release sparkckpt knows (up to v%d)", v, MaxKafkaVersion)}
			}
			k.Version = v
			body, base = content[nl+1:], int64(nl+2)
		}
	}
	k.Raw = string(body)
	kvs, err := orderedObject(body)
	if err != nil {
		return nil, errorf(base, decode.ErrCorrupt, "kafka initial offsets: expected {\"topic\":{\"partition\":offset}}: %v", err)
	}
	rows, ok := kafkaTable(kvs)
	if !ok {
		return nil, errorf(base, decode.ErrCorrupt, "kafka initial offsets: expected {\"topic\":{\"partition\":offset}}, got %s", clip(k.Raw))
	}
	k.Offsets = rows
	return k, nil
}

// OperatorMetadata is state/<op>/_metadata/metadata (v1) or
// state/<op>/_metadata/v2/<batch> (v2), Spark 4.0+ (§4.5).
type OperatorMetadata struct {
	Version      int    `json:"version"`
	OperatorID   int64  `json:"operatorId"`
	OperatorName string `json:"operatorName"`
	Stores       []struct {
		StoreName            string   `json:"storeName"`
		NumColsPrefixKey     int      `json:"numColsPrefixKey"`
		NumPartitions        int      `json:"numPartitions"`
		StateSchemaFilePath  string   `json:"stateSchemaFilePath,omitempty"`
		StateSchemaFilePaths []string `json:"stateSchemaFilePaths,omitempty"`
	} `json:"stores"`
	// OperatorPropertiesJSON is v2's operatorPropertiesJson string.
	OperatorPropertiesJSON string `json:"operatorPropertiesJson,omitempty"`
	// URIs locates the absolute schema-file URIs (v2), for rewriting.
	URIs []StringField `json:"-"`
}

// ParseOperatorMetadata decodes an operator metadata file.
func ParseOperatorMetadata(b []byte) (*OperatorMetadata, error) {
	v, lines, err := readLog(b, "operator metadata", MaxOpMetaVersion)
	if err != nil {
		return nil, err
	}
	if len(lines) == 0 {
		return nil, errorf(int64(len(b)), decode.ErrTruncated, "operator metadata: no JSON after the version line")
	}
	l := lines[0]
	var raw struct {
		OperatorInfo struct {
			OperatorID   int64  `json:"operatorId"`
			OperatorName string `json:"operatorName"`
		} `json:"operatorInfo"`
		StateStoreInfo json.RawMessage `json:"stateStoreInfo"`
		Props          string          `json:"operatorPropertiesJson"`
	}
	text := strings.TrimRight(string(b[l.Offset:]), " \t\r\n")
	if err := unmarshal(text, &raw); err != nil {
		return nil, jsonError(err, l.Offset, "operator metadata")
	}
	m := &OperatorMetadata{Version: v, OperatorID: raw.OperatorInfo.OperatorID, OperatorName: raw.OperatorInfo.OperatorName, OperatorPropertiesJSON: raw.Props}
	if len(raw.StateStoreInfo) > 0 {
		if err := json.Unmarshal(raw.StateStoreInfo, &m.Stores); err != nil {
			return nil, errorf(l.Offset, decode.ErrCorrupt, "operator metadata: stateStoreInfo: %v", err)
		}
	}
	err = scanStrings([]byte(text), l.Offset, func(f StringField) {
		if isSchemaPathField(f.Path) {
			f.Line = 2
			m.URIs = append(m.URIs, f)
		}
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// isSchemaPathField matches stateStoreInfo[i].stateSchemaFilePath and
// stateStoreInfo[i].stateSchemaFilePaths[j] (§8).
func isSchemaPathField(p string) bool {
	if !strings.HasPrefix(p, "stateStoreInfo[") {
		return false
	}
	_, rest, _ := strings.Cut(p, "].")
	return rest == "stateSchemaFilePath" || strings.HasPrefix(rest, "stateSchemaFilePaths[")
}
