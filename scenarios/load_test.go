package scenarios_test

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spikeload/spike/scenarios"
)

func mustParse(t *testing.T, name, src string, ov scenarios.Overrides) *scenarios.Plan {
	t.Helper()
	p, err := scenarios.Parse(name, []byte(src), ov)
	if err != nil {
		t.Fatalf("Parse(%q, %q, %+v) = %v", name, src, ov, err)
	}
	return p
}

func TestLoad_Full(t *testing.T) {
	t.Parallel()
	p, err := scenarios.Load(filepath.Join("testdata", "full.yaml"), scenarios.Overrides{})
	if err != nil {
		t.Fatalf("Load(testdata/full.yaml) = %v", err)
	}
	if p.Name != "checkout" || p.Description != "Black Friday checkout" || p.Target != "http://127.0.0.1:8080" {
		t.Errorf("Name, Description, Target = %q, %q, %q; want checkout, Black Friday checkout, http://127.0.0.1:8080", p.Name, p.Description, p.Target)
	}
	if p.File != filepath.Join("testdata", "full.yaml") {
		t.Errorf("File = %q; want testdata/full.yaml", p.File)
	}
	if p.Baseline != 20 || p.TimeScale != 2 || p.Shape != "producthunt" {
		t.Errorf("Baseline, TimeScale, Shape = %v, %v, %q; want 20, 2, producthunt", p.Baseline, p.TimeScale, p.Shape)
	}
	// A 4m producthunt at time scale 2 lasts 2m and peaks at 6x.
	if d := p.Curve.Duration(); d != 2*time.Minute {
		t.Errorf("Curve.Duration() = %s; want 2m0s", d)
	}
	if rps, mult := p.Peak(); rps != 120 || mult != 6 {
		t.Errorf("Peak() = (%v, %v); want (120, 6)", rps, mult)
	}
	if got := p.Multiple(50); got != 2.5 {
		t.Errorf("Multiple(50) = %v; want 2.5", got)
	}
	if len(p.Requests) != 3 {
		t.Fatalf("len(Requests) = %d; want 3", len(p.Requests))
	}
	feed, order, health := p.Requests[0], p.Requests[1], p.Requests[2]
	if feed.Name != "feed" || feed.Method != "GET" || feed.Weight != 3 || feed.Layer != "backend" || !feed.URL.IsTemplate() || feed.Expect != nil {
		t.Errorf("Requests[0] = %+v; want feed, GET, weight 3, backend, a URL template, no expect", feed)
	}
	if order.Name != "order" || order.Method != "POST" || order.Weight != 1.5 || order.Layer != "database" || order.URL.IsTemplate() {
		t.Errorf("Requests[1] = %+v; want order, POST, weight 1.5, database, a plain URL", order)
	}
	if !reflect.DeepEqual(order.Expect, []int{201, 409}) {
		t.Errorf("Requests[1].Expect = %v; want [201 409]", order.Expect)
	}
	var keys []string
	for _, h := range order.Headers {
		keys = append(keys, h.Key+"="+h.Value.Raw())
	}
	if got, want := strings.Join(keys, " "), "Content-Type=application/json X-Request-Id={{.UUID}}"; got != want {
		t.Errorf("Requests[1].Headers = %s; want %s (in key order)", got, want)
	}
	if got, want := order.Body.Raw(), "{\"user\": {{.User}}, \"seq\": {{.Seq}}}\n"; got != want || !order.Body.IsTemplate() {
		t.Errorf("Requests[1].Body = %q (template %t); want %q from body_file, a template", got, order.Body.IsTemplate(), want)
	}
	if health.Name != "HEAD /healthz" || health.Weight != 0 || health.Body.Raw() != "" {
		t.Errorf("Requests[2] = %+v; want the default name HEAD /healthz, weight 0, no body", health)
	}
	wantSLO := scenarios.SLO{
		Limits:  scenarios.Limits{P95: 300 * time.Millisecond, P99: time.Second, ErrorRate: 0.005},
		Sustain: 5,
		Requests: map[string]scenarios.Limits{
			"order": {P95: 800 * time.Millisecond, P99: time.Second, ErrorRate: 0.02},
		},
	}
	if !reflect.DeepEqual(p.SLO, wantSLO) {
		t.Errorf("SLO = %+v; want %+v", p.SLO, wantSLO)
	}
	if got := p.SLO.For("order"); got != wantSLO.Requests["order"] {
		t.Errorf("SLO.For(order) = %+v; want %+v", got, wantSLO.Requests["order"])
	}
	if got := p.SLO.For("feed"); got != wantSLO.Limits {
		t.Errorf("SLO.For(feed) = %+v; want %+v", got, wantSLO.Limits)
	}
	wantOpts := scenarios.Options{
		Timeout: 5 * time.Second, Connections: 200, KeepAlive: false, HTTP2: true, Insecure: true,
		Window: 500 * time.Millisecond, Seed: 42, Users: 50, Redirects: scenarios.RedirectsNone, Mix: scenarios.MixRandom, Arrivals: scenarios.ArrivalsEven,
	}
	if p.Options != wantOpts {
		t.Errorf("Options = %+v; want %+v", p.Options, wantOpts)
	}
	if p.Scenario.Name != "checkout" || p.Scenario.Shape == nil || p.Scenario.Shape.Peak.String() != "6x" {
		t.Errorf("Scenario = %+v; want the scenario as written", p.Scenario)
	}
}

