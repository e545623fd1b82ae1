package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// gcHeapFloor is the heap goal gcFloor keeps while the live heap is small.
const gcHeapFloor = 32 << 20

// gcFloor keeps the garbage collector's heap goal at gcHeapFloor or twice
// the live heap, whichever is larger, for the length of a measurement, and
// returns the function that restores the default; call that as soon as the
// load stops, before the result is analysed and written. It does nothing
// when GOGC is set.
//
// With a live heap of a few megabytes the default GOGC=100 collected every
// few megabytes of per-request garbage, dozens of times a second at the
// generator's ceiling, which cost over a third of its throughput. A larger
// fixed GOGC, or a ballast, also multiplies what a long run keeps in memory
// (its windows): peak RSS grew 41 → 60 MB (GOGC=400) and 44 → 54 MB (a
// 16 MB ballast) from a 60 s to a 600 s run at 5,000 req/s. Retuning GOGC
// after every collection from the live heap keeps the goal flat instead.
func gcFloor() (release func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	t := &gcTuner{sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	// A collection first, so the live heap is known and the goal is raised
	// before the run starts: engine.Run pre-faults the heap up to it.
	runtime.GC()
	t.tune()
	t.arm()
	return func() {
		t.mu.Lock()
		stopped := t.stopped
		t.stopped = true
		if !stopped {
			debug.SetGCPercent(100)
		}
		t.mu.Unlock()
		if !stopped {
			runtime.GC()
		}
	}
}

// gcTuner's mutex keeps a retune that races the release from setting GOGC
// after the default was restored.
type gcTuner struct {
	mu      sync.Mutex
	stopped bool
	sample  []metrics.Sample
}

// sentinel is garbage whose finalizer runs once per collection.
type sentinel struct{ _ *int }

// arm sets a finalizer that retunes after the next collection and re-arms.
func (t *gcTuner) arm() {
	runtime.SetFinalizer(&sentinel{}, func(*sentinel) {
		if t.tune() {
			t.arm()
		}
	})
}

// tune sets GOGC so the next heap goal is gcHeapFloor, or 100 when the
// live heap is already half of it or more; false once released.
func (t *gcTuner) tune() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return false
	}
	metrics.Read(t.sample)
	pct := 100
	if t.sample[0].Value.Kind() == metrics.KindUint64 {
		if live := t.sample[0].Value.Uint64(); live > 0 && live < gcHeapFloor/2 {
			pct = min(int(100*(gcHeapFloor-live)/live), 2000)
		}
	}
	debug.SetGCPercent(pct)
	return true
}
