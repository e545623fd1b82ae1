package scenarios_test

import (
	"fmt"
	"math"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/spikeload/spike/scenarios"
)

// Curve must be usable as a vegeta Pacer.
var _ vegeta.Pacer = (*scenarios.Curve)(nil)

func hold(r float64, d time.Duration) scenarios.Segment {
	return scenarios.Segment{Kind: "hold", From: r, To: r, Duration: d}
}

func ramp(from, to float64, d time.Duration) scenarios.Segment {
	return scenarios.Segment{Kind: "ramp", From: from, To: to, Duration: d}
}

func spike(from, to float64, d time.Duration) scenarios.Segment {
	return scenarios.Segment{Kind: "spike", From: from, To: to, Duration: d}
}

func decay(from, to float64, half, d time.Duration) scenarios.Segment {
	return scenarios.Segment{Kind: "decay", From: from, To: to, HalfLife: half, Duration: d}
}

func wave(low, high float64, period, d time.Duration) scenarios.Segment {
	return scenarios.Segment{Kind: "wave", Low: low, High: high, Period: period, Duration: d}
}

func mustCurve(tb testing.TB, segs ...scenarios.Segment) *scenarios.Curve {
	tb.Helper()
	c, err := scenarios.NewCurve(segs)
	if err != nil {
		tb.Fatalf("NewCurve(%v) = %v", segs, err)
	}
	return c
}

type namedCurve struct {
	name string
	c    *scenarios.Curve
}

const sec = time.Second

// testCurves covers every segment kind, zero-rate stretches, fractional
// rates and every preset at two baselines.
func testCurves(tb testing.TB) []namedCurve {
	tb.Helper()
	cs := []namedCurve{
		{"hold", mustCurve(tb, hold(100, 10*sec))},
		{"hold fractional", mustCurve(tb, hold(0.3, 20*sec))},
		{"hold odd", mustCurve(tb, hold(33.3, 7300*time.Millisecond))},
		{"ramp up from 0", mustCurve(tb, ramp(0, 200, 10*sec))},
		{"ramp down to 0", mustCurve(tb, ramp(300, 0, 7500*time.Millisecond))},
		{"ramp down", mustCurve(tb, ramp(300, 10, 7500*time.Millisecond))},
		{"ramp fractional", mustCurve(tb, ramp(0.5, 2.7, 30*sec))},
		{"ramp tiny slope", mustCurve(tb, ramp(100, 100.000001, 10*sec))},
		{"spike", mustCurve(tb, hold(10, 2*sec), spike(10, 500, sec), hold(500, 3*sec), spike(500, 20, 250*time.Millisecond), hold(20, 2*sec))},
		{"decay down", mustCurve(tb, decay(1000, 50, 2*sec, 20*sec))},
		{"decay to 0", mustCurve(tb, decay(400, 0, 1500*time.Millisecond, 12*sec))},
		{"decay up", mustCurve(tb, decay(0, 100, sec, 5*sec))},
		{"decay flat", mustCurve(tb, decay(40, 40, sec, 5*sec))},
		{"wave", mustCurve(tb, wave(10, 200, 4*sec, 10*sec))},
		{"wave from 0", mustCurve(tb, wave(0, 50, 3*sec, 7300*time.Millisecond))},
		{"wave short", mustCurve(tb, wave(5, 80, 10*sec, 3*sec))},
		{"wave flat", mustCurve(tb, wave(25, 25, 2*sec, 4*sec))},
		{"zero hold between ramps", mustCurve(tb, ramp(0, 100, 3*sec), hold(0, 2*sec), ramp(0, 100, 3*sec))},
		{"zero holds around", mustCurve(tb, hold(0, 1500*time.Millisecond), hold(50, 2*sec), hold(0, 3*sec), hold(50, 2*sec), hold(0, sec))},
		{"zero decay and wave", mustCurve(tb, wave(0, 60, 2*sec, 2*sec), decay(0, 0, sec, 2*sec), ramp(60, 0, 2*sec), wave(0, 0, sec, sec), hold(7, 3*sec))},
		{"empty segments", mustCurve(tb, hold(10, 0), ramp(0, 50, 4*sec), ramp(50, 900, 0), hold(50, 2*sec))},
		{"mixed", mustCurve(tb, hold(20, 3*sec), ramp(20, 160, 6*sec), spike(160, 400, 500*time.Millisecond), hold(400, 2*sec), decay(400, 20, 1200*time.Millisecond, 8*sec), wave(20, 90, 5*sec, 11*sec))},
	}
	for _, p := range scenarios.Presets() {
		for _, b := range []float64{20, 3.7} {
			segs := p.Segments(b, p.Peak*b, p.Duration)
			cs = append(cs, namedCurve{fmt.Sprintf("preset %s b=%v", p.Name, b), mustCurve(tb, segs...)})
		}
	}
	return cs
}

