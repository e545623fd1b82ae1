package charts

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	ec "github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/scenarios"
)

// The funnel's colours: visitors who went on, left at a step (it failed),
// or were still in their session when the run ended.
const (
	colorWentOn     = "#5470c6"
	colorAbandoned  = "#ee6666"
	colorUnfinished = "#b6bcc6"
	colorStarted    = "#2f4554"
	colorCompleted  = "#3ba272"
	colorRefused    = "#545454"
)

// maxAbandonSeries bounds the "left at …" series of the journeys-over-time
// chart: the steps where most visitors left; the rest are summed.
const maxAbandonSeries = 6

// funnelStep is one bar of the funnel: a step of a journey and what became
// of the visitors who reached it.
type funnelStep struct {
	journey, step string
	reached       uint64
	wentOn        uint64 // reached the next step, or completed after the last
	abandoned     uint64 // the step failed: the session ended here
	unfinished    uint64 // neither: the run ended before their next step
}

// funnel returns the steps of every journey in order.
func funnel(r *run) []funnelStep {
	var out []funnelStep
	for _, j := range r.res.Journeys {
		out = append(out, funnelOf(j)...)
	}
	return out
}

// funnelOf returns the steps of journey j in order.
func funnelOf(j engine.JourneyTotal) []funnelStep {
	out := make([]funnelStep, 0, len(j.Steps))
	for k, name := range j.Steps {
		s := funnelStep{journey: j.Name, step: strings.TrimPrefix(name, j.Name+"/")}
		s.reached = at(j.Reached, k)
		s.abandoned = at(j.Abandoned, k)
		if k+1 < len(j.Steps) {
			s.wentOn = at(j.Reached, k+1)
		} else {
			s.wentOn = j.Completed
		}
		if s.abandoned+s.wentOn < s.reached {
			s.unfinished = s.reached - s.abandoned - s.wentOn
		}
		out = append(out, s)
	}
	return out
}

// at returns xs[i], or 0 past its end.
func at(xs []uint64, i int) uint64 {
	if i < len(xs) {
		return xs[i]
	}
	return 0
}

// funnelChart draws, for every step of every journey (top to bottom, in
// order), how many visitors reached it: those who went on, those who left
// there because the step failed, and those the run's end cut short.
func funnelChart(r *run) *ec.Bar {
	steps := funnel(r)
	labels := make([]string, len(steps))
	var on, left, cut []opts.BarData
	for i, s := range steps {
		labels[i] = s.journey + " · " + strconv.Itoa(stepNumber(steps, i)) + ". " + s.step
		on = append(on, opts.BarData{Value: s.wentOn})
		left = append(left, opts.BarData{Value: s.abandoned})
		cut = append(cut, opts.BarData{Value: s.unfinished})
	}
	c := ec.NewBar()
	c.SetGlobalOptions(append(baseOpts(IDFunnel),
		ec.WithXAxisOpts(opts.XAxis{Type: "value", Name: "visitors", NameLocation: "middle", NameGap: 26,
			AxisLabel: &opts.AxisLabel{Show: opts.Bool(true)}}),
		ec.WithYAxisOpts(opts.YAxis{Type: "category", Inverse: opts.Bool(true),
			AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), Interval: "0"}}),
	)...)
	// The step names are the y axis' labels: the grid makes room for them
	// (WithGridOpts would add a second grid to baseOpts' one).
	c.GridList = []opts.Grid{{Left: "16", Right: "48", Top: "44", Bottom: "40", ContainLabel: opts.Bool(true)}}
	c.SetXAxis(labels).XYReversal()
	bar := func(color string) []ec.SeriesOpts {
		return []ec.SeriesOpts{
			ec.WithBarChartOpts(opts.BarChart{Stack: "visitors", BarCategoryGap: "35%"}),
			ec.WithItemStyleOpts(opts.ItemStyle{Color: color}),
		}
	}
	c.AddSeries("went on", on, bar(colorWentOn)...)
	c.AddSeries("left here (the step failed)", left, bar(colorAbandoned)...)
	c.AddSeries("still in session at the end", cut, bar(colorUnfinished)...)
	return c
}

