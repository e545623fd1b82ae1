package charts

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spikeload/spike/analysis"
	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/result"
)

// table is one HTML table of the report. Every string in it is escaped by
// html/template when the page is written.
type table struct {
	ID      string
	Title   string
	Headers []string
	Rows    [][]cell
	// Empty is shown instead of the table when it has no rows.
	Empty string
}

// cell is one table cell: text, or a bulleted list when List is set.
type cell struct {
	Text  string
	List  []string
	Note  string // a smaller second line
	Class string // num, code, ok, warn
}

func txt(s string) cell  { return cell{Text: s} }
func num(s string) cell  { return cell{Text: s, Class: "num"} }
func code(s string) cell { return cell{Text: s, Class: "code"} }
func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

const notAnalysed = "Not analysed: this report shows the measurements only. Run `spike report RESULT.json` to judge them."

// breakageTable lists the layers, broken ones first in breakage order, with
// what they showed, the likely cause and the evidence.
func breakageTable(r *run) table {
	t := table{ID: "table-breakage", Headers: []string{"#", "Layer", "Requests", "Cracked", "Broke", "Recovered", "Symptom", "Likely cause", "Evidence"}}
	if r.a == nil {
		t.Empty = notAnalysed
		return t
	}
	t.Empty = "No layer was attributed: the run had no requests to judge."
	b := r.baseline()
	for _, l := range r.a.Layers {
		rank := "—"
		if l.Rank > 0 {
			rank = strconv.Itoa(l.Rank)
		}
		broke := fmtPoint(l.Broke, b)
		if len(l.SameWindow) > 0 {
			broke += " (same window as " + strings.Join(l.SameWindow, ", ") + ")"
		}
		symptom, evidence := "—", []string(nil)
		if l.Confidence != "" && (l.Broke != nil || l.Cracked != nil) {
			how := l.Confidence
			if l.Mechanism != "" {
				how = strings.ReplaceAll(l.Mechanism, "_", " ") + ", " + how
			}
			evidence = append(evidence, how)
			for k, e := range l.Evidence {
				if k == 3 {
					break
				}
				evidence = append(evidence, e.Text)
			}
		}
		if l.Symptom != nil {
			symptom = dash(l.Symptom.Text)
			evidence = append(evidence, l.Symptom.Evidence...)
		}
		ev := cell{List: evidence}
		if len(evidence) == 0 {
			ev = txt("—")
		}
		t.Rows = append(t.Rows, []cell{
			num(rank), txt(l.Layer), code(strings.Join(l.Requests, ", ")),
			txt(fmtPoint(l.Cracked, b)), txt(broke), txt(fmtPoint(l.Recovered, b)),
			txt(symptom), txt(dash(l.Cause)), ev,
		})
	}
	return t
}

// requestTable is the per-request statistics of the whole run.
func requestTable(r *run) table {
	t := table{ID: "table-requests", Empty: "The run recorded no requests.",
		Headers: []string{"Request", "Method and URL", "Layer", "Requests", "Failed", "p50", "p95", "p99", "Max", "Statuses", "Transport errors", "Mean body"}}
	info := map[string]engine.RequestInfo{}
	for _, ri := range r.res.Plan.Requests {
		info[ri.Name] = ri
	}
	evidence := map[string]string{}
	if r.a != nil {
		for _, rr := range r.a.Requests {
			evidence[rr.Name] = rr.Evidence
		}
	}
	ms := func(d time.Duration) string { return fmtMs(d.Seconds() * 1000) }
	for _, q := range r.res.Requests {
		ri := info[q.Name]
		layer := txt(dash(r.layerOf[q.Name]))
		if e := evidence[q.Name]; e != "" {
			layer.Note = "by " + e
		}
		failed := "0"
		if n := q.OK + q.Errors; n > 0 && q.Errors > 0 {
			failed = fmt.Sprintf("%d (%s)", q.Errors, fmtPct(float64(q.Errors)/float64(n)))
		}
		body := "—"
		if q.Count > 0 {
			body = fmtBytes(float64(q.BytesIn) / float64(q.Count))
		}
		t.Rows = append(t.Rows, []cell{
			code(q.Name), code(strings.TrimSpace(ri.Method + " " + ri.URL)), layer,
			num(strconv.FormatUint(q.Count, 10)), num(failed),
			num(ms(q.Latency.P50)), num(ms(q.Latency.P95)), num(ms(q.Latency.P99)), num(ms(q.Latency.Max)),
			code(fmtCounts(q.Statuses)), code(fmtCounts(q.ErrorKinds)), num(body),
		})
	}
	return t
}

