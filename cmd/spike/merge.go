package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/k8s"
	"github.com/spikeload/spike/result"
	"github.com/spikeload/spike/scenarios"
)

// MergeOptions holds `spike merge`'s flags and arguments.
type MergeOptions struct {
	IO *IOStreams
	// Inputs are result.json files, or folders holding them.
	Inputs []string
	OutDir string
	// Gate holds the release-gate flags, as for spike run.
	Gate GateOptions
	// Now gives the wall-clock time (for the default output folder name).
	Now func() time.Time
}

func newMergeCmd(ios *IOStreams, runF func(context.Context, *MergeOptions) error) *cobra.Command {
	opts := &MergeOptions{IO: ios, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "merge RESULT.json... | DIR",
		Short: "Merge the results of a sharded run into one result, report and verdict",
		Long: `Merge the result.json files of the shards of one run (spike run --shard i/N)
into one result, as if one machine had sent the whole plan: window by window
the counts, statuses, error kinds and samples, bytes and Server-Timing add up,
and the latency histograms merge without loss. Then the merged result is judged
and reported exactly as spike run does: result.json and report.html in --out,
the verdict, and with --gate, --junit and --summary the release gate.

A folder argument stands for every result.json beneath it (or, when there is
none, every .json file in it), as CI artifacts are downloaded. A file may also
be a shard's log holding its result (spike run --print-result, as pods of
spike k8s manifests write it).

spike merge refuses (exit 2) results of different plans (a scenario, an
override or the target differ: meta.plan_hash), duplicate shards, results that
are not shards, and histograms of another geometry. A missing shard is named
in the result; its share of every window counts as planned and not sent, so
the verdict is inconclusive (exit 4 with --gate).

` + gateHelp + `

Exit codes: 0 ok (with --gate: the gate passed), 1 runtime error, 2 bad usage
or results that cannot be merged, 3 gate failed, 4 gate inconclusive, 130 a
shard was interrupted (its result is partial).`,
		Example: `  spike merge shard-0/result.json shard-1/result.json --out merged
  spike merge artifacts/ --out merged --gate --junit junit.xml --summary summary.md`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr("expected result files or a folder of them")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Inputs = args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runMerge(opts)
		},
	}
	cmd.Flags().StringVarP(&opts.OutDir, "out", "o", "", "folder for the merged result.json and report.html (default spike-results/NAME-merged-TIMESTAMP)")
	addGateFlags(cmd, &opts.Gate)
	return cmd
}

// resultFiles expands the inputs: files as given, folders to the
// result.json files beneath them (or their .json files), sorted.
func resultFiles(inputs []string) ([]string, error) {
	var files []string
	for _, in := range inputs {
		st, err := os.Stat(in)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, in)
			continue
		}
		var found, top []string
		err = filepath.WalkDir(in, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			if d.Name() == "result.json" {
				found = append(found, p)
			} else if filepath.Dir(p) == filepath.Clean(in) && strings.HasSuffix(d.Name(), ".json") {
				top = append(top, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			found = top
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: no result.json beneath it", in)
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, nil
}

func runMerge(opts *MergeOptions) error {
	files, err := resultFiles(opts.Inputs)
	if err != nil {
		return usageErr("merge: %v", err)
	}
	var parts []engine.ShardResult
	for _, f := range files {
		r, err := readShardResult(f)
		if err != nil {
			return usageErr("merge: %v", err)
		}
		parts = append(parts, engine.ShardResult{Name: f, Result: r})
	}
	return mergeAndDeliver(opts.IO, parts, opts.OutDir, opts.Now, &opts.Gate, false)
}

// readShardResult reads a result.json, or a pod's log holding one
// (spike run --print-result).
func readShardResult(path string) (*engine.Result, error) {
	b, err := scenarios.ReadFileMax(path, result.MaxSize)
	if err != nil {
		return nil, fmt.Errorf("read result: %w", err)
	}
	if k8s.IsLog(b) {
		return k8s.ReadResult(path, bytes.NewReader(b))
	}
	doc, err := result.Parse(path, b)
	if err != nil {
		return nil, err
	}
	return doc.ShardRun(path)
}

// mergeAndDeliver merges the shards' results and ends like spike run:
// outputs in dir (default from now), verdict, gate and exit code. With
// keepShards the shards' own results are written to dir/shards too.
func mergeAndDeliver(ios *IOStreams, parts []engine.ShardResult, dir string, now func() time.Time, gate *GateOptions, keepShards bool) error {
	res, err := engine.MergeShards(parts)
	if err != nil {
		if errors.Is(err, engine.ErrMergeRefused) {
			return usageErr("merge: %v", err)
		}
		return err
	}
	plan, err := mergedPlan(res)
	if err != nil {
		return usageErr("merge: %v", err)
	}
	if err := gate.prepare(plan); err != nil {
		return err
	}
	n := len(res.Meta.Shards) + len(res.Meta.MissingShards)
	fmt.Fprintf(ios.ErrOut, "spike: merged %d of %d shards of %s against %s\n", len(res.Meta.Shards), n, res.Meta.Scenario, res.Meta.Target)
	if len(res.Meta.MissingShards) > 0 {
		fmt.Fprintf(ios.ErrOut, "spike: missing shard %s: the plan was not sent in full\n", strings.Join(res.Meta.MissingShards, ", "))
	}
	out := outDir(dir, res.Meta.Scenario+"-merged", now)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("create output folder: %w", err)
	}
	if keepShards {
		if err := writeShardResults(filepath.Join(out, "shards"), parts); err != nil {
			return err
		}
	}
	return deliver(ios, plan, res, out, gate, nil)
}

// mergedPlan is as much of the plan as the gate needs, rebuilt from what
// the shards recorded: the curve, the baseline and the gate section.
func mergedPlan(res *engine.Result) (*scenarios.Plan, error) {
	curve, err := scenarios.NewCurve(res.Plan.Segments)
	if err != nil {
		return nil, fmt.Errorf("the recorded plan: %w", err)
	}
	p := &scenarios.Plan{
		Name: res.Meta.Scenario, File: res.Meta.ScenarioFile, Target: res.Meta.Target, Baseline: res.Plan.Baseline,
		TimeScale: res.Plan.TimeScale, Shape: res.Plan.Shape, Curve: curve, SLO: res.Plan.SLO, Options: res.Plan.Options,
	}
	if p.File == "" {
		p.File = res.Meta.Scenario
	}
	if res.Plan.Gate != nil {
		p.Gate = *res.Plan.Gate
	}
	return p, nil
}
