package result

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/spikeload/spike/analysis"
	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/search"
)

// validRun is a small run that passes Validate.
func validRun(t testing.TB) *engine.Result {
	h := engine.NewHist()
	for _, us := range []int64{900, 1000, 1100, 5000} {
		if !h.Record(us) {
			t.Fatalf("Record(%d) = false", us)
		}
	}
	lat := engine.Stats(h, true)
	r := &engine.Result{Meta: engine.Meta{Tool: "spike", Started: time.Unix(100, 0).UTC(), Ended: time.Unix(102, 0).UTC()}}
	r.Plan.Window = time.Second
	r.Plan.Requests = []engine.RequestInfo{{Name: "home", Method: "GET", URL: "http://127.0.0.1:1/", Weight: 1, Share: 1}}
	for i := range 2 {
		r.Windows = append(r.Windows, engine.Window{
			Index: i, Start: time.Duration(i) * time.Second, End: time.Duration(i+1) * time.Second,
			Planned: 4, Sent: 4, OK: 4, Latency: lat,
			Requests: map[string]*engine.WindowRequest{"home": {Count: 4, OK: 4, Latency: lat}},
		})
	}
	r.Requests = []engine.RequestTotal{{Name: "home", Count: 8, Latency: lat}}
	return r
}

// TestReadFile_SchemaVersion1 loads a result.json written before the
// document had one owner (schema 1: the analysis and search sections carry
// their own versions) and checks every section arrives.
func TestReadFile_SchemaVersion1(t *testing.T) {
	t.Parallel()
	doc, err := ReadFile(filepath.Join("testdata", "v1-find.json"))
	if err != nil {
		t.Fatalf("ReadFile(v1-find.json) = %v; want it loaded", err)
	}
	if doc.Schema != SchemaVersion {
		t.Errorf("schema = %d after migration; want %d", doc.Schema, SchemaVersion)
	}
	if doc.Meta.Scenario != "old-format" || len(doc.Windows) != 6 || len(doc.Requests) != 1 || doc.Windows[5].Latency.Count != 40 {
		t.Errorf("run: scenario %q, %d windows, %d requests; want old-format, 6, 1", doc.Meta.Scenario, len(doc.Windows), len(doc.Requests))
	}
	if doc.Analysis == nil || doc.Analysis.Verdict.Status != analysis.StatusFail || doc.Analysis.Verdict.Headline != "capacity 20 req/s; breaks at 40 req/s (backend)" {
		t.Errorf("analysis = %+v; want the stored fail verdict", doc.Analysis)
	}
	if s := doc.Search; s == nil || s.Status != search.StatusFound || s.CapacityRPS != 20 || s.BreakpointRPS != 40 || len(s.Steps) != 2 || s.Steps[1].Reason != "p95 404 ms (limit 200 ms)" {
		t.Errorf("search = %+v; want the stored search", doc.Search)
	}
	// Written again, it is a document of this version, without the
	// sections' own versions.
	var buf bytes.Buffer
	if err := doc.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Schema   int                        `json:"schema"`
		Analysis map[string]json.RawMessage `json:"analysis"`
		Search   map[string]json.RawMessage `json:"search"`
	}
	if err := json.Unmarshal(buf.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	if raw.Schema != SchemaVersion || raw.Analysis["version"] != nil || raw.Search["version"] != nil || raw.Analysis["verdict"] == nil || raw.Search["steps"] == nil {
		t.Errorf("rewritten: schema %d, analysis version %s, search version %s; want %d and no section versions", raw.Schema, raw.Analysis["version"], raw.Search["version"], SchemaVersion)
	}
}

func TestParse_SchemaVersions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		schema string
		want   string // "" = loads
	}{
		{`"schema": 1,`, ""},
		{`"schema": 2,`, ""},
		{`"schema": 3,`, ""},
		{`"schema": 4,`, "read result r.json: schema version 4 is newer than this spike understands (3); upgrade spike"},
		{`"schema": 99,`, "schema version 99 is newer"},
		{``, "read result r.json: not a spike result (no schema version)"},
		{`"schema": 0,`, "not a spike result (no schema version)"},
		{`"schema": -1,`, "schema version -1 is not one spike ever wrote"},
		{`"schema": "2",`, "not a spike result: json: cannot unmarshal string"},
	}
	for _, tt := range tests {
		window := `"window_ms": 1000`
		if strings.Contains(tt.schema, "1") || strings.Contains(tt.schema, "2") {
			window = `"window_ns": 1000000000` // versions 1 and 2: nanoseconds
		}
		data := `{` + tt.schema + ` "meta": {"tool": "spike"}, "plan": {` + window + `}, "windows": [{"start_ns": 0, "end_ns": 1000000000}], "requests": []}`
		if strings.Contains(window, "_ms") {
			data = strings.ReplaceAll(strings.ReplaceAll(data, `"start_ns": 0`, `"start_ms": 0`), `"end_ns": 1000000000`, `"end_ms": 1000`)
		}
		doc, err := Parse("r.json", []byte(data))
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("Parse(%s) = %v; want it loaded", tt.schema, err)
		case tt.want == "" && doc.Schema != SchemaVersion:
			t.Errorf("Parse(%s): schema %d; want %d", tt.schema, doc.Schema, SchemaVersion)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("Parse(%s) = %v; want an error containing %q", tt.schema, err, tt.want)
		}
	}
}

