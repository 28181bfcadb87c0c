package tui

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/sparkckpt/sparkckpt/decode/dstream"
	"github.com/sparkckpt/sparkckpt/decode/javaser"
	"github.com/sparkckpt/sparkckpt/decode/wal"
)

// maxTextLines bounds the lines of a text file shown as rows.
const maxTextLines = 5000

// section starts a top-level group of rows.
func section(title string, open bool) *onode {
	return &onode{val: title, vkind: vSection, open: open, off: -1, end: -1}
}

// kv is a typed-summary row. link, if set, is the syntax node it was read from.
func kv(key, val string, kind valKind, link javaser.Node, base int64) *onode {
	r := &onode{key: key, val: val, vkind: kind, off: -1, end: -1, link: link, linkBase: base}
	if link != nil {
		r.spanFn = func() (int64, int64) { return nodeSpan(link, base) }
	}
	return r
}

// buildDocTree builds the detail pane's rows for a decoded file: the typed
// summary first, then the object tree.
func buildDocTree(d *doc, showSecrets bool) *otree {
	var roots []*onode
	var obj *onode
	if d.err != nil {
		e := section("✗ does not decode", true)
		er := e.addKid(kv("error", d.err.Error(), vError, nil, 0))
		if d.errOff >= 0 {
			off := d.errOff
			er.note = fmt.Sprintf("at offset %d (%#x) of the %s; x shows it", off, off, d.dataName())
			er.off, er.end, er.spanDone = off, off+1, true
		}
		roots = append(roots, e)
	}
	c := &jctx{}
	switch d.kind {
	case docCheckpoint:
		if d.file != nil {
			c = checkpointCtx(d.file, showSecrets)
			roots = append(roots, checkpointSummary(d, c))
		} else if d.codec != "" {
			s := section("Checkpoint (DStream)", true)
			s.addKid(kv("codec", codecLine(d), vPlain, nil, 0))
			roots = append(roots, s)
		}
		if d.java != nil {
			obj = javaSection(c, d.java)
		}
	case docJava:
		if d.ssOff != nil { // Spark 2.0's Java-serialized offsets
			roots = append(roots, structuredSummary(d))
		}
		roots = append(roots, javaSummary(d))
		if d.java != nil {
			obj = javaSection(c, d.java)
		}
	case docDriverLog:
		s, recs := driverLogTree(d)
		roots = append(roots, s)
		obj = recs
	case docDataLog:
		s, recs := dataLogTree(d)
		roots = append(roots, s)
		obj = recs
	case docCRC:
		roots = append(roots, crcSummary(d))
	case docText:
		if d.ss != "" {
			roots = append(roots, structuredSummary(d))
		}
		obj = textSection(d)
	default:
		s := section("Bytes", true)
		s.addKid(kv("size", fmt.Sprintf("%d bytes, not a format sparkckpt decodes; x shows them", len(d.data)), vDim, nil, 0))
		roots = append(roots, s)
	}
	if obj != nil {
		roots = append(roots, obj)
	}
	return newOtree(roots, obj)
}

func (d *doc) dataName() string {
	if d.stream {
		return "decompressed stream"
	}
	return "file"
}

func codecLine(d *doc) string {
	s := d.codec
	if d.block > 0 {
		s += fmt.Sprintf(", %d-byte blocks", d.block)
	}
	if d.stream {
		s += fmt.Sprintf(": %d → %d bytes", d.size, len(d.data))
	}
	return s
}

// checkpointCtx finds what the object tree marks: secret conf values and
// pickled Python functions.
func checkpointCtx(f *dstream.File, showSecrets bool) *jctx {
	c := &jctx{masked: map[*javaser.String]bool{}, pyfn: map[*javaser.BlockData]*dstream.PythonFunction{}}
	if !showSecrets {
		for _, p := range f.Checkpoint.Conf {
			if dstream.Secret(p.Key) {
				if s := javaser.ResolveString(p.ValueNode); s != nil {
					c.masked[s] = true
				}
			}
		}
	}
	for _, st := range f.Checkpoint.Graph.Streams {
		for _, fn := range st.Functions {
			if fn.Python != nil && fn.Python.Object != nil {
				if bd := dstream.TransformFunctionData(fn.Python.Object); bd != nil {
					c.pyfn[bd] = fn.Python
				}
			}
		}
	}
	return c
}

