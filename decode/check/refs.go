package check

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/sparkckpt/sparkckpt/decode/crcfile"
	"github.com/sparkckpt/sparkckpt/decode/dstream"
	"github.com/sparkckpt/sparkckpt/decode/javaser"
)

// ref is a filesystem reference: a URI Spark reads or writes on restart
// or when the application runs.
type ref struct {
	place
	role     string // dstream role
	confKey  string
	file     string // where it is stored, relative to the checked tree
	location string
	sev      Severity // how bad it is if the reference is wrong
}

// dirPath is the path a rewrite should move for r: the directory of a
// file (input files, jars, receiver logs), else the path itself.
func (r ref) dirPath() string {
	switch r.role {
	case "input-file", "jar", "wal-segment":
		return path.Dir(r.path)
	}
	return r.path
}

// errorRoles are the roles whose references drive the restart itself.
var errorRoles = map[string]bool{"checkpointDir": true, "rdd-checkpoint": true, "wal-segment": true, "input-file": true}

// collectRefs gathers the filesystem references of the checkpoint read.
func (c *checker) collectRefs() {
	if c.used == nil {
		return
	}
	eventLog, _ := c.used.Checkpoint.ConfValue("spark.eventLog.enabled")
	for _, r := range dstream.References(c.used) {
		p, ok := parsePlace(r.URI)
		if !ok {
			continue
		}
		switch r.Role {
		case "checkpointDir", "rdd-checkpoint", "input-file", "input-directory":
		case "conf", "jar", "python-function", "other":
			if !fsSchemes[p.scheme] && !c.expectedScheme(p.scheme) {
				continue // http://api.twitter.com, spark://master:7077, ...
			}
		default:
			continue // receiver hosts, master
		}
		sev := Warning
		if errorRoles[r.Role] || r.Role == "conf" && r.ConfKey == "spark.eventLog.dir" && strings.EqualFold(eventLog, "true") {
			sev = Error
		}
		c.refs = append(c.refs, ref{place: p, role: r.Role, confKey: r.ConfKey, file: c.usedName, location: r.Location, sev: sev})
	}
}

func (c *checker) expectedScheme(s string) bool {
	for _, e := range c.expects {
		if e.scheme == s {
			return true
		}
	}
	return false
}

// resolved says where a referenced URI can be looked at.
type resolved struct {
	fsys fs.FS  // nil: cannot be checked here
	name string // path in fsys
	tree bool   // in the checked tree (under the stored checkpointDir)
	why  string // for fsys == nil or a missing local path: why it is not checked
}

// resolve maps a referenced URI onto the checked tree (under the stored
// checkpointDir) or the local filesystem.
func (c *checker) resolve(uri string) resolved {
	p, ok := parsePlace(uri)
	if !ok {
		return resolved{why: "not a URI"}
	}
	if c.haveBase {
		if rel, ok := under(p, c.base); ok && fs.ValidPath(rel) {
			return resolved{fsys: c.fsys, name: rel, tree: true}
		}
	}
	if p.local {
		name := strings.TrimPrefix(path.Clean(p.path), "/")
		if name == "" {
			name = "."
		}
		if c.opts.Local != nil && fs.ValidPath(name) {
			return resolved{fsys: c.opts.Local, name: name}
		}
		return resolved{why: "local path outside the checkpoint directory, not checked"}
	}
	return resolved{why: "outside the checkpoint directory, on a filesystem check does not read"}
}

// unchecked collects references that cannot be checked, grouped.
type unchecked struct {
	order  []string
	groups map[string]*uncheckedGroup
}

type uncheckedGroup struct {
	key, role, why string
	places         []Place
}

func (u *unchecked) add(key, role, why string, pl Place) {
	k := key + "\x00" + role + "\x00" + why
	if u.groups == nil {
		u.groups = map[string]*uncheckedGroup{}
	}
	g := u.groups[k]
	if g == nil {
		g = &uncheckedGroup{key: key, role: role, why: why}
		u.groups[k] = g
		u.order = append(u.order, k)
	}
	g.places = append(g.places, pl)
}

