package main

import (
	"net"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSpecialFilesRefused: a named pipe, a socket or a device given as
// PATH is refused with exit 2 by every reading command; none blocks on it
// (before, inspect, dump and cat on a FIFO waited for a writer forever).
func TestSpecialFilesRefused(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "checkpoint-1700000000000")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	require.NoError(t, err)
	defer l.Close()
	for _, tc := range []struct{ path, what string }{
		{fifo, "is a named pipe"},
		{sock, "is a socket"},
		{"/dev/null", "is a character device"},
	} {
		for _, c := range []string{"inspect", "dump", "cat", "uris", "check"} {
			t.Run(c+" "+filepath.Base(tc.path), func(t *testing.T) {
				type result struct {
					stderr string
					code   int
				}
				done := make(chan result, 1)
				go func() {
					_, stderr, code := sparkckpt(c, tc.path)
					done <- result{stderr, code}
				}()
				select {
				case r := <-done:
					assert.Equal(t, 2, r.code, r.stderr)
					assert.Contains(t, r.stderr, tc.path+" "+tc.what+", not a regular file or a directory")
				case <-time.After(10 * time.Second): // a hang guard, not a speed limit
					t.Fatalf("%s %s blocked", c, tc.path)
				}
			})
		}
	}
}
