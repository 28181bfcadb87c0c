package structured

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/sparkckpt/sparkckpt/decode"
)

// State store formats.
const (
	FormatHDFS    = "hdfs"
	FormatRocksDB = "rocksdb"
)

// DefaultStore is the store name whose files live in the partition
// directory itself (StateStoreId.storeCheckpointLocation, §1).
const DefaultStore = "default"

// joinStores is the store order of a stream-stream join (commit v2's
// stateUniqueIds index stores in this order, §2.5).
var joinStores = []string{"left-keyToNumValues", "left-keyWithIndexToValue", "right-keyToNumValues", "right-keyWithIndexToValue"}

// Operator is state/<op>/.
type Operator struct {
	ID  int64  `json:"id"`
	Dir string `json:"dir"`
	// Partitions are the partition directories, by id.
	Partitions []*Partition `json:"partitions"`
	StoreNames []string     `json:"storeNames"`
	// Format is "hdfs", "rocksdb", or "hdfs+rocksdb" if both kinds of file are present.
	Format string `json:"format"`
	// Metadata is the 4.0+ operator metadata (v1, or the latest v2).
	Metadata     *OperatorMetadata `json:"metadata,omitempty"`
	MetadataFile string            `json:"metadataFile,omitempty"`
	MetadataErr  error             `json:"-"`
	// Schemas are the store schemas (from partition 0's _metadata/schema,
	// or the latest v3 _stateSchema file), by store name.
	Schemas     map[string]*SchemaFile `json:"schemas,omitempty"`
	SchemaFiles map[string]string      `json:"schemaFiles,omitempty"`
	SchemaErrs  map[string]error       `json:"-"`
	// V2MetadataFiles are the _metadata/v2/<batch> files (absolute schema paths).
	V2MetadataFiles []string `json:"v2MetadataFiles,omitempty"`
	MinVersion      int64    `json:"minVersion"`
	MaxVersion      int64    `json:"maxVersion"`
	Files           int      `json:"files"`
	Bytes           int64    `json:"bytes"`
}

// Partition is state/<op>/<part>/.
type Partition struct {
	ID     int      `json:"id"`
	Stores []*Store `json:"stores"`
}

// Store is the directory of one state store.
type Store struct {
	Name  string      `json:"name"`
	Dir   string      `json:"dir"`
	Files []StateFile `json:"files"`
	// SSTs and Logs are RocksDB's shared immutable files, by name.
	SSTs  map[string]int64 `json:"ssts,omitempty"`
	Logs  map[string]int64 `json:"logs,omitempty"`
	Bytes int64            `json:"bytes"`
}

// StateFile is one versioned state file.
type StateFile struct {
	Name    string `json:"name"` // relative to the checkpoint
	Version int64  `json:"version"`
	Kind    string `json:"kind"` // delta, snapshot, changelog, zip
	// UniqueID is the checkpoint id of a <v>_<uuid> file (format v2).
	UniqueID string `json:"uniqueId,omitempty"`
	Size     int64  `json:"size"`
}

// parseStateName parses <v>.delta, <v>.snapshot, <v>[_<id>].zip and
// <v>[_<id>].changelog (§1.1).
func parseStateName(n string) (v int64, kind, id string, ok bool) {
	base, ext, found := strings.Cut(n, ".")
	if !found {
		return 0, "", "", false
	}
	switch ext {
	case "delta", "snapshot", "changelog", "zip":
	default:
		return 0, "", "", false
	}
	if ext == "changelog" || ext == "zip" {
		if b, u, ok := strings.Cut(base, "_"); ok {
			base, id = b, u
		}
	}
	v, err := strconv.ParseInt(base, 10, 64)
	if err != nil || v < 0 {
		return 0, "", "", false
	}
	return v, ext, id, true
}

