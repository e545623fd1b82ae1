package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// FieldError is one problem in a scenario file, with its position.
type FieldError struct {
	File   string
	Line   int
	Column int
	// Field is the path of the field ("stages[2].ramp.to"), or "" for
	// syntax errors.
	Field string
	Msg   string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// LoadError holds every problem found in a scenario, in file order.
type LoadError struct {
	Errs []*FieldError
}

func (e *LoadError) Error() string {
	msgs := make([]string, len(e.Errs))
	for i, fe := range e.Errs {
		msgs[i] = fe.Error()
	}
	return strings.Join(msgs, "\n")
}

// IsLoadError reports whether err is (or wraps) a problem with the
// scenario itself, as opposed to, say, an unreadable file.
func IsLoadError(err error) bool {
	var le *LoadError
	return errors.As(err, &le)
}

// Overrides replace scenario settings from the command line. Zero values
// leave the scenario's settings alone.
type Overrides struct {
	Target    string
	Baseline  string
	TimeScale float64
	// Duration stretches or compresses the whole curve to this length.
	Duration time.Duration
	// AllowHosts are added to the scenario's allow_hosts.
	AllowHosts []string
}

// Load reads, validates and resolves the scenario file at path.
func Load(path string, ov Overrides) (*Plan, error) {
	data, err := ReadFileMax(path, MaxScenarioSize)
	if se := (*SizeError)(nil); errors.As(err, &se) {
		return nil, &LoadError{Errs: []*FieldError{{File: path, Msg: fmt.Sprintf("file too large (limit %s)", formatBytes(se.Limit))}}}
	}
	if err != nil {
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	return Parse(path, data, ov)
}

// Parse validates and resolves a scenario. name is used in error messages
// and to resolve body_file paths (relative to its directory).
func Parse(name string, data []byte, ov Overrides) (*Plan, error) {
	short := name
	fail := func(line, col int, field, msg string) error {
		return &LoadError{Errs: []*FieldError{{File: short, Line: line, Column: col, Field: field, Msg: msg}}}
	}
	if len(data) > MaxScenarioSize {
		return nil, fail(0, 0, "", fmt.Sprintf("file too large (%d bytes, limit %s)", len(data), formatBytes(MaxScenarioSize)))
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fail(0, 0, "", "empty scenario")
	}
	var sc Scenario
	file, err := decodeStrict(data, &sc)
	if err != nil {
		return nil, yamlErr(short, err)
	}
	v := &validator{file: short, ast: file, dir: filepath.Dir(name)}
	applyOverrides(&sc, ov, v)
	plan := v.resolve(sc, ov)
	if len(v.errs) > 0 {
		sort.SliceStable(v.errs, func(i, j int) bool {
			a, b := v.errs[i], v.errs[j]
			if a.Line != b.Line {
				return a.Line < b.Line
			}
			return a.Column < b.Column
		})
		return nil, &LoadError{Errs: v.errs}
	}
	plan.File = name
	return plan, nil
}

// decodeStrict parses data and decodes it into sc, refusing unknown fields.
// goccy/go-yaml (v1.19.2) panics on some malformed input, such as a tagged
// sequence item with no value (see testdata/fuzz); that becomes an error.
func decodeStrict(data []byte, sc *Scenario) (file *ast.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			file, err = nil, fmt.Errorf("malformed YAML: %v", r)
		}
	}()
	if err := checkFlowDepth(data); err != nil {
		return nil, err
	}
	if file, err = parser.ParseBytes(data, 0); err != nil {
		return nil, err
	}
	if err := checkTree(file); err != nil {
		return nil, err
	}
	if err := yaml.NewDecoder(bytes.NewReader(data), yaml.Strict()).Decode(sc); err != nil {
		return nil, err
	}
	return file, nil
}

