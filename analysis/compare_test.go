package analysis

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/examples/mvpapp"
	"github.com/spikeload/spike/scenarios"
)

func TestCompare(t *testing.T) {
	t.Parallel()
	strong := gateRun(t, gateTarget{capacity: 80})
	weak := gateRun(t, gateTarget{capacity: 50})
	never := gateRun(t, gateTarget{})
	slowAPI := gateRun(t, gateTarget{capacity: 80, apiExtra: 40 * time.Millisecond})
	bitSlower := gateRun(t, gateTarget{capacity: 80, apiExtra: 4 * time.Millisecond}) // +4 ms: under the floor
	failing := gateRun(t, gateTarget{capacity: 80, failAPI: true})

	down := newBuilder(t, 20, gateReqs...)
	down.hold(func(int, float64) map[string]obs {
		return map[string]obs{"home": {n: 10, errs: 10, kind: "refused"}, "api": {n: 10, errs: 10, kind: "refused"}}
	}, 20, 15)
	unreach := down.done()

	tests := []struct {
		name    string
		old     *engine.Result
		cur     *engine.Result
		maxReg  float64
		verdict CompareVerdict
		trends  map[string]Trend // "capacity", "breakpoint", "p95_at_baseline", "error_rate_at_baseline", "request api: p95_at_baseline"
		lines   []string         // substrings of Regressions (verdict regressed) or Improvements
	}{
		{"same run", strong, strong, 0.1, CompareUnchanged,
			map[string]Trend{MetricCapacity: TrendSame, MetricBreakpoint: TrendSame, MetricP95: TrendSame, MetricErrorRate: TrendSame}, nil},
		{"lower capacity is worse", strong, weak, 0.1, CompareRegressed,
			map[string]Trend{MetricCapacity: TrendWorse, MetricBreakpoint: TrendWorse, MetricP95: TrendSame},
			[]string{"capacity: 60 req/s → 30 req/s (-50%)", "breakpoint: 90 req/s → 60 req/s (-33%)"}},
		{"higher capacity is better", weak, strong, 0.1, CompareImproved,
			map[string]Trend{MetricCapacity: TrendBetter, MetricBreakpoint: TrendBetter},
			[]string{"capacity: 30 req/s → 60 req/s (+100%)"}},
		{"within the threshold", strong, weak, 0.9, CompareUnchanged,
			map[string]Trend{MetricCapacity: TrendSame, MetricBreakpoint: TrendSame}, nil},
		{"breaking where it did not is worse", never, weak, 0.1, CompareRegressed,
			map[string]Trend{MetricBreakpoint: TrendWorse}, []string{"breakpoint: no break → 60 req/s"}},
		{"breaking just under the old peak is within the threshold", never, strong, 0.1, CompareRegressed,
			map[string]Trend{MetricBreakpoint: TrendSame, MetricCapacity: TrendWorse}, []string{"capacity: 100 req/s → 60 req/s (-40%)"}},
		{"not breaking where it did is better", weak, never, 0.1, CompareImproved,
			map[string]Trend{MetricBreakpoint: TrendBetter}, []string{"breakpoint: 60 req/s → no break"}},
		{"higher p95 is worse", strong, slowAPI, 0.1, CompareRegressed,
			map[string]Trend{MetricP95: TrendWorse, "request api: " + MetricP95: TrendWorse, "request home: " + MetricP95: TrendSame},
			[]string{"request api: p95 at baseline: 2"}},
		{"lower p95 is better", slowAPI, strong, 0.1, CompareImproved,
			map[string]Trend{MetricP95: TrendBetter, "request api: " + MetricP95: TrendBetter}, nil},
		{"a p95 rise under the floor is noise", strong, bitSlower, 0.1, CompareUnchanged,
			map[string]Trend{"request api: " + MetricP95: TrendSame}, nil},
		{"more errors is worse", strong, failing, 0.1, CompareRegressed,
			map[string]Trend{MetricErrorRate: TrendWorse, "request api: " + MetricErrorRate: TrendWorse, "request home: " + MetricErrorRate: TrendSame},
			[]string{"error rate at baseline: 0% → 50% (+50.0 pts)"}},
		{"fewer errors is better", failing, strong, 0.1, CompareImproved,
			map[string]Trend{MetricErrorRate: TrendBetter}, nil},
		{"an unreachable run is inconclusive", strong, unreach, 0.1, CompareInconclusive, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := Compare(tt.old, tt.cur, tt.maxReg)
			if c.Verdict != tt.verdict {
				t.Errorf("Compare(%s).Verdict = %s (%s); want %s", tt.name, c.Verdict, c.String(), tt.verdict)
			}
			got := map[string]Trend{}
			for _, m := range c.Metrics() {
				got[m.Name] = m.Trend
			}
			for _, e := range c.Requests {
				for _, m := range e.Metrics() {
					got["request "+e.Name+": "+m.Name] = m.Trend
				}
			}
			for k, want := range tt.trends {
				if got[k] != want {
					t.Errorf("Compare(%s): %s trend = %q; want %q", tt.name, k, got[k], want)
				}
			}
			lines := c.Improvements
			if tt.verdict == CompareRegressed {
				lines = c.Regressions
			}
			for _, want := range tt.lines {
				if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, want) }) {
					t.Errorf("Compare(%s) lines = %q; want one containing %q", tt.name, lines, want)
				}
			}
			if c.Regressed() != (len(c.Regressions) > 0) {
				t.Errorf("Compare(%s).Regressed() = %t with regressions %q", tt.name, c.Regressed(), c.Regressions)
			}
		})
	}
}

