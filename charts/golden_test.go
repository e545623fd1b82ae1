package charts

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const goldenReport = "testdata/report.golden.html"

// goldenPage is the rendered page with the inlined ECharts library (and its
// CSP hash) replaced by placeholders: a megabyte of someone else's code is
// not the report's structure.
func goldenPage(out string) string {
	js := inlineText(echartsJS)
	out = strings.Replace(out, js, "/* echarts.min.js "+EChartsVersion+" inlined here */", 1)
	return strings.Replace(out, scriptHash(js), "'sha256-ECHARTS'", 1)
}

var (
	structRE = regexp.MustCompile(`(?s)<(h1|h2|h3|th|span class="status"|p class="headline")([^>]*)>(.*?)</|<(section|table|div class="chart[^"]*")([^>]*)>`)
	tagRE    = regexp.MustCompile(`<[^>]*>`)
)

// structure lists the page's skeleton: headings, sections, chart ids, table
// ids and headers, and the verdict status, one per line.
func structure(page string) []string {
	var out []string
	for _, m := range structRE.FindAllStringSubmatch(markupOnly(page), -1) {
		if m[4] != "" { // a container: its tag and attributes
			out = append(out, strings.Fields(m[4])[0]+m[5])
			continue
		}
		text := strings.TrimSpace(tagRE.ReplaceAllString(m[3], ""))
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			text = text[:i]
		}
		out = append(out, fmt.Sprintf("%s: %s", strings.Fields(m[1])[0], text))
	}
	return out
}

// TestRender_Golden renders a fixed synthetic run with a fixed analysis and
// compares it with testdata/report.golden.html: first its structure (for a
// readable failure), then the whole page. Run with -update to accept a
// change, and look at the diff.
func TestRender_Golden(t *testing.T) {
	res := synthResult(synthOptions{windows: 60})
	got := goldenPage(render(t, res, synthAnalysis(res, false)))
	if *update {
		if err := os.MkdirAll(filepath.Dir(goldenReport), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenReport, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(goldenReport)
	if err != nil {
		t.Fatalf("%v (run go test ./charts/ -run Golden -update to create it)", err)
	}
	want := string(b)
	gs, ws := structure(got), structure(want)
	for i := 0; i < max(len(gs), len(ws)); i++ {
		var g, w string
		if i < len(gs) {
			g = gs[i]
		}
		if i < len(ws) {
			w = ws[i]
		}
		if g != w {
			t.Fatalf("report structure differs from %s at element %d:\n got: %s\nwant: %s\n(run with -update to accept)", goldenReport, i, g, w)
		}
	}
	if got != want {
		gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
		for i := 0; i < max(len(gl), len(wl)); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("report differs from %s at line %d (same structure):\n got: %.300s\nwant: %.300s\n(run with -update to accept)", goldenReport, i+1, g, w)
			}
		}
	}
}

func TestStructure(t *testing.T) {
	t.Parallel()
	res := synthResult(synthOptions{windows: 20})
	s := structure(render(t, res, nil))
	joined := strings.Join(s, "\n")
	for _, want := range []string{
		"h1: spike report: launch-day",
		`section id="verdict" class="verdict unanalysed"`,
		"span: NOT ANALYSED",
		`div id="chart-throughput"`,
		"th: Request",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("structure lacks %q:\n%s", want, joined)
		}
	}
}
