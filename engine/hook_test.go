package engine

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestRun_OnSampleAndProgress checks the hooks live metrics rely on:
// OnSample sees every request the recorder counts, with the recorder's
// latency, and the last progress report counts every planned request and
// every window.
func TestRun_OnSampleAndProgress(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(100 * time.Millisecond)
	}))
	defer srv.Close()
	p := testPlan(t, `
baseline: 50
stages:
  - hold: {duration: 1s}
requests:
  - {name: a, url: /a}
  - {name: b, url: /b}
`)
	var (
		seen        = make([]uint64, len(p.Requests))
		tooFast     int
		last        Progress
		maxInFlight uint64
	)
	cfg := Config{
		Plan: p, Target: srv.URL, ProgressEvery: 200 * time.Millisecond,
		OnSample: func(s *Sample) {
			seen[s.Req]++
			if s.End-s.Intended < 100*time.Millisecond {
				tooFast++
			}
		},
		OnProgress: func(pr Progress) {
			last = pr
			maxInFlight = max(maxInFlight, pr.InFlight)
		},
	}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res.Requests {
		if seen[i] != r.Count {
			t.Errorf("request %s: OnSample saw %d; the recorder counts %d", r.Name, seen[i], r.Count)
		}
	}
	if tooFast > 0 {
		t.Errorf("%d samples with End - Intended under the target's 100 ms", tooFast)
	}
	bound := 0
	for _, w := range res.Windows {
		if w.GeneratorBound {
			bound++
		}
	}
	if last.Planned != p.Curve.Total() || last.InFlight != 0 || last.Windows != len(res.Windows) || last.GeneratorBound != bound {
		t.Errorf("last progress: planned %d, in flight %d, windows %d, generator-bound %d; want %d, 0, %d, %d",
			last.Planned, last.InFlight, last.Windows, last.GeneratorBound, p.Curve.Total(), len(res.Windows), bound)
	}
	// 50 req/s each taking 100 ms keeps about 5 in flight.
	if maxInFlight == 0 {
		t.Error("no progress report saw a request in flight")
	}
}
