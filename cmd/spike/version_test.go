package main

import (
	"bytes"
	"context"
	"os"
	"runtime/debug"
	"strings"
	"testing"
)

func TestResolveVersion(t *testing.T) {
	t.Parallel()
	vcs := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/spikeload/spike", Version: "(devel)"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123"},
			{Key: "vcs.time", Value: "2026-12-01T10:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	installed := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/spikeload/spike", Version: "v1.2.0"}}
	tests := []struct {
		name                  string
		version, commit, date string
		bi                    *debug.BuildInfo
		want                  string
	}{
		{"stamped", "v1.3.0", "fedcba9876543210", "2026-12-02T03:00:00Z", vcs, "v1.3.0 (commit fedcba987654, built 2026-12-02T03:00:00Z, go1.26.8)"},
		{"clone build", "", "", "", vcs, "devel (commit 0123456789ab+dirty, built 2026-12-01T10:00:00Z, go1.26.8)"},
		{"go install at a tag", "", "", "", installed, "v1.2.0 (commit unknown, built unknown, go1.26.8)"},
		{"stamped version only", "v1.3.0", "", "", installed, "v1.3.0 (commit unknown, built unknown, go1.26.8)"},
	}
	for _, tt := range tests {
		got := resolveVersion(tt.version, tt.commit, tt.date, tt.bi).String()
		if got != tt.want {
			t.Errorf("%s: resolveVersion(%q, %q, %q, …) = %q; want %q", tt.name, tt.version, tt.commit, tt.date, got, tt.want)
		}
	}
}

func TestVersionFlag(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	code := run(context.Background(), &IOStreams{Out: &out, ErrOut: &errOut}, []string{"--version"})
	if code != exitOK || !strings.HasPrefix(out.String(), "spike version ") || !strings.Contains(out.String(), "commit ") {
		t.Errorf("spike --version = %d, %q (stderr %q); want 0 and \"spike version … (commit …\"", code, out.String(), errOut.String())
	}
}

// TestStampedBuilds checks that the Makefile and the Dockerfile stamp the
// variables `spike --version` reads, and that the image's binary is static.
func TestStampedBuilds(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		file string
		want []string
	}{
		{"../../Makefile", []string{"-X main.version=$(VERSION)", "-X main.commit=$(COMMIT)", "-X main.date=$(DATE)", "docker build"}},
		{"../../Dockerfile", []string{"-X main.version=${VERSION}", "-X main.commit=${COMMIT}", "-X main.date=${DATE}", "CGO_ENABLED=0", "AS build", "COPY --from=build"}},
	} {
		b, err := os.ReadFile(tt.file)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range tt.want {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s does not contain %q", tt.file, w)
			}
		}
	}
}
