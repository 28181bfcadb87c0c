package structured_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/sparkckpt/sparkckpt/decode/check"
	"github.com/sparkckpt/sparkckpt/decode/structured"
	"github.com/sparkckpt/sparkckpt/fixtures/real"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type src struct{ description, latestOffset string }

type op struct {
	id         int64
	partitions int
	stores     string
	latest     int64
	format     string
}

// realTree pins what inspect and check say about one real checkpoint.
type realTree struct {
	dir                                 string
	queryID                             string
	latestBatch, latestCommit, runBatch int64 // -1: none
	watermarkMs                         int64 // -1: no offsets metadata
	writtenBy                           string
	sources                             []src
	operators                           []op
	stores, reconstructible             int
	records                             int64
	ok                                  bool
	errors, warnings, infos             string // finding codes, sorted (fs-not-checked left out)
}

// realTrees is every structured checkpoint in ../shared/fixtures-real
// (SOURCES.md sections B and C). Values were read off the files: query
// ids from metadata, batches from offsets/ and commits/, offsets as Spark
// wrote them; the state verdict is the one Spark's loader reaches (§4.6).
// Notable: the 4.0.0-tws fixtures' offsets were edited after Spark wrote
// their .crc sidecars (a conf key was added), so Hadoop would reject
// them; the Spark 2.0 trees cannot be read by any later Spark; the
// offsetId-commitId-inconsistent tree has a gap that only async progress
// tracking tolerates.
var realTrees = []realTree{
	{dir: "andreasrenghart-pyspark_notebooks/checkpoint", queryID: "a0d8cd9f-b0c2-496a-bb7d-e50cc8fd6dbe", latestBatch: 7, latestCommit: 7, runBatch: 8, watermarkMs: 1593011321785, writtenBy: "≥2.4",
		sources:   []src{{"file source", "{\"logOffset\":4}"}},
		operators: []op{{0, 200, "default", 8, "hdfs"}},
		stores:    200, reconstructible: 200, records: 8, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "apache-spark-3.5.0-kafka-test-resources/connector/kafka-0-10-sql/src/test/resources/structured-streaming/checkpoint-version-2.4.3-kafka-include-headers-default", queryID: "fc415a71-f0a2-4c3c-aeaf-f9e258c3f726", latestBatch: 0, latestCommit: 0, runBatch: 1, watermarkMs: 0, writtenBy: "≥2.4",
		sources:   []src{{"kafka (topic spark-test-topic-2b8619f5-d3c4-4c2d-b5d1-8d9d9458aa62)", "{\"spark-test-topic-2b8619f5-d3c4-4c2d-b5d1-8d9d9458aa62\":{\"2\":3,\"4\":3,\"1\":3,\"3\":3,\"0\":3}}"}},
		operators: []op{{0, 5, "default", 1, "hdfs"}},
		stores:    5, reconstructible: 5, records: 15, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-test-offsetId-commitId-inconsistent", queryID: "d4358946-170c-49a7-823b-d8e4e9126616", latestBatch: 4, latestCommit: 2, runBatch: 4, watermarkMs: 5000, writtenBy: "≥2.3",
		sources:   []src{{"long offset (memory, socket or rate source)", "4"}},
		operators: []op{},
		stores:    0, reconstructible: 0, records: 0, ok: false, errors: "missing-commit missing-offsets", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-2.1.0", queryID: "dddc5e7f-1e71-454c-8362-de184444fb5a", latestBatch: 1, latestCommit: -1, runBatch: 1, watermarkMs: 0, writtenBy: "2.1.x",
		sources:   []src{{"long offset (memory, socket or rate source)", "2"}},
		operators: []op{{0, 10, "default", 2, "hdfs"}},
		stores:    10, reconstructible: 10, records: 4, ok: true, errors: "", warnings: "", infos: "batch-rerun"},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-2.3.1-flatMapGroupsWithState-state-format-1", queryID: "04d960cd-d38f-4ce6-b8d0-ebcf84c9dccc", latestBatch: 1, latestCommit: 1, runBatch: 2, watermarkMs: 5000, writtenBy: "≥2.3",
		sources:   []src{{"long offset (memory, socket or rate source)", "1"}},
		operators: []op{{0, 5, "default", 2, "hdfs"}},
		stores:    5, reconstructible: 5, records: 1, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-2.3.1-for-multi-watermark-policy", queryID: "549eeb1a-d762-420c-bb44-3fd6d73a5268", latestBatch: 1, latestCommit: 1, runBatch: 2, watermarkMs: 10000, writtenBy: "≥2.3",
		sources:   []src{{"long offset (memory, socket or rate source)", "1"}, {"long offset (memory, socket or rate source)", "0"}},
		operators: []op{},
		stores:    0, reconstructible: 0, records: 0, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-2.3.1-streaming-aggregate-state-format-1", queryID: "2f32aca2-1b97-458f-a48f-109328724f09", latestBatch: 1, latestCommit: 1, runBatch: 2, watermarkMs: 0, writtenBy: "≥2.3",
		sources:   []src{{"long offset (memory, socket or rate source)", "1"}},
		operators: []op{{0, 5, "default", 2, "hdfs"}},
		stores:    5, reconstructible: 5, records: 3, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-2.3.1-without-commit-log-metadata", queryID: "73f7f943-0a08-4ffb-a504-9fa88ff7612a", latestBatch: 1, latestCommit: 1, runBatch: 2, watermarkMs: 5000, writtenBy: "≥2.3",
		sources:   []src{{"long offset (memory, socket or rate source)", "1"}},
		operators: []op{{0, 5, "default", 2, "hdfs"}},
		stores:    5, reconstructible: 5, records: 2, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-2.4.0-streaming-join", queryID: "1ab1ee6f-993c-4a51-824c-1c7cc8202f62", latestBatch: 0, latestCommit: 0, runBatch: 1, watermarkMs: 0, writtenBy: "≥2.4",
		sources:   []src{{"long offset (memory, socket or rate source)", "0"}, {"long offset (memory, socket or rate source)", "0"}},
		operators: []op{{0, 5, "left-keyToNumValues,left-keyWithIndexToValue,right-keyToNumValues,right-keyWithIndexToValue", 1, "hdfs"}},
		stores:    20, reconstructible: 20, records: 14, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-2.4.5-for-compatibility-test-common-functions", queryID: "5f1362da-99ce-4ba2-97e1-d992c295e563", latestBatch: 0, latestCommit: 0, runBatch: 1, watermarkMs: 0, writtenBy: "≥2.4",
		sources:   []src{{"long offset (memory, socket or rate source)", "0"}},
		operators: []op{{0, 5, "default", 1, "hdfs"}},
		stores:    5, reconstructible: 5, records: 5, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-2.4.5-for-compatibility-test-deduplicate", queryID: "26fe8d3d-d101-44b0-b9c1-a2f9f09cea69", latestBatch: 0, latestCommit: 0, runBatch: 1, watermarkMs: 0, writtenBy: "≥2.4",
		sources:   []src{{"long offset (memory, socket or rate source)", "0"}},
		operators: []op{{0, 5, "default", 1, "hdfs"}},
		stores:    5, reconstructible: 5, records: 5, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-2.4.5-for-compatibility-test-statistical-functions", queryID: "8fc17276-e48b-4e8a-a9c9-31f0045ed860", latestBatch: 0, latestCommit: 0, runBatch: 1, watermarkMs: 0, writtenBy: "≥2.4",
		sources:   []src{{"long offset (memory, socket or rate source)", "0"}},
		operators: []op{{0, 5, "default", 1, "hdfs"}},
		stores:    5, reconstructible: 5, records: 5, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-2.4.5-for-compatibility-test-sum-decimal", queryID: "ac9f2680-3a39-4afd-824b-7beefdf7d7a7", latestBatch: 0, latestCommit: 0, runBatch: 1, watermarkMs: 0, writtenBy: "≥2.4",
		sources:   []src{{"long offset (memory, socket or rate source)", "0"}},
		operators: []op{{0, 5, "default", 1, "hdfs"}},
		stores:    5, reconstructible: 5, records: 2, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-3.0.0-streaming-statestore-codec", queryID: "6bcf6671-d23e-4ad8-824f-98aa5924ce6d", latestBatch: 0, latestCommit: 0, runBatch: 1, watermarkMs: 0, writtenBy: "≥3.0",
		sources:   []src{{"long offset (memory, socket or rate source)", "0"}},
		operators: []op{{0, 1, "default", 1, "hdfs"}},
		stores:    1, reconstructible: 1, records: 3, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-3.1.0-flatmapgroupswithstate-repartition", queryID: "dc9af96e-870c-4dc6-ad09-1b84b62caac3", latestBatch: 0, latestCommit: 0, runBatch: 1, watermarkMs: 0, writtenBy: "≥3.1",
		sources:   []src{{"long offset (memory, socket or rate source)", "0"}},
		operators: []op{{0, 5, "default", 1, "hdfs"}},
		stores:    5, reconstructible: 5, records: 1, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-3.2.0-deduplication-with-repartition", queryID: "9538ada3-a233-4697-8b02-cc66250189a3", latestBatch: 1, latestCommit: 1, runBatch: 2, watermarkMs: 0, writtenBy: "≥3.2",
		sources:   []src{{"long offset (memory, socket or rate source)", "1"}},
		operators: []op{{0, 5, "default", 2, "hdfs"}},
		stores:    5, reconstructible: 5, records: 4, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-3.2.0-flatmapgroupswithstate1-repartition", queryID: "b36205c7-696a-4fe9-86d4-a4efdf05795b", latestBatch: 0, latestCommit: 0, runBatch: 1, watermarkMs: 0, writtenBy: "≥3.2",
		sources:   []src{{"long offset (memory, socket or rate source)", "0"}},
		operators: []op{{0, 5, "default", 1, "hdfs"}},
		stores:    5, reconstructible: 5, records: 3, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-3.2.0-flatmapgroupswithstate2-repartition", queryID: "f4795695-2b3e-4864-983a-f7bf52c0e29d", latestBatch: 0, latestCommit: 0, runBatch: 1, watermarkMs: 0, writtenBy: "≥3.2",
		sources:   []src{{"long offset (memory, socket or rate source)", "0"}},
		operators: []op{{0, 5, "default", 1, "hdfs"}},
		stores:    5, reconstructible: 5, records: 1, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-3.2.0-session-window-with-repartition", queryID: "c3d27d93-536b-49ce-a62f-f2777855a1fb", latestBatch: 1, latestCommit: 1, runBatch: 2, watermarkMs: 11000, writtenBy: "≥3.2",
		sources:   []src{{"long offset (memory, socket or rate source)", "0"}},
		operators: []op{{0, 5, "default", 2, "hdfs"}},
		stores:    5, reconstructible: 5, records: 8, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-3.2.0-streaming-aggregate-with-repartition", queryID: "cd462130-c8fb-4212-8b08-4e1b9e10dbcf", latestBatch: 1, latestCommit: 1, runBatch: 2, watermarkMs: 0, writtenBy: "≥3.2",
		sources:   []src{{"long offset (memory, socket or rate source)", "1"}},
		operators: []op{{0, 5, "default", 2, "hdfs"}},
		stores:    5, reconstructible: 5, records: 3, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-3.3.0-streaming-deduplication", queryID: "33e8de33-00b8-4b60-8246-df2f433257ff", latestBatch: 1, latestCommit: 1, runBatch: 2, watermarkMs: 0, writtenBy: "≥3.3",
		sources:   []src{{"long offset (memory, socket or rate source)", "1"}},
		operators: []op{{0, 5, "default", 2, "hdfs"}},
		stores:    5, reconstructible: 5, records: 2, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-3.5.1-streaming-deduplication", queryID: "a13717f3-7485-421b-b55a-21625123b680", latestBatch: 1, latestCommit: 1, runBatch: 2, watermarkMs: 0, writtenBy: "≥3.3",
		sources:   []src{{"long offset (memory, socket or rate source)", "1"}},
		operators: []op{{0, 5, "default", 2, "hdfs"}},
		stores:    5, reconstructible: 5, records: 2, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-3.5.1-streaming-join", queryID: "e41911da-47c9-4560-a95d-e2ab97f2bc85", latestBatch: 0, latestCommit: 0, runBatch: 1, watermarkMs: 0, writtenBy: "≥3.3",
		sources:   []src{{"long offset (memory, socket or rate source)", "0"}, {"long offset (memory, socket or rate source)", "0"}},
		operators: []op{{0, 5, "left-keyToNumValues,left-keyWithIndexToValue,right-keyToNumValues,right-keyWithIndexToValue", 1, "hdfs"}},
		stores:    20, reconstructible: 20, records: 10, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-4.0.0-checkpoint-v2/rocksdb/dedup", queryID: "ccaf96d0-9b51-437a-a2c6-f53efd7e6be4", latestBatch: 3, latestCommit: 3, runBatch: 4, watermarkMs: 0, writtenBy: "4.0+",
		sources:   []src{{"long offset (memory, socket or rate source)", "3"}},
		operators: []op{{0, 5, "default", 4, "rocksdb"}},
		stores:    5, reconstructible: 5, records: 0, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-4.0.0-checkpoint-v2/rocksdb/join1", queryID: "73d73fc9-8acd-4193-9871-b13d4cece4bc", latestBatch: 4, latestCommit: 4, runBatch: 5, watermarkMs: 9000, writtenBy: "4.0+",
		sources:   []src{{"long offset (memory, socket or rate source)", "2"}, {"long offset (memory, socket or rate source)", "2"}},
		operators: []op{{0, 5, "left-keyToNumValues,left-keyWithIndexToValue,right-keyToNumValues,right-keyWithIndexToValue", 5, "rocksdb"}},
		stores:    20, reconstructible: 20, records: 6, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-4.0.0-checkpoint-v2/rocksdb/join2", queryID: "c91297b4-ac33-4c7e-a876-58758f5f611c", latestBatch: 4, latestCommit: 4, runBatch: 5, watermarkMs: 9000, writtenBy: "4.0+",
		sources:   []src{{"long offset (memory, socket or rate source)", "2"}, {"long offset (memory, socket or rate source)", "2"}},
		operators: []op{{0, 5, "left-keyToNumValues,left-keyWithIndexToValue,right-keyToNumValues,right-keyWithIndexToValue", 5, "rocksdb"}},
		stores:    20, reconstructible: 20, records: 6, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-4.0.0-checkpoint-v2/rocksdb/limit", queryID: "5abf3d49-f6b3-434b-b30f-88e60b91f1b0", latestBatch: 3, latestCommit: 3, runBatch: 4, watermarkMs: 0, writtenBy: "4.0+",
		sources:   []src{{"long offset (memory, socket or rate source)", "3"}},
		operators: []op{{0, 1, "default", 4, "rocksdb"}},
		stores:    1, reconstructible: 1, records: 0, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-4.0.0-tws-avro", queryID: "f3f30619-9175-4329-97a7-f5629deaad89", latestBatch: 1, latestCommit: 1, runBatch: 2, watermarkMs: 0, writtenBy: "4.0+",
		sources:   []src{{"long offset (memory, socket or rate source)", "1"}},
		operators: []op{{0, 5, "default", 2, "rocksdb"}},
		stores:    5, reconstructible: 5, records: 2, ok: false, errors: "crc-mismatch crc-mismatch", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-4.0.0-tws-unsaferow", queryID: "1341f9d1-5100-4426-876c-2754aeaca02b", latestBatch: 1, latestCommit: 1, runBatch: 2, watermarkMs: 0, writtenBy: "4.0+",
		sources:   []src{{"long offset (memory, socket or rate source)", "1"}},
		operators: []op{{0, 5, "default", 2, "rocksdb"}},
		stores:    5, reconstructible: 5, records: 2, ok: false, errors: "crc-mismatch crc-mismatch", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-4.0.0/hdfs/agg", queryID: "ab7bcd9a-4146-45d3-933d-a615b381c3be", latestBatch: 3, latestCommit: 3, runBatch: 4, watermarkMs: 0, writtenBy: "4.0+",
		sources:   []src{{"long offset (memory, socket or rate source)", "3"}},
		operators: []op{{0, 5, "default", 4, "hdfs"}},
		stores:    5, reconstructible: 5, records: 6, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-4.0.0/hdfs/dedup", queryID: "9253a36d-8c80-4cdc-9d2a-3cd9b5ceff59", latestBatch: 3, latestCommit: 3, runBatch: 4, watermarkMs: 0, writtenBy: "4.0+",
		sources:   []src{{"long offset (memory, socket or rate source)", "3"}},
		operators: []op{{0, 5, "default", 4, "hdfs"}},
		stores:    5, reconstructible: 5, records: 6, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-4.0.0/hdfs/join1", queryID: "fbcd445d-b716-4589-ad15-774afa5a243d", latestBatch: 4, latestCommit: 4, runBatch: 5, watermarkMs: 9000, writtenBy: "4.0+",
		sources:   []src{{"long offset (memory, socket or rate source)", "2"}, {"long offset (memory, socket or rate source)", "2"}},
		operators: []op{{0, 5, "left-keyToNumValues,left-keyWithIndexToValue,right-keyToNumValues,right-keyWithIndexToValue", 5, "hdfs"}},
		stores:    20, reconstructible: 20, records: 30, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-4.0.0/hdfs/join2", queryID: "26806544-709f-4745-a6e4-7641361fe94a", latestBatch: 4, latestCommit: 4, runBatch: 5, watermarkMs: 9000, writtenBy: "4.0+",
		sources:   []src{{"long offset (memory, socket or rate source)", "2"}, {"long offset (memory, socket or rate source)", "2"}},
		operators: []op{{0, 5, "left-keyToNumValues,left-keyWithIndexToValue,right-keyToNumValues,right-keyWithIndexToValue", 5, "hdfs"}},
		stores:    20, reconstructible: 20, records: 30, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-4.0.0/hdfs/limit", queryID: "5ed656f0-84dd-414c-abbc-851e4ce58b93", latestBatch: 3, latestCommit: 3, runBatch: 4, watermarkMs: 0, writtenBy: "4.0+",
		sources:   []src{{"long offset (memory, socket or rate source)", "3"}},
		operators: []op{{0, 1, "default", 4, "hdfs"}},
		stores:    1, reconstructible: 1, records: 1, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-4.0.0/rocksdb/agg", queryID: "0da797f0-6c12-4954-89cf-cea200a87f97", latestBatch: 3, latestCommit: 3, runBatch: 4, watermarkMs: 0, writtenBy: "4.0+",
		sources:   []src{{"long offset (memory, socket or rate source)", "3"}},
		operators: []op{{0, 5, "default", 4, "rocksdb"}},
		stores:    5, reconstructible: 5, records: 0, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-4.0.0/rocksdb/dedup", queryID: "7715e3b8-26dd-416a-ac64-c804bb48a972", latestBatch: 3, latestCommit: 3, runBatch: 4, watermarkMs: 0, writtenBy: "4.0+",
		sources:   []src{{"long offset (memory, socket or rate source)", "3"}},
		operators: []op{{0, 5, "default", 4, "rocksdb"}},
		stores:    5, reconstructible: 5, records: 0, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-4.0.0/rocksdb/join1", queryID: "160224de-518b-4191-b9d6-544602476824", latestBatch: 4, latestCommit: 4, runBatch: 5, watermarkMs: 9000, writtenBy: "4.0+",
		sources:   []src{{"long offset (memory, socket or rate source)", "2"}, {"long offset (memory, socket or rate source)", "2"}},
		operators: []op{{0, 5, "left-keyToNumValues,left-keyWithIndexToValue,right-keyToNumValues,right-keyWithIndexToValue", 5, "rocksdb"}},
		stores:    20, reconstructible: 20, records: 6, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-4.0.0/rocksdb/join2", queryID: "cb2f2800-2129-4356-bf83-e985db7d8556", latestBatch: 4, latestCommit: 4, runBatch: 5, watermarkMs: 9000, writtenBy: "4.0+",
		sources:   []src{{"long offset (memory, socket or rate source)", "2"}, {"long offset (memory, socket or rate source)", "2"}},
		operators: []op{{0, 5, "left-keyToNumValues,left-keyWithIndexToValue,right-keyToNumValues,right-keyWithIndexToValue", 5, "rocksdb"}},
		stores:    20, reconstructible: 20, records: 6, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-4.0.0/rocksdb/limit", queryID: "711e4377-ce90-456e-8530-9e0374ce4791", latestBatch: 3, latestCommit: 3, runBatch: 4, watermarkMs: 0, writtenBy: "4.0+",
		sources:   []src{{"long offset (memory, socket or rate source)", "3"}},
		operators: []op{{0, 1, "default", 4, "rocksdb"}},
		stores:    1, reconstructible: 1, records: 0, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/checkpoint-version-4.0.1-dedup-spark-53942", queryID: "295ee44f-dd99-45cf-a21d-9a760b439c45", latestBatch: 0, latestCommit: 0, runBatch: 1, watermarkMs: 0, writtenBy: "4.0+",
		sources:   []src{{"long offset (memory, socket or rate source)", "0"}},
		operators: []op{{0, 5, "default", 1, "hdfs"}},
		stores:    5, reconstructible: 5, records: 4, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/escaped-path-2.4.0/chk%252520%252525@%252523chk", queryID: "09be7fb3-49d8-48a6-840d-e9c2ad92a898", latestBatch: 0, latestCommit: 0, runBatch: 1, watermarkMs: 0, writtenBy: "≥2.4",
		sources:   []src{{"long offset (memory, socket or rate source)", "0"}},
		operators: []op{},
		stores:    0, reconstructible: 0, records: 0, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "aysellioana-project_chicago_crimes_spark_kafka/checkpoint/crimes_per_year", queryID: "e5d9d9b4-c471-4d83-99e5-b96952c70527", latestBatch: 6, latestCommit: 5, runBatch: 6, watermarkMs: 1727384340000, writtenBy: "≥3.2",
		sources:   []src{{"kafka (topic chicago_crimes)", "{\"chicago_crimes\":{\"0\":350000}}"}},
		operators: []op{{0, 200, "default", 6, "hdfs"}},
		stores:    200, reconstructible: 200, records: 3892, ok: true, errors: "", warnings: "", infos: "batch-rerun"},
	{dir: "castagnna-spark-streaming/checkpoint", queryID: "36119c77-c419-4b0b-b8e1-6a0380fdac77", latestBatch: 19, latestCommit: 19, runBatch: 20, watermarkMs: 0, writtenBy: "≥3.3",
		sources:   []src{{"long offset (memory, socket or rate source)", "45"}},
		operators: []op{},
		stores:    0, reconstructible: 0, records: 0, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "chaithanyarlk-apache-spark-streaming-projects/checkpoint", queryID: "6ebe3cad-8710-49cc-b6ea-b39cde87705f", latestBatch: 0, latestCommit: 0, runBatch: 1, watermarkMs: 0, writtenBy: "≥3.3",
		sources:   []src{{"file source", "{\"logOffset\":0}"}},
		operators: []op{},
		stores:    0, reconstructible: 0, records: 0, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "chaithanyarlk-apache-spark-streaming-projects/checkpointForKafka", queryID: "cd75e059-1c2e-4a83-a137-6f8662f3bcf1", latestBatch: 3, latestCommit: 2, runBatch: 3, watermarkMs: 0, writtenBy: "≥3.3",
		sources:   []src{{"kafka (topic topic)", "{\"topic\":{\"0\":0,\"1\":13,\"2\":0}}"}},
		operators: []op{},
		stores:    0, reconstructible: 0, records: 0, ok: true, errors: "", warnings: "", infos: "batch-rerun"},
	{dir: "chaithanyarlk-apache-spark-streaming-projects/checkpointSink", queryID: "c478811e-34b6-4aa5-aec4-404d3c99aa2d", latestBatch: 2, latestCommit: 2, runBatch: 3, watermarkMs: 0, writtenBy: "≥3.3",
		sources:   []src{{"kafka (topic topic)", "{\"topic\":{\"0\":14,\"1\":30,\"2\":0}}"}},
		operators: []op{},
		stores:    0, reconstructible: 0, records: 0, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "chaithanyarlk-apache-spark-streaming-projects/checkpointStreamin", queryID: "6fd064d7-8978-49f2-8fdf-98c7e4a79c6a", latestBatch: 2, latestCommit: 2, runBatch: 3, watermarkMs: 0, writtenBy: "≥3.3",
		sources:   []src{{"kafka (topic topic)", "{\"topic\":{\"0\":18,\"1\":30,\"2\":0}}"}, {"kafka (topic notif)", "{\"notif\":{\"0\":95}}"}},
		operators: []op{{0, 3, "left-keyToNumValues,left-keyWithIndexToValue,right-keyToNumValues,right-keyWithIndexToValue", 3, "hdfs"}},
		stores:    12, reconstructible: 12, records: 7, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "chaithanyarlk-apache-spark-streaming-projects/checkpontWindowTumble", queryID: "6c8166e6-a4a9-4e95-949f-eaa765db1516", latestBatch: 2, latestCommit: 2, runBatch: 3, watermarkMs: 0, writtenBy: "≥3.3",
		sources:   []src{{"kafka (topic topic)", "{\"topic\":{\"0\":17,\"1\":30,\"2\":0}}"}},
		operators: []op{{0, 3, "default", 3, "hdfs"}},
		stores:    3, reconstructible: 3, records: 3, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "devfranhan-data-eng-filling/checkpoint", queryID: "3262f8ed-74b6-4226-969c-5912df2187e3", latestBatch: 1, latestCommit: 1, runBatch: 2, watermarkMs: 0, writtenBy: "≥3.5",
		sources:   []src{{"file source", "{\"logOffset\":1}"}},
		operators: []op{{0, 1, "default", 2, "hdfs"}},
		stores:    1, reconstructible: 1, records: 1, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "josepcristobal-dataprocessingpt/checkpoint", queryID: "71f1b834-0766-4bbb-af3d-e3fe6e56a64f", latestBatch: 7, latestCommit: 6, runBatch: 7, watermarkMs: 0, writtenBy: "≥2.3",
		sources:   []src{{"kafka (topic spyCelebram01)", "{\"spyCelebram01\":{\"0\":4073}}"}},
		operators: []op{{0, 200, "default", 8, "hdfs"}},
		stores:    200, reconstructible: 200, records: 122, ok: true, errors: "", warnings: "", infos: "batch-rerun"},
	{dir: "jpaulorio-spark-training/data/output/streaming/checkpoint", queryID: "67511561-7f26-454d-b1fb-4ed276ebe6c5", latestBatch: 12, latestCommit: 11, runBatch: 12, watermarkMs: 1541716309972, writtenBy: "≥2.3",
		sources:   []src{{"long offset (memory, socket or rate source)", "2519"}},
		operators: []op{{0, 200, "default", 12, "hdfs"}},
		stores:    200, reconstructible: 200, records: 36, ok: true, errors: "", warnings: "", infos: "batch-rerun"},
	{dir: "mehedee-hassan-spark-path/checkpoint", queryID: "d8df0085-89d4-4525-aa53-9d1f9b449415", latestBatch: 1, latestCommit: 1, runBatch: 2, watermarkMs: 0, writtenBy: "≥3.0",
		sources:   []src{{"file source", "{\"logOffset\":1}"}},
		operators: []op{{0, 200, "default", 2, "hdfs"}},
		stores:    200, reconstructible: 200, records: 4, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "mrblue00-bd_scala_kafka_spark_project/checkpoint", queryID: "4b4aa304-e520-414a-9249-da00d786c7dc", latestBatch: 8, latestCommit: 7, runBatch: 8, watermarkMs: 0, writtenBy: "2.2.x",
		sources:   []src{{"kafka (topic Queue3)", "{\"Queue3\":{\"1\":2,\"0\":3}}"}},
		operators: []op{},
		stores:    0, reconstructible: 0, records: 0, ok: true, errors: "", warnings: "", infos: "batch-rerun nested-checkpoint nested-checkpoint"},
	{dir: "mrblue00-bd_scala_kafka_spark_project/checkpoint/QueryQueue2", queryID: "e86d1cb0-48f6-4b4b-9554-a28d0c010ab8", latestBatch: 8, latestCommit: 8, runBatch: 9, watermarkMs: 0, writtenBy: "2.2.x",
		sources:   []src{{"kafka (topic Queue2)", "{\"Queue2\":{\"1\":12,\"0\":11}}"}},
		operators: []op{},
		stores:    0, reconstructible: 0, records: 0, ok: true, errors: "", warnings: "", infos: "tmp-file"},
	{dir: "mrblue00-bd_scala_kafka_spark_project/checkpoint/QueryQueue3", queryID: "ebb446e2-00b2-4677-8657-c1fa639bd594", latestBatch: 6, latestCommit: 6, runBatch: 7, watermarkMs: 0, writtenBy: "2.2.x",
		sources:   []src{{"kafka (topic Queue3)", "{\"Queue3\":{\"1\":6,\"0\":6}}"}},
		operators: []op{},
		stores:    0, reconstructible: 0, records: 0, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "peter-32-hellospark/checkpoint", queryID: "", latestBatch: 3, latestCommit: -1, runBatch: 3, watermarkMs: -1, writtenBy: "2.0.x",
		sources:   []src{{"file source", "LongOffset(3)"}},
		operators: []op{},
		stores:    0, reconstructible: 0, records: 0, ok: false, errors: "log-version-unsupported missing-offsets", warnings: "missing-metadata", infos: "batch-rerun tmp-file"},
	{dir: "peter-32-hellospark@4a312a4/checkpoint", queryID: "", latestBatch: 0, latestCommit: -1, runBatch: 0, watermarkMs: -1, writtenBy: "2.0.x",
		sources:   []src{{"file source", "LongOffset(0)"}},
		operators: []op{},
		stores:    0, reconstructible: 0, records: 0, ok: false, errors: "log-version-unsupported", warnings: "missing-metadata", infos: "batch-rerun tmp-file"},
	{dir: "shamukh82-hw6/checkpoint", queryID: "3ee02aeb-22f3-4727-9f8d-8c54133e44c0", latestBatch: 1, latestCommit: 1, runBatch: 2, watermarkMs: 1458703468000, writtenBy: "2.2.x",
		sources:   []src{{"file source", "{\"logOffset\":1}"}},
		operators: []op{{0, 200, "default", 2, "hdfs"}},
		stores:    200, reconstructible: 200, records: 6, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "spookytanya-pyspark-hw/checkpoint", queryID: "7d22614d-bb59-4004-938f-cf5b38d06ac8", latestBatch: 0, latestCommit: 0, runBatch: 1, watermarkMs: 0, writtenBy: "≥3.3",
		sources:   []src{{"file source", "{\"logOffset\":0}"}},
		operators: []op{{0, 200, "default", 1, "hdfs"}},
		stores:    200, reconstructible: 200, records: 49064, ok: true, errors: "", warnings: "", infos: ""},
	{dir: "tedbear42-spark_training/checkpoint", queryID: "d6f7f8e5-1ce8-41af-a446-cac4aea53432", latestBatch: 6, latestCommit: 6, runBatch: 7, watermarkMs: 0, writtenBy: "2.2.x",
		sources:   []src{{"long offset (memory, socket or rate source)", "100"}},
		operators: []op{{0, 200, "default", 7, "hdfs"}},
		stores:    200, reconstructible: 200, records: 12, ok: true, errors: "", warnings: "", infos: ""},
}