// errorSampleTable lists the most frequent error messages per request.
func errorSampleTable(r *run) table {
	t := table{ID: "table-error-samples", Title: "Most frequent errors", Headers: []string{"Request", "Count", "Message"},
		Empty: "No request failed."}
	for _, q := range r.res.Requests {
		for _, e := range q.ErrorSamples {
			t.Rows = append(t.Rows, []cell{code(q.Name), num(strconv.FormatUint(e.Count, 10)), code(e.Message)})
		}
	}
	return t
}

// headerSampleTable lists the response headers sampled for the audit.
func headerSampleTable(r *run) table {
	t := table{ID: "table-header-samples", Title: "Response headers seen", Headers: []string{"Request", "Headers (first successful response)"},
		Empty: "No response headers were sampled."}
	for _, q := range r.res.Requests {
		if len(q.Headers) == 0 {
			continue
		}
		hs := cell{Class: "code"}
		for _, h := range sortedKeys(q.Headers) {
			hs.List = append(hs.List, h+": "+q.Headers[h])
		}
		t.Rows = append(t.Rows, []cell{code(q.Name), hs})
	}
	return t
}

// recommendationTable lists the fixes in fix order.
func recommendationTable(r *run) table {
	t := table{ID: "table-recommendations", Headers: []string{"Step", "Fix", "How", "Layer", "Requests"}}
	if r.a == nil {
		t.Empty = notAnalysed
		return t
	}
	t.Empty = "Nothing to recommend from this run."
	for _, rec := range r.a.Recommendations {
		t.Rows = append(t.Rows, []cell{
			txt(fmt.Sprintf("%d. %s", rec.Step, rec.Area)), txt(rec.Title), txt(dash(rec.Detail)),
			txt(dash(rec.Layer)), code(dash(strings.Join(rec.Requests, ", "))),
		})
	}
	return t
}

// headerAuditTable lists the header audit's findings.
func headerAuditTable(r *run) table {
	t := table{ID: "table-header-audit", Headers: []string{"Request", "Check", "Finding", "Fix step"}}
	if r.a == nil {
		t.Empty = notAnalysed
		return t
	}
	t.Empty = "The header audit found nothing to fix."
	for _, f := range r.a.Headers {
		t.Rows = append(t.Rows, []cell{code(f.Request), txt(strings.ReplaceAll(f.Check, "_", " ")), txt(f.Detail),
			txt(fmt.Sprintf("%d. %s", f.Step, f.Area))})
	}
	return t
}

// readinessTable lists the readiness answers.
func readinessTable(r *run) table {
	t := table{ID: "table-readiness", Headers: []string{"Question", "Answer", ""}}
	if r.a == nil {
		t.Empty = notAnalysed
		return t
	}
	t.Empty = "No readiness answers."
	for _, ans := range r.a.Readiness.Answers {
		mark := cell{Text: "✓ ok", Class: "ok"}
		if !ans.OK {
			mark = cell{Text: "✗ look", Class: "warn"}
		}
		t.Rows = append(t.Rows, []cell{txt(ans.Question), txt(ans.Answer), mark})
	}
	return t
}

