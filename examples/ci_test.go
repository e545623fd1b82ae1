package examples

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/spikeload/spike/scenarios"
)

// gateCommand is the command both CI examples run; the flags are the ones
// `spike run` documents.
var gateCommand = []string{
	"spike run examples/smoke.yaml --gate",
	"--target http://127.0.0.1:8080",
	"--junit junit.xml",
	"--summary summary.md",
	"--out spike-out",
}

// readCI parses one of the CI examples.
func readCI(t *testing.T, name string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("ci", name))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s is not valid YAML: %v", name, err)
	}
	return doc
}

// get walks a parsed YAML document by keys; it fails the test when a key is
// missing or a value has another type.
func get[T any](t *testing.T, doc any, path ...string) T {
	t.Helper()
	v := doc
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("at %q: want a mapping, got %T", strings.Join(path, "."), v)
		}
		if v, ok = m[k]; !ok {
			t.Fatalf("missing key %q (in %q)", k, strings.Join(path, "."))
		}
	}
	out, ok := v.(T)
	if !ok {
		var zero T
		t.Fatalf("%q: want %T, got %T", strings.Join(path, "."), zero, v)
	}
	return out
}

// oneLine joins a shell command folded over several lines.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func hasAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

func TestCI_GitHubActions(t *testing.T) {
	t.Parallel()
	doc := readCI(t, "github-actions.yml")
	on := get[map[string]any](t, doc, "on")
	if _, ok := on["pull_request"]; !ok {
		t.Errorf("on: %v; want pull_request", on)
	}
	steps := get[[]any](t, doc, "jobs", "spike", "steps")
	if get[string](t, doc, "jobs", "spike", "runs-on") == "" {
		t.Errorf("jobs.spike.runs-on is empty")
	}

	var uses, runs []string
	var gateAt, startAt = -1, -1
	for k, s := range steps {
		step, ok := s.(map[string]any)
		if !ok {
			t.Fatalf("step %d: want a mapping, got %T", k, s)
		}
		run, _ := step["run"].(string)
		use, _ := step["uses"].(string)
		uses, runs = append(uses, use), append(runs, oneLine(run))
		switch {
		case strings.Contains(run, "target --addr 127.0.0.1:8080 > app.log 2>&1 &"):
			startAt = k
		case strings.HasPrefix(use, "spikeload/spike@"):
			// The repository's action (action.yml) runs the gate, publishes
			// the summary and uploads the report; cmd/spike's tests check it.
			gateAt = k
			with := get[map[string]any](t, step, "with")
			if with["scenario"] != "examples/smoke.yaml" || with["target"] != "http://127.0.0.1:8080" {
				t.Errorf("action inputs %v; want scenario examples/smoke.yaml, target http://127.0.0.1:8080", with)
			}
		}
	}
	if !slices.ContainsFunc(uses, func(u string) bool { return strings.HasPrefix(u, "actions/checkout@") }) {
		t.Errorf("steps use %q; want actions/checkout", uses)
	}
	if startAt < 0 || gateAt < 0 {
		t.Fatalf("steps: start app %d, gate action %d; want both (uses %q, runs %q)", startAt, gateAt, uses, runs)
	}
	if startAt > gateAt {
		t.Errorf("step order: start app %d, gate %d; want the app started before the gate", startAt, gateAt)
	}
}

func TestCI_GitLab(t *testing.T) {
	t.Parallel()
	doc := readCI(t, "gitlab-ci.yml")
	job := get[map[string]any](t, doc, "spike-gate")
	if stage := get[string](t, job, "stage"); !slices.Contains(get[[]any](t, doc, "stages"), any(stage)) {
		t.Errorf("job stage %q is not in stages", stage)
	}
	if !strings.HasPrefix(get[string](t, job, "image"), "golang:") {
		t.Errorf("image %q; want a Go image to build spike and the app", job["image"])
	}
	var script []string
	for _, s := range get[[]any](t, job, "script") {
		line, ok := s.(string)
		if !ok {
			t.Fatalf("script line %v: want a string, got %T", s, s)
		}
		script = append(script, oneLine(line))
	}
	start := slices.IndexFunc(script, func(l string) bool { return strings.Contains(l, "spike target --addr 127.0.0.1:8080 > app.log 2>&1 &") })
	gate := slices.IndexFunc(script, func(l string) bool { return hasAll(l, gateCommand) })
	if start < 0 || gate < 0 || start > gate {
		t.Errorf("script %q: app started at %d, gate at %d; want both, the app first", script, start, gate)
	}
	if w := get[string](t, job, "artifacts", "when"); w != "always" {
		t.Errorf("artifacts.when = %q; want always, so a failed gate keeps its report", w)
	}
	paths := get[[]any](t, job, "artifacts", "paths")
	if !slices.Contains(paths, any("spike-out/report.html")) || !slices.Contains(paths, any("summary.md")) {
		t.Errorf("artifacts.paths = %v; want spike-out/report.html and summary.md", paths)
	}
	if j := get[string](t, job, "artifacts", "reports", "junit"); j != "junit.xml" {
		t.Errorf("artifacts.reports.junit = %q; want junit.xml", j)
	}
}

