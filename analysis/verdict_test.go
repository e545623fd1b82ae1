package analysis

import (
	"strings"
	"testing"
	"time"

	"github.com/spikeload/spike/scenarios"
)

// Verdicts that must not turn "nothing judged" or "too little judged" into
// a pass, and that agree with the gate.
func TestVerdict_NothingJudgedIsNotAPass(t *testing.T) {
	t.Parallel()
	failing := obs{n: 200, lat: 5 * time.Millisecond, errs: 50, status: 500}
	healthy := obs{n: 200, lat: 5 * time.Millisecond}
	tests := []struct {
		name     string
		windows  []obs
		partial  bool
		status   Status
		headline string
		gate     Status
	}{
		{"a 2 s run whose every request failed", []obs{failing, failing}, false, StatusInconclusive, "inconclusive: too short to judge", StatusInconclusive},
		{"a 2 s healthy run", []obs{healthy, healthy}, false, StatusInconclusive, "inconclusive: too short to judge", StatusInconclusive},
		{"pass and fail alternating", []obs{healthy, failing, healthy, failing, healthy, failing}, false, StatusInconclusive, "neither held nor broke for 3 windows in a row", StatusFail},
		{"held, with one bad window", []obs{healthy, healthy, healthy, failing, healthy, healthy, healthy}, false, StatusPass, "1 of 7 windows violated the SLO, never 3 in a row", StatusFail},
		{"interrupted after 4 good windows", []obs{healthy, healthy, healthy, healthy}, true, StatusPass, "partial: 4.0 s of ", StatusPass},
		{"held", []obs{healthy, healthy, healthy, healthy}, false, StatusPass, "nothing cracked", StatusPass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBuilder(t, 50, req{name: "x", url: "/api/x"})
			for _, o := range tt.windows {
				b.window(200, map[string]obs{"x": o})
			}
			r := b.done()
			r.Meta.Partial = tt.partial
			if tt.partial {
				r.Plan.Duration = 90 * time.Second
			}
			a := analyze(r)
			if a.Verdict.Status != tt.status || !strings.Contains(a.Verdict.Headline, tt.headline) {
				t.Errorf("verdict %s %q; want %s with %q", a.Verdict.Status, a.Verdict.Headline, tt.status, tt.headline)
			}
			if g := Gate(r, a, scenarios.Gate{Set: true}, nil); g.Status != tt.gate {
				t.Errorf("gate %s (%s); want %s", g.Status, g.Headline, tt.gate)
			}
			// The gate never passes a run the verdict could not judge, and
			// never fails one the verdict calls too short.
			if a.Verdict.Status == StatusInconclusive && strings.Contains(a.Verdict.Headline, "too short") {
				if g := Gate(r, a, scenarios.Gate{Set: true}, nil); g.Status != StatusInconclusive {
					t.Errorf("verdict too short to judge, gate %s", g.Status)
				}
			}
		})
	}
}

func TestVerdict_MissingShard(t *testing.T) {
	t.Parallel()
	b := newBuilder(t, 100, req{name: "x", url: "/api/x"})
	for range 6 {
		w := b.window(100, map[string]obs{"x": {n: 50, lat: 5 * time.Millisecond}})
		w.Planned, w.GeneratorBound = 100, true // half the plan never sent
	}
	r := b.done()
	r.Meta.MissingShards = []string{"1/2"}
	a := analyze(r)
	if v := a.Verdict; v.Status != StatusInconclusive || !strings.Contains(v.Headline, "shard 1/2 missing") || strings.Contains(v.Advice, "connections") {
		t.Errorf("verdict %s %q (advice %q); want inconclusive naming shard 1/2, not advising connections", v.Status, v.Headline, v.Advice)
	}
}
