package check

import "testing"

// JoinPath keeps a URI's scheme://authority, which path.Join collapses.
func TestJoinPath(t *testing.T) {
	for _, c := range []struct{ dir, name, want string }{
		{"hdfs://nn:8020/user/ckpt", "rdd-57", "hdfs://nn:8020/user/ckpt/rdd-57"},
		{"hdfs://nn:8020/user/ckpt/", "a/b", "hdfs://nn:8020/user/ckpt/a/b"},
		{"hdfs://nn:8020", "ckpt", "hdfs://nn:8020/ckpt"},
		{"hdfs://nn:8020/", "ckpt", "hdfs://nn:8020/ckpt"},
		{"file:///tmp/x", "y", "file:///tmp/x/y"},
		{"file:/tmp/x", "y", "file:/tmp/x/y"},
		{"ckpt", "offsets/3", "ckpt/offsets/3"},
		{"./ckpt/", "nested", "ckpt/nested"},
		{"/abs/ckpt", "../x", "/abs/x"},
		{"a/b://c", "d", "a/b:/c/d"}, // a local path, not a URI
	} {
		if got := JoinPath(c.dir, c.name); got != c.want {
			t.Errorf("JoinPath(%q, %q) = %q, want %q", c.dir, c.name, got, c.want)
		}
	}
}
