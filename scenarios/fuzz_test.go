package scenarios_test

import (
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/spikeload/spike/scenarios"
)

// fuzzSeeds are valid and invalid scenarios that reach every part of the
// loader.
var fuzzSeeds = []string{
	"baseline: 10\nshape: burst\nrequests:\n  - url: /\n",
	"baseline: 20\nshape: {preset: producthunt, peak: 8x, duration: 2m}\ntime_scale: 2\nrequests:\n  - url: /api/feed?page={{.RandInt 1 10}}\n    weight: 3\n  - name: order\n    method: POST\n    url: /api/orders\n    headers: {X-Id: '{{.UUID}}'}\n    body: '{\"user\": {{.User}}, \"seq\": {{.Seq}}}'\n    expect: [201]\nslo:\n  p95: 300ms\n  error_rate: 0.5%\n  requests:\n    order: {p95: 1s}\noptions:\n  window: 500ms\n  seed: 7\n  users: 10\n",
	"baseline: 100\nstages:\n  - hold: {duration: 10s}\n  - ramp: {to: 3x, duration: 20s}\n  - spike: {to: 1000, rise: 2s, duration: 10s}\n  - decay: {to: 50%, half_life: 5s, duration: 30s}\n  - wave: {low: 0, high: 200%, period: 20s, duration: 40s}\nrequests:\n  - url: /\n",
	"baseline: 5\nstages:\n  - hold: {rate: 0, duration: 1s}\n  - hold: {duration: 1s}\ntime_scale: 1000000\nrequests:\n  - url: /\n",
	"baseline: 1\nstages:\n  - wave: {low: 1, high: 1000000, period: 1ns, duration: 24h}\nrequests:\n  - url: /\n",
	"baseline: 1\nstages:\n  - decay: {from: 1000000, to: 0, half_life: 1ns, duration: 1s}\ntime_scale: 3\nrequests:\n  - url: /\n",
	"baseline: 1\nstages:\n  - hold: {duration: 1h}\n  - hold: {duration: 1h}\n  - hold: {duration: 1h}\ntime_scale: 1e-9\nrequests:\n  - url: /\n",
	"baseline: 10\nshape: {preset: viral, duration: 1ms}\nrequests:\n  - url: '/{{.RandInt -9223372036854775808 9223372036854775807}}'\n",
	"baseline: 10\nshape: burst\nstages: []\nrequests:\n  - {url: /, weight: 0}\n",
	"baseline: 10\nshape: nope\nrequests:\n  - url: /{{.Nope}}\n    method: FETCH\n",
	"baseline: 5x\nstages:\n  - ramp: {to: -5, duration: 1s}\nrequests: []\n",
	"baseline: 10\nshape: burst\njourneys:\n  - name: visit\n    weight: 2\n    steps:\n      - {url: /, think: 1s-2s}\n      - name: login\n        method: POST\n        url: /login\n        body: '{\"u\": {{.User}}}'\n        extract: {token: {json: a.0.b}, sid: {cookie: sid}, id: {regex: 'id=(\\d+)'}, e: {header: ETag}}\n      - {url: '/feed/{{.Vars.id}}', headers: {Authorization: 'Bearer {{.Vars.token}}'}}\n  - name: b\n    cookies: false\n    steps: [{url: /}]\noptions: {arrivals: poisson, mix: interleaved, max_sessions: 10}\n",
	"baseline: 10\nshape: burst\njourneys:\n  - name: a/b\n    steps:\n      - {url: '/{{.Vars.x}}', weight: 1, think: 2h}\n      - {url: /, extract: {2x: {}, y: {json: a, regex: '('}}}\nrequests:\n  - url: /\n",
	"shape: [a]\n",
	"requests: !!seq\n",
	"a: &a [*a, *a]\n",
	"~\n",
	"",
	"\t",
}

