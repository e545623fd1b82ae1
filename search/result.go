package search

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spikeload/spike/analysis"
	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/hist"
	"github.com/spikeload/spike/scenarios"
)

// Status is the kind of answer a search found.
type Status string

// Statuses of a search.
const (
	// StatusFound: a capacity and a breakpoint, within the precision (or
	// as close as the search got before it was stopped).
	StatusFound Status = "found"
	// StatusHeld: nothing broke; the capacity is a lower bound (the max
	// rate, or as high as the search got).
	StatusHeld Status = "held"
	// StatusBroke: even the lowest rate tried broke the SLO.
	StatusBroke Status = "broke"
	// StatusInconclusive: spike could not send the load a step needed, or
	// no step was judged.
	StatusInconclusive Status = "inconclusive"
)

// Why a search stopped before its answer was complete (Result.Stopped).
const (
	StoppedMaxDuration = "max_duration"
	StoppedInterrupted = "interrupted"
	StoppedGenerator   = "generator_bound"
	StoppedError       = "error"
	StoppedMaxSteps    = "max_steps"
)

// Result is a search's answer and its steps. It is JSON-serialisable (see
// the package documentation for units) and stored in result.json's
// "search" section (package result, which versions the whole document).
type Result struct {
	Status Status `json:"status"`
	// Headline is the answer in one line.
	Headline string `json:"headline"`
	// CapacityRPS is the highest rate that held the SLO below the
	// breakpoint (0: none), and CapacityMultiple its multiple of the
	// baseline. Confirmed is set when it held for the confirmation too.
	CapacityRPS      float64 `json:"capacity_rps"`
	CapacityMultiple float64 `json:"capacity_multiple,omitempty"`
	Confirmed        bool    `json:"confirmed"`
	// BreakpointRPS is the lowest rate that broke the SLO (0: none).
	BreakpointRPS      float64 `json:"breakpoint_rps,omitempty"`
	BreakpointMultiple float64 `json:"breakpoint_multiple,omitempty"`
	// Gap is the relative distance from capacity to breakpoint (the
	// precision reached).
	Gap float64 `json:"gap,omitempty"`
	// FirstLayer, Symptom and Cause are the first broken layer at the
	// breakpoint step (else at the lowest failed rate that named one), and
	// LayerStep that step's index.
	FirstLayer string `json:"first_layer,omitempty"`
	Symptom    string `json:"symptom,omitempty"`
	Cause      string `json:"cause,omitempty"`
	LayerStep  *int   `json:"layer_step,omitempty"`
	// AtMaxRate is set when the capacity is the max rate: the target held
	// all the search was allowed to send.
	AtMaxRate bool `json:"at_max_rate,omitempty"`
	// LimitRPS is, for a generator-bound search, the rate spike could not
	// send on time.
	LimitRPS float64 `json:"limit_rps,omitempty"`
	// Stopped says why the search ended before completing its answer:
	// max_duration, interrupted, generator_bound, error or max_steps.
	Stopped string `json:"stopped,omitempty"`
	// LoadMs is the load time used: the sum of the steps' lengths.
	LoadMs   float64  `json:"load_ms"`
	Settings Settings `json:"settings"`
	Steps    []Step   `json:"steps"`
	Notes    []string `json:"notes,omitempty"`

	// runs are the steps' results, for Combine.
	runs []*engine.Result
}

// Settings are the parameters a search ran with.
type Settings struct {
	BaselineRPS   float64 `json:"baseline_rps"`
	FromRPS       float64 `json:"from_rps"`
	StepMs        float64 `json:"step_ms"`
	SkipMs        float64 `json:"skip_ms"`
	Factor        float64 `json:"factor"`
	Precision     float64 `json:"precision"`
	ConfirmMs     float64 `json:"confirm_ms"`
	MaxRPS        float64 `json:"max_rps"`
	MaxDurationMs float64 `json:"max_duration_ms"`
	WindowMs      float64 `json:"window_ms"`
	Sustain       int     `json:"sustain"`
	// RateUnit is the unit of the rates when it is not req/s: "visitors/s"
	// for journeys, whose steps are arrival rates.
	RateUnit string `json:"rate_unit,omitempty"`
	// SLO is the objective every step was judged by.
	SLO analysis.Limits `json:"slo"`
	// EarlyStop is the rule that ends a clearly broken step.
	EarlyStop EarlyStop `json:"early_stop"`
}