// checkReferences checks that the RDD checkpoint directories and input
// files the restored graph reads exist.
func (c *checker) checkReferences() {
	c.collectRefs()
	if c.used == nil {
		return
	}
	locs := map[*javaser.String]string{}
	for _, r := range dstream.References(c.used) {
		if r.Node != nil && locs[r.Node] == "" {
			locs[r.Node] = r.Location
		}
	}
	loc := func(st *dstream.Stream, e dstream.DataEntry, i int) string {
		if i < len(e.Nodes) {
			if s := javaser.ResolveString(e.Nodes[i]); s != nil && locs[s] != "" {
				return locs[s]
			}
		}
		return fmt.Sprintf("graph stream #%d (%s) checkpointData[%d]", st.ID, st.Name, e.TimeMs)
	}
	for _, st := range c.used.Checkpoint.Graph.Streams {
		if st.CheckpointData == nil {
			continue
		}
		for _, e := range st.CheckpointData.Entries {
			for i, v := range e.Values {
				switch e.Kind {
				case "rdd":
					c.checkRDD(st, e, v, loc(st, e, i))
				case "files":
					c.checkInputFile(st, e, v, loc(st, e, i))
				}
			}
		}
	}
}

func streamName(st *dstream.Stream) string {
	cls := st.Class[strings.LastIndexByte(st.Class, '.')+1:]
	return fmt.Sprintf("#%d %s %q", st.ID, cls, st.Name)
}

// notHere records a reference that cannot be checked from here.
func (c *checker) notHere(uri, role, why, location string) {
	key := uri
	if p, ok := parsePlace(uri); ok {
		key = p.key()
	}
	c.unchecked.add(key, role, why, Place{File: c.usedName, Location: location, URI: uri})
}

func (c *checker) checkRDD(st *dstream.Stream, e dstream.DataEntry, uri, location string) {
	r := c.resolve(uri)
	if r.fsys == nil {
		c.notHere(uri, "rdd-checkpoint", r.why, location)
		return
	}
	ok, isDir, err := exists(r.fsys, r.name)
	switch {
	case err != nil:
		c.notHere(uri, "rdd-checkpoint", "cannot stat: "+err.Error(), location)
	case !ok && !r.tree:
		c.notHere(uri, "rdd-checkpoint", "local path not found on this machine", location)
	case !ok || !isDir:
		what := "is missing"
		if ok {
			what = "is a file, not a directory"
		}
		c.add(Finding{Severity: Error, Code: "missing-rdd-checkpoint", File: c.usedName, Location: location,
			Message: fmt.Sprintf("RDD checkpoint directory %s (stream %s, batch %d) %s here (%s): restoring the graph fails with java.lang.IllegalArgumentException: requirement failed: Checkpoint directory does not exist: %s",
				uri, streamName(st), e.TimeMs, what, r.name, uri),
			Fix: fmt.Sprintf("copy %s from the original checkpoint directory into %s; without it this checkpoint cannot be restored", r.name, ShellQuote(JoinPath(c.opts.Path, r.name)))})
	case r.tree:
		c.checkPartCRCs(r.name, location)
	}
}

// checkPartCRCs verifies the .crc sidecars inside an RDD checkpoint
// directory: Hadoop checks them when the restored RDD is read.
func (c *checker) checkPartCRCs(dir, location string) {
	ents, err := fs.ReadDir(c.fsys, dir)
	if err != nil {
		return
	}
	have := map[string]bool{}
	for _, e := range ents {
		have[e.Name()] = true
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		if _, isSidecar := crcfile.IsSidecar(e.Name()); isSidecar {
			continue
		}
		sc := crcfile.SidecarName(e.Name())
		if !have[sc] {
			continue
		}
		data, err1 := fs.ReadFile(c.fsys, path.Join(dir, e.Name()))
		sum, err2 := fs.ReadFile(c.fsys, path.Join(dir, sc))
		if err1 != nil || err2 != nil {
			continue
		}
		if _, err := crcfile.Parse(sum); err != nil {
			continue // Hadoop ignores a sidecar it cannot parse
		}
		if err := crcfile.Verify(data, sum); err != nil {
			name := path.Join(dir, e.Name())
			c.add(Finding{Severity: Error, Code: "crc-mismatch", File: name, Location: location,
				Message: fmt.Sprintf("RDD checkpoint file %s does not match %s (%v): the restored RDD fails with org.apache.hadoop.fs.ChecksumException when a batch reads it", name, sc, err),
				Fix:     fmt.Sprintf("restore %s and %s from a good copy of the original directory", name, path.Join(dir, sc))})
		}
	}
}

