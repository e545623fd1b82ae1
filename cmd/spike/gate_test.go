package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spikeload/spike/analysis"
	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/hist"
	"github.com/spikeload/spike/scenarios"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// synthReq is one request of a synthetic run: its share of each window's
// planned requests, its latency and its share of errors as functions of the
// planned rate. kind makes the errors transport errors (no response).
type synthReq struct {
	name, url string
	share     float64
	lat       func(rate float64) time.Duration
	errFrac   func(rate float64) float64
	kind      string
}

func synthFlat(d time.Duration) func(float64) time.Duration {
	return func(float64) time.Duration { return d }
}

func synthNone(float64) float64 { return 0 }

func synthAll(float64) float64 { return 1 }

// synthResult builds a result with one 1-second window per rate, with no
// network and no engine.
func synthResult(t *testing.T, baseline float64, reqs []synthReq, rates ...float64) *engine.Result {
	t.Helper()
	start := time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)
	r := &engine.Result{}
	r.Meta = engine.Meta{Tool: "spike", Version: "test", Scenario: "synth", Target: "http://127.0.0.1:8080",
		Started: start, Ended: start.Add(time.Duration(len(rates)) * time.Second)}
	r.Plan = engine.PlanInfo{
		Baseline: baseline, TimeScale: 1, Shape: "stages", Window: time.Second,
		Duration: time.Duration(len(rates)) * time.Second,
		SLO:      scenarios.SLO{Limits: scenarios.Limits{P95: 500 * time.Millisecond, ErrorRate: 0.01}, Sustain: 3},
		Options:  scenarios.Options{Connections: 1000, Window: time.Second},
	}
	totals := map[string]*engine.RequestTotal{}
	hists := map[string]*hist.Hist{}
	for _, q := range reqs {
		r.Plan.Requests = append(r.Plan.Requests, engine.RequestInfo{Name: q.name, Method: "GET", URL: q.url, Weight: q.share, Share: q.share})
		r.Requests = append(r.Requests, engine.RequestTotal{Name: q.name})
	}
	for k := range r.Requests {
		totals[r.Requests[k].Name] = &r.Requests[k]
		hists[r.Requests[k].Name] = engine.NewHist()
	}
	for w, rate := range rates {
		r.Plan.PeakRate = math.Max(r.Plan.PeakRate, rate)
		win := engine.Window{
			Index: w, Start: time.Duration(w) * time.Second, End: time.Duration(w+1) * time.Second,
			PlannedRate: rate, Planned: uint64(math.Round(rate)), Requests: map[string]*engine.WindowRequest{},
		}
		whole := engine.NewHist()
		for _, q := range reqs {
			n := int(math.Round(rate * q.share))
			if n == 0 {
				continue
			}
			errs := int(math.Round(float64(n) * q.errFrac(rate)))
			h := engine.NewHist()
			for j := range n {
				f := 0.9 + 0.2*float64(j)/float64(max(1, n-1))
				_ = h.Record(int64(float64(q.lat(rate)/time.Microsecond) * f))
			}
			wr := &engine.WindowRequest{Count: uint64(n), OK: uint64(n - errs), Errors: uint64(errs), Latency: engine.Stats(h, true)}
			t := totals[q.name]
			if n > errs {
				wr.Statuses = map[string]uint64{"200": uint64(n - errs)}
			}
			if errs > 0 {
				if q.kind != "" {
					wr.ErrorKinds = map[string]uint64{q.kind: uint64(errs)}
				} else {
					if wr.Statuses == nil {
						wr.Statuses = map[string]uint64{}
					}
					wr.Statuses["500"] = uint64(errs)
				}
			}
			for c, k := range wr.Statuses {
				if t.Statuses == nil {
					t.Statuses = map[string]uint64{}
				}
				t.Statuses[c] += k
			}
			for c, k := range wr.ErrorKinds {
				if t.ErrorKinds == nil {
					t.ErrorKinds = map[string]uint64{}
				}
				t.ErrorKinds[c] += k
			}
			t.Count += wr.Count
			t.OK += wr.OK
			t.Errors += wr.Errors
			hists[q.name].Merge(h)
			whole.Merge(h)
			win.Requests[q.name] = wr
			win.OK += wr.OK
			win.Errors += wr.Errors
		}
		win.Sent = win.OK + win.Errors
		win.Latency = engine.Stats(whole, false)
		r.Windows = append(r.Windows, win)
	}
	for name, h := range hists {
		totals[name].Latency = engine.Stats(h, false)
	}
	return r
}

