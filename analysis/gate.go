package analysis

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/scenarios"
)

// Gate settings that a scenario does not choose.
const (
	// DefaultMaxRegression is the regression allowed against a previous
	// result when the gate sets no max_regression: 10%.
	DefaultMaxRegression = 0.10
	// ReachTolerance is how far below a gate rate (survive, min_capacity)
	// the run's highest planned window may stay and still count as having
	// tested it: a ramp's last window plans a little under the ramp's end.
	ReachTolerance = 0.05
)

// StatusSkipped marks a gate check that could not run because an input is
// missing (a regression check without a previous result). It never fails a
// gate.
const StatusSkipped Status = "skipped"

// Gate check names, stable across runs so that CI can track them.
const (
	CheckSLO           = "slo"
	CheckCapacity      = "min capacity"
	CheckRegCapacity   = "regression: capacity"
	CheckRegP95        = "regression: p95 at baseline"
	CheckRegression    = "regression"
	checkRequestPrefix = "request "
)

// GateCheck is one check of a release gate.
type GateCheck struct {
	// Name identifies the check: "slo", "min capacity", "regression:
	// capacity", "regression: p95 at baseline", or "request NAME" for one
	// request's own SLO.
	Name string `json:"name"`
	// Status is pass, fail, inconclusive or skipped.
	Status Status `json:"status"`
	// Request is the request a "request NAME" check is about.
	Request string `json:"request,omitempty"`
	// Measured is what the run showed and Limit what the gate allows, both
	// with units: "worst p95 612 ms, worst error rate 4%" against "p95 ≤
	// 500 ms, error rate ≤ 1% in every window up to 20 req/s (2.0x)".
	Measured string `json:"measured"`
	Limit    string `json:"limit"`
	// Message says in one sentence why the check has its status.
	Message string `json:"message"`
	// At is the first window that failed the check, if any.
	At *Point `json:"at,omitempty"`
}

// GateReport is the outcome of a release gate: its checks and the overall
// status that `spike run --gate` turns into an exit code.
type GateReport struct {
	// Status is fail when any check failed, else inconclusive when any check
	// was inconclusive (spike could not send the load, the target was
	// unreachable, nothing could be judged), else pass.
	Status Status `json:"status"`
	// Headline is one line for a terminal or a CI page.
	Headline string `json:"headline"`
	// Gate is the gate that was enforced.
	Gate scenarios.Gate `json:"gate"`
	// Checks are the gate's checks: the SLO, the capacity, the regression
	// checks, then one per request of the mix.
	Checks []GateCheck `json:"checks"`
	// Comparison is the comparison with the previous result, if one was given.
	Comparison *Comparison `json:"comparison,omitempty"`
	// Notes are remarks on the gate itself (the default SLO gate was used,
	// the target was unreachable).
	Notes []string `json:"notes,omitempty"`
}

// Count returns how many checks have status s.
func (r *GateReport) Count(s Status) int {
	n := 0
	for _, c := range r.Checks {
		if c.Status == s {
			n++
		}
	}
	return n
}

