package search

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/hist"
	"github.com/spikeload/spike/scenarios"
)

// This file is a fake Runner: a target whose latency and errors are a known
// function of the planned rate (and of the step and window, for noise and
// slow build-ups), with no network and no engine. Windows are built
// directly, as the engine's recorder would close them.

// fakeScenario has a database-bound request and a static one.
const fakeScenario = `
name: fake
target: http://fake.invalid
baseline: 100
stages:
  - hold: {duration: 10s}
requests:
  - {name: feed, url: /api/feed, weight: 6, layer: database}
  - {name: home, url: /, weight: 4, layer: frontend}
slo: {p95: 500ms, error_rate: 1%, sustain: 3}
`

func fakePlan(t testing.TB) *scenarios.Plan {
	t.Helper()
	p, err := scenarios.Parse("fake.yaml", []byte(fakeScenario), scenarios.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// obs is what one request showed in one window.
type obs struct {
	lat     time.Duration // typical latency; samples spread ±10% around it
	errFrac float64       // share of failures (503)
	// slowFrac of the samples take slowLat instead.
	slowFrac float64
	slowLat  time.Duration
}

// model gives a request's observations at a planned rate, in window win
// (counting from 0) of step step.
type model func(req string, rate float64, step, win int) obs

// fakeRunner runs steps against a model.
type fakeRunner struct {
	t     testing.TB
	plan  *scenarios.Plan
	model model
	// bound, if set, says which windows spike "fell behind" in: lag p99
	// 50 ms and a fifth of the requests unsent.
	bound func(rate float64, step, win int) bool
	// lagged, if set, says which windows the engine flags generator-bound
	// for a lag p99 of 20 ms, with every request sent.
	lagged func(rate float64, step, win int) bool
	// cancel, if set, is called in window cancelWin of step cancelStep.
	cancel                func()
	cancelStep, cancelWin int

	specs []StepSpec
}

func (f *fakeRunner) RunStep(ctx context.Context, s StepSpec) (*engine.Result, error) {
	f.specs = append(f.specs, s)
	p := f.plan
	win := p.Options.Window
	res := &engine.Result{}
	res.Meta = engine.Meta{Tool: "spike", Scenario: p.Name, Target: p.Target}
	res.Plan = engine.PlanInfo{
		Baseline: p.Baseline, TimeScale: 1, Shape: "hold", Duration: s.Duration, Window: win,
		PeakRate: s.Rate, SLO: p.SLO, Options: p.Options,
		Segments: []scenarios.Segment{{Kind: "hold", Duration: s.Duration, From: s.Rate, To: s.Rate}},
	}
	sum := 0.0
	for _, r := range p.Requests {
		sum += r.Weight
	}
	for _, r := range p.Requests {
		res.Plan.Requests = append(res.Plan.Requests, engine.RequestInfo{Name: r.Name, Method: r.Method, URL: r.URL.Raw(), Weight: r.Weight, Share: r.Weight / sum, Layer: r.Layer})
	}
	totals := map[string]*engine.RequestTotal{}
	n := int((s.Duration + win - 1) / win)
	for i := 0; i < n; i++ {
		if f.cancel != nil && s.Index == f.cancelStep && i == f.cancelWin {
			f.cancel()
		}
		if ctx.Err() != nil {
			res.Meta.Partial = true
			break
		}
		start, end := time.Duration(i)*win, min(time.Duration(i+1)*win, s.Duration)
		w := engine.Window{Index: i, Start: start, End: end, PlannedRate: s.Rate, Requests: map[string]*engine.WindowRequest{}}
		w.Planned = uint64(math.Round(s.Rate * (end - start).Seconds()))
		var parts []engine.LatencyStats
		for _, ri := range res.Plan.Requests {
			cnt := int(math.Round(float64(w.Planned) * ri.Share))
			if cnt == 0 {
				continue
			}
			o := f.model(ri.Name, s.Rate, s.Index, i)
			errs := int(math.Round(o.errFrac * float64(cnt)))
			wr := &engine.WindowRequest{Count: uint64(cnt), OK: uint64(cnt - errs), Errors: uint64(errs), Statuses: map[string]uint64{}}
			if cnt-errs > 0 {
				wr.Statuses["200"] = uint64(cnt - errs)
			}
			if errs > 0 {
				wr.Statuses["503"] = uint64(errs)
			}
			wr.Latency = latency(cnt, o.lat, int(math.Round(o.slowFrac*float64(cnt))), o.slowLat)
			parts = append(parts, wr.Latency)
			w.Requests[ri.Name] = wr
			w.OK += wr.OK
			w.Errors += wr.Errors
			tot := totals[ri.Name]
			if tot == nil {
				tot = &engine.RequestTotal{Name: ri.Name}
				totals[ri.Name] = tot
			}
			tot.Count += wr.Count
			tot.OK += wr.OK
			tot.Errors += wr.Errors
		}
		w.Sent = w.OK + w.Errors
		w.Latency = merged(f.t, parts)
		w.Lag = engine.LagStats{P50: 100 * time.Microsecond, P99: time.Millisecond, Max: 2 * time.Millisecond}
		if f.lagged != nil && f.lagged(s.Rate, s.Index, i) {
			w.GeneratorBound = true
			w.Lag = engine.LagStats{P50: 5 * time.Millisecond, P99: 20 * time.Millisecond, Max: 30 * time.Millisecond}
		}
		if f.bound != nil && f.bound(s.Rate, s.Index, i) {
			w.GeneratorBound = true
			w.Lag = engine.LagStats{P50: 20 * time.Millisecond, P99: 50 * time.Millisecond, Max: 80 * time.Millisecond}
			w.Sent = w.Planned * 4 / 5
		}
		res.Windows = append(res.Windows, w)
		if s.Abort != nil {
			if stop, reason := s.Abort(res.Windows); stop {
				res.Meta.Aborted, res.Meta.AbortReason = true, reason
				break
			}
		}
	}
	for _, ri := range res.Plan.Requests {
		if tot := totals[ri.Name]; tot != nil {
			res.Requests = append(res.Requests, *tot)
		}
	}
	return res, nil
}

// histCache memoises encoded histograms: encoding is slow and windows
// repeat.
var histCache sync.Map

// latency returns the stats of n samples spread evenly over ±10% of lat,
// slow of them at slowLat instead, with the encoded histogram.
func latency(n int, lat time.Duration, slow int, slowLat time.Duration) engine.LatencyStats {
	key := fmt.Sprint(n, lat, slow, slowLat)
	if v, ok := histCache.Load(key); ok {
		return v.(engine.LatencyStats)
	}
	h := engine.NewHist()
	for j := 0; j < n; j++ {
		v := lat
		if j < slow {
			v = slowLat
		}
		f := 0.9 + 0.2*float64(j)/float64(max(1, n-1))
		_ = h.Record(int64(float64(v/time.Microsecond) * f))
	}
	s := engine.Stats(h, true)
	histCache.Store(key, s)
	return s
}

// merged returns the stats of the merged histograms of parts, memoised.
func merged(t testing.TB, parts []engine.LatencyStats) engine.LatencyStats {
	key := "merge"
	for _, p := range parts {
		key += "|" + strconv.FormatInt(p.Count, 10) + "/" + strconv.FormatInt(int64(p.Min), 10) + "/" + strconv.FormatInt(int64(p.Max), 10)
	}
	if v, ok := histCache.Load(key); ok {
		return v.(engine.LatencyStats)
	}
	all := engine.NewHist()
	for _, p := range parts {
		h, err := hist.Decode(p.Hist)
		if err != nil {
			t.Fatal(err)
		}
		all.Merge(h)
	}
	s := engine.Stats(all, true)
	histCache.Store(key, s)
	return s
}

// p95Of returns the p95 the fake reports for a typical latency lat.
func p95Of(lat time.Duration) time.Duration { return time.Duration(1.09 * float64(lat)) }

// Models.

// sharp is a target that holds capacity req/s at 40 ms and, above it,
// fails 30% of the database requests at 300 ms.
func sharp(capacity float64) model {
	return func(req string, rate float64, _, _ int) obs {
		if rate <= capacity {
			return obs{lat: 40 * time.Millisecond}
		}
		if req == "feed" {
			return obs{lat: 300 * time.Millisecond, errFrac: 0.3}
		}
		return obs{lat: 60 * time.Millisecond}
	}
}

// gradual is a target whose database latency climbs with the rate:
// 20 ms + slope per req/s, so its p95 crosses 500 ms at a known rate.
func gradual(slope time.Duration) model {
	return func(req string, rate float64, _, _ int) obs {
		if req == "feed" {
			return obs{lat: 20*time.Millisecond + time.Duration(rate*float64(slope))}
		}
		return obs{lat: 5 * time.Millisecond}
	}
}

// noisy spoils isolated windows of m, never three in a row and too few to
// break the SLO over a whole step: every 5th window of a step (shifted by
// the step) has a fifth of its samples at 2 s, and every 7th fails 4% of
// its requests.
func noisy(m model) model {
	return func(req string, rate float64, step, win int) obs {
		o := m(req, rate, step, win)
		if (win+step)%5 == 3 {
			o.slowFrac, o.slowLat = 0.2, 2*time.Second
		}
		if (win+step)%7 == 5 {
			o.errFrac = max(o.errFrac, 0.04)
		}
		return o
	}
}

// fine is a target that never breaks.
func fine(string, float64, int, int) obs { return obs{lat: 30 * time.Millisecond} }

// queueing is a target that holds capacity; above it a queue builds, so
// latency climbs through each step by 30 ms a window per 1% of overload:
// 1% over capacity passes a 10 s step and fails a 20 s hold.
func queueing(capacity float64) model {
	return func(_ string, rate float64, _, win int) obs {
		if rate <= capacity {
			return obs{lat: 40 * time.Millisecond}
		}
		over := rate/capacity - 1
		return obs{lat: 40*time.Millisecond + time.Duration(over*float64(win)*float64(3*time.Second))}
	}
}
