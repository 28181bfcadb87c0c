package rewrite

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/codec"
	"github.com/sparkckpt/sparkckpt/decode/dstream"
	"github.com/sparkckpt/sparkckpt/decode/javaser"
	"github.com/sparkckpt/sparkckpt/decode/pickle"
	"github.com/sparkckpt/sparkckpt/decode/wal"
)

// Edit is one planned replacement.
type Edit struct {
	Location string `json:"location"` // object path; "{pickle@N}" for a string in a pickled function
	Before   string `json:"before"`
	After    string `json:"after"`
	Source   string `json:"source"` // "java", "pickle", "wal"
}

// Unhandled is an occurrence of a mapped prefix that the rewrite cannot
// edit safely (e.g. inside custom writeObject data it does not model).
type Unhandled struct {
	Offset  int64  `json:"offset"`  // in the decompressed stream (checkpoint) or the file (log)
	Context string `json:"context"` // the bytes around it, printable
}

// result is what transforming one file gives.
type result struct {
	out          []byte // the new file bytes; nil if nothing changes
	edits        []Edit
	unhandled    []Unhandled
	codec        codec.Kind
	inconsistent string // why the edits leave the checkpoint half rewritten
}

// transformCheckpoint rewrites a checkpoint file (or its .bk): every Java
// String in the object tree and every string of every pickled PySpark
// function (spec §3.9, §4.6), re-encoded with the same codec and block
// size, then verified by decoding the new bytes (see verifyCheckpoint).
func transformCheckpoint(in []byte, mp *Mapper) (*result, error) {
	data, kind, params, err := codec.Decompress(in)
	if err != nil {
		return nil, err
	}
	s, err := javaser.Parse(data)
	if err != nil {
		return nil, err
	}
	cp, err := lightModel.Decode(s)
	if err != nil {
		return nil, err
	}
	pickles := pickleCache{}
	before := pickles.stringValues(s)
	rdds := rddNodes(cp)
	res := &result{codec: kind}
	res.edits = editStrings(s, mp, "java")
	res.inconsistent = consistency(cp, rdds)
	pe, err := editPickles(s, mp, pickles)
	if err != nil {
		return nil, err
	}
	res.edits = append(res.edits, pe...)
	enc, err := javaser.Encode(s)
	if err != nil {
		return nil, err
	}
	res.unhandled = findUnhandled(enc, mp)
	if len(res.edits) == 0 {
		return res, nil
	}
	// Re-encode with the compressor generation that wrote the file (lz4-java
	// JNI or pure Java, snappy-java's libsnappy generation), so unchanged
	// blocks come out as Spark wrote them (spec §2.7).
	if _, p, exact, err := codec.Identify(in); err == nil && exact {
		params = p
	}
	out, err := codec.Compress(kind, params, enc)
	if err != nil {
		return nil, err
	}
	if err := verifyCheckpoint(out, enc, before, mp); err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	res.out = out
	return res, nil
}

// rddNode is an RDD checkpoint path of the model, with its value before editing.
type rddNode struct {
	node  *javaser.String
	old   string
	where string
}

func rddNodes(cp *dstream.Checkpoint) []rddNode {
	var out []rddNode
	for _, st := range cp.Graph.Streams {
		if st.CheckpointData == nil {
			continue
		}
		for _, e := range st.CheckpointData.Entries {
			if e.Kind != "rdd" {
				continue
			}
			for _, n := range e.Nodes {
				if str := javaser.ResolveString(n); str != nil {
					out = append(out, rddNode{str, str.Value(), fmt.Sprintf("stream #%d (%s) at batch %d", st.ID, st.Name, e.TimeMs)})
				}
			}
		}
	}
	return out
}

// consistency checks, after editing, that a checkpoint still hangs
// together: RDD checkpoints that lived under the old checkpointDir live
// under the new one at the same relative path (spec §6.6: on restart Spark
// uses the stored checkpointDir for everything).
func consistency(cp *dstream.Checkpoint, rdds []rddNode) string {
	oldDir := cp.CheckpointDir
	dirNode, ok := cp.Syntax.Field("checkpointDir")
	if !ok {
		return ""
	}
	ds := javaser.ResolveString(dirNode.Obj)
	if ds == nil {
		return ""
	}
	newDir := ds.Value()
	for _, r := range rdds {
		rel, ok := strings.CutPrefix(r.old, oldDir)
		if !ok || (rel != "" && rel[0] != '/') {
			continue
		}
		if got := r.node.Value(); got != newDir+rel {
			return fmt.Sprintf("checkpointDir moves from %s to %s, but the RDD checkpoint %s of %s would become %s instead of %s",
				oldDir, newDir, r.old, r.where, got, newDir+rel)
		}
	}
	return ""
}

