package charts

import "math"

// point is one (x, y) sample of a series; x is seconds from the start of the
// run unless a chart says otherwise.
type point struct{ X, Y float64 }

// lttb down-samples pts to at most n points with Steinarsson's
// largest-triangle-three-buckets algorithm: the first and last points are
// kept, the rest are cut into n-2 buckets of (nearly) equal size, and from
// each bucket the point that makes the largest triangle with the point kept
// from the previous bucket and the mean of the next bucket is kept. Peaks and
// troughs survive, which is what a reader of a latency chart looks for.
//
// pts must be sorted by X. When len(pts) <= n or n < 3, pts is returned
// unchanged (not copied). The result is a new slice otherwise; pts is not
// modified.
func lttb(pts []point, n int) []point {
	if n < 3 || len(pts) <= n {
		return pts
	}
	out := make([]point, 0, n)
	out = append(out, pts[0])
	// Buckets cover pts[1 : len-1]; every bucket is `size` points wide
	// (fractionally), so the last point stays alone as the final anchor.
	size := float64(len(pts)-2) / float64(n-2)
	a := 0 // index of the point kept from the previous bucket
	for i := 0; i < n-2; i++ {
		lo := int(math.Floor(float64(i)*size)) + 1
		hi := int(math.Floor(float64(i+1)*size)) + 1
		if hi > len(pts)-1 {
			hi = len(pts) - 1
		}
		// The next bucket's mean is the third corner of the triangle; for
		// the last bucket it is the final point.
		nlo, nhi := hi, int(math.Floor(float64(i+2)*size))+1
		if nhi > len(pts) {
			nhi = len(pts)
		}
		if i == n-3 {
			nlo, nhi = len(pts)-1, len(pts)
		}
		var mx, my float64
		for _, p := range pts[nlo:nhi] {
			mx += p.X
			my += p.Y
		}
		if k := float64(nhi - nlo); k > 0 {
			mx /= k
			my /= k
		}
		best, bestArea := lo, -1.0
		ax, ay := pts[a].X, pts[a].Y
		for j := lo; j < hi; j++ {
			// Twice the triangle's area; the factor does not change the argmax.
			area := math.Abs((ax-mx)*(pts[j].Y-ay) - (ax-pts[j].X)*(my-ay))
			if area > bestArea {
				best, bestArea = j, area
			}
		}
		out = append(out, pts[best])
		a = best
	}
	return append(out, pts[len(pts)-1])
}