// Gate judges the run res, analysed as a (nil: Analyze(res, Options{})),
// against the release gate g and, when prev is not nil, against that
// previous result:
//
//   - "slo": every window planned at or below g.Survive (the whole run when
//     Survive is 0) meets the SLO on the whole target's figures. Windows
//     with too few samples do not fail it. Generator-bound windows are not
//     judged, and say so: they make the check inconclusive when a violation
//     follows them within `sustain` windows, when they outnumber the judged
//     windows, or when the top of the range was only sent by a lagging
//     generator. A run that never planned Survive is inconclusive too.
//   - "min capacity" (when g.MinCapacity > 0): the analysis' capacity is at
//     least MinCapacity.
//   - "regression: capacity" and "regression: p95 at baseline" (when prev is
//     given): neither got worse by more than g.MaxRegression
//     (DefaultMaxRegression when 0), by Compare's rules. Without prev a
//     gate with MaxRegression set gets a skipped "regression" check.
//   - "request NAME", one per request: as "slo", for the request's own
//     limits.
//
// When the target was unreachable (no request got any HTTP response, and
// most failed to connect: refused, DNS, TLS) every check is inconclusive.
// Gate does no I/O and does not modify res, a or prev.
func Gate(res *engine.Result, a *Analysis, g scenarios.Gate, prev *engine.Result) GateReport {
	if a == nil {
		a = Analyze(res, Options{})
	}
	gc := newGateCtx(res, a, g)
	rep := GateReport{Gate: g}
	if !g.Set {
		rep.Notes = append(rep.Notes, "the scenario has no gate section: the SLO is enforced over the whole run")
	}

	rep.Checks = append(rep.Checks, gc.sloCheck())
	if g.MinCapacity > 0 {
		rep.Checks = append(rep.Checks, gc.capacityCheck())
	}
	switch {
	case prev != nil:
		maxReg := g.MaxRegression
		if maxReg <= 0 {
			maxReg = DefaultMaxRegression
			rep.Notes = append(rep.Notes, fmt.Sprintf("the gate sets no max_regression: %s is allowed against the previous result", fmtPct(maxReg)))
		}
		prevA := Analyze(prev, gateOptionsOf(a.Settings))
		cmp := compareAnalyses(prev, prevA, res, a, maxReg)
		rep.Comparison = &cmp
		rep.Checks = append(rep.Checks,
			regressionCheck(CheckRegCapacity, cmp.Capacity, cmp, "drop"),
			regressionCheck(CheckRegP95, cmp.P95AtBaseline, cmp, "rise"))
	case g.MaxRegression > 0:
		rep.Checks = append(rep.Checks, GateCheck{
			Name: CheckRegression, Status: StatusSkipped, Measured: "no previous result",
			Limit:   fmt.Sprintf("capacity drop and p95-at-baseline rise ≤ %s", fmtPct(g.MaxRegression)),
			Message: "no previous result to compare with: pass one with --baseline-result OLD.json",
		})
	}
	for _, name := range gc.requestNames() {
		rep.Checks = append(rep.Checks, gc.requestCheck(name))
	}

	if down, why := targetUnreachable(res); down {
		rep.Notes = append(rep.Notes, why)
		for k := range rep.Checks {
			if rep.Checks[k].Status != StatusSkipped {
				rep.Checks[k].Status = StatusInconclusive
				rep.Checks[k].Message = why
				rep.Checks[k].At = nil
			}
		}
		rep.Status = StatusInconclusive
		rep.Headline = "gate inconclusive: " + why
		return rep
	}
	rep.Status, rep.Headline = gateOutcome(rep.Checks)
	return rep
}

// gateOutcome folds the checks into the gate's status and headline.
func gateOutcome(checks []GateCheck) (Status, string) {
	var failed, inconclusive []string
	var firstInconclusive string
	judged := 0
	for _, c := range checks {
		switch c.Status {
		case StatusFail:
			failed = append(failed, c.Name)
		case StatusInconclusive:
			inconclusive = append(inconclusive, c.Name)
			if firstInconclusive == "" {
				firstInconclusive = c.Name + ": " + c.Message
			}
		}
		if c.Status != StatusSkipped {
			judged++
		}
	}
	switch {
	case len(failed) > 0:
		return StatusFail, fmt.Sprintf("gate failed: %s (%d of %d checks failed)", strings.Join(failed, ", "), len(failed), judged)
	case len(inconclusive) > 0:
		return StatusInconclusive, fmt.Sprintf("gate inconclusive: %s", firstInconclusive)
	}
	return StatusPass, fmt.Sprintf("gate passed: all %d checks passed", judged)
}

// gateCtx holds what the checks of one Gate call share.
type gateCtx struct {
	res      *engine.Result
	a        *Analysis
	g        scenarios.Gate
	sustain  int
	minSamp  int
	baseline float64
	top      scenarios.Limits // the SLO, defaults filled in
}

func newGateCtx(res *engine.Result, a *Analysis, g scenarios.Gate) *gateCtx {
	gc := &gateCtx{
		res: res, a: a, g: g,
		sustain: a.Settings.Sustain, minSamp: a.Settings.MinSamples, baseline: res.Plan.Baseline,
		top: res.Plan.SLO.Limits,
	}
	if gc.sustain <= 0 {
		gc.sustain = scenarios.DefaultSustain
	}
	if gc.minSamp <= 0 {
		gc.minSamp = DefaultMinSamples
	}
	if gc.top == (scenarios.Limits{}) {
		gc.top = scenarios.Limits{P95: scenarios.DefaultP95, ErrorRate: scenarios.DefaultErrorRate}
	}
	return gc
}

// inScope reports whether window check wc is within the survive range.
func (gc *gateCtx) inScope(wc *WindowCheck) bool {
	s := gc.g.Survive
	return s <= 0 || wc.PlannedRPS <= s*(1+1e-9)+1e-9
}

