// Package live exports a run's figures while it runs, so that they can sit
// beside the target's own dashboards: as Prometheus metrics served over HTTP
// (client_golang, native and classic histograms; see Server) and as
// OpenTelemetry metrics pushed over OTLP/HTTP (the OTel SDK, exponential
// histograms; see OTLP).
//
// A Metrics is fed from the engine's hooks, engine.Config.OnSample and
// OnProgress, on the run's goroutine; exporters read it concurrently. The
// live path cannot run the analysis: a request's layer is the scenario's
// tag, or "untagged".
package live

import (
	"context"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/metric"

	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/scenarios"
)

// Metric names as Prometheus shows them. The OTLP metrics carry the same
// names without the _total and _seconds suffixes (with unit "s" for the
// histograms), which Prometheus-compatible backends add back when they
// translate OTLP.
const (
	// NamePlanned counts the requests the curve has scheduled so far.
	NamePlanned = "spike_requests_planned_total"
	// NamePlannedRate is the curve's rate now, requests per second.
	NamePlannedRate = "spike_planned_rate"
	// NameSent counts requests sent, by request and layer. A request is
	// counted when it finishes (answered or failed), as result.json counts
	// it, so the final value equals result.json's request counts.
	NameSent = "spike_requests_sent_total"
	// NameResponses counts finished requests by request, layer and status:
	// the HTTP status code, or the transport error kind (timeout, refused,
	// reset, dns, tls, other) when no response arrived.
	NameResponses = "spike_responses_total"
	// NameInFlight is how many requests were sent and have not finished.
	NameInFlight = "spike_requests_in_flight"
	// NameLatency is the latency histogram, seconds, by request and layer,
	// measured from each request's intended send time (the recorder's
	// measure: Sample.End - Sample.Intended).
	NameLatency = "spike_request_latency_seconds"
	// NameSendLag is the generator's send lag histogram, seconds: actual
	// minus intended send time.
	NameSendLag = "spike_send_lag_seconds"
	// NameWindows counts the windows closed so far.
	NameWindows = "spike_windows_total"
	// NameGeneratorBound counts closed windows where the generator, not the
	// target, fell behind (see engine.Window.GeneratorBound).
	NameGeneratorBound = "spike_windows_generator_bound_total"
)

// Label names.
const (
	LabelRequest = "request"
	LabelLayer   = "layer"
	LabelStatus  = "status"
	// Untagged is the layer of a request the scenario does not tag.
	Untagged = "untagged"
)

// LatencyBuckets are the classic histogram buckets of NameLatency, seconds.
var LatencyBuckets = []float64{
	.001, .0025, .005, .0075, .01, .015, .02, .03, .04, .05, .075, .1, .15, .2, .3, .4, .5, .75,
	1, 1.5, 2, 3, 5, 10, 20, 30,
}

