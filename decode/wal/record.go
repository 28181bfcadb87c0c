package wal

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/javaser"
)

// Record is one decoded driver log record (§6.3).
type Record struct {
	// Batched reports a BatchedWriteAheadLog record: a byte[][] of events.
	Batched bool
	// Stream is the payload's syntax: the byte[][] stream when batched,
	// otherwise the single event's stream (then Events[0].Syntax == Stream).
	Stream *javaser.Stream
	// Events are the events in order: the array's elements when batched.
	Events []Event
}

// DecodeRecord decodes the payload of one driver log record. The result
// aliases payload: do not modify payload while it is in use.
//
// Errors are [*decode.Error]s with offsets in payload: a payload that is not
// a Java stream, a byte[][] whose element is not a byte[] or whose stream
// does not parse, or a stream with no content. An event of an unknown class
// is not an error (its Type is the class name); a known event whose fields
// cannot be read is reported in its [Event.Err], not here.
func DecodeRecord(payload []byte) (*Record, error) {
	s, err := javaser.Parse(payload)
	if err != nil {
		return nil, err
	}
	if len(s.Contents) == 0 {
		return nil, decode.Errorf("wal", int64(len(payload)), decode.ErrTruncated, "record holds no object")
	}
	a, ok := s.Contents[0].(*javaser.Array)
	if !ok || a.Class == nil || a.Class.Name() != "[[B" {
		ev := decodeEvent(s, 0, "")
		return &Record{Stream: s, Events: []Event{ev}}, nil
	}
	rec := &Record{Batched: true, Stream: s, Events: make([]Event, 0, len(a.Elems))}
	for i, e := range a.Elems {
		prefix := fmt.Sprintf("event[%d]", i)
		// Spark never writes the same byte[] twice, but Java would read a
		// back-reference to one, so it is accepted.
		inner, ok := javaser.Resolve(e).(*javaser.Array)
		if !ok || inner.Class == nil || inner.Class.Name() != "[B" {
			return nil, decode.Errorf("wal", e.Offset(), decode.ErrCorrupt, "%s: element of byte[][] is %s, not a byte[]", prefix, className(e))
		}
		base, err := dataOffset(inner)
		if err != nil {
			return nil, err
		}
		es, err := javaser.Parse(inner.Prims)
		if err != nil {
			return nil, rebase(err, base, prefix)
		}
		if len(es.Contents) == 0 {
			return nil, decode.Errorf("wal", base+int64(len(inner.Prims)), decode.ErrTruncated, "%s: event stream holds no object", prefix)
		}
		ev := decodeEvent(es, base, prefix)
		ev.Index = i
		ev.Array = inner
		rec.Events = append(rec.Events, ev)
	}
	return rec, nil
}

// Encode returns the record's payload. Events are re-encoded from their
// Syntax into their byte[] elements first, so edits made to an event's
// stream are carried into the batch; for an unedited record the result
// equals the decoded payload byte for byte.
func (r *Record) Encode() ([]byte, error) {
	if r.Batched {
		for i := range r.Events {
			ev := &r.Events[i]
			if ev.Array == nil || ev.Syntax == nil {
				continue
			}
			b, err := javaser.Encode(ev.Syntax)
			if err != nil {
				return nil, err
			}
			if !bytes.Equal(b, ev.Array.Prims) {
				ev.Array.Prims = b
				ev.Array.Length = int32(len(b))
			}
		}
	}
	return javaser.Encode(r.Stream)
}

// dataOffset returns the offset in the outer stream of a byte[]'s first
// element: after TC_ARRAY, its class descriptor (or a reference to one) and
// the int32 length.
func dataOffset(a *javaser.Array) (int64, error) {
	desc, err := javaser.AppendNode(nil, a.Desc)
	if err != nil {
		return 0, err
	}
	return a.Off + 1 + int64(len(desc)) + 4, nil
}

// rebase moves a decode error found in an inner stream to the outer one.
func rebase(err error, base int64, prefix string) error {
	var de *decode.Error
	if errors.As(err, &de) {
		de.Offset += base
		if prefix != "" {
			if de.Path != "" {
				de.Path = prefix + ":" + de.Path
			} else {
				de.Path = prefix
			}
		}
	}
	return err
}

// LogRecord is one record of a driver log file with its position.
type LogRecord struct {
	// Offset is the file offset of the record's length prefix.
	Offset int64
	// Length is the payload length.
	Length int
	*Record
}

// Log is a decoded driver log file.
type Log struct {
	// Records are the complete records, in file order.
	Records []LogRecord
	// Tail is the torn last record, or nil.
	Tail *Tail
}

// ReadLog reads and decodes a whole driver log file (receivedBlockMetadata/log-*).
// Error offsets are file offsets. It stops at the first error and returns
// the records read before it. Unlike [Reader], it keeps every record in
// memory.
func ReadLog(r io.Reader) (*Log, error) {
	return ReadLogLimits(r, decode.Limits{})
}

// ReadLogLimits is ReadLog with limits on the record size.
func ReadLogLimits(r io.Reader, lim decode.Limits) (*Log, error) {
	log := &Log{}
	rd := NewReaderLimits(r, lim)
	for rd.Next() {
		payload := bytes.Clone(rd.Record())
		rec, err := DecodeRecord(payload)
		if err != nil {
			return log, rebase(err, rd.Offset()+4, "")
		}
		for i := range rec.Events {
			if rec.Events[i].Err != nil {
				rebase(rec.Events[i].Err, rd.Offset()+4, "")
			}
		}
		log.Records = append(log.Records, LogRecord{Offset: rd.Offset(), Length: len(payload), Record: rec})
	}
	log.Tail = rd.Tail()
	return log, rd.Err()
}

// Events returns the events of every record, in order.
func (l *Log) Events() []Event {
	var out []Event
	for _, r := range l.Records {
		out = append(out, r.Events...)
	}
	return out
}
