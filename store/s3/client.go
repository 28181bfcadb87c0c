package s3

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// DefaultPartSize is the largest file uploaded in one PutObject, and the
// part size of the multipart uploads of larger files.
const DefaultPartSize = 16 << 20

// DefaultTimeout bounds reaching the endpoint: connecting, finding
// credentials and the first request.
const DefaultTimeout = 5 * time.Second

// Config configures a Client. Everything else comes from the AWS
// configuration users already have (environment, ~/.aws/config and
// credentials, AWS_PROFILE, instance metadata).
type Config struct {
	// Endpoint is an S3-compatible endpoint (http://host:port); empty:
	// AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL, else the profile's
	// endpoint_url, else AWS itself. With an endpoint, buckets are
	// addressed path-style.
	Endpoint string
	// Getenv reads the environment (os.Getenv).
	Getenv func(string) string
	// Timeout bounds reaching the endpoint (DefaultTimeout if zero).
	Timeout time.Duration
	// PartSize is the single-PUT limit and multipart part size
	// (DefaultPartSize if zero; S3's minimum part size is 5 MiB).
	PartSize int64
}

// Client is a connection to S3 (or an S3-compatible endpoint) shared by
// the buckets opened through it. It is safe for concurrent use.
type Client struct {
	api      *s3.Client
	ctx      context.Context
	endpoint string // as the user gave it, "" for AWS
	region   string
	regionOf string // where the region came from
	partSize int64
	timeout  time.Duration
	creds    aws.Credentials

	mu      sync.Mutex
	buckets map[string]error // HeadBucket results
}

// NewClient loads the AWS configuration and finds credentials (the
// default chain: environment, shared files with AWS_PROFILE, web
// identity, SSO, credential_process, container and EC2 instance
// metadata over IMDSv2). ctx bounds every later request too. It fails
// with a *NoCredentialsError when no source has credentials.
func NewClient(ctx context.Context, c Config) (*Client, error) {
	getenv := c.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	endpoint := c.Endpoint
	if endpoint == "" {
		endpoint = getenv("AWS_ENDPOINT_URL_S3")
	}
	if endpoint == "" {
		endpoint = getenv("AWS_ENDPOINT_URL")
	}
	if endpoint != "" {
		u, err := url.Parse(endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("S3 endpoint %q: want http://HOST[:PORT] or https://HOST[:PORT]", endpoint)
		}
	}
	httpClient := awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = timeout / 2 }).
		WithTransportOptions(func(t *http.Transport) {
			t.MaxIdleConnsPerHost = 64
			t.ResponseHeaderTimeout = 2 * time.Minute
		})
	opts := []func(*config.LoadOptions) error{
		config.WithHTTPClient(httpClient),
		config.WithRetryer(func() aws.Retryer {
			// The SDK's retries, with a short back-off: an endpoint that
			// cannot be reached fails within seconds, not minutes.
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 4
				o.MaxBackoff = time.Second
			})
		}),
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("S3: loading the AWS configuration: %w", err)
	}
	if endpoint == "" && cfg.BaseEndpoint != nil {
		endpoint = *cfg.BaseEndpoint // endpoint_url in the profile
	}
	regionOf := "the AWS configuration"
	if cfg.Region == "" {
		cfg.Region, regionOf = "us-east-1", "the default (no AWS_REGION or profile region)"
	}
	cl := &Client{ctx: ctx, endpoint: endpoint, region: cfg.Region, regionOf: regionOf,
		partSize: c.PartSize, timeout: timeout, buckets: map[string]error{}}
	if cl.partSize <= 0 {
		cl.partSize = DefaultPartSize
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if cfg.Credentials == nil {
		return nil, &NoCredentialsError{Err: errors.New("no credential provider")}
	}
	cl.creds, err = cfg.Credentials.Retrieve(cctx)
	if err != nil {
		return nil, &NoCredentialsError{Err: err, Profile: getenv("AWS_PROFILE")}
	}
	cl.api = s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
			o.UsePathStyle = true
		}
		// sparkckpt sets the CRC32C of every upload itself and asks for
		// checksums on download (ChecksumMode) where it verifies them.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	return cl, nil
}

// Endpoint names where requests go: the configured endpoint, or AWS S3
// in the client's region.
func (c *Client) Endpoint() string {
	if c.endpoint != "" {
		return c.endpoint
	}
	return "AWS S3 (" + c.region + ")"
}