// readState lists state/.
func (c *Checkpoint) readState() error {
	st, err := fs.Stat(c.fsys, "state")
	if err != nil || !st.IsDir() {
		return nil
	}
	l, err := list(c.fsys, "state")
	if err != nil {
		return err
	}
	c.noteDir(l, true, nil)
	for _, d := range l.dirs {
		id, err := strconv.ParseInt(d, 10, 64)
		if err != nil {
			continue
		}
		op, err := c.readOperator(id, "state/"+d)
		if err != nil {
			return err
		}
		c.Operators = append(c.Operators, op)
	}
	sort.Slice(c.Operators, func(i, j int) bool { return c.Operators[i].ID < c.Operators[j].ID })
	return nil
}

func (c *Checkpoint) readOperator(id int64, dir string) (*Operator, error) {
	op := &Operator{ID: id, Dir: dir, Partitions: []*Partition{}, StoreNames: []string{}, MinVersion: -1, MaxVersion: -1,
		Schemas: map[string]*SchemaFile{}, SchemaFiles: map[string]string{}, SchemaErrs: map[string]error{}}
	l, err := list(c.fsys, dir)
	if err != nil {
		return nil, err
	}
	c.noteDir(l, true, nil)
	stores := map[string]bool{}
	hdfs, rocks := false, false
	for _, d := range l.dirs {
		switch d {
		case "_metadata":
			if err := c.readOpMetadata(op, dir+"/_metadata"); err != nil {
				return nil, err
			}
			continue
		case "_stateSchema":
			if err := c.readStateSchemaDir(op, dir+"/_stateSchema"); err != nil {
				return nil, err
			}
			continue
		}
		pid, err := strconv.Atoi(d)
		if err != nil {
			continue
		}
		p := &Partition{ID: pid, Stores: []*Store{}}
		pdir := dir + "/" + d
		pl, err := list(c.fsys, pdir)
		if err != nil {
			return nil, err
		}
		// The default store's files live in the partition directory.
		def, err := c.readStore(op, DefaultStore, pl)
		if err != nil {
			return nil, err
		}
		if len(def.Files) > 0 || len(pl.dirs) == 0 || onlyMeta(pl.dirs) {
			p.Stores = append(p.Stores, def)
		}
		for _, sd := range pl.dirs {
			switch sd {
			case "_metadata":
				if pid == 0 || op.SchemaFiles[DefaultStore] == "" {
					c.readSchema(op, DefaultStore, pdir+"/_metadata")
				}
				continue
			case "SSTs", "logs":
				continue
			}
			sl, err := list(c.fsys, pdir+"/"+sd)
			if err != nil {
				return nil, err
			}
			s, err := c.readStore(op, sd, sl)
			if err != nil {
				return nil, err
			}
			p.Stores = append(p.Stores, s)
			for _, sub := range sl.dirs {
				if sub == "_metadata" && (pid == 0 || op.SchemaFiles[sd] == "") {
					c.readSchema(op, sd, pdir+"/"+sd+"/_metadata")
				}
			}
		}
		for _, s := range p.Stores {
			stores[s.Name] = true
			for _, f := range s.Files {
				switch f.Kind {
				case KindDelta, KindSnapshot:
					hdfs = true
				default:
					rocks = true
				}
				if op.MinVersion < 0 || f.Version < op.MinVersion {
					op.MinVersion = f.Version
				}
				op.MaxVersion = max(op.MaxVersion, f.Version)
			}
			op.Bytes += s.Bytes
		}
		op.Partitions = append(op.Partitions, p)
	}
	sort.Slice(op.Partitions, func(i, j int) bool { return op.Partitions[i].ID < op.Partitions[j].ID })
	op.StoreNames = orderStores(stores)
	switch {
	case hdfs && rocks:
		op.Format = FormatHDFS + "+" + FormatRocksDB
	case rocks:
		op.Format = FormatRocksDB
	case hdfs:
		op.Format = FormatHDFS
	}
	return op, nil
}

func onlyMeta(dirs []string) bool {
	for _, d := range dirs {
		if d != "_metadata" && d != "SSTs" && d != "logs" {
			return false
		}
	}
	return true
}

