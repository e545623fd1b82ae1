package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/spikeload/spike/analysis"
	"github.com/spikeload/spike/charts"
	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/k8s"
	"github.com/spikeload/spike/result"
	"github.com/spikeload/spike/scenarios"
	"github.com/spikeload/spike/search"
)

// RunOptions holds `spike run`'s flags and arguments.
type RunOptions struct {
	IO        *IOStreams
	File      string
	Overrides scenarios.Overrides
	Baseline  string
	OutDir    string
	// Fix lists example-app fixes to switch on when the target is demo.
	Fix string
	// Gate holds the release-gate flags (gate.go).
	Gate GateOptions
	// Split holds the sharding flags (shard.go).
	Split ShardOptions
	// PrintResult (--print-result) also writes result.json to the output,
	// compressed between marker lines, for spike k8s run to read from a
	// pod's log.
	PrintResult bool
	// Live holds the live-metrics flags (live.go).
	Live LiveOptions
	// Now gives the wall-clock time (for the default output folder name).
	Now func() time.Time
}

func newRunCmd(ios *IOStreams, runF func(context.Context, *RunOptions) error) *cobra.Command {
	opts := &RunOptions{IO: ios, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "run SCENARIO.yaml",
		Short: "Replay a scenario's traffic against a target and record what happened",
		Long: `Replay a scenario's traffic curve against its target with an open model:
requests leave on the curve's schedule whether or not earlier ones returned, and
latency is measured from each request's intended send time, so a stalled target
is not hidden. Progress is shown live; at the end spike prints a per-request
table and writes result.json to the output folder.

Ctrl-C stops the run early: spike stops sending, waits for requests in flight,
and still writes what it measured, marked partial (exit code 130). A second
Ctrl-C stops waiting for the requests in flight and writes the partial result
at once.

The output folder is checked before anything is sent; an earlier result in it
is moved to OUT/earlier-TIMESTAMP/. Requests go only to the target's host and
to hosts named in allow_hosts: or --allow-host; a target outside loopback and
private networks must be named there too.

` + gateHelp + `

` + shardHelp + `

` + liveHelp + `

Exit codes: 0 ok (with --gate: the gate passed), 1 runtime error, 2 bad usage
or bad scenario, 3 gate failed, 4 inconclusive (with --gate: the gate; without:
the target was unreachable from the start, spike could not build its requests,
or the target refused a request of the scenario from the start), 5 late for
--start-at (nothing sent), 130 interrupted.`,
		Example: `  spike run examples/producthunt.yaml --target http://127.0.0.1:8080
  spike run smoke.yaml --duration 15s --out results/smoke
  spike run launch.yaml --baseline 40 --time-scale 60
  spike run smoke.yaml --gate --junit junit.xml --summary summary.md
  spike run smoke.yaml --gate --baseline-result last/result.json
  spike run examples/launch-journeys.yaml   # journeys: visitors with sessions, rates in visitors/s
  spike run launch.yaml --shard 0/4 --out shard-0
  spike run launch.yaml --metrics-addr 127.0.0.1:9464 --otlp-endpoint http://127.0.0.1:4318`,
		Args: exactArgs(1, "one scenario file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			opts.Overrides.Baseline = opts.Baseline
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runRun(cmd.Context(), opts)
		},
	}
	addPlanOverrideFlags(cmd, &opts.Overrides, &opts.Baseline)
	cmd.Flags().StringVarP(&opts.OutDir, "out", "o", "", "folder for result.json (default spike-results/NAME-TIMESTAMP)")
	cmd.Flags().StringVar(&opts.Fix, "fix", "", "with target demo: switch on example-app fixes, e.g. cache,cdn (see spike target --help)")
	addGateFlags(cmd, &opts.Gate)
	addShardFlags(cmd, &opts.Split)
	addStartFlag(cmd, &opts.Split)
	cmd.Flags().BoolVar(&opts.PrintResult, "print-result", false, "also print result.json, gzip+base64 between marker lines (how spike k8s collects shards from pod logs; spike merge reads such logs)")
	addLiveFlags(cmd, &opts.Live)
	return cmd
}

