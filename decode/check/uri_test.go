package check

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParsePlace(t *testing.T) {
	for _, c := range []struct {
		in, key, str string
		local        bool
	}{
		{"file:/a/b", "file:", "file:/a/b", true},
		{"file:///a/b", "file:", "file:/a/b", true},
		{"file://localhost/a/b", "file:", "file:/a/b", true},
		{"FILE:/a", "file:", "file:/a", true},
		{"file:/C:/code/ck", "file:", "file:/C:/code/ck", true},
		{"file://server/share/x", "file://server", "file://server/share/x", false},
		{"hdfs://NN.example:8020/user/x", "hdfs://nn.example:8020", "hdfs://nn.example:8020/user/x", false},
		{"hdfs://nameservice1/x", "hdfs://nameservice1", "hdfs://nameservice1/x", false},
		{"s3a://bucket", "s3a://bucket", "s3a://bucket", false},
	} {
		p, ok := parsePlace(c.in)
		require.True(t, ok, c.in)
		assert.Equal(t, c.key, p.key(), c.in)
		assert.Equal(t, c.str, p.String(), c.in)
		assert.Equal(t, c.local, p.local, c.in)
	}
	for _, bad := range []string{"", "/abs/path", "relative", "1abc:/x", ":x"} {
		_, ok := parsePlace(bad)
		assert.False(t, ok, bad)
	}
}

func TestUnder(t *testing.T) {
	base, _ := parsePlace("hdfs://nn:8020/user/spark/ckpt")
	for in, want := range map[string]string{
		"hdfs://nn:8020/user/spark/ckpt":                    ".",
		"hdfs://nn:8020/user/spark/ckpt/":                   ".",
		"hdfs://NN:8020/user/spark/ckpt/uuid/rdd-1":         "uuid/rdd-1",
		"hdfs://nn:8020/user/spark/ckpt/receivedData/0/log": "receivedData/0/log",
		"hdfs://nn:8020/user/spark/ckpt2/x":                 "",
		"hdfs://nn:8021/user/spark/ckpt/x":                  "",
		"hdfs://nn/user/spark/ckpt/x":                       "", // no default port assumed
		"file:/user/spark/ckpt/x":                           "",
	} {
		p, _ := parsePlace(in)
		rel, ok := under(p, base)
		assert.Equal(t, want, rel, in)
		assert.Equal(t, want != "", ok, in)
	}
	local, _ := parsePlace("file:/home/u/ckpt")
	p, _ := parsePlace("file:///home/u/ckpt/abc/rdd-2")
	rel, ok := under(p, local)
	assert.True(t, ok)
	assert.Equal(t, "abc/rdd-2", rel)
}

func TestMatchesExpect(t *testing.T) {
	for _, c := range []struct {
		expect, uri string
		want        bool
	}{
		{"file:///", "file:/home/x", true},
		{"file:/", "file:///home/x", true},
		{"file:", "file://localhost/x", true},
		{"file:///", "hdfs://nn:8020/x", false},
		{"hdfs://new-nn:8020", "hdfs://new-nn:8020/x", true},
		{"hdfs://new-nn:8020/", "hdfs://NEW-NN:8020/x", true},
		{"hdfs://new-nn:8020", "hdfs://new-nn/x", false},
		{"hdfs://new-nn:8020", "hdfs://old-nn:8020/x", false},
		{"hdfs://new-nn:8020", "webhdfs://new-nn:8020/x", false},
		{"hdfs://nn:8020/user/spark", "hdfs://nn:8020/user/spark/ckpt", true},
		{"hdfs://nn:8020/user/spark", "hdfs://nn:8020/user/sparkle", false},
		{"s3a://bucket", "s3a://bucket/ckpt", true},
	} {
		e, err := parseExpect(c.expect)
		require.NoError(t, err, c.expect)
		p, _ := parsePlace(c.uri)
		assert.Equal(t, c.want, matches(p, e), "%s vs %s", c.uri, c.expect)
	}
	for _, bad := range []string{"namenode:8020", "/local", "hdfs:///x", "hdfs:"} {
		assert.Error(t, ParseExpectFS(bad), bad)
	}
}

