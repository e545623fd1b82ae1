package analysis

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/spikeload/spike/engine"
)

// Noise floors of a comparison: smaller changes are never a regression nor
// an improvement, whatever their relative size.
const (
	// MinP95RegressionMs is the smallest p95 change that counts, in ms:
	// jitter on a sub-millisecond endpoint is not a regression.
	MinP95RegressionMs = 5.0
	// MinErrorRateRegression is the smallest error-rate change that counts
	// (half a percentage point).
	MinErrorRateRegression = 0.005
)

// Units of a Metric.
const (
	UnitRPS   = "req/s"
	UnitMs    = "ms"
	UnitRatio = "ratio"
)

// Metric names, stable keys of a Comparison.
const (
	MetricCapacity   = "capacity"
	MetricBreakpoint = "breakpoint"
	MetricP95        = "p95_at_baseline"
	MetricErrorRate  = "error_rate_at_baseline"
)

// Trend is which way a metric moved between two runs.
type Trend string

// Trends. A change within the threshold (and the noise floors) is "same";
// TrendNone means the metric cannot be compared (missing on a side).
const (
	TrendBetter Trend = "better"
	TrendWorse  Trend = "worse"
	TrendSame   Trend = "same"
	TrendNone   Trend = ""
)

// CompareVerdict is the outcome of a comparison.
type CompareVerdict string

// Comparison verdicts. Inconclusive wins over the others: when either run
// was inconclusive (spike could not send the load, the target was
// unreachable, nothing could be judged) its figures prove nothing.
const (
	CompareRegressed    CompareVerdict = "regressed"
	CompareImproved     CompareVerdict = "improved"
	CompareUnchanged    CompareVerdict = "unchanged"
	CompareInconclusive CompareVerdict = "inconclusive"
)

// Metric is one figure of two runs, and how it moved. Rates are req/s,
// latencies ms, error rates fractions (Unit says which).
type Metric struct {
	// Name is the stable key (MetricCapacity, …) and Label its words.
	Name  string `json:"name"`
	Label string `json:"label"`
	Unit  string `json:"unit"`
	// HigherIsBetter is true for rates (capacity, breakpoint), false for
	// latency and errors.
	HigherIsBetter bool `json:"higher_is_better"`
	// Old and New are the figures; nil when the run has none, and Absent
	// says what that means ("no break", "unknown").
	Old    *float64 `json:"old,omitempty"`
	New    *float64 `json:"new,omitempty"`
	Absent string   `json:"absent,omitempty"`
	// Delta is New − Old and Change Delta / Old (0 when a side is missing or
	// Old is 0).
	Delta  float64 `json:"delta"`
	Change float64 `json:"change"`
	// Trend is better, worse or same past the comparison's threshold and
	// the noise floors; "" when the metric cannot be compared.
	Trend Trend `json:"trend"`
}

// Regressed reports whether the metric got worse past the threshold.
func (m Metric) Regressed() bool { return m.Trend == TrendWorse }

// ValueText formats one side of the metric: "120 req/s", "12 ms", "0.4%",
// or its Absent text when v is nil.
func (m Metric) ValueText(v *float64) string {
	if v == nil {
		if m.Absent != "" {
			return m.Absent
		}
		return "-"
	}
	switch m.Unit {
	case UnitRPS:
		return fmtRate(*v) + " req/s"
	case UnitMs:
		return fmtMs(*v)
	case UnitRatio:
		return fmtPct(*v)
	}
	return fmt.Sprint(*v)
}

// DeltaText formats the change: "+25%" (relative), "+0.6 pts" for error
// rates from zero, "" when not comparable.
func (m Metric) DeltaText() string {
	if m.Old == nil || m.New == nil {
		return ""
	}
	if *m.Old != 0 {
		return signedPct(m.Change)
	}
	switch {
	case m.Delta == 0:
		return "0%"
	case m.Unit == UnitRatio:
		return fmt.Sprintf("%+.1f pts", 100*m.Delta)
	case m.Unit == UnitMs:
		return "+" + fmtMs(m.Delta)
	}
	return "+" + fmtRate(m.Delta)
}

// text formats the metric: "120 req/s → 60 req/s (−50%)".
func (m Metric) text() string {
	s := m.ValueText(m.Old) + " → " + m.ValueText(m.New)
	if d := m.DeltaText(); d != "" {
		s += " (" + d + ")"
	}
	return s
}

func signedPct(f float64) string {
	p := 100 * f
	switch {
	case math.Abs(p) < 0.05:
		return "0%"
	case math.Abs(p) < 10:
		return fmt.Sprintf("%+.1f%%", p)
	}
	return fmt.Sprintf("%+.0f%%", p)
}

