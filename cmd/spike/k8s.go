package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	batchv1client "k8s.io/client-go/kubernetes/typed/batch/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/k8s"
	"github.com/spikeload/spike/result"
	"github.com/spikeload/spike/scenarios"
)

// K8sOptions holds the flags of `spike k8s manifests` and `spike k8s run`.
type K8sOptions struct {
	IO        *IOStreams
	File      string
	Overrides scenarios.Overrides
	Baseline  string
	Shards    int
	Image     string
	Namespace string
	Name      string
	// Lead is how long after rendering the shards start.
	Lead time.Duration
	// Now gives the wall-clock time.
	Now func() time.Time

	// For spike k8s run:
	OutDir     string
	Gate       GateOptions
	Kubeconfig string
	Context    string
	// Client returns the cluster's client and the kubeconfig's namespace;
	// default: from the kubeconfig (tests use a fake clientset).
	Client func(o *K8sOptions) (k8s.Clients, string, error)
	// Runner is set up by runK8sRun; tests may replace its log reader.
	Runner *k8s.Runner
}

const k8sHelp = `The scenario goes into a ConfigMap (with the files its body_file entries
name); an Indexed Job runs N pods, one shard each (spike run --shards N, the
index from JOB_COMPLETION_INDEX), all starting at one instant set when the
manifests are rendered (--lead ahead), never retried (backoffLimitPerIndex 0: a
retried shard would start late). The pods run --image, built from the
repository's Dockerfile (make image) and pushed where the cluster can pull it.`

func newK8sCmd(ios *IOStreams, runM func(*K8sOptions) error, runR func(context.Context, *K8sOptions) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "k8s",
		Short: "Run a scenario as shards on a Kubernetes Indexed Job",
		Long: `Run a scenario past one machine, on Kubernetes: spike k8s manifests prints the
objects for kubectl apply; spike k8s run creates them through the API (the
current kubeconfig), waits, merges the shards' results and reports like spike
run.

` + k8sHelp,
	}
	cmd.AddCommand(newK8sManifestsCmd(ios, runM), newK8sRunCmd(ios, runR))
	return cmd
}

func addK8sFlags(cmd *cobra.Command, o *K8sOptions, lead time.Duration) {
	addPlanOverrideFlags(cmd, &o.Overrides, &o.Baseline)
	f := cmd.Flags()
	f.IntVar(&o.Shards, "shards", 0, "number of shards (pods), `N` (required)")
	f.StringVar(&o.Image, "image", k8s.DefaultImage, "container image with spike in it (see the Dockerfile)")
	f.StringVarP(&o.Namespace, "namespace", "n", "", "namespace for the ConfigMap and the Job (default: the kubeconfig's, else default)")
	f.StringVar(&o.Name, "name", "", "name of the ConfigMap and the Job (default spike-SCENARIO-MMDD-HHMMSS)")
	f.DurationVar(&o.Lead, "lead", lead, "how long after rendering the shards start: time to schedule the pods and pull the image")
}

func newK8sManifestsCmd(ios *IOStreams, runF func(*K8sOptions) error) *cobra.Command {
	opts := &K8sOptions{IO: ios, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "manifests SCENARIO.yaml --shards N",
		Short: "Print a ConfigMap and an Indexed Job that run the scenario as N shards",
		Long: `Print, as YAML for kubectl apply, a ConfigMap holding the scenario and an
Indexed Job that runs it as N shards starting together.

` + k8sHelp + `

Each pod writes its result.json into its log (spike run --print-result); with
kubectl, collect them and merge:

  for p in $(kubectl get pods -l app.kubernetes.io/instance=NAME -o name); do
    kubectl logs $p > $(basename $p).log; done
  spike merge *.log --out merged

or let spike k8s run do all of it.`,
		Example: `  spike k8s manifests launch.yaml --shards 8 --target https://staging.example.com | kubectl apply -f -
  spike k8s manifests launch.yaml --shards 4 --image registry.example.com/spike:v1.2.0 -n load --lead 5m`,
		Args: exactArgs(1, "one scenario file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			opts.Overrides.Baseline = opts.Baseline
			if runF != nil {
				return runF(opts)
			}
			return runK8sManifests(opts)
		},
	}
	addK8sFlags(cmd, opts, 2*time.Minute)
	return cmd
}