// TestDocument_RoundTrip writes a document with every section and reads it
// back equal.
func TestDocument_RoundTrip(t *testing.T) {
	t.Parallel()
	run := validRun(t)
	a := analysis.Analyze(run, analysis.Options{})
	s := &search.Result{Status: search.StatusHeld, Headline: "held 40 req/s", CapacityRPS: 40, Confirmed: true, LoadMs: 2000,
		Settings: search.Settings{BaselineRPS: 20, StepMs: 1000, SLO: analysis.Limits{P95Ms: 500, ErrorRate: 0.01}},
		Steps:    []search.Step{{Index: 0, Phase: "probe", RateRPS: 40, DurationMs: 2000, Windows: 2, Verdict: "pass"}}}
	doc := New(run, a, s)
	path := filepath.Join(t.TempDir(), "result.json")
	if err := doc.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	back, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Analysis, a) {
		t.Errorf("analysis read back differs:\n got %+v\nwant %+v", back.Analysis, a)
	}
	if !reflect.DeepEqual(back.Search, s) {
		t.Errorf("search read back differs:\n got %+v\nwant %+v", back.Search, s)
	}
	if !reflect.DeepEqual(back.Run(), run) {
		t.Errorf("run read back differs:\n got %+v\nwant %+v", back.Run(), run)
	}
	// The bytes are stable: written again, the same file.
	first, _ := os.ReadFile(path)
	var again bytes.Buffer
	if err := back.WriteJSON(&again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, again.Bytes()) {
		t.Errorf("a document read and written again differs from the file")
	}
	if !bytes.HasPrefix(first, []byte("{\n \"schema\": 3,\n \"meta\": {")) {
		t.Errorf("the document starts %.40q; want the schema, then the run's meta", first)
	}
	// A run without analysis or search has neither section.
	again.Reset()
	if err := New(run, nil, nil).WriteJSON(&again); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(again.String(), `"analysis"`) || strings.Contains(again.String(), `"search"`) {
		t.Errorf("a bare run wrote an analysis or search section")
	}
}

func TestDocument_ShardRun(t *testing.T) {
	t.Parallel()
	run := validRun(t)
	if got, err := New(run, nil, nil).ShardRun("a.json"); err != nil || got.Meta.Tool != "spike" {
		t.Errorf("ShardRun(a run) = %v, %v; want the run", got, err)
	}
	_, err := New(run, nil, &search.Result{Status: search.StatusFound}).ShardRun("find.json")
	if err == nil || !strings.Contains(err.Error(), "find.json is a breakpoint search (spike find); only runs can be merged") {
		t.Errorf("ShardRun(a search) = %v; want it refused", err)
	}
}

func TestParse_Validates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		modify func(r *engine.Result)
		want   string // "" = valid
	}{
		{"valid", func(*engine.Result) {}, ""},
		{"corrupt window histogram", func(r *engine.Result) { r.Windows[1].Latency.Hist = "HISTFAAAACx4nJNpmSzMwMDAzAABzFCaEUzOmQSh" },
			"windows[1].latency.hist: corrupt histogram"},
		{"inverted window", func(r *engine.Result) { r.Windows[1].Start, r.Windows[1].End = 2*time.Second, time.Second },
			"windows[1]: ends at 1s, not after its start 2s"},
		{"no window length", func(r *engine.Result) { r.Plan.Window = 0 }, "plan.window_ms: must be > 0"},
	}
	for _, tt := range tests {
		r := validRun(t)
		tt.modify(r)
		var buf bytes.Buffer
		if err := New(r, nil, nil).WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
		_, err := Parse("r.json", buf.Bytes())
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: Parse = %v; want no error", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), "read result r.json: "+tt.want)):
			t.Errorf("%s: Parse = %v; want an error containing %q", tt.name, err, tt.want)
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
	pad := `{"schema":2,"meta":{"notes":["` + strings.Repeat("x", 2<<20) + `"]}}`
	if err := os.WriteFile(big, []byte(pad), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readFile(big, 1<<20); err == nil || !strings.Contains(err.Error(), "big.json: larger than 1 MiB, the most spike reads") {
		t.Errorf("readFile(2 MiB file, 1 MiB) = %v; want a size error", err)
	}
	// A stream of unknown size (a pipe, a device) is bounded while reading.
	if _, err := Read("pipe", strings.NewReader(pad), 1<<20); err == nil || !strings.Contains(err.Error(), "pipe: larger than 1 MiB") {
		t.Errorf("Read(a stream of 2 MiB, 1 MiB) = %v; want a size error", err)
	}
	path := filepath.Join(t.TempDir(), "result.json")
	if err := New(validRun(t), nil, nil).WriteFile(path); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(path); err != nil {
		t.Errorf("ReadFile(valid result) = %v; want nil", err)
	}
}

// FuzzParse checks that no input makes the result decoder panic, run long
// or allocate without bound, and that what it accepts is valid.
func FuzzParse(f *testing.F) {
	var buf bytes.Buffer
	if err := New(validRun(f), nil, nil).WriteJSON(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	for _, name := range append([]string{"v1-find.json"}, v2Files...) {
		if b, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"schema":1,"plan":{"window_ns":1},"windows":[{"start_ns":0,"end_ns":1,"latency":{"hist":"HISTFAAAAA=="}}]}`))
	f.Add([]byte(`{"schema":2,"analysis":{"verdict":{}},"search":{"steps":[{}]}}`))
	f.Add([]byte(`{"schema":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		d, err := Parse("fuzz.json", data)
		if el := time.Since(start); el > 2*time.Second {
			t.Fatalf("Parse(%d bytes) took %s; want < 2s", len(data), el)
		}
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 256<<20+uint64(100*len(data)) {
			t.Fatalf("Parse(%d bytes) allocated %d MB; want it bounded", len(data), alloc>>20)
		}
		if err == nil && (d.Validate() != nil || d.Schema != SchemaVersion) {
			t.Fatalf("Parse accepted a result Validate refuses (%v) or of schema %d", d.Validate(), d.Schema)
		}
	})
}
