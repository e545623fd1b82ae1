package scenarios_test

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/spikeload/spike/scenarios"
)

func pcg(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

// draws returns a transcript of values drawn from v.
func draws(t *testing.T, v *scenarios.Vars, n int) []string {
	t.Helper()
	var out []string
	for range n {
		r, err := v.RandInt(-50, 50)
		if err != nil {
			t.Fatalf("RandInt(-50, 50) = %v", err)
		}
		out = append(out, fmt.Sprint(r), v.UUID(), fmt.Sprint(v.User()))
	}
	return out
}

func TestVars_Deterministic(t *testing.T) {
	t.Parallel()
	a := draws(t, scenarios.NewVars(pcg(7), 100), 50)
	b := draws(t, scenarios.NewVars(pcg(7), 100), 50)
	if strings.Join(a, " ") != strings.Join(b, " ") {
		t.Errorf("two Vars seeded alike drew\n%v\n%v\nwant the same values", a, b)
	}
	c := draws(t, scenarios.NewVars(pcg(8), 100), 50)
	if strings.Join(a, " ") == strings.Join(c, " ") {
		t.Errorf("Vars seeded 7 and 8 drew the same values %v; want different", a)
	}
}

func TestVars_RandInt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lo, hi int
	}{
		{1, 100},
		{5, 5},
		{-10, -3},
		{-1, 1},
		{0, math.MaxInt},
		{math.MinInt, 0},
		{math.MinInt, math.MaxInt},
		{math.MaxInt - 1, math.MaxInt},
	}
	for _, tt := range tests {
		v := scenarios.NewVars(pcg(1), 10)
		seen := map[int]bool{}
		for range 2000 {
			got, err := v.RandInt(tt.lo, tt.hi)
			if err != nil || got < tt.lo || got > tt.hi {
				t.Fatalf("RandInt(%d, %d) = (%d, %v); want a value in [%d, %d]", tt.lo, tt.hi, got, err, tt.lo, tt.hi)
			}
			seen[got] = true
		}
		// Narrow ranges are covered entirely.
		if span := tt.hi - tt.lo + 1; span > 0 && span <= 201 && len(seen) != span {
			t.Errorf("RandInt(%d, %d) drew %d distinct values in 2000 draws; want all %d", tt.lo, tt.hi, len(seen), span)
		}
	}
	v := scenarios.NewVars(pcg(1), 10)
	if got, err := v.RandInt(5, 1); err == nil {
		t.Errorf("RandInt(5, 1) = (%d, nil); want an error", got)
	} else if want := "RandInt 5 1: the first bound must not exceed the second"; err.Error() != want {
		t.Errorf("RandInt(5, 1) = %q; want %q", err, want)
	}
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestVars_UUID(t *testing.T) {
	t.Parallel()
	v := scenarios.NewVars(pcg(3), 10)
	seen := map[string]bool{}
	variants := map[byte]bool{}
	for range 1000 {
		u := v.UUID()
		if !uuidV4.MatchString(u) {
			t.Fatalf("UUID() = %q; want a version-4, RFC 4122 variant UUID", u)
		}
		if seen[u] {
			t.Fatalf("UUID() = %q twice in 1000 draws", u)
		}
		seen[u] = true
		variants[u[19]] = true
	}
	// All four variant nibbles (8, 9, a, b) occur: the other bits stay random.
	if len(variants) != 4 {
		t.Errorf("UUID() variant nibbles %v; want all of 8, 9, a, b", variants)
	}
}

