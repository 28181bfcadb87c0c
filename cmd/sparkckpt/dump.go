package main

import (
	"encoding/json"
	"fmt"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/javaser"
	"github.com/spf13/cobra"
)

func newDumpCmd(g *globalOptions) *cobra.Command {
	cf := &codecFlag{}
	var full bool
	cmd := &cobra.Command{
		Use:   "dump FILE",
		Short: "Print the Java object tree of FILE: classes, fields, values, handles, offsets",
		Long: `dump decompresses FILE and prints its Java serialization stream as a tree: every object
with its class, every field with its name and value, handles (0x7e0000...) and the byte
offset of each node in the decompressed stream (the offsets 'sparkckpt cat' output has).
Works on checkpoint files, their .bk, RDD part-* files and raw streams.

Long strings and byte runs are shortened; --full shows them whole. --json prints the
complete tree (see the README for its shape).

` + hdfsPathHelp,
		Example: `  sparkckpt dump checkpoint/checkpoint-1519983188000 | less
  sparkckpt dump --json checkpoint/checkpoint-1519983188000 | jq '.contents[0].class'`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st := newStores(cmd.Context(), g.getenv, 0)
			st.lim = g.limits()
			defer st.Close()
			src, err := openSource(st, args[0], cf)
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			defer src.Close()
			data, err := src.readAll()
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			s, err := javaser.Options{Limits: g.limits()}.Parse(data)
			if err != nil {
				return &exitErr{code: exitError, err: decode.WithFile(err, src.path)}
			}
			out := cmd.OutOrStdout()
			if g.json {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]any{
					"kind":   "javaser",
					"file":   src.path,
					"codec":  src.r.Kind().String(),
					"stream": javaser.JSON(s),
				})
			}
			out = &safeWriter{w: out} // class and field names are the file's (escape.go)
			fmt.Fprintf(out, "file %s codec=%s decompressed=%d bytes\n", src.path, src.r.Kind(), len(data))
			o := javaser.DumpOptions{}
			if full {
				o = javaser.DumpOptions{MaxString: -1, MaxBytes: -1}
			}
			return javaser.Dump(out, s, o)
		},
	}
	cmd.Flags().StringVar(&cf.name, "codec", "auto", codecHelp)
	cmd.Flags().BoolVar(&full, "full", false, "show long strings and byte runs in full")
	g.addLimitFlags(cmd)
	return cmd
}
