package structured

import (
	"fmt"
	"io/fs"

	"github.com/sparkckpt/sparkckpt/decode"
)

// Reference roles of the absolute URIs a structured checkpoint stores (§8).
const (
	RoleSourceFile  = "source-file"  // a file source's seen file (sources/<n>/*)
	RoleSinkFile    = "sink-file"    // a file sink's output file (_spark_metadata/*)
	RoleStateSchema = "state-schema" // stateSchemaFilePath(s) of operator metadata v2
)

// RoleMeaning explains a role; ok is false for roles of other packages.
func RoleMeaning(role string) (meaning string, restart bool, ok bool) {
	switch role {
	case RoleSourceFile:
		return "file a file source has seen (sources/<n>): files listed under another authority look new and are read again; a re-run batch re-reads these URIs", true, true
	case RoleSinkFile:
		return "output file a file sink committed (_spark_metadata): readers of the output directory open exactly these URIs", false, true
	case RoleStateSchema:
		return "state schema file of a transformWithState operator (state/<op>/_metadata/v2): read on restart", true, true
	}
	return "", false, false
}

// Reference is one absolute URI stored in a structured checkpoint or sink log.
type Reference struct {
	URI  string `json:"uri"`
	File string `json:"file"` // slash path in the FS read
	// Location is "line N: field", e.g. "line 2: path".
	Location string `json:"location"`
	Role     string `json:"role"`
	// Field locates the JSON string in the file.
	Field StringField `json:"-"`
	// Reread marks a file source entry of the log batch the latest
	// offsets point at: a restart opens it (MicroBatchExecution's
	// populateStartOffsets calls getBatch for the latest batch, whose
	// relation resolves every file's status).
	Reread bool `json:"-"`
}

// URIFields returns the URI-bearing JSON strings of a file (§8): the
// "path" of every file source or sink log entry, and operator metadata
// v2's stateSchemaFilePath(s). kind is LogSource, LogSink or
// "operator-metadata".
func URIFields(b []byte, kind string) ([]StringField, error) {
	switch kind {
	case LogSource, LogSink:
		fl, err := ParseFileLog(b, kind)
		if err != nil {
			return nil, err
		}
		out := make([]StringField, len(fl.Entries))
		for i, e := range fl.Entries {
			out[i] = e.PathField
		}
		return out, nil
	case KindOperatorMetadata:
		m, err := ParseOperatorMetadata(b)
		if err != nil {
			return nil, err
		}
		return m.URIs, nil
	}
	return nil, fmt.Errorf("structured: no URI fields in a %s file", kind)
}

// KindOperatorMetadata names state/<op>/_metadata/v2/<batch> for URIFields.
const KindOperatorMetadata = "operator-metadata"

// ReplaceStrings returns b with each field's token replaced by the JSON
// encoding of its new value (json4s style, EncodeJSONString); fields must
// be in file order and not overlap.
func ReplaceStrings(b []byte, fields []StringField, values []string) ([]byte, error) {
	if len(fields) != len(values) {
		return nil, fmt.Errorf("structured: %d fields, %d values", len(fields), len(values))
	}
	out := make([]byte, 0, len(b)+64)
	last := int64(0)
	for i, f := range fields {
		if f.Start < last || f.End > int64(len(b)) || f.Start >= f.End {
			return nil, errorf(f.Start, decode.ErrCorrupt, "string field %s out of order or out of range", f.Path)
		}
		out = append(out, b[last:f.Start]...)
		out = append(out, EncodeJSONString(values[i])...)
		last = f.End
	}
	return append(out, b[last:]...), nil
}

// RewritableField reports whether re-encoding a field's decoded value
// gives back its exact bytes, so that replacing it changes nothing else.
func RewritableField(b []byte, f StringField) bool {
	return f.End <= int64(len(b)) && EncodeJSONString(f.Value) == string(b[f.Start:f.End])
}

// References lists the absolute URIs of the checkpoint (file source logs,
// operator metadata v2) in file order. Only a source log's valid batches
// are listed, the files a restart reads, plus any older log files still
// present.
func (c *Checkpoint) References() ([]Reference, []error) {
	var out []Reference
	var errs []error
	for _, s := range c.Sources {
		if s.Kind != SourceFile {
			continue
		}
		for _, f := range s.Files {
			refs, err := fileRefs(c.fsys, f.Name, LogSource, RoleSourceFile)
			if err != nil {
				errs = append(errs, err)
			}
			out = append(out, refs...)
		}
	}
	for _, op := range c.Operators {
		for _, name := range op.V2MetadataFiles {
			refs, err := fileRefs(c.fsys, name, KindOperatorMetadata, RoleStateSchema)
			if err != nil {
				errs = append(errs, err)
			}
			out = append(out, refs...)
		}
	}
	return out, errs
}

// SinkReferences lists the sink log's entry paths (every batch file present).
func SinkReferences(fsys fs.FS, dir string) ([]Reference, []error) {
	files, _, err := listFileLog(fsys, dir)
	if err != nil {
		return nil, []error{err}
	}
	var out []Reference
	var errs []error
	for _, f := range files {
		refs, err := fileRefs(fsys, f.Name, LogSink, RoleSinkFile)
		if err != nil {
			errs = append(errs, err)
		}
		out = append(out, refs...)
	}
	return out, errs
}

func fileRefs(fsys fs.FS, name, kind, role string) ([]Reference, error) {
	b, err := ReadLog(fsys, name)
	if err != nil {
		return nil, err
	}
	fields, err := URIFields(b, kind)
	if err != nil {
		return nil, decode.WithFile(err, name)
	}
	out := make([]Reference, 0, len(fields))
	for _, f := range fields {
		out = append(out, Reference{URI: f.Value, File: name, Location: fmt.Sprintf("line %d: %s", f.Line, f.Path), Role: role, Field: f})
	}
	return out, nil
}
