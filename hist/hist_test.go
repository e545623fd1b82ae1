package hist

import (
	"math/rand"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// oraclePercentiles are the percentiles checked against hdrhistogram-go:
// both ends, the ones spike reports, and a few that fall between buckets.
var oraclePercentiles = []float64{0, 0.1, 1, 10, 33.3, 50, 66.6, 90, 95, 99, 99.5, 99.9, 99.99, 99.999, 100}

// checkLikeLibrary fails unless h reports what the library reports of lib:
// count, min, max, mean, every oracle percentile, and the same encoding.
func checkLikeLibrary(t *testing.T, at string, h *Hist, lib *hdrhistogram.Histogram) {
	t.Helper()
	if h.Total() != lib.TotalCount() {
		t.Fatalf("%s: Total() = %d; library %d", at, h.Total(), lib.TotalCount())
	}
	if h.Min() != lib.Min() || h.Max() != lib.Max() || h.Mean() != lib.Mean() {
		t.Fatalf("%s: min/max/mean = %d/%d/%v; library %d/%d/%v", at, h.Min(), h.Max(), h.Mean(), lib.Min(), lib.Max(), lib.Mean())
	}
	qs := h.Quantiles(oraclePercentiles, nil)
	s := h.Summarize(oraclePercentiles, nil)
	for i, p := range oraclePercentiles {
		want := lib.ValueAtPercentile(p)
		if qs[i] != want || s.Values[i] != want || h.ValueAt(p) != want {
			t.Fatalf("%s: p%v: Quantiles %d, Summarize %d, ValueAt %d; library %d", at, p, qs[i], s.Values[i], h.ValueAt(p), want)
		}
	}
	want, err := lib.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		t.Fatal(err)
	}
	var e Encoder
	if got := e.EncodeHist(h); got != string(want) {
		t.Fatalf("%s: encoding differs from the library's", at)
	}
}

// TestHist_MergeMatchesLibrary merges several histograms, through their
// encodings as a result stores them, three ways (Decode and Merge, a
// Decoder and Add, Merge of live histograms) and checks each against
// hdrhistogram-go's Merge: same count, same figures, same quantiles, same
// bytes, same samples dropped.
func TestHist_MergeMatchesLibrary(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewSource(7))
	var d Decoder
	spike, _ := NewGeometry(1, 3_600_000_000, 3)
	added := New(spike) // reused across trials: Reset must leave nothing behind
	for trial := 0; trial < 40; trial++ {
		libMerged := hdrhistogram.New(1, 3_600_000_000, 3)
		var decoded, live Hist
		added.Reset()
		var libDropped, decDropped, addDropped, liveDropped int64
		for p := 0; p < 1+rng.Intn(5); p++ {
			lib := randomHist(rng, []int{0, 1, 3, 300, 3000}[rng.Intn(5)])
			enc, err := lib.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
			if err != nil {
				t.Fatal(err)
			}
			libDropped += libMerged.Merge(lib)

			one, err := Decode(string(enc))
			if err != nil {
				t.Fatalf("trial %d: Decode: %v", trial, err)
			}
			if p == 0 {
				checkLikeLibrary(t, "one decoded histogram", one, lib)
				// Start from spike's geometry, as a merge of results does.
				decoded, live = *New(spike), *New(spike)
			}
			decDropped += decoded.Merge(one)

			bs, g, err := d.Decode(string(enc))
			if err != nil {
				t.Fatalf("trial %d: Decoder.Decode: %v", trial, err)
			}
			addDropped += added.Add(bs, &g)

			rec := New(g)
			for _, b := range bs {
				for range b.Count {
					rec.Record(g.LowestEquivalent(b.Idx))
				}
			}
			liveDropped += live.Merge(rec)
		}
		for name, got := range map[string]struct {
			h       *Hist
			dropped int64
		}{"Decode+Merge": {&decoded, decDropped}, "Merge of recorded": {&live, liveDropped}, "Decoder+Add": {added, addDropped}} {
			if got.dropped != libDropped {
				t.Fatalf("trial %d: %s dropped %d; library %d", trial, name, got.dropped, libDropped)
			}
			checkLikeLibrary(t, name, got.h, libMerged)
		}
	}
}

func TestHist_ZeroValue(t *testing.T) {
	t.Parallel()
	var h Hist
	if h.Record(5) || h.Total() != 0 {
		t.Fatalf("Record on a zero Hist = true or counted; want dropped")
	}
	if got := h.Quantiles([]float64{50, 99}, nil); len(got) != 2 || got[0] != 0 || got[1] != 0 {
		t.Fatalf("Quantiles of a zero Hist = %v; want [0 0]", got)
	}
	var e Encoder
	if s := e.EncodeHist(&h); s != "" {
		t.Fatalf("EncodeHist of a zero Hist = %q; want \"\"", s)
	}
	empty, err := Decode("")
	if err != nil || empty.Total() != 0 {
		t.Fatalf("Decode(\"\") = %v, %v; want an empty Hist", empty, err)
	}
	// It takes the geometry of what is merged into it.
	g, _ := NewGeometry(1, 3_600_000_000, 3)
	src := New(g)
	src.Record(1234)
	if dropped := h.Merge(src); dropped != 0 || h.Total() != 1 || !h.Geometry().Same(&g) || h.Max() != src.Max() {
		t.Fatalf("Merge into a zero Hist: dropped %d, %v; want 1 sample of the source's geometry", dropped, &h)
	}
}

func TestHist_ForeignGeometry(t *testing.T) {
	t.Parallel()
	// A histogram of another geometry is re-bucketed by value.
	h := hdrhistogram.New(1, 60_000_000, 2)
	for i := int64(1); i <= 1000; i++ {
		_ = h.RecordValue(i * 1000)
	}
	enc, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := NewGeometry(1, 3_600_000_000, 3)
	a := New(g)
	a.Record(1)
	var d Decoder
	bs, fg, err := d.Decode(string(enc))
	if err != nil {
		t.Fatal(err)
	}
	if dropped := a.Add(bs, &fg); dropped != 0 {
		t.Fatalf("Add dropped %d; want 0", dropped)
	}
	if v95 := a.ValueAt(95); v95 < 940_000 || v95 > 960_000 {
		t.Fatalf("p95 of re-bucketed histogram = %d; want ≈950000", v95)
	}
}

func TestDecoder_Errors(t *testing.T) {
	t.Parallel()
	var d Decoder
	for _, s := range []string{"!!!", "AAAA", "HIST" + "AAAAAAAAAAAA"} {
		if _, _, err := d.Decode(s); err == nil {
			t.Errorf("Decoder.Decode(%q) = nil error; want an error", s)
		}
		if _, err := Decode(s); err == nil {
			t.Errorf("Decode(%q) = nil error; want an error", s)
		}
	}
	// The decoder still works after errors.
	g, _ := NewGeometry(1, 3_600_000_000, 3)
	h := New(g)
	h.Record(1234)
	var e Encoder
	bs, _, err := d.Decode(e.EncodeHist(h))
	if err != nil || len(bs) != 1 {
		t.Fatalf("decode after errors = (%v, %v); want one bucket", bs, err)
	}
}

func BenchmarkDecoder(b *testing.B) {
	g, _ := NewGeometry(1, 3_600_000_000, 3)
	h := New(g)
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 100; i++ {
		h.Record(int64(50000 + rng.ExpFloat64()*20000))
	}
	var e Encoder
	enc := e.EncodeHist(h)
	var d Decoder
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := d.Decode(enc); err != nil {
			b.Fatal(err)
		}
	}
}