// point returns the Point of a window check.
func (gc *gateCtx) point(wc *WindowCheck) *Point {
	p := &Point{Window: wc.Index, AtMs: wc.AtMs, RateRPS: wc.PlannedRPS}
	if len(gc.res.Plan.Journeys) > 0 {
		p.Unit = gc.res.Plan.RateUnit()
	}
	if gc.baseline > 0 {
		p.Multiple = wc.PlannedRPS / gc.baseline
	}
	return p
}

// rateText formats a rate with its multiple: "20 req/s (2.0x)".
func (gc *gateCtx) rateText(r float64) string {
	p := &Point{RateRPS: r}
	if len(gc.res.Plan.Journeys) > 0 {
		p.Unit = gc.res.Plan.RateUnit()
	}
	if gc.baseline > 0 {
		p.Multiple = r / gc.baseline
	}
	return p.at()
}

// scopeText says which windows a check covers.
func (gc *gateCtx) scopeText() string {
	if gc.g.Survive <= 0 {
		return "in every window of the run"
	}
	return "in every window up to " + gc.rateText(gc.g.Survive)
}

// gateScan summarises one series of window checks within the scope.
type gateScan struct {
	windows      int // in scope, with responses, not generator-bound
	judged       int // of them, passed (or, overall, failed only by requests)
	insufficient int
	bound        int // generator-bound windows in scope
	failed       int
	suspect      int // failing windows within `sustain` after generator lag
	first        *WindowCheck
	firstFailed  []string
	firstCheck   Check
	worstP95     float64
	worstP99     float64
	worstErr     float64
	hasP95       bool
	maxPlanned   float64 // highest planned rate of any window of the run
	maxScoped    float64 // highest planned rate of a window in scope
	maxJudged    float64 // highest planned rate of a judged window in scope
}

// scan walks the windows in scope. pick returns the check of the series in
// a window (false when the series had no responses there); own filters a
// failing check's Failed list to the limits this gate check is about.
func (gc *gateCtx) scan(pick func(*WindowCheck) (Check, bool), own func([]string) []string) gateScan {
	var s gateScan
	ws := gc.a.Windows
	firstSuspect := (*WindowCheck)(nil)
	var firstSuspectFailed []string
	var firstSuspectCheck Check
	for i := range ws {
		wc := &ws[i]
		s.maxPlanned = max(s.maxPlanned, wc.PlannedRPS)
		if !gc.inScope(wc) {
			continue
		}
		s.maxScoped = max(s.maxScoped, wc.PlannedRPS)
		if wc.GeneratorBound {
			s.bound++
			continue
		}
		c, ok := pick(wc)
		if !ok || (c.Count == 0 && c.Status == StatusInsufficient) {
			continue
		}
		s.windows++
		var fails []string
		if c.Status == StatusFail {
			fails = own(c.Failed)
		}
		if c.Count > 0 {
			s.worstErr = max(s.worstErr, c.ErrorRate())
		}
		if c.Status == StatusPass || slices.Contains(fails, "p95") || c.Count >= uint64(gc.minSamp) {
			s.worstP95 = max(s.worstP95, c.P95Ms)
			s.hasP95 = true
		}
		if c.Status == StatusPass || slices.Contains(fails, "p99") || c.Count >= uint64(5*gc.minSamp) {
			s.worstP99 = max(s.worstP99, c.P99Ms)
		}
		switch {
		case len(fails) > 0:
			s.failed++
			suspect := false
			for k := max(0, i-gc.sustain); k < i; k++ {
				if ws[k].GeneratorBound {
					suspect = true
				}
			}
			switch {
			case suspect:
				s.suspect++
				if firstSuspect == nil {
					firstSuspect, firstSuspectFailed, firstSuspectCheck = wc, fails, c
				}
			case s.first == nil:
				s.first, s.firstFailed, s.firstCheck = wc, fails, c
			}
		case c.Status == StatusInsufficient:
			s.insufficient++
		default:
			s.judged++
			s.maxJudged = max(s.maxJudged, wc.PlannedRPS)
		}
	}
	if s.first == nil && firstSuspect != nil {
		s.first, s.firstFailed, s.firstCheck = firstSuspect, firstSuspectFailed, firstSuspectCheck
	}
	return s
}

