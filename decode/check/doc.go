// Package check tells, without a JVM and without writing anything, whether
// Spark Streaming will restore from a checkpoint directory, and if not, why
// and what to do.
//
// [Dir] (or [FS]) runs every check and returns every [Finding]; it never
// stops at the first. It fails only when the directory cannot be read at
// all or is not a DStream checkpoint directory. A report fails ([Report.OK]
// is false) if and only if a finding has severity [Error]: warnings and
// info alone pass.
//
// # What Spark does, and what is checked
//
// On restart StreamingContext.getOrCreate lists checkpoint-<ms> files,
// tries them newest first (checkpoint-<t> before checkpoint-<t>.bk) and
// restores from the first that deserialises, reading with the restarting
// application's spark.io.compression.codec only, through Hadoop's
// LocalFileSystem, which verifies .X.crc sidecars (spec dstream-format.md
// §1.3). It then uses the checkpointDir stored in that file, not the path
// it was given, for RDD checkpoints and the write-ahead logs, restores
// every RDD checkpoint directory and input file list of the graph, and
// replays receivedBlockMetadata/ (§5, §6.6).
//
// Checked, with the finding codes (stable ids) and severities:
//
//	code                     severity         meaning
//	no-checkpoint            error            no checkpoint-* file: Spark starts a new context, nothing is restored
//	no-readable-checkpoint   error            no checkpoint file can be read: "Failed to read checkpoint from directory"
//	newest-unreadable        error / warning  a file newer than the one Spark restores from cannot be read (truncated,
//	                                          empty, corrupt); warning when Spark falls back to the same batch time's .bk
//	codec-mismatch           error / warning  files compressed with another codec than the one Spark reads with
//	codec-unknown            warning          spark.io.compression.codec in the conf is not a codec sparkckpt knows
//	crc-mismatch             error / warning  a checkpoint file (or RDD part file) differs from its .crc sidecar:
//	                                          Hadoop throws ChecksumException
//	crc-unreadable           warning          a .crc sidecar Hadoop cannot parse (it ignores it, so nothing is verified)
//	foreign-authority        error / warning  references on a filesystem that is none of Options.ExpectFS (error for
//	                                          roles that drive restart: checkpointDir, rdd-checkpoint, wal-segment,
//	                                          input-file, and spark.eventLog.dir when event logging is enabled)
//	fs-not-checked           info             no ExpectFS given: the filesystems referenced, unchecked
//	unreachable-host         error / warning  --probe: a referenced namenode or receiver host does not answer
//	probe-skipped            info             --probe: an hdfs authority without a port (HA nameservice?) is not dialled
//	missing-rdd-checkpoint   error            an RDD checkpoint directory the restored graph reads is missing
//	missing-input-file       error            an input file a file stream restores is missing
//	not-checked              info             references that cannot be checked from here (other filesystems,
//	                                          local paths not on this machine)
//	wal-unreadable           error            a receivedBlockMetadata log file Spark cannot replay
//	wal-bad-events           warning          log events sparkckpt could not interpret
//	wal-torn-tail            warning          a log ends with a torn record (Spark ignores it)
//	wal-uncleaned-batches    info             batches allocated and not cleaned up, which recovery replays
//	memory-only-blocks       info             blocks recovery would need were kept in executor memory only (receiver
//	                                          WAL off): re-run batches run without them
//	pending-batch-not-in-wal error / warning  a batch the checkpoint re-runs has no block allocation in the driver log (and is not after its last allocation, which restart allocates)
//	                                          (error when the receiver write-ahead log is enabled)
//	missing-wal-segment      error            a receiver log file holding blocks of a batch to recover is missing
//	bad-wal-segment          error            such a file exists but does not hold the record (truncated, wrong length)
//	incomplete-copy          error            the marker of a 'sparkckpt cp' to an object store that did not finish
//	incomplete-upload        warning          (added by 'sparkckpt check' on S3) incomplete multipart uploads under
//	                                          the directory, with the command that aborts them
//	temp-file                warning          Spark's staging file "temp": a checkpoint write did not finish
//	tmp-file                 info             other *.tmp leftovers
//	orphan-crc               info             .X.crc sidecars without X (Hadoop ignores them)
//	symlink                  info             a symbolic link inside the directory: followed, as Spark does
//	symlink-outside          error            a symbolic link leading outside the directory: not followed, so what
//	                                          Spark reads through it is not checked (nor carried by cp or rewrite)
//	symlink-broken           warning          a symbolic link to nothing
//	symlink-loop             warning          a symbolic link loop, or a directory link to its own ancestor
//
// # Mapping references onto the checked tree
//
// A restored copy usually lives somewhere else than where Spark wrote it:
// a checkpoint read from /restore/ckpt stores URIs under
// hdfs://old-nn:8020/user/x/ckpt. A referenced URI under the stored
// checkpointDir (on a path boundary; file:/x, file:///x and
// file://localhost/x are one place) is looked up at the same relative path
// in the checked tree. Other file: URIs are looked up in [Options.Local]
// if set; anything else cannot be checked here and yields a not-checked
// info finding, never an error.
//
// # Probing
//
// With [Options.Probe], every distinct host:port of a filesystem reference
// (and every receiver host:port of a socket stream) is resolved and
// TCP-dialled once, in parallel, with [Options.ProbeTimeout]. Nothing is
// sent. An hdfs authority without a port is not probed: it may be an HA
// nameservice resolved through hdfs-site.xml, and the default port is not
// assumed (probe-skipped). Failures are reported with the exception Spark
// would throw (java.net.UnknownHostException, ConnectException,
// NoRouteToHostException, ConnectTimeoutException).
package check
