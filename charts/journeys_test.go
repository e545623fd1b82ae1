package charts

import (
	"html"
	"strings"
	"testing"
	"time"

	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/scenarios"
)

// synthJourneys turns a synthetic run into a journey run: two journeys,
// visitors arriving at a tenth of the planned rate, members leaving at the
// feed once the database is past its capacity (from 60% of the run).
func synthJourneys(res *engine.Result, hostile bool) *engine.Result {
	member, newcomer := "member", "newcomer"
	if hostile {
		member = hostilePayloads[0]
		newcomer = hostilePayloads[1]
	}
	steps := map[string][]string{
		member:   {member + "/land", member + "/login", member + "/feed", member + "/profile"},
		newcomer: {newcomer + "/land", newcomer + "/signup"},
	}
	res.Plan.Journeys = []engine.JourneyInfo{{Name: member, Share: 0.75, Steps: steps[member]}, {Name: newcomer, Share: 0.25, Steps: steps[newcomer]}}
	res.Plan.Options.Arrivals = scenarios.ArrivalsPoisson
	res.Plan.Options.Mix = scenarios.MixInterleaved
	res.Plan.Options.MaxSessions = 500
	totals := map[string]*engine.JourneyTotal{}
	for _, ji := range res.Plan.Journeys {
		totals[ji.Name] = &engine.JourneyTotal{Name: ji.Name, Steps: ji.Steps,
			JourneyCounts: engine.JourneyCounts{Reached: make([]uint64, len(ji.Steps)), Abandoned: make([]uint64, len(ji.Steps))}}
	}
	n := len(res.Windows)
	for w := range res.Windows {
		win := &res.Windows[w]
		win.Journeys = map[string]*engine.WindowJourney{}
		visitors := win.Planned / 10
		for _, ji := range res.Plan.Journeys {
			started := uint64(float64(visitors) * ji.Share)
			wj := &engine.WindowJourney{JourneyCounts: engine.JourneyCounts{Started: started, Reached: make([]uint64, len(ji.Steps)), Abandoned: make([]uint64, len(ji.Steps))}}
			left := started
			for k := range ji.Steps {
				wj.Reached[k] = left
				if ji.Name == member && k == 2 && w > n*6/10 {
					wj.Abandoned[k] = left / 3
					left -= left / 3
				}
			}
			if w >= n-3 { // the last arrivals are cut short
				wj.Unfinished = left
			} else {
				wj.Completed = left
				wj.DurationSumMs = float64(left) * 9000
			}
			if ji.Name == member && w == n-1 {
				wj.Refused = 2
			}
			win.Journeys[ji.Name] = wj
			t := totals[ji.Name]
			t.Started += wj.Started
			t.Refused += wj.Refused
			t.Completed += wj.Completed
			t.Unfinished += wj.Unfinished
			for k := range ji.Steps {
				t.Reached[k] += wj.Reached[k]
				t.Abandoned[k] += wj.Abandoned[k]
			}
		}
	}
	for _, ji := range res.Plan.Journeys {
		t := totals[ji.Name]
		t.Duration = engine.LatencyStats{Count: int64(t.Completed), P50: 9 * time.Second, P95: 12 * time.Second}
		res.Journeys = append(res.Journeys, *t)
	}
	return res
}

func TestFunnelOf(t *testing.T) {
	t.Parallel()
	j := engine.JourneyTotal{Name: "m", Steps: []string{"m/land", "m/login", "m/feed"},
		JourneyCounts: engine.JourneyCounts{Started: 100, Reached: []uint64{100, 90, 70}, Abandoned: []uint64{5, 10, 20}, Completed: 45, Unfinished: 10}}
	want := []funnelStep{
		{"m", "land", 100, 90, 5, 5},
		{"m", "login", 90, 70, 10, 10},
		{"m", "feed", 70, 45, 20, 5},
	}
	got := funnelOf(j)
	if len(got) != len(want) {
		t.Fatalf("funnelOf = %+v; want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("funnelOf step %d = %+v; want %+v", i, got[i], want[i])
		}
	}
	// Counts that do not add up never underflow.
	odd := funnelOf(engine.JourneyTotal{Name: "x", Steps: []string{"x/a", "x/b"}, JourneyCounts: engine.JourneyCounts{Reached: []uint64{3}, Abandoned: []uint64{5}, Completed: 9}})
	if odd[0].unfinished != 0 || odd[1].reached != 0 || odd[1].unfinished != 0 {
		t.Errorf("funnelOf with short counts = %+v; want no underflow", odd)
	}
}

func TestRender_Journeys(t *testing.T) {
	t.Parallel()
	res := synthJourneys(synthResult(synthOptions{windows: 60}), false)
	a := synthAnalysis(res, false)
	a.Verdict.Breakpoint.Unit, a.Verdict.Breakpoint.ReqRPS = "visitors/s", 300
	out := render(t, res, a)
	for _, want := range []string{
		`id="` + IDFunnel + `"`, `id="` + IDJourneys + `"`, `id="table-funnel"`,
		"Journeys: the funnel",
		"left here (the step failed)",
		"left at member/feed",
		"not started (max_sessions reached)",
		"planned arrivals (visitors/s, right)",
		"poisson arrivals, interleaved mix",
		"<td>Arrivals</td><td>poisson: random gaps",
		"<td>Mix</td><td>interleaved: each visitor&#39;s journey in exact shares",
		"<td>Journeys</td><td>member 75% (4 steps); newcomer 25% (2 steps)</td>",
		"<td>Sessions at once</td><td>at most 500 (options.max_sessions)</td>",
		"<td>Visitors planned</td>",
		"Peak planned", "200 visitors/s (5.0x)",
		"visitors/s (", ", 300 req/s)",
		"p50 9s, p95 12s (completed)",
		"2 more not started: max_sessions reached",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("journey report lacks %q", want)
		}
	}
	// The funnel table: member's feed lost a third of those who reached it.
	j := res.Journeys[0]
	if !strings.Contains(out, html.EscapeString(countShare(j.Abandoned[2], j.Reached[2]))) || j.Abandoned[2] == 0 {
		t.Errorf("funnel table lacks the feed's abandonment %d of %d", j.Abandoned[2], j.Reached[2])
	}
	// A request mix has no funnel.
	plain := render(t, synthResult(synthOptions{windows: 20}), nil)
	for _, no := range []string{IDFunnel, IDJourneys, "table-funnel", "visitors/s"} {
		if strings.Contains(plain, no) {
			t.Errorf("request-mix report contains %q", no)
		}
	}
}
