package search

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/scenarios"
)

// AbortRule returns the engine.Config.Abort hook that enforces the plan's
// abort: section (p.Abort), or nil when the plan has none:
//
//	if r := search.AbortRule(plan); r != nil { cfg.Abort = r }
//
// See NewAbortRule for the rule. The hook keeps state: use a new one for
// every run.
func AbortRule(p *scenarios.Plan) func(closed []engine.Window) (bool, string) {
	if p == nil || !p.Abort.Enabled() {
		return nil
	}
	return NewAbortRule(p.Abort, 0)
}

// NewAbortRule returns an engine.Config.Abort hook that stops a run once the
// target is clearly down: every window over a stretch of at least a.For
// (back to back, in time order) had responses and an error rate above
// a.ErrorRate or an overall latency p95 above a.P95 (a zero limit is not
// checked). The stretch's windows are judged overall, the whole target at
// once. Generator-bound windows never count: they end a stretch, since spike
// and not the target fell behind. Windows starting before skip are ignored
// (a warm-up). A zero For means one window.
//
// The reason names the figures, e.g. "aborted: error rate 87% for 5 s
// (limit 50%)". The hook is called on the run's goroutine with every window
// closed so far; it remembers how far it has looked, so each window is
// judged once. It is not safe for concurrent use; use one per run.
func NewAbortRule(a scenarios.Abort, skip time.Duration) func(closed []engine.Window) (bool, string) {
	if !a.Enabled() {
		return nil
	}
	st := &abortState{rule: a, skip: skip}
	return st.check
}

// abortState is the running state of one abort rule.
type abortState struct {
	rule scenarios.Abort
	skip time.Duration
	seen int // windows judged so far

	// The current stretch of down windows.
	span            time.Duration
	count, errs     uint64
	allErr, allSlow bool
	minP95, maxP95  time.Duration
}

func (s *abortState) reset() {
	s.span, s.count, s.errs = 0, 0, 0
	s.allErr, s.allSlow = true, true
	s.minP95, s.maxP95 = time.Duration(math.MaxInt64), 0
}

func (s *abortState) check(closed []engine.Window) (bool, string) {
	if s.seen == 0 {
		s.reset()
	}
	for ; s.seen < len(closed); s.seen++ {
		w := &closed[s.seen]
		if w.Start < s.skip {
			continue
		}
		n := w.OK + w.Errors
		if w.GeneratorBound || n == 0 {
			s.reset()
			continue
		}
		errRate := float64(w.Errors) / float64(n)
		badErr := s.rule.ErrorRate > 0 && errRate > s.rule.ErrorRate
		slow := s.rule.P95 > 0 && w.Latency.Count > 0 && w.Latency.P95 > s.rule.P95
		if !badErr && !slow {
			s.reset()
			continue
		}
		s.span += w.End - w.Start
		s.count += n
		s.errs += w.Errors
		s.allErr = s.allErr && badErr
		s.allSlow = s.allSlow && slow
		s.minP95 = min(s.minP95, w.Latency.P95)
		s.maxP95 = max(s.maxP95, w.Latency.P95)
		if s.span >= s.rule.For {
			s.seen++
			return true, s.reason()
		}
	}
	return false, ""
}

// reason describes the stretch that triggered the rule.
func (s *abortState) reason() string {
	rate := float64(s.errs) / float64(s.count)
	held := fmtSeconds(s.span)
	switch {
	case s.allErr:
		return fmt.Sprintf("aborted: error rate %s for %s (limit %s)", fmtPct(rate), held, fmtPct(s.rule.ErrorRate))
	case s.allSlow:
		return fmt.Sprintf("aborted: p95 over %s for %s (limit %s)", fmtLatency(s.minP95), held, fmtLatency(s.rule.P95))
	}
	return fmt.Sprintf("aborted: error rate over %s or p95 over %s for %s (error rate %s, p95 up to %s)",
		fmtPct(s.rule.ErrorRate), fmtLatency(s.rule.P95), held, fmtPct(rate), fmtLatency(s.maxP95))
}

// fmtPct formats a fraction as a percentage: "87%", "1.6%", "1%", "0.5%".
func fmtPct(f float64) string {
	p := 100 * f
	if p >= 10 {
		return fmt.Sprintf("%.0f%%", p)
	}
	return strings.TrimSuffix(fmt.Sprintf("%.1f", p), ".0") + "%"
}

// fmtSeconds formats a stretch of time: "5 s", "2.5 s", "500 ms".
func fmtSeconds(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d%time.Second == 0:
		return fmt.Sprintf("%d s", d/time.Second)
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// fmtLatency formats a latency: "0.7 ms", "12 ms", "850 ms", "1.9 s", "12 s".
func fmtLatency(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v >= 10000:
		return fmt.Sprintf("%.0f s", v/1000)
	case v >= 1000:
		return fmt.Sprintf("%.1f s", v/1000)
	case v >= 10:
		return fmt.Sprintf("%.0f ms", v)
	}
	return fmt.Sprintf("%.1f ms", v)
}
