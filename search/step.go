package search

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/spikeload/spike/analysis"
	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/scenarios"
)

// Verdict is the judgement of one step.
type Verdict string

// Step verdicts.
const (
	// VerdictPass: the step held the SLO.
	VerdictPass Verdict = "pass"
	// VerdictFail: the SLO broke (or the step was clearly broken and ended
	// early).
	VerdictFail Verdict = "fail"
	// VerdictGeneratorBound: spike itself fell behind; the step says
	// nothing about the target, and the search stops.
	VerdictGeneratorBound Verdict = "generator_bound"
	// VerdictInterrupted: the step was cut short by Ctrl-C and not judged.
	VerdictInterrupted Verdict = "interrupted"
)

// Step is one step of a search and its judgement. Figures are over the
// judged windows (those starting after the warm-up).
type Step struct {
	// Index counts the steps from 0.
	Index int   `json:"index"`
	Phase Phase `json:"phase"`
	// RateRPS is the planned rate, and Multiple its multiple of the
	// baseline (0 without one).
	RateRPS  float64 `json:"rate_rps"`
	Multiple float64 `json:"multiple,omitempty"`
	// AtMs is the step's start in the combined result's timeline;
	// FirstWindow and Windows locate its windows there, and JudgedFrom the
	// first judged one.
	AtMs        float64 `json:"at_ms"`
	FirstWindow int     `json:"first_window"`
	Windows     int     `json:"windows"`
	JudgedFrom  int     `json:"judged_from"`
	// PlannedMs is how long the step was to last, DurationMs how long it
	// did (its windows' span).
	PlannedMs  float64 `json:"planned_ms"`
	DurationMs float64 `json:"duration_ms"`
	// EndedEarly is set when the step was clearly broken and stopped
	// early; EarlyReason says why.
	EndedEarly  bool   `json:"ended_early,omitempty"`
	EarlyReason string `json:"early_reason,omitempty"`
	// Verdict is the step's judgement and Reason explains a fail, a
	// generator-bound step or an interruption.
	Verdict Verdict `json:"verdict"`
	Reason  string  `json:"reason,omitempty"`
	// JudgedWindows counts the windows judged, FailedWindows those that
	// failed the SLO, BoundWindows those where spike fell behind (not
	// judged), and LaggedWindows those the engine flagged generator-bound
	// whose lag was too small to matter (judged; see the package
	// documentation).
	JudgedWindows int `json:"judged_windows"`
	FailedWindows int `json:"failed_windows"`
	BoundWindows  int `json:"generator_bound_windows,omitempty"`
	LaggedWindows int `json:"lagged_windows,omitempty"`
	// Count is the responses (and transport failures), Errors the failures.
	Count     uint64  `json:"count"`
	Errors    uint64  `json:"errors"`
	ErrorRate float64 `json:"error_rate"`
	P50Ms     float64 `json:"p50_ms"`
	P95Ms     float64 `json:"p95_ms"`
	P99Ms     float64 `json:"p99_ms"`
	// SentRPS is the rate spike sent, OKRPS the rate of successes.
	SentRPS float64 `json:"sent_rps"`
	OKRPS   float64 `json:"ok_rps"`
	// MaxLagMs is the worst send-lag p99 of the judged windows.
	MaxLagMs float64 `json:"max_lag_ms"`
	// FirstLayer, Symptom and Cause are the analysis' first broken layer
	// of a failed step.
	FirstLayer string `json:"first_layer,omitempty"`
	Symptom    string `json:"symptom,omitempty"`
	Cause      string `json:"cause,omitempty"`
}

// ms converts a duration to float milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// span returns how long a step's result covers: its windows' span, or
// planned when it has none.
func span(res *engine.Result, planned time.Duration) time.Duration {
	n := len(res.Windows)
	if n == 0 {
		if res.Meta.Partial || res.Meta.Aborted {
			return 0
		}
		return planned
	}
	return res.Windows[n-1].End - res.Windows[0].Start
}

