package main

import (
	"strings"
	"testing"
	"time"
)

func TestWaits_Summary(t *testing.T) {
	var h waits
	if got := h.summary(); got != "sink: slept 0 times" {
		t.Errorf("empty: %q", got)
	}
	// 98 waits of 10.0 ms, one of 12.5 ms, one of 3 s (counted as 1 s).
	for range 98 {
		h.add(10 * time.Millisecond)
	}
	h.add(12500 * time.Microsecond)
	h.add(3 * time.Second)
	want := "sink: slept 100 times: p50 10.000ms p99 12.500ms"
	if got := h.summary(); got != want {
		t.Errorf("summary = %q; want %q", got, want)
	}
}

// The sleeper never answers early (a lower bound only: how late it wakes
// depends on the machine).
func TestSleeper_NeverEarly(t *testing.T) {
	s := newSleeper()
	defer s.close()
	for _, d := range []time.Duration{200 * time.Microsecond, 2 * time.Millisecond, 5 * time.Millisecond} {
		for range 3 {
			began := time.Now()
			s.sleep(d)
			if got := time.Since(began); got < d {
				t.Errorf("sleep(%v) returned after %v", d, got)
			}
		}
	}
}

func TestServe_RefusesNonLoopback(t *testing.T) {
	err := serve("0.0.0.0:0", 0)
	if err == nil || !strings.Contains(err.Error(), "loopback only") {
		t.Errorf("serve(0.0.0.0:0) = %v; want a loopback-only error", err)
	}
}
