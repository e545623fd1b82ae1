package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/spikeload/spike/analysis"
	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/result"
	"github.com/spikeload/spike/scenarios"
)

// CompareOptions holds `spike compare`'s flags and arguments.
type CompareOptions struct {
	IO *IOStreams
	// Old and New are the result.json files, the earlier one first.
	Old, New string
	// MaxRegression is the threshold as written: "10%" or "0.1".
	MaxRegression string
	// JSON prints the comparison as JSON instead of tables.
	JSON bool
}

// defaultMaxRegression is --max-regression's default, as written.
const defaultMaxRegression = "10%"

// newCompareCmd is `spike compare OLD.json NEW.json [--max-regression 10%]`.
func newCompareCmd(ios *IOStreams, runF func(context.Context, *CompareOptions) error) *cobra.Command {
	opts := &CompareOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "compare OLD.json NEW.json",
		Short: "Compare two runs and tell whether the newer one regressed",
		Long: `Compare two results written by 'spike run' (the earlier one first): capacity,
breakpoint, p95 and error rate at baseline, for the whole target, per request
and per layer, with the change of each. Both runs are judged afresh by this
version of spike.

A figure regressed when it moved the bad way (lower capacity or breakpoint,
higher p95 or error rate) by more than --max-regression of its old value;
p95 changes under 5 ms and error-rate changes under half a point are noise.
Breaking where the old run did not is a regression.

Exit codes: 0 no regression, 2 bad usage or unreadable result, 3 regressed past
--max-regression, 4 inconclusive (either run could not send its load or could
not reach its target, so its figures prove nothing).`,
		Example: `  spike compare last/result.json spike-results/smoke-20250314-093000/result.json
  spike compare old.json new.json --max-regression 5%
  spike compare old.json new.json --json`,
		Args: exactArgs(2, "two result files (OLD.json NEW.json)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Old, opts.New = args[0], args[1]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runCompare(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.MaxRegression, "max-regression", defaultMaxRegression, "the largest allowed change the bad way, e.g. 10% or 0.1")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the comparison as JSON")
	return cmd
}

func runCompare(_ context.Context, opts *CompareOptions) error {
	maxReg, err := parseFraction(opts.MaxRegression)
	if err != nil {
		return usageErr("--max-regression: %v", err)
	}
	old, err := readRun(opts.Old)
	if err != nil {
		return inputErr(err)
	}
	cur, err := readRun(opts.New)
	if err != nil {
		return inputErr(err)
	}
	c := analysis.Compare(old, cur, maxReg)
	if opts.JSON {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(c); err != nil {
			return err
		}
	} else if err := writeComparison(termSafe(opts.IO.redacting(nil).Out), &c, opts.Old, opts.New); err != nil {
		return err
	}
	switch c.Verdict {
	case analysis.CompareRegressed:
		return withCode(exitGateFailed, fmt.Errorf("regressed past %s: %s", fracText(maxReg), strings.Join(c.Regressions, "; ")))
	case analysis.CompareInconclusive:
		return withCode(exitInconclusive, errors.New("inconclusive: a run's figures prove nothing (see the notes)"))
	}
	return nil
}

// parseFraction parses "10%" or "0.1" the way scenarios read percentages.
func parseFraction(s string) (float64, error) {
	var f scenarios.Fraction
	if err := f.UnmarshalText([]byte(s)); err != nil {
		return 0, err
	}
	return f.Parse()
}

// writeComparison writes the comparison as tables: the whole target, then
// per request and per layer, then the verdict.
func writeComparison(w io.Writer, c *analysis.Comparison, oldPath, newPath string) error {
	bw := bufio.NewWriter(w)
	run := func(label, path string, r analysis.RunInfo) {
		when := ""
		if !r.Started.IsZero() {
			when = r.Started.Local().Format("2006-01-02 15:04") + ", "
		}
		fmt.Fprintf(bw, "%s %s: %s, %s%s (%s)\n", label, oneLine(path), oneLine(r.Scenario), when, oneLine(r.Target), r.Status)
	}
	run("old", oldPath, c.Old)
	run("new", newPath, c.New)
	fmt.Fprintln(bw)

	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	row := func(name string, m analysis.Metric) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", name, m.Label, m.ValueText(m.Old), m.ValueText(m.New), orDash(m.DeltaText()), trendWord(m.Trend))
	}
	fmt.Fprintln(tw, "\tmetric\told\tnew\tchange\ttrend")
	for _, m := range c.Metrics() {
		row("target", m)
	}
	for _, e := range c.Requests {
		for _, m := range e.Metrics() {
			row("request "+oneLine(e.Name), m)
		}
	}
	for _, e := range c.Layers {
		for _, m := range e.Metrics() {
			row("layer "+e.Name, m)
		}
	}
	tw.Flush()

	fmt.Fprintln(bw)
	fmt.Fprintf(bw, "Verdict: %s (threshold %s)\n", strings.ToUpper(string(c.Verdict)), fracText(c.MaxRegression))
	for _, r := range c.Regressions {
		fmt.Fprintf(bw, "  worse:  %s\n", r)
	}
	for _, r := range c.Improvements {
		fmt.Fprintf(bw, "  better: %s\n", r)
	}
	for _, n := range c.Notes {
		fmt.Fprintf(bw, "  note:   %s\n", n)
	}
	return bw.Flush()
}

// trendWord marks a metric's trend in the table: worse ones stand out.
func trendWord(t analysis.Trend) string {
	switch t {
	case analysis.TrendWorse:
		return "WORSE"
	case analysis.TrendBetter:
		return "better"
	case analysis.TrendSame:
		return "same"
	}
	return "-"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// readRun reads a result.json (result.ReadFile) for its run alone, as
// compare and the gate's baseline need it.
func readRun(path string) (*engine.Result, error) {
	doc, err := result.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return doc.Run(), nil
}