// RunInfo identifies one side of a comparison.
type RunInfo struct {
	Scenario string    `json:"scenario"`
	Target   string    `json:"target"`
	Started  time.Time `json:"started"`
	// Status and Headline are the run's verdict (inconclusive, too, when
	// the target was unreachable).
	Status      Status  `json:"status"`
	Headline    string  `json:"headline"`
	BaselineRPS float64 `json:"baseline_rps"`
	PeakRPS     float64 `json:"peak_rps"`
	Partial     bool    `json:"partial,omitempty"`
}

// Entry compares one request, or one layer, of two runs.
type Entry struct {
	Name string `json:"name"`
	// Layer is a request's attributed layer in the new run (else the old).
	Layer string `json:"layer,omitempty"`
	// Breakpoint is where it broke (nil: it did not), P95AtBaseline and
	// ErrorRateAtBaseline its figures at low load.
	Breakpoint          Metric `json:"breakpoint"`
	P95AtBaseline       Metric `json:"p95_at_baseline"`
	ErrorRateAtBaseline Metric `json:"error_rate_at_baseline"`
}

// Metrics returns the entry's metrics in display order.
func (e Entry) Metrics() []Metric {
	return []Metric{e.Breakpoint, e.P95AtBaseline, e.ErrorRateAtBaseline}
}

// Comparison is a run compared with an earlier one of the same scenario.
type Comparison struct {
	Old RunInfo `json:"old"`
	New RunInfo `json:"new"`
	// MaxRegression is the threshold: the relative change past which a
	// metric is worse (or better).
	MaxRegression float64 `json:"max_regression"`
	// The whole target: capacity and breakpoint (higher is better), p95 and
	// error rate at baseline (lower is better).
	Capacity            Metric `json:"capacity"`
	Breakpoint          Metric `json:"breakpoint"`
	P95AtBaseline       Metric `json:"p95_at_baseline"`
	ErrorRateAtBaseline Metric `json:"error_rate_at_baseline"`
	// Requests, in the new run's mix order (then requests only the old run
	// had), and Layers, in the canonical layer order.
	Requests []Entry `json:"requests"`
	Layers   []Entry `json:"layers"`
	// Verdict is regressed when any metric got worse past the threshold,
	// improved when none did and one got better, unchanged otherwise,
	// and inconclusive when either run was.
	Verdict CompareVerdict `json:"verdict"`
	// Regressions and Improvements say, one line each, what moved:
	// "capacity: 120 req/s → 60 req/s (−50%)", "request feed: p95 at baseline: …".
	Regressions  []string `json:"regressions,omitempty"`
	Improvements []string `json:"improvements,omitempty"`
	// Notes warn about comparing unlike runs (other scenario, baseline,
	// peak), partial or inconclusive runs.
	Notes []string `json:"notes,omitempty"`
}

// Metrics returns the whole target's metrics in display order.
func (c *Comparison) Metrics() []Metric {
	return []Metric{c.Capacity, c.Breakpoint, c.P95AtBaseline, c.ErrorRateAtBaseline}
}

// Regressed reports whether any metric got worse past the threshold.
func (c *Comparison) Regressed() bool { return len(c.Regressions) > 0 }

// Compare compares the run cur with the earlier run old: capacity,
// breakpoint, p95 and error rate at baseline, for the whole target, per
// request and per layer. A metric is worse when it moved the bad way
// (lower capacity or breakpoint, higher p95 or error rate) by more than
// maxRegression of its old value (0.1 for 10%), and by more than the noise
// floors MinP95RegressionMs and MinErrorRateRegression; breaking where the
// old run did not is worse, not breaking where it did is better. Both runs
// are analysed afresh with default Options. Compare does no I/O and does
// not modify its arguments.
func Compare(old, cur *engine.Result, maxRegression float64) Comparison {
	return compareAnalyses(old, Analyze(old, Options{}), cur, Analyze(cur, Options{}), maxRegression)
}

