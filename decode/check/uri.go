package check

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

// place is a URI split for comparison: scheme and authority compare
// case-insensitively, the path exactly.
type place struct {
	raw       string
	scheme    string // lower-case
	authority string // lower-case; "" for the local filesystem
	path      string // "" or starting with "/" (for a hierarchical URI)
	local     bool   // a file: URI on the local filesystem
}

func validScheme(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return true
}

// parsePlace splits a URI. file:/x, file:///x and file://localhost/x are
// the same local place.
func parsePlace(u string) (place, bool) {
	scheme, rest, ok := strings.Cut(u, ":")
	if !ok || !validScheme(scheme) {
		return place{}, false
	}
	p := place{raw: u, scheme: strings.ToLower(scheme)}
	if after, ok := strings.CutPrefix(rest, "//"); ok {
		auth, pth, found := strings.Cut(after, "/")
		p.authority = strings.ToLower(auth)
		if found {
			p.path = "/" + pth
		}
	} else {
		p.path = rest
	}
	if p.scheme == "file" && (p.authority == "" || p.authority == "localhost") {
		p.authority, p.local = "", true
		if p.path == "" {
			p.path = "/"
		}
	}
	return p, true
}

// key groups places by filesystem: "file:" for the local filesystem,
// "scheme://authority" otherwise (as dstream.Reference.Key does), s3n://
// being s3a:// (see fsScheme).
func (p place) key() string {
	switch {
	case p.local:
		return "file:"
	case p.authority == "":
		return p.fsScheme() + ":"
	}
	return p.fsScheme() + "://" + p.authority
}

// fsScheme is the scheme places are compared under: Hadoop's s3n:// and
// s3a:// connectors address the same bucket and key, so they are one
// place. s3:// is not: off EMR no FileSystem is registered for it (on
// EMR it is EMRFS), so an s3:// reference does not resolve where
// s3a:// is expected.
func (p place) fsScheme() string {
	if p.scheme == "s3n" {
		return "s3a"
	}
	return p.scheme
}

// emrOnly reports whether p is an s3:// place whose bucket e expects
// under s3a:// or s3n://: written on EMR (EMRFS), it does not resolve off
// EMR, and the fix is to name the same bucket with e's scheme.
func emrOnly(p, e place) bool {
	return p.scheme == "s3" && (e.scheme == "s3a" || e.scheme == "s3n") && p.authority == e.authority
}

// String is the normalised URI: file:/x for local files.
func (p place) String() string {
	if p.local {
		return "file:" + p.path
	}
	if p.authority == "" {
		return p.scheme + ":" + p.path
	}
	return p.scheme + "://" + p.authority + p.path
}

// rootless reports whether p names a whole filesystem (no path, or "/").
func (p place) rootless() bool { return p.path == "" || p.path == "/" }

// under returns the slash-separated path of p relative to base if p is
// base or below it on a path boundary ("." for base itself).
func under(p, base place) (string, bool) {
	if p.key() != base.key() {
		return "", false
	}
	bp := strings.TrimRight(base.path, "/")
	pp := p.path
	switch {
	case bp == "":
		rel := strings.Trim(pp, "/")
		if rel == "" {
			rel = "."
		}
		return rel, true
	case pp == bp || pp == bp+"/":
		return ".", true
	case strings.HasPrefix(pp, bp+"/"):
		return strings.TrimRight(pp[len(bp)+1:], "/"), true
	}
	return "", false
}

// matches reports whether p lies on the expected filesystem e. Where
// s3:// is expected (EMR), s3a:// and s3n:// of the same bucket resolve
// too (EMR ships both connectors).
func matches(p, e place) bool {
	if e.scheme == "s3" && (p.scheme == "s3a" || p.scheme == "s3n") {
		p.scheme = "s3"
	}
	if e.rootless() {
		return p.key() == e.key()
	}
	_, ok := under(p, e)
	return ok
}

// ParseExpectFS validates one Options.ExpectFS entry: a URI with a scheme,
// e.g. "hdfs://new-nn:8020", "s3a://bucket", "hdfs://nn:8020/user/x" (only
// references under that path count as expected) or "file:///".
func ParseExpectFS(s string) error {
	_, err := parseExpect(s)
	return err
}