// simpson integrates RateAt over [a, b] (inside one segment) with n steps.
func simpson(c *scenarios.Curve, a, b float64, n int) float64 {
	if b <= a {
		return 0
	}
	end := b - 1e-9 // RateAt at a segment's end belongs to the next segment
	f := func(x float64) float64 {
		if x > end {
			x = end
		}
		return c.RateAt(time.Duration(math.Round(x * 1e9)))
	}
	h := (b - a) / float64(n)
	sum := f(a) + f(b)
	for k := 1; k < n; k++ {
		w := 2.0
		if k%2 == 1 {
			w = 4
		}
		sum += w * f(a+float64(k)*h)
	}
	return sum * h / 3
}

func TestCurve_IntegralMatchesRate(t *testing.T) {
	t.Parallel()
	for _, tc := range testCurves(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := tc.c
			tol := 1e-6 * math.Max(1, c.Integral(c.Duration()))
			acc := 0.0
			for _, s := range c.Segments() {
				a := s.Start.Seconds()
				// Check at a few points inside the segment and at its end.
				for _, f := range []float64{0.13, 0.5, 0.77, 1} {
					b := a + f*s.Duration.Seconds()
					at := time.Duration(math.Round(b * 1e9))
					want := acc + simpson(c, a, at.Seconds(), 4000)
					if f == 1 {
						at = s.Start + s.Duration
					}
					if got := c.Integral(at); math.Abs(got-want) > tol {
						t.Errorf("Integral(%s) = %.9f; want %.9f (Simpson)", at, got, want)
					}
				}
				acc += simpson(c, a, (s.Start + s.Duration).Seconds(), 4000)
			}
			if got := c.Integral(c.Duration()); math.Abs(got-acc) > tol {
				t.Errorf("Integral(%s) = %.9f; want %.9f (Simpson)", c.Duration(), got, acc)
			}
			if got := c.Integral(c.Duration() + time.Hour); math.Abs(got-acc) > tol {
				t.Errorf("Integral(%s) = %.9f; want %.9f (the whole area)", c.Duration()+time.Hour, got, acc)
			}
			if got := c.Integral(-sec); got != 0 {
				t.Errorf("Integral(-1s) = %v; want 0", got)
			}
			if got, want := c.Total(), uint64(math.Ceil(acc-1e-6)); got != want {
				t.Errorf("Total() = %d; want %d (area %.6f)", got, want, acc)
			}
		})
	}
}

