package charts

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/spikeload/spike/analysis"
	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/hist"
	"github.com/spikeload/spike/scenarios"
)

// Synthetic runs for the tests: a ramp from 10 to 200 req/s against a target
// whose database saturates at about 120 req/s, with fixed times and
// deterministic numbers, so the rendered report is the same every time.

var synthStart = time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)

type synthReq struct {
	name, method, url, layer string
	share                    float64
	baseMs                   float64 // p50 at low load
	dbBound                  bool    // slows down past the database's capacity
	timing                   string  // Server-Timing component it reports, if any
}

var synthReqs = []synthReq{
	{"home", "GET", "/", "backend", 0.25, 40, false, "app"},
	{"feed", "GET", "/api/feed?user={{user}}", "database", 0.2, 60, true, "db"},
	{"login", "POST", "/api/login", "auth", 0.1, 80, true, "db"},
	{"search", "GET", "/api/search?q=shoes", "database", 0.1, 90, true, "db"},
	{"app.css", "GET", "/static/app.css", "frontend", 0.15, 5, false, ""},
	{"hero.jpg", "GET", "/static/hero.jpg", "frontend", 0.1, 12, false, ""},
	{"checkout", "POST", "/api/checkout", "third-party", 0.1, 150, false, "payments"},
}

// synthOptions vary a synthetic run.
type synthOptions struct {
	windows int
	// hostile puts script-injection payloads in every string that comes from
	// the target or the scenario.
	hostile bool
}

// Payloads for the escaping tests.
var hostilePayloads = []string{
	`<script>alert(1)</script>`,
	`"><img src=x onerror=alert(1)>`,
	`</script><script>`,
	`<script>document.title='pwned'</script>`,
	`<img src=x onerror="document.title='pwned'">`,
	`__f__function(){document.title='pwned'}__f__`,
}

// encoded histograms by p50 (ms), shared between windows to keep the tests fast.
type histCache map[int]string

func (c histCache) get(p50ms float64, seed uint64) string {
	// Two significant digits of p50 are enough to tell the windows apart.
	e := math.Pow(10, math.Floor(math.Log10(math.Max(p50ms, 1)))-1)
	p50ms = math.Round(p50ms/e) * e
	k := int(math.Round(p50ms))
	if s, ok := c[k]; ok {
		return s
	}
	h := engine.NewHist()
	rng := rand.New(rand.NewPCG(seed, uint64(k)))
	for i := 0; i < 200; i++ {
		v := p50ms * math.Exp(rng.NormFloat64()*0.5) * 1000
		_ = h.Record(int64(math.Max(1, v)))
	}
	s := engine.Stats(h, true).Hist
	c[k] = s
	return s
}

