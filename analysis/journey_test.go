package analysis

import (
	"strings"
	"testing"
	"time"

	"github.com/spikeload/spike/engine"
)

// With journeys the curve is arrivals: the verdict gives rates in
// visitors/s, each with the requests per second it meant.
func TestAnalyze_JourneyUnits(t *testing.T) {
	b := newBuilder(t, 10, req{name: "visit/login", url: "/api/login"}, req{name: "visit/feed", url: "/api/feed"})
	b.ramp(func(_ int, rate float64) map[string]obs {
		lat := 40 * time.Millisecond
		if rate > 30 {
			lat = 900 * time.Millisecond
		}
		n := int(2 * rate)
		return map[string]obs{"visit/login": {n: n, lat: lat}, "visit/feed": {n: n, lat: lat}}
	}, 10, 50, 12)
	r := b.done()
	r.Plan.Journeys = []engine.JourneyInfo{{Name: "visit", Share: 1, Steps: []string{"visit/login", "visit/feed"}}}
	for i := range r.Windows {
		r.Windows[i].Planned = uint64(4 * r.Windows[i].PlannedRate)
	}
	a := Analyze(r, Options{})
	var buf strings.Builder
	if err := a.WriteVerdict(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	t.Log(out)
	if a.RateUnit != "visitors/s" || a.Verdict.Breakpoint == nil || a.Verdict.Breakpoint.Unit != "visitors/s" {
		t.Fatalf("rate unit %q, breakpoint %+v; want visitors/s", a.RateUnit, a.Verdict.Breakpoint)
	}
	bp := a.Verdict.Breakpoint
	if want := 4 * bp.RateRPS; bp.ReqRPS < 0.99*want || bp.ReqRPS > 1.01*want {
		t.Errorf("breakpoint %s: %v req/s; want the window's planned %v", bp.at(), bp.ReqRPS, want)
	}
	for _, want := range []string{"visitors/s (", " req/s)", "planned peak    50 visitors/s"} {
		if !strings.Contains(out, want) {
			t.Errorf("verdict lacks %q", want)
		}
	}
	if strings.Contains(out, fmtRate(bp.RateRPS)+" req/s") {
		t.Errorf("verdict gives the arrival rate %s in req/s", fmtRate(bp.RateRPS))
	}
}

// One endpoint sent by several journey steps (feed-1, feed-2) is one thing
// to cache: one recommendation naming both steps, with their shares added.
func TestRecommend_OneEndpointSeveralSteps(t *testing.T) {
	a := mvpRun(t, 900, func(r *engine.Result) {
		// Rename profile to a second feed step: same method and URL.
		for k := range r.Plan.Requests {
			if r.Plan.Requests[k].Name == "profile" {
				r.Plan.Requests[k].Name, r.Plan.Requests[k].URL = "feed-2", r.Plan.Requests[k].URL[:0]+"/api/feed"
			}
		}
		for k := range r.Requests {
			if r.Requests[k].Name == "profile" {
				r.Requests[k].Name = "feed-2"
			}
		}
		for w := range r.Windows {
			if wr, ok := r.Windows[w].Requests["profile"]; ok {
				r.Windows[w].Requests["feed-2"] = wr
				delete(r.Windows[w].Requests, "profile")
			}
		}
	})
	var caches []Recommendation
	for _, rec := range a.Recommendations {
		if rec.Area == "cache" {
			caches = append(caches, rec)
		}
	}
	if len(caches) != 1 || strings.Join(caches[0].Requests, ",") != "feed,feed-2" || !strings.Contains(caches[0].Title, "Cache GET /api/feed") {
		for _, c := range caches {
			t.Logf("%s %v", c.Title, c.Requests)
		}
		t.Fatalf("%d cache recommendations; want one for GET /api/feed naming feed and feed-2", len(caches))
	}
	if !strings.Contains(caches[0].Title, "it carried 60% of requests") {
		t.Errorf("title %q; want the two steps' shares added (60%%)", caches[0].Title)
	}
}

// Login and the current-user request wait on the same session store behind
// a proxy: both slow to the proxy's 3 s timeout and get its stock 504 page,
// while the home page and the feed stay fast. The 504 says only that the app
// did not answer in time; which requests slowed together says where.
func TestAnalyze_SessionStoreBehindProxy(t *testing.T) {
	reqs := []req{
		{name: "home", url: "/", weight: 20, noTiming: true},
		{name: "feed", url: "/api/feed", weight: 40, noTiming: true},
		{name: "login", method: "POST", url: "/api/login", weight: 20, noTiming: true},
		{name: "me", url: "/api/me", weight: 20, noTiming: true},
	}
	b := newBuilder(t, 20, reqs...)
	b.ramp(func(_ int, rate float64) map[string]obs {
		n := func(share float64) int { return int(rate * share) }
		session := obs{n: n(0.2), lat: 40 * time.Millisecond}
		if rate > 60 {
			over := (rate - 60) / 60
			session.lat = time.Duration(float64(40*time.Millisecond) + over*float64(3*time.Second))
			if session.lat >= 3*time.Second {
				session.lat = 3 * time.Second
				session.errs, session.status = session.n/2, 504
			}
		}
		return map[string]obs{
			"home":  {n: n(0.2), lat: 4 * time.Millisecond},
			"feed":  {n: n(0.4), lat: 25 * time.Millisecond},
			"login": session, "me": session,
		}
	}, 20, 160, 40)
	r := b.done()
	for k := range r.Requests {
		if n := r.Requests[k].Errors; n > 0 {
			r.Requests[k].ErrorSamples = []engine.ErrorSample{{Message: "504 Gateway Time-out", Count: n}}
		}
	}
	a := Analyze(r, Options{})
	v := a.Verdict
	t.Logf("%s\n  %s\n  evidence %q", v.Headline, v.Cause, v.Evidence)
	if v.FirstLayer != LayerAuth {
		t.Errorf("first layer %q; want auth (login and me slowed together, home and feed did not)", v.FirstLayer)
	}
	if rr := requestOf(a, "me"); rr == nil || rr.Layer != LayerAuth {
		t.Errorf("me: layer %v; want auth", rr)
	}
	if strings.Contains(v.Cause, "one instance") {
		t.Errorf("cause %q blames the app's instances", v.Cause)
	}

	// Renamed so that only one of the two reads as a session request: most
	// of what slowed is still the session path.
	r.Plan.Requests[3].URL = "/api/account"
	a = Analyze(r, Options{})
	if a.Verdict.FirstLayer != LayerAuth {
		t.Errorf("with /api/account: first layer %q; want auth", a.Verdict.FirstLayer)
	}
	if rr := requestOf(a, "me"); rr == nil || rr.Layer != LayerAuth {
		t.Errorf("with /api/account: me is %v; want auth (it slowed with login, the database routes did not)", rr)
	}
}

// A sparse request (a checkout, a few a second) refused fast with a bare
// 500 while everything else stays healthy: the refusal is its own — the
// call only it makes — not the app's admission control. Its low-load
// reference comes from its own windows before it failed.
func TestAnalyze_SparseRequestRefusedAlone(t *testing.T) {
	reqs := []req{
		{name: "home", url: "/", weight: 30, noTiming: true},
		{name: "feed", url: "/api/feed", weight: 66, noTiming: true},
		{name: "checkout", method: "POST", url: "/api/checkout", weight: 4, noTiming: true},
	}
	b := newBuilder(t, 20, reqs...)
	b.ramp(func(w int, rate float64) map[string]obs {
		co := obs{n: max(1, int(rate*0.04)), lat: 85 * time.Millisecond}
		if rate > 100 {
			co.errs, co.status = co.n/2+1, 500
			co.slow, co.slowAt = 0, 0
		}
		return map[string]obs{
			"home":     {n: int(rate * 0.3), lat: 4 * time.Millisecond},
			"feed":     {n: int(rate * 0.66), lat: 25 * time.Millisecond},
			"checkout": co,
		}
	}, 20, 160, 40)
	r := b.done()
	for w := range r.Windows {
		if wr := r.Windows[w].Requests["checkout"]; wr != nil && wr.Errors > 0 {
			// Refused at once: 3–5 ms, against 85 ms for a success.
			wr.ErrorLatency = &engine.ErrLatency{Count: wr.Errors, SumMs: 4 * float64(wr.Errors), MinMs: 3, MaxMs: 5}
		}
	}
	a := Analyze(r, Options{})
	rr := requestOf(a, "checkout")
	t.Logf("%s; checkout: %s/%s/%s %q", a.Verdict.Headline, rr.Layer, rr.Mechanism, rr.Confidence, rr.Evidence)
	if rr.Layer == LayerBackend && rr.Confidence != ConfidenceUnconfirmed {
		t.Errorf("checkout: backend (%s); a refusal of one request while the others never failed is not the app's", rr.Confidence)
	}
	if rr.Layer != LayerThirdParty || rr.Mechanism != MechShedding {
		t.Errorf("checkout: %s/%s; want third-party (its path) refusing at once (shedding)", rr.Layer, rr.Mechanism)
	}
}

// A request whose normal time is long (a 150 ms payment call among 5–25 ms
// reads) lands at the top of the windows it appears in: that is not a
// pause of the process, which would delay every request in flight.
func TestAnalyze_SlowRequestIsNotAStall(t *testing.T) {
	reqs := []req{
		{name: "home", url: "/", weight: 40, noTiming: true},
		{name: "feed", url: "/api/feed", weight: 55, noTiming: true},
		{name: "pay", method: "POST", url: "/api/orders", weight: 5, noTiming: true},
	}
	b := newBuilder(t, 20, reqs...)
	b.ramp(func(w int, rate float64) map[string]obs {
		out := map[string]obs{
			"home": {n: int(rate * 0.4), lat: 5 * time.Millisecond},
			"feed": {n: int(rate * 0.55), lat: 25 * time.Millisecond},
		}
		if w%3 == 0 { // sparse: in every third window
			out["pay"] = obs{n: 2, lat: 150 * time.Millisecond}
		}
		return out
	}, 60, 90, 30)
	a := Analyze(b.done(), Options{})
	if a.Stalls != nil {
		t.Errorf("stalls found: %s; want none (one slow request type is not a pause)", a.Stalls.Text)
	}
}
