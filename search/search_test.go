package search

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/spikeload/spike/analysis"
	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/scenarios"
)

// runFake searches the fake target m with the default settings, changed by
// edit.
func runFake(t *testing.T, m model, edit func(*Config, *fakeRunner)) (*Result, *fakeRunner) {
	t.Helper()
	p := fakePlan(t)
	fr := &fakeRunner{t: t, plan: p, model: m}
	cfg := Config{Plan: p, Runner: fr}
	if edit != nil {
		edit(&cfg, fr)
	}
	res, err := Find(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Find: %v", err)
	}
	checkInvariants(t, cfg, res)
	return res, fr
}

// checkInvariants checks what every search result must satisfy.
func checkInvariants(t *testing.T, cfg Config, r *Result) {
	t.Helper()
	maxDur := cfg.MaxDuration
	if maxDur == 0 {
		maxDur = DefaultMaxDuration
	}
	var load float64
	for i, st := range r.Steps {
		if st.Index != i {
			t.Errorf("step %d has index %d", i, st.Index)
		}
		load += st.DurationMs
		if st.DurationMs > st.PlannedMs+1e-6 {
			t.Errorf("step %d lasted %v ms, more than planned %v ms", i, st.DurationMs, st.PlannedMs)
		}
	}
	if math.Abs(load-r.LoadMs) > 1e-6 {
		t.Errorf("LoadMs = %v; steps sum to %v", r.LoadMs, load)
	}
	if r.LoadMs > ms(maxDur)+1e-6 {
		t.Errorf("LoadMs = %v, over the max duration %s", r.LoadMs, maxDur)
	}
	if r.CapacityRPS > 0 && r.BreakpointRPS > 0 && r.CapacityRPS >= r.BreakpointRPS {
		t.Errorf("capacity %v ≥ breakpoint %v", r.CapacityRPS, r.BreakpointRPS)
	}
	if r.Headline == "" {
		t.Error("no headline")
	}
	if _, err := json.Marshal(r); err != nil {
		t.Errorf("marshal: %v", err)
	}
}

func TestFind_SharpKnee(t *testing.T) {
	t.Parallel()
	const capacity = 340.0
	r, fr := runFake(t, sharp(capacity), nil)
	if r.Status != StatusFound || !r.Confirmed || r.Stopped != "" {
		t.Fatalf("status %s, confirmed %t, stopped %q; want found, confirmed: %s", r.Status, r.Confirmed, r.Stopped, r.Headline)
	}
	if r.CapacityRPS > capacity || r.CapacityRPS < capacity/(1+DefaultPrecision) {
		t.Errorf("capacity %v; want in [%v, %v]", r.CapacityRPS, capacity/(1+DefaultPrecision), capacity)
	}
	if r.BreakpointRPS <= capacity || r.BreakpointRPS > r.CapacityRPS*(1+DefaultPrecision) {
		t.Errorf("breakpoint %v; want in (%v, capacity × 1.05]", r.BreakpointRPS, capacity)
	}
	if r.FirstLayer != "database" || r.Symptom == "" {
		t.Errorf("first layer %q, symptom %q; want database with a symptom", r.FirstLayer, r.Symptom)
	}
	if math.Abs(r.CapacityMultiple-r.CapacityRPS/100) > 1e-9 {
		t.Errorf("capacity multiple %v; want %v", r.CapacityMultiple, r.CapacityRPS/100)
	}
	// Climb 100, 150, 225, 338 (good), 507 (bad); bisect; confirm.
	want := []float64{100, 150, 225, 338, 507}
	for i, w := range want {
		if got := fr.specs[i].Rate; got != w || fr.specs[i].Phase != PhaseClimb {
			t.Errorf("step %d: %s %v req/s; want climb %v", i, fr.specs[i].Phase, got, w)
		}
	}
	last := r.Steps[len(r.Steps)-1]
	if last.Phase != PhaseConfirm || last.RateRPS != r.CapacityRPS || last.PlannedMs != 20000 || last.Verdict != VerdictPass {
		t.Errorf("last step %+v; want a 20 s confirmation at the capacity", last)
	}
	for _, st := range r.Steps {
		if st.Phase == PhaseBisect && (st.RateRPS <= 338 || st.RateRPS >= 507) {
			t.Errorf("bisect step at %v outside (338, 507)", st.RateRPS)
		}
		wantV := VerdictPass
		if st.RateRPS > capacity {
			wantV = VerdictFail
		}
		if st.Verdict != wantV {
			t.Errorf("step %d at %v: %s; want %s", st.Index, st.RateRPS, st.Verdict, wantV)
		}
	}
	if !strings.HasPrefix(r.Headline, "you hold "+fmtRate(r.CapacityRPS)+" req/s (") || !strings.Contains(r.Headline, "the database breaks first: ") {
		t.Errorf("headline %q", r.Headline)
	}
}

