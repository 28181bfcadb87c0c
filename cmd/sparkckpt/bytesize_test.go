package main

import "testing"

func TestByteSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64 // 0: an error
		str  string
	}{
		{"268435456", 256 << 20, "256MiB"},
		{"256MiB", 256 << 20, "256MiB"},
		{"256mib", 256 << 20, "256MiB"},
		{"1G", 1 << 30, "1GiB"},
		{"64 KB", 64 << 10, "64KiB"},
		{"1000", 1000, "1000"},
		{"1536KiB", 1536 << 10, "1536KiB"},
		{"0", 0, ""},
		{"-1M", 0, ""},
		{"MiB", 0, ""},
		{"1.5G", 0, ""},
		{"9999999999T", 0, ""},
	} {
		var b byteSize
		err := b.Set(tc.in)
		if tc.want == 0 {
			if err == nil {
				t.Errorf("%q: got %d, want an error", tc.in, b)
			}
			continue
		}
		if err != nil || int64(b) != tc.want || b.String() != tc.str {
			t.Errorf("%q: got %d %q, %v; want %d %q", tc.in, b, b.String(), err, tc.want, tc.str)
		}
	}
}