func TestLoad_Defaults(t *testing.T) {
	t.Parallel()
	p := mustParse(t, "dir/launch-day.yaml", "baseline: 12.5\nshape: burst\nrequests:\n  - url: /\n", scenarios.Overrides{})
	if p.Name != "launch-day" {
		t.Errorf("Name = %q; want launch-day (from the file name)", p.Name)
	}
	if p.Target != "" || p.TimeScale != 1 || p.Shape != "burst" || p.Baseline != 12.5 {
		t.Errorf("Target, TimeScale, Shape, Baseline = %q, %v, %q, %v; want \"\", 1, burst, 12.5", p.Target, p.TimeScale, p.Shape, p.Baseline)
	}
	wantSLO := scenarios.SLO{Limits: scenarios.Limits{P95: 500 * time.Millisecond, ErrorRate: 0.01}, Sustain: 3}
	if !reflect.DeepEqual(p.SLO, wantSLO) {
		t.Errorf("SLO = %+v; want %+v", p.SLO, wantSLO)
	}
	wantOpts := scenarios.Options{Timeout: 10 * time.Second, Connections: 1000, KeepAlive: true, Window: time.Second, Seed: 1, Users: 1000, Redirects: scenarios.RedirectsNone, Mix: scenarios.MixRandom, Arrivals: scenarios.ArrivalsEven}
	if p.Options != wantOpts {
		t.Errorf("Options = %+v; want %+v", p.Options, wantOpts)
	}
	// The documented constants agree.
	if scenarios.DefaultP95 != wantSLO.P95 || scenarios.DefaultErrorRate != wantSLO.ErrorRate || scenarios.DefaultSustain != wantSLO.Sustain ||
		scenarios.DefaultTimeout != wantOpts.Timeout || scenarios.DefaultConnections != wantOpts.Connections || scenarios.DefaultWindow != wantOpts.Window {
		t.Errorf("Default* constants differ from the defaults applied")
	}
	r := p.Requests[0]
	if r.Name != "GET /" || r.Method != "GET" || r.Weight != 1 || r.Layer != "" || r.Expect != nil || len(r.Headers) != 0 {
		t.Errorf("Requests[0] = %+v; want GET /, GET, weight 1, no layer, expect, headers", r)
	}
	if d := p.Curve.Duration(); d != time.Minute {
		t.Errorf("Curve.Duration() = %s; want the burst preset's 1m0s", d)
	}
	if rps, mult := p.Peak(); rps != 62.5 || mult != 5 {
		t.Errorf("Peak() = (%v, %v); want (62.5, 5)", rps, mult)
	}
}

func TestLoad_Stages(t *testing.T) {
	t.Parallel()
	type seg struct {
		kind       string
		start, dur time.Duration
		from, to   float64
		half       time.Duration
		low, high  float64
		period     time.Duration
	}
	want := []seg{
		{kind: "hold", start: 0, dur: 10 * sec, from: 100, to: 100},
		{kind: "ramp", start: 10 * sec, dur: 20 * sec, from: 100, to: 300},
		{kind: "spike", start: 30 * sec, dur: 2 * sec, from: 300, to: 1000},
		{kind: "hold", start: 32 * sec, dur: 8 * sec, from: 1000, to: 1000},
		{kind: "decay", start: 40 * sec, dur: 30 * sec, from: 1000, to: 50, half: 5 * sec},
		{kind: "hold", start: 70 * sec, dur: 5 * sec, from: 50 + 950/64.0, to: 50 + 950/64.0},
		{kind: "wave", start: 75 * sec, dur: 40 * sec, low: 0, high: 200, period: 20 * sec},
		{kind: "ramp", start: 115 * sec, dur: 5 * sec, from: 10, to: 0},
		{kind: "spike", start: 120 * sec, dur: sec, from: 0, to: 40},
	}
	for _, scale := range []float64{0, 1, 10} {
		p, err := scenarios.Load(filepath.Join("testdata", "stages.yaml"), scenarios.Overrides{TimeScale: scale})
		if err != nil {
			t.Fatalf("Load(testdata/stages.yaml, TimeScale %v) = %v", scale, err)
		}
		f := max(scale, 1)
		if p.Shape != "stages" || p.TimeScale != f {
			t.Errorf("TimeScale %v: Shape, TimeScale = %q, %v; want stages, %v", scale, p.Shape, p.TimeScale, f)
		}
		div := func(d time.Duration) time.Duration { return time.Duration(float64(d) / f) }
		segs := p.Curve.Segments()
		if len(segs) != len(want) {
			t.Fatalf("TimeScale %v: %d segments %+v; want %d", scale, len(segs), segs, len(want))
		}
		for i, w := range want {
			got := seg{segs[i].Kind, segs[i].Start, segs[i].Duration, segs[i].From, segs[i].To, segs[i].HalfLife, segs[i].Low, segs[i].High, segs[i].Period}
			w.start, w.dur, w.half, w.period = div(w.start), div(w.dur), div(w.half), div(w.period)
			if got != w {
				t.Errorf("TimeScale %v: segment %d = %+v; want %+v", scale, i, got, w)
			}
		}
		if d := p.Curve.Duration(); d != div(121*sec) {
			t.Errorf("TimeScale %v: Curve.Duration() = %s; want %s", scale, d, div(121*sec))
		}
		// Time scaling keeps the rates, so it divides the area.
		area := 100*10 + 200*20 + 650*2 + 1000*8 + (50*30 + 950/(math.Ln2/5)*(1-1/64.0)) + (50+950/64.0)*5 + 100*40 + 5*5 + 20*1
		if got := p.Curve.Integral(p.Curve.Duration()); math.Abs(got-area/f) > 1e-6 {
			t.Errorf("TimeScale %v: Integral(end) = %v; want %v", scale, got, area/f)
		}
	}
}

