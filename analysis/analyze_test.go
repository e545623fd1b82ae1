package analysis

import (
	"slices"
	"testing"
	"time"

	"github.com/spikeload/spike/scenarios"
)

const ms100 = 100 * time.Millisecond

func TestEpisodes(t *testing.T) {
	t.Parallel()
	const (
		P = StatusPass
		F = StatusFail
		I = StatusInsufficient
		G = StatusGeneratorBound
	)
	tests := []struct {
		name string
		st   []Status
		want []episode
	}{
		{"none", []Status{P, P, F, F, P, F}, nil},
		{"sustained", []Status{P, F, F, F, F}, []episode{{1, -1}}},
		{"insufficient skipped", []Status{P, F, I, F, I, F}, []episode{{1, -1}}},
		{"bound interrupts", []Status{F, F, G, F, F, P}, nil},
		{"recovery", []Status{F, F, F, P, P, F, P, P, P, F}, []episode{{0, 6}}},
		{"second break", []Status{F, F, F, P, P, P, F, F, F}, []episode{{0, 3}, {6, -1}}},
		{"recovery needs sustained passes", []Status{F, F, F, P, G, P, P, P}, []episode{{0, 5}}},
	}
	for _, tt := range tests {
		if got := episodes(tt.st, 3); !slices.Equal(got, tt.want) {
			t.Errorf("%s: episodes(%v, 3) = %v; want %v", tt.name, tt.st, got, tt.want)
		}
	}
}

func TestAnalyze_WindowChecks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		o        obs
		bound    bool
		override *scenarios.Limits
		p99      time.Duration
		want     Status
		failed   []string
	}{
		{"fast", obs{n: 100, lat: ms100}, false, nil, 0, StatusPass, nil},
		{"slow", obs{n: 100, lat: 600 * time.Millisecond}, false, nil, 0, StatusFail, []string{"p95", "api: p95"}},
		{"few slow samples", obs{n: 10, lat: 600 * time.Millisecond}, false, nil, 0, StatusInsufficient, nil},
		{"few samples all within", obs{n: 10, lat: ms100}, false, nil, 0, StatusPass, nil},
		{"one error in ten fails", obs{n: 10, lat: ms100, errs: 1}, false, nil, 0, StatusFail, []string{"error_rate", "api: error_rate"}},
		{"error rate at the limit", obs{n: 100, lat: ms100, errs: 1}, false, nil, 0, StatusPass, nil},
		{"error rate past the limit", obs{n: 100, lat: ms100, errs: 2}, false, nil, 0, StatusFail, []string{"error_rate", "api: error_rate"}},
		{"p99", obs{n: 100, lat: ms100, slow: 2, slowAt: 900 * time.Millisecond}, false, nil, 800 * time.Millisecond, StatusFail, []string{"p99", "api: p99"}},
		{"p99 needs 100 samples", obs{n: 50, lat: ms100, slow: 1, slowAt: 900 * time.Millisecond}, false, nil, 800 * time.Millisecond, StatusInsufficient, nil},
		{"generator-bound never judged", obs{n: 100, lat: 900 * time.Millisecond, errs: 50}, true, nil, 0, StatusGeneratorBound, []string{"error_rate", "p95", "api: error_rate", "api: p95"}},
		{"no responses", obs{}, false, nil, 0, StatusInsufficient, nil},
		{"looser override", obs{n: 100, lat: 600 * time.Millisecond}, false, &scenarios.Limits{P95: time.Second, ErrorRate: 0.01}, 0, StatusPass, nil},
		{"stricter override", obs{n: 100, lat: 200 * time.Millisecond}, false, &scenarios.Limits{P95: ms100, ErrorRate: 0.01}, 0, StatusFail, []string{"p95", "api: p95"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBuilder(t, 10, req{name: "api", url: "/api/x", layer: LayerBackend})
			b.r.Plan.SLO.P99 = tt.p99
			if tt.override != nil {
				b.r.Plan.SLO.Requests = map[string]scenarios.Limits{"api": *tt.override}
			}
			b.window(10, map[string]obs{"api": tt.o})
			if tt.bound {
				b.bound(0)
			}
			a := analyze(b.done())
			got := a.Windows[0].Overall
			if got.Status != tt.want || !slices.Equal(got.Failed, tt.failed) {
				t.Errorf("overall check = %s %v; want %s %v", got.Status, got.Failed, tt.want, tt.failed)
			}
			if tt.o.n > 0 {
				if l := a.Windows[0].Layers[LayerBackend]; l.Status != tt.want {
					t.Errorf("layer check = %s; want %s", l.Status, tt.want)
				}
			}
		})
	}
}