// EarlyStop is the early-stop rule in the result's units.
type EarlyStop struct {
	ErrorRate float64 `json:"error_rate,omitempty"`
	P95Ms     float64 `json:"p95_ms,omitempty"`
	ForMs     float64 `json:"for_ms"`
}

func newResult(s *settings) *Result {
	slo := s.Plan.SLO.Limits
	r := &Result{
		Settings: Settings{
			BaselineRPS: s.Plan.Baseline, FromRPS: s.From, StepMs: ms(s.Step), SkipMs: ms(s.Skip),
			Factor: s.Factor, Precision: s.Precision, ConfirmMs: ms(s.Confirm), MaxRPS: s.MaxRate,
			MaxDurationMs: ms(s.MaxDuration), WindowMs: ms(s.window), Sustain: s.sustain,
			SLO:       analysis.Limits{P95Ms: ms(slo.P95), P99Ms: ms(slo.P99), ErrorRate: slo.ErrorRate},
			EarlyStop: EarlyStop{ErrorRate: s.EarlyStop.ErrorRate, P95Ms: ms(s.EarlyStop.P95), ForMs: ms(s.EarlyStop.For)},
		},
	}
	if len(s.Plan.Journeys) > 0 {
		r.Settings.RateUnit = "visitors/s"
	}
	return r
}

// record appends a judged step and its result, placing it on the combined
// timeline after the previous steps.
func (r *Result) record(st Step, res *engine.Result) {
	first, at := 0, 0.0
	if n := len(r.Steps); n > 0 {
		prev := &r.Steps[n-1]
		first, at = prev.FirstWindow+prev.Windows, prev.AtMs+prev.DurationMs
	}
	st.AtMs, st.FirstWindow, st.Windows = at, first, len(res.Windows)
	st.JudgedFrom += first
	r.Steps = append(r.Steps, st)
	r.runs = append(r.runs, res)
}

// finish derives the answer from the steps.
func (se *searcher) finish() {
	r, c := se.res, se.cfg
	good, bad, confirmed := se.state()
	r.CapacityRPS, r.BreakpointRPS, r.Confirmed = good, bad, confirmed
	r.CapacityMultiple, r.BreakpointMultiple = c.Plan.Multiple(good), c.Plan.Multiple(bad)
	if good > 0 && bad > 0 {
		r.Gap = bad/good - 1
	}
	r.Stopped = se.stopped
	r.LoadMs = ms(se.used)
	switch {
	case se.stopped == StoppedGenerator:
		r.Status = StatusInconclusive
		r.LimitRPS = r.Steps[len(r.Steps)-1].RateRPS
	case good > 0 && bad > 0:
		r.Status = StatusFound
	case good > 0:
		r.Status = StatusHeld
		r.AtMaxRate = good >= c.MaxRate
	case bad > 0:
		r.Status = StatusBroke
	default:
		r.Status = StatusInconclusive
	}
	// The layer that broke first: at the breakpoint, else at the lowest
	// failed rate that names one.
	pick := -1
	for i, st := range r.Steps {
		if st.Verdict == VerdictFail && st.FirstLayer != "" && (pick < 0 || st.RateRPS < r.Steps[pick].RateRPS) {
			pick = i
		}
	}
	if pick >= 0 {
		st := r.Steps[pick]
		r.FirstLayer, r.Symptom, r.Cause = st.FirstLayer, st.Symptom, st.Cause
		r.LayerStep = &pick
	}
	r.Headline = se.headline()
}

