package main

import (
	"fmt"
	"path"
	"path/filepath"
	"sort"

	"github.com/sparkckpt/sparkckpt/decode/codec"
	"github.com/sparkckpt/sparkckpt/decode/dstream"
	"github.com/sparkckpt/sparkckpt/decode/wal"
	"github.com/spf13/cobra"
)

func newURIsCmd(g *globalOptions) *cobra.Command {
	cf := &codecFlag{}
	cmd := &cobra.Command{
		Use:   "uris PATH",
		Short: "List every URI and host a checkpoint references, grouped by scheme and authority",
		Long: `uris lists every URI and host-like value in a checkpoint: Java strings anywhere in the
object tree, conf values, RDD checkpoint paths, input files, receiver hosts and strings
inside pickled Python functions, each with its file and its location in the object tree,
grouped by scheme+authority (e.g. hdfs://ip-172-31-45-105.ec2.internal:8020).

Roles marked "restart" decide where Spark reads on restart (checkpointDir drives the
write-ahead logs and RDD recovery); the others are values baked into the application
(conf, outputs inside functions). PATH is a checkpoint file, a write-ahead-log file, or a directory;
for a checkpoint directory every checkpoint-* file (and .bk) and every driver log
(receivedBlockMetadata/log-*, whose block events store WAL segment URIs) is read.
For a Structured Streaming checkpoint (offsets/): the files its file sources have seen
(sources/<n>/) and transformWithState schema paths (state/<op>/_metadata/v2); for a file
sink's output directory (or its _spark_metadata): the output files it committed.

--json prints an array of {uri, scheme, authority, file, location, role, source}.

` + hdfsPathHelp,
		Example: `  sparkckpt uris /restore/ckpt
  sparkckpt uris --json /restore/ckpt | jq -r '.[].authority' | sort -u`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			force, err := cf.force()
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			st := newStores(cmd.Context(), g.getenv, 0)
			st.lim = g.limits()
			defer st.Close()
			refs, files, err := collectURIs(st, args[0], force)
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			if g.json {
				return writeJSON(cmd.OutOrStdout(), refs)
			}
			renderURIs(newPrinter(cmd), refs, files)
			return nil
		},
	}
	cmd.Flags().StringVar(&cf.name, "codec", "auto", codecHelp)
	g.addLimitFlags(cmd)
	return cmd
}

// collectURIs reads a checkpoint file, a write-ahead-log file, or every
// checkpoint file and driver log of a directory, on the local disk or on
// HDFS, and returns their references and the files read.
func collectURIs(st *stores, path string, force *codec.Kind) ([]dstream.Reference, []string, error) {
	in, err := st.openInput(path)
	if err != nil {
		return nil, nil, err
	}
	// Structured Streaming checkpoints, file sink logs and their files
	// (structured.go); a mixed directory adds its DStream references below.
	kind := structuredPath(in)
	if kind != pathNone && kind != pathMixed {
		refs, files, _, err := collectStructuredURIs(in)
		return refs, files, err
	}
	var ckpts, logs []string // relative to in
	switch {
	case !in.dir && isWALFile(in.name):
		logs = []string{"."}
	case !in.dir:
		ckpts = []string{"."}
	case filepath.Base(filepath.Clean(in.name)) == "receivedBlockMetadata":
		logs = listLogs(in, ".")
	default:
		names, err := in.files(".")
		if err != nil {
			return nil, nil, err
		}
		cands := dstream.Candidates(names)
		if len(cands) == 0 {
			return nil, nil, notCheckpointDir(in.name, names)
		}
		for _, c := range cands {
			ckpts = append(ckpts, c.Name)
		}
		logs = listLogs(in, "receivedBlockMetadata")
	}
	single := len(ckpts)+len(logs) == 1
	refs := []dstream.Reference{}
	var read []string
	for _, rel := range ckpts {
		df, err := readCheckpointFile(in, rel, force)
		if err != nil {
			if single {
				return nil, nil, err
			}
			continue // an unreadable file is check's business; list what can be read
		}
		f := in.path(rel)
		read = append(read, f)
		for _, r := range dstream.References(df) {
			r.File = f
			refs = append(refs, r)
		}
	}
	for _, rel := range logs {
		rep, err := readWALFile(in, rel)
		if err != nil || rep.log == nil {
			if single && err != nil {
				return nil, nil, err
			}
			continue
		}
		f := in.path(rel)
		read = append(read, f)
		for _, r := range dstream.WALReferences(rep.log) {
			r.File = f
			refs = append(refs, r)
		}
	}
	if kind == pathMixed { // structured.go
		srefs, sfiles, _, err := collectStructuredURIs(in)
		if err != nil {
			return nil, nil, err
		}
		refs, read = append(refs, srefs...), append(read, sfiles...)
	}
	return refs, read, nil
}

// listLogs returns the driver log files of the receivedBlockMetadata
// directory rel of in, relative to in, in Spark's order; none if it does
// not exist.
func listLogs(in *input, rel string) []string {
	names, err := in.files(rel)
	if err != nil {
		return nil
	}
	var out []string
	for _, l := range wal.ListLogs(names) {
		out = append(out, path.Join(rel, l.Name))
	}
	return out
}

func renderURIs(p *printer, refs []dstream.Reference, files []string) {
	type group struct {
		key   string
		refs  []dstream.Reference
		files map[string]bool
	}
	groups := map[string]*group{}
	for _, r := range refs {
		k := r.Key()
		if groups[k] == nil {
			groups[k] = &group{key: k, files: map[string]bool{}}
		}
		groups[k].refs = append(groups[k].refs, r)
		groups[k].files[r.File] = true
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	p.printf("%d reference(s) to %d place(s) in %d file(s)\n", len(refs), len(keys), len(files))
	for _, k := range keys {
		gr := groups[k]
		p.section(fmt.Sprintf("%s  (%d reference(s) in %d file(s))", p.bold(k), len(gr.refs), len(gr.files)))
		type line struct{ role, loc, uri string }
		count := map[line]map[string]bool{}
		var order []line
		for _, r := range gr.refs {
			loc := r.Location
			if r.ConfKey != "" {
				loc += " " + r.ConfKey
			}
			l := line{r.Role, loc, r.URI}
			if count[l] == nil {
				count[l] = map[string]bool{}
				order = append(order, l)
			}
			count[l][r.File] = true
		}
		var rows [][]string
		for _, l := range order {
			role := l.role
			info, ok := dstream.Role(l.role)
			if !ok {
				info, ok = structuredRole(l.role) // structured.go
			}
			if ok && info.Restart {
				role = p.warn(role + " (restart)")
			}
			where := l.loc
			if n := len(count[l]); n > 1 {
				where += fmt.Sprintf(" [%d files]", n)
			} else {
				for f := range count[l] {
					where += " [" + filepath.Base(f) + "]"
				}
			}
			rows = append(rows, []string{role, l.uri, p.dim(where)})
		}
		p.table("  ", rows)
	}
	var roles []string
	seen := map[string]bool{}
	for _, r := range refs {
		if !seen[r.Role] {
			seen[r.Role] = true
			roles = append(roles, r.Role)
		}
	}
	sort.Strings(roles)
	if len(roles) > 0 {
		p.section("roles")
		var rows [][]string
		for _, r := range roles {
			info, ok := dstream.Role(r)
			if !ok {
				info, _ = structuredRole(r) // structured.go
			}
			rows = append(rows, []string{r, info.Meaning})
		}
		p.table("  ", rows)
	}
}
