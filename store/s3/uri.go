package s3

import (
	"fmt"
	"net/url"
	"path"
	"strings"
	"unicode/utf8"
)

// Schemes are the URI schemes that name S3 objects: s3 (EMRFS on EMR,
// the AWS CLI), s3a (Hadoop's S3A) and s3n (Hadoop's retired native S3
// file system). All three address the same bucket and key.
var Schemes = []string{"s3", "s3a", "s3n"}

// IsURI reports whether s is an s3://, s3a:// or s3n:// URI.
func IsURI(s string) bool {
	scheme, _, ok := strings.Cut(s, "://")
	if !ok {
		return false
	}
	for _, sc := range Schemes {
		if strings.EqualFold(scheme, sc) {
			return true
		}
	}
	return false
}

// Split splits an S3 URI into its scheme (lower-case, as written: s3,
// s3a or s3n), bucket and store name: "s3a://b/ckpt/app/" gives "s3a",
// "b" and "ckpt/app"; "s3://b" and "s3://b/" give the name ".".
func Split(uri string) (scheme, bucket, name string, err error) {
	if !IsURI(uri) {
		return "", "", "", fmt.Errorf("%s: not an s3://, s3a:// or s3n:// URI", uri)
	}
	sc, rest, _ := strings.Cut(uri, "://")
	scheme = strings.ToLower(sc)
	bucket, p, _ := strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", "", fmt.Errorf("%s: no bucket: write %s://BUCKET/path", uri, scheme)
	}
	if strings.ContainsAny(bucket, "@?#:") || bucket != strings.ToLower(bucket) && strings.ContainsAny(bucket, " ") {
		return "", "", "", fmt.Errorf("%s: %q is not an S3 bucket name", uri, bucket)
	}
	if strings.ContainsAny(p, "?#") {
		if u, perr := url.Parse(uri); perr != nil || u.RawQuery != "" || u.Fragment != "" {
			return "", "", "", fmt.Errorf("%s: an S3 URI has no query or fragment", uri)
		}
	}
	if !utf8.ValidString(p) {
		return "", "", "", fmt.Errorf("%s: not valid UTF-8 (S3 keys are UTF-8)", uri)
	}
	name = strings.TrimPrefix(path.Clean("/"+p), "/")
	if name == "" {
		name = "."
	}
	return scheme, bucket, name, nil
}
