package search

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/spikeload/spike/analysis"
	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/scenarios"
)

// Defaults for Config. A zero field takes its default.
const (
	// DefaultStep is how long each step holds its rate.
	DefaultStep = 10 * time.Second
	// DefaultSkip is the warm-up at the start of each step that is not
	// judged (at most a fifth of the step).
	DefaultSkip = 2 * time.Second
	// DefaultFactor is the climb's multiplier.
	DefaultFactor = 1.5
	// DefaultPrecision is how close the good and bad rates must be before
	// the capacity is confirmed: bad ≤ good × (1 + precision).
	DefaultPrecision = 0.05
	// DefaultConfirmSteps is the default confirmation length in steps: 2,
	// so 20 s with the default step.
	DefaultConfirmSteps = 2
	// DefaultMaxDuration bounds a search's load time.
	DefaultMaxDuration = 5 * time.Minute
	// DefaultRetries is how many times a generator-bound step is retried.
	DefaultRetries = 1
	// MinRate is the lowest rate the descent tries, in req/s.
	MinRate = 1.0
	// maxSteps bounds the number of steps, whatever the budget.
	maxSteps = 200
)

// Phase is what a step was for.
type Phase string

// Phases of the search.
const (
	PhaseClimb   Phase = "climb"
	PhaseDescend Phase = "descend"
	PhaseBisect  Phase = "bisect"
	PhaseConfirm Phase = "confirm"
)

// StepSpec is one step to run: a constant rate for a duration.
type StepSpec struct {
	// Index counts the steps from 0.
	Index int
	Phase Phase
	// Rate is the planned rate, req/s.
	Rate float64
	// Duration is how long to hold it.
	Duration time.Duration
	// Abort is the early-stop hook to pass to engine.Config.Abort; it is
	// new for every step.
	Abort func(closed []engine.Window) (bool, string)
}

// Runner runs one step and returns what it measured. When ctx is cancelled
// it must stop and return what it has, marked Partial (as engine.Run does).
// A step that Abort stopped must be marked Aborted.
type Runner interface {
	RunStep(ctx context.Context, s StepSpec) (*engine.Result, error)
}

// RunnerFunc adapts a function to Runner.
type RunnerFunc func(ctx context.Context, s StepSpec) (*engine.Result, error)

// RunStep calls f.
func (f RunnerFunc) RunStep(ctx context.Context, s StepSpec) (*engine.Result, error) {
	return f(ctx, s)
}

var (
	_ Runner = RunnerFunc(nil)
	_ Runner = (*EngineRunner)(nil)
)

// EngineRunner is the real Runner: each step runs Plan with its curve
// replaced by one hold segment at the step's rate, through engine.Run (a
// fresh vegeta attacker every time).
type EngineRunner struct {
	Plan *scenarios.Plan
	// Target overrides Plan.Target.
	Target string
	// Version is spike's version, recorded in each step's result.
	Version string
	// OnProgress, if set, receives the engine's live progress of each step.
	OnProgress func(engine.Progress)
	// OnSample, if set, receives every finished request of each step (see
	// engine.Config.OnSample).
	OnSample func(*engine.Sample)
	// Hurry, if set, cuts an interrupted step short (see engine.Config.Hurry).
	Hurry <-chan struct{}
}

// RunStep runs one step with engine.Run. Each step's request templates are
// seeded with the plan's seed plus the step index, so that steps do not
// replay the same users.
func (r *EngineRunner) RunStep(ctx context.Context, s StepSpec) (*engine.Result, error) {
	if r.Plan == nil {
		return nil, errors.New("run step: no plan")
	}
	c, err := scenarios.NewCurve([]scenarios.Segment{{Kind: "hold", From: s.Rate, To: s.Rate, Duration: s.Duration}})
	if err != nil {
		return nil, fmt.Errorf("run step: %w", err)
	}
	p := *r.Plan
	p.Curve = c
	p.Shape = "hold"
	p.Options.Seed += int64(s.Index)
	return engine.Run(ctx, engine.Config{
		Plan: &p, Target: r.Target, Version: r.Version, OnProgress: r.OnProgress, Abort: s.Abort,
		OnSample: r.OnSample, Hurry: r.Hurry,
	})
}