func field(o *javaser.Object, name string) javaser.Node {
	if o == nil {
		return nil
	}
	if v, ok := o.Field(name); ok {
		return v.Obj
	}
	return nil
}

func checkpointSummary(d *doc, c *jctx) *onode {
	cp := d.file.Checkpoint
	s := section("Checkpoint (DStream)", true)
	s.addKid(kv("codec", codecLine(d), vPlain, nil, 0))
	s.addKid(kv("app", cp.AppName, vText, field(cp.Syntax, "framework"), 0))
	s.addKid(kv("master", cp.Master, vText, field(cp.Syntax, "master"), 0))
	s.addKid(kv("checkpointDir", cp.CheckpointDir, vText, field(cp.Syntax, "checkpointDir"), 0))
	s.addKid(kv("time", fmtMs(cp.CheckpointTimeMs), vPlain, field(cp.Syntax, "checkpointTime"), 0))
	s.addKid(kv("batch", fmtDur(cp.BatchDurationMs), vPlain, nil, 0))
	if cp.CheckpointDuration != nil {
		s.addKid(kv("interval", fmtDur(*cp.CheckpointDuration), vPlain, field(cp.Syntax, "checkpointDuration"), 0))
	}
	pend := s.addKid(kv("pending", pendingLine(cp.PendingTimesMs), vPlain, field(cp.Syntax, "pendingTimes"), 0))
	for _, t := range cp.PendingTimesMs {
		pend.addKid(kv("", fmtMs(t), vPlain, nil, 0))
	}
	if cp.DelaySeconds != nil {
		s.addKid(kv("delay", fmt.Sprintf("%ds", *cp.DelaySeconds), vPlain, nil, 0))
	}
	var hints []string
	if cp.SparkVersionHint != "" {
		hints = append(hints, "Spark "+cp.SparkVersionHint)
	}
	if cp.ScalaVersionHint != "" {
		hints = append(hints, "Scala "+cp.ScalaVersionHint)
	}
	if len(hints) > 0 {
		s.addKid(kv("written by", strings.Join(hints, "; "), vPlain, nil, 0))
	}
	if len(cp.Jars) > 0 {
		jars := s.addKid(kv("jars", fmt.Sprintf("%d", len(cp.Jars)), vPlain, field(cp.Syntax, "jars"), 0))
		var elems []javaser.Node
		if a, ok := javaser.Resolve(field(cp.Syntax, "jars")).(*javaser.Array); ok {
			elems = a.Elems
		}
		for i, j := range cp.Jars {
			var link javaser.Node
			if i < len(elems) {
				link = elems[i]
			}
			jars.addKid(kv(fmt.Sprintf("[%d]", i), j, vText, link, 0))
		}
	}
	g := &cp.Graph
	graph := s.addKid(kv("graph", fmt.Sprintf("%d streams: %d output, %d input", len(g.Streams), len(g.Outputs), len(g.Inputs)), vPlain, field(cp.Syntax, "graph"), 0))
	graph.open = true
	for _, st := range g.Streams {
		st := st
		r := graph.addKid(kv(fmt.Sprintf("#%d", st.ID), streamLine(st), vText, st.Syntax, 0))
		r.build = func() []*onode { return streamKids(st) }
	}
	conf := s.addKid(kv("conf", fmt.Sprintf("%d keys", len(cp.Conf)), vPlain, field(cp.Syntax, "sparkConfPairs"), 0))
	for _, p := range cp.SortedConf() {
		val, kind := p.Value, vText
		if s := javaser.ResolveString(p.ValueNode); s != nil && c.masked[s] {
			val, kind = "********", vDim
		}
		r := conf.addKid(kv(p.Key, val, kind, p.ValueNode, 0))
		r.copyVal = val
	}
	return s
}

