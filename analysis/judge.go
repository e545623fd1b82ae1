package analysis

import (
	"math"
	"slices"
	"time"

	"github.com/spikeload/spike/scenarios"
)

// judge checks s against l. See the package documentation for the rules.
func (a *analyzer) judge(s stat, l scenarios.Limits) (Status, []string) {
	if s.count == 0 && s.samples == 0 {
		return StatusInsufficient, nil
	}
	var failed []string
	insufficient := false
	if s.count > 0 && s.errorRate() > l.ErrorRate {
		failed = append(failed, "error_rate")
	}
	check := func(name string, v, limit time.Duration, need int64) {
		if limit <= 0 {
			return
		}
		switch {
		case s.samples >= need:
			if v > limit {
				failed = append(failed, name)
			}
		case s.samples == 0 || s.max > limit:
			insufficient = true
		}
	}
	check("p95", s.p95, l.P95, a.minSamples)
	check("p99", s.p99, l.P99, 5*a.minSamples)
	switch {
	case len(failed) > 0:
		return StatusFail, failed
	case insufficient:
		return StatusInsufficient, nil
	}
	return StatusPass, nil
}

// judgeAll judges every window of every request, layer and the whole
// target, and marks generator-bound windows. A layer fails when its merged
// figures or any of its requests fail; the whole target when its figures or
// any layer fails. Insufficient members make the sum insufficient unless it
// fails; members without responses in the window are left out.
func (a *analyzer) judgeAll() {
	nl, nr := len(a.layers), len(a.names)
	a.layerSt = make([][]Status, a.nwin)
	a.layerFail = make([][][]string, a.nwin)
	a.overallSt = make([]Status, a.nwin)
	a.failed = make([][]string, a.nwin)
	reqSeries := func(i int) func(int) stat { return func(w int) stat { return a.reqStat[w][i] } }
	layerSeries := func(l int) func(int) stat { return func(w int) stat { return a.layerStat[w][l] } }
	overallSeries := func(w int) stat { return a.overall[w] }
	rs := make([]func(int) stat, nr)
	for i := range nr {
		rs[i] = reqSeries(i)
	}
	lss := make([]func(int) stat, nl)
	for l := range nl {
		lss[l] = layerSeries(l)
	}
	fold := func(status Status, st Status) Status {
		switch {
		case status == StatusFail || st == StatusFail:
			return StatusFail
		case status == StatusInsufficient || st == StatusInsufficient:
			return StatusInsufficient
		}
		return StatusPass
	}
	for w := range a.nwin {
		for i := range nr {
			if a.hasReq[w][i] {
				a.reqSt[w][i], a.reqFail[w][i] = a.judgeAt(rs[i], w, a.reqLim[i])
			} else {
				a.reqSt[w][i], a.reqFail[w][i] = StatusInsufficient, nil
			}
		}
		st := make([]Status, nl)
		fl := make([][]string, nl)
		ost, ofl := a.judgeAt(overallSeries, w, a.overallLim)
		if a.overall[w].count == 0 && a.overall[w].samples == 0 {
			ost = StatusPass // judged by its members alone
		}
		anyData := false
		for l := range nl {
			s := a.layerStat[w][l]
			if s.count == 0 && s.samples == 0 {
				st[l] = StatusInsufficient
				continue
			}
			anyData = true
			st[l], fl[l] = a.judgeAt(lss[l], w, a.layerLim[l])
			own := fl[l]
			for _, i := range a.layerReqs[l] {
				if !a.hasReq[w][i] {
					continue
				}
				st[l] = fold(st[l], a.reqSt[w][i])
				for _, f := range a.reqFail[w][i] {
					fl[l] = append(fl[l], a.names[i]+": "+f)
					ofl = append(ofl, a.names[i]+": "+f)
				}
			}
			if members := a.activeIn(w, l); members > 1 {
				// With one request the layer's figures are the request's.
				for _, f := range own {
					ofl = append(ofl, "layer "+a.layers[l]+": "+f)
				}
			}
			ost = fold(ost, st[l])
		}
		if !anyData {
			ost = StatusInsufficient
		}
		if len(ofl) > 0 {
			ost = StatusFail
		}
		a.overallSt[w], a.failed[w] = ost, ofl
		if a.bound[w] {
			for l := range st {
				st[l] = StatusGeneratorBound
			}
			a.overallSt[w] = StatusGeneratorBound
		}
		a.layerSt[w], a.layerFail[w] = st, fl
	}
}

