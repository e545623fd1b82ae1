package scenarios_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/spikeload/spike/scenarios"
)

var update = flag.Bool("update", false, "rewrite scenarios/schema.json from the Go types")

// TestJSONSchema_Fresh checks that schema.json is what the Go types
// generate today; run `go test ./scenarios -run TestJSONSchema_Fresh -update`
// (or go generate ./scenarios) after changing them.
func TestJSONSchema_Fresh(t *testing.T) {
	got, err := scenarios.GenerateJSONSchema(".")
	if err != nil {
		t.Fatalf("GenerateJSONSchema(.) = %v", err)
	}
	if *update {
		if err := os.WriteFile("schema.json", got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(got, scenarios.JSONSchema()) {
		t.Errorf("scenarios/schema.json is stale; run: go test ./scenarios -run TestJSONSchema_Fresh -update")
	}
	var doc map[string]any
	if err := json.Unmarshal(got, &doc); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	if doc["$schema"] != scenarios.SchemaDraft {
		t.Errorf("$schema = %v; want %s", doc["$schema"], scenarios.SchemaDraft)
	}
	if _, ok := doc["$defs"]; ok {
		t.Errorf("schema has $defs, which draft-07 does not know; want one inlined tree")
	}
	if doc["additionalProperties"] != false {
		t.Errorf("additionalProperties = %v; want false (the loader refuses unknown keys)", doc["additionalProperties"])
	}
}

// compileSchema compiles the embedded schema with the validator editors'
// language servers agree with.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(scenarios.JSONSchema()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("schema.json")
	if err != nil {
		t.Fatalf("compile schema.json: %v", err)
	}
	return s
}

// yamlValue decodes YAML into the JSON data model the validator takes. YAML
// has values JSON lacks (.inf, .nan, non-text keys); they become values no
// JSON Schema number or key matches.
func yamlValue(src string) (any, error) {
	var v any
	if err := yaml.Unmarshal([]byte(src), &v); err != nil {
		return nil, err
	}
	return jsonValue(v), nil
}

func jsonValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = jsonValue(e)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = jsonValue(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = jsonValue(e)
		}
		return x
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return []any{"not a JSON number", x}
		}
		return x
	default:
		return x
	}
}

// TestJSONSchema_Examples checks that every example scenario names the
// schema in its first line and validates against it.
func TestJSONSchema_Examples(t *testing.T) {
	s := compileSchema(t)
	files, err := filepath.Glob(filepath.Join("..", "examples", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples found (%v)", err)
	}
	const modeline = "# yaml-language-server: $schema=../scenarios/schema.json\n"
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(data), modeline) {
			t.Errorf("%s: first line is not %q", f, strings.TrimSpace(modeline))
		}
		v, err := yamlValue(string(data))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := s.Validate(v); err != nil {
			t.Errorf("%s: schema rejects an example: %v", f, err)
		}
	}
}