// synthRamp returns n rates from a to b.
func synthRamp(a, b float64, n int) []float64 {
	out := make([]float64, n)
	for k := range out {
		out[k] = a + (b-a)*float64(k)/float64(max(1, n-1))
	}
	return out
}

func TestNewCmdRun_Gate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args string
		want GateOptions
	}{
		{"run s.yaml", GateOptions{}},
		{"run s.yaml --gate", GateOptions{Enforce: true}},
		{"run s.yaml --gate --baseline-result old.json --junit j.xml --summary s.md",
			GateOptions{Enforce: true, BaselineResult: "old.json", JUnit: "j.xml", Summary: "s.md"}},
		{"run s.yaml --junit j.xml", GateOptions{JUnit: "j.xml"}},
	}
	for _, tt := range tests {
		var got *RunOptions
		ios := &IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}
		cmd := newRunCmd(ios, func(_ context.Context, o *RunOptions) error { got = o; return nil })
		cmd.SetArgs(strings.Fields(tt.args)[1:])
		if err := cmd.Execute(); err != nil {
			t.Fatalf("spike %s: %v", tt.args, err)
		}
		if got.Gate != tt.want {
			t.Errorf("spike %s: gate options %+v; want %+v", tt.args, got.Gate, tt.want)
		}
		if got.Gate.active() != (tt.want != GateOptions{}) {
			t.Errorf("spike %s: active() = %t", tt.args, got.Gate.active())
		}
	}
}

// junitDoc is what a CI system reads back from the JUnit file.
type junitDoc struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Errors   int `xml:"errors,attr"`
	Skipped  int `xml:"skipped,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Errors   int    `xml:"errors,attr"`
		Skipped  int    `xml:"skipped,attr"`
		Cases    []struct {
			Name      string `xml:"name,attr"`
			ClassName string `xml:"classname,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Error   *struct{} `xml:"error"`
			Skipped *struct{} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestWriteJUnit(t *testing.T) {
	t.Parallel()
	ok := synthReq{name: "home", url: "/", share: 0.75, lat: synthFlat(20 * time.Millisecond), errFrac: synthNone}
	failing := synthReq{name: "fail", url: "/fail", share: 0.25, lat: synthFlat(5 * time.Millisecond), errFrac: synthAll}
	slowAbove := func(r float64) time.Duration {
		if r > 40 {
			return 900 * time.Millisecond
		}
		return 20 * time.Millisecond
	}
	rates := append(synthRamp(20, 20, 3), synthRamp(20, 80, 7)...)
	down := []synthReq{{name: "home", url: "/", share: 1, lat: synthFlat(time.Millisecond), errFrac: synthAll, kind: "refused"}}

	tests := []struct {
		name                             string
		res                              *engine.Result
		gate                             scenarios.Gate
		tests, failures, errors, skipped int
		failed                           []string
	}{
		{"all pass", synthResult(t, 20, []synthReq{ok}, rates...), scenarios.Gate{Set: true}, 2, 0, 0, 0, nil},
		{"request fails", synthResult(t, 20, []synthReq{ok, failing}, rates...), scenarios.Gate{Set: true, MaxRegression: 0.1}, 4, 2, 0, 1,
			[]string{"slo", "request fail"}},
		{"capacity short", synthResult(t, 20, []synthReq{{name: "home", url: "/", share: 1, lat: slowAbove, errFrac: synthNone}}, rates...),
			scenarios.Gate{Set: true, Survive: 40, MinCapacity: 60}, 3, 1, 0, 0, []string{"min capacity"}},
		{"unreachable", synthResult(t, 20, down, rates...), scenarios.Gate{Set: true, MinCapacity: 20}, 3, 0, 3, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep := analysis.Gate(tt.res, nil, tt.gate, nil)
			var buf bytes.Buffer
			if err := writeJUnit(&buf, tt.res, &rep); err != nil {
				t.Fatalf("writeJUnit() = %v", err)
			}
			var doc junitDoc
			if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
				t.Fatalf("JUnit does not parse: %v\n%s", err, buf.String())
			}
			if doc.Tests != tt.tests || doc.Failures != tt.failures || doc.Errors != tt.errors || doc.Skipped != tt.skipped {
				t.Errorf("JUnit counts tests=%d failures=%d errors=%d skipped=%d; want %d %d %d %d\n%s",
					doc.Tests, doc.Failures, doc.Errors, doc.Skipped, tt.tests, tt.failures, tt.errors, tt.skipped, buf.String())
			}
			if len(doc.Suites) != 1 {
				t.Fatalf("JUnit has %d suites; want 1", len(doc.Suites))
			}
			s := doc.Suites[0]
			if s.Name != "spike gate: synth" || len(s.Cases) != s.Tests || s.Tests != doc.Tests || s.Failures != doc.Failures || s.Errors != doc.Errors || s.Skipped != doc.Skipped {
				t.Errorf("JUnit suite %q: %d cases, counts %d/%d/%d/%d; want them to match the totals", s.Name, len(s.Cases), s.Tests, s.Failures, s.Errors, s.Skipped)
			}
			var failed []string
			var errs, skipped int
			for _, c := range s.Cases {
				if c.Failure != nil {
					failed = append(failed, c.Name)
					if !strings.Contains(c.Failure.Message, "measured ") || !strings.Contains(c.Failure.Message, "; limit ") ||
						!strings.Contains(c.Failure.Text, "\nmeasured: ") || !strings.Contains(c.Failure.Text, "\nlimit: ") {
						t.Errorf("failure of %q = %q / %q; want the measured value and the limit", c.Name, c.Failure.Message, c.Failure.Text)
					}
				}
				if c.Error != nil {
					errs++
				}
				if c.Skipped != nil {
					skipped++
				}
				wantClass := "spike.gate"
				if strings.HasPrefix(c.Name, "request ") {
					wantClass = "spike.gate.requests"
				}
				if c.ClassName != wantClass {
					t.Errorf("test case %q classname %q; want %q", c.Name, c.ClassName, wantClass)
				}
			}
			if strings.Join(failed, ",") != strings.Join(tt.failed, ",") || errs != tt.errors || skipped != tt.skipped {
				t.Errorf("failed cases %q, %d errors, %d skipped; want %q, %d, %d", failed, errs, skipped, tt.failed, tt.errors, tt.skipped)
			}
		})
	}
}

