package scenarios

import (
	"math"
	"testing"
)

func TestMix_Interleave(t *testing.T) {
	t.Parallel()
	tests := []struct {
		weights []float64
		cycle   int
	}{
		{[]float64{10, 8, 4, 30, 30, 12, 6}, 50},
		{[]float64{2, 2}, 2},
		{[]float64{1, 3}, 4},
		{[]float64{0.5, 0.25, 0.25}, 4},
		{[]float64{5000, 1}, 1001},
	}
	for _, tt := range tests {
		var reqs []*Request
		for _, w := range tt.weights {
			reqs = append(reqs, &Request{Weight: w})
		}
		m := NewMix(reqs)
		m.Interleave()
		if m.Cycle() != tt.cycle {
			t.Errorf("Interleave(%v): cycle of %d; want %d", tt.weights, m.Cycle(), tt.cycle)
			continue
		}
		// Exact shares over any window of one cycle, wherever it starts.
		total := 0.0
		for _, w := range tt.weights {
			total += w
		}
		for start := uint64(0); start < 3; start++ {
			counts := make([]int, len(reqs))
			for k := start; k < start+uint64(tt.cycle); k++ {
				counts[m.At(k)]++
			}
			for i, w := range tt.weights {
				want := w / total * float64(tt.cycle)
				if math.Abs(float64(counts[i])-want) > 1 || counts[i] == 0 {
					t.Errorf("Interleave(%v) from %d: request %d ×%d; want ×%.1f (±1, at least 1)", tt.weights, start, i, counts[i], want)
				}
			}
		}
	}
	// Spread evenly: with weights 1 and 3 the lone request never comes twice in a row.
	m := NewMix([]*Request{{Weight: 1}, {Weight: 3}})
	m.Interleave()
	for k := uint64(0); k < 8; k++ {
		if m.At(k) == 0 && m.At(k+1) == 0 {
			t.Errorf("At(%d) and At(%d) both pick the light request", k, k+1)
		}
	}
}
