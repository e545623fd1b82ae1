package search

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spikeload/spike/analysis"
	"github.com/spikeload/spike/engine"
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
	if res.Meta.Partial || cancelled {
		k := 0
		for k < len(res.Windows) && res.Windows[k].Start < c.Skip {
			k++
		}
		st.JudgedFrom = k
		st.Verdict = VerdictInterrupted
		st.Reason = fmt.Sprintf("after %s, not judged", fmtSeconds(time.Duration(st.DurationMs*float64(time.Millisecond)).Round(100*time.Millisecond)))
		return st
	}
	sv := analysis.JudgeStep(res, analysis.StepOptions{Options: c.Analysis, Skip: c.Skip, Reference: se.ref, ReferenceSkip: c.Skip})
	st.JudgedFrom, st.JudgedWindows, st.FailedWindows = sv.JudgedFrom, sv.JudgedWindows, sv.FailedWindows
	st.BoundWindows, st.LaggedWindows, st.MaxLagMs = sv.BoundWindows, sv.LaggedWindows, sv.MaxLagMs
	st.Count, st.Errors, st.ErrorRate = sv.Count, sv.Errors, sv.ErrorRate()
	st.P50Ms, st.P95Ms, st.P99Ms = ms(sv.Latency.P50), ms(sv.Latency.P95), ms(sv.Latency.P99)
	if sv.Secs > 0 {
		st.SentRPS, st.OKRPS = float64(sv.Sent)/sv.Secs, float64(sv.OK)/sv.Secs
	}
	st.Reason = sv.Reason
	switch sv.Status {
	case analysis.StatusPass:
		st.Verdict = VerdictPass
	case analysis.StatusFail:
		st.Verdict = VerdictFail
		st.FirstLayer, st.Symptom, st.Cause = sv.FirstLayer, sv.Symptom, sv.Cause
	default:
		st.Verdict = VerdictGeneratorBound
	}
	return st
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
