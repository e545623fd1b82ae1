package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/spikeload/spike/scenarios"
)

// columnRates returns the curve's mean rate over each of n equal slices.
func columnRates(c *scenarios.Curve, n int) []float64 {
	out := make([]float64, n)
	d := c.Duration()
	for i := range out {
		a := time.Duration(float64(d) * float64(i) / float64(n))
		b := time.Duration(float64(d) * float64(i+1) / float64(n))
		if b > a {
			out[i] = (c.Integral(b) - c.Integral(a)) / (b - a).Seconds()
		}
	}
	return out
}

var sparks = []rune("▁▂▃▄▅▆▇█")

// sparkline draws the curve in one line of n block characters.
func sparkline(c *scenarios.Curve, n int) string {
	rates := columnRates(c, n)
	peak := 0.0
	for _, r := range rates {
		peak = math.Max(peak, r)
	}
	var b strings.Builder
	for _, r := range rates {
		i := 0
		if peak > 0 {
			i = int(math.Round(r / peak * float64(len(sparks)-1)))
		}
		b.WriteRune(sparks[i])
	}
	return b.String()
}

// rateChart draws the curve as a width×height block chart with a rate axis
// on the left and a time axis below.
// unit names the rate: "req/s", or "visitors/s" for journeys.
func rateChart(w io.Writer, c *scenarios.Curve, baseline float64, unit string, width, height int) {
	rates := columnRates(c, width)
	peak := 0.0
	for _, r := range rates {
		peak = math.Max(peak, r)
	}
	if peak <= 0 {
		fmt.Fprintln(w, "  (no traffic planned)")
		return
	}
	label := func(r float64) string {
		s := scenarios.FormatRate(r) + " " + unit
		if r == 0 {
			s = "0 " + unit
		}
		if baseline > 0 {
			s += fmt.Sprintf(" %5.1fx", r/baseline)
		}
		return s
	}
	lw := 0
	for _, r := range []float64{0, peak, peak * float64((height+1)/2) / float64(height)} {
		lw = max(lw, len([]rune(label(r))))
	}
	for row := height; row >= 1; row-- {
		top := peak * float64(row) / float64(height)
		bottom := peak * float64(row-1) / float64(height)
		axis := strings.Repeat(" ", lw)
		if row == height {
			axis = padLeft(label(peak), lw)
		} else if row == 1 {
			axis = padLeft(label(0), lw)
		} else if row == (height+1)/2 {
			axis = padLeft(label(peak*float64(row)/float64(height)), lw)
		}
		var b strings.Builder
		for _, r := range rates {
			switch {
			case r >= top-1e-9:
				b.WriteRune('█')
			case r > bottom:
				frac := (r - bottom) / (top - bottom)
				b.WriteRune(sparks[int(frac*float64(len(sparks)-1))])
			default:
				b.WriteRune(' ')
			}
		}
		fmt.Fprintf(w, "  %s │%s\n", axis, b.String())
	}
	fmt.Fprintf(w, "  %s └%s\n", strings.Repeat(" ", lw), strings.Repeat("─", width))
	end := fmtDur(c.Duration())
	fmt.Fprintf(w, "  %s  0s%s%s\n", strings.Repeat(" ", lw), strings.Repeat(" ", max(1, width-2-len(end))), end)
}

// fmtDur formats a duration for humans: 1m30s, 2.5s, 850ms.
func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	default:
		return d.Round(time.Microsecond).String()
	}
}

// fmtMs formats a latency in milliseconds.
func fmtMs(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms >= 1000:
		return fmt.Sprintf("%.2fs", ms/1000)
	case ms >= 100:
		return fmt.Sprintf("%.0fms", ms)
	case ms >= 10:
		return fmt.Sprintf("%.1fms", ms)
	default:
		return fmt.Sprintf("%.2fms", ms)
	}
}

// padLeft right-aligns s in n columns (counting runes).
func padLeft(s string, n int) string {
	if k := len([]rune(s)); k < n {
		return strings.Repeat(" ", n-k) + s
	}
	return s
}