// TestLoad_Examples loads every scenario in examples/ (there may be none yet).
func TestLoad_Examples(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("..", "examples", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		p, err := scenarios.Load(f, scenarios.Overrides{})
		if err != nil {
			t.Errorf("Load(%s) = %v", f, err)
			continue
		}
		if p.Curve.Total() == 0 || p.Curve.Duration() <= 0 || len(p.Requests) == 0 {
			t.Errorf("Load(%s) = %s with %d requests; want a curve that plans requests", f, p.Curve, len(p.Requests))
		}
	}
}

func TestParse_Shape(t *testing.T) {
	t.Parallel()
	tests := []struct {
		shape    string
		duration time.Duration
		peak     float64
	}{
		{"burst", time.Minute, 50},
		{"{preset: burst}", time.Minute, 50},
		{"\n  preset: burst\n", time.Minute, 50},
		{"{preset: burst, peak: 300}", time.Minute, 300},
		{"{preset: burst, peak: 3x}", time.Minute, 30},
		{"{preset: burst, peak: 250%}", time.Minute, 25},
		{"{preset: burst, duration: 90s}", 90 * sec, 50},
		{"{preset: viral, peak: 2.5X, duration: 5m}", 5 * time.Minute, 25},
		{"{preset: tenx, duration: 100}", 100 * sec, 100},
		{"ramp", 2 * time.Minute, 100},
	}
	for _, tt := range tests {
		src := "baseline: 10\nshape: " + tt.shape + "\nrequests:\n  - url: /\n"
		p := mustParse(t, "s.yaml", src, scenarios.Overrides{})
		rps, _ := p.Peak()
		if d := p.Curve.Duration(); d != tt.duration || math.Abs(rps-tt.peak) > 1e-9 {
			t.Errorf("shape: %s: Duration(), Peak() = %s, %v; want %s, %v", tt.shape, d, rps, tt.duration, tt.peak)
		}
	}
}

func TestParse_Overrides(t *testing.T) {
	t.Parallel()
	const burst = "baseline: 10\nshape: burst\nrequests:\n  - url: /\n"
	const hour = "baseline: 10\ntime_scale: 60\nstages:\n  - hold: {duration: 20m}\n  - ramp: {to: 5x, duration: 40m}\nrequests:\n  - url: /\n"
	tests := []struct {
		name      string
		src       string
		ov        scenarios.Overrides
		target    string
		baseline  float64
		timeScale float64
		duration  time.Duration
		peak      float64
	}{
		{"none", burst, scenarios.Overrides{}, "", 10, 1, time.Minute, 50},
		{"target", burst, scenarios.Overrides{Target: "https://shop.example"}, "https://shop.example", 10, 1, time.Minute, 50},
		{"demo target", burst, scenarios.Overrides{Target: "demo"}, "demo", 10, 1, time.Minute, 50},
		{"baseline moves relative peaks", burst, scenarios.Overrides{Baseline: "40"}, "", 40, 1, time.Minute, 200},
		{"time scale", burst, scenarios.Overrides{TimeScale: 4}, "", 10, 4, 15 * sec, 50},
		{"time scale replaces the file's", hour, scenarios.Overrides{TimeScale: 120}, "", 10, 120, 30 * sec, 50},
		{"file time scale", hour, scenarios.Overrides{}, "", 10, 60, time.Minute, 50},
		{"duration halves", burst, scenarios.Overrides{Duration: 30 * sec}, "", 10, 2, 30 * sec, 50},
		{"duration stretches", burst, scenarios.Overrides{Duration: 3 * time.Minute}, "", 10, 1.0 / 3, 3 * time.Minute, 50},
		{"duration after time scale", hour, scenarios.Overrides{Duration: 10 * time.Minute}, "", 10, 6, 10 * time.Minute, 50},
		{"duration wins over time scale", hour, scenarios.Overrides{TimeScale: 2, Duration: 2 * time.Minute}, "", 10, 30, 2 * time.Minute, 50},
		{"all", burst, scenarios.Overrides{Target: "http://x:1", Baseline: "7", TimeScale: 3, Duration: 90 * sec}, "http://x:1", 7, 2.0 / 3, 90 * sec, 35},
	}
	for _, tt := range tests {
		p := mustParse(t, "o.yaml", tt.src, tt.ov)
		rps, _ := p.Peak()
		// Scaled segment lengths are rounded down to the nanosecond.
		d := p.Curve.Duration()
		if p.Target != tt.target || p.Baseline != tt.baseline || math.Abs(p.TimeScale-tt.timeScale) > 1e-9*tt.timeScale ||
			d > tt.duration || d < tt.duration-5 || math.Abs(rps-tt.peak) > 1e-9 {
			t.Errorf("%s: Parse(%+v): Target %q, Baseline %v, TimeScale %v, Duration %s, Peak %v; want %q, %v, %v, %s, %v",
				tt.name, tt.ov, p.Target, p.Baseline, p.TimeScale, p.Curve.Duration(), rps,
				tt.target, tt.baseline, tt.timeScale, tt.duration, tt.peak)
		}
	}
}

