package dstream_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparkckpt/sparkckpt/decode/dstream"
	"github.com/sparkckpt/sparkckpt/fixtures/real"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readDir picks and decodes the checkpoint Spark would read from dir.
func readDir(t *testing.T, dir string) (*dstream.Candidate, *dstream.File, []dstream.Skipped) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	c, f, skipped := dstream.Choose(dstream.Candidates(names), func(name string) (*dstream.File, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		return dstream.Read(b, nil)
	})
	require.NotNil(t, c, "no readable checkpoint in %s: %v", dir, skipped)
	return c, f, skipped
}

// TestRealTrees pins, per real checkpoint directory, the file Spark picks
// and values read from it (checked by hand against 'sparkckpt dump').
func TestRealTrees(t *testing.T) {
	root := real.Root(t)
	for _, tc := range []struct {
		dir       string
		file      string
		app       string
		ckptDir   string
		batchMs   int64
		outputs   int
		streams   int
		codec     string
		scala     string
		spark     string
		pyString  string // a string inside a pickled Python function ("" for JVM apps)
		inputCls  string
		confKey   string
		confValue string
	}{
		{"dhruvpratapsingh-twitter-spark-streaming/checkpoint", "checkpoint-1443983084000", "Tutorial", "file:/home/dhruv/Desktop/spark-training/streaming/scala/checkpoint", 1000, 1, 10, "snappy", "2.10", "1.x", "", "org.apache.spark.streaming.twitter.TwitterInputDStream", "spark.driver.host", "10.0.2.15"},
		{"ergemp-spark-training/spark/checkpoint/EnableCheckpointingExample", "checkpoint-1665484920000", "EnableCheckpointingExample", "file:/Users/ergemp/IdeaProjects/project_other/spark-reference2/spark/checkpoint/EnableCheckpointingExample", 10000, 1, 3, "lz4", "2.12", "3.1+", "", "org.apache.spark.streaming.dstream.SocketInputDStream", "", ""},
		{"garywangop-twitterspark/checkpoint_TwitterStreamApp", "checkpoint-1582178650000", "TwitterStreamApplication", "file:/home/garywangop/spark-1.6.3-bin-hadoop2.4/SparkProcess/checkpoint_TwitterStreamApp", 1000, 1, 4, "lz4", "2.11", "2.2-3.0", "/home/garywangop/.local/lib/python2.7/site-packages/pyspark/streaming/util.py", "org.apache.spark.streaming.dstream.SocketInputDStream", "", ""},
		{"hmntj-pysparkstream/checkpoint", "checkpoint-1524251126000", "PythonStreamingStatefulNetworkWordCount", "file:/home/eklavya/PycharmProjects/pysparkStreaming/checkpoint", 1000, 1, 4, "lz4", "2.11", "2.1.1", "/home/eklavya/Documents/spark-2.1.1-bin-hadoop2.6/python/lib/pyspark.zip/pyspark/streaming/dstream.py", "org.apache.spark.streaming.dstream.SocketInputDStream", "", ""},
		{"jleetutorial-python-spark-streaming/2_basics/checkpoint", "checkpoint-1519957966000", "log processor", "file:/home/matthew/pyspark-streaming/2_basics/checkpoint", 2000, 9, 28, "lz4", "2.11", "2.1.0", "/home/matthew/spark-2.1.0-bin-hadoop2.7/python/pyspark/streaming/dstream.py", "org.apache.spark.streaming.dstream.FileInputDStream", "", ""},
		{"jleetutorial-python-spark-streaming/3_advanced/checkpoint", "checkpoint-1519983188000", "pyspark-shell", "file:/home/matthew/pyspark-streaming/3_advanced/checkpoint", 2000, 2, 7, "lz4", "2.11", "2.1.0", "/home/matthew/spark-2.1.0-bin-hadoop2.7/python/pyspark/streaming/dstream.py", "org.apache.spark.streaming.dstream.FileInputDStream", "spark.app.id", "local-1519981721591"},
		{"omar97perez-computacionnube/P8/src/Ejercicio/Buques/Benchi", "checkpoint-1589765035000", "Boats", "file:/home/omar/Escritorio/CN/ComputacionNube/P8/src/Ejercicio/Buques/Benchi", 5000, 1, 2, "lz4", "2.12", "2.2-3.0", "/opt/spark/python/lib/pyspark.zip/pyspark/streaming/dstream.py", "org.apache.spark.streaming.dstream.SocketInputDStream", "", ""},
		{"omar97perez-computacionnube/P8/src/Ejercicio/Buques/Benchijigua", "checkpoint-1589759765000", "Boats", "file:/home/omar/Escritorio/CN/ComputacionNube/P8/src/Ejercicio/Buques/Benchijigua", 5000, 1, 2, "lz4", "2.12", "2.2-3.0", "/opt/spark/python/lib/pyspark.zip/pyspark/streaming/dstream.py", "org.apache.spark.streaming.dstream.SocketInputDStream", "", ""},
		{"omar97perez-computacionnube/P8/src/Ejercicio/Buques/Betancuria", "checkpoint-1589759855000", "Boats", "file:/home/omar/Escritorio/CN/ComputacionNube/P8/src/Ejercicio/Buques/Betancuria", 5000, 1, 2, "lz4", "2.12", "2.2-3.0", "/opt/spark/python/lib/pyspark.zip/pyspark/streaming/dstream.py", "org.apache.spark.streaming.dstream.SocketInputDStream", "", ""},
		{"shamukh82-hw6/checkpoint", "checkpoint-1508014098000", "PythonStreamingStatefulNetworkWordCount", "file:/Users/smukherjee5/harvard_hw/hw6/checkpoint", 1000, 1, 4, "lz4", "2.11", "2.2.0", "/usr/local/Cellar/apache-spark/2.2.0/libexec/python/lib/pyspark.zip/pyspark/streaming/dstream.py", "org.apache.spark.streaming.dstream.SocketInputDStream", "", ""},
		{"theonly0318-spark-study/data/streaming/ck", "checkpoint-1619605145000", "SparkStreamingReadSocket", "file:/C:/code/IdeaWorkspace/spark-code/data/streaming/ck", 5000, 1, 6, "lz4", "2.11", "2.2-3.0", "", "org.apache.spark.streaming.dstream.SocketInputDStream", "", ""},
		{"theonly0318-spark-study/data/streaming/ck2", "checkpoint-1619611670000", "UpdateStateByKeyTest", "file:/C:/code/IdeaWorkspace/spark-code/data/streaming/ck2", 5000, 1, 5, "lz4", "2.11", "2.2-3.0", "", "org.apache.spark.streaming.dstream.SocketInputDStream", "", ""},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			c, f, _ := readDir(t, filepath.Join(root, tc.dir))
			cp := f.Checkpoint
			assert.Equal(t, tc.file, c.Name)
			assert.Equal(t, tc.app, cp.AppName)
			assert.Equal(t, tc.ckptDir, cp.CheckpointDir)
			assert.Equal(t, tc.batchMs, cp.BatchDurationMs)
			assert.Len(t, cp.Graph.Outputs, tc.outputs)
			assert.Len(t, cp.Graph.Streams, tc.streams)
			assert.Equal(t, tc.codec, f.Codec.String())
			assert.True(t, strings.HasPrefix(cp.ScalaVersionHint, tc.scala), cp.ScalaVersionHint)
			assert.True(t, strings.HasPrefix(cp.SparkVersionHint, tc.spark), cp.SparkVersionHint)
			require.Len(t, cp.Graph.Inputs, 1)
			assert.Equal(t, tc.inputCls, cp.Graph.Streams[cp.Graph.Inputs[0]].Class)
			var py []string
			for _, st := range cp.Graph.Streams {
				for _, fn := range st.Functions {
					if fn.Python != nil {
						assert.Empty(t, fn.Python.Error)
						for _, s := range fn.Python.Strings {
							py = append(py, s.Value)
						}
					}
				}
			}
			if tc.pyString != "" {
				assert.Contains(t, py, tc.pyString)
			} else {
				assert.Empty(t, py)
			}
			if tc.confKey != "" {
				v, ok := cp.ConfValue(tc.confKey)
				assert.True(t, ok)
				assert.Equal(t, tc.confValue, v)
			}
		})
	}
}

