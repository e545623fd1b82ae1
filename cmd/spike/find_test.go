package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spikeload/spike/result"
	"github.com/spikeload/spike/scenarios"
	"github.com/spikeload/spike/search"
)

func TestNewCmdFind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args string
		want FindOptions
	}{
		{"find s.yaml", FindOptions{File: "s.yaml", Step: 10 * time.Second, Factor: 1.5, Precision: "5%", MaxDuration: 5 * time.Minute}},
		{"find s.yaml --target http://127.0.0.1:9 --baseline 40 --from 2x --step 5s --factor 2 --precision 10% --confirm 30s --max-rate 1000 --max-duration 2m -o out",
			FindOptions{File: "s.yaml", Target: "http://127.0.0.1:9", Baseline: "40", From: "2x", Step: 5 * time.Second, Factor: 2, Precision: "10%",
				Confirm: 30 * time.Second, MaxRate: "1000", MaxDuration: 2 * time.Minute, OutDir: "out"}},
		{"find s.yaml --confirm 0", FindOptions{File: "s.yaml", Step: 10 * time.Second, Factor: 1.5, Precision: "5%", MaxDuration: 5 * time.Minute, NoConfirm: true}},
	}
	for _, tt := range tests {
		var got *FindOptions
		ios := &IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}
		cmd := newFindCmd(ios, func(_ context.Context, o *FindOptions) error { got = o; return nil })
		cmd.SetArgs(strings.Fields(tt.args)[1:])
		if err := cmd.Execute(); err != nil {
			t.Fatalf("%s: %v", tt.args, err)
		}
		g := *got
		g.IO, g.Now = nil, nil
		tt.want.Live.MetricsGrace = DefaultMetricsGrace // the live flags: live_test.go
		if !reflect.DeepEqual(g, tt.want) {
			t.Errorf("spike %s parsed as %+v; want %+v", tt.args, g, tt.want)
		}
	}
}

func TestFind_Usage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		flags []string
		err   string
	}{
		{[]string{"--from", "fast"}, "--from: not a rate"},
		{[]string{"--max-rate", "0"}, "--max-rate: must be > 0"},
		{[]string{"--precision", "lots"}, "--precision: want a fraction above 0"},
		{[]string{"--factor", "1"}, "factor must be > 1, got 1"},
		{[]string{"--step", "1s"}, "a 1s step leaves 0 window(s) of 1s to judge"},
		{[]string{"--fix", "cache"}, "--fix applies only to the built-in example app"},
	}
	file := filepath.Join(t.TempDir(), "s.yaml")
	scenario := "name: s\ntarget: http://127.0.0.1:9\nbaseline: 10\nstages: [{hold: {duration: 10s}}]\nrequests: [{url: /}]\n"
	if err := os.WriteFile(file, []byte(scenario), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		ios := &IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}
		cmd := newFindCmd(ios, nil)
		cmd.SetArgs(append([]string{file}, tt.flags...))
		cmd.SetOut(ios.Out)
		cmd.SetErr(ios.ErrOut)
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		err := cmd.Execute()
		var ce *codeError
		if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.As(err, &ce) || ce.code != exitUsage {
			t.Errorf("spike find %s: %v; want a usage error with %q", strings.Join(tt.flags, " "), err, tt.err)
		}
	}
}

// TestFind_ExampleApp searches the built-in example app with its default
// config: the database must be named first.
func TestFind_ExampleApp(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: searches the example app for about a minute")
	}
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	ios := &IOStreams{Out: &stdout, ErrOut: &stderr}
	opts := &FindOptions{
		IO: ios, File: "../../examples/producthunt.yaml", Step: 5 * time.Second, Factor: 1.5, Precision: "10%",
		Confirm: 10 * time.Second, MaxDuration: 2 * time.Minute, OutDir: out, Now: time.Now,
	}
	began := time.Now()
	err := runFind(context.Background(), opts)
	t.Logf("stdout:\n%s\nstderr:\n%s\n(%s)", stdout.String(), stderr.String(), time.Since(began).Round(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := result.ReadFile(filepath.Join(out, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	s := doc.Search
	if s == nil {
		t.Fatal("result.json has no search section")
	}
	if s.Status != search.StatusFound || s.FirstLayer != "database" {
		t.Errorf("status %s, first layer %q; want found, database: %s", s.Status, s.FirstLayer, s.Headline)
	}
	if !strings.Contains(stdout.String(), "the database breaks first") {
		t.Errorf("the answer does not name the database first")
	}
	// Designed: the pool of 4 connections at 70 ms a query saturates near
	// 60 req/s of the mix (a little lower with CPU time and queueing).
	if s.CapacityRPS < 30 || s.CapacityRPS > 66 {
		t.Errorf("capacity %v req/s; want about 60 (30–66)", s.CapacityRPS)
	}
}

func TestJourneyStepNote(t *testing.T) {
	t.Parallel()
	y := "name: j\ntarget: http://127.0.0.1:9\nbaseline: 5\nstages: [{hold: {duration: 10s}}]\n" +
		"journeys: [{name: v, steps: [{url: /, think: 2s-4s}, {url: /a, think: 1s}, {url: /b}]}]\n"
	p, err := scenarios.Parse("j.yaml", []byte(y), scenarios.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if got := journeyStepNote(p, 5*time.Second); !strings.Contains(got, "journey v thinks for about 4s in all") || !strings.Contains(got, "--step 12s") {
		t.Errorf("note for 5 s steps: %q", got)
	}
	if got := journeyStepNote(p, 12*time.Second); got != "" {
		t.Errorf("note for 12 s steps: %q; want none", got)
	}
}
