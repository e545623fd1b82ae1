package analysis

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/hist"
	"github.com/spikeload/spike/scenarios"
)

// Judging a step of a breakpoint search (a constant rate held for a
// while) uses the same window judge as a run, through Analyze, plus what a
// constant rate allows: failures that come and go are failures too.

// StepOptions configure JudgeStep.
type StepOptions struct {
	// Options are the analysis options (sustain, min samples, …).
	Options Options
	// Skip is the warm-up: windows that start before it are not judged.
	Skip time.Duration
	// Reference is a step at a lower rate that passed (the search's first),
	// or nil. A step at one constant rate has no low load of its own to
	// compare with: with a reference, a failed step's layer is read from
	// what grew between the two (the reference's windows come first), not
	// from what takes the most time at one rate.
	Reference *engine.Result
	// ReferenceSkip is the reference step's warm-up.
	ReferenceSkip time.Duration
}

// StepVerdict is the judgement of one constant-rate step.
type StepVerdict struct {
	// Status is pass, fail or generator_bound (spike fell behind: the step
	// says nothing about the target). Reason explains a fail or a
	// generator-bound step.
	Status Status
	Reason string
	// JudgedFrom is the first judged window; JudgedWindows counts the
	// judged windows, FailedWindows those that failed the SLO,
	// BoundWindows those where spike fell behind (not judged), and
	// LaggedWindows those the engine flagged whose lag was too small to
	// matter (judged; see Tolerate).
	JudgedFrom, JudgedWindows, FailedWindows, BoundWindows, LaggedWindows int
	// MaxLagMs is the worst send-lag p99 of the judged windows.
	MaxLagMs float64
	// Figures over the judged windows spike sent on time: responses,
	// failures, sent, successes, the seconds they span, latency.
	Count, Errors, Sent, OK uint64
	Secs                    float64
	Latency                 engine.LatencyStats
	// FirstLayer, Symptom and Cause are the first broken layer of a failed
	// step.
	FirstLayer, Symptom, Cause string
	// Analysis is the window analysis of the judged windows (nil for a
	// step that could not be judged).
	Analysis *Analysis
}

// LagTolerance is the send lag p99 below which a window the engine flagged
// generator-bound is still judged, when spike sent (nearly) all its
// planned requests: a tenth of the SLO's p95, and at least
// engine.MaxLagP99. Latency is measured from the intended send time, so
// lag only ever makes the target look slower; a lag this small against the
// limit cannot turn a pass into a fail, nor cause errors.
func LagTolerance(slo scenarios.SLO) time.Duration {
	return max(engine.MaxLagP99, slo.P95/10)
}

// Tolerate returns a copy of ws in which the generator-bound windows whose
// lag was tolerable (see LagTolerance) are no longer flagged, and how many
// there were.
func Tolerate(ws []engine.Window, slo scenarios.SLO) ([]engine.Window, int) {
	out := make([]engine.Window, len(ws))
	copy(out, ws)
	n := 0
	for i := range out {
		w := &out[i]
		if w.GeneratorBound && w.Lag.P99 <= LagTolerance(slo) && float64(w.Sent) >= engine.MinSentShare*float64(w.Planned) {
			w.GeneratorBound = false
			n++
		}
	}
	return out, n
}