func runRun(ctx context.Context, opts *RunOptions) error {
	plan, err := scenarios.Load(opts.File, opts.Overrides)
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
	shard, err := opts.Split.resolve()
	if err != nil {
		return err
	}
	startAt, err := opts.Split.startAt(opts.Now())
	if err != nil {
		return err
	}
	if !shard.Whole() && opts.Gate.active() {
		return usageErr("--shard with --gate, --junit, --summary or --baseline-result: a shard is 1/%d of the plan and cannot be gated alone; gate the merged result (spike merge --gate)", shard.Parts())
	}
	if !shard.Whole() && plan.Target == "demo" {
		return usageErr("--shard: the built-in example app (target demo) runs inside each process; shard a run against a real target")
	}
	if err := opts.Gate.prepare(plan); err != nil {
		return err
	}
	lv, err := opts.Live.start(ctx, opts.IO, plan)
	if err != nil {
		return err
	}
	defer lv.close(ctx, opts.IO)
	return runPlanGated(ctx, opts.IO, plan, opts.Fix, outDir(opts.OutDir, plan.Name, opts.Now), &opts.Gate, launch{shard: shard, startAt: startAt, live: lv, printResult: opts.PrintResult})
}

// outDir returns dir, or the default timestamped folder for a run.
func outDir(dir, name string, now func() time.Time) string {
	if dir != "" {
		return dir
	}
	return filepath.Join("spike-results", fmt.Sprintf("%s-%s", safeName(name), now().Format("20060102-150405")))
}

// runPlanTo runs plan (starting the example app when its target is demo),
// writes the outputs into out and prints the summary.
func runPlanTo(ctx context.Context, ios *IOStreams, plan *scenarios.Plan, fix, out string) error {
	return runPlanGated(ctx, ios, plan, fix, out, nil, launch{})
}

// launch says which part of a plan a run sends, and when it starts.
type launch struct {
	// shard is the part of the plan to send (the whole plan by default).
	shard engine.Shard
	// startAt is the shared start instant (zero: start now).
	startAt time.Time
	// live receives the run's live metrics (nil: none).
	live *liveRun
	// printResult writes result.json into the output too, for a log
	// collector (see package k8s).
	printResult bool
	// lookup resolves the target's host (nil: the system resolver).
	lookup lookupFunc
}

// runPlanGated is runPlanTo, then the release gate (nil: none).
func runPlanGated(ctx context.Context, ios *IOStreams, plan *scenarios.Plan, fix, out string, gate *GateOptions, l launch) error {
	red := plan.Redactor()
	err := maskErr(red, runPlanMasked(ctx, ios.redacting(red), plan, fix, out, gate, l))
	if l.printResult {
		// The file written is already redacted; the block goes to the
		// unmasked output so that no masking can cut into its base64.
		if js, rerr := os.ReadFile(filepath.Join(out, "result.json")); rerr == nil {
			if werr := k8s.WriteResultJSON(ios.Out, js); werr != nil && err == nil {
				err = werr
			}
		}
	}
	return err
}

// runPlanMasked is runPlanGated once ios masks the plan's secrets.
func runPlanMasked(ctx context.Context, ios *IOStreams, plan *scenarios.Plan, fix, out string, gate *GateOptions, l launch) error {
	target := plan.Target
	if target == "demo" {
		srv, err := startDemo(ctx, ios, fix)
		if err != nil {
			return err
		}
		defer srv.Close()
		target = srv.URL()
	}
	peak, _ := plan.Peak()
	if plan.Target != "demo" {
		if err := checkTargetScope(ctx, ios.ErrOut, plan, target, peak/float64(l.shard.Parts()), l.lookup); err != nil {
			return err
		}
	}
	warnIfOverCeiling(ios, peak/float64(l.shard.Parts()), "")
	raiseFileLimit()
	if err := prepareOut(ios, out); err != nil {
		return err
	}
	res, runErr := executePlan(ctx, ios, plan, target, l)
	if res == nil {
		var late *engine.LateError
		switch {
		case errors.As(runErr, &late):
			return withCode(exitLate, runErr)
		case errors.Is(runErr, context.Canceled):
			return withCode(exitInterrupted, runErr)
		}
		return runErr
	}
	return deliver(ios, plan, res, out, gate, runErr)
}

// deliver is the end of a run, shared by spike run and spike merge: it
// analyses res, writes the outputs into out, prints the verdict, applies the
// gate (nil: none) and turns the outcome into the command's error: runErr
// first, then a partial result (exit 130), then the gate's exit code.
func deliver(ios *IOStreams, plan *scenarios.Plan, res *engine.Result, out string, gate *GateOptions, runErr error) error {
	if ios.Redactor == nil && plan != nil {
		red := plan.Redactor()
		return maskErr(red, deliver(ios.redacting(red), plan, res, out, gate, runErr))
	}
	a, err := writeOutputs(ios, res, out)
	if err != nil {
		return err
	}
	gateErr := gate.apply(ios, plan, res, a, out)
	if runErr != nil {
		return runErr
	}
	if res.Meta.Partial {
		return withCode(exitInterrupted, errors.New("interrupted: the result is partial"))
	}
	if gateErr == nil {
		switch a.Verdict.NotTarget {
		case analysis.NotTargetUnreachable, analysis.NotTargetClient, analysis.NotTargetScenario:
			// Not the target's doing, and no load was measured: a run that
			// tested nothing must not look like one that passed.
			return withCode(exitInconclusive, errors.New(a.Verdict.Headline))
		}
	}
	return gateErr
}

