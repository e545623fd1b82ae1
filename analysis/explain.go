package analysis

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/spikeload/spike/engine"
)

// layerState is the working state of one layer while the report is built.
type layerState struct {
	rep       LayerReport
	idx       int // into a.layers; -1 for a synthesised backend entry
	cracked   []episode
	broke     []episode
	firstFail int
	severity  float64
	wide      *wideFailure
	// collateral is set on a layer whose failures are the backend's: the
	// same 5xx, with the same message, as every other endpoint.
	collateral *wideFailure
}

// build assembles the Analysis from the judged windows.
func (a *analyzer) build() *Analysis {
	out := &Analysis{
		Settings: Settings{
			Sustain: a.sustain, CrackFactor: a.factor, Knee: a.knee, MinSamples: int(a.minSamples),
			SLO: limitsOf(a.top), BaselineRPS: a.baseline, LowLoadRPS: a.lowRate,
			WindowMs: a.winSec * 1000,
		},
	}
	if len(a.r.Plan.Journeys) > 0 {
		out.RateUnit = a.r.Plan.RateUnit()
	}
	for _, l := range a.low {
		if l {
			out.Settings.LowLoadWindows++
		}
	}
	out.Windows = a.windowChecks()

	// Overall breaks and cracks.
	eps := a.episodes(a.overallSt)
	for _, e := range eps {
		out.Breaks = append(out.Breaks, Episode{Start: *a.point(e.start), Recovered: a.point(e.end)})
	}
	if c := a.cracks(func(w int) stat { return a.overall[w] }, a.lowOverall); len(c) > 0 {
		out.Cracked = a.point(c[0].start)
	}

	out.Requests = a.requestReports()
	states := a.layerStates(out.Requests)
	breakStart := -1
	if len(eps) > 0 {
		breakStart = eps[0].start
	}
	ordered := a.order(states, breakStart)
	for _, s := range ordered {
		a.describe(s, out.Requests)
		out.Layers = append(out.Layers, s.rep)
	}

	gen, coincide, unproven := a.generator(breakStart)
	out.Generator = gen
	out.Readiness = a.readiness(out)
	out.Headers = a.audit(out.Requests)
	out.Recommendations = a.recommend(out)
	out.Stalls = a.stalls
	out.Verdict = a.verdict(out, eps, coincide, unproven)
	switch out.Verdict.NotTarget {
	case NotTargetClient, NotTargetUnreachable, NotTargetScenario:
		out.Recommendations = nil
		for k := range out.Layers {
			out.Layers[k].Rank = 0
		}
	}
	if a.r.Meta.Partial {
		a.note("the run was interrupted: it is judged on the windows it recorded")
	}
	out.Notes = a.notes
	return out
}

// windowChecks renders the judged windows.
func (a *analyzer) windowChecks() []WindowCheck {
	out := make([]WindowCheck, a.nwin)
	check := func(s stat, st Status, failed []string) Check {
		return Check{Status: st, Count: s.count, Errors: s.errors, P95Ms: ms(s.p95), P99Ms: ms(s.p99), Failed: failed}
	}
	for w := range a.nwin {
		win := &a.r.Windows[w]
		wc := WindowCheck{
			Index: w, AtMs: ms(win.Start), PlannedRPS: win.PlannedRate,
			SentRPS: float64(win.Sent) / a.winSec, OKRPS: float64(win.OK) / a.winSec,
			GeneratorBound: a.bound[w],
			Overall:        check(a.overall[w], a.overallSt[w], a.failed[w]),
		}
		for l, name := range a.layers {
			s := a.layerStat[w][l]
			if s.count == 0 && s.samples == 0 {
				continue
			}
			if wc.Layers == nil {
				wc.Layers = make(map[string]Check, len(a.layers))
			}
			wc.Layers[name] = check(s, a.layerSt[w][l], a.layerFail[w][l])
		}
		for i, name := range a.names {
			if !a.hasReq[w][i] {
				continue
			}
			if wc.Requests == nil {
				wc.Requests = make(map[string]Check, len(a.names))
			}
			wc.Requests[name] = check(a.reqStat[w][i], a.reqStatus(w, i), a.reqFail[w][i])
		}
		out[w] = wc
	}
	return out
}

// peak returns the highest p95 of windows judged with enough samples.
func (a *analyzer) peak(series func(w int) stat) (float64, *Point) {
	best, at := 0.0, -1
	for w := range a.nwin {
		s := series(w)
		if a.bound[w] || s.samples < a.minSamples {
			continue
		}
		if v := ms(s.p95); v > best {
			best, at = v, w
		}
	}
	return best, a.point(at)
}