// verifyCheckpoint decodes the new file and checks that the only
// differences from the original are the planned ones: the codec gives back
// exactly the stream we encoded, it parses and decodes as a Checkpoint,
// and its strings are the original strings mapped, in the same order.
func verifyCheckpoint(out, enc []byte, before []string, mp *Mapper) error {
	data, _, _, err := codec.Decompress(out)
	if err != nil {
		return err
	}
	if !bytes.Equal(data, enc) {
		return fmt.Errorf("the compressed file does not decompress to the encoded stream")
	}
	s, err := javaser.Parse(data)
	if err != nil {
		return err
	}
	if _, err := lightModel.Decode(s); err != nil {
		return err
	}
	return sameStrings(before, stringValues(s), mp)
}

// sameStrings checks that after[i] == Map(before[i]) for every string.
func sameStrings(before, after []string, mp *Mapper) error {
	if len(before) != len(after) {
		return fmt.Errorf("the new stream has %d strings, the original %d", len(after), len(before))
	}
	for i := range before {
		if want, _ := mp.Map(before[i]); after[i] != want {
			return fmt.Errorf("string %d is %q, expected %q", i, after[i], want)
		}
	}
	return nil
}

// lightModel is the model a rewrite validates with: no version hints and
// no Python parsing (the rewrite parses the pickles itself, once).
var lightModel = dstream.DecodeOptions{SkipHints: true, SkipPython: true}

// pickleCache holds the parsed pickle of each PySpark TransformFunction of
// a stream, so one transform parses each pickle once.
type pickleCache map[*javaser.Object]*parsedPickle

type parsedPickle struct {
	pk       *pickle.Pickle
	bd       *javaser.BlockData
	trailing []byte
}

// get returns o's pickle, parsing it on first use; nil if o is not a TransformFunction.
func (c pickleCache) get(o *javaser.Object) *parsedPickle {
	if p, ok := c[o]; ok {
		return p
	}
	var p *parsedPickle
	if pk, bd, tr := transformPickle(o); pk != nil {
		p = &parsedPickle{pk, bd, tr}
	}
	c[o] = p
	return p
}

// stringValues lists every string value of a stream in walk order,
// including the strings of pickled functions, for verification.
func stringValues(s *javaser.Stream) []string { return pickleCache{}.stringValues(s) }

func (c pickleCache) stringValues(s *javaser.Stream) []string {
	var out []string
	javaser.Walk(s, func(p javaser.Path, n javaser.Node) bool {
		switch n := n.(type) {
		case *javaser.String:
			out = append(out, n.Value())
		case *javaser.Object:
			if pp := c.get(n); pp != nil {
				pk := pp.pk
				for _, ps := range pk.Strings() {
					if ps.Editable {
						out = append(out, ps.Value)
					}
				}
			}
		}
		return true
	})
	return out
}

// editStrings maps every String of s (descriptor type strings excepted),
// each string node once, however many references it has.
func editStrings(s *javaser.Stream, mp *Mapper, source string) []Edit {
	var edits []Edit
	seen := map[*javaser.String]bool{}
	javaser.Walk(s, func(p javaser.Path, n javaser.Node) bool {
		if _, ok := n.(*javaser.ClassDesc); ok {
			return false
		}
		str, ok := n.(*javaser.String)
		if !ok || seen[str] {
			return true
		}
		seen[str] = true
		old := str.Value()
		if nv, k := mp.Map(old); k > 0 {
			str.SetValue(nv)
			edits = append(edits, Edit{Location: p.String(), Before: old, After: nv, Source: source})
		}
		return true
	})
	return edits
}

// transformPickle returns the pickle of a PySpark TransformFunction object
// and its block-data run, or nil if o is not one.
func transformPickle(o *javaser.Object) (*pickle.Pickle, *javaser.BlockData, []byte) {
	if o.ClassName() != "org.apache.spark.streaming.api.python.TransformFunction" {
		return nil, nil, nil
	}
	bd := dstream.TransformFunctionData(o)
	if bd == nil || len(bd.Data) < 4 {
		return nil, nil, nil
	}
	n := int(int32(binary.BigEndian.Uint32(bd.Data)))
	if n < 0 || 4+n > len(bd.Data) {
		return nil, nil, nil
	}
	p, err := pickle.Parse(bd.Data[4 : 4+n])
	if err != nil {
		return nil, nil, nil
	}
	return p, bd, bd.Data[4+n:]
}

// editPickles maps the strings of every pickled PySpark function: the
// string opcode and its length, any FRAME length, the i32 length Spark
// writes before the pickle, and the block-data records around it (spec §4.6).
func editPickles(s *javaser.Stream, mp *Mapper, cache pickleCache) ([]Edit, error) {
	var edits []Edit
	var err error
	javaser.Walk(s, func(path javaser.Path, n javaser.Node) bool {
		o, ok := n.(*javaser.Object)
		if !ok || err != nil {
			return err == nil
		}
		pp := cache.get(o)
		if pp == nil {
			return true
		}
		pk, bd, trailing := pp.pk, pp.bd, pp.trailing
		var local []Edit
		for _, ps := range pk.Strings() {
			if !ps.Editable {
				continue
			}
			if nv, k := mp.Map(ps.Value); k > 0 {
				if err = pk.SetString(ps.Op, nv); err != nil {
					return false
				}
				local = append(local, Edit{Location: fmt.Sprintf("%s{pickle@%d %s}", path, ps.Off, ps.Opcode), Before: ps.Value, After: nv, Source: "pickle"})
			}
		}
		if len(local) == 0 {
			return true
		}
		np := pk.Encode()
		data := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(np)+len(trailing)), uint32(len(np)))
		data = append(append(data, np...), trailing...)
		bd.SetData(data)
		edits = append(edits, local...)
		return true
	})
	return edits, err
}