// JudgeStep judges a step's result: the windows after the warm-up, with
// tolerable lag forgiven, analysed by Analyze; the step fails when the SLO
// breaks (`sustain` failing windows), when it ended early because it was
// clearly broken, or when a request broke its limits over all the judged
// windows together (its error rate, or its p95 with at least MinSamples
// samples). A step with fewer than `sustain` windows left to judge, or whose
// first violation coincides with generator lag, is generator-bound.
// Interrupted steps are not judged: the caller says so.
func JudgeStep(res *engine.Result, opts StepOptions) StepVerdict {
	var sv StepVerdict
	k := 0
	for k < len(res.Windows) && res.Windows[k].Start < opts.Skip {
		k++
	}
	sv.JudgedFrom = k
	judged, lagged := Tolerate(res.Windows[k:], res.Plan.SLO)
	sv.JudgedWindows, sv.LaggedWindows = len(judged), lagged
	for i := range judged {
		sv.MaxLagMs = max(sv.MaxLagMs, ms(judged[i].Lag.P99))
		if judged[i].GeneratorBound {
			sv.BoundWindows++
		}
	}
	minSamples := int64(opts.Options.MinSamples)
	if minSamples <= 0 {
		minSamples = DefaultMinSamples
	}
	sustain := opts.Options.Sustain
	if sustain <= 0 {
		sustain = res.Plan.SLO.Sustain
	}
	if sustain <= 0 {
		sustain = scenarios.DefaultSustain
	}
	agg := aggregate(judged, &res.Plan, minSamples)
	sv.Count, sv.Errors, sv.Sent, sv.OK, sv.Secs, sv.Latency = agg.count, agg.errors, agg.sent, agg.ok, agg.secs, agg.lat

	trimmed := *res
	trimmed.Windows = judged
	a := Analyze(&trimmed, opts.Options)
	sv.Analysis = a
	for _, wc := range a.Windows {
		if wc.Overall.Status == StatusFail {
			sv.FailedWindows++
		}
	}
	v := a.Verdict
	usable := sv.JudgedWindows - sv.BoundWindows
	behind := func(why string) {
		sv.Status = StatusGeneratorBound
		sv.Reason = fmt.Sprintf("%s: %d of %d windows generator-bound (send lag p99 up to %s)",
			why, sv.BoundWindows, sv.JudgedWindows, fmtDur(time.Duration(sv.MaxLagMs*float64(time.Millisecond))))
	}
	aborted := res.Meta.Aborted
	switch {
	case sv.Count == 0 && !aborted:
		sv.Status = StatusGeneratorBound
		sv.Reason = "spike sent nothing that could be judged"
	case usable < sustain && !aborted:
		behind(fmt.Sprintf("spike fell behind: too few windows to judge (%d, the SLO needs %d in a row)", usable, sustain))
	case v.Status == StatusInconclusive && a.Generator.Coincides:
		behind("spike fell behind when the SLO broke")
	case v.Status == StatusFail:
		sv.Status = StatusFail
		sv.Reason = sloReason(&sv, res.Plan.SLO.Limits, a)
	case aborted:
		sv.Status = StatusFail
		sv.Reason = strings.TrimPrefix(res.Meta.AbortReason, "aborted: ")
	case agg.failed != "":
		// Failures that came and went, never `sustain` windows in a row,
		// but too many over the step: at a constant rate the SLO is broken.
		sv.Status = StatusFail
		sv.Reason = "over the whole step: " + agg.failed
	default:
		sv.Status = StatusPass
	}
	if sv.Status == StatusFail {
		la := a
		if ref := withReference(&trimmed, opts); ref != nil {
			la = Analyze(ref, opts.Options)
		}
		lv := la.Verdict
		if lv.Status != StatusFail || lv.FirstLayer == "" {
			lv = v
		}
		sv.FirstLayer, sv.Symptom, sv.Cause = lv.FirstLayer, lv.Symptom, lv.Cause
		if sv.FirstLayer == "" && agg.failedReq != "" {
			sv.FirstLayer, sv.Symptom, sv.Cause = layerOfRequest(la, agg.failedReq, agg.failed+" over the whole step")
		}
	}
	return sv
}

// withReference returns the step's judged windows preceded by the reference
// step's (shifted so the clock runs on), or nil without a usable reference:
// one at a lower rate that spike sent on time.
func withReference(step *engine.Result, opts StepOptions) *engine.Result {
	ref := opts.Reference
	if ref == nil || len(step.Windows) == 0 {
		return nil
	}
	k := 0
	for k < len(ref.Windows) && ref.Windows[k].Start < opts.ReferenceSkip {
		k++
	}
	refWins, _ := Tolerate(ref.Windows[k:], ref.Plan.SLO)
	var usable []engine.Window
	for _, w := range refWins {
		if !w.GeneratorBound && w.PlannedRate > 0 && w.PlannedRate < 0.95*step.Windows[0].PlannedRate {
			usable = append(usable, w)
		}
	}
	if len(usable) == 0 {
		return nil
	}
	out := *step
	out.Windows = make([]engine.Window, 0, len(usable)+len(step.Windows))
	var t time.Duration
	add := func(w engine.Window, shift time.Duration) {
		w.Index = len(out.Windows)
		w.Start, w.End = w.Start+shift, w.End+shift
		t = w.End
		out.Windows = append(out.Windows, w)
	}
	shift := -usable[0].Start
	for _, w := range usable {
		add(w, shift)
	}
	shift = t - step.Windows[0].Start
	for _, w := range step.Windows {
		add(w, shift)
	}
	return &out
}

