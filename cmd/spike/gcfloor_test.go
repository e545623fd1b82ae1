package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"testing"
)

// gcPercent reads GOGC without changing it.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

func TestGCFloor_RaisesThenRestores(t *testing.T) {
	if os.Getenv("GOGC") != "" {
		t.Skip("GOGC is set: gcFloor leaves it alone")
	}
	release := gcFloor()
	runtime.GC()
	runtime.GC() // the sentinel's finalizer has run at least once
	if p := gcPercent(); p <= 100 {
		t.Errorf("GOGC = %d during the measurement; want above 100 for this test's small heap", p)
	}
	release()
	if p := gcPercent(); p != 100 {
		t.Errorf("GOGC = %d after release; want 100", p)
	}
	runtime.GC()
	runtime.GC()
	if p := gcPercent(); p != 100 {
		t.Errorf("GOGC = %d after collections following release; want 100 (no retune)", p)
	}
	release() // twice is harmless
}

// The goal is raised as gcFloor returns, before any collection of the run:
// engine.Run pre-faults the heap up to it.
func TestGCFloor_RaisesTheGoalAtOnce(t *testing.T) {
	if os.Getenv("GOGC") != "" {
		t.Skip("GOGC is set: gcFloor leaves it alone")
	}
	release := gcFloor()
	defer release()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if ms.NextGC < gcHeapFloor {
		t.Errorf("heap goal %d MB right after gcFloor; want at least %d MB", ms.NextGC>>20, gcHeapFloor>>20)
	}
}
