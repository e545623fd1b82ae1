package live

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
)

// DefaultOTLPInterval is how often OTLP pushes metrics during a run.
const DefaultOTLPInterval = 5 * time.Second

// otelSet holds the OpenTelemetry instruments; each mirrors a Prometheus
// metric (see the Name constants).
type otelSet struct {
	planned, windows, bound, sent, responses metric.Int64Counter
	plannedRate                              metric.Float64Gauge
	inFlight                                 metric.Int64Gauge
	latency, lag                             metric.Float64Histogram
}

func (o *otelSet) statusOptions(request, layer, status string) []metric.AddOption {
	return []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(
		attribute.String(LabelRequest, request), attribute.String(LabelLayer, layer), attribute.String(LabelStatus, status)))}
}

// otelName is a Prometheus metric name without the suffixes that OTLP
// translation adds back.
func otelName(prom string) string {
	for _, suffix := range []string{"_total", "_seconds"} {
		if n := len(prom) - len(suffix); n > 0 && prom[n:] == suffix {
			return prom[:n]
		}
	}
	return prom
}

// UseMeter creates m's OpenTelemetry instruments from meter. Call it once,
// before the first run.
func (m *Metrics) UseMeter(meter metric.Meter) error {
	var (
		o    otelSet
		errs []error
	)
	counter := func(name, desc string) metric.Int64Counter {
		c, err := meter.Int64Counter(otelName(name), metric.WithDescription(desc), metric.WithUnit("{request}"))
		errs = append(errs, err)
		return c
	}
	histogram := func(name, desc string) metric.Float64Histogram {
		h, err := meter.Float64Histogram(otelName(name), metric.WithDescription(desc), metric.WithUnit("s"))
		errs = append(errs, err)
		return h
	}
	o.planned = counter(NamePlanned, "Requests the traffic curve has scheduled so far.")
	o.sent = counter(NameSent, "Requests sent, counted when they finish (answered or failed).")
	o.responses = counter(NameResponses, "Finished requests by status: the HTTP status code, or the transport error kind.")
	o.windows = counter(NameWindows, "Windows closed so far.")
	o.bound = counter(NameGeneratorBound, "Closed windows where the generator, not the target, fell behind.")
	o.latency = histogram(NameLatency, "Request latency, measured from the intended send time.")
	o.lag = histogram(NameSendLag, "The generator's send lag: actual minus intended send time.")
	var err error
	o.plannedRate, err = meter.Float64Gauge(NamePlannedRate, metric.WithDescription("The traffic curve's rate now."), metric.WithUnit("{request}/s"))
	errs = append(errs, err)
	o.inFlight, err = meter.Int64Gauge(NameInFlight, metric.WithDescription("Requests sent that have not finished yet."), metric.WithUnit("{request}"))
	errs = append(errs, err)
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("otel instruments: %w", err)
		}
	}
	for _, r := range m.reqs {
		set := metric.WithAttributeSet(attribute.NewSet(attribute.String(LabelRequest, r.name), attribute.String(LabelLayer, r.layer)))
		r.otelAdd = []metric.AddOption{set}
		r.otelRecord = []metric.RecordOption{set}
	}
	m.otel = &o
	return nil
}

// Aggregation is the SDK aggregation spike's OTLP metrics use: base-2
// exponential histograms (at most NativeMaxBuckets buckets, so at least
// Prometheus' schema-3 resolution for latencies spanning up to five orders
// of magnitude), the SDK's defaults for everything else.
func Aggregation(k sdkmetric.InstrumentKind) sdkmetric.Aggregation {
	if k == sdkmetric.InstrumentKindHistogram {
		return sdkmetric.AggregationBase2ExponentialHistogram{MaxSize: NativeMaxBuckets, MaxScale: 20}
	}
	return sdkmetric.DefaultAggregationSelector(k)
}

// OTLP pushes metrics to an OTLP/HTTP endpoint (protobuf) every interval
// and once more when it is shut down. Histograms are exponential
// (base-2) histograms.
type OTLP struct {
	provider *sdkmetric.MeterProvider
}

// ParseOTLPEndpoint checks an OTLP/HTTP endpoint URL: http or https with a
// host. A URL without a path gets the standard /v1/metrics.
func ParseOTLPEndpoint(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("want an http(s) URL like http://127.0.0.1:4318, got %q", raw)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("want an http(s) URL like http://127.0.0.1:4318, got %q", raw)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/metrics"
	}
	return u.String(), nil
}

// NewOTLP returns an exporter pushing to endpoint (see ParseOTLPEndpoint)
// every interval (DefaultOTLPInterval if 0). Nothing is sent until the
// first interval ends.
func NewOTLP(ctx context.Context, endpoint string, interval time.Duration) (*OTLP, error) {
	u, err := ParseOTLPEndpoint(endpoint)
	if err != nil {
		return nil, err
	}
	if interval <= 0 {
		interval = DefaultOTLPInterval
	}
	exp, err := otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpointURL(u),
		otlpmetrichttp.WithAggregationSelector(Aggregation))
	if err != nil {
		return nil, fmt.Errorf("otlp exporter: %w", err)
	}
	res := resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName("spike"))
	mp := sdkmetric.NewMeterProvider(
		sdkmetric.WithResource(res),
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(interval))),
	)
	return &OTLP{provider: mp}, nil
}

// Meter returns the meter to pass to Metrics.UseMeter.
func (o *OTLP) Meter() metric.Meter {
	return o.provider.Meter("github.com/spikeload/spike/live")
}

// Shutdown pushes the last figures and stops the exporter.
func (o *OTLP) Shutdown(ctx context.Context) error {
	if err := o.provider.Shutdown(ctx); err != nil {
		return fmt.Errorf("otlp push: %w", err)
	}
	return nil
}