func TestCurve_TimeOf(t *testing.T) {
	t.Parallel()
	for _, tc := range testCurves(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := tc.c
			n := c.Total()
			if n == 0 {
				t.Fatalf("Total() = 0; want > 0")
			}
			peak, _ := c.Peak()
			// Integral(TimeOf(i)) may fall short of i by what the rate adds
			// in the nanosecond lost to truncation, plus float noise.
			tol := 1e-6 + 2e-9*peak
			prev := time.Duration(0)
			for i := uint64(0); i < n; i++ {
				ti := c.TimeOf(i)
				if ti < 0 || ti > c.Duration() {
					t.Fatalf("TimeOf(%d) = %s; want within [0, %s]", i, ti, c.Duration())
				}
				if ti < prev {
					t.Fatalf("TimeOf(%d) = %s; want >= TimeOf(%d) = %s", i, ti, i-1, prev)
				}
				prev = ti
				if got := c.Integral(ti); math.Abs(got-float64(i)) > tol {
					t.Fatalf("Integral(TimeOf(%d)) = Integral(%s) = %.9f; want %d ± %g", i, ti, got, i, tol)
				}
				// Request i is the first one in [T(i), T(i)+1ns), or shares it.
				if before, upto := c.PlannedIn(0, ti), c.PlannedIn(0, ti+1); before > i || upto <= i {
					t.Fatalf("TimeOf(%d) = %s, PlannedIn(0, %s) = %d, PlannedIn(0, %s) = %d; want <= %d and > %d", i, ti, ti, before, ti+1, upto, i, i)
				}
			}
			for _, i := range []uint64{n, n + 1, math.MaxUint64} {
				if got := c.TimeOf(i); got != c.Duration() {
					t.Errorf("TimeOf(%d) = %s; want %s (the curve's end)", i, got, c.Duration())
				}
			}
		})
	}
}

// TestCurve_Exactness is the curve's promise: the requests whose planned
// time falls in a window are the window's area to within ±1, and exactly
// what PlannedIn reports.
func TestCurve_Exactness(t *testing.T) {
	t.Parallel()
	windows := []struct {
		width, offset time.Duration
	}{
		{time.Second, 0},
		{250 * time.Millisecond, 0},
		{time.Second, 333 * time.Millisecond},
		{100 * time.Millisecond, 7 * time.Millisecond},
	}
	for _, tc := range testCurves(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := tc.c
			n := c.Total()
			times := make([]time.Duration, n)
			for i := range times {
				times[i] = c.TimeOf(uint64(i))
			}
			for _, w := range windows {
				// Windows [offset + k·width, offset + (k+1)·width), starting
				// before 0 when offset > 0, to past the end.
				start := w.offset
				if start > 0 {
					start -= w.width
				}
				var counted uint64
				for a := start; a < c.Duration()+w.width; a += w.width {
					b := a + w.width
					var got uint64
					for _, ti := range times {
						if ti >= a && ti < b {
							got++
						}
					}
					counted += got
					area := c.Integral(b) - c.Integral(a)
					if math.Abs(float64(got)-area) > 1 {
						t.Errorf("window [%s, %s): %d requests planned; want the area %.6f ± 1", a, b, got, area)
					}
					if p := c.PlannedIn(a, b); p != got {
						t.Errorf("PlannedIn(%s, %s) = %d; want %d (requests i with TimeOf(i) in the window)", a, b, p, got)
					}
				}
				if counted != n {
					t.Errorf("windows of %s from %s hold %d requests; want Total() = %d", w.width, start, counted, n)
				}
			}
		})
	}
}

func TestCurve_Pace(t *testing.T) {
	t.Parallel()
	// 10 req/s for 1s: request i is due at i·100ms.
	c := mustCurve(t, hold(10, sec))
	ms := time.Millisecond
	tests := []struct {
		elapsed time.Duration
		hits    uint64
		wait    time.Duration
		stop    bool
	}{
		{0, 0, 0, false},
		{0, 1, 100 * ms, false},
		{50 * ms, 1, 50 * ms, false},
		{100 * ms, 1, 0, false},
		{300 * ms, 1, 0, false}, // behind: send now
		{250 * ms, 5, 250 * ms, false},
		{0, 9, 900 * ms, false},
		{900 * ms, 9, 0, false},
		{0, 10, 0, true}, // every planned request sent
		{500 * ms, 11, 0, true},
		{sec, 10, 0, true},
		{sec, 9, 0, false},             // late but within the grace
		{sec + StopGrace, 9, 0, false}, // exactly at the grace's end
		{sec + StopGrace + 1, 9, 0, true},
		{time.Hour, 0, 0, true},
	}
	for _, tt := range tests {
		wait, stop := c.Pace(tt.elapsed, tt.hits)
		if wait != tt.wait || stop != tt.stop {
			t.Errorf("Pace(%s, %d) = (%s, %t); want (%s, %t)", tt.elapsed, tt.hits, wait, stop, tt.wait, tt.stop)
		}
	}
}