func newK8sRunCmd(ios *IOStreams, runF func(context.Context, *K8sOptions) error) *cobra.Command {
	opts := &K8sOptions{IO: ios, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "run SCENARIO.yaml --shards N",
		Short: "Run the scenario as N shards on Kubernetes and merge them into one report",
		Long: `Create the ConfigMap and the Indexed Job of spike k8s manifests through the
Kubernetes API (the current kubeconfig, or --kubeconfig and --context), wait
for the Job, read each pod's result from its log, merge them as spike merge
does, write result.json and report.html locally, delete the Job, its pods and
the ConfigMap, and exit with the gate's code.

` + k8sHelp + `

A shard whose pod failed (for example exit 5: it reached the start instant
late) is missing from the merge: it is named, and the verdict is inconclusive.

Exit codes as spike merge: 0 ok, 1 runtime error (the cluster, a Job that did
not finish), 2 bad usage, 3 gate failed, 4 gate inconclusive.`,
		Example: `  spike k8s run launch.yaml --shards 8 --target https://staging.example.com --allow-host staging.example.com
  spike k8s run smoke.yaml --shards 4 --gate --junit junit.xml --out merged`,
		Args: exactArgs(1, "one scenario file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			opts.Overrides.Baseline = opts.Baseline
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runK8sRun(cmd.Context(), opts)
		},
	}
	addK8sFlags(cmd, opts, time.Minute)
	cmd.Flags().StringVarP(&opts.OutDir, "out", "o", "", "folder for the merged result.json and report.html (default spike-results/NAME-TIMESTAMP)")
	cmd.Flags().StringVar(&opts.Kubeconfig, "kubeconfig", "", "kubeconfig file (default $KUBECONFIG or ~/.kube/config)")
	cmd.Flags().StringVar(&opts.Context, "context", "", "kubeconfig context (default the current one)")
	addGateFlags(cmd, &opts.Gate)
	return cmd
}

// k8sManifests loads the scenario and builds the objects. ns is the
// namespace to use when --namespace is not given.
func k8sManifests(opts *K8sOptions, ns string) (*scenarios.Plan, k8s.Options, error) {
	var ko k8s.Options
	if opts.Shards < 1 || opts.Shards > engine.MaxShards {
		return nil, ko, usageErr("--shards: want 1 to %d shards, got %d", engine.MaxShards, opts.Shards)
	}
	if opts.Lead < 10*time.Second {
		return nil, ko, usageErr("--lead %s: at least 10s, to schedule the pods", opts.Lead)
	}
	plan, err := scenarios.Load(opts.File, opts.Overrides)
	if err != nil {
		if scenarios.IsLoadError(err) {
			return nil, ko, err
		}
		return nil, ko, withCode(exitUsage, err)
	}
	if plan.Target == "" || plan.Target == "demo" {
		return nil, ko, usageErr("%s: the shards need a target they can reach: set target: in the scenario or pass --target URL", opts.File)
	}
	data, err := scenarios.ReadFileMax(opts.File, 1<<20)
	if err != nil {
		return nil, ko, withCode(exitUsage, err)
	}
	files := map[string][]byte{}
	for _, r := range plan.Scenario.AllRequests() {
		if r.BodyFile == "" {
			continue
		}
		b, err := scenarios.ReadFileMax(filepath.Join(filepath.Dir(opts.File), r.BodyFile), 1<<20)
		if err != nil {
			return nil, ko, withCode(exitUsage, err)
		}
		files[filepath.ToSlash(r.BodyFile)] = b
	}
	if red := plan.Redactor(); red.String(string(data)) != string(data) {
		fmt.Fprintf(opts.IO.ErrOut, "spike: warning: %s holds secret values (headers, tokens); they go into the ConfigMap as written: keep the manifests out of version control\n", opts.File)
	}
	now := opts.Now()
	start := now.Add(opts.Lead).Truncate(time.Second)
	if ns == "" {
		ns = k8s.DefaultNamespace
	}
	if opts.Namespace != "" {
		ns = opts.Namespace
	}
	name := opts.Name
	if name == "" {
		name = k8s.JobName(plan.Name, start)
	}
	ko = k8s.Options{
		Name: name, Namespace: ns, Image: opts.Image, Shards: opts.Shards, Scenario: data, Files: files,
		RunArgs: runArgs(opts.Overrides), StartAt: start, Duration: plan.Curve.Duration(), Now: now,
	}
	return plan, ko, nil
}

