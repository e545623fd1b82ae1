package analysis

import (
	"cmp"
	"slices"
)

// Evidence is one observation that points at a layer, a mechanism, or
// both, with a weight. Every verdict lists the evidence that decided it.
//
// Weights: a scenario tag is weightTag and always wins; an error text or a
// status with the headers that explain it is weightStrong; a latency
// signature or a status alone is weightFair; which requests degraded
// together and path words are weightPath. A request's layer is the one with
// the most weight; its confidence comes from the strongest single piece
// for that layer (see Confidence constants).
type Evidence struct {
	// Rule names the rule that found it (see rules.go): "tag",
	// "server-timing", "error-text", "status", "latency", "together",
	// "path", ….
	Rule string `json:"rule"`
	// Layer is the layer it points at ("" when it speaks only of the
	// mechanism) and Mechanism how the layer broke ("" when it does not
	// say).
	Layer     string  `json:"layer,omitempty"`
	Mechanism string  `json:"mechanism,omitempty"`
	Weight    float64 `json:"weight"`
	// Text says what was measured, with the numbers.
	Text string `json:"text"`
}

// Evidence weights.
const (
	weightTag    = 100
	weightStrong = 8
	weightFair   = 4
	weightPath   = 2
)

// Mechanisms: how a layer broke. The likely cause and the fix follow the
// mechanism, not the layer alone.
const (
	// MechQueueing: requests wait for a limited resource (a connection
	// pool, a lock, a worker pool): latency climbs, often to a deadline,
	// then errors at that deadline.
	MechQueueing = "queueing"
	// MechShedding: the target rejects the excess at once (load shedding,
	// admission control): errors rise while latency stays flat.
	MechShedding = "shedding"
	// MechRateLimit: a rate limiter in front of the app (edge, gateway)
	// answers 429 (or 503) above a rate.
	MechRateLimit = "rate_limit"
	// MechUpstream: a dependency the app calls (a third-party API) limits
	// or fails: 429 passed on, 502/504 naming the upstream.
	MechUpstream = "upstream"
	// MechBandwidth: responses are limited by bytes per second: large
	// bodies, transfer time growing while the first byte stays quick.
	MechBandwidth = "bandwidth"
	// MechSaturation: the app itself is saturated (CPU-like): every
	// request slows together, in proportion to the load.
	MechSaturation = "saturation"
	// MechSession: logins or sessions fail under load (401/403 that were
	// not there at low load, session-store errors).
	MechSession = "session"
	// MechStall: periodic pauses that do not grow with load (GC,
	// stop-the-world, cron). A finding of its own, never a breakpoint.
	MechStall = "stall"
	// MechSlowWork: one request's own work is slow at any load (an
	// expensive query, a scan without an index): over its limit from the
	// lowest load, growing as its copies compete.
	MechSlowWork = "slow_work"
	// MechErrors: errors without a recognisable mechanism.
	MechErrors = "errors"
)

// Confidence of an attribution, from the strongest single piece of
// evidence for the chosen layer.
const (
	// ConfidenceTagged: the scenario says so.
	ConfidenceTagged = "tagged"
	// ConfidenceStrong: an error text, a status with the headers that
	// explain it, or a Server-Timing component that grew.
	ConfidenceStrong = "strong"
	// ConfidenceModerate: a latency signature or a status alone.
	ConfidenceModerate = "moderate"
	// ConfidenceWeak: path words, or which requests degraded together.
	ConfidenceWeak = "weak"
	// ConfidenceUnconfirmed: no evidence; the backend by default.
	ConfidenceUnconfirmed = "unconfirmed"
)

func confidenceOf(w float64) string {
	switch {
	case w >= weightTag:
		return ConfidenceTagged
	case w >= weightStrong-2:
		return ConfidenceStrong
	case w >= weightFair-1:
		return ConfidenceModerate
	case w > 0:
		return ConfidenceWeak
	}
	return ConfidenceUnconfirmed
}

// add records a piece of evidence, once per rule and text.
func (at *attribution) add(e Evidence) {
	for _, o := range at.evidence {
		if o.Rule == e.Rule && o.Text == e.Text && o.Layer == e.Layer {
			return
		}
	}
	at.evidence = append(at.evidence, e)
}

// decide weighs the evidence: the layer with the most weight (a tag
// always), then the mechanism with the most weight among the evidence
// that names one (preferring evidence for the chosen layer). It reports
// whether the layer changed.
func (at *attribution) decide() bool {
	before := at.layer
	slices.SortStableFunc(at.evidence, func(x, y Evidence) int { return cmp.Compare(y.Weight, x.Weight) })
	sum := map[string]float64{}
	top := map[string]float64{}
	for _, e := range at.evidence {
		if e.Layer != "" {
			sum[e.Layer] += e.Weight
			top[e.Layer] = max(top[e.Layer], e.Weight)
		}
	}
	layer, best := "", 0.0
	for _, l := range canonicalLayers {
		if top[l] >= weightTag {
			layer, best = l, sum[l]+weightTag*10
			break
		}
		if sum[l] > best {
			layer, best = l, sum[l]
		}
	}
	if layer == "" {
		layer = LayerBackend
		at.confidence = ConfidenceUnconfirmed
	} else {
		at.confidence = confidenceOf(top[layer])
	}
	at.layer = layer
	at.mechanism = ""
	mw := 0.0
	for _, e := range at.evidence {
		if e.Mechanism == "" || (e.Layer != "" && e.Layer != layer) {
			continue
		}
		w := e.Weight
		if e.Mechanism == MechErrors {
			w /= 2 // any other mechanism says more
		}
		if w > mw {
			at.mechanism, mw = e.Mechanism, w
		}
	}
	return before != at.layer
}
