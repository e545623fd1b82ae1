package analysis

import (
	"math"
	"testing"
	"time"

	"github.com/spikeload/spike/engine"
)

// oneHour builds a synthetic 1-hour run of the fake example app (7
// requests): a daily-style wave between 1x and 5.5x its baseline, with a 20
// minute period, so that a third of the windows are past its database limit.
// Windows at the same planned rate share their figures (building 25,200
// distinct histograms would take the benchmark longer than the analysis).
func oneHour(b *testing.B) *engine.Result {
	target, urls := mvp(600, 1190, 1000, 1540)
	bl := newBuilder(b, 200, target.reqs(urls, nil)...)
	templates := map[float64]engine.Window{}
	var ws []engine.Window
	for w := 0; w < 3600; w++ {
		rate := 200 + 450*(1-math.Cos(2*math.Pi*float64(w)/1200))
		rate = math.Round(rate/10) * 10
		tw, ok := templates[rate]
		if !ok {
			tw = *bl.window(rate, target.model()(w, rate))
			templates[rate] = tw
		}
		tw.Index = w
		tw.Start, tw.End = time.Duration(w)*time.Second, time.Duration(w+1)*time.Second
		ws = append(ws, tw)
	}
	r := bl.done()
	r.Windows = ws
	return r
}

func BenchmarkAnalyze_OneHour(b *testing.B) {
	r := oneHour(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		a := Analyze(r, Options{})
		if a.Verdict.Status != StatusFail {
			b.Fatalf("verdict = %s; want fail", a.Verdict.Status)
		}
	}
}