// TestCI_SmokeScenario checks that the scenario the CI examples run loads
// and carries a gate.
func TestCI_SmokeScenario(t *testing.T) {
	t.Parallel()
	data, err := Scenarios.ReadFile("smoke.yaml")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := scenarios.Parse("smoke.yaml", data, scenarios.Overrides{Target: "http://127.0.0.1:8080"})
	if err != nil {
		t.Fatalf("smoke.yaml: %v", err)
	}
	peak, _ := plan.Peak()
	if !plan.Gate.Set || plan.Gate.Survive <= 0 || plan.Gate.Survive > peak {
		t.Errorf("smoke.yaml gate = %+v (peak %g req/s); want a survive rate the run reaches", plan.Gate, peak)
	}
}

// TestCI_GitHubActionsShards checks the matrix example: as many matrix
// entries as the N in --shard, one start instant for all, and a fan-in job
// that merges the uploaded results with --gate.
func TestCI_GitHubActionsShards(t *testing.T) {
	t.Parallel()
	doc := readCI(t, "github-actions-shards.yml")
	n := get[uint64](t, doc, "env", "SHARDS")
	matrix := get[[]any](t, doc, "jobs", "shard", "strategy", "matrix", "shard")
	if uint64(len(matrix)) != n {
		t.Errorf("matrix has %d shards; env.SHARDS is %d", len(matrix), n)
	}
	for i, s := range matrix {
		if v, ok := s.(uint64); !ok || v != uint64(i) {
			t.Errorf("matrix.shard[%d] = %v; want %d (shards count from 0)", i, s, i)
		}
	}
	if get[bool](t, doc, "jobs", "shard", "strategy", "fail-fast") {
		t.Error("fail-fast: true would cancel the other shards when one is late")
	}
	if get[string](t, doc, "jobs", "shard", "needs") != "start" {
		t.Error("the shards must wait for the start job's instant")
	}
	var shardRun, upload string
	for _, s := range get[[]any](t, doc, "jobs", "shard", "steps") {
		step := s.(map[string]any)
		if r, _ := step["run"].(string); strings.Contains(r, "spike run") {
			shardRun = oneLine(r)
		}
		if u, _ := step["uses"].(string); strings.HasPrefix(u, "actions/upload-artifact@") {
			upload = get[string](t, step, "with", "path")
		}
	}
	wantRun := []string{"--shard ${{ matrix.shard }}/${{ env.SHARDS }}", "--start-at ${{ needs.start.outputs.at }}", "--out shard", "--allow-host"}
	if !hasAll(shardRun, wantRun) || upload != "shard/result.json" {
		t.Errorf("shard step %q uploading %q; want %q and shard/result.json", shardRun, upload, wantRun)
	}
	if get[string](t, doc, "jobs", "merge", "needs") != "shard" {
		t.Error("the merge job must wait for the shards")
	}
	var merge string
	for _, s := range get[[]any](t, doc, "jobs", "merge", "steps") {
		if r, _ := s.(map[string]any)["run"].(string); strings.HasPrefix(r, "spike merge") {
			merge = oneLine(r)
		}
	}
	if !hasAll(merge, []string{"spike merge shards", "--gate", "--junit junit.xml", "--summary summary.md"}) {
		t.Errorf("merge step %q; want spike merge shards --gate with JUnit and summary", merge)
	}
}