// requestReports builds one report per request.
func (a *analyzer) requestReports() []RequestReport {
	out := make([]RequestReport, len(a.names))
	for i, name := range a.names {
		info, t, at := a.info[i], a.totals[i], a.attrib[i]
		rr := RequestReport{
			Name: name, Method: info.Method, URL: info.URL, Layer: at.layer, Evidence: at.summary(),
			Mechanism: at.mechanism, Confidence: at.confidence, Weighed: at.evidence,
			Share: info.Share, Count: t.Count, Errors: t.Errors, Statuses: t.Statuses,
			P95Ms: ms(t.Latency.P95), LowErrorRate: a.lowReq[i].errorRate(),
			Timing: at.comps, CacheHits: at.cacheHits,
		}
		if a.lowReq[i].samples >= a.minSamples {
			rr.LowP95Ms = ms(a.lowReq[i].p95)
		}
		series := func(w int) stat { return a.reqStat[w][i] }
		rr.PeakP95Ms, rr.PeakAt = a.peak(series)
		if c := a.cracks(series, a.lowReq[i]); len(c) > 0 {
			rr.Cracked = a.point(c[0].start)
		}
		st := make([]Status, a.nwin)
		for w := range a.nwin {
			st[w] = a.reqStatus(w, i)
		}
		if e := a.episodes(st); len(e) > 0 {
			rr.Broke = a.point(e[0].start)
		}
		out[i] = rr
	}
	return out
}

// layerStates builds the per-layer facts: cracks, breaks, peaks, totals.
func (a *analyzer) layerStates(reqs []RequestReport) []*layerState {
	var out []*layerState
	for l, name := range a.layers {
		s := &layerState{idx: l, firstFail: math.MaxInt}
		rep := &s.rep
		rep.Layer = name
		for _, i := range a.layerReqs[l] {
			rep.Requests = append(rep.Requests, a.names[i])
			rep.Share += reqs[i].Share
			rep.Count += reqs[i].Count
			rep.Errors += reqs[i].Errors
			for code, n := range reqs[i].Statuses {
				if rep.Statuses == nil {
					rep.Statuses = map[string]uint64{}
				}
				rep.Statuses[code] += n
			}
		}
		a.layerEvidence(l, rep)
		if a.lowLayer[l].samples >= a.minSamples {
			rep.LowP95Ms = ms(a.lowLayer[l].p95)
		}
		rep.LowErrorRate = a.lowLayer[l].errorRate()
		series := func(w int) stat { return a.layerStat[w][l] }
		rep.PeakP95Ms, rep.PeakAt = a.peak(series)
		s.cracked = a.cracks(series, a.lowLayer[l])
		if len(s.cracked) > 0 {
			rep.Cracked = a.point(s.cracked[0].start)
		}
		st := make([]Status, a.nwin)
		for w := range a.nwin {
			st[w] = a.layerSt[w][l]
			if st[w] == StatusFail && w < s.firstFail {
				s.firstFail = w
			}
		}
		s.broke = a.episodes(st)
		if len(s.broke) > 0 {
			b := s.broke[0]
			rep.Broke, rep.Recovered = a.point(b.start), a.point(b.end)
			// Severity in the break's first window: p95 over its low-load
			// p95, and the error rate, for ordering same-window breaks.
			ws := a.layerStat[b.start][l]
			if low := a.lowLayer[l].p95; low > 0 {
				s.severity = float64(ws.p95) / float64(low)
			}
			s.severity += 10 * ws.errorRate()
		}
		out = append(out, s)
	}
	return out
}

// wideFailure is a failure across most endpoints at once: the backend.
type wideFailure struct {
	window         int
	failing, total int
	layers         int
	statuses       map[string]uint64
	message        string // the detail of the most frequent 5xx error sample
}