// at formats a rate with its multiple: "340 req/s (3.4x)" (visitors/s for
// journeys).
func (r *Result) at(rate float64) string {
	unit := r.Settings.RateUnit
	if unit == "" {
		unit = "req/s"
	}
	s := fmtRate(rate) + " " + unit
	if r.Settings.BaselineRPS > 0 {
		s += " (" + fmtMult(rate/r.Settings.BaselineRPS) + ")"
	}
	return s
}

// breaksText says what breaks at the breakpoint: "the database breaks
// first: SYMPTOM", or the limits the step broke.
func (r *Result) breaksText() string {
	if r.FirstLayer != "" {
		s := "the " + r.FirstLayer + " breaks first"
		if r.Symptom != "" {
			s += ": " + r.Symptom
		}
		return s
	}
	for _, st := range r.Steps {
		if st.Verdict == VerdictFail && st.RateRPS == r.BreakpointRPS {
			return "the SLO breaks: " + st.Reason
		}
	}
	return "the SLO breaks"
}

// headline writes the answer in one line.
func (se *searcher) headline() string {
	r, c := se.res, se.cfg
	why := map[string]string{
		StoppedMaxDuration: fmt.Sprintf("spike ran out of time (--max-duration %s)", fmtDuration(c.MaxDuration)),
		StoppedInterrupted: "the search was interrupted",
		StoppedError:       "a step failed to run",
		StoppedMaxSteps:    fmt.Sprintf("the search reached its limit of %d steps", maxSteps),
	}[r.Stopped]
	switch r.Status {
	case StatusFound:
		h := fmt.Sprintf("you hold %s within your SLO; at %s %s", r.at(r.CapacityRPS), r.at(r.BreakpointRPS), r.breaksText())
		if !r.Confirmed {
			h += " (capacity not confirmed by a longer hold"
			if why != "" {
				h += ": " + why
			}
			h += ")"
		}
		if r.Gap > c.Precision*(1+1e-9) {
			h += fmt.Sprintf(" (within %s, not %s)", fmtPct(r.Gap), fmtPct(c.Precision))
		}
		return h
	case StatusHeld:
		h := fmt.Sprintf("you hold at least %s within your SLO", r.at(r.CapacityRPS))
		switch {
		case r.AtMaxRate:
			h += "; nothing broke up to the max rate"
		case why != "":
			h += "; " + why + " before anything broke"
		}
		if !r.Confirmed && r.AtMaxRate {
			h += " (not confirmed by a longer hold)"
		}
		return h
	case StatusBroke:
		low := r.BreakpointRPS
		h := fmt.Sprintf("the target broke the SLO even at %s; %s", r.at(low), r.breaksText())
		if why != "" {
			h += " (" + why + " before a rate that holds was found)"
		}
		return h
	}
	if r.Stopped == StoppedGenerator {
		last := r.Steps[len(r.Steps)-1]
		if r.CapacityRPS > 0 {
			return fmt.Sprintf("inconclusive above %s: spike could not send %s on time (%s); the target held %s",
				r.at(r.CapacityRPS), r.at(r.LimitRPS), last.Reason, r.at(r.CapacityRPS))
		}
		return fmt.Sprintf("inconclusive: spike could not send %s on time (%s)", r.at(r.LimitRPS), last.Reason)
	}
	if why != "" {
		return "inconclusive: no step was judged; " + why
	}
	return "inconclusive: no step was judged"
}