func pendingLine(ts []int64) string {
	if len(ts) == 0 {
		return "none"
	}
	s := append([]int64(nil), ts...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s) == 1 {
		return "1 batch: " + fmtMs(s[0])
	}
	return fmt.Sprintf("%d batches, %d to %d", len(s), s[0], s[len(s)-1])
}

func streamLine(s *dstream.Stream) string {
	line := fmt.Sprintf("%s %s", simpleName(s.Class), strconv.Quote(s.Name))
	if s.Role != "intermediate" {
		line += " [" + s.Role + "]"
	}
	return line
}

func streamKids(s *dstream.Stream) []*onode {
	var out []*onode
	var t []string
	if s.SlideMs != nil {
		t = append(t, "slide "+fmtDur(*s.SlideMs))
	}
	if s.RememberMs != nil {
		t = append(t, "remember "+fmtDur(*s.RememberMs))
	}
	if s.CheckpointIntervalMs != nil {
		t = append(t, "checkpoint every "+fmtDur(*s.CheckpointIntervalMs))
	}
	if s.MustCheckpoint {
		t = append(t, "must checkpoint")
	}
	if s.StorageLevel != "" && s.StorageLevel != "NONE" {
		t = append(t, s.StorageLevel)
	}
	out = append(out, kv("class", s.Class, vType, nil, 0))
	if len(t) > 0 {
		out = append(out, kv("timing", strings.Join(t, ", "), vPlain, nil, 0))
	}
	if len(s.Parents) > 0 {
		var ps []string
		for _, p := range s.Parents {
			ps = append(ps, fmt.Sprintf("#%d", p))
		}
		out = append(out, kv("parents", strings.Join(ps, ", "), vPlain, nil, 0))
	}
	if s.CreationSite != "" {
		out = append(out, kv("created at", s.CreationSite, vPlain, nil, 0))
	}
	for _, a := range s.Attrs {
		out = append(out, kv(a.Name, a.Value, vText, a.Node, 0))
	}
	for _, f := range s.Functions {
		v := f.Class
		if f.Impl != "" {
			v = f.Impl
		}
		r := kv(f.Field, v, vType, nil, 0)
		if py := f.Python; py != nil {
			r.note = fmt.Sprintf("Python, pickle protocol %d, %d bytes, %d strings", py.PickleProtocol, py.PickleBytes, len(py.Strings))
			if bd := dstream.TransformFunctionData(py.Object); bd != nil {
				r.link = bd
				r.spanFn = func() (int64, int64) { return nodeSpan(bd, 0) }
				r.build = func() []*onode { return pickleKids(bd, py, "") }
			}
		}
		out = append(out, r)
	}
	if d := s.CheckpointData; d != nil && len(d.Entries) > 0 {
		cd := kv("checkpoint data", fmt.Sprintf("%d batch times (%s)", len(d.Entries), simpleName(d.Class)), vPlain, nil, 0)
		for _, e := range d.Entries {
			var link javaser.Node
			if len(e.Nodes) == 1 {
				link = e.Nodes[0]
			}
			r := cd.addKid(kv(strconv.FormatInt(e.TimeMs, 10), strings.Join(e.Values, ", "), vText, link, 0))
			r.note = e.Kind
			if len(e.Values) > 1 {
				for i, v := range e.Values {
					var l javaser.Node
					if i < len(e.Nodes) {
						l = e.Nodes[i]
					}
					r.addKid(kv(fmt.Sprintf("[%d]", i), v, vText, l, 0))
				}
			}
		}
		out = append(out, cd)
	}
	return out
}

// javaSection is the object tree of a stream.
func javaSection(c *jctx, s *javaser.Stream) *onode {
	obj := section("Object tree", true)
	obj.build = func() []*onode { return contents(c, s, 0) }
	return obj
}

