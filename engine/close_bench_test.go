package engine

import (
	"testing"
	"time"
)

// BenchmarkRecorder_Window records windows of 1,000 results and closes each
// (summarising and encoding its histograms): per op, one whole window.
func BenchmarkRecorder_Window(b *testing.B) {
	p := testPlan(b, `
target: http://127.0.0.1:1
baseline: 1000
stages:
  - hold: {duration: 1h}
requests:
  - {name: a, url: /a}
`)
	r := NewRecorder(p)
	b.ReportAllocs()
	seq := uint64(0)
	for i := 0; i < b.N; i++ {
		for j := 0; j < 1000; j++ {
			at := p.Curve.TimeOf(seq % p.Curve.Total())
			s := Sample{Req: 0, Seq: seq, Intended: at, Sent: at, End: at + time.Duration(10+j%7)*time.Millisecond, Code: 200}
			r.Add(&s)
			seq++
		}
		r.CloseDue(p.Curve.TimeOf(seq%p.Curve.Total()) + 10*time.Second)
	}
}