// gateOwnFailures keeps the limits of the merged figures themselves ("p95"),
// dropping a request's own ("feed: p95"), which its request check covers.
func gateOwnFailures(failed []string) []string {
	var out []string
	for _, f := range failed {
		if !strings.Contains(f, ": ") {
			out = append(out, f)
		}
	}
	return out
}

// gateAllFailures keeps every failed limit.
func gateAllFailures(failed []string) []string { return failed }

// limitsText formats SLO limits: "p95 ≤ 500 ms, error rate ≤ 1%".
func gateLimitsText(l scenarios.Limits) string {
	parts := []string{}
	if l.P95 > 0 {
		parts = append(parts, "p95 ≤ "+fmtMs(ms(l.P95)))
	}
	if l.P99 > 0 {
		parts = append(parts, "p99 ≤ "+fmtMs(ms(l.P99)))
	}
	parts = append(parts, "error rate ≤ "+fmtPct(l.ErrorRate))
	return strings.Join(parts, ", ")
}

// measuredText formats the worst figures of a scan.
func gateMeasuredText(s gateScan, l scenarios.Limits) string {
	if s.windows == 0 {
		return "no window judged"
	}
	var parts []string
	if l.P95 > 0 {
		if s.hasP95 {
			parts = append(parts, "worst p95 "+fmtMs(s.worstP95))
		} else {
			parts = append(parts, "p95 not judged (too few samples)")
		}
	}
	if l.P99 > 0 && s.worstP99 > 0 {
		parts = append(parts, "worst p99 "+fmtMs(s.worstP99))
	}
	parts = append(parts, "worst error rate "+fmtPct(s.worstErr))
	return strings.Join(parts, ", ")
}

// failureText formats what failed in a window: "p95 612 ms, error rate 4%".
func gateFailureText(c Check, failed []string) string {
	var parts []string
	for _, f := range failed {
		switch f {
		case "p95":
			parts = append(parts, "p95 "+fmtMs(c.P95Ms))
		case "p99":
			parts = append(parts, "p99 "+fmtMs(c.P99Ms))
		case "error_rate":
			parts = append(parts, fmt.Sprintf("error rate %s (%d of %d)", fmtPct(c.ErrorRate()), c.Errors, c.Count))
		default:
			parts = append(parts, f)
		}
	}
	return strings.Join(parts, ", ")
}

// judgeScan turns a scan into a check's status and message. what names the
// series ("the target", "feed").
//
// Generator-bound windows are never judged. They make the check
// inconclusive when a violation follows them within `sustain` windows, when
// they outnumber the judged windows, or when the top of the range (survive,
// or the run's peak) was only sent by a lagging generator; otherwise the
// check passes on the windows that were judged, and its message counts the
// others.
func (gc *gateCtx) judgeScan(c *GateCheck, s gateScan, what string) {
	scope := "of the run"
	top := s.maxScoped
	if gc.g.Survive > 0 {
		scope = "up to " + gc.rateText(gc.g.Survive)
		top = gc.g.Survive
	}
	notReached := gc.g.Survive > 0 && s.maxPlanned < gc.g.Survive*(1-ReachTolerance)
	untested := s.maxJudged < top*(1-ReachTolerance)
	switch {
	case s.windows > 0 && s.failed+s.judged < gc.sustain && s.bound == 0:
		// As the verdict: too few windows to hold or break the SLO.
		c.Status = StatusInconclusive
		c.Message = fmt.Sprintf("too short to judge: %s %s judged (%d failing), and the SLO needs %d in a row: run longer",
			what, plural(uint64(s.failed+s.judged), "window", "windows"), s.failed, gc.sustain)
	case s.failed > s.suspect:
		c.Status = StatusFail
		c.At = gc.point(s.first)
		c.Message = fmt.Sprintf("%s violated the SLO in %s %s, first at %s (planned %s): %s",
			what, plural(uint64(s.failed), "window", "windows")+fmt.Sprintf(" of %d", s.windows), scope,
			clock(s.first.AtMs), c.At.at(), gateFailureText(s.firstCheck, s.firstFailed))
	case s.failed > 0:
		c.Status = StatusInconclusive
		c.At = gc.point(s.first)
		c.Message = fmt.Sprintf("%s violated the SLO at %s (planned %s) right after spike's own send lag: spike, not the target, may have fallen behind",
			what, clock(s.first.AtMs), c.At.at())
	case notReached:
		c.Status = StatusInconclusive
		c.Message = fmt.Sprintf("the run planned at most %s, so it never tested survive %s: raise the scenario's peak",
			gc.rateText(s.maxPlanned), gc.rateText(gc.g.Survive))
	case s.bound > 0 && (untested || s.bound > s.judged):
		c.Status = StatusInconclusive
		c.Message = fmt.Sprintf("spike could not send the planned load on time in %s %s (generator-bound), so %s was never judged at %s: give spike more connections or shard the run",
			plural(uint64(s.bound), "window", "windows"), scope, what, gc.rateText(top))
		if !untested {
			c.Message = fmt.Sprintf("spike could not send the planned load on time in %s %s (generator-bound), more than it judged: give spike more connections or shard the run",
				plural(uint64(s.bound), "window", "windows"), scope)
		}
	case s.judged == 0:
		c.Status = StatusInconclusive
		c.Message = fmt.Sprintf("no window %s had enough responses to judge %s (%d with too few samples)", scope, what, s.insufficient)
		if s.windows == 0 {
			c.Message = fmt.Sprintf("%s had no responses %s", what, scope)
		}
	default:
		c.Status = StatusPass
		c.Message = fmt.Sprintf("%s held the SLO in %s %s", what, plural(uint64(s.judged), "window", "windows"), scope)
		var others []string
		if s.insufficient > 0 {
			others = append(others, fmt.Sprintf("%d with too few samples", s.insufficient))
		}
		if s.bound > 0 {
			others = append(others, fmt.Sprintf("%d where spike's generator lagged", s.bound))
		}
		if len(others) > 0 {
			c.Message += " (not judged: " + strings.Join(others, ", ") + ")"
		}
	}
}

