package engine

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// Connections opened before the run are handed out first, only to the
// target, only while the run is young; the rest are closed.
func TestWarmConns(t *testing.T) {
	t.Parallel()
	var accepted atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			accepted.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	var dials atomic.Int64
	d := &net.Dialer{}
	w := &warmConns{dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return d.DialContext(ctx, network, addr)
	}}
	w.open(context.Background(), srv.URL, 3, time.Second)
	if got := dials.Load(); got != 3 {
		t.Fatalf("opened %d connections ahead; want 3", got)
	}
	w.start(time.Now())
	addr := srv.Listener.Addr().String()
	for i := 0; i < 3; i++ {
		c, err := w.DialContext(context.Background(), "tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	if got := dials.Load(); got != 3 {
		t.Fatalf("the first three connections dialed anew (%d dials); want the warm ones", got)
	}
	c, err := w.DialContext(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if got := dials.Load(); got != 4 {
		t.Fatalf("dials = %d after the warm ones ran out; want 4", got)
	}

	// Past warmFor, leftovers are closed and a new connection is dialed.
	w.open(context.Background(), srv.URL, 2, time.Second)
	w.start(time.Now().Add(-warmFor - time.Second))
	c, err = w.DialContext(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if got := dials.Load(); got != 7 {
		t.Fatalf("dials = %d; want 7 (2 warm + 1 new after they expired)", got)
	}
	if len(w.conns) != 0 {
		t.Fatalf("%d expired warm connections kept", len(w.conns))
	}
	deadline := time.Now().Add(2 * time.Second)
	for accepted.Load() < 7 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := accepted.Load(); got != 7 {
		t.Fatalf("server accepted %d connections; want 7", got)
	}
}

func TestDialAddr(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"http://127.0.0.1:8080/x": "127.0.0.1:8080",
		"http://localhost":        "localhost:80",
		"https://[::1]/":          "[::1]:443",
		"ftp://127.0.0.1":         "",
		"/relative":               "",
	} {
		got, ok := dialAddr(in)
		if got != want || ok != (want != "") {
			t.Errorf("dialAddr(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}
