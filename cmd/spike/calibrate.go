package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/scenarios"
)

// CalibrateOptions holds `spike calibrate`'s flags.
type CalibrateOptions struct {
	IO          *IOStreams
	Duration    time.Duration
	Connections int
	// File is where the measured ceiling is kept; default ceilingFile().
	File string
	Now  func() time.Time
}

// Ceiling is a measured generator ceiling, kept between runs.
type Ceiling struct {
	// RPS is the most requests per second spike sent on this machine.
	RPS         float64   `json:"rps"`
	Connections int       `json:"connections"`
	CPUs        int       `json:"cpus"`
	Measured    time.Time `json:"measured"`
	Version     string    `json:"version"`
}

// ceilingWarnShare is the share of the ceiling above which a plan's peak
// draws a warning before a run.
const ceilingWarnShare = 0.8

func newCalibrateCmd(ios *IOStreams, runF func(context.Context, *CalibrateOptions) error) *cobra.Command {
	opts := &CalibrateOptions{IO: ios, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "calibrate",
		Short: "Measure how many requests per second this machine can send",
		Long: `Measure this machine's generator ceiling: spike sends requests as fast as it can,
for --duration, to a minimal in-process server on a loopback port, and prints the
rate it reached. The figure is kept (in the user cache folder) so that 'spike run'
and 'spike find' can warn before a plan asks for more than 80% of it; past that
point windows will be flagged generator_bound and judged inconclusive rather
than blamed on the target.

The in-process server shares the machine with spike, so the ceiling is a lower
bound of what spike can send to a target on another machine.`,
		Example: `  spike calibrate
  spike calibrate --duration 5s --connections 128`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Duration <= 0 || opts.Duration > 10*time.Minute {
				return usageErr("--duration must be between 1ns and 10m, got %s", opts.Duration)
			}
			if opts.Connections < 1 || opts.Connections > 100000 {
				return usageErr("--connections must be between 1 and 100000, got %d", opts.Connections)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runCalibrate(cmd.Context(), opts)
		},
	}
	cmd.Flags().DurationVar(&opts.Duration, "duration", 10*time.Second, "how long to measure")
	cmd.Flags().IntVar(&opts.Connections, "connections", 64, "requests in flight (and connections)")
	return cmd
}

// ceilingFile is where the measured ceiling is kept.
func ceilingFile() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "spike", "ceiling.json")
}

func runCalibrate(ctx context.Context, opts *CalibrateOptions) error {
	raiseFileLimit()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("calibrate: %w", err)
	}
	body := []byte("ok")
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	// A plan far past what one machine can send: the curve is never met,
	// so the requests sent are the ceiling.
	yaml := fmt.Sprintf("name: calibrate\nbaseline: 1\nstages: [{hold: {rate: %d, duration: %s}}]\nrequests: [{url: /}]\noptions: {connections: %d, timeout: 5s}\n",
		scenarios.MaxRate, opts.Duration, opts.Connections)
	plan, err := scenarios.Parse("calibrate.yaml", []byte(yaml), scenarios.Overrides{})
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "spike: measuring for %s with %d connections against an in-process loopback server…\n", opts.Duration, opts.Connections)
	release := gcFloor()
	res, err := engine.Run(ctx, engine.Config{Plan: plan, Target: "http://" + ln.Addr().String(), Version: currentVersion().Version})
	release()
	if err != nil {
		return err
	}
	var sent, errs uint64
	var span time.Duration
	for _, w := range res.Windows {
		sent += w.Sent
		errs += w.Errors
		span = w.End
	}
	if span <= 0 || sent == 0 {
		return errors.New("calibrate: nothing was sent")
	}
	if res.Meta.Partial {
		return withCode(exitInterrupted, errors.New("interrupted: no ceiling recorded"))
	}
	c := Ceiling{RPS: float64(sent) / span.Seconds(), Connections: opts.Connections, CPUs: runtime.NumCPU(), Measured: opts.Now().UTC(), Version: currentVersion().Version}
	fmt.Fprintf(opts.IO.Out, "ceiling: %.0f req/s (%d requests in %s, %d connections, %d CPUs, %d errors)\n",
		c.RPS, sent, span.Round(time.Millisecond), opts.Connections, c.CPUs, errs)
	file := opts.File
	if file == "" {
		file = ceilingFile()
	}
	if err := writeCeiling(file, c); err != nil {
		fmt.Fprintf(opts.IO.ErrOut, "spike: could not keep the ceiling: %v\n", err)
		return nil
	}
	fmt.Fprintf(opts.IO.ErrOut, "kept in %s; spike run and spike find warn above %.0f req/s (80%%)\n", file, ceilingWarnShare*c.RPS)
	return nil
}

func writeCeiling(path string, c Ceiling) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// readCeiling returns the kept ceiling, if any.
func readCeiling(path string) (Ceiling, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Ceiling{}, false
	}
	var c Ceiling
	if json.Unmarshal(b, &c) != nil || c.RPS <= 0 {
		return Ceiling{}, false
	}
	return c, true
}

// warnIfOverCeiling warns before a run that asks for a peak rate (req/s)
// above 80% of this machine's measured ceiling (spike calibrate). file ""
// means the default ceiling file.
func warnIfOverCeiling(ios *IOStreams, peak float64, file string) {
	if file == "" {
		file = ceilingFile()
	}
	c, ok := readCeiling(file)
	if !ok || peak <= ceilingWarnShare*c.RPS {
		return
	}
	fmt.Fprintf(ios.ErrOut, "spike: warning: this plan peaks at %s req/s, over 80%% of what this machine can send (%.0f req/s, measured by spike calibrate on %s).\n"+
		"  Windows where spike falls behind are flagged generator_bound and never blamed on the target. To send more,\n"+
		"  split the load: run it as N shards on several machines (spike run --shard i/N --start-at TIME) and merge\n"+
		"  their results with spike merge; or raise options.connections if the target is slow.\n",
		scenarios.FormatRate(peak), c.RPS, c.Measured.Format("2006-01-02"))
}
