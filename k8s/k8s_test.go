package k8s

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/yaml"

	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/result"
)

var (
	testNow   = time.Date(2026, 3, 14, 9, 28, 0, 0, time.UTC)
	testStart = testNow.Add(2 * time.Minute)
)

func testOptions() Options {
	return Options{
		Name: JobName("Launch day!", testStart), Namespace: "load", Shards: 4,
		Scenario: []byte("name: launch\nrequests: [{url: /, body_file: bodies/order.json}]\n"),
		Files:    map[string][]byte{"bodies/order.json": []byte(`{"item": 1}`)},
		RunArgs:  []string{"--target", "http://staging.internal"},
		StartAt:  testStart, Duration: 90 * time.Second, Now: testNow,
	}
}

// decode splits a YAML stream and strict-decodes it into a ConfigMap and a Job.
func decode(t *testing.T, stream []byte) (*corev1.ConfigMap, *batchv1.Job) {
	t.Helper()
	docs := strings.Split(string(stream), "\n---\n")
	if len(docs) != 2 {
		t.Fatalf("%d YAML documents; want 2 (ConfigMap, Job):\n%s", len(docs), stream)
	}
	var cm corev1.ConfigMap
	var job batchv1.Job
	if err := yaml.UnmarshalStrict([]byte(docs[0]), &cm); err != nil {
		t.Fatalf("ConfigMap: %v", err)
	}
	if err := yaml.UnmarshalStrict([]byte(docs[1]), &job); err != nil {
		t.Fatalf("Job: %v", err)
	}
	return &cm, &job
}

func TestManifests(t *testing.T) {
	t.Parallel()
	o := testOptions()
	cm, job, err := Manifests(o)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteYAML(&buf, cm, job); err != nil {
		t.Fatal(err)
	}
	gcm, gjob := decode(t, buf.Bytes())
	if gcm.Kind != "ConfigMap" || gcm.APIVersion != "v1" || gjob.Kind != "Job" || gjob.APIVersion != "batch/v1" {
		t.Errorf("kinds %s %s, %s %s", gcm.APIVersion, gcm.Kind, gjob.APIVersion, gjob.Kind)
	}
	if gcm.Name != "spike-launch-day-0314-093000" || gcm.Namespace != "load" || gjob.Name != gcm.Name {
		t.Errorf("names %s/%s and %s", gcm.Namespace, gcm.Name, gjob.Name)
	}
	if gcm.Data[ScenarioKey] != string(o.Scenario) || gcm.Data["file-0"] != `{"item": 1}` {
		t.Errorf("ConfigMap data %q", gcm.Data)
	}
	s := gjob.Spec
	if *s.CompletionMode != batchv1.IndexedCompletion || *s.Completions != 4 || *s.Parallelism != 4 || *s.BackoffLimitPerIndex != 0 {
		t.Errorf("job spec: mode %s, completions %d, parallelism %d, backoffLimitPerIndex %d", *s.CompletionMode, *s.Completions, *s.Parallelism, *s.BackoffLimitPerIndex)
	}
	if want := int64(120 + 90 + 300); *s.ActiveDeadlineSeconds != want {
		t.Errorf("activeDeadlineSeconds %d; want %d (lead + run + margin)", *s.ActiveDeadlineSeconds, want)
	}
	pod := s.Template.Spec
	if pod.RestartPolicy != corev1.RestartPolicyNever || len(pod.Containers) != 1 {
		t.Fatalf("pod: restartPolicy %s, %d containers", pod.RestartPolicy, len(pod.Containers))
	}
	c := pod.Containers[0]
	wantArgs := []string{"run", "/scenario/scenario.yaml", "--shards", "4", "--start-at", "2026-03-14T09:30:00Z", "--out", "/tmp/spike", "--print-result", "--target", "http://staging.internal"}
	if c.Image != DefaultImage || !slices.Equal(c.Args, wantArgs) {
		t.Errorf("container image %s args %q; want %s %q", c.Image, c.Args, DefaultImage, wantArgs)
	}
	items := pod.Volumes[0].ConfigMap.Items
	if len(items) != 2 || items[1].Key != "file-0" || items[1].Path != "bodies/order.json" {
		t.Errorf("configmap items %+v: the body file must land beside the scenario", items)
	}
	if s.Template.Labels[InstanceLabel] != gjob.Name {
		t.Errorf("pod labels %q lack %s=%s, which spike k8s run selects the pods by", s.Template.Labels, InstanceLabel, gjob.Name)
	}
}