// compareAnalyses compares two analysed runs.
func compareAnalyses(oldR *engine.Result, oldA *Analysis, newR *engine.Result, newA *Analysis, maxReg float64) Comparison {
	maxReg = max(0, maxReg)
	c := Comparison{Old: runInfo(oldR, oldA), New: runInfo(newR, newA), MaxRegression: maxReg}
	cmp := comparer{maxReg: maxReg, oldPeak: c.Old.PeakRPS, newPeak: c.New.PeakRPS}

	capOf := func(a *Analysis, info RunInfo) *float64 {
		switch {
		case a.Verdict.Capacity != nil:
			return cmpPtr(a.Verdict.Capacity.RateRPS)
		case info.Status == StatusInconclusive:
			return nil
		}
		return cmpPtr(0) // judged, and never held the SLO
	}
	c.Capacity = cmp.metric(MetricCapacity, "capacity", UnitRPS, true, capOf(oldA, c.Old), capOf(newA, c.New), "unknown")
	c.Breakpoint = cmp.breakpoint(oldA.Verdict.Breakpoint, newA.Verdict.Breakpoint)
	c.P95AtBaseline = cmp.metric(MetricP95, "p95 at baseline", UnitMs, false, cmpKnown(oldA.Readiness.BaselineP95Ms), cmpKnown(newA.Readiness.BaselineP95Ms), "unknown")
	c.ErrorRateAtBaseline = cmp.metric(MetricErrorRate, "error rate at baseline", UnitRatio, false, baselineErrorRate(oldA), baselineErrorRate(newA), "unknown")

	// Requests: the new run's mix order, then requests only the old run had.
	oldReq := map[string]*RequestReport{}
	for k := range oldA.Requests {
		oldReq[oldA.Requests[k].Name] = &oldA.Requests[k]
	}
	seen := map[string]bool{}
	addReq := func(o, n *RequestReport) {
		name, layer := "", ""
		if o != nil {
			name, layer = o.Name, o.Layer
		}
		if n != nil {
			name, layer = n.Name, n.Layer
		}
		seen[name] = true
		e := Entry{Name: name, Layer: layer}
		e.Breakpoint = cmp.breakpoint(cmpReqPoint(o, func(r *RequestReport) *Point { return r.Broke }), cmpReqPoint(n, func(r *RequestReport) *Point { return r.Broke }))
		e.P95AtBaseline = cmp.metric(MetricP95, "p95 at baseline", UnitMs, false,
			cmpReqVal(o, func(r *RequestReport) *float64 { return cmpKnown(r.LowP95Ms) }),
			cmpReqVal(n, func(r *RequestReport) *float64 { return cmpKnown(r.LowP95Ms) }), "unknown")
		e.ErrorRateAtBaseline = cmp.metric(MetricErrorRate, "error rate at baseline", UnitRatio, false,
			cmpReqErr(oldA, o, func(r *RequestReport) float64 { return r.LowErrorRate }),
			cmpReqErr(newA, n, func(r *RequestReport) float64 { return r.LowErrorRate }), "unknown")
		if o == nil || n == nil {
			missing := "new"
			if o == nil {
				missing = "old"
			}
			c.Notes = append(c.Notes, fmt.Sprintf("request %s is only in one run (not in the %s one)", name, missing))
		}
		c.Requests = append(c.Requests, e)
	}
	for k := range newA.Requests {
		n := &newA.Requests[k]
		if !seen[n.Name] {
			addReq(oldReq[n.Name], n)
		}
	}
	for k := range oldA.Requests {
		if o := &oldA.Requests[k]; !seen[o.Name] {
			addReq(o, nil)
		}
	}

	// Layers, in canonical order, then any others by name.
	oldL, newL := cmpLayers(oldA), cmpLayers(newA)
	var layers []string
	for _, l := range []string{LayerDatabase, LayerBackend, LayerFrontend, LayerThirdParty, LayerAuth} {
		if oldL[l] != nil || newL[l] != nil {
			layers = append(layers, l)
		}
	}
	var other []string
	for _, m := range []map[string]*LayerReport{newL, oldL} {
		for l := range m {
			if !slices.Contains(layers, l) && !slices.Contains(other, l) {
				other = append(other, l)
			}
		}
	}
	slices.Sort(other)
	for _, l := range append(layers, other...) {
		o, n := oldL[l], newL[l]
		e := Entry{Name: l}
		e.Breakpoint = cmp.breakpoint(cmpLayerPoint(o), cmpLayerPoint(n))
		e.P95AtBaseline = cmp.metric(MetricP95, "p95 at baseline", UnitMs, false, cmpLayerVal(o, func(r *LayerReport) float64 { return r.LowP95Ms }, true), cmpLayerVal(n, func(r *LayerReport) float64 { return r.LowP95Ms }, true), "unknown")
		e.ErrorRateAtBaseline = cmp.metric(MetricErrorRate, "error rate at baseline", UnitRatio, false, cmpLayerErr(oldA, o), cmpLayerErr(newA, n), "unknown")
		c.Layers = append(c.Layers, e)
	}

	// What moved.
	collect := func(prefix string, ms []Metric) {
		for _, m := range ms {
			line := prefix + m.Label + ": " + m.text()
			switch m.Trend {
			case TrendWorse:
				c.Regressions = append(c.Regressions, line)
			case TrendBetter:
				c.Improvements = append(c.Improvements, line)
			}
		}
	}
	collect("", c.Metrics())
	for _, e := range c.Requests {
		collect("request "+e.Name+": ", e.Metrics())
	}
	for _, e := range c.Layers {
		collect("layer "+e.Name+": ", e.Metrics())
	}

	c.Notes = append(c.Notes, cmpUnlike(c.Old, c.New, oldR, newR)...)
	switch {
	case c.Old.Status == StatusInconclusive || c.New.Status == StatusInconclusive:
		c.Verdict = CompareInconclusive
		for _, side := range []struct {
			name string
			info RunInfo
		}{{"old", c.Old}, {"new", c.New}} {
			if side.info.Status == StatusInconclusive {
				c.Notes = append(c.Notes, fmt.Sprintf("the %s run was inconclusive (%s): its figures prove nothing", side.name, side.info.Headline))
			}
		}
	case len(c.Regressions) > 0:
		c.Verdict = CompareRegressed
	case len(c.Improvements) > 0:
		c.Verdict = CompareImproved
	default:
		c.Verdict = CompareUnchanged
	}
	return c
}

