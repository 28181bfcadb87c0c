package tui

import (
	"context"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sparkckpt/sparkckpt/decode/crcfile"
	"github.com/sparkckpt/sparkckpt/decode/dstream"
	"github.com/sparkckpt/sparkckpt/decode/wal"
)

// fileKind is what a file of a checkpoint directory is, by its name and
// place alone (nothing is read to classify it).
type fileKind int

const (
	kindCheckpoint fileKind = iota // checkpoint-<ms> (or a .bk), a dstream.Candidate
	kindDriverLog                  // receivedBlockMetadata/log-*
	kindDataLog                    // receivedData/<id>/log-*
	kindRDD                        // <uuid>/rdd-N/part-* or _partitioner
	kindStructured                 // metadata, offsets/, commits/, sources/, state/
	kindCRC                        // .X.crc sidecar
	kindLeftover                   // temp, *.tmp, an interrupted rewrite's temp files
	kindOther
)

// entry is one regular file of the browsed directory.
type entry struct {
	rel  string // slash-separated, relative to the root
	size int64  // -1 until stat'ed (big directories are stat'ed after the first screen)
	mod  time.Time
	kind fileKind
	de   fs.DirEntry // for the deferred stat
}

func (e *entry) name() string { return path.Base(e.rel) }

// listing is what listDir finds: every file, classified, and the
// checkpoint candidates in the order Spark tries them.
type listing struct {
	entries []*entry
	byRel   map[string]*entry
	cands   []dstream.Candidate
	unknown []*entry // entries whose size and time are still to be read
}

var ssTopLevel = map[string]bool{"offsets": true, "commits": true, "sources": true, "state": true, "metadata": true, "_spark_metadata": true}

// digits reports whether s is a non-empty run of ASCII digits.
func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isWALName matches log-<digits>-<digits>. (Plain string checks: the
// listing classifies every file of directories with tens of thousands.)
func isWALName(base string) bool {
	rest, ok := strings.CutPrefix(base, "log-")
	if !ok {
		return false
	}
	a, b, ok := strings.Cut(rest, "-")
	return ok && digits(a) && digits(b)
}

// isRDDFile matches .../rdd-<digits>/part-<digits> and .../rdd-<digits>/_partitioner.
func isRDDFile(dir, base string) bool {
	if p, ok := strings.CutPrefix(base, "part-"); !(ok && digits(p)) && base != "_partitioner" {
		return false
	}
	n, ok := strings.CutPrefix(path.Base(dir), "rdd-")
	return ok && digits(n)
}

// classify tells a file's kind from its relative path. cand says whether
// Spark's CheckpointReader considers the name (a top-level candidate).
func classify(rel string, cand bool) fileKind {
	base := path.Base(rel)
	dir := path.Dir(rel)
	switch {
	case cand:
		return kindCheckpoint
	case strings.HasPrefix(base, ".") && strings.HasSuffix(base, ".crc"):
		if _, ok := crcfile.IsSidecar(base); ok {
			return kindCRC
		}
	}
	first, _, _ := strings.Cut(rel, "/")
	switch {
	case isWALName(base) && path.Base(dir) == "receivedBlockMetadata":
		return kindDriverLog
	case isWALName(base) && strings.Contains("/"+dir+"/", "/receivedData/"):
		return kindDataLog
	case isRDDFile(dir, base):
		return kindRDD
	case base == "temp" || strings.HasSuffix(base, ".tmp") || strings.HasPrefix(base, ".sparkckpt-"):
		return kindLeftover
	case ssTopLevel[first]:
		return kindStructured
	}
	return kindOther
}

// listWorkers is how many directories are read at once: listing is
// mostly waiting on getdents and lstat, which overlap well.
const listWorkers = 8

// listDir walks fsys and classifies every regular file. It reads
// directory entries and their metadata only: no file is opened.
// Directories are read concurrently; unreadable subdirectories are skipped.
func listDir(ctx context.Context, fsys fs.FS) (*listing, error) {
	if _, err := fs.ReadDir(fsys, "."); err != nil {
		return nil, err
	}
	var (
		mu      sync.Mutex
		entries []*entry
		wg      sync.WaitGroup
		sem     = make(chan struct{}, listWorkers)
	)
	var walk func(dir string)
	walk = func(dir string) {
		defer wg.Done()
		sem <- struct{}{}
		ents, err := fs.ReadDir(fsys, dir)
		var local []*entry
		var subdirs []string
		if err == nil && ctx.Err() == nil {
			for _, d := range ents {
				p := d.Name()
				if dir != "." {
					p = dir + "/" + p
				}
				switch {
				case d.IsDir():
					subdirs = append(subdirs, p)
				case d.Type().IsRegular():
					local = append(local, &entry{rel: p, size: -1, de: d})
				}
			}
			// A big directory starts closed in the tree: its files are
			// stat'ed after the first screen (statCmd).
			if len(local) <= bigGroup {
				for _, e := range local {
					statEntry(e)
				}
			}
		}
		<-sem
		mu.Lock()
		entries = append(entries, local...)
		mu.Unlock()
		for _, sd := range subdirs {
			wg.Add(1)
			go walk(sd)
		}
	}
	wg.Add(1)
	walk(".")
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].rel < entries[j].rel })
	l := &listing{entries: entries, byRel: make(map[string]*entry, len(entries))}
	var top []string
	for _, e := range entries {
		l.byRel[e.rel] = e
		if !strings.Contains(e.rel, "/") {
			top = append(top, e.rel)
		}
	}
	l.cands = dstream.Candidates(top)
	isCand := map[string]bool{}
	for _, c := range l.cands {
		isCand[c.Name] = true
	}
	for _, e := range l.entries {
		e.kind = classify(e.rel, isCand[e.rel])
		if e.size < 0 {
			l.unknown = append(l.unknown, e)
		}
	}
	return l, nil
}