// TestParse_DurationRescales checks that a duration override stretches the
// whole shape: every segment, half-life and period by the same factor.
func TestParse_DurationRescales(t *testing.T) {
	t.Parallel()
	src := "baseline: 10\nstages:\n  - hold: {duration: 7s}\n  - decay: {from: 90, to: 10, half_life: 3s, duration: 11s}\n  - wave: {low: 1, high: 9, period: 6s, duration: 13s}\nrequests:\n  - url: /\n"
	plain := mustParse(t, "r.yaml", src, scenarios.Overrides{})
	for _, d := range []time.Duration{time.Second, 7 * sec, 31 * sec, 17 * time.Minute} {
		p := mustParse(t, "r.yaml", src, scenarios.Overrides{Duration: d})
		c := p.Curve
		// Each segment's length is rounded down to the nanosecond.
		if got := c.Duration(); got > d || got < d-3 {
			t.Errorf("Duration %s: Curve.Duration() = %s; want %s (to within 3ns)", d, got, d)
		}
		f := float64(d) / float64(plain.Curve.Duration())
		for i, s := range c.Segments() {
			o := plain.Curve.Segments()[i]
			if math.Abs(float64(s.Duration)-f*float64(o.Duration)) > 1 || math.Abs(float64(s.HalfLife)-f*float64(o.HalfLife)) > 1 ||
				math.Abs(float64(s.Period)-f*float64(o.Period)) > 1 {
				t.Errorf("Duration %s: segment %d = %+v; want %+v scaled by %v", d, i, s, o, f)
			}
		}
		// Same rates over a scaled time: the area scales too.
		want := plain.Curve.Integral(plain.Curve.Duration()) * f
		if got := c.Integral(c.Duration()); math.Abs(got-want) > 1e-6*want {
			t.Errorf("Duration %s: Integral(end) = %v; want %v", d, got, want)
		}
	}
}

func TestIsLoadError(t *testing.T) {
	t.Parallel()
	_, perr := scenarios.Parse("x.yaml", []byte("baseline: 1\n"), scenarios.Overrides{})
	_, lerr := scenarios.Load(filepath.Join("testdata", "no-such.yaml"), scenarios.Overrides{})
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"parse error", perr, true},
		{"wrapped", fmt.Errorf("run: %w", perr), true},
		{"unreadable file", lerr, false},
		{"plain", errors.New("boom"), false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		if got := scenarios.IsLoadError(tt.err); got != tt.want {
			t.Errorf("%s: IsLoadError(%v) = %t; want %t", tt.name, tt.err, got, tt.want)
		}
	}
	if !errors.Is(lerr, fs.ErrNotExist) {
		t.Errorf("Load(no-such.yaml) = %v; want an error wrapping fs.ErrNotExist", lerr)
	}
	if lerr == nil || !strings.HasPrefix(lerr.Error(), "read scenario: ") {
		t.Errorf("Load(no-such.yaml) = %v; want it to start with %q", lerr, "read scenario: ")
	}
}

// osErr returns the reason os.ReadFile gives for path, as body_file errors
// report it.
func osErr(t *testing.T, path string) string {
	t.Helper()
	_, err := os.ReadFile(path)
	if err == nil {
		t.Fatalf("os.ReadFile(%q) succeeded; want an error", path)
	}
	return errors.Unwrap(err).Error()
}

