package scenarios_test

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spikeload/spike/scenarios"
)

func TestLoad_Journeys(t *testing.T) {
	t.Parallel()
	p, err := scenarios.Load(filepath.Join("testdata", "journeys.yaml"), scenarios.Overrides{})
	if err != nil {
		t.Fatalf("Load(testdata/journeys.yaml) = %v", err)
	}
	// Every step, journey after journey, named journey/step and weighted by
	// its journey's share of arrivals.
	type req struct {
		name, method, layer string
		weight              float64
	}
	want := []req{
		{"signup/land", "GET", "", 0.75},
		{"signup/GET /static/app.js", "GET", "frontend", 0.75},
		{"signup/login", "POST", "auth", 0.75},
		{"signup/feed", "GET", "", 0.75},
		{"browse/land", "GET", "", 0.25},
	}
	var got []req
	for _, r := range p.Requests {
		got = append(got, req{r.Name, r.Method, r.Layer, r.Weight})
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Requests = %+v; want %+v", got, want)
	}
	if len(p.Journeys) != 2 {
		t.Fatalf("len(Journeys) = %d; want 2", len(p.Journeys))
	}
	signup, browse := p.Journeys[0], p.Journeys[1]
	if signup.Name != "signup" || signup.Weight != 3 || !signup.Cookies || len(signup.Steps) != 4 {
		t.Errorf("Journeys[0] = %+v; want signup, weight 3, cookies, 4 steps", signup)
	}
	if browse.Name != "browse" || browse.Weight != 1 || browse.Cookies || len(browse.Steps) != 1 {
		t.Errorf("Journeys[1] = %+v; want browse, weight 1, no cookies, 1 step", browse)
	}
	k := 0
	for _, j := range p.Journeys {
		for i, st := range j.Steps {
			if st.Req != k || st.Request != p.Requests[k] {
				t.Errorf("%s step %d: Req = %d, Request = %p; want %d, Plan.Requests[%d] (%p)", j.Name, i, st.Req, st.Request, k, k, p.Requests[k])
			}
			k++
		}
	}
	thinks := []scenarios.Think{{Min: time.Second, Max: 3 * time.Second}, {}, {Min: 2 * time.Second}, {}}
	for i, st := range signup.Steps {
		if st.Think != thinks[i] {
			t.Errorf("signup step %d: Think = %+v; want %+v", i, st.Think, thinks[i])
		}
	}
	type ex struct{ v, from, path string }
	var login, feed []ex
	for _, e := range signup.Steps[2].Extract {
		login = append(login, ex{e.Var, e.From, e.Path})
	}
	for _, e := range signup.Steps[3].Extract {
		feed = append(feed, ex{e.Var, e.From, e.Path})
	}
	wantLogin := []ex{{"sid", "cookie", "sid"}, {"token", "json", "session.token"}, {"user_id", "regex", `"id":\s*(\d+)`}}
	wantFeed := []ex{{"etag", "header", "ETag"}, {"first", "json", "items.0.id"}}
	if !reflect.DeepEqual(login, wantLogin) || !reflect.DeepEqual(feed, wantFeed) {
		t.Errorf("Extract = %+v and %+v; want %+v and %+v (by variable name)", login, feed, wantLogin, wantFeed)
	}
	if !signup.Steps[2].NeedsBody() || !signup.Steps[3].NeedsBody() || signup.Steps[0].NeedsBody() {
		t.Errorf("NeedsBody = %t, %t, %t; want true for login and feed, false for land", signup.Steps[2].NeedsBody(), signup.Steps[3].NeedsBody(), signup.Steps[0].NeedsBody())
	}
	feedReq := signup.Steps[3].Request
	if feedReq.URL.Raw() != "/api/feed?user={{.Vars.user_id}}" || len(feedReq.Headers) != 1 || feedReq.Headers[0].Value.Raw() != "Bearer {{.Vars.token}}" {
		t.Errorf("feed = %+v; want its URL and Authorization templates as written", feedReq)
	}
	if p.Options.Arrivals != scenarios.ArrivalsPoisson || p.Options.Mix != scenarios.MixInterleaved || p.Options.MaxSessions != 500 {
		t.Errorf("Options = %+v; want poisson arrivals, interleaved mix, 500 sessions", p.Options)
	}
	if l := p.SLO.For("signup/login"); l.P95 != time.Second {
		t.Errorf("SLO.For(signup/login) = %+v; want p95 1s (an override by step name)", l)
	}
	if p.Scenario.Journeys[0].Steps[2].Extract["token"].JSON != "session.token" {
		t.Errorf("Scenario = %+v; want the journeys as written", p.Scenario.Journeys)
	}
}

