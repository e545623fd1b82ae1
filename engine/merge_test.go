package engine

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spikeload/spike/hist"
	"github.com/spikeload/spike/scenarios"
)

// fakeSample is what a deterministic fake target does with request k:
// latencies, statuses, transport errors, bodies and Server-Timing all
// follow from k, so a single run and its shards see the same outcomes.
func fakeSample(plan *scenarios.Plan, p PlannedRequest) *Sample {
	req := -1
	for i, r := range plan.Requests {
		if r.Name == p.Name {
			req = i
		}
	}
	k := p.K
	s := &Sample{Req: req, Seq: k, Intended: p.At, Sent: p.At, End: p.At + time.Duration(k%50+1)*time.Millisecond + time.Duration(k%7)*time.Microsecond,
		Code: 200, BytesIn: k % 100, BytesOut: uint64(len(p.Body)),
		Header: http.Header{"Server-Timing": {fmt.Sprintf("db;dur=%d;desc=d%d, app;dur=1", k%7, k%3)}, "Cache-Control": {"no-store"}}}
	switch {
	case k%17 == 0:
		s.Code, s.Err, s.Header, s.BytesIn = 0, "dial tcp 127.0.0.1:1: connect: connection refused", nil, 0
	case k%13 == 0:
		s.Code, s.Snippet = 503, []byte(fmt.Sprintf("pool timeout %d", k%2))
	case k%11 == 0:
		s.Code = 429
	}
	return s
}

// record runs shard s of plan through a recorder against the fake target.
func record(t testing.TB, plan *scenarios.Plan, s Shard) *Result {
	t.Helper()
	rec := NewRecorder(plan)
	rec.Split(s)
	err := Schedule(plan, "http://127.0.0.1:1", s, func(p PlannedRequest) error {
		rec.Add(fakeSample(plan, p))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	res := &Result{Meta: Meta{Tool: "spike", Scenario: plan.Name, Target: "http://127.0.0.1:1", Shard: s.String()}, Plan: planInfo(plan)}
	res.Meta.PlanHash = PlanHash(res.Plan, res.Meta.Target)
	res.Windows, res.Requests = rec.Finish()
	return res
}

func TestMergeShards_EqualsTheSingleRun(t *testing.T) {
	t.Parallel()
	for name, yaml := range splitScenarios {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			plan := testPlan(t, yaml)
			single := record(t, plan, Shard{})
			for _, n := range []int{2, 3, 7} {
				var parts []ShardResult
				for i := n - 1; i >= 0; i-- { // any order
					parts = append(parts, ShardResult{Name: fmt.Sprintf("shard-%d.json", i), Result: record(t, plan, Shard{i, n})})
				}
				got, err := MergeShards(parts)
				if err != nil {
					t.Fatalf("N=%d: MergeShards: %v", n, err)
				}
				if len(got.Windows) != len(single.Windows) {
					t.Fatalf("N=%d: %d windows; the single run has %d", n, len(got.Windows), len(single.Windows))
				}
				for i := range got.Windows {
					g, w := got.Windows[i], single.Windows[i]
					// Server-Timing sums are floats added in another order.
					g.PlannedRate, w.PlannedRate = roundTo(g.PlannedRate), roundTo(w.PlannedRate)
					// Error-body texts that differ only in their numbers are
					// one sample, with the text first seen (which differs by
					// shard); sums of float latencies depend on the order.
					for _, win := range []*Window{&g, &w} {
						for name, wr := range win.Requests {
							c := *wr
							c.ErrorBodies = append([]BodySample(nil), wr.ErrorBodies...)
							for k := range c.ErrorBodies {
								c.ErrorBodies[k].Text = BodyKey(c.ErrorBodies[k].Text)
							}
							c.FirstByteSumMs = roundTo(c.FirstByteSumMs)
							if c.ErrorLatency != nil {
								el := *c.ErrorLatency
								el.SumMs = roundTo(el.SumMs)
								c.ErrorLatency = &el
							}
							win.Requests[name] = &c
						}
					}
					if !reflect.DeepEqual(g, w) {
						t.Errorf("N=%d window %d:\n got %s\nwant %s", n, i, dump(g), dump(w))
					}
				}
				// The audit's header sample is the first good response's: each
				// shard has its own, and the merge keeps the lowest shard's.
				for i := range got.Requests {
					if len(got.Requests[i].Headers) == 0 {
						t.Errorf("N=%d: request %s has no header sample", n, got.Requests[i].Name)
					}
					got.Requests[i].Headers, single.Requests[i].Headers = nil, nil
				}
				if !reflect.DeepEqual(got.Requests, single.Requests) {
					t.Errorf("N=%d totals:\n got %s\nwant %s", n, dump(got.Requests), dump(single.Requests))
				}
				if len(got.Meta.Shards) != n || got.Meta.Shard != "" || len(got.Meta.MissingShards) != 0 {
					t.Errorf("N=%d meta: %+v", n, got.Meta)
				}
			}
		})
	}
}