func (c *checker) checkInputFile(st *dstream.Stream, e dstream.DataEntry, uri, location string) {
	r := c.resolve(uri)
	if r.fsys == nil {
		c.notHere(uri, "input-file", r.why, location)
		return
	}
	ok, _, err := exists(r.fsys, r.name)
	switch {
	case err != nil:
		c.notHere(uri, "input-file", "cannot stat: "+err.Error(), location)
	case !ok && !r.tree:
		c.notHere(uri, "input-file", "local path not found on this machine", location)
	case !ok:
		c.add(Finding{Severity: Error, Code: "missing-input-file", File: c.usedName, Location: location,
			Message: fmt.Sprintf("input file %s, remembered by stream %s for batch %d, is missing here (%s): restoring the file stream fails with org.apache.hadoop.mapreduce.lib.input.InvalidInputException: Input path does not exist",
				uri, streamName(st), e.TimeMs, r.name),
			Fix: fmt.Sprintf("copy %s from the original location", r.name)})
	}
}

// reportUnchecked turns the unchecked references into info findings.
func (c *checker) reportUnchecked() {
	for _, k := range c.unchecked.order {
		g := c.unchecked.groups[k]
		first := g.places[0]
		what := fmt.Sprintf("%s reference %s", g.role, first.URI)
		if n := len(g.places); n > 1 {
			what = fmt.Sprintf("%d %s references on %s (e.g. %s)", n, g.role, g.key, first.URI)
		}
		f := Finding{Severity: Info, Code: "not-checked", File: first.File, Location: first.Location,
			Message: fmt.Sprintf("%s: %s", what, g.why)}
		if strings.HasPrefix(g.why, "local path not found") {
			f.Message += "; if it is missing where Spark restarts, the restore fails"
		}
		if len(g.places) > 1 {
			f.Count, f.Places = len(g.places), g.places
		}
		c.add(f)
	}
}

// roleConsequence says what Spark does with a reference of a role.
func roleConsequence(role string, confKeys []string, sev Severity) string {
	switch role {
	case "checkpointDir":
		return "Spark uses this stored URI on restart (not the path given to getOrCreate) for checkpoints, RDD checkpoints and write-ahead logs"
	case "rdd-checkpoint":
		return "Spark reads them back when it restores the graph"
	case "wal-segment":
		return "re-run batches read their received blocks from there"
	case "input-file":
		return "Spark lists them again when it restores the file stream"
	case "input-directory":
		return "the file stream keeps monitoring it"
	case "conf":
		s := "the restored SparkConf keeps " + strings.Join(confKeys, ", ")
		if sev == Error {
			s += "; with spark.eventLog.enabled=true the SparkContext does not start if spark.eventLog.dir is unreachable"
		}
		return s
	case "jar":
		return "the restored SparkContext adds it"
	}
	return "the application's functions use it when they run (an output path?)"
}

