package analysis

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/scenarios"
)

// The diagnosis corpus: in-process targets, one per mechanism, that carry
// no layer tags and send no Server-Timing, the way real apps are met.
// Capacity comes from semaphores, sleeps and token buckets, never CPU
// work, so the runs hold on a busy machine. Each run holds the baseline
// for 3 s (the low-load reference: at 8 req/s that is the 20 samples a
// p95 needs), ramps past the target's limit over 8 s and holds there for
// 3 s. Shorter runs were tried (2 s, 6 s, 2 s): the slowest baselines then
// had no low-load p95 to compare with.

// tokenBucket is a token tokenBucket: rate tokens a second, burst at most.
type tokenBucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func newTokenBucket(rate, burst float64) *tokenBucket {
	return &tokenBucket{rate: rate, burst: burst, tokens: burst, last: time.Now()}
}

// take reports whether a token was available.
func (b *tokenBucket) take() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}

// link lets bytes through at a shared rate: each chunk reserves the
// next free slot of the link and waits for it.
type link struct {
	mu   sync.Mutex
	bps  float64
	next time.Time
}

func (l *link) send(ctx context.Context, n int) error {
	l.mu.Lock()
	now := time.Now()
	if l.next.Before(now) {
		l.next = now
	}
	l.next = l.next.Add(time.Duration(float64(n) / l.bps * float64(time.Second)))
	at := l.next
	l.mu.Unlock()
	t := time.NewTimer(time.Until(at))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pool is a connection pool: size slots, acquired with a timeout.
type pool chan struct{}

func (p pool) query(ctx context.Context, hold, wait time.Duration) bool {
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case p <- struct{}{}:
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
	time.Sleep(hold)
	<-p
	return true
}

const nginx503 = "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx/1.25.3</center>\r\n</body>\r\n</html>\r\n"

func health(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) }

// limiter answers the excess over the tokenBucket at once with code and body,
// as nginx limit_req does, and passes the rest to next.
func limiter(b *tokenBucket, code int, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !b.take() {
			w.Header().Set("Server", "nginx/1.25.3")
			w.Header().Set("Content-Type", "text/html")
			if code == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", "1")
			}
			w.WriteHeader(code)
			w.Write([]byte(strings.Replace(nginx503, "503 Service Temporarily Unavailable", fmt.Sprintf("%d %s", code, http.StatusText(code)), -1)))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// limitedApp is an app answering in 2 ms behind a limiter of 60 req/s
// (burst 5) that answers the excess with code at once.
func limitedApp(code int) func() http.Handler {
	return func() http.Handler {
		app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(2 * time.Millisecond)
			w.Write([]byte("ok\n"))
		})
		return limiter(newTokenBucket(60, 5), code, app)
	}
}

type corpusCase struct {
	name string
	// target builds the handler; requests are the scenario's mix.
	target   func() http.Handler
	requests string
	baseline float64
	peak     string
	// Expected: the first layer, its mechanism, the symptom class, and a
	// phrase of the first fix's title (and its step).
	layer, mechanism, symptom string
	fixStep                   int
	fix                       string
	// order, when set, is the breakage order.
	order []string
	// noWords are phrases the verdict must not say.
	noWords []string
}

