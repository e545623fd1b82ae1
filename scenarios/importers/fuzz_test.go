package importers_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/spikeload/spike/scenarios/importers"
)

// fuzzImport checks that an importer never panics on any input, and that
// what it writes when it succeeds is YAML.
func fuzzImport(f *testing.F, seeds []string, imp func(string) (*importers.Scenario, error)) {
	for _, s := range seeds {
		if b, err := os.ReadFile(filepath.Join("testdata", s)); err == nil {
			s = string(b)
		}
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := imp(in)
		if err != nil {
			return
		}
		var doc map[string]any
		if err := yaml.Unmarshal(s.YAML(), &doc); err != nil {
			t.Fatalf("import of %q wrote bad YAML: %v\n%s", in, err, s.YAML())
		}
	})
}

func FuzzHAR(f *testing.F) {
	fuzzImport(f, []string{"shop.example.com.har", `{"log": {"entries": [{"request": {"method": "GET", "url": "http://a/{{x}}?token=1"}, "response": {"status": 200}}]}}`},
		func(in string) (*importers.Scenario, error) {
			return importers.HAR(strings.NewReader(in), importers.Options{Source: "f.har"})
		})
}

func FuzzCurl(f *testing.F) {
	fuzzImport(f, []string{"chromium-copy-all.sh", "firefox-and-hand.sh", "curl -u a:b -G http://x/ -d q={{y}} -H \"X: $T\""},
		func(in string) (*importers.Scenario, error) {
			return importers.Curl(in, importers.Options{Source: "f.sh"})
		})
}

func FuzzVegetaJSON(f *testing.F) {
	fuzzImport(f, []string{"vegeta/targets.jsonl"},
		func(in string) (*importers.Scenario, error) {
			return importers.Vegeta(strings.NewReader(in), importers.VegetaJSON, importers.Options{Source: "t.json"})
		})
}

func FuzzOpenAPI(f *testing.F) {
	fuzzImport(f, []string{"openapi/petstore-3.0.yaml", "openapi/orders-3.1.json"},
		func(in string) (*importers.Scenario, error) {
			return importers.OpenAPI(strings.NewReader(in), importers.Options{Source: "spec.yaml"})
		})
}
