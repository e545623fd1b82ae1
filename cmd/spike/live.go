package main

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/live"
	"github.com/spikeload/spike/scenarios"
)

// DefaultMetricsGrace is how long spike keeps serving metrics after a run
// when no scrape comes.
const DefaultMetricsGrace = 15 * time.Second

// LiveOptions holds the live-metrics flags of run and find.
type LiveOptions struct {
	// MetricsAddr is where to serve Prometheus metrics ("" for nowhere).
	MetricsAddr string
	// MetricsGrace is the longest wait for a final scrape after the run.
	MetricsGrace time.Duration
	// OTLPEndpoint is the OTLP/HTTP URL to push metrics to ("" for none).
	OTLPEndpoint string
	// OTLPInterval is how often metrics are pushed; 0 means
	// live.DefaultOTLPInterval.
	OTLPInterval time.Duration
}

const liveHelp = `Live metrics: with --metrics-addr (e.g. 127.0.0.1:9464) spike serves
Prometheus metrics at /metrics while it runs: planned and sent requests,
responses by request, layer and status, latency from the intended send time
as a histogram (native and classic buckets) by request and layer, send lag,
generator-bound windows and requests in flight. The layer is the scenario's
tag, or "untagged". After the run spike keeps serving until one more scrape
has collected the final figures, or --metrics-grace passes (default 15s);
after Ctrl-C it stops serving at once. --otlp-endpoint pushes the same
metrics over OTLP/HTTP (exponential histograms) every 5 s and once at the
end. examples/grafana has a dashboard.`

func addLiveFlags(cmd *cobra.Command, o *LiveOptions) {
	f := cmd.Flags()
	f.StringVar(&o.MetricsAddr, "metrics-addr", "", "serve Prometheus metrics at http://`ADDR`/metrics while running, e.g. 127.0.0.1:9464")
	f.DurationVar(&o.MetricsGrace, "metrics-grace", DefaultMetricsGrace, "after the run, keep serving metrics until one final scrape, at most this long")
	f.StringVar(&o.OTLPEndpoint, "otlp-endpoint", "", "push OpenTelemetry metrics to this OTLP/HTTP `URL`, e.g. http://127.0.0.1:4318 (/v1/metrics is added when the URL has no path; headers from OTEL_EXPORTER_OTLP_HEADERS)")
}

// liveRun is a command's live metrics and their exporters. A nil *liveRun
// does nothing.
type liveRun struct {
	metrics *live.Metrics
	srv     *live.Server
	otlp    *live.OTLP
	grace   time.Duration
}

// start checks the flags and starts the exporters they ask for; it returns
// nil when none is asked for. Bad flags are usage errors.
func (o *LiveOptions) start(ctx context.Context, ios *IOStreams, plan *scenarios.Plan) (*liveRun, error) {
	if o.MetricsAddr == "" && o.OTLPEndpoint == "" {
		return nil, nil
	}
	if o.MetricsGrace < 0 {
		return nil, usageErr("--metrics-grace: must be >= 0, got %s", o.MetricsGrace)
	}
	if o.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(o.MetricsAddr); err != nil {
			return nil, usageErr("--metrics-addr: want host:port like 127.0.0.1:9464, got %q", o.MetricsAddr)
		}
	}
	if o.OTLPEndpoint != "" {
		if _, err := live.ParseOTLPEndpoint(o.OTLPEndpoint); err != nil {
			return nil, usageErr("--otlp-endpoint: %v", err)
		}
	}
	lr := &liveRun{metrics: live.New(plan), grace: o.MetricsGrace}
	if o.OTLPEndpoint != "" {
		exp, err := live.NewOTLP(ctx, o.OTLPEndpoint, o.OTLPInterval)
		if err != nil {
			return nil, usageErr("--otlp-endpoint: %v", err)
		}
		if err := lr.metrics.UseMeter(exp.Meter()); err != nil {
			return nil, err
		}
		lr.otlp = exp
	}
	if o.MetricsAddr != "" {
		reg := prometheus.NewRegistry()
		if err := lr.metrics.Register(reg); err != nil {
			return nil, err
		}
		srv, err := live.Serve(o.MetricsAddr, reg)
		if err != nil {
			lr.close(ctx, ios)
			return nil, usageErr("--metrics-addr %s: %v", o.MetricsAddr, err)
		}
		lr.srv = srv
		fmt.Fprintf(ios.ErrOut, "spike: metrics at http://%s/metrics\n", srv.Addr())
	}
	return lr, nil
}

// hook makes the run feed the live metrics.
func (l *liveRun) hook(cfg *engine.Config) {
	if l != nil {
		l.metrics.Hook(cfg)
	}
}

// close pushes the last OTLP figures and serves the final scrape. Failures
// are warnings: the run's own outputs are already written.
func (l *liveRun) close(ctx context.Context, ios *IOStreams) {
	if l == nil {
		return
	}
	l.metrics.End()
	if l.otlp != nil {
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		if err := l.otlp.Shutdown(pctx); err != nil {
			fmt.Fprintf(ios.ErrOut, "spike: warning: %v\n", err)
		}
		cancel()
	}
	if l.srv != nil {
		if ctx.Err() == nil && l.grace > 0 {
			fmt.Fprintf(ios.ErrOut, "spike: serving the final metrics until the next scrape (at most %s)\n", fmtDur(l.grace))
		}
		scraped, err := l.srv.Close(ctx, l.grace)
		switch {
		case err != nil:
			fmt.Fprintf(ios.ErrOut, "spike: warning: metrics server: %v\n", err)
		case !scraped && ctx.Err() == nil && l.grace > 0:
			fmt.Fprintf(ios.ErrOut, "spike: no scrape within %s; the last figures were not collected\n", fmtDur(l.grace))
		}
	}
}