// stepNumber is the 1-based position of steps[i] in its journey.
func stepNumber(steps []funnelStep, i int) int {
	n := 1
	for k := i - 1; k >= 0 && steps[k].journey == steps[i].journey; k-- {
		n++
	}
	return n
}

// journeysTimeChart draws, per window of arrival, the visitors/s who
// started a session, completed it, and left at each step (stacked), summed
// over the journeys. A window's visitors are counted where they arrived,
// whenever their steps ran, so the chart reads "of those who came at 0:40,
// how many made it".
func journeysTimeChart(r *run) *ec.Line {
	c := ec.NewLine()
	c.SetGlobalOptions(append(baseOpts(IDJourneys),
		ec.WithXAxisOpts(timeAxis(r)),
		ec.WithYAxisOpts(opts.YAxis{Type: "value", Name: "visitors/s", NameLocation: "middle", NameGap: 56,
			AxisLabel: &opts.AxisLabel{Show: opts.Bool(true)}}),
	)...)
	sum := func(f func(j *engine.WindowJourney) uint64) func(w *engine.Window) float64 {
		return func(w *engine.Window) float64 {
			var n uint64
			for _, j := range w.Journeys {
				if j != nil {
					n += f(j)
				}
			}
			return float64(n)
		}
	}
	b := r.buckets()
	stacked := func(label, color string, f func(w *engine.Window) float64) {
		c.AddSeries(label, lineData(r.bucketRates(b, f)), append(lineStyle(color, 1, false),
			ec.WithLineChartOpts(opts.LineChart{Stack: "visitors", ShowSymbol: opts.Bool(false), Symbol: "none"}),
			ec.WithAreaStyleOpts(opts.AreaStyle{Color: color, Opacity: opts.Float(0.5)}))...)
	}
	stacked("completed", colorCompleted, sum(func(j *engine.WindowJourney) uint64 { return j.Completed }))
	// Where visitors left, the steps that lost the most first.
	type leave struct {
		journey string
		step    int
		name    string
		total   uint64
	}
	var leaves []leave
	for _, j := range r.res.Journeys {
		for k, name := range j.Steps {
			if n := at(j.Abandoned, k); n > 0 {
				leaves = append(leaves, leave{j.Name, k, j.Name + "/" + strings.TrimPrefix(name, j.Name+"/"), n})
			}
		}
	}
	sort.SliceStable(leaves, func(a, b int) bool { return leaves[a].total > leaves[b].total })
	shown := leaves
	if len(shown) > maxAbandonSeries {
		shown = leaves[:maxAbandonSeries-1]
	}
	palette := []string{"#ee6666", "#fc8452", "#fac858", "#9a60b4", "#ea7ccc", "#c23531"}
	for i, l := range shown {
		stacked("left at "+l.name, palette[i%len(palette)], func(w *engine.Window) float64 {
			if j := w.Journeys[l.journey]; j != nil {
				return float64(at(j.Abandoned, l.step))
			}
			return 0
		})
	}
	if rest := leaves[len(shown):]; len(rest) > 0 {
		stacked(fmt.Sprintf("left at %d other steps", len(rest)), "#91a0b4", func(w *engine.Window) float64 {
			var n uint64
			for _, l := range rest {
				if j := w.Journeys[l.journey]; j != nil {
					n += at(j.Abandoned, l.step)
				}
			}
			return float64(n)
		})
	}
	stacked("still in session at the end", colorUnfinished, sum(func(j *engine.WindowJourney) uint64 { return j.Unfinished }))
	started := r.bucketRates(b, sum(func(j *engine.WindowJourney) uint64 { return j.Started }))
	c.AddSeries("started", lineData(started), append(lineStyle(colorStarted, 2, false), withMarkLines(eventLines(r)...))...)
	if refused := r.bucketRates(b, sum(func(j *engine.WindowJourney) uint64 { return j.Refused })); anyAbove(refused, 0) {
		c.AddSeries("not started (max_sessions reached)", lineData(refused), lineStyle(colorRefused, 1.5, true)...)
	}
	shadeSeries(c, r)
	return c
}