// sloCheck checks the whole target's figures.
func (gc *gateCtx) sloCheck() GateCheck {
	lim := gc.mergedLimits()
	s := gc.scan(func(wc *WindowCheck) (Check, bool) { return wc.Overall, true }, gateOwnFailures)
	c := GateCheck{Name: CheckSLO, Limit: gateLimitsText(lim) + " " + gc.scopeText(), Measured: gateMeasuredText(s, lim)}
	gc.judgeScan(&c, s, "the target")
	return c
}

// requestCheck checks one request against its own limits.
func (gc *gateCtx) requestCheck(name string) GateCheck {
	lim := gc.limitsFor(name)
	s := gc.scan(func(wc *WindowCheck) (Check, bool) {
		c, ok := wc.Requests[name]
		return c, ok
	}, gateAllFailures)
	c := GateCheck{Name: checkRequestPrefix + name, Request: name, Limit: gateLimitsText(lim) + " " + gc.scopeText(), Measured: gateMeasuredText(s, lim)}
	gc.judgeScan(&c, s, name)
	return c
}

// requestNames lists the requests of the analysis, in mix order.
func (gc *gateCtx) requestNames() []string {
	var out []string
	for _, r := range gc.a.Requests {
		out = append(out, r.Name)
	}
	if len(out) == 0 {
		for _, r := range gc.res.Plan.Requests {
			out = append(out, r.Name)
		}
	}
	return out
}

// limitsFor returns a request's limits.
func (gc *gateCtx) limitsFor(name string) scenarios.Limits {
	if l, ok := gc.res.Plan.SLO.Requests[name]; ok {
		return l
	}
	return gc.top
}

// mergedLimits returns the limits the whole target's merged figures are
// judged by: for each limit the loosest of the requests' (see the package
// documentation).
func (gc *gateCtx) mergedLimits() scenarios.Limits {
	names := gc.requestNames()
	if len(names) == 0 {
		return gc.top
	}
	out := gc.limitsFor(names[0])
	for _, n := range names[1:] {
		l := gc.limitsFor(n)
		if out.P95 != 0 && (l.P95 == 0 || l.P95 > out.P95) {
			out.P95 = l.P95
		}
		if out.P99 != 0 && (l.P99 == 0 || l.P99 > out.P99) {
			out.P99 = l.P99
		}
		out.ErrorRate = max(out.ErrorRate, l.ErrorRate)
	}
	return out
}