// FuzzLoadScenario checks that no input makes Parse panic, and that every
// plan it accepts can be run: a curve of positive, bounded length that plans
// requests.
func FuzzLoadScenario(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	// The examples, if any have been written yet.
	entries, err := os.ReadDir(filepath.Join("..", "examples"))
	if err != nil && !os.IsNotExist(err) {
		f.Fatalf("ReadDir(../examples) = %v", err)
	}
	for _, e := range entries {
		if e.IsDir() || !(strings.HasSuffix(e.Name(), ".yaml") || strings.HasSuffix(e.Name(), ".yml")) {
			continue
		}
		data, err := os.ReadFile(filepath.Join("..", "examples", e.Name()))
		if err != nil {
			f.Fatalf("ReadFile(%s) = %v", e.Name(), err)
		}
		f.Add(data)
	}
	// Inputs that once exhausted memory or time: an alias chain, merge keys,
	// deep nesting.
	f.Add([]byte(aliasChain(5)))
	f.Add([]byte(mergeChain(8)))
	f.Add([]byte(strings.Repeat("[", 100) + strings.Repeat("{a: ", 100)))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Bounds: whatever the input (at most MaxScenarioSize), Parse returns
		// quickly and allocates a bounded amount.
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		p, err := scenarios.Parse("fuzz.yaml", data, scenarios.Overrides{})
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("Parse(%d bytes) took %s; want < 2s", len(data), d)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 512<<20 {
			t.Fatalf("Parse(%d bytes) allocated %d MB; want < 512 MB", len(data), alloc>>20)
		}
		if err != nil {
			if p != nil {
				t.Fatalf("Parse = (%+v, %v); want no plan with an error", p, err)
			}
			if err.Error() == "" {
				t.Fatalf("Parse = an error with no message (load error %t)", scenarios.IsLoadError(err))
			}
			return
		}
		if p == nil || p.Curve == nil {
			t.Fatalf("Parse = (%+v, nil); want a plan with a curve", p)
		}
		c := p.Curve
		n, d := c.Total(), c.Duration()
		if n == 0 || d <= 0 || d > scenarios.MaxDuration {
			t.Fatalf("Parse: Total() = %d, Duration() = %s; want > 0 and a duration in (0, %s]", n, d, scenarios.MaxDuration)
		}
		rate, at := c.Peak()
		if math.IsNaN(rate) || rate <= 0 || rate > scenarios.MaxRate || at < 0 || at > d {
			t.Fatalf("Parse: Peak() = (%v, %s); want a rate in (0, %d] within [0, %s]", rate, at, scenarios.MaxRate, d)
		}
		if area := c.Integral(d); math.IsNaN(area) || math.Abs(area-float64(n)) > 1 {
			t.Fatalf("Parse: Integral(%s) = %v; want Total() = %d ± 1", d, area, n)
		}
		// The first and last requests are planned inside the curve, in order.
		first, last := c.TimeOf(0), c.TimeOf(n-1)
		if first < 0 || last < first || last > d {
			t.Fatalf("Parse: TimeOf(0) = %s, TimeOf(%d) = %s; want 0 <= first <= last <= %s", first, n-1, last, d)
		}
		if len(p.Requests) == 0 {
			t.Fatalf("Parse: no requests; want at least one")
		}
		// Journeys: every step is one request of the plan, in order, and
		// the steps' weights are the journeys' shares of arrivals.
		k, share := 0, 0.0
		for _, j := range p.Journeys {
			if len(j.Steps) == 0 || j.Weight <= 0 || strings.Contains(j.Name, "/") {
				t.Fatalf("Parse: journey %+v; want steps, weight > 0, no slash in the name", j)
			}
			for _, st := range j.Steps {
				if st.Req != k || p.Requests[k] != st.Request || !strings.HasPrefix(st.Request.Name, j.Name+"/") {
					t.Fatalf("Parse: journey %s step %d = %+v; want Plan.Requests[%d], named %s/…", j.Name, k, st, k, j.Name)
				}
				k++
			}
			share += j.Steps[0].Request.Weight
		}
		if p.Journeys != nil && (k != len(p.Requests) || math.Abs(share-1) > 1e-9) {
			t.Fatalf("Parse: %d steps for %d requests, shares adding up to %v; want every request a step, shares adding up to 1", k, len(p.Requests), share)
		}
	})
}
