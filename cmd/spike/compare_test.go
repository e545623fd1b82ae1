package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/result"
)

func TestNewCmdCompare(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args string
		want CompareOptions
	}{
		{"compare a.json b.json", CompareOptions{Old: "a.json", New: "b.json", MaxRegression: "10%"}},
		{"compare a.json b.json --max-regression 5% --json", CompareOptions{Old: "a.json", New: "b.json", MaxRegression: "5%", JSON: true}},
	}
	for _, tt := range tests {
		var got *CompareOptions
		ios := &IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}
		cmd := newCompareCmd(ios, func(_ context.Context, o *CompareOptions) error { got = o; return nil })
		cmd.SetArgs(strings.Fields(tt.args)[1:])
		if err := cmd.Execute(); err != nil {
			t.Fatalf("spike %s: %v", tt.args, err)
		}
		got.IO = nil
		if *got != tt.want {
			t.Errorf("spike %s parsed as %+v; want %+v", tt.args, *got, tt.want)
		}
	}
	cmd := newCompareCmd(&IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, func(context.Context, *CompareOptions) error { return nil })
	cmd.SetArgs([]string{"only.json"})
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	if err := cmd.Execute(); !isFlagError(err) {
		t.Errorf("spike compare only.json = %v; want a usage error", err)
	}
}

func TestCompareRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// breaksAt answers in 20 ms up to capacity, then in 900 ms.
	breaksAt := func(capacity float64) func(float64) time.Duration {
		return func(r float64) time.Duration {
			if r > capacity {
				return 900 * time.Millisecond
			}
			return 20 * time.Millisecond
		}
	}
	rates := append(synthRamp(20, 20, 3), synthRamp(20, 100, 9)...)
	write := func(name string, reqs ...synthReq) string {
		path := filepath.Join(dir, name+".json")
		if err := result.New(synthResult(t, 20, reqs, rates...), nil, nil).WriteFile(path); err != nil {
			t.Fatal(err)
		}
		return path
	}
	strong := write("strong", synthReq{name: "feed", url: "/api/feed", share: 1, lat: breaksAt(80), errFrac: synthNone})
	weak := write("weak", synthReq{name: "feed", url: "/api/feed", share: 1, lat: breaksAt(50), errFrac: synthNone})
	slower := write("slower", synthReq{name: "feed", url: "/api/feed", share: 1, lat: func(r float64) time.Duration { return breaksAt(80)(r) + 30*time.Millisecond }, errFrac: synthNone})
	down := write("down", synthReq{name: "feed", url: "/api/feed", share: 1, lat: synthFlat(time.Millisecond), errFrac: synthAll, kind: engine.KindRefused})

	tests := []struct {
		name     string
		old, new string
		maxReg   string
		json     bool
		code     int
		out      []string
	}{
		{"same", strong, strong, "10%", false, exitOK, []string{
			"target capacity 60 req/s 60 req/s 0% same", "Verdict: UNCHANGED (threshold 10%)"}},
		{"lower capacity is worse", strong, weak, "10%", false, exitGateFailed, []string{
			"target capacity 60 req/s 30 req/s -50% WORSE",
			"target breakpoint no break 60 req/s - WORSE",
			"request feed breakpoint no break 60 req/s - WORSE",
			"Verdict: REGRESSED (threshold 10%)",
			"  worse:  capacity: 60 req/s → 30 req/s (-50%)"}},
		{"higher capacity is better", weak, strong, "10%", false, exitOK, []string{
			"Verdict: IMPROVED", "  better: capacity: 30 req/s → 60 req/s (+100%)"}},
		{"within a looser threshold", strong, weak, "60%", false, exitOK, []string{"Verdict: UNCHANGED (threshold 60%)"}},
		{"higher p95 is worse", strong, slower, "10%", false, exitGateFailed, []string{
			"target p95 at baseline 22 ms 54 ms +150% WORSE", "request feed p95 at baseline 22 ms 54 ms +150% WORSE"}},
		{"lower p95 is better", slower, strong, "0.1", false, exitOK, []string{"Verdict: IMPROVED"}},
		{"json", strong, weak, "10%", true, exitGateFailed, []string{`"verdict": "regressed"`, `"name": "capacity"`}},
		{"unreachable is inconclusive", strong, down, "10%", false, exitInconclusive, []string{
			"Verdict: INCONCLUSIVE", "the new run was inconclusive (the target was unreachable"}},
		{"bad threshold", strong, weak, "lots", false, exitUsage, nil},
		{"missing file", strong, filepath.Join(dir, "nope.json"), "10%", false, exitUsage, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			err := runCompare(context.Background(), &CompareOptions{
				IO: &IOStreams{Out: &out, ErrOut: &bytes.Buffer{}}, Old: tt.old, New: tt.new, MaxRegression: tt.maxReg, JSON: tt.json,
			})
			if code := exitCodeOf(err); code != tt.code {
				t.Errorf("spike compare %s %s --max-regression %s = %v (exit %d); want exit %d", filepath.Base(tt.old), filepath.Base(tt.new), tt.maxReg, err, code, tt.code)
			}
			// Columns are aligned with spaces: compare with runs of spaces as one.
			squeezed := strings.Join(strings.Fields(out.String()), " ")
			for _, want := range tt.out {
				if !strings.Contains(squeezed, strings.Join(strings.Fields(want), " ")) {
					t.Errorf("spike compare %s %s printed\n%s\nwant it to contain %q", filepath.Base(tt.old), filepath.Base(tt.new), out.String(), want)
				}
			}
		})
	}
}
