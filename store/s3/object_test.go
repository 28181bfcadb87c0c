package s3_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"math/rand"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sparkckpt/sparkckpt/store"
	s3store "github.com/sparkckpt/sparkckpt/store/s3"
)

func crc32c(b []byte) string {
	return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))))
}

func randomBytes(n int, seed int64) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

func writeFile(t *testing.T, s store.Store, name string, data []byte) {
	t.Helper()
	w, err := s.Create(name, 0o644)
	require.NoError(t, err)
	_, err = w.Write(data)
	require.NoError(t, err)
	require.NoError(t, w.Close())
}

// Every upload carries the CRC32C of its bytes: S3 stores it with the
// object (and would reject a body that does not match it).
func TestUploadChecksum(t *testing.T) {
	srv, f := open(t, "s3", "sums", 0)
	data := []byte("checkpoint bytes\n")
	writeFile(t, f, "ckpt", data)
	out, err := srv.Client().HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String("sums"), Key: aws.String("ckpt"), ChecksumMode: types.ChecksumModeEnabled})
	require.NoError(t, err)
	assert.Equal(t, crc32c(data), aws.ToString(out.ChecksumCRC32C))

	// The server checks the header against the body: what a corrupted
	// upload would meet.
	_, err = srv.Client().PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("sums"), Key: aws.String("bad"),
		Body: bytes.NewReader(data), ChecksumCRC32C: aws.String(crc32c([]byte("other bytes")))})
	require.Error(t, err)
	_, err = f.Stat("bad")
	assert.ErrorIs(t, err, fs.ErrNotExist)
}

// A download is checked against the stored checksum: an object whose
// bytes on the server no longer match it is an error, not data.
func TestDownloadChecksumVerified(t *testing.T) {
	srv, f := open(t, "s3", "rot", 0)
	data := []byte("the original checkpoint bytes")
	writeFile(t, f, "ckpt", data)
	got, err := store.ReadFile(f, "ckpt")
	require.NoError(t, err)
	require.Equal(t, data, got)
	// Bit rot under the server: versitygw's posix backend keeps the object as a plain file.
	p := srv.Root + "/rot/ckpt"
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	b[3] ^= 0x20
	st, _ := os.Stat(p)
	require.NoError(t, os.WriteFile(p, b, st.Mode()))
	_, err = store.ReadFile(f, "ckpt")
	require.Error(t, err, "a corrupted object must not read as data")
	assert.Contains(t, err.Error(), "GetObject s3://rot/ckpt: corrupted: the bytes read do not match the checksum S3 stores for the object (checksum did not match: algorithm CRC32C")
	assert.Contains(t, err.Error(), "s3://rot/ckpt")
}

// Files above the part size go up in parts, checksummed, and read back whole.
func TestMultipart(t *testing.T) {
	srv, f := open(t, "s3a", "multi", 5<<20)
	data := randomBytes(12<<20+12345, 7)
	w, err := f.Create("big", 0o600)
	require.NoError(t, err)
	for off := 0; off < len(data); off += 1 << 20 {
		_, err := w.Write(data[off:min(off+1<<20, len(data))])
		require.NoError(t, err)
	}
	ups, err := f.Uploads(".")
	require.NoError(t, err)
	require.Len(t, ups, 1, "the upload is in progress")
	require.NoError(t, w.Close())
	got, err := store.ReadFile(f, "big")
	require.NoError(t, err)
	require.True(t, bytes.Equal(data, got))
	out, err := srv.Client().HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String("multi"), Key: aws.String("big"), ChecksumMode: types.ChecksumModeEnabled})
	require.NoError(t, err)
	assert.Equal(t, crc32c(data), aws.ToString(out.ChecksumCRC32C), "the whole object's CRC32C")
	st, err := f.Stat("big")
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o600), st.Mode().Perm())
	ups, err = f.Uploads(".")
	require.NoError(t, err)
	assert.Empty(t, ups)

	// ReadAt and Seek on a streamed file.
	fl, err := f.Open("big")
	require.NoError(t, err)
	defer fl.Close()
	buf := make([]byte, 100)
	n, err := fl.ReadAt(buf, 6<<20)
	require.NoError(t, err)
	assert.Equal(t, data[6<<20:6<<20+100], buf[:n])
	_, err = fl.(io.Seeker).Seek(int64(len(data))-10, io.SeekStart)
	require.NoError(t, err)
	rest, err := io.ReadAll(fl)
	require.NoError(t, err)
	assert.Equal(t, data[len(data)-10:], rest)
}