func TestManifests_StrictDecodingCatchesStrayFields(t *testing.T) {
	t.Parallel()
	cm, job, err := Manifests(testOptions())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteYAML(&buf, cm, job); err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(buf.String(), "completionMode: Indexed", "completionMode: Indexed\n  completionsTypo: 3", 1)
	var j batchv1.Job
	if err := yaml.UnmarshalStrict([]byte(strings.Split(bad, "\n---\n")[1]), &j); err == nil {
		t.Error("strict decoding accepted an unknown field; the manifest test would not catch one")
	}
}

func TestManifests_Refuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"no shards", func(o *Options) { o.Shards = 0 }, "shards: must be at least 1"},
		{"file outside", func(o *Options) { o.Files = map[string][]byte{"../secret.json": nil} }, `body_file "../secret.json"`},
		{"absolute file", func(o *Options) { o.Files = map[string][]byte{"/etc/passwd": nil} }, `body_file "/etc/passwd"`},
	}
	for _, tt := range tests {
		o := testOptions()
		tt.edit(&o)
		if _, _, err := Manifests(o); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Manifests = %v; want an error saying %q", tt.name, err, tt.want)
		}
	}
}

func TestJobName(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"launch", "spike-launch-0314-093000"},
		{"Black Friday: checkout!!", "spike-black-friday-checkout-0314-093000"},
		{"ÜÜÜ", "spike-run-0314-093000"},
		{strings.Repeat("abcdefghij", 10), "spike-abcdefghijabcdefghijabcdefghij-0314-093000"},
	}
	for _, tt := range tests {
		if got := JobName(tt.in, testStart); got != tt.want || len(got) > 52 {
			t.Errorf("JobName(%q) = %q; want %q (at most 52 characters)", tt.in, got, tt.want)
		}
	}
}

func shardResult(shard string) *result.Document {
	return result.New(&engine.Result{Meta: engine.Meta{Tool: "spike", Scenario: "launch", Shard: shard, PlanHash: "0123456789abcdef"}}, nil, nil)
}