// runInfo describes one run.
func runInfo(r *engine.Result, a *Analysis) RunInfo {
	info := RunInfo{
		Scenario: r.Meta.Scenario, Target: r.Meta.Target, Started: r.Meta.Started,
		Status: a.Verdict.Status, Headline: a.Verdict.Headline,
		BaselineRPS: r.Plan.Baseline, PeakRPS: a.Verdict.PeakRPS, Partial: r.Meta.Partial,
	}
	if info.PeakRPS == 0 {
		info.PeakRPS = r.Plan.PeakRate
	}
	if down, why := targetUnreachable(r); down {
		info.Status, info.Headline = StatusInconclusive, why
	}
	return info
}

// unlike warns when the two runs planned different traffic.
func cmpUnlike(o, n RunInfo, oldR, newR *engine.Result) []string {
	var out []string
	if o.Scenario != n.Scenario {
		out = append(out, fmt.Sprintf("the runs are of different scenarios (%q, %q)", o.Scenario, n.Scenario))
	}
	differs := func(a, b float64) bool { return math.Abs(a-b) > 1e-6*max(math.Abs(a), math.Abs(b)) }
	if differs(o.BaselineRPS, n.BaselineRPS) {
		out = append(out, fmt.Sprintf("the baselines differ (%s, %s req/s): rates compare, multiples do not", fmtRate(o.BaselineRPS), fmtRate(n.BaselineRPS)))
	}
	if differs(o.PeakRPS, n.PeakRPS) {
		out = append(out, fmt.Sprintf("the planned peaks differ (%s, %s req/s): capacity and breakpoints are bounded by them", fmtRate(o.PeakRPS), fmtRate(n.PeakRPS)))
	}
	if oldR.Plan.Duration != newR.Plan.Duration && oldR.Plan.Duration > 0 && newR.Plan.Duration > 0 {
		out = append(out, fmt.Sprintf("the runs' lengths differ (%s, %s)", oldR.Plan.Duration, newR.Plan.Duration))
	}
	if o.Partial || n.Partial {
		out = append(out, "a run was interrupted: it is compared on the windows it recorded")
	}
	return out
}

// comparer builds metrics with one threshold.
type comparer struct {
	maxReg           float64
	oldPeak, newPeak float64
}

// metric compares two figures; absent says what a nil one means.
func (c comparer) metric(name, label, unit string, higherBetter bool, old, cur *float64, absent string) Metric {
	m := Metric{Name: name, Label: label, Unit: unit, HigherIsBetter: higherBetter, Old: old, New: cur, Absent: absent}
	if old == nil || cur == nil {
		return m
	}
	m.Delta = *cur - *old
	if *old != 0 {
		m.Change = m.Delta / *old
	}
	floor := 0.0
	switch unit {
	case UnitMs:
		floor = MinP95RegressionMs
	case UnitRatio:
		floor = MinErrorRateRegression
	}
	moved := math.Abs(m.Delta) > floor && (*old == 0 || math.Abs(m.Change) > c.maxReg)
	switch {
	case !moved:
		m.Trend = TrendSame
	case (m.Delta > 0) == higherBetter:
		m.Trend = TrendBetter
	default:
		m.Trend = TrendWorse
	}
	return m
}