// A multipart upload that fails is aborted: nothing is left to bill.
func TestMultipartAbortedOnError(t *testing.T) {
	_, f := open(t, "s3a", "abort", 5<<20)
	w, err := f.Create("big", 0o644)
	require.NoError(t, err)
	_, err = w.Write(randomBytes(6<<20, 1))
	require.NoError(t, err)
	// Someone creates the file meanwhile: If-None-Match refuses the completion.
	writeFile(t, f, "big2", []byte("x"))
	require.NoError(t, f.Rename("big2", "big"))
	err = w.Close()
	require.ErrorIs(t, err, fs.ErrExist)
	got, err := store.ReadFile(f, "big")
	require.NoError(t, err)
	assert.Equal(t, "x", string(got), "the other writer's file is kept")
	ups, err := f.Uploads(".")
	require.NoError(t, err)
	assert.Empty(t, ups, "the failed upload was aborted")
}

// Create never overwrites a file created after it was called.
func TestCreateIfNoneMatch(t *testing.T) {
	srv, f := open(t, "s3", "excl", 0)
	w, err := f.Create("ckpt", 0o644)
	require.NoError(t, err)
	_, err = w.Write([]byte("mine"))
	require.NoError(t, err)
	srv.Put(t, "excl", "ckpt", []byte("theirs"))
	err = w.Close()
	require.ErrorIs(t, err, fs.ErrExist)
	got, err := store.ReadFile(f, "ckpt")
	require.NoError(t, err)
	assert.Equal(t, "theirs", string(got))
}

// A replace conditional on the version read is refused once the file changed.
func TestReplaceIfVersion(t *testing.T) {
	srv, f := open(t, "s3", "cond", 0)
	writeFile(t, f, "ckpt", []byte("v1"))
	b, v1, err := f.ReadFileVersion("ckpt")
	require.NoError(t, err)
	require.Equal(t, "v1", string(b))
	srv.Put(t, "cond", "ckpt", []byte("written by Spark"))
	err = f.ReplaceIfVersion("ckpt", []byte("v2"), 0o644, v1)
	require.ErrorIs(t, err, s3store.ErrChanged)
	got, _ := store.ReadFile(f, "ckpt")
	assert.Equal(t, "written by Spark", string(got))
	_, cur, err := f.ReadFileVersion("ckpt")
	require.NoError(t, err)
	require.NoError(t, f.ReplaceIfVersion("ckpt", []byte("v2"), 0o644, cur))
	got, _ = store.ReadFile(f, "ckpt")
	assert.Equal(t, "v2", string(got))
	// A file removed in between is refused too.
	_, cur, _ = f.ReadFileVersion("ckpt")
	require.NoError(t, f.Remove("ckpt"))
	require.ErrorIs(t, f.ReplaceIfVersion("ckpt", []byte("v3"), 0o644, cur), s3store.ErrChanged)
}

// Directory markers written by other tools are never files.
func TestDirectoryMarkers(t *testing.T) {
	srv, f := open(t, "s3", "markers", 0)
	srv.Put(t, "markers", "ckpt/", nil)
	srv.Put(t, "markers", "ckpt/checkpoint-1", []byte("c"))
	srv.Put(t, "markers", "ckpt/receivedBlockMetadata_$folder$", nil)
	srv.Put(t, "markers", "ckpt/offsets/", nil)
	ents, err := f.ReadDir("ckpt")
	require.NoError(t, err)
	var got []string
	for _, e := range ents {
		got = append(got, fmt.Sprintf("%s %v", e.Name(), e.IsDir()))
	}
	assert.Equal(t, []string{"checkpoint-1 false", "offsets true", "receivedBlockMetadata true"}, got)
	ents, err = f.ReadDir("ckpt/offsets")
	require.NoError(t, err)
	assert.Empty(t, ents, "a marker alone is an empty directory")
	st, err := f.Stat("ckpt/offsets")
	require.NoError(t, err)
	assert.True(t, st.IsDir())
}

