package dstream_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/dstream"
	"github.com/sparkckpt/sparkckpt/fixtures/real"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReferencesF21(t *testing.T) {
	_, f, _ := readDir(t, filepath.Join(real.Root(t), "jleetutorial-python-spark-streaming/3_advanced/checkpoint"))
	byRole := map[string][]dstream.Reference{}
	for _, r := range dstream.References(f) {
		byRole[r.Role] = append(byRole[r.Role], r)
	}
	require.Len(t, byRole["checkpointDir"], 1)
	cd := byRole["checkpointDir"][0]
	assert.Equal(t, "file:/home/matthew/pyspark-streaming/3_advanced/checkpoint", cd.URI)
	assert.Equal(t, "file", cd.Scheme)
	assert.Equal(t, "", cd.Authority)
	assert.Equal(t, "file:", cd.Key())
	assert.Equal(t, "Checkpoint.checkpointDir", cd.Location)
	require.Len(t, byRole["rdd-checkpoint"], 1)
	assert.Equal(t, "file:/home/matthew/pyspark-streaming/3_advanced/checkpoint/c19135df-77d4-413c-92d6-a60ca52c56ab/rdd-317", byRole["rdd-checkpoint"][0].URI)
	require.Len(t, byRole["conf"], 1)
	assert.Equal(t, "10.0.2.15", byRole["conf"][0].URI)
	assert.Equal(t, "spark.driver.host", byRole["conf"][0].ConfKey)
	for _, r := range dstream.References(f) {
		if r.Source == "java" {
			// The reference points at the very string node a rewrite would edit.
			assert.Contains(t, r.Node.Value(), r.URI)
		}
	}
}

func TestFindURIs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"hdfs://nn:8020/user/x", []string{"hdfs://nn:8020/user/x"}},
		{"file:/tmp/a,file:///tmp/b", []string{"file:/tmp/a", "file:///tmp/b"}},
		{"at org.Foo(Foo.scala:12)", nil},
		{`{"id":"0","name":"x"}`, nil},
		{"Ljava/lang/String;", nil},
		{"jars: s3a://bucket/app.jar and hdfs://ha-ns/x", []string{"s3a://bucket/app.jar", "hdfs://ha-ns/x"}},
	} {
		assert.Equal(t, tc.want, dstream.FindURIs(tc.in), tc.in)
	}
	s, a := dstream.SplitURI("HDFS://nn.example:8020/x")
	assert.Equal(t, "hdfs", s)
	assert.Equal(t, "nn.example:8020", a)
}

// FuzzRead: any input either decodes or fails with a positioned error.
func FuzzRead(f *testing.F) {
	for _, p := range []string{"jleetutorial-python-spark-streaming/3_advanced/checkpoint/checkpoint-1519983188000", "omar97perez-computacionnube/P8/src/Ejercicio/Buques/Benchi/checkpoint-1589765035000", "dhruvpratapsingh-twitter-spark-streaming/checkpoint/checkpoint-1443983084000"} {
		if b, err := os.ReadFile(filepath.Join("../../../shared/fixtures-real", p)); err == nil && real.Seed(len(b)) {
			f.Add(b)
		}
	}
	// Small seeds for the mutator: the smallest real checkpoints (3.5 KB)
	// and the generated grammar streams in every codec (under 1 KB).
	small, _ := filepath.Glob("../../fixtures/generated/grammar-*")
	if _, err := os.Stat("../../../shared/fixtures-real"); err == nil {
		for _, p := range real.Files(f, real.IsCheckpoint) {
			if st, err := os.Stat(p); err == nil && st.Size() <= real.MaxMutationSeed {
				small = append(small, p)
			}
		}
	}
	for i, p := range small {
		if b, err := os.ReadFile(p); err == nil && i < 16 {
			f.Add(b)
		}
	}
	f.Add([]byte("LZ4Block"))
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := dstream.Read(b, nil)
		if err != nil {
			var de *decode.Error
			if !assert.ErrorAs(t, err, &de) {
				t.Fatalf("unpositioned error: %v", err)
			}
			return
		}
		dstream.References(file)
	})
}
