package engine

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/spikeload/spike/scenarios"
)

// testPlan parses a scenario written inline.
func testPlan(t testing.TB, yaml string) *scenarios.Plan {
	t.Helper()
	p, err := scenarios.Parse("test.yaml", []byte(yaml), scenarios.Overrides{})
	if err != nil {
		t.Fatalf("scenarios.Parse: %v", err)
	}
	return p
}

const holdScenario = `
target: http://127.0.0.1:1
baseline: 100
stages:
  - hold: {rate: 100, duration: %s}
requests:
  - {name: a, url: /a, weight: 3}
  - {name: b, url: /b}
options: {timeout: 2s}
`

// feed records every planned request of the plan as if it returned after
// lat, calling CloseDue as simulated time passes.
func feed(r *Recorder, p *scenarios.Plan, lat time.Duration, every func(now time.Duration)) {
	total := p.Curve.Total()
	for seq := uint64(0); seq < total; seq++ {
		at := p.Curve.TimeOf(seq)
		s := Sample{Req: int(seq % 2), Seq: seq, Intended: at, Sent: at, End: at + lat, Code: 200, BytesIn: 10}
		if seq%50 == 0 {
			s.Code = 503
			s.Snippet = []byte("database pool exhausted\nmore")
		}
		r.Add(&s)
		if seq%25 == 0 {
			r.CloseDue(at)
			if every != nil {
				every(at)
			}
		}
	}
}

func TestRecorder_MemoryBounded(t *testing.T) {
	t.Parallel()
	p := testPlan(t, fmt.Sprintf(holdScenario, "120s"))
	r := NewRecorder(p)
	// While the run goes on, only the windows that can still receive results
	// hold live histograms: here the requests come back at once, so a window
	// closes as soon as its last planned request is in.
	feed(r, p, 5*time.Millisecond, func(now time.Duration) {
		if n := r.OpenWindows(); n > 2 {
			t.Fatalf("at %s: %d windows open; want at most 2", now, n)
		}
	})
	windows, totals := r.Finish()
	if len(windows) != 120 {
		t.Fatalf("got %d windows; want 120", len(windows))
	}
	if r.MaxOpenWindows() > 2 {
		t.Errorf("MaxOpenWindows = %d; want <= 2", r.MaxOpenWindows())
	}
	// Histograms are recycled through the pool, so the pool never grows past
	// what the open windows needed at once.
	if n := len(r.pool); n > 2*(2+len(p.Requests)) {
		t.Errorf("histogram pool holds %d; want a handful", n)
	}
	if totals[0].Count+totals[1].Count != p.Curve.Total() {
		t.Errorf("totals count %d+%d; want %d", totals[0].Count, totals[1].Count, p.Curve.Total())
	}
}

func TestRecorder_OpenWindowsBoundedBySlowRequests(t *testing.T) {
	t.Parallel()
	p := testPlan(t, fmt.Sprintf(holdScenario, "60s"))
	r := NewRecorder(p)
	// Requests that take 1.5 s keep about two windows open; the recorder
	// never holds more than timeout+grace worth of windows.
	bound := int((p.Options.Timeout+2*time.Second+scenarios.StopGrace)/p.Options.Window) + 2
	total := p.Curve.Total()
	var pending []Sample
	for seq := uint64(0); seq < total; seq++ {
		at := p.Curve.TimeOf(seq)
		pending = append(pending, Sample{Req: 0, Seq: seq, Intended: at, Sent: at, End: at + 1500*time.Millisecond, Code: 200})
		for len(pending) > 0 && pending[0].End <= at {
			r.Add(&pending[0])
			pending = pending[1:]
		}
		r.CloseDue(at)
		if n := r.OpenWindows(); n > bound {
			t.Fatalf("at %s: %d windows open; want at most %d", at, n, bound)
		}
	}
	for i := range pending {
		r.Add(&pending[i])
	}
	windows, _ := r.Finish()
	for _, w := range windows {
		if w.Sent != w.Planned {
			t.Errorf("window %d: sent %d, planned %d", w.Index, w.Sent, w.Planned)
		}
	}
}

func TestRecorder_Windows(t *testing.T) {
	t.Parallel()
	p := testPlan(t, `
target: http://127.0.0.1:1
baseline: 10
stages:
  - ramp: {from: 10, to: 200, duration: 10s}
requests:
  - {name: a, url: /a}
  - {name: b, url: /b}
`)
	r := NewRecorder(p)
	feed(r, p, 20*time.Millisecond, nil)
	windows, totals := r.Finish()
	if len(windows) != 10 {
		t.Fatalf("got %d windows; want 10", len(windows))
	}
	var sum uint64
	for i, w := range windows {
		sum += w.Planned
		want := p.Curve.PlannedIn(time.Duration(i)*time.Second, time.Duration(i+1)*time.Second)
		if w.Planned != want || w.Sent != want {
			t.Errorf("window %d: planned %d sent %d; want %d", i, w.Planned, w.Sent, want)
		}
		if w.GeneratorBound {
			t.Errorf("window %d flagged generator-bound with no lag", i)
		}
		if w.Latency.P50 < 19*time.Millisecond || w.Latency.P50 > 21*time.Millisecond {
			t.Errorf("window %d: p50 %s; want ~20ms", i, w.Latency.P50)
		}
		if w.OK+w.Errors != w.Sent {
			t.Errorf("window %d: ok %d + errors %d != sent %d", i, w.OK, w.Errors, w.Sent)
		}
		mid := (w.Start + w.End) / 2
		if rate := p.Curve.RateAt(mid); w.PlannedRate < rate*0.99 || w.PlannedRate > rate*1.01 {
			t.Errorf("window %d: planned rate %.1f; want %.1f", i, w.PlannedRate, rate)
		}
	}
	if sum != p.Curve.Total() {
		t.Errorf("planned sum %d; want %d", sum, p.Curve.Total())
	}
	a := totals[0]
	if len(a.ErrorSamples) == 0 || a.ErrorSamples[0].Message != "503 Service Unavailable: database pool exhausted" {
		t.Errorf("error samples = %+v; want the 503 body's first line", a.ErrorSamples)
	}
	if a.Statuses["503"] == 0 || a.Statuses["200"] == 0 {
		t.Errorf("statuses = %v", a.Statuses)
	}
}