func yamlErr(file string, err error) error {
	var be *boundsError
	if errors.As(err, &be) {
		return &LoadError{Errs: []*FieldError{{File: file, Line: be.line, Column: be.col, Msg: be.msg}}}
	}
	var ye yaml.Error
	if errors.As(err, &ye) {
		fe := &FieldError{File: file, Msg: ye.GetMessage()}
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			fe.Line, fe.Column = tk.Position.Line, tk.Position.Column
		}
		fe.Msg = strings.TrimSpace(strings.ReplaceAll(fe.Msg, "\n", " "))
		var te *yaml.TypeError
		if errors.As(err, &te) {
			// go-yaml names the Go type ("Go struct field Scenario.Options
			// of type int"); say it in the scenario's own words instead.
			if tk := te.GetToken(); tk != nil {
				if key := keyBefore(tk); key != "" {
					fe.Field = key
					fe.Msg = fmt.Sprintf("want %s, got %q", yamlKind(fe.Msg), tk.Value)
				}
			}
		}
		return &LoadError{Errs: []*FieldError{fe}}
	}
	return &LoadError{Errs: []*FieldError{{File: file, Msg: err.Error()}}}
}

// keyBefore returns the mapping key a value token belongs to, or "".
func keyBefore(tk *token.Token) string {
	p := tk.Prev
	if p == nil || p.Type != token.MappingValueType {
		return ""
	}
	if k := p.Prev; k != nil && k.Position != nil && k.Value != "" {
		return k.Value
	}
	return ""
}

// yamlKind describes the Go type named at the end of a go-yaml type error.
func yamlKind(msg string) string {
	i := strings.LastIndex(msg, "of type ")
	if i < 0 {
		return "another kind of value"
	}
	t := msg[i+len("of type "):]
	switch {
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		return "a whole number"
	case strings.HasPrefix(t, "float"), strings.HasPrefix(t, "*float"):
		return "a number"
	case strings.HasPrefix(t, "bool"), strings.HasPrefix(t, "*bool"):
		return "true or false"
	case t == "string":
		return "text"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	default:
		return "a mapping"
	}
}

func applyOverrides(sc *Scenario, ov Overrides, v *validator) {
	if ov.Target != "" {
		sc.Target = ov.Target
	}
	if ov.Baseline != "" {
		sc.Baseline = Rate{raw: ov.Baseline}
	}
	if ov.TimeScale != 0 {
		ts := ov.TimeScale
		sc.TimeScale = &ts
	}
}

type validator struct {
	file string
	ast  *ast.File
	dir  string
	errs []*FieldError
	// target and allow are the plan's, for checking absolute request URLs.
	target string
	allow  []string
}

// errf records a problem with the field at path (dotted, with [i] indexes).
func (v *validator) errf(path, format string, args ...any) {
	line, col := v.position(path)
	v.errs = append(v.errs, &FieldError{File: v.file, Line: line, Column: col, Field: path, Msg: fmt.Sprintf(format, args...)})
}

// position finds the YAML position of path, walking up to the nearest
// parent that exists when the field itself is missing.
func (v *validator) position(path string) (int, int) {
	for p := path; ; {
		if p == "" {
			return 1, 1
		}
		if yp, err := yaml.PathString("$." + quotePath(p)); err == nil {
			if n, err := yp.FilterFile(v.ast); err == nil && n != nil {
				if tk := n.GetToken(); tk != nil && tk.Position != nil {
					return tk.Position.Line, tk.Position.Column
				}
			}
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			p = ""
		} else {
			p = p[:i]
		}
	}
}

// quotePath quotes map keys that YAML path syntax would misread.
func quotePath(p string) string {
	parts := strings.Split(p, ".")
	for i, s := range parts {
		key, idx := s, ""
		if j := strings.IndexByte(s, '['); j >= 0 {
			key, idx = s[:j], s[j:]
		}
		if strings.ContainsAny(key, " /{}:'-") {
			key = "'" + key + "'"
		}
		parts[i] = key + idx
	}
	return strings.Join(parts, ".")
}

