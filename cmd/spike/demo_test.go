package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/spikeload/spike/examples"
)

func TestNewCmdDemo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args string
		want DemoOptions
	}{
		{"demo", DemoOptions{}},
		{"demo --fix cache --out o --duration 60s", DemoOptions{Fix: "cache", OutDir: "o", Duration: time.Minute}},
		{"demo --journeys --fix cache", DemoOptions{Fix: "cache", Journeys: true}},
	}
	for _, tt := range tests {
		var got *DemoOptions
		ios := &IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}
		cmd := newDemoCmd(ios, func(_ context.Context, o *DemoOptions) error { got = o; return nil })
		cmd.SetArgs(strings.Fields(tt.args)[1:])
		if err := cmd.Execute(); err != nil {
			t.Fatalf("spike %s: %v", tt.args, err)
		}
		if got.Fix != tt.want.Fix || got.Journeys != tt.want.Journeys || got.OutDir != tt.want.OutDir || got.Duration != tt.want.Duration {
			t.Errorf("spike %s parsed as %+v; want %+v", tt.args, *got, tt.want)
		}
	}
}

// TestDemo_scenarios checks that both scenarios spike demo replays are
// embedded.
func TestDemo_scenarios(t *testing.T) {
	t.Parallel()
	for _, f := range []string{demoScenario, demoJourneysScenario} {
		if _, err := examples.Scenarios.ReadFile(f); err != nil {
			t.Errorf("examples.Scenarios.ReadFile(%q) = %v", f, err)
		}
	}
}
