package check

import "testing"

// TestS3Places: s3a:// and s3n:// are one place; s3:// (EMRFS) is another
// unless s3:// itself is expected (on EMR, where all three resolve).
func TestS3Places(t *testing.T) {
	for _, c := range []struct {
		ref, expect string
		on, emrOnly bool
	}{
		{"s3a://bkt/ckpt/x", "s3a://bkt", true, false},
		{"s3n://bkt/ckpt/x", "s3a://bkt", true, false},
		{"s3a://bkt/ckpt/x", "s3n://bkt", true, false},
		{"S3N://BKT/ckpt/x", "s3a://bkt/ckpt", true, false},
		{"s3n://bkt/other/x", "s3a://bkt/ckpt", false, false},
		{"s3://bkt/ckpt/x", "s3a://bkt", false, true},
		{"s3://bkt/ckpt/x", "s3n://bkt", false, true},
		{"s3://other/ckpt/x", "s3a://bkt", false, false},
		{"s3a://bkt/ckpt/x", "s3://bkt", true, false},
		{"s3n://bkt/ckpt/x", "s3://bkt/ckpt", true, false},
		{"s3://bkt/x", "s3://bkt", true, false},
		{"s3a://other/x", "s3://bkt", false, false},
		{"hdfs://bkt/x", "s3a://bkt", false, false},
	} {
		p, ok := parsePlace(c.ref)
		if !ok {
			t.Fatalf("parsePlace(%q) failed", c.ref)
		}
		e, err := parseExpect(c.expect)
		if err != nil {
			t.Fatal(err)
		}
		if got := matches(p, e); got != c.on {
			t.Errorf("matches(%s, expect %s) = %v, want %v", c.ref, c.expect, got, c.on)
		}
		if got := emrOnly(p, e); got != c.emrOnly {
			t.Errorf("emrOnly(%s, expect %s) = %v, want %v", c.ref, c.expect, got, c.emrOnly)
		}
	}
	// A reference under a stored s3a:// checkpointDir written as s3n:// is in the tree.
	p, _ := parsePlace("s3n://bkt/ckpt/rdd-1/part-0")
	base, _ := parsePlace("s3a://bkt/ckpt")
	if rel, ok := under(p, base); !ok || rel != "rdd-1/part-0" {
		t.Errorf("under = %q, %v", rel, ok)
	}
}