func (v *validator) rate(path string, r Rate, baseline float64) (float64, bool) {
	x, err := r.Resolve(baseline)
	if err != nil {
		v.errf(path, "%v", err)
		return 0, false
	}
	if x > MaxRate {
		v.errf(path, "must be at most %d req/s, got %s (%.0f req/s)", MaxRate, r.raw, x)
		return 0, false
	}
	return x, true
}

func (v *validator) positiveDur(path string, d Duration) (time.Duration, bool) {
	x, err := d.Parse()
	if err != nil {
		v.errf(path, "%v", err)
		return 0, false
	}
	if x <= 0 {
		v.errf(path, "must be > 0, got %s", d.raw)
		return 0, false
	}
	return x, true
}

func (v *validator) resolve(sc Scenario, ov Overrides) *Plan {
	p := &Plan{Name: sc.Name, Description: sc.Description, Target: sc.Target, Scenario: sc}
	if p.Name == "" {
		p.Name = strings.TrimSuffix(filepath.Base(v.file), filepath.Ext(v.file))
	}
	if p.Target != "" && p.Target != "demo" {
		u, err := url.Parse(p.Target)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			field := "target"
			if ov.Target != "" {
				field = "--target"
			}
			v.errf(field, "must be an http(s) URL like http://127.0.0.1:8080, or demo, got %q", RedactURL(p.Target))
		}
	}
	for i, h := range append(append([]string(nil), sc.AllowHosts...), ov.AllowHosts...) {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "" || strings.ContainsAny(h, "/?#@ ") || strings.Contains(h, "://") {
			field := fmt.Sprintf("allow_hosts[%d]", i)
			if i >= len(sc.AllowHosts) {
				field = "--allow-host"
			}
			v.errf(field, "must be a host name, or host:port, like api.example.com, got %q", h)
			continue
		}
		p.AllowHosts = append(p.AllowHosts, h)
	}
	v.target, v.allow = p.Target, p.AllowHosts
	if !sc.Baseline.IsSet() {
		v.errf("baseline", "must be set: today's normal traffic in req/s, e.g. baseline: 20")
	} else if b, ok := v.rate("baseline", sc.Baseline, 0); ok {
		if b <= 0 {
			v.errf("baseline", "must be > 0, got %s", sc.Baseline.raw)
		} else if strings.ContainsAny(sc.Baseline.raw, "x%") {
			v.errf("baseline", "must be absolute req/s, got %s", sc.Baseline.raw)
		}
		p.Baseline = b
	}
	p.TimeScale = 1
	if sc.TimeScale != nil {
		if ts := *sc.TimeScale; !(ts > 0) || math.IsInf(ts, 0) {
			v.errf("time_scale", "must be > 0, got %v", ts)
		} else {
			p.TimeScale = ts
		}
	}
	segs := v.shape(sc, p)
	if len(v.errs) == 0 {
		for i := range segs {
			segs[i].Duration = time.Duration(float64(segs[i].Duration) / p.TimeScale)
			segs[i].HalfLife = time.Duration(float64(segs[i].HalfLife) / p.TimeScale)
			segs[i].Period = time.Duration(float64(segs[i].Period) / p.TimeScale)
		}
		if ov.Duration > 0 {
			var total time.Duration
			for _, s := range segs {
				total += s.Duration
			}
			if total > 0 {
				f := float64(ov.Duration) / float64(total)
				for i := range segs {
					segs[i].Duration = time.Duration(float64(segs[i].Duration) * f)
					segs[i].HalfLife = time.Duration(float64(segs[i].HalfLife) * f)
					segs[i].Period = time.Duration(float64(segs[i].Period) * f)
				}
				p.TimeScale /= f
			}
		}
		c, err := NewCurve(segs)
		switch {
		case err != nil:
			v.errf("stages", "%v", err)
		case c.Duration() <= 0:
			v.errf("stages", "the curve has no length")
		case c.Duration() > MaxDuration:
			v.errf("stages", "the run would last %s after time scaling; the limit is %s (raise time_scale)", c.Duration().Round(time.Second), MaxDuration)
		case c.Total() == 0:
			v.errf("stages", "the curve plans no requests")
		default:
			p.Curve = c
		}
	}
	p.Options = v.options(sc.Options, sc.Journeys != nil)
	switch {
	case sc.Journeys != nil && sc.Requests != nil:
		v.errf("journeys", "give either requests or journeys, not both")
	case sc.Journeys != nil:
		p.Requests, p.Journeys = v.journeys(sc.Journeys, p.Options)
	default:
		p.Requests = v.requests(sc.Requests, p.Options)
	}
	p.SLO = v.slo(sc.SLO, p.Requests)
	p.Abort = v.abort(sc.Abort, p.SLO)
	p.Gate = v.gate(sc.Gate, p.Baseline)
	return p
}

