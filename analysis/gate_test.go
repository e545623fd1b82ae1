package analysis

import (
	"strings"
	"testing"
	"time"

	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/scenarios"
)

// gateTarget is a fake target for gate tests: "home" answers in 20 ms up to
// capacity (0: never saturates), then in 900 ms; "api" likewise, apiExtra
// slower, failing every request with 500s when failAPI is set.
type gateTarget struct {
	capacity float64
	failAPI  bool
	apiExtra time.Duration
}

func (g gateTarget) model() model {
	return func(_ int, rate float64) map[string]obs {
		lat := 20 * time.Millisecond
		if g.capacity > 0 && rate > g.capacity {
			lat = 900 * time.Millisecond
		}
		api := obs{n: int(rate/2 + 0.5), lat: lat, status: 500}
		api.lat += g.apiExtra
		if g.failAPI {
			api.errs = api.n
		}
		return map[string]obs{"home": {n: int(rate/2 + 0.5), lat: lat}, "api": api}
	}
}

var gateReqs = []req{{name: "home", url: "/"}, {name: "api", url: "/api/thing"}}

// gateRun is a 20 req/s baseline ramped to 100 req/s (5x) over 9 windows,
// then held for 3, against t.
func gateRun(t *testing.T, g gateTarget) *engine.Result {
	b := newBuilder(t, 20, gateReqs...)
	b.hold(g.model(), 20, 3).ramp(g.model(), 20, 100, 9).hold(g.model(), 100, 3)
	return b.done()
}

func checkOf(r GateReport, name string) *GateCheck {
	for k := range r.Checks {
		if r.Checks[k].Name == name {
			return &r.Checks[k]
		}
	}
	return nil
}