var corpus = []corpusCase{
	{
		name: "database pool with its error text",
		target: func() http.Handler {
			p := make(pool, 2)
			mux := http.NewServeMux()
			mux.HandleFunc("/health", health)
			mux.HandleFunc("/api/items", func(w http.ResponseWriter, r *http.Request) {
				if !p.query(r.Context(), 25*time.Millisecond, time.Second) {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusServiceUnavailable)
					w.Write([]byte(`{"error":"timeout acquiring database connection"}`))
					return
				}
				w.Write([]byte(`{"items":[]}`))
			})
			return mux
		},
		requests: "  - {name: items, url: /api/items, weight: 9}\n  - {name: health, url: /health, weight: 1}\n",
		baseline: 20, peak: "8x",
		layer: LayerDatabase, mechanism: MechQueueing, symptom: SymptomLatencyThenErrors,
		fixStep: StepCache, fix: "Cache GET /api/items",
		noWords: []string{"Run more instances", "one instance"},
	},
	{
		name:     "rate limiter answering 503 at once",
		target:   limitedApp(http.StatusServiceUnavailable),
		requests: "  - {name: items, url: /api/items, weight: 9}\n  - {name: home, url: /, weight: 1}\n",
		baseline: 20, peak: "8x",
		layer: LayerBackend, mechanism: MechShedding, symptom: SymptomShedding,
		fixStep: StepScale, fix: "Raise the limit",
		noWords: []string{"latency climbed", `"<html>"`, "one instance"},
	},
	{
		name:     "rate limiter answering 429 at once",
		target:   limitedApp(http.StatusTooManyRequests),
		requests: "  - {name: items, url: /api/items, weight: 9}\n  - {name: home, url: /, weight: 1}\n",
		baseline: 20, peak: "8x",
		layer: LayerBackend, mechanism: MechRateLimit, symptom: SymptomLimiter,
		fixStep: StepScale, fix: "Raise the limit",
		noWords: []string{"latency climbed", "one instance"},
	},
	{
		name: "upstream 429 mapped to 502",
		target: func() http.Handler {
			provider := newTokenBucket(25, 3)
			mux := http.NewServeMux()
			mux.HandleFunc("/health", health)
			mux.HandleFunc("/api/signup", func(w http.ResponseWriter, r *http.Request) {
				time.Sleep(5 * time.Millisecond)
				if !provider.take() {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusBadGateway)
					w.Write([]byte(`{"error":"email provider: 429 Too Many Requests"}`))
					return
				}
				w.WriteHeader(http.StatusCreated)
			})
			return mux
		},
		requests: "  - {name: signup, method: POST, url: /api/signup, weight: 9}\n  - {name: health, url: /health, weight: 1}\n",
		baseline: 10, peak: "8x",
		layer: LayerThirdParty, mechanism: MechUpstream, symptom: SymptomRateLimited,
		fixStep: StepQueue, fix: "on a queue with retry and backoff",
		noWords: []string{"one instance"},
	},
	{
		name: "bandwidth-bound large download",
		target: func() http.Handler {
			l := &link{bps: 6 << 20}
			body := make([]byte, 200<<10)
			mux := http.NewServeMux()
			mux.HandleFunc("/health", health)
			mux.HandleFunc("/files/report", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/octet-stream")
				w.WriteHeader(http.StatusOK)
				w.(http.Flusher).Flush()
				for off := 0; off < len(body); off += 32 << 10 {
					end := min(len(body), off+32<<10)
					if l.send(r.Context(), end-off) != nil {
						return
					}
					w.Write(body[off:end])
				}
			})
			return mux
		},
		requests: "  - {name: report, url: /files/report, weight: 9}\n  - {name: health, url: /health, weight: 1}\n",
		baseline: 8, peak: "8x",
		layer: LayerFrontend, mechanism: MechBandwidth, symptom: SymptomBandwidth,
		fixStep: StepCDN, fix: "CDN",
		noWords: []string{"one instance"},
	},
	{
		name: "whole app slowing down together",
		target: func() http.Handler {
			workers := make(chan struct{}, 2)
			work := func(d time.Duration) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					workers <- struct{}{}
					time.Sleep(d)
					<-workers
					w.Write([]byte("ok\n"))
				}
			}
			mux := http.NewServeMux()
			mux.HandleFunc("/api/a", work(20*time.Millisecond))
			mux.HandleFunc("/api/b", work(10*time.Millisecond))
			return mux
		},
		requests: "  - {name: a, url: /api/a, weight: 6}\n  - {name: b, url: /api/b, weight: 4}\n",
		baseline: 20, peak: "8x",
		layer: LayerBackend, mechanism: MechSaturation, symptom: SymptomSaturation,
		fixStep: StepScale, fix: "Run more instances",
	},
	{
		name: "database then upstream, in sequence",
		target: func() http.Handler {
			p := make(pool, 1)
			provider := newTokenBucket(90, 3)
			mux := http.NewServeMux()
			mux.HandleFunc("/api/items", func(w http.ResponseWriter, r *http.Request) {
				if !p.query(r.Context(), 20*time.Millisecond, time.Second) {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusServiceUnavailable)
					w.Write([]byte(`{"error":"pq: sorry, too many clients already"}`))
					return
				}
				w.Write([]byte(`{"items":[]}`))
			})
			mux.HandleFunc("/api/pay", func(w http.ResponseWriter, r *http.Request) {
				time.Sleep(5 * time.Millisecond)
				if !provider.take() {
					w.Header().Set("X-Upstream-Status", "429")
					w.WriteHeader(http.StatusBadGateway)
					w.Write([]byte("payment provider rejected the call\n"))
					return
				}
				w.Write([]byte("paid\n"))
			})
			return mux
		},
		requests: "  - {name: items, url: /api/items, weight: 5}\n  - {name: pay, method: POST, url: /api/pay, weight: 5}\n",
		baseline: 15, peak: "14x",
		layer: LayerDatabase, mechanism: MechQueueing, symptom: SymptomLatencyThenErrors,
		fixStep: StepCache, fix: "Cache GET /api/items",
		order: []string{LayerDatabase, LayerThirdParty},
	},
}

