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
	began time.Time
	stop  <-chan struct{}
	timer *time.Timer
	wake  wakeup
}

// Pace implements vegeta.Pacer. It returns when request hits is due (or
// at once when the run is stopping).
func (p *pacer) Pace(_ time.Duration, hits uint64) (time.Duration, bool) {
	elapsed := time.Since(p.began)
	wait, stop := p.curve.Pace(elapsed, hits)
	if stop || wait <= 0 {
		return 0, stop
	}
	p.wake.arm(wait)
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

// Rate implements vegeta.Pacer.
func (p *pacer) Rate(elapsed time.Duration) float64 { return p.curve.Rate(elapsed) }

// close releases the pacer's resources; call it once the attack has ended.
func (p *pacer) close() {
	if p.timer != nil {
		p.timer.Stop()
	}
	p.wake.close()
}