func TestVars_User(t *testing.T) {
	t.Parallel()
	tests := []struct {
		users, want int // want: the pool size actually used
	}{
		{1, 1},
		{5, 5},
		{1000, 1000},
		{0, 1},
		{-3, 1},
	}
	for _, tt := range tests {
		v := scenarios.NewVars(pcg(4), tt.users)
		seen := map[int]bool{}
		for range 5000 {
			u := v.User()
			if u < 1 || u > tt.want {
				t.Fatalf("NewVars(rng, %d).User() = %d; want within [1, %d]", tt.users, u, tt.want)
			}
			seen[u] = true
		}
		if tt.want <= 5 && len(seen) != tt.want {
			t.Errorf("NewVars(rng, %d).User() drew %d distinct ids; want %d", tt.users, len(seen), tt.want)
		}
	}
}

// request loads a one-request scenario and returns the compiled request.
func request(t *testing.T, yamlReq string) *scenarios.Request {
	t.Helper()
	src := "baseline: 10\nshape: burst\nrequests:\n" + yamlReq
	p, err := scenarios.Parse("t.yaml", []byte(src), scenarios.Overrides{})
	if err != nil {
		t.Fatalf("Parse(%q) = %v", src, err)
	}
	return p.Requests[0]
}

func TestText_Render(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, url string
		isTmpl    bool
		want      *regexp.Regexp
	}{
		{"plain", "/api/feed?page=1", false, regexp.MustCompile(`^/api/feed\?page=1$`)},
		{"braces without actions", "/a/{b}", false, regexp.MustCompile(`^/a/\{b\}$`)},
		{"seq", "/items/{{.Seq}}", true, regexp.MustCompile(`^/items/41$`)},
		{"randint", "/p/{{.RandInt 10 20}}", true, regexp.MustCompile(`^/p/(1\d|20)$`)},
		{"uuid", "/o/{{.UUID}}", true, regexp.MustCompile(`^/o/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)},
		{"user", "/u/{{.User}}", true, regexp.MustCompile(`^/u/([1-9]|10)$`)},
		{"several", "/{{.Seq}}/{{.User}}/{{.RandInt 0 0}}", true, regexp.MustCompile(`^/41/([1-9]|10)/0$`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := request(t, "  - url: "+tt.url+"\n")
			if got := r.URL.IsTemplate(); got != tt.isTmpl {
				t.Errorf("Text(%q).IsTemplate() = %t; want %t", tt.url, got, tt.isTmpl)
			}
			if got := r.URL.Raw(); got != tt.url {
				t.Errorf("Text(%q).Raw() = %q; want %q", tt.url, got, tt.url)
			}
			v := scenarios.NewVars(pcg(9), 10)
			v.Seq = 41
			var buf bytes.Buffer
			for range 50 {
				got, err := r.URL.Render(v, &buf)
				if err != nil || !tt.want.MatchString(got) {
					t.Fatalf("Text(%q).Render(seq 41) = (%q, %v); want a match for %s", tt.url, got, err, tt.want)
				}
			}
		})
	}
}

func TestText_RenderPlainNeedsNoVars(t *testing.T) {
	t.Parallel()
	r := request(t, "  - url: /x\n    method: POST\n    body: '{\"a\": 1}'\n")
	got, err := r.Body.Render(nil, nil)
	if want := `{"a": 1}`; err != nil || got != want {
		t.Errorf("Body.Render(nil, nil) = (%q, %v); want (%q, nil)", got, err, want)
	}
}

func TestText_RenderDeterministic(t *testing.T) {
	t.Parallel()
	r := request(t, "  - url: /x\n    method: POST\n    body: '{{.UUID}} {{.RandInt 1 1000000}} {{.User}}'\n")
	render := func(seed uint64) []string {
		v := scenarios.NewVars(pcg(seed), 1000)
		var buf bytes.Buffer
		var out []string
		for range 20 {
			s, err := r.Body.Render(v, &buf)
			if err != nil {
				t.Fatalf("Body.Render = %v", err)
			}
			out = append(out, s)
		}
		return out
	}
	a, b := render(11), render(11)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("renders with the same seed differ:\n%v\n%v", a, b)
	}
	if a[0] == a[1] {
		t.Errorf("two successive renders are both %q; want fresh values", a[0])
	}
}

func TestMix_Pick(t *testing.T) {
	t.Parallel()
	tests := []struct {
		weights []float64
	}{
		{[]float64{1}},
		{[]float64{1, 1}},
		{[]float64{1, 2, 7}},
		{[]float64{0, 3, 0, 1, 0}},
		{[]float64{0.001, 1000}},
		{[]float64{5, 0}},
		{[]float64{0.5, 0.25, 0.125, 0.125}},
	}
	const draws = 100_000
	for _, tt := range tests {
		reqs := make([]*scenarios.Request, len(tt.weights))
		sum := 0.0
		for i, w := range tt.weights {
			reqs[i] = &scenarios.Request{Name: fmt.Sprint(i), Weight: w}
			sum += w
		}
		m := scenarios.NewMix(reqs)
		rng := pcg(42)
		counts := make([]int, len(reqs))
		for range draws {
			i := m.Pick(rng)
			if i < 0 || i >= len(reqs) {
				t.Fatalf("NewMix(%v).Pick = %d; want an index in [0, %d)", tt.weights, i, len(reqs))
			}
			counts[i]++
		}
		for i, w := range tt.weights {
			share := float64(counts[i]) / draws
			want := w / sum
			if w == 0 && counts[i] != 0 {
				t.Errorf("NewMix(%v).Pick chose %d (weight 0) %d times; want never", tt.weights, i, counts[i])
			}
			// 6 standard deviations of a binomial share.
			if tol := 6 * math.Sqrt(want*(1-want)/draws); math.Abs(share-want) > tol+1e-9 {
				t.Errorf("NewMix(%v).Pick chose %d in %.4f of draws; want %.4f ± %.4f", tt.weights, i, share, want, tol)
			}
		}
	}
}

func TestMix_PickDeterministic(t *testing.T) {
	t.Parallel()
	reqs := []*scenarios.Request{{Weight: 1}, {Weight: 2}, {Weight: 3}}
	m := scenarios.NewMix(reqs)
	a, b := pcg(5), pcg(5)
	for i := range 1000 {
		if x, y := m.Pick(a), m.Pick(b); x != y {
			t.Fatalf("draw %d: Pick = %d and %d with the same seed; want equal", i, x, y)
		}
	}
}

func TestRequest_OK(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expect []int
		status int
		want   bool
	}{
		{nil, 200, true},
		{nil, 204, true},
		{nil, 301, true},
		{nil, 399, true},
		{nil, 199, false},
		{nil, 400, false},
		{nil, 404, false},
		{nil, 500, false},
		{nil, 0, false},
		{[]int{}, 200, true},
		{[]int{200}, 200, true},
		{[]int{200}, 201, false},
		{[]int{200}, 302, false},
		{[]int{404, 409}, 404, true},
		{[]int{404, 409}, 409, true},
		{[]int{404, 409}, 200, false},
		{[]int{503}, 503, true},
	}
	for _, tt := range tests {
		r := &scenarios.Request{Expect: tt.expect}
		if got := r.OK(tt.status); got != tt.want {
			t.Errorf("Request{Expect: %v}.OK(%d) = %t; want %t", tt.expect, tt.status, got, tt.want)
		}
	}
}

func TestRequest_OKFromScenario(t *testing.T) {
	t.Parallel()
	r := request(t, "  - url: /x\n    expect: [404]\n")
	if !r.OK(404) || r.OK(200) {
		t.Errorf("expect: [404]: OK(404) = %t, OK(200) = %t; want true, false", r.OK(404), r.OK(200))
	}
}

// TestParse_EnvTemplate checks {{env "NAME"}}: the value of a set variable,
// and a load-time error naming an unset one.
func TestParse_EnvTemplate(t *testing.T) {
	t.Setenv("SPIKE_TEST_TOKEN", "s3cret")
	const head = "baseline: 10\nshape: burst\nrequests:\n  - url: /\n    headers:\n      Authorization: 'Bearer {{env \"%s\"}}'\n"
	p, err := scenarios.Parse("env.yaml", []byte(fmt.Sprintf(head, "SPIKE_TEST_TOKEN")), scenarios.Overrides{})
	if err != nil {
		t.Fatalf("Parse with SPIKE_TEST_TOKEN set = %v", err)
	}
	got, err := p.Requests[0].Headers[0].Value.Render(scenarios.NewVars(rand.New(rand.NewPCG(1, 2)), 1), &bytes.Buffer{})
	if err != nil || got != "Bearer s3cret" {
		t.Errorf("Render(Authorization) = %q, %v; want \"Bearer s3cret\"", got, err)
	}
	_, err = scenarios.Parse("env.yaml", []byte(fmt.Sprintf(head, "SPIKE_TEST_UNSET")), scenarios.Overrides{})
	want := "env.yaml:6:22: requests[0].headers.Authorization: bad template: environment variable SPIKE_TEST_UNSET is not set"
	if err == nil || err.Error() != want {
		t.Errorf("Parse with SPIKE_TEST_UNSET unset = %v; want %q", err, want)
	}
}

// TestText_Vars checks the session variables a step's template names, and
// that it renders them from Vars.Vars next to today's values.
func TestText_Vars(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body string
		used []string
		want string
	}{
		{"plain", nil, "plain"},
		{"{{.Seq}}-{{.User}}", nil, "41-1"},
		{"{{.Vars.token}}", []string{"token"}, "T"},
		{"{{.Vars.b}}{{.Vars.a}}{{.Vars.b}}", []string{"a", "b"}, "BAB"},
		{"{{if .Vars.a}}{{.Vars.b}}{{else}}{{.Vars.token}}{{end}}", []string{"a", "b", "token"}, "B"},
		{"{{len .Vars.a}}", []string{"a"}, "1"},
		{"{{with .Vars.a}}{{.}}{{end}}/{{printf \"%s-%d\" .Vars.b .Seq}}", []string{"a", "b"}, "A/B-41"},
	}
	for _, tt := range tests {
		src := "baseline: 10\nshape: burst\njourneys:\n  - name: j\n    steps:\n      - url: /\n        extract:\n" +
			"          a: {header: A}\n          b: {header: B}\n          token: {header: T}\n" +
			"      - {url: /b, method: POST, body: '" + tt.body + "'}\n"
		p, err := scenarios.Parse("t.yaml", []byte(src), scenarios.Overrides{})
		if err != nil {
			t.Errorf("Parse(%q) = %v", src, err)
			continue
		}
		body := p.Requests[1].Body
		if got := body.VarsUsed(); fmt.Sprint(got) != fmt.Sprint(tt.used) {
			t.Errorf("Text(%q).VarsUsed() = %q; want %q", tt.body, got, tt.used)
		}
		v := scenarios.NewVars(pcg(1), 1)
		v.Seq = 41
		v.Vars = map[string]string{"a": "A", "b": "B", "token": "T"}
		var buf bytes.Buffer
		if got, err := body.Render(v, &buf); err != nil || got != tt.want {
			t.Errorf("Text(%q).Render(Vars a=A b=B token=T) = (%q, %v); want (%q, nil)", tt.body, got, err, tt.want)
		}
	}
	// A variable a session lacks at run time is an error, not "<no value>".
	p := mustParse(t, "t.yaml", "baseline: 10\nshape: burst\njourneys:\n  - name: j\n    steps:\n      - url: /\n        extract: {a: {header: A}}\n      - url: /{{.Vars.a}}\n", scenarios.Overrides{})
	var buf bytes.Buffer
	if got, err := p.Requests[1].URL.Render(scenarios.NewVars(pcg(1), 1), &buf); err == nil {
		t.Errorf("URL.Render(no session variables) = %q, nil; want an error", got)
	}
}
