package charts

import (
	"context"
	"encoding/json"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spikeload/spike/analysis"
	"github.com/spikeload/spike/engine"
)

// The browser tests open reports in headless Chromium (Debian package
// "chromium") from a file:// URL with networking disabled, and read the
// page's self-test (page/selftest.js, run when the URL ends in #selftest)
// from the DOM Chromium dumps. They are skipped when Chromium is not
// installed; set SPIKE_CHROMIUM to use another binary, and SPIKE_ARTIFACTS
// to a folder to keep the screenshots.

const defaultChromium = "/usr/bin/chromium"

// shotHeight is the browser window's height for the screenshots, in pixels:
// the verdict and the charts at 1280 px wide (taller costs seconds).
const shotHeight = 4000

func chromiumPath(t *testing.T) string {
	t.Helper()
	p := os.Getenv("SPIKE_CHROMIUM")
	if p == "" {
		p = defaultChromium
	}
	if _, err := os.Stat(p); err != nil {
		t.Skipf("headless browser test skipped: %s not found (apt-get install chromium, or set SPIKE_CHROMIUM)", p)
	}
	return p
}

// chromium runs the browser headless on url with the network blocked: every
// host name resolves to nothing, and any proxied request goes to a closed
// port. It returns stdout.
func chromium(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-default-apps", "--disable-extensions", "--disable-breakpad", "--no-default-browser-check",
		"--user-data-dir=" + t.TempDir(),
		"--host-resolver-rules=MAP * ~NOTFOUND",
		"--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
		"--virtual-time-budget=5000",
	}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, tail(stderr.String(), 2000))
	}
	return string(out)
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// selftest is page/selftest.js's summary.
type selftest struct {
	Charts    int      `json:"charts"`
	Drawn     int      `json:"drawn"`
	Blank     []string `json:"blank"`
	Errors    []string `json:"errors"`
	Resources []string `json:"resources"`
	Title     string   `json:"title"`
	Images    int      `json:"images"`
	Scripts   int      `json:"scripts"`
	Verdict   string   `json:"verdict"`
	Headline  string   `json:"headline"`
	Height    int      `json:"height"`
}

var selftestRE = regexp.MustCompile(`(?s)<pre id="spike-selftest"[^>]*data-done="1"[^>]*>(.*?)</pre>`)

// openReport writes the report of res to a file, opens it in Chromium,
// saves a full-width screenshot named shot into SPIKE_ARTIFACTS (or a
// temporary folder) and logs its path, and returns the self-test's summary
// and the dumped DOM. (One browser start does both: Chromium takes seconds to
// start.)
func openReport(t *testing.T, bin string, res *engine.Result, a *analysis.Analysis, shot string) (selftest, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "report.html")
	if err := WriteFile(path, res, a); err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("SPIKE_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	png, err := filepath.Abs(filepath.Join(dir, shot))
	if err != nil {
		t.Fatal(err)
	}
	dom := chromium(t, bin, "--hide-scrollbars", "--window-size=1280,"+strconv.Itoa(shotHeight), "--screenshot="+png,
		"--dump-dom", "file://"+path+"#selftest")
	if fi, err := os.Stat(png); err != nil || fi.Size() < 10_000 {
		t.Errorf("screenshot %s: missing or nearly empty (%v)", png, err)
	} else {
		t.Logf("screenshot: %s", png)
	}
	var m []string
	if i := strings.Index(dom, `<pre id="spike-selftest"`); i >= 0 {
		m = selftestRE.FindStringSubmatch(dom[i:])
	}
	if m == nil {
		t.Fatalf("the page's self-test did not finish; DOM tail:\n%s", tail(dom, 1500))
	}
	var st selftest
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &st); err != nil {
		t.Fatalf("self-test summary %q: %v", m[1], err)
	}
	if st.Height > shotHeight {
		t.Logf("the page is %d px tall; the screenshot shows its top %d px", st.Height, shotHeight)
	}
	return st, dom
}

func checkSelftest(t *testing.T, st selftest, charts int) {
	t.Helper()
	if st.Charts != charts {
		t.Errorf("page has %d charts; want %d", st.Charts, charts)
	}
	if st.Drawn != st.Charts {
		t.Errorf("%d of %d charts drew; blank: %q", st.Drawn, st.Charts, st.Blank)
	}
	if len(st.Errors) > 0 {
		t.Errorf("page logged errors: %q", st.Errors)
	}
	if len(st.Resources) > 0 {
		t.Errorf("page fetched resources: %q", st.Resources)
	}
	if st.Images != 0 {
		t.Errorf("page has %d <img> elements; want 0", st.Images)
	}
	if st.Scripts != 4 {
		t.Errorf("page has %d executable scripts; want 4", st.Scripts)
	}
}

func TestBrowser_Report(t *testing.T) {
	t.Parallel()
	bin := chromiumPath(t)
	res := synthResult(synthOptions{})
	a := synthAnalysis(res, false)
	st, _ := openReport(t, bin, res, a, "report.png")
	checkSelftest(t, st, len(allChartIDs))
	if st.Verdict != "FAIL" || st.Headline != a.Verdict.Headline {
		t.Errorf("verdict shown = %q, %q; want FAIL, %q", st.Verdict, st.Headline, a.Verdict.Headline)
	}
	if st.Title != "spike report: launch-day" {
		t.Errorf("title = %q", st.Title)
	}
}

func TestBrowser_Journeys(t *testing.T) {
	t.Parallel()
	bin := chromiumPath(t)
	res := synthJourneys(synthResult(synthOptions{}), false)
	st, _ := openReport(t, bin, res, synthAnalysis(res, false), "report-journeys.png")
	checkSelftest(t, st, len(allChartIDs)+2) // the funnel and the journeys over time
}

func TestBrowser_NotAnalysed(t *testing.T) {
	t.Parallel()
	bin := chromiumPath(t)
	st, _ := openReport(t, bin, synthResult(synthOptions{}), nil, "report-not-analysed.png")
	checkSelftest(t, st, len(allChartIDs)-1) // no per-layer chart
	if st.Verdict != "NOT ANALYSED" || !strings.HasPrefix(st.Headline, "Not analysed") {
		t.Errorf("verdict shown = %q, %q; want NOT ANALYSED, Not analysed…", st.Verdict, st.Headline)
	}
}

// A target that answers with script in its headers and error messages, and
// a scenario whose names hold script, cannot run code in the report.
func TestBrowser_Hostile(t *testing.T) {
	t.Parallel()
	bin := chromiumPath(t)
	res := synthJourneys(synthResult(synthOptions{hostile: true}), true)
	st, dom := openReport(t, bin, res, synthAnalysis(res, true), "report-hostile.png")
	checkSelftest(t, st, len(allChartIDs)+2) // and the journeys' two
	if want := "spike report: " + res.Meta.Scenario; st.Title != want {
		t.Errorf("title = %q; want %q (the payload as text)", st.Title, want)
	}
	// The payloads are on the page, as text.
	// (as the DOM serializer writes text: only &, < and > escaped)
	asText := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(hostilePayloads[4])
	if !strings.Contains(dom, asText) {
		t.Errorf("hostile header value is not shown as text")
	}
	if strings.Contains(strings.ToLower(markupOnly(dom)), "<img") {
		t.Errorf("an <img> element was injected")
	}
}