// Bucket opens a bucket as a store.Store named with scheme (s3, s3a or
// s3n: the scheme names print with). The first time a bucket is opened,
// one HeadBucket checks that it exists, is reachable and is in the
// client's region; its errors are one line a person can act on.
func (c *Client) Bucket(scheme, bucket string) (*FS, error) {
	c.mu.Lock()
	err, seen := c.buckets[bucket]
	c.mu.Unlock()
	if !seen {
		err = c.headBucket(scheme, bucket)
		c.mu.Lock()
		c.buckets[bucket] = err
		c.mu.Unlock()
	}
	if err != nil {
		return nil, err
	}
	return &FS{c: c, scheme: strings.ToLower(scheme), bucket: bucket, dirs: map[string]bool{}}, nil
}

func (c *Client) headBucket(scheme, bucket string) error {
	ctx, cancel := context.WithTimeout(c.ctx, c.timeout)
	defer cancel()
	_, err := c.api.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)})
	if err == nil {
		return nil
	}
	uri := scheme + "://" + bucket
	status, header := httpStatus(err)
	switch {
	case status == 0:
		if c.ctx.Err() != nil {
			return c.ctx.Err()
		}
		return &UnreachableError{Endpoint: c.Endpoint(), Bucket: uri, Err: rootCause(err)}
	case status == http.StatusNotFound:
		return &BucketError{Bucket: uri, Msg: "no such bucket at " + c.Endpoint()}
	case status == http.StatusForbidden:
		return &BucketError{Bucket: uri, Msg: fmt.Sprintf("access denied (HeadBucket, access key %s at %s)", c.creds.AccessKeyID, c.Endpoint())}
	}
	r := header.Get("X-Amz-Bucket-Region")
	if r == "" && (status == http.StatusBadRequest || status == http.StatusMovedPermanently) {
		// A HEAD answer has no body; a GET says which region it expects
		// (AuthorizationHeaderMalformed: ... expecting "eu-west-1").
		_, lerr := c.api.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), MaxKeys: aws.Int32(1)})
		if lerr != nil {
			_, h := httpStatus(lerr)
			if r = h.Get("X-Amz-Bucket-Region"); r == "" {
				if m := expectingRegion.FindStringSubmatch(lerr.Error()); m != nil {
					r = m[1]
				}
			}
			err = lerr
		}
	}
	if r != "" && r != c.region {
		return &BucketError{Bucket: uri, Msg: fmt.Sprintf("the bucket is in region %s, not %s (from %s): set AWS_REGION=%s", r, c.region, c.regionOf, r)}
	}
	return &BucketError{Bucket: uri, Msg: "HeadBucket: " + oneLine(apiMessage(err))}
}

// expectingRegion finds the region in S3's AuthorizationHeaderMalformed message.
var expectingRegion = regexp.MustCompile(`expecting ['"]([a-z0-9-]+)['"]`)

// NoCredentialsError means no source of the default credential chain
// had credentials.
type NoCredentialsError struct {
	Profile string
	Err     error
}

func (e *NoCredentialsError) Error() string {
	prof := "default"
	if e.Profile != "" {
		prof = e.Profile
	}
	return fmt.Sprintf("S3: no AWS credentials found; tried the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), "+
		"~/.aws/credentials and ~/.aws/config (profile %s: keys, assume-role, SSO, credential_process), "+
		"web identity (AWS_WEB_IDENTITY_TOKEN_FILE), the container endpoint and EC2 instance metadata (IMDSv2): %s", prof, oneLine(rootCause(e.Err).Error()))
}

func (e *NoCredentialsError) Unwrap() error { return e.Err }

// UnreachableError means the endpoint did not answer within the timeout.
type UnreachableError struct {
	Endpoint string
	Bucket   string
	Err      error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("%s: S3 endpoint %s unreachable: %s", e.Bucket, e.Endpoint, oneLine(e.Err.Error()))
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// BucketError is a bucket that cannot be used: missing, access denied,
// in another region.
type BucketError struct {
	Bucket string
	Msg    string
}

func (e *BucketError) Error() string { return e.Bucket + ": " + e.Msg }

// httpStatus returns the HTTP status and headers of a failed request (0
// if no response came).
func httpStatus(err error) (int, http.Header) {
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		return re.HTTPStatusCode(), re.Response.Header
	}
	return 0, nil
}

// rootCause strips the SDK's "operation error ..., https response error"
// wrapping down to the transport error, when there is one.
func rootCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		var oe *net.OpError
		if errors.As(ue.Err, &oe) {
			return oe
		}
		return ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return errors.New("no answer (timed out)")
	}
	return err
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
