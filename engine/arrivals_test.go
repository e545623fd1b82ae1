package engine

import (
	"testing"
	"time"

	"github.com/spikeload/spike/scenarios"
)

// Poisson arrivals keep every window's planned count (the recorder's
// Planned), are in order, are a function of the seed, and are not evenly
// spaced.
func TestArrivals_Poisson(t *testing.T) {
	load := func(arrivals string, seed int) *scenarios.Plan {
		t.Helper()
		y := "name: a\ntarget: http://127.0.0.1:9\nbaseline: 50\nstages: [{ramp: {from: 20, to: 200, duration: 5500ms}}]\nrequests: [{url: /}]\n" +
			"options: {seed: " + string(rune('0'+seed)) + "}\n"
		p, err := scenarios.Parse("a.yaml", []byte(y), scenarios.Overrides{})
		if err != nil {
			t.Fatal(err)
		}
		p.Options.Arrivals = arrivals
		return p
	}
	even, pois := load("even", 1), load("poisson", 1)
	ae, ap, ap2 := newArrivals(even), newArrivals(pois), newArrivals(load("poisson", 2))
	if ap.curve.Total() != ae.curve.Total() {
		t.Fatalf("totals differ: %d vs %d", ap.curve.Total(), ae.curve.Total())
	}
	win := time.Second
	counts := map[int]int{}
	var prev time.Duration
	same, differ := 0, 0
	for k := uint64(0); k < ap.curve.Total(); k++ {
		te, tp := ae.timeOf(k), ap.timeOf(k)
		if int(te/win) != int(tp/win) {
			t.Fatalf("request %d: even at %s, poisson at %s: another window", k, te, tp)
		}
		if tp < prev {
			t.Fatalf("request %d at %s before request %d at %s", k, tp, k-1, prev)
		}
		prev = tp
		counts[int(tp/win)]++
		if ap2.timeOf(k) == tp {
			same++
		}
		if d := tp - te; d > 5*time.Millisecond || d < -5*time.Millisecond {
			differ++
		}
	}
	planned := PlannedWindows(pois, Shard{})
	for w, n := range planned {
		if uint64(counts[w]) != n {
			t.Errorf("window %d: %d poisson arrivals; want the %d planned", w, counts[w], n)
		}
	}
	if differ < int(ap.curve.Total())/2 {
		t.Errorf("only %d of %d poisson times differ from even spacing by over 5 ms", differ, ap.curve.Total())
	}
	if same > int(ap.curve.Total())/10 {
		t.Errorf("seeds 1 and 2 agree on %d of %d times; want different draws", same, ap.curve.Total())
	}
	// Asked again, out of order, the times are the same.
	for _, k := range []uint64{400, 3, 250, 3, 401} {
		if a, b := ap.timeOf(k), newArrivals(pois).timeOf(k); a != b {
			t.Errorf("request %d: %s, then %s", k, a, b)
		}
	}
}
