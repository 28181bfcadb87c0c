// Package dstream is the semantic view of a Spark Streaming (DStream)
// metadata checkpoint: the org.apache.spark.streaming.Checkpoint object
// written to checkpoint-<ms> files (spec dstream-format.md §4), with the
// DStream graph, checkpoint data, Python functions and every cluster-specific
// value (§5).
//
// The model reads fields by name from the javaser tree, never by offset or
// SUID, so it follows Spark 1.x–4.x and Scala 2.10–2.13 (mangled private
// names, different collection classes). Every typed value keeps a pointer
// to its syntax node (as golang.org/x/mod/modfile does), so the rewrite
// layer edits through the model and re-encodes the syntax. Classes the
// model does not know are left to the generic tree; they are never an error.
package dstream

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/codec"
	"github.com/sparkckpt/sparkckpt/decode/javaser"
	"github.com/sparkckpt/sparkckpt/decode/jcoll"
)

// CheckpointClass is the class every checkpoint file holds.
const CheckpointClass = "org.apache.spark.streaming.Checkpoint"

// File is a decoded checkpoint file.
type File struct {
	Codec      codec.Kind
	Params     codec.Params
	Stream     *javaser.Stream // the syntax
	Checkpoint *Checkpoint
	Size       int64 // compressed size
	Raw        int   // decompressed size
}

// Read decompresses, parses and models one checkpoint file. The codec is
// detected from the magic bytes unless force is not nil, in which case
// only that codec is accepted (what Spark does, spec §1.3).
func Read(b []byte, force *codec.Kind) (*File, error) { return ReadLimits(b, force, decode.Limits{}) }

// ReadLimits is Read with limits: the file may decompress to at most
// lim.MaxDecompressed bytes, and the parser keeps to lim.
func ReadLimits(b []byte, force *codec.Kind, lim decode.Limits) (*File, error) {
	data, kind, params, err := codec.DecompressLimits(b, force, lim)
	if err != nil {
		return nil, err
	}
	s, err := javaser.Options{Limits: lim}.Parse(data)
	if err != nil {
		return nil, err
	}
	cp, err := Decode(s)
	if err != nil {
		return nil, err
	}
	return &File{Codec: kind, Params: params, Stream: s, Checkpoint: cp, Size: int64(len(b)), Raw: len(data)}, nil
}

// ErrNotCheckpoint means the stream is valid Java serialization but does not hold a Checkpoint.
var ErrNotCheckpoint = errors.New("not an org.apache.spark.streaming.Checkpoint")

// ConfPair is one entry of Checkpoint.sparkConfPairs.
type ConfPair struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	// KeyNode and ValueNode are the syntax (a *javaser.String or a *javaser.Ref to one).
	KeyNode   javaser.Node `json:"-"`
	ValueNode javaser.Node `json:"-"`
}

// Checkpoint is org.apache.spark.streaming.Checkpoint (spec §4.1).
type Checkpoint struct {
	Master             string     `json:"master"`
	AppName            string     `json:"appName"` // the "framework" field: sc.appName
	Jars               []string   `json:"jars"`
	CheckpointDir      string     `json:"checkpointDir"`
	CheckpointTimeMs   int64      `json:"checkpointTimeMs"`
	CheckpointDuration *int64     `json:"checkpointDurationMs"`
	BatchDurationMs    int64      `json:"batchDurationMs"`
	PendingTimesMs     []int64    `json:"pendingTimesMs"`
	DelaySeconds       *int64     `json:"delaySeconds,omitempty"` // Spark 1.x only
	Conf               []ConfPair `json:"conf"`
	Graph              Graph      `json:"graph"`

	// ScalaVersionHint and SparkVersionHint say which versions wrote the
	// file, with the evidence in parentheses; "" when nothing tells.
	ScalaVersionHint string `json:"scalaVersionHint"`
	SparkVersionHint string `json:"sparkVersionHint"`

	Syntax *javaser.Object `json:"-"`
}

// Decode builds the model from a parsed stream. It fails only if the
// stream does not hold a Checkpoint or lacks what Spark's own validate()
// requires (master, framework, graph, checkpointTime); anything else it
// does not recognise is left out of the model.
func Decode(s *javaser.Stream) (*Checkpoint, error) { return DecodeOptions{}.Decode(s) }

// DecodeModel is Decode without the version hints, which cost two more
// passes over the tree.
func DecodeModel(s *javaser.Stream) (*Checkpoint, error) {
	return DecodeOptions{SkipHints: true}.Decode(s)
}

// DecodeOptions leave out parts of the model a caller does not need.
type DecodeOptions struct {
	// SkipHints leaves ScalaVersionHint and SparkVersionHint empty.
	SkipHints bool
	// SkipPython leaves pickled Python functions unparsed: their
	// PythonFunction has Object set and nothing else.
	SkipPython bool
}

// Decode builds the model as the package-level Decode does, less what o skips.
func (o DecodeOptions) Decode(s *javaser.Stream) (*Checkpoint, error) {
	cp, err := o.decode(s)
	if err != nil || o.SkipHints {
		return cp, err
	}
	cp.ScalaVersionHint = scalaHint(s)
	cp.SparkVersionHint = sparkHint(cp, s)
	return cp, nil
}