// Config is what a search needs besides its context.
type Config struct {
	// Plan is the scenario: its target, request mix, SLO, window and
	// options are used; its shape is ignored.
	Plan *scenarios.Plan
	// Target overrides Plan.Target for the default runner.
	Target string
	// From is the first step's rate, req/s. Default: Plan.Baseline.
	From float64
	// Step is how long each step holds its rate. Default DefaultStep.
	Step time.Duration
	// Skip is the warm-up of each step that is not judged: windows starting
	// before it are left out. Default: DefaultSkip, at most Step/5.
	Skip time.Duration
	// Factor multiplies the rate after each good step of the climb (> 1).
	// Default DefaultFactor.
	Factor float64
	// Precision is the relative gap between the good and bad rates at
	// which bisection stops (> 0). Default DefaultPrecision.
	Precision float64
	// Confirm is how long the capacity is held to confirm it. Default
	// DefaultConfirmSteps × Step; negative: no confirmation.
	Confirm time.Duration
	// MaxRate caps the climb, req/s. Default scenarios.MaxRate.
	MaxRate float64
	// MaxDuration bounds the load time (the sum of the steps' lengths).
	// Default DefaultMaxDuration.
	MaxDuration time.Duration
	// EarlyStop is the rule that ends a clearly broken step early. Zero:
	// DefaultEarlyStop(Plan).
	EarlyStop scenarios.Abort
	// Retries is how many times a generator-bound step is run again before
	// the search stops as inconclusive (spike may have been starved of CPU
	// for a moment). Default DefaultRetries; negative: none.
	Retries int
	// Analysis tunes the analysis each step is judged by.
	Analysis analysis.Options
	// Runner runs the steps. Default: an EngineRunner for Plan and Target.
	Runner Runner
	// OnStart, if set, is called before each step; OnStep after it, with
	// its judgement. Both run on Find's goroutine.
	OnStart func(StepSpec)
	OnStep  func(Step)
}

// DefaultEarlyStop is the rule that ends a step early when it is clearly
// broken: an error rate over ten times the SLO's (at least 10%, at most
// 50%), or a p95 over four times the SLO's, for `sustain` windows.
func DefaultEarlyStop(p *scenarios.Plan) scenarios.Abort {
	slo := p.SLO
	sustain := slo.Sustain
	if sustain <= 0 {
		sustain = scenarios.DefaultSustain
	}
	win := p.Options.Window
	if win <= 0 {
		win = scenarios.DefaultWindow
	}
	er := min(max(10*slo.ErrorRate, 0.10), 0.50)
	p95 := 4 * slo.P95
	if slo.P95 <= 0 {
		p95 = 4 * scenarios.DefaultP95
	}
	return scenarios.Abort{ErrorRate: er, P95: p95, For: time.Duration(sustain) * win}
}

// settings is a Config with its defaults applied and checked.
type settings struct {
	Config
	window  time.Duration
	sustain int
}