func TestGateOptions_Apply(t *testing.T) {
	t.Parallel()
	ok := synthReq{name: "home", url: "/", share: 1, lat: synthFlat(20 * time.Millisecond), errFrac: synthNone}
	bad := synthReq{name: "home", url: "/", share: 1, lat: synthFlat(20 * time.Millisecond), errFrac: synthAll}
	down := synthReq{name: "home", url: "/", share: 1, lat: synthFlat(time.Millisecond), errFrac: synthAll, kind: "refused"}
	rates := synthRamp(20, 20, 5)
	tests := []struct {
		name    string
		res     *engine.Result
		enforce bool
		code    int
	}{
		{"pass", synthResult(t, 20, []synthReq{ok}, rates...), true, exitOK},
		{"fail", synthResult(t, 20, []synthReq{bad}, rates...), true, exitGateFailed},
		{"fail, not enforced", synthResult(t, 20, []synthReq{bad}, rates...), false, exitOK},
		{"inconclusive", synthResult(t, 20, []synthReq{down}, rates...), true, exitInconclusive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			g := &GateOptions{Enforce: tt.enforce, JUnit: filepath.Join(dir, "junit.xml"), Summary: filepath.Join(dir, "summary.md")}
			var out, errOut bytes.Buffer
			plan := &scenarios.Plan{Gate: scenarios.Gate{Set: true}}
			err := g.apply(&IOStreams{Out: &out, ErrOut: &errOut}, plan, tt.res, analysis.Analyze(tt.res, analysis.Options{}), dir)
			if code := exitCodeOf(err); code != tt.code {
				t.Errorf("apply() = %v (exit %d); want exit %d", err, code, tt.code)
			}
			for _, f := range []string{g.JUnit, g.Summary} {
				if _, err := os.Stat(f); err != nil {
					t.Errorf("apply() did not write %s: %v", f, err)
				}
			}
			if !strings.Contains(out.String(), "Gate ") {
				t.Errorf("apply() printed %q; want the gate's checks", out.String())
			}
		})
	}
	var nilGate *GateOptions
	if err := nilGate.apply(nil, nil, nil, nil, ""); err != nil {
		t.Errorf("nil GateOptions.apply() = %v; want nil", err)
	}
}

// exitCodeOf returns the exit code Main would give err.
func exitCodeOf(err error) int {
	if err == nil {
		return exitOK
	}
	var ce *codeError
	if errors.As(err, &ce) {
		return ce.code
	}
	return exitError
}

