package analysis

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spikeload/spike/engine"
)

// mvpRun is the fake example app (see mvp) ramped from its baseline of 200
// req/s to 5.5x, past its database (600), email (1000) and, with
// staticCap, static (capacity) limits, with the example app's headers.
func mvpRun(t testing.TB, staticCap float64, mutate func(*engine.Result)) *Analysis {
	target, urls := mvp(600, 1190, 1000, staticCap)
	b := newBuilder(t, 200, target.reqs(urls, nil)...)
	b.hold(target.model(), 200, 5).ramp(target.model(), 200, 1100, 46)
	r := b.done()
	for k := range r.Requests {
		rt := &r.Requests[k]
		switch rt.Name {
		case "hero":
			rt.Headers = map[string]string{"Content-Type": "image/png", "Content-Length": "361000"}
			rt.MaxBytesIn = 361_000
		case "appjs":
			rt.Headers = map[string]string{"Content-Type": "text/javascript; charset=utf-8"}
			rt.MaxBytesIn = 48_000
		case "home":
			rt.Headers = map[string]string{"Content-Type": "text/html; charset=utf-8"}
		case "feed", "profile":
			rt.Headers = map[string]string{"Content-Type": "application/json"}
			rt.ErrorSamples = []engine.ErrorSample{{Message: "503 Service Unavailable: database pool exhausted: no connection within 1s (pool 4)", Count: rt.Errors}}
		case "signup":
			rt.ErrorSamples = []engine.ErrorSample{{Message: "502 Bad Gateway: email provider: 429 Too Many Requests", Count: rt.Errors}}
		}
	}
	if mutate != nil {
		mutate(r)
	}
	return analyze(r)
}

func TestAnalyze_Recommendations(t *testing.T) {
	t.Parallel()
	t.Run("fix order, for what was seen", func(t *testing.T) {
		t.Parallel()
		a := mvpRun(t, 900, nil)
		var got []string
		for _, r := range a.Recommendations {
			got = append(got, r.Area+" "+strings.Join(r.Requests, ","))
		}
		// The fixes for the layer that broke first (the database) lead;
		// the others follow in the fix order.
		want := []string{"cache feed", "cache profile", "cdn appjs,hero", "queue signup"}
		if !slices.Equal(got, want) {
			t.Fatalf("recommendations = %q; want %q", got, want)
		}
		for i := 1; i < len(a.Recommendations); i++ {
			if a.Recommendations[i].MovesBreakpoint == a.Recommendations[i-1].MovesBreakpoint && a.Recommendations[i].Step < a.Recommendations[i-1].Step {
				t.Errorf("recommendation %d (step %d) after step %d: not in fix order", i, a.Recommendations[i].Step, a.Recommendations[i-1].Step)
			}
		}
		titles := map[string]string{}
		for _, r := range a.Recommendations {
			titles[r.Area+" "+strings.Join(r.Requests, ",")] = r.Title
		}
		for key, subs := range map[string][]string{
			"cache profile":  {"Cache GET /api/profile/{id} for 5–15 min (user profiles)", "it carried 30% of requests", "its p95 reached 1.", "x)", "errors"},
			"cache feed":     {"Cache GET /api/feed for 1–5 min", "per-user feeds", "30% of requests"},
			"queue signup":   {"POST /api/signup", "6% of requests", "answered 429/502/503/504 from", "429 Too Many Requests"},
			"cdn appjs,hero": {"12% of requests", "hero is 361 kB image/png"},
		} {
			for _, sub := range subs {
				if !strings.Contains(titles[key], sub) {
					t.Errorf("%s: title %q lacks %q", key, titles[key], sub)
				}
			}
		}
		if got, want := a.Verdict.Fixes, []string{a.Recommendations[0].Title, a.Recommendations[1].Title, a.Recommendations[2].Title}; !slices.Equal(got, want) {
			t.Errorf("verdict fixes = %q; want the first three recommendations", got)
		}
	})
	t.Run("observability first without Server-Timing or error detail", func(t *testing.T) {
		t.Parallel()
		a := mvpRun(t, 5000, func(r *engine.Result) {
			for k := range r.Requests {
				r.Requests[k].ServerTiming = false
				for i := range r.Requests[k].ErrorSamples {
					r.Requests[k].ErrorSamples[i].Message = "503 Service Unavailable"
				}
			}
			for _, w := range r.Windows {
				for _, wr := range w.Requests {
					wr.Timing = nil
				}
			}
		})
		if len(a.Recommendations) == 0 || a.Recommendations[0].Step != StepObservability {
			t.Fatalf("first recommendation = %+v; want observability", a.Recommendations)
		}
		title := a.Recommendations[0].Title
		for _, sub := range []string{"none of the 7 request types returned Server-Timing", "errors carried no detail", "guessed from paths and timing alone"} {
			if !strings.Contains(title, sub) {
				t.Errorf("observability title %q lacks %q", title, sub)
			}
		}
	})
	t.Run("nothing seen, nothing recommended", func(t *testing.T) {
		t.Parallel()
		b := newBuilder(t, 100, req{name: "api", url: "/api/x"})
		b.hold(func(int, float64) map[string]obs {
			return map[string]obs{"api": {n: 100, lat: 50 * time.Millisecond, timing: map[string]float64{"db": 20}}}
		}, 100, 10)
		a := analyze(b.done())
		if len(a.Recommendations) != 0 || a.Verdict.Status != StatusPass {
			t.Errorf("recommendations = %+v (verdict %s); want none for a healthy run", a.Recommendations, a.Verdict.Status)
		}
	})
}

