package scenarios_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/spikeload/spike/scenarios"
)

// aliasChain is the "billion laughs" bomb: each level is nine aliases of the
// one before, so a few hundred bytes expand to 9^levels values.
func aliasChain(levels int) string {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i <= levels; i++ {
		p := "*a" + string(rune('0'+i-1))
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [" + strings.Repeat(p+", ", 8) + p + "]\n")
	}
	return b.String()
}

// mergeChain doubles the work per level with merge keys.
func mergeChain(levels int) string {
	var b strings.Builder
	b.WriteString("m0: &m0 {k0: v, j0: v}\n")
	for i := 1; i <= levels; i++ {
		b.WriteString("m" + itoa(i) + ": &m" + itoa(i) + " {<<: [*m" + itoa(i-1) + ", *m" + itoa(i-1) + "], k" + itoa(i) + ": *m" + itoa(i-1) + ", j" + itoa(i) + ": *m" + itoa(i-1) + "}\n")
	}
	return b.String()
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// TestParse_HostileYAML feeds inputs that exhausted memory or time before
// the bounds: each must be a clear load error with its position, quickly.
func TestParse_HostileYAML(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"alias chain", aliasChain(9), "more than 100000 values once aliases are expanded"},
		{"merge-key chain", mergeChain(40), "more than 100000 values once aliases are expanded"},
		{"nested flow sequences", strings.Repeat("[", 200_000), "bomb.yaml:1:65: nested more than 64 levels deep"},
		{"nested flow mappings", "requests: " + strings.Repeat("{a: ", 100) + "1" + strings.Repeat("}", 100), "nested more than 64 levels deep"},
	}
	for _, tt := range tests {
		start := time.Now()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := scenarios.Parse("bomb.yaml", []byte(tt.src), scenarios.Overrides{})
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		if err == nil || !scenarios.IsLoadError(err) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Parse(%d bytes) = %v; want a load error containing %q", tt.name, len(tt.src), err, tt.want)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: Parse took %s; want well under 5s", tt.name, d)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<30 {
			t.Errorf("%s: Parse allocated %d MB; want well under 1 GB", tt.name, alloc>>20)
		}
	}
}

// TestParse_AliasesWithinBounds: ordinary use of anchors and merge keys still loads.
func TestParse_AliasesWithinBounds(t *testing.T) {
	t.Parallel()
	src := `baseline: 10
shape: burst
requests:
  - &base {url: /a, headers: {X-A: "1"}}
  - {<<: *base, name: b}
  - {<<: *base, name: c}
`
	p, err := scenarios.Parse("ok.yaml", []byte(src), scenarios.Overrides{})
	if err != nil || len(p.Requests) != 3 {
		t.Fatalf("Parse(anchors and merge keys) = %v; want 3 requests", err)
	}
}

// TestLoad_BoundedReads: files are read with a bound, so a device that never
// ends is refused with a clear error instead of exhausting memory.
func TestLoad_BoundedReads(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	_, err := scenarios.Load("/dev/zero", scenarios.Overrides{})
	if want := "/dev/zero: file too large (limit 1 MiB)"; err == nil || !scenarios.IsLoadError(err) || err.Error() != want {
		t.Errorf("Load(/dev/zero) = %v; want load error %q", err, want)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "s.yaml")
	src := "baseline: 10\nshape: burst\nrequests:\n  - {url: /, method: POST, body_file: /dev/zero}\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = scenarios.Load(file, scenarios.Overrides{})
	if want := `s.yaml:4:39: requests[0].body_file: "/dev/zero" is larger than 8 MiB, the largest body spike sends`; err == nil || !scenarios.IsLoadError(err) || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("Load(body_file /dev/zero) = %v; want load error ending %q", err, want)
	}
	if _, err := scenarios.ReadFileMax("/dev/zero", 10); !scenarios.IsSizeError(err) || err.Error() != "/dev/zero: larger than 10 bytes, the most spike reads" {
		t.Errorf("ReadFileMax(/dev/zero, 10) = %v; want a size error", err)
	}
}

// TestParse_ControlCharacters: CR, LF and other control characters in header
// names, header values and URLs are refused at load, with their position,
// instead of failing every request at run time.
func TestParse_ControlCharacters(t *testing.T) {
	t.Parallel()
	const head = "baseline: 10\nshape: burst\nrequests:\n"
	tests := []struct {
		req, want string
	}{
		{`  - {url: /, headers: {X-A: "v\r\nInjected: 1"}}`, `c.yaml:4:29: requests[0].headers.X-A: header value holds a control character ('\r' at byte 1)`},
		{`  - {url: /, headers: {X-A: "v\u0000"}}`, `requests[0].headers.X-A: header value holds a control character ('\x00' at byte 1)`},
		{`  - {url: /, headers: {"X A": v}}`, `requests[0].headers.X A: not a valid header name: "X A"`},
		{`  - {url: /, headers: {"X\u00e9": v}}`, `not a valid header name`},
		{`  - {url: "/a\nb"}`, `c.yaml:4:11: requests[0].url: holds a control character ('\n' at byte 2)`},
	}
	for _, tt := range tests {
		_, err := scenarios.Parse("c.yaml", []byte(head+tt.req+"\n"), scenarios.Overrides{})
		if err == nil || !scenarios.IsLoadError(err) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%s) = %v; want a load error containing %q", tt.req, err, tt.want)
		}
	}
}