func TestFind_EarlyStop(t *testing.T) {
	t.Parallel()
	r, _ := runFake(t, sharp(340), nil)
	// 507 req/s fails 30% of the feed (18% overall): clearly broken, so it
	// ends after the 2 s warm-up and 3 bad windows.
	st := r.Steps[4]
	if st.RateRPS != 507 || st.Verdict != VerdictFail || !st.EndedEarly || st.DurationMs != 5000 {
		t.Fatalf("step 5: %v req/s %s, ended early %t after %v ms; want 507 fail, ended early after 5000 ms", st.RateRPS, st.Verdict, st.EndedEarly, st.DurationMs)
	}
	if want := "aborted: error rate 18% for 3 s (limit 10%)"; st.EarlyReason != want {
		t.Errorf("early reason %q; want %q", st.EarlyReason, want)
	}
	if !strings.Contains(st.Reason, "error rate 18% (limit 1%)") {
		t.Errorf("reason %q", st.Reason)
	}
	// With this model every failing step is clearly broken.
	for _, s := range r.Steps {
		if s.Verdict == VerdictFail && !s.EndedEarly {
			t.Errorf("failed step %d at %v did not end early", s.Index, s.RateRPS)
		}
	}
}

func TestFind_GradualKnee(t *testing.T) {
	t.Parallel()
	const slope = 2 * time.Millisecond // per req/s
	lat := func(rate float64) time.Duration { return 20*time.Millisecond + time.Duration(rate*float64(slope)) }
	// p95 ≈ 1.09 × latency crosses 500 ms at (500/1.09 − 20) / 2 ≈ 219 req/s.
	truth := (500/1.09 - 20) / 2
	r, _ := runFake(t, gradual(slope), nil)
	if r.Status != StatusFound || !r.Confirmed {
		t.Fatalf("status %s, confirmed %t: %s", r.Status, r.Confirmed, r.Headline)
	}
	if p95Of(lat(r.CapacityRPS)) > 500*time.Millisecond*101/100 {
		t.Errorf("capacity %v has a p95 of %s, over the SLO", r.CapacityRPS, p95Of(lat(r.CapacityRPS)))
	}
	if r.CapacityRPS > truth*1.01 || r.CapacityRPS < truth/(1+DefaultPrecision)/1.01 {
		t.Errorf("capacity %v; want within 5%% below %v", r.CapacityRPS, truth)
	}
	if r.Gap > DefaultPrecision {
		t.Errorf("gap %v > precision", r.Gap)
	}
	if r.FirstLayer != "database" {
		t.Errorf("first layer %q; want database", r.FirstLayer)
	}
	if !strings.Contains(r.Headline, "p95") && !strings.Contains(r.Symptom, "latency") {
		t.Logf("headline %q", r.Headline)
	}
}

func TestFind_NoisySteps(t *testing.T) {
	t.Parallel()
	const capacity = 340.0
	r, _ := runFake(t, noisy(sharp(capacity)), nil)
	if r.Status != StatusFound || !r.Confirmed {
		t.Fatalf("status %s, confirmed %t: %s", r.Status, r.Confirmed, r.Headline)
	}
	if r.CapacityRPS > capacity || r.CapacityRPS < capacity/(1+DefaultPrecision) {
		t.Errorf("capacity %v; want in [%v, %v] despite isolated bad windows", r.CapacityRPS, capacity/(1+DefaultPrecision), capacity)
	}
	spoiled := 0
	for _, st := range r.Steps {
		if st.RateRPS <= capacity {
			spoiled += st.FailedWindows
		}
	}
	if spoiled == 0 {
		t.Error("no good step had a failed window: the noise did not reach the judged windows")
	}
}

