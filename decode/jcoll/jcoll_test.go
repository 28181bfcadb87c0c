package jcoll_test

import (
	"os"
	"sort"
	"strconv"
	"testing"

	"github.com/sparkckpt/sparkckpt/decode/javaser"
	"github.com/sparkckpt/sparkckpt/decode/jcoll"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func contents(t *testing.T, name string) []javaser.Node {
	t.Helper()
	b, err := os.ReadFile("../../fixtures/generated/" + name)
	require.NoError(t, err)
	s, err := javaser.Parse(b)
	require.NoError(t, err)
	return s.Contents
}

// strs renders values: strings as themselves, boxed integers in decimal.
func strs(t *testing.T, ns []javaser.Node) []string {
	t.Helper()
	var out []string
	for _, n := range ns {
		if s, ok := jcoll.String(n); ok {
			out = append(out, s)
		} else if v, ok := jcoll.Int(n); ok {
			out = append(out, strconv.FormatInt(v, 10))
		} else if _, isNull := javaser.Resolve(n).(*javaser.Null); isNull {
			out = append(out, "null")
		} else {
			out = append(out, javaser.KindOf(n))
		}
	}
	return out
}

func entries(t *testing.T, es []jcoll.Entry) map[string]string {
	out := map[string]string{}
	for _, e := range es {
		out[strs(t, []javaser.Node{e.Key})[0]] = strs(t, []javaser.Node{e.Value})[0]
	}
	return out
}

// TestScala211 reads the Scala 2.11 collections written by the JVM
// generator (fixtures/jvm/src/sparkckpt/fixtures/Fixtures.java scalaCollections).
func TestScala211(t *testing.T) {
	c := contents(t, "scala-collections.ser")
	require.Len(t, c, 10)

	tup, ok := jcoll.Tuple(c[0])
	require.True(t, ok)
	assert.Equal(t, []string{"tuple-key", "1"}, strs(t, tup))

	v, some, ok := jcoll.Option(c[1])
	assert.True(t, ok && some)
	assert.Equal(t, []string{"some-value"}, strs(t, []javaser.Node{v}))
	_, some, ok = jcoll.Option(c[2])
	assert.True(t, ok)
	assert.False(t, some)

	l, ok := jcoll.Seq(c[3])
	require.True(t, ok)
	assert.Equal(t, []string{"l1", "l2", "l3"}, strs(t, l))
	l, ok = jcoll.Seq(c[4])
	require.True(t, ok)
	assert.Empty(t, l, "Nil")

	m, ok := jcoll.Map(c[5])
	require.True(t, ok)
	assert.Equal(t, map[string]string{"m-a": "1", "m-b": "m-value"}, entries(t, m))

	m, ok = jcoll.Map(c[6])
	require.True(t, ok)
	assert.Equal(t, map[string]string{"i-0": "0", "i-1": "1", "i-2": "2", "i-3": "3", "i-4": "4", "i-5": "5"}, entries(t, m))

	b, ok := jcoll.Seq(c[7])
	require.True(t, ok)
	assert.Equal(t, []string{"ab-1", "2"}, strs(t, b), "ArrayBuffer: size0 elements of a 16-slot array")

	vec, ok := jcoll.Seq(c[8])
	require.True(t, ok)
	assert.Equal(t, []string{"v1", "v2"}, strs(t, vec))

	w, ok := jcoll.Seq(c[9])
	require.True(t, ok)
	assert.Equal(t, []string{"w1", "w2"}, strs(t, w))
}

// TestJDK reads java.util.HashMap/ArrayList and boxed numbers.
func TestJDK(t *testing.T) {
	c := contents(t, "jdk-collections.ser")
	require.Len(t, c, 5)
	m, ok := jcoll.Map(c[0])
	require.True(t, ok)
	got := entries(t, m)
	keys := make([]string, 0, len(got))
	for k := range got {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	assert.Equal(t, []string{"alpha", "beta", "delta", "gamma"}, keys)
	assert.Equal(t, "1", got["alpha"])
	assert.Equal(t, "2", got["beta"])
	assert.Equal(t, "three", got["gamma"])

	l, ok := jcoll.Seq(c[1])
	require.True(t, ok)
	assert.Equal(t, []string{"list-a", "1", "2", "null", "object"}, strs(t, l))
	n, ok := jcoll.Int(c[2])
	assert.True(t, ok)
	assert.Equal(t, int64(100000), n)
	n, ok = jcoll.Int(c[3])
	assert.True(t, ok)
	assert.Equal(t, int64(-5), n)
	l, ok = jcoll.Seq(c[4])
	assert.True(t, ok)
	assert.Empty(t, l)
}

func TestNotACollection(t *testing.T) {
	c := contents(t, "jdk-collections.ser")
	_, ok := jcoll.Seq(c[2])
	assert.False(t, ok)
	_, ok = jcoll.Map(c[1])
	assert.False(t, ok)
	_, _, ok = jcoll.Option(c[0])
	assert.False(t, ok)
	_, ok = jcoll.Tuple(c[0])
	assert.False(t, ok)
}