func TestGate(t *testing.T) {
	t.Parallel()
	healthy := gateRun(t, gateTarget{})
	breaks := gateRun(t, gateTarget{capacity: 60})
	failing := gateRun(t, gateTarget{failAPI: true})

	bound := gateRun(t, gateTarget{})
	for w := 10; w < 15; w++ {
		bound.Windows[w].GeneratorBound = true
		bound.Windows[w].Sent = bound.Windows[w].Planned * 4 / 5
	}

	blip := gateRun(t, gateTarget{})
	blip.Windows[7].GeneratorBound = true
	mostly := gateRun(t, gateTarget{})
	for _, w := range []int{0, 1, 2, 3, 4, 6} {
		mostly.Windows[w].GeneratorBound = true
	}

	strict := gateRun(t, gateTarget{apiExtra: 180 * time.Millisecond})
	strict.Plan.SLO.Requests = map[string]scenarios.Limits{"api": {P95: 100 * time.Millisecond, ErrorRate: 0.01}}

	down := newBuilder(t, 20, gateReqs...)
	down.hold(func(int, float64) map[string]obs {
		return map[string]obs{"home": {n: 10, lat: time.Millisecond, errs: 10, kind: "refused"}, "api": {n: 10, lat: time.Millisecond, errs: 10, kind: "refused"}}
	}, 20, 5)
	unreach := down.done()

	tests := []struct {
		name   string
		res    *engine.Result
		gate   scenarios.Gate
		status Status
		checks map[string]Status
		msg    map[string]string
	}{
		{"healthy, whole run", healthy, scenarios.Gate{Set: true}, StatusPass,
			map[string]Status{CheckSLO: StatusPass, "request home": StatusPass, "request api": StatusPass}, nil},
		{"breaks above survive", breaks, scenarios.Gate{Set: true, Survive: 60}, StatusPass,
			map[string]Status{CheckSLO: StatusPass}, map[string]string{CheckSLO: "held the SLO in 8 windows up to 60 req/s (3.0x)"}},
		{"breaks below survive", breaks, scenarios.Gate{Set: true, Survive: 100}, StatusFail,
			map[string]Status{CheckSLO: StatusFail, "request home": StatusFail, "request api": StatusFail},
			map[string]string{CheckSLO: "7 windows of 15 up to 100 req/s (5.0x), first at 0:08 (planned 70 req/s (3.5x)): p95 9"}},
		{"breaks, whole run", breaks, scenarios.Gate{}, StatusFail, map[string]Status{CheckSLO: StatusFail}, nil},
		{"capacity enough", breaks, scenarios.Gate{Set: true, Survive: 40, MinCapacity: 40}, StatusPass,
			map[string]Status{CheckSLO: StatusPass, CheckCapacity: StatusPass}, nil},
		{"capacity short", breaks, scenarios.Gate{Set: true, Survive: 40, MinCapacity: 50}, StatusFail,
			map[string]Status{CheckSLO: StatusPass, CheckCapacity: StatusFail},
			map[string]string{CheckCapacity: "the SLO broke at 70 req/s (3.5x) (at 0:08); it held 40 req/s (2.0x)"}},
		{"capacity past the peak", healthy, scenarios.Gate{Set: true, MinCapacity: 200}, StatusInconclusive,
			map[string]Status{CheckCapacity: StatusInconclusive}, map[string]string{CheckCapacity: "planned at most 100 req/s"}},
		{"survive past the peak", healthy, scenarios.Gate{Set: true, Survive: 200}, StatusInconclusive,
			map[string]Status{CheckSLO: StatusInconclusive}, map[string]string{CheckSLO: "never tested survive 200 req/s (10x)"}},
		{"request errors", failing, scenarios.Gate{Set: true}, StatusFail,
			map[string]Status{CheckSLO: StatusFail, "request home": StatusPass, "request api": StatusFail},
			map[string]string{"request api": "error rate 100% (10 of 10)"}},
		{"request's own limit", strict, scenarios.Gate{Set: true}, StatusFail,
			map[string]Status{CheckSLO: StatusPass, "request home": StatusPass, "request api": StatusFail},
			map[string]string{"request api": "p95 2"}},
		{"generator-bound in scope", bound, scenarios.Gate{Set: true}, StatusInconclusive,
			map[string]Status{CheckSLO: StatusInconclusive}, map[string]string{CheckSLO: "could not send the planned load on time in 5 windows of the run (generator-bound), so the target was never judged at 100 req/s (5.0x)"}},
		{"one generator-bound window below the top", blip, scenarios.Gate{Set: true}, StatusPass,
			map[string]Status{CheckSLO: StatusPass}, map[string]string{CheckSLO: "held the SLO in 14 windows of the run (not judged: 1 where spike's generator lagged)"}},
		{"mostly generator-bound", mostly, scenarios.Gate{Set: true, Survive: 60}, StatusInconclusive,
			map[string]Status{CheckSLO: StatusInconclusive}, map[string]string{CheckSLO: "more than it judged"}},
		{"generator-bound past survive", bound, scenarios.Gate{Set: true, Survive: 60}, StatusPass,
			map[string]Status{CheckSLO: StatusPass}, nil},
		{"unreachable", unreach, scenarios.Gate{Set: true, MinCapacity: 20}, StatusInconclusive,
			map[string]Status{CheckSLO: StatusInconclusive, CheckCapacity: StatusInconclusive, "request api": StatusInconclusive},
			map[string]string{CheckSLO: "unreachable: none of 100 requests got a response (connection refused ×100)"}},
		{"regression without a previous result", healthy, scenarios.Gate{Set: true, MaxRegression: 0.1}, StatusPass,
			map[string]Status{CheckRegression: StatusSkipped}, map[string]string{CheckRegression: "--baseline-result"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep := Gate(tt.res, nil, tt.gate, nil)
			if rep.Status != tt.status {
				t.Errorf("Gate(%+v).Status = %s (%s); want %s", tt.gate, rep.Status, rep.Headline, tt.status)
			}
			for name, want := range tt.checks {
				c := checkOf(rep, name)
				if c == nil {
					t.Errorf("Gate(%+v): no check %q in %+v", tt.gate, name, rep.Checks)
					continue
				}
				if c.Status != want {
					t.Errorf("Gate(%+v) check %q = %s (%s); want %s", tt.gate, name, c.Status, c.Message, want)
				}
				if c.Measured == "" || c.Limit == "" || c.Message == "" {
					t.Errorf("Gate(%+v) check %q = %+v; want measured, limit and message", tt.gate, name, *c)
				}
			}
			for name, want := range tt.msg {
				if c := checkOf(rep, name); c != nil && !strings.Contains(c.Message, want) {
					t.Errorf("Gate(%+v) check %q message = %q; want it to contain %q", tt.gate, name, c.Message, want)
				}
			}
			if n := rep.Count(StatusPass) + rep.Count(StatusFail) + rep.Count(StatusInconclusive) + rep.Count(StatusSkipped); n != len(rep.Checks) {
				t.Errorf("Gate(%+v): counts add up to %d; want %d", tt.gate, n, len(rep.Checks))
			}
			if !strings.HasPrefix(rep.Headline, "gate ") {
				t.Errorf("Gate(%+v).Headline = %q; want it to start with \"gate \"", tt.gate, rep.Headline)
			}
		})
	}
}