// StopGrace is re-exported for the table above.
const StopGrace = scenarios.StopGrace

func TestCurve_PaceFollowsTimeOf(t *testing.T) {
	t.Parallel()
	for _, tc := range testCurves(t) {
		c := tc.c
		n := c.Total()
		for _, i := range []uint64{0, 1, n / 3, n / 2, n - 1} {
			ti := c.TimeOf(i)
			for _, elapsed := range []time.Duration{0, ti / 2, ti, ti + time.Millisecond, c.Duration()} {
				wait, stop := c.Pace(elapsed, i)
				want := max(ti-elapsed, 0)
				if stop || wait != want {
					t.Errorf("%s: Pace(%s, %d) = (%s, %t); want (%s, false)", tc.name, elapsed, i, wait, stop, want)
				}
			}
		}
		if wait, stop := c.Pace(0, n); !stop || wait != 0 {
			t.Errorf("%s: Pace(0, Total()=%d) = (%s, %t); want (0s, true)", tc.name, n, wait, stop)
		}
		late := c.Duration() + StopGrace + time.Nanosecond
		if wait, stop := c.Pace(late, 0); !stop || wait != 0 {
			t.Errorf("%s: Pace(%s, 0) = (%s, %t); want (0s, true)", tc.name, late, wait, stop)
		}
	}
}

func TestCurve_Rate(t *testing.T) {
	t.Parallel()
	c := mustCurve(t, hold(10, 2*sec), ramp(10, 110, 10*sec), decay(110, 10, 2*sec, 4*sec), wave(20, 60, 4*sec, 8*sec))
	ms := time.Millisecond
	tests := []struct {
		at   time.Duration
		want float64
	}{
		{-sec, 0},
		{0, 10},
		{sec, 10},
		{2 * sec, 10},
		{7 * sec, 60},
		{12*sec - 1, 110},
		{12 * sec, 110},
		{14 * sec, 60}, // one half-life: halfway to 10
		{16*sec - ms, 10 + 100*math.Exp2(-3.999/2)}, // nearly two half-lives
		{16 * sec, 20}, // the wave starts at low
		{17 * sec, 40},
		{18 * sec, 60},
		{20 * sec, 20},
		{22 * sec, 60},
		{24 * sec, 0}, // the end
		{time.Hour, 0},
	}
	for _, tt := range tests {
		if got := c.RateAt(tt.at); math.Abs(got-tt.want) > 1e-6 {
			t.Errorf("RateAt(%s) = %.7f; want %.7f", tt.at, got, tt.want)
		}
		if got := c.Rate(tt.at); math.Abs(got-tt.want) > 1e-6 {
			t.Errorf("Rate(%s) = %.7f; want %.7f", tt.at, got, tt.want)
		}
	}
}

func TestCurve_Peak(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	tests := []struct {
		name string
		segs []scenarios.Segment
		rate float64
		at   time.Duration
	}{
		{"hold", []scenarios.Segment{hold(30, 5*sec)}, 30, 0},
		{"ramp up peaks at its end", []scenarios.Segment{ramp(10, 100, 5*sec)}, 100, 5 * sec},
		{"ramp down peaks at its start", []scenarios.Segment{hold(5, sec), ramp(100, 10, 5*sec)}, 100, sec},
		{"ramp then hold: first reached", []scenarios.Segment{ramp(10, 100, 5*sec), hold(100, 5*sec)}, 100, 5 * sec},
		{"decay", []scenarios.Segment{hold(10, 2*sec), decay(80, 10, sec, 5*sec)}, 80, 2 * sec},
		{"rising decay", []scenarios.Segment{decay(0, 80, sec, 2*sec)}, 60, 2 * sec},
		{"wave crest", []scenarios.Segment{wave(10, 200, 4*sec, 10*sec)}, 200, 2 * sec},
		{"wave after hold", []scenarios.Segment{hold(50, 3*sec), wave(10, 200, 4*sec, 10*sec)}, 200, 5 * sec},
		{"wave shorter than half a period", []scenarios.Segment{wave(10, 210, 10*sec, 2500*ms)}, 110, 2500 * ms},
		{"fast wave", []scenarios.Segment{wave(0, 7, time.Nanosecond, 24*time.Hour)}, 7, 0},
		{"spike", []scenarios.Segment{hold(10, 2*sec), spike(10, 500, sec), hold(500, 3*sec)}, 500, 3 * sec},
		{"zero", []scenarios.Segment{hold(0, sec)}, 0, 0},
		{"empty", nil, 0, 0},
	}
	for _, tt := range tests {
		c := mustCurve(t, tt.segs...)
		rate, at := c.Peak()
		// The fast wave's crest lies half a nanosecond in: either side will do.
		if math.Abs(rate-tt.rate) > 1e-9 || (at != tt.at && tt.name != "fast wave") {
			t.Errorf("%s: Peak() = (%v, %s); want (%v, %s)", tt.name, rate, at, tt.rate, tt.at)
		}
	}
}

