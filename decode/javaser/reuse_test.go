package javaser

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"unsafe"
	"weak"

	"github.com/stretchr/testify/require"
)

// keptBytes checks what a Parser keeps between parses: every kept chunk
// is zero past the part its last parse wrote (so nothing of an earlier
// parse is kept), spares are all zero, and the chunks add up to at most
// MaxParserRetain bytes, which it returns.
func keptBytes(t *testing.T, pr *Parser) int {
	t.Helper()
	a := pr.p.a
	total := 0
	for _, s := range a.slabs() {
		total += s.(interface{ check(*testing.T) int }).check(t)
	}
	for i, c := range a.texts {
		require.Less(t, i, len(a.texts))
		total += cap(c)
	}
	require.Zero(t, a.ntexts)
	require.Nil(t, a.text)
	require.LessOrEqual(t, total, MaxParserRetain)
	return total
}

func (s *slab[T]) check(t *testing.T) int {
	t.Helper()
	require.Nil(t, s.buf)
	require.Empty(t, s.chunks, "a parse's chunks are spares for the next")
	total := 0
	for i, c := range s.chunks[:len(s.dirty)] {
		if c == nil {
			continue
		}
		require.Len(t, c, s.maxChunk())
		rest := c[s.dirty[i]:]
		if len(rest) > 0 {
			b := unsafe.Slice((*byte)(unsafe.Pointer(&rest[0])), len(rest)*s.elemSize())
			require.Equal(t, len(b), bytes.Count(b, []byte{0}), "%T chunk %d: non-zero past the %d Ts written", s, i, s.dirty[i])
		}
		total += len(c) * s.elemSize()
	}
	return total
}

// lookaheadStream is TestHandlesAfterLookahead's stream (buildLookahead).
func lookaheadStream(t *testing.T, n int) []byte {
	b, _, _ := buildLookahead(t, n)
	return b
}

// TestParserKeepsNothingStale parses the generated fixtures and streams
// with look-ahead, in turn, with one Parser, checking after each parse
// that its tree is Parse's and what the Parser keeps.
func TestParserKeepsNothingStale(t *testing.T) {
	files, err := filepath.Glob("../../fixtures/generated/*.ser")
	require.NoError(t, err)
	var ins [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		ins = append(ins, b)
	}
	for _, n := range []int{400, 3, 2000, 1} {
		ins = append(ins, lookaheadStream(t, n))
	}
	var pr Parser
	for round := range 2 {
		for i, b := range ins {
			got, err := pr.Parse(b)
			want, wantErr := Parse(b)
			require.Equal(t, wantErr, err, "%d", i)
			if err == nil {
				require.NoError(t, SameTree(got, want, b), "round %d, input %d", round, i)
			}
			keptBytes(t, &pr)
		}
		// Then reversed.
		for i, j := 0, len(ins)-1; i < j; i, j = i+1, j-1 {
			ins[i], ins[j] = ins[j], ins[i]
		}
	}
}

// TestParserRetainBound: a stream whose tree needs more than
// MaxParserRetain parses right, and the Parser keeps at most that much.
func TestParserRetainBound(t *testing.T) {
	// Strings of one byte: 4 bytes of stream, 40 of String node each.
	b := []byte{0xAC, 0xED, 0, 5}
	for i := 0; i < 600_000; i++ {
		b = append(b, TCString, 0, 1, 'a'+byte(i%26))
	}
	var pr Parser
	for range 2 {
		got, err := pr.Parse(b)
		require.NoError(t, err)
		want, err := Parse(b)
		require.NoError(t, err)
		require.NoError(t, SameTree(got, want, b))
		kept := keptBytes(t, &pr)
		require.Greater(t, kept, MaxParserRetain*3/4)
	}
	got, err := pr.Parse(b[:100])
	require.NoError(t, err)
	require.Len(t, got.Contents, 24)
	keptBytes(t, &pr)
}

// TestParserDropsOldInput: once a Parser has parsed another stream, it no
// longer keeps the input of the one before reachable.
func TestParserDropsOldInput(t *testing.T) {
	fx, err := os.ReadFile("../../fixtures/generated/jdk-collections.ser")
	require.NoError(t, err)
	small, err := os.ReadFile("../../fixtures/generated/grammar-primitives.ser")
	require.NoError(t, err)
	var pr Parser
	var wp weak.Pointer[[1 << 20]byte]
	func() {
		big := new([1 << 20]byte)
		n := copy(big[:], lookaheadStream(t, 300))
		for len(fx)+n < len(big) {
			// More contents: the fixture's objects after a reset.
			big[n] = TCReset
			n += 1 + copy(big[n+1:], fx[4:])
		}
		s, err := pr.Parse(big[:n])
		require.NoError(t, err)
		require.Greater(t, len(s.Contents), 100)
		wp = weak.Make(big)
		_, err = pr.Parse(small)
		require.NoError(t, err)
	}()
	runtime.GC()
	runtime.GC()
	require.True(t, wp.Value() == nil, "the Parser keeps the earlier input reachable")
	runtime.KeepAlive(&pr)
}
