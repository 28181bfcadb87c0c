package check

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Probe is one address dialled with Options.Probe.
type Probe struct {
	// Addr is the host:port dialled.
	Addr string `json:"addr"`
	// For says what references it: "hdfs://nn:8020 (checkpointDir,
	// rdd-checkpoint)" or "receiver of stream #3 ...".
	For []string `json:"for"`
	// Reachable is true when a TCP connection was established (and
	// closed at once; nothing is sent).
	Reachable bool `json:"reachable"`
	// Error is the dial error; Exception what Spark would throw.
	Error     string `json:"error,omitempty"`
	Exception string `json:"exception,omitempty"`
}

// DefaultProbeTimeout bounds each dial when Options.ProbeTimeout is zero.
const DefaultProbeTimeout = 2 * time.Second

// target is an address to probe with what references it.
type target struct {
	addr     string
	sev      Severity
	fs       []string // "hdfs://nn:8020 (checkpointDir, rdd-checkpoint)"
	fsKey    place    // the first filesystem place, for the fix
	receiver []string // "stream #0 SocketInputDStream ..."
	file     string
	location string
}

// hostPort splits an authority "[user@]host:port"; ok is false without a port.
func hostPort(authority string) (string, bool) {
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		authority = authority[i+1:]
	}
	host, port, err := net.SplitHostPort(authority)
	if err != nil || host == "" || port == "" {
		return "", false
	}
	return net.JoinHostPort(host, port), true
}

// probeTargets lists the distinct addresses to dial.
func (c *checker) probeTargets() (targets []*target, noPort []string) {
	byAddr := map[string]*target{}
	get := func(addr, file, location string) *target {
		t := byAddr[addr]
		if t == nil {
			t = &target{addr: addr, sev: Warning, file: file, location: location}
			byAddr[addr] = t
			targets = append(targets, t)
		}
		return t
	}
	roles := map[string][]string{}
	var keys []string
	first := map[string]ref{}
	for _, r := range c.refs {
		if r.authority == "" {
			continue
		}
		k := r.key()
		if _, ok := first[k]; !ok {
			first[k] = r
			keys = append(keys, k)
		}
		if !contains(roles[k], r.role) {
			roles[k] = append(roles[k], r.role)
		}
	}
	for _, k := range keys {
		r := first[k]
		addr, ok := hostPort(r.authority)
		if !ok {
			if r.scheme == "hdfs" || r.scheme == "webhdfs" || r.scheme == "swebhdfs" {
				noPort = append(noPort, k)
			}
			continue
		}
		t := get(addr, r.file, r.location)
		sortRoles(roles[k])
		t.fs = append(t.fs, fmt.Sprintf("%s (%s)", k, strings.Join(roles[k], ", ")))
		if t.fsKey.scheme == "" {
			t.fsKey = r.place
		}
		for _, rr := range c.refs {
			if rr.key() == k && rr.sev == Error {
				t.sev = Error
			}
		}
	}
	if c.used != nil {
		for _, st := range c.used.Checkpoint.Graph.Streams {
			var host, port string
			for _, a := range st.Attrs {
				switch a.Name {
				case "host", "hostname":
					host = a.Value
				case "port":
					port = a.Value
				}
			}
			if host == "" || port == "" {
				continue
			}
			t := get(net.JoinHostPort(host, port), c.usedName, fmt.Sprintf("graph stream #%d (%s)", st.ID, st.Name))
			t.receiver = append(t.receiver, "receiver of stream "+streamName(st))
		}
	}
	return targets, noPort
}

// probe dials every referenced host:port and reports the unreachable ones.
func (c *checker) probe() {
	targets, noPort := c.probeTargets()
	if len(noPort) > 0 {
		c.add(Finding{Severity: Info, Code: "probe-skipped",
			Message: fmt.Sprintf("%s: no port in the URI (an HA nameservice resolved through hdfs-site.xml, or the default port 8020): not probed", strings.Join(noPort, ", ")),
			Fix:     "check the nameservice's namenodes from the new cluster (hdfs haadmin -getAllServiceState)"})
	}
	addrs := make([]string, len(targets))
	for i, t := range targets {
		addrs[i] = t.addr
	}
	results := probeAddrs(c.ctx, addrs, c.opts)
	for i, t := range targets {
		p := results[i]
		p.For = append(append([]string{}, t.fs...), t.receiver...)
		c.rep.Probes = append(c.rep.Probes, p)
		if p.Reachable {
			continue
		}
		f := Finding{Severity: t.sev, Code: "unreachable-host", File: t.file, Location: t.location}
		if len(t.fs) > 0 {
			f.Message = fmt.Sprintf("namenode %s (%s) does not answer from here (%s): on restart Spark fails with %s", t.addr, strings.Join(t.fs, "; "), p.Error, p.Exception)
			if len(c.expects) > 0 {
				f.Fix = "if that cluster is gone, move the references (the command is a dry run of the rewrite; add --apply to write)"
				f = f.WithCommand(c.rewriteFix(t.fsKey, nil)...)
			} else {
				f.Fix = "check DNS and firewalls from the driver's network, or move the references with sparkckpt rewrite (see --expect-fs)"
			}
		} else {
			f.Severity = Warning
			f.Message = fmt.Sprintf("receiver source %s (%s) does not answer from here (%s): the restarted receiver fails with %s and Spark keeps restarting it", t.addr, strings.Join(t.receiver, "; "), p.Error, p.Exception)
			f.Fix = "make sure the source listens at that address before restarting"
		}
		c.add(f)
	}
	sort.SliceStable(c.rep.Probes, func(i, j int) bool { return c.rep.Probes[i].Addr < c.rep.Probes[j].Addr })
}

// probeAddrs dials each address once, in parallel (bounded), and returns
// the results in the order of addrs.
func probeAddrs(ctx context.Context, addrs []string, opts Options) []Probe {
	timeout := opts.ProbeTimeout
	if timeout <= 0 {
		timeout = DefaultProbeTimeout
	}
	par := opts.ProbeParallel
	if par <= 0 {
		par = 16
	}
	dial := opts.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	out := make([]Probe, len(addrs))
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for i, addr := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			dctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			p := Probe{Addr: addr}
			conn, err := dial(dctx, "tcp", addr)
			if err == nil {
				conn.Close()
				p.Reachable = true
			} else {
				p.Error = err.Error()
				p.Exception = javaException(addr, err, timeout)
			}
			out[i] = p
		}()
	}
	wg.Wait()
	return out
}

// javaException names what the JVM throws for a failed connect.
func javaException(addr string, err error, timeout time.Duration) string {
	host, _, _ := net.SplitHostPort(addr)
	var dnsErr *net.DNSError
	var netErr net.Error
	switch {
	case errors.As(err, &dnsErr):
		return "java.net.UnknownHostException: " + host
	case errors.Is(err, syscall.ECONNREFUSED):
		return "java.net.ConnectException: Connection refused"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "java.net.NoRouteToHostException: No route to host"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Sprintf("org.apache.hadoop.net.ConnectTimeoutException: connect to %s timed out (here after %s)", addr, timeout)
	}
	return "java.net.ConnectException: " + err.Error()
}
