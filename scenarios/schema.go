package scenarios

// Scenario is a scenario file as written. Field names are the YAML keys.
// Loading is strict: unknown keys and wrong types are errors.
type Scenario struct {
	// Name identifies the scenario in reports; defaults to the file name.
	Name string `yaml:"name,omitempty" json:"name,omitzero"`
	// Description says what the scenario models.
	Description string `yaml:"description,omitempty" json:"description,omitzero"`
	// Target is the base URL requests are relative to ("http://127.0.0.1:8080"),
	// or "demo" for the embedded example app.
	Target string `yaml:"target,omitempty" json:"target,omitzero"`
	// AllowHosts names the hosts other than the target's that requests may
	// go to (absolute request URLs), and confirms a target outside loopback
	// and private networks: "api.example.com" (any port) or "host:port".
	AllowHosts []string `yaml:"allow_hosts,omitempty" json:"allow_hosts,omitzero"`
	// Baseline is today's normal traffic in requests per second (with
	// journeys, arriving visitors per second); relative rates ("5x",
	// "500%") are multiples of it.
	Baseline Rate `yaml:"baseline,omitempty" json:"baseline,omitzero"`
	// Shape is a preset traffic shape; exactly one of Shape and Stages is set.
	Shape *ShapeSpec `yaml:"shape,omitempty" json:"shape,omitzero"`
	// Stages is an explicit traffic curve, stage after stage.
	Stages []StageSpec `yaml:"stages,omitempty" json:"stages,omitzero"`
	// TimeScale compresses the curve in time: 60 plays an hour in a minute.
	// Rates are unchanged. Default 1.
	TimeScale *float64 `yaml:"time_scale,omitempty" json:"time_scale,omitzero"`
	// Requests is the request mix: independent requests drawn by weight.
	// A scenario has requests or journeys, not both.
	Requests []RequestSpec `yaml:"requests,omitempty" json:"requests,omitzero"`
	// Journeys are visitors' paths through the target: steps sent in order
	// within a session, later steps using values extracted from earlier
	// responses. With journeys, the curve is the arrival rate of visitors.
	Journeys []JourneySpec `yaml:"journeys,omitempty" json:"journeys,omitzero"`
	// SLO is what "good" means for this target.
	SLO SLOSpec `yaml:"slo,omitempty" json:"slo,omitzero"`
	// Options tune the HTTP client and the recording.
	Options OptionsSpec `yaml:"options,omitempty" json:"options,omitzero"`
	// Abort stops a run early once the target is clearly down.
	Abort *AbortSpec `yaml:"abort,omitempty" json:"abort,omitzero"`
	// Gate is what `spike run --gate` enforces.
	Gate *GateSpec `yaml:"gate,omitempty" json:"gate,omitzero"`
}

// AllRequests returns the requests as written and then every journey's
// steps' requests, journey after journey: what the scenario sends, for
// callers that look at all of it (body files, secrets).
func (sc Scenario) AllRequests() []RequestSpec {
	out := append([]RequestSpec(nil), sc.Requests...)
	for _, j := range sc.Journeys {
		for _, st := range j.Steps {
			out = append(out, st.RequestSpec)
		}
	}
	return out
}

// AbortSpec stops a run early when the target is clearly down: the error
// rate above ErrorRate, or p95 above P95, for the length For.
type AbortSpec struct {
	// ErrorRate is the error share that counts as down, e.g. 50%.
	ErrorRate Fraction `yaml:"error_rate,omitempty" json:"error_rate,omitzero"`
	// P95 is a latency ("5s") or a multiple of the SLO's p95 ("10x").
	P95 Rate `yaml:"p95,omitempty" json:"p95,omitzero"`
	// For is how long the condition must hold; default 5s.
	For Duration `yaml:"for,omitempty" json:"for,omitzero"`
}

// GateSpec is the release gate `spike run --gate` enforces.
type GateSpec struct {
	// Survive is the rate up to which every window must meet the SLO
	// ("5x", or req/s); unset means the whole run.
	Survive Rate `yaml:"survive,omitempty" json:"survive,omitzero"`
	// MinCapacity is the least capacity the run must show ("3x" or req/s).
	MinCapacity Rate `yaml:"min_capacity,omitempty" json:"min_capacity,omitzero"`
	// MaxRegression is the largest allowed drop in capacity, or rise in
	// p95 at baseline, against a previous result (e.g. 10%).
	MaxRegression Fraction `yaml:"max_regression,omitempty" json:"max_regression,omitzero"`
}

