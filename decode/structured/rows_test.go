package structured_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/structured"
	"github.com/sparkckpt/sparkckpt/fixtures/real"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sparkRes = "apache-spark-4.1.1-test-resources/sql/core/src/test/resources/structured-streaming/"

// decodeFile decodes every record of a real state file with its store's schema.
func decodeFile(t *testing.T, root, file string) ([]string, *structured.StateSummary) {
	t.Helper()
	c, err := structured.Open(os.DirFS(root))
	require.NoError(t, err)
	rc := c.RowCodecFor(file)
	require.NotNil(t, rc, "no schema for %s", file)
	f, err := os.Open(filepath.Join(root, file))
	require.NoError(t, err)
	defer f.Close()
	kind := strings.TrimPrefix(filepath.Ext(file), ".")
	var rows []string
	sum, err := structured.ScanStateFile(f, kind, nil, decode.Limits{}, func(r structured.Record) error {
		d := rc.Decode(r)
		require.Empty(t, d.DecodeError, "%s @%d", file, r.Offset)
		line := d.Op.String() + " " + structured.FormatValue(d.Key)
		if d.Family != "" {
			line = d.Op.String() + " " + d.Family + " " + structured.FormatValue(d.Key)
		}
		if r.Op != structured.OpDelete {
			line += " -> " + structured.FormatValue(d.Value)
		}
		rows = append(rows, line)
		return nil
	})
	require.NoError(t, err)
	return rows, sum
}

// TestDecodeRealRows decodes state deltas, snapshots and changelogs of
// real trees to rows with the schema Spark wrote beside them (§4.5, §5).
func TestDecodeRealRows(t *testing.T) {
	root := real.Root(t)
	for _, tc := range []struct {
		tree, file string
		rows       []string
	}{
		{ // stream-stream join (Spark 3.5.1): keyWithIndexToValue with a timestamp and a boolean
			sparkRes + "checkpoint-version-3.5.1-streaming-join", "state/0/4/right-keyWithIndexToValue/1.delta",
			[]string{`put {field0=2, index=0} -> {rightId=2, rightTime="1970-01-01 00:00:02 UTC", matched=true}`},
		},
		{ // the join's keyToNumValues store: one long per key
			sparkRes + "checkpoint-version-3.5.1-streaming-join", "state/0/4/right-keyToNumValues/1.delta",
			[]string{`put {field0=2} -> {value=1}`},
		},
		{ // session window (Spark 3.2.0): nested struct of timestamps, strings
			sparkRes + "checkpoint-version-3.2.0-session-window-with-repartition", "state/0/3/1.delta",
			[]string{
				`put {sessionId="hello", userId="key1", sessionStartTime="1970-01-01 00:00:40 UTC"} -> {session_window={start="1970-01-01 00:00:40 UTC", end="1970-01-01 00:00:50 UTC"}, sessionId="hello", userId="key1", count=1}`,
				`put {sessionId="spark", userId="key1", sessionStartTime="1970-01-01 00:00:40 UTC"} -> {session_window={start="1970-01-01 00:00:40 UTC", end="1970-01-01 00:00:50 UTC"}, sessionId="spark", userId="key1", count=1}`,
				`put {sessionId="streaming", userId="key1", sessionStartTime="1970-01-01 00:00:40 UTC"} -> {session_window={start="1970-01-01 00:00:40 UTC", end="1970-01-01 00:00:50 UTC"}, sessionId="streaming", userId="key1", count=1}`,
				`put {sessionId="world", userId="key1", sessionStartTime="1970-01-01 00:00:40 UTC"} -> {session_window={start="1970-01-01 00:00:40 UTC", end="1970-01-01 00:00:50 UTC"}, sessionId="world", userId="key1", count=1}`,
			},
		},
		{ // a user's global count (Spark 3.5): a void key, one partition
			"devfranhan-data-eng-filling/checkpoint", "state/0/0/1.delta",
			[]string{`put {key=null} -> {value=100000}`},
		},
		{ // a user's windowed Kafka aggregation (Spark 3.2)
			"aysellioana-project_chicago_crimes_spark_kafka/checkpoint/crimes_per_year", "state/0/7/6.delta", nil,
		},
		{ // HDFS snapshot (Spark 4.0)
			sparkRes + "checkpoint-version-4.0.0/hdfs/agg", "state/0/1/4.snapshot",
			[]string{`put {_1=3} -> {count=3}`, `put {_1=5} -> {count=2}`},
		},
		{ // RocksDB changelog V1 (Spark 4.0): keys and values after the encoding-version byte
			sparkRes + "checkpoint-version-4.0.0/rocksdb/agg", "state/0/1/3.changelog",
			[]string{`put {_1=3} -> {count=3}`, `put {_1=5} -> {count=1}`},
		},
		{ // transformWithState, unsaferow encoding (Spark 4.0): changelog V2 with a column family
			sparkRes + "checkpoint-version-4.0.0-tws-unsaferow", "state/0/0/2.changelog",
			[]string{`put countState {value="a"} -> {value=2}`},
		},
	} {
		t.Run(tc.tree+"/"+tc.file, func(t *testing.T) {
			rows, _ := decodeFile(t, filepath.Join(root, tc.tree), tc.file)
			assert.Equal(t, tc.rows, rows)
		})
	}
}