func (v *validator) abort(a *AbortSpec, slo SLO) Abort {
	var out Abort
	if a == nil {
		return out
	}
	out.For = DefaultAbortFor
	if a.ErrorRate.IsSet() {
		f, err := a.ErrorRate.Parse()
		if err != nil {
			v.errf("abort.error_rate", "%v", err)
		} else if f <= 0 {
			v.errf("abort.error_rate", "must be > 0%%, got %s", a.ErrorRate.raw)
		}
		out.ErrorRate = f
	}
	if a.P95.IsSet() {
		raw := strings.TrimSpace(a.P95.raw)
		if strings.HasSuffix(raw, "x") || strings.HasSuffix(raw, "X") {
			m, err := a.P95.Resolve(1)
			if err != nil || m <= 1 {
				v.errf("abort.p95", "must be a latency like 5s or a multiple of the SLO's p95 above 1, like 10x, got %s", raw)
			}
			out.P95 = time.Duration(m * float64(slo.P95))
		} else if d, ok := v.positiveDur("abort.p95", Duration{raw: raw}); ok {
			out.P95 = d
		}
	}
	if a.For.IsSet() {
		if d, ok := v.positiveDur("abort.for", a.For); ok {
			out.For = d
		}
	}
	if !out.Enabled() {
		v.errf("abort", "give error_rate or p95 (or both), e.g. abort: {error_rate: 50%%, p95: 10x, for: 5s}")
	}
	return out
}

func (v *validator) gate(g *GateSpec, baseline float64) Gate {
	var out Gate
	if g == nil {
		return out
	}
	out.Set = true
	if g.Survive.IsSet() {
		if r, ok := v.rate("gate.survive", g.Survive, baseline); ok {
			if r <= 0 {
				v.errf("gate.survive", "must be > 0, got %s", g.Survive.raw)
			}
			out.Survive = r
		}
	}
	if g.MinCapacity.IsSet() {
		if r, ok := v.rate("gate.min_capacity", g.MinCapacity, baseline); ok {
			if r <= 0 {
				v.errf("gate.min_capacity", "must be > 0, got %s", g.MinCapacity.raw)
			}
			out.MinCapacity = r
		}
	}
	if g.MaxRegression.IsSet() {
		f, err := g.MaxRegression.Parse()
		if err != nil {
			v.errf("gate.max_regression", "%v", err)
		}
		out.MaxRegression = f
	}
	return out
}

