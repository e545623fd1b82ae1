package main

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/spikeload/spike/analysis"
	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/scenarios"
)

// GateOptions are `spike run`'s release-gate flags.
type GateOptions struct {
	// Enforce (--gate) turns the gate's status into the exit code: 3 when
	// it failed, 4 when it was inconclusive.
	Enforce bool
	// BaselineResult is a previous result.json to check regressions against.
	BaselineResult string
	// JUnit and Summary are files to write the gate's checks to, as JUnit
	// XML and as Markdown for a CI job summary.
	JUnit   string
	Summary string

	// prev is BaselineResult, read before the run.
	prev *engine.Result
}

// gateHelp is the part of `spike run --help` about the gate.
const gateHelp = `With --gate spike run is a release gate: after the run it checks the scenario's
gate section (the SLO up to survive: 5x, min_capacity, max_regression against
--baseline-result OLD.json; without a gate section, the SLO over the whole run)
plus every request's own SLO, prints each check, and exits 3 when a check failed
or 4 when the run could not prove anything (spike could not send the planned
load, the target was unreachable). --junit and --summary write the same checks
as JUnit XML and as Markdown for a CI job summary, with or without --gate.`

// addGateFlags binds the gate flags into g.
func addGateFlags(cmd *cobra.Command, g *GateOptions) {
	f := cmd.Flags()
	f.BoolVar(&g.Enforce, "gate", false, "enforce the scenario's gate: exit 3 when it fails, 4 when inconclusive")
	f.StringVar(&g.BaselineResult, "baseline-result", "", "a previous result.json to check regressions against (gate max_regression, default 10%)")
	f.StringVar(&g.JUnit, "junit", "", "write the gate's checks as JUnit XML to `FILE`")
	f.StringVar(&g.Summary, "summary", "", "write a Markdown summary (verdict, breakage order, requests, report) to `FILE`")
}

// active reports whether any gate flag was given.
func (g *GateOptions) active() bool {
	return g != nil && (g.Enforce || g.BaselineResult != "" || g.JUnit != "" || g.Summary != "")
}

// prepare checks the gate against the plan and reads the previous result,
// before any traffic is sent: a gate that cannot be tested is bad usage.
func (g *GateOptions) prepare(plan *scenarios.Plan) error {
	if !g.active() {
		return nil
	}
	peak, _ := plan.Peak()
	rate := func(r float64) string {
		s := scenarios.FormatRate(r) + " req/s"
		if m := plan.Multiple(r); m > 0 {
			s += fmt.Sprintf(" (%.1fx)", m)
		}
		return s
	}
	if s := plan.Gate.Survive; s > peak*(1+1e-9) {
		return usageErr("%s: gate.survive: %s is above the planned peak of %s: the run would never test it; lower it or raise the peak", plan.File, rate(s), rate(peak))
	}
	if c := plan.Gate.MinCapacity; c > peak*(1+1e-9) {
		return usageErr("%s: gate.min_capacity: %s is above the planned peak of %s: no run of this scenario can show it; lower it or raise the peak", plan.File, rate(c), rate(peak))
	}
	if g.BaselineResult != "" {
		prev, err := readRun(g.BaselineResult)
		if err != nil {
			return usageErr("--baseline-result: %v", err)
		}
		g.prev = prev
	}
	return nil
}

