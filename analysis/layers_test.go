package analysis

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spikeload/spike/engine"
)

func TestAnalyze_Attribution(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		r          req
		low, high  map[string]float64 // Server-Timing means, ms
		layer      string
		evidence   string // prefix
		lowLatency time.Duration
	}{
		{"tag", req{name: "x", url: "/api/x", layer: LayerAuth}, map[string]float64{"db": 10}, map[string]float64{"db": 900}, LayerAuth, "tag", 0},
		{"unknown tag ignored", req{name: "x", url: "/api/items", layer: "cache"}, nil, nil, LayerBackend, "default", 0},
		{"db grew", req{name: "x", url: "/api/x"}, map[string]float64{"db": 10, "app": 12}, map[string]float64{"db": 300, "app": 320}, LayerDatabase, "server-timing: db grew 10 ms→300 ms", 0},
		{"cache is the database read path", req{name: "x", url: "/api/x"}, map[string]float64{"redis": 1, "app": 3}, map[string]float64{"redis": 80, "app": 90}, LayerDatabase, "server-timing: redis grew 1.0 ms→80 ms (database read path)", 0},
		{"ext grew most", req{name: "x", url: "/api/signup"}, map[string]float64{"ext": 150, "db": 70}, map[string]float64{"ext": 900, "db": 72}, LayerThirdParty, "server-timing: ext grew", 0},
		{"payment grew most", req{name: "x", url: "/api/checkout"}, map[string]float64{"payment": 150, "sql": 70}, map[string]float64{"payment": 600, "sql": 300}, LayerThirdParty, "server-timing: payment grew", 0},
		{"session grew", req{name: "x", url: "/api/me"}, map[string]float64{"session": 5}, map[string]float64{"session": 200}, LayerAuth, "server-timing: session grew", 0},
		{"no growth: the component taking most time", req{name: "x", url: "/api/signup"}, map[string]float64{"ext": 150, "db": 70}, map[string]float64{"ext": 151, "db": 71}, LayerThirdParty, "server-timing: ext takes the most time", 0},
		{"static path beats a growing app component", req{name: "x", url: "/static/app.js"}, map[string]float64{"app": 2}, map[string]float64{"app": 300}, LayerFrontend, "path: /static/", 0},
		{"static extension", req{name: "x", url: "/logo.PNG?v=3"}, nil, nil, LayerFrontend, "path: .png", 0},
		{"static content type", req{name: "x", url: "/avatar/{{.User}}", headers: map[string]string{"content-type": "image/webp"}}, nil, nil, LayerFrontend, "content-type: image/webp", 0},
		{"auth path", req{name: "x", method: "POST", url: "http://example.com/api/login"}, nil, nil, LayerAuth, "path: /login", 0},
		{"token path", req{name: "x", method: "POST", url: "/oauth/token"}, nil, nil, LayerAuth, "path: /oauth", 0},
		{"generic component grew", req{name: "x", url: "/api/report"}, map[string]float64{"app": 20}, map[string]float64{"app": 400}, LayerBackend, "server-timing: app grew 20 ms→400 ms", 0},
		{"default", req{name: "x", url: "/api/items"}, map[string]float64{"app": 20}, map[string]float64{"app": 21}, LayerBackend, "default", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBuilder(t, 100, tt.r)
			for k := 0; k < 6; k++ {
				rate, timing := 100.0, tt.low
				if k >= 3 {
					rate, timing = 400, tt.high
				}
				b.window(rate, map[string]obs{"x": {n: 50, lat: 50 * time.Millisecond, timing: timing}})
			}
			a := analyze(b.done())
			rr := requestOf(a, "x")
			if rr.Layer != tt.layer || !strings.HasPrefix(rr.Evidence, tt.evidence) {
				t.Errorf("attribution = %s (%q); want %s (%q…)", rr.Layer, rr.Evidence, tt.layer, tt.evidence)
			}
			if l := layerOf(a, tt.layer); l == nil || !slices.Contains(l.Requests, "x") {
				t.Errorf("layer %s reports %v; want it to hold x", tt.layer, l)
			}
		})
	}
}

