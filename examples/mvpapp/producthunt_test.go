package mvpapp_test

import (
	"context"
	"testing"
	"time"

	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/examples"
	"github.com/spikeload/spike/examples/mvpapp"
	"github.com/spikeload/spike/scenarios"
)

// runProductHunt replays examples/producthunt.yaml, compressed to d, against
// the app with cfg, and returns the result.
func runProductHunt(t *testing.T, cfg mvpapp.Config, d time.Duration) *engine.Result {
	t.Helper()
	return runExample(t, "producthunt.yaml", cfg, d, nil)
}

// runExample replays the example scenario file, its curve compressed to d,
// against the app with cfg. edit, when not nil, rewrites the file first.
func runExample(t *testing.T, file string, cfg mvpapp.Config, d time.Duration, edit func([]byte) []byte) *engine.Result {
	t.Helper()
	data, err := examples.Scenarios.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		data = edit(data)
	}
	plan, err := scenarios.Parse(file, data, scenarios.Overrides{Duration: d})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*d+60*time.Second)
	defer cancel()
	srv, err := mvpapp.Start(ctx, cfg, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	res, err := engine.Run(ctx, engine.Config{Plan: plan, Target: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// dbStats sums the database endpoints (feed and profile) of a result.
func dbStats(res *engine.Result) (count, errs uint64, p95 time.Duration) {
	for _, r := range res.Requests {
		if r.Name == "feed" || r.Name == "profile" {
			count += r.Count
			errs += r.Errors
			p95 = max(p95, r.Latency.P95)
		}
	}
	return count, errs, p95
}

// TestProductHunt_CacheFix replays a compressed launch day against the app
// with and without the cache fix: without it the database endpoints fail
// (pool exhaustion) and slow down; with it they hold.
func TestProductHunt_CacheFix(t *testing.T) {
	if testing.Short() {
		t.Skip("replays two 15 s launches against the example app")
	}
	plain := runProductHunt(t, mvpapp.DefaultConfig(), 15*time.Second)
	cached := runProductHunt(t, mvpapp.DefaultConfig().WithFixes(mvpapp.FixCache), 15*time.Second)

	n1, e1, p1 := dbStats(plain)
	n2, e2, p2 := dbStats(cached)
	t.Logf("without cache: %d db requests, %d errors, p95 %s; with cache: %d, %d errors, p95 %s", n1, e1, p1, n2, e2, p2)
	if n1 == 0 || n2 == 0 {
		t.Fatalf("no database requests recorded")
	}
	if rate := float64(e1) / float64(n1); rate < 0.10 {
		t.Errorf("without cache: database endpoints failed %.1f%%; want the pool to run out (>= 10%%)", 100*rate)
	}
	if rate := float64(e2) / float64(n2); rate > 0.03 {
		t.Errorf("with cache: database endpoints failed %.1f%%; want them to hold (<= 3%%)", 100*rate)
	}
	if p1 < 500*time.Millisecond || p2 > p1/2 {
		t.Errorf("p95 without cache %s, with cache %s; want >= 500ms falling to under half", p1, p2)
	}
}
