package engine

import (
	"testing"
	"time"
)

// The pacer hands out each request at or after its planned moment, never
// before, with waits both under and over the wake-up threshold.
func TestPacer_NeverEarly(t *testing.T) {
	t.Parallel()
	p := testPlan(t, `
target: http://127.0.0.1:1
baseline: 1
stages:
  - hold: {rate: 2000, duration: 100ms}
  - hold: {rate: 50, duration: 200ms}
requests:
  - {url: /}
`)
	pc := &pacer{curve: p.Curve, began: time.Now(), stop: make(chan struct{})}
	defer pc.close()
	for hits := uint64(0); ; hits++ {
		if _, stop := pc.Pace(time.Since(pc.began), hits); stop {
			if hits != p.Curve.Total() {
				t.Fatalf("stopped after %d ticks; the plan has %d", hits, p.Curve.Total())
			}
			return
		}
		if now, due := time.Since(pc.began), p.Curve.TimeOf(hits); now < due {
			t.Fatalf("tick %d at %v, before its planned %v", hits, now, due)
		}
	}
}

// A stop ends a long wait at once, so an interrupted run does not wait for
// the next planned request.
func TestPacer_StopEndsTheWait(t *testing.T) {
	t.Parallel()
	p := testPlan(t, `
target: http://127.0.0.1:1
baseline: 1
stages:
  - hold: {rate: 0.1, duration: 60s}
requests:
  - {url: /}
`)
	stop := make(chan struct{})
	pc := &pacer{curve: p.Curve, began: time.Now(), stop: stop}
	defer pc.close()
	if _, s := pc.Pace(0, 0); s { // the first request is due at once
		t.Fatal("stopped before the first request")
	}
	time.AfterFunc(50*time.Millisecond, func() { close(stop) })
	began := time.Now()
	if _, s := pc.Pace(time.Since(pc.began), 1); !s {
		t.Fatal("Pace returned without the stop; the next request is 10 s away")
	}
	if took := time.Since(began); took > 2*time.Second {
		t.Fatalf("Pace took %v to notice the stop", took)
	}
}