// findUnhandled reports mapped prefixes still present in b after editing:
// places the rewrite does not model (Hadoop Text in block data, bytes in
// a pickle, ...). A plan with any is refused unless forced.
func findUnhandled(b []byte, mp *Mapper) []Unhandled {
	var out []Unhandled
	for _, off := range mp.FindRaw(b) {
		lo, hi := max(0, off-16), min(len(b), off+48)
		out = append(out, Unhandled{Offset: int64(off), Context: printable(b[lo:hi])})
	}
	return out
}

func printable(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c < 0x20 || c > 0x7E {
			c = '.'
		}
		out[i] = c
	}
	return string(out)
}

// transformLog rewrites a driver write-ahead log (receivedBlockMetadata):
// every string of every event, nested byte[][] streams re-encoded, the
// inner array lengths and the record lengths updated (spec §6.3), a torn
// tail copied verbatim. Receiver data logs are application data and are
// not rewritten.
//
// Records are uncompressed Java streams, where a string is its modified
// UTF-8 bytes in one piece, so a record whose bytes hold no mapped prefix
// holds no string to edit: it is copied without decoding.
func transformLog(in []byte, mp *Mapper) (*result, error) {
	res := &result{}
	var out []byte
	rd := wal.NewReader(bytes.NewReader(in))
	type changed struct {
		index  int
		before []string
		events int
	}
	var changes []changed
	for i := 0; rd.Next(); i++ {
		payload := rd.Record()
		if len(mp.FindRaw(payload)) == 0 {
			out = wal.AppendRecord(out, payload)
			continue
		}
		payload = bytes.Clone(payload)
		rec, err := wal.DecodeRecord(payload)
		if err != nil {
			return nil, withOffset(err, rd.Offset()+4)
		}
		var before []string
		var edits []Edit
		for k := range rec.Events {
			ev := &rec.Events[k]
			before = append(before, stringValues(ev.Syntax)...)
			for _, e := range editStrings(ev.Syntax, mp, "wal") {
				e.Location = fmt.Sprintf("record@%d event[%d] %s", rd.Offset(), k, e.Location)
				edits = append(edits, e)
			}
		}
		if len(edits) == 0 {
			out = wal.AppendRecord(out, payload)
			continue
		}
		np, err := rec.Encode()
		if err != nil {
			return nil, err
		}
		res.edits = append(res.edits, edits...)
		changes = append(changes, changed{i, before, len(rec.Events)})
		out = wal.AppendRecord(out, np)
	}
	if err := rd.Err(); err != nil {
		return nil, err
	}
	if t := rd.Tail(); t != nil {
		out = append(out, t.Bytes...)
	}
	res.unhandled = findUnhandled(out, mp)
	if len(res.edits) == 0 {
		return res, nil
	}
	// Verify: the new log frames the same records and the same tail, and
	// every changed record decodes with its events and the mapped strings.
	vr := wal.NewReader(bytes.NewReader(out))
	n, c := 0, 0
	for ; vr.Next(); n++ {
		if c >= len(changes) || changes[c].index != n {
			continue
		}
		rec, err := wal.DecodeRecord(bytes.Clone(vr.Record()))
		if err != nil {
			return nil, fmt.Errorf("verify: record %d: %w", n, err)
		}
		if len(rec.Events) != changes[c].events {
			return nil, fmt.Errorf("verify: record %d has a different number of events", n)
		}
		var after []string
		for _, ev := range rec.Events {
			after = append(after, stringValues(ev.Syntax)...)
		}
		if err := sameStrings(changes[c].before, after, mp); err != nil {
			return nil, fmt.Errorf("verify: record %d: %w", n, err)
		}
		c++
	}
	if vr.Err() != nil || c != len(changes) {
		return nil, fmt.Errorf("verify: the new log does not read back record for record (%v)", vr.Err())
	}
	if t, ot := vr.Tail(), rd.Tail(); (t == nil) != (ot == nil) || t != nil && !bytes.Equal(t.Bytes, ot.Bytes) {
		return nil, fmt.Errorf("verify: the torn tail was not kept")
	}
	res.out = out
	return res, nil
}

func withOffset(err error, base int64) error {
	if de, ok := err.(*decode.Error); ok {
		de.Offset += base
	}
	return err
}
