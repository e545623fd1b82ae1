package analysis

import (
	"fmt"
	"slices"
	"time"

	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/scenarios"
)

// stat is what one check judges: one window's figures for a request, a
// layer or the whole target.
type stat struct {
	count   uint64 // responses
	errors  uint64
	samples int64 // latency samples
	p95     time.Duration
	p99     time.Duration
	max     time.Duration
	// slow95 and slow99 count the samples above the series' p95 and p99
	// limits (for pooling sparse windows); -1 when unknown.
	slow95, slow99 int64
}

func (s stat) errorRate() float64 {
	if s.count == 0 {
		return 0
	}
	return float64(s.errors) / float64(s.count)
}

func statOf(n, errs uint64, l engine.LatencyStats) stat {
	return stat{count: n, errors: errs, samples: l.Count, p95: l.P95, p99: l.P99, max: l.Max}
}

// analyzer holds the working state of one Analyze call.
type analyzer struct {
	r          *engine.Result
	sustain    int
	factor     float64
	knee       float64
	minSamples int64
	top        scenarios.Limits
	overallLim scenarios.Limits // for the whole target's merged figures
	baseline   float64
	winSec     float64

	// Requests, in mix order (then any unplanned names found in windows).
	names  []string
	info   []engine.RequestInfo
	totals []*engine.RequestTotal
	reqLim []scenarios.Limits

	// Layers present, in canonical order, and their requests.
	layers    []string
	layerOf   []int
	layerReqs [][]int
	layerLim  []scenarios.Limits
	attrib    []attribution
	obs       []*observation // per request, from detect
	stall     []bool         // windows of periodic stalls, from detectStalls
	stalls    *Stalls
	// climb is the growth in p95 that matters for wording: a tenth of the
	// tightest latency limit, at least CrackMinGrowth (ms).
	climb    float64
	minLimit []time.Duration // per request: its smallest latency limit in any series it is part of

	nwin  int
	bound []bool
	// material marks generator-bound windows where spike's shortfall could
	// explain what was measured (see materialLag).
	material    []bool
	materialLag time.Duration
	overall     []stat
	reqStat     [][]stat // [window][request]
	layerStat   [][]stat // [window][layer]
	hasReq      [][]bool // [window][request]: any response or sample

	// Judged statuses (generator-bound windows are StatusGeneratorBound),
	// and the raw overall status that ignores the flag.
	reqSt      [][]Status
	layerSt    [][]Status
	overallSt  []Status
	rawOverall []Status
	failed     [][]string // overall Failed per window
	layerFail  [][][]string
	reqFail    [][][]string

	// Low load.
	low        []bool
	lowRate    float64
	lowReq     []stat
	lowLayer   []stat
	lowOverall stat

	notes []string
}

// Analyze judges the run r. It does no I/O and does not modify r.
func Analyze(r *engine.Result, opts Options) *Analysis {
	a := newAnalyzer(r, opts)
	a.measure()
	a.findLowLoad()
	a.attribute()
	a.merge()
	a.judgeAll()
	if a.detect() {
		a.group()
		a.merge()
		a.judgeAll()
	}
	return a.build()
}