// ShapeSpec names a preset and optionally overrides its parameters. In YAML
// it is either a preset name (`shape: producthunt`) or a mapping
// (`shape: {preset: producthunt, peak: 8x, duration: 2m}`).
type ShapeSpec struct {
	// Preset is the preset's name; see Presets.
	Preset string `yaml:"preset" json:"preset"`
	// Peak overrides the preset's peak rate.
	Peak Rate `yaml:"peak,omitempty" json:"peak,omitzero"`
	// Duration overrides the preset's length.
	Duration Duration `yaml:"duration,omitempty" json:"duration,omitzero"`
}

// UnmarshalYAML accepts a bare preset name or a mapping.
func (s *ShapeSpec) UnmarshalYAML(unmarshal func(any) error) error {
	var name string
	if err := unmarshal(&name); err == nil {
		s.Preset = name
		return nil
	}
	type plain ShapeSpec
	return unmarshal((*plain)(s))
}

// StageSpec is one stage of an explicit curve: exactly one field is set.
type StageSpec struct {
	Ramp  *RampSpec  `yaml:"ramp,omitempty" json:"ramp,omitzero"`
	Hold  *HoldSpec  `yaml:"hold,omitempty" json:"hold,omitzero"`
	Spike *SpikeSpec `yaml:"spike,omitempty" json:"spike,omitzero"`
	Decay *DecaySpec `yaml:"decay,omitempty" json:"decay,omitzero"`
	Wave  *WaveSpec  `yaml:"wave,omitempty" json:"wave,omitzero"`
}

// RampSpec is a linear change of rate from From (default: where the previous
// stage ended, or the baseline) to To over Duration.
type RampSpec struct {
	From     Rate     `yaml:"from,omitempty" json:"from,omitzero"`
	To       Rate     `yaml:"to" json:"to"`
	Duration Duration `yaml:"duration" json:"duration"`
}

// HoldSpec keeps a constant rate (default: where the previous stage ended).
type HoldSpec struct {
	Rate     Rate     `yaml:"rate,omitempty" json:"rate,omitzero"`
	Duration Duration `yaml:"duration" json:"duration"`
}

// SpikeSpec jumps to To within Rise (default 1s) and holds it for the rest
// of Duration.
type SpikeSpec struct {
	To       Rate     `yaml:"to" json:"to"`
	Rise     Duration `yaml:"rise,omitempty" json:"rise,omitzero"`
	Duration Duration `yaml:"duration" json:"duration"`
}

// DecaySpec falls exponentially from where the previous stage ended (or From)
// towards To, halving the distance every HalfLife.
type DecaySpec struct {
	From     Rate     `yaml:"from,omitempty" json:"from,omitzero"`
	To       Rate     `yaml:"to" json:"to"`
	HalfLife Duration `yaml:"half_life" json:"half_life"`
	Duration Duration `yaml:"duration" json:"duration"`
}

// WaveSpec oscillates between Low and High with the given Period, starting at
// Low (a daily cycle, say).
type WaveSpec struct {
	Low      Rate     `yaml:"low" json:"low"`
	High     Rate     `yaml:"high" json:"high"`
	Period   Duration `yaml:"period" json:"period"`
	Duration Duration `yaml:"duration" json:"duration"`
}

// RequestSpec is one kind of request in the mix.
type RequestSpec struct {
	// Name identifies the request in results; defaults to "METHOD url".
	Name string `yaml:"name,omitempty" json:"name,omitzero"`
	// Method is the HTTP method; default GET.
	Method string `yaml:"method,omitempty" json:"method,omitzero"`
	// URL is relative to the target ("/api/feed") or absolute; a template.
	URL string `yaml:"url" json:"url"`
	// Headers are sent with the request; values are templates.
	Headers map[string]string `yaml:"headers,omitempty" json:"headers,omitzero"`
	// Body is the request body; a template. Exclusive with BodyFile.
	Body string `yaml:"body,omitempty" json:"body,omitzero"`
	// BodyFile is a file (relative to the scenario) holding the body template.
	BodyFile string `yaml:"body_file,omitempty" json:"body_file,omitzero"`
	// Weight is the request's share of the mix; default 1.
	Weight *float64 `yaml:"weight,omitempty" json:"weight,omitzero"`
	// Layer tags the request with the layer it exercises: database, backend,
	// frontend, third-party or auth.
	Layer string `yaml:"layer,omitempty" json:"layer,omitzero"`
	// Expect lists the statuses that count as success; default 2xx and 3xx.
	Expect []int `yaml:"expect,omitempty" json:"expect,omitzero"`
}

