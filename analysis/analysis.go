package analysis

import (
	"time"

	"github.com/spikeload/spike/scenarios"
)

// Defaults for Options. A zero field takes its default.
const (
	// DefaultCrackFactor: a layer cracks when its p95 passes this multiple of
	// its low-load p95.
	DefaultCrackFactor = 2.0
	// DefaultKnee: the saturation knee is where successful throughput falls
	// below this fraction of the planned requests.
	DefaultKnee = 0.9
	// DefaultMinSamples is the fewest latency samples that judge a p95
	// (1/(1-0.95)); a p99 needs five times as many.
	DefaultMinSamples = 20
	// CrackMinGrowth is how far above its low-load p95 a p95 must also be to
	// count as a crack, so that jitter on a sub-millisecond request is not one.
	CrackMinGrowth = 5 * time.Millisecond
)

// Layer names, as in DESIGN.md and scenarios.IsLayer.
const (
	LayerDatabase   = "database"
	LayerBackend    = "backend"
	LayerFrontend   = "frontend"
	LayerThirdParty = "third-party"
	LayerAuth       = "auth"
)

// Options tune an analysis. The zero value takes every default.
type Options struct {
	// Sustain is how many consecutive windows make a break, a crack, a
	// recovery or a knee. Default: the plan's SLO.Sustain, else
	// scenarios.DefaultSustain (3).
	Sustain int
	// CrackFactor is the p95 multiple of low load that makes a crack.
	// Default DefaultCrackFactor (2).
	CrackFactor float64
	// Knee is the fraction of planned requests answered successfully below
	// which throughput has saturated. Default DefaultKnee (0.9).
	Knee float64
	// MinSamples is the fewest latency samples that judge a window's p95
	// (p99: five times as many). Default DefaultMinSamples (20).
	MinSamples int
}

// Status is the outcome of a check, or of a whole run (Verdict.Status).
type Status string

// Statuses. A window check is pass, fail, insufficient or generator_bound;
// a verdict is pass, fail or inconclusive.
const (
	StatusPass           Status = "pass"
	StatusFail           Status = "fail"
	StatusInsufficient   Status = "insufficient"
	StatusGeneratorBound Status = "generator_bound"
	StatusInconclusive   Status = "inconclusive"
)

// Analysis is the judgement of one run. It is JSON-serialisable (see the
// package documentation for units) and stored in result.json's "analysis"
// section (package result, which versions the whole document).
type Analysis struct {
	// Settings are the thresholds the analysis used.
	Settings Settings `json:"settings"`
	// Verdict is the answer, in one place.
	Verdict Verdict `json:"verdict"`
	// RateUnit is the unit of the run's planned rates when it is not
	// req/s: "visitors/s" for journeys. Their points also give req/s.
	RateUnit string `json:"rate_unit,omitempty"`
	// Breaks are the overall breaks, in time order; the first one is the
	// breakpoint. Each ends with its recovery, if any.
	Breaks []Episode `json:"breaks,omitempty"`
	// Cracked is when the whole target's p95 first cracked.
	Cracked *Point `json:"cracked,omitempty"`
	// Generator is spike's own report on whether it sent the planned load.
	Generator Generator `json:"generator"`
	// Layers holds one report per layer seen: broken layers in breakage
	// order first (Rank 1, 2, …), then the others.
	Layers []LayerReport `json:"layers"`
	// Requests holds one report per request of the mix, in mix order.
	Requests []RequestReport `json:"requests"`
	// Recommendations are the fixes, in the DESIGN.md fix order.
	Recommendations []Recommendation `json:"recommendations,omitempty"`
	// Headers are the header audit's findings.
	Headers []Finding `json:"headers,omitempty"`
	// Readiness answers the pre-launch questions a load test can answer.
	Readiness Readiness `json:"readiness"`
	// Windows holds the checks of every window, in time order.
	Windows []WindowCheck `json:"windows"`
	// Stalls is set when periodic pauses that do not grow with load were
	// seen (see Stalls): a finding of its own, never a breakpoint.
	Stalls *Stalls `json:"stalls,omitempty"`
	// Notes are remarks about the analysis itself (a partial run, an
	// undecodable histogram, a missing baseline).
	Notes []string `json:"notes,omitempty"`
}

