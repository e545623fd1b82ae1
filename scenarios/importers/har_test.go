package importers_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spikeload/spike/scenarios/importers"
)

func TestHAR_Chromium(t *testing.T) {
	s, err := importers.HAR(open(t, "shop.example.com.har"), importers.Options{Source: "shop.example.com.har"})
	if err != nil {
		t.Fatal(err)
	}
	checkScenario(t, s, "har.golden.yaml", []string{"hunter2", "eyJhbGciOiJIUzI1NiJ9", "sEcReTsIgNaTuRe", "a1b2c3d4e5f6", "sk_test_4eC39HqLyjWDarjtT1zdp7dc"})
}

func TestCurl(t *testing.T) {
	tests := []struct {
		file, golden string
		secrets      []string
	}{
		{"chromium-copy-all.sh", "curl-chromium.golden.yaml", []string{"hunter2", "sEcReTsIgNaTuRe", "eyJhbGciOiJIUzI1NiJ9"}},
		{"firefox-and-hand.sh", "curl-firefox.golden.yaml", []string{"hunter2", "sEcReTsIgNaTuRe", "YWRhOmh1bnRlcjI="}},
	}
	for _, tt := range tests {
		b, err := os.ReadFile(filepath.Join("testdata", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		s, err := importers.Curl(string(b), importers.Options{Source: tt.file})
		if err != nil {
			t.Fatalf("Curl(%s) = %v", tt.file, err)
		}
		checkScenario(t, s, tt.golden, tt.secrets)
	}
}

func TestVegeta(t *testing.T) {
	tests := []struct {
		file, format, golden string
		secrets              []string
	}{
		{"vegeta/targets.txt", importers.VegetaAuto, "vegeta-http.golden.yaml", []string{"DEADBEEF", "90215"}},
		{"vegeta/targets.jsonl", importers.VegetaAuto, "vegeta-json.golden.yaml", []string{"DEADBEEF", "0123456789abcdef"}},
	}
	for _, tt := range tests {
		s, err := importers.Vegeta(open(t, tt.file), tt.format, importers.Options{Source: tt.file})
		if err != nil {
			t.Fatalf("Vegeta(%s) = %v", tt.file, err)
		}
		checkScenario(t, s, tt.golden, tt.secrets)
	}
}

func TestOpenAPI(t *testing.T) {
	tests := []struct {
		file, golden string
		secrets      []string
	}{
		{"openapi/petstore-3.0.yaml", "openapi-3.0.golden.yaml", nil},
		{"openapi/orders-3.1.json", "openapi-3.1.golden.yaml", nil},
	}
	for _, tt := range tests {
		s, err := importers.OpenAPI(open(t, tt.file), importers.Options{Source: tt.file})
		if err != nil {
			t.Fatalf("OpenAPI(%s) = %v", tt.file, err)
		}
		checkScenario(t, s, tt.golden, tt.secrets)
	}
}

// TestHAR_IncludeHost checks that named hosts are kept, as absolute URLs
// with third-party (or, for static files, frontend) layers, and that the
// main host and weights come from the recording.
func TestHAR_IncludeHost(t *testing.T) {
	s, err := importers.HAR(open(t, "shop.example.com.har"), importers.Options{Source: "shop.har", IncludeHosts: []string{"fonts.gstatic.com", "api.stripe.com"}, Baseline: 40, Shape: "burst"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Target != "https://shop.example.com" || s.Baseline != 40 || s.Shape != "burst" {
		t.Errorf("Target, Baseline, Shape = %q, %v, %q; want https://shop.example.com, 40, burst", s.Target, s.Baseline, s.Shape)
	}
	want := map[string]string{
		"https://fonts.gstatic.com/s/inter/v13/UcC73FwrK3iLTeHuS_fvQtMwCp50KnMa1ZL7.woff2": "frontend",
		`https://api.stripe.com/v1/payment_intents?key={{env "SPIKE_KEY"}}`:                "third-party",
		"/api/login":     "auth",
		"/api/cart":      "backend",
		"/img/hero.webp": "frontend",
	}
	got := map[string]string{}
	for _, r := range s.Requests {
		got[r.URL] = r.Layer
	}
	for u, layer := range want {
		if l, ok := got[u]; !ok || l != layer {
			t.Errorf("request %s: layer %q (present %t); want %q", u, l, ok, layer)
		}
	}
	checkScenario(t, s, "har-include.golden.yaml", []string{"pk_live_51Hxyz"})
}
