package charts

import (
	"math"
	"testing"
)

func ramp(n int, f func(i int) float64) []point {
	pts := make([]point, n)
	for i := range pts {
		pts[i] = point{X: float64(i), Y: f(i)}
	}
	return pts
}

func TestLTTB_Sizes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, n, want int
	}{
		{0, 10, 0},
		{1, 10, 1},
		{5, 10, 5},
		{10, 10, 10},
		{11, 10, 10},
		{3600, 1000, 1000},
		{3600, 3, 3},
		{100, 2, 100}, // n < 3: unchanged
		{7, 3, 3},
	} {
		pts := ramp(tc.in, func(i int) float64 { return math.Sin(float64(i) / 7) })
		got := lttb(pts, tc.n)
		if len(got) != tc.want {
			t.Errorf("lttb(%d points, %d) returned %d points; want %d", tc.in, tc.n, len(got), tc.want)
			continue
		}
		if tc.in == 0 {
			continue
		}
		if got[0] != pts[0] || got[len(got)-1] != pts[len(pts)-1] {
			t.Errorf("lttb(%d points, %d): first/last = %v/%v; want %v/%v", tc.in, tc.n, got[0], got[len(got)-1], pts[0], pts[len(pts)-1])
		}
		for i := 1; i < len(got); i++ {
			if got[i].X <= got[i-1].X {
				t.Errorf("lttb(%d points, %d): x not increasing at %d: %v after %v", tc.in, tc.n, i, got[i], got[i-1])
				break
			}
		}
	}
}

func TestLTTB_KeepsPeaks(t *testing.T) {
	t.Parallel()
	// A flat series with one spike and one dip: both must survive a 10x
	// reduction, and no point may be invented.
	pts := ramp(3600, func(i int) float64 {
		switch i {
		case 1234:
			return 5000
		case 2345:
			return -300
		}
		return 100
	})
	got := lttb(pts, 360)
	var hasPeak, hasDip bool
	for _, p := range got {
		if p == (point{1234, 5000}) {
			hasPeak = true
		}
		if p == (point{2345, -300}) {
			hasDip = true
		}
		if int(p.X) < 0 || int(p.X) >= len(pts) || pts[int(p.X)] != p {
			t.Fatalf("lttb returned %v, which is not an input point", p)
		}
	}
	if !hasPeak || !hasDip {
		t.Errorf("lttb(3600 points, 360): peak kept %t, dip kept %t; want both", hasPeak, hasDip)
	}
}

func TestLTTB_Unchanged(t *testing.T) {
	t.Parallel()
	pts := ramp(50, func(i int) float64 { return float64(i * i) })
	before := append([]point(nil), pts...)
	_ = lttb(pts, 10)
	for i := range pts {
		if pts[i] != before[i] {
			t.Fatalf("lttb modified its input at %d: %v, was %v", i, pts[i], before[i])
		}
	}
}

func TestLTTB_FollowsShape(t *testing.T) {
	t.Parallel()
	// A down-sampled sine stays close to the sine: every kept point is an
	// input point, and the largest gap between kept x values is bounded by
	// two buckets.
	pts := ramp(10000, func(i int) float64 { return math.Sin(float64(i) / 300) })
	got := lttb(pts, 500)
	bucket := float64(len(pts)-2) / float64(500-2)
	for i := 1; i < len(got); i++ {
		if gap := got[i].X - got[i-1].X; gap > 2*bucket+1 {
			t.Fatalf("lttb(10000, 500): gap %.0f between %v and %v exceeds two buckets (%.1f)", gap, got[i-1], got[i], 2*bucket)
		}
	}
}

func BenchmarkLTTB(b *testing.B) {
	pts := ramp(3600, func(i int) float64 { return math.Sin(float64(i) / 30) })
	b.ReportAllocs()
	for b.Loop() {
		_ = lttb(pts, 1000)
	}
}
