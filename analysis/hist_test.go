package analysis

import (
	"math/rand"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/spikeload/spike/engine"
)

func TestHistDecoder_MatchesLibrary(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewSource(7))
	var d histDecoder
	var a acc
	for trial := 0; trial < 200; trial++ {
		merged := engine.NewHist()
		a.reset()
		parts := 1 + rng.Intn(4)
		for p := 0; p < parts; p++ {
			h := engine.NewHist()
			n := rng.Intn(300)
			scale := []float64{50, 5e3, 2e5, 3e6}[rng.Intn(4)]
			for i := 0; i < n; i++ {
				v := int64(rng.ExpFloat64() * scale)
				if rng.Intn(50) == 0 {
					v = int64(rng.Float64() * 5e9) // past the top: clamped or dropped
				}
				_ = h.RecordValue(v)
			}
			merged.Merge(h)
			enc := engine.Stats(h, true).Hist
			bs, g, err := d.Decode(enc)
			if err != nil {
				t.Fatalf("trial %d: decode: %v", trial, err)
			}
			a.add(bs, g)
			// One histogram alone: the decoder's buckets give the engine's figures.
			if p == 0 {
				var one acc
				one.add(bs, g)
				st := engine.Stats(h, false)
				v95, v99, max := one.percentiles(95, 99)
				if got, want := us(v95), st.P95; got != want {
					t.Fatalf("trial %d: p95 = %v; want %v", trial, got, want)
				}
				if got, want := us(v99), st.P99; got != want {
					t.Fatalf("trial %d: p99 = %v; want %v", trial, got, want)
				}
				if got, want := us(max), st.Max; n > 0 && got != want {
					t.Fatalf("trial %d: max = %v; want %v", trial, got, want)
				}
			}
		}
		if a.total != merged.TotalCount() {
			t.Fatalf("trial %d: total = %d; want %d", trial, a.total, merged.TotalCount())
		}
		for _, q := range [][2]float64{{50, 90}, {95, 99}, {99.9, 100}} {
			v1, v2, max := a.percentiles(q[0], q[1])
			w := merged.ValueAtPercentilesSlice([]float64{q[0], q[1]})
			if merged.TotalCount() == 0 {
				w = []int64{0, 0}
			}
			if v1 != w[0] || v2 != w[1] {
				t.Fatalf("trial %d: percentiles(%v, %v) = (%d, %d); want (%d, %d)", trial, q[0], q[1], v1, v2, w[0], w[1])
			}
			if merged.TotalCount() > 0 && max != merged.Max() {
				t.Fatalf("trial %d: max = %d; want %d", trial, max, merged.Max())
			}
		}
	}
}

func TestHistDecoder_ForeignGeometry(t *testing.T) {
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
	var d histDecoder
	var a acc
	a.add(decodeOK(t, &d, engine.Stats(engine.NewHist(), false).Hist))
	std := engine.NewHist()
	_ = std.RecordValue(1)
	a.add(decodeOK(t, &d, engine.Stats(std, true).Hist))
	a.add(decodeOK(t, &d, string(enc)))
	v95, _, _ := a.percentiles(95, 99)
	if v95 < 940_000 || v95 > 960_000 {
		t.Fatalf("p95 of re-bucketed histogram = %d; want ≈950000", v95)
	}
}

func TestHistDecoder_Errors(t *testing.T) {
	t.Parallel()
	var d histDecoder
	for _, s := range []string{"!!!", "AAAA", "HIST" + "AAAAAAAAAAAA"} {
		if _, _, err := d.Decode(s); err == nil {
			t.Errorf("decode(%q) = nil error; want an error", s)
		}
	}
	// The decoder still works after errors.
	h := engine.NewHist()
	_ = h.RecordValue(1234)
	bs, _, err := d.Decode(engine.Stats(h, true).Hist)
	if err != nil || len(bs) != 1 {
		t.Fatalf("decode after errors = (%v, %v); want one bucket", bs, err)
	}
}

func decodeOK(t *testing.T, d *histDecoder, s string) ([]bucket, geometry) {
	t.Helper()
	bs, g, err := d.Decode(s)
	if err != nil {
		t.Fatal(err)
	}
	return append([]bucket(nil), bs...), g
}

func BenchmarkHistDecoder(b *testing.B) {
	h := engine.NewHist()
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 100; i++ {
		_ = h.RecordValue(int64(50000 + rng.ExpFloat64()*20000))
	}
	enc := engine.Stats(h, true).Hist
	var d histDecoder
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := d.Decode(enc); err != nil {
			b.Fatal(err)
		}
	}
}
