package engine

import (
	"fmt"
	"testing"
)

// BenchmarkMergeShards merges 7 shards of a 7 s templated mix with three
// requests: per window, the overall latency and each request's are merged
// through their histograms.
func BenchmarkMergeShards(b *testing.B) {
	plan := testPlan(b, splitScenarios["spike-templated-mix"])
	const n = 7
	var parts []ShardResult
	for i := range n {
		parts = append(parts, ShardResult{Name: fmt.Sprintf("shard-%d.json", i), Result: record(b, plan, Shard{i, n})})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := MergeShards(parts); err != nil {
			b.Fatal(err)
		}
	}
}
