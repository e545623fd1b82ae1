package live

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/scenarios"
)

// testPlan has two requests: "home" untagged and "search" tagged database.
func testPlan(t testing.TB) *scenarios.Plan {
	t.Helper()
	c, err := scenarios.NewCurve([]scenarios.Segment{{Kind: "hold", From: 10, To: 10, Duration: 10 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	return &scenarios.Plan{Curve: c, Requests: []*scenarios.Request{
		{Name: "home", Method: "GET"},
		{Name: "search", Method: "GET", Layer: "database"},
	}}
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// family returns the gathered family called name.
func family(t *testing.T, reg *prometheus.Registry, name string) *dto.MetricFamily {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf
		}
	}
	t.Fatalf("no metric %s gathered", name)
	return nil
}

func labels(m *dto.Metric) string {
	var parts []string
	for _, l := range m.GetLabel() {
		parts = append(parts, l.GetName()+"="+l.GetValue())
	}
	return strings.Join(parts, ",")
}

// byLabels maps each series of the family to its value (counter, gauge) or
// sample count (histogram).
func byLabels(mf *dto.MetricFamily) map[string]float64 {
	out := map[string]float64{}
	for _, m := range mf.GetMetric() {
		switch {
		case m.Counter != nil:
			out[labels(m)] = m.Counter.GetValue()
		case m.Gauge != nil:
			out[labels(m)] = m.Gauge.GetValue()
		case m.Histogram != nil:
			out[labels(m)] = float64(m.Histogram.GetSampleCount())
		}
	}
	return out
}

func TestMetrics_Observe(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := New(testPlan(t))
	if err := m.Register(reg); err != nil {
		t.Fatal(err)
	}
	samples := []engine.Sample{
		{Req: 0, Intended: ms(0), Sent: ms(1), End: ms(21), Code: 200},
		{Req: 0, Intended: ms(100), Sent: ms(100), End: ms(130), Code: 200},
		{Req: 0, Intended: ms(200), Sent: ms(250), End: ms(260), Code: 503},
		{Req: 1, Intended: ms(300), Sent: ms(300), End: ms(1300), Err: `Get "http://x/": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`},
		{Req: 1, Intended: ms(400), Sent: ms(400), End: ms(401), Err: "dial tcp: connect: connection refused"},
		{Req: -1, Intended: ms(500), Sent: ms(500), End: ms(501), Code: 200}, // unknown URL: dropped, as the recorder does
	}
	for i := range samples {
		m.Observe(&samples[i])
	}
	tests := []struct {
		name string
		want map[string]float64
	}{
		{NameSent, map[string]float64{"layer=untagged,request=home": 3, "layer=database,request=search": 2}},
		{NameResponses, map[string]float64{
			"layer=untagged,request=home,status=200":       2,
			"layer=untagged,request=home,status=503":       1,
			"layer=database,request=search,status=timeout": 1,
			"layer=database,request=search,status=refused": 1,
		}},
		{NameLatency, map[string]float64{"layer=untagged,request=home": 3, "layer=database,request=search": 2}},
		{NameSendLag, map[string]float64{"": 5}},
	}
	for _, tt := range tests {
		got := byLabels(family(t, reg, tt.name))
		if len(got) != len(tt.want) {
			t.Errorf("%s = %v; want %v", tt.name, got, tt.want)
			continue
		}
		for k, v := range tt.want {
			if got[k] != v {
				t.Errorf("%s{%s} = %v; want %v", tt.name, k, got[k], v)
			}
		}
	}
	// Latency is End - Intended: 21 + 30 + 60 ms for home.
	for _, s := range family(t, reg, NameLatency).GetMetric() {
		h := s.GetHistogram()
		if labels(s) == "layer=untagged,request=home" {
			if got, want := h.GetSampleSum(), 0.111; got < want-1e-9 || got > want+1e-9 {
				t.Errorf("latency sum of home = %v; want %v (End - Intended)", got, want)
			}
		}
		if len(h.GetBucket()) != len(LatencyBuckets) {
			t.Errorf("%s: %d classic buckets; want %d", labels(s), len(h.GetBucket()), len(LatencyBuckets))
		}
		if h.Schema == nil || len(h.GetPositiveSpan()) == 0 {
			t.Errorf("%s: no native histogram (schema %v, spans %v)", labels(s), h.Schema, h.GetPositiveSpan())
		}
	}
}

func TestMetrics_Progress(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := New(testPlan(t))
	if err := m.Register(reg); err != nil {
		t.Fatal(err)
	}
	const total = 3 * time.Second
	steps := []struct {
		p    engine.Progress
		want map[string]float64
	}{
		{engine.Progress{Elapsed: time.Second, Total: total, Planned: 10, PlannedRate: 10, InFlight: 3},
			map[string]float64{NamePlanned: 10, NamePlannedRate: 10, NameInFlight: 3, NameWindows: 0, NameGeneratorBound: 0}},
		{engine.Progress{Elapsed: 2 * time.Second, Total: total, Planned: 20, PlannedRate: 12, InFlight: 2, Windows: 1},
			map[string]float64{NamePlanned: 20, NamePlannedRate: 12, NameInFlight: 2, NameWindows: 1, NameGeneratorBound: 0}},
		// The last report of a run: the curve has ended, its rate is 0.
		{engine.Progress{Elapsed: 3100 * time.Millisecond, Total: total, Planned: 25, PlannedRate: 12, Windows: 3, GeneratorBound: 1},
			map[string]float64{NamePlanned: 25, NamePlannedRate: 0, NameInFlight: 0, NameWindows: 3, NameGeneratorBound: 1}},
		// A new run (the next step of spike find) counts from zero again.
		{engine.Progress{Elapsed: time.Second, Total: total, Planned: 7, PlannedRate: 7, InFlight: 1, Windows: 1, GeneratorBound: 1},
			map[string]float64{NamePlanned: 32, NamePlannedRate: 7, NameInFlight: 1, NameWindows: 4, NameGeneratorBound: 2}},
	}
	check := func(when string, want map[string]float64) {
		t.Helper()
		for name, want := range want {
			if got := byLabels(family(t, reg, name))[""]; got != want {
				t.Errorf("%s: %s = %v; want %v", when, name, got, want)
			}
		}
	}
	for i, st := range steps {
		m.Progress(st.p)
		check(fmt.Sprintf("after report %d", i+1), st.want)
	}
	// A step stopped early (spike find's time ran out) leaves a rate and
	// requests in flight; End clears them and keeps the counters.
	m.End()
	check("after End", map[string]float64{NamePlanned: 32, NamePlannedRate: 0, NameInFlight: 0, NameWindows: 4, NameGeneratorBound: 2})
}

func TestMetrics_Hook(t *testing.T) {
	t.Parallel()
	m := New(testPlan(t))
	var called int
	cfg := engine.Config{OnProgress: func(engine.Progress) { called++ }}
	m.Hook(&cfg)
	if cfg.OnSample == nil {
		t.Fatal("Hook did not set OnSample")
	}
	cfg.OnProgress(engine.Progress{Elapsed: time.Second})
	if called != 1 {
		t.Errorf("the OnProgress set before Hook was called %d times; want 1", called)
	}
}

func scrape(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestServer_Close(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		finalScrape bool
		wantScraped bool
	}{
		{"a final scrape ends it", true, true},
		{"the grace period ends it", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg := prometheus.NewRegistry()
			m := New(testPlan(t))
			if err := m.Register(reg); err != nil {
				t.Fatal(err)
			}
			srv, err := Serve("127.0.0.1:0", reg)
			if err != nil {
				t.Fatal(err)
			}
			if body := scrape(t, srv.Addr()); !strings.Contains(body, NameSent) {
				t.Fatalf("scrape during the run has no %s:\n%s", NameSent, body)
			}
			m.Observe(&engine.Sample{Req: 1, End: ms(5), Code: 200})
			grace := 300 * time.Millisecond
			if tt.finalScrape {
				grace = time.Minute // only the scrape can end it in time
			}
			type closed struct {
				scraped bool
				err     error
			}
			done := make(chan closed, 1)
			go func() {
				s, err := srv.Close(context.Background(), grace)
				done <- closed{s, err}
			}()
			var last string
			if tt.finalScrape {
				// Scrape until one counts as final: the first may arrive
				// before Close marked the end.
				for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
					resp, err := http.Get("http://" + srv.Addr() + "/metrics")
					if err != nil {
						break // shut down after the final scrape
					}
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					last = string(b)
					select {
					case c := <-done:
						done <- c
						deadline = time.Now()
					default:
					}
				}
				if !strings.Contains(last, `spike_requests_sent_total{layer="database",request="search"} 1`) {
					t.Errorf("final scrape lacks the last sample:\n%s", last)
				}
			}
			select {
			case c := <-done:
				if c.err != nil || c.scraped != tt.wantScraped {
					t.Errorf("Close = (%t, %v); want (%t, nil)", c.scraped, c.err, tt.wantScraped)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("Close did not return")
			}
			if _, err := http.Get("http://" + srv.Addr() + "/metrics"); err == nil {
				t.Error("still serving after Close")
			}
		})
	}
}

func TestServe_BadAddr(t *testing.T) {
	t.Parallel()
	if _, err := Serve("not an address", prometheus.NewRegistry()); err == nil {
		t.Error(`Serve("not an address") = nil error; want one`)
	}
}

// BenchmarkMetrics_Observe is the per-request cost the live metrics add to
// the run loop, with each exporter.
func BenchmarkMetrics_Observe(b *testing.B) {
	for _, bc := range []struct {
		name       string
		prom, otel bool
	}{{"none", false, false}, {"prometheus", true, false}, {"otlp", false, true}, {"both", true, true}} {
		b.Run(bc.name, func(b *testing.B) {
			m := New(testPlan(b))
			if bc.prom {
				if err := m.Register(prometheus.NewRegistry()); err != nil {
					b.Fatal(err)
				}
			}
			if bc.otel {
				mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader(sdkmetric.WithAggregationSelector(Aggregation))))
				if err := m.UseMeter(mp.Meter("bench")); err != nil {
					b.Fatal(err)
				}
			}
			s := engine.Sample{Req: 1, Intended: ms(10), Sent: ms(11), Code: 200}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				s.End = s.Intended + time.Duration(i%5000)*time.Microsecond
				m.Observe(&s)
			}
		})
	}
}

func TestMetrics_ObserveDoesNotAllocate(t *testing.T) {
	m := New(testPlan(t))
	if err := m.Register(prometheus.NewRegistry()); err != nil {
		t.Fatal(err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader(sdkmetric.WithAggregationSelector(Aggregation))))
	if err := m.UseMeter(mp.Meter("test")); err != nil {
		t.Fatal(err)
	}
	s := engine.Sample{Req: 1, Intended: ms(10), Sent: ms(11), End: ms(30), Code: 200}
	m.Observe(&s) // the first of a status creates its series
	if n := testing.AllocsPerRun(1000, func() { m.Observe(&s) }); n != 0 {
		t.Errorf("Observe allocates %.1f times per request; want 0", n)
	}
}
