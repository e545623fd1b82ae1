package analysis

import (
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/hist"
	"github.com/spikeload/spike/scenarios"
)

// This file builds synthetic results: windows whose figures are a known
// function of the planned rate, with no network and no engine.

// req describes one request of a synthetic mix.
type req struct {
	name, method, url, layer string
	weight                   float64
	headers                  map[string]string
	maxBytes                 uint64
	errSamples               []engine.ErrorSample
	noTiming                 bool // RequestTotal.ServerTiming false
}

// obs is what one request showed in one window.
type obs struct {
	n      int           // responses
	lat    time.Duration // latency of the typical response
	slow   int           // of the n, how many took slowLat
	slowAt time.Duration
	errs   int    // of the n, failures
	status int    // their status (default 503); 0 with kind for transport errors
	kind   string // transport error kind ("timeout")
	timing map[string]float64
	desc   map[string]map[string]uint64
	bytes  uint64
}

// builder makes an engine.Result.
type builder struct {
	t    testing.TB
	r    *engine.Result
	reqs []req
}

func newBuilder(t testing.TB, baseline float64, reqs ...req) *builder {
	b := &builder{t: t, reqs: reqs}
	total := 0.0
	for _, q := range reqs {
		total += weightOf(q)
	}
	r := &engine.Result{}
	r.Meta = engine.Meta{Tool: "spike", Scenario: "test", Target: "http://127.0.0.1"}
	r.Plan = engine.PlanInfo{
		Baseline: baseline, TimeScale: 1, Shape: "stages", Window: time.Second,
		SLO: scenarios.SLO{
			Limits:  scenarios.Limits{P95: 500 * time.Millisecond, ErrorRate: 0.01},
			Sustain: 3,
		},
		Options: scenarios.Options{Connections: 1000, Window: time.Second},
	}
	for _, q := range reqs {
		m := q.method
		if m == "" {
			m = "GET"
		}
		r.Plan.Requests = append(r.Plan.Requests, engine.RequestInfo{
			Name: q.name, Method: m, URL: q.url, Weight: weightOf(q), Share: weightOf(q) / total, Layer: q.layer,
		})
	}
	b.r = r
	return b
}

func weightOf(q req) float64 {
	if q.weight == 0 {
		return 1
	}
	return q.weight
}

// histCache memoises encoded histograms: encoding is slow (zlib at best
// compression) and synthetic windows repeat.
var histCache sync.Map

type histKey struct {
	n, slow      int
	lat, slowLat time.Duration
}

