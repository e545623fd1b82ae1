package analysis

import (
	"strings"
	"testing"

	"github.com/spikeload/spike/engine"
)

// ruleCase is one observation and the evidence one rule must (or must
// not) find in it.
type ruleCase struct {
	name string
	obs  observation
	url  string
	// want is "layer/mechanism" of the strongest evidence, "" for none;
	// text is a phrase its text must hold.
	want, text string
}

// ruleObs returns an observation on a fake analyzer with the default
// thresholds (crack factor 2, a climb of 50 ms for a 500 ms SLO).
func ruleObs(c ruleCase) *observation {
	a := &analyzer{factor: DefaultCrackFactor, climb: 50,
		info: []engine.RequestInfo{{Name: "x", URL: c.url}}, totals: []*engine.RequestTotal{{Name: "x"}}}
	o := c.obs
	o.a, o.i = a, 0
	if o.statuses == nil {
		o.statuses = map[int]uint64{}
	}
	if o.errHeaders == nil {
		o.errHeaders = map[string]uint64{}
	}
	if o.kinds == nil {
		o.kinds = map[string]uint64{}
	}
	return &o
}

func checkRule(t *testing.T, r rule, cases []ruleCase) {
	t.Helper()
	for _, c := range cases {
		evs := r.apply(ruleObs(c))
		var best *Evidence
		for k := range evs {
			if best == nil || evs[k].Weight > best.Weight {
				best = &evs[k]
			}
		}
		got := ""
		if best != nil {
			got = best.Layer + "/" + best.Mechanism
		}
		if got != c.want {
			t.Errorf("%s: %s(%s) = %q (%v); want %q", c.name, r.name, c.name, got, evs, c.want)
			continue
		}
		if best != nil && !strings.Contains(best.Text, c.text) {
			t.Errorf("%s: %s evidence %q lacks %q", c.name, r.name, best.Text, c.text)
		}
	}
}

func ruleNamed(name string) rule {
	for _, r := range rules {
		if r.name == name {
			return r
		}
	}
	panic("no rule " + name)
}

func TestRule_ErrorText(t *testing.T) {
	t.Parallel()
	texts := func(status int, text string, n uint64) observation {
		return observation{errors: n, count: 10 * n, statuses: map[int]uint64{status: n}, texts: []textCount{{status: status, text: text, count: n}}}
	}
	checkRule(t, ruleNamed("error-text"), []ruleCase{
		{name: "pool acquire", obs: texts(503, "timeout acquiring database connection", 40), want: "database/queueing", text: "in 40 of 40 failures"},
		{name: "postgres too many clients", obs: texts(500, "pq: sorry, too many clients already", 9), want: "database/shedding"}, // refused past its limit, not queued
		{name: "postgres reserved slots", obs: texts(500, "failed to connect: FATAL: remaining connection slots are reserved for non-replication superuser connections (SQLSTATE 53300)", 9), want: "database/shedding"},
		{name: "pool acquire timeout", obs: texts(503, "database pool exhausted: no connection within 1s (pool 4)", 9), want: "database/queueing"},
		{name: "sqlstate", obs: texts(500, "ERROR: duplicate key (SQLSTATE 23505)", 9), want: "database/errors"},
		{name: "provider quota", obs: texts(502, "email provider: 429 Too Many Requests", 12), want: "third-party/upstream"},
		{name: "redis on a login", url: "/api/login", obs: texts(503, "redis: connection pool timeout", 8), want: "auth/queueing"},
		{name: "redis on a read", url: "/api/feed", obs: texts(503, "redis: connection pool timeout", 8), want: "database/queueing"},
		{name: "overloaded", obs: texts(503, "server overloaded: 65 requests in flight (limit 64)", 30), want: "backend/shedding"},
		{name: "session expired", obs: texts(401, "session expired", 30), want: "auth/session"},
		{name: "stock proxy page names nothing", obs: texts(502, "502 Bad Gateway", 30), want: ""},
		{name: "no failures", obs: observation{count: 100}, want: ""},
	})
}

func TestRule_Status(t *testing.T) {
	t.Parallel()
	st := func(status int, n uint64, headers map[string]uint64, text string) observation {
		o := observation{errors: n, count: 10 * n, statuses: map[int]uint64{status: n}, errHeaders: headers}
		if text != "" {
			o.texts = []textCount{{status: status, text: text, count: n}}
		}
		return o
	}
	callsOut := st(429, 20, nil, "")
	callsOut.callsOut = true
	checkRule(t, ruleNamed("status"), []ruleCase{
		{name: "429 from the target", obs: st(429, 50, map[string]uint64{"Retry-After": 50, "Server: nginx": 50}, ""), want: "backend/rate_limit", text: "(Retry-After, Server: nginx)"},
		{name: "429 passed on", obs: st(429, 50, map[string]uint64{"X-Upstream-Status: 429": 50}, ""), want: "third-party/upstream", text: "X-Upstream-Status: 429"},
		{name: "429 from a request that calls out", obs: callsOut, want: "third-party/upstream"},
		{name: "502 naming the provider", obs: st(502, 30, nil, "payment provider timeout"), want: "third-party/upstream", text: "the body names the upstream"},
		{name: "502 naming the database", obs: st(502, 30, nil, "database unavailable"), want: ""},
		// A gateway error says the app did not answer in time, not which part
		// of it was slow: the mechanism, no layer.
		{name: "bare 502 from a proxy", obs: st(502, 30, map[string]uint64{"Server: nginx": 30}, "502 Bad Gateway"), want: "/queueing", text: "no upstream named"},
		{name: "401 under load", obs: st(401, 30, nil, ""), want: "auth/session"},
	})
}

