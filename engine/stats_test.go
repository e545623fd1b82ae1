package engine

import (
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Stats (for hdrhistogram-go histograms) and a Summarizer's StatsOf (for the
// recorder's own) give hdrhistogram-go's figures and encoding.
func TestStats_MatchTheLibrary(t *testing.T) {
	h := NewHist()
	live := newLiveHist()
	for i := int64(0); i < 5000; i++ {
		v := 100 + (i*7919)%250000 // 0.1 ms to 250 ms, in microseconds
		if err := h.RecordValue(v); err != nil {
			t.Fatal(err)
		}
		live.Record(v)
	}
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	q := h.ValueAtPercentiles([]float64{50, 90, 95, 99})
	want := LatencyStats{
		Count: h.TotalCount(), Min: us(h.Min()), Max: us(h.Max()),
		Mean: time.Duration(h.Mean() * float64(time.Microsecond)),
		P50:  us(q[50]), P90: us(q[90]), P95: us(q[95]), P99: us(q[99]),
	}
	enc, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		t.Fatal(err)
	}
	var z Summarizer
	for name, got := range map[string]LatencyStats{"Stats": Stats(h, true), "StatsOf": z.StatsOf(live, true)} {
		if got.Hist != string(enc) {
			t.Errorf("%s: encoding differs from hdrhistogram-go's", name)
		}
		got.Hist = ""
		if got != want {
			t.Errorf("%s = %+v\nwant %+v", name, got, want)
		}
	}
	if s := Stats(NewHist(), true); s != (LatencyStats{}) {
		t.Errorf("Stats of an empty histogram = %+v; want zero", s)
	}
}