func synthResult(o synthOptions) *engine.Result {
	if o.windows == 0 {
		o.windows = 120
	}
	n := o.windows
	reqs := append([]synthReq(nil), synthReqs...)
	target := "http://127.0.0.1:8080"
	scenario := "launch-day"
	if o.hostile {
		for i := range reqs {
			reqs[i].name = hostilePayloads[i%len(hostilePayloads)] + strconv.Itoa(i)
			reqs[i].url += "?x=" + hostilePayloads[(i+1)%len(hostilePayloads)]
		}
		target = "http://127.0.0.1:8080/" + hostilePayloads[1]
		scenario = hostilePayloads[3]
	}
	win := time.Second
	res := &engine.Result{
		Meta: engine.Meta{Tool: "spike", Version: "0.1.0-test", Scenario: scenario, ScenarioFile: "examples/launch.yaml",
			Target: target, Started: synthStart, Ended: synthStart.Add(time.Duration(n) * win)},
		Plan: engine.PlanInfo{
			Baseline: 40, TimeScale: 1, Shape: "ramp", Duration: time.Duration(n) * win, Window: win, PeakRate: 200,
			SLO: scenarios.SLO{Limits: scenarios.Limits{P95: 500 * time.Millisecond, ErrorRate: 0.01}, Sustain: 3},
		},
	}
	if o.hostile {
		res.Plan.Scenario.Description = hostilePayloads[0]
		res.Meta.Notes = []string{hostilePayloads[2]}
	}
	for _, q := range reqs {
		res.Plan.Requests = append(res.Plan.Requests, engine.RequestInfo{Name: q.name, Method: q.method, URL: q.url, Weight: q.share, Share: q.share, Layer: q.layer})
	}
	cache := histCache{}
	totals := make([]*hist.Hist, len(reqs))
	for i := range totals {
		totals[i] = engine.NewHist()
	}
	rt := make([]engine.RequestTotal, len(reqs))
	for w := 0; w < n; w++ {
		rate := 10 + 190*float64(w)/float64(max(n-1, 1))
		over := math.Max(0, rate-120) / 80 // 0 … 1 past the database's capacity
		win := engine.Window{Index: w, Start: time.Duration(w) * time.Second, End: time.Duration(w+1) * time.Second,
			PlannedRate: rate, Planned: uint64(rate), Requests: map[string]*engine.WindowRequest{}}
		win.GeneratorBound = w >= n-n/20 // the last 5%: spike fell behind
		win.Sent = win.Planned
		if win.GeneratorBound {
			win.Sent = win.Planned * 9 / 10
			win.Lag = engine.LagStats{P50: 5 * time.Millisecond, P99: 25 * time.Millisecond, Max: 40 * time.Millisecond}
		}
		var all []float64
		for k, q := range reqs {
			cnt := uint64(math.Round(float64(win.Sent) * q.share))
			p50 := q.baseMs
			if q.dbBound {
				p50 *= 1 + 30*over*over
			}
			errs := uint64(0)
			if q.dbBound && over > 0.3 {
				errs = uint64(float64(cnt) * (over - 0.3))
			}
			if q.layer == "third-party" && over > 0.5 {
				errs += cnt / 10
			}
			errs = min(errs, cnt)
			wr := &engine.WindowRequest{Count: cnt, OK: cnt - errs, Errors: errs, BytesIn: cnt * 2048, BytesOut: cnt * 100,
				Statuses: map[string]uint64{"200": cnt - errs}}
			if errs > 0 {
				switch q.layer {
				case "third-party":
					wr.Statuses["429"] = errs
				case "auth":
					wr.Statuses["503"] = errs
				default: // half answered 503, half timed out
					wr.Statuses["503"] = errs / 2
					wr.ErrorKinds = map[string]uint64{"timeout": errs - errs/2}
				}
			}
			ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
			wr.Latency = engine.LatencyStats{Count: int64(cnt), Min: ms(p50 / 4), Mean: ms(p50 * 1.2), P50: ms(p50), P90: ms(p50 * 2),
				P95: ms(p50 * 2.4), P99: ms(p50 * 3.5), Max: ms(p50 * 6), Hist: cache.get(p50, uint64(k))}
			if q.timing != "" {
				wr.Timing = map[string]*engine.TimingStat{q.timing: {Count: cnt, WithDur: cnt, SumMs: float64(cnt) * p50 * 0.7, MaxMs: p50 * 3}}
				if q.timing == "db" {
					wr.Timing[q.timing].Desc = map[string]uint64{"miss": cnt}
				}
			}
			win.Requests[q.name] = wr
			win.OK += wr.OK
			win.Errors += wr.Errors
			if cnt > 0 {
				all = append(all, p50)
			}
			// Whole-run totals.
			rt[k].Count += cnt
			rt[k].OK += wr.OK
			rt[k].Errors += errs
			rt[k].BytesIn += wr.BytesIn
			rt[k].BytesOut += wr.BytesOut
			if w%max(n/200, 1) == 0 {
				_ = totals[k].RecordN(int64(p50*1000), int64(cnt))
				_ = totals[k].RecordN(int64(p50*2400), int64(cnt/20+1))
				_ = totals[k].RecordN(int64(p50*6000), 1)
			}
			for code, c := range wr.Statuses {
				if rt[k].Statuses == nil {
					rt[k].Statuses = map[string]uint64{}
				}
				rt[k].Statuses[code] += c
			}
			for kind, c := range wr.ErrorKinds {
				if rt[k].ErrorKinds == nil {
					rt[k].ErrorKinds = map[string]uint64{}
				}
				rt[k].ErrorKinds[kind] += c
			}
		}
		mean := 0.0
		for _, v := range all {
			mean += v
		}
		if len(all) > 0 {
			mean /= float64(len(all))
		}
		ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
		win.Latency = engine.LatencyStats{Count: int64(win.Sent), Min: ms(1), Mean: ms(mean), P50: ms(mean), P90: ms(mean * 2.5),
			P95: ms(mean * 3.5), P99: ms(mean * 6), Max: ms(mean * 10)}
		res.Windows = append(res.Windows, win)
		res.Plan.Total += win.Planned
	}
	for k, q := range reqs {
		rt[k].Name = q.name
		rt[k].Latency = engine.Stats(totals[k], true)
		rt[k].MaxBytesIn = 4096
		rt[k].ServerTiming = q.timing != ""
		rt[k].Headers = map[string]string{"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}
		if o.hostile {
			rt[k].Headers["X-Evil"] = hostilePayloads[k%len(hostilePayloads)]
			rt[k].Headers[hostilePayloads[(k+2)%len(hostilePayloads)]] = "1"
			rt[k].ErrorSamples = []engine.ErrorSample{{Message: "503 Service Unavailable: " + hostilePayloads[(k+3)%len(hostilePayloads)], Count: 3}}
		} else if rt[k].Errors > 0 {
			rt[k].ErrorSamples = []engine.ErrorSample{{Message: "503 Service Unavailable", Count: rt[k].Errors / 2}, {Message: "Client.Timeout exceeded while awaiting headers", Count: rt[k].Errors - rt[k].Errors/2}}
		}
	}
	res.Requests = rt
	return res
}

// synthAnalysis is a hand-made analysis of synthResult: fixed, so the golden
// file does not move when the analysis package's heuristics do.
func synthAnalysis(res *engine.Result, hostile bool) *analysis.Analysis {
	n := len(res.Windows)
	pt := func(w int) *analysis.Point {
		win := res.Windows[w]
		return &analysis.Point{Window: w, AtMs: float64(win.Start.Milliseconds()), RateRPS: win.PlannedRate, Multiple: win.PlannedRate / res.Plan.Baseline}
	}
	brk := n * 62 / 100
	capw := brk - 4
	a := &analysis.Analysis{
		Settings: analysis.Settings{Sustain: 3, CrackFactor: 2, Knee: 0.9, MinSamples: 20, SLO: analysis.Limits{P95Ms: 500, ErrorRate: 0.01}, BaselineRPS: 40, WindowMs: 1000},
		Verdict: analysis.Verdict{
			Status: analysis.StatusFail, Headline: "The database breaks first, at 128 req/s (3.2x your baseline): p95 passes 500 ms, then timeouts.",
			FirstLayer: "database", Symptom: "feed and search p95 climbed from 150 ms to 2.1 s, then timed out", Cause: "too many concurrent queries for the pool, nothing cached",
			Breakpoint: pt(brk), Capacity: pt(capw), Knee: &analysis.Knee{Point: *pt(brk + 3), OKRPS: 110, MaxOKRPS: 121},
			PeakRPS: 200, PeakMultiple: 5, Order: []string{"database", "auth", "third-party"},
			Fixes: []string{"Add query timing and a p95 dashboard", "Cache the feed for 1–5 minutes per user", "Put the payment call behind a queue with backoff"},
		},
		Breaks:    []analysis.Episode{{Start: *pt(brk)}},
		Generator: analysis.Generator{BoundWindows: n / 20, FirstBound: pt(n - n/20), LimitRPS: 190, MaxLagMs: 25},
		Readiness: analysis.Readiness{BaselineP95Ms: 180, BaselineHealthy: true, Answers: []analysis.Answer{
			{Question: "Is p95 healthy at today's traffic?", Answer: "Yes: 180 ms at 40 req/s.", OK: true},
			{Question: "Are hot reads cached?", Answer: "No: every feed response said cache miss.", OK: false},
		}},
	}
	layerOf := map[string]string{}
	for _, q := range res.Plan.Requests {
		layerOf[q.Name] = q.Layer
	}
	order := map[string]int{"database": 1, "auth": 2, "third-party": 3}
	for _, l := range []string{"database", "auth", "third-party", "backend", "frontend"} {
		lr := analysis.LayerReport{Layer: l, Rank: order[l], LowP95Ms: 100}
		for _, q := range res.Plan.Requests {
			if q.Layer == l {
				lr.Requests = append(lr.Requests, q.Name)
			}
		}
		if lr.Rank > 0 {
			lr.Cracked = pt(brk - 10 + 2*lr.Rank)
			lr.Broke = pt(brk + 3*(lr.Rank-1))
			lr.Symptom = &analysis.Symptom{Class: analysis.SymptomLatencyThenErrors, Text: l + " requests slowed, then failed",
				Evidence: []string{"p95 100 ms → 2.1 s", "503 and timeouts from " + fmtOffset(float64(brk))}}
			lr.Cause = "too many concurrent queries for the pool, nothing cached"
		}
		a.Layers = append(a.Layers, lr)
	}
	for _, q := range res.Plan.Requests {
		a.Requests = append(a.Requests, analysis.RequestReport{Name: q.Name, Method: q.Method, URL: q.URL, Layer: q.Layer, Evidence: "tag", Share: q.Share})
	}
	a.Recommendations = []analysis.Recommendation{
		{Step: 1, Area: "observability", Title: "Add query timing and a p95 dashboard", Detail: "Time every query; alert on p95 over 500 ms.", Layer: "database"},
		{Step: 3, Area: "cache", Title: "Cache the feed for 1–5 minutes per user", Detail: "Hot reads hit the database on every request.", Layer: "database", Requests: []string{res.Plan.Requests[1].Name}},
		{Step: 4, Area: "queue", Title: "Put the payment call behind a queue with backoff", Layer: "third-party", Requests: []string{res.Plan.Requests[6].Name}},
	}
	a.Headers = []analysis.Finding{
		{Request: res.Plan.Requests[4].Name, Check: "cache_control", Detail: "no Cache-Control on a static asset", Step: 2, Area: "cdn"},
		{Request: res.Plan.Requests[5].Name, Check: "image_format", Detail: "image/jpeg, not WebP or AVIF", Step: 2, Area: "cdn"},
	}
	if hostile {
		a.Verdict.Headline = "Broke: " + hostilePayloads[0]
		a.Verdict.Symptom = hostilePayloads[1]
		a.Headers[0].Detail = hostilePayloads[4]
		a.Notes = []string{hostilePayloads[2]}
	}
	for w := range res.Windows {
		win := &res.Windows[w]
		c := analysis.WindowCheck{Index: w, AtMs: float64(win.Start.Milliseconds()), PlannedRPS: win.PlannedRate,
			SentRPS: float64(win.Sent), OKRPS: float64(win.OK), GeneratorBound: win.GeneratorBound,
			Overall: analysis.Check{Status: analysis.StatusPass, Count: win.OK + win.Errors, Errors: win.Errors, P95Ms: float64(win.Latency.P95.Milliseconds())},
			Layers:  map[string]analysis.Check{}}
		if win.GeneratorBound {
			c.Overall.Status = analysis.StatusGeneratorBound
		} else if w >= brk && (w-brk)%17 < 14 {
			c.Overall.Status = analysis.StatusFail
			c.Overall.Failed = []string{"p95"}
		}
		for name, q := range win.Requests {
			l := layerOf[name]
			chk := c.Layers[l]
			chk.Status = analysis.StatusPass
			chk.Count += q.OK + q.Errors
			chk.Errors += q.Errors
			chk.P95Ms = math.Max(chk.P95Ms, float64(q.Latency.P95.Microseconds())/1000)
			c.Layers[l] = chk
		}
		a.Windows = append(a.Windows, c)
	}
	return a
}