func TestCompare_Entries(t *testing.T) {
	t.Parallel()
	old := gateRun(t, gateTarget{capacity: 80})
	b := newBuilder(t, 20, req{name: "home", url: "/"}, req{name: "extra", url: "/extra"})
	b.hold(func(int, float64) map[string]obs {
		return map[string]obs{"home": {n: 10, lat: 20 * time.Millisecond}, "extra": {n: 10, lat: 20 * time.Millisecond}}
	}, 20, 5)
	cur := b.done()
	cur.Plan.Baseline = 10

	c := Compare(old, cur, 0.1)
	var names []string
	for _, e := range c.Requests {
		names = append(names, e.Name)
	}
	if got, want := strings.Join(names, ","), "home,extra,api"; got != want {
		t.Errorf("Compare: requests %s; want %s (the new mix order, then old-only requests)", got, want)
	}
	for _, want := range []string{"request extra is only in one run (not in the old one)", "request api is only in one run (not in the new one)", "the baselines differ", "the planned peaks differ"} {
		if !slices.ContainsFunc(c.Notes, func(n string) bool { return strings.Contains(n, want) }) {
			t.Errorf("Compare: Notes = %q; want one containing %q", c.Notes, want)
		}
	}
	for _, e := range c.Requests {
		if e.Name == "api" && (e.P95AtBaseline.New != nil || e.P95AtBaseline.Trend != TrendNone) {
			t.Errorf("Compare: api (old only) p95 = %+v; want no new figure and no trend", e.P95AtBaseline)
		}
	}
	if len(c.Layers) == 0 {
		t.Errorf("Compare: no layers; want the layers of both runs")
	}
	for _, e := range c.Layers {
		if e.Name == "" {
			t.Errorf("Compare: a layer entry without a name: %+v", e)
		}
	}
}

func TestMetric_Text(t *testing.T) {
	t.Parallel()
	tests := []struct {
		m    Metric
		want string
	}{
		{(comparer{maxReg: 0.1}).metric(MetricCapacity, "capacity", UnitRPS, true, cmpPtr(120), cmpPtr(60), "unknown"), "120 req/s → 60 req/s (-50%)"},
		{(comparer{maxReg: 0.1}).metric(MetricP95, "p95", UnitMs, false, cmpPtr(12), cmpPtr(15), "unknown"), "12 ms → 15 ms (+25%)"},
		{(comparer{maxReg: 0.1}).metric(MetricErrorRate, "errors", UnitRatio, false, cmpPtr(0), cmpPtr(0.006), "unknown"), "0% → 0.6% (+0.6 pts)"},
		{(comparer{maxReg: 0.1}).metric(MetricP95, "p95", UnitMs, false, nil, cmpPtr(15), "unknown"), "unknown → 15 ms"},
		{(comparer{maxReg: 0.1, oldPeak: 100}).breakpoint(nil, &Point{RateRPS: 80}), "no break → 80 req/s"},
	}
	for _, tt := range tests {
		if got := tt.m.text(); got != tt.want {
			t.Errorf("%s.text() = %q; want %q", tt.m.Name, got, tt.want)
		}
	}
	if m := (comparer{maxReg: 0.1}).metric(MetricErrorRate, "errors", UnitRatio, false, cmpPtr(0), cmpPtr(0.006), ""); m.Trend != TrendWorse {
		t.Errorf("error rate 0 → 0.6%%: trend %q; want worse (past the 0.5-point floor)", m.Trend)
	}
	if m := (comparer{maxReg: 0.1, oldPeak: 100}).breakpoint(nil, &Point{RateRPS: 200}); m.Trend != TrendNone {
		t.Errorf("breakpoint none → 200 req/s past the old peak of 100: trend %q; want none (not comparable)", m.Trend)
	}
}

