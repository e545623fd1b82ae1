package scenarios

import (
	"time"
)

// Layers are the layer names a request can be tagged with.
var layerNames = []string{"database", "backend", "frontend", "third-party", "auth"}

// IsLayer reports whether name is one of spike's layers: database, backend,
// frontend, third-party or auth.
func IsLayer(name string) bool {
	for _, l := range layerNames {
		if l == name {
			return true
		}
	}
	return false
}

// Defaults for a scenario's settings.
const (
	DefaultP95         = 500 * time.Millisecond
	DefaultErrorRate   = 0.01
	DefaultSustain     = 3
	DefaultTimeout     = 10 * time.Second
	DefaultConnections = 1000
	DefaultWindow      = time.Second
	DefaultSeed        = 1
	DefaultUsers       = 1000
	// MaxDuration bounds a run's length after time scaling.
	MaxDuration = 24 * time.Hour
	// MaxRate bounds a curve's peak, in requests per second.
	MaxRate = 1_000_000
)

// Limits are the SLO limits for one request or for the whole target.
// Zero P99 means not checked.
// In JSON: p95_ms, p99_ms and error_rate (see Millis).
type Limits struct {
	P95       time.Duration
	P99       time.Duration
	ErrorRate float64
}

// SLO is the resolved service level objective. In JSON: the limits' fields,
// sustain and requests (see Millis).
type SLO struct {
	Limits
	// Sustain is how many consecutive violating windows make a break.
	Sustain int
	// Requests holds per-request limits, by request name.
	Requests map[string]Limits
}

// For returns the limits that apply to the named request.
func (s SLO) For(name string) Limits {
	if l, ok := s.Requests[name]; ok {
		return l
	}
	return s.Limits
}

// Options are the resolved client and recording options. In JSON, the
// durations are timeout_ms and window_ms (see Millis).
type Options struct {
	Timeout     time.Duration `json:"-"`
	Connections int           `json:"connections"`
	KeepAlive   bool          `json:"keep_alive"`
	HTTP2       bool          `json:"http2"`
	Insecure    bool          `json:"insecure"`
	Window      time.Duration `json:"-"`
	Seed        int64         `json:"seed"`
	Users       int           `json:"users"`
	// Redirects is RedirectsNone or RedirectsSameHost.
	Redirects string `json:"redirects,omitempty"`
	// Mix is MixRandom or MixInterleaved.
	Mix string `json:"mix,omitempty"`
	// Arrivals is ArrivalsEven or ArrivalsPoisson.
	Arrivals string `json:"arrivals,omitempty"`
	// MaxSessions bounds the journeys' concurrent sessions (0 without
	// journeys).
	MaxSessions int `json:"max_sessions,omitempty"`
}

// Arrival processes (options.arrivals).
const (
	// ArrivalsEven sends the requests (or visitors) of the curve at exactly
	// even spacing.
	ArrivalsEven = "even"
	// ArrivalsPoisson spreads each window's planned count at random times
	// within the window (random gaps, the same count per window).
	ArrivalsPoisson = "poisson"
)

// DefaultMaxSessions bounds concurrent journey sessions by default.
const DefaultMaxSessions = 10000

// MaxMaxSessions is the largest options.max_sessions: each session holds
// its variables and cookie jar.
const MaxMaxSessions = 1_000_000

// Request mixes (options.mix).
const (
	// MixRandom draws each request's kind by weight from the seed.
	MixRandom = "random"
	// MixInterleaved gives every cycle of the weights its exact shares,
	// spread evenly (smooth weighted round-robin).
	MixInterleaved = "interleaved"
)

// Redirect policies (options.redirects).
const (
	// RedirectsNone follows no redirect: a 3xx is recorded as it is.
	RedirectsNone = "none"
	// RedirectsSameHost follows redirects to the same host only.
	RedirectsSameHost = "same-host"
)

// Abort is the resolved abort-on-fail rule. A zero Abort never aborts.
type Abort struct {
	// ErrorRate above which a window counts as down (0: not checked).
	ErrorRate float64 `json:"error_rate,omitempty"`
	// P95 above which a window counts as down (0: not checked).
	P95 time.Duration `json:"p95,omitempty"`
	// For is how long windows must be down in a row before the run stops.
	For time.Duration `json:"for,omitempty"`
}

// Enabled reports whether the rule can abort a run.
func (a Abort) Enabled() bool { return a.ErrorRate > 0 || a.P95 > 0 }

// DefaultAbortFor is how long an abort condition must hold by default.
const DefaultAbortFor = 5 * time.Second

// Gate is the resolved release gate. Zero fields are not checked.
type Gate struct {
	// Set is true when the scenario has a gate section.
	Set bool `json:"set"`
	// Survive is the planned rate (req/s) up to which every window must
	// meet the SLO; 0 means the whole run.
	Survive float64 `json:"survive_rps,omitempty"`
	// MinCapacity is the least capacity required, req/s.
	MinCapacity float64 `json:"min_capacity_rps,omitempty"`
	// MaxRegression is the largest allowed regression against a previous
	// result, as a fraction (0.1 for 10%).
	MaxRegression float64 `json:"max_regression,omitempty"`
}

// Plan is a validated, resolved scenario, ready to run.
type Plan struct {
	// Name and Description come from the scenario.
	Name        string
	Description string
	// File is the scenario's path, or "" when it was not loaded from a file.
	File string
	// Target is the base URL, "demo", or "" when not yet given.
	Target string
	// AllowHosts are the hosts named in allow_hosts and --allow-host,
	// lower case: other hosts requests may go to, and targets outside
	// loopback and private networks confirmed (see HostAllowed).
	AllowHosts []string
	// Baseline is today's normal traffic in requests per second (with
	// journeys, arriving visitors per second).
	Baseline float64
	// TimeScale is the compression applied to the written shape.
	TimeScale float64
	// Shape names the preset used, or "stages".
	Shape string
	// Curve is the planned rate over time.
	Curve *Curve
	// Requests is the compiled request mix. With journeys it holds every
	// journey's steps, named "journey/step", and the curve is the arrival
	// rate of visitors (see Journeys).
	Requests []*Request
	// Journeys are the scenario's journeys (nil for a request mix).
	Journeys []*Journey
	// SLO is the objective runs are judged by.
	SLO SLO
	// Options tune the client and recording.
	Options Options
	// Abort stops a run early once the target is clearly down.
	Abort Abort
	// Gate is what `spike run --gate` enforces.
	Gate Gate
	// Scenario is the scenario as written (after overrides).
	Scenario Scenario
}

// Peak returns the highest planned rate in req/s and as a multiple of the baseline.
func (p *Plan) Peak() (rps, multiple float64) {
	r, _ := p.Curve.Peak()
	if p.Baseline > 0 {
		return r, r / p.Baseline
	}
	return r, 0
}

// Multiple returns rate as a multiple of the baseline (0 without a baseline).
func (p *Plan) Multiple(rate float64) float64 {
	if p.Baseline <= 0 {
		return 0
	}
	return rate / p.Baseline
}