func contents(c *jctx, s *javaser.Stream, base int64) []*onode {
	var out []*onode
	for i, n := range s.Contents {
		r := c.jnode(fmt.Sprintf("#%d", i), n, javaser.Path{{Kind: javaser.PathRoot, Index: i, Name: rootName(n)}}, base)
		if len(s.Contents) <= 3 {
			r.open = r.expandable()
		}
		out = append(out, r)
	}
	return out
}

func rootName(n javaser.Node) string {
	switch n := n.(type) {
	case *javaser.Object:
		return simpleName(n.ClassName())
	case *javaser.Array:
		return simpleName(descName(n.Class))
	}
	return javaser.KindOf(n)
}

func javaSummary(d *doc) *onode {
	s := section("Java serialization stream", true)
	if d.codec != "" {
		s.addKid(kv("codec", codecLine(d), vPlain, nil, 0))
	}
	if d.java == nil {
		return s
	}
	classes := map[string]int{}
	resets := 0
	for _, n := range d.java.Contents {
		switch n := n.(type) {
		case *javaser.Object:
			classes[n.ClassName()]++
		case *javaser.Reset:
			resets++
		default:
			classes[javaser.KindOf(n)]++
		}
	}
	var names []string
	for k := range classes {
		names = append(names, k)
	}
	sort.Strings(names)
	var parts []string
	for _, k := range names {
		parts = append(parts, fmt.Sprintf("%d %s", classes[k], k))
	}
	s.addKid(kv("contents", fmt.Sprintf("%d top-level (%s)", len(d.java.Contents)-resets, strings.Join(parts, ", ")), vPlain, nil, 0))
	if resets > 0 {
		s.addKid(kv("resets", strconv.Itoa(resets), vPlain, nil, 0))
	}
	return s
}

// eventLine describes a write-ahead-log event in one line.
func eventLine(e wal.Event) string {
	var s string
	switch {
	case e.BlockAddition != nil:
		b := e.BlockAddition
		s = fmt.Sprintf("BlockAdditionEvent stream %d %s", b.StreamID, b.BlockID)
		if b.NumRecords != nil {
			s += fmt.Sprintf(", %d records", *b.NumRecords)
		}
		if b.Segment != nil {
			s += fmt.Sprintf(" → %s @%d+%d", b.Segment.Path, b.Segment.Offset, b.Segment.Length)
		} else {
			s += " (" + b.StoreResult + ")"
		}
	case e.Allocation != nil:
		a := e.Allocation
		var parts []string
		for _, id := range a.StreamIDs {
			parts = append(parts, fmt.Sprintf("stream %d: %d blocks", id, len(a.Blocks[id])))
		}
		s = fmt.Sprintf("BatchAllocationEvent batch %d (%s)", a.BatchTimeMs, strings.Join(parts, ", "))
	case e.Cleanup != nil:
		var ts []string
		for _, t := range e.Cleanup.TimesMs {
			ts = append(ts, strconv.FormatInt(t, 10))
		}
		s = "BatchCleanupEvent " + strings.Join(ts, ", ")
	default:
		s = e.Type
	}
	if e.Err != nil {
		s += "  ✗ " + e.Err.Error()
	}
	return s
}

