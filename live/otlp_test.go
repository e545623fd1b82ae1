package live

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	colmetric "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricpb "go.opentelemetry.io/proto/otlp/metrics/v1"
	"google.golang.org/protobuf/proto"

	"github.com/spikeload/spike/engine"
)

// otlpSink is an in-process OTLP/HTTP receiver: it decodes every protobuf
// export request it gets.
type otlpSink struct {
	mu    sync.Mutex
	paths []string
	reqs  []*colmetric.ExportMetricsServiceRequest
}

func (s *otlpSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "want a protobuf body", http.StatusBadRequest)
		return
	}
	var req colmetric.ExportMetricsServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.paths = append(s.paths, r.URL.Path)
	s.reqs = append(s.reqs, &req)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	out, _ := proto.Marshal(&colmetric.ExportMetricsServiceResponse{})
	w.Write(out)
}

// last returns the metrics of the last export, by name.
func (s *otlpSink) last(t *testing.T) map[string]*metricpb.Metric {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.reqs) == 0 {
		t.Fatal("no OTLP export received")
	}
	out := map[string]*metricpb.Metric{}
	for _, rm := range s.reqs[len(s.reqs)-1].GetResourceMetrics() {
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				out[m.GetName()] = m
			}
		}
	}
	return out
}

func attrs(kvs []*commonpb.KeyValue) string {
	var parts []string
	for _, kv := range kvs {
		parts = append(parts, kv.GetKey()+"="+kv.GetValue().GetStringValue())
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func sums(m *metricpb.Metric) map[string]float64 {
	out := map[string]float64{}
	for _, dp := range m.GetSum().GetDataPoints() {
		out[attrs(dp.GetAttributes())] = float64(dp.GetAsInt())
	}
	return out
}

func TestOTLP_Push(t *testing.T) {
	t.Parallel()
	sink := &otlpSink{}
	srv := httptest.NewServer(sink)
	defer srv.Close()
	ctx := context.Background()
	exp, err := NewOTLP(ctx, srv.URL, time.Hour) // only the final push
	if err != nil {
		t.Fatal(err)
	}
	m := New(testPlan(t))
	if err := m.UseMeter(exp.Meter()); err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		s := engine.Sample{Req: i % 2, Intended: ms(10 * i), Sent: ms(10*i + 1), End: ms(10*i + 5 + i), Code: 200}
		if i%10 == 9 {
			s.Code = 503
		}
		m.Observe(&s)
	}
	m.Progress(engine.Progress{Elapsed: time.Second, Total: 2 * time.Second, Planned: 42, PlannedRate: 40, InFlight: 2, Windows: 1})
	if err := exp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if len(sink.paths) == 0 || sink.paths[0] != "/v1/metrics" {
		t.Errorf("OTLP pushed to %v; want /v1/metrics (added to a URL without a path)", sink.paths)
	}
	got := sink.last(t)
	counters := []struct {
		name string
		want map[string]float64
	}{
		{"spike_requests_sent", map[string]float64{"layer=untagged,request=home": 20, "layer=database,request=search": 20}},
		{"spike_responses", map[string]float64{
			"layer=untagged,request=home,status=200":   20,
			"layer=database,request=search,status=200": 16, "layer=database,request=search,status=503": 4,
		}},
		{"spike_requests_planned", map[string]float64{"": 42}},
		{"spike_windows", map[string]float64{"": 1}},
	}
	for _, c := range counters {
		m, ok := got[c.name]
		if !ok {
			t.Errorf("no %s in the export", c.name)
			continue
		}
		if !m.GetSum().GetIsMonotonic() {
			t.Errorf("%s is not a monotonic sum", c.name)
		}
		s := sums(m)
		if len(s) != len(c.want) {
			t.Errorf("%s = %v; want %v", c.name, s, c.want)
		}
		for k, v := range c.want {
			if s[k] != v {
				t.Errorf("%s{%s} = %v; want %v", c.name, k, s[k], v)
			}
		}
	}
	for _, name := range []string{"spike_request_latency", "spike_send_lag"} {
		h := got[name].GetExponentialHistogram()
		if h == nil {
			t.Errorf("%s is not an exponential histogram: %v", name, got[name])
			continue
		}
		if u := got[name].GetUnit(); u != "s" {
			t.Errorf("%s unit = %q; want s", name, u)
		}
		var n uint64
		for _, dp := range h.GetDataPoints() {
			n += dp.GetCount()
			if name == "spike_request_latency" && attrs(dp.GetAttributes()) == "layer=untagged,request=home" {
				// Latency is End - Intended: 5+i ms for the even i.
				want := 0.0
				for i := 0; i < 40; i += 2 {
					want += float64(5+i) / 1000
				}
				if d := dp.GetSum() - want; d < -1e-9 || d > 1e-9 {
					t.Errorf("latency sum of home = %v; want %v", dp.GetSum(), want)
				}
			}
		}
		if n != 40 {
			t.Errorf("%s count = %d; want 40", name, n)
		}
	}
	if g := got["spike_planned_rate"].GetGauge().GetDataPoints(); len(g) != 1 || g[0].GetAsDouble() != 40 {
		t.Errorf("spike_planned_rate = %v; want 40", g)
	}
}

func TestParseOTLPEndpoint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"http://127.0.0.1:4318", "http://127.0.0.1:4318/v1/metrics", true},
		{"https://otlp.example.com/", "https://otlp.example.com/v1/metrics", true},
		{"http://127.0.0.1:4318/custom/path", "http://127.0.0.1:4318/custom/path", true},
		{"127.0.0.1:4318", "", false},
		{"ftp://x/", "", false},
		{"http://", "", false},
		{"::", "", false},
	}
	for _, tt := range tests {
		got, err := ParseOTLPEndpoint(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseOTLPEndpoint(%q) = (%q, %v); want (%q, ok %t)", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
