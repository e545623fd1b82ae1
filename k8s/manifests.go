package k8s

import (
	"bytes"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// Defaults for Options.
const (
	// DefaultImage is the image the pods run: built from the repository's
	// Dockerfile and pushed where the cluster can pull it.
	DefaultImage = "ghcr.io/spikeload/spike:latest"
	// DefaultNamespace is the namespace the objects go to.
	DefaultNamespace = "default"
	// DefaultCPU and DefaultMemory are each pod's requests; the memory
	// limit is DefaultMemoryLimit.
	DefaultCPU         = "1"
	DefaultMemory      = "256Mi"
	DefaultMemoryLimit = "1Gi"
	// ContainerName is the name of each pod's one container.
	ContainerName = "spike"
	// ScenarioKey is the ConfigMap key holding the scenario.
	ScenarioKey = "scenario.yaml"
	// scenarioDir is where the ConfigMap is mounted in the pods.
	scenarioDir = "/scenario"
	// outDir is the pods' writable output folder (an emptyDir).
	outDir = "/tmp/spike"
	// InstanceLabel carries the Job's name on every object and pod.
	InstanceLabel = "app.kubernetes.io/instance"
	// IndexAnnotation is set by Kubernetes on each pod of an Indexed Job.
	IndexAnnotation = "batch.kubernetes.io/job-completion-index"
	// deadlineMargin is added to the lead and the run's length for the
	// Job's active deadline: time for pulling images, draining requests
	// in flight and writing the result.
	deadlineMargin = 5 * time.Minute
)

// Options describe a sharded run on Kubernetes.
type Options struct {
	// Name names the ConfigMap and the Job (a DNS label; see JobName).
	Name string
	// Namespace, Image: defaults DefaultNamespace and DefaultImage.
	Namespace string
	Image     string
	// Shards is the number of pods, N.
	Shards int
	// Scenario is the scenario file's content; Files are the files it
	// refers to (body_file), by their path relative to the scenario.
	Scenario []byte
	Files    map[string][]byte
	// RunArgs are extra `spike run` flags for every shard (--target, …).
	RunArgs []string
	// StartAt is the instant every shard starts at.
	StartAt time.Time
	// Duration is the run's planned length (for the Job's deadline).
	Duration time.Duration
	// Now is when the manifests are rendered; default time.Now().
	Now time.Time
}

// JobName returns a default name for a run of scenario at start: a DNS
// label of at most 52 characters (pod names add the index).
func JobName(scenario string, start time.Time) string {
	var b strings.Builder
	for _, r := range strings.ToLower(scenario) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	name := strings.Trim(b.String(), "-")
	if len(name) > 30 {
		name = strings.Trim(name[:30], "-")
	}
	if name == "" {
		name = "run"
	}
	return "spike-" + name + "-" + start.UTC().Format("0102-150405")
}

// Manifests returns the ConfigMap holding the scenario and the Indexed Job
// that runs it: N pods, each `spike run --shards N --start-at T
// --print-result` with its index from JOB_COMPLETION_INDEX, none retried
// (a retried shard would start late and refuse anyway).
func Manifests(o Options) (*corev1.ConfigMap, *batchv1.Job, error) {
	if o.Shards < 1 {
		return nil, nil, fmt.Errorf("shards: must be at least 1, got %d", o.Shards)
	}
	if o.Name == "" {
		return nil, nil, fmt.Errorf("no name")
	}
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if o.Image == "" {
		o.Image = DefaultImage
	}
	labels := map[string]string{"app.kubernetes.io/name": "spike", InstanceLabel: o.Name}
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: o.Name, Namespace: o.Namespace, Labels: labels},
		Data:       map[string]string{ScenarioKey: string(o.Scenario)},
	}
	items := []corev1.KeyToPath{{Key: ScenarioKey, Path: ScenarioKey}}
	rels := make([]string, 0, len(o.Files))
	for rel := range o.Files {
		rels = append(rels, rel)
	}
	sort.Strings(rels)
	for i, rel := range rels {
		clean := path.Clean(rel)
		if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
			return nil, nil, fmt.Errorf("body_file %q: only files beside the scenario or below it can go into the ConfigMap", rel)
		}
		key := "file-" + strconv.Itoa(i)
		cm.Data[key] = string(o.Files[rel])
		items = append(items, corev1.KeyToPath{Key: key, Path: clean})
	}
	n := int32(o.Shards)
	zero := int32(0)
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	deadline := int64((max(o.StartAt.Sub(o.Now), 0) + o.Duration + deadlineMargin + time.Second - 1) / time.Second)
	ttl := int32(24 * 60 * 60)
	args := []string{
		"run", scenarioDir + "/" + ScenarioKey,
		"--shards", strconv.Itoa(o.Shards),
		"--start-at", o.StartAt.UTC().Format(time.RFC3339Nano),
		"--out", outDir,
		"--print-result",
	}
	args = append(args, o.RunArgs...)
	yes, no := true, false
	uid := int64(65532)
	job := &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{Name: o.Name, Namespace: o.Namespace, Labels: labels},
		Spec: batchv1.JobSpec{
			CompletionMode:          ptr(batchv1.IndexedCompletion),
			Completions:             &n,
			Parallelism:             &n,
			BackoffLimitPerIndex:    &zero,
			ActiveDeadlineSeconds:   &deadline,
			TTLSecondsAfterFinished: &ttl,
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever,
					// One shard per node where the cluster allows it: the
					// point is more CPUs and more source addresses.
					Affinity: &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
						PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
							Weight: 100,
							PodAffinityTerm: corev1.PodAffinityTerm{
								TopologyKey:   "kubernetes.io/hostname",
								LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{InstanceLabel: o.Name}},
							},
						}},
					}},
					SecurityContext: &corev1.PodSecurityContext{
						RunAsNonRoot:   &yes,
						RunAsUser:      &uid,
						SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
					},
					Containers: []corev1.Container{{
						Name:  ContainerName,
						Image: o.Image,
						Args:  args,
						Resources: corev1.ResourceRequirements{
							Requests: corev1.ResourceList{
								corev1.ResourceCPU:    resource.MustParse(DefaultCPU),
								corev1.ResourceMemory: resource.MustParse(DefaultMemory),
							},
							Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(DefaultMemoryLimit)},
						},
						SecurityContext: &corev1.SecurityContext{
							AllowPrivilegeEscalation: &no,
							ReadOnlyRootFilesystem:   &yes,
							Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
						},
						VolumeMounts: []corev1.VolumeMount{
							{Name: "scenario", MountPath: scenarioDir, ReadOnly: true},
							{Name: "out", MountPath: outDir},
						},
					}},
					Volumes: []corev1.Volume{
						{Name: "scenario", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
							LocalObjectReference: corev1.LocalObjectReference{Name: o.Name}, Items: items,
						}}},
						{Name: "out", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
					},
				},
			},
		},
	}
	return cm, job, nil
}

func ptr[T any](v T) *T { return &v }

// WriteYAML writes the objects as one YAML stream, ready for kubectl apply.
func WriteYAML(w io.Writer, objs ...any) error {
	var buf bytes.Buffer
	for i, o := range objs {
		b, err := yaml.Marshal(o)
		if err != nil {
			return fmt.Errorf("manifest %d: %w", i, err)
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(b)
	}
	_, err := w.Write(buf.Bytes())
	return err
}