// SLOSpec is the service level objective runs are judged by.
type SLOSpec struct {
	// P95 is the 95th-percentile latency limit; default 500ms.
	P95 Duration `yaml:"p95,omitempty" json:"p95,omitzero"`
	// P99 is the 99th-percentile latency limit; unset means not checked.
	P99 Duration `yaml:"p99,omitempty" json:"p99,omitzero"`
	// ErrorRate is the largest share of failed requests; default 1%.
	ErrorRate Fraction `yaml:"error_rate,omitempty" json:"error_rate,omitzero"`
	// Sustain is how many consecutive violating windows make a break; default 3.
	Sustain int `yaml:"sustain,omitempty" json:"sustain,omitzero"`
	// Requests overrides the limits for single requests, by name.
	Requests map[string]SLOOverride `yaml:"requests,omitempty" json:"requests,omitzero"`
}

// SLOOverride replaces some SLO limits for one request.
type SLOOverride struct {
	P95       Duration `yaml:"p95,omitempty" json:"p95,omitzero"`
	P99       Duration `yaml:"p99,omitempty" json:"p99,omitzero"`
	ErrorRate Fraction `yaml:"error_rate,omitempty" json:"error_rate,omitzero"`
}

// OptionsSpec tunes the client and the recording.
type OptionsSpec struct {
	// Timeout bounds each request; default 10s.
	Timeout Duration `yaml:"timeout,omitempty" json:"timeout,omitzero"`
	// Connections bounds the requests in flight (and open connections);
	// default 1000.
	Connections int `yaml:"connections,omitempty" json:"connections,omitzero"`
	// KeepAlive reuses connections; default true.
	KeepAlive *bool `yaml:"keep_alive,omitempty" json:"keep_alive,omitzero"`
	// HTTP2 allows HTTP/2 over TLS; default false.
	HTTP2 bool `yaml:"http2,omitempty" json:"http2,omitzero"`
	// Insecure skips TLS certificate checks; opt-in only.
	Insecure bool `yaml:"insecure,omitempty" json:"insecure,omitzero"`
	// Window is the recording window; default 1s.
	Window Duration `yaml:"window,omitempty" json:"window,omitzero"`
	// Seed makes the request mix and template values reproducible; default 1.
	Seed *int64 `yaml:"seed,omitempty" json:"seed,omitzero"`
	// Users is the size of the pool {{user}} draws ids from; default 1000.
	Users int `yaml:"users,omitempty" json:"users,omitzero"`
	// Redirects says which redirects to follow: none (the default: a 3xx is
	// recorded as it is) or same-host (up to 10, never to another host).
	Redirects string `yaml:"redirects,omitempty" json:"redirects,omitzero"`
	// Mix says how each request's kind is chosen: random (the default: drawn
	// by weight from the seed, so any window can run over or under a
	// share) or interleaved (exact shares over every cycle of the weights,
	// spread evenly: smooth weighted round-robin).
	Mix string `yaml:"mix,omitempty" json:"mix,omitzero" jsonschema:"enum=random,enum=interleaved"`
	// Arrivals says when requests (or, with journeys, visitors) leave: even
	// (the default: exactly even spacing along the curve, reproducible) or
	// poisson (each window's planned count at random times within the
	// window: random gaps and bursts, the same count per window).
	Arrivals string `yaml:"arrivals,omitempty" json:"arrivals,omitzero" jsonschema:"enum=even,enum=poisson"`
	// MaxSessions bounds the journeys' concurrent sessions; arrivals beyond
	// it are not started and are counted against the generator, never the
	// target. Default 10000; journeys only.
	MaxSessions *int `yaml:"max_sessions,omitempty" json:"max_sessions,omitzero"`
}