func TestRule_Latency(t *testing.T) {
	t.Parallel()
	checkRule(t, ruleNamed("latency"), []ruleCase{
		{name: "fast errors, flat latency", obs: observation{count: 500, errors: 200, lowP95: 1.7, peakP95: 3, errLatCount: 200, errLatMean: 1.1, errLatMin: 0.5, errLatMax: 2}, want: "backend/shedding", text: "errors rose, latency did not"},
		{name: "fast 429s", obs: observation{count: 500, errors: 200, statuses: map[int]uint64{429: 200}, lowP95: 1.7, peakP95: 3, errLatCount: 200, errLatMean: 1.1, errLatMin: 0.5, errLatMax: 2}, want: "backend/rate_limit"},
		{name: "an 11 ms blip is still flat", obs: observation{count: 500, errors: 200, lowP95: 1.7, peakP95: 11, errLatCount: 200, errLatMean: 1.2, errLatMin: 0.5, errLatMax: 3}, want: "backend/shedding"},
		{name: "queue to a deadline", obs: observation{count: 500, errors: 100, lowP95: 30, peakP95: 1000, errLatCount: 100, errLatMean: 1002, errLatMin: 1000, errLatMax: 1010}, want: "/queueing", text: "at a deadline"},
		{name: "climb without errors", obs: observation{count: 500, lowP95: 30, peakP95: 600}, want: "/queueing", text: "climbed from 30 ms to 600 ms"},
		{name: "bandwidth", obs: observation{count: 100, lowP95: 40, peakP95: 2600, meanBytes: 200 << 10, spanLatencyMs: 1400, spanFirstByteMs: 2, spanTransferMs: 1398, plateauBps: 6 << 20}, want: "frontend/bandwidth", text: "plateaued"},
		{name: "nothing moved", obs: observation{count: 500, lowP95: 30, peakP95: 35}, want: ""},
		// One request refused fast while another never failed: a refusal
		// of its own (a dependency only it calls), not the app's.
		{name: "fast errors on one request only", obs: observation{count: 300, errors: 150, lowP95: 85, peakP95: 86, errLatCount: 150, errLatMean: 4, errLatMin: 3, errLatMax: 5, healthyOther: "feed"},
			want: "/shedding", text: "while feed never failed"},
	})
}

func TestRule_Transport(t *testing.T) {
	t.Parallel()
	checkRule(t, ruleNamed("transport"), []ruleCase{
		{name: "refused under load", obs: observation{count: 100, errors: 40, kinds: map[string]uint64{"refused": 40}}, want: "backend/saturation"},
		{name: "refused at low load too", obs: observation{count: 100, errors: 40, lowErrRate: 0.5, kinds: map[string]uint64{"refused": 40}}, want: ""},
	})
}

func TestAttribution_Decide(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                string
		ev                  []Evidence
		layer, mech, confid string
	}{
		{"tag wins over error text", []Evidence{
			{Rule: "tag", Layer: LayerAuth, Weight: weightTag},
			{Rule: "error-text", Layer: LayerDatabase, Mechanism: MechQueueing, Weight: weightStrong},
		}, LayerAuth, "", ConfidenceTagged},
		{"error text over path words", []Evidence{
			{Rule: "path", Layer: LayerAuth, Weight: weightPath},
			{Rule: "error-text", Layer: LayerDatabase, Mechanism: MechQueueing, Weight: weightStrong},
		}, LayerDatabase, MechQueueing, ConfidenceStrong},
		{"a mechanism without a layer", []Evidence{
			{Rule: "latency", Mechanism: MechQueueing, Weight: weightPath},
		}, LayerBackend, MechQueueing, ConfidenceUnconfirmed},
		{"path words alone are weak", []Evidence{
			{Rule: "path", Layer: LayerFrontend, Weight: weightPath},
		}, LayerFrontend, "", ConfidenceWeak},
		{"a named mechanism over 'errors'", []Evidence{
			{Rule: "error-text", Layer: LayerThirdParty, Mechanism: MechErrors, Weight: weightStrong},
			{Rule: "status", Layer: LayerThirdParty, Mechanism: MechUpstream, Weight: weightStrong},
		}, LayerThirdParty, MechUpstream, ConfidenceStrong},
	}
	for _, tt := range tests {
		at := attribution{evidence: tt.ev}
		at.decide()
		if at.layer != tt.layer || at.mechanism != tt.mech || at.confidence != tt.confid {
			t.Errorf("%s: decide() = %s/%s/%s; want %s/%s/%s", tt.name, at.layer, at.mechanism, at.confidence, tt.layer, tt.mech, tt.confid)
		}
	}
}

// Every rule has a name, a doc and cases above.
func TestRules_Documented(t *testing.T) {
	t.Parallel()
	for _, r := range rules {
		if r.name == "" || len(r.doc) < 20 || r.apply == nil {
			t.Errorf("rule %q: name, doc and apply are required", r.name)
		}
	}
}
