package main

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/sparkckpt/sparkckpt/fixtures/real"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInspectStructuredJSON pins the documented inspect --json keys on
// real trees: kind, queryId, latestBatch, latestCommit, watermarkMs,
// sources[index, description, latestOffset], stateOperators[id,
// partitions, storeNames, latestVersion, format].
func TestInspectStructuredJSON(t *testing.T) {
	root := real.Root(t)
	type source struct {
		Index        int     `json:"index"`
		Description  string  `json:"description"`
		LatestOffset *string `json:"latestOffset"`
		Kafka        []struct {
			Topic     string `json:"topic"`
			Partition int    `json:"partition"`
			Offset    int64  `json:"offset"`
		} `json:"kafka"`
	}
	type operator struct {
		ID            int64    `json:"id"`
		Partitions    int      `json:"partitions"`
		StoreNames    []string `json:"storeNames"`
		LatestVersion int64    `json:"latestVersion"`
		Format        string   `json:"format"`
	}
	type report struct {
		Kind           string     `json:"kind"`
		QueryID        string     `json:"queryId"`
		LatestBatch    *int64     `json:"latestBatch"`
		LatestCommit   *int64     `json:"latestCommit"`
		WatermarkMs    *int64     `json:"watermarkMs"`
		Sources        []source   `json:"sources"`
		StateOperators []operator `json:"stateOperators"`
		RestartConf    []struct {
			Key, Value string
		} `json:"restartConf"`
	}
	inspect := func(rel string) report {
		out, stderr, code := sparkckpt("inspect", "--json", filepath.Join(root, rel))
		require.Equal(t, 0, code, stderr)
		var r report
		require.NoError(t, json.Unmarshal([]byte(out), &r), out)
		return r
	}

	r := inspect("chaithanyarlk-apache-spark-streaming-projects/checkpointStreamin")
	assert.Equal(t, "structured", r.Kind)
	assert.Equal(t, "6fd064d7-8978-49f2-8fdf-98c7e4a79c6a", r.QueryID)
	assert.Equal(t, int64(2), *r.LatestBatch)
	assert.Equal(t, int64(2), *r.LatestCommit)
	assert.Equal(t, int64(0), *r.WatermarkMs)
	require.Len(t, r.Sources, 2)
	assert.Equal(t, `{"topic":{"0":18,"1":30,"2":0}}`, *r.Sources[0].LatestOffset)
	assert.Equal(t, "kafka (topic topic)", r.Sources[0].Description)
	require.Len(t, r.Sources[0].Kafka, 3)
	assert.Equal(t, int64(30), r.Sources[0].Kafka[1].Offset)
	assert.Equal(t, 1, r.Sources[1].Index)
	assert.Equal(t, []operator{{0, 3, []string{"left-keyToNumValues", "left-keyWithIndexToValue", "right-keyToNumValues", "right-keyWithIndexToValue"}, 3, "hdfs"}}, r.StateOperators)
	assert.Equal(t, "spark.sql.shuffle.partitions", r.RestartConf[0].Key)

	// Spark 2.1: no commit log, so latestCommit is null.
	r = inspect("apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-2.1.0")
	assert.Nil(t, r.LatestCommit)
	assert.Equal(t, int64(1), *r.LatestBatch)
	assert.Equal(t, "2", *r.Sources[0].LatestOffset)
	assert.Equal(t, []operator{{0, 10, []string{"default"}, 2, "hdfs"}}, r.StateOperators)

	// RocksDB.
	r = inspect("apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-4.0.0/rocksdb/agg")
	assert.Equal(t, []operator{{0, 5, []string{"default"}, 4, "rocksdb"}}, r.StateOperators)

	// A mixed directory nests both reports.
	out, _, code := sparkckpt("inspect", "--json", filepath.Join(root, "shamukh82-hw6/checkpoint"))
	require.Equal(t, 0, code)
	var mixed struct {
		Kind       string          `json:"kind"`
		DStream    json.RawMessage `json:"dstream"`
		Structured report          `json:"structured"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &mixed))
	assert.Equal(t, "mixed", mixed.Kind)
	assert.Contains(t, string(mixed.DStream), `"kind": "dstream"`)
	assert.Equal(t, "3ee02aeb-22f3-4727-9f8d-8c54133e44c0", mixed.Structured.QueryID)

	// check --json on the mixed directory: both reports, one verdict.
	out, _, code = sparkckpt("check", "--json", filepath.Join(root, "shamukh82-hw6/checkpoint"), "--expect-fs", "file:///")
	require.Equal(t, 0, code, out)
	var chk struct {
		Kind       string `json:"kind"`
		OK         bool   `json:"ok"`
		Structured struct {
			State struct {
				Stores, Reconstructible int
			} `json:"state"`
		} `json:"structured"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &chk))
	assert.Equal(t, "mixed", chk.Kind)
	assert.True(t, chk.OK)
	assert.Equal(t, 200, chk.Structured.State.Reconstructible)

	// uris --json: the DStream reference shape, role and source json.
	out, _, code = sparkckpt("uris", "--json", filepath.Join(root, "devfranhan-data-eng-filling/checkpoint"))
	require.Equal(t, 0, code)
	var refs []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &refs))
	require.Len(t, refs, 2)
	assert.Equal(t, "source-file", refs[0]["role"])
	assert.Equal(t, "json", refs[0]["source"])
	assert.Equal(t, "file", refs[0]["scheme"])
	assert.Equal(t, "line 2: path", refs[0]["location"])
}
