package mvpapp

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Load tests drive a real server on 127.0.0.1 with vegeta, for a few seconds
// each, and check that each layer breaks the designed way at about 2× its
// capacity and holds at 0.5×. Capacities come from sleeps, locks and pools, so
// the results do not depend on the machine's speed; assertions use bands.

// loadConfig is c with less data: seeding 20,000 posts takes seconds under
// -race, and no capacity depends on the number of users or posts.
func loadConfig(c Config) Config {
	c.Users, c.Posts = 1000, 1000
	return c
}

// loadAttempts is how many times a load case may run before it fails. A case
// measures a real server on a machine shared with other work: a CPU stall can
// fail one attempt (vegeta catches up in bursts, every request is late), but a
// layer that does not break the designed way fails every attempt.
const loadAttempts = 3

// checker collects the failures of one attempt of a load case.
type checker struct{ failures []string }

// Errorf records a failure.
func (c *checker) Errorf(format string, args ...any) {
	c.failures = append(c.failures, fmt.Sprintf(format, args...))
}

// retryLoad runs attempt until one passes, at most loadAttempts times, each with
// a new server made from cfg; it reports the last attempt's failures.
func retryLoad(t *testing.T, cfg Config, attempt func(c *checker, s *Server)) {
	t.Helper()
	for i := 1; ; i++ {
		var c checker
		s := startServer(t, cfg)
		attempt(&c, s)
		if err := s.Close(); err != nil {
			t.Errorf("Server.Close() = %v", err)
		}
		if len(c.failures) == 0 {
			return
		}
		if i == loadAttempts {
			for _, f := range c.failures {
				t.Errorf("attempt %d: %s", i, f)
			}
			return
		}
		t.Logf("attempt %d failed, retrying: %s", i, strings.Join(c.failures, "; "))
		time.Sleep(500 * time.Millisecond)
	}
}

// Widths: how many load cases of one test run at once. The cases mostly sleep,
// but under -race each request costs a few ms of CPU, and a busy two-core
// machine has little to spare: the mix cases, at up to 90 req/s, run one at a
// time; the layer cases, lighter, two at a time.
const (
	layerWidth = 2
	mixWidth   = 1
)

// runConcurrently runs each case as a subtest of t, width at a time. Subtests
// started this way are not limited by -parallel (which defaults to GOMAXPROCS),
// so the cases, which mostly wait, do not queue behind each other.
func runConcurrently(t *testing.T, width int, names []string, run func(t *testing.T, i int)) {
	sem := make(chan struct{}, width)
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			t.Run(name, func(t *testing.T) { run(t, i) })
		})
	}
	wg.Wait()
}

func startServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	s, err := Start(t.Context(), cfg, "127.0.0.1:0")
	if err != nil {
		t.Fatalf("Start() = %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Server.Close() = %v", err)
		}
	})
	return s
}

// outcome summarises an attack.
type outcome struct {
	total    int
	failures map[Layer]int // by the layer that answered; "other" for anything else
	examples map[Layer]string
	latency  []time.Duration // sorted
}

const otherFailure Layer = "other"

func (o outcome) failed() int {
	n := 0
	for _, v := range o.failures {
		n += v
	}
	return n
}

func (o outcome) rate(l Layer) float64 { return float64(o.failures[l]) / float64(max(o.total, 1)) }

func (o outcome) quantile(q float64) time.Duration {
	if len(o.latency) == 0 {
		return 0
	}
	return o.latency[min(len(o.latency)-1, int(q*float64(len(o.latency))))]
}

func (o outcome) String() string {
	return fmt.Sprintf("%d requests, failures %v, p50 %s, p95 %s, examples %q",
		o.total, o.failures, o.quantile(0.5).Round(time.Millisecond), o.quantile(0.95).Round(time.Millisecond), o.examples)
}

