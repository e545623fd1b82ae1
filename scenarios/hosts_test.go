package scenarios_test

import (
	"strings"
	"testing"

	"github.com/spikeload/spike/scenarios"
)

// TestParse_AbsoluteURLHosts: a request may leave for another host than the
// target's only when allow_hosts (or --allow-host) names it.
func TestParse_AbsoluteURLHosts(t *testing.T) {
	t.Parallel()
	const head = "baseline: 10\nshape: burst\n"
	tests := []struct {
		name  string
		src   string
		allow []string // --allow-host
		want  string   // "" = loads
	}{
		{"relative", "target: http://127.0.0.1:8080\nrequests: [{url: /a}]\n", nil, ""},
		{"same host", "target: http://127.0.0.1:8080\nrequests: [{url: /a}, {url: 'http://127.0.0.1:8080/b'}]\n", nil, ""},
		{"same host, default port", "target: https://localhost\nrequests: [{url: 'https://LOCALHOST:443/b'}]\n", nil, ""},
		{"other host", "target: http://127.0.0.1:8080\nrequests: [{url: /a}, {url: 'http://127.0.0.2:8080/b'}]\n", nil,
			"h.yaml:4:29: requests[1].url: goes to host 127.0.0.2:8080, not the target's 127.0.0.1:8080: list it in allow_hosts (or pass --allow-host 127.0.0.2:8080) to send requests there"},
		{"other port", "target: http://127.0.0.1:8080\nrequests: [{url: 'http://127.0.0.1:9090/b'}]\n", nil, "goes to host 127.0.0.1:9090"},
		{"scenario target overridden", "target: https://prod.example.com\nrequests: [{url: 'https://prod.example.com/b'}]\n", nil, ""},
		{"allowed in the scenario", "target: http://127.0.0.1:8080\nallow_hosts: [localhost]\nrequests: [{url: 'http://localhost:9/b'}]\n", nil, ""},
		{"allowed by flag", "target: http://127.0.0.1:8080\nrequests: [{url: 'http://localhost:9/b'}]\n", []string{"localhost:9"}, ""},
		{"allowed another port only", "target: http://127.0.0.1:8080\nallow_hosts: ['localhost:10']\nrequests: [{url: 'http://localhost:9/b'}]\n", nil, "goes to host localhost:9"},
		{"template in the host", "target: http://127.0.0.1:8080\nrequests: [{url: 'http://{{.User}}.example.com/b'}]\n", nil, "the host of an absolute URL cannot be a template"},
		{"demo target", "target: demo\nrequests: [{url: 'http://127.0.0.1:9/b'}]\n", nil, "not the built-in app (target demo)"},
		{"bad allow_hosts", "target: http://127.0.0.1:8080\nallow_hosts: ['http://x/']\nrequests: [{url: /a}]\n", nil, "allow_hosts[0]: must be a host name"},
		{"bad redirects", "target: http://127.0.0.1:8080\nrequests: [{url: /a}]\noptions: {redirects: always}\n", nil, "options.redirects: must be none or same-host, got \"always\""},
	}
	for _, tt := range tests {
		ov := scenarios.Overrides{AllowHosts: tt.allow}
		if tt.name == "scenario target overridden" {
			ov.Target = "http://127.0.0.1:18080"
			tt.want = "goes to host prod.example.com, not the target's 127.0.0.1:18080"
		}
		p, err := scenarios.Parse("h.yaml", []byte(head+tt.src), ov)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: Parse = %v; want it to load", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: Parse = %v; want an error containing %q", tt.name, err, tt.want)
		}
		if err == nil && p.Options.Redirects != scenarios.RedirectsNone {
			t.Errorf("%s: Options.Redirects = %q; want %q by default", tt.name, p.Options.Redirects, scenarios.RedirectsNone)
		}
	}
}