func (v *validator) shape(sc Scenario, p *Plan) []Segment {
	switch {
	case sc.Shape != nil && len(sc.Stages) > 0:
		v.errf("stages", "give either shape or stages, not both")
		return nil
	case sc.Shape == nil && len(sc.Stages) == 0:
		v.errf("shape", "must be set (a preset such as producthunt), or give stages")
		return nil
	case sc.Shape != nil:
		p.Shape = sc.Shape.Preset
		pre, err := LookupPreset(sc.Shape.Preset)
		if err != nil {
			v.errf("shape", "%v", err)
			return nil
		}
		peak := pre.Peak * p.Baseline
		if sc.Shape.Peak.IsSet() {
			var ok bool
			if peak, ok = v.rate("shape.peak", sc.Shape.Peak, p.Baseline); !ok {
				return nil
			}
			if peak <= 0 {
				v.errf("shape.peak", "must be > 0, got %s", sc.Shape.Peak.raw)
				return nil
			}
		}
		d := pre.Duration
		if sc.Shape.Duration.IsSet() {
			var ok bool
			if d, ok = v.positiveDur("shape.duration", sc.Shape.Duration); !ok {
				return nil
			}
		}
		if p.Baseline <= 0 {
			return nil
		}
		return pre.Segments(p.Baseline, peak, d)
	}
	p.Shape = "stages"
	var segs []Segment
	prev := p.Baseline
	for i, st := range sc.Stages {
		base := fmt.Sprintf("stages[%d]", i)
		n := 0
		for _, set := range []bool{st.Ramp != nil, st.Hold != nil, st.Spike != nil, st.Decay != nil, st.Wave != nil} {
			if set {
				n++
			}
		}
		if n != 1 {
			v.errf(base, "each stage is exactly one of ramp, hold, spike, decay, wave; got %d", n)
			continue
		}
		ok := true
		rateOf := func(field string, r Rate, def float64) float64 {
			if !r.IsSet() {
				return def
			}
			x, good := v.rate(base+"."+field, r, p.Baseline)
			ok = ok && good
			return x
		}
		durOf := func(field string, d Duration) time.Duration {
			x, good := v.positiveDur(base+"."+field, d)
			ok = ok && good
			return x
		}
		switch {
		case st.Ramp != nil:
			if !st.Ramp.To.IsSet() {
				v.errf(base+".ramp.to", "must be set")
				ok = false
			}
			from := rateOf("ramp.from", st.Ramp.From, prev)
			to := rateOf("ramp.to", st.Ramp.To, 0)
			d := durOf("ramp.duration", st.Ramp.Duration)
			if ok {
				segs = append(segs, ramp(from, to, d))
				prev = to
			}
		case st.Hold != nil:
			r := rateOf("hold.rate", st.Hold.Rate, prev)
			d := durOf("hold.duration", st.Hold.Duration)
			if ok {
				segs = append(segs, hold(r, d))
				prev = r
			}
		case st.Spike != nil:
			if !st.Spike.To.IsSet() {
				v.errf(base+".spike.to", "must be set")
				ok = false
			}
			to := rateOf("spike.to", st.Spike.To, 0)
			d := durOf("spike.duration", st.Spike.Duration)
			rise := spikeRise
			if st.Spike.Rise.IsSet() {
				rise = durOf("spike.rise", st.Spike.Rise)
			}
			if ok && rise > d {
				v.errf(base+".spike.rise", "must not exceed the stage's duration (%s), got %s", st.Spike.Duration.raw, st.Spike.Rise.raw)
				ok = false
			}
			if ok {
				up := ramp(prev, to, rise)
				up.Kind = "spike"
				segs = append(segs, up)
				if d > rise {
					segs = append(segs, hold(to, d-rise))
				}
				prev = to
			}
		case st.Decay != nil:
			if !st.Decay.To.IsSet() {
				v.errf(base+".decay.to", "must be set")
				ok = false
			}
			from := rateOf("decay.from", st.Decay.From, prev)
			to := rateOf("decay.to", st.Decay.To, 0)
			h := durOf("decay.half_life", st.Decay.HalfLife)
			d := durOf("decay.duration", st.Decay.Duration)
			if ok {
				s := decay(from, to, h, d)
				segs = append(segs, s)
				prev = s.rate(d.Seconds())
			}
		case st.Wave != nil:
			if !st.Wave.Low.IsSet() {
				v.errf(base+".wave.low", "must be set")
				ok = false
			}
			if !st.Wave.High.IsSet() {
				v.errf(base+".wave.high", "must be set")
				ok = false
			}
			lo := rateOf("wave.low", st.Wave.Low, 0)
			hi := rateOf("wave.high", st.Wave.High, 0)
			per := durOf("wave.period", st.Wave.Period)
			d := durOf("wave.duration", st.Wave.Duration)
			if ok && hi < lo {
				v.errf(base+".wave.high", "must be >= low (%s), got %s", st.Wave.Low.raw, st.Wave.High.raw)
				ok = false
			}
			if ok {
				s := Segment{Kind: "wave", Low: lo, High: hi, Period: per, Duration: d}
				segs = append(segs, s)
				prev = s.rate(d.Seconds())
			}
		}
	}
	return segs
}

