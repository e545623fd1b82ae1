package mvpapp_test

import (
	"testing"
	"time"

	"github.com/spikeload/spike/analysis"
	"github.com/spikeload/spike/examples/mvpapp"
)

// TestLaunchJourneys_FirstBreak replays the journey example with and without
// the cache fix: without it the database breaks first, with it the session
// store (mvpapp.Config.JourneyCapacity has the designed rates).
func TestLaunchJourneys_FirstBreak(t *testing.T) {
	if testing.Short() {
		t.Skip("replays two 60 s journey runs against the example app")
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
		res := runExample(t, "launch-journeys.yaml", tt.cfg, 50*time.Second)
		v := analysis.Analyze(res, analysis.Options{}).Verdict
		t.Logf("%s: %s; order %v", tt.name, v.Headline, v.Order)
		if v.FirstLayer != string(tt.first) {
			t.Errorf("%s: first layer %q (%s); want %s", tt.name, v.FirstLayer, v.Headline, tt.first)
		}
		// Every visitor that arrived is in the funnel, and members reach
		// the feed with their session.
		for _, j := range res.Journeys {
			if j.Started == 0 || len(j.Reached) != 8 || j.Reached[0] != j.Started || j.Reached[4] == 0 {
				t.Errorf("%s: journey %s: started %d, reached %v; want every start at step 1 and some at the feed",
					tt.name, j.Name, j.Started, j.Reached)
			}
		}
	}
}