func TestPresets(t *testing.T) {
	t.Parallel()
	const b = 20.0
	// decayArea is the area under a decay from p to b over d with half-life h.
	decayArea := func(p, b float64, h, d time.Duration) float64 {
		l := math.Ln2 / h.Seconds()
		return b*d.Seconds() + (p-b)/l*(1-math.Exp(-l*d.Seconds()))
	}
	min := time.Minute
	tests := []struct {
		name     string
		peak     float64 // multiple of the baseline
		duration time.Duration
		peakAt   time.Duration
		area     float64 // requests planned at baseline b
	}{
		// 15s at b, 1s rise (3b), 24s at 5b, 1s fall (3b), 19s at b.
		{"burst", 5, min, 16 * sec, b * (15 + 3 + 120 + 3 + 19)},
		// 6s at b, 30s ramp to 6b, 36s at 6b, 48s decay with half-life 18s.
		{"hackernews", 6, 2 * min, 36 * sec, b*(6+30*3.5+36*6) + decayArea(6*b, b, 18*sec, 48*sec)},
		// 12s at b, 9.6s ramp to 4b, 98.4s decay with half-life 24s.
		{"newsletter", 4, 2 * min, 21600 * time.Millisecond, b*(12+9.6*2.5) + decayArea(4*b, b, 24*sec, 98400*time.Millisecond)},
		// 12s at b, 48s ramp to 8b, 24s at 8b, 36s decay with half-life 9.6s.
		{"producthunt", 8, 2 * min, min, b*(12+48*4.5+24*8) + decayArea(8*b, b, 9600*time.Millisecond, 36*sec)},
		// One ramp from b to 10b.
		{"ramp", 10, 2 * min, 2 * min, b * 120 * 5.5},
		// Ten 12s steps: b, 2b, …, 10b.
		{"tenx", 10, 2 * min, 108 * sec, b * 12 * 55},
		// 12s at b, 1s rise, 107s decay with half-life 14.4s.
		{"viral", 10, 2 * min, 13 * sec, b*(12+5.5) + decayArea(10*b, b, 14400*time.Millisecond, 107*sec)},
	}
	presets := scenarios.Presets()
	if len(presets) != len(tests) {
		t.Fatalf("Presets() has %d presets; want %d", len(presets), len(tests))
	}
	for i, tt := range tests {
		p := presets[i]
		if p.Name != tt.name {
			t.Fatalf("Presets()[%d].Name = %q; want %q (sorted by name)", i, p.Name, tt.name)
		}
		if p.Summary == "" {
			t.Errorf("preset %s: Summary is empty", p.Name)
		}
		if p.Peak != tt.peak || p.Duration != tt.duration {
			t.Errorf("preset %s: Peak, Duration = %v, %s; want %v, %s", p.Name, p.Peak, p.Duration, tt.peak, tt.duration)
		}
		c := mustCurve(t, p.Segments(b, p.Peak*b, p.Duration)...)
		if c.Duration() != tt.duration {
			t.Errorf("preset %s: Curve.Duration() = %s; want %s", p.Name, c.Duration(), tt.duration)
		}
		rate, at := c.Peak()
		if math.Abs(rate-tt.peak*b) > 1e-9 || at != tt.peakAt {
			t.Errorf("preset %s: Peak() = (%v, %s); want (%v, %s)", p.Name, rate, at, tt.peak*b, tt.peakAt)
		}
		if math.Abs(c.Integral(c.Duration())-tt.area) > 1e-6*tt.area {
			t.Errorf("preset %s: Integral(%s) = %.4f; want the area %.4f", p.Name, c.Duration(), c.Integral(c.Duration()), tt.area)
		}
		if got := float64(c.Total()); math.Abs(got-tt.area) > 1 {
			t.Errorf("preset %s: Total() = %v; want the area %.4f ± 1", p.Name, got, tt.area)
		}
		// The curve starts and, for all but ramp and tenx, ends near the baseline.
		if r := c.RateAt(0); math.Abs(r-b) > 1e-9 {
			t.Errorf("preset %s: RateAt(0) = %v; want the baseline %v", p.Name, r, b)
		}
		// Other lengths and peaks rescale the shape.
		c2 := mustCurve(t, p.Segments(b, 3*b, 10*min)...)
		if rate, _ := c2.Peak(); c2.Duration() != 10*min || math.Abs(rate-3*b) > 1e-9 {
			t.Errorf("preset %s: Segments(%v, %v, 10m): Duration() = %s, Peak() = %v; want 10m0s, %v", p.Name, b, 3*b, c2.Duration(), rate, 3*b)
		}
		q, err := scenarios.LookupPreset(tt.name)
		if err != nil || q.Name != tt.name || q.Peak != tt.peak {
			t.Errorf("LookupPreset(%q) = (%s, %v); want the preset", tt.name, q.Name, err)
		}
	}
	if _, err := scenarios.LookupPreset("nope"); err == nil {
		t.Errorf("LookupPreset(%q) = nil error; want an error", "nope")
	} else if want := `unknown preset "nope" (known: [burst hackernews newsletter producthunt ramp tenx viral])`; err.Error() != want {
		t.Errorf("LookupPreset(%q) = %q; want %q", "nope", err, want)
	}
}

