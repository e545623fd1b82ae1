package charts

import (
	"bytes"
	"encoding/json"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spikeload/spike/analysis"
	"github.com/spikeload/spike/engine"
)

func render(t testing.TB, res *engine.Result, a *analysis.Analysis) string {
	t.Helper()
	var b bytes.Buffer
	if err := Render(&b, res, a); err != nil {
		t.Fatalf("Render: %v", err)
	}
	return b.String()
}

var allChartIDs = []string{IDThroughput, IDLatency, IDLayers, IDErrors, IDKneeLatency, IDKneeSuccess, IDDistrib, IDTiming}

func TestRender_Analysed(t *testing.T) {
	t.Parallel()
	res := synthResult(synthOptions{})
	out := render(t, res, synthAnalysis(res, false))
	for _, id := range allChartIDs {
		if !strings.Contains(out, `<div class="chart" id="`+id+`"></div>`) && !strings.Contains(out, `<div class="chart tall" id="`+id+`"></div>`) {
			t.Errorf("Render: no chart div %q", id)
		}
		if !strings.Contains(out, `<script type="application/json" id="`+id+`-options">`) {
			t.Errorf("Render: no options for chart %q", id)
		}
	}
	for _, want := range []string{
		`id="verdict-status">FAIL<`,
		"The database breaks first, at 128 req/s (3.2x your baseline)",
		"too many concurrent queries for the pool, nothing cached",
		"Cache the feed for 1–5 minutes per user",
		"no Cache-Control on a static asset",
		"Are hot reads cached?",
		"launch-day", "http://127.0.0.1:8080", "0.1.0-test", "Time scale",
		`id="table-breakage"`, `id="table-requests"`, `id="table-recommendations"`, `id="table-header-audit"`, `id="table-readiness"`, `id="table-meta"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Render: output lacks %q", want)
		}
	}
}

func TestRender_NotAnalysed(t *testing.T) {
	t.Parallel()
	res := synthResult(synthOptions{})
	out := render(t, res, nil)
	for _, want := range []string{`id="verdict-status">NOT ANALYSED<`, "Not analysed", "not analysed"} {
		if !strings.Contains(out, want) {
			t.Errorf("Render(nil analysis): output lacks %q", want)
		}
	}
	if strings.Contains(out, `id="`+IDLayers+`"`) {
		t.Errorf("Render(nil analysis): has the per-layer chart, which needs the analysis")
	}
	for _, id := range []string{IDThroughput, IDLatency, IDErrors, IDKneeLatency, IDKneeSuccess, IDDistrib, IDTiming} {
		if !strings.Contains(out, `id="`+id+`-options"`) {
			t.Errorf("Render(nil analysis): no chart %q", id)
		}
	}
	// The judgement parts say so instead of being empty.
	if n := strings.Count(out, notAnalysedHTML()); n < 4 {
		t.Errorf("Render(nil analysis): %d sections say not analysed; want at least 4 (layers, breakage, recommendations, audit, readiness)", n)
	}
}

func notAnalysedHTML() string { return html.EscapeString(notAnalysed)[:40] }

func TestRender_EmptyResult(t *testing.T) {
	t.Parallel()
	res := &engine.Result{}
	out := render(t, res, nil)
	if !strings.Contains(out, "NOT ANALYSED") {
		t.Errorf("Render(empty result): no verdict banner")
	}
	if err := Render(&bytes.Buffer{}, nil, nil); err == nil {
		t.Errorf("Render(nil result) = nil error; want an error")
	}
}

// remoteRef matches any attribute or CSS reference that could make the page
// fetch something: src=, href= other than "#…", url(…), @import, and
// srcset/action/poster/data attributes.
var remoteRef = regexp.MustCompile(`(?i)(\s(src|srcset|action|poster|data|formaction)\s*=)|(\shref\s*=\s*"[^#])|(url\s*\()|(@import)|(<link\b)|(<iframe\b)|(<object\b)|(<embed\b)|(<base\b)`)

func TestRender_NoNetwork(t *testing.T) {
	t.Parallel()
	res := synthResult(synthOptions{})
	out := render(t, res, synthAnalysis(res, false))
	// Outside the page's own scripts (the ECharts library mentions URLs in
	// comments and strings), the page refers to nothing remote.
	page := markupOnly(out)
	if m := remoteRef.FindAllString(page, 5); len(m) > 0 {
		t.Errorf("page refers to external resources: %q", m)
	}
	for _, bad := range []string{"go-echarts.github.io", "jsdelivr", "unpkg", "cdn."} {
		if strings.Contains(page, bad) {
			t.Errorf("page mentions remote assets host %q", bad)
		}
	}
	for _, sc := range scripts(out) {
		if strings.Contains(strings.ToLower(sc.attrs), "src") {
			t.Errorf("page has a <script%s>", sc.attrs)
		}
	}
	if !strings.Contains(out, `content="default-src &#39;none&#39;; script-src &#39;sha256-`) {
		t.Errorf("page lacks its Content-Security-Policy (default-src 'none', scripts by hash)")
	}
	if !strings.Contains(out, "connect-src &#39;none&#39;") {
		t.Errorf("page's CSP does not forbid connections")
	}
	// The library is inlined whole, once.
	if n := strings.Count(out, inlineText(echartsJS)); n != 1 {
		t.Errorf("page inlines echarts.min.js %d times; want 1", n)
	}
}

func TestEChartsAsset(t *testing.T) {
	t.Parallel()
	if got := hexSHA256(echartsJS); got != echartsSHA256 {
		t.Errorf("assets/echarts.min.js sha256 = %s; want %s (update EChartsVersion, echartsSHA256 and assets/README.md together)", got, echartsSHA256)
	}
	if !strings.Contains(echartsJS, `version="`+EChartsVersion+`"`) {
		t.Errorf("assets/echarts.min.js does not declare version %s", EChartsVersion)
	}
	low := strings.ToLower(inlineText(echartsJS))
	for _, bad := range []string{"</script", "<!--", "<script"} {
		if strings.Contains(low, bad) {
			t.Errorf("echarts.min.js contains %q: it cannot be inlined in a <script> element as is", bad)
		}
	}
	for _, f := range []string{"LICENSE-echarts", "NOTICE-echarts", "LICENSE-echarts-d3", "LICENSE-zrender", "README.md"} {
		if _, err := os.Stat(filepath.Join("assets", f)); err != nil {
			t.Errorf("assets/%s: %v (licences must stay beside the embedded library)", f, err)
		}
	}
}

// scriptElem is one <script> element of a page: its attributes and body.
type scriptElem struct{ attrs, body string }

// scripts returns the page's <script> elements. (A scanner, not a regular
// expression: the page holds a megabyte of inlined JavaScript.)
func scripts(page string) []scriptElem {
	var out []scriptElem
	for {
		i := strings.Index(page, "<script")
		if i < 0 {
			return out
		}
		page = page[i+len("<script"):]
		j := strings.IndexByte(page, '>')
		k := strings.Index(page, "</script>")
		if j < 0 || k < j {
			return out
		}
		out = append(out, scriptElem{attrs: page[:j], body: page[j+1 : k]})
		page = page[k+len("</script>"):]
	}
}

// markupOnly returns the page without the bodies of its executable scripts
// (static code of the page's own, ECharts included), keeping the markup and
// the JSON data blocks, where anything from the target or scenario lands.
func markupOnly(page string) string {
	var b strings.Builder
	for {
		i := strings.Index(page, "<script")
		if i < 0 {
			b.WriteString(page)
			return b.String()
		}
		j := strings.IndexByte(page[i:], '>')
		k := strings.Index(page[i:], "</script>")
		if j < 0 || k < j {
			b.WriteString(page)
			return b.String()
		}
		attrs := page[i : i+j+1]
		if strings.Contains(attrs, "application/json") {
			b.WriteString(page[:i+k])
		} else {
			b.WriteString(page[:i])
			b.WriteString(attrs)
		}
		page = page[i+k:]
		b.WriteString("</script>")
		page = page[len("</script>"):]
	}
}

func TestRender_Escaping(t *testing.T) {
	t.Parallel()
	res := synthResult(synthOptions{hostile: true})
	for _, a := range []*analysis.Analysis{nil, synthAnalysis(res, true)} {
		out := render(t, res, a)
		for _, p := range hostilePayloads {
			if strings.Contains(p, "__f__") {
				continue // holds no markup; checked below and in the browser test
			}
			if strings.Contains(out, p) {
				i := strings.Index(out, p)
				t.Errorf("payload %q appears unescaped: …%s…", p, out[max(0, i-80):min(len(out), i+len(p)+40)])
			}
		}
		if strings.Contains(strings.ToLower(markupOnly(out)), "<img") {
			t.Errorf("page contains an <img> element")
		}
		// Exactly the page's own four scripts execute; every other <script>
		// is a JSON data block that parses, and the payloads survive in it
		// as data.
		var exec, data int
		var names []string
		for _, sc := range scripts(out) {
			attrs, body := sc.attrs, sc.body
			if strings.Contains(attrs, `type="application/json"`) {
				data++
				var v map[string]any
				if err := json.Unmarshal([]byte(body), &v); err != nil {
					t.Errorf("chart options %q do not parse: %v", attrs, err)
					continue
				}
				series, _ := v["series"].([]any)
				for _, s := range series {
					if n, ok := s.(map[string]any)["name"].(string); ok {
						names = append(names, n)
					}
				}
				continue
			}
			exec++
		}
		if exec != 4 {
			t.Errorf("page has %d executable scripts; want 4 (errors, echarts, init, selftest)", exec)
		}
		if data < 6 {
			t.Errorf("page has %d chart option blocks; want at least 6", data)
		}
		joined := strings.Join(names, "\n")
		for _, p := range hostilePayloads[:3] {
			if !strings.Contains(joined, p) {
				t.Errorf("payload %q did not survive as a series name (names: %q)", p, names)
			}
		}
		// go-echarts' templates would turn "__f__…__f__" into code; the
		// options here keep it a quoted string.
		if strings.Contains(out, "__f__") && !strings.Contains(out, `"__f__function`) {
			t.Errorf("a __f__ payload lost its quotes")
		}
	}
}

func TestWriteFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	res := synthResult(synthOptions{windows: 30})
	path := filepath.Join(dir, "report.html")
	if err := WriteFile(path, res, synthAnalysis(res, false)); err != nil {
		t.Fatalf("WriteFile: %v", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("<!DOCTYPE html>")) || !bytes.HasSuffix(bytes.TrimSpace(b), []byte("</html>")) {
		t.Errorf("WriteFile wrote an incomplete page (%d bytes)", len(b))
	}
	// A failed render leaves neither the file nor a temporary behind.
	bad := filepath.Join(dir, "bad.html")
	if err := WriteFile(bad, nil, nil); err == nil {
		t.Errorf("WriteFile(nil result) = nil error; want an error")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "report.html" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("folder holds %q after WriteFile; want only report.html", names)
	}
	if err := WriteFile(filepath.Join(dir, "missing", "r.html"), res, nil); err == nil {
		t.Errorf("WriteFile into a missing folder = nil error; want an error")
	}
}

func TestRender_WithAnalyze(t *testing.T) {
	t.Parallel()
	res := synthResult(synthOptions{})
	a := analysis.Analyze(res, analysis.Options{})
	out := render(t, res, a)
	if !strings.Contains(out, `id="verdict-status">`+strings.ToUpper(string(a.Verdict.Status))+`<`) {
		t.Errorf("Render(Analyze(res)): verdict status %q not shown", a.Verdict.Status)
	}
	if a.Verdict.Headline != "" && !strings.Contains(out, html.EscapeString(a.Verdict.Headline)) {
		t.Errorf("Render(Analyze(res)): headline %q not shown", a.Verdict.Headline)
	}
	if len(a.Layers) > 0 && !strings.Contains(out, `id="`+IDLayers+`"`) {
		t.Errorf("Render(Analyze(res)): %d layers but no per-layer chart", len(a.Layers))
	}
}

// The size goal: a 1-hour run (3,600 windows × 7 requests) renders under
// 5 MB. (Its speed goal, under 2 s, is BenchmarkRender_OneHour's.)
func TestRender_OneHourSize(t *testing.T) {
	t.Parallel()
	res := synthResult(synthOptions{windows: 3600})
	a := synthAnalysis(res, false)
	start := time.Now()
	out := render(t, res, a)
	t.Logf("1-hour report: %d bytes (%.2f MB), rendered in %s", len(out), float64(len(out))/1e6, time.Since(start).Round(time.Millisecond))
	if len(out) >= 5_000_000 {
		t.Errorf("1-hour report is %d bytes; want < 5 MB", len(out))
	}
	// Every time series is down-sampled.
	for _, sc := range scripts(out) {
		if !strings.Contains(sc.attrs, "application/json") {
			continue
		}
		var v struct {
			Series []struct {
				Name string `json:"name"`
				Data []any  `json:"data"`
			} `json:"series"`
		}
		if err := json.Unmarshal([]byte(sc.body), &v); err != nil {
			t.Fatal(err)
		}
		for _, s := range v.Series {
			if len(s.Data) > maxPoints {
				t.Errorf("%s: series %q has %d points; want ≤ %d", sc.attrs, s.Name, len(s.Data), maxPoints)
			}
		}
	}
}

func BenchmarkRender_OneHour(b *testing.B) {
	res := synthResult(synthOptions{windows: 3600})
	a := synthAnalysis(res, false)
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := Render(&buf, res, a); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len())/1e6, "MB/report")
}