// schemaAccepted are scenarios the loader accepts, beyond the fuzz seeds,
// the examples and testdata: each form the loader reads must pass the schema.
var schemaAccepted = []string{
	"baseline: 10\nshape: burst\nrequests:\n  - url: /\n",
	"baseline: \"10\"\nstages:\n  - ramp: {to: '500%', duration: '90'}\nrequests:\n  - url: /\n",
	"baseline: 12.5\nshape: {preset: viral, peak: 2.5X, duration: 5m}\nrequests:\n  - url: /\n",
	"baseline: 10\nshape: {preset: tenx, duration: 100}\nrequests:\n  - url: /\n",
	"baseline: 10\nshape:\n  preset: burst\n  peak: 250%\nrequests:\n  - url: /\n",
	"baseline: 10\nshape: burst\ntarget: demo\nrequests:\n  - url: /\n",
	"baseline: 10\nshape: burst\ntarget: https://staging.example.com/base\nrequests:\n  - url: https://cdn.example/x.js\n",
	"baseline: 10\nshape: burst\nrequests:\n  - {url: /, method: get}\n  - {url: /, method: Post}\n  - {url: /, method: OPTIONS}\n",
	"baseline: 10\nshape: burst\nrequests:\n  - {name: a, url: /, layer: database}\n  - {name: b, url: /, layer: third-party}\n  - {name: c, url: /, layer: auth, weight: 0}\n",
	"baseline: 10\ntime_scale: 1440\nstages:\n  - wave: {low: 1x, high: 3x, period: 24h, duration: 168h}\nrequests:\n  - url: /\n",
	"baseline: 10\nstages:\n  - hold: {duration: 1s}\n  - hold: {rate: 0, duration: 1.5s}\n  - spike: {to: 5x, rise: 500ms, duration: 1m30s}\n  - decay: {to: 1x, half_life: 10s, duration: 1m}\nrequests:\n  - url: /\n",
	"baseline: 10\nshape: burst\nrequests:\n  - url: /a\n    expect: [200, 404]\n    headers: {X-Id: '{{.UUID}}', Content-Type: application/json}\nslo:\n  p95: 300ms\n  p99: 1s\n  error_rate: 0.5%\n  sustain: 5\n  requests:\n    GET /a: {p99: 2s, error_rate: 0.02}\n",
	"baseline: 10\nshape: burst\nrequests:\n  - url: /\noptions: {window: 100ms, connections: 100000, timeout: 10m, keep_alive: false, http2: true, insecure: true, seed: -3, users: 5}\n",
	"baseline: 10\nshape: burst\nrequests:\n  - url: /\nabort: {error_rate: 50%, p95: 10x, for: 5s}\ngate: {survive: 5x, min_capacity: 30, max_regression: 10%}\n",
	"baseline: 10\nshape: burst\nrequests:\n  - url: /\nabort: {p95: 2s}\n",
	"baseline: 10\nshape: burst\nrequests:\n  - url: /\noptions: {arrivals: poisson, mix: interleaved}\n",
	"baseline: 10\nshape: burst\njourneys:\n  - name: j\n    steps: [{url: /}]\n",
	"baseline: 10\nshape: burst\njourneys:\n  - name: sign up\n    weight: 0.5\n    cookies: false\n    steps:\n      - {url: /, think: 1s-3s, layer: frontend, expect: [200]}\n      - name: login\n        method: post\n        url: /login\n        headers: {Content-Type: application/json}\n        body: '{\"u\": {{.User}}}'\n        extract:\n          token: {json: a.0.b}\n          _sid: {cookie: sid}\n          Etag2: {header: ETag}\n          id: {regex: 'id=(\\d+)'}\n        think: 500ms\n      - {url: '/feed/{{.Vars.id}}', think: '0 - 1m'}\n  - name: b\n    steps: [{url: /}]\noptions: {max_sessions: 1, arrivals: even}\n",
}