// resolve applies the defaults and checks the config.
func (c Config) resolve() (*settings, error) {
	if c.Plan == nil {
		return nil, errors.New("find: no plan")
	}
	s := &settings{Config: c}
	p := c.Plan
	if s.From == 0 {
		s.From = p.Baseline
	}
	if s.From <= 0 || math.IsNaN(s.From) || math.IsInf(s.From, 0) {
		return nil, fmt.Errorf("find: no starting rate: the scenario has no baseline; give one (--from RATE), got %g", s.From)
	}
	if s.Step == 0 {
		s.Step = DefaultStep
	}
	if s.Step < 0 {
		return nil, fmt.Errorf("find: step must be > 0, got %s", s.Step)
	}
	if s.Skip == 0 {
		s.Skip = min(DefaultSkip, s.Step/5)
	}
	if s.Skip < 0 || s.Skip >= s.Step {
		return nil, fmt.Errorf("find: skip must be ≥ 0 and shorter than the step (%s), got %s", s.Step, s.Skip)
	}
	if s.Factor == 0 {
		s.Factor = DefaultFactor
	}
	if !(s.Factor > 1) || math.IsInf(s.Factor, 0) {
		return nil, fmt.Errorf("find: factor must be > 1, got %g", s.Factor)
	}
	if s.Precision == 0 {
		s.Precision = DefaultPrecision
	}
	if !(s.Precision > 0) || s.Precision >= 1 {
		return nil, fmt.Errorf("find: precision must be between 0 and 1 (0.05 for 5%%), got %g", s.Precision)
	}
	switch {
	case s.Confirm == 0:
		s.Confirm = DefaultConfirmSteps * s.Step
	case s.Confirm < 0:
		s.Confirm = 0
	}
	if s.MaxRate == 0 {
		s.MaxRate = scenarios.MaxRate
	}
	if !(s.MaxRate > 0) || s.MaxRate > scenarios.MaxRate {
		return nil, fmt.Errorf("find: max rate must be > 0 and at most %d req/s, got %g", scenarios.MaxRate, s.MaxRate)
	}
	if s.From > s.MaxRate {
		return nil, fmt.Errorf("find: the starting rate %s req/s is above the max rate %s req/s", fmtRate(s.From), fmtRate(s.MaxRate))
	}
	if s.MaxDuration == 0 {
		s.MaxDuration = DefaultMaxDuration
	}
	if s.MaxDuration < s.Step {
		return nil, fmt.Errorf("find: max duration %s is shorter than one step (%s)", s.MaxDuration, s.Step)
	}
	switch {
	case s.Retries == 0:
		s.Retries = DefaultRetries
	case s.Retries < 0:
		s.Retries = 0
	}
	if s.EarlyStop == (scenarios.Abort{}) {
		s.EarlyStop = DefaultEarlyStop(p)
	}
	s.window = p.Options.Window
	if s.window <= 0 {
		s.window = scenarios.DefaultWindow
	}
	s.sustain = s.Analysis.Sustain
	if s.sustain <= 0 {
		s.sustain = p.SLO.Sustain
	}
	if s.sustain <= 0 {
		s.sustain = scenarios.DefaultSustain
	}
	// Subtleness ahead! A step can only fail the SLO if it holds `sustain`
	// judged windows: with fewer, every step would pass and the search
	// would climb to the max rate without ever judging anything.
	if n := judgedWindows(s.Step, s.Skip, s.window); n < s.sustain {
		need := time.Duration(windowsCeil(s.Skip, s.window)+s.sustain) * s.window
		return nil, fmt.Errorf("find: a %s step leaves %d window(s) of %s to judge after its %s warm-up; the SLO needs %d in a row (sustain): use a step of at least %s",
			s.Step, n, s.window, s.Skip, s.sustain, need)
	}
	if s.Runner == nil {
		s.Runner = &EngineRunner{Plan: p, Target: c.Target}
	}
	return s, nil
}

// Validate checks the config as Find would, without running anything.
func (c Config) Validate() error {
	_, err := c.resolve()
	return err
}

// windowsCeil returns how many windows of length w start before d.
func windowsCeil(d, w time.Duration) int { return int((d + w - 1) / w) }

// judgedWindows returns how many windows of a step start at or after skip.
func judgedWindows(step, skip, w time.Duration) int {
	return windowsCeil(step, w) - windowsCeil(skip, w)
}

// searcher is the working state of one Find call.
type searcher struct {
	cfg     *settings
	res     *Result
	used    time.Duration // load time so far
	retried int           // generator-bound steps in a row
	stopped string
	err     error
	// ref is the lowest-rate step that passed: the low load a failed
	// step's layer is read against.
	ref     *engine.Result
	refRate float64
}

// Find searches for the plan's capacity. It returns a result whenever it
// ran at least one step, even on error (a step's runner failed) and when
// ctx was cancelled (Result.Stopped is then "interrupted" and the error is
// nil). Configuration problems return a nil result and an error.
func Find(ctx context.Context, cfg Config) (*Result, error) {
	s, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	se := &searcher{cfg: s, res: newResult(s)}
	se.search(ctx)
	se.finish()
	return se.res, se.err
}

// state derives the bracket from the steps so far: bad is the lowest
// failing rate (0: none), good the highest passing rate below it (0: none),
// confirmed whether a confirmation passed at good.
func (se *searcher) state() (good, bad float64, confirmed bool) {
	for _, st := range se.res.Steps {
		if st.Verdict == VerdictFail && (bad == 0 || st.RateRPS < bad) {
			bad = st.RateRPS
		}
	}
	for _, st := range se.res.Steps {
		if st.Verdict == VerdictPass && (bad == 0 || st.RateRPS < bad) && st.RateRPS >= good {
			if st.RateRPS > good {
				confirmed = false
			}
			good = st.RateRPS
			confirmed = confirmed || st.Phase == PhaseConfirm
		}
	}
	return good, bad, confirmed
}

