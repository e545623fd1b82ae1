package engine

import (
	"strconv"
	"time"

	"github.com/spikeload/spike/hist"
	"github.com/spikeload/spike/scenarios"
)

// Histogram geometry for latencies, in microseconds: 1µs to 1 hour at 3
// significant digits (values past the top are clamped to it).
const (
	histLowest  = 1
	histHighest = int64(time.Hour / time.Microsecond)
	histDigits  = 3
)

// Result is everything a run measured: enough to re-analyse it, re-render its
// report, compare it with another run, or merge it with other shards. It is
// the run section of result.json, whose document (schema version, analysis,
// search, reading and writing) package result owns.
type Result struct {
	// Meta describes the run.
	Meta Meta `json:"meta"`
	// Plan is what was planned.
	Plan PlanInfo `json:"plan"`
	// Windows holds one entry per window of the run, in time order.
	Windows []Window `json:"windows"`
	// Requests holds whole-run totals, one per request name, in mix order.
	// With journeys, every step is a request named "journey/step".
	Requests []RequestTotal `json:"requests"`
	// Journeys holds whole-run totals per journey (journey scenarios only).
	Journeys []JourneyTotal `json:"journeys,omitempty"`
}

// Meta describes a run.
type Meta struct {
	Tool         string    `json:"tool"`
	Version      string    `json:"version"`
	Scenario     string    `json:"scenario"`
	ScenarioFile string    `json:"scenario_file,omitempty"`
	Target       string    `json:"target"`
	Started      time.Time `json:"started"`
	Ended        time.Time `json:"ended"`
	// Partial is set when the run was interrupted before its end.
	Partial bool `json:"partial,omitempty"`
	// Aborted is set when the run stopped early because the target was clearly down.
	Aborted     bool   `json:"aborted,omitempty"`
	AbortReason string `json:"abort_reason,omitempty"`
	// Shard is "i/N" when the run was one shard of several.
	Shard string `json:"shard,omitempty"`
	// PlanHash identifies the plan and target a run sent (see PlanHash);
	// shards are merged only when theirs agree.
	PlanHash string `json:"plan_hash,omitempty"`
	// Start is set when the run waited for a shared start instant (--start-at).
	Start *StartInfo `json:"start,omitempty"`
	// Shards describes the shards a merged result was made from, in shard order.
	Shards []ShardInfo `json:"shards,omitempty"`
	// MissingShards names the shards ("i/N") a merged result lacks: their
	// share of every window counts as planned and unsent.
	MissingShards []string `json:"missing_shards,omitempty"`
	// Notes are warnings about the run itself (e.g. a body template failed).
	Notes []string `json:"notes,omitempty"`
}

// StartInfo records how a run met its shared start instant.
type StartInfo struct {
	// Requested is the instant asked for; Actual when the run's clock started.
	Requested time.Time `json:"requested"`
	Actual    time.Time `json:"actual"`
	// Lateness (lateness_ms) is Actual minus Requested (never negative in practice: the
	// run waits for the instant).
	Lateness time.Duration `json:"-"`
	// Clock names the clock the instant was read from.
	Clock string `json:"clock"`
}

// ShardInfo describes one shard of a merged result.
type ShardInfo struct {
	Shard   string    `json:"shard"`
	File    string    `json:"file,omitempty"`
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended"`
	// Start is the shard's own StartInfo, if it waited for a shared instant.
	Start *StartInfo `json:"start,omitempty"`
	// LagP99 (lag_p99_ms) is the shard's worst window send-lag p99.
	LagP99 time.Duration `json:"-"`
	// GeneratorBound counts the shard's generator-bound windows.
	GeneratorBound int  `json:"generator_bound_windows"`
	Partial        bool `json:"partial,omitempty"`
}

// PlanInfo is the resolved plan, as recorded.
type PlanInfo struct {
	Baseline  float64 `json:"baseline_rps"`
	TimeScale float64 `json:"time_scale"`
	Shape     string  `json:"shape"`
	// Duration and Window are duration_ms and window_ms in JSON.
	Duration time.Duration       `json:"-"`
	Window   time.Duration       `json:"-"`
	Total    uint64              `json:"total_requests"`
	PeakRate float64             `json:"peak_rps"`
	Segments []scenarios.Segment `json:"segments"`
	SLO      scenarios.SLO       `json:"slo"`
	// Gate is the scenario's gate section, when it has one (spike merge
	// --gate enforces it).
	Gate     *scenarios.Gate   `json:"gate,omitempty"`
	Options  scenarios.Options `json:"options"`
	Requests []RequestInfo     `json:"requests"`
	// Journeys describes a journey scenario's journeys (nil for a request
	// mix): the curve's rates are then visitors/s (see RateUnit).
	Journeys []JourneyInfo      `json:"journeys,omitempty"`
	Scenario scenarios.Scenario `json:"scenario"`
}