func newAnalyzer(r *engine.Result, opts Options) *analyzer {
	a := &analyzer{r: r, nwin: len(r.Windows)}
	a.sustain = opts.Sustain
	if a.sustain <= 0 {
		a.sustain = r.Plan.SLO.Sustain
	}
	if a.sustain <= 0 {
		a.sustain = scenarios.DefaultSustain
	}
	a.factor = opts.CrackFactor
	if a.factor <= 0 {
		a.factor = DefaultCrackFactor
	}
	a.knee = opts.Knee
	if a.knee <= 0 || a.knee > 1 {
		a.knee = DefaultKnee
	}
	a.minSamples = int64(opts.MinSamples)
	if a.minSamples <= 0 {
		a.minSamples = DefaultMinSamples
	}
	a.top = r.Plan.SLO.Limits
	if a.top == (scenarios.Limits{}) {
		a.top = scenarios.Limits{P95: scenarios.DefaultP95, ErrorRate: scenarios.DefaultErrorRate}
		a.note("the result carries no SLO; judged against the default (p95 ≤ 500 ms, errors ≤ 1%%)")
	}
	// A lag a tenth of the tightest latency limit could move a percentile
	// across it; below that (and with the planned load sent) it cannot.
	a.materialLag = engine.MaxLagP99
	tightest := time.Duration(0)
	for _, l := range append([]scenarios.Limits{a.top}, mapValues(r.Plan.SLO.Requests)...) {
		for _, d := range []time.Duration{l.P95, l.P99} {
			if d > 0 && (tightest == 0 || d < tightest) {
				tightest = d
			}
		}
	}
	a.materialLag = max(a.materialLag, tightest/10)
	a.climb = max(ms(CrackMinGrowth), ms(tightest)/10)
	a.baseline = r.Plan.Baseline
	w := r.Plan.Window
	if w <= 0 && len(r.Windows) > 0 {
		w = r.Windows[0].End - r.Windows[0].Start
	}
	if w <= 0 {
		w = scenarios.DefaultWindow
	}
	a.winSec = w.Seconds()

	// Requests: the plan's mix, then names only seen in windows.
	idx := map[string]int{}
	for _, ri := range r.Plan.Requests {
		if _, dup := idx[ri.Name]; dup {
			continue
		}
		idx[ri.Name] = len(a.names)
		a.names = append(a.names, ri.Name)
		a.info = append(a.info, ri)
	}
	var extra []string
	for _, win := range r.Windows {
		for name := range win.Requests {
			if _, ok := idx[name]; !ok {
				idx[name] = -1
				extra = append(extra, name)
			}
		}
	}
	slices.Sort(extra)
	for _, name := range extra {
		idx[name] = len(a.names)
		a.names = append(a.names, name)
		a.info = append(a.info, engine.RequestInfo{Name: name})
	}
	a.totals = make([]*engine.RequestTotal, len(a.names))
	for i := range r.Requests {
		if k, ok := idx[r.Requests[i].Name]; ok && k >= 0 {
			a.totals[k] = &r.Requests[i]
		}
	}
	for i, name := range a.names {
		if a.totals[i] == nil {
			a.totals[i] = &engine.RequestTotal{Name: name}
		}
		lim := a.top
		if l, ok := r.Plan.SLO.Requests[name]; ok {
			lim = l
		}
		a.reqLim = append(a.reqLim, lim)
	}
	a.overallLim = loosest(a.top, a.reqLim)
	return a
}

func mapValues[K comparable, V any](m map[K]V) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// loosest returns the limits for merged figures: for each limit, the
// loosest of the members' (a zero, unchecked, limit wins), so that a
// request allowed to be slow does not fail its layer or the whole target by
// itself. Each request is still held to its own limits. With no members it
// returns def.
func loosest(def scenarios.Limits, members []scenarios.Limits) scenarios.Limits {
	if len(members) == 0 {
		return def
	}
	out := members[0]
	for _, l := range members[1:] {
		if out.P95 != 0 && (l.P95 == 0 || l.P95 > out.P95) {
			out.P95 = l.P95
		}
		if out.P99 != 0 && (l.P99 == 0 || l.P99 > out.P99) {
			out.P99 = l.P99
		}
		out.ErrorRate = max(out.ErrorRate, l.ErrorRate)
	}
	return out
}

func (a *analyzer) note(format string, args ...any) {
	a.notes = append(a.notes, fmt.Sprintf(format, args...))
}

// point returns the Point of window w.
func (a *analyzer) point(w int) *Point {
	if w < 0 || w >= a.nwin {
		return nil
	}
	win := &a.r.Windows[w]
	p := &Point{Window: w, AtMs: ms(win.Start), RateRPS: win.PlannedRate, Multiple: a.multiple(win.PlannedRate)}
	if len(a.r.Plan.Journeys) > 0 {
		p.Unit = a.r.Plan.RateUnit()
		if d := (win.End - win.Start).Seconds(); d > 0 {
			p.ReqRPS = float64(win.Planned) / d
		}
	}
	return p
}

func (a *analyzer) multiple(rate float64) float64 {
	if a.baseline <= 0 {
		return 0
	}
	return rate / a.baseline
}

// reqStatus returns request i's judged status in window w.
func (a *analyzer) reqStatus(w, i int) Status {
	switch {
	case a.bound[w]:
		return StatusGeneratorBound
	case !a.hasReq[w][i]:
		return StatusInsufficient
	}
	return a.reqSt[w][i]
}
