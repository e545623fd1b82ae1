package engine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/spikeload/spike/scenarios"
)

var _ vegeta.Pacer = (*scenarios.Curve)(nil)

// Progress is a live snapshot of a run, reported about once a second.
type Progress struct {
	// Elapsed is the time since the run started; Total the planned length.
	Elapsed, Total time.Duration
	// PlannedRate is the curve's rate now, req/s.
	PlannedRate float64
	// AchievedRate is how many requests finished per second over the last
	// interval.
	AchievedRate float64
	// P95 is the latency p95 over the last interval.
	P95 time.Duration
	// ErrorRate is the share of failed requests over the last interval.
	ErrorRate float64
	// Sent and Errors count the whole run so far.
	Sent, Errors uint64
	// Planned is how many requests the curve scheduled so far (up to the
	// stop of an interrupted run; with journeys, the arrivals' first steps
	// and the later steps planned so far); InFlight how many were sent and
	// have not finished yet. PlannedRate is the arrival rate with journeys.
	Planned, InFlight uint64
	// Windows is how many windows have closed so far; GeneratorBound how
	// many of them were marked generator-bound. The last report of a run
	// counts all its windows.
	Windows, GeneratorBound int
}

// Config is what a run needs besides its context.
type Config struct {
	// Plan is the resolved scenario.
	Plan *scenarios.Plan
	// Target is the base URL; it overrides Plan.Target.
	Target string
	// Version is spike's version, recorded in the result.
	Version string
	// OnProgress, if set, is called about once a second from the run's
	// goroutine; it must return quickly.
	OnProgress func(Progress)
	// ProgressEvery is how often OnProgress is called; default 1s.
	ProgressEvery time.Duration
	// Now returns the wall-clock time; default time.Now.
	Now func() time.Time
	// Abort, if set, is shown every window as it closes, with all windows
	// closed so far; when it returns true the run stops early and the result
	// is marked Aborted with the reason. It runs on the run's goroutine.
	Abort func(closed []Window) (abort bool, reason string)
	// Shard, if set, sends only that shard's share of the plan (see Shard).
	Shard Shard
	// Hurry, if set, cuts an interrupted run short: once ctx is done the run
	// stops sending and waits for the requests in flight (up to the request
	// timeout); when Hurry is closed too it stops waiting at once, leaves
	// those requests uncounted (their connections die with the process) and
	// returns the partial result.
	Hurry <-chan struct{}
	// OnSample, if set, is called on the run's goroutine with every finished
	// request, right after the recorder took it (latency is End minus
	// Intended, as the recorder measures it). The Sample is reused for the
	// next request when the call returns: the hook must not keep the pointer
	// or what it refers to, and must be quick and not block, since results
	// wait while it runs.
	OnSample func(*Sample)
	// StartAt, if set, is the wall-clock instant the run starts at, shared
	// by the shards of a run: Run loads, opens its warm connections and
	// pre-faults its heap shortly before, then waits for it. A run that
	// reaches it later than MaxLate sends nothing and returns a *LateError.
	StartAt time.Time
	// MaxLate is how late a run may start after StartAt; default one window.
	MaxLate time.Duration
}

