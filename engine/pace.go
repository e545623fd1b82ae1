package engine

import (
	"time"

	"github.com/spikeload/spike/scenarios"
)

// pacer hands vegeta's attacker one tick per planned request at the moment
// the curve planned it. It does the waiting itself and returns a zero wait:
// vegeta sleeps with time.Sleep, and on Linux an idle Go scheduler wakes a
// timer under a millisecond away up to a millisecond late (see wakeup). At
// 1,000 req/s that made requests leave 0.1–1 ms late, which spike counts in
// the latency it reports (it measures from the intended send time). The
// pacer also uses the recorder's clock, so lag has one origin, and it stops
// waiting as soon as the run is stopped.
type pacer struct {
	curve *scenarios.Curve
	arr   *arrivals // nil: the curve's even times
	shard Shard     // the pacer ticks for this shard's requests only
	began time.Time
	stop  <-chan struct{}
	timer *time.Timer
	wake  wakeup
}

// The wake-up timer is armed for waits under armBelow (a runtime timer
// further off is late by far less than its wait) and at rates up to armUpTo.
// Above that rate the scheduler is seldom idle, and arming the timer for
// every request was measured to make things worse: at 10,000 req/s on one
// CPU, latency p50 swung between 0.3 and 5 ms from run to run, against a
// steady 0.8 ms without it.
const (
	armBelow = 2 * time.Millisecond
	armUpTo  = 6000 // req/s
)

// Pace implements vegeta.Pacer. It returns when the shard's request hits
// is due (or at once when the run is stopping): plan request
// shard.Global(hits), at the time the whole plan gives it.
func (p *pacer) Pace(_ time.Duration, hits uint64) (time.Duration, bool) {
	elapsed := time.Since(p.began)
	var wait time.Duration
	var stop bool
	if p.arr != nil {
		wait, stop = p.arr.pace(elapsed, p.shard.Global(hits))
	} else {
		wait, stop = p.curve.Pace(elapsed, p.shard.Global(hits))
	}
	if stop || wait <= 0 {
		return 0, stop
	}
	if wait < armBelow && p.curve.RateAt(elapsed)/float64(p.shard.n()) <= armUpTo {
		p.wake.arm(wait)
	}
	if p.timer == nil {
		p.timer = time.NewTimer(wait)
	} else {
		p.timer.Reset(wait)
	}
	select {
	case <-p.timer.C:
		return 0, false
	case <-p.stop:
		return 0, true
	}
}

// Rate implements vegeta.Pacer: the shard's share of the curve's rate.
func (p *pacer) Rate(elapsed time.Duration) float64 {
	return p.curve.Rate(elapsed) / float64(p.shard.n())
}

// close releases the pacer's resources; call it once the attack has ended.
func (p *pacer) close() {
	if p.timer != nil {
		p.timer.Stop()
	}
	p.wake.close()
}