// TestF21Graph checks the graph of the PySpark stateful app (spec E: F21).
func TestF21Graph(t *testing.T) {
	_, f, _ := readDir(t, filepath.Join(real.Root(t), "jleetutorial-python-spark-streaming/3_advanced/checkpoint"))
	cp := f.Checkpoint
	assert.Len(t, cp.PendingTimesMs, 729)
	assert.Equal(t, int64(1519983188000), cp.CheckpointTimeMs)
	g := cp.Graph
	in := g.Streams[g.Inputs[0]]
	assert.Equal(t, "text file stream [0]", in.Name)
	dir := map[string]string{}
	for _, a := range in.Attrs {
		dir[a.Name] = a.Value
	}
	assert.Equal(t, "data", dir["directory"])
	assert.Equal(t, "30", dir["numBatchesToRemember"])
	var state *dstream.Stream
	for _, s := range g.Streams {
		if strings.HasSuffix(s.Class, "PythonStateDStream") {
			state = s
		}
	}
	require.NotNil(t, state)
	assert.True(t, state.MustCheckpoint)
	assert.Equal(t, int64(10000), *state.CheckpointIntervalMs)
	require.Len(t, state.CheckpointData.Entries, 1)
	e := state.CheckpointData.Entries[0]
	assert.Equal(t, "rdd", e.Kind)
	assert.Equal(t, int64(1519980492000), e.TimeMs)
	assert.Equal(t, []string{"file:/home/matthew/pyspark-streaming/3_advanced/checkpoint/c19135df-77d4-413c-92d6-a60ca52c56ab/rdd-317"}, e.Values)
	require.Len(t, state.Functions, 1)
	assert.Equal(t, 2, state.Functions[0].Python.PickleProtocol)
	assert.Equal(t, "MEMORY_ONLY", state.StorageLevel)
}