// LagBuckets are the classic histogram buckets of NameSendLag, seconds.
var LagBuckets = []float64{.0001, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

// Metrics is one command's live metrics: every run (or `spike find` step)
// fed to it adds to the same counters. Register and UseMeter choose the
// exporters before the first run. Observe and Progress are called from the
// run's goroutine, never concurrently with each other.
type Metrics struct {
	reqs  []*reqState
	kinds []string
	prom  *promSet
	otel  *otelSet
	ctx   context.Context
	last  engine.Progress // the last report of the current run
}

// reqState holds one request name's instruments, resolved once so that
// Observe does no label look-ups.
type reqState struct {
	name, layer string
	statuses    map[int]*statusState // key: HTTP code, or -1-kind index
	promSent    prometheus.Counter
	promLatency prometheus.Observer
	otelAdd     []metric.AddOption
	otelRecord  []metric.RecordOption
}

type statusState struct {
	prom    prometheus.Counter
	otelAdd []metric.AddOption
}

// New returns the metrics of plan's requests, with no exporter yet.
func New(plan *scenarios.Plan) *Metrics {
	m := &Metrics{kinds: engine.ErrorKinds(), ctx: context.Background()}
	for _, r := range plan.Requests {
		layer := r.Layer
		if layer == "" {
			layer = Untagged
		}
		m.reqs = append(m.reqs, &reqState{name: r.Name, layer: layer, statuses: map[int]*statusState{}})
	}
	return m
}

// Observe records one finished request. It does not allocate once a
// request's status has been seen; it must not keep s.
func (m *Metrics) Observe(s *engine.Sample) {
	if s.Req < 0 || s.Req >= len(m.reqs) {
		return // the recorder drops it too
	}
	r := m.reqs[s.Req]
	lat := max(s.End-s.Intended, 0).Seconds()
	lag := max(s.Sent-s.Intended, 0).Seconds()
	key := s.Code
	if key == 0 {
		key = m.kindKey(engine.ClassifyError(s.Err))
	}
	st := r.statuses[key]
	if st == nil {
		st = m.newStatus(r, key)
	}
	if p := m.prom; p != nil {
		r.promSent.Inc()
		st.prom.Inc()
		r.promLatency.Observe(lat)
		p.lag.Observe(lag)
	}
	if o := m.otel; o != nil {
		o.sent.Add(m.ctx, 1, r.otelAdd...)
		o.responses.Add(m.ctx, 1, st.otelAdd...)
		o.latency.Record(m.ctx, lat, r.otelRecord...)
		o.lag.Record(m.ctx, lag)
	}
}

// kindKey returns the status key of a transport error kind: -1 for the
// first kind, -2 for the second, and so on.
func (m *Metrics) kindKey(kind string) int {
	for i, k := range m.kinds {
		if k == kind {
			return -1 - i
		}
	}
	return -len(m.kinds) // "other" is last
}

func (m *Metrics) statusLabel(key int) string {
	if key > 0 {
		return strconv.Itoa(key)
	}
	return m.kinds[-1-key]
}

func (m *Metrics) newStatus(r *reqState, key int) *statusState {
	st := &statusState{}
	status := m.statusLabel(key)
	if m.prom != nil {
		st.prom = m.prom.responses.WithLabelValues(r.name, r.layer, status)
	}
	if m.otel != nil {
		st.otelAdd = m.otel.statusOptions(r.name, r.layer, status)
	}
	r.statuses[key] = st
	return st
}

// Progress takes the engine's progress report: planned requests, planned
// rate, in-flight requests and closed windows. A report whose Elapsed is
// below the previous one starts a new run (the next step of `spike find`);
// from Total on the planned rate is 0.
func (m *Metrics) Progress(p engine.Progress) {
	last := m.last
	if p.Elapsed < last.Elapsed {
		last = engine.Progress{}
	}
	planned := sub(p.Planned, last.Planned)
	windows := sub(uint64(p.Windows), uint64(last.Windows))
	bound := sub(uint64(p.GeneratorBound), uint64(last.GeneratorBound))
	m.last = p
	rate := p.PlannedRate
	if p.Elapsed >= p.Total {
		rate = 0 // the curve has ended
	}
	if pr := m.prom; pr != nil {
		pr.planned.Add(float64(planned))
		pr.plannedRate.Set(rate)
		pr.inFlight.Set(float64(p.InFlight))
		pr.windows.Add(float64(windows))
		pr.bound.Add(float64(bound))
	}
	if o := m.otel; o != nil {
		o.planned.Add(m.ctx, int64(planned))
		o.plannedRate.Record(m.ctx, rate)
		o.inFlight.Record(m.ctx, int64(p.InFlight))
		o.windows.Add(m.ctx, int64(windows))
		o.bound.Add(m.ctx, int64(bound))
	}
}

// End marks the end of the command's load: the planned rate and the
// requests in flight drop to 0, also after a run that was stopped early.
// Counters keep their values for the final scrape or push.
func (m *Metrics) End() {
	if pr := m.prom; pr != nil {
		pr.plannedRate.Set(0)
		pr.inFlight.Set(0)
	}
	if o := m.otel; o != nil {
		o.plannedRate.Record(m.ctx, 0)
		o.inFlight.Record(m.ctx, 0)
	}
}

func sub(a, b uint64) uint64 {
	if a < b {
		return 0
	}
	return a - b
}

// Hook sets cfg's OnSample and OnProgress so that the run feeds m; an
// OnProgress already set is still called.
func (m *Metrics) Hook(cfg *engine.Config) {
	cfg.OnSample = m.Observe
	cfg.OnProgress = m.ProgressFunc(cfg.OnProgress)
}

// ProgressFunc returns an OnProgress hook that feeds m, then calls next
// (if set), for runners that take the hooks one by one.
func (m *Metrics) ProgressFunc(next func(engine.Progress)) func(engine.Progress) {
	return func(p engine.Progress) {
		m.Progress(p)
		if next != nil {
			next(p)
		}
	}
}