func TestCacheTTL(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ url, ttl string }{
		{"/api/profile/{{.User}}", "5–15 min"},
		{"/api/users/7", "5–15 min"},
		{"/api/feed", "1–5 min, per user, conditionally"},
		{"/", "1–60 min"},
		{"/api/featured", "1–60 min"},
		{"/api/prices/BTC", ""},
		{"/api/session/refresh", "the session's length"},
		{"/api/items", "1–5 min"},
	} {
		if got, _ := cacheTTL(tt.url); got != tt.ttl {
			t.Errorf("cacheTTL(%q) = %q; want %q", tt.url, got, tt.ttl)
		}
	}
}

func TestAnalyze_HeaderAudit(t *testing.T) {
	t.Parallel()
	b := newBuilder(t, 100,
		req{name: "hero.png", url: "/static/hero.png", maxBytes: 361_000, headers: map[string]string{"Content-Type": "image/png", "Server": "nginx/1.22.1"}},
		req{name: "hero.webp", url: "/static/hero.webp", maxBytes: 40_000, headers: map[string]string{"Content-Type": "image/webp", "Cache-Control": "public, max-age=31536000, immutable", "X-Cache": "HIT", "Age": "120"}},
		req{name: "app.js", url: "/static/app.js", maxBytes: 48_000, headers: map[string]string{"Content-Type": "text/javascript", "Cache-Control": "no-cache", "Via": "1.1 varnish"}},
		req{name: "app.css", url: "/static/app.css", maxBytes: 20_000, headers: map[string]string{"Content-Type": "text/css", "Cache-Control": "max-age=3600", "Content-Encoding": "br", "CF-Cache-Status": "HIT"}},
		req{name: "export", url: "/api/export", maxBytes: 3_000_000, headers: map[string]string{"Content-Type": "application/json"}},
		req{name: "feed", url: "/api/feed", maxBytes: 5_000, headers: map[string]string{"Content-Type": "application/json"}},
	)
	b.hold(func(int, float64) map[string]obs {
		out := map[string]obs{}
		for _, n := range []string{"hero.png", "hero.webp", "app.js", "app.css", "export", "feed"} {
			out[n] = obs{n: 20, lat: 20 * time.Millisecond}
		}
		return out
	}, 100, 5)
	a := analyze(b.done())
	var got []string
	for _, f := range a.Headers {
		got = append(got, f.Request+" "+f.Check+" "+f.Area)
	}
	want := []string{
		"hero.png cache_control cdn", "hero.png cdn cdn", "hero.png image_format cdn", "hero.png large_body cdn",
		"app.js cache_control cdn", "app.js compression cdn",
		"export compression cdn", "export large_body cache",
	}
	if !slices.Equal(got, want) {
		t.Errorf("findings =\n%q\nwant\n%q", got, want)
	}
	for _, f := range a.Headers {
		if f.Detail == "" || f.Step == 0 {
			t.Errorf("finding %+v has no detail or step", f)
		}
		// Without a CDN, the bytes came from the origin: its Server header
		// says which software sent them, not "the app itself".
		if f.Check == CheckCDN && (!strings.Contains(f.Detail, "served from the origin (Server: nginx/1.22.1)") || strings.Contains(f.Detail, "app")) {
			t.Errorf("CDN finding detail = %q, want it served from the origin, naming nginx", f.Detail)
		}
	}
}