// checkForeign compares every filesystem reference with Options.ExpectFS.
func (c *checker) checkForeign() {
	c.reportUnchecked()
	if len(c.refs) == 0 {
		return
	}
	if len(c.expects) == 0 {
		var keys []string
		roles := map[string][]string{}
		for _, r := range c.refs {
			k := r.key()
			if roles[k] == nil {
				keys = append(keys, k)
			}
			if !contains(roles[k], r.role) {
				roles[k] = append(roles[k], r.role)
			}
		}
		var parts []string
		for _, k := range keys {
			sortRoles(roles[k])
			parts = append(parts, fmt.Sprintf("%s (%s)", k, strings.Join(roles[k], ", ")))
		}
		c.add(Finding{Severity: Info, Code: "fs-not-checked", File: c.usedName,
			Message: "filesystems referenced: " + strings.Join(parts, "; ") + "; pass --expect-fs with the new cluster's default filesystem to check them",
			Fix:     "check again with --expect-fs naming the new cluster's default filesystem (e.g. --expect-fs hdfs://NEW-NAMENODE:8020)"})
		return
	}
	type group struct {
		key, role string
		refs      []ref
	}
	var order []string
	groups := map[string]*group{}
	for _, r := range c.refs {
		ok := false
		for _, e := range c.expects {
			if matches(r.place, e) {
				ok = true
				break
			}
		}
		if ok {
			continue
		}
		k := r.key() + "\x00" + r.role
		if groups[k] == nil {
			groups[k] = &group{key: r.key(), role: r.role}
			order = append(order, k)
		}
		groups[k].refs = append(groups[k].refs, r)
	}
	// One rewrite per filesystem, covering the references that drive the
	// restart (or all of them, if none does).
	fixPaths, allPaths := map[string][]string{}, map[string][]string{}
	for _, k := range order {
		for _, r := range groups[k].refs {
			allPaths[r.key()] = append(allPaths[r.key()], r.dirPath())
			if r.sev == Error {
				fixPaths[r.key()] = append(fixPaths[r.key()], r.dirPath())
			}
		}
	}
	for k, ps := range allPaths {
		if len(fixPaths[k]) == 0 {
			fixPaths[k] = ps
		}
	}
	expected := strings.Join(c.opts.ExpectFS, ", ")
	for _, k := range order {
		g := groups[k]
		sev := Warning
		var keys []string
		var places []Place
		for _, r := range g.refs {
			if r.sev == Error {
				sev = Error
			}
			if r.confKey != "" && !contains(keys, r.confKey) {
				keys = append(keys, r.confKey)
			}
			places = append(places, Place{File: r.file, Location: r.location, URI: r.raw})
		}
		first := g.refs[0]
		paths := fixPaths[g.key]
		if e := c.expects[0]; !e.rootless() && e.key() == g.key {
			// Same filesystem, another directory: move this group only.
			paths = nil
			for _, r := range g.refs {
				paths = append(paths, r.dirPath())
			}
		}
		on := g.key
		if first.local {
			on = "the local filesystem (file:)"
		}
		what := fmt.Sprintf("%s %s is on %s", g.role, first.raw, on)
		if n := len(g.refs); n > 1 {
			what = fmt.Sprintf("%d %s references (e.g. %s) are on %s", n, g.role, first.raw, on)
		}
		msg := fmt.Sprintf("%s, not on %s: %s", what, expected, roleConsequence(g.role, keys, sev))
		switch {
		case first.local:
			msg += " (local paths must exist on every machine Spark runs on)"
		case sev == Error:
			msg += " (java.net.UnknownHostException, NoRouteToHostException or ConnectException once that cluster is gone; while it is up Spark silently uses it)"
		}
		cmd := c.rewriteFix(first.place, paths)
		fix := "move the references onto " + expected + " (the command is a dry run of the rewrite; add --apply to write)"
		for _, e := range c.expects {
			if emrOnly(first.place, e) {
				bucket := e.scheme + "://" + e.authority
				msg = fmt.Sprintf("%s: the same bucket as %s, but s3:// is EMRFS, which only EMR resolves: off EMR Hadoop has no FileSystem for scheme \"s3\" (org.apache.hadoop.fs.UnsupportedFileSystemException) and %s", what, bucket, roleConsequence(g.role, keys, sev))
				fix = "map s3:// onto " + bucket + " (the command is a dry run of the rewrite; add --apply to write)"
				cmd = []string{"sparkckpt", "rewrite", c.opts.Path, "--map", "s3://" + first.place.authority + "=" + bucket}
				break
			}
		}
		f := Finding{Severity: sev, Code: "foreign-authority", File: first.file, Location: first.location,
			Message: msg,
			Fix:     fix}.WithCommand(cmd...)
		if len(g.refs) > 1 {
			f.Count, f.Places = len(g.refs), places
		}
		c.add(f)
	}
}

// rewriteFix is the rewrite command (argv) that moves references on p's
// filesystem, at the given paths, onto the first expected filesystem.
func (c *checker) rewriteFix(p place, paths []string) []string {
	to := c.expects[0]
	prefix := commonDir(paths)
	from := p.key()
	withPath := p.local || p.authority == "" || !to.rootless() || to.local
	if withPath {
		from += prefix
	}
	var target string
	switch {
	case !to.rootless():
		target = strings.TrimRight(to.String(), "/")
	case withPath:
		target = to.key() + prefix
	default:
		target = to.key()
	}
	return []string{"sparkckpt", "rewrite", c.opts.Path, "--from", from, "--to", target}
}

// commonDir is the longest common directory of slash paths (a single path is its own).
func commonDir(paths []string) string {
	if len(paths) == 0 {
		return ""
	}
	sort.Strings(paths)
	a, b := strings.Split(paths[0], "/"), strings.Split(paths[len(paths)-1], "/")
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return strings.TrimRight(strings.Join(a[:n], "/"), "/")
}

// roleOrder orders roles from the most to the least important for a restart.
var roleOrder = []string{"checkpointDir", "rdd-checkpoint", "wal-segment", "input-file", "input-directory", "conf", "jar", "python-function", "other"}

func sortRoles(roles []string) {
	rank := func(r string) int {
		for i, x := range roleOrder {
			if x == r {
				return i
			}
		}
		return len(roleOrder)
	}
	sort.SliceStable(roles, func(i, j int) bool { return rank(roles[i]) < rank(roles[j]) })
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
