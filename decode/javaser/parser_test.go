package javaser_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/codec"
	"github.com/sparkckpt/sparkckpt/decode/javaser"
	"github.com/sparkckpt/sparkckpt/fixtures/real"
	"github.com/stretchr/testify/require"
)

type input struct {
	name string
	b    []byte
}

// reuseInputs returns every real checkpoint and RDD part payload, every
// record of the real and generated write-ahead logs (and the event
// streams nested in batched records), and every generated fixture that
// decompresses, each as its own copy of the bytes.
func reuseInputs(t testing.TB) []input {
	var out []input
	add := func(name string, b []byte) {
		out = append(out, input{name, bytes.Clone(b)})
		// The event streams inside a batched WAL record ([[B).
		if s, err := javaser.Parse(b); err == nil && len(s.Contents) == 1 {
			if a, ok := s.Contents[0].(*javaser.Array); ok && a.Class.Name() == "[[B" {
				for i, e := range a.Elems {
					if inner, ok := javaser.Resolve(e).(*javaser.Array); ok {
						out = append(out, input{fmt.Sprintf("%s [%d]", name, i), bytes.Clone(inner.Prims)})
					}
				}
			}
		}
	}
	for _, f := range real.Files(t, func(rel string) bool { return real.IsCheckpoint(rel) || real.IsRDDPart(rel) }) {
		add(real.Rel(t, f), payload(t, f))
	}
	for _, f := range real.Files(t, real.IsMetadataLog) {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for i, rec := range walRecords(b) {
			add(fmt.Sprintf("%s#%d", real.Rel(t, f), i), rec)
		}
	}
	gen := 0
	err := filepath.WalkDir("../../fixtures/generated", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".json") || strings.HasSuffix(p, ".md") || strings.HasSuffix(p, ".crc") {
			return err
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.Contains(p, "/wal/") {
			for i, rec := range walRecords(raw) {
				add(fmt.Sprintf("%s#%d", p, i), rec)
			}
			return nil
		}
		if data, _, _, err := codec.Decompress(raw); err == nil {
			add(p, data)
			gen++
		}
		return nil
	})
	require.NoError(t, err)
	require.Greater(t, gen, 70, "generated fixtures")
	return out
}

// checkReuse parses in with p and requires the same outcome as a fresh
// Parse: the same error, or a tree SameTree as the fresh one (and Dump
// alike) that re-encodes to in.
func checkReuse(t testing.TB, p *javaser.Parser, in input) {
	t.Helper()
	want, wantErr := javaser.Parse(in.b)
	got, err := p.Parse(in.b)
	if wantErr != nil || err != nil {
		requireSameError(t, in.name, err, wantErr)
		return
	}
	if err := javaser.SameTree(got, want, in.b); err != nil {
		t.Fatalf("%s: reused parser's tree differs from Parse's: %v", in.name, err)
	}
	var dg, dw bytes.Buffer
	require.NoError(t, javaser.Dump(&dg, got, javaser.DumpOptions{}))
	require.NoError(t, javaser.Dump(&dw, want, javaser.DumpOptions{}))
	require.Equal(t, dw.String(), dg.String(), in.name)
	out, err := javaser.Encode(got)
	require.NoError(t, err, in.name)
	require.True(t, bytes.Equal(out, in.b), "%s: re-encoding differs", in.name)
}

func requireSameError(t testing.TB, name string, got, want error) {
	t.Helper()
	if (got == nil) != (want == nil) {
		t.Fatalf("%s: reused parser's error %v, Parse's %v", name, got, want)
	}
	var g, w *decode.Error
	require.True(t, errors.As(got, &g), "%s: %v", name, got)
	require.True(t, errors.As(want, &w), "%s: %v", name, want)
	require.Equal(t, want.Error(), got.Error(), name)
	require.True(t, reflect.DeepEqual(g, w), "%s: %#v, want %#v", name, g, w)
}

// TestParserReuseMatchesParse parses every input with one Parser, in
// three orders (each with a new Parser): each tree must be Parse's.
func TestParserReuseMatchesParse(t *testing.T) {
	ins := reuseInputs(t)
	t.Logf("%d inputs", len(ins))
	rev := slices.Clone(ins)
	slices.Reverse(rev)
	shuffled := slices.Clone(ins)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for name, order := range map[string][]input{"forward": ins, "reverse": rev, "shuffled": shuffled} {
		t.Run(name, func(t *testing.T) {
			var p javaser.Parser
			for _, in := range order {
				checkReuse(t, &p, in)
			}
		})
	}
}

// TestParserReuseAfterErrors interleaves failing parses (truncated and
// bit-flipped inputs) with good ones on one Parser: every error must be
// Parse's, and every parse after a failed one must still be right.
func TestParserReuseAfterErrors(t *testing.T) {
	ins := reuseInputs(t)
	rng := rand.New(rand.NewPCG(3, 4))
	var p javaser.Parser
	failed := 0
	for i, in := range ins {
		if i%3 != 0 || len(in.b) < 8 {
			continue
		}
		for k := 0; k < 4; k++ {
			cut := 4 + rng.IntN(len(in.b)-4)
			bad := input{fmt.Sprintf("%s cut at %d", in.name, cut), in.b[:cut]}
			flipped := bytes.Clone(in.b)
			at := 4 + rng.IntN(len(in.b)-4)
			flipped[at] ^= 1 << rng.IntN(8)
			for _, x := range []input{bad, {fmt.Sprintf("%s flipped at %d", in.name, at), flipped}} {
				if _, err := javaser.Parse(x.b); err != nil {
					failed++
				}
				checkReuse(t, &p, x)
				_, err := p.Parse(x.b)
				msg := fmt.Sprint(err)
				checkReuse(t, &p, in)
				// An error outlives the next parse.
				require.Equal(t, msg, fmt.Sprint(err), x.name)
			}
		}
		// The next input too, after a failure.
		checkReuse(t, &p, input{in.name + " cut", in.b[:len(in.b)-1]})
		checkReuse(t, &p, ins[(i+1)%len(ins)])
	}
	t.Logf("%d failing parses", failed)
	require.Greater(t, failed, 500)
}

// TestParserOptions: a Parser applies its Options as Options.Parse does,
// errors included.
func TestParserOptions(t *testing.T) {
	b := f21(t)
	o := javaser.Options{Limits: decode.Limits{MaxDepth: 3}}
	_, want := o.Parse(b)
	require.Error(t, want)
	p := javaser.Parser{Options: o}
	_, got := p.Parse(b)
	requireSameError(t, "MaxDepth 3", got, want)
	p.Options = javaser.Options{}
	checkReuse(t, &p, input{"F21", b})
}

// FuzzParserReuse parses two inputs, then the first again, with one
// Parser: each outcome must be a fresh Parse's.
func FuzzParserReuse(f *testing.F) {
	seeds := fuzzSeeds()
	for i := range seeds {
		if a, b := seeds[i], seeds[(i+1)%len(seeds)]; real.Seed(len(a) + len(b)) {
			f.Add(a, b)
		}
	}
	f.Add([]byte{0xAC, 0xED, 0x00, 0x05, 0x70}, []byte{0xAC, 0xED, 0x00, 0x05, 0x71})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		var p javaser.Parser
		checkReuse(t, &p, input{"a", a})
		checkReuse(t, &p, input{"b", b})
		checkReuse(t, &p, input{"a again", a})
	})
}