// TestParse_JourneyDefaults checks the defaults a journey scenario gets,
// and that a request mix gets no journeys and no session bound.
func TestParse_JourneyDefaults(t *testing.T) {
	t.Parallel()
	p := mustParse(t, "j.yaml", "baseline: 10\nshape: burst\njourneys:\n  - name: a\n    steps:\n      - url: /\n      - url: /b\n", scenarios.Overrides{})
	if p.Options.Arrivals != scenarios.ArrivalsEven || p.Options.Mix != scenarios.MixRandom || p.Options.MaxSessions != scenarios.DefaultMaxSessions {
		t.Errorf("Options = %+v; want even arrivals, random mix, %d sessions", p.Options, scenarios.DefaultMaxSessions)
	}
	if len(p.Requests) != 2 || p.Requests[0].Name != "a/GET /" || p.Requests[1].Name != "a/GET /b" || p.Requests[0].Weight != 1 {
		t.Errorf("Requests = %+v; want a/GET / and a/GET /b, weight 1", p.Requests)
	}
	if j := p.Journeys[0]; !j.Cookies || j.Weight != 1 || j.Steps[0].Think != (scenarios.Think{}) || len(j.Steps[0].Extract) != 0 {
		t.Errorf("Journeys[0] = %+v; want cookies on, weight 1, no think time, no extraction", j)
	}
	r := mustParse(t, "r.yaml", "baseline: 10\nshape: burst\nrequests:\n  - url: /\n", scenarios.Overrides{})
	if r.Journeys != nil || r.Options.MaxSessions != 0 || r.Options.Arrivals != scenarios.ArrivalsEven {
		t.Errorf("request mix: Journeys = %v, Options = %+v; want nil, no session bound, even arrivals", r.Journeys, r.Options)
	}
}

