package scenarios

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRedactor_String(t *testing.T) {
	t.Parallel()
	r := NewRedactor("hunter2-secret", "tok_ABC123456", "short")
	tests := []struct {
		in, want string
	}{
		{"plain text stays", "plain text stays"},
		{"login failed for hunter2-secret", "login failed for REDACTED"},
		{`{"error":"bad token tok_ABC123456"}`, `{"error":"bad token REDACTED"}`},
		{"GET http://ann:s3cr3t@127.0.0.1:8080/x", "GET http://ann:REDACTED@127.0.0.1:8080/x"},
		{"/api?user=ann&api_key=k1&page=2", "/api?user=ann&api_key=REDACTED&page=2"},
		{"/api?access_token=abc&signature=def&Password=ghi", "/api?access_token=REDACTED&signature=REDACTED&Password=REDACTED"},
		{`{"user":"ann","password":"pw"}`, `{"user":"ann","password":"REDACTED"}`},
		{`"{\"user\":\"ann\",\"password\":\"pw\"}"`, `"{\"user\":\"ann\",\"password\":\"REDACTED\"}"`},
		{"user=ann&password=pw", "user=ann&password=REDACTED"},
		{"Authorization: Basic YW5uOnB3", "Authorization: REDACTED"},
		{"sent Bearer eyJhbGciOi.x.y to it", "sent Bearer REDACTED to it"},
		{`auth=\"Basic YW5uOnB3\" x`, `auth=\"Basic REDACTED\" x`},
		{`"/a?api_key=k1\u0026page=2"`, `"/a?api_key=REDACTED\u0026page=2"`},
		{"the short one stays: short", "the short one stays: short"},
		{"auth: logins failed", "auth: logins failed"},
		{"s.yaml:3:5: requests[0].headers.cookie: environment variable X is not set", "s.yaml:3:5: requests[0].headers.cookie: environment variable X is not set"},
		{"echo: Cookie: sid=1", "echo: Cookie: REDACTED"},
		{"hunter2-secret in html: hunter2-secret", "REDACTED in html: REDACTED"},
	}
	for _, tt := range tests {
		if got := r.String(tt.in); got != tt.want {
			t.Errorf("String(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
	var nilR *Redactor
	if got := nilR.String("x?token=abc"); got != "x?token=REDACTED" {
		t.Errorf("nil Redactor String = %q; want by-key masking", got)
	}
}

func TestRedactor_escapedForms(t *testing.T) {
	t.Parallel()
	r := NewRedactor(`p<a>ss"word&1`)
	for _, in := range []string{`p<a>ss"word&1`, `p\u003ca\u003ess\"word\u00261`, `p&lt;a&gt;ss&#34;word&amp;1`, `p%3Ca%3Ess%22word%261`} {
		if got := r.String("x " + in + " y"); got != "x REDACTED y" {
			t.Errorf("String(%q) = %q; want the escaped secret masked", in, got)
		}
	}
}

func TestRedactor_Writer(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	w := NewRedactor("topsecret-1").Writer(&b)
	n, err := fmt.Fprintf(w, "value %s\n", "topsecret-1")
	if err != nil || n != len("value topsecret-1\n") || b.String() != "value REDACTED\n" {
		t.Errorf("Fprintf through Writer = %d, %v, wrote %q; want %d, nil, %q", n, err, b.String(), len("value topsecret-1\n"), "value REDACTED\n")
	}
}

func TestPlan_Redactor(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	body := filepath.Join(dir, "body.json")
	if err := os.WriteFile(body, []byte(`{"client_secret":"from-the-file-77"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "s.yaml")
	src := `name: s
target: http://admin:target-pass-1@127.0.0.1:8080
baseline: 10
stages: [{hold: {duration: 1s}}]
requests:
  - {url: "/a?api_key=query-key-123&page=1"}
  - url: /login
    method: POST
    headers: {Authorization: "Bearer header-token-456", X-Trace: visible-trace}
    body: '{"user":"u{{.User}}","password":"body-pass-789"}'
  - {url: /form, method: POST, body: "user=ann&token=form-token-000"}
  - {url: /file, method: POST, body_file: body.json}
`
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Load(file, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	r := p.Redactor("extra-secret-999")
	for _, secret := range []string{"target-pass-1", "query-key-123", "header-token-456", "body-pass-789", "form-token-000", "from-the-file-77", "extra-secret-999"} {
		if got := r.String("echo: " + secret); strings.Contains(got, secret) {
			t.Errorf("Plan.Redactor().String(%q) = %q; want the secret masked", "echo: "+secret, got)
		}
	}
	if got := r.String("visible-trace"); got != "visible-trace" {
		t.Errorf("String(visible-trace) = %q; want it unchanged (not a secret header)", got)
	}
	red := p.Scenario.Redacted()
	text := fmt.Sprintf("%+v", red)
	for _, secret := range []string{"target-pass-1", "query-key-123", "header-token-456", "body-pass-789", "form-token-000"} {
		if strings.Contains(text, secret) {
			t.Errorf("Scenario.Redacted() still holds %q: %s", secret, text)
		}
	}
	if !strings.Contains(text, "visible-trace") || !strings.Contains(text, "page=1") {
		t.Errorf("Scenario.Redacted() = %s; want non-secret values kept", text)
	}
}

// TestPlan_RedactorJourneys checks that the secrets of journeys' steps are
// masked like those of requests, in the Redactor and in Scenario.Redacted,
// and that Redacted leaves the scenario it copies alone.
func TestPlan_RedactorJourneys(t *testing.T) {
	t.Parallel()
	src := `baseline: 10
stages: [{hold: {duration: 1s}}]
journeys:
  - name: visit
    steps:
      - {url: "/a?api_key=step-key-123&page=1"}
      - name: login
        method: POST
        url: /login
        headers: {Cookie: "sid=step-cookie-456", X-Trace: visible-trace}
        body: '{"user":"u{{.User}}","password":"step-pass-789"}'
        extract: {token: {json: token}}
      - url: /feed
        headers: {Authorization: "Bearer {{.Vars.token}}", X-Static: "Bearer static-bearer-000"}
`
	p, err := Parse("j.yaml", []byte(src), Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{"step-key-123", "step-cookie-456", "step-pass-789", "static-bearer-000"}
	r := p.Redactor()
	for _, secret := range secrets {
		if got := r.String("echo: " + secret); strings.Contains(got, secret) {
			t.Errorf("Plan.Redactor().String(%q) = %q; want the secret masked", "echo: "+secret, got)
		}
	}
	red := p.Scenario.Redacted()
	var text strings.Builder
	for _, j := range red.Journeys {
		for _, st := range j.Steps {
			fmt.Fprintf(&text, "%+v\n", st)
		}
	}
	for _, secret := range secrets {
		if strings.Contains(text.String(), secret) {
			t.Errorf("Scenario.Redacted() still holds %q:\n%s", secret, text.String())
		}
	}
	if !strings.Contains(text.String(), "visible-trace") || !strings.Contains(text.String(), "page=1") || !strings.Contains(text.String(), "token:{JSON:token") {
		t.Errorf("Scenario.Redacted() =\n%s\nwant non-secret values and extractions kept", text.String())
	}
	if got := p.Scenario.Journeys[0].Steps[1].Headers["Cookie"]; got != "sid=step-cookie-456" {
		t.Errorf("after Redacted(), the original's Cookie header = %q; want it unchanged", got)
	}
}
