package engine

import "testing"

func TestPrefaultSize(t *testing.T) {
	const mb = 1 << 20
	for _, c := range []struct {
		name        string
		peak        float64
		goal, alloc uint64
		want        int
	}{
		{"a slow plan touches the minimum", 50, 64 * mb, 2 * mb, prefaultMin},
		{"one second of the peak", 5000, 64 * mb, 2 * mb, 5000 * prefaultPerRequest},
		{"no further than the heap goal", 10000, 34 * mb, 2 * mb, 32 * mb},
		{"never more than the cap", 100000, 1024 * mb, 2 * mb, prefaultMax},
		{"the minimum even past the goal", 10000, 4 * mb, 5 * mb, prefaultMin},
		{"the minimum under a default goal", 10000, 4 * mb, 3 * mb, prefaultMin},
		{"a huge rate is capped", 1e300, 1024 * mb, 2 * mb, prefaultMax},
		{"a negative rate touches the minimum", -5, 64 * mb, 2 * mb, prefaultMin},
	} {
		if got := prefaultSize(c.peak, c.goal, c.alloc); got != c.want {
			t.Errorf("%s: prefaultSize(%v, %d MB, %d MB) = %.1f MB; want %.1f MB",
				c.name, c.peak, c.goal/mb, c.alloc/mb, float64(got)/mb, float64(c.want)/mb)
		}
	}
}
