package mvpapp

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// fastConfig is DefaultConfig with fewer posts (seeding under -race is slow)
// and short latencies, for tests of behaviour rather than capacity.
func fastConfig() Config {
	c := DefaultConfig()
	c.Users, c.Posts = 200, 400
	c.DBLatency = time.Millisecond
	c.LoginCost = time.Millisecond
	c.EmailLatency = time.Millisecond
	c.StaticBandwidth = 1 << 30
	return c
}

func newTestApp(t *testing.T, cfg Config) *App {
	t.Helper()
	a, err := New(cfg)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	})
	return a
}

// serverTimingRE matches a Server-Timing value as the app writes it.
var serverTimingRE = regexp.MustCompile(`^([a-z]+;(dur=\d+\.\d|desc=[a-z]+))(, [a-z]+;(dur=\d+\.\d|desc=[a-z]+))*$`)

// timingNames returns the component names of a Server-Timing value, with desc.
func timingNames(v string) []string {
	var out []string
	for _, part := range strings.Split(v, ", ") {
		name, param, _ := strings.Cut(part, ";")
		if strings.HasPrefix(param, "desc=") {
			name += "=" + strings.TrimPrefix(param, "desc=")
		}
		out = append(out, name)
	}
	return out
}

func do(h http.Handler, method, path, body string, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestApp_Handler(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, fastConfig())
	h := a.Handler()
	tests := []struct {
		method, path, body string
		wantCode           int
		wantType           string
		wantBody           string // substring
		wantLen            int    // 0: any
		wantTiming         string // component names, in order
		wantHeader         string // a header that must be set
	}{
		{method: "GET", path: "/", wantCode: 200, wantType: "text/html", wantBody: `<script src="/static/app.js"`, wantLen: homeHTMLSize, wantTiming: "app"},
		{method: "GET", path: "/static/app.js", wantCode: 200, wantType: "text/javascript", wantLen: appJSSize, wantTiming: "app"},
		{method: "GET", path: "/static/hero.png", wantCode: 200, wantType: "image/png", wantBody: "\x89PNG", wantTiming: "app"},
		{method: "GET", path: "/api/feed", wantCode: 200, wantType: "application/json", wantBody: `"returned":20`, wantTiming: "db cache=miss app"},
		{method: "GET", path: "/api/profile/7", wantCode: 200, wantType: "application/json", wantBody: `"name":"u7"`, wantTiming: "db cache=miss app"},
		{method: "GET", path: "/api/profile/999999", wantCode: 404, wantBody: "not found", wantTiming: "db cache=miss app"},
		{method: "GET", path: "/api/profile/abc", wantCode: 400, wantBody: "bad profile id", wantTiming: "app"},
		{method: "POST", path: "/api/login", body: `{"user":"u123","password":"password"}`, wantCode: 200, wantBody: `"user":"u123"`, wantTiming: "auth app", wantHeader: "Set-Cookie"},
		{method: "POST", path: "/api/login", body: `{"user":"u123","password":"nope"}`, wantCode: 401, wantBody: "invalid credentials", wantTiming: "app"},
		{method: "POST", path: "/api/login", body: `{"user":"u201","password":"password"}`, wantCode: 401, wantTiming: "app"},
		{method: "POST", path: "/api/login", body: `{`, wantCode: 400, wantBody: "bad JSON", wantTiming: "app"},
		{method: "POST", path: "/api/signup", body: `{"user":"ann","email":"ann@example.com"}`, wantCode: 201, wantBody: `"email":"sent"`, wantTiming: "db ext app"},
		{method: "POST", path: "/api/signup", body: `{"user":"ann"}`, wantCode: 400, wantTiming: "app"},
		{method: "GET", path: "/api/me", wantCode: 401, wantTiming: "app"},
		{method: "GET", path: "/healthz", wantCode: 200, wantBody: "ok", wantTiming: "app"},
		{method: "GET", path: "/nope", wantCode: 404, wantTiming: "app"},
		{method: "POST", path: "/api/feed", wantCode: 405, wantTiming: "app"},
	}
	for _, tt := range tests {
		rec := do(h, tt.method, tt.path, tt.body, nil)
		call := tt.method + " " + tt.path + " " + tt.body
		if rec.Code != tt.wantCode {
			t.Errorf("%s: code %d; want %d (body %.100q)", call, rec.Code, tt.wantCode, rec.Body.String())
		}
		if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, tt.wantType) {
			t.Errorf("%s: Content-Type %q; want %q", call, got, tt.wantType)
		}
		if !strings.Contains(rec.Body.String(), tt.wantBody) {
			t.Errorf("%s: body %.200q; want it to contain %q", call, rec.Body.String(), tt.wantBody)
		}
		if tt.wantLen != 0 && rec.Body.Len() != tt.wantLen {
			t.Errorf("%s: body is %d bytes; want %d", call, rec.Body.Len(), tt.wantLen)
		}
		st := rec.Header().Get("Server-Timing")
		if !serverTimingRE.MatchString(st) {
			t.Errorf("%s: Server-Timing %q is malformed", call, st)
		}
		if got := strings.Join(timingNames(st), " "); got != tt.wantTiming {
			t.Errorf("%s: Server-Timing %q has components %q; want %q", call, st, got, tt.wantTiming)
		}
		if tt.wantHeader != "" && rec.Header().Get(tt.wantHeader) == "" {
			t.Errorf("%s: no %s header", call, tt.wantHeader)
		}
		if strings.HasPrefix(tt.path, "/static/") || tt.path == "/" {
			for _, k := range []string{"Cache-Control", "Content-Encoding", "X-Cache", "Age"} {
				if v := rec.Header().Get(k); v != "" {
					t.Errorf("%s without CDN: %s = %q; want none", call, k, v)
				}
			}
		}
	}
}