func TestParse_Errors(t *testing.T) {
	t.Parallel()
	const head = "baseline: 10\nshape: burst\nrequests:\n  - url: /\n" // lines 1-4
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"empty", "\n  \n", "bad.yaml: empty scenario"},
		{"syntax", "a: [\n", "bad.yaml:1:4: sequence end token ']' not found"},
		{"tab", head + "\tmethod: GET\n", "bad.yaml:5:1: found character '\t' that cannot start any token"},
		{"not a mapping", "- a\n", "bad.yaml:1:1: sequence was used where mapping is expected"},
		// goccy/go-yaml panics on these (testdata/fuzz); Parse must not.
		{"tagged empty sequence", "requests: !!seq\n", "bad.yaml: malformed YAML: runtime error: invalid memory address or nil pointer dereference"},
		{"fuzz crasher", "requests:\n  ! 0000000000000000\n008:00000000:", "bad.yaml: malformed YAML: runtime error: invalid memory address or nil pointer dereference"},
		{"empty tag", "requests:\n  - !\n", "bad.yaml:2:5: tag was used where mapping is expected"},
		{"duplicate key", "baseline: 10\nbaseline: 20\nshape: burst\nrequests:\n  - url: /\n", `bad.yaml:2:1: mapping key "baseline" already defined at [1:1]`},
		{"unknown field", head + "  - url: /x\n    bogus: 1\n", `bad.yaml:6:5: unknown field "bogus"`},
		{"unknown top-level field", head + "shapes: burst\n", `bad.yaml:5:1: unknown field "shapes"`},
		{"unknown stage kind", "baseline: 10\nstages:\n  - jump: {to: 5}\nrequests:\n  - url: /\n", `bad.yaml:3:5: unknown field "jump"`},
		{"unknown shape field", "baseline: 10\nshape: {preset: burst, nope: 1}\nrequests:\n  - url: /\n", `bad.yaml:2:24: unknown field "nope"`},
		{"string for connections", head + "options:\n  connections: lots\n", `bad.yaml:6:16: connections: want a whole number, got "lots"`},
		{"string for time_scale", head + "time_scale: abc\n", `bad.yaml:5:13: time_scale: want a number, got "abc"`},
		{"string for expect", head + "    expect: ok\n", "bad.yaml:5:13: string was used where sequence is expected"},
		{"mapping for requests", "baseline: 10\nshape: burst\nrequests: {}\n", "bad.yaml:3:11: mapping was used where sequence is expected"},
		{"missing baseline", "shape: burst\nrequests:\n  - url: /\n", "bad.yaml:1:1: baseline: must be set: today's normal traffic in req/s, e.g. baseline: 20"},
		{"bad baseline", "baseline: fast\nshape: burst\nrequests:\n  - url: /\n", `bad.yaml:1:11: baseline: not a rate (want req/s like 300, or a multiple of the baseline like 5x or 500%), got "fast"`},
		{"relative baseline", "baseline: 5x\nshape: burst\nrequests:\n  - url: /\n", `bad.yaml:1:11: baseline: relative rate "5x" needs a baseline > 0`},
		{"zero baseline", "baseline: 0\nshape: burst\nrequests:\n  - url: /\n", "bad.yaml:1:11: baseline: must be > 0, got 0"},
		{"bad target", head + "target: ftp://x\n", `bad.yaml:5:9: target: must be an http(s) URL like http://127.0.0.1:8080, or demo, got "ftp://x"`},
		{"no shape", "baseline: 10\nrequests:\n  - url: /\n", "bad.yaml:1:1: shape: must be set (a preset such as producthunt), or give stages"},
		{"shape and stages", "baseline: 10\nshape: burst\nstages:\n  - hold: {duration: 1s}\nrequests:\n  - url: /\n", "bad.yaml:4:3: stages: give either shape or stages, not both"},
		{"unknown preset", "baseline: 10\nshape: nope\nrequests:\n  - url: /\n", `bad.yaml:2:8: shape: unknown preset "nope" (known: [burst hackernews newsletter producthunt ramp tenx viral])`},
		{"unknown preset in mapping", "baseline: 10\nshape:\n  preset: nope\nrequests:\n  - url: /\n", `bad.yaml:3:9: shape: unknown preset "nope" (known: [burst hackernews newsletter producthunt ramp tenx viral])`},
		{"zero peak", "baseline: 10\nshape: {preset: burst, peak: 0}\nrequests:\n  - url: /\n", "bad.yaml:2:30: shape.peak: must be > 0, got 0"},
		{"peak too high", "baseline: 10\nshape: {preset: burst, peak: 2000000}\nrequests:\n  - url: /\n", "bad.yaml:2:30: shape.peak: must be at most 1000000 req/s, got 2000000 (2000000 req/s)"},
		{"bad shape duration", "baseline: 10\nshape: {preset: burst, duration: forever}\nrequests:\n  - url: /\n", `bad.yaml:2:34: shape.duration: not a duration (want e.g. 30s, 2m, 1h30m), got "forever"`},
		{"zero time_scale", head + "time_scale: 0\n", "bad.yaml:5:13: time_scale: must be > 0, got 0"},
		{"negative time_scale", head + "time_scale: -1\n", "bad.yaml:5:13: time_scale: must be > 0, got -1"},
		{"infinite time_scale", head + "time_scale: .inf\n", "bad.yaml:5:13: time_scale: must be > 0, got +Inf"},
		{"too long", "baseline: 10\nstages:\n  - hold: {duration: 48h}\ntime_scale: 1.5\nrequests:\n  - url: /\n", "bad.yaml:3:3: stages: the run would last 32h0m0s after time scaling; the limit is 24h0m0s (raise time_scale)"},
		{"half-life scaled to 0", "baseline: 10\nstages:\n  - decay: {from: 100, to: 1, half_life: 1ns, duration: 2s}\ntime_scale: 2\nrequests:\n  - url: /\n", "bad.yaml:3:3: stages: segment 0: decay half-life must be > 0, got 0s"},
		{"period scaled to 0", "baseline: 10\nstages:\n  - hold: {duration: 1s}\n  - wave: {low: 1, high: 5, period: 1ns, duration: 2s}\ntime_scale: 2\nrequests:\n  - url: /\n", "bad.yaml:3:3: stages: segment 1: wave period must be > 0, got 0s"},
		{"no requests planned", "baseline: 10\nstages:\n  - hold: {rate: 0, duration: 1s}\nrequests:\n  - url: /\n", "bad.yaml:3:3: stages: the curve plans no requests"},
		{"negative ramp", "baseline: 10\nstages:\n  - hold: {duration: 1s}\n  - ramp: {to: 5x, duration: 1s}\n  - ramp:\n      to: -5\n      duration: 1s\nrequests:\n  - url: /\n", "bad.yaml:6:11: stages[2].ramp.to: must be >= 0, got -5"},
		{"empty stage", "baseline: 10\nstages:\n  - {}\nrequests:\n  - url: /\n", "bad.yaml:3:5: stages[0]: each stage is exactly one of ramp, hold, spike, decay, wave; got 0"},
		{"two kinds in a stage", "baseline: 10\nstages:\n  - hold: {duration: 1s}\n    ramp: {to: 1, duration: 1s}\nrequests:\n  - url: /\n", "bad.yaml:3:9: stages[0]: each stage is exactly one of ramp, hold, spike, decay, wave; got 2"},
		{"ramp without to", "baseline: 10\nstages:\n  - ramp: {duration: 1s}\nrequests:\n  - url: /\n", "bad.yaml:3:11: stages[0].ramp.to: must be set"},
		{"zero duration", "baseline: 10\nstages:\n  - hold: {duration: 0s}\nrequests:\n  - url: /\n", "bad.yaml:3:22: stages[0].hold.duration: must be > 0, got 0s"},
		{"negative duration", "baseline: 10\nstages:\n  - hold: {duration: -5}\nrequests:\n  - url: /\n", "bad.yaml:3:22: stages[0].hold.duration: must be > 0, got -5"},
		{"spike rise too long", "baseline: 10\nstages:\n  - spike: {to: 5x, duration: 1s, rise: 2s}\nrequests:\n  - url: /\n", "bad.yaml:3:41: stages[0].spike.rise: must not exceed the stage's duration (1s), got 2s"},
		{"wave upside down", "baseline: 10\nstages:\n  - wave: {low: 5, high: 1, period: 1s, duration: 1s}\nrequests:\n  - url: /\n", "bad.yaml:3:26: stages[0].wave.high: must be >= low (5), got 1"},
		{"relative rate too high", "baseline: 10\nstages:\n  - hold: {rate: 200000x, duration: 1s}\nrequests:\n  - url: /\n", "bad.yaml:3:18: stages[0].hold.rate: must be at most 1000000 req/s, got 200000x (2000000 req/s)"},
		{"no requests", "baseline: 10\nshape: burst\n", "bad.yaml:1:1: requests: must list at least one request (or give journeys instead)"},
		{"empty requests", "baseline: 10\nshape: burst\nrequests: []\n", "bad.yaml:3:11: requests: must list at least one request (or give journeys instead)"},
		{"no url", "baseline: 10\nshape: burst\nrequests:\n  - url: ''\n", "bad.yaml:4:10: requests[0].url: must be set (a path like /api/feed, relative to the target)"},
		{"duplicate names", head + "  - name: GET /\n    url: /b\n", `bad.yaml:5:11: requests[1].name: duplicate request name "GET /" (also requests[0])`},
		{"duplicate default names", head + "  - url: /\n", `bad.yaml:5:8: requests[1].name: duplicate request name "GET /" (also requests[0])`},
		{"bad method", head + "    method: FETCH\n", `bad.yaml:5:13: requests[0].method: must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, got "FETCH"`},
		{"bad layer", head + "    layer: cache\n", `bad.yaml:5:12: requests[0].layer: must be one of database, backend, frontend, third-party, auth, got "cache"`},
		{"bad expect status", head + "    expect: [200, 700]\n", "bad.yaml:5:19: requests[0].expect[1]: must be an HTTP status (100-599), got 700"},
		{"negative weight", head + "  - url: /b\n    weight: -1\n", "bad.yaml:4:3: requests: the weights add up to 0; at least one request needs weight > 0\nbad.yaml:6:13: requests[1].weight: must be >= 0, got -1"},
		{"NaN weight", head + "    weight: .nan\n", "bad.yaml:5:13: requests[0].weight: must be >= 0, got NaN"},
		{"zero weights", head + "    weight: 0\n", "bad.yaml:4:3: requests: the weights add up to 0; at least one request needs weight > 0"},
		{"bad header name", head + "    headers:\n      'bad key': x\n", `bad.yaml:6:18: requests[0].headers.bad key: not a valid header name: "bad key"`},
		{"body and body_file", head + "    body: x\n    body_file: bodies/order.json\n", "bad.yaml:6:16: requests[0].body_file: give either body or body_file, not both"},
		{"missing body_file", head + "    body_file: missing.json\n", fmt.Sprintf("bad.yaml:5:16: requests[0].body_file: cannot read %q: %s", "missing.json", osErr(t, filepath.Join("testdata", "missing.json")))},
		{"directory body_file", head + "    body_file: bodies\n", fmt.Sprintf("bad.yaml:5:16: requests[0].body_file: cannot read %q: %s", "bodies", osErr(t, filepath.Join("testdata", "bodies")))},
		{"url template parse", "baseline: 10\nshape: burst\nrequests:\n  - url: /{{.Seq\n", "bad.yaml:4:10: requests[0].url: bad template: unclosed action"},
		{"header template parse", head + "    headers:\n      X-A: '{{'\n", "bad.yaml:6:12: requests[0].headers.X-A: bad template: unclosed action"},
		{"body template parse", head + "    body: '{{.Seq'\n", "bad.yaml:5:11: requests[0].body: bad template: unclosed action"},
		{"template RandInt bounds", "baseline: 10\nshape: burst\nrequests:\n  - url: /{{.RandInt 5 1}}\n", "bad.yaml:4:10: requests[0].url: bad template: the first bound must not exceed the second"},
		{"template unknown field", "baseline: 10\nshape: burst\nrequests:\n  - url: /{{.Nope}}\n", "bad.yaml:4:10: requests[0].url: bad template: can't evaluate field Nope in type *scenarios.Vars"},
		{"header template unknown field", head + "    headers:\n      X-Id: '{{.Nope}}'\n", "bad.yaml:6:13: requests[0].headers.X-Id: bad template: can't evaluate field Nope in type *scenarios.Vars"},
		{"url renders badly", "baseline: 10\nshape: burst\nrequests:\n  - url: \"/a b%zz\"\n", `bad.yaml:4:10: requests[0].url: renders to a bad URL "/a b%zz": invalid URL escape "%zz"`},
		{"slo for unknown request", head + "slo:\n  requests:\n    GET /nope:\n      p95: 1s\n", `bad.yaml:8:10: slo.requests.GET /nope: no request is named "GET /nope"`},
		{"bad slo override", head + "slo:\n  requests:\n    GET /:\n      p95: 0s\n", "bad.yaml:8:12: slo.requests.GET /.p95: must be > 0, got 0s"},
		{"error_rate over 100%", head + "slo:\n  error_rate: 150%\n", "bad.yaml:6:15: slo.error_rate: must be between 0% and 100%, got 150%"},
		{"error_rate negative", head + "slo:\n  error_rate: -1%\n", "bad.yaml:6:15: slo.error_rate: must be between 0% and 100%, got -1%"},
		{"sustain too high", head + "slo:\n  sustain: 601\n", "bad.yaml:6:12: slo.sustain: must be between 1 and 600 windows, got 601"},
		{"window not a duration", head + "options:\n  window: soon\n", `bad.yaml:6:11: options.window: not a duration (want e.g. 30s, 2m, 1h30m), got "soon"`},
		{"window too short", head + "options:\n  window: 10ms\n", "bad.yaml:6:11: options.window: must be between 100ms and 1m, got 10ms"},
		{"window too long", head + "options:\n  window: 5m\n", "bad.yaml:6:11: options.window: must be between 100ms and 1m, got 5m"},
		{"timeout too long", head + "options:\n  timeout: 11m\n", "bad.yaml:6:12: options.timeout: must be at most 10m, got 11m"},
		{"negative connections", head + "options:\n  connections: -1\n", "bad.yaml:6:16: options.connections: must be between 1 and 100000, got -1"},
		{"unknown mix", head + "options:\n  mix: shuffled\n", "bad.yaml:6:8: options.mix: must be random or interleaved, got \"shuffled\""},
		{"negative users", head + "options:\n  users: -1\n", "bad.yaml:6:10: options.users: must be >= 1, got -1"},
	}
	// body_file paths are relative to the scenario's directory.
	name := filepath.Join("testdata", "bad.yaml")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := scenarios.Parse(name, []byte(tt.src), scenarios.Overrides{})
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, nil; want error %q", tt.src, p, tt.want)
			}
			want := strings.ReplaceAll(tt.want, "bad.yaml", name)
			if err.Error() != want {
				t.Errorf("Parse(%q) = %q; want %q", tt.src, err, want)
			}
			if p != nil {
				t.Errorf("Parse(%q) returned a plan with its error", tt.src)
			}
			if !scenarios.IsLoadError(err) {
				t.Errorf("IsLoadError(Parse(%q)) = false; want true", tt.src)
			}
		})
	}
}

