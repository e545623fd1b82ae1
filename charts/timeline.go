package charts

import (
	"fmt"
	"sort"

	ec "github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/spikeload/spike/analysis"
	"github.com/spikeload/spike/engine"
)

// Names of the shading series: they hold no data, only the shaded stretches,
// so the legend explains the shading and can hide it.
const (
	nameFailed = "SLO violated"
	nameBound  = "spike fell behind (generator-bound)"
)

// shadeSeries adds the empty series that carry the SLO-violation and
// generator-bound shading.
func shadeSeries(c *ec.Line, r *run) {
	if f := r.failedSpans(); len(f) > 0 {
		c.AddSeries(nameFailed, []opts.LineData{}, append(lineStyle("rgba(238,102,102,0.6)", 0, false),
			withShading(f, nameFailed, shadeFailed))...)
	}
	if b := r.boundSpans(); len(b) > 0 {
		c.AddSeries(nameBound, []opts.LineData{}, append(lineStyle("rgba(84,84,84,0.6)", 0, false),
			withShading(b, nameBound, shadeBound))...)
	}
}

// eventLines are the vertical marks of the run's story: the first break
// (the breakpoint), its recovery and the saturation knee.
func eventLines(r *run) []markLine {
	if r.a == nil {
		return nil
	}
	v := r.a.Verdict
	var ls []markLine
	if v.Breakpoint != nil {
		ls = append(ls, vline("break: "+fmtPointRate(v.Breakpoint, r.baseline()), v.Breakpoint.AtMs, colorBreak, false))
	}
	if v.Recovered != nil {
		ls = append(ls, vline("recovered", v.Recovered.AtMs, colorRecovered, true))
	}
	if v.Knee != nil {
		ls = append(ls, vline("knee", v.Knee.AtMs, colorKnee, true))
	}
	return ls
}

// throughputChart draws the planned rate, the rate sent and the successful
// rate over time, with the break marked, SLO-violating windows shaded red and
// generator-bound windows shaded grey.
func throughputChart(r *run) *ec.Line {
	c := ec.NewLine()
	c.SetGlobalOptions(append(baseOpts(IDThroughput),
		ec.WithXAxisOpts(timeAxis(r)),
		ec.WithYAxisOpts(opts.YAxis{Type: "value", Name: "req/s", NameLocation: "middle", NameGap: 56,
			AxisLabel: &opts.AxisLabel{Show: opts.Bool(true)}}),
	)...)
	planned := r.windowSeries(func(w *engine.Window) (float64, bool) { return w.PlannedRate, true })
	sent := r.windowSeries(func(w *engine.Window) (float64, bool) { return float64(w.Sent) / r.windowSecs(w), true })
	ok := r.windowSeries(func(w *engine.Window) (float64, bool) { return float64(w.OK) / r.windowSecs(w), true })
	var caps []markLine
	if r.a != nil && r.a.Verdict.Capacity != nil {
		caps = append(caps, hline("capacity "+fmtPointRate(r.a.Verdict.Capacity, r.baseline()), r.a.Verdict.Capacity.RateRPS, colorCapacity))
	}
	plannedOpts := append(lineStyle(colorPlanned, 2, true), withMarkLines(append(eventLines(r), caps...)...))
	plannedName := "planned"
	if r.journeys() {
		// The curve is arrivals: planned visitors/s on their own axis, on
		// the right, against the requests they send on the left.
		c.ExtendYAxis(opts.YAxis{Type: "value", Name: r.unit(), NameLocation: "middle", NameGap: 40, Position: "right",
			AxisLabel: &opts.AxisLabel{Show: opts.Bool(true)}, SplitLine: &opts.SplitLine{Show: opts.Bool(false)}})
		plannedOpts = append(plannedOpts, func(s *ec.SingleSeries) { s.YAxisIndex = 1 })
		plannedName = "planned arrivals (" + r.unit() + ", right)"
	}
	c.AddSeries(plannedName, lineData(planned), plannedOpts...)
	c.AddSeries("sent", lineData(sent), lineStyle(colorSent, 1.5, false)...)
	c.AddSeries("successful", lineData(ok), lineStyle(colorOK, 1.5, false)...)
	shadeSeries(c, r)
	return c
}