// metaTable describes the run itself.
func metaTable(r *run) table {
	m := r.res.Meta
	p := r.res.Plan
	t := table{ID: "table-meta"}
	add := func(k, v string) { t.Rows = append(t.Rows, []cell{txt(k), txt(v)}) }
	addCode := func(k, v string) { t.Rows = append(t.Rows, []cell{txt(k), code(v)}) }
	addCode("Scenario", dash(m.Scenario))
	if p.Scenario.Description != "" {
		add("Description", p.Scenario.Description)
	}
	if m.ScenarioFile != "" {
		addCode("Scenario file", m.ScenarioFile)
	}
	addCode("Target", dash(m.Target))
	add("Tool", strings.TrimSpace(dash(m.Tool)+" "+m.Version))
	add("Started", fmtTime(m.Started))
	add("Ended", fmtTime(m.Ended))
	add("Planned duration", fmtDur(p.Duration))
	add("Shape", dash(p.Shape))
	ts := p.TimeScale
	if ts == 0 {
		ts = 1
	}
	add("Time scale", strconv.FormatFloat(ts, 'g', -1, 64)+"x")
	if p.Baseline > 0 {
		add("Baseline", fmtRateIn(p.Baseline, 0, p.RateUnit()))
	} else {
		add("Baseline", "not set")
	}
	add("Peak planned", r.rate(p.PeakRate))
	if r.journeys() {
		add("Visitors planned", strconv.FormatUint(p.Total, 10))
	} else {
		add("Requests planned", strconv.FormatUint(p.Total, 10))
	}
	add("Arrivals", arrivalsText(p.Options.Arrivals))
	add("Mix", mixText(p.Options.Mix, r.journeys()))
	if r.journeys() {
		add("Journeys", journeysText(p.Journeys))
		if p.Options.MaxSessions > 0 {
			add("Sessions at once", fmt.Sprintf("at most %d (options.max_sessions)", p.Options.MaxSessions))
		}
	}
	var sent, ok, failed uint64
	for _, w := range r.res.Windows {
		sent += w.Sent
		ok += w.OK
		failed += w.Errors
	}
	add("Requests sent", fmt.Sprintf("%d (%d successful, %d failed)", sent, ok, failed))
	add("Window", fmtDur(p.Window))
	add("SLO", sloText(r))
	add("Partial (interrupted)", yesNo(m.Partial))
	aborted := yesNo(m.Aborted)
	if m.Aborted && m.AbortReason != "" {
		aborted += ": " + m.AbortReason
	}
	add("Aborted early", aborted)
	if m.Shard != "" {
		add("Shard", m.Shard)
	}
	if m.Start != nil {
		add("Start", startText(m.Start))
	}
	for _, sh := range m.Shards {
		v := fmt.Sprintf("send lag p99 up to %s, %d generator-bound windows", sh.LagP99.Round(time.Microsecond), sh.GeneratorBound)
		if sh.Start != nil {
			v = startText(sh.Start) + "; " + v
		}
		if sh.Partial {
			v += "; interrupted"
		}
		add("Shard "+sh.Shard, v)
	}
	for _, s := range m.MissingShards {
		add("Shard "+s, "missing: its share of the plan was not sent")
	}
	for _, n := range m.Notes {
		add("Run note", n)
	}
	if r.a != nil {
		for _, n := range r.a.Notes {
			add("Analysis note", n)
		}
		s := r.a.Settings
		add("Analysis settings", fmt.Sprintf("sustain %d windows, crack at %gx low-load p95, knee below %s of planned, %d samples per p95",
			s.Sustain, s.CrackFactor, fmtPct(s.Knee), s.MinSamples))
	} else {
		add("Analysis", "not analysed")
	}
	add("Schema", strconv.Itoa(result.SchemaVersion))
	return t
}