// writeOutputs analyses res, writes result.json and report.html into out,
// and prints the per-request table and the verdict. It returns the analysis.
func writeOutputs(ios *IOStreams, res *engine.Result, out string) (*analysis.Analysis, error) {
	res, err := redactResult(ios.Redactor, res)
	if err != nil {
		return nil, err
	}
	a := analysis.Analyze(res, analysis.Options{})
	doc := result.New(res, a, nil)
	var lost error // set when the outputs went to a fallback folder
	write := func(dir string) error {
		if err := writeFileAtomic(filepath.Join(dir, "result.json"), ios.Redactor.Bytes, doc.WriteJSON); err != nil {
			return fmt.Errorf("write result: %w", err)
		}
		// Rendered from the masked result; masked by value only, since masking
		// by key would touch the page's scripts.
		if err := writeFileAtomic(filepath.Join(dir, "report.html"), ios.Redactor.ValueBytes, func(w io.Writer) error { return charts.Render(w, res, a) }); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
		return nil
	}
	if err := write(out); err != nil {
		// The folder was writable when the run began; keep the measurements
		// somewhere rather than lose them.
		dir, ferr := writeResultFallback(write)
		if ferr != nil {
			return nil, fmt.Errorf("%w; writing to a temporary folder failed too: %v", err, ferr)
		}
		fmt.Fprintf(ios.ErrOut, "spike: %v\nspike: the result was written to %s instead\n", err, dir)
		out = dir
		lost = fmt.Errorf("%w (the result was saved in %s)", err, dir)
	}
	resultPath, reportPath := filepath.Join(out, "result.json"), filepath.Join(out, "report.html")
	// The table and the verdict reach the terminal in one write, so that no
	// secret is split between two writes of the masking writer.
	var text bytes.Buffer
	printRequestTable(&IOStreams{Out: &text}, res)
	fmt.Fprintln(&text)
	if err := a.WriteVerdict(&text); err != nil {
		return nil, err
	}
	if _, err := ios.Out.Write(text.Bytes()); err != nil {
		return nil, err
	}
	fmt.Fprintf(ios.ErrOut, "\nresult: %s\nreport: %s\n", resultPath, reportPath)
	return a, lost
}

// executePlan runs plan against target, showing live status on ios.ErrOut.
func executePlan(ctx context.Context, ios *IOStreams, plan *scenarios.Plan, target string, l launch) (*engine.Result, error) {
	peak, mult := plan.Peak()
	unit, what := "req/s", "requests"
	if len(plan.Journeys) > 0 {
		unit, what = "visitors/s", "visitors"
	}
	fmt.Fprintf(ios.ErrOut, "spike: %s against %s: %s, peak %s %s (%.1fx baseline), %d %s\n",
		plan.Name, target, fmtDur(plan.Curve.Duration()), scenarios.FormatRate(peak), unit, mult, plan.Curve.Total(), what)
	if !l.shard.Whole() {
		fmt.Fprintf(ios.ErrOut, "spike: shard %s: %d of the %d %s, peak %s %s\n",
			l.shard, l.shard.Below(plan.Curve.Total()), plan.Curve.Total(), what, scenarios.FormatRate(peak/float64(l.shard.Count)), unit)
	}
	if !l.startAt.IsZero() {
		fmt.Fprintf(ios.ErrOut, "spike: starting at %s (in %s)\n", l.startAt.UTC().Format(time.RFC3339Nano), fmtDur(time.Until(l.startAt).Round(time.Second)))
	}
	status := newStatusLine(ios)
	status.unit = unit
	defer onInterrupt(ctx, status.interrupted)()
	release := gcFloor()
	cfg := engine.Config{
		Plan: plan, Target: target, Version: currentVersion().Version, OnProgress: status.update,
		Abort: search.AbortRule(plan), Shard: l.shard, Hurry: hurryOf(ctx), StartAt: l.startAt,
	}
	l.live.hook(&cfg)
	res, err := engine.Run(ctx, cfg)
	release()
	if res != nil && res.Meta.Aborted {
		fmt.Fprintf(ios.ErrOut, "spike: stopped early: %s\n", res.Meta.AbortReason)
	}
	status.done()
	if res != nil && res.Meta.Partial {
		fmt.Fprintln(ios.ErrOut, "spike: interrupted; writing what was measured (partial)")
	}
	return res, err
}

