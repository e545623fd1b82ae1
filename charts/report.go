package charts

import (
	"bufio"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spikeload/spike/analysis"
	"github.com/spikeload/spike/engine"
)

//go:embed page/report.html.tmpl
var pageTemplate string

// page is the data behind page/report.html.tmpl.
type page struct {
	Title, Scenario, Subtitle string
	Version, EChartsVersion   string
	CSP                       string
	CSS                       template.CSS
	ErrorsJS, InitJS          template.JS
	EChartsJS, SelftestJS     template.JS
	Nav                       []navItem
	Verdict                   verdictView
	Sections                  []section
}

type navItem struct{ ID, Title string }

// section is one part of the report: charts, tables, or a note saying why
// there is nothing to show (Empty).
type section struct {
	ID, Title, Intro string
	Charts           []chartView
	Tables           []table
	Empty            string
}

type chartView struct {
	ID, Title, Caption string
	Options            template.JS
	Tall               bool
}

// Render writes the HTML report of res to w. a is res's analysis; when it is
// nil the report shows the measurements only and says "not analysed" where
// the verdict, breakpoint and layer attribution would be.
//
// The page is self-contained: ECharts is inlined, and the page's
// Content-Security-Policy allows only its own scripts (by hash) and no
// network access. Every string from the target or the scenario is escaped
// for where it lands (HTML text, attribute, or JSON inside <script>).
//
// Render does not modify res or a and is safe for concurrent use.
func Render(w io.Writer, res *engine.Result, a *analysis.Analysis) error {
	if res == nil {
		return errors.New("render report: nil result")
	}
	p, err := buildPage(newRun(res, a))
	if err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	tpl, err := template.New("report").Parse(pageTemplate)
	if err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := tpl.Execute(bw, p); err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	return nil
}

// WriteFile renders the report of res into path atomically: it writes a
// temporary file in the same folder and renames it, so a reader never sees
// a half-written report under the final name.
func WriteFile(path string, res *engine.Result, a *analysis.Analysis) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".report-*.html")
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := Render(tmp, res, a); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// csp is the page's Content-Security-Policy: nothing may load from
// anywhere; only the page's own four scripts and its style element run.
func csp(p *page) string {
	return strings.Join([]string{
		"default-src 'none'",
		"script-src " + strings.Join([]string{
			scriptHash(string(p.ErrorsJS)), scriptHash(string(p.EChartsJS)), scriptHash(string(p.InitJS)), scriptHash(string(p.SelftestJS)),
		}, " "),
		"style-src " + scriptHash(string(p.CSS)),
		"img-src data: blob:",
		"connect-src 'none'",
		"base-uri 'none'",
		"form-action 'none'",
	}, "; ")
}

