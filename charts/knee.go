package charts

import (
	ec "github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/spikeload/spike/analysis"
	"github.com/spikeload/spike/engine"
)

// The knee charts plot every window at its planned rate: the x axis is load,
// not time, so the rate where latency turns up or success turns down reads
// off directly. Each window is one dot per layer (analysed runs) plus one for
// the whole target; dots are sorted by rate and down-sampled with LTTB.

const nameAll = "all requests"

// kneeAxis is the planned-rate x axis.
func kneeAxis(r *run) opts.XAxis {
	return opts.XAxis{
		Type: "value", Name: "planned rate (" + r.unit() + ")", NameLocation: "middle", NameGap: 30, Scale: opts.Bool(true),
		AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), HideOverlap: opts.Bool(true)},
		SplitLine: &opts.SplitLine{Show: opts.Bool(false)},
	}
}

// rateLines mark the breakpoint and the capacity on a planned-rate axis.
func rateLines(r *run) []markLine {
	if r.a == nil {
		return nil
	}
	var ls []markLine
	if c := r.a.Verdict.Capacity; c != nil {
		ls = append(ls, vline("capacity "+fmtPointRate(c, r.baseline()), c.RateRPS, colorCapacity, true))
	}
	if b := r.a.Verdict.Breakpoint; b != nil {
		ls = append(ls, vline("breakpoint "+fmtPointRate(b, r.baseline()), b.RateRPS, colorBreak, false))
	}
	return ls
}

// kneeSeries returns, for the whole target and for each layer, the points
// (planned rate, f(check)) over the windows with responses.
func kneeSeries(r *run, all func(w *engine.Window) (float64, bool), layer func(c analysis.Check) (float64, bool)) (names []string, series [][]point) {
	var pts []point
	for i := range r.res.Windows {
		w := &r.res.Windows[i]
		if v, ok := all(w); ok {
			pts = append(pts, point{w.PlannedRate, v})
		}
	}
	names = append(names, nameAll)
	series = append(series, pts)
	for _, l := range r.layers() {
		var lp []point
		for i := range r.a.Windows {
			c := &r.a.Windows[i]
			if chk, ok := c.Layers[l.Layer]; ok && chk.Count > 0 {
				if v, ok := layer(chk); ok {
					lp = append(lp, point{c.PlannedRPS, v})
				}
			}
		}
		names = append(names, l.Layer)
		series = append(series, lp)
	}
	for i := range series {
		sortByX(series[i])
		series[i] = lttb(series[i], maxKneePoints)
	}
	return names, series
}

// addKneeSeries adds scatter series, the first carrying marks.
func addKneeSeries(c *ec.Scatter, names []string, series [][]point, marks []markLine) {
	for i, name := range names {
		col := colorOverall
		size := 5
		if name != nameAll {
			col = layerColor(name)
			size = 4
		}
		so := []ec.SeriesOpts{
			ec.WithScatterChartOpts(opts.ScatterChart{SymbolSize: size}),
			ec.WithItemStyleOpts(opts.ItemStyle{Color: col, Opacity: opts.Float(0.75)}),
		}
		if i == 0 {
			so = append(so, withMarkLines(marks...))
		}
		c.AddSeries(name, scatterData(series[i]), so...)
	}
}

// kneeLatencyChart plots p95 latency against planned rate, per layer, on a
// log axis, with the SLO's p95 limit, the capacity and the breakpoint.
func kneeLatencyChart(r *run) *ec.Scatter {
	c := ec.NewScatter()
	c.SetGlobalOptions(append(baseOpts(IDKneeLatency),
		ec.WithXAxisOpts(kneeAxis(r)),
		ec.WithYAxisOpts(msAxis("p95 latency (log)", true)),
	)...)
	names, series := kneeSeries(r,
		func(w *engine.Window) (float64, bool) {
			v := w.Latency.P95.Seconds() * 1000
			return v, w.Latency.Count > 0 && v > 0
		},
		func(chk analysis.Check) (float64, bool) { return chk.P95Ms, chk.P95Ms > 0 })
	marks := rateLines(r)
	if p95 := r.res.Plan.SLO.P95; p95 > 0 {
		marks = append(marks, hline("SLO p95 ≤ "+fmtMs(p95.Seconds()*1000), p95.Seconds()*1000, colorSLO))
	}
	addKneeSeries(c, names, series, marks)
	return c
}

// kneeSuccessChart plots the share of successful responses against planned
// rate, per layer, with the SLO's error-rate limit as a line.
func kneeSuccessChart(r *run) *ec.Scatter {
	c := ec.NewScatter()
	c.SetGlobalOptions(append(baseOpts(IDKneeSuccess),
		ec.WithXAxisOpts(kneeAxis(r)),
		ec.WithYAxisOpts(opts.YAxis{Type: "value", Name: "successful responses", NameLocation: "middle", NameGap: 56,
			Min: 0, Max: 100, AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), Formatter: "{value}%"}}),
	)...)
	names, series := kneeSeries(r,
		func(w *engine.Window) (float64, bool) {
			n := w.OK + w.Errors
			return 100 * float64(w.OK) / float64(max(n, 1)), n > 0
		},
		func(chk analysis.Check) (float64, bool) { return 100 * (1 - chk.ErrorRate()), true })
	marks := rateLines(r)
	if er := r.res.Plan.SLO.ErrorRate; er > 0 {
		marks = append(marks, hline("SLO ≥ "+fmtPct(1-er)+" success", 100*(1-er), colorSLO))
	}
	addKneeSeries(c, names, series, marks)
	return c
}
