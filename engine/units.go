package engine

import (
	"encoding/json"
	"time"

	"github.com/spikeload/spike/scenarios"
)

// result.json writes every duration as float milliseconds in a field named
// `…_ms` and every rate per second in a field named `…_rps` (see
// scenarios.Millis). The run's types keep time.Duration in Go; these
// methods convert at the JSON boundary.

type ms = scenarios.Millis

// MarshalJSON writes the start with its lateness in milliseconds.
func (s StartInfo) MarshalJSON() ([]byte, error) {
	type plain StartInfo
	return json.Marshal(struct {
		plain
		Lateness ms `json:"lateness_ms"`
	}{plain(s), ms(s.Lateness)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *StartInfo) UnmarshalJSON(b []byte) error {
	type plain StartInfo
	w := struct {
		*plain
		Lateness ms `json:"lateness_ms"`
	}{plain: (*plain)(s)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	s.Lateness = time.Duration(w.Lateness)
	return nil
}

// MarshalJSON writes the shard with its lag in milliseconds.
func (s ShardInfo) MarshalJSON() ([]byte, error) {
	type plain ShardInfo
	return json.Marshal(struct {
		plain
		LagP99 ms `json:"lag_p99_ms"`
	}{plain(s), ms(s.LagP99)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *ShardInfo) UnmarshalJSON(b []byte) error {
	type plain ShardInfo
	w := struct {
		*plain
		LagP99 ms `json:"lag_p99_ms"`
	}{plain: (*plain)(s)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	s.LagP99 = time.Duration(w.LagP99)
	return nil
}

// MarshalJSON writes the plan with its durations in milliseconds.
func (p PlanInfo) MarshalJSON() ([]byte, error) {
	type plain PlanInfo
	return json.Marshal(struct {
		Duration ms `json:"duration_ms"`
		Window   ms `json:"window_ms"`
		plain
	}{ms(p.Duration), ms(p.Window), plain(p)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (p *PlanInfo) UnmarshalJSON(b []byte) error {
	type plain PlanInfo
	w := struct {
		Duration ms `json:"duration_ms"`
		Window   ms `json:"window_ms"`
		*plain
	}{plain: (*plain)(p)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	p.Duration, p.Window = time.Duration(w.Duration), time.Duration(w.Window)
	return nil
}

// MarshalJSON writes the window with its bounds in milliseconds.
func (w Window) MarshalJSON() ([]byte, error) {
	type plain Window
	return json.Marshal(struct {
		Start ms `json:"start_ms"`
		End   ms `json:"end_ms"`
		plain
	}{ms(w.Start), ms(w.End), plain(w)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (w *Window) UnmarshalJSON(b []byte) error {
	type plain Window
	v := struct {
		Start ms `json:"start_ms"`
		End   ms `json:"end_ms"`
		*plain
	}{plain: (*plain)(w)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	w.Start, w.End = time.Duration(v.Start), time.Duration(v.End)
	return nil
}

// lagJSON is LagStats on the wire.
type lagJSON struct {
	P50 ms `json:"p50_ms"`
	P99 ms `json:"p99_ms"`
	Max ms `json:"max_ms"`
}

// MarshalJSON writes the lag in milliseconds.
func (l LagStats) MarshalJSON() ([]byte, error) {
	return json.Marshal(lagJSON{ms(l.P50), ms(l.P99), ms(l.Max)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (l *LagStats) UnmarshalJSON(b []byte) error {
	var w lagJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*l = LagStats{time.Duration(w.P50), time.Duration(w.P99), time.Duration(w.Max)}
	return nil
}

// latencyJSON is LatencyStats on the wire.
type latencyJSON struct {
	Count int64  `json:"count"`
	Min   ms     `json:"min_ms"`
	Mean  ms     `json:"mean_ms"`
	P50   ms     `json:"p50_ms"`
	P90   ms     `json:"p90_ms"`
	P95   ms     `json:"p95_ms"`
	P99   ms     `json:"p99_ms"`
	Max   ms     `json:"max_ms"`
	Hist  string `json:"hist,omitempty"`
}

// MarshalJSON writes the summary with its durations in milliseconds.
func (s LatencyStats) MarshalJSON() ([]byte, error) {
	return json.Marshal(latencyJSON{s.Count, ms(s.Min), ms(s.Mean), ms(s.P50), ms(s.P90), ms(s.P95), ms(s.P99), ms(s.Max), s.Hist})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *LatencyStats) UnmarshalJSON(b []byte) error {
	var w latencyJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*s = LatencyStats{
		Count: w.Count, Min: time.Duration(w.Min), Mean: time.Duration(w.Mean),
		P50: time.Duration(w.P50), P90: time.Duration(w.P90), P95: time.Duration(w.P95),
		P99: time.Duration(w.P99), Max: time.Duration(w.Max), Hist: w.Hist,
	}
	return nil
}