// wideAt checks for 5xx responses across most endpoints in the windows from
// w (2 × sustain of them): at least 60% of the requests with responses there,
// at least 3 of them (or all, with fewer), in at least two layers.
func (a *analyzer) wideAt(w int) *wideFailure {
	end := min(a.nwin, w+2*a.sustain)
	wf := &wideFailure{window: w, statuses: map[string]uint64{}}
	layers := map[int]bool{}
	for i, name := range a.names {
		seen, failing := false, false
		for k := w; k < end; k++ {
			if !a.hasReq[k][i] {
				continue
			}
			seen = true
			for code, n := range a.r.Windows[k].Requests[name].Statuses {
				if c, err := strconv.Atoi(code); err == nil && c >= 500 && c <= 504 && n > 0 {
					failing = true
					wf.statuses[code] += n
				}
			}
		}
		if seen {
			wf.total++
		}
		if failing {
			wf.failing++
			layers[a.layerOf[i]] = true
		}
	}
	wf.layers = len(layers)
	need := min(3, wf.total)
	if wf.total < 2 || wf.failing < need || float64(wf.failing) < 0.6*float64(wf.total) || wf.layers < 2 {
		return nil
	}
	all := make([]int, len(a.names))
	for i := range all {
		all[i] = i
	}
	wf.message = topServerDetail(a.gather(all, w, end).samples)
	if m := statusLineRE.ReplaceAllString(wf.message, ""); dbTextRE.MatchString(m) || upstreamTextRE.MatchString(m) || cacheTextRE.MatchString(m) {
		// The answers name a dependency: that is what failed everywhere,
		// not the app's capacity.
		return nil
	}
	return wf
}

// order sorts the layers: broken ones by break window, ties by which
// degraded first (earlier crack, earlier first failing window, worse
// degradation), then the others in canonical order. A failure across most
// endpoints at the first break puts the backend first.
func (a *analyzer) order(states []*layerState, breakStart int) []*layerState {
	var broken, rest []*layerState
	for _, s := range states {
		if s.rep.Broke != nil {
			broken = append(broken, s)
		} else {
			rest = append(rest, s)
		}
	}
	crackW := func(s *layerState) int {
		if s.rep.Cracked == nil {
			return math.MaxInt
		}
		return s.rep.Cracked.Window
	}
	slices.SortStableFunc(broken, func(x, y *layerState) int {
		return cmp.Or(
			cmp.Compare(x.rep.Broke.Window, y.rep.Broke.Window),
			cmp.Compare(crackW(x), crackW(y)),
			cmp.Compare(x.firstFail, y.firstFail),
			cmp.Compare(y.severity, x.severity),
		)
	})
	first := breakStart
	if len(broken) > 0 && (first < 0 || broken[0].rep.Broke.Window < first) {
		first = broken[0].rep.Broke.Window
	}
	if first >= 0 {
		if wf := a.wideAt(first); wf != nil {
			var be *layerState
			for k, s := range broken {
				if s.rep.Layer == LayerBackend {
					be = s
					broken = slices.Delete(broken, k, k+1)
					break
				}
			}
			if be == nil {
				for k, s := range rest {
					if s.rep.Layer == LayerBackend {
						be = s
						rest = slices.Delete(rest, k, k+1)
						break
					}
				}
			}
			if be == nil {
				be = &layerState{idx: -1, firstFail: first}
				be.rep.Layer = LayerBackend
				be.rep.Requests = []string{}
			}
			be.wide = wf
			if be.rep.Broke == nil || be.rep.Broke.Window > first {
				be.rep.Broke = a.point(first)
				be.rep.Recovered = nil
				if breakStart == first {
					// The whole target's break is the backend's.
					eps := a.episodes(a.overallSt)
					be.rep.Recovered = a.point(eps[0].end)
				}
			}
			broken = append([]*layerState{be}, broken...)
			for _, s := range broken[1:] {
				if s.idx >= 0 && wf.message != "" && topServerDetail(a.gather(a.layerReqs[s.idx], 0, 0).samples) == wf.message {
					s.collateral = wf
					s.rep.Collateral = true
				}
			}
		}
	}
	for k, s := range broken {
		s.rep.Rank = k + 1
		for _, o := range broken {
			if o != s && o.rep.Broke.Window == s.rep.Broke.Window {
				s.rep.SameWindow = append(s.rep.SameWindow, o.rep.Layer)
			}
		}
	}
	return append(broken, rest...)
}