func TestGate_Checks(t *testing.T) {
	t.Parallel()
	rep := Gate(gateRun(t, gateTarget{capacity: 60}), nil, scenarios.Gate{Set: true, Survive: 100, MinCapacity: 20}, nil)
	var names []string
	for _, c := range rep.Checks {
		names = append(names, c.Name)
	}
	want := "slo|min capacity|request home|request api"
	if got := strings.Join(names, "|"); got != want {
		t.Errorf("Gate checks = %s; want %s", got, want)
	}
	slo := checkOf(rep, CheckSLO)
	if slo.At == nil || slo.At.RateRPS <= 60 {
		t.Errorf("slo check At = %v; want the first window planned above 60 req/s", slo.At)
	}
	if want := "p95 ≤ 500 ms, error rate ≤ 1% in every window up to 100 req/s (5.0x)"; slo.Limit != want {
		t.Errorf("slo check Limit = %q; want %q", slo.Limit, want)
	}
	if !strings.HasPrefix(slo.Measured, "worst p95 9") {
		t.Errorf("slo check Measured = %q; want the worst p95", slo.Measured)
	}
	if want := "gate failed: slo, request home, request api (3 of 4 checks failed)"; rep.Headline != want {
		t.Errorf("Headline = %q; want %q", rep.Headline, want)
	}
	if len(rep.Notes) != 0 {
		t.Errorf("Notes = %q; want none", rep.Notes)
	}
	if rep := Gate(gateRun(t, gateTarget{}), nil, scenarios.Gate{}, nil); len(rep.Notes) != 1 || !strings.Contains(rep.Notes[0], "no gate section") {
		t.Errorf("Gate without a gate section: Notes = %q; want one saying the SLO is enforced over the whole run", rep.Notes)
	}
}

func TestGate_Regression(t *testing.T) {
	t.Parallel()
	fast := gateRun(t, gateTarget{capacity: 80})
	slowBase := gateRun(t, gateTarget{capacity: 80, apiExtra: 40 * time.Millisecond})
	weaker := gateRun(t, gateTarget{capacity: 50})
	tests := []struct {
		name     string
		prev     *engine.Result
		cur      *engine.Result
		maxReg   float64
		capacity Status
		p95      Status
		status   Status
	}{
		{"same", fast, fast, 0.1, StatusPass, StatusPass, StatusPass},
		{"capacity dropped", fast, weaker, 0.1, StatusFail, StatusPass, StatusFail},
		{"capacity dropped within the limit", fast, weaker, 0.5, StatusPass, StatusPass, StatusPass},
		{"capacity rose", weaker, fast, 0.1, StatusPass, StatusPass, StatusPass},
		{"p95 at baseline rose", fast, slowBase, 0.1, StatusPass, StatusFail, StatusFail},
		{"p95 at baseline fell", slowBase, fast, 0.1, StatusPass, StatusPass, StatusPass},
		{"default threshold", fast, weaker, 0, StatusFail, StatusPass, StatusFail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep := Gate(tt.cur, nil, scenarios.Gate{Set: true, Survive: 40, MaxRegression: tt.maxReg}, tt.prev)
			if c := checkOf(rep, CheckRegCapacity); c == nil || c.Status != tt.capacity {
				t.Errorf("capacity regression check = %+v; want %s", c, tt.capacity)
			}
			if c := checkOf(rep, CheckRegP95); c == nil || c.Status != tt.p95 {
				t.Errorf("p95 regression check = %+v; want %s", c, tt.p95)
			}
			if rep.Status != tt.status {
				t.Errorf("Status = %s (%s); want %s", rep.Status, rep.Headline, tt.status)
			}
			if rep.Comparison == nil {
				t.Errorf("Comparison = nil; want the comparison with the previous result")
			}
			if tt.maxReg == 0 && (len(rep.Notes) == 0 || !strings.Contains(rep.Notes[0], "10%")) {
				t.Errorf("Notes = %q; want the default threshold named", rep.Notes)
			}
		})
	}
}
