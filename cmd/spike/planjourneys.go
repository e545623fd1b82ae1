package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spikeload/spike/scenarios"
)

// planJourneyJSON is one journey of `spike plan --json`.
type planJourneyJSON struct {
	Name string `json:"name"`
	// Share is the journey's share of arriving visitors.
	Share   float64 `json:"share"`
	Cookies bool    `json:"cookies"`
	// ThinkSec is a session's mean think time, the sum of its steps' means.
	ThinkSec float64        `json:"think_s"`
	Steps    []planStepJSON `json:"steps"`
}

// planStepJSON is one step of a journey in `spike plan --json`.
type planStepJSON struct {
	Name    string   `json:"name"`
	Method  string   `json:"method"`
	URL     string   `json:"url"`
	Layer   string   `json:"layer,omitempty"`
	Extract []string `json:"extract,omitempty"`
	Think   string   `json:"think,omitempty"`
	// PeakRate is the step's request rate at the curve's peak if no visitor
	// leaves early: the peak arrival rate times the journey's share.
	PeakRate float64 `json:"peak_rps"`
}

// rateUnit is the unit of a plan's curve.
func rateUnit(p *scenarios.Plan) string {
	if p.Journeys != nil {
		return "visitors/s"
	}
	return "req/s"
}

// journeyShares returns each journey's share of arrivals.
func journeyShares(p *scenarios.Plan) []float64 {
	sum := 0.0
	for _, j := range p.Journeys {
		sum += j.Weight
	}
	out := make([]float64, len(p.Journeys))
	for i, j := range p.Journeys {
		if sum > 0 {
			out[i] = j.Weight / sum
		}
	}
	return out
}

// requestsPerVisitor is the mean number of requests a visitor sends when
// every visitor completes their journey.
func requestsPerVisitor(p *scenarios.Plan) float64 {
	n := 0.0
	for i, s := range journeyShares(p) {
		n += s * float64(len(p.Journeys[i].Steps))
	}
	return n
}

// journeysAt describes the journeys at an arrival rate of visitors/s and
// returns the request rate they imply, assuming no visitor leaves early.
func journeysAt(p *scenarios.Plan, visitors float64) ([]planJourneyJSON, float64) {
	var out []planJourneyJSON
	total := 0.0
	for i, share := range journeyShares(p) {
		j := p.Journeys[i]
		pj := planJourneyJSON{Name: j.Name, Share: share, Cookies: j.Cookies}
		var think time.Duration
		for _, st := range j.Steps {
			r := st.Request
			ps := planStepJSON{
				Name: strings.TrimPrefix(r.Name, j.Name+"/"), Method: r.Method, URL: r.URL.Raw(), Layer: r.Layer,
				PeakRate: visitors * share,
			}
			for _, e := range st.Extract {
				ps.Extract = append(ps.Extract, e.Var)
			}
			if st.Think != (scenarios.Think{}) {
				ps.Think = st.Think.String()
			}
			think += st.Think.Mean()
			total += ps.PeakRate
			pj.Steps = append(pj.Steps, ps)
		}
		pj.ThinkSec = think.Seconds()
		out = append(out, pj)
	}
	return out, total
}

// writeJourneys prints a plan's journeys and the request rate of each step at
// the peak of peak visitors/s.
func writeJourneys(w io.Writer, p *scenarios.Plan, peak float64) {
	js, total := journeysAt(p, peak)
	fmt.Fprintf(w, "Journeys (req/s at the peak of %s visitors/s, if no visitor leaves early):\n", scenarios.FormatRate(peak))
	nameWidth := 8
	for _, j := range js {
		for _, st := range j.Steps {
			nameWidth = max(nameWidth, len([]rune(st.Name)))
		}
	}
	for i, j := range js {
		jar := ""
		if !j.Cookies {
			jar = ", no cookie jar"
		}
		fmt.Fprintf(w, "  %5.1f%%  %s: %d steps, think ≈ %s a session%s\n", 100*j.Share, j.Name, len(j.Steps),
			fmtDur(time.Duration(j.ThinkSec*float64(time.Second))), jar)
		for k, st := range j.Steps {
			var notes []string
			if len(st.Extract) > 0 {
				notes = append(notes, "extracts "+strings.Join(st.Extract, ", "))
			}
			if st.Think != "" {
				notes = append(notes, "think "+st.Think)
			}
			note := ""
			if len(notes) > 0 {
				note = "  (" + strings.Join(notes, "; ") + ")"
			}
			fmt.Fprintf(w, "          %2d. %-*s %9s req/s  %s %s%s%s\n", k+1, nameWidth, st.Name,
				scenarios.FormatRate(st.PeakRate), st.Method, st.URL, layerText(p.Journeys[i].Steps[k].Request), note)
		}
	}
	fmt.Fprintf(w, "  every step: %s req/s at the peak (%.1f requests a visitor)\n", scenarios.FormatRate(total), requestsPerVisitor(p))
}

// sendingText says how a plan's traffic leaves: the arrival process, how
// the kind of request (or journey) is chosen, and the session bound.
func sendingText(p *scenarios.Plan) string {
	arrivals := p.Options.Arrivals
	if arrivals == "" {
		arrivals = scenarios.ArrivalsEven
	}
	what := "requests"
	if p.Journeys != nil {
		what = "visitors"
	}
	var b strings.Builder
	switch arrivals {
	case scenarios.ArrivalsPoisson:
		fmt.Fprintf(&b, "%s at random gaps (arrivals: poisson, each window's count as planned)", what)
	default:
		fmt.Fprintf(&b, "%s evenly spaced (arrivals: even)", what)
	}
	kind := "each request's kind"
	if p.Journeys != nil {
		kind = "each visitor's journey"
	}
	switch p.Options.Mix {
	case scenarios.MixInterleaved:
		fmt.Fprintf(&b, ", %s interleaved in exact shares (mix: interleaved)", kind)
	case scenarios.MixRandom:
		fmt.Fprintf(&b, ", %s drawn at random by weight (mix: random)", kind)
	}
	if p.Journeys != nil && p.Options.MaxSessions > 0 {
		fmt.Fprintf(&b, ", at most %d sessions at once", p.Options.MaxSessions)
	}
	return b.String()
}

// layerText is a request's layer tag as the plan prints it.
func layerText(r *scenarios.Request) string {
	if r.Layer == "" {
		return ""
	}
	return "  [" + r.Layer + "]"
}
