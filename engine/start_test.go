package engine

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestRun_StartAt(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	var first atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		first.CompareAndSwap(0, time.Now().UnixNano())
		hits.Add(1)
	}))
	defer srv.Close()
	p := testPlan(t, `
baseline: 20
stages:
  - hold: {duration: 500ms}
requests:
  - {name: home, url: /}
options: {window: 250ms}
`)
	t.Run("late refuses and sends nothing", func(t *testing.T) {
		at := time.Now().Add(-300 * time.Millisecond)
		res, err := Run(context.Background(), Config{Plan: p, Target: srv.URL, StartAt: at})
		var late *LateError
		if !errors.As(err, &late) || res != nil {
			t.Fatalf("Run(StartAt 300ms ago, window 250ms) = (%v, %v); want a *LateError", res, err)
		}
		if late.Lateness < 300*time.Millisecond || late.Limit != 250*time.Millisecond {
			t.Errorf("LateError = %+v; want lateness >= 300ms, limit 250ms", late)
		}
		if n := hits.Load(); n != 0 {
			t.Errorf("a late run sent %d requests", n)
		}
	})
	t.Run("waits for the instant", func(t *testing.T) {
		at := time.Now().Add(400 * time.Millisecond).Truncate(time.Millisecond)
		res, err := Run(context.Background(), Config{Plan: p, Target: srv.URL, StartAt: at})
		if err != nil {
			t.Fatal(err)
		}
		st := res.Meta.Start
		if st == nil || !st.Requested.Equal(at) || st.Actual.Before(at) || st.Lateness < 0 || st.Lateness > 100*time.Millisecond || st.Clock == "" {
			t.Fatalf("Meta.Start = %+v; want requested %s, actual at or after it, lateness in [0, 100ms], a clock", st, at)
		}
		if f := time.Unix(0, first.Load()); f.Before(at) {
			t.Errorf("the first request arrived %s before the start instant", at.Sub(f))
		}
		if !res.Meta.Started.Equal(st.Actual) {
			t.Errorf("Meta.Started = %s; want the actual start %s", res.Meta.Started, st.Actual)
		}
	})
}
