package check

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"

	"github.com/sparkckpt/sparkckpt/decode/codec"
	"github.com/sparkckpt/sparkckpt/decode/crcfile"
	"github.com/sparkckpt/sparkckpt/decode/dstream"
)

// unreadable says why a checkpoint file fails to read the way Spark reads it.
type unreadable struct {
	kind     string     // "read", "crc", "empty", "codec", "decode"
	detected codec.Kind // for "codec": the file's codec by magic number
	err      error
}

func (u *unreadable) Error() string { return u.err.Error() }
func (u *unreadable) Unwrap() error { return u.err }

// readCheckpoint reads name as Spark does: through the checksum of its
// .crc sidecar when verifyCRC (Hadoop's LocalFileSystem), then with the
// codec force only (nil: detected from the magic number).
func (c *checker) readCheckpoint(name string, force *codec.Kind, verifyCRC bool) (*dstream.File, error) {
	b, err := fs.ReadFile(c.fsys, name)
	if err != nil {
		return nil, &unreadable{kind: "read", err: err}
	}
	if verifyCRC {
		if sb, ok := c.sidecar(name); ok {
			if _, perr := crcfile.Parse(sb); perr == nil {
				if verr := crcfile.Verify(b, sb); verr != nil {
					return nil, &unreadable{kind: "crc", err: verr}
				}
			}
		}
	}
	if len(b) == 0 {
		return nil, &unreadable{kind: "empty", err: errors.New("the file is empty (0 bytes)")}
	}
	if force != nil {
		if k, err := codec.Detect(b); err == nil && k != *force {
			return nil, &unreadable{kind: "codec", detected: k, err: fmt.Errorf("compressed with %s, read with %s", k, *force)}
		}
	}
	f, err := dstream.ReadLimits(b, force, c.opts.Limits)
	if err != nil {
		return nil, &unreadable{kind: "decode", err: err}
	}
	return f, nil
}

// sidecar returns the bytes of name's .crc sidecar at the root, if any.
func (c *checker) sidecar(name string) ([]byte, bool) {
	sc := crcfile.SidecarName(name)
	if !c.names[sc] {
		return nil, false
	}
	b, err := fs.ReadFile(c.fsys, sc)
	return b, err == nil
}

// sparkDefaultCodec is spark.io.compression.codec's default for the
// version that wrote cp (spec §2.1): snappy in 1.x, lz4 from 2.0.
func sparkDefaultCodec(cp *dstream.Checkpoint) codec.Kind {
	if cp != nil && strings.HasPrefix(cp.SparkVersionHint, "1.") {
		return codec.Snappy
	}
	return codec.LZ4
}

// codecFor decides which codec Spark reads with (nil: unknown, detect).
func (c *checker) codecFor(examined *dstream.File) *codec.Kind {
	if c.opts.Codec != nil {
		k := *c.opts.Codec
		c.rep.Codec = CodecChoice{Name: k.String(), Source: "option"}
		return &k
	}
	var cp *dstream.Checkpoint
	if examined != nil {
		cp = examined.Checkpoint
		if v, ok := cp.ConfValue("spark.io.compression.codec"); ok {
			k, err := codec.ParseKind(v)
			if err != nil || k == codec.None {
				c.add(Finding{Severity: Warning, Code: "codec-unknown",
					Message: fmt.Sprintf("spark.io.compression.codec=%s in the checkpoint's conf is not a codec sparkckpt knows: files are read with the codec their magic number shows, which may not be what Spark does", v),
					Fix:     "pass --codec with the codec the restarting application uses"})
				c.rep.Codec = CodecChoice{Source: "conf"}
				return nil
			}
			c.rep.Codec = CodecChoice{Name: k.String(), Source: "conf"}
			return &k
		}
	}
	k := sparkDefaultCodec(cp)
	c.rep.Codec = CodecChoice{Name: k.String(), Source: "default"}
	return &k
}

// codecSource explains where the codec comes from, for messages.
func (c *checker) codecSource() string {
	switch c.rep.Codec.Source {
	case "option":
		return "as given with --codec"
	case "conf":
		return "spark.io.compression.codec in the checkpoint's conf"
	}
	return "Spark's default; the checkpoint's conf does not set spark.io.compression.codec"
}

// sparkCodecError is what Spark's reader throws on another codec's bytes.
func sparkCodecError(k codec.Kind) string {
	switch k {
	case codec.LZ4:
		return "java.io.IOException: Stream is corrupted"
	case codec.Snappy:
		return "java.io.IOException: FAILED_TO_UNCOMPRESS(5)"
	case codec.Zstd:
		return "com.github.luben.zstd.ZstdIOException: Unknown frame descriptor"
	case codec.LZF:
		return "java.io.IOException: Corrupt input data, block did not start with 2 byte signature ('ZV')"
	}
	return "java.io.StreamCorruptedException"
}

