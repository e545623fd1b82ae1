package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	colmetric "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	"google.golang.org/protobuf/proto"
)

func TestNewCmd_LiveFlags(t *testing.T) {
	t.Parallel()
	want := LiveOptions{MetricsAddr: "127.0.0.1:9464", MetricsGrace: 3 * time.Second, OTLPEndpoint: "http://127.0.0.1:4318"}
	args := []string{"s.yaml", "--metrics-addr", "127.0.0.1:9464", "--metrics-grace", "3s", "--otlp-endpoint", "http://127.0.0.1:4318"}
	ios := &IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}

	var gotRun LiveOptions
	run := newRunCmd(ios, func(_ context.Context, o *RunOptions) error { gotRun = o.Live; return nil })
	run.SetArgs(args)
	var gotFind LiveOptions
	find := newFindCmd(ios, func(_ context.Context, o *FindOptions) error { gotFind = o.Live; return nil })
	find.SetArgs(args)
	for _, c := range []struct {
		name string
		cmd  interface{ Execute() error }
		got  *LiveOptions
	}{{"run", run, &gotRun}, {"find", find, &gotFind}} {
		if err := c.cmd.Execute(); err != nil {
			t.Fatalf("spike %s %s: %v", c.name, strings.Join(args, " "), err)
		}
		if *c.got != want {
			t.Errorf("spike %s %s parsed as %+v; want %+v", c.name, strings.Join(args, " "), *c.got, want)
		}
	}
	var def LiveOptions
	run = newRunCmd(ios, func(_ context.Context, o *RunOptions) error { def = o.Live; return nil })
	run.SetArgs([]string{"s.yaml"})
	if err := run.Execute(); err != nil {
		t.Fatal(err)
	}
	if def.MetricsGrace != DefaultMetricsGrace || def.MetricsAddr != "" || def.OTLPEndpoint != "" {
		t.Errorf("defaults = %+v; want grace %s and no exporter", def, DefaultMetricsGrace)
	}
}

func writeScenario(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLive_BadFlags(t *testing.T) {
	t.Parallel()
	file := writeScenario(t, "name: s\ntarget: http://127.0.0.1:9\nbaseline: 1\nstages:\n  - hold: {duration: 1s}\nrequests:\n  - {url: /}\n")
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		args []string
		err  string
	}{
		{[]string{"--metrics-addr", "9464"}, `--metrics-addr: want host:port like 127.0.0.1:9464, got "9464"`},
		{[]string{"--metrics-addr", busy.Addr().String()}, "--metrics-addr " + busy.Addr().String() + ": listen tcp"},
		{[]string{"--metrics-addr", "127.0.0.1:0", "--metrics-grace", "-1s"}, "--metrics-grace: must be >= 0, got -1s"},
		{[]string{"--otlp-endpoint", "127.0.0.1:4318"}, `--otlp-endpoint: want an http(s) URL like http://127.0.0.1:4318, got "127.0.0.1:4318"`},
	}
	for _, cmd := range []string{"run", "find"} {
		for _, tt := range tests {
			args := append([]string{cmd, file}, tt.args...)
			var out, errOut bytes.Buffer
			code := run(context.Background(), &IOStreams{Out: &out, ErrOut: &errOut}, args)
			if code != exitUsage || !strings.Contains(errOut.String(), tt.err) {
				t.Errorf("spike %s = %d, stderr %q; want %d and %q", strings.Join(args, " "), code, errOut.String(), exitUsage, tt.err)
			}
		}
	}
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// scraper scrapes a /metrics URL every interval until the server goes
// away, keeping the last answer.
type scraper struct {
	mu   sync.Mutex
	last string
	n    int
	done chan struct{}
}

func scrapeUntilGone(url string, interval time.Duration, give time.Duration) *scraper {
	s := &scraper{done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for deadline := time.Now().Add(give); time.Now().Before(deadline); time.Sleep(interval) {
			resp, err := http.Get(url)
			if err != nil {
				if s.n > 0 {
					return // served its final scrape and stopped
				}
				continue // not up yet
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			s.mu.Lock()
			s.last, s.n = string(b), s.n+1
			s.mu.Unlock()
		}
	}()
	return s
}

var sentLine = regexp.MustCompile(`(?m)^spike_requests_sent_total\{layer="(\w+)",request="(\w+)"\} (\d+)$`)

// TestRun_LiveMetrics runs a 1 s scenario with both exporters and checks
// that the final scrape and the final OTLP push count every request
// result.json counts.
func TestRun_LiveMetrics(t *testing.T) {
	target := testTarget()
	defer target.Close()
	var (
		mu     sync.Mutex
		pushes []*colmetric.ExportMetricsServiceRequest
	)
	otlp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req colmetric.ExportMetricsServiceRequest
		if err := proto.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		pushes = append(pushes, &req)
		mu.Unlock()
	}))
	defer otlp.Close()

	file := writeScenario(t, "name: live\nbaseline: 40\nstages:\n  - hold: {duration: 1s}\nrequests:\n"+
		"  - {name: home, url: /, weight: 3, layer: frontend}\n  - {name: fail, url: /fail}\n")
	out := t.TempDir()
	addr := freeAddr(t)
	sc := scrapeUntilGone("http://"+addr+"/metrics", 100*time.Millisecond, 30*time.Second)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), &IOStreams{Out: &stdout, ErrOut: &stderr},
		[]string{"run", file, "--target", target.URL, "--out", out, "--metrics-addr", addr, "--metrics-grace", "10s", "--otlp-endpoint", otlp.URL})
	if code != exitOK {
		t.Fatalf("spike run = %d; stderr:\n%s", code, stderr.String())
	}
	<-sc.done
	if strings.Contains(stderr.String(), "no scrape within") {
		t.Errorf("the final scrape was not seen:\n%s", stderr.String())
	}
	res, err := readRun(filepath.Join(out, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, r := range res.Requests {
		want[r.Name] = strconv.FormatUint(r.Count, 10)
	}
	got := map[string]string{}
	for _, m := range sentLine.FindAllStringSubmatch(sc.last, -1) {
		got[m[2]] = m[1] + " " + m[3]
	}
	if got["home"] != "frontend "+want["home"] || got["fail"] != "untagged "+want["fail"] {
		t.Errorf("final scrape: sent by request = %v; want home (frontend) %s, fail (untagged) %s; scrape:\n%s", got, want["home"], want["fail"], sc.last)
	}
	if !strings.Contains(sc.last, `spike_responses_total{layer="untagged",request="fail",status="500"} `+want["fail"]) {
		t.Errorf("final scrape lacks fail's %s 500s:\n%s", want["fail"], sc.last)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(pushes) == 0 {
		t.Fatal("no OTLP push")
	}
	var pushed uint64
	for _, rm := range pushes[len(pushes)-1].GetResourceMetrics() {
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				if m.GetName() == "spike_requests_sent" {
					for _, dp := range m.GetSum().GetDataPoints() {
						pushed += uint64(dp.GetAsInt())
					}
				}
			}
		}
	}
	var total uint64
	for _, r := range res.Requests {
		total += r.Count
	}
	if pushed != total || total == 0 {
		t.Errorf("last OTLP push: %d requests sent; result.json counts %d", pushed, total)
	}
}
