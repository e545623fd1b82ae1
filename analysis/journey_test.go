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
