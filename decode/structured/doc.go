// Package structured reads Spark Structured Streaming checkpoints (Spark
// 2.0 to 4.1) and the file sink's _spark_metadata logs, without Spark or a
// JVM, through an io/fs.FS (spec structured-format.md; sections cited as §N).
//
// # Layout (§1)
//
//	<root>/metadata                          {"id":"<query uuid>"}                      (§2.7)
//	<root>/offsets/<batch>                   offset log: "v1" text, "v2" (master), or a
//	                                         Java-serialized CompositeOffset (Spark 2.0) (§2.3)
//	<root>/commits/<batch>                   commit log "v1" | "v2" (| "v3")            (§2.5)
//	<root>/sources/<n>/<id>[.compact]        file source log (compactible, §3), or the
//	                                         Kafka initial offsets in sources/<n>/0     (§2.6)
//	<root>/state/<op>/<part>[/<store>]/      HDFS: <v>.delta <v>.snapshot                (§4.1)
//	                                         RocksDB: <v>[_<uuid>].zip .changelog SSTs/ logs/ (§4.2, §4.4)
//	<root>/state/<op>/<part>[/<store>]/_metadata/schema   state schema v1/v2 (3.1+)      (§4.5)
//	<root>/state/<op>/_metadata/metadata     OperatorStateMetadataV1 (4.0)              (§4.5)
//	<root>/state/<op>/_metadata/v2/<batch>   OperatorStateMetadataV2 (4.0, TWS)         (§4.5)
//	<root>/state/<op>/_stateSchema/<store>/<batch>_<uuid>   state schema v3 (4.0)       (§4.5)
//	<sink output>/_spark_metadata/<batch>[.compact]         file sink log (§3)
//
// Metadata logs are UTF-8 text whose first line is "v<N>" (§2.1); lines
// split on \n, \r\n or \r, and a trailing newline adds no empty line. State
// files are one compressed stream (lz4-java LZ4Block by default, any codec
// of [codec]) of big-endian int32-framed key/value records (§4.1, §4.3);
// keys and values are UnsafeRows (§5), decoded when the schema is known
// ([Schema], [DecodeRow]) and shown as hex otherwise.
//
// # Versions
//
//	file                         versions read        written by
//	offsets/N                    Java (2.0), v1, v2   2.0; 2.1-4.1; master
//	commits/N                    v1, v2, v3           2.2+; 4.0 (checkpoint format v2); master
//	sources/n (file source)      v1                   2.0+
//	sources/n/0 (Kafka)          bare JSON, v1        2.1.0; 2.1.1+
//	_spark_metadata/N            v1                   2.0+
//	state schema                 v1, v2, v3           3.1; 3.2+; 4.0 (transformWithState)
//	operator metadata            v1, v2               4.0+
//	changelog                    V1, V2, V3, V4       3.5 (RocksDB); 4.0 (column families, checkpoint ids)
//	RocksDB zip metadata         v1                   3.2+
//
// [SupportedBy] says which of these a given Spark release reads (§2.2:
// Spark rejects a higher log version, it never skips it).
//
// # What the package offers
//
// [Open] summarises a checkpoint directory from its listing and the few
// files a restart reads (metadata, the latest offsets and commit, the
// source logs); [Checkpoint.StateAt] tells whether the state a restart
// loads can be rebuilt for every partition (§4.6). [Check] runs every
// pre-restart check and reports findings with the types of decode/check,
// so that DStream and structured reports look alike. [References] lists
// the absolute URIs (§8) and [URIFields] locates them byte by byte, for
// rewriting. The per-file parsers ([ParseOffsets], [ParseCommit],
// [ParseFileLog], [ParseKafkaInitialOffsets], [ParseSchemaFile],
// [ParseOperatorMetadata], [ParseRocksDBZip], [NewStateReader]) are usable
// alone.
//
// # Errors
//
// Every error about file content is a [*decode.Error] with Format
// "structured" whose Offset is the byte offset in the file (in the
// decompressed stream for state files), wrapping decode.ErrTruncated,
// ErrCorrupt, ErrUnsupported (a version newer than any Spark release this
// package knows) or ErrTooLarge.
//
// # Security
//
// Input is hostile: lengths in state files and schema files are checked
// against [decode.Limits] and what remains; a record over 4 MiB is read in
// steps as it arrives, so a lying length cannot make a reader allocate
// more than 4 MiB beyond what it has read. JSON nesting is bounded; zip
// entries are size-checked before reading. Memory while checking a
// directory is bounded by one buffer per worker, not by the directory's
// size. Nothing panics on bad input (a fuzz target per parser checks this).
package structured
