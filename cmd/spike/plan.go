package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/scenarios"
)

// PlanOptions holds `spike plan`'s flags and arguments.
type PlanOptions struct {
	IO        *IOStreams
	File      string
	JSON      bool
	Overrides scenarios.Overrides
	Baseline  string
	// Split holds --shard (and --shards): show that shard's share.
	Split ShardOptions
}

func newPlanCmd(ios *IOStreams, runF func(*PlanOptions) error) *cobra.Command {
	opts := &PlanOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "plan SCENARIO.yaml",
		Short: "Validate a scenario and preview its traffic curve",
		Long: `Validate a scenario file and print the resolved plan: its stages, duration, peak
(req/s and multiple of the baseline), total requests, request mix, SLO, and a
chart of the planned rate. Nothing is sent. Problems are reported as
file:line:column with the field and the value, and exit with code 2.

For a scenario with journeys the curve is in visitors/s: the plan shows each
journey's share of the visitors, its steps, and the request rate each step
implies at the peak if no visitor leaves early.`,
		Example: `  spike plan examples/producthunt.yaml
  spike plan examples/launch-journeys.yaml
  spike plan examples/tenx.yaml --time-scale 2 --json
  spike plan examples/producthunt.yaml --shard 1/4`,
		Args: exactArgs(1, "one scenario file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			opts.Overrides.Baseline = opts.Baseline
			if runF != nil {
				return runF(opts)
			}
			return runPlan(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the plan as JSON")
	addPlanOverrideFlags(cmd, &opts.Overrides, &opts.Baseline)
	addShardFlags(cmd, &opts.Split)
	return cmd
}

func addPlanOverrideFlags(cmd *cobra.Command, ov *scenarios.Overrides, baseline *string) {
	cmd.Flags().StringVar(&ov.Target, "target", "", "base URL of the target (overrides the scenario's target:)")
	cmd.Flags().Var(positiveRateFlag{baseline}, "baseline", "today's normal traffic in req/s (overrides baseline:)")
	cmd.Flags().Var(positiveFloatFlag{&ov.TimeScale}, "time-scale", "compress the shape in time by this factor (overrides time_scale:)")
	cmd.Flags().Var(positiveDurationFlag{&ov.Duration}, "duration", "stretch or compress the whole curve to this length, e.g. 90s")
	addAllowHostFlag(cmd, &ov.AllowHosts)
}

// addAllowHostFlag binds --allow-host, which adds to the scenario's allow_hosts.
func addAllowHostFlag(cmd *cobra.Command, hosts *[]string) {
	cmd.Flags().StringArrayVar(hosts, "allow-host", nil, "a host other than the target's that requests may go to, or a target outside private networks to confirm (repeatable; adds to allow_hosts:)")
}

// positiveDurationFlag is a duration flag that must be > 0: a bad value is a
// flag error naming the flag ("invalid argument "-5s" for "--duration"").
type positiveDurationFlag struct{ d *time.Duration }

func (f positiveDurationFlag) String() string {
	if f.d == nil || *f.d == 0 {
		return ""
	}
	return f.d.String()
}
func (f positiveDurationFlag) Type() string { return "duration" }
func (f positiveDurationFlag) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("not a duration (like 90s or 5m)")
	}
	if d <= 0 {
		return fmt.Errorf("must be > 0, got %s", s)
	}
	*f.d = d
	return nil
}

// positiveFloatFlag is a number flag that must be finite and > 0.
type positiveFloatFlag struct{ v *float64 }

func (f positiveFloatFlag) String() string {
	if f.v == nil || *f.v == 0 {
		return ""
	}
	return strconv.FormatFloat(*f.v, 'g', -1, 64)
}
func (f positiveFloatFlag) Type() string { return "number" }
func (f positiveFloatFlag) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return errors.New("not a number")
	}
	if v <= 0 {
		return fmt.Errorf("must be > 0, got %s", s)
	}
	*f.v = v
	return nil
}

