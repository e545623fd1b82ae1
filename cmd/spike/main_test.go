package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/spikeload/spike/scenarios"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"spike": func() { os.Exit(Main()) },
	})
}

// testTarget is a loopback target for scripts: / answers at once, /slow
// takes 200 ms, /fail answers 500, /missing 404, /echo 401 with the request's
// URL, Authorization header, basic-auth credentials and body in its body;
// /hang answers after a minute.
func testTarget() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow":
			time.Sleep(200 * time.Millisecond)
		case "/fail":
			http.Error(w, "something broke", http.StatusInternalServerError)
			return
		case "/missing":
			http.NotFound(w, r)
			return
		case "/hang": // answers after a minute, or when the client goes away
			select {
			case <-r.Context().Done():
			case <-time.After(time.Minute):
			}
			return
		case "/echo": // a target that echoes credentials back in its error
			body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<10))
			user, pass, _ := r.BasicAuth()
			http.Error(w, fmt.Sprintf("denied %s auth=%q basic=%s:%s body=%s", r.URL, r.Header.Get("Authorization"), user, pass, body), http.StatusUnauthorized)
			return
		}
		w.Header().Set("Server-Timing", "app;dur=0.1")
		fmt.Fprintln(w, "ok")
	}))
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			srv := testTarget()
			env.Setenv("TARGET", srv.URL)
			env.Defer(srv.Close)
			examples, err := filepath.Abs("../../examples")
			if err != nil {
				return err
			}
			env.Setenv("EXAMPLES", examples)
			return nil
		},
	})
}

func TestNewCmdRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args string
		want RunOptions
	}{
		{"run s.yaml", RunOptions{File: "s.yaml"}},
		{"run s.yaml --target http://127.0.0.1:9 --out o --duration 90s --time-scale 60 --baseline 40",
			RunOptions{File: "s.yaml", OutDir: "o", Baseline: "40", Overrides: scenarios.Overrides{Target: "http://127.0.0.1:9", Duration: 90 * time.Second, TimeScale: 60, Baseline: "40"}}},
		{"run s.yaml --allow-host api.example.com --allow-host cdn.example.com:8443",
			RunOptions{File: "s.yaml", Overrides: scenarios.Overrides{AllowHosts: []string{"api.example.com", "cdn.example.com:8443"}}}},
	}
	for _, tt := range tests {
		var got *RunOptions
		ios := &IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}
		cmd := newRunCmd(ios, func(_ context.Context, o *RunOptions) error { got = o; return nil })
		cmd.SetArgs(strings.Fields(tt.args)[1:])
		if err := cmd.Execute(); err != nil {
			t.Fatalf("%s: %v", tt.args, err)
		}
		if got.File != tt.want.File || got.OutDir != tt.want.OutDir || !reflect.DeepEqual(got.Overrides, tt.want.Overrides) || got.Baseline != tt.want.Baseline {
			t.Errorf("spike %s parsed as %+v; want %+v", tt.args, *got, tt.want)
		}
	}
}

func TestRun_ExitCodes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := dir + "/bad.yaml"
	if err := os.WriteFile(bad, []byte("baseline: 10\nshape: nope\nrequests: [{url: /}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"--help"}, exitOK, ""},
		{[]string{"shapes"}, exitOK, ""},
		{[]string{"nope"}, exitUsage, "unknown command"},
		{[]string{"plan"}, exitUsage, "expected one scenario file"},
		{[]string{"plan", "--bogus", "x.yaml"}, exitUsage, "unknown flag"},
		{[]string{"plan", dir + "/missing.yaml"}, exitUsage, "no such file"},
		{[]string{"plan", bad}, exitUsage, "bad.yaml:2:8: shape: unknown preset \"nope\""},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		code := run(context.Background(), &IOStreams{Out: &out, ErrOut: &errOut}, tt.args)
		if code != tt.code || !strings.Contains(errOut.String(), tt.err) {
			t.Errorf("spike %s = %d, stderr %q; want %d and %q", strings.Join(tt.args, " "), code, errOut.String(), tt.code, tt.err)
		}
	}
}