// Run executes the plan against the target and returns what it measured.
// When ctx is cancelled the run stops sending, waits for requests in flight
// (up to the request timeout), and returns a result marked Partial with a
// nil error.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	plan := cfg.Plan
	if plan == nil || plan.Curve == nil {
		return nil, errors.New("run: no plan")
	}
	target := cfg.Target
	if target == "" {
		target = plan.Target
	}
	if target == "" || target == "demo" {
		return nil, errors.New("run: no target URL (set target: in the scenario or pass --target)")
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	every := cfg.ProgressEvery
	if every <= 0 {
		every = time.Second
	}
	maxLate := cfg.MaxLate
	if maxLate <= 0 {
		maxLate = plan.Options.Window
		if maxLate <= 0 {
			maxLate = scenarios.DefaultWindow
		}
	}
	if !cfg.StartAt.IsZero() {
		if late := time.Since(cfg.StartAt); late > maxLate {
			return nil, &LateError{StartAt: cfg.StartAt, Lateness: late, Limit: maxLate}
		}
	}
	tgt, err := newTargeter(plan, target, plan.Options.Seed, cfg.Shard)
	if err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	client, tr := newClient(plan.Options)
	defer tr.base.CloseIdleConnections()

	conns := plan.Options.Connections
	if conns <= 0 {
		conns = scenarios.DefaultConnections
	}
	initial := uint64(conns)
	if initial > 64 {
		initial = 64
	}
	atk := vegeta.NewAttacker(
		vegeta.Client(client),
		vegeta.Workers(initial),
		vegeta.MaxWorkers(uint64(conns)),
		vegeta.MaxBody(0),
	)

	rec := NewRecorder(plan)
	rec.Split(cfg.Shard)
	res := &Result{
		Meta: Meta{
			Tool: "spike", Version: cfg.Version, Scenario: plan.Name, ScenarioFile: plan.File,
			Target: scenarios.RedactURL(target), Started: now().UTC(), Shard: cfg.Shard.String(),
		},
		Plan: planInfo(plan),
	}
	res.Meta.PlanHash = PlanHash(res.Plan, target)

	stopPacing := make(chan struct{})
	var stopOnce sync.Once
	stopAttack := func() {
		stopOnce.Do(func() { close(stopPacing) })
		atk.Stop()
	}
	defer stopAttack()
	if !cfg.StartAt.IsZero() {
		if err := waitUntil(ctx, cfg.StartAt.Add(-startWarmLead)); err != nil {
			return nil, fmt.Errorf("start: interrupted while waiting for %s: %w", cfg.StartAt.UTC().Format(time.RFC3339), err)
		}
	}
	tr.warm.open(ctx, warmTarget(target), warmCount(plan, cfg.Shard, conns), min(plan.Options.Timeout, 2*time.Second))
	defer tr.warm.close()
	peak, _ := plan.Curve.Peak()
	prefault(peak / float64(cfg.Shard.n()))
	if !cfg.StartAt.IsZero() {
		if err := waitUntil(ctx, cfg.StartAt); err != nil {
			return nil, fmt.Errorf("start: interrupted while waiting for %s: %w", cfg.StartAt.UTC().Format(time.RFC3339), err)
		}
	}
	began := time.Now()
	if !cfg.StartAt.IsZero() {
		late := began.Sub(cfg.StartAt)
		if late > maxLate {
			return nil, &LateError{StartAt: cfg.StartAt, Lateness: late, Limit: maxLate}
		}
		res.Meta.Started = began.UTC()
		res.Meta.Start = &StartInfo{Requested: cfg.StartAt.UTC(), Actual: began.UTC(), Lateness: late, Clock: clockSource()}
	}
	tr.warm.start(began)
	arr := newArrivals(plan)
	pc := &pacer{curve: plan.Curve, arr: arr, shard: cfg.Shard, began: began, stop: stopPacing}
	var (
		pacing   vegeta.Pacer    = pc
		targeter vegeta.Targeter = tgt.Targeter()
		calls                    = tgt.calls.Load
		ses      *sessions
	)
	if len(plan.Journeys) > 0 {
		ses = newSessions(plan, arr, cfg.Shard, tgt, stopPacing)
		ses.began = began
		rec.ByTime()
		pacing, targeter, calls = ses, ses.Targeter(), ses.calls.Load
	}
	results := atk.Attack(targeter, pacing, 0, "")
	ticker := time.NewTicker(100 * time.Millisecond)
	defer ticker.Stop()
	lastProgress := began
	var (
		sent, errs uint64
		done       = ctx.Done()
		drain      <-chan time.Time
		hurry      <-chan struct{} // cfg.Hurry, once interrupted
		stoppedAt  time.Duration
		runErr     error
		// s is declared once, not per result: the OnSample hook makes it
		// escape, and one allocation per run beats one per request.
		s Sample
		// counted windows have been looked at for Progress; bound of them
		// were generator-bound.
		counted, bound int
	)
	elapsed := func() time.Duration { return time.Since(began) }
	progress := func() {
		if cfg.OnProgress == nil {
			return
		}
		n, e, p95 := rec.Interval()
		secs := time.Since(lastProgress).Seconds()
		lastProgress = time.Now()
		at := elapsed()
		if drain != nil {
			at = stoppedAt
		}
		p := Progress{Elapsed: elapsed(), Total: plan.Curve.Duration(), PlannedRate: plan.Curve.RateAt(at) / float64(cfg.Shard.n()), P95: p95, Sent: sent, Errors: errs,
			Planned: cfg.Shard.Below(plan.Curve.PlannedIn(0, at))}
		if ses != nil {
			// Journeys: the arrivals' first steps and the later steps
			// planned so far.
			p.Planned += ses.followUps.Load()
		}
		if c := calls(); c > sent {
			p.InFlight = c - sent
		}
		closed := rec.Windows()
		for _, w := range closed[counted:] {
			if w.GeneratorBound {
				bound++
			}
		}
		counted = len(closed)
		p.Windows, p.GeneratorBound = counted, bound
		if secs > 0 {
			p.AchievedRate = float64(n) / secs
		}
		if n > 0 {
			p.ErrorRate = float64(e) / float64(n)
		}
		cfg.OnProgress(p)
	}
loop:
	for {
		select {
		case vr, ok := <-results:
			if !ok {
				break loop
			}
			if vr.URL == "" && vr.Error != "" && runErr == nil {
				// The targeter failed (a template error at run time): vegeta
				// stops the attack; report it.
				runErr = fmt.Errorf("run: %s", vr.Error)
			}
			req, k := requestIndex(vr.URL)
			s = Sample{
				Req: req, Seq: k, Intended: arr.timeOf(k),
				Sent: vr.Timestamp.Sub(began), Code: int(vr.Code), Err: vr.Error, BytesOut: vr.BytesOut, Header: vr.Headers,
			}
			s.End = s.Sent + vr.Latency
			var body []byte
			if info := tr.take(vr.Seq); info != nil {
				s.BytesIn = uint64(info.bytesIn)
				s.Snippet = info.snippet
				body = info.body
				if !info.headerAt.IsZero() {
					s.FirstByte = info.headerAt.Sub(began)
				}
			}
			if ses != nil && req >= 0 {
				if at, ok := ses.complete(slotOf(k), &s, body); ok {
					rec.AddPlanned(at)
				}
			}
			rec.Add(&s)
			if cfg.OnSample != nil {
				cfg.OnSample(&s)
			}
			sent++
			if s.Code == 0 || s.Req < 0 || !plan.Requests[s.Req].OK(s.Code) {
				errs++
			}
			if drain != nil && sent >= calls() {
				// Every request sent before the stop is back.
				break loop
			}
		case <-ticker.C:
			before := len(rec.Windows())
			rec.CloseDue(elapsed())
			if cfg.Abort != nil && drain == nil && len(rec.Windows()) > before {
				if stop, reason := cfg.Abort(rec.Windows()); stop {
					res.Meta.Aborted, res.Meta.AbortReason = true, reason
					done = nil
					stoppedAt = elapsed()
					stopAttack()
					rec.Stop(stoppedAt)
					drain = time.After(plan.Options.Timeout + time.Second)
					if sent >= calls() {
						break loop
					}
				}
			}
			if time.Since(lastProgress) >= every {
				progress()
			}
		case <-done:
			done = nil
			stoppedAt = elapsed()
			stopAttack()
			rec.Stop(stoppedAt)
			res.Meta.Partial = true
			hurry = cfg.Hurry
			drain = time.After(plan.Options.Timeout + time.Second)
			if sent >= calls() {
				break loop
			}
		case <-drain:
			res.Meta.Notes = append(res.Meta.Notes, "some requests were still in flight when the interrupted run had to end; they are not counted")
			break loop
		case <-hurry:
			res.Meta.Notes = append(res.Meta.Notes, fmt.Sprintf("stopped at once on a second interrupt: %d requests still in flight are not counted", calls()-sent))
			break loop
		}
	}
	if drain != nil {
		// Requests still in flight are not waited for: vegeta's workers
		// finish them in the background and the pacer's timer is released
		// after the last.
		go func() {
			for range results {
			}
			pc.close()
		}()
	} else {
		pc.close()
	}
	res.Windows, res.Requests = rec.Finish()
	if ses != nil {
		wins, totals := ses.finish(&rec.sum)
		for i := range res.Windows {
			if w := res.Windows[i].Index; w >= 0 && w < len(wins) {
				res.Windows[i].Journeys = wins[w]
			}
		}
		res.Journeys = totals
	}
	// After Finish, so that the last report counts every window.
	progress()
	res.Meta.Ended = now().UTC()
	if n := rec.Late(); n > 0 {
		res.Meta.Notes = append(res.Meta.Notes, fmt.Sprintf("%d requests finished after their window had been closed; they count in the totals only", n))
	}
	if runErr != nil {
		return res, runErr
	}
	return res, nil
}

