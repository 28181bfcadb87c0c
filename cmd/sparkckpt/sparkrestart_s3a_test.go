package main

import (
	"context"
	"net"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/sparkckpt/sparkckpt/fixtures/minihdfs"
	"github.com/sparkckpt/sparkckpt/fixtures/sparkpeer"
	"github.com/sparkckpt/sparkckpt/store/s3/s3test"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// s3aConf is the Spark configuration with which Spark's s3a:// client
// (hadoop-aws) reaches srv: path-style on the plain-HTTP endpoint with
// the root keys, and one attempt of a short connect, so that an endpoint
// that is gone fails in seconds rather than after minutes of retries. The
// driver and receiver write-ahead logs close each file after writing, as
// Spark's guide asks for on S3 (an object is visible only once closed).
// Directory markers are kept (Hadoop 3.4's default): S3A 3.3.4 otherwise
// deletes the parent markers after every file it writes, and versitygw's
// posix backend refuses to delete a marker of a non-empty directory
// (ErrDirectoryNotEmpty, a warning per file).
func s3aConf(srv *s3test.Server) map[string]string {
	return map[string]string{
		"spark.hadoop.fs.s3a.impl":                                   "org.apache.hadoop.fs.s3a.S3AFileSystem",
		"spark.hadoop.fs.s3a.endpoint":                               srv.Endpoint,
		"spark.hadoop.fs.s3a.endpoint.region":                        srv.Region,
		"spark.hadoop.fs.s3a.path.style.access":                      "true",
		"spark.hadoop.fs.s3a.connection.ssl.enabled":                 "false",
		"spark.hadoop.fs.s3a.aws.credentials.provider":               "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
		"spark.hadoop.fs.s3a.access.key":                             srv.AccessKey,
		"spark.hadoop.fs.s3a.secret.key":                             srv.SecretKey,
		"spark.hadoop.fs.s3a.attempts.maximum":                       "1",
		"spark.hadoop.fs.s3a.retry.limit":                            "1",
		"spark.hadoop.fs.s3a.retry.interval":                         "100ms",
		"spark.hadoop.fs.s3a.connection.establish.timeout":           "2000",
		"spark.hadoop.fs.s3a.connection.timeout":                     "10000",
		"spark.streaming.receiver.writeAheadLog.closeFileAfterWrite": "true",
		"spark.streaming.driver.writeAheadLog.closeFileAfterWrite":   "true",
	}
}

// s3CheckpointFiles lists the checkpoint-* objects directly under prefix
// (no slash at either end) in bucket on srv.
func s3CheckpointFiles(t *testing.T, srv *s3test.Server, bucket, prefix string) []string {
	t.Helper()
	out, err := srv.Client().ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{
		Bucket: aws.String(bucket), Prefix: aws.String(prefix + "/checkpoint-"), Delimiter: aws.String("/"),
	})
	require.NoError(t, err)
	var names []string
	for _, o := range out.Contents {
		names = append(names, strings.TrimPrefix(aws.ToString(o.Key), prefix+"/"))
	}
	sort.Strings(names)
	return names
}