// Stalls reports periodic pauses: short bursts (one or two windows) in
// which the slowest request took at least 100 ms and five times the
// low-load p95, between windows that were fine, at least three of them,
// one at low load, no worse at high load than at low load. Their windows
// neither make nor end a break or a crack.
type Stalls struct {
	// Runs counts the bursts; TypicalMs is the median of their windows'
	// slowest request, MaxMs the worst; PeriodMs the median time between
	// bursts.
	Runs      int     `json:"runs"`
	TypicalMs float64 `json:"typical_ms"`
	MaxMs     float64 `json:"max_ms"`
	PeriodMs  float64 `json:"period_ms,omitempty"`
	// Text says it in one sentence.
	Text string `json:"text"`
}

// Settings are the thresholds and references an analysis used.
type Settings struct {
	Sustain     int     `json:"sustain"`
	CrackFactor float64 `json:"crack_factor"`
	Knee        float64 `json:"knee"`
	MinSamples  int     `json:"min_samples"`
	// SLO is the overall objective; per-request limits are in Requests.
	SLO Limits `json:"slo"`
	// BaselineRPS is the plan's baseline.
	BaselineRPS float64 `json:"baseline_rps"`
	// LowLoadRPS is the planned rate at or below which windows count as low
	// load, and LowLoadWindows how many windows did.
	LowLoadRPS     float64 `json:"low_load_rps"`
	LowLoadWindows int     `json:"low_load_windows"`
	// WindowMs is the recording window.
	WindowMs float64 `json:"window_ms"`
}

// Limits are SLO limits in the analysis' units. Zero P95Ms or P99Ms means
// not checked.
type Limits struct {
	P95Ms     float64 `json:"p95_ms"`
	P99Ms     float64 `json:"p99_ms,omitempty"`
	ErrorRate float64 `json:"error_rate"`
}

// Point is a moment of the run: a window, its start, and its planned rate.
type Point struct {
	Window int     `json:"window"`
	AtMs   float64 `json:"at_ms"`
	// RateRPS is the planned rate of the window.
	RateRPS float64 `json:"rate_rps"`
	// Multiple is RateRPS over the baseline (0 without one).
	Multiple float64 `json:"multiple,omitempty"`
	// Unit is RateRPS's unit when it is not req/s: "visitors/s" for
	// journeys, whose curve is arrivals. ReqRPS is then the window's
	// planned requests per second (every step of every session).
	Unit   string  `json:"unit,omitempty"`
	ReqRPS float64 `json:"req_rps,omitempty"`
}

// Episode is a break: from its first failing window to its recovery.
type Episode struct {
	Start Point `json:"start"`
	// Recovered is the first window of the `sustain` passing windows that
	// ended the break; nil when the run ended broken.
	Recovered *Point `json:"recovered,omitempty"`
}