func TestRewriteFix(t *testing.T) {
	fix := func(expect, uri string, paths ...string) string {
		e, err := parseExpect(expect)
		require.NoError(t, err)
		p, _ := parsePlace(uri)
		c := &checker{expects: []place{e}, opts: Options{Path: "/restore/my ckpt"}}
		argv := c.rewriteFix(p, paths)
		assert.Equal(t, []string{"sparkckpt", "rewrite", "/restore/my ckpt", "--from"}, argv[:4])
		return ShellLine(argv)
	}
	assert.Equal(t, "sparkckpt rewrite '/restore/my ckpt' --from hdfs://old:8020 --to hdfs://new:8020",
		fix("hdfs://new:8020/", "hdfs://old:8020/user/x", "/user/x"))
	assert.Equal(t, "sparkckpt rewrite '/restore/my ckpt' --from file:/home/u/app --to hdfs://new:8020/home/u/app",
		fix("hdfs://new:8020", "file:/home/u/app/ckpt", "/home/u/app/ckpt", "/home/u/app/in/f1", "/home/u/app/ckpt/x/rdd-1"))
	assert.Equal(t, "sparkckpt rewrite '/restore/my ckpt' --from hdfs://old:8020/user/x --to file:/user/x",
		fix("file:///", "hdfs://old:8020/user/x/ckpt", "/user/x/ckpt", "/user/x/in"))
	assert.Equal(t, "sparkckpt rewrite '/restore/my ckpt' --from hdfs://old:8020/user/x/ckpt --to s3a://bucket/ckpt",
		fix("s3a://bucket/ckpt/", "hdfs://old:8020/user/x/ckpt", "/user/x/ckpt"))
}

func TestCommonDir(t *testing.T) {
	assert.Equal(t, "/a/b", commonDir([]string{"/a/b"}))
	assert.Equal(t, "/a", commonDir([]string{"/a/b", "/a/c/d"}))
	assert.Equal(t, "/a", commonDir([]string{"/a/bc", "/a/bd"}))
	assert.Equal(t, "", commonDir([]string{"/x", "/y"}))
	assert.Equal(t, "", commonDir(nil))
}

// TestValidateURI: the prefixes a rewrite takes are URIs Spark and Hadoop
// accept; everything else is refused with the reason.
func TestValidateURI(t *testing.T) {
	for _, tc := range []struct{ uri, err string }{
		{"hdfs://namenode:8020", ""},
		{"hdfs://nn.example.com:8020/user/spark/ckpt", ""},
		{"hdfs://ip-172-31-45-105.ec2.internal:8020", ""},
		{"hdfs://10.0.0.1:9000", ""},
		{"hdfs://[::1]:8020/x", ""},
		{"hdfs://nameservice1", ""},
		{"hdfs:///user/x", ""},
		{"s3a://my-bucket/prefix", ""},
		{"s3a://my_bucket", ""},
		{"file:/data/ckpt", ""},
		{"file:///data/my dir", ""},
		{"file://localhost/x", ""},
		{"viewfs://cluster/", ""},
		{"abfss://c@acct.dfs.core.windows.net/x", ""},
		{"hdfs://nn:8020/a%20b", ""},
		{"", "empty URI"},
		{"not a uri", "is not a URI"},
		{"/just/a/path", "is not a URI"},
		{"1hdfs://nn", "is not a URI"},
		{"hdfs:", "no path or authority"},
		{"nn:8020", `the path after the scheme must start with "/"`},
		{"hdfs://nn:99999", "port 99999 is out of range: expected 1 to 65535"},
		{"hdfs://nn:0", "port 0 is out of range"},
		{"hdfs://nn:80a", `port "80a" is not a number`},
		{"hdfs://nn:", "has a ':' but no port"},
		{"hdfs://:8020", "no host before the port"},
		{"hdfs://new nn:8020", `holds ' '`},
		{" hdfs://nn:8020", "white space"},
		{"hdfs://nn:8020 ", "white space"},
		{"hdfs://nn\x1b]52;c;eA==\x07:8020", "control character U+001B"},
		{"hdfs://nn:8020/x\ny", "control character U+000A"},
		{"hdfs://nn:8020/x\u009b", "control character U+009B"},
		{"hdfs://name_node:8020", `holds '_'`},
		{"hdfs://-nn:8020", "starting or ending with '-'"},
		{"hdfs://nn..x:8020", "empty label"},
		{"hdfs://[::1:8020", "no closing ]"},
		{"hdfs://[zz]:8020", "is not an IPv6 address"},
		{"hdfs://nn:8020/a%zz", "is not a %XX escape"},
		{"hdfs://nn:8020/a%2", "is not a %XX escape"},
		{"hdfs://us er@nn:8020", "user info"},
	} {
		err := ValidateURI(tc.uri)
		if tc.err == "" {
			if err != nil {
				t.Errorf("%q: %v", tc.uri, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%q: error %v, want one saying %q", tc.uri, err, tc.err)
		}
	}
}
