package hdfs

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrUnreachable is wrapped by every *UnreachableError.
var ErrUnreachable = errors.New("namenode unreachable")

// UnreachableError means no namenode of a file system answered: for each
// namenode tried, its host:port and what happened (refused, no route,
// timed out, connected but silent).
type UnreachableError struct {
	URI      string // hdfs://authority
	Attempts []Attempt
}

// Attempt is what happened with one namenode.
type Attempt struct {
	Namenode
	Err error // nil: not tried (every other namenode failed first)
}

func (e *UnreachableError) Error() string {
	if len(e.Attempts) == 1 {
		return fmt.Sprintf("%s: cannot reach the namenode at %s: %v", e.URI, e.Attempts[0].Addr, attemptErr(e.Attempts[0].Err))
	}
	var parts []string
	for _, a := range e.Attempts {
		parts = append(parts, fmt.Sprintf("%s: %v", a.Namenode, attemptErr(a.Err)))
	}
	return fmt.Sprintf("%s: cannot reach any of its %d namenodes: %s", e.URI, len(e.Attempts), strings.Join(parts, "; "))
}

func attemptErr(err error) error {
	if err == nil {
		return errors.New("not tried")
	}
	return err
}

// Unwrap returns ErrUnreachable and each attempt's error.
func (e *UnreachableError) Unwrap() []error {
	out := []error{ErrUnreachable}
	for _, a := range e.Attempts {
		if a.Err != nil {
			out = append(out, a.Err)
		}
	}
	return out
}

// timeoutError is a wait that ran out; it wraps os.ErrDeadlineExceeded.
type timeoutError struct {
	what    string
	timeout time.Duration
	setting string
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("%s within %s (%s)", e.what, e.timeout, e.setting)
}

func (e *timeoutError) Unwrap() error { return os.ErrDeadlineExceeded }

// tracker dials namenodes and datanodes with the configured timeouts and
// remembers, per namenode address, the last failure, to explain an
// unreachable file system.
type tracker struct {
	ctx            context.Context
	dial           func(ctx context.Context, network, addr string) (net.Conn, error)
	connectTimeout time.Duration
	ioTimeout      time.Duration
	connected      atomic.Bool // after Connect: namenode waits use ioTimeout

	mu   sync.Mutex
	last map[string]error
}

func newTracker(ctx context.Context, cfg *Config) *tracker {
	t := &tracker{ctx: ctx, dial: cfg.Dial, connectTimeout: cfg.ConnectTimeout, ioTimeout: cfg.IOTimeout, last: map[string]error{}}
	if t.dial == nil {
		t.dial = (&net.Dialer{}).DialContext
	}
	if t.connectTimeout <= 0 {
		t.connectTimeout = DefaultConnectTimeout
	}
	if t.ioTimeout <= 0 {
		t.ioTimeout = DefaultIOTimeout
	}
	return t
}

func (t *tracker) record(addr string, err error) {
	t.mu.Lock()
	t.last[addr] = err
	t.mu.Unlock()
}

func (t *tracker) lastErr(addr string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last[addr]
}

func (t *tracker) dialWithTimeout(network, addr string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(t.ctx, t.connectTimeout)
	defer cancel()
	c, err := t.dial(ctx, network, addr)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = &timeoutError{what: "no TCP connection", timeout: t.connectTimeout, setting: "ipc.client.connect.timeout"}
	}
	return c, err
}

func (t *tracker) dialNamenode(_ context.Context, network, addr string) (net.Conn, error) {
	c, err := t.dialWithTimeout(network, addr)
	if err != nil {
		t.record(addr, err)
		return nil, err
	}
	return &timeoutConn{Conn: c, t: t, addr: addr, namenode: true}, nil
}

func (t *tracker) dialDatanode(_ context.Context, network, addr string) (net.Conn, error) {
	c, err := t.dialWithTimeout(network, addr)
	if err != nil {
		return nil, fmt.Errorf("datanode %s: %w", addr, err)
	}
	tc := &timeoutConn{Conn: c, t: t, addr: addr}
	// Reads are buffered: the file reader reads in pieces smaller than a
	// checksum chunk (see file.Read), which must not cost a system call each.
	tc.br = bufio.NewReaderSize(rawReader{tc}, 64<<10)
	return tc, nil
}

// timeoutConn bounds every read and write: a namenode that accepts the
// connection and never answers, or a datanode that stalls, fails the call
// instead of hanging. After a timeout the connection is closed, so the
// client reconnects (to the next namenode, with HA) on its next call.
type timeoutConn struct {
	net.Conn
	t        *tracker
	addr     string
	namenode bool
	timedOut atomic.Pointer[timeoutError] // set once a wait ran out
	br       *bufio.Reader                // datanode connections only
}

// rawReader reads from the connection itself, under the timeout.
type rawReader struct{ c *timeoutConn }

func (r rawReader) Read(b []byte) (int, error) { return r.c.read(b) }

func (c *timeoutConn) timeout() (time.Duration, string) {
	if c.namenode && !c.t.connected.Load() {
		return c.t.connectTimeout, "ipc.client.connect.timeout"
	}
	return c.t.ioTimeout, "dfs.client.socket-timeout"
}

func (c *timeoutConn) fail(err error, what string) error {
	if te := c.timedOut.Load(); te != nil {
		return te // the connection was closed after that timeout
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		d, setting := c.timeout()
		peer := "datanode " + c.addr
		if c.namenode {
			peer = "namenode " + c.addr
		}
		te := &timeoutError{what: "connected to " + peer + ", but " + what, timeout: d, setting: setting}
		c.timedOut.Store(te)
		c.Conn.Close()
		err = te
	}
	if c.namenode {
		c.t.record(c.addr, err)
	}
	return err
}

func (c *timeoutConn) Read(b []byte) (int, error) {
	if c.br != nil {
		return c.br.Read(b)
	}
	return c.read(b)
}

func (c *timeoutConn) read(b []byte) (int, error) {
	d, _ := c.timeout()
	c.Conn.SetReadDeadline(time.Now().Add(d))
	n, err := c.Conn.Read(b)
	if err != nil {
		err = c.fail(err, "no answer")
	}
	return n, err
}

func (c *timeoutConn) Write(b []byte) (int, error) {
	d, _ := c.timeout()
	c.Conn.SetWriteDeadline(time.Now().Add(d))
	n, err := c.Conn.Write(b)
	if err != nil {
		err = c.fail(err, "could not send")
	}
	return n, err
}

// The client sets deadlines of its own (zero: none); timeoutConn sets one
// per read and write instead.
func (c *timeoutConn) SetDeadline(time.Time) error      { return nil }
func (c *timeoutConn) SetReadDeadline(time.Time) error  { return nil }
func (c *timeoutConn) SetWriteDeadline(time.Time) error { return nil }

// unreachable explains why no namenode answered.
func (t *tracker) unreachable(uri string, nns []Namenode) *UnreachableError {
	e := &UnreachableError{URI: uri}
	for _, n := range nns {
		e.Attempts = append(e.Attempts, Attempt{Namenode: n, Err: t.lastErr(n.Addr)})
	}
	return e
}
