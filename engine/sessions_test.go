package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spikeload/spike/scenarios"
)

// journeyStep describes one step of a test journey.
type journeyStep struct {
	name, method, url string
	headers           map[string]string
	extract           [][3]string // var, from, path
	think             scenarios.Think
}

// journeyPlan builds a plan of one journey "visit" with the given steps, on
// a curve of `stages` (YAML), sent to target.
func journeyPlan(t *testing.T, target, stages string, maxSessions int, steps ...journeyStep) *scenarios.Plan {
	t.Helper()
	var reqs strings.Builder
	for _, s := range steps {
		fmt.Fprintf(&reqs, "  - {name: %q, url: /placeholder}\n", "visit/"+s.name)
	}
	y := "name: j\ntarget: " + target + "\nbaseline: 10\nstages: " + stages + "\nrequests:\n" + reqs.String() +
		"options: {timeout: 2s}\nslo: {p95: 1s}\n"
	p, err := scenarios.Parse("j.yaml", []byte(y), scenarios.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	j := &scenarios.Journey{Name: "visit", Weight: 1, Cookies: true}
	for i, s := range steps {
		r := p.Requests[i]
		r.Method = s.method
		if r.Method == "" {
			r.Method = http.MethodGet
		}
		if r.URL, err = scenarios.NewText("url", s.url); err != nil {
			t.Fatal(err)
		}
		for k, v := range s.headers {
			text, err := scenarios.NewText(k, v)
			if err != nil {
				t.Fatal(err)
			}
			r.Headers = append(r.Headers, scenarios.Header{Key: k, Value: text})
		}
		st := &scenarios.Step{Req: i, Request: r, Think: s.think}
		for _, e := range s.extract {
			x, err := scenarios.NewExtract(e[0], e[1], e[2])
			if err != nil {
				t.Fatal(err)
			}
			st.Extract = append(st.Extract, x)
		}
		j.Steps = append(j.Steps, st)
	}
	p.Journeys = []*scenarios.Journey{j}
	p.Options.MaxSessions = maxSessions
	return p
}

// journeyApp is a target with a login that issues a cookie, a JSON token, a
// header and an HTML id, and a feed that checks all four belong to one
// session. Visitors whose number is a multiple of failEvery get a 500 from
// the feed (0: never).
type journeyApp struct {
	mu        sync.Mutex
	sessions  map[string]string // sid → token
	failEvery int
	mismatch  int // feed requests whose values did not belong together
	stall     time.Duration
}

func (a *journeyApp) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login/{n}", func(w http.ResponseWriter, r *http.Request) {
		n := r.PathValue("n")
		sid, tok := "s"+n, "t"+n
		a.mu.Lock()
		a.sessions[sid] = tok
		a.mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: sid, Path: "/"})
		w.Header().Set("X-Csrf", "c"+n)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"token": tok, "user": map[string]any{"id": n, "tags": []any{"a", 7}}})
	})
	mux.HandleFunc("GET /page/{n}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<html><form><input name="uid" value="u%s"></form></html>`, r.PathValue("n"))
	})
	mux.HandleFunc("GET /stall", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(a.stall)
	})
	mux.HandleFunc("GET /feed/{n}", func(w http.ResponseWriter, r *http.Request) {
		n := r.PathValue("n")
		c, err := r.Cookie("sid")
		a.mu.Lock()
		defer a.mu.Unlock()
		if err != nil || a.sessions[c.Value] != r.Header.Get("Authorization") || c.Value != "s"+n ||
			r.Header.Get("X-Csrf") != "c"+n || r.URL.Query().Get("uid") != "u"+n || r.URL.Query().Get("tag") != "7" {
			a.mismatch++
			http.Error(w, "session mismatch", http.StatusUnauthorized)
			return
		}
		var k int
		fmt.Sscan(n, &k)
		if a.failEvery > 0 && k%a.failEvery == 0 {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, "ok")
	})
	return mux
}