// breakpoint compares two breakpoints; nil is "no break". A run that did
// not break held at least its planned peak, so a break in the other run is
// compared with that peak: breaking at 60 req/s where the old run held 100
// is a 40% drop. A break past the other run's peak cannot be compared.
func (c comparer) breakpoint(old, cur *Point) Metric {
	val := func(p *Point) *float64 {
		if p == nil {
			return nil
		}
		return cmpPtr(p.RateRPS)
	}
	m := c.metric(MetricBreakpoint, "breakpoint", UnitRPS, true, val(old), val(cur), "no break")
	switch {
	case old == nil && cur == nil:
		m.Trend = TrendSame
	case old == nil:
		if c.oldPeak > 0 && cur.RateRPS <= c.oldPeak*(1+ReachTolerance) {
			m.Trend = c.metric(MetricBreakpoint, "", UnitRPS, true, cmpPtr(c.oldPeak), cmpPtr(cur.RateRPS), "").Trend
		}
	case cur == nil:
		if c.newPeak > 0 && old.RateRPS <= c.newPeak*(1+ReachTolerance) {
			m.Trend = c.metric(MetricBreakpoint, "", UnitRPS, true, cmpPtr(old.RateRPS), cmpPtr(c.newPeak), "").Trend
		}
	}
	return m
}

// baselineErrorRate is the whole target's error rate at low load: windows
// planned at or below the analysis' low-load rate, not generator-bound, and
// before the first violation when those hold enough responses.
func baselineErrorRate(a *Analysis) *float64 {
	if a.Settings.LowLoadWindows == 0 {
		return nil
	}
	first := len(a.Windows)
	for k, wc := range a.Windows {
		if wc.Overall.Status == StatusFail {
			first = k
			break
		}
	}
	sum := func(end int) (n, e uint64) {
		for _, wc := range a.Windows[:end] {
			if wc.GeneratorBound || wc.PlannedRPS > a.Settings.LowLoadRPS*(1+1e-9) {
				continue
			}
			n += wc.Overall.Count
			e += wc.Overall.Errors
		}
		return n, e
	}
	n, e := sum(first)
	if n < uint64(max(1, a.Settings.MinSamples)) {
		n, e = sum(len(a.Windows))
	}
	if n == 0 {
		return nil
	}
	return cmpPtr(float64(e) / float64(n))
}

func cmpPtr(v float64) *float64 { return &v }

// positive returns &v, or nil when v is 0 (unknown).
func cmpKnown(v float64) *float64 {
	if v <= 0 {
		return nil
	}
	return cmpPtr(v)
}

func cmpReqPoint(r *RequestReport, f func(*RequestReport) *Point) *Point {
	if r == nil {
		return nil
	}
	return f(r)
}

func cmpReqVal(r *RequestReport, f func(*RequestReport) *float64) *float64 {
	if r == nil {
		return nil
	}
	return f(r)
}

// lowErr returns a request's low-load error rate, nil without low load.
func cmpReqErr(a *Analysis, r *RequestReport, f func(*RequestReport) float64) *float64 {
	if r == nil || a.Settings.LowLoadWindows == 0 {
		return nil
	}
	return cmpPtr(f(r))
}

func cmpLayers(a *Analysis) map[string]*LayerReport {
	out := map[string]*LayerReport{}
	for k := range a.Layers {
		out[a.Layers[k].Layer] = &a.Layers[k]
	}
	return out
}

func cmpLayerPoint(l *LayerReport) *Point {
	if l == nil {
		return nil
	}
	return l.Broke
}

func cmpLayerVal(l *LayerReport, f func(*LayerReport) float64, zeroUnknown bool) *float64 {
	if l == nil {
		return nil
	}
	if v := f(l); v > 0 || !zeroUnknown {
		return cmpPtr(v)
	}
	return nil
}

func cmpLayerErr(a *Analysis, l *LayerReport) *float64 {
	if l == nil || a.Settings.LowLoadWindows == 0 {
		return nil
	}
	return cmpPtr(l.LowErrorRate)
}

// String formats the comparison's verdict in one line: "regressed:
// capacity: 120 req/s → 60 req/s (−50%); …".
func (c *Comparison) String() string {
	switch c.Verdict {
	case CompareRegressed:
		return "regressed: " + strings.Join(c.Regressions, "; ")
	case CompareImproved:
		return "improved: " + strings.Join(c.Improvements, "; ")
	case CompareInconclusive:
		return "inconclusive: a run was inconclusive"
	}
	return "unchanged: nothing moved past " + fmtPct(c.MaxRegression)
}
