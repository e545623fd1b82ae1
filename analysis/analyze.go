package analysis

import (
	"fmt"
	"math"
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
	minLimit  []time.Duration // per request: its smallest latency limit in any series it is part of

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

// measure reads the per-window figures that need no histogram decoding.
func (a *analyzer) measure() {
	n := len(a.names)
	a.bound = make([]bool, a.nwin)
	a.material = make([]bool, a.nwin)
	a.overall = make([]stat, a.nwin)
	a.reqStat = make([][]stat, a.nwin)
	a.hasReq = make([][]bool, a.nwin)
	a.reqSt = make([][]Status, a.nwin)
	a.reqFail = make([][][]string, a.nwin)
	a.rawOverall = make([]Status, a.nwin)
	idx := make(map[string]int, n)
	for i, name := range a.names {
		idx[name] = i
	}
	for w := range a.r.Windows {
		win := &a.r.Windows[w]
		a.bound[w] = win.GeneratorBound
		a.material[w] = win.GeneratorBound && (float64(win.Sent) < engine.MinSentShare*float64(win.Planned) || win.Lag.P99 > a.materialLag)
		a.overall[w] = statOf(win.OK+win.Errors, win.Errors, win.Latency)
		rs := make([]stat, n)
		has := make([]bool, n)
		for name, wr := range win.Requests {
			if i := idx[name]; wr != nil {
				rs[i] = statOf(wr.OK+wr.Errors, wr.Errors, wr.Latency)
				has[i] = rs[i].count > 0 || rs[i].samples > 0
			}
		}
		a.reqStat[w], a.hasReq[w] = rs, has
		a.reqSt[w], a.reqFail[w] = make([]Status, n), make([][]string, n)
		// The raw status, window alone and ignoring the generator flag, finds
		// the first violation (for low load and generator honesty).
		a.rawOverall[w], _ = a.judge(a.overall[w], a.overallLim)
		for i := range rs {
			if st, _ := a.judge(rs[i], a.reqLim[i]); has[i] && st == StatusFail {
				a.rawOverall[w] = StatusFail
			}
		}
	}
}

// judge checks s against l. See the package documentation for the rules.
func (a *analyzer) judge(s stat, l scenarios.Limits) (Status, []string) {
	if s.count == 0 && s.samples == 0 {
		return StatusInsufficient, nil
	}
	var failed []string
	insufficient := false
	if s.count > 0 && s.errorRate() > l.ErrorRate {
		failed = append(failed, "error_rate")
	}
	check := func(name string, v, limit time.Duration, need int64) {
		if limit <= 0 {
			return
		}
		switch {
		case s.samples >= need:
			if v > limit {
				failed = append(failed, name)
			}
		case s.samples == 0 || s.max > limit:
			insufficient = true
		}
	}
	check("p95", s.p95, l.P95, a.minSamples)
	check("p99", s.p99, l.P99, 5*a.minSamples)
	switch {
	case len(failed) > 0:
		return StatusFail, failed
	case insufficient:
		return StatusInsufficient, nil
	}
	return StatusPass, nil
}

// findLowLoad picks the low-load windows: planned at or below the baseline,
// not generator-bound, with traffic, before the first violation when that
// leaves enough samples. Without a baseline window it falls back to the
// windows within 10% of the lowest planned rate.
func (a *analyzer) findLowLoad() {
	a.low = make([]bool, a.nwin)
	first := slices.Index(a.rawOverall, StatusFail)
	eligible := func(w int) bool {
		win := &a.r.Windows[w]
		return !a.bound[w] && a.overall[w].count > 0 && win.PlannedRate > 0
	}
	pick := func(limit float64, beforeViolation bool) int64 {
		var samples int64
		for w := range a.nwin {
			a.low[w] = eligible(w) && a.r.Windows[w].PlannedRate <= limit*(1+1e-9) &&
				(!beforeViolation || first < 0 || w < first)
			if a.low[w] {
				samples += a.overall[w].samples
			}
		}
		return samples
	}
	limit := a.baseline
	if limit <= 0 || pick(limit, false) == 0 {
		lowest := math.Inf(1)
		for w := range a.nwin {
			if eligible(w) {
				lowest = min(lowest, a.r.Windows[w].PlannedRate)
			}
		}
		if math.IsInf(lowest, 1) {
			a.note("no window had traffic: nothing to judge")
			a.lowRate = 0
			return
		}
		limit = lowest * 1.1
		if a.baseline > 0 {
			a.note("no window was planned at or below the baseline (%s req/s); low load is the windows within 10%% of the lowest planned rate, %s req/s", fmtRate(a.baseline), fmtRate(lowest))
		}
	}
	a.lowRate = limit
	if pick(limit, true) < a.minSamples {
		pick(limit, false)
	}
}

// merge computes each layer's figures per window, and the low-load figures
// of every request, layer and the whole target, decoding each stored
// histogram at most once.
func (a *analyzer) merge() {
	nl, nr := len(a.layers), len(a.names)
	a.layerStat = make([][]stat, a.nwin)
	a.lowReq = make([]stat, nr)
	a.lowLayer = make([]stat, nl)

	a.minLimit = make([]time.Duration, nr)
	for i := range nr {
		m := time.Duration(math.MaxInt64)
		for _, l := range []scenarios.Limits{a.reqLim[i], a.layerLim[a.layerOf[i]], a.overallLim} {
			for _, d := range []time.Duration{l.P95, l.P99} {
				if d > 0 {
					m = min(m, d)
				}
			}
		}
		a.minLimit[i] = m
	}
	var dec histDecoder
	layerAcc := make([]acc, nl)
	lowReqAcc := make([]acc, nr)
	lowLayerAcc := make([]acc, nl)
	var lowAllAcc acc
	undecodable := 0
	active := make([]int, 0, nr)
	for w := range a.nwin {
		win := &a.r.Windows[w]
		ls := make([]stat, nl)
		ov := &a.overall[w]
		for l := range nl {
			active = active[:0]
			for _, i := range a.layerReqs[l] {
				if a.hasReq[w][i] {
					active = append(active, i)
					s := a.reqStat[w][i]
					ls[l].count += s.count
					ls[l].errors += s.errors
					ls[l].samples += s.samples
				}
			}
			needMerge := len(active) > 1
			for _, i := range active {
				rs := &a.reqStat[w][i]
				wr := win.Requests[a.names[i]]
				// Slow counts are needed when some sample may pass a limit.
				wantSlow := rs.max > a.minLimit[i]
				if wr.Latency.Count == 0 || !(needMerge || a.low[w] || wantSlow) {
					continue
				}
				bs, g, err := dec.Decode(wr.Latency.Hist)
				if err != nil || (len(bs) == 0 && wr.Latency.Count > 0) {
					undecodable++
					if wantSlow {
						rs.slow95, rs.slow99, ls[l].slow95, ls[l].slow99, ov.slow95, ov.slow99 = -1, -1, -1, -1, -1, -1
					}
					continue
				}
				if needMerge {
					layerAcc[l].add(bs, g)
				}
				if a.low[w] {
					lowReqAcc[i].add(bs, g)
					lowLayerAcc[l].add(bs, g)
					lowAllAcc.add(bs, g)
				}
				if wantSlow {
					rs.slow95 = addKnown(0, countAbove(bs, g, a.reqLim[i].P95))
					rs.slow99 = addKnown(0, countAbove(bs, g, a.reqLim[i].P99))
					ls[l].slow95 = addKnown(ls[l].slow95, countAbove(bs, g, a.layerLim[l].P95))
					ls[l].slow99 = addKnown(ls[l].slow99, countAbove(bs, g, a.layerLim[l].P99))
					ov.slow95 = addKnown(ov.slow95, countAbove(bs, g, a.overallLim.P95))
					ov.slow99 = addKnown(ov.slow99, countAbove(bs, g, a.overallLim.P99))
				}
			}
			switch {
			case needMerge && layerAcc[l].total > 0:
				p95, p99, max := layerAcc[l].percentiles(95, 99)
				ls[l].p95, ls[l].p99, ls[l].max = us(p95), us(p99), us(max)
				layerAcc[l].reset()
			case len(active) == 1:
				s := a.reqStat[w][active[0]]
				ls[l].p95, ls[l].p99, ls[l].max = s.p95, s.p99, s.max
			}
		}
		a.layerStat[w] = ls
		if a.low[w] {
			// Counts at low load (errors and responses) for every request.
			for i := range nr {
				if a.hasReq[w][i] {
					s := a.reqStat[w][i]
					a.lowReq[i].count += s.count
					a.lowReq[i].errors += s.errors
				}
			}
			a.lowOverall.count += a.overall[w].count
			a.lowOverall.errors += a.overall[w].errors
		}
	}
	if undecodable > 0 {
		a.note("%d stored latency histograms could not be decoded; their requests' own figures were used, and merges left them out", undecodable)
	}
	fill := func(s *stat, h *acc) {
		s.samples = h.total
		p95, p99, max := h.percentiles(95, 99)
		s.p95, s.p99, s.max = us(p95), us(p99), us(max)
	}
	for i := range nr {
		fill(&a.lowReq[i], &lowReqAcc[i])
	}
	for l := range nl {
		for _, i := range a.layerReqs[l] {
			a.lowLayer[l].count += a.lowReq[i].count
			a.lowLayer[l].errors += a.lowReq[i].errors
		}
		fill(&a.lowLayer[l], &lowLayerAcc[l])
	}
	fill(&a.lowOverall, &lowAllAcc)
}

// judgeAll judges every window of every request, layer and the whole
// target, and marks generator-bound windows. A layer fails when its merged
// figures or any of its requests fail; the whole target when its figures or
// any layer fails. Insufficient members make the sum insufficient unless it
// fails; members without responses in the window are left out.
func (a *analyzer) judgeAll() {
	nl, nr := len(a.layers), len(a.names)
	a.layerSt = make([][]Status, a.nwin)
	a.layerFail = make([][][]string, a.nwin)
	a.overallSt = make([]Status, a.nwin)
	a.failed = make([][]string, a.nwin)
	reqSeries := func(i int) func(int) stat { return func(w int) stat { return a.reqStat[w][i] } }
	layerSeries := func(l int) func(int) stat { return func(w int) stat { return a.layerStat[w][l] } }
	overallSeries := func(w int) stat { return a.overall[w] }
	rs := make([]func(int) stat, nr)
	for i := range nr {
		rs[i] = reqSeries(i)
	}
	lss := make([]func(int) stat, nl)
	for l := range nl {
		lss[l] = layerSeries(l)
	}
	fold := func(status Status, st Status) Status {
		switch {
		case status == StatusFail || st == StatusFail:
			return StatusFail
		case status == StatusInsufficient || st == StatusInsufficient:
			return StatusInsufficient
		}
		return StatusPass
	}
	for w := range a.nwin {
		for i := range nr {
			if a.hasReq[w][i] {
				a.reqSt[w][i], a.reqFail[w][i] = a.judgeAt(rs[i], w, a.reqLim[i])
			} else {
				a.reqSt[w][i], a.reqFail[w][i] = StatusInsufficient, nil
			}
		}
		st := make([]Status, nl)
		fl := make([][]string, nl)
		ost, ofl := a.judgeAt(overallSeries, w, a.overallLim)
		if a.overall[w].count == 0 && a.overall[w].samples == 0 {
			ost = StatusPass // judged by its members alone
		}
		anyData := false
		for l := range nl {
			s := a.layerStat[w][l]
			if s.count == 0 && s.samples == 0 {
				st[l] = StatusInsufficient
				continue
			}
			anyData = true
			st[l], fl[l] = a.judgeAt(lss[l], w, a.layerLim[l])
			own := fl[l]
			for _, i := range a.layerReqs[l] {
				if !a.hasReq[w][i] {
					continue
				}
				st[l] = fold(st[l], a.reqSt[w][i])
				for _, f := range a.reqFail[w][i] {
					fl[l] = append(fl[l], a.names[i]+": "+f)
					ofl = append(ofl, a.names[i]+": "+f)
				}
			}
			if members := a.activeIn(w, l); members > 1 {
				// With one request the layer's figures are the request's.
				for _, f := range own {
					ofl = append(ofl, "layer "+a.layers[l]+": "+f)
				}
			}
			ost = fold(ost, st[l])
		}
		if !anyData {
			ost = StatusInsufficient
		}
		if len(ofl) > 0 {
			ost = StatusFail
		}
		a.overallSt[w], a.failed[w] = ost, ofl
		if a.bound[w] {
			for l := range st {
				st[l] = StatusGeneratorBound
			}
			a.overallSt[w] = StatusGeneratorBound
		}
		a.layerSt[w], a.layerFail[w] = st, fl
	}
}

// activeIn counts the requests of layer l with responses in window w.
func (a *analyzer) activeIn(w, l int) int {
	n := 0
	for _, i := range a.layerReqs[l] {
		if a.hasReq[w][i] {
			n++
		}
	}
	return n
}

// poolWindows bounds how far back a sparse window's pool reaches.
const poolWindows = 10

// judgeAt checks window w of a series against l. A window with enough
// samples is judged alone (see judge). A sparse one (fewer responses or
// samples than a limit needs) is judged with the windows before it, pooled
// back until they hold enough (at most poolWindows, skipping
// generator-bound ones): it fails a latency limit when the pool's share of
// samples above the limit exceeds the percentile's tail (5% for p95, 1% for
// p99) and the window has such a sample itself; it is insufficient, not
// pass, when the pool is failing but the window alone shows nothing (a
// quiet window cannot clear a failing trend), or when the pool is too small
// to tell and the window has a sample above the limit. Errors fail a window
// whenever its own error rate passes the limit.
func (a *analyzer) judgeAt(get func(int) stat, w int, l scenarios.Limits) (Status, []string) {
	s := get(w)
	if s.count == 0 && s.samples == 0 {
		return StatusInsufficient, nil
	}
	var failed []string
	unsure := false
	errNeed := a.minSamples
	if l.ErrorRate > 0 {
		errNeed = max(errNeed, int64(math.Ceil(1/l.ErrorRate)))
	}
	switch {
	case s.count > 0 && s.errorRate() > l.ErrorRate:
		failed = append(failed, "error_rate")
	case int64(s.count) < errNeed:
		n, e := a.pool(get, w, errNeed, func(p stat) (float64, float64) { return float64(p.count), float64(p.errors) })
		if n > 0 && e > l.ErrorRate*n {
			unsure = true
		}
	}
	latency := func(name string, v, limit time.Duration, need int64, tail float64, slow func(stat) int64) {
		if limit <= 0 {
			return
		}
		if s.samples >= need {
			if v > limit {
				failed = append(failed, name)
			}
			return
		}
		n, k := a.pool(get, w, need, func(p stat) (float64, float64) { return float64(p.samples), float64(slow(p)) })
		full := n >= float64(need)-1e-9
		switch {
		case k < 0:
			unsure = unsure || s.max > limit
		case full && k > tail*n:
			if slow(s) > 0 {
				failed = append(failed, name)
			} else {
				unsure = true
			}
		case full:
			// The pool clears it.
		case s.max > limit || k > tail*n:
			unsure = true
		}
	}
	latency("p95", s.p95, l.P95, a.minSamples, 0.05, func(p stat) int64 { return p.slow95 })
	latency("p99", s.p99, l.P99, 5*a.minSamples, 0.01, func(p stat) int64 { return p.slow99 })
	switch {
	case len(failed) > 0:
		return StatusFail, failed
	case unsure:
		return StatusInsufficient, nil
	}
	return StatusPass, nil
}

// pool sums f over window w and the windows before it (generator-bound
// ones skipped, at most poolWindows) until the first sum reaches need; the
// earliest window counts only pro rata for the part of need it fills, so a
// busy window before a change does not drown it. The second sum is -1 when
// any window's is unknown.
func (a *analyzer) pool(get func(int) stat, w int, need int64, f func(stat) (float64, float64)) (n, k float64) {
	used := 0
	for x := w; x >= 0 && used < poolWindows && n < float64(need); x-- {
		if a.bound[x] && x != w {
			continue
		}
		pn, pk := f(get(x))
		if pk < 0 {
			return n + pn, -1
		}
		if x != w && n+pn > float64(need) {
			part := (float64(need) - n) / pn
			pn, pk = pn*part, pk*part
		}
		n, k = n+pn, k+pk
		used++
	}
	return n, k
}

// countAbove counts the samples of decoded buckets above limit (by the
// bucket's highest equivalent value, as percentiles are reported); 0 when
// the limit is unset.
func countAbove(bs []bucket, g geometry, limit time.Duration) int64 {
	if limit <= 0 {
		return 0
	}
	lim := int64(limit / time.Microsecond)
	var n int64
	for k := len(bs) - 1; k >= 0 && g.Value(bs[k].Idx) > lim; k-- {
		n += bs[k].Count
	}
	return n
}

// addKnown adds two counts where -1 means unknown.
func addKnown(a, b int64) int64 {
	if a < 0 || b < 0 {
		return -1
	}
	return a + b
}

// point returns the Point of window w.
func (a *analyzer) point(w int) *Point {
	if w < 0 || w >= a.nwin {
		return nil
	}
	win := &a.r.Windows[w]
	return &Point{Window: w, AtMs: ms(win.Start), RateRPS: win.PlannedRate, Multiple: a.multiple(win.PlannedRate)}
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
