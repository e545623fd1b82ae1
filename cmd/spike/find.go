package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/spikeload/spike/analysis"
	"github.com/spikeload/spike/charts"
	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/result"
	"github.com/spikeload/spike/scenarios"
	"github.com/spikeload/spike/search"
)

// FindOptions holds `spike find`'s flags and arguments.
type FindOptions struct {
	IO   *IOStreams
	File string
	// Target and Baseline override the scenario's.
	Target string
	// AllowHosts adds to the scenario's allow_hosts (--allow-host).
	AllowHosts []string
	Baseline   string
	// From and MaxRate are rates as written: "30" (req/s) or "1.5x".
	From    string
	MaxRate string
	Step    time.Duration
	Factor  float64
	// Precision is a fraction as written: "5%" or "0.05".
	Precision string
	// Confirm is the confirmation hold; 0 means twice the step, and
	// NoConfirm (--confirm 0 given explicitly) skips it.
	Confirm     time.Duration
	NoConfirm   bool
	MaxDuration time.Duration
	OutDir      string
	// Fix lists example-app fixes to switch on when the target is demo.
	Fix string
	// Live holds the live-metrics flags (live.go).
	Live LiveOptions
	// Now gives the wall-clock time (for the default output folder name).
	Now func() time.Time
}

func newFindCmd(ios *IOStreams, runF func(context.Context, *FindOptions) error) *cobra.Command {
	opts := &FindOptions{IO: ios, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "find SCENARIO.yaml",
		Short: "Search for the highest rate the target holds within its SLO, and what breaks above it",
		Long: `Find the target's capacity with an adaptive breakpoint search. spike uses the
scenario's target, request mix and SLO, and ignores its shape: it holds one
constant rate per step, starting at the baseline (or --from), and raises it by
--factor after every step that holds the SLO, until one does not. Then it
bisects between the last good and the first bad rate until they are within
--precision of each other, and holds the good rate for --confirm before it
reports it: "you hold 340 req/s (3.4x) within your SLO; at 390 req/s the
database breaks first".

Every step runs on a fresh attacker and is judged like 'spike run' judges a
window (its first 2 s, at most a fifth of the step, are a warm-up and not
judged); a step also fails when its windows together break the SLO. A step
that is clearly broken (errors or p95 far past the SLO for a few windows)
ends early to spare the target. If spike itself cannot send a step's load on
time the search stops: "inconclusive above X req/s".

Each step is printed as it ends; result.json (with every step in its search
field) and report.html are written to the output folder. --max-rate,
--max-duration (the load time, default 5m) and Ctrl-C all end the search with
the best answer so far.

` + liveHelp + ` The steps add to the same
counters.

Exit codes: 0 ok, 1 runtime error, 2 bad usage or bad scenario, 4 inconclusive
(spike could not send the load), 130 interrupted.`,
		Example: `  # Search the built-in example app (target: demo in the scenario)
  spike find examples/producthunt.yaml

  # Your staging app, starting at 50 req/s, never above 20x the baseline
  spike find launch.yaml --target https://staging.example.com --from 50 --max-rate 20x

  # A quicker, coarser search: 5 s steps, x2 climb, 10% precision, 2 minutes at most
  spike find smoke.yaml --step 5s --factor 2 --precision 10% --max-duration 2m`,
		Args: exactArgs(1, "one scenario file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			opts.NoConfirm = cmd.Flags().Changed("confirm") && opts.Confirm == 0
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runFind(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Target, "target", "", "base URL of the target (overrides the scenario's target:)")
	addAllowHostFlag(cmd, &opts.AllowHosts)
	f.StringVar(&opts.Baseline, "baseline", "", "today's normal traffic in req/s (overrides baseline:)")
	f.StringVar(&opts.From, "from", "", "first step's rate: req/s like 50, or a multiple of the baseline like 2x (default the baseline)")
	f.DurationVar(&opts.Step, "step", search.DefaultStep, "how long each step holds its rate")
	f.Float64Var(&opts.Factor, "factor", search.DefaultFactor, "multiply the rate by this after every good step of the climb (> 1)")
	f.StringVar(&opts.Precision, "precision", "5%", "stop bisecting when the first bad rate is within this of the last good one")
	f.DurationVar(&opts.Confirm, "confirm", 0, "hold the capacity this long to confirm it (default twice --step; 0 to skip)")
	f.StringVar(&opts.MaxRate, "max-rate", "", "never step above this rate: req/s, or a multiple like 50x (default no limit)")
	f.DurationVar(&opts.MaxDuration, "max-duration", search.DefaultMaxDuration, "the most load time the search may use, all steps together")
	f.StringVarP(&opts.OutDir, "out", "o", "", "folder for result.json and report.html (default spike-results/NAME-find-TIMESTAMP)")
	f.StringVar(&opts.Fix, "fix", "", "with target demo: switch on example-app fixes, e.g. cache,cdn (see spike target --help)")
	addLiveFlags(cmd, &opts.Live)
	return cmd
}

func runFind(ctx context.Context, opts *FindOptions) error {
	plan, err := scenarios.Load(opts.File, scenarios.Overrides{Target: opts.Target, Baseline: opts.Baseline, AllowHosts: opts.AllowHosts})
	if err != nil {
		if scenarios.IsLoadError(err) {
			return err
		}
		return withCode(exitUsage, err)
	}
	if plan.Target == "" {
		return usageErr("%s: no target: set target: in the scenario or pass --target URL", opts.File)
	}
	if opts.Fix != "" && plan.Target != "demo" {
		return usageErr("--fix applies only to the built-in example app (target demo), not %s", plan.Target)
	}
	cfg := search.Config{Plan: plan, Step: opts.Step, Factor: opts.Factor, Confirm: opts.Confirm, MaxDuration: opts.MaxDuration}
	if opts.NoConfirm {
		cfg.Confirm = -1
	}
	if cfg.From, err = findRate("--from", opts.From, plan.Baseline); err != nil {
		return err
	}
	if cfg.MaxRate, err = findRate("--max-rate", opts.MaxRate, plan.Baseline); err != nil {
		return err
	}
	var prec scenarios.Fraction
	_ = prec.UnmarshalText([]byte(opts.Precision))
	if cfg.Precision, err = prec.Parse(); err != nil || cfg.Precision <= 0 {
		return usageErr("--precision: want a fraction above 0 like 5%% or 0.05, got %q", opts.Precision)
	}
	// Check the settings before starting anything.
	if err := cfg.Validate(); err != nil {
		return usageErr("%s", strings.TrimPrefix(err.Error(), "find: "))
	}

	if cfg.MaxRate > 0 {
		warnIfOverCeiling(opts.IO, cfg.MaxRate, "")
	}
	if note := journeyStepNote(plan, opts.Step); note != "" {
		fmt.Fprintln(opts.IO.ErrOut, "spike: "+note)
	}
	target := plan.Target
	if target != "demo" {
		limit := cfg.MaxRate // the search climbs at most this far
		if limit <= 0 {
			limit = scenarios.MaxRate
		}
		if err := checkTargetScope(ctx, opts.IO.ErrOut, plan, target, limit, nil); err != nil {
			return err
		}
	}
	if target == "demo" {
		srv, err := startDemo(ctx, opts.IO, opts.Fix)
		if err != nil {
			return err
		}
		defer srv.Close()
		target = srv.URL()
	}
	lv, err := opts.Live.start(ctx, opts.IO, plan)
	if err != nil {
		return err
	}
	defer lv.close(ctx, opts.IO)
	raiseFileLimit()
	out := outDir(opts.OutDir, plan.Name+"-find", opts.Now)
	if err := prepareOut(opts.IO, out); err != nil {
		return err
	}

	ios := opts.IO.redacting(plan.Redactor())
	fmt.Fprintf(ios.ErrOut, "spike: searching %s at %s for the highest rate within the SLO (%s)\n", plan.Name, target, sloText(plan.SLO))
	steps := &stepPrinter{ios: ios, plan: plan}
	runner := &search.EngineRunner{Plan: plan, Target: target, Version: currentVersion().Version, OnProgress: steps.progress, Hurry: hurryOf(ctx)}
	if lv != nil {
		runner.OnSample = lv.metrics.Observe
		runner.OnProgress = lv.metrics.ProgressFunc(steps.progress)
	}
	cfg.Runner = runner
	cfg.OnStart = steps.start
	cfg.OnStep = steps.print
	release := gcFloor()
	stopNotice := onInterrupt(ctx, func() { fmt.Fprintln(ios.ErrOut, "\n"+interruptNotice) })
	res, findErr := search.Find(ctx, cfg)
	stopNotice()
	release()
	steps.clear()
	if res == nil {
		return findErr
	}
	if res.Stopped == search.StoppedInterrupted {
		fmt.Fprintln(ios.ErrOut, "spike: interrupted; writing what the search found so far")
	}
	if len(res.Steps) > 0 {
		if err := writeFindOutputs(ios, res, out); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(ios.Out, res.Headline)
	}
	switch {
	case findErr != nil:
		return findErr
	case res.Stopped == search.StoppedInterrupted:
		return withCode(exitInterrupted, errors.New("interrupted: the search is incomplete"))
	case res.Status == search.StatusInconclusive:
		return withCode(exitInconclusive, errors.New(res.Headline))
	}
	return nil
}

// findRate resolves a rate flag ("" is 0: the default).
func findRate(flag, raw string, baseline float64) (float64, error) {
	if raw == "" {
		return 0, nil
	}
	var r scenarios.Rate
	_ = r.UnmarshalText([]byte(raw))
	v, err := r.Resolve(baseline)
	if err != nil {
		return 0, usageErr("%s: %v", flag, err)
	}
	if v <= 0 {
		return 0, usageErr("%s: must be > 0, got %s", flag, raw)
	}
	return v, nil
}

// stepPrinter prints the steps as they end, one line each under a header,
// to ios.Out; on a terminal it also shows the running step live on
// ios.ErrOut.
type stepPrinter struct {
	ios    *IOStreams
	plan   *scenarios.Plan
	headed bool
	cur    search.StepSpec
	live   bool // a live line is showing
}

func (p *stepPrinter) header() {
	if p.headed {
		return
	}
	p.headed = true
	fmt.Fprintf(p.ios.Out, "%4s  %-7s  %-20s  %6s  %8s  %8s  %6s  %s\n", "step", "phase", "rate", "held", "p95", "p99", "errors", "verdict")
}

// start is called before each step.
func (p *stepPrinter) start(s search.StepSpec) {
	p.header()
	p.cur = s
}

// progress shows the running step on a terminal.
func (p *stepPrinter) progress(pr engine.Progress) {
	if !p.ios.IsTTY {
		return
	}
	fmt.Fprintf(p.ios.ErrOut, "\r\033[K  step %d: %s %s  %s / %s  achieved %s req/s  p95 %s  errors %.1f%%",
		p.cur.Index+1, p.cur.Phase, rateText(p.plan, p.cur.Rate), fmtDur(pr.Elapsed.Truncate(time.Second)), fmtDur(pr.Total),
		scenarios.FormatRate(pr.AchievedRate), fmtMs(pr.P95), 100*pr.ErrorRate)
	p.live = true
}

// clear removes the live line.
func (p *stepPrinter) clear() {
	if p.live {
		fmt.Fprint(p.ios.ErrOut, "\r\033[K")
		p.live = false
	}
}

// print writes one judged step.
func (p *stepPrinter) print(s search.Step) {
	p.clear()
	p.header()
	verdict := string(s.Verdict)
	if s.Verdict == search.VerdictFail {
		verdict = "FAIL"
	}
	if s.Reason != "" {
		verdict += ": " + s.Reason
	}
	if s.EndedEarly {
		verdict += " (ended early)"
	}
	held := fmtDur(msDur(s.DurationMs).Round(100 * time.Millisecond))
	fmt.Fprintf(p.ios.Out, "%4d  %-7s  %-20s  %6s  %8s  %8s  %5.1f%%  %s\n", s.Index+1, s.Phase, rateText(p.plan, s.RateRPS), held,
		fmtMs(msDur(s.P95Ms)), fmtMs(msDur(s.P99Ms)), 100*s.ErrorRate, verdict)
}

func msDur(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

// writeFindOutputs writes result.json and report.html into out and prints
// the answer.
func writeFindOutputs(ios *IOStreams, res *search.Result, out string) error {
	combined, err := res.Combine()
	if err != nil {
		return err
	}
	if combined, err = redactResult(ios.Redactor, combined); err != nil {
		return err
	}
	a := res.Analyze(combined, analysis.Options{})
	doc := result.New(combined, a, res)
	resultPath := filepath.Join(out, "result.json")
	if err := writeFileAtomic(resultPath, ios.Redactor.Bytes, doc.WriteJSON); err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	reportPath := filepath.Join(out, "report.html")
	// The page's data comes from the masked result; the steps' own texts
	// are masked by value (masking by key would touch the page's scripts).
	if err := writeFileAtomic(reportPath, ios.Redactor.ValueBytes, func(w io.Writer) error { return charts.Render(w, combined, a) }); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	printFindAnswer(ios, res, a)
	fmt.Fprintf(ios.ErrOut, "\nresult: %s\nreport: %s\n", resultPath, reportPath)
	return nil
}

// printFindAnswer writes the search's answer to ios.Out.
func printFindAnswer(ios *IOStreams, res *search.Result, a *analysis.Analysis) {
	w := ios.Out
	rate := func(r float64) string {
		s := scenarios.FormatRate(r) + " req/s"
		if b := res.Settings.BaselineRPS; b > 0 {
			s += fmt.Sprintf(" (%.1fx)", r/b)
		}
		return s
	}
	row := func(label, value string) {
		if value != "" {
			fmt.Fprintf(w, "  %-15s %s\n", label, value)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, res.Headline)
	if res.CapacityRPS > 0 {
		c := rate(res.CapacityRPS)
		switch {
		case res.Confirmed:
			c += fmt.Sprintf(", confirmed by a %s hold", fmtDur(msDur(res.Settings.ConfirmMs)))
		default:
			c += ", not confirmed"
		}
		if res.Status == search.StatusHeld {
			c = "at least " + c
		}
		row("capacity", c)
	}
	if res.BreakpointRPS > 0 {
		b := rate(res.BreakpointRPS)
		if res.Gap > 0 {
			b += fmt.Sprintf(", %.1f%% above the capacity", 100*res.Gap)
		}
		row("breakpoint", b)
	}
	if res.FirstLayer != "" {
		row("first to break", res.FirstLayer+": "+res.Symptom)
		row("likely cause", res.Cause)
	}
	row("load", fmt.Sprintf("%s in %d steps", fmtDur(msDur(res.LoadMs).Round(time.Second)), len(res.Steps)))
	if len(a.Verdict.Fixes) > 0 && res.BreakpointRPS > 0 {
		fmt.Fprintln(w, "Fix first:")
		for k, f := range a.Verdict.Fixes {
			fmt.Fprintf(w, "  %d. %s\n", k+1, f)
		}
	}
}

// journeyStepNote warns when a search step is shorter than a visitor's
// think time: each step starts with no session open and ends the sessions
// it started, so visitors who arrive late in a step never reach the later
// steps of their journey, which then see less load than a longer hold
// would give them.
func journeyStepNote(plan *scenarios.Plan, step time.Duration) string {
	var longest time.Duration
	name := ""
	for _, j := range plan.Journeys {
		var d time.Duration
		for _, st := range j.Steps {
			d += st.Think.Mean()
		}
		if d > longest {
			longest, name = d, j.Name
		}
	}
	if longest == 0 || step >= 3*longest {
		return ""
	}
	return fmt.Sprintf("a visitor of journey %s thinks for about %s in all; steps of %s cut many sessions short, so its later steps see less load than a longer hold would give them (--step %s or more)",
		name, fmtDur(longest), fmtDur(step), fmtDur((3 * longest).Round(time.Second)))
}