// Verdict is the run's answer in one place: what a terminal, a report
// banner or a CI summary shows first.
type Verdict struct {
	// Status is pass, fail or inconclusive.
	Status Status `json:"status"`
	// Headline is one line a founder reads.
	Headline string `json:"headline"`
	// Reason explains an inconclusive verdict; Advice says what to do.
	Reason string `json:"reason,omitempty"`
	Advice string `json:"advice,omitempty"`
	// FirstLayer is what breaks first, with its symptom and likely cause.
	FirstLayer string `json:"first_layer,omitempty"`
	Symptom    string `json:"symptom,omitempty"`
	Cause      string `json:"cause,omitempty"`
	// Mechanism is how the first layer broke, Confidence how sure its
	// attribution is, and Evidence the texts of the evidence that decided
	// it.
	Mechanism  string   `json:"mechanism,omitempty"`
	Confidence string   `json:"confidence,omitempty"`
	Evidence   []string `json:"evidence,omitempty"`
	// NotTarget says why an inconclusive verdict is not the target's
	// doing: "generator" (spike fell behind), "unreachable" (the target
	// could not be reached from the start), "client" (spike could not
	// build or send its requests) or "scenario" (the target refused a
	// request as wrong, 404/400/405…, from the start at low load).
	NotTarget string `json:"not_target,omitempty"`
	// Breakpoint is where the first overall break began.
	Breakpoint *Point `json:"breakpoint,omitempty"`
	// Capacity is the highest planned rate held within the SLO for
	// `sustain` windows before the breakpoint (or in the whole run).
	Capacity *Point `json:"capacity,omitempty"`
	// Knee is where successful throughput stopped tracking the plan.
	Knee *Knee `json:"knee,omitempty"`
	// Recovered is when the first break ended.
	Recovered *Point `json:"recovered,omitempty"`
	// PeakRPS is the plan's peak rate, and PeakMultiple its multiple.
	PeakRPS      float64 `json:"peak_rps"`
	PeakMultiple float64 `json:"peak_multiple,omitempty"`
	// Order lists the broken layers, first broken first.
	Order []string `json:"order,omitempty"`
	// Fixes are the titles of the first three recommendations.
	Fixes []string `json:"fixes,omitempty"`
}

// Knee is the saturation knee: where successful throughput fell below the
// Knee fraction of the planned rate, sustained.
type Knee struct {
	Point
	// OKRPS is the successful throughput in that window, and MaxOKRPS the
	// highest successful throughput of any judged window of the run.
	OKRPS    float64 `json:"ok_rps"`
	MaxOKRPS float64 `json:"max_ok_rps"`
}

// Generator reports whether spike sent the planned load.
type Generator struct {
	// BoundWindows counts the windows flagged generator_bound (never judged),
	// and MaterialWindows those of them where spike's shortfall could explain
	// what was measured: fewer than 98% of the planned requests sent, or a
	// send lag p99 above a tenth of the tightest latency limit (at least the
	// engine's 10 ms). Only material ones interrupt a break or a crack and
	// make a verdict inconclusive.
	BoundWindows    int `json:"bound_windows"`
	MaterialWindows int `json:"material_windows"`
	// FirstBound is the first of them.
	FirstBound *Point `json:"first_bound,omitempty"`
	// LimitRPS is the load spike could send: the planned rate of the last
	// window before generator lag began (or the best sent rate).
	LimitRPS float64 `json:"limit_rps,omitempty"`
	// MaxLagMs is the worst p99 send lag of any window.
	MaxLagMs float64 `json:"max_lag_ms"`
	// Unsent counts planned requests that were never sent.
	Unsent uint64 `json:"unsent"`
	// Coincides is set when generator lag coincides with the first
	// violation: the verdict is then inconclusive.
	Coincides bool `json:"coincides"`
}

// WindowCheck is the judgement of one window.
type WindowCheck struct {
	Index int     `json:"index"`
	AtMs  float64 `json:"at_ms"`
	// PlannedRPS, SentRPS and OKRPS are the planned rate, the rate sent and
	// the rate of successful responses, over the window's length.
	PlannedRPS     float64 `json:"planned_rps"`
	SentRPS        float64 `json:"sent_rps"`
	OKRPS          float64 `json:"ok_rps"`
	GeneratorBound bool    `json:"generator_bound,omitempty"`
	// Overall checks the whole target.
	Overall Check `json:"overall"`
	// Layers and Requests check each layer and request with responses in
	// the window, by name.
	Layers   map[string]Check `json:"layers,omitempty"`
	Requests map[string]Check `json:"requests,omitempty"`
}

// Check is one SLO check of one window.
type Check struct {
	Status Status `json:"status"`
	// Count is the responses (successes and errors), Errors the failures.
	Count  uint64  `json:"count"`
	Errors uint64  `json:"errors,omitempty"`
	P95Ms  float64 `json:"p95_ms"`
	P99Ms  float64 `json:"p99_ms,omitempty"`
	// Failed names the limits exceeded: "p95", "p99", "error_rate", or
	// "REQUEST: LIMIT" for a request's own limit in a layer or overall check.
	Failed []string `json:"failed,omitempty"`
}