// twoLayers builds a run where the database request "db" and the auth
// request "auth" degrade as given per window (index 0-2 at baseline).
func twoLayers(t *testing.T, db, auth []obs) *Analysis {
	b := newBuilder(t, 100,
		req{name: "db", url: "/api/feed", layer: LayerDatabase},
		req{name: "auth", method: "POST", url: "/api/login", layer: LayerAuth})
	for k := range db {
		b.window(100+10*float64(k), map[string]obs{"db": db[k], "auth": auth[k]})
	}
	return analyze(b.done())
}

func lats(n int, ms ...int) []obs {
	out := make([]obs, len(ms))
	for k, m := range ms {
		out[k] = obs{n: n, lat: time.Duration(m) * time.Millisecond}
	}
	return out
}

func TestAnalyze_BreakageOrder(t *testing.T) {
	t.Parallel()
	t.Run("by break time", func(t *testing.T) {
		t.Parallel()
		a := twoLayers(t,
			lats(50, 100, 100, 100, 100, 900, 900, 900, 900, 900, 900),
			lats(50, 100, 100, 100, 100, 100, 100, 900, 900, 900, 900))
		if got := a.Verdict.Order; !slices.Equal(got, []string{LayerDatabase, LayerAuth}) {
			t.Fatalf("order = %v; want [database auth]", got)
		}
		if db := layerOf(a, LayerDatabase); db.Rank != 1 || win(db.Broke) != 4 || len(db.SameWindow) != 0 {
			t.Errorf("database rank %d broke %v same %v; want 1, window 4, none", db.Rank, db.Broke, db.SameWindow)
		}
		if au := layerOf(a, LayerAuth); au.Rank != 2 || win(au.Broke) != 6 {
			t.Errorf("auth rank %d broke %v; want 2, window 6", au.Rank, au.Broke)
		}
		if a.Verdict.FirstLayer != LayerDatabase || win(a.Verdict.Breakpoint) != 4 {
			t.Errorf("verdict first %q at %v; want database at window 4", a.Verdict.FirstLayer, a.Verdict.Breakpoint)
		}
	})
	t.Run("same window: the earlier crack first", func(t *testing.T) {
		t.Parallel()
		// Auth cracks (2x its low p95) from window 3; both break at window 6.
		a := twoLayers(t,
			lats(50, 100, 100, 100, 100, 100, 100, 900, 900, 900),
			lats(50, 100, 100, 100, 250, 250, 250, 900, 900, 900))
		if got := a.Verdict.Order; !slices.Equal(got, []string{LayerAuth, LayerDatabase}) {
			t.Fatalf("order = %v; want [auth database]", got)
		}
		au, db := layerOf(a, LayerAuth), layerOf(a, LayerDatabase)
		if win(au.Cracked) != 3 || win(au.Broke) != 6 || win(db.Broke) != 6 {
			t.Errorf("auth cracked %v broke %v, database broke %v; want 3, 6, 6", au.Cracked, au.Broke, db.Broke)
		}
		if !slices.Equal(au.SameWindow, []string{LayerDatabase}) || !slices.Equal(db.SameWindow, []string{LayerAuth}) {
			t.Errorf("same window = %v / %v; want each other", au.SameWindow, db.SameWindow)
		}
		var buf strings.Builder
		_ = a.WriteVerdict(&buf)
		if !strings.Contains(buf.String(), "same window as database") {
			t.Errorf("verdict text does not say the layers broke in the same window:\n%s", buf.String())
		}
	})
	t.Run("same window, no cracks: the worse degradation first", func(t *testing.T) {
		t.Parallel()
		a := twoLayers(t,
			lats(50, 100, 100, 100, 600, 600, 600),
			lats(50, 100, 100, 100, 1500, 1500, 1500))
		if got := a.Verdict.Order; !slices.Equal(got, []string{LayerAuth, LayerDatabase}) {
			t.Errorf("order = %v; want [auth database]", got)
		}
	})
	t.Run("5xx across endpoints: the backend first", func(t *testing.T) {
		t.Parallel()
		b := newBuilder(t, 100,
			req{name: "feed", url: "/api/feed", layer: LayerDatabase},
			req{name: "login", method: "POST", url: "/api/login", layer: LayerAuth},
			req{name: "app.js", url: "/static/app.js"},
			req{name: "signup", method: "POST", url: "/api/signup", layer: LayerThirdParty, errSamples: []engine.ErrorSample{{Message: "503 Service Unavailable: server overloaded: 10 requests in flight (limit 10)", Count: 90}}})
		for k := 0; k < 9; k++ {
			errs := 0
			if k >= 4 {
				errs = 10
			}
			o := obs{n: 30, lat: 40 * time.Millisecond, errs: errs, status: 503}
			b.window(100+20*float64(k), map[string]obs{"feed": o, "login": o, "app.js": o, "signup": o})
		}
		a := analyze(b.done())
		if got := a.Verdict.Order; len(got) == 0 || got[0] != LayerBackend {
			t.Fatalf("order = %v; want the backend first", got)
		}
		be := layerOf(a, LayerBackend)
		if be.Symptom == nil || be.Symptom.Class != SymptomErrorsAcrossEndpoints || !strings.Contains(be.Symptom.Text, "503 across 4 of 4 endpoints") ||
			!strings.Contains(be.Symptom.Text, "server overloaded") {
			t.Errorf("backend symptom = %+v; want 503 across 4 of 4 endpoints, citing the error sample", be.Symptom)
		}
		if be.Cause != causes[LayerBackend] || a.Verdict.FirstLayer != LayerBackend || win(be.Broke) != 4 {
			t.Errorf("backend cause %q, first %q, broke %v; want the backend cause, first, window 4", be.Cause, a.Verdict.FirstLayer, be.Broke)
		}
		if len(a.Recommendations) == 0 || !slices.ContainsFunc(a.Recommendations, func(r Recommendation) bool { return r.Step == StepScale && r.Layer == LayerBackend }) {
			t.Errorf("recommendations = %+v; want horizontal scaling for the backend", a.Recommendations)
		}
	})
}