// steady is a one-request target: latency lat, errs errors, n responses.
func steady(n int, lat time.Duration, errs int) map[string]obs {
	return map[string]obs{"api": {n: n, lat: lat, errs: errs}}
}

func TestAnalyze_Sustain(t *testing.T) {
	t.Parallel()
	slow, fast := 800*time.Millisecond, ms100
	tests := []struct {
		name    string
		lats    []time.Duration
		opts    Options
		planSus int
		want    int // breakpoint window, -1 for none
	}{
		{"two windows are a blip", []time.Duration{fast, fast, slow, slow, fast, fast, fast}, Options{}, 0, -1},
		{"three windows break", []time.Duration{fast, fast, slow, slow, slow, fast}, Options{}, 0, 2},
		{"the plan's sustain", []time.Duration{fast, slow, slow, fast, fast}, Options{}, 2, 1},
		{"options override the plan", []time.Duration{fast, slow, slow, slow, fast}, Options{Sustain: 4}, 2, -1},
		{"one window with sustain 1", []time.Duration{fast, fast, slow, fast}, Options{Sustain: 1}, 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBuilder(t, 100, req{name: "api", url: "/api/x"})
			if tt.planSus > 0 {
				b.r.Plan.SLO.Sustain = tt.planSus
			}
			for k, lat := range tt.lats {
				b.window(100+float64(k), steady(100, lat, 0))
			}
			a := Analyze(b.done(), tt.opts)
			if got := win(a.Verdict.Breakpoint); got != tt.want {
				t.Errorf("breakpoint window = %d; want %d", got, tt.want)
			}
		})
	}
}

// TestAnalyze_Breakpoint runs a ramp against a fake target with a known
// capacity: flat latency up to 600 req/s, then +50 ms per 1% overload.
func TestAnalyze_Breakpoint(t *testing.T) {
	t.Parallel()
	target := fakeTarget{"api": {share: 1, base: ms100, capacity: 600, climb: 500 * time.Millisecond, comp: "db", compBase: 95}}
	b := newBuilder(t, 200, req{name: "api", url: "/api/items"})
	b.hold(target.model(), 200, 5).ramp(target.model(), 200, 1000, 41)
	a := analyze(b.done())
	v := a.Verdict
	if v.Status != StatusFail {
		t.Fatalf("verdict = %s (%s); want fail", v.Status, v.Headline)
	}
	// p95 ≈ 1.09 × (100 ms + (r/600-1) × 5 s) passes 500 ms above r ≈ 640:
	// the ramp's first window past it is 660 req/s (window 5+23).
	if v.Breakpoint == nil || v.Breakpoint.RateRPS != 660 || v.Breakpoint.Window != 28 {
		t.Fatalf("breakpoint = %v; want window 28 (660 req/s)", v.Breakpoint)
	}
	if got, want := v.Breakpoint.Multiple, 3.3; got < want-1e-9 || got > want+1e-9 {
		t.Errorf("breakpoint multiple = %v; want %v", got, want)
	}
	// Capacity: the best rate held for 3 passing windows before window 28:
	// windows 25–27 at 600, 620, 640.
	if v.Capacity == nil || v.Capacity.RateRPS != 600 || v.Capacity.Window != 25 {
		t.Errorf("capacity = %v; want window 25 (600 req/s)", v.Capacity)
	}
	if v.FirstLayer != LayerDatabase {
		t.Errorf("first layer = %q; want database (server-timing db)", v.FirstLayer)
	}
	if a.Cracked == nil || a.Cracked.Window >= v.Breakpoint.Window {
		t.Errorf("whole-target crack = %v; want before the breakpoint", a.Cracked)
	}
	if len(a.Breaks) != 1 || a.Breaks[0].Recovered != nil {
		t.Errorf("breaks = %+v; want one, unrecovered", a.Breaks)
	}
	if v.Recovered != nil {
		t.Errorf("recovered = %v; want nil", v.Recovered)
	}
}