func runJourney(t *testing.T, p *scenarios.Plan, target string, onSample func(*Sample)) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := Run(ctx, Config{Plan: p, Target: target, OnSample: onSample})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// Values extracted from JSON, a header, a cookie and a regex reach the next
// steps of the same session, and only that session.
func TestJourney_ExtractAndCookies(t *testing.T) {
	app := &journeyApp{sessions: map[string]string{}}
	srv := httptest.NewServer(app.handler())
	defer srv.Close()
	p := journeyPlan(t, srv.URL, "[{hold: {rate: 20, duration: 1500ms}}]", 0,
		journeyStep{name: "page", url: "/page/{{.Seq}}", extract: [][3]string{{"uid", "regex", `name="uid" value="([^"]+)"`}}},
		journeyStep{name: "login", method: "POST", url: "/login/{{.Seq}}", extract: [][3]string{
			{"token", "json", "token"}, {"tag", "json", "user.tags.1"}, {"csrf", "header", "X-Csrf"}, {"sid", "cookie", "sid"}}},
		journeyStep{name: "feed", url: "/feed/{{.Seq}}?uid={{.Vars.uid}}&tag={{.Vars.tag}}",
			headers: map[string]string{"Authorization": "{{.Vars.token}}", "X-Csrf": "{{.Vars.csrf}}"}},
	)
	res := runJourney(t, p, srv.URL, nil)
	if len(res.Journeys) != 1 {
		t.Fatalf("%d journey totals; want 1", len(res.Journeys))
	}
	jt := res.Journeys[0]
	t.Logf("journey: %+v", jt)
	if jt.Started != 30 || jt.Completed != jt.Started || app.mismatch != 0 {
		t.Errorf("started %d, completed %d, %d feed requests with another session's values; want 30, 30, 0", jt.Started, jt.Completed, app.mismatch)
	}
	if want := []string{"page", "login", "feed"}; strings.Join(jt.Steps, ",") != strings.Join(want, ",") {
		t.Errorf("steps %q; want %q", jt.Steps, want)
	}
	for i, r := range res.Requests {
		if r.Count != 30 || r.Errors != 0 {
			t.Errorf("%s: %d requests, %d errors; want 30, 0", r.Name, r.Count, r.Errors)
		}
		if jt.Reached[i] != 30 {
			t.Errorf("reached step %d by %d; want 30", i, jt.Reached[i])
		}
	}
	if jt.Duration.Count != 30 {
		t.Errorf("%d session durations; want 30", jt.Duration.Count)
	}
	// The result reads back with its journeys.
	var buf bytes.Buffer
	if err := writeJSON(&buf, res); err != nil {
		t.Fatal(err)
	}
	back, err := parseResult(buf.Bytes())
	if err != nil {
		t.Fatalf("parseResult: %v", err)
	}
	if len(back.Journeys) != 1 || back.Journeys[0].Completed != 30 {
		t.Errorf("read back: journeys %+v", back.Journeys)
	}
}

// A failing step ends the session there; a failed extraction fails its step
// and says why.
func TestJourney_Abandonment(t *testing.T) {
	app := &journeyApp{sessions: map[string]string{}, failEvery: 3}
	srv := httptest.NewServer(app.handler())
	defer srv.Close()
	p := journeyPlan(t, srv.URL, "[{hold: {rate: 20, duration: 1500ms}}]", 0,
		journeyStep{name: "page", url: "/page/{{.Seq}}", extract: [][3]string{{"uid", "regex", `value="([^"]+)"`}}},
		journeyStep{name: "login", method: "POST", url: "/login/{{.Seq}}", extract: [][3]string{
			{"token", "json", "token"}, {"tag", "json", "user.tags.1"}, {"csrf", "header", "X-Csrf"}}},
		journeyStep{name: "feed", url: "/feed/{{.Seq}}?uid={{.Vars.uid}}&tag={{.Vars.tag}}",
			headers: map[string]string{"Authorization": "{{.Vars.token}}", "X-Csrf": "{{.Vars.csrf}}"}},
		journeyStep{name: "missing", url: "/page/{{.Seq}}", extract: [][3]string{{"nope", "header", "X-Nope"}}},
		journeyStep{name: "never", url: "/page/{{.Seq}}"},
	)
	res := runJourney(t, p, srv.URL, nil)
	jt := res.Journeys[0]
	t.Logf("journey: %+v", jt)
	// Visitors 0, 3, …, 27 fail the feed: 10 of 30.
	want := struct{ reached, abandoned []uint64 }{[]uint64{30, 30, 30, 20, 0}, []uint64{0, 0, 10, 20, 0}}
	if fmt.Sprint(jt.Reached) != fmt.Sprint(want.reached) || fmt.Sprint(jt.Abandoned) != fmt.Sprint(want.abandoned) || jt.Completed != 0 {
		t.Errorf("reached %v, abandoned %v, completed %d; want %v, %v, 0", jt.Reached, jt.Abandoned, jt.Completed, want.reached, want.abandoned)
	}
	miss := res.Requests[3]
	if miss.Errors != 20 || len(miss.ErrorSamples) == 0 || !strings.Contains(miss.ErrorSamples[0].Message, "extract nope: no X-Nope header") {
		t.Errorf("missing: %d errors, samples %+v; want 20 saying the extraction found no X-Nope header", miss.Errors, miss.ErrorSamples)
	}
	// The per-window counts add up to the totals.
	var started, abandoned uint64
	for _, w := range res.Windows {
		if wj := w.Journeys["visit"]; wj != nil {
			started += wj.Started
			for _, n := range wj.Abandoned {
				abandoned += n
			}
		}
	}
	if started != jt.Started || abandoned != 30 {
		t.Errorf("windows: %d started, %d abandoned; want %d, 30", started, abandoned, jt.Started)
	}
}

