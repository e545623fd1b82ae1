package main

import (
	"os"
	"strconv"
	"strings"

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
	// Getenv reads the environment; default os.Getenv.
	Getenv func(string) string
}

// shardHelp is the part of `spike run --help` about sharding.
const shardHelp = `Past one machine: --shard i/N (i from 0) sends exactly the requests a single
run would send whose number k has k mod N = i, at the same planned times and
with the same request choice and template values, so N shards together send the
single plan; --shards N takes i from $JOB_COMPLETION_INDEX (a Kubernetes
Indexed Job). Merge the shards' result.json files with 'spike merge'.`

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
