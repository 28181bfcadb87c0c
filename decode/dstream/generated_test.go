package dstream_test

import (
	"testing"

	"github.com/sparkckpt/sparkckpt/decode/dstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const nn = "hdfs://namenode.example.com:8020"

// TestGeneratedHDFSApp checks the model of the JVM-generated hdfs-app
// checkpoint (fixtures/dstreamgen/README.md lists the values placed).
func TestGeneratedHDFSApp(t *testing.T) {
	c, f, skipped := readDir(t, "../../fixtures/generated/dstream/hdfs-app")
	assert.Equal(t, "checkpoint-1700000010000", c.Name)
	assert.Empty(t, skipped)
	cp := f.Checkpoint
	assert.Equal(t, nn+"/user/spark/checkpoints/hdfs-app", cp.CheckpointDir)
	assert.Equal(t, "hdfs-app", cp.AppName)
	assert.Equal(t, "yarn", cp.Master)
	assert.Equal(t, []string{nn + "/user/spark/jars/app.jar"}, cp.Jars)
	assert.Equal(t, []int64{1700000000000, 1700000005000, 1700000010000}, cp.PendingTimesMs)
	assert.Equal(t, int64(5000), cp.BatchDurationMs)
	v, _ := cp.ConfValue("spark.eventLog.dir")
	assert.Equal(t, nn+"/spark-logs", v)

	var state, files *dstream.Stream
	for _, s := range cp.Graph.Streams {
		switch s.Class {
		case "org.apache.spark.streaming.dstream.StateDStream":
			state = s
		case "org.apache.spark.streaming.dstream.FileInputDStream":
			files = s
		}
	}
	require.NotNil(t, state)
	assert.True(t, state.MustCheckpoint, "subclass override wins over the base field")
	assert.Equal(t, int64(50000), *state.CheckpointIntervalMs)
	attrs := map[string]string{}
	for _, a := range state.Attrs {
		attrs[a.Name] = a.Value
	}
	assert.Equal(t, "HashPartitioner(4)", attrs["partitioner"])
	var rdds []string
	for _, e := range state.CheckpointData.Entries {
		rdds = append(rdds, e.Values...)
	}
	assert.ElementsMatch(t, []string{
		nn + "/user/spark/checkpoints/hdfs-app/3f0c2a9e-5b7d-4c1e-9a2f-6d8e1b4c7a90/rdd-41",
		nn + "/user/spark/checkpoints/hdfs-app/3f0c2a9e-5b7d-4c1e-9a2f-6d8e1b4c7a90/rdd-57",
	}, rdds)
	require.NotNil(t, files)
	var inputs []string
	for _, e := range files.CheckpointData.Entries {
		if e.Kind == "files" {
			inputs = append(inputs, e.Values...)
		}
	}
	assert.Equal(t, []string{nn + "/data/incoming/part-0001", nn + "/data/incoming/part-0002"}, inputs)
}

// TestGeneratedHDFSURIs: the namenode shows up in uris from checkpointDir,
// conf (spark.eventLog.dir), RDD checkpoint files and a pickled function.
func TestGeneratedHDFSURIs(t *testing.T) {
	_, f, _ := readDir(t, "../../fixtures/generated/dstream/hdfs-app")
	roles := map[string][]string{}
	for _, r := range dstream.References(f) {
		if r.Key() == nn {
			roles[r.Role] = append(roles[r.Role], r.URI)
			if r.Role == "conf" {
				roles["conf:"+r.ConfKey] = append(roles["conf:"+r.ConfKey], r.URI)
			}
		}
	}
	assert.Equal(t, []string{nn + "/user/spark/checkpoints/hdfs-app"}, roles["checkpointDir"])
	assert.Equal(t, []string{nn + "/spark-logs"}, roles["conf:spark.eventLog.dir"])
	assert.Len(t, roles["rdd-checkpoint"], 2)
	assert.Len(t, roles["input-file"], 2)
	assert.Equal(t, []string{nn + "/data/incoming"}, roles["input-directory"])
	assert.Equal(t, []string{nn + "/user/spark/output/counts"}, roles["python-function"])
}