// apply judges the run against the gate, prints the checks, writes the
// JUnit and Markdown files asked for, and returns the gate's exit code as an
// error when it is enforced. A nil or inactive g does nothing.
func (g *GateOptions) apply(ios *IOStreams, plan *scenarios.Plan, res *engine.Result, a *analysis.Analysis, out string) error {
	if !g.active() {
		return nil
	}
	rep := analysis.Gate(res, a, plan.Gate, g.prev)
	var text bytes.Buffer // one write: see writeOutputs
	fmt.Fprintln(&text)
	if err := writeGateText(&text, &rep); err != nil {
		return err
	}
	if _, err := ios.Out.Write(text.Bytes()); err != nil {
		return err
	}
	if g.JUnit != "" {
		if err := writeFileAtomic(g.JUnit, ios.Redactor.Bytes, func(w io.Writer) error { return writeJUnit(w, res, &rep) }); err != nil {
			return fmt.Errorf("write --junit: %w", err)
		}
		fmt.Fprintf(ios.ErrOut, "junit: %s\n", g.JUnit)
	}
	if g.Summary != "" {
		report := filepath.Join(out, "report.html")
		if _, err := os.Stat(report); err != nil {
			report = filepath.Join(out, "result.json")
		}
		if err := writeFileAtomic(g.Summary, ios.Redactor.Bytes, func(w io.Writer) error { return writeSummary(w, res, a, &rep, report) }); err != nil {
			return fmt.Errorf("write --summary: %w", err)
		}
		fmt.Fprintf(ios.ErrOut, "summary: %s\n", g.Summary)
	}
	if !g.Enforce {
		return nil
	}
	switch rep.Status {
	case analysis.StatusFail:
		return withCode(exitGateFailed, errors.New(rep.Headline))
	case analysis.StatusInconclusive:
		return withCode(exitInconclusive, errors.New(rep.Headline))
	}
	return nil
}

// statusWord is a check's status for terminals: "pass", "FAIL", "INCONCLUSIVE", "skipped".
func statusWord(s analysis.Status) string {
	switch s {
	case analysis.StatusPass:
		return "pass"
	case analysis.StatusFail:
		return "FAIL"
	case analysis.StatusInconclusive:
		return "INCONCLUSIVE"
	case analysis.StatusSkipped:
		return "skipped"
	}
	return string(s)
}

// writeGateText writes the gate's checks for a terminal or a CI log.
func writeGateText(w io.Writer, rep *analysis.GateReport) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "G%s\n", strings.TrimPrefix(rep.Headline, "g"))
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	for _, c := range rep.Checks {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", statusWord(c.Status), c.Name, c.Message)
		if c.Status == analysis.StatusFail {
			fmt.Fprintf(tw, "  \t\tmeasured %s; limit %s\n", c.Measured, c.Limit)
		}
	}
	tw.Flush()
	for _, n := range rep.Notes {
		fmt.Fprintf(bw, "  note: %s\n", n)
	}
	return bw.Flush()
}