func TestFind_NeverBreaks(t *testing.T) {
	t.Parallel()
	r, fr := runFake(t, fine, func(c *Config, _ *fakeRunner) { c.MaxRate = 1000 })
	if r.Status != StatusHeld || !r.AtMaxRate || !r.Confirmed || r.CapacityRPS != 1000 || r.BreakpointRPS != 0 {
		t.Fatalf("got %s at %v (max rate %t, confirmed %t, breakpoint %v): %s", r.Status, r.CapacityRPS, r.AtMaxRate, r.Confirmed, r.BreakpointRPS, r.Headline)
	}
	var rates []float64
	for _, s := range fr.specs {
		rates = append(rates, s.Rate)
	}
	want := []float64{100, 150, 225, 338, 507, 760, 1000, 1000}
	if len(rates) != len(want) {
		t.Fatalf("rates %v; want %v", rates, want)
	}
	for i := range want {
		if rates[i] != want[i] {
			t.Fatalf("rates %v; want %v", rates, want)
		}
	}
	if want := "you hold at least 1000 req/s (10x) within your SLO; nothing broke up to the max rate"; r.Headline != want {
		t.Errorf("headline %q; want %q", r.Headline, want)
	}
}

func TestFind_GeneratorBound(t *testing.T) {
	t.Parallel()
	r, fr := runFake(t, sharp(1000), func(_ *Config, fr *fakeRunner) {
		fr.bound = func(rate float64, _, _ int) bool { return rate > 400 }
	})
	if r.Status != StatusInconclusive || r.Stopped != StoppedGenerator || r.CapacityRPS != 338 || r.LimitRPS != 507 {
		t.Fatalf("got %s (stopped %q) capacity %v limit %v; want inconclusive, generator_bound, 338, 507", r.Status, r.Stopped, r.CapacityRPS, r.LimitRPS)
	}
	if !strings.HasPrefix(r.Headline, "inconclusive above 338 req/s (3.4x): spike could not send 507 req/s (5.1x) on time") {
		t.Errorf("headline %q", r.Headline)
	}
	// 507 req/s was tried twice (one retry), then the search stopped.
	if got := stepList(r); got != "climb 100 pass, climb 150 pass, climb 225 pass, climb 338 pass, climb 507 generator_bound, climb 507 generator_bound" {
		t.Errorf("steps %s", got)
	}
	last := r.Steps[len(r.Steps)-1]
	if last.BoundWindows != last.JudgedWindows || !strings.Contains(last.Reason, "spike fell behind") {
		t.Errorf("last step: %d of %d windows bound, reason %q", last.BoundWindows, last.JudgedWindows, last.Reason)
	}
	_ = fr
}

func TestFind_GeneratorBoundSometimes(t *testing.T) {
	t.Parallel()
	// Spike falls behind in every other window above 400 req/s, and in
	// every window of the first try at 507 req/s: the windows sent on time
	// are judged, and the step spike could not send is tried again.
	r, _ := runFake(t, sharp(1000), func(c *Config, fr *fakeRunner) {
		c.MaxRate = 1000
		fr.bound = func(rate float64, step, win int) bool { return rate > 400 && (win%2 == 0 || step == 4) }
	})
	if r.Status != StatusHeld || r.CapacityRPS != 1000 || !r.Confirmed {
		t.Fatalf("got %s at %v (confirmed %t): %s", r.Status, r.CapacityRPS, r.Confirmed, stepList(r))
	}
	if got := stepList(r); !strings.HasPrefix(got, "climb 100 pass, climb 150 pass, climb 225 pass, climb 338 pass, climb 507 generator_bound, climb 507 pass, climb 760 pass") {
		t.Errorf("steps %s", got)
	}
}

func TestFind_ConfirmFails(t *testing.T) {
	t.Parallel()
	const capacity = 200.0
	// 2% precision: the bisection reaches 202 req/s (1% over), which
	// passes a 10 s step and fails the 20 s confirmation.
	r, _ := runFake(t, queueing(capacity), func(c *Config, _ *fakeRunner) { c.Precision = 0.02 })
	if r.Status != StatusFound || !r.Confirmed {
		t.Fatalf("status %s, confirmed %t: %s", r.Status, r.Confirmed, r.Headline)
	}
	failedConfirm := false
	for _, st := range r.Steps {
		if st.Phase == PhaseConfirm && st.Verdict == VerdictFail {
			failedConfirm = true
		}
	}
	if !failedConfirm {
		t.Errorf("no confirmation failed; steps: %s", stepList(r))
	}
	// Up to 0.7% over, the queue stays under the SLO for the 20 s hold:
	// that much is held, as far as a 20 s confirmation can tell.
	if r.CapacityRPS > capacity*1.007 || r.CapacityRPS < capacity/1.02 {
		t.Errorf("capacity %v; want in [%v, %v]; steps: %s", r.CapacityRPS, capacity/1.02, capacity*1.007, stepList(r))
	}
}