func TestAnalyze_Symptoms(t *testing.T) {
	t.Parallel()
	type phase struct{ ok, bad obs }
	tests := []struct {
		name    string
		r       req
		p       phase
		class   string
		text    []string
		cause   string
		noBreak bool
	}{
		{"latency then pool errors", req{name: "x", url: "/api/feed", layer: LayerDatabase, errSamples: []engine.ErrorSample{{Message: "503 Service Unavailable: database pool exhausted: no connection within 1s (pool 4)", Count: 60}}},
			phase{obs{n: 40, lat: 140 * time.Millisecond}, obs{n: 40, lat: 1100 * time.Millisecond, errs: 10, status: 503}},
			SymptomLatencyThenErrors, []string{"p95 rose from 153 ms to 1.2 s", "503 ×", `"database pool exhausted`}, mechanismCauses[[2]string{LayerDatabase, MechQueueing}], false},
		{"rising latency", req{name: "x", url: "/api/feed", layer: LayerDatabase},
			phase{obs{n: 40, lat: 140 * time.Millisecond}, obs{n: 40, lat: 900 * time.Millisecond}},
			SymptomRisingLatency, []string{"without errors"}, mechanismCauses[[2]string{LayerDatabase, MechQueueing}], false},
		{"upstream 502s", req{name: "x", method: "POST", url: "/api/signup", layer: LayerThirdParty, errSamples: []engine.ErrorSample{{Message: "502 Bad Gateway: email provider: 429 Too Many Requests", Count: 30}}},
			phase{obs{n: 40, lat: 150 * time.Millisecond}, obs{n: 40, lat: 150 * time.Millisecond, errs: 10, status: 502}},
			SymptomRateLimited, []string{"rate-limited upstream", "502 ×", "429 Too Many Requests"}, causeRateLimitedAPI, false},
		{"429s anywhere", req{name: "x", url: "/api/search", layer: LayerBackend},
			phase{obs{n: 40, lat: 50 * time.Millisecond}, obs{n: 40, lat: 50 * time.Millisecond, errs: 10, status: 429}},
			SymptomRateLimited, []string{"429 ×"}, mechanismCauses[[2]string{LayerBackend, MechRateLimit}], false},
		{"login failures", req{name: "x", method: "POST", url: "/api/login", layer: LayerAuth, errSamples: []engine.ErrorSample{{Message: "503 Service Unavailable: session store busy", Count: 30}}},
			phase{obs{n: 40, lat: 80 * time.Millisecond}, obs{n: 40, lat: 700 * time.Millisecond, errs: 10, status: 503}},
			SymptomAuthFailures, []string{"login/session requests failed", "session store busy", "p95 rose"}, mechanismCauses[[2]string{LayerAuth, MechQueueing}], false},
		{"401s", req{name: "x", method: "POST", url: "/api/login", layer: LayerAuth},
			phase{obs{n: 40, lat: 80 * time.Millisecond}, obs{n: 40, lat: 80 * time.Millisecond, errs: 10, status: 401}},
			SymptomAuthFailures, []string{"401 ×"}, mechanismCauses[[2]string{LayerAuth, MechSession}], false},
		{"logins slow first", req{name: "x", method: "POST", url: "/api/login", layer: LayerAuth},
			phase{obs{n: 40, lat: 80 * time.Millisecond}, obs{n: 40, lat: 400 * time.Millisecond}},
			SymptomAuthSlow, []string{"slowed first", "p95 rose from"}, mechanismCauses[[2]string{LayerAuth, MechQueueing}], true},
		{"slow large static bodies", req{name: "x", url: "/static/hero.png", maxBytes: 361_000},
			phase{obs{n: 40, lat: 120 * time.Millisecond}, obs{n: 40, lat: 1200 * time.Millisecond}},
			SymptomSlowStatic, []string{"static assets slowed", "largest body 361 kB (x)"}, causes[LayerFrontend], false},
		{"timeouts without a climb", req{name: "x", url: "/api/items", layer: LayerBackend},
			phase{obs{n: 40, lat: 50 * time.Millisecond}, obs{n: 40, lat: 50 * time.Millisecond, errs: 10, kind: engine.KindTimeout}},
			SymptomErrors, []string{"timeout ×"}, causes[LayerBackend], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBuilder(t, 100, tt.r)
			for k := 0; k < 10; k++ {
				o := tt.p.ok
				if k >= 4 {
					o = tt.p.bad
				}
				b.window(100+50*float64(k), map[string]obs{"x": o})
			}
			a := analyze(b.done())
			l := layerOf(a, requestOf(a, "x").Layer)
			if l.Symptom == nil {
				t.Fatalf("layer %s has no symptom (cracked %v, broke %v)", l.Layer, l.Cracked, l.Broke)
			}
			if l.Symptom.Class != tt.class {
				t.Errorf("symptom class = %s (%q); want %s", l.Symptom.Class, l.Symptom.Text, tt.class)
			}
			for _, s := range tt.text {
				if !strings.Contains(l.Symptom.Text, s) {
					t.Errorf("symptom text %q lacks %q", l.Symptom.Text, s)
				}
			}
			if l.Cause != tt.cause {
				t.Errorf("cause = %q; want %q", l.Cause, tt.cause)
			}
			if (l.Broke == nil) != tt.noBreak {
				t.Errorf("broke = %v; want a break: %v", l.Broke, !tt.noBreak)
			}
		})
	}
}