// JUnit XML, as read by GitHub Actions reporters, GitLab and Jenkins.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	ClassName string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitProblem `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// writeJUnit writes the gate as one JUnit test suite: a test case per gate
// check and per request SLO. A failed check is a <failure> whose text gives
// the measured value and the limit; an inconclusive one is an <error> (the
// test could not be run properly); a skipped one is <skipped>.
func writeJUnit(w io.Writer, res *engine.Result, rep *analysis.GateReport) error {
	dur := res.Meta.Ended.Sub(res.Meta.Started)
	if dur < 0 || res.Meta.Started.IsZero() || res.Meta.Ended.IsZero() {
		dur = 0
	}
	secs := fmt.Sprintf("%.3f", dur.Seconds())
	suite := junitSuite{
		Name: "spike gate: " + res.Meta.Scenario,
		Time: secs,
		Properties: []junitProperty{
			{Name: "target", Value: res.Meta.Target},
			{Name: "status", Value: string(rep.Status)},
		},
		SystemOut: rep.Headline,
	}
	if !res.Meta.Started.IsZero() {
		suite.Timestamp = res.Meta.Started.UTC().Format("2006-01-02T15:04:05")
	}
	for _, c := range rep.Checks {
		tc := junitCase{ClassName: "spike.gate", Name: c.Name, Time: "0", SystemOut: c.Message}
		if c.Request != "" {
			tc.ClassName = "spike.gate.requests"
		}
		detail := fmt.Sprintf("%s\nmeasured: %s\nlimit: %s", c.Message, c.Measured, c.Limit)
		switch c.Status {
		case analysis.StatusFail:
			tc.Failure = &junitProblem{Message: fmt.Sprintf("%s: measured %s; limit %s", c.Name, c.Measured, c.Limit), Type: "gate", Text: detail}
			suite.Failures++
		case analysis.StatusInconclusive:
			tc.Error = &junitProblem{Message: "inconclusive: " + c.Message, Type: "inconclusive", Text: detail}
			suite.Errors++
		case analysis.StatusSkipped:
			tc.Skipped = &junitProblem{Message: c.Message}
			suite.Skipped++
		}
		suite.Cases = append(suite.Cases, tc)
	}
	suite.Tests = len(suite.Cases)
	all := junitSuites{
		Name: "spike", Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors, Skipped: suite.Skipped,
		Time: secs, Suites: []junitSuite{suite},
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(all); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// statusBadge is a check's status for Markdown.
func statusBadge(s analysis.Status) string {
	switch s {
	case analysis.StatusPass:
		return "✅ pass"
	case analysis.StatusFail:
		return "❌ fail"
	case analysis.StatusInconclusive:
		return "⚠️ inconclusive"
	case analysis.StatusSkipped:
		return "⏭️ skipped"
	}
	return string(s)
}

// mdCell escapes text for a Markdown table cell.
func mdCell(s string) string {
	if s == "" {
		return "–"
	}
	return mdText(s)
}

// mdEscaper escapes what Markdown or HTML would interpret in text the target
// or a file controls (error bodies, request names): markup, links, raw HTML.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "|", `\|`,
	"#", `\#`, "!", `\!`, "~", `\~`, "<", "&lt;", ">", "&gt;", "&", "&amp;",
	"\r\n", " ", "\n", " ", "\r", " ",
)

// mdText escapes s for Markdown text: it renders as the characters written,
// on one line.
func mdText(s string) string { return mdEscaper.Replace(oneLine(strings.ReplaceAll(s, "\n", " "))) }

// mdCode formats s as a Markdown code span, whatever backticks it holds.
func mdCode(s string) string {
	s = oneLine(strings.ReplaceAll(s, "\n", " "))
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if fence == "`" {
		return "`" + s + "`"
	}
	return fence + " " + s + " " + fence
}

// The summary formats numbers as the analysis' own texts do, so that its
// tables read like the check messages next to them.

// mdRate formats a rate: "64 req/s", "42.5 req/s", "2.4 req/s".
func mdRate(r float64) string {
	var s string
	switch {
	case r >= 100:
		s = strconv.FormatFloat(math.Round(r), 'f', -1, 64)
	case r >= 10:
		s = strings.TrimSuffix(strconv.FormatFloat(r, 'f', 1, 64), ".0")
	default:
		s = strings.TrimSuffix(strings.TrimRight(strconv.FormatFloat(r, 'f', 2, 64), "0"), ".")
	}
	return s + " req/s"
}

// mdPoint formats an analysis point: "48.6 req/s (2.4x)".
func mdPoint(p *analysis.Point) string {
	if p == nil {
		return ""
	}
	s := mdRate(p.RateRPS)
	if p.Multiple > 0 {
		s += fmt.Sprintf(" (%.1fx)", p.Multiple)
	}
	return s
}

// mdMs formats milliseconds: "0.8 ms", "145 ms", "1.2 s".
func mdMs(v float64) string {
	switch {
	case v >= 10000:
		return fmt.Sprintf("%.0f s", v/1000)
	case v >= 1000:
		return fmt.Sprintf("%.1f s", v/1000)
	case v >= 10:
		return fmt.Sprintf("%.0f ms", v)
	}
	return fmt.Sprintf("%.1f ms", v)
}

// writeSummary writes the Markdown summary of a gated run for a CI job page:
// the gate's verdict and checks, the run's verdict and breakage order, a
// per-request table, the comparison with the previous result, and the file
// name of the report.
func writeSummary(w io.Writer, res *engine.Result, a *analysis.Analysis, rep *analysis.GateReport, report string) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format+"\n", args...) }
	icon := map[analysis.Status]string{analysis.StatusPass: "✅", analysis.StatusFail: "❌", analysis.StatusInconclusive: "⚠️"}[rep.Status]
	p("## %s spike gate: %s — %s", icon, strings.ToUpper(string(rep.Status)), mdText(res.Meta.Scenario))
	p("")
	p("**%s**", mdText(rep.Headline))
	p("")
	if a != nil && a.Verdict.Headline != "" {
		p("%s", mdText(a.Verdict.Headline))
		p("")
	}
	dur := res.Plan.Duration
	p("Target %s · %s · planned peak %s · baseline %s", mdCode(res.Meta.Target), fmtDur(dur), mdPoint(&analysis.Point{RateRPS: res.Plan.PeakRate, Multiple: mdMultiple(res.Plan.PeakRate, res.Plan.Baseline)}), mdRate(res.Plan.Baseline))
	if res.Meta.Partial {
		p("")
		p("> The run was interrupted: it is judged on the windows it recorded.")
	}
	p("")
	p("| check | status | measured | limit |")
	p("|---|---|---|---|")
	for _, c := range rep.Checks {
		p("| %s | %s | %s | %s |", mdCell(c.Name), statusBadge(c.Status), mdCell(c.Measured), mdCell(c.Limit))
	}
	var bullets []string
	for _, c := range rep.Checks {
		if c.Status == analysis.StatusFail || c.Status == analysis.StatusInconclusive {
			bullets = append(bullets, fmt.Sprintf("- **%s**: %s", mdText(c.Name), mdText(c.Message)))
		}
	}
	for _, n := range rep.Notes {
		bullets = append(bullets, "- _note_: "+mdText(n))
	}
	if len(bullets) > 0 {
		p("")
		p("%s", strings.Join(bullets, "\n"))
	}

	if a != nil {
		p("")
		p("### What breaks first")
		p("")
		broken := 0
		for _, l := range a.Layers {
			if l.Rank == 0 || l.Broke == nil {
				continue
			}
			broken++
			what := ""
			if l.Symptom != nil {
				what = " — " + mdText(l.Symptom.Text)
			}
			p("%d. **%s** at %s%s", l.Rank, l.Layer, mdPoint(l.Broke), what)
		}
		if broken == 0 {
			p("Nothing broke up to the planned peak of %s.", mdPoint(&analysis.Point{RateRPS: a.Verdict.PeakRPS, Multiple: a.Verdict.PeakMultiple}))
		}
		if len(a.Verdict.Fixes) > 0 {
			p("")
			p("Fix first:")
			p("")
			for k, f := range a.Verdict.Fixes {
				p("%d. %s", k+1, mdText(f))
			}
		}

		p("")
		p("### Requests")
		p("")
		p("| request | layer | count | errors | p95 | p95 at baseline | broke at |")
		p("|---|---|---:|---:|---:|---:|---|")
		for _, r := range a.Requests {
			errPct := 0.0
			if r.Count > 0 {
				errPct = 100 * float64(r.Errors) / float64(r.Count)
			}
			p95, low := "–", "–"
			if r.Count > 0 {
				p95 = mdMs(r.P95Ms)
			}
			if r.LowP95Ms > 0 {
				low = mdMs(r.LowP95Ms)
			}
			p("| %s | %s | %d | %.1f%% | %s | %s | %s |", mdCell(r.Name), mdCell(r.Layer), r.Count, errPct, p95, low, mdCell(mdPoint(r.Broke)))
		}
	}

	if c := rep.Comparison; c != nil {
		p("")
		p("### Compared with the previous result")
		p("")
		p("Verdict: **%s** (threshold %s).", c.Verdict, fracText(c.MaxRegression))
		p("")
		p("| metric | previous | this run | change | trend |")
		p("|---|---:|---:|---:|---|")
		for _, m := range c.Metrics() {
			p("| %s | %s | %s | %s | %s |", m.Label, mdCell(m.ValueText(m.Old)), mdCell(m.ValueText(m.New)), mdCell(m.DeltaText()), mdCell(string(m.Trend)))
		}
		if len(c.Regressions) > 0 {
			p("")
			p("Regressions:")
			p("")
			for _, r := range c.Regressions {
				p("- %s", mdText(r))
			}
		}
	}
	p("")
	p("Report: %s", mdCode(report))
	return bw.Flush()
}

func mdMultiple(rate, baseline float64) float64 {
	if baseline <= 0 {
		return 0
	}
	return rate / baseline
}

// fracText formats a fraction as a percentage: "10%", "2.5%".
func fracText(f float64) string {
	return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.1f", 100*f), "0"), ".") + "%"
}