func buildPage(r *run) (*page, error) {
	m := r.res.Meta
	scenario := m.Scenario
	if scenario == "" {
		scenario = "(unnamed scenario)"
	}
	sub := []string{}
	if m.Target != "" {
		sub = append(sub, "target "+m.Target)
	}
	if !m.Started.IsZero() {
		sub = append(sub, "started "+fmtTime(m.Started))
	}
	if !m.Started.IsZero() && m.Ended.After(m.Started) {
		sub = append(sub, "ran "+fmtDur(m.Ended.Sub(m.Started)))
	}
	sub = append(sub, "peak planned "+r.rate(r.res.Plan.PeakRate))
	if s := sendingText(r.res.Plan); s != "" {
		sub = append(sub, s)
	}
	p := &page{
		Title:    "spike report: " + scenario,
		Scenario: scenario, Subtitle: strings.Join(sub, " · "),
		Version: dash(m.Version), EChartsVersion: EChartsVersion,
		CSS:      template.CSS(inlineText(pageCSS)),
		ErrorsJS: template.JS(inlineText(errorsJS)), InitJS: template.JS(inlineText(initJS)),
		EChartsJS: template.JS(inlineText(echartsJS)), SelftestJS: template.JS(inlineText(selftestJS)),
		Verdict: verdictOf(r),
	}
	p.CSP = csp(p)
	p.Nav = append(p.Nav, navItem{"verdict", "Verdict"})

	add := func(s section) {
		p.Sections = append(p.Sections, s)
		p.Nav = append(p.Nav, navItem{s.ID, s.Title})
	}
	one := func(id, title string, c chartJSON, trigger string) (chartView, error) {
		o, err := optionsJSON(c, trigger)
		return chartView{ID: id, Title: title, Options: o}, err
	}

	shade := " The red line is where the first break began. Red bands: windows that violated the SLO. Grey bands: windows where spike itself fell behind the plan (generator-bound); they are never blamed on the target."
	if r.a == nil {
		shade = " Grey bands: windows where spike itself fell behind the plan (generator-bound). The break and SLO violations are not marked: the run was not analysed."
	}

	tp, err := one(IDThroughput, "", throughputChart(r), "axis")
	if err != nil {
		return nil, err
	}
	tp.Caption = "Planned rate (dashed), requests sent and successful responses per second." + shade
	add(section{ID: "throughput", Title: "Throughput over time", Charts: []chartView{tp}})

	if r.journeys() {
		fc, err := one(IDFunnel, "Visitors who reached each step", funnelChart(r), "axis")
		if err != nil {
			return nil, err
		}
		fc.Caption = "Every visitor of the run, step by step: blue went on to the next step, red left at this step because it failed (an error status, a timeout or a failed extraction; a visitor leaves as a real one would), grey were still in their session when the run ended."
		fc.Tall = len(funnel(r)) > 12
		jt, err := one(IDJourneys, "Visitors over time, by when they arrived", journeysTimeChart(r), "axis")
		if err != nil {
			return nil, err
		}
		jt.Caption = "Visitors per second by the window they arrived in, stacked by what became of them: completed, left at a step (the steps that lost the most), or still in session at the end; the line is those who started. Where overload shows first in a launch: the red grows while the curve climbs." + shade
		add(section{ID: "journeys", Title: "Journeys: the funnel", Charts: []chartView{fc, jt}, Tables: []table{funnelTable(r)},
			Intro: "With journeys, the curve is arriving visitors (" + r.unit() + "); each step is also a request in the tables below, named journey/step."})
	}

	lat, err := one(IDLatency, "", latencyChart(r), "axis")
	if err != nil {
		return nil, err
	}
	lat.Caption = "Whole-target latency percentiles per window, measured from each request's intended send time (log scale). Dashed lines are the SLO's limits."
	add(section{ID: "latency", Title: "Latency over time", Charts: []chartView{lat}})

	layers := section{ID: "layers", Title: "Per-layer p95 over time"}
	if lc := layersChart(r); lc != nil {
		cv, err := one(IDLayers, "", lc, "axis")
		if err != nil {
			return nil, err
		}
		cv.Caption = "p95 of each layer's requests per window (log scale). Dashed marks: where the layer cracked (p95 past twice its low-load p95). Solid marks: where it broke (SLO violated for the sustain windows), numbered in breakage order."
		layers.Charts = []chartView{cv}
	} else if r.a == nil {
		layers.Empty = notAnalysed
	} else {
		layers.Empty = "No layer was attributed to any request."
	}
	add(layers)

	ev, err := one(IDErrors, "", errorsChart(r), "axis")
	if err != nil {
		return nil, err
	}
	ev.Caption = "Failed requests per second, stacked: transport failures by kind (no response) and unexpected HTTP statuses by class."
	add(section{ID: "errors", Title: "Errors over time", Charts: []chartView{ev}})

	kl, err := one(IDKneeLatency, "p95 latency against planned rate", kneeLatencyChart(r), "item")
	if err != nil {
		return nil, err
	}
	ks, err := one(IDKneeSuccess, "Successful responses against planned rate", kneeSuccessChart(r), "item")
	if err != nil {
		return nil, err
	}
	knee := section{ID: "knee", Title: "The knee", Charts: []chartView{kl, ks},
		Intro: "Each dot is one window at its planned rate. Where latency turns up and success turns down is the knee; the lines mark the capacity and the breakpoint."}
	if r.a == nil {
		knee.Intro = "Each dot is one window at its planned rate, for all requests together. Per-layer dots need the analysis (not analysed)."
	}
	add(knee)

	dist := section{ID: "distribution", Title: "Latency distribution per request",
		Intro: "Whole-run HDR percentile plot of each request (both axes logarithmic): the further right, the rarer the request; the tail that averages hide is on the right."}
	dc, err := distributionChart(r)
	if err != nil {
		return nil, err
	}
	if dc != nil {
		cv, err := one(IDDistrib, "", dc, "axis")
		if err != nil {
			return nil, err
		}
		cv.Tall = true
		dist.Charts = []chartView{cv}
	} else {
		dist.Empty = "No latency was recorded."
	}
	add(dist)

	st := section{ID: "server-timing", Title: "Server-Timing over time"}
	if tc := timingChart(r); tc != nil {
		cv, err := one(IDTiming, "", tc, "axis")
		if err != nil {
			return nil, err
		}
		cv.Caption = fmt.Sprintf("Mean duration of each Server-Timing component the target reported, per request (at most %d lines, the largest total time first).", maxTimingLines)
		st.Charts = []chartView{cv}
	} else {
		st.Empty = "No response carried a Server-Timing header with durations. Adding one (e.g. `Server-Timing: db;dur=12, app;dur=30`) lets spike tell which layer the time goes to."
	}
	add(st)

	add(section{ID: "breakage", Title: "Breakage order", Tables: []table{breakageTable(r)},
		Intro: "Layers in the order they broke (first broken first), with what they showed and the likely cause."})
	add(section{ID: "requests", Title: "Per-request statistics", Tables: []table{requestTable(r), errorSampleTable(r), headerSampleTable(r)}})
	add(section{ID: "recommendations", Title: "Recommendations", Tables: []table{recommendationTable(r)},
		Intro: "In fix order: lowest risk and highest impact first (observability, CDN, cache, queues, horizontal scaling, read replicas, extracting services)."})
	add(section{ID: "header-audit", Title: "Header audit", Tables: []table{headerAuditTable(r)},
		Intro: "Passive checks of the response headers seen during the run: caching, compression, CDN markers, image formats, large bodies."})
	add(section{ID: "readiness", Title: "Readiness", Tables: []table{readinessTable(r)}})
	add(section{ID: "run", Title: "Run", Tables: []table{metaTable(r)}})
	return p, nil
}