// TestDecodeLargeRealDeltas decodes whole real files with many rows.
func TestDecodeLargeRealDeltas(t *testing.T) {
	root := real.Root(t)
	// Deduplication on 4 columns (Spark 3.3+): 238 rows with floats in partition 0.
	rows, sum := decodeFile(t, filepath.Join(root, "spookytanya-pyspark-hw/checkpoint"), "state/0/0/1.delta")
	require.Len(t, rows, 238)
	assert.Equal(t, int64(25108), sum.Raw)
	assert.Equal(t, `put {name="Martha's Apartment", host_id=53369750, latitude=40.8379, longitude=-73.94095} -> {__dummy__=null}`, rows[0])
	// Windowed counts per day (Spark 3.2): 23 windows in partition 5.
	rows, _ = decodeFile(t, filepath.Join(root, "aysellioana-project_chicago_crimes_spark_kafka/checkpoint/crimes_per_year"), "state/0/5/1.delta")
	require.Len(t, rows, 23)
	assert.Equal(t, `put {window={start="2024-05-31 00:00:00 UTC", end="2024-06-01 00:00:00 UTC"}} -> {count=2}`, rows[0])
	assert.Equal(t, `put {window={start="2024-08-27 00:00:00 UTC", end="2024-08-28 00:00:00 UTC"}} -> {count=673}`, rows[1])
}

// TestSnapshotsMatchReplayedDeltas replays every real store's deltas from
// version 1 and compares the map with each snapshot Spark wrote: the
// record reader and the chain order agree with Spark's loadMap (§4.1).
func TestSnapshotsMatchReplayedDeltas(t *testing.T) {
	root := real.Root(t)
	checked := 0
	for _, tree := range []string{
		sparkRes + "checkpoint-version-4.0.0/hdfs/agg", sparkRes + "checkpoint-version-4.0.0/hdfs/dedup",
		sparkRes + "checkpoint-version-4.0.0/hdfs/join1", sparkRes + "checkpoint-version-4.0.0-state-source",
		"jpaulorio-spark-training/data/output/streaming/checkpoint",
	} {
		dir := filepath.Join(root, tree)
		if _, err := os.Stat(dir); err != nil {
			continue
		}
		c, err := structured.Open(os.DirFS(dir))
		require.NoError(t, err)
		for _, op := range c.Operators {
			for _, p := range op.Partitions {
				for _, s := range p.Stores {
					state := map[string]string{}
					for v := int64(1); ; v++ {
						var delta, snap string
						for _, f := range s.Files {
							if f.Version == v && f.Kind == structured.KindDelta {
								delta = f.Name
							}
							if f.Version == v && f.Kind == structured.KindSnapshot {
								snap = f.Name
							}
						}
						if delta == "" {
							break
						}
						apply(t, dir, delta, structured.KindDelta, state)
						if snap != "" {
							want := map[string]string{}
							apply(t, dir, snap, structured.KindSnapshot, want)
							assert.Equal(t, want, state, "%s: %s", tree, snap)
							checked++
						}
					}
				}
			}
		}
	}
	assert.Greater(t, checked, 50, "snapshots compared")
}

func apply(t *testing.T, root, file, kind string, m map[string]string) {
	f, err := os.Open(filepath.Join(root, file))
	require.NoError(t, err)
	defer f.Close()
	_, err = structured.ScanStateFile(f, kind, nil, decode.Limits{}, func(r structured.Record) error {
		if r.Op == structured.OpDelete {
			delete(m, string(r.Key))
		} else {
			m[string(r.Key)] = string(r.Value)
		}
		return nil
	})
	require.NoError(t, err, file)
}