// startText describes how a run met its shared start instant.
func startText(s *engine.StartInfo) string {
	return fmt.Sprintf("at %s, %s after the instant asked for; clock %s", fmtTime(s.Actual), s.Lateness.Round(time.Microsecond), s.Clock)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// sloText describes the plan's SLO.
func sloText(r *run) string {
	s := r.res.Plan.SLO
	var parts []string
	if s.P95 > 0 {
		parts = append(parts, "p95 ≤ "+fmtMs(s.P95.Seconds()*1000))
	}
	if s.P99 > 0 {
		parts = append(parts, "p99 ≤ "+fmtMs(s.P99.Seconds()*1000))
	}
	parts = append(parts, "errors ≤ "+fmtPct(s.ErrorRate))
	if s.Sustain > 0 {
		parts = append(parts, fmt.Sprintf("broken after %d bad windows in a row", s.Sustain))
	}
	for _, name := range sortedKeys(s.Requests) {
		l := s.Requests[name]
		parts = append(parts, fmt.Sprintf("%s: p95 ≤ %s", name, fmtMs(l.P95.Seconds()*1000)))
	}
	return strings.Join(parts, ", ")
}

// verdictView is the banner at the top of the report.
type verdictView struct {
	Class    string // pass, fail, inconclusive, unanalysed
	Status   string
	Headline string
	Reason   string
	Advice   string
	Facts    []fact
	Fixes    []string
	Flags    []string
	Notes    []string
}

type fact struct{ Label, Value, Note string }

func verdictOf(r *run) verdictView {
	var v verdictView
	m := r.res.Meta
	if m.Partial {
		v.Flags = append(v.Flags, "Partial run: it was interrupted before the end of its plan; the figures cover what was sent.")
	}
	if m.Aborted {
		f := "Aborted early: the run stopped because the target was clearly down"
		if m.AbortReason != "" {
			f += " (" + m.AbortReason + ")"
		}
		v.Flags = append(v.Flags, f+".")
	}
	if r.a == nil {
		v.Class, v.Status = "unanalysed", "NOT ANALYSED"
		v.Headline = "Not analysed: no verdict, breakpoint or layer attribution in this report."
		v.Advice = "Run `spike report RESULT.json` to analyse the result and render the full report."
		return v
	}
	a := r.a.Verdict
	b := r.baseline()
	switch a.Status {
	case analysis.StatusPass:
		v.Class, v.Status = "pass", "PASS"
	case analysis.StatusFail:
		v.Class, v.Status = "fail", "FAIL"
	default:
		v.Class, v.Status = "inconclusive", "INCONCLUSIVE"
	}
	v.Headline, v.Reason, v.Advice = a.Headline, a.Reason, a.Advice
	if v.Headline == "" {
		v.Headline = v.Status
	}
	if a.FirstLayer != "" {
		v.Facts = append(v.Facts, fact{"Breaks first", a.FirstLayer, a.Symptom})
	}
	if a.Cause != "" {
		v.Facts = append(v.Facts, fact{"Likely cause", a.Cause, ""})
	}
	if a.Confidence != "" {
		how := a.Confidence
		if a.Mechanism != "" {
			how = strings.ReplaceAll(a.Mechanism, "_", " ") + " (" + a.Confidence + ")"
		}
		v.Facts = append(v.Facts, fact{"Evidence", how, strings.Join(a.Evidence, "; ")})
	}
	if st := r.a.Stalls; st != nil {
		v.Facts = append(v.Facts, fact{"Periodic stalls", fmtMs(st.TypicalMs), st.Text})
	}
	if a.Breakpoint != nil {
		v.Facts = append(v.Facts, fact{"Breakpoint", fmtPointRate(a.Breakpoint, b), "at " + fmtOffset(a.Breakpoint.AtMs/1000) + " into the run"})
	}
	if a.Capacity != nil {
		v.Facts = append(v.Facts, fact{"Capacity", fmtPointRate(a.Capacity, b), "highest rate held within the SLO"})
	}
	if a.Knee != nil {
		v.Facts = append(v.Facts, fact{"Saturation knee", fmtPointRate(&a.Knee.Point, b),
			fmt.Sprintf("successful %s req/s at most", strconv.FormatFloat(sig3(a.Knee.MaxOKRPS), 'f', -1, 64))})
	}
	if a.Recovered != nil {
		v.Facts = append(v.Facts, fact{"Recovered", "at " + fmtOffset(a.Recovered.AtMs/1000), "first break ended"})
	}
	peak := fact{"Peak planned", r.rate(a.PeakRPS), ""}
	if a.PeakRPS == 0 {
		peak.Value = r.rate(r.res.Plan.PeakRate)
	}
	v.Facts = append(v.Facts, peak)
	if len(a.Order) > 1 {
		v.Facts = append(v.Facts, fact{"Breakage order", strings.Join(a.Order, " → "), ""})
	}
	if g := r.a.Generator; g.BoundWindows > 0 {
		note := fmt.Sprintf("worst send lag p99 %s", fmtMs(g.MaxLagMs))
		if g.LimitRPS > 0 {
			note = "spike could send about " + fmtRateIn(g.LimitRPS, 0, r.unit()) + "; " + note
		}
		v.Facts = append(v.Facts, fact{"Generator-bound windows", strconv.Itoa(g.BoundWindows), note})
	}
	v.Fixes = a.Fixes
	v.Notes = r.a.Notes
	return v
}