// capacityCheck checks the analysis' capacity against g.MinCapacity.
func (gc *gateCtx) capacityCheck() GateCheck {
	want := gc.g.MinCapacity
	v := &gc.a.Verdict
	c := GateCheck{Name: CheckCapacity, Limit: "≥ " + gc.rateText(want), Measured: "none held"}
	held := 0.0
	if v.Capacity != nil {
		held = v.Capacity.RateRPS
		c.Measured = v.Capacity.at()
	}
	peak := v.PeakRPS
	for _, wc := range gc.a.Windows {
		peak = max(peak, wc.PlannedRPS)
	}
	windows := plural(uint64(gc.sustain), "window", "windows")
	switch {
	case held >= want*(1-1e-9):
		c.Status = StatusPass
		c.Message = fmt.Sprintf("the target held %s within the SLO for %s", v.Capacity.at(), windows)
	case v.Status == StatusInconclusive:
		c.Status = StatusInconclusive
		c.Message = strings.TrimPrefix(v.Headline, "inconclusive: ")
		if v.Reason != "" {
			c.Message += ": " + v.Reason
		}
	case peak < want*(1-1e-9):
		c.Status = StatusInconclusive
		c.Message = fmt.Sprintf("the run planned at most %s, so it cannot show a capacity of %s: raise the scenario's peak", gc.rateText(peak), gc.rateText(want))
	case v.Breakpoint != nil:
		c.Status = StatusFail
		c.At = v.Breakpoint
		c.Message = fmt.Sprintf("the SLO broke at %s (at %s)", v.Breakpoint.at(), clock(v.Breakpoint.AtMs))
		if v.Capacity != nil {
			c.Message += "; it held " + v.Capacity.at()
		}
	default:
		c.Status = StatusFail
		c.Message = fmt.Sprintf("no %s in a row at or above %s passed the SLO; hold the rate there for longer", windows, gc.rateText(want))
	}
	return c
}

// regressionCheck turns one compared metric into a gate check; verb is
// "drop" or "rise", the bad direction.
func regressionCheck(name string, m Metric, cmp Comparison, verb string) GateCheck {
	c := GateCheck{
		Name:     name,
		Measured: m.text(),
		Limit:    fmt.Sprintf("%s ≤ %s against the previous result", verb, fmtPct(cmp.MaxRegression)),
	}
	if m.Unit == UnitMs {
		c.Limit += fmt.Sprintf(" (or under %s)", fmtMs(MinP95RegressionMs))
	}
	suspect := cmp.Old.Status == StatusInconclusive || cmp.New.Status == StatusInconclusive
	switch {
	case m.Trend == TrendWorse && suspect:
		c.Status = StatusInconclusive
		c.Message = fmt.Sprintf("%s got worse (%s), but one of the runs was inconclusive", m.Label, m.text())
	case m.Trend == TrendWorse:
		c.Status = StatusFail
		c.Message = fmt.Sprintf("%s regressed: %s, past the allowed %s", m.Label, m.text(), fmtPct(cmp.MaxRegression))
	case m.Trend == TrendNone:
		c.Status = StatusInconclusive
		c.Message = fmt.Sprintf("%s cannot be compared: %s", m.Label, m.text())
	default:
		c.Status = StatusPass
		c.Message = fmt.Sprintf("%s: %s, within %s", m.Label, m.text(), fmtPct(cmp.MaxRegression))
	}
	return c
}

// optionsOf returns the Options an analysis was made with.
func gateOptionsOf(s Settings) Options {
	return Options{Sustain: s.Sustain, CrackFactor: s.CrackFactor, Knee: s.Knee, MinSamples: s.MinSamples}
}

// unreachable reports whether the target could not be reached at all: no
// request got an HTTP response, and most failed to connect (refused, DNS,
// TLS). It returns a sentence saying so.
func targetUnreachable(res *engine.Result) (bool, string) {
	var ok, errs, conn, statuses uint64
	kinds := map[string]uint64{}
	for _, t := range res.Requests {
		ok += t.OK
		errs += t.Errors
		for _, n := range t.Statuses {
			statuses += n
		}
		for k, n := range t.ErrorKinds {
			switch k {
			case engine.KindRefused, engine.KindDNS, engine.KindTLS:
				conn += n
				kinds[k] += n
			}
		}
	}
	if errs == 0 || ok > 0 || statuses > 0 || 2*conn < errs {
		return false, ""
	}
	var parts []string
	for _, k := range engine.ErrorKinds() {
		if n := kinds[k]; n > 0 {
			label := k
			if k == engine.KindRefused {
				label = "connection refused"
			}
			parts = append(parts, fmt.Sprintf("%s ×%d", label, n))
		}
	}
	return true, fmt.Sprintf("the target was unreachable: none of %d requests got a response (%s)", errs, strings.Join(parts, ", "))
}