func TestNewCurve(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		segs []scenarios.Segment
		want string
	}{
		{"negative duration", []scenarios.Segment{hold(1, sec), hold(1, -sec)}, "segment 1: negative duration -1s"},
		{"zero half-life", []scenarios.Segment{decay(10, 1, 0, sec)}, "segment 0: decay half-life must be > 0, got 0s"},
		{"zero period", []scenarios.Segment{hold(1, sec), wave(1, 5, 0, sec)}, "segment 1: wave period must be > 0, got 0s"},
		{"too long", []scenarios.Segment{hold(1, math.MaxInt64/2), hold(1, math.MaxInt64/2), hold(1, 2)}, "segment 2: the curve is too long"},
	}
	for _, tt := range tests {
		c, err := scenarios.NewCurve(tt.segs)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: NewCurve(%v) = (%v, %v); want error %q", tt.name, tt.segs, c, err, tt.want)
		}
	}
}

func TestCurve_Segments(t *testing.T) {
	t.Parallel()
	in := []scenarios.Segment{hold(5, 2*sec), ramp(5, 50, 3*sec), wave(1, 2, sec, 4*sec)}
	in[1].Start = time.Hour // recomputed
	c := mustCurve(t, in...)
	segs := c.Segments()
	wantStart := []time.Duration{0, 2 * sec, 5 * sec}
	for i, s := range segs {
		if s.Start != wantStart[i] || s.Kind != in[i].Kind {
			t.Errorf("Segments()[%d] = %s at %s; want %s at %s", i, s.Kind, s.Start, in[i].Kind, wantStart[i])
		}
	}
	segs[0].From = 1e6
	if r := c.RateAt(0); r != 5 {
		t.Errorf("after changing the copy Segments() returned, RateAt(0) = %v; want 5", r)
	}
	if got, want := c.String(), "Curve{3 segments, 9s, peak 50.0 req/s, 99 requests}"; got != want {
		t.Errorf("String() = %q; want %q", got, want)
	}
}

