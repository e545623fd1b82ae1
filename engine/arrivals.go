package engine

import (
	"math/rand/v2"
	"sync"
	"time"

	"github.com/spikeload/spike/scenarios"
)

// arrivals gives the intended time of the plan's k-th request (or, with
// journeys, visitor). Even arrivals are the curve's own times: exactly even
// spacing at a constant rate. Poisson arrivals keep each window's planned
// count, and so the recorder's windows and Planned counts, but place the
// window's arrivals at random: the gaps of a Poisson process conditioned
// on the count, drawn from a generator seeded with the run's seed and the
// window, so that every shard and every call agree on request k's time.
type arrivals struct {
	curve   *scenarios.Curve
	poisson bool
	window  time.Duration
	seed    uint64
	cum     []uint64 // cum[w]: requests planned before window w
	mu      sync.Mutex
	cache   [2]windowTimes // the two windows asked for last
	next    int            // the cache slot to fill next
}

type windowTimes struct {
	w     int
	times []time.Duration
}

func newArrivals(plan *scenarios.Plan) *arrivals {
	a := &arrivals{curve: plan.Curve, poisson: plan.Options.Arrivals == scenarios.ArrivalsPoisson,
		window: plan.Options.Window, seed: uint64(plan.Options.Seed)}
	if a.window <= 0 {
		a.window = scenarios.DefaultWindow
	}
	if a.poisson {
		nwin := int((plan.Curve.Duration() + a.window - 1) / a.window)
		a.cum = make([]uint64, nwin+1)
		for w := 0; w <= nwin; w++ {
			a.cum[w] = plan.Curve.PlannedIn(0, time.Duration(w)*a.window)
		}
		a.cum[nwin] = plan.Curve.Total()
	}
	a.cache[0].w, a.cache[1].w = -1, -1
	return a
}

// timeOf returns request k's intended time from the start of the run.
func (a *arrivals) timeOf(k uint64) time.Duration {
	if !a.poisson || k >= a.curve.Total() {
		return a.curve.TimeOf(k)
	}
	// The window whose planned requests include k.
	lo, hi := 0, len(a.cum)-2
	for lo < hi {
		m := (lo + hi) / 2
		if a.cum[m+1] > k {
			hi = m
		} else {
			lo = m + 1
		}
	}
	w := lo
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := range a.cache {
		if a.cache[i].w == w {
			return a.cache[i].times[k-a.cum[w]]
		}
	}
	slot := &a.cache[a.next]
	a.next = 1 - a.next
	slot.w = w
	slot.times = a.spread(w, slot.times[:0])
	return slot.times[k-a.cum[w]]
}

// spread places window w's planned requests at random, in order: the
// partial sums of n+1 exponential gaps, scaled to the window.
func (a *arrivals) spread(w int, out []time.Duration) []time.Duration {
	n := int(a.cum[w+1] - a.cum[w])
	start := time.Duration(w) * a.window
	end := min(start+a.window, a.curve.Duration())
	rng := rand.New(rand.NewPCG(a.seed, splitmix64(uint64(w)^0xa5a5_0000_0000)))
	gaps := make([]float64, n+1)
	sum := 0.0
	for i := range gaps {
		gaps[i] = rng.ExpFloat64()
		sum += gaps[i]
	}
	span := float64(end - start)
	acc := 0.0
	for i := 0; i < n; i++ {
		acc += gaps[i]
		t := start + time.Duration(acc/sum*span)
		out = append(out, min(t, end-1))
	}
	return out
}

// pace is Curve.Pace with these arrival times: how long until request k is
// due, and whether the run is over.
func (a *arrivals) pace(elapsed time.Duration, k uint64) (time.Duration, bool) {
	if !a.poisson {
		return a.curve.Pace(elapsed, k)
	}
	if k >= a.curve.Total() || elapsed > a.curve.Duration()+scenarios.StopGrace {
		return 0, true
	}
	return max(a.timeOf(k)-elapsed, 0), false
}