// activeIn counts the requests of layer l with responses in window w.
func (a *analyzer) activeIn(w, l int) int {
	n := 0
	for _, i := range a.layerReqs[l] {
		if a.hasReq[w][i] {
			n++
		}
	}
	return n
}

// poolWindows bounds how far back a sparse window's pool reaches.
const poolWindows = 10

// judgeAt checks window w of a series against l. A window with enough
// samples is judged alone (see judge). A sparse one (fewer responses or
// samples than a limit needs) is judged with the windows before it, pooled
// back until they hold enough (at most poolWindows, skipping
// generator-bound ones): it fails a latency limit when the pool's share of
// samples above the limit exceeds the percentile's tail (5% for p95, 1% for
// p99) and the window has such a sample itself; it is insufficient, not
// pass, when the pool is failing but the window alone shows nothing (a
// quiet window cannot clear a failing trend), or when the pool is too small
// to tell and the window has a sample above the limit. Errors fail a window
// whenever its own error rate passes the limit.
func (a *analyzer) judgeAt(get func(int) stat, w int, l scenarios.Limits) (Status, []string) {
	s := get(w)
	if s.count == 0 && s.samples == 0 {
		return StatusInsufficient, nil
	}
	var failed []string
	unsure := false
	errNeed := a.minSamples
	if l.ErrorRate > 0 {
		errNeed = max(errNeed, int64(math.Ceil(1/l.ErrorRate)))
	}
	switch {
	case s.count > 0 && s.errorRate() > l.ErrorRate:
		failed = append(failed, "error_rate")
	case int64(s.count) < errNeed:
		n, e := a.pool(get, w, errNeed, func(p stat) (float64, float64) { return float64(p.count), float64(p.errors) })
		if n > 0 && e > l.ErrorRate*n {
			unsure = true
		}
	}
	latency := func(name string, v, limit time.Duration, need int64, tail float64, slow func(stat) int64) {
		if limit <= 0 {
			return
		}
		if s.samples >= need {
			if v > limit {
				failed = append(failed, name)
			}
			return
		}
		n, k := a.pool(get, w, need, func(p stat) (float64, float64) { return float64(p.samples), float64(slow(p)) })
		full := n >= float64(need)-1e-9
		switch {
		case k < 0:
			unsure = unsure || s.max > limit
		case full && k > tail*n:
			if slow(s) > 0 {
				failed = append(failed, name)
			} else {
				unsure = true
			}
		case full:
			// The pool clears it.
		case s.max > limit || k > tail*n:
			unsure = true
		}
	}
	latency("p95", s.p95, l.P95, a.minSamples, 0.05, func(p stat) int64 { return p.slow95 })
	latency("p99", s.p99, l.P99, 5*a.minSamples, 0.01, func(p stat) int64 { return p.slow99 })
	switch {
	case len(failed) > 0:
		return StatusFail, failed
	case unsure:
		return StatusInsufficient, nil
	}
	return StatusPass, nil
}

// pool sums f over window w and the windows before it (generator-bound
// ones skipped, at most poolWindows) until the first sum reaches need; the
// earliest window counts only pro rata for the part of need it fills, so a
// busy window before a change does not drown it. The second sum is -1 when
// any window's is unknown.
func (a *analyzer) pool(get func(int) stat, w int, need int64, f func(stat) (float64, float64)) (n, k float64) {
	used := 0
	for x := w; x >= 0 && used < poolWindows && n < float64(need); x-- {
		if (a.bound[x] || a.stall != nil && a.stall[x]) && x != w {
			continue
		}
		pn, pk := f(get(x))
		if pk < 0 {
			return n + pn, -1
		}
		if x != w && n+pn > float64(need) {
			part := (float64(need) - n) / pn
			pn, pk = pn*part, pk*part
		}
		n, k = n+pn, k+pk
		used++
	}
	return n, k
}

// episode is a sustained run of failing windows: from start to the first
// window of the recovery (end = -1 when the run ended broken).
type episode struct {
	start, end int
}