// TestWriteSummary renders a hand-built gate report (so that the golden file
// changes only when the Markdown does, not when the analysis improves).
func TestWriteSummary(t *testing.T) {
	t.Parallel()
	start := time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)
	res := &engine.Result{
		Meta: engine.Meta{Scenario: "smoke", Target: "http://127.0.0.1:8080", Started: start, Ended: start.Add(12 * time.Second)},
		Plan: engine.PlanInfo{Baseline: 10, PeakRate: 20, Duration: 12 * time.Second},
	}
	pt := func(rate float64) *analysis.Point { return &analysis.Point{RateRPS: rate, Multiple: rate / 10} }
	a := &analysis.Analysis{
		Verdict: analysis.Verdict{
			Status: analysis.StatusFail, Headline: "The database broke first at 16.7 req/s (1.7x) (latency climbed, then errors); it held 11.7 req/s (1.2x)",
			PeakRPS: 20, PeakMultiple: 2, Fixes: []string{"Cache GET /api/feed for 1–5 min"},
		},
		Layers: []analysis.LayerReport{
			{Layer: "database", Rank: 1, Broke: pt(16.7), Symptom: &analysis.Symptom{Class: analysis.SymptomLatencyThenErrors, Text: "feed p95 climbed from 145 ms to 1.2 s, then 503s"}},
			{Layer: "backend"},
		},
		Requests: []analysis.RequestReport{
			{Name: "home", Layer: "backend", Count: 30, P95Ms: 3.4, LowP95Ms: 2.9},
			{Name: "feed", Layer: "database", Count: 60, Errors: 6, P95Ms: 1210, LowP95Ms: 146, Broke: pt(16.7)},
			{Name: "a|b", Layer: "database", Count: 0},
		},
	}
	f := func(v float64) *float64 { return &v }
	cmp := &analysis.Comparison{
		MaxRegression: 0.1, Verdict: analysis.CompareRegressed,
		Capacity:            analysis.Metric{Name: analysis.MetricCapacity, Label: "capacity", Unit: analysis.UnitRPS, HigherIsBetter: true, Old: f(20), New: f(11.7), Delta: -8.3, Change: -0.415, Trend: analysis.TrendWorse},
		Breakpoint:          analysis.Metric{Name: analysis.MetricBreakpoint, Label: "breakpoint", Unit: analysis.UnitRPS, HigherIsBetter: true, New: f(16.7), Absent: "no break", Trend: analysis.TrendWorse},
		P95AtBaseline:       analysis.Metric{Name: analysis.MetricP95, Label: "p95 at baseline", Unit: analysis.UnitMs, Old: f(140), New: f(146), Delta: 6, Change: 0.043, Trend: analysis.TrendSame},
		ErrorRateAtBaseline: analysis.Metric{Name: analysis.MetricErrorRate, Label: "error rate at baseline", Unit: analysis.UnitRatio, Old: f(0), New: f(0), Trend: analysis.TrendSame},
		Regressions:         []string{"capacity: 20 req/s → 11.7 req/s (-42%)", "breakpoint: no break → 16.7 req/s"},
	}
	rep := &analysis.GateReport{
		Status: analysis.StatusFail, Headline: "gate failed: slo, regression: capacity, request feed (3 of 6 checks failed)",
		Checks: []analysis.GateCheck{
			{Name: "slo", Status: analysis.StatusFail, Measured: "worst p95 1.2 s, worst error rate 20%", Limit: "p95 ≤ 500 ms, error rate ≤ 1% in every window up to 20 req/s (2.0x)",
				Message: "the target violated the SLO in 3 windows of 12 up to 20 req/s (2.0x), first at 0:09 (planned 16.7 req/s (1.7x)): p95 1.2 s"},
			{Name: "regression: capacity", Status: analysis.StatusFail, Measured: "20 req/s → 11.7 req/s (-42%)", Limit: "drop ≤ 10% against the previous result", Message: "capacity regressed"},
			{Name: "regression: p95 at baseline", Status: analysis.StatusPass, Measured: "140 ms → 146 ms (+4.3%)", Limit: "rise ≤ 10% against the previous result (or under 5.0 ms)", Message: "within 10%"},
			{Name: "request home", Request: "home", Status: analysis.StatusPass, Measured: "worst p95 3.4 ms, worst error rate 0%", Limit: "p95 ≤ 500 ms, error rate ≤ 1% in every window up to 20 req/s (2.0x)", Message: "home held the SLO"},
			{Name: "request feed", Request: "feed", Status: analysis.StatusFail, Measured: "worst p95 1.2 s, worst error rate 30%", Limit: "p95 ≤ 500 ms, error rate ≤ 1% in every window up to 20 req/s (2.0x)", Message: "feed violated the SLO in 3 windows"},
			{Name: "request a|b", Request: "a|b", Status: analysis.StatusInconclusive, Measured: "no window judged", Limit: "p95 ≤ 500 ms", Message: "a|b had no responses up to 20 req/s (2.0x)"},
		},
		Notes:      []string{"the gate sets no max_regression: 10% is allowed against the previous result"},
		Comparison: cmp,
	}
	var buf bytes.Buffer
	if err := writeSummary(&buf, res, a, rep, "spike-out/report.html"); err != nil {
		t.Fatalf("writeSummary() = %v", err)
	}
	golden := filepath.Join("testdata", "gate_summary.golden.md")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestWriteSummary -update to create it)", err)
	}
	if got := buf.String(); got != string(want) {
		t.Errorf("writeSummary() differs from %s (go test -run TestWriteSummary -update rewrites it):\n--- got\n%s\n--- want\n%s", golden, got, want)
	}
}

