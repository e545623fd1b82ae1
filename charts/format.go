package charts

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spikeload/spike/analysis"
	"github.com/spikeload/spike/scenarios"
)

// sig4 rounds v to 4 significant digits, which is all a chart can show and
// keeps the page small.
func sig4(v float64) float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	d := math.Ceil(math.Log10(math.Abs(v)))
	p := math.Pow(10, 4-d)
	return math.Round(v*p) / p
}

// msec rounds a time offset in seconds to the millisecond.
func msec(s float64) float64 { return math.Round(s*1000) / 1000 }

// fmtMs formats a latency given in milliseconds: "850 ms", "1.25 s".
func fmtMs(ms float64) string {
	switch {
	case ms <= 0:
		return "0 ms"
	case ms >= 1000:
		return strconv.FormatFloat(sig3(ms/1000), 'f', -1, 64) + " s"
	case ms < 1:
		return strconv.FormatFloat(math.Round(ms*1000)/1000, 'f', -1, 64) + " ms"
	default:
		return strconv.FormatFloat(sig3(ms), 'f', -1, 64) + " ms"
	}
}

func sig3(v float64) float64 {
	if v == 0 {
		return 0
	}
	d := math.Ceil(math.Log10(math.Abs(v)))
	p := math.Pow(10, 3-d)
	if p > 1 {
		return math.Round(v*p) / p
	}
	return math.Round(v)
}

// fmtDur formats a duration for people: "1.5s", "2m30s", "1h0m0s".
func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	default:
		return d.Round(time.Second).String()
	}
}

// fmtOffset formats an offset from the start of the run, in seconds, as
// m:ss or h:mm:ss (the charts' time axis uses the same form).
func fmtOffset(s float64) string {
	t := int(math.Round(s))
	if t < 0 {
		t = 0
	}
	h, m, sec := t/3600, t%3600/60, t%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, sec)
	}
	return fmt.Sprintf("%d:%02d", m, sec)
}

// fmtRate formats a rate in req/s, with its multiple of the baseline when
// there is one: "120 req/s (4.0x)".
func fmtRate(rps, baseline float64) string { return fmtRateIn(rps, baseline, "") }

// fmtRateIn is fmtRate in unit ("visitors/s" for journeys; "" is req/s).
func fmtRateIn(rate, baseline float64, unit string) string {
	if unit == "" {
		unit = "req/s"
	}
	s := scenarios.FormatRate(rate) + " " + unit
	if baseline > 0 {
		s += fmt.Sprintf(" (%.1fx)", rate/baseline)
	}
	return s
}

// fmtPoint formats a moment of the run: "120 req/s (4.0x) at 2:15", or
// with journeys "20.6 visitors/s (4.1x, 72 req/s) at 0:53".
func fmtPoint(p *analysis.Point, baseline float64) string {
	if p == nil {
		return "—"
	}
	return fmtPointRate(p, baseline) + " at " + fmtOffset(p.AtMs/1000)
}

// fmtPointRate formats a point's rate in its unit, with the request rate it
// meant when that unit is not req/s.
func fmtPointRate(p *analysis.Point, baseline float64) string {
	s := fmtRateIn(p.RateRPS, baseline, p.Unit)
	if p.Unit != "" && p.Unit != "req/s" && p.ReqRPS > 0 {
		req := scenarios.FormatRate(p.ReqRPS) + " req/s"
		if baseline > 0 {
			s = strings.TrimSuffix(s, ")") + ", " + req + ")"
		} else {
			s += " (" + req + ")"
		}
	}
	return s
}

// fmtPct formats a fraction as a percentage: "1.2%".
func fmtPct(f float64) string {
	switch {
	case f == 0:
		return "0%"
	case f < 0.001:
		return "<0.1%"
	}
	return strconv.FormatFloat(math.Round(f*1000)/10, 'f', -1, 64) + "%"
}

// fmtBytes formats a byte count: "512 B", "1.5 KiB", "3.2 MiB".
func fmtBytes(n float64) string {
	const k = 1024
	switch {
	case n < k:
		return fmt.Sprintf("%.0f B", n)
	case n < k*k:
		return fmt.Sprintf("%.1f KiB", n/k)
	case n < k*k*k:
		return fmt.Sprintf("%.1f MiB", n/(k*k))
	}
	return fmt.Sprintf("%.1f GiB", n/(k*k*k))
}

// fmtCounts formats a count map in descending count order, then by key:
// "200×950, 503×12".
func fmtCounts(m map[string]uint64) string {
	if len(m) == 0 {
		return "—"
	}
	keys := sortedKeys(m)
	sort.SliceStable(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
