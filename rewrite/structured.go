package rewrite

import (
	"fmt"
	"io/fs"
	"path"

	"github.com/sparkckpt/sparkckpt/decode/structured"
)

// File kinds of Structured Streaming checkpoints and file sink logs
// (structured-format.md §8: the only places Spark's built-in components
// store absolute URIs).
const (
	KindSourceLog        = "file-source-log"   // sources/<n>/<id>[.compact]: FileEntry "path"
	KindSinkLog          = "file-sink-log"     // _spark_metadata/<id>[.compact]: SinkFileStatus "path"
	KindOperatorMetadata = "operator-metadata" // state/<op>/_metadata/v2/<batch>: stateSchemaFilePath(s)
)

// structuredKinds maps a rewrite kind to the structured package's.
var structuredKinds = map[string]string{
	KindSourceLog:        structured.LogSource,
	KindSinkLog:          structured.LogSink,
	KindOperatorMetadata: structured.KindOperatorMetadata,
}

func isStructuredKind(kind string) bool {
	_, ok := structuredKinds[kind]
	return ok
}

type target = struct{ rel, kind string }

// structuredTargets lists the files of root (read as fsys) that a structured rewrite
// reads: every file source log file (sources/<n>/, not Kafka's), every
// operator metadata v2 file, and, when root is a file sink's output
// directory (or its _spark_metadata), every sink log file. isStructured
// tells whether root is a structured checkpoint or sink at all.
func structuredTargets(root Place, fsys fs.FS) (targets []target, isStructured bool, err error) {
	if root.Base() == "_spark_metadata" {
		names, err := regularFiles(fsys, ".")
		if err != nil {
			return nil, false, err
		}
		for _, n := range names {
			if _, _, ok := structured.BatchOf(n, true); ok {
				targets = append(targets, target{n, KindSinkLog})
			}
		}
		return targets, true, nil
	}
	if st, err := fs.Stat(fsys, "_spark_metadata"); err == nil && st.IsDir() {
		isStructured = true
		names, err := regularFiles(fsys, "_spark_metadata")
		if err != nil {
			return nil, false, err
		}
		for _, n := range names {
			if _, _, ok := structured.BatchOf(n, true); ok {
				targets = append(targets, target{"_spark_metadata/" + n, KindSinkLog})
			}
		}
	}
	if !structured.IsCheckpointDir(fsys) {
		return targets, isStructured, nil
	}
	c, err := structured.Open(fsys)
	if err != nil {
		return nil, false, err
	}
	for _, s := range c.Sources {
		if s.Kind != structured.SourceFile {
			continue
		}
		for _, f := range s.Files {
			targets = append(targets, target{f.Name, KindSourceLog})
		}
	}
	for _, op := range c.Operators {
		for _, n := range op.V2MetadataFiles {
			targets = append(targets, target{n, KindOperatorMetadata})
		}
	}
	return targets, true, nil
}

// structuredKindOfPath is KindOfPath for structured files.
func structuredKindOfPath(rel string) string {
	switch structured.FileType(rel) {
	case structured.FileSourceLog:
		return KindSourceLog
	case structured.FileSinkLog:
		return KindSinkLog
	case structured.FileOperatorMetadata:
		if path.Base(path.Dir(rel)) == "v2" {
			return KindOperatorMetadata
		}
	}
	return ""
}

// transformStructured rewrites the URI fields of a metadata log file:
// each JSON string whose value a mapping changes is replaced by its new
// value encoded as json4s writes it, every other byte untouched; then the
// new file is parsed again and each field compared with the mapped old
// value. A field whose bytes re-encoding would change (an escape json4s
// does not write) is reported unhandled, not edited. A Kafka source's
// sources/<n>/0 holds no URI and comes back unchanged.
func transformStructured(kind string, in []byte, mp *Mapper) (*result, error) {
	skind := structuredKinds[kind]
	res := &result{}
	if kind == KindSourceLog && len(in) > 0 && in[0] != 'v' {
		return res, nil // Kafka initial offsets
	}
	fields, err := structured.URIFields(in, skind)
	if err != nil {
		return nil, err
	}
	var edit []structured.StringField
	var values []string
	for _, f := range fields {
		nv, n := mp.Map(f.Value)
		if n == 0 {
			continue
		}
		if !structured.RewritableField(in, f) {
			continue // left for findUnhandled below
		}
		edit = append(edit, f)
		values = append(values, nv)
		res.edits = append(res.edits, Edit{Location: fmt.Sprintf("line %d: %s", f.Line, f.Path), Before: f.Value, After: nv, Source: "json"})
	}
	if len(edit) == 0 {
		res.unhandled = findUnhandled(in, mp)
		return res, nil
	}
	out, err := structured.ReplaceStrings(in, edit, values)
	if err != nil {
		return nil, err
	}
	if err := verifyStructured(out, skind, fields, mp); err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	res.unhandled = findUnhandled(out, mp)
	res.out = out
	return res, nil
}

// verifyStructured parses the new bytes and checks that the URI fields
// are the old ones mapped, in the same order, and nothing else changed
// in them.
func verifyStructured(out []byte, kind string, before []structured.StringField, mp *Mapper) error {
	after, err := structured.URIFields(out, kind)
	if err != nil {
		return err
	}
	if len(after) != len(before) {
		return fmt.Errorf("%d URI fields before, %d after", len(before), len(after))
	}
	for i := range after {
		want, _ := mp.Map(before[i].Value)
		if after[i].Path != before[i].Path || after[i].Value != want && after[i].Value != before[i].Value {
			return fmt.Errorf("line %d: %s is %q, expected %q", after[i].Line, after[i].Path, after[i].Value, want)
		}
	}
	return nil
}
