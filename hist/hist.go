package hist

import (
	"fmt"
	"math"
)

// Hist is a dense HDR histogram of one geometry that remembers which range
// of buckets it has touched, so that summarising, encoding, merging and
// resetting it cost the touched range, not the whole counts array (≈190 KB
// at spike's latency geometry).
//
// It records exactly as hdrhistogram-go's RecordValue does (same buckets,
// same values dropped), merges as the library's Merge does, reports the
// library's Min, Max, Mean and ValueAtPercentile, and its encoding is the
// library's, byte for byte.
//
// New returns a Hist ready to record. The zero Hist is an empty histogram
// without a geometry: it takes the geometry of the first histogram added or
// merged into it (Record on it drops the value). A Hist is not safe for
// concurrent use.
type Hist struct {
	g      Geometry
	counts []int64
	total  int64
	lo, hi int32 // touched range, inclusive; lo > hi when empty
}

// New returns an empty histogram laid out by g.
func New(g Geometry) *Hist {
	h := &Hist{}
	h.configure(g)
	return h
}

func (h *Hist) configure(g Geometry) {
	h.g = g
	h.counts = make([]int64, g.CountsLen)
	h.total = 0
	h.lo, h.hi = g.CountsLen, -1
}

// Decode returns the histogram encoded in s (V2 compressed, base64, as
// Encoder writes it); "" is an empty zero Hist. Decoding many histograms,
// use a Decoder and Add: it reuses its buffers.
func Decode(s string) (*Hist, error) {
	h := &Hist{}
	if s == "" {
		return h, nil
	}
	var d Decoder
	bs, g, err := d.Decode(s)
	if err != nil {
		return nil, err
	}
	h.configure(g)
	h.Add(bs, &g)
	return h, nil
}

// Record adds one value; false when the value is negative or past the
// histogram's range (it is then not counted, as the library drops it).
func (h *Hist) Record(v int64) bool {
	if v < 0 {
		return false
	}
	i := h.g.Index(v)
	if i < 0 || i >= h.g.CountsLen {
		return false
	}
	h.counts[i]++
	h.total++
	if i < h.lo {
		h.lo = i
	}
	if i > h.hi {
		h.hi = i
	}
	return true
}

// RecordN adds n occurrences of the value v (n >= 0), as hdrhistogram-go's
// RecordValues does; false when v is negative or past the range.
func (h *Hist) RecordN(v, n int64) bool {
	if v < 0 || n < 0 {
		return false
	}
	i := h.g.Index(v)
	if i < 0 || i >= h.g.CountsLen {
		return false
	}
	h.counts[i] += n
	h.total += n
	if i < h.lo {
		h.lo = i
	}
	if i > h.hi {
		h.hi = i
	}
	return true
}

// Add adds the buckets bs of a histogram laid out by g (as Decoder.Decode
// returns them) and returns how many samples it dropped. A zero h takes the
// geometry g. Buckets of another layout are re-recorded at their lowest
// equivalent value, as hdrhistogram-go's Merge does; samples past h's range
// are then dropped and counted.
func (h *Hist) Add(bs []Bucket, g *Geometry) (dropped int64) {
	if len(bs) == 0 {
		return 0
	}
	if !h.g.Configured {
		h.configure(*g)
	}
	same := h.g.Same(g)
	for _, b := range bs {
		i := b.Idx
		if !same {
			i = h.g.Index(g.LowestEquivalent(i))
			if i < 0 || i >= h.g.CountsLen {
				dropped += b.Count
				continue
			}
		}
		h.counts[i] += b.Count
		h.total += b.Count
		if i < h.lo {
			h.lo = i
		}
		if i > h.hi {
			h.hi = i
		}
	}
	return dropped
}

// Merge adds o's samples into h, as hdrhistogram-go's h.Merge(o) does, and
// returns how many it dropped (o's samples past h's range, when their
// geometries differ). A zero h takes o's geometry.
func (h *Hist) Merge(o *Hist) (dropped int64) {
	if o.total == 0 {
		return 0
	}
	if !h.g.Configured {
		h.configure(o.g)
	}
	if !h.g.Same(&o.g) {
		for i := o.lo; i <= o.hi; i++ {
			if c := o.counts[i]; c != 0 {
				dropped += h.Add([]Bucket{{i, c}}, &o.g)
			}
		}
		return dropped
	}
	for i := o.lo; i <= o.hi; i++ {
		h.counts[i] += o.counts[i]
	}
	h.total += o.total
	h.lo, h.hi = min(h.lo, o.lo), max(h.hi, o.hi)
	return 0
}

// Total returns how many values were recorded.
func (h *Hist) Total() int64 { return h.total }

// Reset empties h, keeping its storage and geometry.
func (h *Hist) Reset() {
	if h.total > 0 {
		clear(h.counts[h.lo : h.hi+1])
	}
	h.total = 0
	h.lo, h.hi = h.g.CountsLen, -1
}

// Geometry returns h's bucket layout (the zero Geometry, not Configured,
// for a zero Hist that has not taken one yet).
func (h *Hist) Geometry() *Geometry { return &h.g }

// Min returns the lowest equivalent value of the lowest sample, as
// hdrhistogram-go's Min does (0 when empty).
func (h *Hist) Min() int64 {
	if h.total == 0 {
		return 0
	}
	return h.g.LowestEquivalent(h.lo)
}