// ErrorRate returns Errors over Count (0 without responses).
func (c Check) ErrorRate() float64 {
	if c.Count == 0 {
		return 0
	}
	return float64(c.Errors) / float64(c.Count)
}

// Symptom classes, from what was seen in a layer's requests once it
// degraded.
const (
	// SymptomLatencyThenErrors: latency climbed, then timeouts or 5xx.
	SymptomLatencyThenErrors = "latency_then_errors"
	// SymptomRisingLatency: latency climbed, without errors.
	SymptomRisingLatency = "rising_latency"
	// SymptomErrorsAcrossEndpoints: 502/503/504 across many endpoints at
	// once, in several layers.
	SymptomErrorsAcrossEndpoints = "errors_across_endpoints"
	// SymptomRateLimited: 429s, or 502s from an upstream call.
	SymptomRateLimited = "rate_limited"
	// SymptomUpstreamFailed: 502/504 from an upstream call, no 429.
	SymptomUpstreamFailed = "upstream_failed"
	// SymptomAuthFailures: login or session requests failed (401/403/5xx).
	SymptomAuthFailures = "auth_failures"
	// SymptomAuthSlow: login or session requests slowed first.
	SymptomAuthSlow = "auth_slow"
	// SymptomSlowStatic: static assets slowed (or failed) to load.
	SymptomSlowStatic = "slow_static"
	// SymptomErrors: errors without a clearer pattern.
	SymptomErrors = "errors"
	// SymptomOverLimit: windows over the latency limit, without errors
	// and without a climb spike could name (a request slow from the
	// start, say).
	SymptomOverLimit = "over_limit"
	// SymptomShedding: requests rejected at once while latency stayed
	// flat (load shedding, admission control).
	SymptomShedding = "shedding"
	// SymptomLimiter: 429s answered at once by a limiter in front of the
	// app, latency flat.
	SymptomLimiter = "limiter"
	// SymptomBandwidth: large responses limited by bytes per second.
	SymptomBandwidth = "bandwidth"
	// SymptomSaturation: every request slowed together.
	SymptomSaturation = "saturation"
)

// Symptom is what a layer showed once it degraded.
type Symptom struct {
	Class string `json:"class"`
	// Text is one human sentence citing the measured numbers.
	Text string `json:"text"`
	// Evidence lists the observations behind it.
	Evidence []string `json:"evidence,omitempty"`
}

// LayerReport is the story of one layer.
//
// The breakage order sorts the layers that broke by the window their break
// began, then, for breaks in the same window, by which degraded first: the
// earlier crack, the earlier failing window, the worse degradation. When
// 5xx answers spread across most endpoints at once (60% of the requests
// with responses, at least 3, in two layers or more) in the windows from
// the first break, the backend goes first, and layers that only show the
// same error message are marked Collateral.
type LayerReport struct {
	Layer string `json:"layer"`
	// Rank is the layer's place in the breakage order (1 = broke first);
	// 0 when it did not break.
	Rank int `json:"rank,omitempty"`
	// Requests are the requests attributed to the layer, and Share their
	// share of the mix.
	Requests []string `json:"requests"`
	Share    float64  `json:"share"`
	// LowP95Ms is the layer's p95 at low load (0 when too few samples), and
	// LowErrorRate its error rate there.
	LowP95Ms     float64 `json:"low_p95_ms"`
	LowErrorRate float64 `json:"low_error_rate"`
	// PeakP95Ms is the highest judged window p95, at PeakAt.
	PeakP95Ms float64 `json:"peak_p95_ms"`
	PeakAt    *Point  `json:"peak_at,omitempty"`
	// Cracked, Broke and Recovered mark its first crack, its first break
	// and that break's recovery.
	Cracked   *Point `json:"cracked,omitempty"`
	Broke     *Point `json:"broke,omitempty"`
	Recovered *Point `json:"recovered,omitempty"`
	// SameWindow names the other layers whose break began in the same
	// window; the order among them is by which degraded first.
	SameWindow []string `json:"same_window,omitempty"`
	// Collateral is set when the layer's failures are the backend's: the
	// same 5xx, with the same message, as every other endpoint. It gets no
	// recommendation of its own.
	Collateral bool `json:"collateral,omitempty"`
	// Symptom and Cause are set for a layer that cracked or broke; Cause is
	// the likely cause, which follows the mechanism.
	Symptom *Symptom `json:"symptom,omitempty"`
	Cause   string   `json:"cause,omitempty"`
	// Mechanism is how the layer broke, Confidence how sure its
	// attribution is (the weakest of its degraded requests'), and Evidence
	// the evidence that decided it, strongest first.
	Mechanism  string     `json:"mechanism,omitempty"`
	Confidence string     `json:"confidence,omitempty"`
	Evidence   []Evidence `json:"evidence,omitempty"`
	// Whole-run totals of the layer's requests.
	Count    uint64            `json:"count"`
	Errors   uint64            `json:"errors"`
	Statuses map[string]uint64 `json:"statuses,omitempty"`
}

