package charts

import (
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/spikeload/spike/analysis"
	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/hist"
	"github.com/spikeload/spike/scenarios"
)

// Down-sampling budgets. A chart draws at most maxPoints points per series
// (a 1-hour run at 1 s windows has 3,600), which is more than a 1,100-pixel
// wide chart can show apart, and keeps a long run's page small.
const (
	maxPoints      = 800
	maxKneePoints  = 600
	maxSpans       = 120
	maxTimingLines = 10
)

// run is what the charts and tables read: the result, its analysis (nil when
// not analysed) and a few lookups made once.
type run struct {
	res *engine.Result
	a   *analysis.Analysis
	// layerOf maps a request name to its attributed layer (analysed runs).
	layerOf map[string]string
	// expect maps a request name to the statuses that count as success.
	expect map[string]*scenarios.Request
	// duration is the run's time axis length, in seconds.
	duration float64
}

func newRun(res *engine.Result, a *analysis.Analysis) *run {
	r := &run{res: res, a: a, layerOf: map[string]string{}, expect: map[string]*scenarios.Request{}}
	for _, ri := range res.Plan.Requests {
		r.expect[ri.Name] = &scenarios.Request{Expect: ri.Expect}
		if ri.Layer != "" {
			r.layerOf[ri.Name] = ri.Layer
		}
	}
	if a != nil {
		for _, rr := range a.Requests {
			if rr.Layer != "" {
				r.layerOf[rr.Name] = rr.Layer
			}
		}
	}
	if n := len(res.Windows); n > 0 {
		r.duration = secs(res.Windows[n-1].End)
	}
	if d := secs(res.Plan.Duration); d > r.duration {
		r.duration = d
	}
	return r
}

// secs converts a duration to seconds.
func secs(d time.Duration) float64 { return d.Seconds() }

// windowSecs returns a window's length in seconds (the plan's window length
// when the window has none).
func (r *run) windowSecs(w *engine.Window) float64 {
	if d := secs(w.End - w.Start); d > 0 {
		return d
	}
	if d := secs(r.res.Plan.Window); d > 0 {
		return d
	}
	return 1
}

// baseline is the plan's baseline rate, in unit (0 when none).
func (r *run) baseline() float64 { return r.res.Plan.Baseline }

// unit is the unit of the plan's rates: req/s, or visitors/s for journeys.
func (r *run) unit() string {
	if r.journeys() {
		return "visitors/s"
	}
	return r.res.Plan.RateUnit()
}

// rate formats a rate of the plan (planned, breakpoint, capacity) in its
// unit, with its multiple of the baseline.
func (r *run) rate(v float64) string { return fmtRateIn(v, r.baseline(), r.unit()) }

// journeys reports whether the run sent journeys (its curve is arrivals).
func (r *run) journeys() bool { return len(r.res.Journeys) > 0 || len(r.res.Plan.Journeys) > 0 }

// windowSeries returns one value per window, as points at the window's start,
// skipping windows where f reports no value, down-sampled with LTTB.
func (r *run) windowSeries(f func(w *engine.Window) (float64, bool)) []point {
	pts := make([]point, 0, len(r.res.Windows))
	for i := range r.res.Windows {
		w := &r.res.Windows[i]
		if v, ok := f(w); ok {
			pts = append(pts, point{secs(w.Start), v})
		}
	}
	return lttb(pts, maxPoints)
}

// checkSeries is windowSeries over the analysis' window checks.
func (r *run) checkSeries(f func(c *analysis.WindowCheck) (float64, bool)) []point {
	if r.a == nil {
		return nil
	}
	pts := make([]point, 0, len(r.a.Windows))
	for i := range r.a.Windows {
		c := &r.a.Windows[i]
		if v, ok := f(c); ok {
			pts = append(pts, point{c.AtMs / 1000, v})
		}
	}
	return lttb(pts, maxPoints)
}

// buckets groups the windows into at most maxPoints consecutive runs of
// equal size, for series that must share x values (stacked ones). It
// returns each bucket's first window index; bucket i spans windows
// [b[i], b[i+1]).
func (r *run) buckets() []int {
	n := len(r.res.Windows)
	per := (n + maxPoints - 1) / maxPoints
	if per < 1 {
		per = 1
	}
	var b []int
	for i := 0; i < n; i += per {
		b = append(b, i)
	}
	return b
}