func (v *validator) options(o OptionsSpec, journeys bool) Options {
	out := Options{
		Timeout: DefaultTimeout, Connections: DefaultConnections, KeepAlive: true,
		HTTP2: o.HTTP2, Insecure: o.Insecure, Window: DefaultWindow, Seed: DefaultSeed, Users: DefaultUsers,
	}
	if o.Timeout.IsSet() {
		if d, ok := v.positiveDur("options.timeout", o.Timeout); ok {
			if d > 10*time.Minute {
				v.errf("options.timeout", "must be at most 10m, got %s", o.Timeout.raw)
			}
			out.Timeout = d
		}
	}
	if o.Connections != 0 {
		if o.Connections < 1 || o.Connections > 100_000 {
			v.errf("options.connections", "must be between 1 and 100000, got %d", o.Connections)
		}
		out.Connections = o.Connections
	}
	if o.KeepAlive != nil {
		out.KeepAlive = *o.KeepAlive
	}
	if o.Window.IsSet() {
		if d, ok := v.positiveDur("options.window", o.Window); ok {
			if d < 100*time.Millisecond || d > time.Minute {
				v.errf("options.window", "must be between 100ms and 1m, got %s", o.Window.raw)
			}
			out.Window = d
		}
	}
	if o.Seed != nil {
		out.Seed = *o.Seed
	}
	if o.Users != 0 {
		if o.Users < 1 {
			v.errf("options.users", "must be >= 1, got %d", o.Users)
		}
		out.Users = o.Users
	}
	out.Mix = v.word("options.mix", o.Mix, MixRandom, MixInterleaved)
	out.Arrivals = v.word("options.arrivals", o.Arrivals, ArrivalsEven, ArrivalsPoisson)
	out.Redirects = v.word("options.redirects", o.Redirects, RedirectsNone, RedirectsSameHost)
	switch {
	case o.MaxSessions != nil && !journeys:
		v.errf("options.max_sessions", "only journeys have sessions: give journeys, or remove max_sessions")
	case o.MaxSessions != nil:
		if n := *o.MaxSessions; n < 1 || n > MaxMaxSessions {
			v.errf("options.max_sessions", "must be between 1 and %d, got %d", MaxMaxSessions, n)
		}
		out.MaxSessions = *o.MaxSessions
	case journeys:
		out.MaxSessions = DefaultMaxSessions
	}
	return out
}

// word returns got when it is one of words, the first of them (the
// default) when got is empty, and records an error otherwise.
func (v *validator) word(path, got string, words ...string) string {
	if got == "" {
		return words[0]
	}
	for _, w := range words {
		if got == w {
			return w
		}
	}
	v.errf(path, "must be %s, got %q", strings.Join(words, " or "), got)
	return ""
}

var methods = map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "OPTIONS": true}