// next decides the next step: its phase and rate, and whether there is one.
func (se *searcher) next() (Phase, float64, bool) {
	c := se.cfg
	good, bad, confirmed := se.state()
	switch {
	case confirmed:
		return "", 0, false
	case good == 0 && bad == 0:
		return PhaseClimb, c.From, true
	case bad == 0 && good >= c.MaxRate:
		return PhaseConfirm, good, c.Confirm > 0
	case bad == 0:
		r := roundRate(good * c.Factor)
		if r <= good {
			r = good * c.Factor
		}
		return PhaseClimb, min(r, c.MaxRate), true
	case good == 0:
		r := roundRate(bad / c.Factor)
		if r < MinRate {
			return "", 0, false
		}
		return PhaseDescend, r, true
	case bad > good*(1+c.Precision):
		return PhaseBisect, midRate(good, bad), true
	}
	return PhaseConfirm, good, c.Confirm > 0
}

// search runs steps until the answer is known, the budget is spent, the
// generator falls behind, or ctx is cancelled.
func (se *searcher) search(ctx context.Context) {
	c := se.cfg
	for len(se.res.Steps) < maxSteps {
		if ctx.Err() != nil {
			se.stopped = StoppedInterrupted
			return
		}
		phase, rate, ok := se.next()
		if !ok {
			return
		}
		d := c.Step
		if phase == PhaseConfirm {
			d = c.Confirm
		}
		if !se.afford(phase, d) {
			// Out of time: confirm what we have if the confirmation fits.
			good, _, confirmed := se.state()
			if phase != PhaseConfirm && good > 0 && !confirmed && c.Confirm > 0 && se.used+c.Confirm <= c.MaxDuration {
				se.res.Notes = append(se.res.Notes, fmt.Sprintf("the time left (--max-duration %s) allowed no more %s steps; the capacity was confirmed as it stood", fmtDuration(c.MaxDuration), phase))
				phase, rate, d = PhaseConfirm, good, c.Confirm
			} else {
				se.stopped = StoppedMaxDuration
				return
			}
		}
		if !se.try(ctx, phase, rate, d) {
			if se.stopped != StoppedGenerator || se.retried >= c.Retries {
				return
			}
			// Once more: spike may have been starved for a moment.
			se.retried++
			se.stopped = ""
			continue
		}
		se.retried = 0
	}
	se.stopped = StoppedMaxSteps
}

// afford reports whether a step of length d fits the budget, keeping time
// for the confirmation before a climb, descent or bisection step (unless
// the budget could never hold a step and a confirmation).
func (se *searcher) afford(phase Phase, d time.Duration) bool {
	c := se.cfg
	need := se.used + d
	if phase != PhaseConfirm && c.Step+c.Confirm <= c.MaxDuration {
		need += c.Confirm
	}
	return need <= c.MaxDuration
}

// try runs and judges one step; it returns false when the search must end.
func (se *searcher) try(ctx context.Context, phase Phase, rate float64, d time.Duration) bool {
	c := se.cfg
	rule := NewAbortRule(c.EarlyStop, c.Skip)
	abort := func(closed []engine.Window) (bool, string) {
		ws, _ := analysis.Tolerate(closed, c.Plan.SLO)
		return rule(ws)
	}
	spec := StepSpec{Index: len(se.res.Steps), Phase: phase, Rate: rate, Duration: d, Abort: abort}
	if c.OnStart != nil {
		c.OnStart(spec)
	}
	res, err := c.Runner.RunStep(ctx, spec)
	if res == nil {
		if err == nil {
			err = errors.New("the runner returned no result")
		}
		se.err = fmt.Errorf("find: step %d (%s req/s): %w", spec.Index+1, fmtRate(rate), err)
		se.stopped = StoppedError
		return false
	}
	st := se.judge(spec, res, ctx.Err() != nil)
	if st.Verdict == VerdictPass && (se.ref == nil || rate < se.refRate) {
		se.ref, se.refRate = res, rate
	}
	se.res.record(st, res)
	st = se.res.Steps[len(se.res.Steps)-1]
	se.used += time.Duration(st.DurationMs * float64(time.Millisecond))
	if c.OnStep != nil {
		c.OnStep(st)
	}
	switch {
	case err != nil:
		se.err = fmt.Errorf("find: step %d (%s req/s): %w", spec.Index+1, fmtRate(rate), err)
		se.stopped = StoppedError
		return false
	case st.Verdict == VerdictInterrupted:
		se.stopped = StoppedInterrupted
		return false
	case st.Verdict == VerdictGeneratorBound:
		se.stopped = StoppedGenerator
		return false
	}
	return true
}