func TestParse_OverrideErrors(t *testing.T) {
	t.Parallel()
	const src = "baseline: 10\nshape: burst\nrequests:\n  - url: /\n"
	tests := []struct {
		ov   scenarios.Overrides
		want string
	}{
		{scenarios.Overrides{Baseline: "lots"}, `o.yaml:1:11: baseline: not a rate (want req/s like 300, or a multiple of the baseline like 5x or 500%), got "lots"`},
		{scenarios.Overrides{Baseline: "-3"}, `o.yaml:1:11: baseline: must be >= 0, got -3`},
		{scenarios.Overrides{Target: "localhost:8080"}, `o.yaml:1:1: --target: must be an http(s) URL like http://127.0.0.1:8080, or demo, got "localhost:8080"`},
		{scenarios.Overrides{TimeScale: -1}, "o.yaml:1:1: time_scale: must be > 0, got -1"},
		{scenarios.Overrides{Duration: 25 * time.Hour}, "o.yaml:1:1: stages: the run would last 25h0m0s after time scaling; the limit is 24h0m0s (raise time_scale)"},
	}
	for _, tt := range tests {
		_, err := scenarios.Parse("o.yaml", []byte(src), tt.ov)
		if err == nil || err.Error() != tt.want || !scenarios.IsLoadError(err) {
			t.Errorf("Parse(%+v) = %v; want load error %q", tt.ov, err, tt.want)
		}
	}
}