// positiveRateFlag is a rate flag in req/s that must be finite and > 0,
// kept as written.
type positiveRateFlag struct{ s *string }

func (f positiveRateFlag) String() string {
	if f.s == nil {
		return ""
	}
	return *f.s
}
func (f positiveRateFlag) Type() string { return "req/s" }
func (f positiveRateFlag) Set(s string) error {
	r := scenarios.Rate{}
	if err := r.UnmarshalText([]byte(s)); err != nil {
		return err
	}
	v, err := r.Resolve(0)
	if strings.HasPrefix(strings.TrimSpace(s), "-") {
		v, err = -1, nil
	}
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return errors.New("want a rate in req/s, like 40")
	}
	if v <= 0 {
		return fmt.Errorf("must be > 0, got %s", s)
	}
	*f.s = strings.TrimSpace(s)
	return nil
}

// planJSON is `spike plan --json`'s output. Its units follow result.json's:
// durations in milliseconds (`_ms`), rates per second (`_rps`).
type planJSON struct {
	Name          string              `json:"name"`
	Description   string              `json:"description,omitempty"`
	File          string              `json:"file"`
	Target        string              `json:"target,omitempty"`
	Baseline      float64             `json:"baseline_rps"`
	TimeScale     float64             `json:"time_scale"`
	Shape         string              `json:"shape"`
	DurationMs    float64             `json:"duration_ms"`
	PeakRate      float64             `json:"peak_rps"`
	PeakMultiple  float64             `json:"peak_multiple"`
	PeakAtMs      float64             `json:"peak_at_ms"`
	TotalRequests uint64              `json:"total_requests"`
	Stages        []scenarios.Segment `json:"stages"`
	Requests      []planRequestJSON   `json:"requests"`
	SLO           scenarios.SLO       `json:"slo"`
	Options       scenarios.Options   `json:"options"`
	Shard         *planShardJSON      `json:"shard,omitempty"`
	// RateUnit is the unit of the curve's rates: req/s, or visitors/s with
	// journeys.
	RateUnit string `json:"rate_unit"`
	// Journeys, PeakRequestRate and TotalVisitorRequests are set for a
	// scenario with journeys (then TotalRequests counts visitors).
	Journeys             []planJourneyJSON `json:"journeys,omitempty"`
	PeakRequestRate      float64           `json:"peak_request_rps,omitempty"`
	TotalVisitorRequests float64           `json:"total_visitor_requests,omitempty"`
}

// planShardJSON is one shard's share of a plan.
type planShardJSON struct {
	Shard    string  `json:"shard"`
	Requests uint64  `json:"requests"`
	PeakRate float64 `json:"peak_rps"`
	// Windows are the requests the shard plans in each window.
	Windows []uint64 `json:"windows"`
	// First are the shard's first requests as they will be sent.
	First []planSentJSON `json:"first"`
}

type planSentJSON struct {
	K      uint64  `json:"k"`
	AtMs   float64 `json:"at_ms"`
	Name   string  `json:"name"`
	Method string  `json:"method"`
	URL    string  `json:"url"`
	Body   string  `json:"body,omitempty"`
}

type planRequestJSON struct {
	Name   string  `json:"name"`
	Method string  `json:"method"`
	URL    string  `json:"url"`
	Share  float64 `json:"share"`
	Layer  string  `json:"layer,omitempty"`
}

