package analysis

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// fmtRate formats a rate in req/s: "64", "42.5", "2.4".
func fmtRate(r float64) string {
	switch {
	case r >= 100:
		return strconv.FormatFloat(math.Round(r), 'f', -1, 64)
	case r >= 10:
		return strings.TrimSuffix(strconv.FormatFloat(r, 'f', 1, 64), ".0")
	default:
		s := strconv.FormatFloat(r, 'f', 2, 64)
		s = strings.TrimRight(s, "0")
		return strings.TrimSuffix(s, ".")
	}
}

// fmtMs formats milliseconds: "0.7 ms", "12 ms", "850 ms", "1.9 s".
func fmtMs(v float64) string {
	switch {
	case v >= 10000:
		return fmt.Sprintf("%.0f s", v/1000)
	case v >= 1000:
		return fmt.Sprintf("%.1f s", v/1000)
	case v >= 10:
		return fmt.Sprintf("%.0f ms", v)
	default:
		return fmt.Sprintf("%.1f ms", v)
	}
}

// fmtMult formats a multiple of the baseline: "3.2x" ("" without one).
func fmtMult(m float64) string {
	if m <= 0 {
		return ""
	}
	if m >= 10 {
		return fmt.Sprintf("%.0fx", m)
	}
	return fmt.Sprintf("%.1fx", m)
}

// fmtPct formats a fraction as a percentage: "30%", "0.4%".
func fmtPct(f float64) string {
	p := 100 * f
	switch {
	case p == 0:
		return "0%"
	case p < 1:
		return fmt.Sprintf("%.1f%%", p)
	}
	return fmt.Sprintf("%.0f%%", p)
}

// fmtBytes formats a size: "361 kB", "1.2 MB".
func fmtBytes(n uint64) string {
	switch {
	case n >= 1_000_000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1000:
		return fmt.Sprintf("%.0f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}

// at formats a point as "64 req/s (3.2x)", or for journeys
// "20 visitors/s (4.0x, 83 req/s)".
func (p *Point) at() string {
	if p == nil {
		return ""
	}
	unit := p.Unit
	if unit == "" {
		unit = "req/s"
	}
	s := fmtRate(p.RateRPS) + " " + unit
	var paren []string
	if m := fmtMult(p.Multiple); m != "" {
		paren = append(paren, m)
	}
	if p.ReqRPS > 0 {
		paren = append(paren, fmtRate(p.ReqRPS)+" req/s")
	}
	if len(paren) > 0 {
		s += " (" + strings.Join(paren, ", ") + ")"
	}
	return s
}

// clock formats a run offset in ms as m:ss.
func clock(atMs float64) string {
	s := int(atMs / 1000)
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// plural returns "1 thing" or "n things".
func plural(n uint64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
