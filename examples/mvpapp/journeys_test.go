package mvpapp_test

import (
	"regexp"
	"testing"
	"time"

	"github.com/spikeload/spike/analysis"
	"github.com/spikeload/spike/examples/mvpapp"
	"github.com/spikeload/spike/scenarios"
)

// thinkRE matches a step's think time in a scenario file.
var thinkRE = regexp.MustCompile(`think: ([0-9a-z.-]+)`)

// scaleThink divides every think time of a scenario file by f, so that a
// journey scenario whose curve is compressed keeps its proportions: a
// visitor's steps follow their arrival as closely as on the full-length run.
func scaleThink(t *testing.T, f float64) func([]byte) []byte {
	return func(data []byte) []byte {
		return thinkRE.ReplaceAllFunc(data, func(m []byte) []byte {
			th, err := scenarios.ParseThink(string(thinkRE.FindSubmatch(m)[1]))
			if err != nil {
				t.Fatalf("think time %q: %v", m, err)
			}
			th.Min = time.Duration(float64(th.Min) / f)
			th.Max = time.Duration(float64(th.Max) / f)
			return []byte("think: " + th.String())
		})
	}
}

// TestLaunchJourneys_FirstBreak replays the journey example with and without
// the cache fix: without it the database breaks first, with it the session
// store (mvpapp.Config.JourneyCapacity has the designed rates). The 80 s run
// is compressed to 20 s, think times with it.
func TestLaunchJourneys_FirstBreak(t *testing.T) {
	if testing.Short() {
		t.Skip("replays two 20 s journey runs against the example app")
	}
	tests := []struct {
		name  string
		cfg   mvpapp.Config
		first mvpapp.Layer
	}{
		{"no fix", mvpapp.DefaultConfig(), mvpapp.LayerDatabase},
		{"cache", mvpapp.DefaultConfig().WithFixes(mvpapp.FixCache), mvpapp.LayerAuth},
	}
	for _, tt := range tests {
		res := runExample(t, "launch-journeys.yaml", tt.cfg, 20*time.Second, scaleThink(t, 4))
		v := analysis.Analyze(res, analysis.Options{}).Verdict
		t.Logf("%s: %s; order %v", tt.name, v.Headline, v.Order)
		if v.FirstLayer != string(tt.first) {
			t.Errorf("%s: first layer %q (%s); want %s", tt.name, v.FirstLayer, v.Headline, tt.first)
		}
		// Every visitor that arrived is in the funnel, and some reach the
		// feed, members with their session.
		for _, j := range res.Journeys {
			if j.Started == 0 || len(j.Reached) != 8 || j.Reached[0] != j.Started || j.Reached[4] == 0 {
				t.Errorf("%s: journey %s: started %d, reached %v; want every start at step 1 and some at the feed",
					tt.name, j.Name, j.Started, j.Reached)
			}
		}
	}
}
