package result

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// upgradeUnits rewrites a document of schema version 1 or 2, decoded as
// generic JSON (numbers as json.Number), into version 3's names and units:
//
//   - every `…_ns` duration of the run becomes `…_ms`, in milliseconds
//     (windows' start/end, latency summaries, send lag, the plan's duration
//     and window, a start's lateness, a shard's lag);
//   - the plan's unsuffixed durations in nanoseconds become `…_ms`: the
//     segments' start, duration, half_life and period, the SLO's p95 and
//     p99 (also per request), the options' timeout and window;
//   - unsuffixed rates gain `_rps`: the plan's baseline (and peak_rate,
//     now peak_rps), the segments' from, to, low and high, the gate's
//     survive and min_capacity, the windows' planned_rate (planned_rps).
//
// The analysis and search sections already had `_ms` and `_rps`; the
// scenario as written (plan.scenario) is the user's input and is kept as
// it was.
func upgradeUnits(doc map[string]any) error {
	for k, v := range doc {
		switch k {
		case "analysis", "search":
		case "plan":
			p, ok := v.(map[string]any)
			if !ok {
				continue
			}
			if err := upgradePlan(p); err != nil {
				return fmt.Errorf("plan: %w", err)
			}
		case "windows":
			ws, _ := v.([]any)
			for i, w := range ws {
				m, ok := w.(map[string]any)
				if !ok {
					continue
				}
				rename(m, "planned_rate", "planned_rps")
				if err := nsToMs(m); err != nil {
					return fmt.Errorf("windows[%d]: %w", i, err)
				}
			}
		default:
			if err := nsToMs(v); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
		}
	}
	return nil
}

func upgradePlan(p map[string]any) error {
	rename(p, "baseline", "baseline_rps")
	rename(p, "peak_rate", "peak_rps")
	sc, had := p["scenario"]
	delete(p, "scenario")
	err := nsToMs(p)
	if had {
		p["scenario"] = sc
	}
	if err != nil {
		return err
	}
	segs, _ := p["segments"].([]any)
	for i, s := range segs {
		m, ok := s.(map[string]any)
		if !ok {
			continue
		}
		for _, k := range []string{"from", "to", "low", "high"} {
			rename(m, k, k+"_rps")
		}
		for _, k := range []string{"start", "duration", "half_life", "period"} {
			if err := durToMs(m, k); err != nil {
				return fmt.Errorf("segments[%d]: %w", i, err)
			}
		}
	}
	limits := func(m map[string]any) error {
		for _, k := range []string{"p95", "p99"} {
			if err := durToMs(m, k); err != nil {
				return err
			}
		}
		return nil
	}
	if slo, ok := p["slo"].(map[string]any); ok {
		if err := limits(slo); err != nil {
			return fmt.Errorf("slo: %w", err)
		}
		reqs, _ := slo["requests"].(map[string]any)
		for name, l := range reqs {
			if m, ok := l.(map[string]any); ok {
				if err := limits(m); err != nil {
					return fmt.Errorf("slo.requests[%q]: %w", name, err)
				}
			}
		}
	}
	if o, ok := p["options"].(map[string]any); ok {
		for _, k := range []string{"timeout", "window"} {
			if err := durToMs(o, k); err != nil {
				return fmt.Errorf("options: %w", err)
			}
		}
	}
	if g, ok := p["gate"].(map[string]any); ok {
		rename(g, "survive", "survive_rps")
		rename(g, "min_capacity", "min_capacity_rps")
	}
	return nil
}

// rename moves m[from] to m[to], if m has from.
func rename(m map[string]any, from, to string) {
	if v, ok := m[from]; ok {
		delete(m, from)
		m[to] = v
	}
}

// durToMs replaces m[k], integer nanoseconds, with m[k+"_ms"] in
// milliseconds.
func durToMs(m map[string]any, k string) error {
	v, ok := m[k]
	if !ok {
		return nil
	}
	delete(m, k)
	n, ok := v.(json.Number)
	if !ok {
		return fmt.Errorf("%s: %v is not a duration in nanoseconds", k, v)
	}
	f, err := nsNumberToMs(n)
	if err != nil {
		return fmt.Errorf("%s: %w", k, err)
	}
	m[k+"_ms"] = f
	return nil
}

// nsToMs renames every `…_ns` number under v to `…_ms`, in milliseconds.
func nsToMs(v any) error {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			e := x[k]
			if n, ok := e.(json.Number); ok && strings.HasSuffix(k, "_ns") {
				f, err := nsNumberToMs(n)
				if err != nil {
					return fmt.Errorf("%s: %w", k, err)
				}
				delete(x, k)
				x[strings.TrimSuffix(k, "_ns")+"_ms"] = f
				continue
			}
			if err := nsToMs(e); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
		}
	case []any:
		for i, e := range x {
			if err := nsToMs(e); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
	}
	return nil
}

// nsNumberToMs converts integer nanoseconds to milliseconds exactly: the
// integer's millisecond part and its remainder are divided apart, so that
// reading the milliseconds back rounds to the same nanosecond.
func nsNumberToMs(n json.Number) (json.Number, error) {
	i, err := n.Int64()
	if err != nil {
		return "", fmt.Errorf("%s is not a duration in nanoseconds", n)
	}
	s := fmt.Sprintf("%d.%06d", i/1e6, abs(i%1e6))
	if i < 0 && i > -1e6 {
		s = "-" + s
	}
	return json.Number(strings.TrimRight(strings.TrimRight(s, "0"), ".")), nil
}

func abs(i int64) int64 {
	if i < 0 {
		return -i
	}
	return i
}
