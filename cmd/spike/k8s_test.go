package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/yaml"

	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/k8s"
	"github.com/spikeload/spike/result"
	"github.com/spikeload/spike/scenarios"
)

func TestK8sManifests(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sc := filepath.Join(dir, "launch.yaml")
	if err := os.MkdirAll(filepath.Join(dir, "bodies"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bodies", "order.json"), []byte(`{"item": {{.RandInt 1 9}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sc, []byte("name: launch\nbaseline: 10\nstages: [{hold: {duration: 90s}}]\nrequests:\n  - {name: order, method: POST, url: /orders, body_file: bodies/order.json}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	now := time.Date(2026, 3, 14, 9, 28, 0, 0, time.UTC)
	opts := &K8sOptions{IO: &IOStreams{Out: &out, ErrOut: &errOut}, File: sc, Shards: 5, Image: "registry.example/spike:v1", Namespace: "load",
		Lead: 2 * time.Minute, Now: func() time.Time { return now }, Overrides: scenarios.Overrides{Target: "http://10.1.2.3:8080", Baseline: "20"}}
	if err := runK8sManifests(opts); err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(out.String(), "\n---\n")
	var cm corev1.ConfigMap
	var job batchv1.Job
	if len(docs) != 2 || yaml.UnmarshalStrict([]byte(docs[0]), &cm) != nil || yaml.UnmarshalStrict([]byte(docs[1]), &job) != nil {
		t.Fatalf("output is not a strict ConfigMap and Job:\n%s", out.String())
	}
	c := job.Spec.Template.Spec.Containers[0]
	args := strings.Join(c.Args, " ")
	want := "run /scenario/scenario.yaml --shards 5 --start-at 2026-03-14T09:30:00Z --out /tmp/spike --print-result --target http://10.1.2.3:8080 --baseline 20"
	if args != want || c.Image != "registry.example/spike:v1" || job.Namespace != "load" || *job.Spec.Completions != 5 {
		t.Errorf("job: image %s, namespace %s, completions %d, args %q; want args %q", c.Image, job.Namespace, *job.Spec.Completions, args, want)
	}
	if cm.Data["file-0"] != `{"item": {{.RandInt 1 9}}}` {
		t.Errorf("the body file is not in the ConfigMap: %q", cm.Data)
	}
	for _, bad := range []struct {
		edit func(*K8sOptions)
		want string
	}{
		{func(o *K8sOptions) { o.Shards = 0 }, "--shards: want 1 to"},
		{func(o *K8sOptions) { o.Lead = time.Second }, "--lead 1s: at least 10s"},
		{func(o *K8sOptions) { o.Overrides.Target = "" }, "the shards need a target"},
	} {
		o := *opts
		bad.edit(&o)
		if err := runK8sManifests(&o); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("runK8sManifests = %v; want %q", err, bad.want)
		}
	}
}

// spike k8s run with client-go's fake clientset (there is no cluster
// here): the fake cluster completes the Job with two pods whose logs hold
// real shard results, sent on loopback; spike merges them and gates.
func TestK8sRun_FakeCluster(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	dir := t.TempDir()
	sc := filepath.Join(dir, "smoke.yaml")
	if err := os.WriteFile(sc, []byte("name: smoke\nbaseline: 40\nstages: [{hold: {duration: 500ms}}]\nrequests: [{url: /}]\noptions: {window: 250ms}\nslo: {sustain: 1}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	plan, err := scenarios.Load(sc, scenarios.Overrides{Target: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	logs := map[string]string{}
	for i := 0; i < 2; i++ {
		res, err := engine.Run(context.Background(), engine.Config{Plan: plan, Shard: engine.Shard{Index: i, Count: 2}})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := k8s.WriteResult(&b, result.New(res, nil, nil)); err != nil {
			t.Fatal(err)
		}
		logs[fmt.Sprintf("pod-%d", i)] = b.String()
	}
	client := fake.NewClientset()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	go func() { // the cluster's part
		for ctx.Err() == nil {
			list, err := client.BatchV1().Jobs("team").List(ctx, metav1.ListOptions{})
			if err != nil || len(list.Items) == 0 {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			j := list.Items[0]
			for i := 0; i < 2; i++ {
				client.CoreV1().Pods("team").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
					Name: fmt.Sprintf("pod-%d", i), Namespace: "team", Labels: j.Spec.Template.Labels,
					Annotations: map[string]string{k8s.IndexAnnotation: fmt.Sprint(i)},
				}, Status: corev1.PodStatus{Phase: corev1.PodSucceeded}}, metav1.CreateOptions{})
			}
			j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}
			client.BatchV1().Jobs("team").UpdateStatus(ctx, &j, metav1.UpdateOptions{})
			return
		}
	}()
	var out, errOut bytes.Buffer
	outDir := filepath.Join(dir, "merged")
	opts := &K8sOptions{IO: &IOStreams{Out: &out, ErrOut: &errOut}, File: sc, Shards: 2, Lead: time.Minute, Now: time.Now,
		Overrides: scenarios.Overrides{Target: srv.URL}, OutDir: outDir, Gate: GateOptions{Enforce: true},
		Client: func(*K8sOptions) (k8s.Clients, string, error) {
			return k8s.Clients{Core: client.CoreV1(), Batch: client.BatchV1()}, "team", nil
		},
		Runner: &k8s.Runner{Poll: 10 * time.Millisecond, Logs: func(_ context.Context, _, pod string) (io.ReadCloser, error) {
			return io.NopCloser(strings.NewReader(logs[pod])), nil
		}},
	}
	if err := runK8sRun(ctx, opts); err != nil {
		t.Fatalf("runK8sRun: %v\n%s", err, errOut.String())
	}
	for _, want := range []string{"merged 2 of 2 shards of smoke", "deleted job team/spike-smoke-"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
		}
	}
	if !strings.Contains(out.String(), "Gate passed") {
		t.Errorf("stdout lacks the gate:\n%s", out.String())
	}
	for _, f := range []string{"result.json", "report.html", "shards/shard-0.json", "shards/shard-1.json"} {
		if _, err := os.Stat(filepath.Join(outDir, f)); err != nil {
			t.Error(err)
		}
	}
	if l, _ := client.BatchV1().Jobs("team").List(ctx, metav1.ListOptions{}); len(l.Items) != 0 {
		t.Errorf("%d jobs left after the run", len(l.Items))
	}
}
