package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spikeload/spike/charts"
	"github.com/spikeload/spike/scenarios"
)

// TestWriteOutputs_Fallback: when the output folder cannot be written at the
// end of a run, the result goes to a temporary folder, which spike names.
func TestWriteOutputs_Fallback(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	res := synthResult(t, 20, []synthReq{{name: "home", url: "/", share: 1, lat: synthFlat(20 * time.Millisecond), errFrac: synthNone}}, synthRamp(20, 40, 4)...)
	var out, errOut bytes.Buffer
	gone := filepath.Join(t.TempDir(), "removed-after-the-start")
	_, err := writeOutputs(&IOStreams{Out: &out, ErrOut: &errOut}, res, gone)
	if err == nil || !strings.Contains(err.Error(), "the result was saved in") {
		t.Fatalf("writeOutputs(unwritable folder) = %v; want an error naming the fallback folder", err)
	}
	m := regexp.MustCompile(`the result was written to (\S+) instead`).FindStringSubmatch(errOut.String())
	if m == nil {
		t.Fatalf("writeOutputs printed %q; want the fallback folder", errOut.String())
	}
	for _, name := range []string{"result.json", "report.html"} {
		if _, err := os.Stat(filepath.Join(m[1], name)); err != nil {
			t.Errorf("fallback folder: %v", err)
		}
	}
	if !strings.Contains(out.String(), "Verdict") {
		t.Errorf("writeOutputs printed no verdict after the fallback:\n%s", out.String())
	}
}

// TestWriteOutputs_ReportScriptsUntouched: masking secrets never touches the
// report's scripts: the page is the one charts renders from the same
// (secret-free) result, byte for byte.
func TestWriteOutputs_ReportScriptsUntouched(t *testing.T) {
	t.Parallel()
	res := synthResult(t, 20, []synthReq{{name: "home", url: "/", share: 1, lat: synthFlat(20 * time.Millisecond), errFrac: synthNone}}, synthRamp(20, 40, 4)...)
	dir := t.TempDir()
	ios := (&IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}).redacting(scenarios.NewRedactor("hunter2-secret"))
	a, err := writeOutputs(ios, res, dir)
	if err != nil {
		t.Fatal(err)
	}
	back, err := readRun(filepath.Join(dir, "result.json"))
	if err != nil {
		t.Fatalf("the masked result does not read back: %v", err)
	}
	var want bytes.Buffer
	if err := charts.Render(&want, back, a); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	// Both pages hold the same scripts (the charts library first of all).
	for _, script := range []string{"this.tokens=", "function"} {
		if strings.Count(string(got), script) != strings.Count(want.String(), script) {
			t.Errorf("report.html holds %q %d times; charts renders it %d times", script, strings.Count(string(got), script), strings.Count(want.String(), script))
		}
	}
	if strings.Contains(string(got), scenarios.Masked) {
		t.Errorf("report.html of a result without secrets holds %s", scenarios.Masked)
	}
}