func (v *validator) requests(specs []RequestSpec, opts Options) []*Request {
	if len(specs) == 0 {
		v.errf("requests", "must list at least one request (or give journeys instead)")
		return nil
	}
	var out []*Request
	seen := map[string]int{}
	sum := 0.0
	sc := &scope{vars: NewVars(rand.New(rand.NewPCG(1, 2)), opts.Users)}
	for i, rs := range specs {
		base := fmt.Sprintf("requests[%d]", i)
		r := v.request(base, rs, sc)
		if j, dup := seen[r.Name]; dup {
			v.errf(base+".name", "duplicate request name %q (also requests[%d])", r.Name, j)
		}
		seen[r.Name] = i
		if rs.Weight != nil {
			w := *rs.Weight
			if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
				v.errf(base+".weight", "must be >= 0, got %v", w)
			}
			r.Weight = w
		}
		sum += r.Weight
		out = append(out, r)
	}
	if sum <= 0 {
		v.errf("requests", "the weights add up to 0; at least one request needs weight > 0")
	}
	return out
}

// scope is what a request's templates may use: sample values, and in a
// journey's step the variables that earlier steps extract.
type scope struct {
	// vars renders each template once; vars.Vars holds a sample value for
	// every variable the step may use.
	vars *Vars
	// journey is the step's journey, or "" in a request mix.
	journey string
	buf     bytes.Buffer
}

// request validates and compiles one request (or a journey step's request)
// at base; its name defaults to "METHOD url". Weights and names are the
// caller's to check.
func (v *validator) request(base string, rs RequestSpec, sc *scope) *Request {
	r := &Request{Name: rs.Name, Method: strings.ToUpper(rs.Method), Layer: rs.Layer, Weight: 1}
	if r.Method == "" {
		r.Method = "GET"
	}
	if !methods[r.Method] {
		v.errf(base+".method", "must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, got %q", rs.Method)
	}
	if rs.URL == "" {
		v.errf(base+".url", "must be set (a path like /api/feed, relative to the target)")
	}
	if r.Name == "" {
		r.Name = r.Method + " " + rs.URL
	}
	if rs.Layer != "" && !IsLayer(rs.Layer) {
		v.errf(base+".layer", "must be one of %s, got %q", strings.Join(layerNames, ", "), rs.Layer)
	}
	for j, s := range rs.Expect {
		if s < 100 || s > 599 {
			v.errf(fmt.Sprintf("%s.expect[%d]", base, j), "must be an HTTP status (100-599), got %d", s)
		}
	}
	r.Expect = rs.Expect
	var err error
	if i := controlChar(rs.URL); i >= 0 {
		v.errf(base+".url", "holds a control character (%q at byte %d): %q", rs.URL[i], i, rs.URL)
	} else if msg := v.urlHost(rs.URL); msg != "" {
		v.errf(base+".url", "%s", msg)
	} else if r.URL, err = compileText(r.Name+" url", rs.URL); err != nil {
		v.errf(base+".url", "%v", err)
	} else if rs.URL != "" {
		v.checkRender(base+".url", r.URL, sc, true)
	}
	keys := make([]string, 0, len(rs.Headers))
	for k := range rs.Headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		path := base + ".headers." + k
		if !validHeaderName(k) {
			v.errf(path, "not a valid header name: %q", k)
			continue
		}
		if i := controlChar(rs.Headers[k]); i >= 0 {
			v.errf(path, "header value holds a control character (%q at byte %d), which no server accepts: %q", rs.Headers[k][i], i, rs.Headers[k])
			continue
		}
		t, err := compileText(k, rs.Headers[k])
		if err != nil {
			v.errf(path, "%v", err)
			continue
		}
		v.checkRender(path, t, sc, false)
		r.Headers = append(r.Headers, Header{Key: k, Value: t})
	}
	body := rs.Body
	bodyPath := base + ".body"
	if rs.BodyFile != "" {
		bodyPath = base + ".body_file"
		if rs.Body != "" {
			v.errf(base+".body_file", "give either body or body_file, not both")
		}
		f := rs.BodyFile
		if !filepath.IsAbs(f) {
			f = filepath.Join(v.dir, f)
		}
		b, err := ReadFileMax(f, MaxBodySize)
		if se := (*SizeError)(nil); errors.As(err, &se) {
			v.errf(base+".body_file", "%q is larger than %s, the largest body spike sends", rs.BodyFile, formatBytes(se.Limit))
		} else if err != nil {
			v.errf(base+".body_file", "cannot read %q: %v", rs.BodyFile, errors.Unwrap(err))
		}
		body = string(b)
	}
	if r.Body, err = compileText(r.Name+" body", body); err != nil {
		v.errf(bodyPath, "%v", err)
	} else {
		v.checkRender(bodyPath, r.Body, sc, false)
	}
	return r
}