// TestParse_HugeAfterScaling: a tiny time scale stretches segments past what
// a time.Duration holds; that must be an error about the stages, never a
// wrapped-around short curve.
func TestParse_HugeAfterScaling(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 2, 3, 4} {
		src := "baseline: 10\nstages:\n" + strings.Repeat("  - hold: {duration: 1h}\n", n) + "time_scale: 0.000000001\nrequests:\n  - url: /\n"
		_, err := scenarios.Parse("h.yaml", []byte(src), scenarios.Overrides{})
		if err == nil || !scenarios.IsLoadError(err) || !strings.HasPrefix(err.Error(), "h.yaml:3:3: stages: ") {
			t.Errorf("Parse(%q) = %v; want a load error on stages", src, err)
		}
	}
}

// TestParse_ErrorsInFileOrder checks that every problem is reported, sorted
// by position, whatever order validation finds them in.
func TestParse_ErrorsInFileOrder(t *testing.T) {
	t.Parallel()
	src := `slo:
  sustain: 0
  error_rate: 2
options:
  window: 1h
  connections: 0
  users: -2
requests:
  - url: /
    method: nope
  - url: /{{.Nope}}
    layer: cloud
baseline: fast
stages:
  - ramp: {to: -1, duration: 1s}
`
	_, err := scenarios.Parse("m.yaml", []byte(src), scenarios.Overrides{})
	want := []string{
		"m.yaml:3:15: slo.error_rate: must be between 0% and 100%, got 2",
		"m.yaml:5:11: options.window: must be between 100ms and 1m, got 1h",
		"m.yaml:7:10: options.users: must be >= 1, got -2",
		`m.yaml:10:13: requests[0].method: must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, got "nope"`,
		"m.yaml:11:10: requests[1].url: bad template: can't evaluate field Nope in type *scenarios.Vars",
		`m.yaml:12:12: requests[1].layer: must be one of database, backend, frontend, third-party, auth, got "cloud"`,
		`m.yaml:13:11: baseline: not a rate (want req/s like 300, or a multiple of the baseline like 5x or 500%), got "fast"`,
		"m.yaml:15:16: stages[0].ramp.to: must be >= 0, got -1",
	}
	var le *scenarios.LoadError
	if !errors.As(err, &le) {
		t.Fatalf("Parse(%q) = %v; want a *LoadError", src, err)
	}
	var got []string
	for _, fe := range le.Errs {
		got = append(got, fe.Error())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Parse(%q) errors:\n%s\nwant:\n%s", src, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if err.Error() != strings.Join(want, "\n") {
		t.Errorf("Parse(%q).Error() = %q; want the errors one a line", src, err)
	}
	for i := 1; i < len(le.Errs); i++ {
		a, b := le.Errs[i-1], le.Errs[i]
		if a.Line > b.Line || a.Line == b.Line && a.Column > b.Column {
			t.Errorf("error %d at %d:%d comes after error %d at %d:%d; want file order", i-1, a.Line, a.Column, i, b.Line, b.Column)
		}
	}
	if fe := le.Errs[len(le.Errs)-1]; fe.Field != "stages[0].ramp.to" || fe.Line != 15 || fe.Column != 16 || fe.File != "m.yaml" || fe.Msg != "must be >= 0, got -1" {
		t.Errorf("last FieldError = %+v; want stages[0].ramp.to at m.yaml:15:16", fe)
	}
}