// describe fills a layer's symptom and cause.
func (a *analyzer) describe(s *layerState, reqs []RequestReport) {
	if s.rep.Broke == nil && s.rep.Cracked == nil {
		return
	}
	s.rep.Symptom = a.symptom(s, reqs)
	s.rep.Cause = causeOf(s.rep.Layer, s.rep.Mechanism, s.rep.Confidence)
	if s.rep.Layer == LayerThirdParty && s.rep.Symptom.Class == SymptomRateLimited {
		// The provider said so (a 429, passed on or quoted).
		s.rep.Cause = causeRateLimitedAPI
	}
	if s.rep.Symptom.Class == SymptomErrorsAcrossEndpoints {
		switch s.rep.Mechanism {
		case MechShedding, MechRateLimit:
			// Fast refusals everywhere: a limiter, not a lack of instances.
			s.rep.Cause = causeOf(LayerBackend, s.rep.Mechanism, s.rep.Confidence)
		default:
			s.rep.Cause = causes[LayerBackend]
		}
	}
	if s.collateral != nil {
		s.rep.Symptom.Class = SymptomErrorsAcrossEndpoints
		s.rep.Symptom.Text = fmt.Sprintf("the same 5xx as every endpoint (%q), not a failure of its own: see the backend; %s",
			shorten(s.collateral.message, 70), s.rep.Symptom.Text)
		s.rep.Cause = causes[LayerBackend]
	}
}

// layerEvidence sets a layer's mechanism, confidence and evidence from its
// requests: those of its first degraded request (see layerObs), else of
// its first request.
func (a *analyzer) layerEvidence(l int, rep *LayerReport) {
	i := a.layerReqs[l][0]
	if o := a.layerObs(l); o != nil {
		i = o.i
	}
	at := &a.attrib[i]
	rep.Mechanism, rep.Confidence = at.mechanism, at.confidence
	for _, e := range at.evidence {
		if e.Layer == rep.Layer || e.Layer == "" && e.Mechanism == at.mechanism {
			if len(a.layerReqs[l]) > 1 && e.Rule != "tag" {
				// The counts are the request's, not the layer's: say whose.
				e.Text = a.names[i] + ": " + e.Text
			}
			rep.Evidence = append(rep.Evidence, e)
		}
	}
}

// causeRateLimitedAPI is the third party's cause when the provider said it
// was limiting (a 429, passed on or quoted).
const causeRateLimitedAPI = "a rate-limited third-party API is called in the request path, with no queue and no retry/backoff in front of it"

// mechanismCauses are the likely causes by layer and mechanism; a pair
// not listed takes the layer's cause from the DESIGN.md table (causes).
var mechanismCauses = map[[2]string]string{
	{LayerDatabase, MechShedding}:   "the database refuses at once past its limit (max_connections, or a pool that fails fast instead of waiting): more connections are asked for than it allows",
	{LayerBackend, MechSlowWork}:    "one request's own CPU work is slow at any load (password hashing on login, image resizing, rendering a report); as its copies pile up they saturate the app's CPU and every request it serves slows",
	{LayerDatabase, MechSlowWork}:   "an expensive query, slow at any load (a scan without an index, an unbounded result), whose concurrent copies then compete for the database",
	{LayerDatabase, MechQueueing}:   "requests queue for a database connection: more concurrent queries than the pool can run, and hot reads are not cached (more app instances would add connections, not capacity)",
	{LayerBackend, MechRateLimit}:   "a rate limiter in front of the app (e.g. nginx limit_req, an API gateway quota) rejects the excess above its limit",
	{LayerBackend, MechShedding}:    "the app or a proxy in front sheds load: it rejects requests past an admission limit (in-flight cap, queue size) instead of queueing them",
	{LayerBackend, MechSaturation}:  "the app itself is saturated (CPU or its worker pool): every request slows together as load grows; one instance, no horizontal scaling",
	{LayerThirdParty, MechUpstream}: "a third-party API in the request path gives out under load (its rate limit or its timeouts), with no queue and no retry/backoff in front of it",
	{LayerThirdParty, MechQueueing}: "calls to a third party in the request path slow down under load until the app's own timeout gives up on them, with no queue and no retry/backoff in front of them",
	{LayerThirdParty, MechShedding}: "a third-party call in the request path fails at once under load (the provider's rate limit, or a circuit breaker), with no queue and no retry/backoff in front of it",
	{LayerFrontend, MechBandwidth}:  "large assets served from the origin, with no CDN in front, hit a bytes/s ceiling (the uplink or the server's); images not optimised",
	{LayerAuth, MechSession}:        "sessions fail under load: the session store is local to one process or saturated, not shared",
	{LayerAuth, MechShedding}:       "logins and session reads fail at once: the session store refuses them (down, out of connections or memory) and nothing falls back",
	{LayerAuth, MechQueueing}:       "logins and session reads queue on the session store: a lock, slow commands, too few connections to it, or a store local to one process",
}