// schemaRejected are scenarios the loader refuses for a reason that needs
// no context, so the schema must refuse them too (an editor underlines them).
var schemaRejected = []struct{ name, src string }{
	{"unknown field", "baseline: 10\nshape: burst\nrequests:\n  - url: /x\n    bogus: 1\n"},
	{"unknown top-level field", "baseline: 10\nshape: burst\nrequests:\n  - url: /\nshapes: burst\n"},
	{"unknown stage kind", "baseline: 10\nstages:\n  - jump: {to: 5}\nrequests:\n  - url: /\n"},
	{"unknown shape field", "baseline: 10\nshape: {preset: burst, nope: 1}\nrequests:\n  - url: /\n"},
	{"string for connections", "baseline: 10\nshape: burst\nrequests:\n  - url: /\noptions:\n  connections: lots\n"},
	{"string for time_scale", "baseline: 10\nshape: burst\nrequests:\n  - url: /\ntime_scale: abc\n"},
	{"string for expect", "baseline: 10\nshape: burst\nrequests:\n  - url: /\n    expect: ok\n"},
	{"mapping for requests", "baseline: 10\nshape: burst\nrequests: {}\n"},
	{"not a mapping", "- a\n"},
	{"missing requests", "baseline: 10\nshape: burst\n"},
	{"empty requests", "baseline: 10\nshape: burst\nrequests: []\n"},
	{"no url", "baseline: 10\nshape: burst\nrequests:\n  - url: ''\n"},
	{"bad baseline", "baseline: fast\nshape: burst\nrequests:\n  - url: /\n"},
	{"relative baseline", "baseline: 5x\nshape: burst\nrequests:\n  - url: /\n"},
	{"zero baseline", "baseline: 0\nshape: burst\nrequests:\n  - url: /\n"},
	{"bad target", "baseline: 10\nshape: burst\nrequests:\n  - url: /\ntarget: ftp://x\n"},
	{"unknown preset", "baseline: 10\nshape: nope\nrequests:\n  - url: /\n"},
	{"unknown preset in mapping", "baseline: 10\nshape:\n  preset: nope\nrequests:\n  - url: /\n"},
	{"bad shape duration", "baseline: 10\nshape: {preset: burst, duration: forever}\nrequests:\n  - url: /\n"},
	{"bad peak", "baseline: 10\nshape: {preset: burst, peak: lots}\nrequests:\n  - url: /\n"},
	{"zero time_scale", "baseline: 10\nshape: burst\nrequests:\n  - url: /\ntime_scale: 0\n"},
	{"infinite time_scale", "baseline: 10\nshape: burst\nrequests:\n  - url: /\ntime_scale: .inf\n"},
	{"negative ramp", "baseline: 10\nstages:\n  - ramp: {to: -5, duration: 1s}\nrequests:\n  - url: /\n"},
	{"empty stage", "baseline: 10\nstages:\n  - {}\nrequests:\n  - url: /\n"},
	{"two kinds in a stage", "baseline: 10\nstages:\n  - hold: {duration: 1s}\n    ramp: {to: 1, duration: 1s}\nrequests:\n  - url: /\n"},
	{"ramp without to", "baseline: 10\nstages:\n  - ramp: {duration: 1s}\nrequests:\n  - url: /\n"},
	{"negative duration", "baseline: 10\nstages:\n  - hold: {duration: -5}\nrequests:\n  - url: /\n"},
	{"bad method", "baseline: 10\nshape: burst\nrequests:\n  - url: /\n    method: FETCH\n"},
	{"bad layer", "baseline: 10\nshape: burst\nrequests:\n  - url: /\n    layer: cache\n"},
	{"bad expect status", "baseline: 10\nshape: burst\nrequests:\n  - url: /\n    expect: [200, 700]\n"},
	{"negative weight", "baseline: 10\nshape: burst\nrequests:\n  - url: /\n  - url: /b\n    weight: -1\n"},
	{"NaN weight", "baseline: 10\nshape: burst\nrequests:\n  - url: /\n    weight: .nan\n"},
	{"bad header name", "baseline: 10\nshape: burst\nrequests:\n  - url: /\n    headers:\n      'bad key': x\n"},
	{"error_rate not a share", "baseline: 10\nshape: burst\nrequests:\n  - url: /\nslo:\n  error_rate: some\n"},
	{"error_rate negative", "baseline: 10\nshape: burst\nrequests:\n  - url: /\nslo:\n  error_rate: -1%\n"},
	{"sustain too high", "baseline: 10\nshape: burst\nrequests:\n  - url: /\nslo:\n  sustain: 601\n"},
	{"window not a duration", "baseline: 10\nshape: burst\nrequests:\n  - url: /\noptions:\n  window: soon\n"},
	{"negative connections", "baseline: 10\nshape: burst\nrequests:\n  - url: /\noptions:\n  connections: -1\n"},
	{"negative users", "baseline: 10\nshape: burst\nrequests:\n  - url: /\noptions:\n  users: -1\n"},
	{"abort p95 not a latency", "baseline: 10\nshape: burst\nrequests:\n  - url: /\nabort: {p95: soon}\n"},
	{"unknown arrivals", "baseline: 10\nshape: burst\nrequests:\n  - url: /\noptions: {arrivals: bursty}\n"},
	{"requests and journeys", "baseline: 10\nshape: burst\nrequests:\n  - url: /\njourneys:\n  - {name: j, steps: [{url: /}]}\n"},
	{"empty journeys", "baseline: 10\nshape: burst\njourneys: []\n"},
	{"journey without name", "baseline: 10\nshape: burst\njourneys:\n  - steps: [{url: /}]\n"},
	{"slash in journey name", "baseline: 10\nshape: burst\njourneys:\n  - {name: a/b, steps: [{url: /}]}\n"},
	{"zero journey weight", "baseline: 10\nshape: burst\njourneys:\n  - {name: j, weight: 0, steps: [{url: /}]}\n"},
	{"no steps", "baseline: 10\nshape: burst\njourneys:\n  - {name: j, steps: []}\n"},
	{"unknown journey field", "baseline: 10\nshape: burst\njourneys:\n  - {name: j, think: 1s, steps: [{url: /}]}\n"},
	{"step weight", "baseline: 10\nshape: burst\njourneys:\n  - {name: j, steps: [{url: /, weight: 2}]}\n"},
	{"step without url", "baseline: 10\nshape: burst\njourneys:\n  - {name: j, steps: [{method: GET}]}\n"},
	{"bad step method", "baseline: 10\nshape: burst\njourneys:\n  - {name: j, steps: [{url: /, method: FETCH}]}\n"},
	{"bad step layer", "baseline: 10\nshape: burst\njourneys:\n  - {name: j, steps: [{url: /, layer: cache}]}\n"},
	{"bad think", "baseline: 10\nshape: burst\njourneys:\n  - {name: j, steps: [{url: /, think: soon}]}\n"},
	{"bare-number think", "baseline: 10\nshape: burst\njourneys:\n  - {name: j, steps: [{url: /, think: '5'}]}\n"},
	{"bad variable name", "baseline: 10\nshape: burst\njourneys:\n  - {name: j, steps: [{url: /, extract: {2fa: {header: X}}}]}\n"},
	{"no extract source", "baseline: 10\nshape: burst\njourneys:\n  - {name: j, steps: [{url: /, extract: {a: {}}}]}\n"},
	{"two extract sources", "baseline: 10\nshape: burst\njourneys:\n  - {name: j, steps: [{url: /, extract: {a: {json: a, header: X}}}]}\n"},
	{"unknown extract source", "baseline: 10\nshape: burst\njourneys:\n  - {name: j, steps: [{url: /, extract: {a: {xpath: a}}}]}\n"},
	{"zero max_sessions", "baseline: 10\nshape: burst\njourneys:\n  - {name: j, steps: [{url: /}]}\noptions: {max_sessions: 0}\n"},
}

