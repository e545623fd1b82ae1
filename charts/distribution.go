package charts

import (
	"fmt"

	ec "github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
)

// distributionChart is the HDR percentile plot of each request's whole-run
// latency: x is 1/(1-q) on a log axis labelled as percentiles (2 = 50%,
// 10 = 90%, 100 = 99%, 1000 = 99.9%), y is latency on a log axis. The tail
// that averages hide is the right-hand side. It returns nil when no request
// has a histogram.
func distributionChart(r *run) (*ec.Line, error) {
	c := ec.NewLine()
	maxX := 10.0
	var drawn bool
	for _, t := range r.res.Requests {
		pts, err := percentileCurve(t.Latency.Hist)
		if err != nil {
			return nil, fmt.Errorf("latency distribution of %q: %w", t.Name, err)
		}
		if len(pts) == 0 {
			continue
		}
		if x := pts[len(pts)-1].X; x > maxX {
			maxX = x
		}
		so := []ec.SeriesOpts{
			ec.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false), Symbol: "none"}),
			ec.WithLineStyleOpts(opts.LineStyle{Width: 1.5}),
		}
		if !drawn {
			marks := []markLine{
				vline("p50", 2, "#888888", true), vline("p90", 10, "#888888", true),
				vline("p99", 100, "#888888", true), vline("p95", 20, "#fc8452", true),
			}
			if p95 := r.res.Plan.SLO.P95; p95 > 0 {
				marks = append(marks, hline("SLO p95 ≤ "+fmtMs(p95.Seconds()*1000), p95.Seconds()*1000, colorSLO))
			}
			so = append(so, withMarkLines(marks...))
		}
		drawn = true
		data := make([]opts.LineData, len(pts))
		for i, p := range pts {
			data[i] = opts.LineData{Value: []any{p.X, p.Y}}
		}
		c.AddSeries(t.Name, data, so...)
	}
	if !drawn {
		return nil, nil
	}
	c.SetGlobalOptions(append(baseOpts(IDDistrib),
		ec.WithXAxisOpts(opts.XAxis{
			Type: "log", Name: "percentile", NameLocation: "middle", NameGap: 30, Min: 1, Max: maxX,
			AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), Formatter: fmtPctJS, ShowMaxLabel: opts.Bool(false)},
			SplitLine: &opts.SplitLine{Show: opts.Bool(true)},
		}),
		ec.WithYAxisOpts(msAxis("latency (log)", true)),
	)...)
	return c, nil
}