// fmtDuration formats a duration without trailing zero units: "5m", "90s".
func fmtDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Combine lays the steps' results end to end in one engine.Result, as if
// one run had planned the staircase: windows are renumbered and shifted by
// each step's start (Step.AtMs), the plan's segments are one hold per step,
// and request totals are merged: the run section of the search's
// result.json (result.New(combined, analysis, r)). It needs the results
// Find ran (not a decoded Result).
func (r *Result) Combine() (*engine.Result, error) {
	if len(r.runs) == 0 {
		return nil, errors.New("combine search: no step results (was the search run in this process?)")
	}
	first, last := r.runs[0], r.runs[len(r.runs)-1]
	out := &engine.Result{Meta: first.Meta, Plan: first.Plan}
	out.Meta.Ended = last.Meta.Ended
	out.Meta.Partial = r.Stopped == StoppedInterrupted
	out.Meta.Aborted, out.Meta.AbortReason, out.Meta.Notes = false, "", nil
	out.Plan.Shape = "find"
	out.Plan.Segments, out.Plan.Total, out.Plan.PeakRate = nil, 0, 0
	totals := newTotals()
	for i, run := range r.runs {
		st := &r.Steps[i]
		at := time.Duration(st.AtMs * float64(time.Millisecond))
		for _, w := range run.Windows {
			w.Index = len(out.Windows)
			w.Start += at
			w.End += at
			out.Windows = append(out.Windows, w)
		}
		d := time.Duration(st.DurationMs * float64(time.Millisecond))
		out.Plan.Segments = append(out.Plan.Segments, scenarios.Segment{Kind: "hold", Start: at, Duration: d, From: st.RateRPS, To: st.RateRPS})
		out.Plan.Total += run.Plan.Total
		out.Plan.PeakRate = max(out.Plan.PeakRate, st.RateRPS)
		out.Plan.Duration = at + d
		for _, n := range run.Meta.Notes {
			out.Meta.Notes = append(out.Meta.Notes, fmt.Sprintf("step %d (%s req/s): %s", i+1, fmtRate(st.RateRPS), n))
		}
		if err := totals.add(run.Requests); err != nil {
			out.Meta.Notes = append(out.Meta.Notes, fmt.Sprintf("step %d: %v", i+1, err))
		}
	}
	out.Requests = totals.list()
	return out, nil
}

// totals merges per-request totals by name, in order of first appearance.
type totals struct {
	order  []string
	byName map[string]*engine.RequestTotal
	errs   map[string]map[string]uint64
}

func newTotals() *totals {
	return &totals{byName: map[string]*engine.RequestTotal{}, errs: map[string]map[string]uint64{}}
}

func (t *totals) add(reqs []engine.RequestTotal) error {
	var bad int
	for _, q := range reqs {
		m, ok := t.byName[q.Name]
		if !ok {
			m = &engine.RequestTotal{Name: q.Name}
			t.byName[q.Name] = m
			t.order = append(t.order, q.Name)
			t.errs[q.Name] = map[string]uint64{}
		}
		m.Count += q.Count
		m.OK += q.OK
		m.Errors += q.Errors
		m.BytesIn += q.BytesIn
		m.BytesOut += q.BytesOut
		m.MaxBytesIn = max(m.MaxBytesIn, q.MaxBytesIn)
		m.Statuses = addCounts(m.Statuses, q.Statuses)
		m.ErrorKinds = addCounts(m.ErrorKinds, q.ErrorKinds)
		if len(m.Headers) == 0 && len(q.Headers) > 0 {
			m.Headers = q.Headers
		}
		m.ServerTiming = m.ServerTiming || q.ServerTiming
		for _, e := range q.ErrorSamples {
			t.errs[q.Name][e.Message] += e.Count
		}
		if q.Latency.Count == 0 {
			continue
		}
		if err := mergeLatency(&m.Latency, q.Latency); err != nil {
			bad++
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d request latency histograms could not be merged", bad)
	}
	return nil
}

// mergeLatency adds the histogram of b into a, re-encoding a.
func mergeLatency(a *engine.LatencyStats, b engine.LatencyStats) error {
	ha, err := hist.Decode(a.Hist)
	if err != nil {
		return err
	}
	hb, err := hist.Decode(b.Hist)
	if err != nil {
		return err
	}
	ha.Merge(hb)
	*a = engine.Stats(ha, true)
	return nil
}

func addCounts(dst, src map[string]uint64) map[string]uint64 {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = make(map[string]uint64, len(src))
	}
	for k, n := range src {
		dst[k] += n
	}
	return dst
}

