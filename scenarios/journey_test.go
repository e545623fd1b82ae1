package scenarios_test

import (
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spikeload/spike/scenarios"
)

func TestExtract_Apply(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Set("X-Token", "tok-1")
	h.Add("Set-Cookie", "theme=dark; Path=/")
	h.Add("Set-Cookie", "sid=s3ss10n; Path=/; HttpOnly")
	body := []byte(`{"token":"abc","user":{"id":42,"admin":false,"ratio":1.5e3,"name":null,"tags":["a","b"]},"items":[{"id":"first"},{"id":7}]}`)
	tests := []struct {
		from, path string
		body       []byte
		want       string
		err        string // a part of the error's text; "" means no error
	}{
		{from: "json", path: "token", want: "abc"},
		{from: "json", path: "user.id", want: "42"},
		{from: "json", path: "user.ratio", want: "1.5e3"},
		{from: "json", path: "user.admin", want: "false"},
		{from: "json", path: "items.0.id", want: "first"},
		{from: "json", path: "items.1.id", want: "7"},
		{from: "json", path: "user.tags", want: `["a","b"]`},
		{from: "json", path: "user.tags.1", want: "b"},
		{from: "json", path: "items.1", want: `{"id":7}`},
		{from: "json", path: "nope", err: "no nope in the JSON body"},
		{from: "json", path: "user.id.x", err: "no user.id.x in the JSON body"},
		{from: "json", path: "items.2.id", err: `"2" is not an index of a 2-element list`},
		{from: "json", path: "items.x", err: `"x" is not an index of a 2-element list`},
		{from: "json", path: "user.name", err: "user.name is null in the JSON body"},
		{from: "json", path: "token", body: []byte("<html>"), err: "body is not JSON"},
		{from: "json", path: "token", body: []byte(""), err: "body is not JSON"},
		{from: "header", path: "X-Token", want: "tok-1"},
		{from: "header", path: "x-token", want: "tok-1"},
		{from: "header", path: "X-Other", err: "no X-Other header"},
		{from: "cookie", path: "sid", want: "s3ss10n"},
		{from: "cookie", path: "theme", want: "dark"},
		{from: "cookie", path: "csrf", err: "no Set-Cookie for csrf"},
		{from: "regex", path: `"id":(\d+)`, want: "42"},
		{from: "regex", path: `"token":"[a-z]+"`, want: `"token":"abc"`},
		{from: "regex", path: `csrf=(\w+)`, err: `regex csrf=(\w+) did not match the body`},
	}
	for _, tt := range tests {
		e, err := scenarios.NewExtract("v", tt.from, tt.path)
		if err != nil {
			t.Errorf("NewExtract(v, %s, %q) = %v", tt.from, tt.path, err)
			continue
		}
		b := body
		if tt.body != nil {
			b = tt.body
		}
		got, err := e.Apply(h, b)
		switch {
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("Extract{%s %q}.Apply = (%q, %v); want (%q, nil)", tt.from, tt.path, got, err, tt.want)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err) || got != ""):
			t.Errorf("Extract{%s %q}.Apply = (%q, %v); want an error saying %q", tt.from, tt.path, got, err, tt.err)
		}
	}
}

func TestNewExtract_Errors(t *testing.T) {
	t.Parallel()
	tests := []struct{ from, path, want string }{
		{"json", "", `bad JSON path ""`},
		{"json", ".a", `bad JSON path ".a"`},
		{"json", "a.", `bad JSON path "a."`},
		{"json", "a..b", `bad JSON path "a..b"`},
		{"header", "", `bad header name ""`},
		{"header", "X:Y", `bad header name "X:Y"`},
		{"cookie", "", `bad cookie name ""`},
		{"cookie", "a=b", `bad cookie name "a=b"`},
		{"regex", "(", "bad regex: error parsing regexp: missing closing )"},
		{"regex", "(a)(b)", "has 2 groups: want at most one"},
		{"xpath", "/a", `unknown source "xpath"`},
	}
	for _, tt := range tests {
		if _, err := scenarios.NewExtract("v", tt.from, tt.path); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewExtract(v, %s, %q) = %v; want an error saying %q", tt.from, tt.path, err, tt.want)
		}
	}
}

func TestParseThink(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want scenarios.Think
		str  string
		err  bool
	}{
		{in: "", want: scenarios.Think{}, str: "0s"},
		{in: "2s", want: scenarios.Think{Min: 2 * time.Second}, str: "2s"},
		{in: " 500ms ", want: scenarios.Think{Min: 500 * time.Millisecond}, str: "500ms"},
		{in: "1s-5s", want: scenarios.Think{Min: time.Second, Max: 5 * time.Second}, str: "1s-5s"},
		{in: "1s - 1m", want: scenarios.Think{Min: time.Second, Max: time.Minute}, str: "1s-1m0s"},
		{in: "2s-2s", want: scenarios.Think{Min: 2 * time.Second, Max: 2 * time.Second}, str: "2s"},
		{in: "0-1s", want: scenarios.Think{Max: time.Second}, str: "0s-1s"},
		{in: "soon", err: true},
		{in: "5", err: true},
		{in: "-1s", err: true},
		{in: "5s-1s", err: true},
		{in: "1s-", err: true},
		{in: "1s-2s-3s", err: true},
	}
	for _, tt := range tests {
		got, err := scenarios.ParseThink(tt.in)
		if tt.err {
			if err == nil {
				t.Errorf("ParseThink(%q) = %+v, nil; want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want || got.String() != tt.str {
			t.Errorf("ParseThink(%q) = %+v (%s), %v; want %+v (%s), nil", tt.in, got, got, err, tt.want, tt.str)
		}
	}
}

func TestThink_Draw(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	fixed := scenarios.Think{Min: 2 * time.Second}
	for range 10 {
		if d := fixed.Draw(rng); d != 2*time.Second {
			t.Fatalf("Think{2s}.Draw = %s; want 2s", d)
		}
	}
	if m := fixed.Mean(); m != 2*time.Second {
		t.Errorf("Think{2s}.Mean() = %s; want 2s", m)
	}
	r := scenarios.Think{Min: time.Second, Max: 3 * time.Second}
	if m := r.Mean(); m != 2*time.Second {
		t.Errorf("Think{1s-3s}.Mean() = %s; want 2s", m)
	}
	// Every draw is in [Min, Max]; over many draws the mean is near the
	// middle and both ends of the range are reached.
	const n = 10000
	var sum time.Duration
	lo, hi := r.Max, r.Min
	for range n {
		d := r.Draw(rng)
		if d < r.Min || d > r.Max {
			t.Fatalf("Think{1s-3s}.Draw = %s; want within [1s, 3s]", d)
		}
		sum += d
		lo, hi = min(lo, d), max(hi, d)
	}
	if mean := sum / n; mean < 1950*time.Millisecond || mean > 2050*time.Millisecond {
		t.Errorf("mean of %d draws of Think{1s-3s} = %s; want 2s ± 50ms", n, mean)
	}
	if lo > 1010*time.Millisecond || hi < 2990*time.Millisecond {
		t.Errorf("draws of Think{1s-3s} span [%s, %s]; want close to [1s, 3s]", lo, hi)
	}
	// The same seed draws the same pauses.
	a, b := rand.New(rand.NewPCG(7, 7)), rand.New(rand.NewPCG(7, 7))
	for range 100 {
		if x, y := r.Draw(a), r.Draw(b); x != y {
			t.Fatalf("Draw from equal seeds = %s and %s; want equal", x, y)
		}
	}
}
