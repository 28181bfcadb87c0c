package rewrite

import "testing"

func TestPlaceURIs(t *testing.T) {
	for _, c := range []struct{ uri, rel, join, dir string }{
		{"/data/ckpt", "receivedBlockMetadata/log-1", "/data/ckpt/receivedBlockMetadata/log-1", "/data"},
		{"hdfs://nn:8020/user/spark/ckpt", "checkpoint-1", "hdfs://nn:8020/user/spark/ckpt/checkpoint-1", "hdfs://nn:8020/user/spark"},
		{"hdfs://nn:8020/ckpt", ".", "hdfs://nn:8020/ckpt", "hdfs://nn:8020/"},
		{"hdfs://nn:8020/ckpt/", "a/b", "hdfs://nn:8020/ckpt/a/b", "hdfs://nn:8020/"},
		{"hdfs://nn:8020/", "ckpt", "hdfs://nn:8020/ckpt", "hdfs://nn:8020/"},
	} {
		if got := (Place{URI: c.uri}).Join(c.rel).URI; got != c.join {
			t.Errorf("Place{URI: %q}.Join(%q).URI = %q, want %q", c.uri, c.rel, got, c.join)
		}
		if got := dirURI(c.uri); got != c.dir {
			t.Errorf("dirURI(%q) = %q, want %q", c.uri, got, c.dir)
		}
	}
}