func TestCandidatesOrder(t *testing.T) {
	got := dstream.Candidates([]string{"checkpoint-100", "checkpoint-200.bk", "temp", "checkpoint-200", "checkpoint-50", ".checkpoint-200.crc", "receivedBlockMetadata", "checkpoint-x"})
	var names []string
	for _, c := range got {
		names = append(names, c.Name)
	}
	assert.Equal(t, []string{"checkpoint-200", "checkpoint-200.bk", "checkpoint-100", "checkpoint-50"}, names)
}

// TestFallbackTruncated truncates the newest file of a real tree: Spark,
// and Choose, fall back to the next candidate and report the skip.
func TestFallbackTruncated(t *testing.T) {
	src := filepath.Join(real.Root(t), "omar97perez-computacionnube/P8/src/Ejercicio/Buques/Benchi")
	dir := t.TempDir()
	ents, err := os.ReadDir(src)
	require.NoError(t, err)
	for _, e := range ents {
		if e.Type().IsRegular() {
			b, err := os.ReadFile(filepath.Join(src, e.Name()))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644))
		}
	}
	newest := filepath.Join(dir, "checkpoint-1589765035000")
	b, err := os.ReadFile(newest)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(newest, b[:len(b)/2], 0o644))
	c, f, skipped := readDir(t, dir)
	assert.Equal(t, "checkpoint-1589765035000.bk", c.Name)
	assert.Equal(t, int64(1589765035000), f.Checkpoint.CheckpointTimeMs)
	require.Len(t, skipped, 1)
	assert.Equal(t, "checkpoint-1589765035000", skipped[0].Name)
	assert.Contains(t, skipped[0].Reason, "truncated")
}

func TestDemangleAndSecret(t *testing.T) {
	assert.Equal(t, "fm", dstream.Demangle("org$apache$spark$streaming$dstream$FileInputDStream$$fm"))
	assert.Equal(t, "evidence$1", dstream.Demangle("evidence$1"))
	assert.True(t, dstream.Secret("spark.ssl.keyPassword"))
	assert.True(t, dstream.Secret("spark.authenticate.secret"))
	assert.False(t, dstream.Secret("spark.master"))
}
