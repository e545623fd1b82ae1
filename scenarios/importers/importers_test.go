package importers_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/spikeload/spike/scenarios"
	"github.com/spikeload/spike/scenarios/importers"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// checkScenario loads an imported scenario with spike's strict loader
// (with every variable it names set), checks that no secret from the input
// reached it, and compares it with its golden file.
func checkScenario(t *testing.T, s *importers.Scenario, golden string, secrets []string) *scenarios.Plan {
	t.Helper()
	out := s.YAML()
	for _, sec := range s.Secrets {
		t.Setenv(sec.Env, "value-of-"+sec.Env)
	}
	p, err := scenarios.Parse(golden, out, scenarios.Overrides{})
	if err != nil {
		t.Fatalf("the imported scenario does not load: %v\n%s", err, out)
	}
	// The editor schema agrees: an imported file is not underlined.
	var doc any
	if err := yaml.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if err := schema(t).Validate(doc); err != nil {
		t.Errorf("the imported scenario does not match scenarios/schema.json: %v", err)
	}
	for _, secret := range secrets {
		if bytes.Contains(out, []byte(secret)) {
			t.Errorf("the imported scenario contains the secret %q", secret)
		}
	}
	if !bytes.HasPrefix(out, []byte("# ")) {
		t.Errorf("the imported scenario has no header comment")
	}
	path := filepath.Join("testdata", golden)
	if *update {
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(out, want) {
		t.Errorf("imported scenario differs from %s (go test -update rewrites it):\n%s", path, out)
	}
	return p
}

func open(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func schema(t *testing.T) *jsonschema.Schema {
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
		t.Fatal(err)
	}
	return s
}