func TestAnalyze_Readiness(t *testing.T) {
	t.Parallel()
	a := mvpRun(t, 5000, func(r *engine.Result) {
		for _, w := range r.Windows {
			if wr := w.Requests["profile"]; wr != nil {
				wr.Timing["cache"] = &engine.TimingStat{Count: wr.Count, Desc: map[string]uint64{"miss": wr.Count}}
			}
		}
	})
	rd := a.Readiness
	if !rd.BaselineHealthy || rd.BaselineP95Ms < 100 || rd.BaselineP95Ms > 300 {
		t.Errorf("baseline p95 = %v ms (healthy %v); want ≈ 150–250 ms, healthy", rd.BaselineP95Ms, rd.BaselineHealthy)
	}
	if rd.Slowest != "signup" {
		t.Errorf("slowest = %q (%v ms); want signup", rd.Slowest, rd.SlowestP95Ms)
	}
	if rd.Cached {
		t.Errorf("cached = true; want false: every cache lookup missed")
	}
	if !rd.ThirdPartyInPath || !rd.StaticFromApp {
		t.Errorf("third party in path %v, static from app %v; want both", rd.ThirdPartyInPath, rd.StaticFromApp)
	}
	if len(rd.Answers) != 5 {
		t.Fatalf("answers = %d; want 5", len(rd.Answers))
	}
	for _, want := range []string{"yes: ", "signup: p95", "no: no cache hits", "signup waits for ext", "no CDN marker on appjs and hero"} {
		if !slices.ContainsFunc(rd.Answers, func(x Answer) bool { return strings.Contains(x.Answer, want) }) {
			t.Errorf("answers %+v lack %q", rd.Answers, want)
		}
	}

	hits := mvpRun(t, 5000, func(r *engine.Result) {
		for _, w := range r.Windows {
			if wr := w.Requests["profile"]; wr != nil {
				wr.Timing["cache"] = &engine.TimingStat{Count: wr.Count, Desc: map[string]uint64{"hit": wr.Count * 3 / 4, "miss": wr.Count / 4}}
			}
		}
	})
	if !hits.Readiness.Cached || requestOf(hits, "profile").CacheHits < 0.7 {
		t.Errorf("cached = %v (profile hits %v); want cached, ≈75%% hits", hits.Readiness.Cached, requestOf(hits, "profile").CacheHits)
	}
}

func TestAnalysis_WriteVerdict(t *testing.T) {
	t.Parallel()
	inconclusive := func() *Analysis {
		b := newBuilder(t, 100, req{name: "api", url: "/api/x"})
		for k, r := range []float64{100, 200, 300, 400, 500} {
			lat := 50 * time.Millisecond
			if k >= 2 {
				lat = 900 * time.Millisecond
			}
			b.window(r, map[string]obs{"api": {n: 100, lat: lat}})
			if k >= 2 {
				b.bound(k)
			}
		}
		return analyze(b.done())
	}()
	tests := []struct {
		name string
		a    *Analysis
		want []string
	}{
		{"fail", mvpRun(t, 900, nil), []string{"Verdict: FAIL", "The database broke first at ", "first to break  database: p95 rose", "likely cause    requests queue for a database connection",
			"breakpoint", "capacity", "Breakage order:", "1. database", "Fix first:", "3. Serve static assets", "2. Cache GET /api/profile"}},
		{"inconclusive", inconclusive, []string{"Verdict: INCONCLUSIVE", "inconclusive: spike could not send the planned load above 200 req/s", "what to do      give spike more connections"}},
	}
	for _, tt := range tests {
		var buf strings.Builder
		if err := tt.a.WriteVerdict(&buf); err != nil {
			t.Fatalf("%s: WriteVerdict() = %v", tt.name, err)
		}
		out := buf.String()
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: verdict lacks %q:\n%s", tt.name, w, out)
			}
		}
		if n := strings.Count(out, "\n"); n > 25 {
			t.Errorf("%s: verdict is %d lines; want at most 25:\n%s", tt.name, n, out)
		}
		if strings.Contains(out, "\x1b[") {
			t.Errorf("%s: verdict has escape codes", tt.name)
		}
	}
}