func TestCurve_PlannedIn(t *testing.T) {
	t.Parallel()
	c := mustCurve(t, hold(10, 2*sec), hold(0, sec), ramp(0, 20, 2*sec))
	ms := time.Millisecond
	tests := []struct {
		a, b time.Duration
		want uint64
	}{
		{0, sec, 10},
		{0, 2 * sec, 20},
		{2 * sec, 3 * sec, 0},
		{3 * sec, 4 * sec, 5},
		{4 * sec, 5 * sec, 15},
		{-time.Hour, time.Hour, 40},
		{50 * ms, 150 * ms, 1},
		{100 * ms, 200 * ms, 1},
		{100 * ms, 100 * ms, 0},
		{sec, 0, 0}, // reversed
		{10 * sec, 20 * sec, 0},
	}
	for _, tt := range tests {
		if got := c.PlannedIn(tt.a, tt.b); got != tt.want {
			t.Errorf("PlannedIn(%s, %s) = %d; want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestCurve_Empty(t *testing.T) {
	t.Parallel()
	c := mustCurve(t)
	if c.Duration() != 0 || c.Total() != 0 || c.Integral(sec) != 0 || c.RateAt(0) != 0 || c.TimeOf(0) != 0 {
		t.Errorf("empty curve: Duration %s, Total %d, Integral(1s) %v, RateAt(0) %v, TimeOf(0) %s; want all zero",
			c.Duration(), c.Total(), c.Integral(sec), c.RateAt(0), c.TimeOf(0))
	}
	if wait, stop := c.Pace(0, 0); !stop || wait != 0 {
		t.Errorf("empty curve: Pace(0, 0) = (%s, %t); want (0s, true)", wait, stop)
	}
}

func BenchmarkCurve_TimeOf(b *testing.B) {
	curves := []struct {
		name string
		seg  scenarios.Segment
	}{
		{"ramp", ramp(10, 1000, time.Minute)},
		{"decay", decay(1000, 10, 10*sec, time.Minute)},
		{"wave", wave(10, 1000, 15*sec, time.Minute)},
	}
	for _, cc := range curves {
		b.Run(cc.name, func(b *testing.B) {
			c := mustCurve(b, cc.seg)
			n := c.Total()
			b.ReportAllocs()
			var sink time.Duration
			i := uint64(0)
			for b.Loop() {
				sink += c.TimeOf(i)
				if i++; i == n {
					i = 0
				}
			}
			_ = sink
		})
	}
}

// TestCurve_Large checks sampled requests of curves at the limits: a day
// at up to MaxRate.
func TestCurve_Large(t *testing.T) {
	t.Parallel()
	day := scenarios.MaxDuration
	curves := []namedCurve{
		{"hold", mustCurve(t, hold(scenarios.MaxRate, day))},
		{"ramp", mustCurve(t, ramp(0, scenarios.MaxRate, day))},
		{"decay", mustCurve(t, decay(scenarios.MaxRate, 1, time.Hour, day))},
		{"wave", mustCurve(t, wave(0, scenarios.MaxRate, 7*time.Hour, day))},
		{"slow", mustCurve(t, hold(0.001, day), ramp(0.001, 0, day))},
	}
	for _, tc := range curves {
		c := tc.c
		n := c.Total()
		want := c.Integral(c.Duration())
		if math.Abs(float64(n)-want) > 1 {
			t.Errorf("%s: Total() = %d; want %.3f ± 1", tc.name, n, want)
		}
		prev := time.Duration(0)
		for _, i := range []uint64{0, 1, 2, n / 7, n / 3, n / 2, n - 3, n - 2, n - 1} {
			ti := c.TimeOf(i)
			if ti < prev || ti > c.Duration() {
				t.Errorf("%s: TimeOf(%d) = %s; want within [%s, %s]", tc.name, i, ti, prev, c.Duration())
			}
			prev = ti
			if before, upto := c.PlannedIn(0, ti), c.PlannedIn(0, ti+1); before > i || upto <= i {
				t.Errorf("%s: TimeOf(%d) = %s, PlannedIn(0, %s) = %d, PlannedIn(0, %s) = %d; want <= %d and > %d", tc.name, i, ti, ti, before, ti+1, upto, i, i)
			}
		}
	}
}
