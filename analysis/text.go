package analysis

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
)

// maxOrderLines bounds the breakage order in the plain-text verdict.
const maxOrderLines = 5

// WriteVerdict writes the plain-text verdict shown after a run: the
// headline, the first broken layer with its symptom and likely cause, the
// breakpoint, capacity and knee, the breakage order and the top three fixes.
// No colours, at most about 25 lines; it is the only rendering this package
// does.
func (a *Analysis) WriteVerdict(w io.Writer) error {
	bw := bufio.NewWriter(w)
	v := &a.Verdict
	line := func(format string, args ...any) { fmt.Fprintf(bw, format+"\n", args...) }
	row := func(label, value string) {
		if value != "" {
			line("  %-15s %s", label, shorten(value, 200))
		}
	}
	line("Verdict: %s", strings.ToUpper(string(v.Status)))
	line("%s", v.Headline)
	switch v.Status {
	case StatusInconclusive:
		row("why", v.Reason)
		row("what to do", v.Advice)
		if v.Capacity != nil {
			row("held", v.Capacity.at()+" before spike fell behind")
		}
	default:
		if v.FirstLayer != "" {
			row("first to break", v.FirstLayer+": "+v.Symptom)
			row("likely cause", v.Cause)
			if v.Confidence != "" {
				ev := v.Confidence
				if v.Mechanism != "" {
					ev = strings.ReplaceAll(v.Mechanism, "_", " ") + ", " + ev
				}
				if len(v.Evidence) > 0 {
					ev += ": " + strings.Join(v.Evidence[:min(2, len(v.Evidence))], "; ")
				}
				row("evidence", ev)
			}
		}
		if v.Breakpoint != nil {
			row("breakpoint", v.Breakpoint.at()+" at "+clock(v.Breakpoint.AtMs))
		}
		if v.Capacity != nil {
			row("capacity", v.Capacity.at()+" held within the SLO")
		}
		if v.Knee != nil {
			row("knee", fmt.Sprintf("%s: successful throughput %s req/s (best %s)", v.Knee.at(), fmtRate(v.Knee.OKRPS), fmtRate(v.Knee.MaxOKRPS)))
		}
		if a.Stalls != nil {
			row("stalls", a.Stalls.Text)
		}
		if v.Recovered != nil {
			row("recovered", fmt.Sprintf("at %s, planned %s", clock(v.Recovered.AtMs), v.Recovered.at()))
		}
		if v.PeakRPS > 0 {
			row("planned peak", (&Point{RateRPS: v.PeakRPS, Multiple: v.PeakMultiple, Unit: a.RateUnit}).at())
		}
	}
	var broken []LayerReport
	for _, l := range a.Layers {
		if l.Rank > 0 && slices.Contains(v.Order, l.Layer) {
			broken = append(broken, l)
		}
	}
	if len(broken) > 0 {
		line("Breakage order:")
		for k, l := range broken {
			if k == maxOrderLines {
				line("  … and %d more", len(broken)-k)
				break
			}
			what := ""
			if l.Symptom != nil {
				what = shortSymptom[l.Symptom.Class]
			}
			same := ""
			if len(l.SameWindow) > 0 {
				same = "  (same window as " + strings.Join(l.SameWindow, ", ") + ")"
			}
			line("  %d. %-12s at %-18s  %s%s", l.Rank, l.Layer, l.Broke.at(), what, same)
		}
	}
	if len(v.Fixes) > 0 {
		line("Fix first:")
		for k, f := range v.Fixes {
			line("  %d. %s", k+1, shorten(f, 220))
		}
	}
	return bw.Flush()
}