// prefault touches fresh heap and frees it before the clock starts, so the
// pages the run allocates from until its first collection are already
// mapped. Without it the page faults of that first cycle cost a 10,000 req/s
// run on one CPU 70% instead of 47% CPU for its first 0.6 s (the heap grows
// to its goal, about 45 MB under cmd/spike's GC floor, 16,000 faults a
// second), enough to put the first window behind.
//
// It touches prefaultPerRequest for each request of the plan's peak second,
// at least prefaultMin (goroutine stacks and connection buffers of the first
// milliseconds), and at most what is left until the current heap goal, or
// prefaultMax: pages beyond the goal would only be returned to the system.
func prefault(peak float64) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b := make([]byte, prefaultSize(peak, ms.NextGC, ms.HeapAlloc))
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	runtime.KeepAlive(b)
	runtime.GC()
}

const (
	prefaultMin        = 4 << 20
	prefaultMax        = 48 << 20
	prefaultPerRequest = 4 << 10
)

func prefaultSize(peak float64, goal, alloc uint64) int {
	room := uint64(0)
	if goal > alloc {
		room = goal - alloc
	}
	want := uint64(prefaultMax)
	if peak*prefaultPerRequest < prefaultMax { // also false for NaN
		want = uint64(max(peak, 0) * prefaultPerRequest)
	}
	return int(max(min(want, room), prefaultMin))
}

