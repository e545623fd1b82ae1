package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/spikeload/spike/examples"
	"github.com/spikeload/spike/scenarios"
)

// DemoOptions holds `spike demo`'s flags.
type DemoOptions struct {
	IO       *IOStreams
	Fix      string
	Journeys bool
	OutDir   string
	Duration time.Duration
	Now      func() time.Time
}

// The embedded scenarios spike demo replays: a request mix, or with
// --journeys, visitors' journeys.
const (
	demoScenario         = "producthunt.yaml"
	demoJourneysScenario = "launch-journeys.yaml"
)

func newDemoCmd(ios *IOStreams, runF func(context.Context, *DemoOptions) error) *cobra.Command {
	opts := &DemoOptions{IO: ios, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Replay a Product Hunt launch against the built-in example app (about 90 s)",
		Long: `Start the built-in example app on a free loopback port, replay
examples/producthunt.yaml against it (a launch day compressed into 90 seconds,
peaking at 8x the baseline), and print what broke first, at what rate, and what
to fix first. Nothing to install, nothing leaves this machine.

Try --fix cache to see how far a cache for hot reads moves the breakpoint.

With --journeys it replays examples/launch-journeys.yaml instead: visitors
arriving at up to 20 per second, each landing, logging in or signing up, and
reading the feed three times with pauses, carrying the session cookie from
step to step (about 90 s). The database breaks first; with --fix cache, the
session store does.`,
		Example: `  spike demo
  spike demo --fix cache
  spike demo --journeys --fix cache
  spike demo --duration 60s --out demo-results`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runDemo(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Fix, "fix", "", "switch on example-app fixes: cdn, cache, queue, sessions, scale")
	cmd.Flags().BoolVar(&opts.Journeys, "journeys", false, "replay visitors' journeys with sessions (examples/launch-journeys.yaml) instead of a request mix")
	cmd.Flags().StringVarP(&opts.OutDir, "out", "o", "", "folder for the results (default spike-results/demo-TIMESTAMP)")
	cmd.Flags().DurationVar(&opts.Duration, "duration", 0, "compress the launch into this length (default 90s)")
	return cmd
}

func runDemo(ctx context.Context, opts *DemoOptions) error {
	file, name := demoScenario, "demo"
	if opts.Journeys {
		file, name = demoJourneysScenario, "demo-journeys"
	}
	data, err := examples.Scenarios.ReadFile(file)
	if err != nil {
		return err
	}
	if _, err := demoConfig(opts.Fix); err != nil {
		return err
	}
	plan, err := scenarios.Parse(file, data, scenarios.Overrides{Target: "demo", Duration: opts.Duration})
	if err != nil {
		return err
	}
	if opts.Fix != "" {
		name += "-" + safeName(opts.Fix)
	}
	return runPlanTo(ctx, opts.IO, plan, opts.Fix, outDir(opts.OutDir, name, opts.Now))
}