func TestAnalyze_Capacity(t *testing.T) {
	t.Parallel()
	slow, fast := 800*time.Millisecond, ms100
	type w struct {
		rate float64
		lat  time.Duration
		n    int
	}
	tests := []struct {
		name string
		ws   []w
		want float64 // capacity rate, 0 for none
	}{
		{"held before the break", []w{{100, fast, 100}, {200, fast, 100}, {300, fast, 100}, {400, fast, 100}, {500, slow, 100}, {600, slow, 100}, {700, slow, 100}}, 200},
		{"needs sustain windows", []w{{100, fast, 100}, {200, fast, 100}, {300, slow, 100}, {300, slow, 100}, {300, slow, 100}}, 0},
		{"insufficient windows prove nothing", []w{{100, fast, 100}, {200, fast, 100}, {300, fast, 100}, {400, slow, 5}, {400, fast, 5}, {400, fast, 5}, {500, slow, 100}, {500, slow, 100}, {500, slow, 100}}, 100},
		{"a wave: the best held rate", []w{{100, fast, 100}, {300, fast, 100}, {300, fast, 100}, {300, fast, 100}, {100, fast, 100}, {200, slow, 100}, {200, slow, 100}, {200, slow, 100}}, 300},
		{"a pass holds the whole run", []w{{100, fast, 100}, {150, fast, 100}, {200, fast, 100}, {250, fast, 100}}, 150},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBuilder(t, 100, req{name: "api", url: "/api/x"})
			for _, x := range tt.ws {
				b.window(x.rate, steady(x.n, x.lat, 0))
			}
			a := analyze(b.done())
			got := 0.0
			if a.Verdict.Capacity != nil {
				got = a.Verdict.Capacity.RateRPS
			}
			if got != tt.want {
				t.Errorf("capacity = %v (%s); want %v", got, a.Verdict.Headline, tt.want)
			}
		})
	}
}

func TestAnalyze_Cracks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		lats   []time.Duration // after 3 baseline windows at 100 ms
		low    time.Duration
		n      int
		want   int // crack window, -1 for none
		opts   Options
		break_ int
	}{
		{"p95 doubles, sustained", []time.Duration{150, 230, 240, 250, 600, 600, 600}, ms100, 100, 4, Options{}, 7},
		{"doubling for two windows only", []time.Duration{230, 230, 150, 150, 150}, ms100, 100, -1, Options{}, -1},
		{"crack factor option", []time.Duration{160, 160, 160, 120}, ms100, 100, 3, Options{CrackFactor: 1.5}, -1},
		{"sub-millisecond jitter is no crack", []time.Duration{3, 3, 3, 3}, time.Millisecond, 100, -1, Options{}, -1},
		{"no low-load p95, no cracks", []time.Duration{300, 300, 300, 300}, ms100, 5, -1, Options{}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBuilder(t, 100, req{name: "api", url: "/api/x", layer: LayerDatabase})
			for k := 0; k < 3; k++ {
				b.window(100, steady(tt.n, tt.low, 0))
			}
			for k, l := range tt.lats {
				b.window(200+float64(k), steady(100, l*time.Millisecond, 0))
			}
			a := Analyze(b.done(), tt.opts)
			l := layerOf(a, LayerDatabase)
			if got := win(l.Cracked); got != tt.want {
				t.Errorf("crack window = %d; want %d (low p95 %v ms)", got, tt.want, l.LowP95Ms)
			}
			if got := win(l.Broke); got != tt.break_ {
				t.Errorf("break window = %d; want %d", got, tt.break_)
			}
		})
	}
}

func TestAnalyze_Recovery(t *testing.T) {
	t.Parallel()
	slow, fast := 900*time.Millisecond, ms100
	b := newBuilder(t, 100, req{name: "api", url: "/api/x", layer: LayerDatabase})
	lats := []time.Duration{fast, fast, fast, slow, slow, slow, slow, fast, fast, fast, fast, slow, slow, slow, fast}
	rates := []float64{100, 200, 300, 400, 500, 400, 300, 200, 100, 100, 100, 600, 600, 600, 100}
	for k, lat := range lats {
		b.window(rates[k], steady(100, lat, 0))
	}
	a := analyze(b.done())
	v := a.Verdict
	if win(v.Breakpoint) != 3 || v.Breakpoint.RateRPS != 400 {
		t.Errorf("breakpoint = %v; want window 3 (400 req/s): the first break counts", v.Breakpoint)
	}
	if win(v.Recovered) != 7 || v.Recovered.RateRPS != 200 {
		t.Errorf("recovered = %v; want window 7 (200 req/s)", v.Recovered)
	}
	if len(a.Breaks) != 2 || win(a.Breaks[1].Recovered) != -1 || a.Breaks[1].Start.Window != 11 {
		t.Errorf("breaks = %+v; want two, the second from window 11 unrecovered", a.Breaks)
	}
	l := layerOf(a, LayerDatabase)
	if win(l.Broke) != 3 || win(l.Recovered) != 7 {
		t.Errorf("layer broke/recovered = %v/%v; want 3/7", l.Broke, l.Recovered)
	}
	if v.Capacity == nil || v.Capacity.RateRPS != 100 {
		t.Errorf("capacity = %v; want 100 req/s (held before the first break)", v.Capacity)
	}
}