// failureLayer names the layer a failed response comes from, by its status and
// body; "" for a success.
func failureLayer(r *vegeta.Result) Layer {
	body := string(r.Body)
	switch {
	case r.Error == "" && r.Code >= 200 && r.Code < 300:
		return ""
	case r.Code == 503 && strings.HasPrefix(body, "database pool exhausted: no connection within"):
		return LayerDatabase
	case r.Code == 503 && strings.HasPrefix(body, "session store busy"):
		return LayerAuth
	case r.Code == 502 && strings.HasPrefix(body, "email provider: 429 Too Many Requests"):
		return LayerThirdParty
	case r.Code == 503 && strings.HasPrefix(body, "server overloaded: "):
		return LayerBackend
	case r.Code == 503 && strings.HasPrefix(body, "static server busy"):
		return LayerFrontend
	}
	return otherFailure
}

// attack sends targets round robin at rate req/s for dur, with a new attacker.
func attack(t *testing.T, targets []vegeta.Target, rate float64, dur time.Duration) outcome {
	t.Helper()
	// Our own transport, so that its idle connections can be closed after the
	// attack: the server's graceful shutdown waits for connections that were
	// dialed but never used.
	tr := &http.Transport{MaxIdleConnsPerHost: vegeta.DefaultConnections, DialContext: (&net.Dialer{}).DialContext}
	defer tr.CloseIdleConnections()
	atk := vegeta.NewAttacker(vegeta.Client(&http.Client{Transport: tr, Timeout: 10 * time.Second}))
	pacer := vegeta.ConstantPacer{Freq: int(math.Round(rate * 10)), Per: 10 * time.Second}
	o := outcome{failures: map[Layer]int{}, examples: map[Layer]string{}}
	for r := range atk.Attack(vegeta.NewStaticTargeter(targets...), pacer, dur, t.Name()) {
		o.total++
		o.latency = append(o.latency, r.Latency)
		if l := failureLayer(r); l != "" {
			o.failures[l]++
			if _, ok := o.examples[l]; !ok {
				o.examples[l] = fmt.Sprintf("%d %s %.80s", r.Code, r.Error, r.Body)
			}
		}
	}
	slices.Sort(o.latency)
	return o
}

func jsonHeader() http.Header { return http.Header{"Content-Type": []string{"application/json"}} }

func loginTargets(base string) []vegeta.Target {
	return []vegeta.Target{{Method: "POST", URL: base + "/api/login", Header: jsonHeader(),
		Body: []byte(`{"user":"u42","password":"password"}`)}}
}

func signupTargets(base string) []vegeta.Target {
	return []vegeta.Target{{Method: "POST", URL: base + "/api/signup", Header: jsonHeader(),
		Body: []byte(`{"user":"newbie","email":"newbie@example.com"}`)}}
}

func getTargets(base, path string) []vegeta.Target {
	return []vegeta.Target{{Method: "GET", URL: base + path}}
}

// mixTargets returns n targets in the proportions of m, interleaved evenly
// (smooth weighted round robin), profile ids and login users spread over all users.
func mixTargets(base string, m Mix, users, n int) []vegeta.Target {
	type kind struct {
		weight  float64
		current float64
		target  func(i int) vegeta.Target
	}
	kinds := []*kind{
		{weight: m.Home, target: func(int) vegeta.Target { return getTargets(base, "/")[0] }},
		{weight: m.AppJS, target: func(int) vegeta.Target { return getTargets(base, "/static/app.js")[0] }},
		{weight: m.Hero, target: func(int) vegeta.Target { return getTargets(base, "/static/hero.png")[0] }},
		{weight: m.Feed, target: func(int) vegeta.Target { return getTargets(base, "/api/feed")[0] }},
		{weight: m.Profile, target: func(i int) vegeta.Target {
			return vegeta.Target{Method: "GET", URL: fmt.Sprintf("%s/api/profile/%d", base, (i*7919)%users+1)}
		}},
		{weight: m.Login, target: func(i int) vegeta.Target {
			return vegeta.Target{Method: "POST", URL: base + "/api/login", Header: jsonHeader(),
				Body: fmt.Appendf(nil, `{"user":"u%d","password":"password"}`, i%users+1)}
		}},
		{weight: m.Signup, target: func(i int) vegeta.Target {
			return vegeta.Target{Method: "POST", URL: base + "/api/signup", Header: jsonHeader(),
				Body: fmt.Appendf(nil, `{"user":"new%d","email":"new%d@example.com"}`, i, i)}
		}},
	}
	total := m.Total()
	out := make([]vegeta.Target, 0, n)
	for i := range n {
		var best *kind
		for _, k := range kinds {
			k.current += k.weight
			if best == nil || k.current > best.current {
				best = k
			}
		}
		best.current -= total
		out = append(out, best.target(i))
	}
	return out
}

