package engine

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestNormalizeBody(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 500)
	tests := []struct {
		name, ct, body, want string
	}{
		{"json error", "application/json", `{"error":"timeout acquiring database connection"}`, "timeout acquiring database connection"},
		{"json message wins", "application/json", `{"error":"db_timeout","message":"could not get a connection"}`, "could not get a connection"},
		{"json nested", "application/json; charset=utf-8", `{"error":{"code":42,"message":"quota exceeded"}}`, "quota exceeded"},
		{"json errors array", "application/problem+json", `{"errors":[{"detail":"pool exhausted"}]}`, "pool exhausted"},
		{"json cut short", "application/json", `{"status":503,"detail":"remaining connection slots are reser`, "remaining connection slots are reser"},
		{"json without content type", "", `{"message":"too many clients already"}`, "too many clients already"},
		{"nginx page", "text/html", "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx/1.25.3</center>", "503 Service Temporarily Unavailable"},
		{"html heading", "text/html", "<html><body><h1>Upstream &amp; provider down</h1></body></html>", "Upstream & provider down"},
		{"html text", "text/html", "<html><body><p>\n  database is\n locked  </p>", "database is locked"},
		{"plain first line", "text/plain", "\n  pq: sorry, too many clients already  \nstack trace", "pq: sorry, too many clients already"},
		{"secret scrubbed", "text/plain", "login failed for password=hunter22 token: abc123def", "login failed for password=REDACTED token: REDACTED"},
		{"bearer scrubbed", "application/json", `{"error":"bad Authorization: Bearer abcdefghijklmnop"}`, "bad Authorization: REDACTED"},
		{"empty", "text/plain", "  \n ", ""},
		{"control chars", "text/plain", "bad\x1b[31m red\x00", "bad[31m red"},
	}
	for _, tt := range tests {
		if got := NormalizeBody(tt.ct, []byte(tt.body)); got != tt.want {
			t.Errorf("%s: NormalizeBody(%q, %q) = %q; want %q", tt.name, tt.ct, tt.body, got, tt.want)
		}
	}
	if got := NormalizeBody("text/plain", []byte(long)); len(got) > BodyTextMax || !strings.HasSuffix(got, "…") {
		t.Errorf("NormalizeBody(500 bytes) = %d bytes %q; want at most %d, marked cut", len(got), got, BodyTextMax)
	}
}

func TestBodyKey_FoldsNumbers(t *testing.T) {
	t.Parallel()
	a, b := BodyKey("server overloaded: 65 requests in flight (limit 64)"), BodyKey("server overloaded: 71 requests in flight (limit 64)")
	if a != b {
		t.Errorf("BodyKey differs for texts that differ in numbers: %q vs %q", a, b)
	}
	if BodyKey("pool exhausted") == BodyKey("queue full") {
		t.Error("BodyKey folds different texts together")
	}
}

func TestClassifyError_Client(t *testing.T) {
	t.Parallel()
	for _, msg := range []string{
		`Get "http://127.0.0.1:1/x": net/http: invalid header field value for "X-Id"`,
		`Get "ftp://x": unsupported protocol scheme "ftp"`,
	} {
		if got := ClassifyError(msg); got != KindClient {
			t.Errorf("ClassifyError(%q) = %q; want %q", msg, got, KindClient)
		}
	}
	if got := ClassifyError("dial tcp 127.0.0.1:1: connect: connection refused"); got != KindRefused {
		t.Errorf("ClassifyError(refused) = %q", got)
	}
}

func TestDiagnosisKeys(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Set("Server", "nginx/1.25.3 (Ubuntu)")
	h.Set("Retry-After", "1")
	h.Set("X-RateLimit-Limit", "10")
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-Upstream-Status", "429")
	h.Set("Content-Type", "text/html; charset=utf-8")
	var got []string
	diagnosisKeys(h, func(k string) { got = append(got, k) })
	slices.Sort(got)
	want := []string{"Content-Type: text/html", "RateLimit", "Retry-After", "Server: nginx", "X-Upstream-Status: 429"}
	if !slices.Equal(got, want) {
		t.Errorf("diagnosisKeys = %q; want %q", got, want)
	}
}

func TestRecorder_NormalizeCaches(t *testing.T) {
	var r Recorder
	body := []byte(`{"error":"timeout acquiring database connection"}`)
	first := r.normalize("application/json", body)
	if first != "timeout acquiring database connection" {
		t.Fatalf("normalize = %q", first)
	}
	if n := testing.AllocsPerRun(100, func() { r.normalize("application/json", body) }); n != 0 {
		t.Errorf("a cached body costs %.0f allocations; want 0", n)
	}
	if got := r.normalize("text/html", []byte("<title>503 Service Unavailable</title>")); got != "503 Service Unavailable" {
		t.Errorf("another content type: %q", got)
	}
	for i := range maxBodyCache + 10 {
		r.normalize("text/plain", []byte(fmt.Sprintf("busy %d", i)))
	}
	if len(r.bodyCache) > maxBodyCache {
		t.Errorf("cache holds %d bodies; want at most %d", len(r.bodyCache), maxBodyCache)
	}
}
