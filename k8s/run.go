package k8s

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	batchv1client "k8s.io/client-go/kubernetes/typed/batch/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/spikeload/spike/engine"
)

// DefaultPoll is how often Runner checks the Job.
const DefaultPoll = 2 * time.Second

// Clients are the two API groups a run uses. Only these typed clients are
// linked in (the full clientset would add every API group, about 30 MB, to
// spike's binary); client-go's fake clientset provides both in tests.
type Clients struct {
	Core  corev1client.CoreV1Interface
	Batch batchv1client.BatchV1Interface
}

// Runner runs a ConfigMap and Job from Manifests through the Kubernetes
// API and collects the shards' results.
type Runner struct {
	// Client talks to the cluster.
	Client Clients
	// Logs opens a pod's log; default: the API's pod log of ContainerName.
	Logs func(ctx context.Context, namespace, pod string) (io.ReadCloser, error)
	// Poll is how often the Job is checked; default DefaultPoll.
	Poll time.Duration
	// Status receives a line per change of the Job's progress; may be nil.
	Status io.Writer
}

// Outcome is what a Job left behind.
type Outcome struct {
	// Results are the shards' results, in index order.
	Results []engine.ShardResult
	// Failures say, per index without a result, what happened to its pod.
	Failures []string
}

// Run creates cm and job, waits until the Job has finished (or ctx is
// done), collects the result of every pod that succeeded from its log, and
// deletes both objects (and the pods) whatever happened. A pod that failed
// or left no result is reported in Outcome.Failures; merging the results
// then names the shard missing.
func (r *Runner) Run(ctx context.Context, cm *corev1.ConfigMap, job *batchv1.Job) (*Outcome, error) {
	ns := job.Namespace
	cms := r.Client.Core.ConfigMaps(ns)
	jobs := r.Client.Batch.Jobs(ns)
	if _, err := cms.Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("create configmap %s/%s: %w", ns, cm.Name, err)
	}
	defer r.cleanup(ns, cm.Name, job.Name)
	if _, err := jobs.Create(ctx, job, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("create job %s/%s: %w", ns, job.Name, err)
	}
	r.say("spike: created job %s/%s (%d shards)", ns, job.Name, *job.Spec.Completions)
	if err := r.wait(ctx, ns, job.Name); err != nil {
		return nil, err
	}
	return r.collect(ctx, job)
}

func (r *Runner) say(format string, args ...any) {
	if r.Status != nil {
		fmt.Fprintf(r.Status, format+"\n", args...)
	}
}

// wait polls the Job until it is complete or failed.
func (r *Runner) wait(ctx context.Context, ns, name string) error {
	poll := r.Poll
	if poll <= 0 {
		poll = DefaultPoll
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	last := ""
	for {
		j, err := r.Client.Batch.Jobs(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("job %s/%s: %w", ns, name, err)
		}
		st := j.Status
		if p := fmt.Sprintf("%d running, %d succeeded, %d failed", st.Active, st.Succeeded, st.Failed); p != last {
			r.say("spike: job %s: %s", name, p)
			last = p
		}
		for _, c := range st.Conditions {
			if c.Status == corev1.ConditionTrue && (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) {
				if c.Type == batchv1.JobFailed {
					r.say("spike: job %s failed: %s %s", name, c.Reason, c.Message)
				}
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("job %s/%s: still running: %w", ns, name, ctx.Err())
		case <-t.C:
		}
	}
}

// collect reads the result of each index from its succeeded pod.
func (r *Runner) collect(ctx context.Context, job *batchv1.Job) (*Outcome, error) {
	ns := job.Namespace
	pods, err := r.Client.Core.Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: InstanceLabel + "=" + job.Name})
	if err != nil {
		return nil, fmt.Errorf("list pods of job %s/%s: %w", ns, job.Name, err)
	}
	n := int(*job.Spec.Completions)
	byIndex := make([][]corev1.Pod, n)
	for _, p := range pods.Items {
		i, err := strconv.Atoi(p.Annotations[IndexAnnotation])
		if err != nil || i < 0 || i >= n {
			continue
		}
		byIndex[i] = append(byIndex[i], p)
	}
	out := &Outcome{}
	for i, ps := range byIndex {
		shard := fmt.Sprintf("%d/%d", i, n)
		sort.Slice(ps, func(a, b int) bool {
			return ps[a].Status.Phase == corev1.PodSucceeded && ps[b].Status.Phase != corev1.PodSucceeded
		})
		if len(ps) == 0 {
			out.Failures = append(out.Failures, fmt.Sprintf("shard %s: no pod", shard))
			continue
		}
		p := ps[0]
		if p.Status.Phase != corev1.PodSucceeded {
			out.Failures = append(out.Failures, fmt.Sprintf("shard %s: pod %s %s%s", shard, p.Name, p.Status.Phase, terminated(p)))
			continue
		}
		res, err := r.result(ctx, ns, p.Name)
		if err != nil {
			out.Failures = append(out.Failures, fmt.Sprintf("shard %s: pod %s: %v", shard, p.Name, err))
			continue
		}
		out.Results = append(out.Results, engine.ShardResult{Name: "pod " + p.Name, Result: res})
	}
	return out, nil
}

// terminated describes how a pod's container ended (exit code 5: late).
func terminated(p corev1.Pod) string {
	for _, cs := range p.Status.ContainerStatuses {
		if t := cs.State.Terminated; t != nil {
			s := fmt.Sprintf(": exit code %d", t.ExitCode)
			if t.ExitCode == 5 {
				s += " (it reached the start instant late and sent nothing)"
			}
			if t.Message != "" {
				s += ": " + t.Message
			}
			return s
		}
	}
	return ""
}

func (r *Runner) result(ctx context.Context, ns, pod string) (*engine.Result, error) {
	logs := r.Logs
	if logs == nil {
		logs = func(ctx context.Context, ns, pod string) (io.ReadCloser, error) {
			return r.Client.Core.Pods(ns).GetLogs(pod, &corev1.PodLogOptions{Container: ContainerName}).Stream(ctx)
		}
	}
	rc, err := logs(ctx, ns, pod)
	if err != nil {
		return nil, fmt.Errorf("log: %w", err)
	}
	defer rc.Close()
	return ReadResult("pod "+pod, rc)
}

// cleanup deletes the Job (with its pods) and the ConfigMap, even when the
// run's context is done.
func (r *Runner) cleanup(ns, cm, job string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bg := metav1.DeletePropagationBackground
	var errs []error
	if err := r.Client.Batch.Jobs(ns).Delete(ctx, job, metav1.DeleteOptions{PropagationPolicy: &bg}); err != nil && !apierrors.IsNotFound(err) {
		errs = append(errs, err)
	}
	if err := r.Client.Core.ConfigMaps(ns).Delete(ctx, cm, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		r.say("spike: cleanup of job %s/%s: %v (delete it with kubectl delete job,configmap -l %s=%s -n %s)", ns, job, err, InstanceLabel, job, ns)
		return
	}
	r.say("spike: deleted job %s/%s and its configmap", ns, job)
}
