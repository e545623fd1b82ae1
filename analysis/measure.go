package analysis

import (
	"math"
	"slices"
	"time"

	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/hist"
	"github.com/spikeload/spike/scenarios"
)

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
	for w := range a.overall {
		// A second pass (after detect regrouped the layers) counts anew.
		a.overall[w].slow95, a.overall[w].slow99 = 0, 0
	}
	var dec hist.Decoder
	layerAcc := make([]hist.Hist, nl)
	lowReqAcc := make([]hist.Hist, nr)
	lowLayerAcc := make([]hist.Hist, nl)
	var lowAllAcc hist.Hist
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
					layerAcc[l].Add(bs, &g)
				}
				if a.low[w] {
					lowReqAcc[i].Add(bs, &g)
					lowLayerAcc[l].Add(bs, &g)
					lowAllAcc.Add(bs, &g)
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
			case needMerge && layerAcc[l].Total() > 0:
				p95, p99, max := p95p99(&layerAcc[l])
				ls[l].p95, ls[l].p99, ls[l].max = us(p95), us(p99), us(max)
				layerAcc[l].Reset()
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
	fill := func(s *stat, h *hist.Hist) {
		s.samples = h.Total()
		p95, p99, max := p95p99(h)
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

// countAbove counts the samples of decoded buckets above limit (by the
// bucket's highest equivalent value, as percentiles are reported); 0 when
// the limit is unset.
func countAbove(bs []hist.Bucket, g hist.Geometry, limit time.Duration) int64 {
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

// p95p99 returns the 95th and 99th percentiles and the maximum of h (in
// its unit), without allocating; zeros when h is empty.
func p95p99(h *hist.Hist) (p95, p99, max int64) {
	var buf [2]int64
	q := h.Quantiles(percentiles9599, buf[:0])
	return q[0], q[1], h.Max()
}

// percentiles9599 are the percentiles p95p99 asks for.
var percentiles9599 = []float64{95, 99}

// addKnown adds two counts where -1 means unknown.
func addKnown(a, b int64) int64 {
	if a < 0 || b < 0 {
		return -1
	}
	return a + b
}
