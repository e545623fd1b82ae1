package search

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/spikeload/spike/scenarios"
)

// capacityTarget is a loopback target of known capacity, slots/hold req/s:
// each request holds one of slots for hold. A request that finds every
// slot taken waits up to wait for one, then gets 503, so that over
// capacity the error rate jumps at once (the SLO breaks sharply) while
// latency stays under hold+wait.
func capacityTarget(slots int, hold, wait time.Duration) *httptest.Server {
	sem := make(chan struct{}, slots)
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case sem <- struct{}{}:
		default:
			t := time.NewTimer(wait)
			select {
			case sem <- struct{}{}:
				t.Stop()
			case <-t.C:
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		time.Sleep(hold)
		<-sem
		fmt.Fprintln(w, "ok")
	}))
}

// loopbackScenario is the scenario the loopback searches run: half-second
// windows, so that a short step holds enough of them to judge.
const loopbackScenario = `
name: loopback
baseline: 20
stages: [{hold: {duration: 10s}}]
requests: [{name: work, url: /work}]
slo: {p95: 500ms, error_rate: 1%%, sustain: 3}
options: {window: 500ms, timeout: 5s}
`

// TestFind_Loopback searches loopback targets of about 50, 200 and 800
// req/s and checks the capacity found is within 10% of the truth, using at
// most 2 minutes of load each. The searches run one after the other, with
// 3 s steps (1 s warm-up) and a 6 s confirmation: about 2 minutes in all.
// Under the race detector the 800 req/s case is skipped: the in-process
// target and spike both slow down several times over, so the target's true
// capacity is no longer 800 req/s. Without -race it runs.
func TestFind_Loopback(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: searches real loopback targets for about 90 s")
	}
	tests := []struct {
		name  string
		slots int
		hold  time.Duration
	}{
		// Two ends of the range (the middle, 200 req/s, added 45 s to CI
		// and found nothing the ends do not).
		{"50rps", 5, 100 * time.Millisecond},
		{"800rps", 16, 20 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			truth := float64(tt.slots) / tt.hold.Seconds()
			if raceEnabled && truth > 500 {
				// The target runs in this test process: under the race
				// detector on two cores neither it nor spike holds 800
				// req/s reliably, so the truth itself is not known. Run
				// `go test -run TestFind_Loopback ./search/` (no
				// -race) for this case.
				t.Skip("800 req/s is checked without -race: the in-process target cannot hold it under the race detector")
			}
			srv := capacityTarget(tt.slots, tt.hold, max(3*tt.hold, 100*time.Millisecond))
			defer srv.Close()
			p, err := scenarios.Parse("loopback.yaml", []byte(fmt.Sprintf(loopbackScenario)), scenarios.Overrides{Target: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			began := time.Now()
			r, err := Find(context.Background(), Config{
				Plan: p, Step: 3 * time.Second, Skip: time.Second, Confirm: 6 * time.Second, MaxDuration: 2 * time.Minute,
				OnStep: func(s Step) {
					t.Logf("step %2d %-7s %6s req/s  %4.1f s  sent %6s  p95 %7s  p99 %7s  errors %5.1f%%  %s %s",
						s.Index+1, s.Phase, fmtRate(s.RateRPS), s.DurationMs/1000, fmtRate(s.SentRPS),
						fmtLatency(time.Duration(s.P95Ms*1e6)), fmtLatency(time.Duration(s.P99Ms*1e6)), 100*s.ErrorRate, s.Verdict, s.Reason)
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %s (load %.0f s, wall %s)", tt.name, r.Headline, r.LoadMs/1000, time.Since(began).Round(time.Second))
			if r.Stopped == StoppedGenerator && raceEnabled && truth > 500 {
				// The race detector slows spike's sending several times
				// over; on a small, busy machine it may not keep up with
				// 1000+ req/s. The search said so honestly: not a failure
				// of the search, but nothing to check either.
				t.Skipf("under -race spike could not send the load on time: %s", r.Headline)
			}
			if r.Status != StatusFound {
				t.Fatalf("status %s (stopped %q); want found: %s", r.Status, r.Stopped, r.Headline)
			}
			if r.CapacityRPS < 0.9*truth || r.CapacityRPS > 1.1*truth {
				t.Errorf("capacity %v req/s; want within 10%% of %v", r.CapacityRPS, truth)
			}
			if r.LoadMs > 120_000 {
				t.Errorf("used %.0f s of load; want at most 120 s", r.LoadMs/1000)
			}
		})
	}
}