func TestLoad_layers(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	t.Parallel()
	def := loadConfig(DefaultConfig())
	inflight := loadConfig(InFlightWeakest())
	type layerTest struct {
		layer    Layer
		cfg      Config
		targets  func(base string) []vegeta.Target
		capacity float64 // req/s of these targets
	}
	tests := []layerTest{
		{
			// Two queries per feed: 4 conns / 140 ms = 28.6 req/s.
			layer: LayerDatabase, cfg: def, capacity: def.Capacity().DBQueries / 2,
			targets: func(base string) []vegeta.Target { return getTargets(base, "/api/feed") },
		},
		{
			// One lock held 70 ms per login: 14.3 req/s.
			layer: LayerAuth, cfg: def, capacity: def.Capacity().Auth,
			targets: loginTargets,
		},
		{
			// 6 emails/s after a burst of 6.
			layer: LayerThirdParty, cfg: def, capacity: def.Capacity().Email,
			targets: signupTargets,
		},
		{
			// One slot at 3 MB/s, hero.png 120 ms: 8.3 req/s.
			layer: LayerFrontend, cfg: def, capacity: 1 / def.staticCost(heroPNGSize).Seconds(),
			targets: func(base string) []vegeta.Target { return getTargets(base, "/static/hero.png") },
		},
		{
			// 10 slots, each feed 150 ms of app time and 2 × 70 ms of queries
			// (the pool of 12 never runs out): 34.5 req/s.
			layer: LayerBackend, cfg: inflight,
			capacity: float64(inflight.MaxInFlight) / (inflight.AppLatency + 2*inflight.DBLatency).Seconds(),
			targets:  func(base string) []vegeta.Target { return getTargets(base, "/api/feed") },
		},
	}
	type loadCase struct {
		layerTest
		factor float64
	}
	var cases []loadCase
	var names []string
	for _, factor := range []float64{2, 0.5} { // the longer cases first
		for _, tt := range tests {
			cases = append(cases, loadCase{tt, factor})
			names = append(names, fmt.Sprintf("%s/%.1fx", tt.layer, factor))
		}
	}
	runConcurrently(t, layerWidth, names, func(t *testing.T, i int) {
		tt := cases[i]
		dur := 3 * time.Second
		if tt.factor < 1 {
			dur = 2 * time.Second
		}
		rate := tt.factor * tt.capacity
		retryLoad(t, tt.cfg, func(c *checker, s *Server) {
			o := attack(t, tt.targets(s.URL()), rate, dur)
			t.Logf("%.1f req/s for %s: %s", rate, dur, o)
			if tt.factor < 1 {
				if o.failed()*100 >= o.total {
					c.Errorf("at 0.5× capacity (%.1f req/s): %d of %d failed; want < 1%%", rate, o.failed(), o.total)
				}
				if p95 := o.quantile(0.95); p95 > 500*time.Millisecond {
					c.Errorf("at 0.5× capacity (%.1f req/s): p95 = %s; want ≤ 500 ms", rate, p95)
				}
				return
			}
			// At 2× capacity about a third to a half fail, the designed way:
			// requests wait up to 1 s for the resource, then give up.
			if got := o.rate(tt.layer); got < 0.1 || got > 0.85 {
				c.Errorf("at 2× capacity (%.1f req/s): %.0f%% failed at %s; want 10%%–85%%", rate, 100*got, tt.layer)
			}
			if other := o.failed() - o.failures[tt.layer]; other*50 > o.total {
				c.Errorf("at 2× capacity: %d failures not from %s; want < 2%%", other, tt.layer)
			}
			if tt.layer == LayerFrontend {
				// Static files queue for the slot: slow before they fail.
				if p50, nominal := o.quantile(0.5), tt.cfg.staticCost(heroPNGSize); p50 < 3*nominal {
					c.Errorf("at 2× capacity hero.png p50 = %s; want ≥ 3× %s", p50, nominal)
				}
			}
		})
	})
}

