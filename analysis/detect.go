package analysis

import (
	"math"
	"slices"
	"time"
)

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
// windows as insufficient.
func (a *analyzer) transparent(st []Status) []Status {
	out := slices.Clone(st)
	for w, s := range out {
		if s == StatusGeneratorBound && !a.material[w] {
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
// Windows flagged generator-bound without material lag are skipped over;
// any other window that is not a pass ends the run.
func (a *analyzer) capacity(end int) (int, float64) {
	best, at := 0.0, -1
	for w := 0; w < end; w++ {
		if a.overallSt[w] != StatusPass {
			continue
		}
		held, heldAt, n := math.Inf(1), -1, 0
		for k := w; k < end && n < a.sustain; k++ {
			st := a.overallSt[k]
			if st == StatusGeneratorBound && !a.material[k] {
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
