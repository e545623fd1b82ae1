package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// action is the part of action.yml the tests read.
type action struct {
	Inputs map[string]struct {
		Description string `yaml:"description"`
		Required    bool   `yaml:"required"`
		Default     string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Value string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string `yaml:"using"`
		Steps []struct {
			ID   string            `yaml:"id"`
			Name string            `yaml:"name"`
			If   string            `yaml:"if"`
			Uses string            `yaml:"uses"`
			Run  string            `yaml:"run"`
			Env  map[string]string `yaml:"env"`
			With map[string]string `yaml:"with"`
		} `yaml:"steps"`
	} `yaml:"runs"`
}

func readAction(t *testing.T) (*action, string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var a action
	if err := yaml.Unmarshal(data, &a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	return &a, string(data)
}

// TestAction_Structure checks that action.yml is a composite action whose
// inputs are all declared and used, that it publishes the summary and uploads
// the report even when the gate fails, and that the flags it passes and
// names are spike run's own.
func TestAction_Structure(t *testing.T) {
	t.Parallel()
	a, raw := readAction(t)
	if a.Runs.Using != "composite" {
		t.Errorf("runs.using = %q; want composite", a.Runs.Using)
	}
	if in, ok := a.Inputs["scenario"]; !ok || !in.Required {
		t.Errorf("inputs.scenario = %+v; want a required input", in)
	}
	used := map[string]bool{}
	for _, m := range regexp.MustCompile(`inputs\.([a-z-]+)`).FindAllStringSubmatch(raw, -1) {
		used[m[1]] = true
		if _, ok := a.Inputs[m[1]]; !ok {
			t.Errorf("action.yml uses inputs.%s, which it does not declare", m[1])
		}
	}
	for name := range a.Inputs {
		if !used[name] {
			t.Errorf("input %q is declared but never used", name)
		}
	}

	runFlags := newRunCmd(&IOStreams{}, nil).Flags()
	flagRE := regexp.MustCompile(`(?:^|[\s("])--([a-z][a-z0-9-]*)`)
	var runStep, summaryStep, uploadStep = -1, -1, -1
	for i, s := range a.Runs.Steps {
		switch {
		case s.ID == "run":
			runStep = i
			if !strings.Contains(s.Run, "spike run ") {
				t.Errorf("step %q does not call spike run", s.Name)
			}
			for _, m := range flagRE.FindAllStringSubmatch(s.Run, -1) {
				if runFlags.Lookup(m[1]) == nil {
					t.Errorf("step %q passes --%s, which spike run does not have", s.Name, m[1])
				}
			}
		case strings.Contains(s.Run, `>> "$GITHUB_STEP_SUMMARY"`):
			summaryStep = i
			if s.If != "always()" {
				t.Errorf("summary step runs if %q; want always()", s.If)
			}
		case strings.HasPrefix(s.Uses, "actions/upload-artifact@"):
			uploadStep = i
			if !strings.HasPrefix(s.If, "always()") {
				t.Errorf("upload step runs if %q; want always()", s.If)
			}
			if !strings.Contains(s.With["path"], "/report.html") {
				t.Errorf("upload path %q; want report.html", s.With["path"])
			}
		}
	}
	if runStep < 0 || summaryStep < runStep || uploadStep < runStep {
		t.Errorf("steps: run %d, summary %d, upload %d; want a run step, then the summary and the upload", runStep, summaryStep, uploadStep)
	}
	// Input descriptions that name a flag ("spike run --target") name a real one.
	for name, in := range a.Inputs {
		for _, m := range regexp.MustCompile(`spike run --([a-z-]+)`).FindAllStringSubmatch(in.Description, -1) {
			if runFlags.Lookup(m[1]) == nil {
				t.Errorf("inputs.%s names spike run --%s, which does not exist", name, m[1])
			}
		}
	}
}

// TestAction_RunScript runs the action's run and fail steps with bash and a
// stand-in spike that records its arguments, then parses those arguments
// with the real spike run command. No traffic is sent.
func TestAction_RunScript(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not found")
	}
	a, _ := readAction(t)
	script := map[string]string{}
	for _, s := range a.Runs.Steps {
		if s.ID == "run" {
			script["run"] = s.Run
		}
		if strings.HasPrefix(s.Name, "Fail") {
			script["fail"] = s.Run
		}
	}
	if script["run"] == "" || script["fail"] == "" {
		t.Fatalf("action.yml lacks the run step or the fail step")
	}
	tests := []struct {
		name     string
		env      map[string]string
		spikeRC  string
		wantArgs string
		wantExit int // of the fail step
	}{
		{"gate fails", map[string]string{"SCENARIO": "smoke.yaml", "TARGET": "http://127.0.0.1:8080", "GATE": "true", "OUT": "spike out", "JUNIT": "j.xml", "ARGS": "--duration 30s --baseline 40"},
			"3", "run|smoke.yaml|--out|spike out|--summary|spike out/summary.md|--gate|--target|http://127.0.0.1:8080|--junit|j.xml|--duration|30s|--baseline|40", 3},
		{"no gate, defaults", map[string]string{"SCENARIO": "s.yaml", "GATE": "false", "OUT": "o"},
			"0", "run|s.yaml|--out|o|--summary|o/summary.md", 0},
		{"baseline result, inconclusive allowed", map[string]string{"SCENARIO": "s.yaml", "GATE": "true", "OUT": "o", "BASELINE_RESULT": "old.json", "ALLOW_INCONCLUSIVE": "true"},
			"4", "run|s.yaml|--out|o|--summary|o/summary.md|--gate|--baseline-result|old.json", 0},
		{"inconclusive", map[string]string{"SCENARIO": "s.yaml", "GATE": "true", "OUT": "o"},
			"4", "run|s.yaml|--out|o|--summary|o/summary.md|--gate", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			fake := "#!/bin/sh\nfor a in \"$@\"; do printf '%s|' \"$a\"; done > \"$ARGS_FILE\"\nexit " + tt.spikeRC + "\n"
			if err := os.WriteFile(filepath.Join(dir, "spike"), []byte(fake), 0o755); err != nil {
				t.Fatal(err)
			}
			env := []string{"PATH=" + dir + string(os.PathListSeparator) + os.Getenv("PATH"),
				"GITHUB_OUTPUT=" + filepath.Join(dir, "output"), "ARGS_FILE=" + filepath.Join(dir, "args")}
			for _, k := range []string{"SCENARIO", "TARGET", "GATE", "BASELINE_RESULT", "OUT", "JUNIT", "ARGS"} {
				env = append(env, k+"="+tt.env[k])
			}
			cmd := exec.Command("bash", "-c", script["run"])
			cmd.Env, cmd.Dir = env, dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("run step: %v\n%s", err, out)
			}
			args, _ := os.ReadFile(filepath.Join(dir, "args"))
			if got := strings.TrimSuffix(string(args), "|"); got != tt.wantArgs {
				t.Errorf("spike called with %s; want %s", got, tt.wantArgs)
			}
			out, _ := os.ReadFile(filepath.Join(dir, "output"))
			if !strings.Contains(string(out), "exit-code="+tt.spikeRC+"\n") {
				t.Errorf("GITHUB_OUTPUT = %q; want exit-code=%s", out, tt.spikeRC)
			}
			// The real command line parser accepts the arguments.
			var got *RunOptions
			rc := newRunCmd(&IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, func(_ context.Context, o *RunOptions) error { got = o; return nil })
			rc.SetArgs(strings.Split(tt.wantArgs, "|")[1:])
			if err := rc.Execute(); err != nil || got == nil {
				t.Errorf("spike %s: %v", tt.wantArgs, err)
			}

			fail := exec.Command("bash", "-c", script["fail"])
			fail.Env = []string{"CODE=" + tt.spikeRC, "ALLOW_INCONCLUSIVE=" + tt.env["ALLOW_INCONCLUSIVE"], "PATH=" + os.Getenv("PATH")}
			err := fail.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.wantExit {
				t.Errorf("fail step with exit code %s = %d; want %d", tt.spikeRC, code, tt.wantExit)
			}
		})
	}
}
