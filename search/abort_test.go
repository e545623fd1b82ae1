package search

import (
	"testing"
	"time"

	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/scenarios"
)

// win is a window of one second for the abort tests: n responses, errs of
// them failed, with the given p95.
func win(i int, n, errs uint64, p95 time.Duration, bound bool) engine.Window {
	return engine.Window{
		Index: i, Start: time.Duration(i) * time.Second, End: time.Duration(i+1) * time.Second,
		OK: n - errs, Errors: errs, Sent: n, GeneratorBound: bound,
		Latency: engine.LatencyStats{Count: int64(n), P95: p95},
	}
}

func TestNewAbortRule(t *testing.T) {
	t.Parallel()
	rule := scenarios.Abort{ErrorRate: 0.5, P95: 5 * time.Second, For: 3 * time.Second}
	ok := func(i int) engine.Window { return win(i, 100, 0, 50*time.Millisecond, false) }
	failing := func(i int) engine.Window { return win(i, 100, 87, 50*time.Millisecond, false) }
	slow := func(i int) engine.Window { return win(i, 100, 0, 8*time.Second, false) }
	tests := []struct {
		name    string
		rule    scenarios.Abort
		skip    time.Duration
		windows []engine.Window
		at      int // the number of windows closed when it aborts; -1: never
		reason  string
	}{
		{"errors", rule, 0, []engine.Window{ok(0), failing(1), failing(2), failing(3), ok(4)}, 4,
			"aborted: error rate 87% for 3 s (limit 50%)"},
		{"slow", rule, 0, []engine.Window{slow(0), slow(1), slow(2)}, 3,
			"aborted: p95 over 8.0 s for 3 s (limit 5.0 s)"},
		{"mixed", rule, 0, []engine.Window{failing(0), slow(1), failing(2)}, 3,
			"aborted: error rate over 50% or p95 over 5.0 s for 3 s (error rate 58%, p95 up to 8.0 s)"},
		{"interrupted stretch", rule, 0, []engine.Window{failing(0), failing(1), ok(2), failing(3), failing(4)}, -1, ""},
		{"generator-bound windows never count", rule, 0,
			[]engine.Window{failing(0), failing(1), win(2, 100, 90, 0, true), failing(3), failing(4)}, -1, ""},
		{"empty windows never count", rule, 0, []engine.Window{failing(0), failing(1), win(2, 0, 0, 0, false), failing(3)}, -1, ""},
		{"warm-up skipped", rule, 2 * time.Second, []engine.Window{failing(0), failing(1), failing(2), failing(3), failing(4)}, 5,
			"aborted: error rate 87% for 3 s (limit 50%)"},
		{"error rate only", scenarios.Abort{ErrorRate: 0.5, For: time.Second}, 0, []engine.Window{slow(0), failing(1)}, 2,
			"aborted: error rate 87% for 1 s (limit 50%)"},
		{"exactly at the limit is not over", scenarios.Abort{ErrorRate: 0.87, For: time.Second}, 0, []engine.Window{failing(0)}, -1, ""},
	}
	for _, tt := range tests {
		check := NewAbortRule(tt.rule, tt.skip)
		// Windows close one by one, as in a run.
		got, reason := -1, ""
		for n := 1; n <= len(tt.windows); n++ {
			if stop, why := check(tt.windows[:n]); stop {
				got, reason = n, why
				break
			}
		}
		if got != tt.at || reason != tt.reason {
			t.Errorf("%s: aborted after %d windows with %q; want %d, %q", tt.name, got, reason, tt.at, tt.reason)
		}
	}
	// Several windows closing at once are judged in order.
	check := NewAbortRule(rule, 0)
	if stop, why := check([]engine.Window{ok(0), failing(1), failing(2), failing(3)}); !stop || why != "aborted: error rate 87% for 3 s (limit 50%)" {
		t.Errorf("batch: %t %q", stop, why)
	}
	if NewAbortRule(scenarios.Abort{}, 0) != nil {
		t.Error("NewAbortRule of a zero rule is not nil")
	}
}

func TestAbortRule(t *testing.T) {
	t.Parallel()
	p, err := scenarios.Parse("a.yaml", []byte(`
name: a
baseline: 10
stages: [{hold: {duration: 10s}}]
requests: [{url: /}]
abort: {error_rate: 50%, p95: 10x}
`), scenarios.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	check := AbortRule(p)
	if check == nil {
		t.Fatal("AbortRule = nil for a plan with abort:")
	}
	ws := []engine.Window{win(0, 10, 10, time.Millisecond, false)}
	for i := 1; i < 5; i++ {
		ws = append(ws, win(i, 10, 10, time.Millisecond, false))
		if stop, _ := check(ws[:i]); stop {
			t.Fatalf("aborted after %d windows; want 5 (for: 5s by default)", i)
		}
	}
	if stop, why := check(ws); !stop || why != "aborted: error rate 100% for 5 s (limit 50%)" {
		t.Errorf("check = %t, %q", stop, why)
	}
	p.Abort = scenarios.Abort{}
	if AbortRule(p) != nil || AbortRule(nil) != nil {
		t.Error("AbortRule without abort: is not nil")
	}
}