// causeOf returns the likely cause for a layer that broke by a mechanism;
// an unconfirmed backend says it is a guess.
func causeOf(layer, mech, confidence string) string {
	c, ok := mechanismCauses[[2]string{layer, mech}]
	if !ok {
		c = causes[layer]
	}
	if layer == LayerBackend && (confidence == ConfidenceUnconfirmed || confidence == ConfidenceWeak) && mech != MechRateLimit && mech != MechShedding {
		c = "unconfirmed: no error text, status or Server-Timing named a layer; " + c
	}
	return c
}

// causes are the likely causes of the DESIGN.md table.
var causes = map[string]string{
	LayerDatabase:   "too many concurrent queries for the pool, nothing cached",
	LayerBackend:    "one instance, no horizontal scaling",
	LayerFrontend:   "heavy unoptimised assets served from the origin, no CDN",
	LayerThirdParty: "no queue and no retry/backoff in front of a rate-limited API",
	LayerAuth:       "session store local to one process, not shared",
}

// generator reports on spike's own sending and decides whether generator
// lag coincides with the first violation (or the first break), and whether
// the planned peak went untested because of it.
func (a *analyzer) generator(breakStart int) (g Generator, coincide, unproven bool) {
	firstBound := -1
	for w := range a.nwin {
		win := &a.r.Windows[w]
		g.MaxLagMs = max(g.MaxLagMs, ms(win.Lag.P99))
		if win.Sent < win.Planned {
			g.Unsent += win.Planned - win.Sent
		}
		if a.bound[w] {
			g.BoundWindows++
			if firstBound < 0 {
				firstBound = w
			}
		}
		if a.material[w] {
			g.MaterialWindows++
		}
	}
	g.FirstBound = a.point(firstBound)
	if firstBound < 0 {
		return g, false, false
	}
	boundIn := func(from, to int) int {
		for w := max(0, from); w <= min(to, a.nwin-1); w++ {
			if a.material[w] {
				return w
			}
		}
		return -1
	}
	ref := -1
	switch {
	case breakStart >= 0:
		ref = boundIn(breakStart-a.sustain, breakStart-1)
	default:
		if v := slices.Index(a.rawOverall, StatusFail); v >= 0 {
			ref = boundIn(v-a.sustain, v+a.sustain-1)
		}
	}
	coincide = ref >= 0
	if !coincide && breakStart < 0 {
		// No break: was the planned peak tested, or only sent by a lagging
		// generator?
		maxPass, peak := 0.0, 0.0
		for w := range a.nwin {
			r := a.r.Windows[w].PlannedRate
			peak = max(peak, r)
			if a.overallSt[w] == StatusPass {
				maxPass = max(maxPass, r)
			}
		}
		if peak > 1.05*maxPass {
			var above, boundAbove int
			for w := range a.nwin {
				if a.r.Windows[w].PlannedRate > 1.05*maxPass {
					above++
					if a.material[w] {
						boundAbove++
						if ref < 0 {
							ref = w
						}
					}
				}
			}
			unproven = boundAbove > 0 && 2*boundAbove >= above
		}
	}
	if !coincide && !unproven {
		return g, false, false
	}
	g.Coincides = coincide
	// The load spike could send: the planned rate of the last good window
	// before the lag began; else the best rate it sent.
	for w := ref - 1; w >= 0; w-- {
		if !a.material[w] && a.overall[w].count > 0 {
			g.LimitRPS = a.r.Windows[w].PlannedRate
			break
		}
	}
	if g.LimitRPS == 0 {
		for w := range a.nwin {
			g.LimitRPS = max(g.LimitRPS, float64(a.r.Windows[w].Sent)/a.winSec)
		}
	}
	return g, coincide, unproven
}

// verdict decides the run's status and writes its headline.
func (a *analyzer) verdict(out *Analysis, eps []episode, coincide, unproven bool) Verdict {
	v := a.verdictOf(out, eps, coincide, unproven)
	if m := a.r.Meta; m.Partial && a.nwin > 0 {
		ran := a.r.Windows[a.nwin-1].End - a.r.Windows[0].Start
		v.Headline = fmt.Sprintf("partial: %s of %s, interrupted — %s", fmtMs(ms(ran)), fmtMs(ms(a.r.Plan.Duration)), v.Headline)
	}
	return v
}

// judgedWindows counts the windows judged against the target (pass or
// fail) and those that failed.
func (a *analyzer) judgedWindows() (judged, failed int) {
	for _, st := range a.transparent(a.overallSt) {
		switch st {
		case StatusPass:
			judged++
		case StatusFail:
			judged++
			failed++
		}
	}
	return judged, failed
}

