package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"

	"github.com/mattn/go-isatty"
	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/spf13/cobra"
)

func newCatCmd(g *globalOptions) *cobra.Command {
	cf := &codecFlag{}
	cmd := &cobra.Command{
		Use:   "cat FILE",
		Short: "Write the decompressed Java serialization stream of FILE to stdout",
		Long: `cat decompresses FILE (a checkpoint-<ms> file, its .bk, an RDD part-* file, or a raw
Java serialization stream) and writes the Java stream to stdout, so it can be piped into
other tools. The codec is detected from the magic bytes unless --codec is given.

With --json, cat writes a summary instead of the bytes: codec, block size, sizes and the
SHA-256 of the decompressed stream.

` + hdfsPathHelp,
		Example: `  sparkckpt cat checkpoint/checkpoint-1519983188000 > stream.ser
  sparkckpt cat --json checkpoint/checkpoint-1519983188000`,
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
			out := cmd.OutOrStdout()
			h := sha256.New()
			var w io.Writer = h
			if !g.json {
				raw := out
				if f, ok := out.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
					// On a terminal the stream's strings would act as
					// escape sequences: shown escaped (escape.go); a pipe
					// or file gets the bytes as they are.
					raw = &safeWriter{w: out}
				}
				w = io.MultiWriter(raw, h)
			}
			n, err := io.Copy(w, src.r)
			if err != nil {
				return &exitErr{code: exitError, err: decode.WithFile(err, src.path)}
			}
			if !g.json {
				return nil
			}
			fi, _ := src.f.Stat()
			enc := json.NewEncoder(out)
			enc.SetIndent("", "  ")
			return enc.Encode(map[string]any{
				"kind":              "stream",
				"file":              src.path,
				"codec":             src.r.Kind().String(),
				"blockSize":         src.r.Params().BlockSize,
				"compressedBytes":   fi.Size(),
				"decompressedBytes": n,
				"sha256":            hex.EncodeToString(h.Sum(nil)),
			})
		},
	}
	cmd.Flags().StringVar(&cf.name, "codec", "auto", codecHelp)
	g.addLimitFlags(cmd)
	return cmd
}