// RequestReport is one request of the mix: its layer and how it fared.
//
// A request's layer is decided, in order, by the scenario's layer tag; the
// layer-specific Server-Timing component (db/sql/query → database,
// cache/redis → database read path, ext/api/email/payment → third-party,
// auth/session/login → auth) whose mean grew most from low to high load (by
// at least CrackMinGrowth and half its low-load mean), else the one taking
// the most time; path and content heuristics (static assets → frontend;
// login, session, token and auth paths → auth); a generic component (app,
// render, total) that grew → backend; else backend. Generic components come
// after the path because they measure the whole request: a static file
// queueing for the app's disk grows "app" but is a frontend problem.
type RequestReport struct {
	Name   string `json:"name"`
	Method string `json:"method"`
	URL    string `json:"url"`
	// Layer is the attributed layer and Evidence the text of what decided
	// it: "tag: …", "server-timing: db grew 12ms→850ms", "error text: …",
	// "path: /static/", ….
	Layer    string `json:"layer"`
	Evidence string `json:"evidence"`
	// Mechanism is how it broke (MechQueueing, …; "" when nothing says)
	// and Confidence how sure the attribution is (ConfidenceTagged …
	// ConfidenceUnconfirmed).
	Mechanism  string `json:"mechanism,omitempty"`
	Confidence string `json:"confidence,omitempty"`
	// Weighed is every piece of evidence found, strongest first.
	Weighed []Evidence `json:"weighed,omitempty"`
	Share   float64    `json:"share"`
	// Whole-run totals.
	Count    uint64            `json:"count"`
	Errors   uint64            `json:"errors"`
	Statuses map[string]uint64 `json:"statuses,omitempty"`
	P95Ms    float64           `json:"p95_ms"`
	// LowP95Ms and LowErrorRate are at low load; PeakP95Ms is the highest
	// judged window p95, at PeakAt.
	LowP95Ms     float64 `json:"low_p95_ms"`
	LowErrorRate float64 `json:"low_error_rate"`
	PeakP95Ms    float64 `json:"peak_p95_ms"`
	PeakAt       *Point  `json:"peak_at,omitempty"`
	Cracked      *Point  `json:"cracked,omitempty"`
	Broke        *Point  `json:"broke,omitempty"`
	// Timing is the request's Server-Timing components with a duration:
	// mean at low load and at high load.
	Timing []Component `json:"server_timing,omitempty"`
	// CacheHits is the share of responses whose Server-Timing said
	// cache;desc=hit (0 when none said hit or miss).
	CacheHits float64 `json:"cache_hits,omitempty"`
}

// Component is one Server-Timing component of a request.
type Component struct {
	Name string `json:"name"`
	// Layer is the layer the component's name points at ("" for none).
	Layer  string  `json:"layer,omitempty"`
	LowMs  float64 `json:"low_ms"`
	HighMs float64 `json:"high_ms"`
}

// Fix steps, in the DESIGN.md fix order (lowest risk, highest impact first).
const (
	StepObservability = 1
	StepCDN           = 2
	StepCache         = 3
	StepQueue         = 4
	StepScale         = 5
	StepReplicas      = 6
	StepExtract       = 7
)