func (a *analyzer) verdictOf(out *Analysis, eps []episode, coincide, unproven bool) Verdict {
	v := Verdict{}
	v.PeakRPS = a.r.Plan.PeakRate
	for _, win := range a.r.Windows {
		v.PeakRPS = max(v.PeakRPS, win.PlannedRate)
	}
	v.PeakMultiple = a.multiple(v.PeakRPS)
	v.Knee = a.kneePoint()
	if !coincide && !unproven {
		// An inconclusive run blames nothing on the target.
		for _, l := range out.Layers {
			if l.Rank > 0 {
				v.Order = append(v.Order, l.Layer)
			}
		}
		for k, r := range out.Recommendations {
			if k == 3 {
				break
			}
			v.Fixes = append(v.Fixes, r.Title)
		}
	}
	judged := slices.Contains(a.overallSt, StatusPass) || slices.Contains(a.overallSt, StatusFail)

	if kind, reason, advice := a.notTarget(); kind != "" {
		// Nothing the target did: no layer broke.
		v.Order, v.Fixes = nil, nil
		v.Status, v.NotTarget, v.Reason, v.Advice = StatusInconclusive, kind, reason, advice
		switch kind {
		case NotTargetUnreachable:
			v.Headline = "inconclusive: target unreachable"
		case NotTargetClient:
			v.Headline = "inconclusive: spike could not build the request"
		case NotTargetScenario:
			v.Headline = "inconclusive: the target refused a request of the scenario from the start"
		}
		return v
	}

	switch {
	case coincide || unproven:
		g := out.Generator
		v.Status, v.NotTarget = StatusInconclusive, NotTargetGenerator
		v.Headline = fmt.Sprintf("inconclusive: spike could not send the planned load above %s %s", fmtRate(g.LimitRPS), a.r.Plan.RateUnit())
		if coincide {
			v.Reason = "the first SLO violation coincides with generator lag: spike, not the target, may have fallen behind"
		} else {
			v.Reason = fmt.Sprintf("the target held the SLO up to the load spike could send; the planned peak of %s %s was never sent on time", fmtRate(v.PeakRPS), a.r.Plan.RateUnit())
		}
		conns := a.r.Plan.Options.Connections
		v.Advice = fmt.Sprintf("give spike more connections (options.connections, now %d) or shard the run over several machines (spike run --shard i/N); worst send lag p99 %s, %d planned requests unsent",
			conns, fmtMs(g.MaxLagMs), g.Unsent)
		if miss := a.r.Meta.MissingShards; len(miss) > 0 {
			// A merged result without all its shards: their share was
			// planned and never sent.
			v.Headline = "inconclusive: shard " + joinAnd(miss) + " missing from the merged result"
			v.Reason = fmt.Sprintf("the merged result lacks shard %s: %d planned requests were never recorded", joinAnd(miss), g.Unsent)
			v.Advice = "find the missing shard's result (its job or pod log) and merge again with it"
		}
		if g.FirstBound != nil {
			if at, held := a.capacity(g.FirstBound.Window); at >= 0 && held > 0 {
				v.Capacity = a.point(at)
			}
		}
		return v
	case len(eps) > 0:
		v.Status = StatusFail
		v.Breakpoint = a.point(eps[0].start)
		v.Recovered = a.point(eps[0].end)
		if at, _ := a.capacity(eps[0].start); at >= 0 {
			v.Capacity = a.point(at)
		}
	case !judged && a.r.Meta.Aborted:
		v.Status = StatusFail
		v.Headline = "spike stopped the run early: " + a.r.Meta.AbortReason
		return v
	case !judged:
		v.Status = StatusInconclusive
		v.Headline = "inconclusive: no window held enough responses to judge"
		v.Reason = fmt.Sprintf("every window had fewer than %d latency samples or no responses", a.minSamples)
		v.Advice = "run longer, at a higher rate, or with a longer window (options.window)"
		return v
	default:
		at, _ := a.capacity(a.nwin)
		if at < 0 {
			// Nothing held the SLO for `sustain` windows in a row and
			// nothing broke: too little was judged to say either.
			v.Status = StatusInconclusive
			judged, failed := a.judgedWindows()
			v.Headline = "inconclusive: too short to judge"
			v.Reason = fmt.Sprintf("%s judged, %d of them failing the SLO; a break or a pass needs %d in a row",
				plural(uint64(judged), "window", "windows"), failed, a.sustain)
			if judged >= a.sustain {
				v.Headline = "inconclusive: the SLO neither held nor broke for " + plural(uint64(a.sustain), "window", "windows") + " in a row"
			}
			v.Advice = fmt.Sprintf("run for at least %s of load (options.window × slo.sustain), longer at each rate that matters", fmtMs(float64(a.sustain)*a.winSec*1000*2))
			return v
		}
		v.Status = StatusPass
		v.Capacity = a.point(at)
	}

	// The first broken layer (or, with no layer break, the most degraded).
	var first *LayerReport
	for k := range out.Layers {
		if out.Layers[k].Rank == 1 {
			first = &out.Layers[k]
		}
	}
	if first == nil && v.Status == StatusFail {
		first = a.mostDegraded(out, eps[0].start)
	}
	if first != nil {
		v.FirstLayer = first.Layer
		if first.Symptom != nil {
			v.Symptom = first.Symptom.Text
		}
		v.Cause = first.Cause
		v.Mechanism, v.Confidence = first.Mechanism, first.Confidence
		for k, e := range first.Evidence {
			if k == 4 {
				break
			}
			v.Evidence = append(v.Evidence, e.Text)
		}
	}

	switch v.Status {
	case StatusFail:
		held := "it never held the SLO for " + plural(uint64(a.sustain), "window", "windows")
		if v.Capacity != nil {
			held = "it held " + v.Capacity.at()
		}
		what := "the target"
		if v.FirstLayer != "" {
			what = "the " + v.FirstLayer
		}
		v.Headline = fmt.Sprintf("%s broke first at %s", capital(what), v.Breakpoint.at())
		if first != nil && first.Symptom != nil {
			v.Headline += ": " + shortSymptom[first.Symptom.Class]
		}
		v.Headline += "; " + held
	case StatusPass:
		v.Headline = "The target held the SLO"
		if v.Capacity != nil {
			v.Headline += " up to " + v.Capacity.at()
		}
		if v.PeakRPS > 0 {
			v.Headline += fmt.Sprintf(", the planned peak was %s %s", fmtRate(v.PeakRPS), a.r.Plan.RateUnit())
		}
		var cracked []string
		for _, l := range out.Layers {
			if l.Cracked != nil {
				cracked = append(cracked, fmt.Sprintf("%s from %s", l.Layer, l.Cracked.at()))
			}
		}
		if len(cracked) > 0 {
			v.Headline += "; cracks: " + joinAnd(cracked)
		} else {
			v.Headline += "; nothing cracked"
		}
		if judged, failed := a.judgedWindows(); failed > 0 {
			v.Headline += fmt.Sprintf("; %d of %d windows violated the SLO, never %d in a row", failed, judged, a.sustain)
		}
		if a.stalls != nil {
			v.Headline += fmt.Sprintf("; periodic stalls of ~%s", fmtMs(a.stalls.TypicalMs))
			if a.stalls.PeriodMs > 0 {
				v.Headline += " every ~" + fmtMs(a.stalls.PeriodMs)
			}
			v.Headline += " at every load (not a capacity limit)"
		}
	}
	return v
}