// orderStores orders store names as Spark indexes them: default, then the
// join stores in their order, then others by name.
func orderStores(m map[string]bool) []string {
	out := []string{}
	if m[DefaultStore] {
		out = append(out, DefaultStore)
	}
	for _, j := range joinStores {
		if m[j] {
			out = append(out, j)
		}
	}
	var rest []string
	for n := range m {
		if n != DefaultStore && !contains(joinStores, n) {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// readStore reads a store directory's listing (and its SSTs/ and logs/).
func (c *Checkpoint) readStore(op *Operator, name string, l *listing) (*Store, error) {
	s := &Store{Name: name, Dir: l.dir, Files: []StateFile{}}
	data := c.noteDir(l, true, nil)
	for _, n := range data {
		if strings.HasSuffix(n, ".crc") {
			if d := strings.TrimSuffix(n, ".crc"); l.has(d) {
				c.ChecksumFiles[l.rel(d)] = l.rel(n) // 4.1 JSON checksum (§7.3)
				continue
			}
		}
		v, kind, id, ok := parseStateName(n)
		if !ok {
			continue
		}
		s.Files = append(s.Files, StateFile{Name: l.rel(n), Version: v, Kind: kind, UniqueID: id, Size: l.files[n]})
		s.Bytes += l.files[n]
		op.Files++
	}
	sort.Slice(s.Files, func(i, j int) bool {
		if s.Files[i].Version != s.Files[j].Version {
			return s.Files[i].Version < s.Files[j].Version
		}
		return s.Files[i].Name < s.Files[j].Name
	})
	for _, sub := range l.dirs {
		if sub != "SSTs" && sub != "logs" {
			continue
		}
		sl, err := list(c.fsys, l.dir+"/"+sub)
		if err != nil {
			return nil, err
		}
		m := map[string]int64{}
		for _, n := range c.noteDir(sl, true, nil) {
			m[n] = sl.files[n]
			s.Bytes += sl.files[n]
			op.Files++
		}
		if sub == "SSTs" {
			s.SSTs = m
		} else {
			s.Logs = m
		}
	}
	return s, nil
}

// readSchema reads <store dir>/_metadata/schema.
func (c *Checkpoint) readSchema(op *Operator, store, dir string) {
	l, err := list(c.fsys, dir)
	if err != nil {
		return
	}
	c.noteDir(l, true, nil)
	if !l.has("schema") {
		return
	}
	name := dir + "/schema"
	op.SchemaFiles[store] = name
	b, err := fs.ReadFile(c.fsys, name)
	if err == nil {
		var sf *SchemaFile
		if sf, err = ParseSchemaFile(b); err == nil {
			op.Schemas[store] = sf
			return
		}
	}
	op.SchemaErrs[store] = decode.WithFile(err, name)
}

// readOpMetadata reads state/<op>/_metadata/ (metadata v1, v2/<batch>).
func (c *Checkpoint) readOpMetadata(op *Operator, dir string) error {
	l, err := list(c.fsys, dir)
	if err != nil {
		return err
	}
	c.noteDir(l, true, nil)
	name := ""
	if l.has("metadata") {
		name = dir + "/metadata"
	}
	for _, d := range l.dirs {
		if d != "v2" {
			continue
		}
		vl, err := list(c.fsys, dir+"/v2")
		if err != nil {
			return err
		}
		var latest int64 = -1
		for _, n := range c.noteDir(vl, true, nil) {
			if b, _, ok := BatchOf(n, false); ok {
				op.V2MetadataFiles = append(op.V2MetadataFiles, vl.rel(n))
				if b > latest {
					latest, name = b, vl.rel(n)
				}
			}
		}
	}
	if name == "" {
		return nil
	}
	op.MetadataFile = name
	b, err := ReadLog(c.fsys, name)
	if err == nil {
		op.Metadata, err = ParseOperatorMetadata(b)
	}
	op.MetadataErr = decode.WithFile(err, name)
	return nil
}

// readStateSchemaDir reads state/<op>/_stateSchema/<store>/<batch>_<uuid>
// (v3 schema files, 4.0 transformWithState): the latest per store.
func (c *Checkpoint) readStateSchemaDir(op *Operator, dir string) error {
	l, err := list(c.fsys, dir)
	if err != nil {
		return err
	}
	c.noteDir(l, true, nil)
	for _, store := range l.dirs {
		sl, err := list(c.fsys, dir+"/"+store)
		if err != nil {
			return err
		}
		var latest int64 = -1
		name := ""
		for _, n := range c.noteDir(sl, true, nil) {
			b, _, _ := strings.Cut(n, "_")
			if v, err := strconv.ParseInt(b, 10, 64); err == nil && v >= latest {
				latest, name = v, sl.rel(n)
			}
		}
		if name == "" {
			continue
		}
		op.SchemaFiles[store] = name
		raw, err := fs.ReadFile(c.fsys, name)
		if err == nil {
			var sf *SchemaFile
			if sf, err = ParseSchemaFile(raw); err == nil {
				op.Schemas[store] = sf
				continue
			}
		}
		op.SchemaErrs[store] = decode.WithFile(err, name)
	}
	return nil
}

// ExpectedPartitions is the number of partitions the operator's stores
// have: the operator metadata's numPartitions (4.0+), else
// spark.sql.shuffle.partitions, except that an operator with only
// partition 0 runs in one partition (a global aggregation or limit). The
// second result says where the number comes from.
func (c *Checkpoint) ExpectedPartitions(op *Operator) (int, string) {
	maxID := -1
	for _, p := range op.Partitions {
		maxID = max(maxID, p.ID)
	}
	if maxID == 0 && singleGroup(op) {
		return 1, "the key schema has no real column: a single-partition operator (global aggregation or limit)"
	}
	if op.Metadata != nil && len(op.Metadata.Stores) > 0 && op.Metadata.Stores[0].NumPartitions > 0 {
		return op.Metadata.Stores[0].NumPartitions, "operator metadata numPartitions"
	}
	if v, ok := c.Conf("spark.sql.shuffle.partitions"); ok {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			if maxID == 0 && n > 1 {
				return 1, "only partition 0 exists: a single-partition operator (global aggregation or limit)"
			}
			return n, "spark.sql.shuffle.partitions"
		}
	}
	return maxID + 1, "partition directories (no spark.sql.shuffle.partitions in the offsets conf)"
}

// singleGroup reports whether the operator's key schema is a single void
// column (a global aggregation or limit: all rows in one group and one
// partition), or, without a schema, nothing says otherwise.
func singleGroup(op *Operator) bool {
	sf := op.Schemas[DefaultStore]
	if sf == nil || sf.Key == nil {
		return true
	}
	for _, f := range sf.Key.Fields {
		if f.Type.Name != "void" && f.Type.Name != "null" {
			return false
		}
	}
	return true
}

// StoreState says whether one store can be loaded at a version, and from
// which files (§4.1, §4.2, §4.4, §4.6).
type StoreState struct {
	Operator  int64  `json:"operator"`
	Partition int    `json:"partition"`
	Store     string `json:"store"`
	Dir       string `json:"dir"`
	Version   int64  `json:"version"`
	OK        bool   `json:"ok"`
	// Base is what loading starts from: a snapshot or zip file, or "empty".
	Base string `json:"base"`
	// Chain lists every file loading reads, in order (base first).
	Chain []string `json:"chain"`
	// Missing lists the files loading needs that do not exist.
	Missing []string `json:"missing,omitempty"`
	// Problem explains a failure in one line.
	Problem string `json:"problem,omitempty"`
	// Kinds gives the kind of each Chain file.
	Kinds []string `json:"-"`
}

// StateAt computes, for every store of every operator, whether version v
// can be loaded. commit is the commit of batch v-1 (for state checkpoint
// format v2's unique ids); it may be nil.
func (c *Checkpoint) StateAt(v int64, commit *Commit) []StoreState {
	var out []StoreState
	for _, op := range c.Operators {
		want, _ := c.ExpectedPartitions(op)
		byID := map[int]*Partition{}
		for _, p := range op.Partitions {
			byID[p.ID] = p
		}
		n := max(want, len(op.Partitions))
		for pid := 0; pid < n; pid++ {
			p := byID[pid]
			for si, name := range op.StoreNames {
				st := StoreState{Operator: op.ID, Partition: pid, Store: name, Version: v}
				var s *Store
				if p != nil {
					for _, x := range p.Stores {
						if x.Name == name {
							s = x
						}
					}
				}
				st.Dir = storeDir(op, pid, name)
				switch {
				case v <= 0:
					st.OK, st.Base = true, "empty"
				case p == nil && pid >= want:
					continue
				case p == nil:
					st.Problem = fmt.Sprintf("partition directory %s/%d is missing", op.Dir, pid)
					st.Missing = []string{fmt.Sprintf("%s/%d/", op.Dir, pid)}
				case s == nil:
					st.Problem = fmt.Sprintf("store directory %s is missing", st.Dir)
					st.Missing = []string{st.Dir + "/"}
				default:
					c.chain(&st, s, si, commit)
				}
				out = append(out, st)
			}
		}
	}
	return out
}

func storeDir(op *Operator, pid int, store string) string {
	d := op.Dir + "/" + strconv.Itoa(pid)
	if store != DefaultStore {
		d += "/" + store
	}
	return d
}

// chain resolves the files that load version st.Version of store s.
func (c *Checkpoint) chain(st *StoreState, s *Store, storeIdx int, commit *Commit) {
	v := st.Version
	byKind := map[string]map[int64][]StateFile{}
	v2 := false
	for _, f := range s.Files {
		if byKind[f.Kind] == nil {
			byKind[f.Kind] = map[int64][]StateFile{}
		}
		byKind[f.Kind][f.Version] = append(byKind[f.Kind][f.Version], f)
		if f.UniqueID != "" {
			v2 = true
		}
	}
	name := func(ver int64, ext string) string { return fmt.Sprintf("%s/%d.%s", s.Dir, ver, ext) }
	add := func(f, kind string) {
		st.Chain = append(st.Chain, f)
		st.Kinds = append(st.Kinds, kind)
	}
	hdfs := len(byKind[KindDelta])+len(byKind[KindSnapshot]) > 0 || len(s.Files) == 0 && c.Provider() == FormatHDFS
	switch {
	case v2:
		c.chainV2(st, s, storeIdx, commit, byKind)
		return
	case hdfs:
		// HDFSBackedStateStoreProvider.loadMap: V.snapshot, else the latest
		// snapshot S < V, then deltas S+1..V, each required (§4.1).
		if _, ok := byKind[KindSnapshot][v]; ok {
			st.Base = name(v, KindSnapshot)
			add(st.Base, KindSnapshot)
			st.OK = true
			return
		}
		base := int64(0)
		for sv := v - 1; sv >= 1; sv-- {
			if _, ok := byKind[KindSnapshot][sv]; ok {
				base = sv
				break
			}
		}
		st.Base = "empty"
		if base > 0 {
			st.Base = name(base, KindSnapshot)
			add(st.Base, KindSnapshot)
		}
		for d := base + 1; d <= v; d++ {
			if _, ok := byKind[KindDelta][d]; ok {
				add(name(d, KindDelta), KindDelta)
			} else {
				st.Missing = append(st.Missing, name(d, KindDelta))
			}
		}
	default:
		// RocksDB: the latest zip S <= V, then changelogs S+1..V (§4.2).
		base := int64(0)
		for sv := v; sv >= 1; sv-- {
			if _, ok := byKind["zip"][sv]; ok {
				base = sv
				break
			}
		}
		st.Base = "empty"
		if base > 0 {
			st.Base = name(base, "zip")
			add(st.Base, "zip")
		}
		for d := base + 1; d <= v; d++ {
			if _, ok := byKind[KindChangelog][d]; ok {
				add(name(d, KindChangelog), KindChangelog)
			} else {
				st.Missing = append(st.Missing, name(d, KindChangelog))
			}
		}
	}
	st.OK = len(st.Missing) == 0
	if !st.OK {
		st.Problem = fmt.Sprintf("cannot load version %d from %s: %s missing", v, st.Base, strings.Join(baseNames(st.Missing), ", "))
	}
}

// chainV2 resolves a RocksDB store with checkpoint ids (§4.4): the unique
// id of version V comes from commits/(V-1).
func (c *Checkpoint) chainV2(st *StoreState, s *Store, storeIdx int, commit *Commit, byKind map[string]map[int64][]StateFile) {
	v := st.Version
	id := ""
	if commit != nil && commit.StateUniqueIDs != nil {
		parts := commit.StateUniqueIDs[strconv.FormatInt(st.Operator, 10)]
		if st.Partition < len(parts) && storeIdx < len(parts[st.Partition]) {
			id = parts[st.Partition][storeIdx]
		}
	}
	if id == "" {
		st.Problem = fmt.Sprintf("the store uses checkpoint ids (<v>_<uuid> files) but commits/%d names none for operator %d partition %d store %d", v-1, st.Operator, st.Partition, storeIdx)
		return
	}
	file := func(ver int64, uid, ext string) (string, bool) {
		for _, f := range byKind[ext][ver] {
			if f.UniqueID == uid {
				return f.Name, true
			}
		}
		return fmt.Sprintf("%s/%d_%s.%s", s.Dir, ver, uid, ext), false
	}
	if z, ok := file(v, id, "zip"); ok {
		st.Base, st.OK = z, true
		st.Chain, st.Kinds = []string{z}, []string{"zip"}
		return
	}
	cl, ok := file(v, id, KindChangelog)
	if !ok {
		zn, _ := file(v, id, "zip")
		st.Missing = []string{zn + " or " + path.Base(cl)}
		st.Problem = fmt.Sprintf("neither %s nor %s exists (commits/%d names id %s)", path.Base(zn), path.Base(cl), v-1, id)
		return
	}
	lineage, err := c.changelogLineage(cl)
	if err != nil {
		st.Problem = fmt.Sprintf("%s: %v", cl, err)
		st.Missing = []string{cl}
		return
	}
	// The newest lineage entry with a zip is the base; the changelogs after it are replayed.
	baseIdx := -1
	for i := len(lineage) - 1; i >= 0; i-- {
		if _, ok := file(lineage[i].Version, lineage[i].CheckpointUniqueID, "zip"); ok {
			baseIdx = i
			break
		}
	}
	st.Base = "empty"
	if baseIdx >= 0 {
		z, _ := file(lineage[baseIdx].Version, lineage[baseIdx].CheckpointUniqueID, "zip")
		st.Base = z
		st.Chain, st.Kinds = append(st.Chain, z), append(st.Kinds, "zip")
	} else if len(lineage) > 0 && lineage[0].Version != 1 {
		st.Problem = fmt.Sprintf("no snapshot zip exists for any version in the lineage of %s (from version %d)", path.Base(cl), lineage[0].Version)
		z, _ := file(lineage[0].Version, lineage[0].CheckpointUniqueID, "zip")
		st.Missing = []string{z}
		return
	}
	for _, li := range lineage[baseIdx+1:] {
		n, ok := file(li.Version, li.CheckpointUniqueID, KindChangelog)
		if ok {
			st.Chain, st.Kinds = append(st.Chain, n), append(st.Kinds, KindChangelog)
		} else {
			st.Missing = append(st.Missing, n)
		}
	}
	st.Chain, st.Kinds = append(st.Chain, cl), append(st.Kinds, KindChangelog)
	st.OK = len(st.Missing) == 0
	if !st.OK {
		st.Problem = fmt.Sprintf("cannot load version %d from %s: %s missing", v, st.Base, strings.Join(baseNames(st.Missing), ", "))
	}
}

// changelogLineage reads a V3/V4 changelog's header.
func (c *Checkpoint) changelogLineage(name string) ([]LineageItem, error) {
	f, err := c.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	_, lineage, err := ReadChangelogHeader(f)
	return lineage, decode.WithFile(err, name)
}

func baseNames(ps []string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = path.Base(p)
	}
	return out
}
