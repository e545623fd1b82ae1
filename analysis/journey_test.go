package analysis

import (
	"math"
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

// One write request slows first, alone, as it contends for a row lock
// while holding its database connection; the reads stay fast until the
// pool is exhausted, then queue behind it. They did not slow together:
// the app was not saturated (its static asset, and the reads before the
// pool ran out, stayed fast). Measured on a real stack (PostgreSQL row
// lock behind a Go app and nginx): before, "every request slowed
// together: the app itself is saturated".
func TestAnalyze_OneRequestSlowsFirstOthersFollow(t *testing.T) {
	t.Parallel()
	reqs := []req{
		{name: "feed", url: "/api/feed", weight: 5, noTiming: true},
		{name: "post", url: "/api/posts/1", weight: 3, noTiming: true},
		{name: "like", method: "POST", url: "/api/like", weight: 4, noTiming: true},
		{name: "app.js", url: "/static/app.js", weight: 2, noTiming: true},
	}
	build := func(followAt float64) *engine.Result {
		b := newBuilder(t, 20, reqs...)
		b.ramp(func(_ int, rate float64) map[string]obs {
			n := func(share float64) int { return max(1, int(5*rate*share)) } // 5 s windows
			like := obs{n: n(4.0 / 14), lat: 23 * time.Millisecond}
			if rate > 140 {
				like.lat = time.Duration(float64(23*time.Millisecond) * math.Pow(1.6, (rate-140)/10))
			}
			read := 2 * time.Millisecond
			if rate > followAt {
				read = like.lat * 8 / 10
			}
			return map[string]obs{
				"feed":   {n: n(5.0 / 14), lat: read},
				"post":   {n: n(3.0 / 14), lat: read},
				"like":   like,
				"app.js": {n: n(2.0 / 14), lat: time.Millisecond},
			}
		}, 20, 300, 30)
		return b.done()
	}
	a := Analyze(build(240), Options{})
	v := a.Verdict
	t.Logf("%s\n  %s\n  evidence %q", v.Headline, v.Cause, v.Evidence)
	if v.FirstLayer == LayerBackend || strings.Contains(v.Cause, "saturated") {
		t.Errorf("first layer %q, cause %q: like slowed alone first, the reads followed; the app was not saturated", v.FirstLayer, v.Cause)
	}
	if v.FirstLayer != LayerDatabase {
		t.Errorf("first layer %q; want database (a dependency like holds, weakly)", v.FirstLayer)
	}
	if !strings.Contains(strings.Join(v.Evidence, " "), "until") {
		t.Errorf("evidence %q does not say until when the reads stayed fast", v.Evidence)
	}
	if !hasRec(a, "Keep POST /api/like's transaction short") {
		t.Errorf("no fix for the write that slowed first: %+v", a.Recommendations)
	}
	// All at once, it is the app's own saturation.
	a = Analyze(build(140), Options{})
	if a.Verdict.FirstLayer != LayerBackend {
		t.Errorf("everything slowing at once: first layer %q; want backend (the app saturated)", a.Verdict.FirstLayer)
	}
}

// Every dynamic request fails with a bare 500 answered fast while p95
// rises only a little: the app is answering, not saturated (a saturated
// app queues, then times out); what they all share refuses at once.
// Measured on a real stack (PostgreSQL max_connections exhausted, the app
// answering "internal error"): before, "every request slowed together:
// the app itself is saturated".
func TestAnalyze_EveryRequestFailsFastWith500(t *testing.T) {
	t.Parallel()
	reqs := []req{
		{name: "feed", url: "/api/feed", weight: 5, noTiming: true},
		{name: "post", url: "/api/posts/1", weight: 3, noTiming: true},
		{name: "app.js", url: "/static/app.js", weight: 2, noTiming: true},
	}
	build := func(errMs float64) *engine.Result {
		b := newBuilder(t, 20, reqs...)
		b.ramp(func(_ int, rate float64) map[string]obs {
			n := func(share float64) int { return max(1, int(5*rate*share)) }
			read := obs{lat: 12 * time.Millisecond}
			if rate > 150 {
				read.lat = time.Duration(float64(12*time.Millisecond) * (1 + 3*(rate-150)/150))
				read.status = 500
			}
			feed, post := read, read
			feed.n, post.n = n(0.5), n(0.3)
			if rate > 150 {
				feed.errs, post.errs = feed.n/5, post.n/5
			}
			return map[string]obs{"feed": feed, "post": post, "app.js": {n: n(0.2), lat: time.Millisecond}}
		}, 20, 300, 30)
		r := b.done()
		for w := range r.Windows {
			for _, wr := range r.Windows[w].Requests {
				if wr.Errors > 0 {
					wr.ErrorLatency = &engine.ErrLatency{Count: wr.Errors, SumMs: errMs * float64(wr.Errors), MinMs: errMs * 0.7, MaxMs: errMs * 1.3}
					wr.ErrorBodies = []engine.BodySample{{Status: 500, Text: "internal error", Count: wr.Errors}}
				}
			}
		}
		return r
	}
	a := Analyze(build(13), Options{})
	v := a.Verdict
	t.Logf("%s\n  %s\n  evidence %q", v.Headline, v.Cause, v.Evidence)
	if v.FirstLayer != LayerDatabase || v.Mechanism != MechShedding {
		t.Errorf("first layer %q (%s); want database, refusing at once (weakly)", v.FirstLayer, v.Mechanism)
	}
	if strings.Contains(v.Cause, "saturated") {
		t.Errorf("cause %q: an app answering 500s in 13 ms is not saturated", v.Cause)
	}
	if !hasRec(a, "Keep connections to the database below its limit") {
		t.Errorf("no fix for the refusals: %+v", a.Recommendations)
	}
	// The same 500s at a deadline are what a saturated app gives.
	a = Analyze(build(1000), Options{})
	if a.Verdict.FirstLayer == LayerDatabase {
		t.Errorf("500s after 1 s: first layer %q; nothing says database", a.Verdict.FirstLayer)
	}
}

// One request, already far slower than the others at low load (it calls
// out where they read locally), slows alone and then fails with a bare 500
// at the app's own 1 s timeout while the others stay fast. Measured on a
// real stack (an email provider slowing to 2 s behind a 1 s client
// timeout): before, "a dependency such as the database".
func TestAnalyze_OwnCallTimesOut(t *testing.T) {
	t.Parallel()
	reqs := []req{
		{name: "feed", url: "/api/feed", weight: 5, noTiming: true},
		{name: "post", url: "/api/posts/1", weight: 3, noTiming: true},
		{name: "signup", method: "POST", url: "/api/accounts", weight: 2, noTiming: true},
		{name: "app.js", url: "/static/app.js", weight: 2, noTiming: true},
	}
	b := newBuilder(t, 20, reqs...)
	b.ramp(func(_ int, rate float64) map[string]obs {
		n := func(share float64) int { return max(1, int(5*rate*share)) }
		signup := obs{n: n(2.0 / 12), lat: 155 * time.Millisecond}
		if rate > 110 {
			signup.lat = min(time.Second, time.Duration(float64(155*time.Millisecond)*(1+(rate-110)/10)))
			if signup.lat >= time.Second {
				signup.errs, signup.status = signup.n*9/10, 500
			}
		}
		return map[string]obs{
			"feed":   {n: n(5.0 / 12), lat: 2 * time.Millisecond},
			"post":   {n: n(3.0 / 12), lat: 2 * time.Millisecond},
			"signup": signup,
			"app.js": {n: n(2.0 / 12), lat: time.Millisecond},
		}
	}, 20, 200, 30)
	r := b.done()
	for w := range r.Windows {
		if wr := r.Windows[w].Requests["signup"]; wr != nil && wr.Errors > 0 {
			wr.ErrorLatency = &engine.ErrLatency{Count: wr.Errors, SumMs: 1001 * float64(wr.Errors), MinMs: 1000.5, MaxMs: 1002.5}
			wr.ErrorBodies = []engine.BodySample{{Status: 500, Text: "internal error", Count: wr.Errors}}
		}
	}
	a := Analyze(r, Options{})
	v := a.Verdict
	t.Logf("%s\n  %s\n  evidence %q", v.Headline, v.Cause, v.Evidence)
	if v.FirstLayer != LayerThirdParty {
		t.Errorf("first layer %q; want third-party (a call only signup makes, given up at the app's timeout)", v.FirstLayer)
	}
	if v.Confidence != ConfidenceWeak {
		t.Errorf("confidence %q; want weak: nothing named the provider", v.Confidence)
	}
	if !strings.Contains(strings.Join(v.Evidence, " "), "at its own timeout") {
		t.Errorf("evidence %q does not give the reading", v.Evidence)
	}
}

// One sparse request is over its limit from the lowest load (a search
// scanning a table without an index) while the others take a few ms; as
// load grows its copies compete and it reaches the proxy's 2 s timeout
// (504, no upstream named). It is slow at any load, not past a capacity.
// Measured on a real stack (PostgreSQL sequential scan behind nginx):
// before, "backend, unconfirmed; one instance, no horizontal scaling".
func TestAnalyze_SlowFromTheStart(t *testing.T) {
	t.Parallel()
	reqs := []req{
		{name: "feed", url: "/api/feed", weight: 12, noTiming: true},
		{name: "post", url: "/api/posts/1", weight: 8, noTiming: true},
		{name: "lookup", url: "/api/items?q=shoe", weight: 1, noTiming: true},
		{name: "app.js", url: "/static/app.js", weight: 4, noTiming: true},
	}
	b := newBuilder(t, 20, reqs...)
	b.ramp(func(_ int, rate float64) map[string]obs {
		n := func(share float64) int { return max(1, int(rate*share)) }
		lookup := obs{n: n(1.0 / 25), lat: time.Duration(float64(550*time.Millisecond) * (1 + rate/40))}
		if lookup.lat >= 2*time.Second {
			lookup.lat, lookup.errs, lookup.status = 2*time.Second, lookup.n, 504
		}
		return map[string]obs{
			"feed":   {n: n(12.0 / 25), lat: 3 * time.Millisecond},
			"post":   {n: n(8.0 / 25), lat: 2 * time.Millisecond},
			"lookup": lookup,
			"app.js": {n: n(4.0 / 25), lat: time.Millisecond},
		}
	}, 10, 100, 30)
	r := b.done()
	for w := range r.Windows {
		if wr := r.Windows[w].Requests["lookup"]; wr != nil && wr.Errors > 0 {
			wr.ErrorBodies = []engine.BodySample{{Status: 504, Text: "504 Gateway Time-out", Count: wr.Errors}}
			wr.ErrorLatency = &engine.ErrLatency{Count: wr.Errors, SumMs: 2003 * float64(wr.Errors), MinMs: 2001, MaxMs: 2006}
		}
	}
	a := Analyze(r, Options{})
	v := a.Verdict
	t.Logf("%s\n  %s\n  evidence %q", v.Headline, v.Cause, v.Evidence)
	if v.Mechanism != MechSlowWork {
		t.Errorf("mechanism %q; want slow work (over its limit from the lowest load)", v.Mechanism)
	}
	if v.FirstLayer != LayerDatabase || v.Confidence != ConfidenceWeak {
		t.Errorf("first layer %q (%s); want database, weakly (an expensive query, by experience)", v.FirstLayer, v.Confidence)
	}
	if strings.Contains(v.Cause, "one instance") {
		t.Errorf("cause %q: more instances do not make a slow query fast", v.Cause)
	}
	var fix bool
	for _, rec := range a.Recommendations {
		if strings.HasPrefix(rec.Title, "Make GET /api/items") && strings.Contains(rec.Title, "fast at any load") {
			fix = true
		}
	}
	if !fix {
		t.Errorf("no recommendation to make the lookup fast at any load: %+v", a.Recommendations)
	}

	// The same shape on a login is password hashing (CPU by design), not
	// a query: measured on a real stack (bcrypt at cost 12), where the
	// path alone had said "session store".
	r.Plan.Requests[2].Method, r.Plan.Requests[2].URL = "POST", "/api/login"
	a = Analyze(r, Options{})
	if a.Verdict.FirstLayer != LayerBackend || a.Verdict.Mechanism != MechSlowWork || !strings.Contains(a.Verdict.Cause, "password hashing") {
		t.Errorf("a login slow at any load: first layer %q (%s), cause %q; want backend, slow work, hashing",
			a.Verdict.FirstLayer, a.Verdict.Mechanism, a.Verdict.Cause)
	}
}

// hasRec reports whether a recommendation's title starts with prefix.
func hasRec(a *Analysis, prefix string) bool {
	for _, r := range a.Recommendations {
		if strings.HasPrefix(r.Title, prefix) {
			return true
		}
	}
	return false
}