// login logs user in and returns the session cookie.
func login(t *testing.T, a *App, user string) *http.Cookie {
	t.Helper()
	rec := do(a.Handler(), "POST", "/api/login", `{"user":"`+user+`","password":"password"}`, nil)
	cookies := rec.Result().Cookies()
	if rec.Code != 200 || len(cookies) != 1 || cookies[0].Name != SessionCookie {
		t.Fatalf("POST /api/login as %s = %d, cookies %v; want 200 and one %s", user, rec.Code, cookies, SessionCookie)
	}
	if !cookies[0].HttpOnly || cookies[0].Path != "/" || cookies[0].Value == "" {
		t.Errorf("session cookie %s; want a value, Path=/ and HttpOnly", cookies[0])
	}
	return cookies[0]
}

func TestApp_Handler_sessionCookie(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	a, err := newApp(fastConfig(), clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })

	rec := do(a.Handler(), "POST", "/api/login", `{"user":"u5","password":"password"}`, nil)
	var reply loginReply
	if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil || reply != (loginReply{User: "u5", ID: 5}) {
		t.Errorf("login body %q (%v); want user u5, id 5", rec.Body.String(), err)
	}
	ok := login(t, a, "u5").String()
	other := login(t, a, "u6").String()
	forged := SessionCookie + "=0123456789abcdef"

	steps := []struct {
		advance            time.Duration
		method, path       string
		cookie             string
		wantCode           int
		wantBody           string // substring
		wantTiming         string
		wantBodyNotContain string
	}{
		{0, "GET", "/api/me", ok, 200, `"user":"u5"`, "auth app", ""},
		{0, "GET", "/api/me", other, 200, `"user":"u6"`, "auth app", ""},
		{0, "GET", "/api/feed", ok, 200, `"returned":20`, "db auth cache=miss app", ""},
		{0, "GET", "/api/profile/5", ok, 200, `"name":"u5"`, "db auth cache=miss app", ""},
		{0, "GET", "/api/profile/6", ok, 200, `"name":"u6"`, "db auth cache=miss app", ""},
		// Without a cookie the feed and profiles are public, as before.
		{0, "GET", "/api/feed", "", 200, `"returned":20`, "db cache=miss app", ""},
		{0, "GET", "/api/profile/5", "", 200, `"name":"u5"`, "db cache=miss app", ""},
		{0, "GET", "/api/feed", "theme=dark", 200, `"returned":20`, "db cache=miss app", ""},
		// An unknown session is refused, named by its first characters only.
		{0, "GET", "/api/feed", forged, 401, `session mvp_session="012345…" unknown or expired`, "auth app", "0123456789"},
		{0, "GET", "/api/profile/5", forged, 401, "unknown or expired", "auth app", ""},
		{0, "GET", "/api/profile/abc", forged, 401, "unknown or expired", "auth app", ""},
		{0, "GET", "/api/feed", SessionCookie + "=", 401, "session mvp_session=(empty) unknown", "auth app", ""},
		{0, "GET", "/api/me", forged, 401, "unknown or expired", "auth app", ""},
		{0, "GET", "/api/me", "", 401, "not logged in", "app", ""},
		// Sessions last 24 hours.
		{23 * time.Hour, "GET", "/api/feed", ok, 200, `"returned":20`, "db auth cache=miss app", ""},
		{2 * time.Hour, "GET", "/api/feed", ok, 401, "unknown or expired", "auth app", ""},
		{0, "GET", "/api/feed", "", 200, `"returned":20`, "db cache=miss app", ""},
	}
	for i, s := range steps {
		clock.Advance(s.advance)
		var hdr map[string]string
		if s.cookie != "" {
			hdr = map[string]string{"Cookie": s.cookie}
		}
		rec := do(a.Handler(), s.method, s.path, "", hdr)
		call := fmt.Sprintf("step %d: %s %s with cookie %q", i, s.method, s.path, s.cookie)
		if rec.Code != s.wantCode || !strings.Contains(rec.Body.String(), s.wantBody) {
			t.Errorf("%s = %d %.200q; want %d with %q", call, rec.Code, rec.Body.String(), s.wantCode, s.wantBody)
		}
		if s.wantBodyNotContain != "" && strings.Contains(rec.Body.String(), s.wantBodyNotContain) {
			t.Errorf("%s: body %q repeats the session id", call, rec.Body.String())
		}
		if got := strings.Join(timingNames(rec.Header().Get("Server-Timing")), " "); got != s.wantTiming {
			t.Errorf("%s: Server-Timing components %q; want %q", call, got, s.wantTiming)
		}
	}
	if st := a.Stats(); st.BadSessions != 6 {
		t.Errorf("Stats().BadSessions = %d; want 6", st.BadSessions)
	}
}