// ErrorRate is Errors over Count (0 without responses).
func (sv *StepVerdict) ErrorRate() float64 {
	if sv.Count == 0 {
		return 0
	}
	return float64(sv.Errors) / float64(sv.Count)
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

func aggregate(judged []engine.Window, plan *engine.PlanInfo, minSamples int64) stepFigures {
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
		hist          *hist.Hist
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
		if h, err := hist.Decode(w.Latency.Hist); err == nil && h.Total() > 0 {
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
			if h, err := hist.Decode(wr.Latency.Hist); err == nil {
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
	// The mix's order, then any other names.
	order := make([]string, 0, len(names))
	for _, r := range plan.Requests {
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
		lim := plan.SLO.For(name)
		who := ""
		if len(names) > 1 {
			who = name + ": "
		}
		if acc.count > 0 {
			if er := float64(acc.errors) / float64(acc.count); er > lim.ErrorRate {
				f.failed = fmt.Sprintf("%serror rate %s (limit %s)", who, stepPct(er), stepPct(lim.ErrorRate))
				return f
			}
		}
		n := acc.hist.Total()
		q := engine.Stats(acc.hist, false)
		if lim.P95 > 0 && n >= minSamples && q.P95 > lim.P95 {
			f.failed = fmt.Sprintf("%sp95 %s (limit %s)", who, fmtDur(q.P95), fmtDur(lim.P95))
			return f
		}
		if lim.P99 > 0 && n >= 5*minSamples && q.P99 > lim.P99 {
			f.failed = fmt.Sprintf("%sp99 %s (limit %s)", who, fmtDur(q.P99), fmtDur(lim.P99))
			return f
		}
	}
	f.failedReq = ""
	return f
}

// sloReason says which limits a failed step broke, in its merged figures

// sloReason says which limits a failed step broke, in its merged figures
// (or, when those are within the SLO, in its failing windows).
func sloReason(st *StepVerdict, lim scenarios.Limits, a *Analysis) string {
	var parts []string
	if st.Count > 0 && st.ErrorRate() > lim.ErrorRate {
		parts = append(parts, fmt.Sprintf("error rate %s (limit %s)", stepPct(st.ErrorRate()), stepPct(lim.ErrorRate)))
	}
	if lim.P95 > 0 && st.Latency.P95 > lim.P95 {
		parts = append(parts, fmt.Sprintf("p95 %s (limit %s)", fmtDur(st.Latency.P95), fmtDur(lim.P95)))
	}
	if len(parts) > 0 {
		return strings.Join(parts, ", ")
	}
	// The merged figures hide it: name what failed in the windows.
	seen := map[string]bool{}
	for _, wc := range a.Windows {
		if wc.Overall.Status != StatusFail {
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

// layerOfRequest names the layer of a request that broke its limits over a whole
// step (the analysis found no break to attribute), with what it broke as
// the symptom, and the layer's likely cause when the analysis gave one.
func layerOfRequest(a *Analysis, req, what string) (layer, symptom, cause string) {
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

// fmtDur formats a latency: "0.7 ms", "12 ms", "850 ms", "1.9 s".
func fmtDur(d time.Duration) string { return fmtMs(ms(d)) }

// stepPct formats a fraction as a percentage the way step reasons do:
// "87%", "1.6%", "1%".
func stepPct(f float64) string {
	p := 100 * f
	if p >= 10 {
		return fmt.Sprintf("%.0f%%", p)
	}
	return strings.TrimSuffix(fmt.Sprintf("%.1f", p), ".0") + "%"
}
