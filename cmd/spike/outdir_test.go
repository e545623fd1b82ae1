package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
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
