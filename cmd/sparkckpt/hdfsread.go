package main

import (
	"bytes"
	"context"
	"os"

	"github.com/sparkckpt/sparkckpt/decode/codec"
	"github.com/sparkckpt/sparkckpt/decode/dstream"
	"github.com/sparkckpt/sparkckpt/decode/wal"
	"github.com/sparkckpt/sparkckpt/store"
)

// remote is a path on a store other than the local disk (HDFS), opened
// for the read-only commands.
type remote struct {
	st  *stores
	loc *location
}

func openRemote(arg string) (*remote, error) {
	st := newStores(context.Background(), os.Getenv, 0)
	loc, err := st.open(arg)
	if err != nil {
		st.Close()
		return nil, err
	}
	return &remote{st: st, loc: loc}, nil
}

func (r *remote) Close() { r.st.Close() }

// join names a file of the directory r for messages.
func (r *remote) join(rel string) string { return r.loc.display + "/" + rel }

func (r *remote) read(rel string) ([]byte, error) {
	return store.ReadFile(r.loc.store, store.Join(r.loc.name, rel))
}

// files lists the regular files of the subdirectory rel ("." for r itself).
func (r *remote) files(rel string) ([]string, error) {
	ents, err := r.loc.store.ReadDir(store.Join(r.loc.name, rel))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if e.Type().IsRegular() {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

func (r *remote) isDir(rel string) bool {
	fi, err := r.loc.store.Stat(store.Join(r.loc.name, rel))
	return err == nil && fi.IsDir()
}

// inspectRemote is inspect on an hdfs:// path: a DStream checkpoint file,
// a checkpoint directory (with its write-ahead-log summary), or a log file.
func inspectRemote(arg string, force *codec.Kind) (report, error) {
	r, err := openRemote(arg)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if !r.isDir(".") {
		b, err := store.ReadFile(r.loc.store, r.loc.name)
		if err != nil {
			return nil, err
		}
		if isWALFile(arg) {
			return readWAL(r.loc.display, bytes.NewReader(b))
		}
		f, err := decodeCheckpoint(r.loc.display, b, force)
		if err != nil {
			return nil, err
		}
		return newReport(r.loc.display, "", f, nil), nil
	}
	names, err := r.files(".")
	if err != nil {
		return nil, err
	}
	rep, err := chooseCheckpoint(r.loc.display, names, r.join, r.read, force)
	if err != nil {
		return nil, err
	}
	if r.isDir("receivedBlockMetadata") {
		if rep.WAL, err = wal.SummarizeDir(store.FS(r.loc.store, r.loc.name), "receivedBlockMetadata"); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// collectRemoteURIs is uris on an hdfs:// path: a checkpoint file, a log
// file, or a checkpoint directory (every checkpoint file and driver log).
func collectRemoteURIs(arg string, force *codec.Kind) ([]dstream.Reference, []string, error) {
	r, err := openRemote(arg)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	var ckpts, logs []string // relative to r
	switch {
	case !r.isDir(".") && isWALFile(arg):
		logs = []string{"."}
	case !r.isDir("."):
		ckpts = []string{"."}
	default:
		names, err := r.files(".")
		if err != nil {
			return nil, nil, err
		}
		cands := dstream.Candidates(names)
		if len(cands) == 0 {
			return nil, nil, notCheckpointDir(r.loc.display, names)
		}
		for _, c := range cands {
			ckpts = append(ckpts, c.Name)
		}
		if r.isDir("receivedBlockMetadata") {
			ln, _ := r.files("receivedBlockMetadata")
			for _, l := range wal.ListLogs(ln) {
				logs = append(logs, "receivedBlockMetadata/"+l.Name)
			}
		}
	}
	name := func(rel string) string {
		if rel == "." {
			return r.loc.display
		}
		return r.join(rel)
	}
	single := len(ckpts)+len(logs) == 1
	refs := []dstream.Reference{}
	var read []string
	for _, rel := range ckpts {
		b, err := r.read(rel)
		var f *dstream.File
		if err == nil {
			f, err = decodeCheckpoint(name(rel), b, force)
		}
		if err != nil {
			if single {
				return nil, nil, err
			}
			continue
		}
		read = append(read, name(rel))
		for _, ref := range dstream.References(f) {
			ref.File = name(rel)
			refs = append(refs, ref)
		}
	}
	for _, rel := range logs {
		b, err := r.read(rel)
		var rep *walFileReport
		if err == nil {
			rep, err = readWAL(name(rel), bytes.NewReader(b))
		}
		if err != nil || rep.log == nil {
			if single && err != nil {
				return nil, nil, err
			}
			continue
		}
		read = append(read, name(rel))
		for _, ref := range dstream.WALReferences(rep.log) {
			ref.File = name(rel)
			refs = append(refs, ref)
		}
	}
	return refs, read, nil
}