// checkRender renders a template once with sample values so that template
// mistakes are found at load time, never during a run. A session variable
// ({{.Vars.name}}) must be extracted by an earlier step of the journey.
func (v *validator) checkRender(path string, t Text, sc *scope, isURL bool) {
	missing := false
	for _, name := range t.VarsUsed() {
		if _, ok := sc.vars.Vars[name]; ok {
			continue
		}
		missing = true
		if sc.journey == "" {
			v.errf(path, "uses {{.Vars.%s}}, but only a journey's steps have variables (extracted by an earlier step)", name)
		} else {
			v.errf(path, "uses {{.Vars.%s}}, which no earlier step of journey %q extracts", name, sc.journey)
		}
	}
	if missing {
		return
	}
	s, err := t.Render(sc.vars, &sc.buf)
	if err != nil {
		v.errf(path, "%v", err)
		return
	}
	if isURL {
		if _, err := url.Parse(s); err != nil {
			v.errf(path, "renders to a bad URL %q: %v", s, errors.Unwrap(err))
		}
	}
}

func (v *validator) limits(path string, p95, p99 Duration, er Fraction, def Limits) Limits {
	l := def
	if p95.IsSet() {
		if d, ok := v.positiveDur(path+".p95", p95); ok {
			l.P95 = d
		}
	}
	if p99.IsSet() {
		if d, ok := v.positiveDur(path+".p99", p99); ok {
			l.P99 = d
		}
	}
	if er.IsSet() {
		if f, err := er.Parse(); err != nil {
			v.errf(path+".error_rate", "%v", err)
		} else {
			l.ErrorRate = f
		}
	}
	return l
}

func (v *validator) slo(s SLOSpec, reqs []*Request) SLO {
	out := SLO{Limits: Limits{P95: DefaultP95, ErrorRate: DefaultErrorRate}, Sustain: DefaultSustain}
	out.Limits = v.limits("slo", s.P95, s.P99, s.ErrorRate, out.Limits)
	if s.Sustain != 0 {
		if s.Sustain < 1 || s.Sustain > 600 {
			v.errf("slo.sustain", "must be between 1 and 600 windows, got %d", s.Sustain)
		}
		out.Sustain = s.Sustain
	}
	names := map[string]bool{}
	for _, r := range reqs {
		names[r.Name] = true
	}
	keys := make([]string, 0, len(s.Requests))
	for k := range s.Requests {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		path := "slo.requests." + k
		if !names[k] {
			v.errf(path, "no request is named %q", k)
			continue
		}
		o := s.Requests[k]
		if out.Requests == nil {
			out.Requests = map[string]Limits{}
		}
		out.Requests[k] = v.limits(path, o.P95, o.P99, o.ErrorRate, out.Limits)
	}
	return out
}

// FormatRate formats a rate in req/s for humans.
func FormatRate(r float64) string {
	switch {
	case r >= 100:
		return strconv.FormatFloat(math.Round(r), 'f', -1, 64)
	case r >= 10:
		return strconv.FormatFloat(r, 'f', 1, 64)
	default:
		return strconv.FormatFloat(r, 'f', 2, 64)
	}
}

// validHeaderName reports whether k is an HTTP header name (an RFC 9110
// token: visible ASCII without separators).
func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// controlChar returns the index of the first control character (CR, LF, NUL,
// DEL, …; a tab is allowed) in s, or -1.
func controlChar(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return i
		}
	}
	return -1
}