func runPlan(opts *PlanOptions) error {
	plan, err := scenarios.Load(opts.File, opts.Overrides)
	if err != nil {
		if scenarios.IsLoadError(err) {
			return err
		}
		return withCode(exitUsage, err)
	}
	shard, err := opts.Split.resolve()
	if err != nil {
		return err
	}
	ios := opts.IO.redacting(plan.Redactor()) // the plan shows URLs, headers and bodies
	peak, mult := plan.Peak()
	unit := rateUnit(plan)
	_, peakAt := plan.Curve.Peak()
	var part *planShardJSON
	if !shard.Whole() {
		if part, err = shardShare(plan, shard); err != nil {
			return err
		}
	}
	if opts.JSON {
		out := planJSON{
			Name: plan.Name, Description: plan.Description, File: plan.File, Target: plan.Target,
			Baseline: plan.Baseline, TimeScale: plan.TimeScale, Shape: plan.Shape,
			DurationMs: msOf(plan.Curve.Duration()), PeakRate: peak, PeakMultiple: mult,
			PeakAtMs: msOf(peakAt), TotalRequests: plan.Curve.Total(), Stages: plan.Curve.Segments(),
			SLO: plan.SLO, Options: plan.Options, Shard: part, RateUnit: unit,
		}
		if plan.Journeys != nil {
			out.Journeys, out.PeakRequestRate = journeysAt(plan, peak)
			out.TotalVisitorRequests = float64(plan.Curve.Total()) * requestsPerVisitor(plan)
		}
		for _, r := range plan.Requests {
			out.Requests = append(out.Requests, planRequestJSON{Name: r.Name, Method: r.Method, URL: r.URL.Raw(), Share: share(plan, r), Layer: r.Layer})
		}
		enc := json.NewEncoder(ios.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	w := ios.Out
	fmt.Fprintf(w, "%s", plan.Name)
	if plan.Description != "" {
		fmt.Fprintf(w, " — %s", plan.Description)
	}
	fmt.Fprintln(w)
	target := plan.Target
	if target == "" {
		target = "(none: pass --target)"
	}
	fmt.Fprintf(w, "  target     %s\n", target)
	fmt.Fprintf(w, "  baseline   %s %s", scenarios.FormatRate(plan.Baseline), unit)
	if plan.Journeys != nil && plan.Baseline > 0 {
		fmt.Fprintf(w, ": %s req/s", scenarios.FormatRate(plan.Baseline*requestsPerVisitor(plan)))
	}
	fmt.Fprintln(w)
	shape := plan.Shape
	if plan.TimeScale != 1 {
		shape += fmt.Sprintf(", time scale %gx", plan.TimeScale)
	}
	fmt.Fprintf(w, "  shape      %s\n", shape)
	fmt.Fprintf(w, "  duration   %s\n", fmtDur(plan.Curve.Duration()))
	fmt.Fprintf(w, "  peak       %s %s (%.1fx baseline) at %s", scenarios.FormatRate(peak), unit, mult, fmtDur(peakAt))
	if plan.Journeys != nil {
		_, peakReq := journeysAt(plan, peak)
		fmt.Fprintf(w, ": %s req/s", scenarios.FormatRate(peakReq))
	}
	fmt.Fprintln(w)
	if plan.Journeys != nil {
		per := requestsPerVisitor(plan)
		fmt.Fprintf(w, "  visitors   %d in total, %.1f requests each: %.0f requests\n", plan.Curve.Total(), per, float64(plan.Curve.Total())*per)
	} else {
		fmt.Fprintf(w, "  requests   %d in total\n", plan.Curve.Total())
	}
	fmt.Fprintf(w, "  sending    %s\n", sendingText(plan))
	fmt.Fprintf(w, "  slo        %s\n", sloText(plan.SLO))
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Stages:")
	for i, s := range plan.Curve.Segments() {
		fmt.Fprintf(w, "  %2d. %-6s %8s → %-8s %s\n", i+1, s.Kind, fmtAt(s.Start), fmtAt(s.Start+s.Duration), stageText(plan, s))
	}
	fmt.Fprintln(w)
	if plan.Journeys != nil {
		writeJourneys(w, plan, peak)
	} else {
		fmt.Fprintln(w, "Request mix:")
		for _, r := range plan.Requests {
			fmt.Fprintf(w, "  %5.1f%%  %-24s %s %s%s\n", 100*share(plan, r), r.Name, r.Method, r.URL.Raw(), layerText(r))
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Planned rate:")
	rateChart(w, plan.Curve, plan.Baseline, unit, 60, 10)
	if part != nil {
		writeShardShare(w, part)
	}
	return nil
}

// planPreview is how many of a shard's first requests `spike plan --shard` shows.
const planPreview = 5

// shardShare works out shard s's share of plan.
func shardShare(plan *scenarios.Plan, s engine.Shard) (*planShardJSON, error) {
	peak, _ := plan.Peak()
	out := &planShardJSON{
		Shard: s.String(), Requests: s.Below(plan.Curve.Total()), PeakRate: peak / float64(s.Parts()),
		Windows: engine.PlannedWindows(plan, s),
	}
	target := plan.Target
	if target == "" || target == "demo" {
		target = "http://target.invalid"
	}
	errEnough := errors.New("enough")
	err := engine.Schedule(plan, target, s, func(p engine.PlannedRequest) error {
		if len(out.First) == planPreview {
			return errEnough
		}
		out.First = append(out.First, planSentJSON{K: p.K, AtMs: msOf(p.At), Name: p.Name, Method: p.Method, URL: p.URL, Body: string(p.Body)})
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return nil, fmt.Errorf("%s: %w", plan.File, err)
	}
	return out, nil
}

// writeShardShare prints a shard's share for a terminal.
func writeShardShare(w io.Writer, s *planShardJSON) {
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Shard %s: %d requests (every request k with k mod N = i), peak %s req/s\n", s.Shard, s.Requests, scenarios.FormatRate(s.PeakRate))
	fmt.Fprint(w, "  per window ")
	for i, n := range s.Windows {
		if i == 20 {
			fmt.Fprintf(w, " … (%d windows)", len(s.Windows))
			break
		}
		fmt.Fprintf(w, " %d", n)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "  first requests:")
	for _, p := range s.First {
		fmt.Fprintf(w, "  %8d  %9.4fs  %-16s %s %s\n", p.K, p.AtMs/1000, p.Name, p.Method, p.URL)
	}
}

func fmtAt(d time.Duration) string { return fmtDur(d) }

func share(p *scenarios.Plan, r *scenarios.Request) float64 {
	sum := 0.0
	for _, q := range p.Requests {
		sum += q.Weight
	}
	if sum == 0 {
		return 0
	}
	return r.Weight / sum
}

func rateText(p *scenarios.Plan, r float64) string {
	if p.Baseline > 0 {
		return fmt.Sprintf("%s %s (%.1fx)", scenarios.FormatRate(r), rateUnit(p), r/p.Baseline)
	}
	return scenarios.FormatRate(r) + " " + rateUnit(p)
}

func stageText(p *scenarios.Plan, s scenarios.Segment) string {
	switch s.Kind {
	case "hold":
		return rateText(p, s.From)
	case "decay":
		return fmt.Sprintf("%s towards %s, half-life %s", rateText(p, s.From), rateText(p, s.To), fmtDur(s.HalfLife))
	case "wave":
		return fmt.Sprintf("%s … %s, period %s", rateText(p, s.Low), rateText(p, s.High), fmtDur(s.Period))
	default:
		return fmt.Sprintf("%s → %s", rateText(p, s.From), rateText(p, s.To))
	}
}

func sloText(s scenarios.SLO) string {
	t := fmt.Sprintf("p95 ≤ %s", fmtMs(s.P95))
	if s.P99 > 0 {
		t += fmt.Sprintf(", p99 ≤ %s", fmtMs(s.P99))
	}
	t += fmt.Sprintf(", errors ≤ %g%%, broken after %d bad windows in a row", 100*s.ErrorRate, s.Sustain)
	return t
}

// msOf is d in milliseconds, as spike's JSON writes durations.
func msOf(d time.Duration) float64 { return float64(d) / 1e6 }
