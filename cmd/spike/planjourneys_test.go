package main

import (
	"strings"
	"testing"

	"github.com/spikeload/spike/scenarios"
)

// journeyPlan builds a plan with two journeys by hand: a request mix whose
// requests are the journeys' steps, as the loader flattens them.
func journeyPlan(t *testing.T) *scenarios.Plan {
	t.Helper()
	const yaml = `
name: j
baseline: 4
stages: [{hold: {rate: 1x, duration: 10s}}, {ramp: {to: 5x, duration: 10s}}]
requests:
  - {name: member/land, url: /}
  - {name: member/login, method: POST, url: /api/login, body: '{}', layer: auth}
  - {name: member/feed, url: /api/feed}
  - {name: newcomer/land, url: /}
  - {name: newcomer/signup, method: POST, url: /api/signup, body: '{}'}
`
	p, err := scenarios.Parse("j.yaml", []byte(yaml), scenarios.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	think := func(s string) scenarios.Think {
		th, err := scenarios.ParseThink(s)
		if err != nil {
			t.Fatal(err)
		}
		return th
	}
	id, err := scenarios.NewExtract("id", scenarios.ExtractJSON, "id")
	if err != nil {
		t.Fatal(err)
	}
	step := func(k int, th string, ex ...scenarios.Extract) *scenarios.Step {
		return &scenarios.Step{Req: k, Request: p.Requests[k], Think: think(th), Extract: ex}
	}
	p.Journeys = []*scenarios.Journey{
		{Name: "member", Weight: 3, Cookies: true, Steps: []*scenarios.Step{step(0, "2s"), step(1, "1s-3s", id), step(2, "")}},
		{Name: "newcomer", Weight: 1, Steps: []*scenarios.Step{step(3, ""), step(4, "")}},
	}
	p.Options.MaxSessions = 500
	p.Options.Arrivals = scenarios.ArrivalsPoisson
	p.Options.Mix = scenarios.MixInterleaved
	return p
}

func TestJourneysAt(t *testing.T) {
	t.Parallel()
	p := journeyPlan(t)
	if got := requestsPerVisitor(p); got != 0.75*3+0.25*2 {
		t.Errorf("requestsPerVisitor = %v; want 2.75", got)
	}
	js, total := journeysAt(p, 20)
	if total != 20*2.75 {
		t.Errorf("journeysAt(20) total = %v req/s; want 55", total)
	}
	tests := []struct {
		j, s     int
		name     string
		peak     float64
		think    string
		extract  string
		thinkSec float64
	}{
		{0, 0, "land", 15, "2s", "", 4},
		{0, 1, "login", 15, "1s-3s", "id", 4},
		{0, 2, "feed", 15, "", "", 4},
		{1, 0, "land", 5, "", "", 0},
		{1, 1, "signup", 5, "", "", 0},
	}
	for _, tt := range tests {
		j := js[tt.j]
		st := j.Steps[tt.s]
		if st.Name != tt.name || st.PeakRate != tt.peak || st.Think != tt.think || strings.Join(st.Extract, ",") != tt.extract || j.ThinkSec != tt.thinkSec {
			t.Errorf("journeysAt(20)[%d].Steps[%d] = %+v (think %vs a session); want %s at %v req/s, think %q, extract %q (%vs)",
				tt.j, tt.s, st, j.ThinkSec, tt.name, tt.peak, tt.think, tt.extract, tt.thinkSec)
		}
	}
	if js[0].Share != 0.75 || js[1].Share != 0.25 || !js[0].Cookies || js[1].Cookies {
		t.Errorf("journeysAt shares %v, %v, cookies %t, %t; want 0.75, 0.25, true, false", js[0].Share, js[1].Share, js[0].Cookies, js[1].Cookies)
	}
}

func TestWriteJourneys(t *testing.T) {
	t.Parallel()
	p := journeyPlan(t)
	var b strings.Builder
	writeJourneys(&b, p, 20)
	got := b.String()
	for _, want := range []string{
		"Journeys (req/s at the peak of 20.0 visitors/s, if no visitor leaves early):",
		"75.0%  member: 3 steps, think ≈ 4s a session\n",
		"25.0%  newcomer: 2 steps, think ≈ 0s a session, no cookie jar\n",
		"2. login         15.0 req/s  POST /api/login  [auth]  (extracts id; think 1s-3s)\n",
		"2. signup        5.00 req/s  POST /api/signup\n",
		"every step: 55.0 req/s at the peak (2.8 requests a visitor)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("writeJourneys =\n%s\nwant it to contain %q", got, want)
		}
	}
	if got, want := sendingText(p), "visitors at random gaps (arrivals: poisson, each window's count as planned), each visitor's journey interleaved in exact shares (mix: interleaved), at most 500 sessions at once"; got != want {
		t.Errorf("sendingText = %q; want %q", got, want)
	}
	p.Journeys, p.Options = nil, scenarios.Options{Mix: scenarios.MixRandom}
	if got, want := sendingText(p), "requests evenly spaced (arrivals: even), each request's kind drawn at random by weight (mix: random)"; got != want {
		t.Errorf("sendingText without journeys = %q; want %q", got, want)
	}
}