// runCorpus runs one corpus target and analyses the result.
func runCorpus(t *testing.T, c corpusCase) *engine.Result {
	t.Helper()
	srv := httptest.NewServer(c.target())
	defer srv.Close()
	yaml := fmt.Sprintf(`name: corpus
baseline: %g
stages:
  - hold: {rate: 1x, duration: 3s}
  - ramp: {to: %s, duration: 8s}
  - hold: {rate: %s, duration: 3s}
requests:
%sslo: {p95: 500ms, error_rate: 1%%, sustain: 3}
options: {timeout: 3s, seed: 1}
`, c.baseline, c.peak, c.peak, c.requests)
	plan, err := scenarios.Parse("corpus.yaml", []byte(yaml), scenarios.Overrides{})
	if err != nil {
		t.Fatalf("scenarios.Parse() = %v\n%s", err, yaml)
	}
	res, err := engine.Run(t.Context(), engine.Config{Plan: plan, Target: srv.URL})
	if err != nil {
		t.Fatalf("engine.Run() = %v", err)
	}
	return res
}

// TestDiagnosis_Corpus checks, for each mechanism, the first layer, the
// mechanism, the symptom's class and the first fix, untagged; then that
// tags still win on the same results.
func TestDiagnosis_Corpus(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time load runs (14 s per target): run without -short (make test-load)")
	}
	for _, c := range corpus {
		t.Run(c.name, func(t *testing.T) {
			res := runCorpus(t, c)
			a := Analyze(res, Options{})
			v := a.Verdict
			var b strings.Builder
			a.WriteVerdict(&b)
			report := b.String()
			if v.Status != StatusFail {
				t.Fatalf("verdict %s; want fail\n%s", v.Status, report)
			}
			if v.FirstLayer != c.layer || v.Mechanism != c.mechanism {
				t.Errorf("first layer %s (%s, %s); want %s (%s)\n%s", v.FirstLayer, v.Mechanism, v.Confidence, c.layer, c.mechanism, report)
			}
			var first *LayerReport
			for k := range a.Layers {
				if a.Layers[k].Rank == 1 {
					first = &a.Layers[k]
				}
			}
			if first == nil || first.Symptom == nil || first.Symptom.Class != c.symptom {
				t.Errorf("first layer's symptom = %+v; want class %s", first, c.symptom)
			}
			if len(a.Recommendations) == 0 {
				t.Fatalf("no recommendations\n%s", report)
			}
			if r := a.Recommendations[0]; r.Step != c.fixStep || !strings.Contains(r.Title, c.fix) {
				t.Errorf("first fix = step %d %q; want step %d with %q", r.Step, r.Title, c.fixStep, c.fix)
			}
			if c.order != nil && (len(v.Order) < len(c.order) || strings.Join(v.Order[:len(c.order)], ",") != strings.Join(c.order, ",")) {
				t.Errorf("breakage order = %v; want %v first", v.Order, c.order)
			}
			for _, w := range c.noWords {
				if strings.Contains(report, w) {
					t.Errorf("verdict says %q:\n%s", w, report)
				}
			}
			if len(v.Evidence) == 0 || v.Confidence == "" || v.Confidence == ConfidenceUnconfirmed {
				t.Errorf("verdict evidence %q, confidence %q; want the evidence that decided it", v.Evidence, v.Confidence)
			}
			t.Logf("%s\n%s", c.name, report)

			// Tagged: the scenario's tag wins, whatever the evidence says.
			tagged := *res
			tagged.Plan.Requests = append([]engine.RequestInfo(nil), res.Plan.Requests...)
			for k := range tagged.Plan.Requests {
				tagged.Plan.Requests[k].Layer = LayerAuth
			}
			if got := Analyze(&tagged, Options{}).Verdict; got.FirstLayer != LayerAuth || got.Confidence != ConfidenceTagged {
				t.Errorf("tagged auth: first layer %s (%s); want auth (tagged)", got.FirstLayer, got.Confidence)
			}
		})
	}
}