// Within a session, a step's intended time is the previous step's end plus
// the think time, and its latency counts from there: a stalled step makes
// the next one later, not slower, and its own latency is the stall.
func TestJourney_IntendedTimeAfterStall(t *testing.T) {
	app := &journeyApp{sessions: map[string]string{}, stall: 250 * time.Millisecond}
	srv := httptest.NewServer(app.handler())
	defer srv.Close()
	think := 100 * time.Millisecond
	p := journeyPlan(t, srv.URL, "[{hold: {rate: 10, duration: 1s}}]", 0,
		journeyStep{name: "stall", url: "/stall", think: scenarios.Think{Min: think}},
		journeyStep{name: "after", url: "/page/{{.Seq}}"},
	)
	type rec struct{ intended, end time.Duration }
	var mu sync.Mutex
	got := map[uint64][]rec{} // by arrival: the sample's intended and end times, in order
	arrivals := newArrivals(p)
	res := runJourney(t, p, srv.URL, func(s *Sample) {
		mu.Lock()
		defer mu.Unlock()
		// Step 0's intended time is its visitor's arrival.
		if s.Req == 0 {
			for k := uint64(0); k < p.Curve.Total(); k++ {
				if arrivals.timeOf(k) == s.Intended {
					got[k] = append(got[k], rec{s.Intended, s.End})
				}
			}
			return
		}
		for k, rs := range got {
			if len(rs) == 1 && rs[0].end+think == s.Intended {
				got[k] = append(got[k], rec{s.Intended, s.End})
				return
			}
		}
		t.Errorf("step %d intended at %s follows no stalled step's end plus %s", s.Req, s.Intended, think)
	})
	if len(got) != 10 {
		t.Fatalf("%d visitors seen; want 10", len(got))
	}
	both := 0
	for k, rs := range got {
		switch {
		case len(rs) == 2:
			both++
		case rs[0].end+think < p.Curve.Duration():
			t.Errorf("visitor %d: %d steps; want 2 (its second step was due at %s, before the run's end)", k, len(rs), rs[0].end+think)
		}
	}
	if both < 5 {
		t.Errorf("%d visitors sent both steps; want at least 5", both)
	}
	if jt := res.Journeys[0]; jt.Completed != uint64(both) || jt.Unfinished != uint64(10-both) {
		t.Errorf("completed %d, unfinished %d; want %d, %d", jt.Completed, jt.Unfinished, both, 10-both)
	}
	stall := res.Requests[0].Latency
	if stall.P50 < 250*time.Millisecond || stall.P50 > 400*time.Millisecond {
		t.Errorf("stalled step p50 %s; want the 250 ms stall", stall.P50)
	}
	if after := res.Requests[1].Latency; after.P95 > 100*time.Millisecond {
		t.Errorf("step after the stall p95 %s; want it fast: its clock starts after the think time", after.P95)
	}
}