// latencyChart draws the whole target's p50, p95 and p99 over time on a log
// axis, with the SLO's limits as horizontal lines.
func latencyChart(r *run) *ec.Line {
	c := ec.NewLine()
	c.SetGlobalOptions(append(baseOpts(IDLatency),
		ec.WithXAxisOpts(timeAxis(r)),
		ec.WithYAxisOpts(msAxis("latency (log)", true)),
	)...)
	pick := func(f func(l *engine.LatencyStats) float64) []point {
		return r.windowSeries(func(w *engine.Window) (float64, bool) {
			v := f(&w.Latency)
			return v, w.Latency.Count > 0 && v > 0
		})
	}
	ms := func(d interface{ Seconds() float64 }) float64 { return d.Seconds() * 1000 }
	slo := r.res.Plan.SLO
	var limits []markLine
	if slo.P95 > 0 {
		limits = append(limits, hline("SLO p95 ≤ "+fmtMs(ms(slo.P95)), ms(slo.P95), colorSLO))
	}
	if slo.P99 > 0 {
		limits = append(limits, hline("SLO p99 ≤ "+fmtMs(ms(slo.P99)), ms(slo.P99), "#9a60b4"))
	}
	c.AddSeries("p50", lineData(pick(func(l *engine.LatencyStats) float64 { return ms(l.P50) })), lineStyle("#91cc75", 1.5, false)...)
	c.AddSeries("p95", lineData(pick(func(l *engine.LatencyStats) float64 { return ms(l.P95) })),
		append(lineStyle("#fc8452", 2, false), withMarkLines(append(limits, eventLines(r)...)...))...)
	c.AddSeries("p99", lineData(pick(func(l *engine.LatencyStats) float64 { return ms(l.P99) })), lineStyle("#ee6666", 1.5, false)...)
	shadeSeries(c, r)
	return c
}

// layersChart draws each layer's p95 over time (from the analysis' layer
// checks), with each layer's first crack (dashed) and break (solid) marked in
// its colour. It returns nil when the run was not analysed or has no layers.
func layersChart(r *run) *ec.Line {
	layers := r.layers()
	if len(layers) == 0 {
		return nil
	}
	c := ec.NewLine()
	c.SetGlobalOptions(append(baseOpts(IDLayers),
		ec.WithXAxisOpts(timeAxis(r)),
		ec.WithYAxisOpts(msAxis("p95 latency (log)", true)),
	)...)
	for i, l := range layers {
		name := l.Layer
		pts := r.checkSeries(func(w *analysis.WindowCheck) (float64, bool) {
			chk, ok := w.Layers[name]
			return chk.P95Ms, ok && chk.Count > 0 && chk.P95Ms > 0
		})
		col := layerColor(name)
		var marks []markLine
		if l.Cracked != nil {
			marks = append(marks, vline(name+" cracks", l.Cracked.AtMs, col, true))
		}
		if l.Broke != nil {
			label := name + " breaks"
			if l.Rank > 0 {
				label = fmt.Sprintf("#%d %s breaks", l.Rank, name)
			}
			marks = append(marks, vline(label, l.Broke.AtMs, col, false))
		}
		if i == 0 && r.res.Plan.SLO.P95 > 0 {
			marks = append(marks, hline("SLO p95", r.res.Plan.SLO.P95.Seconds()*1000, colorSLO))
		}
		c.AddSeries(name, lineData(pts), append(lineStyle(col, 2, false), withMarkLines(marks...))...)
	}
	shadeSeries(c, r)
	return c
}

// errorKindColors colour the stacked error series.
var errorKindColors = map[string]string{
	engine.KindTimeout: "#ee6666", engine.KindRefused: "#c23531", engine.KindReset: "#fc8452",
	engine.KindDNS: "#9a60b4", engine.KindTLS: "#ea7ccc", engine.KindOther: "#91a0b4",
	"5xx": "#d14a61", "4xx": "#fac858", "3xx": "#73c0de", "2xx": "#5470c6", "1xx": "#5470c6", "other status": "#999999",
}