// JourneyInfo describes one journey of the plan.
type JourneyInfo struct {
	Name string `json:"name"`
	// Share is the journey's share of arriving visitors.
	Share float64 `json:"share"`
	// Steps are its steps' request names ("journey/step"), in order.
	Steps []string `json:"steps"`
}

// RateUnit is the unit of the plan's rates: "visitors/s" for journeys,
// else "req/s".
func (p *PlanInfo) RateUnit() string {
	if len(p.Journeys) > 0 {
		return "visitors/s"
	}
	return "req/s"
}

// RequestInfo describes one request of the mix.
type RequestInfo struct {
	Name   string  `json:"name"`
	Method string  `json:"method"`
	URL    string  `json:"url"`
	Weight float64 `json:"weight"`
	// Share is the request's fraction of the mix (weights normalised).
	Share  float64 `json:"share"`
	Layer  string  `json:"layer,omitempty"`
	Expect []int   `json:"expect,omitempty"`
}

// Window is one time slice of a run. Requests are assigned to the window of
// their planned (intended) send time.
type Window struct {
	Index int `json:"index"`
	// Start and End (start_ms, end_ms) are offsets from the run's start.
	Start time.Duration `json:"-"`
	End   time.Duration `json:"-"`
	// PlannedRate is the curve's mean rate over the window, req/s (with
	// journeys, visitors/s).
	PlannedRate float64 `json:"planned_rps"`
	// Planned is how many requests the curve scheduled in the window.
	Planned uint64 `json:"planned"`
	// Sent is how many of them were sent (and recorded, with any outcome).
	Sent uint64 `json:"sent"`
	// OK counts successful responses; Errors counts everything else.
	OK     uint64 `json:"ok"`
	Errors uint64 `json:"errors"`
	// Lag is the generator's send lag (actual minus intended send time).
	Lag LagStats `json:"lag"`
	// GeneratorBound is set when the generator, not the target, fell behind:
	// lag p99 over 10ms, or fewer than 98% of the planned requests sent.
	GeneratorBound bool `json:"generator_bound,omitempty"`
	// Latency summarises all requests of the window together.
	Latency LatencyStats `json:"latency"`
	// Requests holds per-request figures, by request name.
	Requests map[string]*WindowRequest `json:"requests"`
	// Journeys holds the sessions that arrived in the window, by journey
	// name (journey scenarios only): how far they got, wherever later
	// windows their steps fell in.
	Journeys map[string]*WindowJourney `json:"journeys,omitempty"`
}

// JourneyCounts are what became of a journey's visitors.
type JourneyCounts struct {
	// Started counts the sessions started; Refused the arrivals not
	// started because options.max_sessions sessions were open (spike's
	// limit, not the target's).
	Started uint64 `json:"started"`
	Refused uint64 `json:"refused,omitempty"`
	// Reached counts, per step, the sessions whose step was sent;
	// Abandoned those that ended at the step (it failed: an error status,
	// a transport error or a failed extraction).
	Reached   []uint64 `json:"reached"`
	Abandoned []uint64 `json:"abandoned"`
	// Completed counts the sessions that passed every step; Unfinished
	// those whose next step would have fallen after the run's end, or that
	// were in flight when an interrupted run stopped.
	Completed  uint64 `json:"completed"`
	Unfinished uint64 `json:"unfinished,omitempty"`
}

// add adds o's counts to c.
func (c *JourneyCounts) add(o *JourneyCounts) {
	c.Started += o.Started
	c.Refused += o.Refused
	c.Completed += o.Completed
	c.Unfinished += o.Unfinished
	for i := range o.Reached {
		c.Reached[i] += o.Reached[i]
		c.Abandoned[i] += o.Abandoned[i]
	}
}

// WindowJourney counts a window's arrivals of one journey: the visitors
// the curve planned in the window, and what became of their sessions.
type WindowJourney struct {
	JourneyCounts
	// DurationSumMs sums the completed sessions' durations, from arrival
	// to the last step's end, think time included.
	DurationSumMs float64 `json:"duration_sum_ms"`
}

// JourneyTotal is a journey's whole-run funnel.
type JourneyTotal struct {
	Name string `json:"name"`
	// Steps are the step names, in order (requests "name/step").
	Steps []string `json:"steps"`
	// The counts, as in WindowJourney, over the run.
	JourneyCounts
	// Duration summarises completed sessions' durations.
	Duration LatencyStats `json:"duration"`
}