// Listing is paginated: a directory of more than one page (1000 keys).
func TestListPaginated(t *testing.T) {
	srv, f := open(t, "s3", "many", 0)
	c := srv.Client()
	const n = 1234
	for i := range n {
		_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("many"), Key: aws.String(fmt.Sprintf("ckpt/rdd/part-%05d", i)), Body: strings.NewReader("p")})
		require.NoError(t, err)
	}
	ents, err := f.ReadDir("ckpt/rdd")
	require.NoError(t, err)
	require.Len(t, ents, n)
	assert.Equal(t, "part-01233", ents[n-1].Name())
	require.NoError(t, f.RemoveAll("ckpt"))
	_, err = f.Stat("ckpt")
	assert.ErrorIs(t, err, fs.ErrNotExist)
}

// The URIs in messages keep the scheme the bucket was opened with.
func TestPathKeepsScheme(t *testing.T) {
	_, f := open(t, "s3n", "scheme", 0)
	_, err := f.Stat("missing")
	require.ErrorIs(t, err, fs.ErrNotExist)
	assert.Contains(t, err.Error(), "s3n://scheme/missing")
	assert.Equal(t, "s3n://scheme/a/b", f.Path("a/b"))
}

func TestErrors(t *testing.T) {
	srv, _ := open(t, "s3", "present", 0)
	ctx := context.Background()
	t.Run("NoSuchBucket", func(t *testing.T) {
		c, err := s3store.NewClient(ctx, s3store.Config{Getenv: os.Getenv})
		require.NoError(t, err)
		_, err = c.Bucket("s3a", "absent")
		require.Error(t, err)
		assert.Equal(t, "s3a://absent: no such bucket at "+srv.Endpoint, err.Error())
	})
	t.Run("AccessDenied", func(t *testing.T) {
		t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")
		c, err := s3store.NewClient(ctx, s3store.Config{Getenv: os.Getenv})
		require.NoError(t, err)
		_, err = c.Bucket("s3", "present")
		require.Error(t, err)
		assert.Equal(t, "s3://present: access denied (HeadBucket, access key sparkckpt-test at "+srv.Endpoint+")", err.Error())
	})
	t.Run("WrongRegion", func(t *testing.T) {
		t.Setenv("AWS_REGION", "eu-west-1")
		c, err := s3store.NewClient(ctx, s3store.Config{Getenv: os.Getenv})
		require.NoError(t, err)
		_, err = c.Bucket("s3", "present")
		require.Error(t, err)
		assert.Equal(t, "s3://present: the bucket is in region us-east-1, not eu-west-1 (from the AWS configuration): set AWS_REGION=us-east-1", err.Error())
	})
	t.Run("Unreachable", func(t *testing.T) {
		l, err := netListenClosed()
		require.NoError(t, err)
		c, err := s3store.NewClient(ctx, s3store.Config{Endpoint: "http://" + l, Getenv: os.Getenv})
		require.NoError(t, err)
		start := time.Now()
		_, err = c.Bucket("s3", "present")
		require.Error(t, err)
		var ue *s3store.UnreachableError
		require.True(t, errors.As(err, &ue), "%v", err)
		assert.Contains(t, err.Error(), "s3://present: S3 endpoint http://"+l+" unreachable: ")
		assert.Less(t, time.Since(start), 10*time.Second)
		assert.NotContains(t, err.Error(), "\n")
	})
	t.Run("NoCredentials", func(t *testing.T) {
		t.Setenv("AWS_ACCESS_KEY_ID", "")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "")
		_, err := s3store.NewClient(ctx, s3store.Config{Getenv: os.Getenv})
		require.Error(t, err)
		var ne *s3store.NoCredentialsError
		require.True(t, errors.As(err, &ne), "%v", err)
		assert.Contains(t, err.Error(), "no AWS credentials found; tried the environment (AWS_ACCESS_KEY_ID")
		assert.Contains(t, err.Error(), "instance metadata (IMDSv2)")
		assert.NotContains(t, err.Error(), "\n")
	})
	t.Run("BadEndpoint", func(t *testing.T) {
		_, err := s3store.NewClient(ctx, s3store.Config{Endpoint: "127.0.0.1:9000", Getenv: os.Getenv})
		require.EqualError(t, err, `S3 endpoint "127.0.0.1:9000": want http://HOST[:PORT] or https://HOST[:PORT]`)
	})
}

// netListenClosed returns a 127.0.0.1 address nothing listens on.
func netListenClosed() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	l.Close()
	return addr, nil
}