// statusLine shows progress: one rewritten line on a terminal, a plain line
// every few seconds otherwise.
// update runs on the run's goroutine, interrupted on the signal's: mu
// keeps their lines apart.
type statusLine struct {
	mu   sync.Mutex
	ios  *IOStreams
	last time.Time
	used bool
	unit string // of the planned rate: req/s, or visitors/s for journeys
}

func newStatusLine(ios *IOStreams) *statusLine { return &statusLine{ios: ios} }

func (s *statusLine) update(p engine.Progress) {
	s.mu.Lock()
	defer s.mu.Unlock()
	unit := s.unit
	if unit == "" {
		unit = "req/s"
	}
	line := fmt.Sprintf("%6s / %-6s  planned %7s %s  achieved %7s req/s  p95 %8s  errors %5.1f%%",
		fmtDur(p.Elapsed.Truncate(time.Second)), fmtDur(p.Total), scenarios.FormatRate(p.PlannedRate), unit,
		scenarios.FormatRate(p.AchievedRate), fmtMs(p.P95), 100*p.ErrorRate)
	if s.ios.IsTTY {
		fmt.Fprintf(s.ios.ErrOut, "\r\033[K%s", line)
		s.used = true
		return
	}
	if time.Since(s.last) >= 5*time.Second {
		s.last = time.Now()
		fmt.Fprintln(s.ios.ErrOut, line)
	}
}

// onInterrupt calls fn once if ctx is cancelled before the returned stop
// function is called.
func onInterrupt(ctx context.Context, fn func()) (stop func()) {
	finished := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			fn()
		case <-finished:
		}
	}()
	return func() { close(finished) }
}

// interruptNotice is what the first Ctrl-C does, and what a second one would.
const interruptNotice = "spike: interrupted: stopped sending; finishing in-flight requests (Ctrl-C again to stop now)"

// interrupted says what the first Ctrl-C does, and what a second one would.
func (s *statusLine) interrupted() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used {
		fmt.Fprintln(s.ios.ErrOut)
		s.used = false
	}
	fmt.Fprintln(s.ios.ErrOut, interruptNotice)
}

func (s *statusLine) done() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used {
		fmt.Fprintln(s.ios.ErrOut)
	}
}

// printRequestTable writes the per-request summary to ios.Out.
func printRequestTable(ios *IOStreams, res *engine.Result) {
	w := tabwriter.NewWriter(ios.Out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "request\tcount\treq/s\tp50\tp95\tp99\tmax\terrors\ttop errors\t")
	dur := res.Plan.Duration.Seconds()
	if n := len(res.Windows); n > 0 {
		dur = (res.Windows[n-1].End - res.Windows[0].Start).Seconds()
	}
	for _, t := range res.Requests {
		rate := 0.0
		if dur > 0 {
			rate = float64(t.Count) / dur
		}
		errPct := 0.0
		if t.Count > 0 {
			errPct = 100 * float64(t.Errors) / float64(t.Count)
		}
		fmt.Fprintf(w, "%s\t%d\t%.1f\t%s\t%s\t%s\t%s\t%.1f%%\t%s\t\n", t.Name, t.Count, rate,
			fmtMs(t.Latency.P50), fmtMs(t.Latency.P95), fmtMs(t.Latency.P99), fmtMs(t.Latency.Max), errPct, topErrors(t))
	}
	w.Flush()
}

// topErrors names the most frequent failure kinds of a request.
func topErrors(t engine.RequestTotal) string {
	type kv struct {
		k string
		n uint64
	}
	var all []kv
	for code, n := range t.Statuses {
		if len(code) == 3 && code[0] >= '4' {
			all = append(all, kv{code, n})
		}
	}
	for k, n := range t.ErrorKinds {
		all = append(all, kv{k, n})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].n != all[j].n {
			return all[i].n > all[j].n
		}
		return all[i].k < all[j].k
	})
	if len(all) > 3 {
		all = all[:3]
	}
	parts := make([]string, len(all))
	for i, e := range all {
		parts[i] = fmt.Sprintf("%s×%d", e.k, e.n)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

// safeName makes a scenario name usable in a folder name.
func safeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteRune('-')
		}
	}
	if b.Len() == 0 {
		return "run"
	}
	return b.String()
}