func driverLogTree(d *doc) (*onode, *onode) {
	s := section("Write-ahead log (driver: ReceivedBlockTracker events)", true)
	recs := section("Records", true)
	if d.log == nil {
		return s, recs
	}
	counts := map[string]int{}
	batched := 0
	for _, r := range d.log.Records {
		if r.Batched {
			batched++
		}
		for _, e := range r.Events {
			counts[e.Type]++
		}
	}
	var types []string
	for k := range counts {
		types = append(types, k)
	}
	sort.Strings(types)
	var parts []string
	for _, k := range types {
		parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
	}
	s.addKid(kv("records", fmt.Sprintf("%d (%d batched)", len(d.log.Records), batched), vPlain, nil, 0))
	s.addKid(kv("events", strings.Join(parts, ", "), vPlain, nil, 0))
	addTail(s, d)
	for i, rec := range d.log.Records {
		rec := rec
		kind := "unbatched"
		if rec.Batched {
			kind = "batched"
		}
		val := fmt.Sprintf("%d bytes, %s, %s", rec.Length, kind, plural(len(rec.Events), "event"))
		if len(rec.Events) == 1 {
			val = fmt.Sprintf("%d bytes: %s", rec.Length, eventLine(rec.Events[0]))
		}
		r := recs.addKid(&onode{key: fmt.Sprintf("@%d", rec.Offset), val: val, vkind: vText,
			off: rec.Offset, end: rec.Offset + 4 + int64(rec.Length), spanDone: true, path: fmt.Sprintf("record@%d", rec.Offset)})
		r.open = i == 0 && len(d.log.Records) <= 20
		r.build = func() []*onode {
			var out []*onode
			for j, e := range rec.Events {
				base := rec.Offset + 4 + e.DataOffset
				n := int64(rec.Length)
				if e.Array != nil {
					n = int64(len(e.Array.Prims))
				}
				er := &onode{key: fmt.Sprintf("event[%d]", j), val: eventLine(e), vkind: vText, off: base, end: base + n, spanDone: true,
					path: fmt.Sprintf("record@%d event[%d]", rec.Offset, j)}
				if e.Syntax != nil {
					c := &jctx{prefix: fmt.Sprintf("record@%d event[%d]: ", rec.Offset, j)}
					syn := e.Syntax
					er.build = func() []*onode { return contents(c, syn, base) }
				}
				out = append(out, er)
			}
			return out
		}
	}
	return s, recs
}

func addTail(s *onode, d *doc) {
	if t := d.tail; t != nil {
		what := "the file ends inside a length prefix"
		if t.Length >= 0 {
			what = fmt.Sprintf("declares %d bytes, %d present", t.Length, len(t.Bytes)-4)
		}
		r := s.addKid(kv("torn tail", fmt.Sprintf("@%d: %s (Spark ignores it)", t.Offset, what), vWarn, nil, 0))
		r.off, r.end, r.spanDone = t.Offset, t.Offset+int64(len(t.Bytes)), true
	}
}

func dataLogTree(d *doc) (*onode, *onode) {
	s := section("Write-ahead log (receiver data)", true)
	recs := section("Records", true)
	s.addKid(kv("records", strconv.Itoa(len(d.recs)), vPlain, nil, 0))
	addTail(s, d)
	for _, r := range d.recs {
		v := fmt.Sprintf("%d bytes, %s", r.Length, r.Format)
		if r.Format == wal.DataJava {
			v += fmt.Sprintf(", %s, %d resets", plural(r.Elements, "element"), r.Resets)
			if len(r.Classes) > 0 {
				v += ": " + strings.Join(r.Classes, ", ")
			}
		}
		recs.addKid(&onode{key: fmt.Sprintf("@%d", r.Offset), val: v, vkind: vText, off: r.Offset, end: r.Offset + 4 + int64(r.Length), spanDone: true,
			path: fmt.Sprintf("record@%d", r.Offset)})
	}
	return s, recs
}

func crcSummary(d *doc) *onode {
	s := section("Hadoop checksum sidecar", true)
	if d.sidecar == nil {
		return s
	}
	s.addKid(kv("checks", d.crcOf, vText, nil, 0))
	s.addKid(kv("chunks", fmt.Sprintf("%d CRC32 sums of %d bytes each", len(d.sidecar.Sums), d.sidecar.BytesPerChecksum), vPlain, nil, 0))
	if d.crcErr != nil {
		s.addKid(kv("verify", "✗ "+d.crcErr.Error()+" (Hadoop throws ChecksumException)", vError, nil, 0))
	} else if !strings.HasSuffix(d.crcOf, "(missing)") {
		s.addKid(kv("verify", "matches", vPlain, nil, 0))
	}
	return s
}