// LagStats summarises send lag in a window. In JSON: p50_ms, p99_ms,
// max_ms (see units.go).
type LagStats struct {
	P50 time.Duration
	P99 time.Duration
	Max time.Duration
}

// LatencyStats summarises a latency histogram. Latency is measured from the
// intended send time, so generator or connection waits are included. In
// JSON: count, min_ms … max_ms, hist (see units.go).
type LatencyStats struct {
	Count int64
	Min   time.Duration
	Mean  time.Duration
	P50   time.Duration
	P90   time.Duration
	P95   time.Duration
	P99   time.Duration
	Max   time.Duration
	// Hist is the HDR histogram (microseconds) in its compressed base64
	// encoding; merge and re-analyse with hist.Decode.
	Hist string
}

// WindowRequest holds one request name's figures in one window.
type WindowRequest struct {
	Count  uint64 `json:"count"`
	OK     uint64 `json:"ok"`
	Errors uint64 `json:"errors"`
	// Statuses counts responses by HTTP status code ("200": 95).
	Statuses map[string]uint64 `json:"statuses,omitempty"`
	// ErrorKinds counts transport failures by kind: timeout, refused, reset,
	// dns, tls, other.
	ErrorKinds map[string]uint64 `json:"error_kinds,omitempty"`
	BytesIn    uint64            `json:"bytes_in"`
	BytesOut   uint64            `json:"bytes_out"`
	Latency    LatencyStats      `json:"latency"`
	// Timing aggregates Server-Timing components by name.
	Timing map[string]*TimingStat `json:"server_timing,omitempty"`
	// BadTiming counts malformed Server-Timing headers (ignored).
	BadTiming uint64 `json:"bad_server_timing,omitempty"`

	// Evidence for the diagnosis, bounded per window and request name.

	// ErrorBodies are up to MaxBodySamples normalised error bodies (see
	// NormalizeBody) of failed responses, by status and text; texts that
	// differ only in their numbers count as one. ErrorBodyOther counts
	// failed responses whose text was not kept.
	ErrorBodies    []BodySample `json:"error_bodies,omitempty"`
	ErrorBodyOther uint64       `json:"error_body_other,omitempty"`
	// ErrorHeaders counts the diagnosis headers of failed responses:
	// "Retry-After", "RateLimit" (X-RateLimit-*, RateLimit-*),
	// "X-Upstream-Status: 429", "X-Upstream", "Server: nginx", "Via",
	// "X-Cache: MISS", "Content-Type: text/html".
	ErrorHeaders map[string]uint64 `json:"error_headers,omitempty"`
	// ErrorLatency summarises the latency of failed requests (responses
	// and transport errors), from the intended send time.
	ErrorLatency *ErrLatency `json:"error_latency,omitempty"`
	// FirstByteSumMs sums, over FirstByteCount responses, the time from the
	// intended send time to the response's header (time to first byte);
	// the rest of a response's latency is its body's transfer.
	FirstByteSumMs float64 `json:"first_byte_sum_ms,omitempty"`
	FirstByteCount uint64  `json:"first_byte_count,omitempty"`
}

// BodySample is one normalised error body and how many failed responses
// with that status carried it.
type BodySample struct {
	Status int    `json:"status"`
	Text   string `json:"text"`
	Count  uint64 `json:"count"`
	key    string // the text with its numbers folded, for grouping
}

// GroupKey is the text with its numbers folded (see BodyKey): samples with
// the same status and key are one sample, wherever they were recorded
// (merges of shards use it).
func (b BodySample) GroupKey() string { return strconv.Itoa(b.Status) + " " + BodyKey(b.Text) }

// ErrLatency summarises failed requests' latency, in milliseconds.
type ErrLatency struct {
	Count uint64  `json:"count"`
	SumMs float64 `json:"sum_ms"`
	MinMs float64 `json:"min_ms"`
	MaxMs float64 `json:"max_ms"`
}

func (e *ErrLatency) add(v float64) {
	if e.Count == 0 || v < e.MinMs {
		e.MinMs = v
	}
	e.MaxMs = max(e.MaxMs, v)
	e.SumMs += v
	e.Count++
}

// MeanMs returns the mean latency of the failures (0 without any).
func (e *ErrLatency) MeanMs() float64 {
	if e == nil || e.Count == 0 {
		return 0
	}
	return e.SumMs / float64(e.Count)
}

// Merge adds o into e.
func (e *ErrLatency) Merge(o *ErrLatency) {
	if o == nil || o.Count == 0 {
		return
	}
	if e.Count == 0 || o.MinMs < e.MinMs {
		e.MinMs = o.MinMs
	}
	e.MaxMs = max(e.MaxMs, o.MaxMs)
	e.SumMs += o.SumMs
	e.Count += o.Count
}