func TestFieldError_Error(t *testing.T) {
	t.Parallel()
	tests := []struct {
		e    scenarios.FieldError
		want string
	}{
		{scenarios.FieldError{File: "a.yaml", Line: 14, Column: 5, Field: "stages[2].ramp.to", Msg: "must be >= 0, got -5"}, "a.yaml:14:5: stages[2].ramp.to: must be >= 0, got -5"},
		{scenarios.FieldError{File: "a.yaml", Line: 1, Column: 1, Msg: "syntax"}, "a.yaml:1:1: syntax"},
		{scenarios.FieldError{File: "a.yaml", Msg: "empty scenario"}, "a.yaml: empty scenario"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("%+v.Error() = %q; want %q", tt.e, got, tt.want)
		}
	}
}

func TestParse_TooLarge(t *testing.T) {
	t.Parallel()
	src := "baseline: 10\nshape: burst\nrequests:\n  - url: /\n" + strings.Repeat("#", 1<<20)
	_, err := scenarios.Parse("big.yaml", []byte(src), scenarios.Overrides{})
	want := fmt.Sprintf("big.yaml: file too large (%d bytes, limit 1 MiB)", len(src))
	if err == nil || err.Error() != want || !scenarios.IsLoadError(err) {
		t.Errorf("Parse(%d bytes) = %v; want load error %q", len(src), err, want)
	}
}

func TestParse_Valid(t *testing.T) {
	t.Parallel()
	const head = "baseline: 10\nshape: burst\n"
	tests := []struct {
		name string
		src  string
	}{
		{"wide RandInt", head + "requests:\n  - url: '/{{.RandInt 0 9223372036854775807}}'\n"},
		{"absolute url", head + "requests:\n  - url: https://cdn.example/x.js\n"},
		{"all methods", head + "requests:\n  - {url: /, method: get}\n  - {url: /, method: HEAD}\n  - {url: /, method: POST}\n  - {url: /, method: PUT}\n  - {url: /, method: PATCH}\n  - {url: /, method: DELETE}\n  - {url: /, method: OPTIONS}\n"},
		{"all layers", head + "requests:\n  - {name: a, url: /, layer: database}\n  - {name: b, url: /, layer: backend}\n  - {name: c, url: /, layer: frontend}\n  - {name: d, url: /, layer: third-party}\n  - {name: e, url: /, layer: auth}\n"},
		{"quoted rates", "baseline: \"10\"\nstages:\n  - ramp: {to: '500%', duration: '90'}\nrequests:\n  - url: /\n"},
		{"demo target", head + "target: demo\nrequests:\n  - url: /\n"},
		{"zero-rate hold in the middle", "baseline: 10\nstages:\n  - hold: {duration: 1s}\n  - hold: {rate: 0, duration: 1s}\n  - hold: {rate: 1x, duration: 1s}\nrequests:\n  - url: /\n"},
		{"long run at time scale", "baseline: 10\ntime_scale: 1440\nstages:\n  - wave: {low: 1x, high: 3x, period: 24h, duration: 168h}\nrequests:\n  - url: /\n"},
		{"slo per default name", head + "requests:\n  - url: /a\nslo:\n  requests:\n    GET /a: {p99: 2s}\n"},
		{"window edges", head + "requests:\n  - url: /\noptions: {window: 100ms, connections: 100000, timeout: 10m}\n"},
	}
	for _, tt := range tests {
		p, err := scenarios.Parse("v.yaml", []byte(tt.src), scenarios.Overrides{})
		if err != nil {
			t.Errorf("%s: Parse(%q) = %v; want a plan", tt.name, tt.src, err)
			continue
		}
		if p.Curve == nil || p.Curve.Total() == 0 || len(p.Requests) == 0 {
			t.Errorf("%s: Parse(%q) = %+v; want a curve that plans requests", tt.name, tt.src, p)
		}
	}
}

func TestIsLayer(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		want bool
	}{{"database", true}, {"backend", true}, {"frontend", true}, {"third-party", true}, {"auth", true}, {"cache", false}, {"", false}, {"Database", false}} {
		if got := scenarios.IsLayer(tt.name); got != tt.want {
			t.Errorf("IsLayer(%q) = %t; want %t", tt.name, got, tt.want)
		}
	}
}

func TestFormatRate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		r    float64
		want string
	}{{0, "0.00"}, {1.234, "1.23"}, {9.999, "10.00"}, {10, "10.0"}, {12.34, "12.3"}, {99.94, "99.9"}, {100, "100"}, {1234.5, "1235"}} {
		if got := scenarios.FormatRate(tt.r); got != tt.want {
			t.Errorf("FormatRate(%v) = %q; want %q", tt.r, got, tt.want)
		}
	}
}