func TestRecorder_GeneratorBound(t *testing.T) {
	t.Parallel()
	p := testPlan(t, fmt.Sprintf(holdScenario, "4s"))
	r := NewRecorder(p)
	total := p.Curve.Total()
	for seq := uint64(0); seq < total; seq++ {
		at := p.Curve.TimeOf(seq)
		s := Sample{Req: 0, Seq: seq, Intended: at, Sent: at, End: at + time.Millisecond, Code: 200}
		switch {
		case at >= time.Second && at < 2*time.Second:
			s.Sent += 50 * time.Millisecond // window 1: the generator lagged
			s.End += 50 * time.Millisecond
		case at >= 2*time.Second && at < 3*time.Second && seq%10 == 0:
			continue // window 2: 10% never sent
		}
		r.Add(&s)
	}
	r.CloseDue(time.Hour)
	windows, _ := r.Finish()
	want := []bool{false, true, true, false}
	for i, w := range windows {
		if w.GeneratorBound != want[i] {
			t.Errorf("window %d: GeneratorBound = %v (lag p99 %s, sent %d/%d); want %v", i, w.GeneratorBound, w.Lag.P99, w.Sent, w.Planned, want[i])
		}
	}
}

func TestRecorder_ServerTiming(t *testing.T) {
	t.Parallel()
	p := testPlan(t, fmt.Sprintf(holdScenario, "1s"))
	r := NewRecorder(p)
	h := http.Header{"Server-Timing": {"db;dur=10, cache;desc=miss", "bad header;;"}}
	for seq := uint64(0); seq < 4; seq++ {
		r.Add(&Sample{Req: 0, Seq: seq, Code: 200, Header: h, End: time.Millisecond})
	}
	r.Stop(time.Second)
	windows, totals := r.Finish()
	wr := windows[0].Requests["a"]
	if wr == nil || wr.Timing["db"] == nil || wr.Timing["db"].SumMs != 40 || wr.Timing["db"].MeanMs() != 10 {
		t.Fatalf("timing = %+v", wr)
	}
	if wr.Timing["cache"].Desc["miss"] != 4 || wr.BadTiming != 4 {
		t.Errorf("cache desc %v, bad %d; want miss:4, bad 4", wr.Timing["cache"].Desc, wr.BadTiming)
	}
	if !totals[0].ServerTiming || totals[0].Headers["Server-Timing"] == "" {
		t.Errorf("totals should note Server-Timing: %+v", totals[0])
	}
}

// BenchmarkRecorder_Add records results at 5,000 req/s of planned traffic,
// window closing (histogram encoding) included.
func BenchmarkRecorder_Add(b *testing.B) {
	p := testPlan(b, `
target: http://127.0.0.1:1
baseline: 5000
stages:
  - hold: {duration: 1h}
requests:
  - {name: a, url: /a}
  - {name: b, url: /b}
`)
	r := NewRecorder(p)
	h := http.Header{"Server-Timing": {"db;dur=12.5, app;dur=14.1, cache;desc=hit"}, "Content-Type": {"application/json"}}
	total := p.Curve.Total()
	samples := make([]Sample, 1024)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		seq := uint64(i) % total
		at := p.Curve.TimeOf(seq)
		s := &samples[i%len(samples)]
		*s = Sample{Req: i & 1, Seq: seq, Intended: at, Sent: at, End: at + 3*time.Millisecond, Code: 200, Header: h, BytesIn: 512}
		r.Add(s)
		if i%1000 == 0 {
			r.CloseDue(at)
		}
	}
}

func TestRecorder_OneHiccupIsNotGeneratorBound(t *testing.T) {
	t.Parallel()
	p := testPlan(t, `
target: http://127.0.0.1:1
baseline: 20
stages:
  - hold: {duration: 2s}
requests:
  - {name: a, url: /a}
`)
	r := NewRecorder(p)
	total := p.Curve.Total()
	for seq := uint64(0); seq < total; seq++ {
		at := p.Curve.TimeOf(seq)
		s := Sample{Req: 0, Seq: seq, Intended: at, Sent: at, End: at + time.Millisecond, Code: 200}
		if seq == 3 || seq == 25 || seq == 27 {
			s.Sent += 15 * time.Millisecond // window 0: one hiccup; window 1: two
		}
		r.Add(&s)
	}
	r.CloseDue(time.Hour)
	windows, _ := r.Finish()
	if windows[0].GeneratorBound || !windows[1].GeneratorBound {
		t.Errorf("generator-bound = %v, %v; want one late request tolerated, two not", windows[0].GeneratorBound, windows[1].GeneratorBound)
	}
}
