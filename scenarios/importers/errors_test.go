package importers_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/spikeload/spike/scenarios/importers"
)

// bomb is a "billion laughs": 10^9 values once its aliases are expanded.
var bomb = func() string {
	var b strings.Builder
	b.WriteString("openapi: 3.1.0\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 10; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	b.WriteString("paths: {}\n")
	return b.String()
}()

// TestImport_BadInput checks that bad input is an InputError naming the
// input and what is wrong, never a panic or a scenario.
func TestImport_BadInput(t *testing.T) {
	t.Parallel()
	har := func(s string) func() (*importers.Scenario, error) {
		return func() (*importers.Scenario, error) {
			return importers.HAR(strings.NewReader(s), importers.Options{Source: "in.har"})
		}
	}
	curl := func(s string) func() (*importers.Scenario, error) {
		return func() (*importers.Scenario, error) { return importers.Curl(s, importers.Options{Source: "in.sh"}) }
	}
	vegeta := func(s string) func() (*importers.Scenario, error) {
		return func() (*importers.Scenario, error) {
			return importers.Vegeta(strings.NewReader(s), importers.VegetaAuto, importers.Options{Source: "targets.txt"})
		}
	}
	openapi := func(s string) func() (*importers.Scenario, error) {
		return func() (*importers.Scenario, error) {
			return importers.OpenAPI(strings.NewReader(s), importers.Options{Source: "spec.yaml"})
		}
	}
	tests := []struct {
		name string
		run  func() (*importers.Scenario, error)
		want string
	}{
		{"har empty", har(""), "in.har: empty input"},
		{"har not JSON", har("{\n  \"log\": [\n}"), "in.har: 3:1: invalid character '}' looking for beginning of value (want a HAR file (JSON with a log.entries list))"},
		{"har wrong type", har(`{"log": {"entries": 5}}`), "in.har: 1:21: log.entries: want a list, got a JSON number (is this a HAR file"},
		{"har no entries", har(`{"log": {"entries": []}}`), "in.har: no log.entries: not a HAR file, or an empty recording"},
		{"har only data URLs", har(`{"log": {"entries": [{"request": {"method": "GET", "url": "data:,x"}, "response": {"status": 200}}]}}`), "in.har: no HTTP requests to import (1 entries, all left out)"},
		{"har bad url", har(`{"log": {"entries": [{"request": {"method": "GET", "url": ""}, "response": {"status": 200}}]}}`), `in.har: log.entries[0].request.url: not a URL: ""`},
		{"curl nothing", curl("  \n"), "in.sh: no curl command given"},
		{"curl no curl", curl("ls -la\n"), "in.sh: no curl command found"},
		{"curl unterminated quote", curl("curl 'https://x.example/\n"), "in.sh: 1:6: reached EOF without closing quote `'` (want curl commands with shell quoting)"},
		{"curl no url", curl("curl -H 'a: b'"), "in.sh: 1:1: curl: no URL"},
		{"curl unknown option", curl("curl --frobnicate https://x.example/"), "in.sh: 1:1: curl: unsupported option --frobnicate"},
		{"curl missing value", curl("curl https://x.example/ -H"), "in.sh: 1:1: curl: option -H needs a value"},
		{"curl file body", curl("curl -d @body.json https://x.example/"), "in.sh: 1:1: curl: --data @body.json: bodies read from files are not imported; paste the body instead"},
		{"curl ftp", curl("curl ftp://x.example/f"), `in.sh: 1:1: curl: not an http(s) URL: "ftp://x.example/f"`},
		{"curl command substitution", curl("curl -H \"Authorization: $(cat token)\" https://x.example/"), "in.sh: 1:9: "},
		{"curl two urls", curl("curl https://a.example/ https://b.example/"), "in.sh: 1:1: curl: more than one URL (https://a.example/, https://b.example/): give one request per curl command"},
		{"curl bad method", curl("curl -X TRACE https://x.example/"), "in.sh: 1:1: curl: -X TRACE: spike sends GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS"},
		{"vegeta garbage", vegeta("GARBAGE\n"), "targets.txt: target 1: bad target: GARBAGE (vegeta's http format)"},
		{"vegeta bad header", vegeta("GET http://x.example/\nnot a header\n"), "targets.txt: target 1: bad header: not a header (vegeta's http format)"},
		{"vegeta relative url", vegeta("GET /relative\n"), `targets.txt: target 1: not an http(s) URL: "/relative"`},
		{"vegeta bad json", vegeta(`{"method": "GET"}`), "targets.txt: target 1: target: required url is missing (vegeta's json format)"},
		{"vegeta missing body file", vegeta("POST http://x.example/\n@testdata/nope.json\n"), "targets.txt: line 2: bad body: stat testdata/nope.json: no such file or directory"},
		{"vegeta endless body file", vegeta("POST http://x.example/\n@/dev/zero\n"), "targets.txt: line 2: bad body: /dev/zero is not a regular file"},
		{"openapi alias bomb", openapi(bomb), "spec.yaml: 6:9: more than 100000 values once aliases are expanded"},
		{"openapi deep nesting", openapi("openapi: 3.1.0\npaths: " + strings.Repeat("[", 10000) + "\n"), "spec.yaml: 2:72: nested more than 64 levels deep"},
		{"openapi swagger 2", openapi("swagger: '2.0'\npaths: {}\n"), "spec.yaml: swagger 2.0 (OpenAPI 2) is not supported; convert it to OpenAPI 3 first (e.g. with swagger2openapi)"},
		{"openapi not a spec", openapi("name: x\n"), "spec.yaml: no openapi field: not an OpenAPI document"},
		{"openapi 4", openapi("openapi: 4.0.0\npaths: {}\n"), "spec.yaml: openapi 4.0.0 is not supported (want 3.0 or 3.1)"},
		{"openapi no paths", openapi("openapi: 3.1.0\ninfo: {title: t, version: '1'}\n"), "spec.yaml: no paths: nothing to import"},
		{"openapi bad yaml", openapi("openapi: 3.1.0\npaths: [\n"), "spec.yaml: not YAML or JSON: "},
		{"openapi no operations", openapi("openapi: 3.1.0\npaths:\n  /a:\n    summary: nothing\n"), "spec.yaml: no operations under paths"},
	}
	for _, tt := range tests {
		s, err := tt.run()
		var ie *importers.InputError
		if err == nil || !errors.As(err, &ie) || !strings.HasPrefix(err.Error(), tt.want) || s != nil {
			t.Errorf("%s: = %v, %v; want an InputError starting %q", tt.name, s != nil, err, tt.want)
		}
	}
}
