package engine

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxShards is the most shards a run may be split into.
const MaxShards = 10000

// Shard is one part of a run split across machines. Shard Index of Count
// sends exactly the plan's requests k with k mod Count == Index, at their
// planned times and with the same request choice and template values a
// single run would give them, so the shards together send the single
// plan. The zero value (and any Count <= 1) is the whole run.
//
// The split stripes requests rather than cutting time or rate: every shard
// holds its share of every window, and a window's planned requests add up
// across shards exactly, whatever the curve.
type Shard struct {
	Index, Count int
}

// ParseShard parses "i/N" (i from 0, N from 1 to MaxShards).
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	if !ok {
		return Shard{}, fmt.Errorf("shard %q: want i/N, e.g. 0/4", s)
	}
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("shard %q: want i/N with whole numbers, e.g. 0/4", s)
	}
	return NewShard(i, n)
}

// NewShard checks and returns shard i of n.
func NewShard(i, n int) (Shard, error) {
	if n < 1 || n > MaxShards {
		return Shard{}, fmt.Errorf("shard %d/%d: the number of shards must be between 1 and %d", i, n, MaxShards)
	}
	if i < 0 || i >= n {
		return Shard{}, fmt.Errorf("shard %d/%d: the index must be between 0 and %d", i, n, n-1)
	}
	return Shard{Index: i, Count: n}, nil
}

// Whole reports whether s is the whole run (no split).
func (s Shard) Whole() bool { return s.Count <= 1 }

// String returns "i/N", or "" for the whole run.
func (s Shard) String() string {
	if s.Whole() {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

func (s Shard) n() uint64 {
	if s.Whole() {
		return 1
	}
	return uint64(s.Count)
}

func (s Shard) index() uint64 {
	if s.Whole() {
		return 0
	}
	return uint64(s.Index)
}

// Global returns the plan index of the shard's j-th request (from 0).
func (s Shard) Global(j uint64) uint64 { return s.index() + j*s.n() }

// Below returns how many of the shard's requests have a plan index below k.
func (s Shard) Below(k uint64) uint64 {
	i := s.index()
	if k <= i {
		return 0
	}
	return (k - i + s.n() - 1) / s.n()
}

// In returns how many of the shard's requests have a plan index in [a, b).
func (s Shard) In(a, b uint64) uint64 {
	if b <= a {
		return 0
	}
	return s.Below(b) - s.Below(a)
}

// Parts returns how many shards the run is split into (1 for the whole run).
func (s Shard) Parts() int { return int(s.n()) }
