package engine

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// validResult is a small result that passes Validate.
func validResult(t testing.TB) *Result {
	h := NewHist()
	for _, us := range []int64{900, 1000, 1100, 5000} {
		if !h.Record(us) {
			t.Fatalf("Record(%d) = false", us)
		}
	}
	lat := Stats(h, true)
	r := &Result{Schema: SchemaVersion, Meta: Meta{Tool: "spike", Started: time.Unix(100, 0), Ended: time.Unix(102, 0)}}
	r.Plan.Window = time.Second
	for i := range 2 {
		r.Windows = append(r.Windows, Window{
			Index: i, Start: time.Duration(i) * time.Second, End: time.Duration(i+1) * time.Second,
			Planned: 4, Sent: 4, OK: 4, Latency: lat,
			Requests: map[string]*WindowRequest{"home": {Count: 4, OK: 4, Latency: lat}},
		})
	}
	r.Requests = []RequestTotal{{Name: "home", Count: 8, Latency: lat}}
	return r
}

func TestParseResult_Validates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		modify func(r *Result)
		want   string // "" = valid
	}{
		{"valid", func(*Result) {}, ""},
		{"corrupt window histogram", func(r *Result) { r.Windows[1].Latency.Hist = "HISTFAAAACx4nJNpmSzMwMDAzAABzFCaEUzOmQSh" },
			"windows[1].latency.hist: corrupt histogram"},
		{"histogram not base64", func(r *Result) { r.Windows[0].Requests["home"].Latency.Hist = "!!!" },
			`windows[0].requests["home"].latency.hist: corrupt histogram`},
		{"corrupt total histogram", func(r *Result) { r.Requests[0].Latency.Hist = "HISTFAAAAA==" },
			"requests[0].latency.hist: corrupt histogram"},
		{"inverted window", func(r *Result) { r.Windows[1].Start, r.Windows[1].End = 2*time.Second, time.Second },
			"windows[1]: ends at 1s, not after its start 2s"},
		{"empty window", func(r *Result) { r.Windows[0].End = r.Windows[0].Start }, "windows[0]: ends at 0s, not after its start 0s"},
		{"windows out of order", func(r *Result) { r.Windows[0].Start, r.Windows[0].End = 5*time.Second, 6*time.Second },
			"windows[1]: starts at 1s, before windows[0] (5s)"},
		{"null request", func(r *Result) { r.Windows[0].Requests["home"] = nil }, `windows[0].requests["home"]: null`},
		{"no window length", func(r *Result) { r.Plan.Window = 0 }, "plan.window_ns: must be > 0"},
		{"ended before it started", func(r *Result) { r.Meta.Ended = time.Unix(50, 0) }, "meta: ended"},
		{"more outcomes than sent", func(r *Result) { r.Windows[0].Errors = 3 }, "windows[0]: ok 4 + errors 3 is more than the 4 sent"},
	}
	for _, tt := range tests {
		r := validResult(t)
		tt.modify(r)
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		_, err = ParseResult("r.json", b)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: ParseResult = %v; want no error", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), "read result r.json: "+tt.want)):
			t.Errorf("%s: ParseResult = %v; want an error containing %q", tt.name, err, tt.want)
		}
	}
}

func TestReadFile_Bounded(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	// What is not JSON is refused at its first byte: /dev/zero never ends.
	start := time.Now()
	_, err := ReadFile("/dev/zero")
	if err == nil || !strings.Contains(err.Error(), "read result /dev/zero: not a spike result: invalid character") {
		t.Errorf("ReadFile(/dev/zero) = %v; want it refused as not a result", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("ReadFile(/dev/zero) took %s; want it refused at once", d)
	}
	// A stream of valid JSON is read up to the bound, checked while reading.
	dir := t.TempDir()
	big := filepath.Join(dir, "big.json")
	pad := `{"schema":1,"meta":{"notes":["` + strings.Repeat("x", 2<<20) + `"]}}`
	if err := os.WriteFile(big, []byte(pad), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readFile(big, 1<<20); err == nil || !strings.Contains(err.Error(), "big.json: larger than 1 MiB, the most spike reads") {
		t.Errorf("readFile(2 MiB file, 1 MiB) = %v; want a size error", err)
	}
	// A stream of unknown size (a pipe, a device) is bounded while reading.
	if _, err := readResult("pipe", strings.NewReader(pad), 1<<20); err == nil || !strings.Contains(err.Error(), "pipe: larger than 1 MiB") {
		t.Errorf("readResult(a stream of 2 MiB, 1 MiB) = %v; want a size error", err)
	}
	path := filepath.Join(t.TempDir(), "result.json")
	b, _ := json.Marshal(validResult(t))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(path); err != nil {
		t.Errorf("ReadFile(valid result) = %v; want nil", err)
	}
}

// FuzzParseResult checks that no input makes the result decoder panic, run
// long or allocate without bound, and that what it accepts is valid.
func FuzzParseResult(f *testing.F) {
	b, err := json.Marshal(validResult(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"schema":1,"plan":{"window_ns":1},"windows":[{"start_ns":0,"end_ns":1,"latency":{"hist":"HISTFAAAAA=="}}]}`))
	f.Add([]byte(`{"schema":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		r, err := ParseResult("fuzz.json", data)
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("ParseResult(%d bytes) took %s; want < 2s", len(data), d)
		}
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 256<<20+uint64(100*len(data)) {
			t.Fatalf("ParseResult(%d bytes) allocated %d MB; want it bounded", len(data), alloc>>20)
		}
		if err == nil && r.Validate() != nil {
			t.Fatalf("ParseResult accepted a result Validate refuses: %v", r.Validate())
		}
	})
}