// StepName returns the short name of a fix step ("cache").
func StepName(step int) string {
	switch step {
	case StepObservability:
		return "observability"
	case StepCDN:
		return "cdn"
	case StepCache:
		return "cache"
	case StepQueue:
		return "queue"
	case StepScale:
		return "scale"
	case StepReplicas:
		return "replicas"
	case StepExtract:
		return "extract"
	}
	return ""
}

// Recommendation is one fix, tied to what was measured. Recommendations
// follow the DESIGN.md fix order and are made only for what the run showed:
// observability when no response carried Server-Timing or errors carried no
// detail; a CDN when the frontend cracked or broke; a cache for each GET of
// a database layer that cracked or broke, with the DESIGN.md TTL for what it
// looks like (profiles 5–15 min, feeds 1–5 min, home and featured 1–60 min,
// tokens the session's length, real-time data never); a queue when the
// third-party layer degraded or a request that calls out answered 429/502;
// horizontal scaling when the backend broke, and sessions out of the
// process when auth degraded; read replicas when the database broke with
// reads a cache cannot take. Extracting services is never recommended from
// one load test.
type Recommendation struct {
	// Step is the fix-order step (StepObservability…StepExtract) and Area
	// its name.
	Step int    `json:"step"`
	Area string `json:"area"`
	// Title is one line citing the numbers; Detail adds the how.
	Title  string `json:"title"`
	Detail string `json:"detail,omitempty"`
	// Layer and Requests are what it is about.
	Layer    string   `json:"layer,omitempty"`
	Requests []string `json:"requests,omitempty"`
	// MovesBreakpoint is set on fixes for the layer that broke first:
	// they lead the list; the others follow in the fix order.
	MovesBreakpoint bool `json:"moves_breakpoint,omitempty"`
}

// Finding is one header-audit observation, from the response headers
// sampled for each request (its first successful response): static assets
// without Cache-Control (or with no-store, no-cache, max-age=0, private),
// text without compression, static assets with no CDN marker (Via, Age,
// X-Cache, CF-Cache-Status, …), images that are not WebP or AVIF, and very
// large bodies (200 kB static, 1 MB otherwise).
type Finding struct {
	Request string `json:"request"`
	// Check is cache_control, compression, cdn, image_format or large_body.
	Check  string `json:"check"`
	Detail string `json:"detail"`
	// Step is the fix step it belongs to, and Area that step's name.
	Step int    `json:"step"`
	Area string `json:"area"`
}

// Readiness answers the pre-launch questions a load test can answer.
type Readiness struct {
	// BaselineP95Ms is the whole target's p95 at low load (0 when unknown)
	// and BaselineHealthy whether it is under 500 ms.
	BaselineP95Ms   float64 `json:"baseline_p95_ms"`
	BaselineHealthy bool    `json:"baseline_healthy"`
	// Slowest is the request with the highest low-load p95.
	Slowest      string  `json:"slowest,omitempty"`
	SlowestP95Ms float64 `json:"slowest_p95_ms,omitempty"`
	// Cached: some responses looked cached (Server-Timing cache hits, Age,
	// X-Cache or CF-Cache-Status hits).
	Cached bool `json:"cached"`
	// ThirdPartyInPath: a third-party call sits inside some request.
	ThirdPartyInPath bool `json:"third_party_in_path"`
	// StaticFromApp: static assets are served without any CDN marker.
	StaticFromApp bool `json:"static_from_app"`
	// Answers are the same, as question and answer lines.
	Answers []Answer `json:"answers"`
}

// Answer is one readiness question and its answer; OK is whether the answer
// is the healthy one.
type Answer struct {
	Question string `json:"question"`
	Answer   string `json:"answer"`
	OK       bool   `json:"ok"`
}

// ms converts a duration to float milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// limitsOf converts scenario limits.
func limitsOf(l scenarios.Limits) Limits {
	return Limits{P95Ms: ms(l.P95), P99Ms: ms(l.P99), ErrorRate: l.ErrorRate}
}