func parseExpect(s string) (place, error) {
	p, ok := parsePlace(s)
	if !ok || (!p.local && p.authority == "") {
		return place{}, fmt.Errorf("--expect-fs %q: expected scheme://authority[/path] (e.g. hdfs://namenode:8020) or file:/// for local paths", s)
	}
	return p, nil
}

// fsSchemes are the URI schemes of Hadoop filesystems: a reference with
// one of them is a place Spark reads or writes files.
var fsSchemes = map[string]bool{
	"file": true, "hdfs": true, "viewfs": true, "webhdfs": true, "swebhdfs": true, "har": true,
	"s3": true, "s3a": true, "s3n": true, "gs": true, "wasb": true, "wasbs": true, "abfs": true, "abfss": true,
	"adl": true, "maprfs": true, "alluxio": true, "oss": true, "cos": true, "cosn": true, "obs": true,
	"ofs": true, "o3fs": true, "jfs": true, "ftp": true, "sftp": true, "lakefs": true,
}

// JoinPath joins the slash-separated relative name to dir as the user
// named it in Options.Path: a local path (cleaned, as path.Join does) or
// a URI such as hdfs://nn:8020/ckpt, whose scheme://authority is kept
// (path.Join would make it hdfs:/nn:8020/ckpt).
func JoinPath(dir, name string) string {
	if i := strings.Index(dir, "://"); i > 0 && validScheme(dir[:i]) {
		auth, p, _ := strings.Cut(dir[i+3:], "/")
		return dir[:i+3] + auth + path.Join("/", p, name)
	}
	return path.Join(dir, name)
}

// ShellQuote quotes s for a POSIX shell when it needs it (paths in the
// ready-to-run commands that findings suggest).
func ShellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@%+,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// FSPlace is a URI as a place on a filesystem, for comparing references
// with expected filesystems: scheme and authority compare
// case-insensitively, the path exactly; file:/x, file:///x and
// file://localhost/x are one local place.
type FSPlace struct{ p place }

// ParseFSPlace parses a URI; ok is false if it has no valid scheme.
func ParseFSPlace(u string) (FSPlace, bool) {
	p, ok := parsePlace(u)
	return FSPlace{p}, ok
}

// ParseExpected parses an expected filesystem (an Options.ExpectFS entry).
func ParseExpected(s string) (FSPlace, error) {
	p, err := parseExpect(s)
	return FSPlace{p}, err
}

// Key groups places by filesystem: "file:" for the local filesystem,
// "scheme://authority" otherwise.
func (p FSPlace) Key() string { return p.p.key() }

// Local reports whether p is on the local filesystem.
func (p FSPlace) Local() bool { return p.p.local }

// Path is p's path ("" or starting with "/").
func (p FSPlace) Path() string { return p.p.path }

// On reports whether p lies on the expected filesystem e (under e's path
// on a path boundary, when e has one).
func (p FSPlace) On(e FSPlace) bool { return matches(p.p, e.p) }

