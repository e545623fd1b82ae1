package engine

import (
	"context"
	"fmt"
	"time"
)

// startWarmLead is how long before a shared start instant a run opens its
// warm connections and pre-faults its heap: long enough for both, short
// enough that the target does not close the idle connections meanwhile.
const startWarmLead = 3 * time.Second

// LateError is returned by Run, before anything is sent, when the run
// reached its start instant (Config.StartAt) later than Config.MaxLate: its
// windows would not line up with the other shards'.
type LateError struct {
	StartAt  time.Time
	Lateness time.Duration
	Limit    time.Duration
}

func (e *LateError) Error() string {
	return fmt.Sprintf("start: late by %s for the start instant %s (the limit is one window, %s); nothing was sent",
		e.Lateness.Round(time.Millisecond), e.StartAt.UTC().Format(time.RFC3339Nano), e.Limit)
}

// waitUntil blocks until the wall clock reads at, or ctx is done. The last
// millisecond is waited for by yielding, as a timer may wake a millisecond
// late (see wakeup).
func waitUntil(ctx context.Context, at time.Time) error {
	if d := time.Until(at) - time.Millisecond; d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for time.Now().Before(at) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(20 * time.Microsecond)
	}
	return nil
}