// checkFiles picks the file Spark restores from and reports the newer
// files it cannot read.
func (c *checker) checkFiles() {
	if len(c.cands) == 0 {
		c.add(Finding{Severity: Error, Code: "no-checkpoint",
			Message: "no checkpoint-<ms> file: Spark's getOrCreate finds nothing to restore and starts a new StreamingContext (the write-ahead log is not recovered)",
			Fix:     "copy the checkpoint-* files (with their .crc sidecars) from the original checkpoint directory"})
		return
	}
	// The newest file that decodes with any codec: its conf tells the
	// codec, and it is what the other checks read if Spark reads nothing.
	var examined *dstream.File
	var examinedName string
	for _, cand := range c.cands {
		if f, err := c.readCheckpoint(cand.Name, nil, false); err == nil {
			examined, examinedName = f, cand.Name
			break
		}
	}
	force := c.codecFor(examined)
	chosen, f, skipped := dstream.Choose(c.cands, func(name string) (*dstream.File, error) {
		return c.readCheckpoint(name, force, true)
	})
	if chosen != nil {
		c.used, c.usedName = f, chosen.Name
		c.rep.Chosen = &Chosen{File: chosen.Name, TimeMs: chosen.TimeMs, CheckpointTimeMs: f.Checkpoint.CheckpointTimeMs}
	} else if examined != nil {
		c.used, c.usedName = examined, examinedName
	}
	if c.used != nil {
		c.rep.CheckpointDir = c.used.Checkpoint.CheckpointDir
		if p, ok := parsePlace(c.used.Checkpoint.CheckpointDir); ok {
			c.base, c.haveBase = p, true
		}
	}
	c.reportSkipped(chosen, skipped)
	// Hadoop ignores a sidecar it cannot parse: nothing is verified.
	tried := len(skipped)
	if chosen != nil {
		tried++
	}
	for _, cand := range c.cands[:tried] {
		if sb, ok := c.sidecar(cand.Name); ok {
			if _, err := crcfile.Parse(sb); err != nil {
				c.add(Finding{Severity: Warning, Code: "crc-unreadable", File: crcfile.SidecarName(cand.Name),
					Message: fmt.Sprintf("%s is not a checksum file Hadoop can parse (%v): Hadoop logs \"Problem opening checksum file\" and reads %s unverified", crcfile.SidecarName(cand.Name), err, cand.Name),
					Fix:     "delete " + crcfile.SidecarName(cand.Name)})
			}
		}
	}
}

// fallback says what Spark does after failing on s, and how bad it is.
func fallback(chosen *dstream.Candidate, timeMs int64) (Severity, string) {
	switch {
	case chosen == nil:
		return Error, "no file is readable"
	case chosen.TimeMs == timeMs:
		return Warning, fmt.Sprintf("Spark falls back to %s, written for the same batch time", chosen.Name)
	}
	return Error, fmt.Sprintf("Spark skips it and restores from the older %s (%s of batches re-run or lost)", chosen.Name, time.Duration(timeMs-chosen.TimeMs)*time.Millisecond)
}

