package analysis

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/scenarios"
)

func TestAnalyze_Degenerate(t *testing.T) {
	t.Parallel()
	t.Run("no windows", func(t *testing.T) {
		t.Parallel()
		a := analyze(&engine.Result{})
		if a.Verdict.Status != StatusInconclusive || a.Verdict.Breakpoint != nil {
			t.Errorf("verdict = %+v; want inconclusive, no breakpoint", a.Verdict)
		}
		var buf strings.Builder
		if err := a.WriteVerdict(&buf); err != nil || buf.Len() == 0 {
			t.Errorf("WriteVerdict() = %v, %q", err, buf.String())
		}
	})
	t.Run("unplanned requests, no SLO, no baseline", func(t *testing.T) {
		t.Parallel()
		b := newBuilder(t, 0, req{name: "api", url: "/api/x"})
		b.r.Plan.SLO = scenarios.SLO{}
		for _, r := range []float64{50, 50, 50, 100, 200, 300, 400} {
			lat := 50 * time.Millisecond
			if r >= 200 {
				lat = 800 * time.Millisecond
			}
			b.window(r, map[string]obs{"api": {n: int(r), lat: lat}, "other": {n: 10, lat: lat}})
		}
		r := b.done()
		r.Plan.Requests = nil
		a := analyze(r)
		if a.Verdict.Status != StatusFail || win(a.Verdict.Breakpoint) != 4 {
			t.Errorf("verdict = %s at %v; want fail at window 4 (default SLO)", a.Verdict.Status, a.Verdict.Breakpoint)
		}
		if a.Verdict.Breakpoint != nil && a.Verdict.Breakpoint.Multiple != 0 {
			t.Errorf("multiple = %v without a baseline; want 0", a.Verdict.Breakpoint.Multiple)
		}
		if math.Abs(a.Settings.LowLoadRPS-55) > 1e-9 || a.Settings.LowLoadWindows != 3 {
			t.Errorf("low load = %v req/s over %d windows; want ≤ 55 (110%% of the lowest rate) over 3", a.Settings.LowLoadRPS, a.Settings.LowLoadWindows)
		}
		if len(a.Requests) != 2 || requestOf(a, "other") == nil {
			t.Errorf("requests = %d; want api and other, found in the windows", len(a.Requests))
		}
		if len(a.Notes) == 0 || !strings.Contains(strings.Join(a.Notes, " "), "default") {
			t.Errorf("notes = %q; want one about the default SLO", a.Notes)
		}
	})
	t.Run("an undecodable histogram", func(t *testing.T) {
		t.Parallel()
		b := newBuilder(t, 100, req{name: "a", url: "/a", layer: LayerDatabase}, req{name: "b", url: "/b", layer: LayerDatabase})
		b.hold(func(int, float64) map[string]obs {
			return map[string]obs{"a": {n: 50, lat: 50 * time.Millisecond}, "b": {n: 50, lat: 60 * time.Millisecond}}
		}, 100, 4)
		r := b.done()
		wr := *r.Windows[1].Requests["a"]
		wr.Latency.Hist = "not a histogram"
		r.Windows[1].Requests["a"] = &wr
		a := analyze(r)
		if a.Verdict.Status != StatusPass || !strings.Contains(strings.Join(a.Notes, " "), "could not be decoded") {
			t.Errorf("verdict %s, notes %q; want pass with a note", a.Verdict.Status, a.Notes)
		}
	})
}
