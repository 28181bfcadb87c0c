package check

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/wal"
)

// metadataDir is the driver write-ahead log under a checkpoint directory.
const metadataDir = "receivedBlockMetadata"

// walState is what the driver log says.
type walState struct {
	logs    []walLog
	summary *wal.Summary
	// blocks are the received blocks recovery reads: those of batches
	// allocated and not cleaned up, and those never allocated.
	blocks []walBlock
	// memoryOnly counts such blocks stored in executor memory only.
	memoryOnly int
}

type walLog struct {
	name string // relative to the checked tree
	log  *wal.Log
	err  error
}

// walBlock is a received block whose data recovery reads from a receiver log.
type walBlock struct {
	info     wal.ReceivedBlockInfo
	batchMs  int64 // 0: not allocated yet
	file     string
	location string
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// readWAL reads receivedBlockMetadata/ as ReceivedBlockTracker replays it.
func (c *checker) readWAL() {
	if !c.dirs[metadataDir] {
		return
	}
	ents, err := fs.ReadDir(c.fsys, metadataDir)
	if err != nil {
		c.add(Finding{Severity: Error, Code: "wal-unreadable", File: metadataDir,
			Message: fmt.Sprintf("%s cannot be listed (%v): Spark cannot recover the write-ahead log", metadataDir, err)})
		return
	}
	var names []string
	for _, e := range ents {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	st := &walState{}
	z := wal.NewSummarizer()
	for _, lf := range wal.ListLogs(names) {
		name := path.Join(metadataDir, lf.Name)
		b, err := fs.ReadFile(c.fsys, name)
		if err != nil {
			z.Add(lf, errReader{err})
			st.logs = append(st.logs, walLog{name: name, err: err})
			continue
		}
		log, err := wal.ReadLog(bytes.NewReader(b))
		z.Add(lf, bytes.NewReader(b))
		st.logs = append(st.logs, walLog{name: name, log: log, err: err})
	}
	st.summary = z.Summary()
	c.wal = st

	uncleaned := map[int64]bool{}
	for _, t := range st.summary.Uncleaned {
		uncleaned[t] = true
	}
	unallocated := map[string]bool{}
	for _, id := range st.summary.Unallocated {
		unallocated[id] = true
	}
	// The last allocation of a batch time is the one replay keeps.
	alloc := map[int64][]walBlock{}
	var added []walBlock
	for _, l := range st.logs {
		if l.log == nil {
			continue
		}
		for _, rec := range l.log.Records {
			for i, ev := range rec.Events {
				switch {
				case ev.Allocation != nil && uncleaned[ev.Allocation.BatchTimeMs]:
					var bs []walBlock
					for _, id := range ev.Allocation.StreamIDs {
						for j, b := range ev.Allocation.Blocks[id] {
							bs = append(bs, walBlock{info: b, batchMs: ev.Allocation.BatchTimeMs, file: l.name,
								location: fmt.Sprintf("record@%d event[%d].allocatedBlocks[%d][%d].blockStoreResult.walRecordHandle.path", rec.Offset, i, id, j)})
						}
					}
					alloc[ev.Allocation.BatchTimeMs] = bs
				case ev.BlockAddition != nil && unallocated[ev.BlockAddition.BlockID]:
					added = append(added, walBlock{info: *ev.BlockAddition, file: l.name,
						location: fmt.Sprintf("record@%d event[%d].receivedBlockInfo.blockStoreResult.walRecordHandle.path", rec.Offset, i)})
				}
			}
		}
	}
	for _, t := range st.summary.Uncleaned {
		st.blocks = append(st.blocks, alloc[t]...)
	}
	st.blocks = append(st.blocks, added...)
	var segs []string
	for _, b := range st.blocks {
		if b.info.Segment == nil {
			if b.info.StoreResult == "BlockManagerBasedStoreResult" {
				st.memoryOnly++
			}
			continue
		}
		segs = append(segs, b.info.Segment.Path)
		if p, ok := parsePlace(b.info.Segment.Path); ok {
			c.refs = append(c.refs, ref{place: p, role: "wal-segment", file: b.file, location: b.location, sev: Error})
		}
	}
	// Without a readable checkpoint, the receiver logs tell where the
	// checkpoint directory was: <checkpointDir>/receivedData/<id>/log-*.
	if !c.haveBase {
		for _, l := range st.logs {
			if l.log == nil {
				continue
			}
			for _, ev := range l.log.Events() {
				if ev.BlockAddition != nil && ev.BlockAddition.Segment != nil {
					segs = append(segs, ev.BlockAddition.Segment.Path)
				}
			}
		}
		for _, s := range segs {
			if i := strings.Index(s, "/receivedData/"); i > 0 {
				if p, ok := parsePlace(s[:i]); ok {
					c.base, c.haveBase = p, true
					c.rep.CheckpointDir = s[:i]
					break
				}
			}
		}
	}
}

// notHereError marks a segment file that cannot be checked from here.
type notHereError struct{ why string }

func (e *notHereError) Error() string { return "cannot be checked from here: " + e.why }

// checkWAL reports on the driver log and the receiver logs recovery reads.
func (c *checker) checkWAL() {
	st := c.wal
	if st == nil {
		return
	}
	for _, f := range st.summary.Files {
		name := path.Join(metadataDir, f.Name)
		if f.Err != nil {
			sev := Error
			consequence := "Spark's ReceivedBlockTracker fails replaying it and the StreamingContext does not start"
			if errors.Is(f.Err, decode.ErrUnsupported) {
				sev, consequence = Warning, "sparkckpt cannot decode it; Spark may"
			}
			var de *decode.Error
			loc := ""
			if errors.As(f.Err, &de) {
				loc = fmt.Sprintf("offset %d", de.Offset)
			}
			c.add(Finding{Severity: sev, Code: "wal-unreadable", File: name, Location: loc,
				Message: fmt.Sprintf("%s cannot be replayed (%v): %s", name, f.Err, consequence),
				Fix:     fmt.Sprintf("restore %s from a good copy; as a last resort move %s aside (the received blocks it lists are then lost)", name, metadataDir)})
		}
		if f.BadEvents > 0 {
			c.add(Finding{Severity: Warning, Code: "wal-bad-events", File: name,
				Message: fmt.Sprintf("%s: %d event(s) have a shape sparkckpt does not know; their blocks are not checked", name, f.BadEvents)})
		}
		if f.Tail != nil {
			c.add(Finding{Severity: Warning, Code: "wal-torn-tail", File: name, Location: fmt.Sprintf("offset %d", f.Tail.Offset),
				Message: fmt.Sprintf("%s ends with %d byte(s) of a torn record at offset %d (the driver stopped while writing it): Spark ignores them, so that last event is lost", name, len(f.Tail.Bytes), f.Tail.Offset),
				Fix:     "nothing needed"})
		}
	}
	if n := len(st.summary.Uncleaned); n > 0 {
		u := st.summary.Uncleaned
		c.add(Finding{Severity: Info, Code: "wal-uncleaned-batches", File: metadataDir,
			Message: fmt.Sprintf("%d batch(es) allocated and not cleaned up (%s .. %s): recovery replays their block allocations and re-runs the pending ones",
				n, fmtMs(u[0]), fmtMs(u[n-1]))})
	}
	if st.memoryOnly > 0 {
		c.add(Finding{Severity: Info, Code: "memory-only-blocks", File: metadataDir,
			Message: fmt.Sprintf("%d received block(s) of batches allocated and not cleaned up (or not yet allocated) were stored in executor memory only (receiver write-ahead log disabled): a re-run batch that needs them runs without them (Spark logs \"Some blocks could not be recovered\"; their data is lost)", st.memoryOnly),
			Fix:     "set spark.streaming.receiver.writeAheadLog.enable=true to make received data survive a restart"})
	}
	c.checkSegments()
}

// fmtMs renders epoch milliseconds as UTC with the raw value.
func fmtMs(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02 15:04:05 UTC") + fmt.Sprintf(" (%d)", ms)
}

// checkSegments checks the receiver-log records recovery reads.
func (c *checker) checkSegments() {
	st := c.wal
	type segKey struct {
		path   string
		offset int64
		length int32
	}
	where := map[segKey]walBlock{}
	var events []wal.Event
	for i := range st.blocks {
		b := st.blocks[i]
		if b.info.Segment == nil {
			continue
		}
		k := segKey{b.info.Segment.Path, b.info.Segment.Offset, b.info.Segment.Length}
		if _, ok := where[k]; !ok {
			where[k] = b
		}
		info := b.info
		events = append(events, wal.Event{Type: wal.TypeBlockAddition, BlockAddition: &info})
	}
	if len(events) == 0 {
		return
	}
	batches := map[string]int64{}
	for _, b := range st.blocks {
		batches[b.info.BlockID] = b.batchMs
	}
	problems := wal.CheckSegments(events, func(uri string) (io.ReaderAt, int64, error) {
		r := c.resolve(uri)
		if r.fsys == nil {
			return nil, 0, &notHereError{r.why}
		}
		data, err := fs.ReadFile(r.fsys, r.name)
		if err != nil {
			if errors.Is(err, syscall.ENOTDIR) {
				err = fmt.Errorf("%w (%v)", fs.ErrNotExist, err)
			}
			if !r.tree && errors.Is(err, fs.ErrNotExist) {
				return nil, 0, &notHereError{"local path not found on this machine"}
			}
			return nil, 0, err
		}
		return bytes.NewReader(data), int64(len(data)), nil
	})
	type fileGroup struct {
		uri     string
		missing bool
		err     error
		blocks  []string
		batches map[int64]bool
		places  []Place
	}
	var order []string
	groups := map[string]*fileGroup{}
	for _, p := range problems {
		b := where[segKey{p.Segment.Path, p.Segment.Offset, p.Segment.Length}]
		var nh *notHereError
		if errors.As(p.Err, &nh) {
			c.unchecked.add(b.place().key(), "wal-segment", nh.why, Place{File: b.file, Location: b.location, URI: p.Segment.Path})
			continue
		}
		g := groups[p.Segment.Path]
		if g == nil {
			g = &fileGroup{uri: p.Segment.Path, missing: errors.Is(p.Err, fs.ErrNotExist), err: p.Err, batches: map[int64]bool{}}
			groups[p.Segment.Path] = g
			order = append(order, p.Segment.Path)
		}
		g.blocks = append(g.blocks, p.BlockIDs...)
		for _, id := range p.BlockIDs {
			g.batches[batches[id]] = true
		}
		g.places = append(g.places, Place{File: b.file, Location: b.location, URI: p.Segment.Path})
	}
	for _, u := range order {
		g := groups[u]
		r := c.resolve(u)
		var times []int64
		for t := range g.batches {
			if t != 0 {
				times = append(times, t)
			}
		}
		sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
		which := "blocks not yet allocated to a batch"
		if len(times) > 0 {
			which = fmt.Sprintf("batch(es) %s", joinTimes(times))
		}
		f := Finding{Severity: Error, File: g.places[0].File, Location: g.places[0].Location}
		if g.missing {
			f.Code = "missing-wal-segment"
			f.Message = fmt.Sprintf("receiver log %s is missing here (%s); it holds %d block(s) of %s that recovery re-runs: they fail with org.apache.spark.SparkException: Could not read data from write ahead log record", u, r.name, len(g.blocks), which)
			f.Fix = fmt.Sprintf("copy %s from the original checkpoint directory", r.name)
		} else {
			f.Code = "bad-wal-segment"
			f.Message = fmt.Sprintf("receiver log %s does not hold the record(s) the driver log points at (%v); %d block(s) of %s that recovery re-runs fail with org.apache.spark.SparkException: Could not read data from write ahead log record", u, g.err, len(g.blocks), which)
			f.Fix = fmt.Sprintf("restore %s from a good copy of the original checkpoint directory", r.name)
		}
		if len(g.places) > 1 {
			f.Count, f.Places = len(g.places), g.places
		}
		c.add(f)
	}
}

func (b walBlock) place() place {
	if b.info.Segment != nil {
		if p, ok := parsePlace(b.info.Segment.Path); ok {
			return p
		}
	}
	return place{}
}

func joinTimes(ts []int64) string {
	var parts []string
	for i, t := range ts {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("... (%d in all)", len(ts)))
			break
		}
		parts = append(parts, fmt.Sprint(t))
	}
	return strings.Join(parts, ", ")
}

