package analysis

import (
	"strings"
	"testing"
	"time"
)

// A request that waits on two dependencies — a database pool that is
// saturating and an email API that is slow but steady — crosses the SLO
// first because it carries the most fixed time. Within one constant-rate
// step the API "takes the most time"; only the comparison with a lower
// step shows that the database wait is what grew.
func TestJudgeStep_Reference(t *testing.T) {
	reqs := []req{
		{name: "feed", url: "/api/feed", weight: 30},
		{name: "signup", method: "POST", url: "/api/signup", weight: 6},
	}
	// dbWait is the pool wait at a rate: none at 20 req/s, 200 ms at 53.
	model := func(dbWait float64) model {
		return func(_ int, rate float64) map[string]obs {
			n := int(rate)
			feed := 70 + dbWait
			signup := 5 + dbWait + 330
			return map[string]obs{
				"feed":   {n: n * 30 / 36, lat: time.Duration(feed) * time.Millisecond, timing: map[string]float64{"db": feed, "app": feed + 1}},
				"signup": {n: max(n*6/36, 2), lat: time.Duration(signup) * time.Millisecond, timing: map[string]float64{"db": 5 + dbWait, "ext": 330, "app": signup + 1}},
			}
		}
	}
	ref := newBuilder(t, 20, reqs...).hold(model(0), 20, 5).done()
	step := newBuilder(t, 20, reqs...).hold(model(200), 53, 8).done()

	alone := JudgeStep(step, StepOptions{})
	if alone.Status != StatusFail {
		t.Fatalf("step alone: %s (%s); want fail", alone.Status, alone.Reason)
	}
	with := JudgeStep(step, StepOptions{Reference: ref})
	if with.Status != StatusFail {
		t.Fatalf("with a reference: %s (%s); want fail", with.Status, with.Reason)
	}
	if with.FirstLayer != LayerDatabase {
		t.Errorf("with a reference: first layer %q (%s); want database (db grew, ext did not)", with.FirstLayer, with.Symptom)
	}
	// The reference changes the attribution only: the verdict's figures are
	// the step's own.
	if with.Count != alone.Count || with.Reason != alone.Reason || with.JudgedWindows != alone.JudgedWindows {
		t.Errorf("with a reference the step's figures changed: %d/%q/%d vs %d/%q/%d",
			with.Count, with.Reason, with.JudgedWindows, alone.Count, alone.Reason, alone.JudgedWindows)
	}
	if !strings.Contains(alone.Reason+with.Reason, "signup") && alone.Latency.P95 <= 500*time.Millisecond {
		t.Errorf("the step failed for another reason: %q", with.Reason)
	}
	t.Logf("alone: %s %s; with: %s %s", alone.FirstLayer, alone.Symptom, with.FirstLayer, with.Symptom)

	// A reference at the step's own rate is no reference.
	same := JudgeStep(step, StepOptions{Reference: step})
	if same.FirstLayer != alone.FirstLayer {
		t.Errorf("a reference at the same rate changed the layer: %q vs %q", same.FirstLayer, alone.FirstLayer)
	}
}
