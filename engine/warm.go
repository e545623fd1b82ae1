package engine

import (
	"context"
	"net"
	"net/url"
	"sync"
	"time"
)

// warmFor is how long after a run starts the connections opened before it
// are handed out; later, a request that needs a new connection dials one
// (a server may have closed an idle one by then).
const warmFor = 2 * time.Second

// warmConns opens connections to the target before a run's clock starts
// and hands them to the transport as it asks for its first ones, so the
// first requests of a fast run do not wait for TCP handshakes while the
// plan marches on (at 10,000 req/s on one CPU, one run in three without
// them sent requests up to 14 ms late in its first 30 ms). Only raw TCP
// connections are opened; TLS and HTTP/2 are negotiated by the transport as
// usual, and no request is sent that the plan did not schedule.
type warmConns struct {
	dial  func(ctx context.Context, network, addr string) (net.Conn, error)
	addr  string // host:port as the transport asks for it
	mu    sync.Mutex
	conns []net.Conn
	until time.Time
}

// DialContext is the transport's dialer: a warm connection while there is
// one and the run is young, a new one otherwise.
func (w *warmConns) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	w.mu.Lock()
	if addr == w.addr && len(w.conns) > 0 {
		if time.Now().Before(w.until) {
			c := w.conns[len(w.conns)-1]
			w.conns = w.conns[:len(w.conns)-1]
			w.mu.Unlock()
			return c, nil
		}
		w.closeLocked()
	}
	w.mu.Unlock()
	return w.dial(ctx, network, addr)
}

// open dials n connections to target in parallel, keeping those that
// succeed, for up to timeout; failures are left for the run to meet and
// report.
func (w *warmConns) open(ctx context.Context, target string, n int, timeout time.Duration) {
	addr, ok := dialAddr(target)
	if !ok || n <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var wg sync.WaitGroup
	got := make(chan net.Conn, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if c, err := w.dial(ctx, "tcp", addr); err == nil {
				got <- c
			}
		}()
	}
	wg.Wait()
	close(got)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.addr = addr
	for c := range got {
		w.conns = append(w.conns, c)
	}
}

// start begins the period in which warm connections are handed out.
func (w *warmConns) start(now time.Time) {
	w.mu.Lock()
	w.until = now.Add(warmFor)
	w.mu.Unlock()
}

// close closes the connections that were never used.
func (w *warmConns) close() {
	w.mu.Lock()
	w.closeLocked()
	w.mu.Unlock()
}

func (w *warmConns) closeLocked() {
	for _, c := range w.conns {
		_ = c.Close()
	}
	w.conns = nil
}

// dialAddr is the host:port net/http dials for a target URL; false for a
// URL it cannot tell, such as the "" warmTarget gives for a proxied target
// (the transport then dials the proxy, not the target).
func dialAddr(target string) (string, bool) {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return "", false
	}
	port := u.Port()
	if port == "" {
		switch u.Scheme {
		case "http":
			port = "80"
		case "https":
			port = "443"
		default:
			return "", false
		}
	}
	return net.JoinHostPort(u.Hostname(), port), true
}
