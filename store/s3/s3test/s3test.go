// Package s3test starts a real S3-compatible server for tests: versitygw
// (github.com/versity/versitygw, installed by .ci/run with
// `go install github.com/versity/versitygw/cmd/versitygw@v1.8.0`) on
// 127.0.0.1 with a temporary root, its objects plain files under it. It
// verifies checksums and conditional writes as S3 does. Tests skip with a
// message when the binary is absent, and fail instead when
// SPARKCKPT_REQUIRE_S3=1 (CI). Only _test.go files import it.
package s3test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Server is a running versitygw.
type Server struct {
	// Endpoint is http://127.0.0.1:PORT.
	Endpoint string
	// AccessKey and SecretKey are the root user's.
	AccessKey, SecretKey string
	// Region is the server's region.
	Region string
	// Root is the directory the posix backend keeps buckets in.
	Root   string
	cmd    *exec.Cmd
	exited chan error
}

// Binary finds versitygw: on PATH, else in GOBIN or GOPATH/bin.
func Binary() (string, error) {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	var dirs []string
	if b := os.Getenv("GOBIN"); b != "" {
		dirs = append(dirs, b)
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, p := range filepath.SplitList(strings.TrimSpace(string(out))) {
			dirs = append(dirs, filepath.Join(p, "bin"))
		}
	}
	for _, d := range dirs {
		p := filepath.Join(d, "versitygw")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("versitygw not found on PATH or in GOPATH/bin (install: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)")
}

// Start starts versitygw for the test and stops it at cleanup; it skips
// the test when versitygw is not installed (fails with
// SPARKCKPT_REQUIRE_S3=1).
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		if os.Getenv("SPARKCKPT_REQUIRE_S3") == "1" {
			t.Fatalf("SPARKCKPT_REQUIRE_S3=1: %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	root := t.TempDir()
	s := &Server{AccessKey: "sparkckpt-test", SecretKey: "sparkckpt-test-secret", Region: "us-east-1", Root: root}
	for attempt := 0; ; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		cmd := exec.Command(bin, "--port", addr, "--quiet", "posix", root)
		cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+s.AccessKey, "ROOT_SECRET_KEY="+s.SecretKey)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting versitygw: %v", err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		if waitListening(addr, exited, 15*time.Second) {
			s.cmd, s.Endpoint, s.exited = cmd, "http://"+addr, exited
			t.Cleanup(s.Stop)
			return s
		}
		cmd.Process.Kill()
		if attempt == 2 {
			t.Fatalf("versitygw did not start on %s: %s", addr, out.String())
		}
	}
}

// Stop kills the server and waits for it to exit (its port is then free);
// stopping a stopped server does nothing. Start's cleanup calls it.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// Addr is the server's HOST:PORT.
func (s *Server) Addr() string { return strings.TrimPrefix(s.Endpoint, "http://") }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitListening(addr string, exited chan error, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			exited <- err
			return false
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// Env is the environment with which sparkckpt (and the AWS CLI) reach the
// server with no other flag.
func (s *Server) Env() map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL_S3":         s.Endpoint,
		"AWS_ACCESS_KEY_ID":           s.AccessKey,
		"AWS_SECRET_ACCESS_KEY":       s.SecretKey,
		"AWS_REGION":                  s.Region,
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
	}
}

// SetEnv sets Env for the rest of the test (t.Setenv: not with t.Parallel).
func (s *Server) SetEnv(t *testing.T) {
	for k, v := range s.Env() {
		t.Setenv(k, v)
	}
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_SESSION_TOKEN", "")
}

// Client is an SDK client of the server, for test setup and inspection.
func (s *Server) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
	})
}

// CreateBucket creates a bucket.
func (s *Server) CreateBucket(t testing.TB, name string) {
	t.Helper()
	if _, err := s.Client().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("CreateBucket %s: %v", name, err)
	}
}

// Put writes an object (test setup: directory markers, files written by
// other tools).
func (s *Server) Put(t testing.TB, bucket, key string, data []byte) {
	t.Helper()
	_, err := s.Client().PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(string(data))})
	if err != nil {
		t.Fatalf("PutObject %s/%s: %v", bucket, key, err)
	}
}
