package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/spikeload/spike/analysis"
	"github.com/spikeload/spike/charts"
	"github.com/spikeload/spike/result"
)

// ReportOptions holds `spike report`'s flags and arguments.
type ReportOptions struct {
	IO *IOStreams
	// Result is the result.json to render.
	Result string
	// Out is the HTML file to write; default report.html next to Result.
	Out string
}

// newReportCmd is `spike report RESULT.json [--out FILE]`.
func newReportCmd(ios *IOStreams) *cobra.Command {
	return newReportCmdWith(ios, nil)
}

// newReportCmdWith is newReportCmd with runF replacing runReport (tests).
func newReportCmdWith(ios *IOStreams, runF func(*ReportOptions) error) *cobra.Command {
	opts := &ReportOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "report RESULT.json",
		Short: "Re-analyse a saved result and render its HTML report",
		Long: `Read a result.json written by 'spike run', judge it again with this version of
spike (verdict, breakpoint, capacity, breakage order, recommendations), and
write the HTML report: one self-contained file that opens offline and makes
no network request. The report's path is printed when it is written.

By default the report is written as report.html next to the result.`,
		Example: `  spike report spike-results/launch-20250314-093000/result.json
  spike report result.json --out /tmp/launch.html`,
		Args: exactArgs(1, "one result file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Result = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runReport(opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Out, "out", "o", "", "HTML file to write (default report.html next to the result)")
	return cmd
}

func runReport(opts *ReportOptions) error {
	doc, err := result.ReadFile(opts.Result)
	if err != nil {
		return inputErr(err)
	}
	if doc, err = redactResult(nil, doc); err != nil { // results from older versions
		return err
	}
	res := doc.Run()
	a := analysis.Analyze(res, analysis.Options{})
	if doc.Search != nil {
		// A spike find result: judge it by its search, not as one long ramp.
		a = doc.Search.Analyze(res, analysis.Options{})
	}
	out := opts.Out
	if out == "" {
		out = filepath.Join(filepath.Dir(opts.Result), "report.html")
	}
	if err := writeFileAtomic(out, nil, func(w io.Writer) error { return charts.Render(w, res, a) }); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := a.WriteVerdict(termSafe(opts.IO.redacting(nil).Out)); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "report: %s\n", out)
	return nil
}