func TestLoad_mix(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	t.Parallel()
	tests := []struct {
		name     string
		cfg      Config
		rate     float64 // total req/s of the ProductHunt mix
		dur      time.Duration
		want     Layer // the layer that must fail first; "" for none
		minCount int   // failures at want
	}{
		// Baseline: nothing fails, and p95 is within the 500 ms SLO (checked below).
		{name: "default at baseline", cfg: DefaultConfig(), rate: 20, dur: 3 * time.Second},
		// 1.5× the database breakpoint (60): the database fails first.
		{name: "default at 90", cfg: DefaultConfig(), rate: 90, dur: 3 * time.Second, want: LayerDatabase, minCount: 10},
		// The cache moves the breakpoint past 90 (to the email limit at 100).
		{name: "cache at 90", cfg: DefaultConfig().WithFixes(FixCache), rate: 90, dur: 3 * time.Second},
		// The alternative configs break at about 40: at 80 their layer fails first.
		{name: "EmailWeakest at 80", cfg: EmailWeakest(), rate: 80, dur: 4 * time.Second, want: LayerThirdParty, minCount: 3},
		{name: "SessionsWeakest at 80", cfg: SessionsWeakest(), rate: 80, dur: 3 * time.Second, want: LayerAuth, minCount: 5},
		{name: "InFlightWeakest at 80", cfg: InFlightWeakest(), rate: 80, dur: 3 * time.Second, want: LayerBackend, minCount: 30},
	}
	names := make([]string, len(tests))
	for i, tt := range tests {
		names[i] = tt.name
	}
	runConcurrently(t, mixWidth, names, func(t *testing.T, i int) {
		tt := tests[i]
		cfg := loadConfig(tt.cfg)
		retryLoad(t, cfg, func(c *checker, s *Server) {
			o := attack(t, mixTargets(s.URL(), ProductHuntMix(), cfg.Users, 4000), tt.rate, tt.dur)
			t.Logf("%.0f req/s for %s: %s", tt.rate, tt.dur, o)
			if tt.want == "" {
				if o.failed()*100 >= o.total {
					c.Errorf("%d of %d failed; want < 1%%", o.failed(), o.total)
				}
				if p95 := o.quantile(0.95); p95 > 500*time.Millisecond {
					c.Errorf("p95 = %s; want ≤ 500 ms", p95)
				}
				return
			}
			if o.failures[tt.want] < tt.minCount {
				c.Errorf("%d failures at %s; want ≥ %d", o.failures[tt.want], tt.want, tt.minCount)
			}
			if other := o.failed() - o.failures[tt.want]; other*100 > o.total {
				c.Errorf("%d failures not from %s; want < 1%% of %d requests", other, tt.want, o.total)
			}
		})
	})
}

// TestLoad_queue checks that with the queue fix signups at 2× the email rate
// all succeed at once, and the emails go out at the rate limit without loss.
func TestLoad_queue(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	t.Parallel()
	cfg := loadConfig(DefaultConfig().WithFixes(FixQueue))
	retryLoad(t, cfg, func(c *checker, s *Server) {
		start := time.Now()
		o := attack(t, signupTargets(s.URL()), 2*cfg.EmailRate, 1500*time.Millisecond)
		t.Logf("%s", o)
		if o.failed() != 0 {
			c.Errorf("%d of %d signups failed; want none", o.failed(), o.total)
		}
		if p50 := o.quantile(0.5); p50 >= cfg.DBLatency+cfg.EmailLatency {
			c.Errorf("signup p50 = %s; want < %s (the email is not waited for)", p50, cfg.DBLatency+cfg.EmailLatency)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		for s.App().Stats().EmailsSent < int64(o.total) && ctx.Err() == nil {
			time.Sleep(50 * time.Millisecond)
		}
		st := s.App().Stats()
		if st.EmailsSent != int64(o.total) || st.EmailsDropped != 0 {
			c.Errorf("Stats() = %+v; want all %d emails sent, none dropped", st, o.total)
		}
		// The workers keep to the rate: the burst of 1, then 6/s.
		if limit := 1 + cfg.EmailRate*time.Since(start).Seconds(); float64(st.EmailsSent) > limit {
			c.Errorf("%d emails sent in %s; want ≤ %.0f at %.0f/s", st.EmailsSent, time.Since(start), limit, cfg.EmailRate)
		}
	})
}