// TestJSONSchema_AgreesWithLoader validates scenarios against the schema in
// both directions: what the loader accepts the schema accepts, and what the
// loader refuses for a context-free reason the schema refuses. Rules that
// need the whole file (duplicate names, weights that add up to 0, run length
// after time scaling, SLO overrides for names that exist, body files) are
// the loader's alone.
func TestJSONSchema_AgreesWithLoader(t *testing.T) {
	t.Parallel()
	s := compileSchema(t)
	accepted := append([]string(nil), schemaAccepted...)
	accepted = append(accepted, fuzzSeeds...)
	testdata, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	for _, f := range testdata {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		accepted = append(accepted, string(b))
	}
	checked := 0
	for _, src := range accepted {
		// fuzzSeeds hold invalid scenarios too; only accepted ones count.
		if _, err := scenarios.Parse(filepath.Join("testdata", "s.yaml"), []byte(src), scenarios.Overrides{}); err != nil {
			continue
		}
		checked++
		v, err := yamlValue(src)
		if err != nil {
			t.Errorf("yaml.Unmarshal(%q) = %v", src, err)
			continue
		}
		if err := s.Validate(v); err != nil {
			t.Errorf("the loader accepts but the schema rejects %q:\n%v", src, err)
		}
	}
	if checked < len(schemaAccepted)+len(testdata) {
		t.Errorf("only %d scenarios loaded; want at least %d", checked, len(schemaAccepted)+len(testdata))
	}
	for _, tt := range schemaRejected {
		if _, err := scenarios.Parse("bad.yaml", []byte(tt.src), scenarios.Overrides{}); err == nil {
			t.Errorf("%s: the loader accepts %q; the case is meant to be refused", tt.name, tt.src)
		}
		v, err := yamlValue(tt.src)
		if err != nil {
			t.Fatalf("%s: yaml.Unmarshal = %v", tt.name, err)
		}
		if err := s.Validate(v); err == nil {
			t.Errorf("%s: the loader refuses but the schema accepts %q", tt.name, tt.src)
		}
	}
}