func TestApp_Handler_notModified(t *testing.T) {
	t.Parallel()
	for _, fixes := range [][]Fix{nil, {FixCDN}} {
		cfg := fastConfig().WithFixes(fixes...)
		cfg.StaticSlots, cfg.StaticWait = 1, 50*time.Millisecond
		a := newTestApp(t, cfg)
		// Hold the only static slot: a 304 must not need it.
		a.staticSlots <- struct{}{}
		tests := []struct {
			path, ifNoneMatch string
			want              int
		}{
			{"/static/hero.png", HeroETag, 304},
			{"/static/hero.png", `"hero.png-1"`, 304},
			{"/static/hero.png", `W/"old", ` + HeroETag, 304},
			{"/static/hero.png", "*", 304},
			{"/static/app.js", AppJSETag, 304},
			{"/", HomeETag, 304},
			{"/static/app.js", HeroETag, 503},
			{"/static/hero.png", `W/"hero.png-0"`, 503},
		}
		for _, tt := range tests {
			want := tt.want
			if want == 503 && cfg.CDN {
				want = 200 // no slot behind the CDN
			}
			rec := do(a.Handler(), "GET", tt.path, "", map[string]string{"If-None-Match": tt.ifNoneMatch})
			if rec.Code != want {
				t.Errorf("fixes %v: GET %s If-None-Match %s = %d; want %d", fixes, tt.path, tt.ifNoneMatch, rec.Code, want)
			}
			if want == 304 && rec.Body.Len() != 0 {
				t.Errorf("fixes %v: GET %s: 304 with a %d-byte body", fixes, tt.path, rec.Body.Len())
			}
			if rec.Code != 503 && rec.Header().Get("ETag") == "" {
				t.Errorf("fixes %v: GET %s: no ETag", fixes, tt.path)
			}
		}
		<-a.staticSlots
	}
}

