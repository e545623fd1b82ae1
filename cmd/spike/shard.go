package main

import (
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/spikeload/spike/engine"
)

// jobIndexEnv is the variable a Kubernetes Indexed Job sets to each pod's
// completion index.
const jobIndexEnv = "JOB_COMPLETION_INDEX"

// ShardOptions are the flags that make a run one shard of several.
type ShardOptions struct {
	// Shard is --shard i/N.
	Shard string
	// Shards is --shards N: the index comes from JOB_COMPLETION_INDEX.
	Shards int
	// StartAt is --start-at: RFC 3339 or Unix milliseconds.
	StartAt string
	// Getenv reads the environment; default os.Getenv.
	Getenv func(string) string
}

// shardHelp is the part of `spike run --help` about sharding.
const shardHelp = `Past one machine: --shard i/N (i from 0) sends exactly the requests a single
run would send whose number k has k mod N = i, at the same planned times and
with the same request choice and template values, so N shards together send the
single plan; --shards N takes i from $JOB_COMPLETION_INDEX (a Kubernetes
Indexed Job). Merge the shards' result.json files with 'spike merge'.

--start-at TIME (RFC 3339, e.g. 2026-03-14T09:30:00Z, or Unix milliseconds)
starts every shard at one wall-clock instant: spike loads the scenario, opens
its connections and prepares memory shortly before, then waits. A shard that
reaches the instant more than one window late sends nothing and exits 5, rather
than skew the merge. result.json records the actual start, the clock and the
lateness (meta.start).`

// maxStartAhead bounds how far ahead --start-at may be.
const maxStartAhead = 24 * time.Hour

// addStartFlag binds --start-at into o.
func addStartFlag(cmd *cobra.Command, o *ShardOptions) {
	cmd.Flags().StringVar(&o.StartAt, "start-at", "", "start at this wall-clock `TIME` (RFC 3339 or Unix ms), shared by the shards; exit 5 if late by more than a window")
}

// startAt parses --start-at ("" gives the zero time: start now).
func (o *ShardOptions) startAt(now time.Time) (time.Time, error) {
	v := strings.TrimSpace(o.StartAt)
	if v == "" {
		return time.Time{}, nil
	}
	var at time.Time
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		at = time.UnixMilli(ms)
	} else if at, err = time.Parse(time.RFC3339Nano, v); err != nil {
		return time.Time{}, usageErr("--start-at %q: want RFC 3339 (2026-03-14T09:30:00Z) or Unix milliseconds", o.StartAt)
	}
	if at.After(now.Add(maxStartAhead)) {
		return time.Time{}, usageErr("--start-at %s is more than %s ahead", at.UTC().Format(time.RFC3339), maxStartAhead)
	}
	return at, nil
}

func addShardFlags(cmd *cobra.Command, o *ShardOptions) {
	cmd.Flags().StringVar(&o.Shard, "shard", "", "send only shard `i/N` of the plan (i from 0); merge shards with spike merge")
	cmd.Flags().IntVar(&o.Shards, "shards", 0, "split the plan into `N` shards and send the one numbered $"+jobIndexEnv)
}

// resolve returns the shard the flags ask for (the whole run without them).
func (o *ShardOptions) resolve() (engine.Shard, error) {
	switch {
	case o.Shard != "" && o.Shards != 0:
		return engine.Shard{}, usageErr("--shard and --shards: give one or the other")
	case o.Shard != "":
		s, err := engine.ParseShard(o.Shard)
		if err != nil {
			return engine.Shard{}, usageErr("--shard: %v", err)
		}
		return s, nil
	case o.Shards != 0:
		getenv := o.Getenv
		if getenv == nil {
			getenv = os.Getenv
		}
		v := strings.TrimSpace(getenv(jobIndexEnv))
		if v == "" {
			return engine.Shard{}, usageErr("--shards %d: $%s is not set (it is set in a Kubernetes Indexed Job; elsewhere use --shard i/N)", o.Shards, jobIndexEnv)
		}
		i, err := strconv.Atoi(v)
		if err != nil {
			return engine.Shard{}, usageErr("--shards %d: $%s=%q is not a whole number", o.Shards, jobIndexEnv, v)
		}
		s, err := engine.NewShard(i, o.Shards)
		if err != nil {
			return engine.Shard{}, usageErr("--shards %d with $%s=%d: %v", o.Shards, jobIndexEnv, i, err)
		}
		return s, nil
	}
	return engine.Shard{}, nil
}