// latency returns the stats of n samples spread ±10% around lat, slow of
// them at slowLat, with the encoded histogram.
func latency(n, slow int, lat, slowLat time.Duration) engine.LatencyStats {
	k := histKey{n, slow, lat, slowLat}
	if v, ok := histCache.Load(k); ok {
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
	histCache.Store(k, s)
	return s
}

// window appends one window planned at rate with the given observations.
func (b *builder) window(rate float64, seen map[string]obs) *engine.Window {
	w := len(b.r.Windows)
	win := engine.Window{
		Index: w, Start: time.Duration(w) * time.Second, End: time.Duration(w+1) * time.Second,
		PlannedRate: rate, Requests: map[string]*engine.WindowRequest{},
	}
	all := engine.NewHist()
	names := make([]string, 0, len(seen))
	for name := range seen {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		o := seen[name]
		if o.n == 0 {
			continue
		}
		wr := &engine.WindowRequest{Count: uint64(o.n), Errors: uint64(o.errs), OK: uint64(o.n - o.errs)}
		status := o.status
		if status == 0 && o.kind == "" {
			status = 503
		}
		if o.n-o.errs > 0 {
			wr.Statuses = map[string]uint64{"200": uint64(o.n - o.errs)}
		}
		if o.errs > 0 {
			if o.kind != "" {
				wr.ErrorKinds = map[string]uint64{o.kind: uint64(o.errs)}
			} else {
				if wr.Statuses == nil {
					wr.Statuses = map[string]uint64{}
				}
				wr.Statuses[strconv.Itoa(status)] += uint64(o.errs)
			}
		}
		wr.Latency = latency(o.n, o.slow, o.lat, o.slowAt)
		h, err := hist.Decode(wr.Latency.Hist)
		if err != nil {
			b.t.Fatal(err)
		}
		all.Merge(h)
		wr.BytesIn = o.bytes * uint64(o.n)
		for c, mean := range o.timing {
			if wr.Timing == nil {
				wr.Timing = map[string]*engine.TimingStat{}
			}
			wr.Timing[c] = &engine.TimingStat{Count: uint64(o.n), WithDur: uint64(o.n), SumMs: mean * float64(o.n), MaxMs: mean}
		}
		for c, d := range o.desc {
			if wr.Timing == nil {
				wr.Timing = map[string]*engine.TimingStat{}
			}
			ts := wr.Timing[c]
			if ts == nil {
				ts = &engine.TimingStat{}
				wr.Timing[c] = ts
			}
			ts.Desc = d
			for _, n := range d {
				ts.Count += n
			}
		}
		win.Requests[name] = wr
		win.OK += wr.OK
		win.Errors += wr.Errors
	}
	win.Planned = uint64(rate + 0.5)
	win.Sent = win.OK + win.Errors
	win.Latency = engine.Stats(all, false)
	b.r.Windows = append(b.r.Windows, win)
	return &b.r.Windows[w]
}

// bound marks windows generator-bound (lag p99 50 ms, a fifth unsent).
func (b *builder) bound(ws ...int) {
	for _, w := range ws {
		win := &b.r.Windows[w]
		win.GeneratorBound = true
		win.Lag = engine.LagStats{P50: 20 * time.Millisecond, P99: 50 * time.Millisecond, Max: 80 * time.Millisecond}
		win.Sent = win.Planned * 4 / 5
	}
}

// model returns the observations of every request at a planned rate.
type model func(w int, rate float64) map[string]obs

// rates appends one window per rate.
func (b *builder) rates(m model, rates ...float64) *builder {
	for _, r := range rates {
		b.window(r, m(len(b.r.Windows), r))
	}
	return b
}

// ramp appends n windows from rate `from` to `to`, linearly.
func (b *builder) ramp(m model, from, to float64, n int) *builder {
	for k := 0; k < n; k++ {
		r := from
		if n > 1 {
			r = from + (to-from)*float64(k)/float64(n-1)
		}
		b.window(r, m(len(b.r.Windows), r))
	}
	return b
}

// hold appends n windows at rate.
func (b *builder) hold(m model, rate float64, n int) *builder { return b.ramp(m, rate, rate, n) }

// done fills the whole-run totals and returns the result.
func (b *builder) done() *engine.Result {
	r := b.r
	r.Requests = nil
	hists := map[string]*engine.RequestTotal{}
	for _, q := range b.reqs {
		t := engine.RequestTotal{Name: q.name, Headers: q.headers, MaxBytesIn: q.maxBytes, ErrorSamples: q.errSamples, ServerTiming: !q.noTiming}
		r.Requests = append(r.Requests, t)
	}
	for k := range r.Requests {
		hists[r.Requests[k].Name] = &r.Requests[k]
	}
	all := map[string]*hist.Hist{}
	for _, win := range r.Windows {
		r.Plan.PeakRate = max(r.Plan.PeakRate, win.PlannedRate)
		for name, wr := range win.Requests {
			t := hists[name]
			if t == nil {
				continue
			}
			t.Count += wr.Count
			t.OK += wr.OK
			t.Errors += wr.Errors
			for c, n := range wr.Statuses {
				if t.Statuses == nil {
					t.Statuses = map[string]uint64{}
				}
				t.Statuses[c] += n
			}
			for c, n := range wr.ErrorKinds {
				if t.ErrorKinds == nil {
					t.ErrorKinds = map[string]uint64{}
				}
				t.ErrorKinds[c] += n
			}
			t.BytesIn += wr.BytesIn
			if t.MaxBytesIn == 0 && wr.Count > 0 {
				t.MaxBytesIn = wr.BytesIn / wr.Count
			}
			h, _ := hist.Decode(wr.Latency.Hist)
			if all[name] == nil {
				all[name] = engine.NewHist()
			}
			all[name].Merge(h)
		}
	}
	for name, h := range all {
		hists[name].Latency = engine.Stats(h, false)
	}
	if n := len(r.Windows); n > 0 {
		r.Plan.Duration = r.Windows[n-1].End
	}
	return r
}

// analyze runs Analyze with default options.
func analyze(r *engine.Result) *Analysis { return Analyze(r, Options{}) }

func layerOf(a *Analysis, name string) *LayerReport {
	for k := range a.Layers {
		if a.Layers[k].Layer == name {
			return &a.Layers[k]
		}
	}
	return nil
}

func requestOf(a *Analysis, name string) *RequestReport {
	for k := range a.Requests {
		if a.Requests[k].Name == name {
			return &a.Requests[k]
		}
	}
	return nil
}

func win(p *Point) int {
	if p == nil {
		return -1
	}
	return p.Window
}

func (p *Point) String() string {
	if p == nil {
		return "<nil>"
	}
	return fmt.Sprintf("window %d (%s)", p.Window, p.at())
}
