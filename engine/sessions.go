package engine

import (
	"bytes"
	"container/heap"
	"errors"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/spikeload/spike/hist"
	"github.com/spikeload/spike/scenarios"
)

// Journeys run on vegeta's attacker like requests do: sessions is both its
// pacer and its targeter. The pacer releases what is due next — the next
// visitor's arrival on the curve, or the next step of a session in
// progress — and the targeter renders the released step. A session has at
// most one step in flight; when it completes, the run loop hands the
// response to complete, which updates the session's cookies and variables
// and plans the next step at the completion plus the think time. Latency
// is measured from that planned time, so a step spike sends late counts as
// lag, never as the target's time (no coordinated omission within a
// session either). Memory is bounded by options.max_sessions: the slots are
// allocated once, and an arrival that finds them all taken is refused and
// counted, which marks its window generator-bound.
//
// Why this shape: vegeta's attacker stays the engine (its workers,
// connection limits, result channel and the recorder are shared with
// request mixes), and an open model needs only that the pacer knows what
// is due. The alternative, a closed loop of goroutines per visitor, would
// tie the arrival rate to the target's speed.
type sessions struct {
	plan  *scenarios.Plan
	arr   *arrivals
	shard Shard
	tgt   *targeter
	began time.Time
	stop  <-chan struct{}
	kick  chan struct{}
	timer *time.Timer
	end   time.Duration // the curve's end: no step is planned after it
	win   time.Duration
	nwin  int

	mu          sync.Mutex
	mix         *scenarios.Mix // picks a visitor's journey
	interleaved bool
	seed        uint64
	total       uint64 // visitors the shard plans
	next        uint64 // the shard's next arrival (local index)
	slots       []session
	free        []int
	active      int
	due         dueHeap
	ready       []int // released steps (slots) waiting for the targeter
	calls       atomic.Uint64
	followUps   atomic.Uint64 // steps after the first planned so far
	over        bool

	stats [][]WindowJourney // [window][journey], by arrival window
	dur   []*hist.Hist      // completed sessions' durations, per journey
}

type session struct {
	k       uint64 // the visitor's index in the plan
	j       int
	step    int
	arrived time.Duration
	at      time.Duration // the current step's intended time
	vars    map[string]string
	cookies []*http.Cookie
}

type dueStep struct {
	at   time.Duration
	slot int
}

