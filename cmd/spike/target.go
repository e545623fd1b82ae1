package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/spikeload/spike/examples/mvpapp"
)

// TargetOptions holds `spike target`'s flags.
type TargetOptions struct {
	IO   *IOStreams
	Addr string
	Fix  string
}

func newTargetCmd(ios *IOStreams, runF func(context.Context, *TargetOptions) error) *cobra.Command {
	opts := &TargetOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "target",
		Short: "Serve the built-in example app until Ctrl-C",
		Long: `Serve the example app: a small web app with the typical MVP architecture (one
process, one SQLite database behind a pool of 4 connections, no cache, a
synchronous call to a rate-limited email API, sessions in local memory behind
one lock, static files served by the app). Its layers break in a known order
under load: the database first, at about 3x the producthunt.yaml baseline.

--fix switches on remedies from the fix order, so you can see what each buys:
  cdn       static files with long Cache-Control, compressed, a small WebP hero
  cache     hot reads cached (profiles 5 min, feed 1 min)
  queue     signup emails sent from a queue with retry and backoff
  sessions  a sharded session store instead of one lock
  scale     4 instances' worth of database connections and request slots`,
		Example: `  spike target
  spike target --addr 127.0.0.1:9090 --fix cache,cdn`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runTarget(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Addr, "addr", "127.0.0.1:8080", "address to listen on")
	cmd.Flags().StringVar(&opts.Fix, "fix", "", "comma-separated fixes: cdn, cache, queue, sessions, scale")
	return cmd
}

func demoConfig(fix string) (mvpapp.Config, error) {
	fixes, err := mvpapp.ParseFixes(fix)
	if err != nil {
		return mvpapp.Config{}, usageErr("--fix: %v", err)
	}
	return mvpapp.DefaultConfig().WithFixes(fixes...), nil
}

func runTarget(ctx context.Context, opts *TargetOptions) error {
	cfg, err := demoConfig(opts.Fix)
	if err != nil {
		return err
	}
	srv, err := mvpapp.Start(ctx, cfg, opts.Addr)
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Fprintf(opts.IO.Out, "serving the example app at %s (Ctrl-C to stop)\n", srv.URL())
	fmt.Fprint(opts.IO.Out, cfg.Describe())
	<-ctx.Done()
	fmt.Fprintln(opts.IO.ErrOut, "stopping")
	return nil
}

// startDemo starts the example app on a free loopback port for a run.
func startDemo(ctx context.Context, ios *IOStreams, fix string) (*mvpapp.Server, error) {
	cfg, err := demoConfig(fix)
	if err != nil {
		return nil, err
	}
	srv, err := mvpapp.Start(context.WithoutCancel(ctx), cfg, "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start the example app: %w", err)
	}
	fixes := fix
	if fixes == "" {
		fixes = "none"
	}
	fmt.Fprintf(ios.ErrOut, "spike: started the example app at %s (fixes: %s)\n", srv.URL(), fixes)
	return srv, nil
}
