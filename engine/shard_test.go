package engine

import (
	"bytes"
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"
)

func TestParseShard(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Shard
		wantErr bool
	}{
		{"0/1", Shard{0, 1}, false},
		{"2/7", Shard{2, 7}, false},
		{" 3 / 4 ", Shard{3, 4}, false},
		{"4/4", Shard{}, true},
		{"-1/4", Shard{}, true},
		{"0/0", Shard{}, true},
		{"1", Shard{}, true},
		{"a/b", Shard{}, true},
		{"0/10001", Shard{}, true},
	}
	for _, tt := range tests {
		got, err := ParseShard(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseShard(%q) = (%v, %v); want (%v, error %t)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestShard_Below(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 2, 3, 7} {
		for i := 0; i < n; i++ {
			s := Shard{i, n}
			var count uint64
			for k := uint64(0); k < 50; k++ {
				if got := s.Below(k); got != count {
					t.Fatalf("Shard{%d,%d}.Below(%d) = %d; want %d", i, n, k, got, count)
				}
				if int(k%uint64(n)) == i {
					if g := s.Global(count); g != k {
						t.Fatalf("Shard{%d,%d}.Global(%d) = %d; want %d", i, n, count, g, k)
					}
					count++
				}
			}
		}
	}
}

// splitScenarios are plans whose shards must add up to them exactly: one
// request or many, static and templated URLs, headers and bodies, curves
// with spikes, decays and waves, windows shorter than a second.
var splitScenarios = map[string]string{
	"hold-one-request": `
target: http://127.0.0.1:1
baseline: 97
stages:
  - hold: {duration: 3s}
requests:
  - {name: home, url: /}
`,
	"spike-templated-mix": `
target: http://127.0.0.1:1
baseline: 40
stages:
  - hold: {duration: 2s}
  - spike: {to: 5x, duration: 2s}
  - decay: {to: 1x, half_life: 1s, duration: 3s}
requests:
  - {name: feed, url: "/feed?page={{.RandInt 1 1000}}&u={{.User}}", weight: 3}
  - name: order
    method: POST
    url: /orders
    headers: {X-Request-Id: "{{.UUID}}", Content-Type: application/json}
    body: '{"seq": {{.Seq}}, "item": {{.RandInt 1 99}}}'
    weight: 1.5
  - {name: static, url: /app.js, weight: 1}
options: {seed: 7, users: 30}
`,
	"wave-half-second-windows": `
target: http://127.0.0.1:1
baseline: 33
stages:
  - wave: {low: 1x, high: 4x, period: 2s, duration: 5s}
requests:
  - {name: a, url: "/a/{{.UUID}}", weight: 1}
  - {name: b, url: /b, weight: 2}
options: {window: 500ms, seed: 123}
`,
}

func TestSchedule_ShardsAddUpToTheSinglePlan(t *testing.T) {
	t.Parallel()
	type req struct {
		at          time.Duration
		name, meth  string
		url         string
		header      http.Header
		body        []byte
		shard, shot int
	}
	for name, yaml := range splitScenarios {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			plan := testPlan(t, yaml)
			var single []req
			err := Schedule(plan, "http://127.0.0.1:1", Shard{}, func(p PlannedRequest) error {
				if p.K != uint64(len(single)) {
					return fmt.Errorf("single plan: request %d has K %d", len(single), p.K)
				}
				single = append(single, req{at: p.At, name: p.Name, meth: p.Method, url: p.URL, header: p.Header.Clone(), body: bytes.Clone(p.Body)})
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if uint64(len(single)) != plan.Curve.Total() {
				t.Fatalf("single plan has %d requests; the curve plans %d", len(single), plan.Curve.Total())
			}
			names := map[string]bool{}
			for _, r := range single {
				names[r.name] = true
			}
			if len(names) != len(plan.Requests) {
				t.Fatalf("single plan chose %d of the %d requests; the test needs all", len(names), len(plan.Requests))
			}
			wholeWindows := PlannedWindows(plan, Shard{})
			for _, n := range []int{1, 2, 3, 7} {
				seen := make([]bool, len(single))
				sum := make([]uint64, len(wholeWindows))
				for i := 0; i < n; i++ {
					s := Shard{i, n}
					err := Schedule(plan, "http://127.0.0.1:1", s, func(p PlannedRequest) error {
						if p.K >= uint64(len(single)) || int(p.K%uint64(n)) != i || seen[p.K] {
							return fmt.Errorf("shard %s sends request %d", s, p.K)
						}
						seen[p.K] = true
						w := single[p.K]
						got := req{at: p.At, name: p.Name, meth: p.Method, url: p.URL, header: p.Header, body: p.Body}
						if !reflect.DeepEqual(got, w) {
							return fmt.Errorf("shard %s request %d = %+v; the single plan has %+v", s, p.K, got, w)
						}
						return nil
					})
					if err != nil {
						t.Fatal(err)
					}
					ws := PlannedWindows(plan, s)
					if len(ws) != len(wholeWindows) {
						t.Fatalf("shard %s has %d windows; want %d", s, len(ws), len(wholeWindows))
					}
					for w, c := range ws {
						sum[w] += c
					}
				}
				for k, ok := range seen {
					if !ok {
						t.Fatalf("N=%d: no shard sends request %d", n, k)
					}
				}
				if !reflect.DeepEqual(sum, wholeWindows) {
					t.Errorf("N=%d: shards' planned windows add up to %v; the single plan's are %v", n, sum, wholeWindows)
				}
			}
		})
	}
}

// The recorder puts each shard's samples in the windows the single plan
// gives them, and its windows plan the shard's share.
func TestRecorder_SplitWindows(t *testing.T) {
	t.Parallel()
	plan := testPlan(t, splitScenarios["wave-half-second-windows"])
	whole := PlannedWindows(plan, Shard{})
	for _, n := range []int{2, 3} {
		sumSent := make([]uint64, len(whole))
		for i := 0; i < n; i++ {
			s := Shard{i, n}
			rec := NewRecorder(plan)
			rec.Split(s)
			err := Schedule(plan, "http://127.0.0.1:1", s, func(p PlannedRequest) error {
				rec.Add(&Sample{Req: 0, Seq: p.K, Intended: p.At, Sent: p.At, End: p.At + time.Millisecond, Code: 200})
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			wins, _ := rec.Finish()
			for _, w := range wins {
				if w.Sent != w.Planned || w.GeneratorBound {
					t.Errorf("shard %s window %d: sent %d of %d planned (generator bound %t)", s, w.Index, w.Sent, w.Planned, w.GeneratorBound)
				}
				sumSent[w.Index] += w.Sent
			}
		}
		if !reflect.DeepEqual(sumSent, whole) {
			t.Errorf("N=%d: shards sent %v per window; the plan has %v", n, sumSent, whole)
		}
	}
}

// With options.mix: interleaved every cycle of the weights holds its exact
// shares, in a single run and in any shard's stripe alike.
func TestSchedule_InterleavedMix(t *testing.T) {
	t.Parallel()
	plan := testPlan(t, `
target: http://127.0.0.1:1
baseline: 100
stages: [{hold: {duration: 2s}}]
requests:
  - {name: a, url: /a, weight: 3}
  - {name: b, url: /b, weight: 1}
options: {mix: interleaved}
`)
	var names []string
	if err := Schedule(plan, "http://127.0.0.1:1", Shard{}, func(p PlannedRequest) error {
		names = append(names, p.Name)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for start := 0; start+4 <= len(names); start += 4 {
		b := 0
		for _, n := range names[start : start+4] {
			if n == "b" {
				b++
			}
		}
		if b != 1 {
			t.Fatalf("requests %d–%d: %q; want exactly one b in every 4", start, start+3, names[start:start+4])
		}
	}
	var striped []string
	for i := range 2 {
		if err := Schedule(plan, "http://127.0.0.1:1", Shard{i, 2}, func(p PlannedRequest) error {
			if names[p.K] != p.Name {
				t.Errorf("shard %d/2: request %d is %s; the single run's is %s", i, p.K, p.Name, names[p.K])
			}
			striped = append(striped, p.Name)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if len(striped) != len(names) {
		t.Errorf("shards sent %d requests; the single run %d", len(striped), len(names))
	}
}