type dueHeap []dueStep

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h dueHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)        { *h = append(*h, x.(dueStep)) }
func (h *dueHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

var errNoDueStep = errors.New("sessions: a step was asked for but none was released")

func newSessions(plan *scenarios.Plan, arr *arrivals, shard Shard, tgt *targeter, stop <-chan struct{}) *sessions {
	n := plan.Options.MaxSessions
	if n <= 0 {
		n = scenarios.DefaultMaxSessions
	}
	win := plan.Options.Window
	if win <= 0 {
		win = scenarios.DefaultWindow
	}
	s := &sessions{
		plan: plan, arr: arr, shard: shard, tgt: tgt, stop: stop, kick: make(chan struct{}, 1),
		end: plan.Curve.Duration(), win: win, seed: uint64(plan.Options.Seed),
		total: shard.Below(plan.Curve.Total()), slots: make([]session, n), free: make([]int, 0, n),
	}
	s.nwin = int((s.end + win - 1) / win)
	for i := n - 1; i >= 0; i-- {
		s.free = append(s.free, i)
	}
	js := make([]*scenarios.Request, len(plan.Journeys))
	for i, j := range plan.Journeys {
		js[i] = &scenarios.Request{Name: j.Name, Weight: j.Weight}
	}
	s.mix = scenarios.NewMix(js)
	if plan.Options.Mix == scenarios.MixInterleaved {
		s.mix.Interleave()
		s.interleaved = true
	}
	s.stats = make([][]WindowJourney, s.nwin)
	for w := range s.stats {
		s.stats[w] = make([]WindowJourney, len(plan.Journeys))
		for j, jr := range plan.Journeys {
			s.stats[w][j].Reached = make([]uint64, len(jr.Steps))
			s.stats[w][j].Abandoned = make([]uint64, len(jr.Steps))
		}
	}
	for range plan.Journeys {
		s.dur = append(s.dur, newLiveHist())
	}
	return s
}

// stat returns the counters of journey j's arrivals at time t.
func (s *sessions) stat(t time.Duration, j int) *WindowJourney {
	w := min(max(int(t/s.win), 0), s.nwin-1)
	return &s.stats[w][j]
}

// Pace implements vegeta.Pacer: it returns when a step is due (an arrival's
// first step or a session's next), having queued it for the targeter, or
// with stop once every visitor has arrived and every session has ended, or
// the run is over.
func (s *sessions) Pace(time.Duration, uint64) (time.Duration, bool) {
	for {
		now := time.Since(s.began)
		s.mu.Lock()
		if s.over || now > s.end+scenarios.StopGrace {
			s.over = true
			s.mu.Unlock()
			return 0, true
		}
		wait, released, done := s.release(now)
		s.mu.Unlock()
		if released {
			return 0, false
		}
		if done {
			return 0, true
		}
		var timeout <-chan time.Time
		if wait > 0 {
			if s.timer == nil {
				s.timer = time.NewTimer(wait)
			} else {
				s.timer.Reset(wait)
			}
			timeout = s.timer.C
		}
		select {
		case <-timeout:
		case <-s.kick:
			if s.timer != nil && !s.timer.Stop() {
				select {
				case <-s.timer.C:
				default:
				}
			}
		case <-s.stop:
			return 0, true
		}
	}
}

// release queues the earliest step due at now, if any; otherwise it says
// how long until the next one is due (0: unknown, wait for a completion),
// or that nothing will ever be due again. It must be called with s.mu held.
func (s *sessions) release(now time.Duration) (wait time.Duration, released, done bool) {
	for {
		arrival := time.Duration(-1)
		if s.next < s.total {
			arrival = s.arr.timeOf(s.shard.Global(s.next))
		}
		switch {
		case len(s.due) > 0 && (arrival < 0 || s.due[0].at <= arrival):
			d := s.due[0]
			if d.at > now {
				return d.at - now, false, false
			}
			heap.Pop(&s.due)
			s.ready = append(s.ready, d.slot)
			return 0, true, false
		case arrival >= 0:
			if arrival > now {
				return arrival - now, false, false
			}
			k := s.shard.Global(s.next)
			s.next++
			if s.start(k, arrival) {
				return 0, true, false
			}
			// Refused: every slot is taken; on to the next arrival.
		case s.active == 0:
			return 0, false, true
		default:
			return 0, false, false
		}
	}
}

// start opens a session for visitor k arriving at t and queues its first
// step; false when no slot is free (counted as refused).
func (s *sessions) start(k uint64, t time.Duration) bool {
	j := 0
	if s.interleaved {
		j = s.mix.At(k)
	} else {
		j = s.mix.Pick(rand.New(rand.NewPCG(s.seed, splitmix64(k)^0x10_0000)))
	}
	st := s.stat(t, j)
	if len(s.free) == 0 {
		st.Refused++
		return false
	}
	slot := s.free[len(s.free)-1]
	s.free = s.free[:len(s.free)-1]
	s.active++
	st.Started++
	ses := &s.slots[slot]
	*ses = session{k: k, j: j, arrived: t, at: t, vars: ses.vars, cookies: ses.cookies[:0]}
	if ses.vars == nil {
		ses.vars = map[string]string{}
	}
	clear(ses.vars)
	s.ready = append(s.ready, slot)
	return true
}

// Rate implements vegeta.Pacer: the shard's share of the arrival rate.
func (s *sessions) Rate(elapsed time.Duration) float64 {
	return s.plan.Curve.Rate(elapsed) / float64(s.shard.n())
}

// Targeter returns the vegeta.Targeter: it renders the step released
// first. The URL's fragment carries the step's request index and the
// session's slot.
func (s *sessions) Targeter() vegeta.Targeter {
	return func(tgt *vegeta.Target) error {
		s.mu.Lock()
		if len(s.ready) == 0 {
			s.mu.Unlock()
			return errNoDueStep
		}
		slot := s.ready[0]
		s.ready = s.ready[1:]
		ses := &s.slots[slot]
		jr := s.plan.Journeys[ses.j]
		step := jr.Steps[ses.step]
		s.stat(ses.arrived, ses.j).Reached[ses.step]++
		var cookie string
		if jr.Cookies && len(ses.cookies) > 0 {
			parts := make([]string, len(ses.cookies))
			for i, c := range ses.cookies {
				parts[i] = c.Name + "=" + c.Value
			}
			cookie = strings.Join(parts, "; ")
		}
		k, stepIdx, vars := ses.k, ses.step, ses.vars
		s.mu.Unlock()

		t := s.tgt
		t.mu.Lock()
		t.src.Seed(t.seed, splitmix64(k)^uint64(stepIdx+1)<<48)
		t.vars.Seq = k
		t.vars.Vars = vars
		err := t.renderReq(step.Req, uint64(slot), tgt)
		t.vars.Vars = nil
		t.mu.Unlock()
		s.calls.Add(1)
		if err != nil {
			return err
		}
		if cookie != "" || step.NeedsBody() {
			h := tgt.Header.Clone()
			if cookie != "" {
				if old := h.Get("Cookie"); old != "" {
					cookie = old + "; " + cookie
				}
				h.Set("Cookie", cookie)
			}
			if step.NeedsBody() {
				h.Set(keepBodyHeader, "1")
			}
			tgt.Header = h
		}
		return nil
	}
}

// complete takes the response of the step in flight in slot: it sets the
// sample's intended time and, when the step failed or an extraction found
// nothing, its failure; then it ends the session or plans its next step.
// It returns the next step's intended time and true when one was planned.
// It runs on the run loop's goroutine.
func (s *sessions) complete(slot int, smp *Sample, body []byte) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if slot < 0 || slot >= len(s.slots) {
		return 0, false
	}
	ses := &s.slots[slot]
	jr := s.plan.Journeys[ses.j]
	step := jr.Steps[ses.step]
	smp.Intended = ses.at
	smp.Req = step.Req
	st := s.stat(ses.arrived, ses.j)
	ok := smp.Code != 0 && step.Request.OK(smp.Code)
	if !ok && len(smp.Snippet) > 0 {
		smp.Snippet = scrubSession(smp.Snippet, ses)
	}
	if ok && jr.Cookies && smp.Header != nil {
		ses.cookies = updateJar(ses.cookies, (&http.Response{Header: smp.Header}).Cookies())
	}
	if ok {
		for _, e := range step.Extract {
			v, err := e.Apply(smp.Header, body)
			if err != nil {
				smp.Fail = "extract " + e.Var + ": " + err.Error()
				ok = false
				break
			}
			ses.vars[e.Var] = v
		}
	}
	switch {
	case !ok:
		st.Abandoned[ses.step]++
	case ses.step == len(jr.Steps)-1:
		st.Completed++
		d := smp.End - ses.arrived
		st.DurationSumMs += float64(d) / float64(time.Millisecond)
		s.dur[ses.j].Record(us(d))
	default:
		at := smp.End + step.Think.Draw(rand.New(rand.NewPCG(s.seed, splitmix64(ses.k)^uint64(ses.step+1)<<40)))
		if at >= s.end || s.over {
			st.Unfinished++
			break
		}
		ses.step++
		ses.at = at
		heap.Push(&s.due, dueStep{at: at, slot: slot})
		s.followUps.Add(1)
		s.wake()
		return at, true
	}
	s.free = append(s.free, slot)
	s.active--
	s.wake()
	return 0, false
}

