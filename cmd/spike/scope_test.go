package main

import (
	"bytes"
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/spikeload/spike/scenarios"
)

// fakeLookup resolves names from a table: tests never ask DNS.
func fakeLookup(table map[string]string) lookupFunc {
	return func(_ context.Context, host string) ([]netip.Addr, error) {
		var out []netip.Addr
		for _, a := range strings.Fields(table[host]) {
			out = append(out, netip.MustParseAddr(a))
		}
		return out, nil
	}
}

func TestCheckTargetScope(t *testing.T) {
	t.Parallel()
	lookup := fakeLookup(map[string]string{
		"staging.internal": "10.1.2.3",
		"www.example.com":  "203.0.113.7 10.0.0.1",
		"localhost":        "127.0.0.1 ::1",
	})
	tests := []struct {
		target  string
		allow   []string
		wantErr string // "" = allowed
		wantOut string
	}{
		{"http://127.0.0.1:8080", nil, "", ""},
		{"http://localhost:8080", nil, "", ""},
		{"http://[::1]:8080", nil, "", ""},
		{"http://192.168.1.20", nil, "", ""},
		{"http://staging.internal:8080", nil, "", ""},
		{"https://www.example.com", nil,
			"target https://www.example.com: www.example.com resolves to 203.0.113.7, 10.0.0.1, outside loopback and private networks; a spike peaks at 400 req/s: name the host to confirm it, with --allow-host www.example.com or allow_hosts: [www.example.com] in the scenario", ""},
		{"https://user:pw@203.0.113.9:8443", nil, "target https://user:REDACTED@203.0.113.9:8443: 203.0.113.9 is outside loopback and private networks", ""},
		{"https://www.example.com", []string{"www.example.com"}, "",
			"spike: target www.example.com resolves to 203.0.113.7, 10.0.0.1, outside loopback and private networks; sending up to 400 req/s there (allowed by allow_hosts)\n"},
		{"https://www.example.com:8443", []string{"www.example.com:8443"}, "", "sending up to 400 req/s"},
		{"https://www.example.com:8443", []string{"www.example.com:9000"}, "name the host to confirm it", ""},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		plan := &scenarios.Plan{AllowHosts: tt.allow}
		err := checkTargetScope(context.Background(), &out, plan, tt.target, 400, lookup)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("checkTargetScope(%s, allow %v) = %v; want nil", tt.target, tt.allow, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("checkTargetScope(%s, allow %v) = %v; want an error containing %q", tt.target, tt.allow, err, tt.wantErr)
		}
		if !strings.Contains(out.String(), tt.wantOut) || (tt.wantOut == "" && out.Len() > 0) {
			t.Errorf("checkTargetScope(%s, allow %v) printed %q; want %q", tt.target, tt.allow, out.String(), tt.wantOut)
		}
	}
}

// TestRun_RefusesAPublicTargetBeforeSending: a target that resolves outside
// private networks is refused before a single request leaves. The fake
// resolver maps localhost to a public address, so that even if the check
// failed nothing would leave this machine.
func TestRun_RefusesAPublicTargetBeforeSending(t *testing.T) {
	t.Parallel()
	plan, err := scenarios.Parse("s.yaml", []byte("baseline: 10\nstages: [{hold: {duration: 1s}}]\nrequests: [{url: /}]\n"), scenarios.Overrides{Target: "http://localhost:1"})
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	dir := t.TempDir()
	err = runPlanGated(context.Background(), &IOStreams{Out: &out, ErrOut: &errOut}, plan, "", dir, nil,
		launch{lookup: fakeLookup(map[string]string{"localhost": "198.51.100.4"})})
	if err == nil || !strings.Contains(err.Error(), "localhost resolves to 198.51.100.4, outside loopback and private networks; a spike peaks at 10.0 req/s") {
		t.Fatalf("runPlanGated(public target) = %v; want it refused", err)
	}
	if strings.Contains(errOut.String(), "against") {
		t.Errorf("runPlanGated(public target) started the run:\n%s", errOut.String())
	}
}
