package engine

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Shards run at once on loopback against one target whose capacity is a
// semaphore and a sleep; the merged result's histograms must give exactly
// the quantiles of one histogram of every shard's raw samples.
func TestMergeShards_EqualsRawSamplesOnLoopback(t *testing.T) {
	t.Parallel()
	sem := make(chan struct{}, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sem <- struct{}{}
		defer func() { <-sem }()
		if r.URL.Path == "/slow" {
			time.Sleep(8 * time.Millisecond)
		} else {
			time.Sleep(time.Millisecond)
		}
		if r.URL.Path == "/fail" {
			http.Error(w, "pool timeout", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	p := testPlan(t, `
baseline: 120
stages:
  - hold: {duration: 500ms}
  - hold: {rate: 2x, duration: 500ms}
requests:
  - {name: fast, url: /, weight: 3}
  - {name: slow, url: /slow, weight: 1}
  - {name: fail, url: /fail, weight: 1}
options: {window: 250ms}
`)
	const n = 3
	start := time.Now().Add(300 * time.Millisecond)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		raw   = map[string]*hdrhistogram.Histogram{}
		win   = map[int]*hdrhistogram.Histogram{}
		parts = make([]ShardResult, n)
		errs  = make([]error, n)
	)
	for _, r := range p.Requests {
		raw[r.Name] = newLibHist()
	}
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res, err := Run(ctx, Config{
				Plan: p, Target: srv.URL, Shard: Shard{i, n}, StartAt: start, MaxLate: 10 * time.Second,
				OnSample: func(s *Sample) {
					if s.Req < 0 {
						return
					}
					mu.Lock()
					defer mu.Unlock()
					v := us(max(s.End-s.Intended, 0))
					raw[p.Requests[s.Req].Name].RecordValue(v)
					w := int(s.Intended / p.Options.Window)
					if win[w] == nil {
						win[w] = newLibHist()
					}
					win[w].RecordValue(v)
				},
			})
			parts[i], errs[i] = ShardResult{Name: fmt.Sprintf("shard-%d", i), Result: res}, err
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("shard %d: %v", i, err)
		}
	}
	merged, err := MergeShards(parts)
	if err != nil {
		t.Fatal(err)
	}
	if merged.Plan.Total != p.Curve.Total() {
		t.Fatalf("merged plan has %d requests; want %d", merged.Plan.Total, p.Curve.Total())
	}
	var sent uint64
	for _, w := range merged.Windows {
		sent += w.Sent
	}
	if sent != p.Curve.Total() {
		t.Errorf("the shards sent %d requests together; the plan has %d", sent, p.Curve.Total())
	}
	for _, w := range merged.Windows {
		if want := libStats(t, win[w.Index]); w.Latency != want {
			t.Errorf("window %d: merged latency %+v; from the raw samples %+v", w.Index, w.Latency, want)
		}
	}
	for _, tot := range merged.Requests {
		want := libStats(t, raw[tot.Name])
		if tot.Latency != want {
			t.Errorf("request %s: merged latency %+v; from the raw samples %+v", tot.Name, tot.Latency, want)
		}
	}
}