// mostDegraded picks, when the whole target broke but no single layer did,
// the layer with the most errors (then the worst p95 growth) in the break's
// first windows.
func (a *analyzer) mostDegraded(out *Analysis, start int) *LayerReport {
	best, bestErr, bestGrowth := -1, uint64(0), 0.0
	end := min(a.nwin, start+a.sustain)
	for k := range out.Layers {
		l := slices.Index(a.layers, out.Layers[k].Layer)
		if l < 0 {
			continue
		}
		var errs uint64
		growth := 0.0
		for w := start; w < end; w++ {
			s := a.layerStat[w][l]
			errs += s.errors
			if low := a.lowLayer[l].p95; low > 0 {
				growth = max(growth, float64(s.p95)/float64(low))
			}
		}
		if best < 0 || errs > bestErr || (errs == bestErr && growth > bestGrowth) {
			best, bestErr, bestGrowth = k, errs, growth
		}
	}
	if best < 0 {
		return nil
	}
	return &out.Layers[best]
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// joinAnd joins "a", "b" and "c".
func joinAnd(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	s := ""
	for k, it := range items {
		switch {
		case k == 0:
			s = it
		case k == len(items)-1:
			s += " and " + it
		default:
			s += ", " + it
		}
	}
	return s
}

// Why an inconclusive verdict is not the target's doing (Verdict.NotTarget).
const (
	NotTargetGenerator   = "generator"
	NotTargetUnreachable = "unreachable"
	NotTargetClient      = "client"
	// NotTargetScenario: the target refused a request as wrong (404, 400,
	// 405, …) from the start, at low load.
	NotTargetScenario = "scenario"
)

// notTarget finds failures that are not the target's doing: requests that
// failed inside spike's own client (an invalid header value, a bad URL) in
// a share that would move the error rate past its limit, or a target that
// could not be reached from the start (refused, DNS, TLS: no request of
// the first `sustain` windows with traffic got an answer, and nine in ten
// failed that way). A target that stops answering later broke under load.
func (a *analyzer) notTarget() (kind, reason, advice string) {
	var total, client uint64
	var clientMsg, clientReq string
	for i, t := range a.totals {
		total += t.Count
		if n := t.ErrorKinds[engine.KindClient]; n > 0 {
			client += n
			for _, e := range t.ErrorSamples {
				if engine.ClassifyError(e.Message) == engine.KindClient && clientMsg == "" {
					clientMsg, clientReq = e.Message, a.names[i]
				}
			}
		}
	}
	if client > 0 && float64(client) > a.top.ErrorRate*float64(total) {
		if clientReq == "" {
			clientReq = "of the mix"
		}
		reason = fmt.Sprintf("%d of %d requests failed inside spike's HTTP client before reaching the target", client, total)
		if clientMsg != "" {
			reason += fmt.Sprintf(" (request %s: %s)", clientReq, shorten(clientMsg, 120))
		}
		return NotTargetClient, reason, "fix the scenario (a header value, the URL or the TLS options) and run again; `spike plan` shows the requests"
	}
	// A request the target refuses as wrong from the first windows on
	// (404, 400, 405, 422 …: not 401/403, 408 or 429, which load can
	// cause) measures the scenario, not the target.
	for i, name := range a.names {
		var n, bad uint64
		codes := map[string]uint64{}
		seen := 0
		for w := 0; w < a.nwin && seen < a.sustain; w++ {
			wr := a.r.Windows[w].Requests[name]
			if wr == nil || wr.OK+wr.Errors == 0 {
				continue
			}
			seen++
			n += wr.OK + wr.Errors
			for code, c := range wr.Statuses {
				if k, err := strconv.Atoi(code); err == nil && k >= 400 && k < 500 && k != 401 && k != 403 && k != 408 && k != 429 && !a.reqOK(i, k) {
					bad += c
					codes[code] += c
				}
			}
		}
		if n >= 3 && 2*bad >= n {
			var cs []string
			for c := range codes {
				cs = append(cs, c)
			}
			slices.Sort(cs)
			info := a.info[i]
			what := strings.TrimSpace(info.Method + " " + info.URL)
			if what == "" {
				what = name
			}
			reason = fmt.Sprintf("the target answered %s to %d of the first %d requests %s (%s) from the start, at low load: the request is wrong, not the target under load",
				strings.Join(cs, "/"), bad, n, name, what)
			return NotTargetScenario, reason, "fix the request's URL, method, headers or body in the scenario (or --target), and run again; `spike plan` shows the requests"
		}
	}
	var sent, ok, unreach uint64
	seen := 0
	for w := 0; w < a.nwin && seen < a.sustain; w++ {
		win := &a.r.Windows[w]
		if win.Sent == 0 {
			continue
		}
		seen++
		sent += win.Sent
		ok += win.OK
		for _, wr := range win.Requests {
			if wr == nil {
				continue
			}
			unreach += wr.ErrorKinds[engine.KindRefused] + wr.ErrorKinds[engine.KindDNS] + wr.ErrorKinds[engine.KindTLS]
			// A response of any status means the target was reached.
			for _, n := range wr.Statuses {
				ok += n
			}
		}
	}
	if sent == 0 || ok > 0 || float64(unreach) < 0.9*float64(sent) {
		return "", "", ""
	}
	msg := ""
	for _, t := range a.totals {
		for _, e := range t.ErrorSamples {
			switch engine.ClassifyError(e.Message) {
			case engine.KindRefused, engine.KindDNS, engine.KindTLS:
				if msg == "" {
					msg = e.Message
				}
			}
		}
	}
	reason = fmt.Sprintf("%d of the first %d requests could not reach the target", unreach, sent)
	if msg != "" {
		reason += ": " + shorten(msg, 120)
	}
	return NotTargetUnreachable, reason, "check --target (host, port, scheme) and that the app is up and reachable from here, then run again"
}