func (c *checker) reportSkipped(chosen *dstream.Candidate, skipped []dstream.Skipped) {
	byCodec := map[codec.Kind][]dstream.Skipped{}
	var kinds []codec.Kind
	for _, s := range skipped {
		if c.outsideLink(s.Name) {
			continue // Spark reads it; not followed here: symlink-outside says so
		}
		var u *unreadable
		if !errors.As(s.Err, &u) {
			u = &unreadable{kind: "decode", err: s.Err}
		}
		sev, what := fallback(chosen, s.TimeMs)
		switch u.kind {
		case "codec":
			if byCodec[u.detected] == nil {
				kinds = append(kinds, u.detected)
			}
			byCodec[u.detected] = append(byCodec[u.detected], s)
		case "crc":
			sc := crcfile.SidecarName(s.Name)
			fix := fmt.Sprintf("restore %s and %s from a good copy of the original directory", s.Name, sc)
			if _, err := c.readCheckpoint(s.Name, nil, false); err == nil {
				fix = fmt.Sprintf("%s itself decodes, so the sidecar is probably stale (edited by hand?): delete %s (or restore both from a good copy)", s.Name, sc)
			}
			c.add(Finding{Severity: sev, Code: "crc-mismatch", File: s.Name,
				Message: fmt.Sprintf("%s does not match its checksum file %s (%v): Hadoop's LocalFileSystem throws org.apache.hadoop.fs.ChecksumException; %s", s.Name, sc, u.err, what),
				Fix:     fix})
		case "empty":
			c.add(Finding{Severity: sev, Code: "newest-unreadable", File: s.Name,
				Message: fmt.Sprintf("%s is empty (0 bytes): Spark fails to deserialize it (java.io.EOFException); %s", s.Name, what),
				Fix:     fmt.Sprintf("restore %s from a good copy of the original directory, or delete it to accept the older state", s.Name)})
		default:
			c.add(Finding{Severity: sev, Code: "newest-unreadable", File: s.Name,
				Message: fmt.Sprintf("%s cannot be read: %v; %s", s.Name, u.err, what),
				Fix:     fmt.Sprintf("restore %s from a good copy of the original directory, or delete it to accept the older state", s.Name)})
		}
	}
	readWith := c.rep.Codec.Name
	for _, k := range kinds {
		group := byCodec[k]
		sev := Warning
		var places []Place
		for _, s := range group {
			if sv, _ := fallback(chosen, s.TimeMs); sv == Error {
				sev = Error
			}
			places = append(places, Place{File: s.Name})
		}
		_, what := fallback(chosen, group[0].TimeMs)
		names := group[0].Name + " is"
		if len(group) > 1 {
			names = fmt.Sprintf("%d checkpoint files (%s ... %s) are", len(group), group[0].Name, group[len(group)-1].Name)
		}
		f := Finding{Severity: sev, Code: "codec-mismatch", File: group[0].Name,
			Message: fmt.Sprintf("%s compressed with %s, but Spark reads with %s (%s) and fails with %s; %s",
				names, k, readWith, c.codecSource(), sparkCodecError(mustKind(readWith)), what),
			Fix: fmt.Sprintf("restart the application with --conf spark.io.compression.codec=%s (the command checks what Spark then reads)", k)}.WithCommand("sparkckpt", "check", c.opts.Path, "--codec", k.String())
		if len(group) > 1 {
			f.Count, f.Places = len(group), places
		}
		c.add(f)
	}
	if chosen == nil {
		fix := "restore the checkpoint files from a good copy of the original directory"
		if len(kinds) == 1 && len(byCodec[kinds[0]]) == len(skipped) {
			fix = fmt.Sprintf("restart the application with --conf spark.io.compression.codec=%s", kinds[0])
		}
		// Put it first: it is the verdict.
		c.rep.Findings = append([]Finding{{Severity: Error, Code: "no-readable-checkpoint",
			Message: fmt.Sprintf("none of the %d checkpoint files can be read the way Spark reads them (codec %s): Spark fails with org.apache.spark.SparkException: Failed to read checkpoint from directory %s", len(c.cands), readWith, c.rep.CheckpointDir),
			Fix:     fix}}, c.rep.Findings...)
	}
}

func mustKind(name string) codec.Kind {
	k, err := codec.ParseKind(name)
	if err != nil {
		return codec.None
	}
	return k
}

// IncompleteCopyName is the marker 'sparkckpt cp' writes first into a
// destination it cannot create atomically (an object store: S3) and
// removes last: while it exists, the directory is an incomplete copy.
const IncompleteCopyName = ".sparkckpt-cp-incomplete"

// checkLeftovers reports files Spark left behind or ignores.
func (c *checker) checkLeftovers() {
	if c.names[IncompleteCopyName] {
		c.add(Finding{Severity: Error, Code: "incomplete-copy", File: IncompleteCopyName,
			Message: "this directory is an incomplete copy: 'sparkckpt cp' was interrupted while writing it (files may be missing or old)",
			Fix:     "copy it again with 'sparkckpt cp' (which replaces an incomplete copy), or delete it"})
	}
	if c.names["temp"] {
		c.add(Finding{Severity: Warning, Code: "temp-file", File: "temp",
			Message: "temp is Spark's staging file for a checkpoint write that did not finish (the driver stopped while writing): the newest state may be missing; Spark ignores and overwrites it",
			Fix:     "nothing needed (delete temp to tidy up)"})
	}
	var tmps, orphans []string
	for _, n := range c.order {
		if strings.HasSuffix(n, ".tmp") {
			tmps = append(tmps, n)
		}
		if data, ok := crcfile.IsSidecar(n); ok && !c.names[data] && !c.dirs[data] {
			orphans = append(orphans, n)
		}
	}
	if len(tmps) > 0 {
		c.add(grouped(Info, "tmp-file", tmps,
			fmt.Sprintf("%s: leftover temporary file(s), which Spark ignores", countNames(tmps)),
			"nothing needed (delete them to tidy up)"))
	}
	if len(orphans) > 0 {
		c.add(grouped(Info, "orphan-crc", orphans,
			fmt.Sprintf("%s: checksum sidecar(s) without their data file (left by deleted checkpoints); Hadoop ignores them", countNames(orphans)),
			"nothing needed (delete them to tidy up)"))
	}
}

// grouped builds a finding about several files.
func grouped(sev Severity, code string, files []string, msg, fix string) Finding {
	f := Finding{Severity: sev, Code: code, File: files[0], Message: msg, Fix: fix}
	if len(files) > 1 {
		f.Count = len(files)
		for _, n := range files {
			f.Places = append(f.Places, Place{File: n})
		}
	}
	return f
}

// countNames renders "name" or "N files (a ... z)".
func countNames(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	s := append([]string(nil), names...)
	sort.Strings(s)
	return fmt.Sprintf("%d files (%s ... %s)", len(s), s[0], s[len(s)-1])
}