func TestFind_Descends(t *testing.T) {
	t.Parallel()
	const capacity = 40.0
	r, fr := runFake(t, sharp(capacity), nil)
	if fr.specs[0].Rate != 100 || fr.specs[1].Phase != PhaseDescend {
		t.Fatalf("steps: %s; want 100 then a descent", stepList(r))
	}
	if r.Status != StatusFound || !r.Confirmed || r.CapacityRPS > capacity || r.CapacityRPS < capacity/(1+DefaultPrecision) {
		t.Errorf("got %s at %v (confirmed %t); want found in [%v, %v]: %s", r.Status, r.CapacityRPS, r.Confirmed, capacity/(1+DefaultPrecision), capacity, stepList(r))
	}
}

func TestFind_BrokeEverywhere(t *testing.T) {
	t.Parallel()
	down := func(string, float64, int, int) obs { return obs{lat: 5 * time.Millisecond, errFrac: 1} }
	r, _ := runFake(t, down, nil)
	if r.Status != StatusBroke || r.CapacityRPS != 0 || r.BreakpointRPS >= 2*MinRate || r.BreakpointRPS < MinRate {
		t.Fatalf("got %s capacity %v breakpoint %v: %s", r.Status, r.CapacityRPS, r.BreakpointRPS, stepList(r))
	}
	if !strings.HasPrefix(r.Headline, "the target broke the SLO even at ") {
		t.Errorf("headline %q", r.Headline)
	}
}

func TestFind_Interrupted(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := fakePlan(t)
	fr := &fakeRunner{t: t, plan: p, model: sharp(340), cancel: cancel, cancelStep: 3, cancelWin: 4}
	cfg := Config{Plan: p, Runner: fr}
	r, err := Find(ctx, cfg)
	if err != nil {
		t.Fatalf("Find: %v; want a result and no error", err)
	}
	checkInvariants(t, cfg, r)
	if len(r.Steps) != 4 || r.Stopped != StoppedInterrupted || r.Status != StatusHeld || r.CapacityRPS != 225 || r.Confirmed {
		t.Fatalf("got %d steps, stopped %q, %s at %v (confirmed %t); want 4, interrupted, held at 225 unconfirmed", len(r.Steps), r.Stopped, r.Status, r.CapacityRPS, r.Confirmed)
	}
	last := r.Steps[3]
	if last.Verdict != VerdictInterrupted || last.DurationMs != 4000 {
		t.Errorf("last step %s after %v ms; want interrupted after 4000", last.Verdict, last.DurationMs)
	}
	if want := "you hold at least 225 req/s (2.2x) within your SLO; the search was interrupted before anything broke"; r.Headline != want {
		t.Errorf("headline %q; want %q", r.Headline, want)
	}
	// Cancelled before it starts: no step, and an answer that says so.
	r, err = Find(ctx, cfg)
	if err != nil || len(r.Steps) != 0 || r.Status != StatusInconclusive || r.Stopped != StoppedInterrupted {
		t.Errorf("cancelled search: %v, %+v", err, r)
	}
}

