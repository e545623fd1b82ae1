package scenarios

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Rate is a request rate as written in a scenario: absolute requests per
// second ("300", "12.5") or relative to the baseline ("5x", "500%"). The zero
// value means "not set".
type Rate struct {
	raw string
}

// RateOf returns an absolute Rate of v requests per second.
func RateOf(v float64) Rate { return Rate{raw: strconv.FormatFloat(v, 'f', -1, 64)} }

// Multiple returns a Rate of m times the baseline.
func Multiple(m float64) Rate { return Rate{raw: strconv.FormatFloat(m, 'f', -1, 64) + "x"} }

// UnmarshalYAML keeps the raw text; it is checked during validation, where
// the error can name the field and its position.
func (r *Rate) UnmarshalYAML(b []byte) error {
	r.raw = unquote(b)
	return nil
}

// MarshalYAML writes the rate as it was given.
func (r Rate) MarshalYAML() ([]byte, error) { return []byte(r.raw), nil }

// MarshalText writes the rate as it was given (used for JSON).
func (r Rate) MarshalText() ([]byte, error) { return []byte(r.raw), nil }

// UnmarshalText reads a rate from JSON or flags.
func (r *Rate) UnmarshalText(b []byte) error { r.raw = strings.TrimSpace(string(b)); return nil }

// IsSet reports whether the rate was given.
func (r Rate) IsSet() bool { return r.raw != "" }

// String returns the rate as written.
func (r Rate) String() string { return r.raw }

// Resolve returns the rate in requests per second, given the baseline.
func (r Rate) Resolve(baseline float64) (float64, error) {
	s := strings.TrimSpace(r.raw)
	if s == "" {
		return 0, fmt.Errorf("must be set")
	}
	mult := 0.0
	switch {
	case strings.HasSuffix(s, "x") || strings.HasSuffix(s, "X"):
		mult = 1
		s = strings.TrimSpace(s[:len(s)-1])
	case strings.HasSuffix(s, "%"):
		mult = 0.01
		s = strings.TrimSpace(s[:len(s)-1])
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("not a rate (want req/s like 300, or a multiple of the baseline like 5x or 500%%), got %q", r.raw)
	}
	if mult != 0 {
		if baseline <= 0 {
			return 0, fmt.Errorf("relative rate %q needs a baseline > 0", r.raw)
		}
		v = v * mult * baseline
	}
	if v < 0 {
		return 0, fmt.Errorf("must be >= 0, got %s", r.raw)
	}
	return v, nil
}

// Duration is a time span as written in a scenario, in Go syntax ("90s",
// "2m", "1h30m"). A bare number is seconds.
type Duration struct {
	raw string
}

// Dur returns a Duration for d.
func Dur(d time.Duration) Duration { return Duration{raw: d.String()} }

// UnmarshalYAML keeps the raw text for validation.
func (d *Duration) UnmarshalYAML(b []byte) error { d.raw = unquote(b); return nil }

// MarshalYAML writes the duration as it was given.
func (d Duration) MarshalYAML() ([]byte, error) { return []byte(d.raw), nil }

// MarshalText writes the duration as it was given (used for JSON).
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.raw), nil }

// UnmarshalText reads a duration from JSON.
func (d *Duration) UnmarshalText(b []byte) error { d.raw = strings.TrimSpace(string(b)); return nil }

// IsSet reports whether the duration was given.
func (d Duration) IsSet() bool { return d.raw != "" }

// String returns the duration as written.
func (d Duration) String() string { return d.raw }

// Parse returns the duration.
func (d Duration) Parse() (time.Duration, error) {
	s := strings.TrimSpace(d.raw)
	if s == "" {
		return 0, fmt.Errorf("must be set")
	}
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > 1e9 {
			return 0, fmt.Errorf("not a duration, got %q", d.raw)
		}
		return time.Duration(v * float64(time.Second)), nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("not a duration (want e.g. 30s, 2m, 1h30m), got %q", d.raw)
	}
	return v, nil
}

// Fraction is a share written as a percentage ("1%", "0.5%") or a plain
// fraction ("0.01").
type Fraction struct {
	raw string
}

// UnmarshalYAML keeps the raw text for validation.
func (f *Fraction) UnmarshalYAML(b []byte) error { f.raw = unquote(b); return nil }

// MarshalYAML writes the fraction as it was given.
func (f Fraction) MarshalYAML() ([]byte, error) { return []byte(f.raw), nil }

// MarshalText writes the fraction as it was given (used for JSON).
func (f Fraction) MarshalText() ([]byte, error) { return []byte(f.raw), nil }

// UnmarshalText reads a fraction from JSON.
func (f *Fraction) UnmarshalText(b []byte) error { f.raw = strings.TrimSpace(string(b)); return nil }

// IsSet reports whether the fraction was given.
func (f Fraction) IsSet() bool { return f.raw != "" }

// String returns the fraction as written.
func (f Fraction) String() string { return f.raw }

// Parse returns the fraction in [0, 1].
func (f Fraction) Parse() (float64, error) {
	s := strings.TrimSpace(f.raw)
	pct := strings.HasSuffix(s, "%")
	if pct {
		s = strings.TrimSpace(strings.TrimSuffix(s, "%"))
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) {
		return 0, fmt.Errorf("not a percentage (want e.g. 1%% or 0.01), got %q", f.raw)
	}
	if pct {
		v /= 100
	}
	if v < 0 || v > 1 {
		return 0, fmt.Errorf("must be between 0%% and 100%%, got %s", f.raw)
	}
	return v, nil
}

func unquote(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\'') {
		if u, err := strconv.Unquote(s); err == nil {
			return u
		}
		return s[1 : len(s)-1]
	}
	return s
}
