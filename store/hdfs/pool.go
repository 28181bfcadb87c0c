package hdfs

import (
	"sync"
	"sync/atomic"

	hdfsclient "github.com/colinmarc/hdfs/v2"
)

// connPool spreads per-file namenode calls over several clients: a
// colinmarc/hdfs client sends one call at a time on its connection, so a
// copy of many small files waits for namenode round trips one by one
// however many files it writes in parallel. The first client is the one
// Connect checked; the others are made with the same options on first
// use (a failure falls back to the first client, whose errors then tell).
// The namenode is one consistent namespace, so calls may go to any of
// them in any order.
type connPool struct {
	opts hdfsclient.ClientOptions
	t    *tracker
	next atomic.Uint32

	mu      sync.Mutex
	clients []*hdfsclient.Client // [0] is the primary; nil slots not yet made
	closed  bool
}

func newConnPool(primary *hdfsclient.Client, opts hdfsclient.ClientOptions, t *tracker, n int) *connPool {
	if n <= 0 {
		n = DefaultConnections
	}
	p := &connPool{opts: opts, t: t, clients: make([]*hdfsclient.Client, n)}
	p.clients[0] = primary
	return p
}

// get returns the next client, round robin.
func (p *connPool) get() *hdfsclient.Client {
	i := int(p.next.Add(1)-1) % len(p.clients)
	p.mu.Lock()
	defer p.mu.Unlock()
	if c := p.clients[i]; c != nil || p.closed {
		if c == nil {
			return p.clients[0]
		}
		return c
	}
	// Namenodes that failed (down, silent, standby) go last, so a new
	// connection does not wait out the timeouts the first one did.
	opts := p.opts
	opts.Addresses = nil
	var failed []string
	for _, a := range p.opts.Addresses {
		if p.t.lastErr(a) != nil {
			failed = append(failed, a)
		} else {
			opts.Addresses = append(opts.Addresses, a)
		}
	}
	opts.Addresses = append(opts.Addresses, failed...)
	c, err := hdfsclient.NewClient(opts)
	if err != nil {
		return p.clients[0]
	}
	p.clients[i] = c
	return c
}

// close closes every client but the primary.
func (p *connPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, c := range p.clients[1:] {
		if c != nil {
			c.Close()
		}
	}
}