// ValidateURI checks that s is a URI prefix Spark and Hadoop accept as a
// place on a file system (a rewrite's --from and --to, a --map side) and
// says why not:
//
//   - a scheme (RFC 3986: a letter, then letters, digits, + - .);
//   - no control character anywhere (they reach the checkpoint, then
//     every log and terminal that prints it), no whitespace before the path;
//   - scheme://authority: [userinfo@]host[:port] with a host java.net.URI
//     parses (labels of letters, digits and "-", not starting or ending
//     with "-"; an IPv4 address; or an [IPv6] literal; no "_" for hdfs,
//     where Hadoop then finds no host), and a port of 1 to 65535;
//   - scheme:path only with an absolute path (Hadoop refuses a relative
//     path in an absolute URI: "nn:8020" is no URI of host nn);
//   - in the path, "%" only as a %XX escape.
//
// Spaces inside the path are accepted: Hadoop's Path takes them (Spark
// stores checkpointDir as Path.toString writes it, unescaped).
func ValidateURI(s string) error {
	if s == "" {
		return fmt.Errorf("empty URI")
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 {
			return fmt.Errorf("%q holds the control character %U: Hadoop paths cannot", s, r)
		}
	}
	if strings.TrimSpace(s) != s {
		return fmt.Errorf("%q starts or ends with white space", s)
	}
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok || !validScheme(scheme) {
		return fmt.Errorf("%q is not a URI: expected scheme:path or scheme://authority/path (e.g. hdfs://namenode:8020, s3a://bucket, file:/data)", s)
	}
	after, hier := strings.CutPrefix(rest, "//")
	path := rest
	if hier {
		auth, p, found := strings.Cut(after, "/")
		if err := validAuthority(strings.ToLower(scheme), auth); err != nil {
			return fmt.Errorf("%q: %w", s, err)
		}
		path = ""
		if found {
			path = "/" + p
		}
	} else if path == "" {
		return fmt.Errorf("%q has no path or authority after the scheme", s)
	} else if path[0] != '/' {
		// Hadoop's Path: "Relative path in absolute URI".
		return fmt.Errorf("%q: the path after the scheme must start with \"/\" (scheme:/path or scheme://host:port/path)", s)
	}
	for i := 0; i < len(path); i++ {
		if path[i] == '%' && (i+2 >= len(path) || !isHex(path[i+1]) || !isHex(path[i+2])) {
			return fmt.Errorf("%q: %% at byte %d of the path is not a %%XX escape", s, len(s)-len(path)+i)
		}
	}
	return nil
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// validAuthority checks [userinfo@]host[:port]; an empty authority
// (file:///x, hdfs:///x for the default file system) is accepted.
func validAuthority(scheme, auth string) error {
	if auth == "" {
		return nil
	}
	if i := strings.LastIndexByte(auth, '@'); i >= 0 {
		if strings.ContainsAny(auth[:i], " \t/?#[]@") {
			return fmt.Errorf("user info %q holds a character a URI's user info cannot", auth[:i])
		}
		auth = auth[i+1:]
	}
	host, port := auth, ""
	if strings.HasPrefix(auth, "[") {
		end := strings.IndexByte(auth, ']')
		if end < 0 {
			return fmt.Errorf("IPv6 host %q has no closing ]", auth)
		}
		host, port = auth[:end+1], strings.TrimPrefix(auth[end+1:], ":")
		if end+1 < len(auth) && auth[end+1] != ':' {
			return fmt.Errorf("unexpected %q after the IPv6 host", auth[end+1:])
		}
		if inner := host[1 : len(host)-1]; inner == "" || strings.Trim(inner, "0123456789abcdefABCDEF:.") != "" {
			return fmt.Errorf("%q is not an IPv6 address", host)
		}
	} else if i := strings.LastIndexByte(auth, ':'); i >= 0 {
		host, port = auth[:i], auth[i+1:]
		if port == "" {
			return fmt.Errorf("%q has a ':' but no port", auth)
		}
	}
	if err := validHost(scheme, host); err != nil {
		return err
	}
	if port == "" {
		return nil
	}
	if strings.Trim(port, "0123456789") != "" {
		return fmt.Errorf("port %q is not a number", port)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %s is out of range: expected 1 to 65535", port)
	}
	return nil
}

func validHost(scheme, host string) error {
	if host == "" {
		return fmt.Errorf("no host before the port")
	}
	if strings.HasPrefix(host, "[") {
		return nil
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" {
			return fmt.Errorf("host %q has an empty label", host)
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("host %q has a label starting or ending with '-'", host)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			switch {
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-':
			case c == '_' && scheme != "hdfs" && scheme != "webhdfs" && scheme != "swebhdfs" && scheme != "viewfs":
			case c == '_':
				return fmt.Errorf("host %q holds '_': java.net.URI then finds no host and Hadoop fails with \"Incomplete HDFS URI, no host\"", host)
			default:
				return fmt.Errorf("host %q holds %q, which a host name cannot", host, c)
			}
		}
	}
	return nil
}
