// Package wal reads Spark Streaming write-ahead logs (dstream-format.md §6)
// without a JVM: the driver's receivedBlockMetadata logs, whose records are
// ReceivedBlockTracker events, and the receivers' receivedData logs, whose
// records are serialized blocks.
//
// # Wire format
//
// A log directory holds files named log-<startMs>-<stopMs> (§6.1), read in
// order of start time ([ListLogs]). Each file is a bare sequence of records
// (§6.2, FileBasedWriteAheadLogWriter):
//
//	file    := record* tail?
//	record  := i32 BE length (>= 0) || length bytes of payload
//	tail    := 1..3 bytes of a length, or a length and fewer payload bytes than it declares
//
// There is no header, footer or checksum. A FileBasedWriteAheadLogSegment
// (path, offset, length) addresses one record: offset is that of its length
// prefix. Spark's sequential reader treats a torn tail as end of file; a
// negative length makes it throw. [Reader] and [Writer] are this layer.
//
// A driver payload (§6.3, §6.4) is one of
//
//	batched   := Java stream of one byte[][] ("[[B"), each element a complete
//	             Java stream holding one event     (BatchedWriteAheadLog, the default)
//	unbatched := Java stream of one event          (allowBatching=false)
//	event     := BlockAdditionEvent(receivedBlockInfo)
//	           | BatchAllocationEvent(time, allocatedBlocks)
//	           | BatchCleanupEvent(times)
//
// Spark tells the two apart the way [DecodeRecord] does: it reads the payload
// as byte[][] and falls back to a single event on a ClassCastException.
// Events are read by field name through [jcoll], so the collection classes
// and name manglings of every Scala version are accepted. Seen in real logs
// (and, for 2.13, expected from Spark 4's source):
//
//	Scala  Time's field                               AllocatedBlocks values     BatchCleanupEvent.times
//	2.11   org$apache$spark$streaming$Time$$millis    ArrayBuffer, mutable.Queue ArrayBuffer
//	2.12   org$apache$spark$streaming$Time$$millis    ArrayBuffer                Vector
//	2.13   (source only)                              List (DefaultSerializationProxy)
//
// The stream-id map is an immutable Map1..Map4 (or a HashMap beyond four
// streams), keyed by java.lang.Integer.
//
// A receiver payload (§6.5) is the block as spark.serializer wrote it: with
// the Java serializer, one stream header and one object per element, with a
// TC_RESET after every spark.serializer.objectStreamReset (100) objects
// ([SummarizeData]); with Kryo or I/O encryption it is opaque.
//
// # Errors
//
// Every error about the input is a [*decode.Error]. Framing errors have
// Format "wal" and the offset of the record's length prefix in the file.
// Errors inside a record have the offset in the record's payload; events of
// a batched record are rebased from their inner stream to the payload, and
// their Path starts "event[i]". [ReadLog] and [ReadDataLog] rebase offsets
// once more to the file. Errors from an io.Reader are returned unchanged.
//
// # Security
//
// The input is treated as hostile. A record's declared length is never
// allocated up front: the payload is read in chunks of at most 1 MiB, so a
// forged length costs at most the bytes actually present, and a record longer
// than [decode.Limits.MaxAlloc] is refused with [decode.ErrTooLarge].
// [Reader] reuses one buffer, so its memory is bounded by the largest record,
// never by the file. Java serialization is parsed by [javaser], which bounds
// recursion and work and never instantiates a class: there is no
// deserialization gadget risk. [CheckSegments] reads four bytes per segment
// and trusts the size the caller reports. Not hardened: [ReadLog] keeps every
// decoded record of a file in memory, so its memory is bounded by the file.
package wal