func TestFind_MaxDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		m      model
		max    time.Duration
		status Status
		steps  string
	}{
		// 60 s: 4 climb steps (40 s) keep 20 s for the confirmation of 338.
		{"held", fine, 60 * time.Second, StatusHeld, "climb 100 pass, climb 150 pass, climb 225 pass, climb 338 pass, confirm 338 pass"},
		// The climb breaks at 507 after 5 s (ended early); two bisect steps
		// (ended early too) still fit before the confirmation.
		{"found", sharp(340), 80 * time.Second, StatusFound, "climb 100 pass, climb 150 pass, climb 225 pass, climb 338 pass, climb 507 fail, bisect 422 fail, bisect 380 fail, confirm 338 pass"},
		// Too short for a step and a confirmation: no confirmation, and the
		// climb uses all the time.
		{"no confirmation", fine, 25 * time.Second, StatusHeld, "climb 100 pass, climb 150 pass"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, _ := runFake(t, tt.m, func(c *Config, _ *fakeRunner) { c.MaxDuration = tt.max })
			if got := stepList(r); got != tt.steps || r.Status != tt.status {
				t.Errorf("max %s: %s, steps %s; want %s, %s", tt.max, r.Status, got, tt.status, tt.steps)
			}
			if r.Stopped != StoppedMaxDuration && !r.Confirmed {
				t.Errorf("stopped %q, confirmed %t", r.Stopped, r.Confirmed)
			}
			if !r.Confirmed && !strings.Contains(r.Headline, "ran out of time (--max-duration") {
				t.Errorf("headline %q does not say time ran out", r.Headline)
			}
		})
	}
}

func stepList(r *Result) string {
	var parts []string
	for _, st := range r.Steps {
		parts = append(parts, string(st.Phase)+" "+fmtRate(st.RateRPS)+" "+string(st.Verdict))
	}
	return strings.Join(parts, ", ")
}

func TestConfig_Resolve(t *testing.T) {
	t.Parallel()
	p := fakePlan(t)
	noBase := *p
	noBase.Baseline = 0
	tests := []struct {
		name string
		cfg  Config
		err  string
	}{
		{"no plan", Config{}, "no plan"},
		{"no baseline", Config{Plan: &noBase}, "no starting rate"},
		{"factor", Config{Plan: p, Factor: 1}, "factor must be > 1, got 1"},
		{"precision", Config{Plan: p, Precision: 1.5}, "precision must be between 0 and 1"},
		{"short step", Config{Plan: p, Step: 3 * time.Second}, "a 3s step leaves 2 window(s) of 1s to judge after its 600ms warm-up; the SLO needs 3 in a row (sustain): use a step of at least 4s"},
		{"skip", Config{Plan: p, Skip: 10 * time.Second}, "skip must be ≥ 0 and shorter than the step"},
		{"max rate", Config{Plan: p, MaxRate: 50}, "starting rate 100 req/s is above the max rate 50 req/s"},
		{"max duration", Config{Plan: p, MaxDuration: 5 * time.Second}, "max duration 5s is shorter than one step (10s)"},
		{"ok", Config{Plan: p, Step: 4 * time.Second}, ""},
	}
	for _, tt := range tests {
		_, err := tt.cfg.resolve()
		if (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%s: resolve() = %v; want %q", tt.name, err, tt.err)
		}
	}
	s, _ := Config{Plan: p, Step: 4 * time.Second}.resolve()
	if s.Skip != 800*time.Millisecond || s.Confirm != 8*time.Second || s.Factor != 1.5 || s.MaxDuration != 5*time.Minute {
		t.Errorf("defaults for a 4 s step: skip %s, confirm %s, factor %v, max %s", s.Skip, s.Confirm, s.Factor, s.MaxDuration)
	}
	if e := s.EarlyStop; e.ErrorRate != 0.1 || e.P95 != 2*time.Second || e.For != 3*time.Second {
		t.Errorf("default early stop %+v", e)
	}
}