func (t *totals) list() []engine.RequestTotal {
	out := make([]engine.RequestTotal, 0, len(t.order))
	for _, name := range t.order {
		m := *t.byName[name]
		for msg, n := range t.errs[name] {
			m.ErrorSamples = append(m.ErrorSamples, engine.ErrorSample{Message: msg, Count: n})
		}
		slices.SortFunc(m.ErrorSamples, func(x, y engine.ErrorSample) int {
			if x.Count != y.Count {
				if x.Count > y.Count {
					return -1
				}
				return 1
			}
			return strings.Compare(x.Message, y.Message)
		})
		if len(m.ErrorSamples) > 5 {
			m.ErrorSamples = m.ErrorSamples[:5]
		}
		out = append(out, m)
	}
	return out
}

// Analyze analyses a result made by Combine for the report: the window
// checks, layers, recommendations and header audit are the analysis' own
// over the whole staircase, but the verdict is the search's (its status,
// headline, capacity, breakpoint and first broken layer, with points at
// the judged start of the steps that found them).
func (r *Result) Analyze(res *engine.Result, opts analysis.Options) *analysis.Analysis {
	a := analysis.Analyze(res, opts)
	v := &a.Verdict
	v.Headline = r.Headline
	v.Knee, v.Recovered = nil, nil
	v.Reason, v.Advice = "", ""
	switch r.Status {
	case StatusFound, StatusBroke:
		v.Status = analysis.StatusFail
	case StatusHeld:
		v.Status = analysis.StatusPass
	default:
		v.Status = analysis.StatusInconclusive
		if r.Stopped == StoppedGenerator {
			v.Reason = "spike could not send the load of the last step on time: " + r.Steps[len(r.Steps)-1].Reason
			v.Advice = "give spike more connections (options.connections) or shard the load over several machines (spike run --shard i/N)"
		}
	}
	v.FirstLayer, v.Symptom, v.Cause = r.FirstLayer, r.Symptom, r.Cause
	v.Capacity, v.Breakpoint = r.point(res, r.CapacityRPS, VerdictPass), r.point(res, r.BreakpointRPS, VerdictFail)
	v.PeakRPS = 0
	for _, st := range r.Steps {
		v.PeakRPS = max(v.PeakRPS, st.RateRPS)
	}
	v.PeakMultiple = 0
	if b := r.Settings.BaselineRPS; b > 0 {
		v.PeakMultiple = v.PeakRPS / b
	}
	if r.FirstLayer != "" {
		if k := slices.Index(v.Order, r.FirstLayer); k > 0 {
			v.Order = append([]string{r.FirstLayer}, slices.Delete(v.Order, k, k+1)...)
		}
	}
	a.Notes = append(a.Notes, fmt.Sprintf("a breakpoint search (spike find): %d steps at constant rates, each judged on its own after a %s warm-up; the verdict, capacity and breakpoint are the search's",
		len(r.Steps), fmtSeconds(time.Duration(r.Settings.SkipMs*float64(time.Millisecond)))))
	return a
}

// point returns the analysis point of the step at rate with verdict want
// (the latest such step, so a confirmation wins), or nil.
func (r *Result) point(res *engine.Result, rate float64, want Verdict) *analysis.Point {
	if rate <= 0 {
		return nil
	}
	for i := len(r.Steps) - 1; i >= 0; i-- {
		st := r.Steps[i]
		if st.Verdict != want || st.RateRPS != rate {
			continue
		}
		w := st.JudgedFrom
		if w >= st.FirstWindow+st.Windows {
			w = st.FirstWindow
		}
		p := &analysis.Point{Window: w, AtMs: st.AtMs, RateRPS: rate, Multiple: st.Multiple}
		if w >= 0 && w < len(res.Windows) {
			p.AtMs = ms(res.Windows[w].Start)
		}
		return p
	}
	return nil
}