func (opt DecodeOptions) decode(s *javaser.Stream) (*Checkpoint, error) {
	if len(s.Contents) == 0 {
		return nil, &decode.Error{Format: "dstream", Offset: 4, Err: fmt.Errorf("%w: empty stream: %w", decode.ErrCorrupt, ErrNotCheckpoint)}
	}
	o, ok := s.Contents[0].(*javaser.Object)
	if !ok || o.ClassName() != CheckpointClass {
		got := javaser.KindOf(s.Contents[0])
		if ok {
			got = o.ClassName()
		}
		return nil, &decode.Error{Format: "dstream", Offset: s.Contents[0].Offset(), Err: fmt.Errorf("%w: first object is %s: %w", decode.ErrUnsupported, got, ErrNotCheckpoint)}
	}
	cp := &Checkpoint{Syntax: o, Jars: []string{}, PendingTimesMs: []int64{}, Conf: []ConfPair{}}
	missing := func(name string) error {
		return &decode.Error{Format: "dstream", Offset: o.Off, Path: "Checkpoint." + name,
			Err: fmt.Errorf("%w: Checkpoint.%s is missing or null (Spark's validate() rejects this file)", decode.ErrCorrupt, name)}
	}
	var err error
	if cp.Master, err = stringField(o, "master"); err != nil {
		return nil, missing("master")
	}
	if cp.AppName, err = stringField(o, "framework"); err != nil {
		return nil, missing("framework")
	}
	cp.CheckpointDir, _ = stringField(o, "checkpointDir")
	if t, ok := timeMs(field(o, "checkpointTime")); ok {
		cp.CheckpointTimeMs = t
	} else {
		return nil, missing("checkpointTime")
	}
	if d, ok := timeMs(field(o, "checkpointDuration")); ok {
		cp.CheckpointDuration = &d
	}
	if v, ok := o.Field("delaySeconds"); ok && v.IsPrimitive() {
		d := v.Int()
		cp.DelaySeconds = &d
	}
	if jars, ok := jcoll.Seq(field(o, "jars")); ok {
		for _, j := range jars {
			if s, ok := jcoll.String(j); ok {
				cp.Jars = append(cp.Jars, s)
			}
		}
	}
	if pts, ok := jcoll.Seq(field(o, "pendingTimes")); ok {
		for _, p := range pts {
			if t, ok := timeMs(p); ok {
				cp.PendingTimesMs = append(cp.PendingTimesMs, t)
			}
		}
	}
	if pairs, ok := jcoll.Seq(field(o, "sparkConfPairs")); ok {
		for _, p := range pairs {
			if t, ok := jcoll.Tuple(p); ok && len(t) == 2 {
				k, _ := jcoll.String(t[0])
				v, _ := jcoll.String(t[1])
				cp.Conf = append(cp.Conf, ConfPair{Key: k, Value: v, KeyNode: t[0], ValueNode: t[1]})
			}
		}
	}
	g := object(field(o, "graph"))
	if g == nil {
		return nil, missing("graph")
	}
	cp.Graph = decodeGraph(g, opt.SkipPython)
	cp.BatchDurationMs = cp.Graph.BatchDurationMs
	return cp, nil
}

// ConfValue returns the value of a Spark conf key, and whether it is set.
func (cp *Checkpoint) ConfValue(key string) (string, bool) {
	for _, p := range cp.Conf {
		if p.Key == key {
			return p.Value, true
		}
	}
	return "", false
}

// SortedConf returns the conf pairs sorted by key.
func (cp *Checkpoint) SortedConf() []ConfPair {
	out := append([]ConfPair(nil), cp.Conf...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Secret reports whether a conf key holds a secret that output should mask
// unless asked (*password*, *secret*, *token*, credentials, keys).
func Secret(key string) bool {
	k := strings.ToLower(key)
	for _, w := range []string{"password", "secret", "token", "credential", "access.key", "accesskey", "sasl.jaas", "keystore", "truststore.pass"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

func object(n javaser.Node) *javaser.Object {
	o, _ := javaser.Resolve(n).(*javaser.Object)
	return o
}

// field returns the object value of a field, matching Scala-mangled names
// ("...$$name") too.
func field(o *javaser.Object, name string) javaser.Node {
	if o == nil {
		return nil
	}
	v, ok := jcoll.FieldSuffix(o, name)
	if !ok {
		return nil
	}
	return v.Obj
}

func stringField(o *javaser.Object, name string) (string, error) {
	s, ok := jcoll.String(field(o, name))
	if !ok {
		return "", ErrNotCheckpoint
	}
	return s, nil
}

// timeMs reads a Spark Time or Duration (one long field, "millis" mangled
// by Scala version: spec §3.4).
func timeMs(n javaser.Node) (int64, bool) {
	o := object(n)
	if o == nil {
		return 0, false
	}
	v, ok := jcoll.FieldSuffix(o, "millis")
	if !ok || !v.IsPrimitive() {
		return 0, false
	}
	return int64(v.Bits), true
}

// Demangle strips Scala's private-name mangling: "org$apache$...$$fm" → "fm".
func Demangle(name string) string {
	if i := strings.LastIndex(name, "$$"); i >= 0 && i+2 < len(name) {
		return name[i+2:]
	}
	return name
}