// judge measures and judges one step's result. See the package
// documentation for the rules.
func (se *searcher) judge(spec StepSpec, res *engine.Result, cancelled bool) Step {
	c := se.cfg
	st := Step{
		Index: spec.Index, Phase: spec.Phase, RateRPS: spec.Rate, Multiple: c.Plan.Multiple(spec.Rate),
		PlannedMs: ms(spec.Duration), DurationMs: ms(span(res, spec.Duration)),
		EndedEarly: res.Meta.Aborted, EarlyReason: res.Meta.AbortReason,
	}
	k := 0
	for k < len(res.Windows) && res.Windows[k].Start < c.Skip {
		k++
	}
	st.JudgedFrom = k
	judged, lagged := c.tolerate(res.Windows[k:])
	st.JudgedWindows, st.LaggedWindows = len(judged), lagged
	for i := range judged {
		st.MaxLagMs = max(st.MaxLagMs, ms(judged[i].Lag.P99))
		if judged[i].GeneratorBound {
			st.BoundWindows++
		}
	}
	agg := se.aggregate(judged)
	st.Count, st.Errors = agg.count, agg.errors
	if st.Count > 0 {
		st.ErrorRate = float64(st.Errors) / float64(st.Count)
	}
	st.P50Ms, st.P95Ms, st.P99Ms = ms(agg.lat.P50), ms(agg.lat.P95), ms(agg.lat.P99)
	if agg.secs > 0 {
		st.SentRPS, st.OKRPS = float64(agg.sent)/agg.secs, float64(agg.ok)/agg.secs
	}

	if res.Meta.Partial || cancelled {
		st.Verdict = VerdictInterrupted
		st.Reason = fmt.Sprintf("after %s, not judged", fmtSeconds(time.Duration(st.DurationMs*float64(time.Millisecond)).Round(100*time.Millisecond)))
		return st
	}
	trimmed := *res
	trimmed.Windows = judged
	a := analysis.Analyze(&trimmed, c.Analysis)
	for _, wc := range a.Windows {
		if wc.Overall.Status == analysis.StatusFail {
			st.FailedWindows++
		}
	}
	v := a.Verdict
	usable := st.JudgedWindows - st.BoundWindows
	behind := func(why string) {
		st.Verdict = VerdictGeneratorBound
		st.Reason = fmt.Sprintf("%s: %d of %d windows generator-bound (send lag p99 up to %s)",
			why, st.BoundWindows, st.JudgedWindows, fmtLatency(time.Duration(st.MaxLagMs*float64(time.Millisecond))))
	}
	switch {
	case st.Count == 0 && !res.Meta.Aborted:
		st.Verdict = VerdictGeneratorBound
		st.Reason = "spike sent nothing that could be judged"
	case usable < c.sustain && !res.Meta.Aborted:
		behind(fmt.Sprintf("spike fell behind: too few windows to judge (%d, the SLO needs %d in a row)", usable, c.sustain))
	case v.Status == analysis.StatusInconclusive && a.Generator.Coincides:
		behind("spike fell behind when the SLO broke")
	case v.Status == analysis.StatusFail:
		st.Verdict = VerdictFail
		st.Reason = sloReason(&st, c.Plan.SLO.Limits, a)
	case res.Meta.Aborted:
		st.Verdict = VerdictFail
		st.Reason = strings.TrimPrefix(res.Meta.AbortReason, "aborted: ")
	case agg.failed != "":
		// Failures that came and went, never `sustain` windows in a row,
		// but too many over the step: at a constant rate the SLO is broken.
		st.Verdict = VerdictFail
		st.Reason = "over the whole step: " + agg.failed
	default:
		st.Verdict = VerdictPass
	}
	if st.Verdict == VerdictFail {
		st.FirstLayer, st.Symptom, st.Cause = v.FirstLayer, v.Symptom, v.Cause
		if st.FirstLayer == "" && agg.failedReq != "" {
			st.FirstLayer, st.Symptom, st.Cause = layerOf(a, agg.failedReq, agg.failed+" over the whole step")
		}
	}
	return st
}

