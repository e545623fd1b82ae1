package hist

import (
	"math/rand"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// randomHist returns a histogram of spike's geometry (µs, 1 µs..1 h, 3
// digits) or another one, filled with n values at the given scale.
func randomHist(rng *rand.Rand, n int) *hdrhistogram.Histogram {
	var h *hdrhistogram.Histogram
	if rng.Intn(4) == 0 {
		h = hdrhistogram.New(1, 60_000_000, 2)
	} else {
		h = hdrhistogram.New(1, 3_600_000_000, 3)
	}
	scale := []float64{50, 5e3, 2e5, 3e6}[rng.Intn(4)]
	for i := 0; i < n; i++ {
		v := int64(rng.ExpFloat64() * scale)
		if rng.Intn(50) == 0 {
			v = int64(rng.Float64() * 5e9) // past the top: dropped by the library
		}
		_ = h.RecordValue(v)
	}
	return h
}

func geometryOf(t *testing.T, h *hdrhistogram.Histogram) Geometry {
	t.Helper()
	g, err := NewGeometry(h.LowestTrackableValue(), h.HighestTrackableValue(), int32(h.SignificantFigures()))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := int(g.CountsLen), len(h.Export().Counts); got != want {
		t.Fatalf("CountsLen = %d; the library has %d counts", got, want)
	}
	return g
}

func TestEncoder_SameBytesAsLibrary(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	var e Encoder
	var d Decoder
	for trial := 0; trial < 300; trial++ {
		n := []int{0, 1, 2, 50, 3000}[rng.Intn(5)]
		h := randomHist(rng, n)
		g := geometryOf(t, h)
		want, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
		if err != nil {
			t.Fatal(err)
		}
		got := e.Encode(&g, h.Export().Counts)
		if got != string(want) {
			t.Fatalf("trial %d (%d values): encoding differs from hdrhistogram-go's\n got %.80s\nwant %.80s", trial, n, got, want)
		}
		// And it reads back, through the library and through the Decoder.
		back, err := hdrhistogram.Decode([]byte(got))
		if err != nil || !back.Equals(h) {
			t.Fatalf("trial %d: library decode: err %v, equal %v", trial, err, err == nil && back.Equals(h))
		}
		bs, dg, err := d.Decode(got)
		if err != nil || !dg.Same(&g) {
			t.Fatalf("trial %d: Decode: %v", trial, err)
		}
		var total int64
		counts := h.Export().Counts
		for _, b := range bs {
			if counts[b.Idx] != b.Count {
				t.Fatalf("trial %d: bucket %d = %d; want %d", trial, b.Idx, b.Count, counts[b.Idx])
			}
			total += b.Count
		}
		if total != h.TotalCount() {
			t.Fatalf("trial %d: decoded total %d; want %d", trial, total, h.TotalCount())
		}
	}
}

func TestSummarize_MatchesLibrary(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	ps := []float64{1, 50, 90, 95, 99, 99.9, 100}
	var out []int64
	for trial := 0; trial < 300; trial++ {
		h := randomHist(rng, []int{1, 2, 3, 77, 5000}[rng.Intn(5)])
		g := geometryOf(t, h)
		s := Summarize(&g, h.Export().Counts, ps, out)
		out = s.Values
		if s.Count != h.TotalCount() || s.Min != h.Min() || s.Max != h.Max() || s.Mean != h.Mean() {
			t.Fatalf("trial %d: count/min/max/mean = %d/%d/%d/%v; library %d/%d/%d/%v",
				trial, s.Count, s.Min, s.Max, s.Mean, h.TotalCount(), h.Min(), h.Max(), h.Mean())
		}
		want := h.ValueAtPercentiles(ps)
		for i, p := range ps {
			if s.Values[i] != want[p] {
				t.Fatalf("trial %d: p%v = %d; library %d", trial, p, s.Values[i], want[p])
			}
		}
	}
	// An empty histogram has zeros everywhere.
	g, _ := NewGeometry(1, 1000, 3)
	s := Summarize(&g, make([]int64, g.CountsLen), ps, nil)
	if s.Count != 0 || s.Max != 0 || len(s.Values) != len(ps) || s.Values[6] != 0 {
		t.Fatalf("empty: %+v", s)
	}
}

func BenchmarkEncode(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	h := hdrhistogram.New(1, 3_600_000_000, 3)
	for i := 0; i < 1000; i++ {
		_ = h.RecordValue(int64(10_000 + rng.ExpFloat64()*2000))
	}
	counts := h.Export().Counts
	g, _ := NewGeometry(1, 3_600_000_000, 3)
	b.Run("hist", func(b *testing.B) {
		var e Encoder
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			_ = e.Encode(&g, counts)
		}
	})
	b.Run("library", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			_, _ = h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
		}
	})
}

func TestHist_RecordsLikeLibrary(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	g, err := NewGeometry(1, 3_600_000_000, 3)
	if err != nil {
		t.Fatal(err)
	}
	h := New(g)
	var e Encoder
	ps := []float64{50, 90, 95, 99}
	for trial := 0; trial < 100; trial++ {
		lib := hdrhistogram.New(1, 3_600_000_000, 3)
		h.Reset() // reused: a reset must leave nothing behind
		n := []int{0, 1, 5, 400}[rng.Intn(4)]
		scale := []float64{50, 5e3, 2e5, 3e6}[rng.Intn(4)]
		for i := 0; i < n; i++ {
			v := int64(rng.ExpFloat64() * scale)
			switch rng.Intn(60) {
			case 0:
				v = int64(rng.Float64() * 1e10) // past the top
			case 1:
				v = -v - 1
			}
			libOK := lib.RecordValue(v) == nil
			if got := h.Record(v); got != libOK {
				t.Fatalf("trial %d: Record(%d) = %v; library recorded it: %v", trial, v, got, libOK)
			}
		}
		if h.Total() != lib.TotalCount() {
			t.Fatalf("trial %d: total %d; library %d", trial, h.Total(), lib.TotalCount())
		}
		want, _ := lib.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
		if got := e.EncodeHist(h); got != string(want) {
			t.Fatalf("trial %d: encoding differs from the library's", trial)
		}
		s := h.Summarize(ps, nil)
		if n > 0 && (s.Min != lib.Min() || s.Max != lib.Max() || s.Mean != lib.Mean()) {
			t.Fatalf("trial %d: min/max/mean %d/%d/%v; library %d/%d/%v", trial, s.Min, s.Max, s.Mean, lib.Min(), lib.Max(), lib.Mean())
		}
		for i, v := range lib.ValueAtPercentilesSlice(ps) {
			if lib.TotalCount() > 0 && s.Values[i] != v {
				t.Fatalf("trial %d: p%v = %d; library %d", trial, ps[i], s.Values[i], v)
			}
		}
	}
}
