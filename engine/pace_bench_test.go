package engine

import (
	"sort"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// BenchmarkPacer_Due is the pacer's cost per request when the request is
// already due (a generator behind its plan, or at its ceiling): per op, one
// tick handed out.
func BenchmarkPacer_Due(b *testing.B) {
	p := testPlan(b, `
target: http://127.0.0.1:1
baseline: 1
stages:
  - hold: {rate: 1000000, duration: 1h}
requests:
  - {url: /}
`)
	// Began a second ago: the first 1,000,000 requests are all due.
	pc := &pacer{curve: p.Curve, began: time.Now().Add(-time.Second), stop: make(chan struct{})}
	defer pc.close()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, stop := pc.Pace(0, uint64(i%1_000_000)); stop {
			b.Fatal("stopped")
		}
	}
}

// BenchmarkPacer_Wait2000 paces a 2,000 req/s plan (waits of 500 µs, under
// the wake-up threshold) and reports how late each tick was handed out:
// late-p50-µs and late-p99-µs. Per op, one planned request.
func BenchmarkPacer_Wait2000(b *testing.B) {
	p := testPlan(b, `
target: http://127.0.0.1:1
baseline: 1
stages:
  - hold: {rate: 2000, duration: 1h}
requests:
  - {url: /}
`)
	pc := &pacer{curve: p.Curve, began: time.Now(), stop: make(chan struct{})}
	defer pc.close()
	late := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pc.Pace(time.Since(pc.began), uint64(i))
		late = append(late, time.Since(pc.began)-p.Curve.TimeOf(uint64(i)))
	}
	b.StopTimer()
	sort.Slice(late, func(i, j int) bool { return late[i] < late[j] })
	b.ReportMetric(float64(late[len(late)/2].Microseconds()), "late-p50-µs")
	b.ReportMetric(float64(late[len(late)*99/100].Microseconds()), "late-p99-µs")
}

// BenchmarkTargeter builds one request of a mix per op: a fixed URL, a
// templated URL and a templated header.
func BenchmarkTargeter(b *testing.B) {
	p := testPlan(b, `
target: http://127.0.0.1:1
baseline: 1
stages:
  - hold: {rate: 100, duration: 1h}
options: {users: 1000}
requests:
  - {name: home, url: /, weight: 2}
  - {name: feed, url: "/feed?u={{.User}}", weight: 1}
  - {name: me, url: /me, headers: {Authorization: "Bearer {{.User}}"}, weight: 1}
`)
	t, err := newTargeter(p, "http://127.0.0.1:1", 1, Shard{})
	if err != nil {
		b.Fatal(err)
	}
	tr := t.Targeter()
	var tgt vegeta.Target
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := tr(&tgt); err != nil {
			b.Fatal(err)
		}
	}
}