// layerOf names the layer of a request that broke its limits over a whole
// step (the analysis found no break to attribute), with what it broke as
// the symptom, and the layer's likely cause when the analysis gave one.
func layerOf(a *analysis.Analysis, req, what string) (layer, symptom, cause string) {
	for _, rr := range a.Requests {
		if rr.Name == req {
			layer = rr.Layer
		}
	}
	if layer == "" {
		return "", "", ""
	}
	for _, l := range a.Layers {
		if l.Layer == layer {
			cause = l.Cause
		}
	}
	return layer, what, cause
}

// lagTolerance is the send lag p99 below which a window the engine flagged
// generator-bound is still judged, when spike sent (nearly) all its planned
// requests: a tenth of the SLO's p95, and at least engine.MaxLagP99.
// Latency is measured from the intended send time, so lag only ever makes
// the target look slower; a lag this small against the limit cannot turn a
// pass into a fail, nor cause errors.
func (s *settings) lagTolerance() time.Duration {
	return max(engine.MaxLagP99, s.Plan.SLO.P95/10)
}

// tolerate returns a copy of ws in which the generator-bound windows whose
// lag was tolerable (see lagTolerance) are no longer flagged, and how many
// there were.
func (s *settings) tolerate(ws []engine.Window) ([]engine.Window, int) {
	out := make([]engine.Window, len(ws))
	copy(out, ws)
	n := 0
	for i := range out {
		w := &out[i]
		if w.GeneratorBound && w.Lag.P99 <= s.lagTolerance() && float64(w.Sent) >= engine.MinSentShare*float64(w.Planned) {
			w.GeneratorBound = false
			n++
		}
	}
	return out, n
}

// stepFigures are a step's figures over its judged windows that spike sent
// on time.
type stepFigures struct {
	count, errors, sent, ok uint64
	secs                    float64
	lat                     engine.LatencyStats
	// failed names the first SLO limit a request broke over the whole
	// step, with the figures ("" when none did), and failedReq the request.
	failed, failedReq string
}

