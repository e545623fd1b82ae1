package engine

import (
	"net/http"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/spikeload/spike/scenarios"
)

// PlannedRequest is one request of a plan as a run sends it.
type PlannedRequest struct {
	// K is the request's index in the whole plan (from 0).
	K uint64
	// At is its intended send time, from the start of the run.
	At time.Duration
	// Name is the request of the mix chosen for it.
	Name string
	// Method, URL, Header and Body are what is sent; the URL has no fragment.
	Method string
	URL    string
	Header http.Header
	Body   []byte
}

// Schedule calls fn, in order, for every request shard s of plan sends
// against target, exactly as Run renders them, without sending anything.
// It stops at the first error fn or a template returns. Nothing is kept
// between calls: memory does not grow with the plan.
func Schedule(plan *scenarios.Plan, target string, s Shard, fn func(PlannedRequest) error) error {
	t, err := newTargeter(plan, target, plan.Options.Seed, s)
	if err != nil {
		return err
	}
	total := plan.Curve.Total()
	arr := newArrivals(plan)
	var tgt vegeta.Target
	for j := uint64(0); ; j++ {
		k := s.Global(j)
		if k >= total {
			return nil
		}
		if err := t.render(k, &tgt); err != nil {
			return err
		}
		i, _ := requestIndex(tgt.URL)
		u := tgt.URL
		if f := strings.LastIndex(u, fragmentKey); f >= 0 {
			u = u[:f]
		}
		if err := fn(PlannedRequest{
			K: k, At: arr.timeOf(k), Name: t.reqs[i].req.Name,
			Method: tgt.Method, URL: u, Header: tgt.Header, Body: tgt.Body,
		}); err != nil {
			return err
		}
	}
}

// PlannedWindows returns how many requests shard s of plan plans in each of
// the run's windows: the Planned counts its result's windows carry.
func PlannedWindows(plan *scenarios.Plan, s Shard) []uint64 {
	r := NewRecorder(plan)
	r.Split(s)
	out := make([]uint64, r.nwin)
	for i := range out {
		out[i] = r.planned(i)
	}
	return out
}
