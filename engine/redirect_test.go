package engine

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// TestRun_Redirects: by default no redirect is followed and the 3xx is
// recorded; with same-host, redirects on the target's host are followed and
// those to another host are not; no Referer is ever sent.
func TestRun_Redirects(t *testing.T) {
	t.Parallel()
	var otherHits, okHits, referers atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		otherHits.Add(1)
		if r.Header.Get("Referer") != "" {
			referers.Add(1)
		}
	}))
	defer other.Close()
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/cross":
			http.Redirect(w, r, other.URL+"/landed", http.StatusFound)
		case "/same":
			http.Redirect(w, r, "/ok", http.StatusFound)
		case "/ok":
			okHits.Add(1)
			if r.Header.Get("Referer") != "" {
				referers.Add(1)
			}
		}
	}))
	defer target.Close()
	tests := []struct {
		redirects  string
		wantCross  string // status recorded for /cross
		wantSame   string // status recorded for /same
		wantOKHits bool
	}{
		{"", "302", "302", false},
		{"none", "302", "302", false},
		{"same-host", "302", "200", true},
	}
	for _, tt := range tests {
		otherHits.Store(0)
		okHits.Store(0)
		opts := ""
		if tt.redirects != "" {
			opts = fmt.Sprintf("options: {redirects: %s}\n", tt.redirects)
		}
		p := testPlan(t, `
baseline: 20
stages: [{hold: {duration: 1s}}]
requests:
  - {name: cross, url: "/cross?token=abc"}
  - {name: same, url: /same}
`+opts)
		res := runPlan(t, p, target.URL)
		got := map[string]map[string]uint64{}
		for _, r := range res.Requests {
			got[r.Name] = r.Statuses
		}
		if got["cross"][tt.wantCross] == 0 || len(got["cross"]) != 1 {
			t.Errorf("redirects %q: cross statuses %v; want only %s", tt.redirects, got["cross"], tt.wantCross)
		}
		if got["same"][tt.wantSame] == 0 || len(got["same"]) != 1 {
			t.Errorf("redirects %q: same statuses %v; want only %s", tt.redirects, got["same"], tt.wantSame)
		}
		if n := otherHits.Load(); n != 0 {
			t.Errorf("redirects %q: the other host got %d requests; want none", tt.redirects, n)
		}
		if (okHits.Load() > 0) != tt.wantOKHits {
			t.Errorf("redirects %q: %d requests followed to /ok; want followed %t", tt.redirects, okHits.Load(), tt.wantOKHits)
		}
	}
	if n := referers.Load(); n != 0 {
		t.Errorf("%d requests carried a Referer; want none", n)
	}
}

// TestNewTargeter_RefusesOtherHosts: the engine checks the host of absolute
// URLs too, for plans whose target was not known when they were loaded.
func TestNewTargeter_RefusesOtherHosts(t *testing.T) {
	t.Parallel()
	p := testPlan(t, "baseline: 10\nstages: [{hold: {duration: 1s}}]\nrequests: [{url: 'http://127.0.0.2:9/x'}]\n")
	if _, err := newTargeter(p, "http://127.0.0.1:8080", 1, Shard{}); err == nil {
		t.Errorf("newTargeter(absolute URL to another host) = nil error; want it refused")
	}
	p.AllowHosts = []string{"127.0.0.2"}
	if _, err := newTargeter(p, "http://127.0.0.1:8080", 1, Shard{}); err != nil {
		t.Errorf("newTargeter(allowed host) = %v; want nil", err)
	}
}