// wake tells a waiting Pace that something changed.
func (s *sessions) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// updateJar applies Set-Cookie: a cookie replaces one of the same name, and
// one that expires (Max-Age < 0, or an empty value) removes it.
func updateJar(jar []*http.Cookie, set []*http.Cookie) []*http.Cookie {
	for _, c := range set {
		i := 0
		for ; i < len(jar) && jar[i].Name != c.Name; i++ {
		}
		gone := c.MaxAge < 0 || c.Value == "" || (!c.Expires.IsZero() && c.Expires.Before(time.Now()))
		switch {
		case gone && i < len(jar):
			jar = append(jar[:i], jar[i+1:]...)
		case gone:
		case i < len(jar):
			jar[i] = &http.Cookie{Name: c.Name, Value: c.Value}
		default:
			jar = append(jar, &http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	return jar
}

// finish ends the run's accounting: sessions still open (in flight when an
// interrupted run stopped, or due after its end) count as unfinished. It
// returns the journeys' counters per window and their totals.
func (s *sessions) finish(sum *Summarizer) ([]map[string]*WindowJourney, []JourneyTotal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.over = true
	inUse := make([]bool, len(s.slots))
	for i := range inUse {
		inUse[i] = true
	}
	for _, f := range s.free {
		inUse[f] = false
	}
	for i, used := range inUse {
		if used {
			ses := &s.slots[i]
			s.stat(ses.arrived, ses.j).Unfinished++
		}
	}
	s.active = 0
	wins := make([]map[string]*WindowJourney, s.nwin)
	totals := make([]JourneyTotal, len(s.plan.Journeys))
	for j, jr := range s.plan.Journeys {
		t := &totals[j]
		t.Name = jr.Name
		for _, st := range jr.Steps {
			name := st.Request.Name
			if i := strings.IndexByte(name, '/'); i >= 0 && name[:i] == jr.Name {
				name = name[i+1:]
			}
			t.Steps = append(t.Steps, name)
		}
		t.Reached = make([]uint64, len(jr.Steps))
		t.Abandoned = make([]uint64, len(jr.Steps))
		t.Duration = sum.StatsOf(s.dur[j], true)
	}
	for w := range s.stats {
		for j, jr := range s.plan.Journeys {
			st := s.stats[w][j]
			if st.Started == 0 && st.Refused == 0 {
				continue
			}
			if wins[w] == nil {
				wins[w] = map[string]*WindowJourney{}
			}
			c := st
			wins[w][jr.Name] = &c
			totals[j].add(&st.JourneyCounts)
		}
	}
	return wins, totals
}

// slotOf recovers the session slot from the index a step's tagged URL
// carries (requestIndex's k).
func slotOf(k uint64) int {
	if k > uint64(^uint32(0)) {
		return -1
	}
	return int(k)
}

// scrubSession masks the session's extracted values and cookies in an
// error body before it is kept as evidence: a token echoed by the target
// must not reach the result.
func scrubSession(b []byte, ses *session) []byte {
	mask := func(v string) {
		if len(v) >= 4 && bytes.Contains(b, []byte(v)) {
			b = bytes.ReplaceAll(b, []byte(v), []byte(scenarios.Masked))
		}
	}
	for _, v := range ses.vars {
		mask(v)
	}
	for _, c := range ses.cookies {
		mask(c.Value)
	}
	return b
}
