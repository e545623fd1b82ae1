package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spikeload/spike/live"
)

// promRunLength is how long the real-Prometheus run lasts.
const promRunLength = 8 * time.Second

// TestPrometheus_LiveMetrics runs spike with --metrics-addr under a real
// Prometheus (the Debian package) scraping it every second, then asks
// Prometheus, through its HTTP API, for the run's p95 and request count and
// compares them with result.json. It runs twice: Prometheus with its
// defaults (it ingests the classic buckets) and with native histograms
// switched on (it ingests the native histogram instead).
func TestPrometheus_LiveMetrics(t *testing.T) {
	if testing.Short() {
		t.Skipf("a %s run under a real Prometheus: make test-load runs it", promRunLength)
	}
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("prometheus not found on PATH: install the Debian package (apt-get install prometheus); .ci/run does")
	}
	tests := []struct {
		name     string
		features []string
		query    string // the p95 over the run: evaluated at the final scrape, the cumulative histogram holds the whole run
	}{
		{"classic buckets", nil,
			`histogram_quantile(0.95, sum by (le) (spike_request_latency_seconds_bucket{job="spike"}))`},
		{"native histograms", []string{"--enable-feature=native-histograms"},
			`histogram_quantile(0.95, sum(spike_request_latency_seconds{job="spike"}))`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			promTest(t, bin, tt.features, tt.query)
		})
	}
}

func promTest(t *testing.T, bin string, features []string, p95Query string) {
	dir := t.TempDir()
	spikeAddr, promAddr := freeAddr(t), freeAddr(t)
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: spike
    static_configs:
      - targets: ['%s']
`, spikeAddr)
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	var promLog bytes.Buffer
	args := append([]string{"--config.file=" + cfgPath, "--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + promAddr, "--log.level=warn"}, features...)
	prom := exec.Command(bin, args...)
	prom.Stdout, prom.Stderr = &promLog, &promLog
	if err := prom.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		prom.Process.Kill()
		prom.Wait()
		if t.Failed() {
			t.Logf("prometheus %v log:\n%s", args, promLog.String())
		}
	}()
	api := "http://" + promAddr
	waitReady(t, api+"/-/ready")

	// The target: 50 ms of capacity spread over requests by a fixed cycle
	// of sleeps, 4..42 ms, so that the p95 sits inside the histograms'
	// range and between bucket bounds.
	var n atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Duration(4+2*(n.Add(1)%20)) * time.Millisecond)
		w.Write([]byte("ok"))
	}))
	defer target.Close()
	file := writeScenario(t, fmt.Sprintf("name: prom\nbaseline: 50\nstages:\n  - hold: {duration: %s}\nrequests:\n  - {name: home, url: /, layer: backend}\n", promRunLength))
	out := filepath.Join(dir, "out")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), &IOStreams{Out: &stdout, ErrOut: &stderr},
		[]string{"run", file, "--target", target.URL, "--out", out, "--metrics-addr", spikeAddr, "--metrics-grace", "15s"})
	if code != exitOK {
		t.Fatalf("spike run = %d; stderr:\n%s", code, stderr.String())
	}
	if bytes.Contains(stderr.Bytes(), []byte("no scrape within")) {
		t.Fatalf("Prometheus did not take the final scrape:\n%s", stderr.String())
	}
	res, err := readRun(filepath.Join(out, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	var total uint64
	for _, r := range res.Requests {
		total += r.Count
	}
	if total != res.Plan.Total {
		t.Fatalf("result.json: %d requests sent of %d planned; the comparison needs a complete run", total, res.Plan.Total)
	}

	// The final scrape was answered before spike returned; give Prometheus
	// a moment to append it. Every query is evaluated at that scrape's time:
	// the series go stale at the next, failed, scrape.
	var (
		at   string
		sent float64
	)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		at, sent = lastSample(t, api, `spike_requests_sent_total{job="spike"}`)
		if sent == float64(total) || time.Now().After(deadline) {
			break
		}
	}
	if sent != float64(total) {
		t.Errorf("Prometheus: %s = %v at the last scrape; result.json counts %d requests", live.NameSent, sent, total)
	}
	if planned := promQuery(t, api, `sum(spike_requests_planned_total{job="spike"})`, at); planned != float64(res.Plan.Total) {
		t.Errorf("Prometheus: %s = %v; result.json plans %d", live.NamePlanned, planned, res.Plan.Total)
	}

	promP95 := promQuery(t, api, p95Query, at)
	spikeP95 := res.Requests[0].Latency.P95.Seconds()
	lo, hi := p95Band(spikeP95, features != nil)
	t.Logf("p95 over the run (%d requests): PromQL %.2f ms, spike %.2f ms (%+.1f%%); accepted [%.2f, %.2f] ms",
		total, 1000*promP95, 1000*spikeP95, 100*(promP95/spikeP95-1), 1000*lo, 1000*hi)
	if !(promP95 >= lo && promP95 <= hi) {
		t.Errorf("PromQL %s = %.2f ms; spike's p95 is %.2f ms: want it within the buckets' resolution, [%.2f, %.2f] ms",
			p95Query, 1000*promP95, 1000*spikeP95, 1000*lo, 1000*hi)
	}
}

// p95Band is what PromQL's histogram_quantile may answer for a true p95 of
// v seconds. It interpolates inside the bucket that holds the 95th
// percentile, so it can land anywhere in that bucket: for classic buckets,
// between the bounds of live.LatencyBuckets around v; for native
// histograms (schema 3, each bucket 2^(1/8) wider than the last), within
// one bucket's width of v either way. 1% is added on both sides for spike's
// own HDR histogram (3 significant digits) and for a p95 lying on a bound.
func p95Band(v float64, native bool) (lo, hi float64) {
	if native {
		w := math.Pow(2, 1.0/8)
		return v / w / 1.01, v * w * 1.01
	}
	lo, hi = 0, math.Inf(1)
	for _, b := range live.LatencyBuckets {
		if b < v*0.99 {
			lo = b
		}
		if b >= v*1.01 {
			hi = b
			break
		}
	}
	return lo, hi
}

func waitReady(t *testing.T, url string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
	}
	t.Fatalf("%s not ready after 30s", url)
}

// lastSample returns the time and value of the last sample of a counter
// series ("" and NaN when there is none).
func lastSample(t *testing.T, api, selector string) (at string, v float64) {
	t.Helper()
	resp, err := http.Get(api + "/api/v1/query?query=" + url.QueryEscape(selector+"[10m]"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Result []struct {
				Values [][2]any `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("query %s: %v", selector, err)
	}
	if len(body.Data.Result) != 1 || len(body.Data.Result[0].Values) == 0 {
		return "", math.NaN()
	}
	vals := body.Data.Result[0].Values
	last := vals[len(vals)-1]
	ts, _ := last[0].(float64)
	s, _ := last[1].(string)
	v, err = strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("query %s: value %q: %v", selector, s, err)
	}
	return strconv.FormatFloat(ts, 'f', 3, 64), v
}

// promQuery runs an instant PromQL query at time at (Unix seconds) and
// returns its single value (NaN when the result is empty).
func promQuery(t *testing.T, api, q, at string) float64 {
	t.Helper()
	resp, err := http.Get(api + "/api/v1/query?query=" + url.QueryEscape(q) + "&time=" + at)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("query %s: %v", q, err)
	}
	if body.Status != "success" {
		t.Fatalf("query %s: %s", q, body.Error)
	}
	if len(body.Data.Result) != 1 {
		return math.NaN()
	}
	s, _ := body.Data.Result[0].Value[1].(string)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("query %s: value %q: %v", q, s, err)
	}
	return v
}