// TestParse_JourneyTemplates checks which variables a step may use: those
// extracted by an earlier step of its journey, and today's values.
func TestParse_JourneyTemplates(t *testing.T) {
	t.Parallel()
	const head = "baseline: 10\nshape: burst\njourneys:\n  - name: j\n    steps:\n" // lines 1-5
	tests := []struct {
		name, steps, want string // want "" means valid
	}{
		{"today's values", "      - url: /{{.User}}/{{.Seq}}\n        headers: {X-Id: '{{.UUID}}'}\n        body: '{{.RandInt 1 5}}'\n", ""},
		{"earlier step", "      - url: /\n        extract: {tok: {header: X-Token}}\n      - url: /{{.Vars.tok}}\n", ""},
		{"two steps earlier", "      - url: /\n        extract: {tok: {header: X-Token}}\n      - url: /b\n      - url: /c\n        body: '{{.Vars.tok}}'\n", ""},
		{"in a pipeline", "      - url: /\n        extract: {tok: {header: X-Token}}\n      - url: /b\n        body: '{{if .Vars.tok}}{{printf \"%s\" .Vars.tok}}{{end}}'\n", ""},
		{"misspelt", "      - url: /\n        extract: {token: {header: X-Token}}\n      - url: /b\n        headers: {Authorization: 'Bearer {{.Vars.tokne}}'}\n",
			`j.yaml:9:34: journeys[0].steps[1].headers.Authorization: uses {{.Vars.tokne}}, which no earlier step of journey "j" extracts`},
		{"same step", "      - url: /{{.Vars.tok}}\n        extract: {tok: {header: X-Token}}\n",
			`j.yaml:6:14: journeys[0].steps[0].url: uses {{.Vars.tok}}, which no earlier step of journey "j" extracts`},
		{"later step", "      - url: /\n        body: '{{.Vars.tok}}'\n      - url: /b\n        extract: {tok: {header: X-Token}}\n",
			`j.yaml:7:15: journeys[0].steps[0].body: uses {{.Vars.tok}}, which no earlier step of journey "j" extracts`},
		{"inside with", "      - url: /\n        extract: {tok: {header: X-Token}}\n      - url: /b\n        body: '{{with .Vars}}{{.nope}}{{end}}'\n",
			`j.yaml:9:15: journeys[0].steps[1].body: bad template: map has no entry for key "nope"`},
		{"two unknown", "      - url: /{{.Vars.b}}/{{.Vars.a}}\n",
			"j.yaml:6:14: journeys[0].steps[0].url: uses {{.Vars.a}}, which no earlier step of journey \"j\" extracts\n" +
				"j.yaml:6:14: journeys[0].steps[0].url: uses {{.Vars.b}}, which no earlier step of journey \"j\" extracts"},
	}
	for _, tt := range tests {
		src := head + tt.steps
		_, err := scenarios.Parse("j.yaml", []byte(src), scenarios.Overrides{})
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("%s: Parse(%q) = %q; want %q", tt.name, src, got, tt.want)
		}
	}
	// Another journey's variables are not the session's.
	src := "baseline: 10\nshape: burst\njourneys:\n  - name: a\n    steps:\n      - url: /\n        extract: {tok: {header: X}}\n  - name: b\n    steps:\n      - url: /{{.Vars.tok}}\n"
	want := `j.yaml:10:14: journeys[1].steps[0].url: uses {{.Vars.tok}}, which no earlier step of journey "b" extracts`
	if _, err := scenarios.Parse("j.yaml", []byte(src), scenarios.Overrides{}); err == nil || err.Error() != want {
		t.Errorf("Parse(%q) = %v; want %q", src, err, want)
	}
	// A request mix has no variables.
	src = "baseline: 10\nshape: burst\nrequests:\n  - url: /{{.Vars.tok}}\n"
	want = "j.yaml:4:10: requests[0].url: uses {{.Vars.tok}}, but only a journey's steps have variables (extracted by an earlier step)"
	if _, err := scenarios.Parse("j.yaml", []byte(src), scenarios.Overrides{}); err == nil || err.Error() != want {
		t.Errorf("Parse(%q) = %v; want %q", src, err, want)
	}
}