// TestCompare_CacheFix runs the example app with and without its cache fix
// under the same short ramp and checks that the comparison points the right
// way: without the cache, capacity is lower (worse).
func TestCompare_CacheFix(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the example app under load for about 24 s")
	}
	if raceDetector {
		t.Skip("the race detector slows the example app's database and spike's generator past the 10 ms send-lag bound: the runs would be generator-bound")
	}
	t.Parallel()
	// The database-bound part of the example app's mix: without the cache,
	// the pool of 4 connections at 70 ms per query (1.5 queries a request)
	// saturates near 38 req/s; with it, hot reads never reach the database.
	const scenario = `
name: cache-e2e
baseline: 20
stages:
  - hold: {rate: 1x, duration: 3s}
  - ramp: {to: 5x, duration: 7s}
  - hold: {duration: 2s}
requests:
  - {name: feed, url: /api/feed, weight: 1}
  - {name: profile, url: "/api/profile/{{.User}}", weight: 1}
slo: {p95: 500ms, error_rate: 1%, sustain: 2}
options: {users: 20, timeout: 3s}
`
	run := func(cfg mvpapp.Config) *engine.Result {
		cfg.Posts = 500 // seeding is the slow part; no capacity depends on it
		ctx := t.Context()
		srv, err := mvpapp.Start(ctx, cfg, "127.0.0.1:0")
		if err != nil {
			t.Fatalf("mvpapp.Start() = %v", err)
		}
		defer srv.Close()
		plan, err := scenarios.Parse("cache-e2e.yaml", []byte(scenario), scenarios.Overrides{})
		if err != nil {
			t.Fatalf("scenarios.Parse() = %v", err)
		}
		res, err := engine.Run(context.WithoutCancel(ctx), engine.Config{Plan: plan, Target: srv.URL()})
		if err != nil {
			t.Fatalf("engine.Run() = %v", err)
		}
		return res
	}
	// One after the other: two loads at once on a small machine would make
	// the generator, not the app, the bottleneck.
	cached := run(mvpapp.DefaultConfig().WithFixes(mvpapp.FixCache))
	uncached := run(mvpapp.DefaultConfig())

	worse := Compare(cached, uncached, 0.1)
	t.Logf("cache → no cache: %s", worse.String())
	if worse.Verdict == CompareInconclusive {
		// Honest, but not what this test is about: the machine was too
		// busy for spike to send the load on time.
		t.Skipf("a run was generator-bound on this machine: %q", worse.Notes)
	}
	if worse.Verdict != CompareRegressed {
		t.Fatalf("Compare(cache, no cache).Verdict = %s (%s), notes %q; want regressed", worse.Verdict, worse.String(), worse.Notes)
	}
	if worse.Capacity.Trend != TrendWorse || *worse.Capacity.New >= *worse.Capacity.Old {
		t.Errorf("Compare(cache, no cache).Capacity = %s (trend %q); want lower, worse", worse.Capacity.text(), worse.Capacity.Trend)
	}
	if worse.Breakpoint.Trend != TrendWorse {
		t.Errorf("Compare(cache, no cache).Breakpoint = %s (trend %q); want worse", worse.Breakpoint.text(), worse.Breakpoint.Trend)
	}
	better := Compare(uncached, cached, 0.1)
	if better.Verdict != CompareImproved || better.Capacity.Trend != TrendBetter {
		t.Errorf("Compare(no cache, cache) = %s, capacity %s (trend %q); want improved, capacity better", better.Verdict, better.Capacity.text(), better.Capacity.Trend)
	}
	if len(better.Regressions) > 0 {
		t.Errorf("Compare(no cache, cache).Regressions = %q; want none", better.Regressions)
	}
	// The gate sees it too: with the cached run as the previous result, the
	// uncached one fails its capacity regression check.
	rep := Gate(uncached, nil, scenarios.Gate{Set: true, Survive: 20, MaxRegression: 0.1}, cached)
	if c := checkOf(rep, CheckRegCapacity); c == nil || c.Status != StatusFail {
		t.Errorf("Gate(no cache, previous: cache) capacity regression = %+v; want fail", c)
	}
}
