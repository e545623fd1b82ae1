package engine

import (
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// libStats is the oracle for Stats: the LatencyStats hdrhistogram-go's own
// figures and encoding of h give.
func libStats(t testing.TB, h *hdrhistogram.Histogram) LatencyStats {
	t.Helper()
	if h.TotalCount() == 0 {
		return LatencyStats{}
	}
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	q := h.ValueAtPercentiles([]float64{50, 90, 95, 99})
	enc, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		t.Fatal(err)
	}
	return LatencyStats{
		Count: h.TotalCount(), Min: us(h.Min()), Max: us(h.Max()),
		Mean: time.Duration(h.Mean() * float64(time.Microsecond)),
		P50:  us(q[50]), P90: us(q[90]), P95: us(q[95]), P99: us(q[99]),
		Hist: string(enc),
	}
}

// newLibHist returns an hdrhistogram-go histogram of spike's geometry.
func newLibHist() *hdrhistogram.Histogram {
	return hdrhistogram.New(histLowest, histHighest, histDigits)
}

// Stats and a Summarizer's StatsOf give hdrhistogram-go's figures and
// encoding.
func TestStats_MatchTheLibrary(t *testing.T) {
	lib := newLibHist()
	h := NewHist()
	for i := int64(0); i < 5000; i++ {
		v := 100 + (i*7919)%250000 // 0.1 ms to 250 ms, in microseconds
		if err := lib.RecordValue(v); err != nil {
			t.Fatal(err)
		}
		h.Record(v)
	}
	want := libStats(t, lib)
	var z Summarizer
	for name, got := range map[string]LatencyStats{"Stats": Stats(h, true), "StatsOf": z.StatsOf(h, true)} {
		if got != want {
			t.Errorf("%s = %+v\nwant %+v", name, got, want)
		}
	}
	if s := Stats(NewHist(), true); s != (LatencyStats{}) {
		t.Errorf("Stats of an empty histogram = %+v; want zero", s)
	}
}

// mergeLatency gives what hdrhistogram-go's Merge of the same histograms
// gives.
func TestMergeLatency_MatchesLibrary(t *testing.T) {
	t.Parallel()
	libAll := newLibHist()
	var merged LatencyStats
	for part := int64(0); part < 4; part++ {
		lib := newLibHist()
		for i := int64(0); i < 300*(part+1); i++ {
			if err := lib.RecordValue(50 + (i*7919*(part+1))%(2_000_000>>part)); err != nil {
				t.Fatal(err)
			}
		}
		libAll.Merge(lib)
		var err error
		if merged, err = mergeLatency(merged, libStats(t, lib)); err != nil {
			t.Fatal(err)
		}
		if want := libStats(t, libAll); merged != want {
			t.Fatalf("after %d parts: mergeLatency = %+v\nwant %+v", part+1, merged, want)
		}
	}
}
