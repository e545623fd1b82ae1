package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Release builds stamp these with -ldflags, as the Makefile and the
// Dockerfile do:
//
//	go build -ldflags "-X main.version=v1.2.0 -X main.commit=$(git rev-parse HEAD) -X main.date=2026-12-02T03:00:00Z" ./cmd/spike
//
// Unstamped builds fall back to the module version and the VCS details the
// Go toolchain records (go install …@v1.2.0, or a build inside a clone).
var (
	version = ""
	commit  = ""
	date    = ""
)

// buildVersion is what `spike --version` shows.
type buildVersion struct {
	Version  string
	Commit   string
	Date     string
	Modified bool
	Go       string
}

// String is the one line `spike --version` prints after "spike version ".
func (b buildVersion) String() string {
	s := b.Version
	c := b.Commit
	if len(c) > 12 {
		c = c[:12]
	}
	if c == "" {
		c = "unknown"
	}
	if b.Modified {
		c += "+dirty"
	}
	d := b.Date
	if d == "" {
		d = "unknown"
	}
	return fmt.Sprintf("%s (commit %s, built %s, %s)", s, c, d, b.Go)
}

// resolveVersion combines the -ldflags stamps with the build info; stamps win.
func resolveVersion(stampVersion, stampCommit, stampDate string, bi *debug.BuildInfo) buildVersion {
	b := buildVersion{Version: stampVersion, Commit: stampCommit, Date: stampDate, Go: runtime.Version()}
	if bi != nil {
		if bi.GoVersion != "" {
			b.Go = bi.GoVersion
		}
		if b.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			b.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if stampCommit == "" {
					b.Commit = s.Value
				}
			case "vcs.time":
				if stampDate == "" {
					b.Date = s.Value
				}
			case "vcs.modified":
				if stampCommit == "" {
					b.Modified = s.Value == "true"
				}
			}
		}
	}
	if b.Version == "" {
		b.Version = "devel"
	}
	return b
}

// currentVersion is this binary's version.
func currentVersion() buildVersion {
	bi, _ := debug.ReadBuildInfo()
	return resolveVersion(version, commit, date, bi)
}
