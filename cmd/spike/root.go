package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/spikeload/spike/scenarios"
)

// Exit codes, decided in Main and nowhere else.
const (
	exitOK           = 0
	exitError        = 1
	exitUsage        = 2
	exitGateFailed   = 3
	exitInconclusive = 4
	exitLate         = 5
	exitInterrupted  = 130
)

// IOStreams are a command's input and outputs. Data goes to Out, status to
// ErrOut; IsTTY says whether ErrOut is a terminal (live status line).
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	IsTTY  bool
	// Redactor masks secrets in the files a command writes; Out and ErrOut
	// already pass through it (see redacting). nil masks by key only.
	Redactor *scenarios.Redactor
}

// exitError carries a specific exit code out of a command.
type codeError struct {
	code int
	err  error
	// noHint leaves out the hint to --help (a bad file, not bad usage).
	noHint bool
}

func (e *codeError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e *codeError) Unwrap() error { return e.err }

// usageErr marks err as bad usage (exit 2, with a hint to --help).
func usageErr(format string, args ...any) error {
	return &codeError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// withCode attaches an exit code to err (err may be nil for a silent exit).
func withCode(code int, err error) error { return &codeError{code: code, err: err} }

// Main runs spike with os.Args and returns the process exit code.
func Main() int {
	ctx, stop := interrupts(context.Background())
	defer stop()
	ios := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, IsTTY: term.IsTerminal(int(os.Stderr.Fd()))}
	return run(ctx, ios, os.Args[1:])
}

// run executes the command line args and maps the outcome to an exit code.
func run(ctx context.Context, ios *IOStreams, args []string) int {
	root := newRootCmd(ios)
	root.SetArgs(args)
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	// Whatever a command returns, credentials in URLs and secret
	// parameters are not printed (commands mask their plan's values too).
	ios = ios.redacting(nil)
	var ce *codeError
	switch {
	case errors.As(err, &ce):
		if ce.err != nil {
			fmt.Fprintln(ios.ErrOut, "spike:", ce.err)
		}
		if ce.code == exitUsage && !ce.noHint && !scenarios.IsLoadError(ce.err) {
			fmt.Fprintln(ios.ErrOut, "Run 'spike --help' for usage.")
		}
		return ce.code
	case scenarios.IsLoadError(err):
		fmt.Fprintln(ios.ErrOut, err)
		return exitUsage
	case isFlagError(err), strings.HasPrefix(err.Error(), "unknown command"):
		fmt.Fprintln(ios.ErrOut, "spike:", err)
		fmt.Fprintln(ios.ErrOut, "Run 'spike --help' for usage.")
		return exitUsage
	default:
		fmt.Fprintln(ios.ErrOut, "spike:", err)
		return exitError
	}
}

// flagError marks errors from flag and argument parsing.
type flagError struct{ error }

func isFlagError(err error) bool {
	var fe *flagError
	return errors.As(err, &fe)
}

func newRootCmd(ios *IOStreams) *cobra.Command {
	root := &cobra.Command{
		Use:   "spike",
		Short: "Find what breaks first when your traffic goes viral",
		Long: `spike replays viral traffic shapes (a Product Hunt launch, a 500% burst, a tweet,
a newsletter send, "10x tomorrow") against your app, measures latency and errors
honestly (open model, no coordinated omission), finds the rate at which your SLO
first fails, names the layer that broke first, and says what to fix first.`,
		Example: `  # See spike find a breakpoint in the built-in example app
  spike demo

  # Preview a scenario's traffic curve, then run it
  spike plan examples/producthunt.yaml
  spike run examples/producthunt.yaml --target http://127.0.0.1:8080`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       currentVersion().String(),
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return &flagError{err} })
	root.AddCommand(newDemoCmd(ios, nil), newRunCmd(ios, nil), newPlanCmd(ios, nil), newShapesCmd(ios), newTargetCmd(ios, nil), newReportCmd(ios), newCompareCmd(ios, nil), newFindCmd(ios, nil), newCalibrateCmd(ios, nil))
	root.AddCommand(newSchemaCmd(ios, nil), newImportCmd(ios, nil))
	root.AddCommand(newMergeCmd(ios, nil), newK8sCmd(ios, nil, nil))
	addCompletions(root)
	return root
}

// exactArgs is cobra.ExactArgs with spike's usage exit code.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return &flagError{fmt.Errorf("%s: expected %s, got %d argument(s)", cmd.CommandPath(), what, len(args))}
		}
		return nil
	}
}

// hurryKey keys the channel closed on a second interrupt (see interrupts).
type hurryKey struct{}

// interrupts returns a context cancelled on the first Ctrl-C (or SIGTERM):
// a run stops sending and finishes the requests in flight. A second one
// closes the context's hurry channel (hurryOf): the run stops waiting and
// writes what it has at once. A third exits at once.
func interrupts(parent context.Context) (context.Context, func()) {
	sigs := make(chan os.Signal, 3)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	hurry := make(chan struct{})
	ctx, cancel := context.WithCancel(context.WithValue(parent, hurryKey{}, (<-chan struct{})(hurry)))
	done := make(chan struct{})
	go func() {
		for n := 1; ; n++ {
			select {
			case <-sigs:
			case <-done:
				return
			}
			switch n {
			case 1:
				cancel()
			case 2:
				close(hurry)
			default:
				os.Exit(exitInterrupted)
			}
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}

// hurryOf returns the channel closed on a second interrupt, or nil.
func hurryOf(ctx context.Context) <-chan struct{} {
	h, _ := ctx.Value(hurryKey{}).(<-chan struct{})
	return h
}