// TestDiagnosis_PeriodicStall: a target that pauses everything for 600 ms
// every 2.5 s, at every load, and otherwise holds. The pauses are a
// finding of their own, never a breakpoint at whatever rate they hit.
func TestDiagnosis_PeriodicStall(t *testing.T) {
	if testing.Short() {
		t.Skip("a real-time load run of 14 s: run without -short (make test-load)")
	}
	var world sync.RWMutex
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	go func() {
		tick := time.NewTicker(2500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				world.Lock() // stop the world
				time.Sleep(600 * time.Millisecond)
				world.Unlock()
			}
		}
	}()
	res := runCorpus(t, corpusCase{
		target: func() http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				world.RLock()
				world.RUnlock()
				time.Sleep(2 * time.Millisecond)
				w.Write([]byte("ok\n"))
			})
		},
		requests: "  - {name: items, url: /api/items, weight: 9}\n  - {name: home, url: /, weight: 1}\n",
		baseline: 20, peak: "6x",
	})
	a := Analyze(res, Options{})
	var b strings.Builder
	a.WriteVerdict(&b)
	if a.Stalls == nil {
		t.Fatalf("no stalls found\n%s", b.String())
	}
	if a.Stalls.TypicalMs < 300 || a.Stalls.TypicalMs > 900 || a.Stalls.PeriodMs < 1000 || a.Stalls.PeriodMs > 4000 {
		t.Errorf("stalls %+v; want about 600 ms every about 2.5 s", a.Stalls)
	}
	if a.Verdict.Breakpoint != nil {
		t.Errorf("breakpoint at %s; periodic stalls are not a breakpoint\n%s", a.Verdict.Breakpoint.at(), b.String())
	}
	// Between the stalls the target held what it was sent (the last 3 s at
	// the peak hold a stall, so a held run of 3 windows ends below it).
	if a.Verdict.Capacity == nil || a.Verdict.Capacity.RateRPS < 0.7*a.Verdict.PeakRPS {
		t.Errorf("capacity %v; want the planned peak %.0f req/s held between the stalls\n%s", a.Verdict.Capacity, a.Verdict.PeakRPS, b.String())
	}
	if !strings.Contains(b.String(), "not a capacity limit") {
		t.Errorf("verdict does not say the stalls are not a capacity limit:\n%s", b.String())
	}
	t.Logf("%s", b.String())
}
