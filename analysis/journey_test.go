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