func TestAnalyze_Knee(t *testing.T) {
	t.Parallel()
	b := newBuilder(t, 100, req{name: "api", url: "/api/x", layer: LayerBackend})
	// Up to 300 req/s every request succeeds; past it only 300/s do.
	for _, r := range []float64{100, 200, 300, 320, 340, 400, 500, 600} {
		n := int(r)
		errs := max(0, n-300)
		b.window(r, steady(n, ms100, errs))
	}
	a := analyze(b.done())
	k := a.Verdict.Knee
	// 300/340 = 0.88 < 0.9 from window 4 on; 300/320 = 0.94 is above.
	if k == nil || k.Window != 4 || k.RateRPS != 340 {
		t.Fatalf("knee = %+v; want window 4 (340 req/s)", k)
	}
	if k.OKRPS != 300 || k.MaxOKRPS != 300 {
		t.Errorf("knee throughput = %v (max %v); want 300 (300)", k.OKRPS, k.MaxOKRPS)
	}
}

func TestAnalyze_GeneratorBound(t *testing.T) {
	t.Parallel()
	slow, fast := 900*time.Millisecond, ms100
	type w struct {
		rate  float64
		lat   time.Duration
		bound bool
	}
	tests := []struct {
		name      string
		ws        []w
		status    Status
		limit     float64
		coincides bool
		bp        int
	}{
		{"lag at the first violation", []w{{100, fast, false}, {200, fast, false}, {300, slow, true}, {400, slow, true}, {500, slow, true}, {600, slow, true}},
			StatusInconclusive, 200, true, -1},
		{"lag just before a judged break", []w{{100, fast, false}, {200, fast, false}, {300, slow, true}, {400, slow, false}, {500, slow, false}, {600, slow, false}},
			StatusInconclusive, 200, true, -1},
		{"lag long after the break", []w{{100, fast, false}, {200, slow, false}, {300, slow, false}, {400, slow, false}, {500, slow, false}, {600, slow, false}, {700, slow, true}},
			StatusFail, 0, false, 1},
		{"peak never sent on time", []w{{100, fast, false}, {200, fast, false}, {300, fast, false}, {400, fast, false}, {500, fast, true}, {600, fast, true}, {700, fast, true}},
			StatusInconclusive, 400, false, -1},
		{"a lag blip on a passing run", []w{{100, fast, false}, {200, fast, true}, {300, fast, false}, {400, fast, false}, {500, fast, false}},
			StatusPass, 0, false, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBuilder(t, 100, req{name: "api", url: "/api/x"})
			for k, x := range tt.ws {
				b.window(x.rate, steady(100, x.lat, 0))
				if x.bound {
					b.bound(k)
				}
			}
			a := analyze(b.done())
			v := a.Verdict
			if v.Status != tt.status {
				t.Fatalf("verdict = %s (%s); want %s", v.Status, v.Headline, tt.status)
			}
			if a.Generator.Coincides != tt.coincides {
				t.Errorf("coincides = %v; want %v", a.Generator.Coincides, tt.coincides)
			}
			if win(v.Breakpoint) != tt.bp {
				t.Errorf("breakpoint = %v; want window %d", v.Breakpoint, tt.bp)
			}
			if tt.status == StatusInconclusive {
				want := "inconclusive: spike could not send the planned load above " + fmtRate(tt.limit) + " req/s"
				if v.Headline != want || a.Generator.LimitRPS != tt.limit {
					t.Errorf("headline = %q (limit %v); want %q", v.Headline, a.Generator.LimitRPS, want)
				}
				if v.Advice == "" || !contains(v.Advice, "options.connections") || !contains(v.Advice, "shard") {
					t.Errorf("advice = %q; want connections and sharding", v.Advice)
				}
				if v.FirstLayer != "" {
					t.Errorf("first layer = %q; want none: nothing is blamed on the target", v.FirstLayer)
				}
			}
			for k, x := range tt.ws {
				if got := a.Windows[k].Overall.Status; x.bound && got != StatusGeneratorBound {
					t.Errorf("window %d status = %s; want generator_bound", k, got)
				}
			}
		})
	}
}

func contains(s, sub string) bool { return len(sub) == 0 || indexOf(s, sub) >= 0 }

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