// anyAbove reports whether some point's y is above v.
func anyAbove(pts []point, v float64) bool {
	for _, p := range pts {
		if p.Y > v {
			return true
		}
	}
	return false
}

// funnelTable lists each journey's visitors and each step's reach.
func funnelTable(r *run) table {
	t := table{ID: "table-funnel", Empty: "No visitor arrived.",
		Headers: []string{"Journey", "Step", "Reached", "Of started", "Left here", "Still in session at the end", "Session duration"}}
	for _, j := range r.res.Journeys {
		started := txt("started")
		if j.Refused > 0 {
			started.Note = fmt.Sprintf("%d more not started: max_sessions reached (spike's limit, not the target's)", j.Refused)
		}
		dur := "—"
		if j.Duration.Count > 0 {
			dur = "p50 " + fmtDur(j.Duration.P50) + ", p95 " + fmtDur(j.Duration.P95) + " (completed)"
		}
		t.Rows = append(t.Rows, []cell{code(j.Name), started, num(strconv.FormatUint(j.Started, 10)), num("100%"),
			txt(""), num(strconv.FormatUint(j.Unfinished, 10)), txt(dur)})
		for _, s := range funnelOf(j) {
			t.Rows = append(t.Rows, []cell{txt(""), code(s.step), num(strconv.FormatUint(s.reached, 10)),
				num(share(s.reached, j.Started)), num(countShare(s.abandoned, s.reached)), num(strconv.FormatUint(s.unfinished, 10)), txt("")})
		}
		t.Rows = append(t.Rows, []cell{txt(""), txt("completed"), num(strconv.FormatUint(j.Completed, 10)),
			num(share(j.Completed, j.Started)), txt(""), txt(""), txt("")})
	}
	return t
}

// share formats n/of as a percentage ("—" when of is 0).
func share(n, of uint64) string {
	if of == 0 {
		return "—"
	}
	return fmtPct(float64(n) / float64(of))
}

// countShare formats n with its share of of: "12 (4.0%)"; "0" alone.
func countShare(n, of uint64) string {
	if n == 0 || of == 0 {
		return strconv.FormatUint(n, 10)
	}
	return fmt.Sprintf("%d (%s)", n, fmtPct(float64(n)/float64(of)))
}

// sendingText says how the run's traffic left: the arrival process and the
// mix ("even arrivals, random mix"); "" for a result that predates them.
func sendingText(p engine.PlanInfo) string {
	if p.Options.Arrivals == "" && p.Options.Mix == "" {
		return ""
	}
	a := p.Options.Arrivals
	if a == "" {
		a = scenarios.ArrivalsEven
	}
	s := a + " arrivals"
	if p.Options.Mix != "" {
		s += ", " + p.Options.Mix + " mix"
	}
	return s
}

// arrivalsText explains options.arrivals for the run table.
func arrivalsText(a string) string {
	switch a {
	case scenarios.ArrivalsPoisson:
		return "poisson: random gaps, each window's planned count (realistic bursts)"
	case scenarios.ArrivalsEven, "":
		return "even: exactly even spacing along the curve (reproducible)"
	}
	return a
}

// mixText explains options.mix for the run table.
func mixText(m string, journeys bool) string {
	what := "each request's kind"
	if journeys {
		what = "each visitor's journey"
	}
	switch m {
	case scenarios.MixRandom:
		return "random: " + what + " drawn by weight from the seed"
	case scenarios.MixInterleaved:
		return "interleaved: " + what + " in exact shares, spread evenly (reproducible)"
	case "":
		return "—"
	}
	return m
}

// journeysText lists the journeys with their share of arrivals and steps.
func journeysText(js []engine.JourneyInfo) string {
	var parts []string
	for _, j := range js {
		parts = append(parts, fmt.Sprintf("%s %s (%d steps)", j.Name, fmtPct(j.Share), len(j.Steps)))
	}
	return dash(strings.Join(parts, "; "))
}