func TestApp_Handler_serverTimingDurations(t *testing.T) {
	t.Parallel()
	cfg := fastConfig()
	cfg.DBLatency = 20 * time.Millisecond
	a := newTestApp(t, cfg)
	rec := do(a.Handler(), "GET", "/api/feed", "", nil)
	var db, app float64
	for _, part := range strings.Split(rec.Header().Get("Server-Timing"), ", ") {
		name, param, _ := strings.Cut(part, ";")
		var v float64
		if _, err := fmt.Sscanf(param, "dur=%f", &v); err != nil {
			continue
		}
		switch name {
		case "db":
			db = v
		case "app":
			app = v
		}
	}
	// Two queries of 20 ms each on one connection.
	if db < 40 || app < db {
		t.Errorf("feed Server-Timing %q: db %.1f, app %.1f; want db ≥ 40 and app ≥ db",
			rec.Header().Get("Server-Timing"), db, app)
	}
}

func TestApp_Handler_CDN(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, fastConfig().WithFixes(FixCDN))
	h := a.Handler()
	gz := map[string]string{"Accept-Encoding": "gzip, br"}
	tests := []struct {
		path         string
		hdr          map[string]string
		wantType     string
		wantEncoding string
		wantCache    string
		maxLen       int
		wantPlain    []byte
	}{
		{"/", gz, "text/html", "gzip", "public, max-age=60", homeHTMLSize / 2, a.assets.home.body},
		{"/", nil, "text/html", "", "public, max-age=60", homeHTMLSize, a.assets.home.body},
		{"/static/app.js", gz, "text/javascript", "gzip", "public, max-age=31536000, immutable", appJSSize / 10, a.assets.appJS.body},
		{"/static/app.js", map[string]string{"Accept-Encoding": "gzip;q=0"}, "text/javascript", "", "public, max-age=31536000, immutable", appJSSize, a.assets.appJS.body},
		{"/static/hero.png", gz, "image/webp", "", "public, max-age=31536000, immutable", heroPNGSize / 10, nil},
	}
	for _, tt := range tests {
		rec := do(h, "GET", tt.path, "", tt.hdr)
		call := "GET " + tt.path + " " + tt.hdr["Accept-Encoding"]
		if rec.Code != 200 {
			t.Errorf("%s: code %d; want 200", call, rec.Code)
			continue
		}
		hd := rec.Header()
		if !strings.HasPrefix(hd.Get("Content-Type"), tt.wantType) || hd.Get("Content-Encoding") != tt.wantEncoding ||
			hd.Get("Cache-Control") != tt.wantCache || hd.Get("X-Cache") != "HIT" || hd.Get("Age") == "" {
			t.Errorf("%s: headers %v; want type %s, encoding %q, Cache-Control %q, X-Cache and Age",
				call, hd, tt.wantType, tt.wantEncoding, tt.wantCache)
		}
		if rec.Body.Len() > tt.maxLen {
			t.Errorf("%s: body is %d bytes; want ≤ %d", call, rec.Body.Len(), tt.maxLen)
		}
		if tt.wantPlain != nil {
			body := rec.Body.Bytes()
			if tt.wantEncoding == "gzip" {
				zr, err := gzip.NewReader(rec.Body)
				if err != nil {
					t.Fatalf("%s: %v", call, err)
				}
				if body, err = io.ReadAll(zr); err != nil {
					t.Fatalf("%s: %v", call, err)
				}
			}
			if !bytes.Equal(body, tt.wantPlain) {
				t.Errorf("%s: decoded body differs from the original", call)
			}
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header string
		want   bool
	}{
		{"", false},
		{"gzip", true},
		{"br, gzip", true},
		{"GZIP;q=0.5", true},
		{"gzip;q=0", false},
		{"gzip; q=0", false},
		{"*", true},
		{"deflate, br", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept-Encoding", tt.header)
		if got := acceptsGzip(r); got != tt.want {
			t.Errorf("acceptsGzip(%q) = %t; want %t", tt.header, got, tt.want)
		}
	}
}

// fakeClock is a settable clock for cache expiry tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestApp_Handler_cache(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	a, err := newApp(fastConfig().WithFixes(FixCache), clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	h := a.Handler()
	steps := []struct {
		advance time.Duration
		path    string
		want    string // Server-Timing components
	}{
		{0, "/api/feed", "db cache=miss app"},
		{0, "/api/feed", "cache=hit app"},
		{0, "/api/profile/3", "db cache=miss app"},
		{59 * time.Second, "/api/feed", "cache=hit app"},
		{2 * time.Second, "/api/feed", "db cache=miss app"}, // feed TTL 1 min
		{0, "/api/profile/3", "cache=hit app"},
		{0, "/api/profile/4", "db cache=miss app"},
		{3 * time.Minute, "/api/profile/3", "cache=hit app"}, // cached at 0, now 4:01
		{time.Minute, "/api/profile/3", "db cache=miss app"}, // 5:01: profile TTL 5 min
		{0, "/api/profile/999999", "db cache=miss app"},
		{0, "/api/profile/999999", "db cache=miss app"}, // 404s are not cached
	}
	var bodies = map[string]string{}
	for i, s := range steps {
		clock.Advance(s.advance)
		rec := do(h, "GET", s.path, "", nil)
		if got := strings.Join(timingNames(rec.Header().Get("Server-Timing")), " "); got != s.want {
			t.Errorf("step %d: GET %s: Server-Timing %q; want %q", i, s.path, got, s.want)
		}
		if rec.Code == 200 {
			if prev, ok := bodies[s.path]; ok && prev != rec.Body.String() {
				t.Errorf("step %d: GET %s: cached body differs", i, s.path)
			}
			bodies[s.path] = rec.Body.String()
		}
	}
	st := a.Stats()
	if st.CacheHits != 4 || st.CacheMisses != 7 {
		t.Errorf("Stats() hits %d, misses %d; want 4, 7", st.CacheHits, st.CacheMisses)
	}
}