func TestWriteReadResult(t *testing.T) {
	t.Parallel()
	var block bytes.Buffer
	if err := WriteResult(&block, shardResult("1/4")); err != nil {
		t.Fatal(err)
	}
	log := "spike: launch against http://x\nVerdict: PASS\n" + block.String() + "result: /tmp/spike/result.json\n"
	got, err := ReadResult("pod p", strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	if got.Meta.Shard != "1/4" || got.Meta.PlanHash != "0123456789abcdef" {
		t.Errorf("ReadResult = %+v", got.Meta)
	}
	lines := strings.Split(block.String(), "\n")
	tests := []struct {
		name, log string
		want      string
	}{
		{"no block", "spike: error\n", "no result in the log"},
		{"cut short", strings.Join(lines[:len(lines)-2], "\n"), "no result in the log"},
		{"garbled", beginMarker + "\n!!!\n" + endMarker + "\n", "result block"},
	}
	for _, tt := range tests {
		if _, err := ReadResult("pod p", strings.NewReader(tt.log)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: ReadResult = %v; want an error saying %q", tt.name, err, tt.want)
		}
	}
}

// With client-go's fake clientset (no cluster): the runner creates the
// objects, waits for the Job, reads the succeeded pods' logs, reports the
// failed pod and deletes everything.
func TestRunner_Run(t *testing.T) {
	t.Parallel()
	o := testOptions()
	o.Shards = 3
	cm, job, err := Manifests(o)
	if err != nil {
		t.Fatal(err)
	}
	client := fake.NewClientset()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	logs := map[string]string{}
	// The cluster's part: once the Job exists, its pods run and it completes.
	go func() {
		jobs := client.BatchV1().Jobs("load")
		for ctx.Err() == nil {
			j, err := jobs.Get(ctx, job.Name, metav1.GetOptions{})
			if err != nil {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			for i := 0; i < 3; i++ {
				p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
					Name: fmt.Sprintf("%s-%d-x", job.Name, i), Namespace: "load",
					Labels:      j.Spec.Template.Labels,
					Annotations: map[string]string{IndexAnnotation: fmt.Sprint(i)},
				}, Status: corev1.PodStatus{Phase: corev1.PodSucceeded}}
				if i == 1 {
					p.Status.Phase = corev1.PodFailed
					p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: ContainerName, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 5}}}}
				}
				if _, err := client.CoreV1().Pods("load").Create(ctx, p, metav1.CreateOptions{}); err != nil {
					t.Error(err)
				}
			}
			j.Status = batchv1.JobStatus{Succeeded: 2, Failed: 1, Conditions: []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "FailedIndexes"}}}
			if _, err := jobs.UpdateStatus(ctx, j, metav1.UpdateOptions{}); err != nil {
				t.Error(err)
			}
			return
		}
	}()
	for _, i := range []int{0, 2} {
		var b bytes.Buffer
		fmt.Fprintln(&b, "spike: some output")
		if err := WriteResult(&b, shardResult(fmt.Sprintf("%d/3", i))); err != nil {
			t.Fatal(err)
		}
		logs[fmt.Sprintf("%s-%d-x", job.Name, i)] = b.String()
	}
	var status bytes.Buffer
	r := &Runner{Client: Clients{client.CoreV1(), client.BatchV1()}, Poll: 10 * time.Millisecond, Status: &status,
		Logs: func(_ context.Context, ns, pod string) (io.ReadCloser, error) {
			l, ok := logs[pod]
			if !ok || ns != "load" {
				return nil, errors.New("no such pod")
			}
			return io.NopCloser(strings.NewReader(l)), nil
		}}
	out, err := r.Run(ctx, cm, job)
	if err != nil {
		t.Fatal(err)
	}
	var shards []string
	for _, res := range out.Results {
		shards = append(shards, res.Result.Meta.Shard)
	}
	if !slices.Equal(shards, []string{"0/3", "2/3"}) {
		t.Errorf("results of shards %v; want [0/3 2/3]", shards)
	}
	if len(out.Failures) != 1 || !strings.Contains(out.Failures[0], "shard 1/3") || !strings.Contains(out.Failures[0], "exit code 5 (it reached the start instant late") {
		t.Errorf("failures %q; want shard 1/3 late", out.Failures)
	}
	if _, err := client.BatchV1().Jobs("load").Get(ctx, job.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the job is still there after the run: %v", err)
	}
	if _, err := client.CoreV1().ConfigMaps("load").Get(ctx, cm.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the configmap is still there after the run: %v", err)
	}
	if !strings.Contains(status.String(), "deleted job load/"+job.Name) {
		t.Errorf("status %q does not say the job was deleted", status.String())
	}
}

// A Job that never finishes ends the run when the context does, and is
// still deleted.
func TestRunner_RunTimesOut(t *testing.T) {
	t.Parallel()
	cm, job, err := Manifests(testOptions())
	if err != nil {
		t.Fatal(err)
	}
	client := fake.NewClientset()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	r := &Runner{Client: Clients{client.CoreV1(), client.BatchV1()}, Poll: 10 * time.Millisecond}
	if _, err := r.Run(ctx, cm, job); err == nil || !strings.Contains(err.Error(), "still running") {
		t.Errorf("Run = %v; want a still-running error", err)
	}
	if _, err := client.BatchV1().Jobs("load").Get(context.Background(), job.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the job is still there after the run: %v", err)
	}
}