// warmCount is how many connections to open before the run: as many as the
// shard sends in its first 50 ms, at least one, at most the connection cap.
func warmCount(plan *scenarios.Plan, s Shard, conns int) int {
	n := int(s.Below(plan.Curve.PlannedIn(0, 50*time.Millisecond)))
	return max(1, min(n, conns))
}

// warmTarget is the target to open connections to ahead of the run; "" when
// requests to it go through a proxy.
func warmTarget(target string) string {
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		return ""
	}
	if proxy, err := http.ProxyFromEnvironment(req); err != nil || proxy != nil {
		return ""
	}
	return target
}

func planInfo(p *scenarios.Plan) PlanInfo {
	peak, _ := p.Curve.Peak()
	info := PlanInfo{
		Baseline: p.Baseline, TimeScale: p.TimeScale, Shape: p.Shape, Duration: p.Curve.Duration(),
		Window: p.Options.Window, Total: p.Curve.Total(), PeakRate: peak, Segments: p.Curve.Segments(),
		SLO: p.SLO, Options: p.Options, Scenario: Redact(p.Scenario),
	}
	if p.Gate.Set {
		g := p.Gate
		info.Gate = &g
	}
	sum := 0.0
	for _, r := range p.Requests {
		sum += r.Weight
	}
	jsum := 0.0
	for _, j := range p.Journeys {
		jsum += j.Weight
	}
	for _, j := range p.Journeys {
		ji := JourneyInfo{Name: j.Name, Share: j.Weight / jsum}
		for _, st := range j.Steps {
			ji.Steps = append(ji.Steps, st.Request.Name)
		}
		info.Journeys = append(info.Journeys, ji)
	}
	for _, r := range p.Requests {
		ri := RequestInfo{Name: r.Name, Method: r.Method, URL: scenarios.RedactURL(r.URL.Raw()), Weight: r.Weight, Layer: r.Layer, Expect: r.Expect}
		if sum > 0 {
			ri.Share = r.Weight / sum
		}
		info.Requests = append(info.Requests, ri)
	}
	return info
}

// Redacted replaces secret values in results.
const Redacted = scenarios.Masked

// Redact returns a copy of the scenario with secret values masked by key
// (Scenario.Redacted): secret headers, query parameters, body fields and the
// password in the target.
func Redact(sc scenarios.Scenario) scenarios.Scenario { return sc.Redacted() }
