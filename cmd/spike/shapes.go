package main

import (
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/spikeload/spike/scenarios"
)

func newShapesCmd(ios *IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "shapes [PRESET...]",
		Short: "List the built-in traffic shapes",
		Long: `List the built-in traffic shapes (presets) with the real event each one models,
its default peak and length, and a preview of its curve. Use one in a scenario
with "shape: NAME", or "shape: {preset: NAME, peak: 8x, duration: 2m}".
Name presets to list only those.`,
		Example: `  spike shapes
  spike shapes producthunt viral`,
		RunE: func(cmd *cobra.Command, args []string) error {
			w := ios.Out
			presets := scenarios.Presets()
			for _, a := range args {
				if !slices.ContainsFunc(presets, func(p scenarios.Preset) bool { return p.Name == a }) {
					return &flagError{fmt.Errorf("spike shapes: unknown preset %q", a)}
				}
			}
			for _, p := range presets {
				if len(args) > 0 && !slices.Contains(args, p.Name) {
					continue
				}
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
