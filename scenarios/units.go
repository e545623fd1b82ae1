package scenarios

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Millis is a duration as result.json writes it: float milliseconds (12.5
// for 12.5 ms), read back to the nanosecond. result.json has one unit
// convention: every duration is a number of milliseconds in a field named
// `…_ms`, and every rate a number per second in a field named `…_rps`.
// The plan types below, and engine's, keep time.Duration in Go and convert
// at the JSON boundary.
type Millis time.Duration

// MarshalJSON writes m as float milliseconds.
func (m Millis) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(m)/1e6, 'f', -1, 64), nil
}

// UnmarshalJSON reads float milliseconds, rounded to the nanosecond.
func (m *Millis) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	ns := math.Round(f * 1e6)
	if math.IsNaN(ns) || ns >= math.MaxInt64 || ns <= math.MinInt64 {
		return fmt.Errorf("duration %v ms is out of range", f)
	}
	*m = Millis(ns)
	return nil
}

// limitsJSON is Limits on the wire.
type limitsJSON struct {
	P95       Millis  `json:"p95_ms"`
	P99       Millis  `json:"p99_ms,omitempty"`
	ErrorRate float64 `json:"error_rate"`
}

// MarshalJSON writes the limits with their durations in milliseconds.
func (l Limits) MarshalJSON() ([]byte, error) {
	return json.Marshal(limitsJSON{Millis(l.P95), Millis(l.P99), l.ErrorRate})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (l *Limits) UnmarshalJSON(b []byte) error {
	var w limitsJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*l = Limits{P95: time.Duration(w.P95), P99: time.Duration(w.P99), ErrorRate: w.ErrorRate}
	return nil
}

// sloJSON is SLO on the wire (SLO would otherwise take its embedded
// Limits' methods and lose its other fields).
type sloJSON struct {
	limitsJSON
	Sustain  int               `json:"sustain"`
	Requests map[string]Limits `json:"requests,omitempty"`
}

// MarshalJSON writes the SLO with its durations in milliseconds.
func (s SLO) MarshalJSON() ([]byte, error) {
	return json.Marshal(sloJSON{limitsJSON{Millis(s.P95), Millis(s.P99), s.ErrorRate}, s.Sustain, s.Requests})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *SLO) UnmarshalJSON(b []byte) error {
	var w sloJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*s = SLO{
		Limits:   Limits{P95: time.Duration(w.P95), P99: time.Duration(w.P99), ErrorRate: w.ErrorRate},
		Sustain:  w.Sustain,
		Requests: w.Requests,
	}
	return nil
}

// MarshalJSON writes the options with their durations in milliseconds.
func (o Options) MarshalJSON() ([]byte, error) {
	type plain Options
	return json.Marshal(struct {
		Timeout Millis `json:"timeout_ms"`
		Window  Millis `json:"window_ms"`
		plain
	}{Millis(o.Timeout), Millis(o.Window), plain(o)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (o *Options) UnmarshalJSON(b []byte) error {
	type plain Options
	w := struct {
		Timeout Millis `json:"timeout_ms"`
		Window  Millis `json:"window_ms"`
		*plain
	}{plain: (*plain)(o)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	o.Timeout, o.Window = time.Duration(w.Timeout), time.Duration(w.Window)
	return nil
}

// MarshalJSON writes the segment with its times in milliseconds.
func (s Segment) MarshalJSON() ([]byte, error) {
	type plain Segment
	return json.Marshal(struct {
		plain
		Start    Millis `json:"start_ms"`
		Duration Millis `json:"duration_ms"`
		HalfLife Millis `json:"half_life_ms,omitempty"`
		Period   Millis `json:"period_ms,omitempty"`
	}{plain(s), Millis(s.Start), Millis(s.Duration), Millis(s.HalfLife), Millis(s.Period)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Segment) UnmarshalJSON(b []byte) error {
	type plain Segment
	w := struct {
		*plain
		Start    Millis `json:"start_ms"`
		Duration Millis `json:"duration_ms"`
		HalfLife Millis `json:"half_life_ms"`
		Period   Millis `json:"period_ms"`
	}{plain: (*plain)(s)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	s.Start, s.Duration = time.Duration(w.Start), time.Duration(w.Duration)
	s.HalfLife, s.Period = time.Duration(w.HalfLife), time.Duration(w.Period)
	return nil
}