func TestApp_Handler_queue(t *testing.T) {
	t.Parallel()
	cfg := fastConfig().WithFixes(FixQueue)
	cfg.EmailLatency = 500 * time.Millisecond
	a := newTestApp(t, cfg)
	for i := range 3 {
		start := time.Now()
		rec := do(a.Handler(), "POST", "/api/signup", `{"user":"bob","email":"bob@example.com"}`, nil)
		if rec.Code != http.StatusAccepted || !strings.Contains(rec.Body.String(), `"email":"queued"`) {
			t.Errorf("signup %d = %d %q; want 202 queued", i, rec.Code, rec.Body.String())
		}
		if d := time.Since(start); d >= cfg.EmailLatency {
			t.Errorf("signup %d took %s; want less than the email latency %s", i, d, cfg.EmailLatency)
		}
		if got := strings.Join(timingNames(rec.Header().Get("Server-Timing")), " "); got != "db app" {
			t.Errorf("signup %d: Server-Timing components %q; want %q", i, got, "db app")
		}
	}
	waitFor(t, 5*time.Second, func() bool { return a.Stats().EmailsSent == 3 })
}

func waitFor(t *testing.T, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestApp_Handler_queueFull(t *testing.T) {
	t.Parallel()
	cfg := fastConfig().WithFixes(FixQueue)
	cfg.QueueSize = 1
	cfg.EmailRate = 0.1 // the workers take one email, then wait 10 s for the next token
	cfg.EmailBurst = 1
	a := newTestApp(t, cfg)
	codes := map[int]int{}
	for range 8 {
		rec := do(a.Handler(), "POST", "/api/signup", `{"user":"bob","email":"bob@example.com"}`, nil)
		codes[rec.Code]++
		if rec.Code == 503 && !strings.Contains(rec.Body.String(), "email queue full") {
			t.Errorf("signup = 503 %q; want body %q", rec.Body.String(), "email queue full")
		}
	}
	if codes[503] == 0 || codes[202] == 0 {
		t.Errorf("signup codes %v; want some 202 and some 503", codes)
	}
}

func TestEmailQueue_retriesWithBackoff(t *testing.T) {
	t.Parallel()
	// The provider allows 5 calls/s with an empty bucket; the queue paces itself
	// at 50/s, so early calls get 429 and must be retried.
	now := time.Now()
	p := &emailProvider{limit: newBucket(5, 1, now), latency: time.Millisecond}
	p.limit.allow(now) // empty it
	var stats counters
	q := newEmailQueue(10, p, 50, &stats)
	defer q.close()
	for range 3 {
		if err := q.enqueue("x@example.com"); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 5*time.Second, func() bool { return stats.emailSent.Load() == 3 })
	if s := stats.snapshot(); s.Email429s == 0 || s.EmailsRetried == 0 || s.EmailsDropped != 0 {
		t.Errorf("stats %+v; want some 429s and retries, no drops", s)
	}
}

func TestBucket(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	b := newBucket(10, 2, t0) // 10/s, burst 2
	steps := []struct {
		at   time.Duration
		want bool
	}{
		{0, true}, {0, true}, {0, false}, // the burst
		{50 * time.Millisecond, false},
		{100 * time.Millisecond, true}, // one token per 100 ms
		{150 * time.Millisecond, false},
		{time.Second, true}, {time.Second, true}, {time.Second, false}, // refills to the burst only
	}
	for _, s := range steps {
		if got := b.allow(t0.Add(s.at)); got != s.want {
			t.Errorf("allow(t0+%s) = %t; want %t", s.at, got, s.want)
		}
	}
	r := newBucket(10, 1, t0)
	for i, want := range []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond} {
		if got := r.reserve(t0); got != want {
			t.Errorf("reserve #%d = %s; want %s", i, got, want)
		}
	}
}

