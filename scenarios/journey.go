package scenarios

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// A journey is a visitor's path through the target: steps sent one after
// another within a session, each step's response feeding the next through
// extracted variables and the session's cookies. With journeys, the curve
// is the arrival rate of visitors.

// JourneySpec is one journey as written.
type JourneySpec struct {
	// Name identifies the journey; its steps are recorded as "name/step".
	Name string `yaml:"name" json:"name"`
	// Weight is the journey's share of arriving visitors; default 1.
	Weight *float64 `yaml:"weight,omitempty" json:"weight,omitzero"`
	// Steps are sent in order; a step that fails ends the session.
	Steps []StepSpec `yaml:"steps" json:"steps"`
	// Cookies keeps a cookie jar per session (default true): Set-Cookie
	// from one step is sent back by the next.
	Cookies *bool `yaml:"cookies,omitempty" json:"cookies,omitzero"`
}

// StepSpec is one step of a journey: a request, what to take from its
// response, and the pause before the next step.
type StepSpec struct {
	RequestSpec `yaml:",inline"`
	// Extract names values taken from the response into the session's
	// variables ({{.Vars.name}} in later steps). A step whose extraction
	// fails counts as failed.
	Extract map[string]ExtractSpec `yaml:"extract,omitempty" json:"extract,omitzero"`
	// Think is the pause before the next step: "2s", or a range "1s-5s"
	// drawn from the run's seeded stream.
	Think string `yaml:"think,omitempty" json:"think,omitzero"`
}

// ExtractSpec takes one value from a response: exactly one field is set.
type ExtractSpec struct {
	// JSON is a dotted path into a JSON body: "token", "user.id",
	// "items.0.id".
	JSON string `yaml:"json,omitempty" json:"json,omitzero"`
	// Header is a response header's name.
	Header string `yaml:"header,omitempty" json:"header,omitzero"`
	// Cookie is the name of a cookie the response sets.
	Cookie string `yaml:"cookie,omitempty" json:"cookie,omitzero"`
	// Regex is a regular expression over the body; the value is its first
	// group (or the whole match without one).
	Regex string `yaml:"regex,omitempty" json:"regex,omitzero"`
}

// Journey is a resolved journey.
type Journey struct {
	Name string
	// Weight is the journey's share of arrivals (not normalised).
	Weight float64
	// Steps are the journey's steps in order.
	Steps []*Step
	// Cookies is true when each session keeps a cookie jar.
	Cookies bool
}

// Step is a resolved step of a journey.
type Step struct {
	// Req is the step's index in Plan.Requests, where it is recorded (its
	// Request's name is "journey/step").
	Req int
	// Request is Plan.Requests[Req].
	Request *Request
	// Extract are the values the step takes from its response, in order.
	Extract []Extract
	// Think is the pause after the step.
	Think Think
}

// NeedsBody reports whether the step's extractions read the response body.
func (s *Step) NeedsBody() bool {
	for _, e := range s.Extract {
		if e.From == ExtractJSON || e.From == ExtractRegex {
			return true
		}
	}
	return false
}

// Where an Extract takes its value from.
const (
	ExtractJSON   = "json"
	ExtractHeader = "header"
	ExtractCookie = "cookie"
	ExtractRegex  = "regex"
)

// MaxExtractBody is how much of a response body extraction reads.
const MaxExtractBody = 256 << 10

// Extract is a resolved extraction.
type Extract struct {
	// Var is the session variable it sets.
	Var string
	// From is ExtractJSON, ExtractHeader, ExtractCookie or ExtractRegex;
	// Path is the JSON path, header or cookie name, or the expression.
	From, Path string
	path       []string
	re         *regexp.Regexp
}

// NewExtract compiles an extraction; the error says what is wrong with
// path.
func NewExtract(v, from, path string) (Extract, error) {
	e := Extract{Var: v, From: from, Path: path}
	switch from {
	case ExtractJSON:
		if path == "" || strings.HasPrefix(path, ".") || strings.HasSuffix(path, ".") || strings.Contains(path, "..") {
			return e, fmt.Errorf("bad JSON path %q: want dotted keys such as user.id or items.0.id", path)
		}
		e.path = strings.Split(path, ".")
	case ExtractHeader:
		if !validHeaderName(path) {
			return e, fmt.Errorf("bad header name %q", path)
		}
	case ExtractCookie:
		if path == "" || strings.ContainsAny(path, " \t;=,") {
			return e, fmt.Errorf("bad cookie name %q", path)
		}
	case ExtractRegex:
		re, err := regexp.Compile(path)
		if err != nil {
			return e, fmt.Errorf("bad regex: %v", err)
		}
		if re.NumSubexp() > 1 {
			return e, fmt.Errorf("regex %q has %d groups: want at most one, the value", path, re.NumSubexp())
		}
		e.re = re
	default:
		return e, fmt.Errorf("unknown source %q: want json, header, cookie or regex", from)
	}
	return e, nil
}