// TimingStat aggregates one Server-Timing component.
type TimingStat struct {
	// Count is how many responses carried the component.
	Count uint64 `json:"count"`
	// WithDur is how many of them gave a duration; SumMs and MaxMs are over those.
	WithDur uint64  `json:"with_dur"`
	SumMs   float64 `json:"sum_ms"`
	MaxMs   float64 `json:"max_ms"`
	// Desc counts the component's desc values (e.g. cache hit/miss).
	Desc map[string]uint64 `json:"desc,omitempty"`
}

// MeanMs returns the mean duration of the component in milliseconds.
func (t *TimingStat) MeanMs() float64 {
	if t == nil || t.WithDur == 0 {
		return 0
	}
	return t.SumMs / float64(t.WithDur)
}

// RequestTotal holds one request name's whole-run figures.
type RequestTotal struct {
	Name       string            `json:"name"`
	Count      uint64            `json:"count"`
	OK         uint64            `json:"ok"`
	Errors     uint64            `json:"errors"`
	Statuses   map[string]uint64 `json:"statuses,omitempty"`
	ErrorKinds map[string]uint64 `json:"error_kinds,omitempty"`
	BytesIn    uint64            `json:"bytes_in"`
	BytesOut   uint64            `json:"bytes_out"`
	// MaxBytesIn is the largest response body seen.
	MaxBytesIn uint64       `json:"max_bytes_in"`
	Latency    LatencyStats `json:"latency"`
	// Headers is a sample of response headers relevant to the audit
	// (caching, compression, CDN markers, content type), from the first
	// successful response; secrets are redacted.
	Headers map[string]string `json:"headers,omitempty"`
	// ServerTiming reports whether any response carried Server-Timing.
	ServerTiming bool `json:"server_timing"`
	// ErrorSamples are the most frequent error messages (at most five),
	// with counts; ErrorSamplesOther counts the failures whose message is
	// not among them, so that the samples and Errors add up.
	ErrorSamples      []ErrorSample `json:"error_samples,omitempty"`
	ErrorSamplesOther uint64        `json:"error_samples_other,omitempty"`
}

// ErrorSample is one distinct error message and how often it was seen.
type ErrorSample struct {
	Message string `json:"message"`
	Count   uint64 `json:"count"`
}

// LatencyGeometry returns the layout of spike's latency histograms:
// microseconds from 1 µs to 1 hour at 3 significant digits. Every histogram
// a result stores has it; merges of shards refuse any other.
func LatencyGeometry() hist.Geometry { return latencyGeometry }

// latencyGeometry is LatencyGeometry's value.
var latencyGeometry = func() hist.Geometry {
	g, err := hist.NewGeometry(histLowest, histHighest, histDigits)
	if err != nil {
		panic(err) // constants; covered by every test
	}
	return g
}()

// NewHist returns an empty latency histogram with spike's geometry
// (LatencyGeometry), values in microseconds.
func NewHist() *hist.Hist { return hist.New(latencyGeometry) }

// Stats summarises h (in microseconds) and, if encode is set, keeps its
// compressed encoding. Summarising many, use a Summarizer: it reuses its
// buffers.
func Stats(h *hist.Hist, encode bool) LatencyStats {
	var z Summarizer
	return z.StatsOf(h, encode)
}

// statPercentiles are the percentiles LatencyStats carries.
var statPercentiles = []float64{50, 90, 95, 99}

// Summarizer computes LatencyStats and encodings of histograms, reusing its
// encoder and buffers; the figures and bytes are hdrhistogram-go's (see
// package hist). It is not safe for concurrent use.
type Summarizer struct {
	enc  hist.Encoder
	vals []int64
}

// StatsOf is Stats of h.
func (z *Summarizer) StatsOf(h *hist.Hist, encode bool) LatencyStats {
	if h.Total() == 0 {
		return LatencyStats{}
	}
	s := z.stats(h.Summarize(statPercentiles, z.vals))
	if encode {
		s.Hist = z.enc.EncodeHist(h)
	}
	return s
}

func (z *Summarizer) stats(sum hist.Summary) LatencyStats {
	z.vals = sum.Values
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	return LatencyStats{
		Count: sum.Count, Min: us(sum.Min), Max: us(sum.Max),
		Mean: time.Duration(sum.Mean * float64(time.Microsecond)),
		P50:  us(sum.Values[0]), P90: us(sum.Values[1]), P95: us(sum.Values[2]), P99: us(sum.Values[3]),
	}
}

// newLiveHist returns an empty recorder histogram (NewHist).
func newLiveHist() *hist.Hist { return NewHist() }
