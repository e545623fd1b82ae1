package live

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Native histogram settings: a bucket factor of 1.1 gives Prometheus'
// schema 3 (each bucket 2^(1/8), about 9%, wider than the last). At most
// NativeMaxBuckets buckets per series; past that the resolution is halved
// rather than the histogram reset, so a run's histogram is never emptied in
// the middle of the run.
const (
	NativeBucketFactor = 1.1
	NativeMaxBuckets   = 160
)

type promSet struct {
	planned, windows, bound prometheus.Counter
	plannedRate, inFlight   prometheus.Gauge
	responses               *prometheus.CounterVec
	lag                     prometheus.Histogram
}

// Register creates m's Prometheus metrics in reg. Call it once, before the
// first run. Use a registry of your own (prometheus.NewRegistry), not the
// global one.
func (m *Metrics) Register(reg prometheus.Registerer) error {
	reqLabels := []string{LabelRequest, LabelLayer}
	sent := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: NameSent, Help: "Requests sent, counted when they finish (answered or failed), as result.json counts them.",
	}, reqLabels)
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: NameLatency,
		Help: "Request latency in seconds, measured from the intended send time (no coordinated omission).",
		// Classic buckets and a native histogram together: scrapers choose.
		Buckets:                         LatencyBuckets,
		NativeHistogramBucketFactor:     NativeBucketFactor,
		NativeHistogramMaxBucketNumber:  NativeMaxBuckets,
		NativeHistogramMinResetDuration: 0,
	}, reqLabels)
	p := &promSet{
		planned: prometheus.NewCounter(prometheus.CounterOpts{
			Name: NamePlanned, Help: "Requests the traffic curve has scheduled so far.",
		}),
		plannedRate: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: NamePlannedRate, Help: "The traffic curve's rate now, requests per second.",
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: NameInFlight, Help: "Requests sent that have not finished yet.",
		}),
		responses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: NameResponses, Help: "Finished requests by status: the HTTP status code, or the transport error kind when no response arrived.",
		}, []string{LabelRequest, LabelLayer, LabelStatus}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: NameSendLag, Help: "The generator's send lag in seconds: actual minus intended send time.",
			Buckets: LagBuckets, NativeHistogramBucketFactor: NativeBucketFactor, NativeHistogramMaxBucketNumber: NativeMaxBuckets,
		}),
		windows: prometheus.NewCounter(prometheus.CounterOpts{
			Name: NameWindows, Help: "Windows (time slices of the run) closed so far.",
		}),
		bound: prometheus.NewCounter(prometheus.CounterOpts{
			Name: NameGeneratorBound, Help: "Closed windows where the generator, not the target, fell behind; their figures say nothing about the target.",
		}),
	}
	for _, c := range []prometheus.Collector{p.planned, p.plannedRate, p.inFlight, sent, p.responses, latency, p.lag, p.windows, p.bound} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register metrics: %w", err)
		}
	}
	for _, r := range m.reqs {
		r.promSent = sent.WithLabelValues(r.name, r.layer)
		r.promLatency = latency.WithLabelValues(r.name, r.layer)
	}
	m.prom = p
	return nil
}

// Server serves a registry's metrics over HTTP at /metrics, in every format
// Prometheus asks for (the protobuf format carries the native histograms).
type Server struct {
	srv   *http.Server
	ln    net.Listener
	errc  chan error
	mu    sync.Mutex
	ended bool          // Close was called: the next scrape is the final one
	final chan struct{} // closed once a final scrape has been answered
	once  sync.Once
}

// Serve starts serving reg's metrics on addr (host:port; port 0 picks a free
// one) in the background.
func Serve(addr string, reg *prometheus.Registry) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln, errc: make(chan error, 1), final: make(chan struct{})}
	metrics := promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		final := s.ended
		s.mu.Unlock()
		metrics.ServeHTTP(w, r)
		if final {
			s.once.Do(func() { close(s.final) })
		}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, "spike: metrics at /metrics")
	})
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { s.errc <- s.srv.Serve(ln) }()
	return s, nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops serving once the run's last figures have been collected: it
// waits until a scrape that began after the call has been answered, grace
// has passed, or ctx is done, whichever comes first, then shuts the server
// down. It reports whether that final scrape arrived.
func (s *Server) Close(ctx context.Context, grace time.Duration) (scraped bool, err error) {
	s.mu.Lock()
	s.ended = true
	s.mu.Unlock()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-s.final:
		scraped = true
	case <-t.C:
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	err = s.srv.Shutdown(sctx)
	if serr := <-s.errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return scraped, err
}