// runArgs turns the command line's plan overrides into spike run flags.
func runArgs(ov scenarios.Overrides) []string {
	var a []string
	if ov.Target != "" {
		a = append(a, "--target", ov.Target)
	}
	if ov.Baseline != "" {
		a = append(a, "--baseline", ov.Baseline)
	}
	if ov.TimeScale != 0 {
		a = append(a, "--time-scale", strconv.FormatFloat(ov.TimeScale, 'g', -1, 64))
	}
	if ov.Duration != 0 {
		a = append(a, "--duration", ov.Duration.String())
	}
	for _, h := range ov.AllowHosts {
		a = append(a, "--allow-host", h)
	}
	return a
}

func runK8sManifests(opts *K8sOptions) error {
	_, ko, err := k8sManifests(opts, "")
	if err != nil {
		return err
	}
	cm, job, err := k8s.Manifests(ko)
	if err != nil {
		return usageErr("%s: %v", opts.File, err)
	}
	fmt.Fprintf(opts.IO.ErrOut, "spike: %d shards of %s start at %s (in %s)\n", ko.Shards, opts.File, ko.StartAt.UTC().Format(time.RFC3339), opts.Lead)
	return k8s.WriteYAML(opts.IO.Out, cm, job)
}

// kubeClient connects to the cluster of the kubeconfig.
func kubeClient(o *K8sOptions) (k8s.Clients, string, error) {
	var none k8s.Clients
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if o.Kubeconfig != "" {
		rules.ExplicitPath = o.Kubeconfig
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: o.Context})
	cfg, err := cc.ClientConfig()
	if err != nil {
		return none, "", fmt.Errorf("kubeconfig: %w", err)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return none, "", fmt.Errorf("kubeconfig: %w", err)
	}
	core, err := corev1client.NewForConfig(cfg)
	if err != nil {
		return none, "", fmt.Errorf("kubernetes client: %w", err)
	}
	batch, err := batchv1client.NewForConfig(cfg)
	if err != nil {
		return none, "", fmt.Errorf("kubernetes client: %w", err)
	}
	return k8s.Clients{Core: core, Batch: batch}, ns, nil
}

func runK8sRun(ctx context.Context, opts *K8sOptions) error {
	connect := opts.Client
	if connect == nil {
		connect = kubeClient
	}
	client, ns, err := connect(opts)
	if err != nil {
		return err
	}
	plan, ko, err := k8sManifests(opts, ns)
	if err != nil {
		return err
	}
	if err := opts.Gate.prepare(plan); err != nil {
		return err
	}
	cm, job, err := k8s.Manifests(ko)
	if err != nil {
		return usageErr("%s: %v", opts.File, err)
	}
	r := opts.Runner
	if r == nil {
		r = &k8s.Runner{}
	}
	r.Client, r.Status = client, opts.IO.ErrOut
	red := plan.Redactor()
	ios := opts.IO.redacting(red)
	fmt.Fprintf(ios.ErrOut, "spike: %s as %d shards in namespace %s, starting at %s (in %s)\n", plan.Name, ko.Shards, ko.Namespace, ko.StartAt.UTC().Format(time.RFC3339), opts.Lead)
	// The Job's own deadline ends it; this one only bounds the wait if
	// the cluster never reports an end.
	wctx, cancel := context.WithTimeout(ctx, opts.Lead+ko.Duration+10*time.Minute)
	defer cancel()
	got, err := r.Run(wctx, cm, job)
	if err != nil {
		return maskErr(red, err)
	}
	for _, f := range got.Failures {
		fmt.Fprintf(ios.ErrOut, "spike: %s\n", f)
	}
	if len(got.Results) == 0 {
		return maskErr(red, fmt.Errorf("no shard left a result"))
	}
	return maskErr(red, mergeAndDeliver(ios, got.Results, opts.OutDir, opts.Now, &opts.Gate, true))
}

// writeShardResults keeps each shard's result beside the merged one.
func writeShardResults(dir string, parts []engine.ShardResult) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create output folder: %w", err)
	}
	for _, p := range parts {
		s, _ := engine.ParseShard(p.Result.Meta.Shard)
		if err := result.New(p.Result, nil, nil).WriteFile(filepath.Join(dir, fmt.Sprintf("shard-%d.json", s.Index))); err != nil {
			return err
		}
	}
	return nil
}