// receiverClasses are the receiver-based input streams of Spark and its
// connectors, for checkpoints written before DStreamGraph.numReceivers
// (Spark 2.2).
var receiverClasses = map[string]bool{
	"SocketInputDStream": true, "RawInputDStream": true, "PluggableInputDStream": true,
	"TwitterInputDStream": true, "FlumeInputDStream": true, "FlumePollingInputDStream": true,
	"KafkaInputDStream": true, "MQTTInputDStream": true, "KinesisInputDStream": true,
	"ZeroMQInputDStream": true, "PythonReceiverInputDStream": true,
}

// hasReceivers reports whether the graph has receiver input streams.
func (c *checker) hasReceivers() bool {
	g := &c.used.Checkpoint.Graph
	if g.NumReceivers != nil {
		return *g.NumReceivers > 0
	}
	for _, id := range g.Inputs {
		cls := g.Streams[id].Class
		cls = cls[strings.LastIndexByte(cls, '.')+1:]
		if receiverClasses[cls] || strings.HasSuffix(cls, "ReceiverInputDStream") {
			return true
		}
	}
	return false
}

// checkPendingCovered checks that every batch the restored checkpoint
// re-runs has its block allocation in the driver log: without it the
// batch runs without the data its receivers had received. A pending batch
// later than the log's last allocation is not missing one: on restart
// JobGenerator allocates the blocks added and not yet allocated to it
// (ReceiverTracker.allocateBlocksToBatch allocates any batch time after
// the last allocated one). Real Spark leaves such checkpoints when it
// stops gracefully under load: it closes the log before the last
// allocations are written.
func (c *checker) checkPendingCovered() {
	if c.used == nil || c.rep.Chosen == nil || len(c.used.Checkpoint.PendingTimesMs) == 0 || !c.hasReceivers() {
		return
	}
	allocated := map[int64]bool{}
	if c.wal != nil {
		for _, t := range c.wal.summary.Uncleaned {
			allocated[t] = true
		}
	}
	var missing []int64
	for _, t := range c.used.Checkpoint.PendingTimesMs {
		if c.wal != nil && len(c.wal.summary.Files) > 0 && c.wal.summary.Err() == nil && t > c.wal.summary.LastBatchMs {
			continue // allocated on restart
		}
		if !allocated[t] {
			missing = append(missing, t)
		}
	}
	if len(missing) == 0 {
		return
	}
	sort.Slice(missing, func(i, j int) bool { return missing[i] < missing[j] })
	sev := Warning
	if v, _ := c.used.Checkpoint.ConfValue("spark.streaming.receiver.writeAheadLog.enable"); strings.EqualFold(v, "true") {
		sev = Error // the data was made durable; losing the link loses it
	}
	where := "receivedBlockMetadata/ has no allocation for them"
	if c.wal == nil {
		where = "there is no receivedBlockMetadata/ directory"
	}
	c.add(Finding{Severity: sev, Code: "pending-batch-not-in-wal", File: c.usedName, Location: "Checkpoint.pendingTimes",
		Message: fmt.Sprintf("%d pending batch(es) of %s (%s) are re-run on restart, but %s: they run without the blocks their receivers had received",
			len(missing), c.usedName, joinTimes(missing), where),
		Fix: "copy receivedBlockMetadata/ (and receivedData/) from the original checkpoint directory"})
}