// statEntry reads an entry's size and time (-1 and zero if it cannot).
func statEntry(e *entry) {
	if e.de == nil {
		return
	}
	if info, err := e.de.Info(); err == nil {
		e.size, e.mod = info.Size(), info.ModTime()
	}
	e.de = nil
}

// stat is a deferred stat's result.
type stat struct {
	e    *entry
	size int64
	mod  time.Time
}

// statAll reads the size and time of entries (concurrently: it is mostly
// waiting on lstat). It does not modify them.
func statAll(ctx context.Context, es []*entry) []stat {
	out := make([]stat, len(es))
	var wg sync.WaitGroup
	const workers = 4
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { recover() }() // a failing stat leaves the size unknown, never the terminal raw
			for i := w; i < len(es) && ctx.Err() == nil; i += workers {
				out[i] = stat{e: es[i], size: -1}
				if es[i].de == nil {
					continue
				}
				if info, err := es[i].de.Info(); err == nil {
					out[i].size, out[i].mod = info.Size(), info.ModTime()
				}
			}
		}()
	}
	wg.Wait()
	return out
}

// groupSpec names the top-level groups of the file tree, in display order.
var groupSpec = []struct {
	kind  fileKind
	title string
}{
	{kindCheckpoint, "Metadata checkpoints"},
	{kindDriverLog, "Driver write-ahead log"},
	{kindDataLog, "Receiver write-ahead logs"},
	{kindRDD, "RDD checkpoint data"},
	{kindStructured, "Structured Streaming"},
	{kindCRC, ".crc sidecars"},
	{kindLeftover, "Leftovers"},
	{kindOther, "Other files"},
}

// bigGroup is the number of files above which a subgroup starts closed.
const bigGroup = 40

// buildTree groups a listing into the file tree's nodes.
func buildTree(l *listing) []*fnode {
	byKind := map[fileKind][]*entry{}
	for _, e := range l.entries {
		byKind[e.kind] = append(byKind[e.kind], e)
	}
	var roots []*fnode
	for _, g := range groupSpec {
		es := byKind[g.kind]
		if len(es) == 0 {
			continue
		}
		grp := &fnode{title: g.title, open: true}
		switch g.kind {
		case kindCheckpoint:
			// Spark's order: newest first, checkpoint-<t> before its .bk.
			for _, c := range l.cands {
				grp.add(&fnode{e: l.byRel[c.Name]})
			}
		case kindDriverLog:
			names := make([]string, len(es))
			byName := map[string]*entry{}
			for i, e := range es {
				names[i] = e.rel
				byName[path.Base(e.rel)] = e
			}
			sortNatural(names)
			bases := make([]string, len(names))
			for i, n := range names {
				bases[i] = path.Base(n)
			}
			for _, lf := range wal.ListLogs(bases) {
				grp.add(&fnode{e: byName[lf.Name]})
			}
		default:
			byDir := map[string][]*entry{}
			var dirs []string
			for _, e := range es {
				d := path.Dir(e.rel)
				if _, ok := byDir[d]; !ok {
					dirs = append(dirs, d)
				}
				byDir[d] = append(byDir[d], e)
			}
			sortNatural(dirs)
			for _, d := range dirs {
				files := byDir[d]
				less := func(i, j int) bool { return naturalLess(files[i].rel, files[j].rel) }
				if !sort.SliceIsSorted(files, less) { // part-00000... listings already are
					sort.Slice(files, less)
				}
				parent := grp
				if d != "." && (len(dirs) > 1 || len(files) > 1 || g.kind == kindRDD || g.kind == kindDataLog) {
					parent = &fnode{title: d, open: len(files) <= bigGroup && len(dirs) <= 8}
					grp.add(parent)
				}
				for _, e := range files {
					parent.add(&fnode{e: e})
				}
			}
		}
		grp.open = grp.files <= 4*bigGroup || g.kind == kindCheckpoint
		roots = append(roots, grp)
	}
	return roots
}

// sortNatural sorts strings comparing digit runs as numbers.
func sortNatural(s []string) { sort.Slice(s, func(i, j int) bool { return naturalLess(s[i], s[j]) }) }

// naturalLess compares a and b with runs of digits compared as numbers
// ("offsets/2" < "offsets/10").
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			if da != db {
				return da < db
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func digitRun(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}