func TestWriteSummary_Passing(t *testing.T) {
	t.Parallel()
	res := synthResult(t, 20, []synthReq{{name: "home", url: "/", share: 1, lat: synthFlat(20 * time.Millisecond), errFrac: synthNone}}, synthRamp(20, 40, 6)...)
	a := analysis.Analyze(res, analysis.Options{})
	rep := analysis.Gate(res, a, scenarios.Gate{Set: true, Survive: 40}, nil)
	var buf bytes.Buffer
	if err := writeSummary(&buf, res, a, &rep, "out/report.html"); err != nil {
		t.Fatalf("writeSummary() = %v", err)
	}
	for _, want := range []string{"## ✅ spike gate: PASS — synth\n", "| slo | ✅ pass |", "Nothing broke up to the planned peak of 40 req/s (2.0x).", "| home | ", "Report: `out/report.html`\n"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("writeSummary() = \n%s\nwant it to contain %q", buf.String(), want)
		}
	}
	if strings.Contains(buf.String(), "Compared with") {
		t.Errorf("writeSummary() without a previous result has a comparison section:\n%s", buf.String())
	}
}

// TestWriteSummary_EscapesTargetText: text the target controls (error bodies
// in check messages and symptoms, request names) is shown as written, never
// interpreted as Markdown or HTML.
func TestWriteSummary_EscapesTargetText(t *testing.T) {
	t.Parallel()
	res := synthResult(t, 20, []synthReq{{name: "home", url: "/", share: 1, lat: synthFlat(20 * time.Millisecond), errFrac: synthNone}}, synthRamp(20, 40, 6)...)
	res.Meta.Scenario = "s <script>alert(1)</script>"
	res.Meta.Target = "http://127.0.0.1:1/`whoami`"
	hostile := "<img src=x onerror=alert(1)> [click](http://evil.example) **bold** | cell\n## heading"
	a := &analysis.Analysis{
		Verdict:  analysis.Verdict{Status: analysis.StatusFail, Headline: "broke: " + hostile, Fixes: []string{"fix " + hostile}},
		Layers:   []analysis.LayerReport{{Layer: "database", Rank: 1, Broke: &analysis.Point{RateRPS: 10}, Symptom: &analysis.Symptom{Text: "503 " + hostile}}},
		Requests: []analysis.RequestReport{{Name: "<b>req</b>", Layer: "database", Count: 1}},
	}
	rep := &analysis.GateReport{Status: analysis.StatusFail, Headline: "gate failed: " + hostile,
		Checks: []analysis.GateCheck{{Name: "request <b>req</b>", Status: analysis.StatusFail, Measured: hostile, Limit: "x", Message: "error body: " + hostile}},
		Notes:  []string{hostile},
	}
	var buf bytes.Buffer
	if err := writeSummary(&buf, res, a, rep, "out/report.html"); err != nil {
		t.Fatal(err)
	}
	got := buf.String()
	for _, bad := range []string{"<img", "<script", "<b>", "[click](", "**bold**", "\n## heading", "`whoami`` ·"} {
		if strings.Contains(got, bad) {
			t.Errorf("writeSummary() holds %q unescaped:\n%s", bad, got)
		}
	}
	for _, want := range []string{`&lt;img src=x onerror=alert(1)&gt; \[click\](http://evil.example) \*\*bold\*\* \| cell \#\# heading`, "Target `` http://127.0.0.1:1/`whoami` ``"} {
		if !strings.Contains(got, want) {
			t.Errorf("writeSummary() =\n%s\nwant it to contain %q", got, want)
		}
	}
}
