package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/spikeload/spike/scenarios"
)

func newShapesCmd(ios *IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "shapes",
		Short: "List the built-in traffic shapes",
		Long: `List the built-in traffic shapes (presets) with the real event each one models,
its default peak and length, and a preview of its curve. Use one in a scenario
with "shape: NAME", or "shape: {preset: NAME, peak: 8x, duration: 2m}".`,
		Example: `  spike shapes`,
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			w := ios.Out
			for _, p := range scenarios.Presets() {
				c, err := scenarios.NewCurve(p.Segments(1, p.Peak, p.Duration))
				if err != nil {
					return err
				}
				fmt.Fprintf(w, "%-12s %s  peak %gx, %s\n", p.Name, sparkline(c, 32), p.Peak, fmtDur(p.Duration))
				fmt.Fprintf(w, "%-12s %s\n", "", p.Summary)
			}
			return nil
		},
	}
}
