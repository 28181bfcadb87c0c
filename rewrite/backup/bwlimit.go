package backup

import (
	"context"
	"io"
	"sync"
	"time"
)

// limiter spreads reads over time so that all of a backup's transfers
// together stay at or below a rate (bytes per second): each read of n
// bytes moves a shared schedule n/rate later, and a reader waits until
// the schedule's time. Bursts are bounded by one read (the copy buffer).
type limiter struct {
	rate  float64 // bytes per second
	now   func() time.Time
	sleep func(context.Context, time.Duration) error

	mu   sync.Mutex
	next time.Time // when the bytes read so far may have been read
}

func newLimiter(rate int64) *limiter {
	return &limiter{rate: float64(rate), now: time.Now, sleep: sleepCtx}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// wait accounts for n bytes and waits for their turn.
func (l *limiter) wait(ctx context.Context, n int) error {
	l.mu.Lock()
	now := l.now()
	if l.next.Before(now) {
		l.next = now
	}
	l.next = l.next.Add(time.Duration(float64(n) / l.rate * float64(time.Second)))
	d := l.next.Sub(now)
	l.mu.Unlock()
	if d <= 0 {
		return nil
	}
	return l.sleep(ctx, d)
}

// limitedReader reads through a limiter.
type limitedReader struct {
	ctx context.Context
	l   *limiter
	r   io.Reader
}

func (r limitedReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		if werr := r.l.wait(r.ctx, n); werr != nil {
			return n, werr
		}
	}
	return n, err
}