func TestResult_Combine(t *testing.T) {
	t.Parallel()
	r, _ := runFake(t, sharp(340), nil)
	res, err := r.Combine()
	if err != nil {
		t.Fatal(err)
	}
	nwin, total := 0, uint64(0)
	for _, st := range r.Steps {
		nwin += st.Windows
	}
	if len(res.Windows) != nwin {
		t.Fatalf("%d windows; want %d", len(res.Windows), nwin)
	}
	for i, w := range res.Windows {
		if w.Index != i {
			t.Fatalf("window %d has index %d", i, w.Index)
		}
		if i > 0 && w.Start != res.Windows[i-1].End {
			t.Fatalf("window %d starts at %s, the previous ended at %s", i, w.Start, res.Windows[i-1].End)
		}
		total += w.OK + w.Errors
	}
	for _, st := range r.Steps {
		w := res.Windows[st.FirstWindow]
		if w.PlannedRate != st.RateRPS || ms(w.Start) != st.AtMs {
			t.Errorf("step %d: first window %d at %s planned %v; want at %v ms planned %v", st.Index, st.FirstWindow, w.Start, w.PlannedRate, st.AtMs, st.RateRPS)
		}
	}
	var reqTotal uint64
	for _, q := range res.Requests {
		reqTotal += q.Count
	}
	if reqTotal != total {
		t.Errorf("request totals sum to %d; windows to %d", reqTotal, total)
	}
	if len(res.Plan.Segments) != len(r.Steps) || res.Plan.Shape != "find" || res.Plan.Duration != time.Duration(r.LoadMs*float64(time.Millisecond)) {
		t.Errorf("plan: %d segments, shape %q, duration %s", len(res.Plan.Segments), res.Plan.Shape, res.Plan.Duration)
	}

	// The search survives JSON (result.json's search section; package
	// result tests the whole document).
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	got := &Result{}
	if err := json.Unmarshal(b, got); err != nil {
		t.Fatal(err)
	}
	if got.CapacityRPS != r.CapacityRPS || got.Headline != r.Headline || len(got.Steps) != len(r.Steps) || got.Steps[4] != r.Steps[4] {
		t.Errorf("round trip: %+v; want %+v", got, r)
	}
	if _, err := got.Combine(); err == nil {
		t.Error("Combine of a decoded result: no error")
	}

	// The analysis carries the search's verdict.
	a := r.Analyze(res, analysis.Options{})
	v := a.Verdict
	if v.Status != analysis.StatusFail || v.Headline != r.Headline || v.FirstLayer != "database" {
		t.Errorf("verdict %s %q first %q", v.Status, v.Headline, v.FirstLayer)
	}
	if v.Capacity == nil || v.Capacity.RateRPS != r.CapacityRPS || v.Breakpoint == nil || v.Breakpoint.RateRPS != r.BreakpointRPS {
		t.Fatalf("capacity %+v breakpoint %+v", v.Capacity, v.Breakpoint)
	}
	confirm := r.Steps[len(r.Steps)-1]
	if v.Capacity.Window != confirm.JudgedFrom || res.Windows[v.Capacity.Window].PlannedRate != r.CapacityRPS {
		t.Errorf("capacity point at window %d; want %d (the confirmation's first judged window)", v.Capacity.Window, confirm.JudgedFrom)
	}
}

func TestFind_RunnerError(t *testing.T) {
	t.Parallel()
	p := fakePlan(t)
	fr := &fakeRunner{t: t, plan: p, model: fine}
	calls := 0
	cfg := Config{Plan: p, Runner: RunnerFunc(func(ctx context.Context, s StepSpec) (*engine.Result, error) {
		calls++
		if calls == 3 {
			return nil, context.DeadlineExceeded
		}
		return fr.RunStep(ctx, s)
	})}
	r, err := Find(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "find: step 3 (225 req/s)") || r == nil || len(r.Steps) != 2 || r.Stopped != StoppedError {
		t.Fatalf("Find = %+v, %v", r, err)
	}
}

func TestFind_Callbacks(t *testing.T) {
	t.Parallel()
	var starts []StepSpec
	var steps []Step
	r, _ := runFake(t, sharp(340), func(c *Config, _ *fakeRunner) {
		c.OnStart = func(s StepSpec) { starts = append(starts, s) }
		c.OnStep = func(s Step) { steps = append(steps, s) }
	})
	if len(starts) != len(r.Steps) || len(steps) != len(r.Steps) {
		t.Fatalf("%d starts, %d steps; want %d", len(starts), len(steps), len(r.Steps))
	}
	for i := range steps {
		if steps[i] != r.Steps[i] || starts[i].Index != i || starts[i].Abort == nil {
			t.Errorf("step %d: callback %+v; result %+v", i, steps[i], r.Steps[i])
		}
	}
}

func TestRoundRate(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want float64 }{
		{100 * 1.5, 150}, {337.5, 338}, {506.25, 506}, {1.234, 1.23}, {0.5, 0.5}, {99.96, 100},
	}
	for _, tt := range tests {
		if got := roundRate(tt.in); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("roundRate(%v) = %v; want %v", tt.in, got, tt.want)
		}
	}
	if got := midRate(100, 100.2); got <= 100 || got >= 100.2 {
		t.Errorf("midRate(100, 100.2) = %v; want strictly between", got)
	}
}