func textSection(d *doc) *onode {
	s := section(fmt.Sprintf("Text (%d bytes)", len(d.data)), true)
	off := 0
	for i := 0; off < len(d.data); i++ {
		if i == maxTextLines {
			s.addKid(kv("…", "more lines not shown; x shows the bytes", vDim, nil, 0))
			break
		}
		n := bytes.IndexByte(d.data[off:], '\n')
		end := len(d.data)
		if n >= 0 {
			end = off + n
		}
		line := string(bytes.TrimSuffix(d.data[off:end], []byte("\r")))
		s.addKid(&onode{key: strconv.Itoa(i + 1), val: line, vkind: vText, off: int64(off), end: int64(max(end, off+1)), spanDone: true,
			path: fmt.Sprintf("line %d", i+1)})
		off = end + 1
	}
	return s
}

// structuredSummary is the typed summary of a Structured Streaming file,
// as decode/structured reads it.
func structuredSummary(d *doc) *onode {
	s := section("Structured Streaming: "+d.ss, true)
	switch {
	case d.ssID != "":
		s.addKid(kv("query id", d.ssID, vPlain, nil, 0))
	case d.ssOff != nil:
		o := d.ssOff
		s.addKid(kv("version", fmt.Sprintf("%d (%s)", o.Version, o.Format), vPlain, nil, 0))
		if m := o.Metadata; m != nil {
			s.addKid(kv("watermark", fmtMs(m.BatchWatermarkMs), vPlain, nil, 0))
			s.addKid(kv("batch time", fmtMs(m.BatchTimestampMs), vPlain, nil, 0))
			if len(m.Conf) > 0 {
				conf := s.addKid(kv("conf", plural(len(m.Conf), "key"), vPlain, nil, 0))
				for _, c := range m.Conf {
					conf.addKid(kv(c.Key, c.Value, vText, nil, 0))
				}
			}
		}
		srcs := s.addKid(kv("sources", strconv.Itoa(len(o.Sources)), vPlain, nil, 0))
		srcs.open = true
		for _, src := range o.Sources {
			key := fmt.Sprintf("#%d", src.Index)
			if src.ID != "" {
				key += " " + src.ID
			}
			r := srcs.addKid(kv(key, src.Kind+"  "+src.Raw, vText, nil, 0))
			r.off, r.end, r.spanDone = src.Offset, src.Offset+int64(len(src.Raw)), true
			r.copyVal = src.Raw
			for _, k := range src.Kafka {
				r.addKid(kv(fmt.Sprintf("%s-%d", k.Topic, k.Partition), strconv.FormatInt(k.Offset, 10), vPlain, nil, 0))
			}
		}
	case d.ssCommit != nil:
		c := d.ssCommit
		s.addKid(kv("version", strconv.Itoa(c.Version), vPlain, nil, 0))
		s.addKid(kv("next watermark", fmtMs(c.NextBatchWatermarkMs), vPlain, nil, 0))
		if len(c.StateUniqueIDs) > 0 {
			s.addKid(kv("state ids", fmt.Sprintf("%d operators", len(c.StateUniqueIDs)), vPlain, nil, 0))
		}
	case d.ssKafka != nil:
		s.addKid(kv("kind", "Kafka initial offsets", vPlain, nil, 0))
		for _, k := range d.ssKafka.Offsets {
			s.addKid(kv(fmt.Sprintf("%s-%d", k.Topic, k.Partition), strconv.FormatInt(k.Offset, 10), vPlain, nil, 0))
		}
	case d.ssLog != nil:
		l := d.ssLog
		s.addKid(kv("log", fmt.Sprintf("%s v%d, %s", l.Kind, l.Version, plural(len(l.Entries), "entry")), vPlain, nil, 0))
		ents := s.addKid(kv("entries", strconv.Itoa(len(l.Entries)), vPlain, nil, 0))
		ents.open = len(l.Entries) <= 50
		for _, e := range l.Entries {
			r := ents.addKid(kv(fmt.Sprintf("line %d", e.Line), e.Path, vText, nil, 0))
			if e.PathField.End > e.PathField.Start {
				r.off, r.end, r.spanDone = e.PathField.Start, e.PathField.End, true
			}
			if e.Action != "" {
				r.note = e.Action
			}
		}
	}
	return s
}