// errorsChart draws failed requests per second over time, stacked by
// transport error kind and by HTTP status class. Windows are summed into
// equal buckets so the stacked series share their x values.
func errorsChart(r *run) *ec.Line {
	c := ec.NewLine()
	c.SetGlobalOptions(append(baseOpts(IDErrors),
		ec.WithXAxisOpts(timeAxis(r)),
		ec.WithYAxisOpts(opts.YAxis{Type: "value", Name: "failed req/s", NameLocation: "middle", NameGap: 56,
			AxisLabel: &opts.AxisLabel{Show: opts.Bool(true)}}),
	)...)
	// Which series exist, in display order: transport kinds, then classes.
	kinds := map[string]bool{}
	classes := map[string]bool{}
	for i := range r.res.Windows {
		for name, q := range r.res.Windows[i].Requests {
			for k, n := range q.ErrorKinds {
				if n > 0 {
					kinds[k] = true
				}
			}
			for code, n := range q.Statuses {
				if n > 0 && r.isErrorStatus(name, code) {
					classes[statusClass(code)] = true
				}
			}
		}
	}
	type errSeries struct {
		label string
		kind  bool // a transport error kind, else a status class
	}
	var series []errSeries
	for _, k := range engine.ErrorKinds() {
		if kinds[k] {
			series = append(series, errSeries{k, true})
			delete(kinds, k)
		}
	}
	for _, k := range sortedKeys(kinds) {
		series = append(series, errSeries{k, true})
	}
	for _, cl := range []string{"5xx", "4xx", "3xx", "2xx", "1xx", "other status"} {
		if classes[cl] {
			series = append(series, errSeries{cl, false})
		}
	}
	b := r.buckets()
	stacked := func(label string, f func(w *engine.Window) float64) {
		col, ok := errorKindColors[label]
		if !ok {
			col = "#91a0b4"
		}
		c.AddSeries(label, lineData(r.bucketRates(b, f)), append(lineStyle(col, 1, false),
			ec.WithLineChartOpts(opts.LineChart{Stack: "errors", ShowSymbol: opts.Bool(false), Symbol: "none"}),
			ec.WithAreaStyleOpts(opts.AreaStyle{Color: col, Opacity: opts.Float(0.55)}))...)
	}
	for _, s := range series {
		stacked(s.label, func(w *engine.Window) float64 {
			var n uint64
			for name, q := range w.Requests {
				if s.kind {
					n += q.ErrorKinds[s.label]
					continue
				}
				for code, k := range q.Statuses {
					if statusClass(code) == s.label && r.isErrorStatus(name, code) {
						n += k
					}
				}
			}
			return float64(n)
		})
	}
	if len(series) == 0 {
		// No failures: draw the zero line so the chart says so.
		stacked("errors", func(w *engine.Window) float64 { return float64(w.Errors) })
	}
	// The break, on the first series; the SLO and generator shading.
	withMarkLines(eventLines(r)...)(&c.MultiSeries[0])
	shadeSeries(c, r)
	return c
}

// timingChart draws the mean duration of each Server-Timing component over
// time, one line per request and component (the maxTimingLines with the most
// total time). It returns nil when no response carried Server-Timing.
func timingChart(r *run) *ec.Line {
	type key struct{ req, comp string }
	total := map[key]float64{}
	for i := range r.res.Windows {
		for name, q := range r.res.Windows[i].Requests {
			for comp, t := range q.Timing {
				if t != nil && t.WithDur > 0 {
					total[key{name, comp}] += t.SumMs
				}
			}
		}
	}
	if len(total) == 0 {
		return nil
	}
	keys := make([]key, 0, len(total))
	for k := range total {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if total[a] != total[b] {
			return total[a] > total[b]
		}
		if a.req != b.req {
			return a.req < b.req
		}
		return a.comp < b.comp
	})
	if len(keys) > maxTimingLines {
		keys = keys[:maxTimingLines]
	}
	c := ec.NewLine()
	c.SetGlobalOptions(append(baseOpts(IDTiming),
		ec.WithXAxisOpts(timeAxis(r)),
		ec.WithYAxisOpts(msAxis("mean duration", false)),
	)...)
	for i, k := range keys {
		pts := r.windowSeries(func(w *engine.Window) (float64, bool) {
			q := w.Requests[k.req]
			if q == nil {
				return 0, false
			}
			t := q.Timing[k.comp]
			if t == nil || t.WithDur == 0 {
				return 0, false
			}
			return t.MeanMs(), true
		})
		// Colours come from the palette: several lines may share a layer.
		dash := "solid"
		if i >= 5 {
			dash = "dashed"
		}
		so := []ec.SeriesOpts{
			ec.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false), Symbol: "none"}),
			ec.WithLineStyleOpts(opts.LineStyle{Width: 1.5, Type: dash}),
		}
		if i == 0 {
			so = append(so, withMarkLines(eventLines(r)...))
		}
		c.AddSeries(k.comp+" ("+k.req+")", lineData(pts), so...)
	}
	return c
}