// aggregate merges the judged windows that are not generator-bound, overall
// and per request, and checks each request against its own limits over the
// whole step (a request needs MinSamples latency samples to judge its p95,
// five times as many for its p99). When every window is generator-bound it
// measures them all (and judges nothing).
func (se *searcher) aggregate(judged []engine.Window) stepFigures {
	var f stepFigures
	onTime := 0
	for i := range judged {
		if !judged[i].GeneratorBound {
			onTime++
		}
	}
	all := engine.NewHist()
	type reqAcc struct {
		count, errors uint64
		hist          *hdrhistogram.Histogram
	}
	reqs := map[string]*reqAcc{}
	var names []string
	undecodable := false
	for i := range judged {
		w := &judged[i]
		if w.GeneratorBound && onTime > 0 {
			continue
		}
		f.count += w.OK + w.Errors
		f.errors += w.Errors
		f.sent += w.Sent
		f.ok += w.OK
		f.secs += (w.End - w.Start).Seconds()
		if h, err := engine.DecodeHist(w.Latency.Hist); err == nil && h.TotalCount() > 0 {
			all.Merge(h)
		} else if w.Latency.Count > 0 {
			undecodable = true
		}
		if onTime == 0 {
			continue
		}
		for name, wr := range w.Requests {
			if wr == nil {
				continue
			}
			acc := reqs[name]
			if acc == nil {
				acc = &reqAcc{hist: engine.NewHist()}
				reqs[name] = acc
				names = append(names, name)
			}
			acc.count += wr.OK + wr.Errors
			acc.errors += wr.Errors
			if h, err := engine.DecodeHist(wr.Latency.Hist); err == nil {
				acc.hist.Merge(h)
			}
		}
	}
	f.lat = engine.Stats(all, false)
	if undecodable && f.lat.Count == 0 {
		// Without histograms, the windows' own worst figures.
		for i := range judged {
			f.lat.P50 = max(f.lat.P50, judged[i].Latency.P50)
			f.lat.P95 = max(f.lat.P95, judged[i].Latency.P95)
			f.lat.P99 = max(f.lat.P99, judged[i].Latency.P99)
		}
	}
	minSamples := int64(se.cfg.Analysis.MinSamples)
	if minSamples <= 0 {
		minSamples = analysis.DefaultMinSamples
	}
	// The mix's order, then any other names.
	order := make([]string, 0, len(names))
	for _, r := range se.cfg.Plan.Requests {
		if reqs[r.Name] != nil && !slices.Contains(order, r.Name) {
			order = append(order, r.Name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		if !slices.Contains(order, name) {
			order = append(order, name)
		}
	}
	for _, name := range order {
		acc := reqs[name]
		f.failedReq = name
		lim := se.cfg.Plan.SLO.For(name)
		who := ""
		if len(names) > 1 {
			who = name + ": "
		}
		if acc.count > 0 {
			if er := float64(acc.errors) / float64(acc.count); er > lim.ErrorRate {
				f.failed = fmt.Sprintf("%serror rate %s (limit %s)", who, fmtPct(er), fmtPct(lim.ErrorRate))
				return f
			}
		}
		n := acc.hist.TotalCount()
		q := engine.Stats(acc.hist, false)
		if lim.P95 > 0 && n >= minSamples && q.P95 > lim.P95 {
			f.failed = fmt.Sprintf("%sp95 %s (limit %s)", who, fmtLatency(q.P95), fmtLatency(lim.P95))
			return f
		}
		if lim.P99 > 0 && n >= 5*minSamples && q.P99 > lim.P99 {
			f.failed = fmt.Sprintf("%sp99 %s (limit %s)", who, fmtLatency(q.P99), fmtLatency(lim.P99))
			return f
		}
	}
	f.failedReq = ""
	return f
}

// sloReason says which limits a failed step broke, in its merged figures
// (or, when those are within the SLO, in its failing windows).
func sloReason(st *Step, lim scenarios.Limits, a *analysis.Analysis) string {
	var parts []string
	if st.Count > 0 && st.ErrorRate > lim.ErrorRate {
		parts = append(parts, fmt.Sprintf("error rate %s (limit %s)", fmtPct(st.ErrorRate), fmtPct(lim.ErrorRate)))
	}
	if lim.P95 > 0 && st.P95Ms > ms(lim.P95) {
		parts = append(parts, fmt.Sprintf("p95 %s (limit %s)", fmtLatency(time.Duration(st.P95Ms*float64(time.Millisecond))), fmtLatency(lim.P95)))
	}
	if len(parts) > 0 {
		return strings.Join(parts, ", ")
	}
	// The merged figures hide it: name what failed in the windows.
	seen := map[string]bool{}
	for _, wc := range a.Windows {
		if wc.Overall.Status != analysis.StatusFail {
			continue
		}
		for _, f := range wc.Overall.Failed {
			if !seen[f] {
				seen[f] = true
				parts = append(parts, f)
			}
		}
	}
	return fmt.Sprintf("SLO broken in %d of %d windows: %s", st.FailedWindows, st.JudgedWindows, strings.Join(parts, ", "))
}

// roundRate rounds a rate to three significant digits.
func roundRate(r float64) float64 {
	if r <= 0 || math.IsInf(r, 0) || math.IsNaN(r) {
		return r
	}
	v, err := strconv.ParseFloat(strconv.FormatFloat(r, 'g', 3, 64), 64)
	if err != nil {
		return r
	}
	return v
}

// midRate returns a round rate halfway between good and bad, strictly
// between them.
func midRate(good, bad float64) float64 {
	m := (good + bad) / 2
	if r := roundRate(m); r > good && r < bad {
		return r
	}
	return m
}

// fmtRate formats a rate in req/s: "340", "42.5", "2.4".
func fmtRate(r float64) string {
	switch {
	case r >= 100:
		return fmt.Sprintf("%.0f", r)
	case r >= 10:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", r), ".0")
	}
	s := strings.TrimRight(fmt.Sprintf("%.2f", r), "0")
	return strings.TrimSuffix(s, ".")
}

// fmtMult formats a multiple of the baseline: "3.4x" ("" without one).
func fmtMult(m float64) string {
	switch {
	case m <= 0:
		return ""
	case m >= 10:
		return fmt.Sprintf("%.0fx", m)
	}
	return fmt.Sprintf("%.1fx", m)
}
