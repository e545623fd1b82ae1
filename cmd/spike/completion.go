package main

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/spikeload/spike/examples/mvpapp"
	"github.com/spikeload/spike/scenarios"
)

// addCompletions registers shell completion for arguments and flag values
// on the commands under root: scenario files for commands that take one,
// result files for report and compare, preset names for shapes, fix names
// for --fix, folders for --out. Cobra's own `completion` command writes the
// shell scripts (see README, "Shell completion").
func addCompletions(root *cobra.Command) {
	for _, c := range root.Commands() {
		switch c.Name() {
		case "run", "plan", "find":
			c.ValidArgsFunction = oneArg(completeExt("yaml", "yml"))
		case "report":
			c.ValidArgsFunction = oneArg(completeExt("json"))
		case "compare":
			c.ValidArgsFunction = upTo(2, completeExt("json"))
		case "shapes":
			c.ValidArgsFunction = completePresets
		}
		if c.Flags().Lookup("fix") != nil {
			_ = c.RegisterFlagCompletionFunc("fix", completeFixes)
		}
		for _, f := range []string{"out", "baseline-result", "junit", "summary"} {
			if c.Flags().Lookup(f) == nil {
				continue
			}
			switch f {
			case "out":
				_ = c.RegisterFlagCompletionFunc(f, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
					return nil, cobra.ShellCompDirectiveFilterDirs
				})
			case "baseline-result":
				_ = c.RegisterFlagCompletionFunc(f, completeExt("json"))
			default:
				_ = c.RegisterFlagCompletionFunc(f, cobra.NoFileCompletions)
			}
		}
	}
}

type completeFunc = func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective)

// completeExt lets the shell complete files with the given extensions (and
// folders to reach them).
func completeExt(exts ...string) completeFunc {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return exts, cobra.ShellCompDirectiveFilterFileExt
	}
}

// oneArg completes the first argument with f and nothing after it.
func oneArg(f completeFunc) completeFunc { return upTo(1, f) }

func upTo(n int, f completeFunc) completeFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) >= n {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return f(cmd, args, toComplete)
	}
}

// completePresets offers the preset names not already given, each with its
// one-line summary.
func completePresets(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	var out []string
	for _, p := range scenarios.Presets() {
		if strings.HasPrefix(p.Name, toComplete) && !slices.Contains(args, p.Name) {
			out = append(out, cobra.CompletionWithDesc(p.Name, p.Summary))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeFixes offers the example app's fixes for a comma-separated list,
// after the ones already typed.
func completeFixes(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	done, last := "", toComplete
	if i := strings.LastIndexByte(toComplete, ','); i >= 0 {
		done, last = toComplete[:i+1], toComplete[i+1:]
	}
	have := strings.Split(done, ",")
	var out []string
	for _, f := range mvpapp.Fixes() {
		if strings.HasPrefix(string(f), last) && !slices.Contains(have, string(f)) {
			out = append(out, done+string(f))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}