func roundTo(f float64) float64 { return float64(int64(f*1e6+0.5)) / 1e6 }

func dump(v any) string { return strings.ReplaceAll(fmt.Sprintf("%+v", v), "0x", "") }

func TestMergeShards_MissingShardIsNamedAndUnsent(t *testing.T) {
	t.Parallel()
	plan := testPlan(t, splitScenarios["hold-one-request"])
	whole := PlannedWindows(plan, Shard{})
	got, err := MergeShards([]ShardResult{
		{"a.json", record(t, plan, Shard{0, 3})},
		{"c.json", record(t, plan, Shard{2, 3})},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Meta.MissingShards, []string{"1/3"}) {
		t.Errorf("MissingShards = %v; want [1/3]", got.Meta.MissingShards)
	}
	if len(got.Meta.Notes) == 0 || !strings.Contains(got.Meta.Notes[len(got.Meta.Notes)-1], "shard 1/3 missing") {
		t.Errorf("notes %q do not name the missing shard", got.Meta.Notes)
	}
	for i, w := range got.Windows {
		if w.Planned != whole[i] || !w.GeneratorBound || w.Sent >= w.Planned {
			t.Errorf("window %d: planned %d (want %d), sent %d, generator bound %t", i, w.Planned, whole[i], w.Sent, w.GeneratorBound)
		}
	}
}

func TestMergeShards_Refuses(t *testing.T) {
	t.Parallel()
	plan := testPlan(t, splitScenarios["hold-one-request"])
	other := testPlan(t, strings.Replace(splitScenarios["hold-one-request"], "baseline: 97", "baseline: 98", 1))
	s0, s1 := record(t, plan, Shard{0, 2}), record(t, plan, Shard{1, 2})
	whole := record(t, plan, Shard{})
	wrongN := record(t, plan, Shard{1, 3})
	otherPlan := record(t, other, Shard{1, 2})
	badGeom := record(t, plan, Shard{1, 2})
	// A shard written by another spike version, whose plan hash differs.
	otherVersion := record(t, plan, Shard{1, 2})
	otherVersion.Meta.Version, otherVersion.Meta.PlanHash = "v0.9.0", "0123456789abcdef"
	// A histogram of another geometry (1 µs .. 1 s, 2 digits).
	g, err := hist.NewGeometry(1, int64(time.Second/time.Microsecond), 2)
	if err != nil {
		t.Fatal(err)
	}
	h := hist.New(g)
	h.Record(5000)
	var e hist.Encoder
	badGeom.Windows[0].Latency.Hist = e.EncodeHist(h)
	tests := []struct {
		name  string
		parts []*Result
		want  string
	}{
		{"not a shard", []*Result{s0, whole}, "is not a shard's result"},
		{"duplicate", []*Result{s0, s1, s0}, "are both shard 0/2"},
		{"other plan", []*Result{s0, otherPlan}, "shards of different plans"},
		{"other spike", []*Result{s0, otherVersion}, "written by different spike versions (unknown, v0.9.0)"},
		{"shard counts", []*Result{s0, wrongN}, "the shard counts differ"},
		{"geometry", []*Result{s0, badGeom}, "histogram geometry"},
	}
	for _, tt := range tests {
		var parts []ShardResult
		for i, r := range tt.parts {
			parts = append(parts, ShardResult{Name: fmt.Sprintf("r%d.json", i), Result: r})
		}
		_, err := MergeShards(parts)
		if !errors.Is(err, ErrMergeRefused) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: MergeShards = %v; want a refusal saying %q", tt.name, err, tt.want)
		}
	}
}