func TestStart(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Start(ctx, fastConfig(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Errorf("URL() = %q; want http://127.0.0.1:PORT", s.URL())
	}
	resp, err := http.Get(s.URL() + "/api/profile/1")
	if err != nil {
		t.Fatal(err)
	}
	var p profile
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil || p.Name != "u1" {
		t.Errorf("GET /api/profile/1 = %+v, %v; want u1", p, err)
	}
	resp.Body.Close()

	cancel() // stops the server
	waitFor(t, 3*time.Second, func() bool {
		_, err := http.Get(s.URL() + "/healthz")
		return err != nil
	})
	if err := s.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close() = %v", err)
	}
	if _, err := Start(context.Background(), fastConfig(), "256.0.0.1:0"); err == nil {
		t.Errorf("Start on a bad address = nil error; want one")
	}
}

// TestApp_Handler_limits sends two requests at once to an app whose layer under
// test can serve one: the second fails the designed way, with the designed body.
func TestApp_Handler_limits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		tweak    func(*Config)
		method   string
		path     string
		body     string
		wantCode int
		wantBody string
		// refusedFirst: the resource is held three times as long as the other
		// request may wait for it, so the refusal answers first.
		refusedFirst bool
		// session: both requests send the session cookie of one login.
		session bool
	}{
		{
			name:   "database",
			tweak:  func(c *Config) { c.DBPool, c.DBLatency, c.DBWait = 1, 300*time.Millisecond, 100*time.Millisecond },
			method: "GET", path: "/api/profile/1",
			wantCode: 503, wantBody: "database pool exhausted: no connection within 100ms (pool 1)\n", refusedFirst: true,
		},
		{
			name:   "auth",
			tweak:  func(c *Config) { c.LoginCost, c.AuthWait = 300*time.Millisecond, 100*time.Millisecond },
			method: "POST", path: "/api/login", body: `{"user":"u1","password":"password"}`,
			wantCode: 503, wantBody: "session store busy: lock not acquired within 100ms\n", refusedFirst: true,
		},
		{
			name:   "auth lookups",
			tweak:  func(c *Config) { c.LookupCost, c.AuthWait = 300*time.Millisecond, 100*time.Millisecond },
			method: "GET", path: "/api/feed", session: true,
			wantCode: 503, wantBody: "session store busy: lock not acquired within 100ms\n", refusedFirst: true,
		},
		{
			name:   "third-party",
			tweak:  func(c *Config) { c.EmailRate, c.EmailBurst, c.EmailLatency = 0.1, 1, 100*time.Millisecond },
			method: "POST", path: "/api/signup", body: `{"user":"ann","email":"ann@example.com"}`,
			wantCode: 502, wantBody: "email provider: 429 Too Many Requests\n",
		},
		{
			name: "frontend",
			tweak: func(c *Config) {
				c.StaticBandwidth, c.StaticWait = heroPNGSize*10/3, 100*time.Millisecond // 300 ms per hero
			},
			method: "GET", path: "/static/hero.png",
			wantCode: 503, wantBody: "static server busy: no slot within 100ms (1 slot(s))\n", refusedFirst: true,
		},
		{
			name:   "backend",
			tweak:  func(c *Config) { c.MaxInFlight, c.AppLatency = 1, 300*time.Millisecond },
			method: "GET", path: "/",
			wantCode: 503, wantBody: "server overloaded: 1 requests in flight (limit 1)\n", refusedFirst: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := fastConfig()
			tt.tweak(&cfg)
			a := newTestApp(t, cfg)
			var hdr map[string]string
			if tt.session {
				hdr = map[string]string{"Cookie": login(t, a, "u1").String()}
			}
			// Both start at once; whichever takes the resource first wins.
			results := make(chan *httptest.ResponseRecorder, 2)
			for range 2 {
				go func() { results <- do(a.Handler(), tt.method, tt.path, tt.body, hdr) }()
			}
			first := <-results
			// While the layer is full, /healthz still answers.
			if rec := do(a.Handler(), "GET", "/healthz", "", nil); rec.Code != 200 {
				t.Errorf("GET /healthz while %s is full = %d; want 200", tt.name, rec.Code)
			}
			if tt.refusedFirst && first.Code < 300 {
				t.Errorf("%s %s twice at once: the first to answer got %d; want the refusal first", tt.method, tt.path, first.Code)
			}
			var ok, failed []*httptest.ResponseRecorder
			for _, r := range []*httptest.ResponseRecorder{first, <-results} {
				if !serverTimingRE.MatchString(r.Header().Get("Server-Timing")) {
					t.Errorf("%s %s: Server-Timing %q is malformed", tt.method, tt.path, r.Header().Get("Server-Timing"))
				}
				if r.Code < 300 {
					ok = append(ok, r)
				} else {
					failed = append(failed, r)
				}
			}
			if len(ok) != 1 || len(failed) != 1 {
				t.Fatalf("%s %s twice at once: %d succeeded, %d failed; want 1 and 1", tt.method, tt.path, len(ok), len(failed))
			}
			if f := failed[0]; f.Code != tt.wantCode || f.Body.String() != tt.wantBody {
				t.Errorf("%s %s = %d %q; want %d %q", tt.method, tt.path, f.Code, f.Body.String(), tt.wantCode, tt.wantBody)
			}
		})
	}
}
