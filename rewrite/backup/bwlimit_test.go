package backup

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLimiter: reading 1 MiB at 256 KiB/s through the limiter waits 4 s
// of (fake) time in all, whatever the read sizes, and an idle period
// does not build up credit beyond now.
func TestLimiter(t *testing.T) {
	clock := time.Unix(0, 0)
	var slept time.Duration
	l := newLimiter(256 << 10)
	l.now = func() time.Time { return clock }
	l.sleep = func(_ context.Context, d time.Duration) error {
		// The reader sleeps until the schedule: the clock moves there.
		slept += d
		clock = clock.Add(d)
		return nil
	}
	data := bytes.Repeat([]byte{7}, 1<<20)
	for _, chunk := range []int{1 << 10, 32 << 10, 300 << 10} {
		slept = 0
		clock = clock.Add(time.Hour) // idle: no credit carried over
		r := limitedReader{ctx: context.Background(), l: l, r: &chunkReader{bytes.NewReader(data), chunk}}
		n, err := io.Copy(io.Discard, r)
		require.NoError(t, err)
		assert.Equal(t, int64(len(data)), n)
		assert.InDelta(t, float64(4*time.Second), float64(slept), float64(time.Millisecond), "chunk %d", chunk)
	}
}

// TestLimiterCancel: a cancelled context ends the wait.
func TestLimiterCancel(t *testing.T) {
	l := newLimiter(1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, l.wait(ctx, 1<<20), context.Canceled)
}

type chunkReader struct {
	r *bytes.Reader
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(p) > c.n {
		p = p[:c.n]
	}
	return c.r.Read(p)
}
