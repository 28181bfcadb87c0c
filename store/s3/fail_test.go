package s3

import (
	"errors"
	"io/fs"
	"net/http"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// An object-level refusal names the bucket, the key, the operation and
// the access key, and is fs.ErrPermission.
func TestFailAccessDenied(t *testing.T) {
	f := &FS{c: &Client{ctx: t.Context(), endpoint: "http://s3.example"}, scheme: "s3a", bucket: "backups"}
	f.c.creds.AccessKeyID = "AKIAEXAMPLE"
	sdkErr := &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: http.StatusForbidden, Header: http.Header{}}},
		Err:      errors.New("api error AccessDenied: Access Denied")}}
	err := f.fail("GetObject", "ckpt/checkpoint-1", sdkErr)
	if !errors.Is(err, fs.ErrPermission) {
		t.Errorf("%v is not fs.ErrPermission", err)
	}
	const want = "GetObject s3a://backups/ckpt/checkpoint-1: permission denied: access denied by S3 (bucket backups, key ckpt/checkpoint-1, access key AKIAEXAMPLE)"
	if err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
	if err := f.fail("HeadObject", "x", &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: http.StatusNotFound, Header: http.Header{}}},
		Err:      errors.New("NotFound")}}); !errors.Is(err, fs.ErrNotExist) || err.Error() != "HeadObject s3a://backups/x: file does not exist" {
		t.Errorf("404: %v", err)
	}
}