// episodes finds the breaks in a status series: `sustain` consecutive fails
// start one (at the first of them), `sustain` consecutive passes end it (at
// the first of those). Insufficient windows are skipped over; a
// generator-bound window interrupts either run.
func episodes(st []Status, sustain int) []episode {
	var out []episode
	broken := false
	run, first := 0, -1
	for w, s := range st {
		want := StatusFail
		if broken {
			want = StatusPass
		}
		switch s {
		case want:
			if run == 0 {
				first = w
			}
			run++
			if run < sustain {
				continue
			}
			if broken {
				out[len(out)-1].end = first
			} else {
				out = append(out, episode{start: first, end: -1})
			}
			broken = !broken
			run = 0
		case StatusInsufficient:
			// Skipped over.
		default:
			run = 0
		}
	}
	return out
}

// episodes finds the breaks in a series of window statuses, where a window
// flagged generator-bound only interrupts a run when the lag was material;
// otherwise it is skipped over like an insufficient one (it is still never
// judged).
func (a *analyzer) episodes(st []Status) []episode {
	return episodes(a.transparent(st), a.sustain)
}

// transparent returns a copy of st with immaterially generator-bound
// windows and periodic stalls as insufficient.
func (a *analyzer) transparent(st []Status) []Status {
	out := slices.Clone(st)
	for w, s := range out {
		if s == StatusGeneratorBound && !a.material[w] || a.stall != nil && a.stall[w] {
			// A periodic stall (see detectStalls) is a finding of its
			// own: it neither makes nor ends a break or a crack.
			out[w] = StatusInsufficient
		}
	}
	return out
}

// crackStatus judges a p95 against a crack threshold: fail when it passed
// factor × low and low + CrackMinGrowth. Few samples are judged as in judge.
func (a *analyzer) crackStatus(s stat, low time.Duration, bound bool) Status {
	switch {
	case bound:
		return StatusGeneratorBound
	case s.samples == 0:
		return StatusInsufficient
	}
	limit := max(time.Duration(a.factor*float64(low)), low+CrackMinGrowth)
	switch {
	case s.samples >= a.minSamples:
		if s.p95 > limit {
			return StatusFail
		}
		return StatusPass
	case s.max <= limit:
		return StatusPass
	}
	return StatusInsufficient
}

// cracks returns the crack episodes of a series of figures against its
// low-load figures; none when low load had too few samples to know its p95.
func (a *analyzer) cracks(series func(w int) stat, low stat) []episode {
	if low.samples < a.minSamples {
		return nil
	}
	st := make([]Status, a.nwin)
	for w := range a.nwin {
		st[w] = a.crackStatus(series(w), low.p95, a.bound[w])
	}
	return a.episodes(st)
}

// capacity returns the window starting the best held rate before window
// end: the highest r such that `sustain` consecutive passing windows were
// all planned at r or more. It returns -1 and 0 when none held.
//
// Windows flagged generator-bound without material lag, and periodic
// stalls, are skipped over; any other window that is not a pass ends the
// run.
func (a *analyzer) capacity(end int) (int, float64) {
	best, at := 0.0, -1
	for w := 0; w < end; w++ {
		if a.overallSt[w] != StatusPass {
			continue
		}
		held, heldAt, n := math.Inf(1), -1, 0
		for k := w; k < end && n < a.sustain; k++ {
			st := a.overallSt[k]
			if st == StatusGeneratorBound && !a.material[k] || a.stall != nil && a.stall[k] {
				continue
			}
			if st != StatusPass {
				break
			}
			n++
			if r := a.r.Windows[k].PlannedRate; r < held {
				held, heldAt = r, k
			}
		}
		if n == a.sustain && held > best {
			best, at = held, heldAt
		}
	}
	return at, best
}

// knee finds the saturation knee: the first of `sustain` windows whose
// successful responses fell below the knee fraction of the planned ones.
func (a *analyzer) kneePoint() *Knee {
	st := make([]Status, a.nwin)
	maxOK := 0.0
	for w := range a.nwin {
		win := &a.r.Windows[w]
		switch {
		case a.bound[w]:
			st[w] = StatusGeneratorBound
			continue
		case win.Planned < uint64(a.minSamples):
			st[w] = StatusInsufficient
		case float64(win.OK) < a.knee*float64(win.Planned):
			st[w] = StatusFail
		default:
			st[w] = StatusPass
		}
		maxOK = max(maxOK, float64(win.OK)/a.winSec)
	}
	eps := a.episodes(st)
	if len(eps) == 0 {
		return nil
	}
	w := eps[0].start
	return &Knee{Point: *a.point(w), OKRPS: float64(a.r.Windows[w].OK) / a.winSec, MaxOKRPS: maxOK}
}