// options.max_sessions bounds the open sessions: arrivals beyond it are
// refused, counted, and their windows are generator-bound (spike's limit,
// not the target's). Every window's arrivals are the planned count.
func TestJourney_MaxSessions(t *testing.T) {
	app := &journeyApp{sessions: map[string]string{}}
	srv := httptest.NewServer(app.handler())
	defer srv.Close()
	p := journeyPlan(t, srv.URL, "[{hold: {rate: 20, duration: 2s}}]", 5,
		journeyStep{name: "a", url: "/page/{{.Seq}}", think: scenarios.Think{Min: time.Second}},
		journeyStep{name: "b", url: "/page/{{.Seq}}"},
	)
	res := runJourney(t, p, srv.URL, nil)
	jt := res.Journeys[0]
	t.Logf("journey: %+v", jt)
	if jt.Refused == 0 || jt.Started+jt.Refused != 40 {
		t.Errorf("started %d, refused %d; want 40 arrivals, some refused", jt.Started, jt.Refused)
	}
	planned := PlannedWindows(p, Shard{})
	bound := 0
	for i, w := range res.Windows {
		wj := w.Journeys["visit"]
		if wj == nil || wj.Started+wj.Refused != planned[i] {
			t.Errorf("window %d: arrivals %+v; want %d", i, wj, planned[i])
		}
		if wj != nil && wj.Refused > 0 && !w.GeneratorBound {
			t.Errorf("window %d refused %d arrivals but is not generator-bound", i, wj.Refused)
		}
		if w.GeneratorBound {
			bound++
		}
	}
	if bound == 0 {
		t.Errorf("no window generator-bound")
	}
}

// Shards of a journey run split the visitors exactly, and their merge has
// the single run's funnel.
func TestJourney_ShardsMerge(t *testing.T) {
	app := &journeyApp{sessions: map[string]string{}, failEvery: 4}
	srv := httptest.NewServer(app.handler())
	defer srv.Close()
	p := journeyPlan(t, srv.URL, "[{hold: {rate: 20, duration: 1500ms}}]", 0,
		journeyStep{name: "login", method: "POST", url: "/login/{{.Seq}}", extract: [][3]string{{"token", "json", "token"}, {"tag", "json", "user.tags.1"}, {"csrf", "header", "X-Csrf"}}},
		journeyStep{name: "feed", url: "/feed/{{.Seq}}?uid=u{{.Seq}}&tag={{.Vars.tag}}",
			headers: map[string]string{"Authorization": "{{.Vars.token}}", "X-Csrf": "{{.Vars.csrf}}"}},
	)
	var parts []ShardResult
	for i := range 2 {
		sh, _ := NewShard(i, 2)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		res, err := Run(ctx, Config{Plan: p, Target: srv.URL, Shard: sh})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, ShardResult{Name: sh.String(), Result: res})
	}
	merged, err := MergeShards(parts)
	if err != nil {
		t.Fatal(err)
	}
	jt := merged.Journeys[0]
	// Visitors 0, 4, …, 28 fail the feed: 8 of 30.
	if jt.Started != 30 || jt.Completed != 22 || fmt.Sprint(jt.Abandoned) != "[0 8]" || fmt.Sprint(jt.Reached) != "[30 30]" || fmt.Sprint(jt.Steps) != "[login feed]" {
		t.Errorf("merged funnel %+v; want 30 started, 22 completed, abandoned [0 8], reached [30 30]", jt)
	}
	var started uint64
	for _, w := range merged.Windows {
		if wj := w.Journeys["visit"]; wj != nil {
			started += wj.Started
		}
	}
	if started != 30 || app.mismatch != 0 {
		t.Errorf("merged windows started %d (want 30); %d mismatched sessions (want 0)", started, app.mismatch)
	}
}

// A session's extracted values and cookies never reach the result, even
// when the target echoes them in an error body.
func TestJourney_SecretsScrubbed(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "cookie-secret-c0ffee"})
		fmt.Fprint(w, `{"token": "token-secret-beef42"}`)
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Cookie("sid")
		http.Error(w, "bad session "+c.Value+" for "+r.Header.Get("X-Token"), http.StatusForbidden)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	p := journeyPlan(t, srv.URL, "[{hold: {rate: 10, duration: 1s}}]", 0,
		journeyStep{name: "login", method: "POST", url: "/login", extract: [][3]string{{"token", "json", "token"}}},
		journeyStep{name: "me", url: "/me", headers: map[string]string{"X-Token": "{{.Vars.token}}"}},
	)
	res := runJourney(t, p, srv.URL, nil)
	var buf bytes.Buffer
	if err := writeJSON(&buf, res); err != nil {
		t.Fatal(err)
	}
	if res.Requests[1].Errors != 10 {
		t.Fatalf("me: %d errors; want 10", res.Requests[1].Errors)
	}
	for _, secret := range []string{"cookie-secret-c0ffee", "token-secret-beef42"} {
		if bytes.Contains(buf.Bytes(), []byte(secret)) {
			t.Errorf("result.json holds %q", secret)
		}
	}
	if !bytes.Contains(buf.Bytes(), []byte("bad session")) {
		t.Errorf("the error body is not in the result at all: nothing was checked")
	}
}