// Apply takes the value from a response's header and body (body may be a
// prefix of at most MaxExtractBody). The error says why nothing was found.
func (e *Extract) Apply(h http.Header, body []byte) (string, error) {
	switch e.From {
	case ExtractHeader:
		if v := h.Get(e.Path); v != "" {
			return v, nil
		}
		return "", fmt.Errorf("no %s header", e.Path)
	case ExtractCookie:
		for _, c := range (&http.Response{Header: h}).Cookies() {
			if c.Name == e.Path {
				return c.Value, nil
			}
		}
		return "", fmt.Errorf("no Set-Cookie for %s", e.Path)
	case ExtractRegex:
		m := e.re.FindSubmatch(body)
		if m == nil {
			return "", fmt.Errorf("regex %s did not match the body", e.Path)
		}
		return string(m[len(m)-1]), nil
	case ExtractJSON:
		var v any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return "", fmt.Errorf("body is not JSON (%v)", err)
		}
		for _, key := range e.path {
			switch x := v.(type) {
			case map[string]any:
				var ok bool
				if v, ok = x[key]; !ok {
					return "", fmt.Errorf("no %s in the JSON body", e.Path)
				}
			case []any:
				i, err := strconv.Atoi(key)
				if err != nil || i < 0 || i >= len(x) {
					return "", fmt.Errorf("no %s in the JSON body (%q is not an index of a %d-element list)", e.Path, key, len(x))
				}
				v = x[i]
			default:
				return "", fmt.Errorf("no %s in the JSON body", e.Path)
			}
		}
		switch x := v.(type) {
		case string:
			return x, nil
		case json.Number:
			return x.String(), nil
		case bool:
			return strconv.FormatBool(x), nil
		case nil:
			return "", fmt.Errorf("%s is null in the JSON body", e.Path)
		default:
			b, _ := json.Marshal(x)
			return string(b), nil
		}
	}
	return "", fmt.Errorf("unknown source %q", e.From)
}

// Think is a pause: Min when Max is zero, else drawn uniformly in [Min, Max].
type Think struct {
	Min, Max time.Duration
}

// ParseThink reads "2s", "500ms" or a range "1s-5s".
func ParseThink(s string) (Think, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Think{}, nil
	}
	lo, hi, isRange := strings.Cut(s, "-")
	a, err := time.ParseDuration(strings.TrimSpace(lo))
	if err != nil || a < 0 {
		return Think{}, fmt.Errorf("bad think time %q: want a duration (2s) or a range (1s-5s)", s)
	}
	if !isRange {
		return Think{Min: a}, nil
	}
	b, err := time.ParseDuration(strings.TrimSpace(hi))
	if err != nil || b < a {
		return Think{}, fmt.Errorf("bad think time %q: want a range low-high with low ≤ high (1s-5s)", s)
	}
	return Think{Min: a, Max: b}, nil
}

// Draw returns a pause, drawing from rng for a range.
func (t Think) Draw(rng *rand.Rand) time.Duration {
	if t.Max <= t.Min {
		return t.Min
	}
	return t.Min + time.Duration(rng.Int64N(int64(t.Max-t.Min)+1))
}

// Mean is the pause's mean.
func (t Think) Mean() time.Duration {
	if t.Max <= t.Min {
		return t.Min
	}
	return (t.Min + t.Max) / 2
}

// String writes the pause as ParseThink reads it.
func (t Think) String() string {
	if t.Max <= t.Min {
		return t.Min.String()
	}
	return t.Min.String() + "-" + t.Max.String()
}

// NewText compiles a string that may be a template (for plans built in
// code; scenario files are compiled by the loader).
func NewText(name, s string) (Text, error) { return compileText(name, s) }