// TestSparkRestartS3ADStreamWordCount is the seed story from S3 to HDFS on
// Spark 3.5 (hadoop-aws 3.3.4): the DStream word count checkpoints to
// s3a://bkt/ckpt on a real S3-compatible server (versitygw) for several
// batches and stops; sparkckpt cp copies the checkpoint to HDFS cluster B
// with --map s3a://bkt/ckpt=hdfs://B/..., and once without; the S3 server
// stops. Spark restarts from B with StreamingContext.getOrCreate: the
// running counts continue, new checkpoint files appear under B, and
// nothing connects to the S3 endpoint. check --expect-fs B exits 0 on the
// mapped copy and 1 on the unmapped one, from which Spark fails trying
// the stopped endpoint.
func TestSparkRestartS3ADStreamWordCount(t *testing.T) {
	hdfsEnv(t)
	line := sparkpeer.Lines()[0]
	require.Equal(t, "spark3.5", line.Name)
	prog := sparkpeer.Build(t, line)
	srv := s3test.Start(t)
	srv.SetEnv(t)
	srv.CreateBucket(t, "bkt")
	b := minihdfs.Start(t, minihdfs.Options{})
	conf := s3aConf(srv)
	src := sparkpeer.NewSource(t)
	out := filepath.Join(t.TempDir(), "counts.txt")
	const ckS3 = "s3a://bkt/ckpt"
	dir := "/user/spark/checkpoints/s3a-wordcount"
	ckB, unmapped := b.URI()+dir, b.URI()+"/unmapped/s3a-wordcount"
	start := func(ckpt string) *sparkpeer.App {
		return sparkpeer.StartConf(t, prog, conf, "sparkckpt.DStreamWordCount", ckpt, src.Host(), src.Port(), out)
	}

	// Several batches on S3.
	app := start(ckS3)
	conns := src.Accepted()
	require.True(t, app.WaitFor(3*time.Minute, func() bool { return src.Accepted() > conns }),
		"the receiver never connected:\n%s", app.Output())
	time.Sleep(time.Second)
	require.Positive(t, src.Send("alpha alpha beta"))
	require.True(t, app.WaitFor(time.Minute, countsAre(out, map[string]string{"alpha": "2", "beta": "1"})),
		"counts on S3:\n%s", app.Output())
	time.Sleep(5 * time.Second) // more batches, a state checkpoint after the data
	require.NoError(t, app.Stop(2*time.Minute), app.Output())
	before := s3CheckpointFiles(t, srv, "bkt", "ckpt")
	require.NotEmpty(t, before, "no checkpoint files on S3:\n%s", app.Output())
	// The receiver and driver write-ahead logs are on S3 too.
	for _, sub := range []string{"receivedData/0/log-", "receivedBlockMetadata/log-"} {
		o, err := srv.Client().ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("bkt"), Prefix: aws.String("ckpt/" + sub)})
		require.NoError(t, err)
		require.NotEmpty(t, o.Contents, "no %s objects on S3", sub)
	}

	// Checked where it lies, it restores on S3.
	code, stdout, errs := runCLI("check", ckS3, "--expect-fs", "s3a://bkt")
	assert.Equal(t, 0, code, "check on S3:\n%s%s", stdout, errs)

	// Copy with and without the mapping; check both against B.
	code, stdout, errs = runCLI("cp", ckS3, ckB, "--map", ckS3+"="+ckB)
	require.Equal(t, 0, code, "%s%s", stdout, errs)
	code, stdout, errs = runCLI("cp", ckS3, unmapped)
	require.Equal(t, 0, code, "%s%s", stdout, errs)
	code, stdout, errs = runCLI("check", ckB, "--expect-fs", b.URI())
	assert.Equal(t, 0, code, "check of the mapped copy:\n%s%s", stdout, errs)
	code, stdout, errs = runCLI("check", unmapped, "--expect-fs", b.URI())
	assert.Equal(t, 1, code, "check of the unmapped copy:\n%s%s", stdout, errs)
	assert.Contains(t, stdout, ckS3)

	// The S3 server goes away; anything that connects to its address is counted.
	srv.Stop()
	dialsToS3, stopRecorder := recorder(t, srv.Addr())

	// Spark restarts from B and the counts continue.
	app = start(ckB)
	conns = src.Accepted()
	require.True(t, app.WaitFor(3*time.Minute, func() bool { return src.Accepted() > conns }),
		"the restarted receiver never connected:\n%s", app.Output())
	require.True(t, app.WaitFor(time.Minute, countsAre(out, map[string]string{"alpha": "2", "beta": "1"})),
		"restored state on B:\n%s", app.Output())
	time.Sleep(time.Second)
	require.Positive(t, src.Send("alpha gamma"))
	require.True(t, app.WaitFor(time.Minute, countsAre(out, map[string]string{"alpha": "3", "beta": "1", "gamma": "1"})),
		"counts on B continue from S3's:\n%s", app.Output())
	time.Sleep(3 * time.Second)
	require.NoError(t, app.Stop(2*time.Minute), app.Output())
	after := checkpointFiles(t, b, dir)
	require.NotEmpty(t, after)
	assert.Greater(t, after[len(after)-1], before[len(before)-1], "new checkpoint files under B")
	assert.Zero(t, dialsToS3.Load(), "something connected to the S3 endpoint %s:\n%s", srv.Addr(), app.Output())
	assert.NotContains(t, app.Output(), "s3a://")
	assert.NotContains(t, app.Output(), srv.Addr())

	// Negative control: the unmapped copy makes Spark fail on the stopped endpoint.
	stopRecorder()
	app = start(unmapped)
	err := app.Wait(3 * time.Minute)
	require.Error(t, err, "Spark restarted from the unmapped copy:\n%s", app.Output())
	t.Logf("negative control, Spark's own failure:\n%s", firstLines(app.Output(), "Exception", 3))
	_, port, _ := net.SplitHostPort(srv.Addr())
	assert.Regexp(t, `(?s)s3a://bkt/ckpt.*\b127\.0\.0\.1:`+port+`\b.*(Connection refused|ConnectException)`, app.Output())
}