// bucketRates sums f over each bucket of windows and divides by the bucket's
// length, giving a per-second rate at the bucket's start.
func (r *run) bucketRates(b []int, f func(w *engine.Window) float64) []point {
	pts := make([]point, 0, len(b))
	for k, lo := range b {
		hi := len(r.res.Windows)
		if k+1 < len(b) {
			hi = b[k+1]
		}
		var sum, dur float64
		for i := lo; i < hi; i++ {
			w := &r.res.Windows[i]
			sum += f(w)
			dur += r.windowSecs(w)
		}
		if dur > 0 {
			pts = append(pts, point{secs(r.res.Windows[lo].Start), sum / dur})
		}
	}
	return pts
}

// span is a shaded stretch of the time axis, in seconds.
type span struct{ From, To float64 }

// spans returns the stretches of consecutive windows for which flag is true.
// When there are more than maxSpans, the closest neighbours are joined (the
// gap allowed doubles until they fit), so a flickering hour stays readable
// and light.
func (r *run) spans(flag func(i int) bool) []span {
	var out []span
	ws := r.res.Windows
	for i := 0; i < len(ws); i++ {
		if !flag(i) {
			continue
		}
		j := i
		for j+1 < len(ws) && flag(j+1) {
			j++
		}
		out = append(out, span{secs(ws[i].Start), secs(ws[j].Start) + r.windowSecs(&ws[j])})
		i = j
	}
	for gap := r.windowSecs(&engine.Window{}); len(out) > maxSpans; gap *= 2 {
		merged := out[:1]
		for _, s := range out[1:] {
			last := &merged[len(merged)-1]
			if s.From-last.To <= gap {
				last.To = s.To
				continue
			}
			merged = append(merged, s)
		}
		out = merged
	}
	return out
}

// failedSpans are the windows whose overall check failed the SLO.
func (r *run) failedSpans() []span {
	if r.a == nil {
		return nil
	}
	byIndex := make(map[int]bool, len(r.a.Windows))
	for _, c := range r.a.Windows {
		if c.Overall.Status == analysis.StatusFail {
			byIndex[c.Index] = true
		}
	}
	return r.spans(func(i int) bool { return byIndex[r.res.Windows[i].Index] })
}

// boundSpans are the windows where the generator fell behind.
func (r *run) boundSpans() []span {
	return r.spans(func(i int) bool { return r.res.Windows[i].GeneratorBound })
}

// layers returns the layers to chart, in the analysis' order (broken layers
// first, in breakage order).
func (r *run) layers() []analysis.LayerReport {
	if r.a == nil {
		return nil
	}
	return r.a.Layers
}

// statusClass names an HTTP status's class: "5xx".
func statusClass(code string) string {
	if n, err := strconv.Atoi(code); err == nil && n >= 100 && n < 600 {
		return strconv.Itoa(n/100) + "xx"
	}
	return "other status"
}

// isErrorStatus reports whether a response with status code counted as a
// failure for the named request (the scenario's expect list, else
// anything outside 2xx and 3xx).
func (r *run) isErrorStatus(name, code string) bool {
	n, err := strconv.Atoi(code)
	if err != nil {
		return true
	}
	if req := r.expect[name]; req != nil {
		return !req.OK(n)
	}
	return n < 200 || n >= 400
}

// percentileCurve returns the latency (ms) at percentiles spread evenly on a
// log scale of 1/(1-q), from the minimum to the highest percentile the
// sample count supports, from an encoded whole-run histogram (µs). x is
// 1/(1-q), so 2 is the median, 10 the 90th percentile, 1000 the 99.9th.
func percentileCurve(enc string) ([]point, error) {
	h, err := hist.Decode(enc)
	if err != nil {
		return nil, err
	}
	n := h.Total()
	if n == 0 {
		return nil, nil
	}
	// Past 1/(1-q) = n every percentile is the maximum; stop there.
	top := math.Max(2, math.Min(float64(n), 1e6))
	const perDecade = 24
	steps := int(math.Ceil(math.Log10(top) * perDecade))
	pts := make([]point, 0, steps+1)
	for k := 0; k <= steps; k++ {
		x := math.Pow(10, float64(k)/perDecade)
		if x > top {
			x = top
		}
		q := 100 * (1 - 1/x)
		v := float64(h.ValueAt(q)) / 1000
		if v <= 0 {
			continue
		}
		pts = append(pts, point{sig4(x), sig4(v)})
	}
	return pts, nil
}

// sortByX sorts points by x (stable), for scatter down-sampling.
func sortByX(pts []point) {
	sort.SliceStable(pts, func(i, j int) bool { return pts[i].X < pts[j].X })
}