func TestParse_JourneyErrors(t *testing.T) {
	t.Parallel()
	const head = "baseline: 10\nshape: burst\n"                               // lines 1-2
	const one = head + "journeys:\n  - name: j\n    steps:\n      - url: /\n" // lines 3-6
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"both", head + "requests:\n  - url: /\njourneys:\n  - name: j\n    steps: [{url: /}]\n", "bad.yaml:6:3: journeys: give either requests or journeys, not both"},
		{"neither", head, "bad.yaml:1:1: requests: must list at least one request (or give journeys instead)"},
		{"empty journeys", head + "journeys: []\n", "bad.yaml:3:11: journeys: must list at least one journey"},
		{"unknown journey field", one + "    think: 1s\n", `bad.yaml:7:5: unknown field "think"`},
		{"unknown step field", one + "        wait: 1s\n", `bad.yaml:7:9: unknown field "wait"`},
		{"unknown extract source", one + "        extract: {tok: {xpath: /a}}\n", `bad.yaml:7:25: unknown field "xpath"`},
		{"no name", head + "journeys:\n  - steps: [{url: /}]\n", "bad.yaml:4:10: journeys[0].name: must be set: the journey's name, e.g. name: signup"},
		{"blank name", head + "journeys:\n  - name: ' '\n    steps: [{url: /}]\n", "bad.yaml:4:11: journeys[0].name: must be set: the journey's name, e.g. name: signup"},
		{"slash in name", head + "journeys:\n  - name: a/b\n    steps: [{url: /}]\n", `bad.yaml:4:11: journeys[0].name: must not hold a slash (steps are recorded as journey/step), got "a/b"`},
		{"duplicate name", one + "  - name: j\n    steps: [{url: /}]\n", `bad.yaml:7:11: journeys[1].name: duplicate journey name "j" (also journeys[0])`},
		{"zero weight", one + "    weight: 0\n", "bad.yaml:7:13: journeys[0].weight: must be > 0, got 0"},
		{"negative weight", one + "    weight: -2\n", "bad.yaml:7:13: journeys[0].weight: must be > 0, got -2"},
		{"NaN weight", one + "    weight: .nan\n", "bad.yaml:7:13: journeys[0].weight: must be > 0, got NaN"},
		{"no steps", head + "journeys:\n  - name: j\n    steps: []\n", "bad.yaml:5:12: journeys[0].steps: must list at least one step"},
		{"missing steps", head + "journeys:\n  - name: j\n", "bad.yaml:4:9: journeys[0].steps: must list at least one step"},
		{"too many steps", head + "journeys:\n  - name: j\n    steps:\n" + strings.Repeat("      - url: /\n", scenarios.MaxSteps+1), "bad.yaml:6:7: journeys[0].steps: at most 100 steps in a journey, got 101"},
		{"too many journeys", head + "journeys:\n" + strings.Repeat("  - {name: j, steps: [{url: /}]}\n", scenarios.MaxJourneys+1), "bad.yaml:4:3: journeys: at most 100 journeys, got 101"},
		{"step weight", one + "        weight: 2\n", "bad.yaml:7:17: journeys[0].steps[0].weight: a step has no weight: every visitor of the journey sends each step once (weigh the journey instead)"},
		{"duplicate step", one + "      - url: /\n", `bad.yaml:7:12: journeys[0].steps[1].name: duplicate step name "GET /" in journey "j" (also steps[0])`},
		{"duplicate step name", one + "        name: home\n      - name: home\n        url: /b\n", `bad.yaml:8:15: journeys[0].steps[1].name: duplicate step name "home" in journey "j" (also steps[0])`},
		{"step url", head + "journeys:\n  - name: j\n    steps:\n      - url: ''\n", "bad.yaml:6:14: journeys[0].steps[0].url: must be set (a path like /api/feed, relative to the target)"},
		{"step method", one + "        method: FETCH\n", `bad.yaml:7:17: journeys[0].steps[0].method: must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, got "FETCH"`},
		{"step layer", one + "        layer: cache\n", `bad.yaml:7:16: journeys[0].steps[0].layer: must be one of database, backend, frontend, third-party, auth, got "cache"`},
		{"step expect", one + "        expect: [200, 700]\n", "bad.yaml:7:23: journeys[0].steps[0].expect[1]: must be an HTTP status (100-599), got 700"},
		{"step header", one + "        headers: {'bad key': x}\n", `bad.yaml:7:30: journeys[0].steps[0].headers.bad key: not a valid header name: "bad key"`},
		{"step body and file", one + "        body: x\n        body_file: bodies/order.json\n", "bad.yaml:8:20: journeys[0].steps[0].body_file: give either body or body_file, not both"},
		{"step template", one + "        body: '{{.Seq'\n", "bad.yaml:7:15: journeys[0].steps[0].body: bad template: unclosed action"},
		{"bad think", one + "        think: soon\n", `bad.yaml:7:16: journeys[0].steps[0].think: bad think time "soon": want a duration (2s) or a range (1s-5s)`},
		{"think range upside down", one + "        think: 5s-1s\n", `bad.yaml:7:16: journeys[0].steps[0].think: bad think time "5s-1s": want a range low-high with low ≤ high (1s-5s)`},
		{"think too long", one + "        think: 1s-2h\n", `bad.yaml:7:16: journeys[0].steps[0].think: must be at most 1h, got "1s-2h"`},
		{"bad variable name", one + "        extract: {2fa: {header: X}}\n", `bad.yaml:7:24: journeys[0].steps[0].extract.2fa: variable name must be letters, digits and _ (not starting with a digit), got "2fa"`},
		{"dash in variable name", one + "        extract: {my-token: {header: X}}\n", `bad.yaml:7:29: journeys[0].steps[0].extract.my-token: variable name must be letters, digits and _ (not starting with a digit), got "my-token"`},
		{"no source", one + "        extract: {tok: {}}\n", "bad.yaml:7:24: journeys[0].steps[0].extract.tok: give exactly one of json, header, cookie, regex; got 0"},
		{"two sources", one + "        extract:\n          tok: {json: a, header: X}\n", "bad.yaml:8:16: journeys[0].steps[0].extract.tok: give exactly one of json, header, cookie, regex; got 2"},
		{"bad JSON path", one + "        extract:\n          tok: {json: a..b}\n", `bad.yaml:8:23: journeys[0].steps[0].extract.tok.json: bad JSON path "a..b": want dotted keys such as user.id or items.0.id`},
		{"bad regex", one + "        extract:\n          tok:\n            regex: 'a(b'\n", "bad.yaml:9:20: journeys[0].steps[0].extract.tok.regex: bad regex: error parsing regexp: missing closing ): `a(b`"},
		{"regex with two groups", one + "        extract:\n          tok: {regex: '(a)(b)'}\n", `bad.yaml:8:24: journeys[0].steps[0].extract.tok.regex: regex "(a)(b)" has 2 groups: want at most one, the value`},
		{"bad header name", one + "        extract:\n          tok: {header: 'X Y'}\n", `bad.yaml:8:25: journeys[0].steps[0].extract.tok.header: bad header name "X Y"`},
		{"bad cookie name", one + "        extract:\n          tok: {cookie: 'a;b'}\n", `bad.yaml:8:25: journeys[0].steps[0].extract.tok.cookie: bad cookie name "a;b"`},
		{"unknown arrivals", one + "options:\n  arrivals: bursty\n", `bad.yaml:8:13: options.arrivals: must be even or poisson, got "bursty"`},
		{"zero max_sessions", one + "options:\n  max_sessions: 0\n", "bad.yaml:8:17: options.max_sessions: must be between 1 and 1000000, got 0"},
		{"huge max_sessions", one + "options:\n  max_sessions: 2000000\n", "bad.yaml:8:17: options.max_sessions: must be between 1 and 1000000, got 2000000"},
		{"max_sessions without journeys", head + "requests:\n  - url: /\noptions:\n  max_sessions: 10\n", "bad.yaml:6:17: options.max_sessions: only journeys have sessions: give journeys, or remove max_sessions"},
		{"slo for a step's short name", one + "slo:\n  requests:\n    GET /: {p95: 1s}\n", `bad.yaml:9:12: slo.requests.GET /: no request is named "GET /"`},
	}
	name := filepath.Join("testdata", "bad.yaml")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := scenarios.Parse(name, []byte(tt.src), scenarios.Overrides{})
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, nil; want error %q", tt.src, p, tt.want)
			}
			if want := strings.ReplaceAll(tt.want, "bad.yaml", name); err.Error() != want {
				t.Errorf("Parse(%q) = %q; want %q", tt.src, err, want)
			}
			if p != nil || !scenarios.IsLoadError(err) {
				t.Errorf("Parse(%q) = %v, %v; want no plan and a load error", tt.src, p, err)
			}
		})
	}
}