func TestRealTrees(t *testing.T) {
	root := real.Root(t)
	seen := map[string]bool{}
	for _, tc := range realTrees {
		seen[tc.dir] = true
		t.Run(tc.dir, func(t *testing.T) {
			dir := filepath.Join(root, tc.dir)
			c, err := structured.Open(os.DirFS(dir))
			require.NoError(t, err)
			s := c.Summarize(tc.dir)
			assert.Equal(t, tc.queryID, s.QueryID)
			assert.Equal(t, tc.latestBatch, deref(s.LatestBatch), "latestBatch")
			assert.Equal(t, tc.latestCommit, deref(s.LatestCommit), "latestCommit")
			assert.Equal(t, tc.runBatch, s.RunBatch, "runBatch")
			assert.Equal(t, tc.watermarkMs, deref(s.WatermarkMs), "watermarkMs")
			assert.Equal(t, tc.writtenBy, s.WrittenBy.Min)
			var srcs []src
			for _, x := range s.Sources {
				raw := "<nil>"
				if x.LatestOffset != nil {
					raw = *x.LatestOffset
				}
				srcs = append(srcs, src{x.Description, raw})
			}
			assert.Equal(t, tc.sources, srcs)
			ops := []op{}
			for _, o := range s.StateOperators {
				ops = append(ops, op{o.ID, o.Partitions, strings.Join(o.StoreNames, ","), o.LatestVersion, o.Format})
			}
			assert.Equal(t, tc.operators, ops)

			r, err := structured.Check(os.DirFS(dir), structured.CheckOptions{Path: tc.dir})
			require.NoError(t, err)
			assert.Equal(t, tc.stores, r.State.Stores, "stores")
			assert.Equal(t, tc.reconstructible, r.State.Reconstructible, "reconstructible stores")
			assert.Equal(t, tc.records, r.State.Records, "records decoded")
			assert.Equal(t, tc.ok, r.OK)
			assert.Equal(t, tc.errors, codes(r, check.Error), "errors")
			assert.Equal(t, tc.warnings, codes(r, check.Warning), "warnings")
			assert.Equal(t, tc.infos, codes(r, check.Info), "infos")
			// The listing's verdict (inspect) agrees with check's.
			listed := 0
			for _, o := range s.StateOperators {
				listed += o.Stores - len(o.Unrecoverable)
			}
			assert.Equal(t, tc.reconstructible, listed, "inspect's reconstructible stores")
		})
	}
	// Every structured checkpoint of the corpus is in the table.
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() || d.Name() != "offsets" {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(p))
		assert.True(t, seen[filepath.ToSlash(rel)], "structured checkpoint %s is not pinned", rel)
		return nil
	})
	require.NoError(t, err)
}

func deref(p *int64) int64 {
	if p == nil {
		return -1
	}
	return *p
}

func codes(r *structured.CheckReport, sev check.Severity) string {
	var out []string
	for _, f := range r.Findings {
		if f.Severity == sev && f.Code != "fs-not-checked" {
			out = append(out, f.Code)
		}
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}