// Max returns the highest equivalent value of the highest sample, as
// hdrhistogram-go's Max does (0 when empty).
func (h *Hist) Max() int64 {
	if h.total == 0 {
		return 0
	}
	return h.g.Value(h.hi)
}

// Mean returns the samples' mean (each at its bucket's middle value), as
// hdrhistogram-go's Mean does (0 when empty).
func (h *Hist) Mean() float64 {
	return h.Summarize(nil, nil).Mean
}

// ValueAt returns the value at percentile p (in percent), as
// hdrhistogram-go's ValueAtPercentile does: the highest equivalent value of
// the bucket holding the sample of nearest rank; at p <= 0 the lowest
// equivalent value of the lowest sample; 0 when empty.
func (h *Hist) ValueAt(p float64) int64 {
	var buf [1]int64
	return h.Quantiles([]float64{p}, buf[:0])[0]
}

// Quantiles appends to out the values at percentiles ps (ascending, in
// percent) as ValueAt gives them, in one pass over the touched range, and
// returns it. Zeros when empty.
func (h *Hist) Quantiles(ps []float64, out []int64) []int64 {
	if h.total == 0 {
		for range ps {
			out = append(out, 0)
		}
		return out
	}
	if len(ps) == 0 {
		return out
	}
	var cum int64
	k, next := 0, Rank(ps[0], h.total)
	for i := h.lo; i <= h.hi; i++ {
		c := h.counts[i]
		if c == 0 {
			continue
		}
		cum += c
		for cum >= next {
			out = append(out, valueAt(&h.g, i, ps[k]))
			if k++; k == len(ps) {
				return out
			}
			next = Rank(ps[k], h.total)
		}
	}
	for ; k < len(ps); k++ { // not reached: the last rank is at most the total
		out = append(out, h.g.Value(h.hi))
	}
	return out
}

// valueAt is the value the library reports for percentile p landing in the
// bucket at index i.
func valueAt(g *Geometry, i int32, p float64) int64 {
	if p <= 0 {
		return g.LowestEquivalent(i)
	}
	return g.Value(i)
}

// Summarize is Summarize over h's touched range.
func (h *Hist) Summarize(percentiles []float64, out []int64) Summary {
	if h.total == 0 {
		return Summarize(&h.g, nil, percentiles, out)
	}
	return summarize(&h.g, h.counts[:h.hi+1], h.lo, percentiles, out)
}

// Counts returns h's counts array, laid out by its geometry, up to its
// highest touched bucket (nil when empty). It is h's own storage: do not
// modify it.
func (h *Hist) Counts() []int64 {
	if h.total == 0 {
		return nil
	}
	return h.counts[:h.hi+1]
}

// String describes h for messages: its sample count and geometry.
func (h *Hist) String() string {
	return fmt.Sprintf("%d samples, %d..%d at %d digits", h.total, h.g.Lowest, h.g.Highest, h.g.SigDigits)
}

// Summary is what hdrhistogram-go reports of a histogram, computed in one
// pass over its counts.
type Summary struct {
	Count, Min, Max int64
	Mean            float64
	// Values holds the value at each percentile asked for, in order.
	Values []int64
}

// Summarize computes the count, minimum, maximum, mean and the values at
// percentiles (ascending, in percent) of counts laid out by g, exactly as
// hdrhistogram-go's TotalCount, Min, Max, Mean and ValueAtPercentile do.
// The returned Values slice is out, reused.
func Summarize(g *Geometry, counts []int64, percentiles []float64, out []int64) Summary {
	return summarize(g, counts, 0, percentiles, out)
}

// summarize is Summarize over counts from index from on (the ones before it
// are known to be empty).
func summarize(g *Geometry, counts []int64, from int32, percentiles []float64, out []int64) Summary {
	s := Summary{Values: out[:0]}
	first, last := int32(-1), int32(-1)
	for i := int(from); i < len(counts); i++ {
		if c := counts[i]; c != 0 {
			if first < 0 {
				first = int32(i)
			}
			last = int32(i)
			s.Count += c
		}
	}
	if s.Count == 0 {
		for range percentiles {
			s.Values = append(s.Values, 0)
		}
		return s
	}
	s.Min, s.Max = g.LowestEquivalent(first), g.Value(last)
	total := float64(s.Count)
	var cum int64
	k, next := 0, int64(math.MaxInt64)
	if len(percentiles) > 0 {
		next = Rank(percentiles[0], s.Count)
	}
	for i := first; i <= last; i++ {
		c := counts[i]
		if c == 0 {
			continue
		}
		s.Mean += float64(c) * float64(g.Median(i)) / total
		cum += c
		for cum >= next {
			s.Values = append(s.Values, valueAt(g, i, percentiles[k]))
			if k++; k < len(percentiles) {
				next = Rank(percentiles[k], s.Count)
			} else {
				next = math.MaxInt64
			}
		}
	}
	for ; k < len(percentiles); k++ {
		s.Values = append(s.Values, s.Max)
	}
	return s
}

// Rank is hdrhistogram's nearest rank for percentile p of total samples:
// between 1 and total.
func Rank(p float64, total int64) int64 {
	r := p/100*float64(total) + 0.5
	if !(r >= 1) {
		return 1
	}
	if r >= float64(total) {
		return total
	}
	return int64(r)
}