var _ = scenarios.MaxRate

func TestFind_FlickeringFailures(t *testing.T) {
	t.Parallel()
	// Above capacity, every other window fails 6% of the feed: never
	// `sustain` windows in a row, but 1.8% of the requests over a step.
	const capacity = 340.0
	flicker := func(req string, rate float64, _, win int) obs {
		if rate > capacity && req == "feed" && win%2 == 0 {
			return obs{lat: 40 * time.Millisecond, errFrac: 0.06}
		}
		return obs{lat: 40 * time.Millisecond}
	}
	r, _ := runFake(t, flicker, nil)
	if r.Status != StatusFound || r.CapacityRPS > capacity || r.CapacityRPS < capacity/(1+DefaultPrecision) {
		t.Fatalf("got %s at %v; want found in [%v, %v]: %s", r.Status, r.CapacityRPS, capacity/(1+DefaultPrecision), capacity, stepList(r))
	}
	for _, st := range r.Steps {
		if st.Verdict == VerdictFail && !strings.HasPrefix(st.Reason, "over the whole step: feed: error rate 3") {
			t.Errorf("step %d at %v: reason %q", st.Index, st.RateRPS, st.Reason)
		}
	}
	// No break to attribute: the layer is the failing request's.
	if r.FirstLayer != "database" || !strings.HasPrefix(r.Symptom, "feed: error rate 3") || !strings.HasSuffix(r.Symptom, " over the whole step") {
		t.Errorf("first layer %q, symptom %q", r.FirstLayer, r.Symptom)
	}
}

func TestFind_TolerableLag(t *testing.T) {
	t.Parallel()
	// The engine flags every window above 200 req/s generator-bound for a
	// 20 ms send lag, with every request sent: a tenth of the SLO's p95 is
	// 50 ms, so the lag cannot explain a violation and the windows are
	// judged. The search finds the knee as if spike had kept time.
	const capacity = 340.0
	r, _ := runFake(t, sharp(capacity), func(_ *Config, fr *fakeRunner) {
		fr.lagged = func(rate float64, _, _ int) bool { return rate > 200 }
	})
	if r.Status != StatusFound || r.CapacityRPS > capacity || r.CapacityRPS < capacity/(1+DefaultPrecision) {
		t.Fatalf("got %s at %v: %s", r.Status, r.CapacityRPS, stepList(r))
	}
	for _, st := range r.Steps {
		if st.RateRPS > 200 && (st.LaggedWindows == 0 || st.BoundWindows != 0) {
			t.Errorf("step %d at %v: %d lagged, %d bound windows; want lagged only", st.Index, st.RateRPS, st.LaggedWindows, st.BoundWindows)
		}
	}
	// The same lag with a tighter SLO (p95 100 ms: a tenth is 10 ms) is
	// not tolerable: spike fell behind.
	p := fakePlan(t)
	p.SLO.P95 = 100 * time.Millisecond
	fr := &fakeRunner{t: t, plan: p, model: fine, lagged: func(rate float64, _, _ int) bool { return rate > 200 }}
	r, err := Find(context.Background(), Config{Plan: p, Runner: fr})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != StatusInconclusive || r.Stopped != StoppedGenerator || r.CapacityRPS != 150 {
		t.Errorf("tight SLO: %s (stopped %q) at %v; want inconclusive above 150: %s", r.Status, r.Stopped, r.CapacityRPS, stepList(r))
	}
}

// A journey scenario's rates are arrivals: the answer says visitors/s.
func TestResult_JourneyUnit(t *testing.T) {
	p, err := scenarios.Parse("j.yaml", []byte("name: j\ntarget: http://127.0.0.1:9\nbaseline: 5\nstages: [{hold: {duration: 10s}}]\n"+
		"journeys: [{name: v, steps: [{url: /}]}]\n"), scenarios.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	r := newResult(&settings{Config: Config{Plan: p}})
	if got := r.at(10); got != "10 visitors/s (2.0x)" {
		t.Errorf("at(10) = %q; want 10 visitors/s (2.0x)", got)
	}
	p.Journeys = nil
	if got := newResult(&settings{Config: Config{Plan: p}}).at(10); got != "10 req/s (2.0x)" {
		t.Errorf("without journeys at(10) = %q; want 10 req/s (2.0x)", got)
	}
}
