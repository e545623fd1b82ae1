package analysis

import "github.com/spikeload/spike/engine/hdrv2"

// Merging latency histograms is the hot path of an analysis: a 1-hour run has
// 3,600 windows × ~7 requests, and a layer's p95 per window needs its
// requests' histograms merged. engine.DecodeHist allocates a dense
// hdrhistogram (≈184 KB at spike's geometry) and a zlib reader (≈40 KB) per
// call: about 150 µs each, several seconds per hour of run. The decoder below
// (hdrv2.Decoder) reads the same V2 compressed encoding with a reused zlib
// reader and reused buffers, yields only the populated buckets, and the accumulator adds them
// into one dense array whose touched range alone is scanned and cleared. Each
// stored histogram is decoded at most once per Analyze, and its buckets feed
// every merge that needs them (layer-in-window, request-at-low-load,
// layer-at-low-load, overall-at-low-load).
//
// Percentiles follow hdrhistogram-go exactly (nearest rank, highest
// equivalent value of the bucket), so a merge of one histogram reproduces the
// engine's own figures; TestHistDecoder_MatchesLibrary checks it.

type (
	geometry    = hdrv2.Geometry
	bucket      = hdrv2.Bucket
	histDecoder = hdrv2.Decoder
)

// acc accumulates decoded histograms of one geometry into a dense counts
// array. Only the touched index range is scanned and cleared, so a reset and a
// percentile cost O(range), not O(countsLen). The zero acc is ready to use; it
// takes the geometry of the first histogram added.
type acc struct {
	g      geometry
	counts []int64
	total  int64
	lo, hi int32 // touched range, inclusive; lo > hi when empty
}

// add adds the buckets of a histogram of geometry g.
func (a *acc) add(bs []bucket, g geometry) {
	if len(bs) == 0 {
		return
	}
	if !a.g.Configured {
		a.g = g
		a.counts = make([]int64, g.CountsLen)
		a.lo, a.hi = g.CountsLen, -1
	}
	same := a.g.Same(&g)
	for _, b := range bs {
		i := b.Idx
		if !same {
			i = a.g.Index(g.Value(i))
			if i >= a.g.CountsLen {
				i = a.g.CountsLen - 1
			}
		}
		a.counts[i] += b.Count
		a.total += b.Count
		if i < a.lo {
			a.lo = i
		}
		if i > a.hi {
			a.hi = i
		}
	}
}

// reset empties a, keeping its storage.
func (a *acc) reset() {
	if a.total > 0 {
		clear(a.counts[a.lo : a.hi+1])
	}
	a.total = 0
	a.lo, a.hi = a.g.CountsLen, -1
}

// percentiles returns the values (in the histogram's unit) at p1 and p2 (in
// percent, p1 <= p2) and the maximum, as hdrhistogram computes them.
func (a *acc) percentiles(p1, p2 float64) (v1, v2, max int64) {
	if a.total == 0 {
		return 0, 0, 0
	}
	r1, r2 := hdrv2.Rank(p1, a.total), hdrv2.Rank(p2, a.total)
	var cum int64
	got1 := false
	for i := a.lo; i <= a.hi; i++ {
		c := a.counts[i]
		if c == 0 {
			continue
		}
		cum += c
		if !got1 && cum >= r1 {
			v1, got1 = a.g.Value(i), true
		}
		if cum >= r2 {
			v2 = a.g.Value(i)
			break
		}
	}
	return v1, v2, a.g.Value(a.hi)
}
