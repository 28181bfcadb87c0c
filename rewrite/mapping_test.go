package rewrite

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMapBoundaries(t *testing.T) {
	mp, err := NewMapper([]Mapping{{"hdfs://nn:8020", "hdfs://emr:8020"}, {"hdfs://nn:8020/user/a/ckpt", "hdfs://nn2:9000/ckpt"}, {"file:/home/u/ckpt", "hdfs://x:8020/ckpt"}})
	require.NoError(t, err)
	for _, tc := range []struct{ in, want string }{
		{"hdfs://nn:8020/x", "hdfs://emr:8020/x"},
		{"hdfs://nn:8020", "hdfs://emr:8020"},
		{"hdfs://nn:80200/x", "hdfs://nn:80200/x"},
		{"hdfs://nn:8020x", "hdfs://nn:8020x"},
		{"hdfs://nn/x", "hdfs://nn/x"}, // default ports are not assumed
		{"xhdfs://nn:8020/x", "xhdfs://nn:8020/x"},
		// the longest prefix wins
		{"hdfs://nn:8020/user/a/ckpt/rdd-1", "hdfs://nn2:9000/ckpt/rdd-1"},
		{"hdfs://nn:8020/user/a/ckpt2", "hdfs://emr:8020/user/a/ckpt2"},
		// several URIs in one string, comma separated
		{"hdfs://nn:8020/a.jar,hdfs://nn:8020/b.jar", "hdfs://emr:8020/a.jar,hdfs://emr:8020/b.jar"},
		// file:/x and file:///x are one place
		{"file:/home/u/ckpt/rdd-3", "hdfs://x:8020/ckpt/rdd-3"},
		{"file:///home/u/ckpt", "hdfs://x:8020/ckpt"},
		{"file://localhost/home/u/ckpt/a", "hdfs://x:8020/ckpt/a"},
		{"file:/home/u/ckpt2", "file:/home/u/ckpt2"},
		{"no uri here", "no uri here"},
	} {
		got, _ := mp.Map(tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
	assert.Equal(t, []int{0, 21}, mp.Find("hdfs://nn:8020/a.jar,hdfs://nn:8020/b.jar"))
}

func TestNewMapperRefuses(t *testing.T) {
	for _, tc := range []struct {
		ms  []Mapping
		err string
	}{
		{nil, "no mapping"},
		{[]Mapping{{"hdfs://a:1", "hdfs://a:1/"}}, "to itself"},
		{[]Mapping{{"hdfs://a:1/x", "hdfs://a:1/x/y"}}, "TO lies under FROM"},
		{[]Mapping{{"/tmp/x", "hdfs://a:1"}}, "scheme"},
		{[]Mapping{{"hdfs://a:1", "hdfs://b:1"}, {"hdfs://a:1/", "hdfs://c:1"}}, "given twice"},
	} {
		_, err := NewMapper(tc.ms)
		assert.ErrorContains(t, err, tc.err)
	}
	m, err := ParseMapping("hdfs://a:1=hdfs://b:2")
	require.NoError(t, err)
	assert.Equal(t, Mapping{"hdfs://a:1", "hdfs://b:2"}, m)
	_, err = ParseMapping("hdfs://a:1")
	assert.Error(t, err)
}

// TestMapIdempotent: mapping the output again changes nothing.
func TestMapIdempotent(t *testing.T) {
	mp, err := NewMapper([]Mapping{{"hdfs://ip-172-31-45-105.ec2.internal:8020", "hdfs://emr-master:8020"}})
	require.NoError(t, err)
	once, n := mp.Map("hdfs://ip-172-31-45-105.ec2.internal:8020/user/hadoop/checkpointtest2")
	assert.Equal(t, 1, n)
	twice, n := mp.Map(once)
	assert.Equal(t, 0, n)
	assert.Equal(t, once, twice)
}

func TestKindOfPath(t *testing.T) {
	for rel, want := range map[string]string{
		"checkpoint-1700000010000":           KindCheckpoint,
		"checkpoint-1700000010000.bk":        KindCheckpoint,
		"receivedBlockMetadata/log-1-2":      KindLog,
		"receivedData/0/log-1-2":             "",
		".checkpoint-1700000010000.crc":      "",
		"3f0c2a9e/rdd-41/part-00000":         "",
		"sub/checkpoint-1700000010000":       "",
		"receivedBlockMetadata/.log-1-2.crc": "",
	} {
		assert.Equal(t, want, KindOfPath(rel), rel)
	}
}

// TestFindRaw: in raw bytes the byte before a string is its length, here
// 'o' (111), which Find takes for part of a word; FindRaw finds the URI
// (a Spark 4.0 driver log record was copied unrewritten because of it).
func TestFindRaw(t *testing.T) {
	mp, err := NewMapper([]Mapping{{From: "hdfs://nn:8020", To: "hdfs://new:8020"}})
	require.NoError(t, err)
	raw := []byte("t\x00ohdfs://nn:8020/user/x\x00hdfs://nn:80200/no")
	assert.Empty(t, mp.Find(string(raw)))
	assert.Equal(t, []int{3}, mp.FindRaw(raw))
	assert.Empty(t, mp.FindRaw([]byte("hdfs://nn:802")))
}
