package result

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// v2Files are results spike wrote at schema version 2 (integer nanoseconds
// in `_ns` fields and unsuffixed plan durations and rates): a merge of two
// shards started with --start-at, and a journey run of the example app.
var v2Files = []string{"v2-merged.json", "v2-journeys.json"}

// generic reads a JSON file as generic values, numbers as json.Number.
func generic(t *testing.T, data []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// at walks a generic JSON value by keys and indexes.
func at(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok || m[k] == nil {
				t.Fatalf("no %q at %v", k, path)
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				t.Fatalf("no [%d] at %v", k, path)
			}
			v = a[k]
		}
	}
	return v
}

func nsAt(t *testing.T, v any, path ...any) time.Duration {
	t.Helper()
	n, err := at(t, v, path...).(json.Number).Int64()
	if err != nil {
		t.Fatal(err)
	}
	return time.Duration(n)
}

func floatAt(t *testing.T, v any, path ...any) float64 {
	t.Helper()
	f, err := at(t, v, path...).(json.Number).Float64()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestReadFile_SchemaVersion2 loads version 2 results and checks that every
// duration and rate arrives at the same value to the nanosecond, whatever
// its old name, and that the document then writes and reads back the same.
func TestReadFile_SchemaVersion2(t *testing.T) {
	t.Parallel()
	for _, name := range v2Files {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join("testdata", name)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			old := generic(t, data)
			doc, err := ReadFile(path)
			if err != nil {
				t.Fatalf("ReadFile(%s) = %v; want it loaded", name, err)
			}
			if doc.Schema != SchemaVersion {
				t.Errorf("schema %d; want %d", doc.Schema, SchemaVersion)
			}
			r := doc.Run()
			check := func(what string, got, want any) {
				t.Helper()
				if got != want {
					t.Errorf("%s = %v; want %v (from the version 2 file)", what, got, want)
				}
			}
			check("plan.window", r.Plan.Window, nsAt(t, old, "plan", "window_ns"))
			check("plan.duration", r.Plan.Duration, nsAt(t, old, "plan", "duration_ns"))
			check("plan.baseline", r.Plan.Baseline, floatAt(t, old, "plan", "baseline"))
			check("plan.peak_rate", r.Plan.PeakRate, floatAt(t, old, "plan", "peak_rate"))
			check("plan.slo.p95", r.Plan.SLO.P95, nsAt(t, old, "plan", "slo", "p95"))
			check("plan.options.timeout", r.Plan.Options.Timeout, nsAt(t, old, "plan", "options", "timeout"))
			check("plan.options.window", r.Plan.Options.Window, nsAt(t, old, "plan", "options", "window"))
			for i, s := range r.Plan.Segments {
				check(fmt.Sprintf("segments[%d].start", i), s.Start, nsAt(t, old, "plan", "segments", i, "start"))
				check(fmt.Sprintf("segments[%d].duration", i), s.Duration, nsAt(t, old, "plan", "segments", i, "duration"))
				check(fmt.Sprintf("segments[%d].to", i), s.To, floatAt(t, old, "plan", "segments", i, "to"))
			}
			if len(r.Windows) == 0 {
				t.Fatal("no windows")
			}
			for i, w := range r.Windows {
				check(fmt.Sprintf("windows[%d].start", i), w.Start, nsAt(t, old, "windows", i, "start_ns"))
				check(fmt.Sprintf("windows[%d].end", i), w.End, nsAt(t, old, "windows", i, "end_ns"))
				check(fmt.Sprintf("windows[%d].planned_rate", i), w.PlannedRate, floatAt(t, old, "windows", i, "planned_rate"))
				check(fmt.Sprintf("windows[%d].lag.p99", i), w.Lag.P99, nsAt(t, old, "windows", i, "lag", "p99_ns"))
				check(fmt.Sprintf("windows[%d].latency.p95", i), w.Latency.P95, nsAt(t, old, "windows", i, "latency", "p95_ns"))
				check(fmt.Sprintf("windows[%d].latency.mean", i), w.Latency.Mean, nsAt(t, old, "windows", i, "latency", "mean_ns"))
				for name, wr := range w.Requests {
					if wr.Latency.Count > 0 {
						check(fmt.Sprintf("windows[%d].requests[%s].latency.max", i, name), wr.Latency.Max, nsAt(t, old, "windows", i, "requests", name, "latency", "max_ns"))
					}
				}
			}
			for i, rq := range r.Requests {
				check(fmt.Sprintf("requests[%d].latency.p99", i), rq.Latency.P99, nsAt(t, old, "requests", i, "latency", "p99_ns"))
			}
			for i, s := range r.Meta.Shards {
				check(fmt.Sprintf("meta.shards[%d].lag_p99", i), s.LagP99, nsAt(t, old, "meta", "shards", i, "lag_p99_ns"))
				if s.Start == nil {
					t.Errorf("meta.shards[%d]: no start", i)
					continue
				}
				check(fmt.Sprintf("meta.shards[%d].start.lateness", i), s.Start.Lateness, nsAt(t, old, "meta", "shards", i, "start", "lateness_ns"))
			}
			for i, j := range r.Journeys {
				check(fmt.Sprintf("journeys[%d].duration.p50", i), j.Duration.P50, nsAt(t, old, "journeys", i, "duration", "p50_ns"))
			}
			if g := r.Plan.Gate; g != nil {
				if v, ok := at(t, old, "plan", "gate").(map[string]any)["survive"]; ok {
					f, _ := v.(json.Number).Float64()
					check("plan.gate.survive", g.Survive, f)
				}
			}

			// Written at version 3 and read again: the same document.
			var buf bytes.Buffer
			if err := doc.WriteJSON(&buf); err != nil {
				t.Fatal(err)
			}
			back, err := Parse(name, buf.Bytes())
			if err != nil {
				t.Fatalf("the version 3 document does not load: %v", err)
			}
			if !reflect.DeepEqual(back, doc) {
				t.Errorf("a version 2 file written at version 3 reads back different")
			}
		})
	}
	// The fixtures between them carry shards, a start and journeys.
	m, _ := ReadFile(filepath.Join("testdata", "v2-merged.json"))
	j, _ := ReadFile(filepath.Join("testdata", "v2-journeys.json"))
	if m == nil || len(m.Meta.Shards) != 2 || j == nil || len(j.Journeys) == 0 || j.Analysis == nil {
		t.Errorf("the version 2 fixtures lack the shards, journeys or analysis this test needs")
	}
}

// unitless are the number fields of result.json that have no unit: counts,
// bytes, indexes, fractions, factors, settings without a unit. Every other
// number must name its unit: `_ms` (milliseconds) or `_rps` (per second).
// A new field lands here only if it truly has no unit.
var unitless = []string{
	// counts
	"count", "ok", "errors", "planned", "sent", "started", "refused", "completed", "unfinished",
	"reached", "abandoned", "unsent", "total_requests", "with_dur", "first_byte_count",
	"error_body_other", "error_samples_other", "bad_server_timing", "bound_windows", "material_windows",
	"generator_bound_windows", "failed_windows", "judged_windows", "low_load_windows", "windows",
	"min_samples", "sustain", "connections", "users", "max_sessions", "runs", "seed",
	// bytes
	"bytes_in", "bytes_out", "max_bytes_in",
	// positions
	"index", "window", "first_window", "judged_from", "rank", "step", "status",
	// fractions and factors
	"share", "weight", "error_rate", "low_error_rate", "error_rate_at_baseline", "max_regression",
	"time_scale", "multiple", "peak_multiple", "breakpoint_multiple", "capacity_multiple",
	"crack_factor", "factor", "knee", "precision", "gap",
}

// numberKeys collects, outside plan.scenario (the user's input as written),
// the keys of every number in a generic JSON value; status-keyed maps
// ("200": 95) count under "<status>".
func numberKeys(v any, path string, out map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if path == ".plan" && k == "scenario" {
				continue
			}
			if _, ok := e.(json.Number); ok {
				key := k
				if strings.Trim(k, "0123456789") == "" || strings.HasSuffix(path, ".statuses") || strings.HasSuffix(path, ".error_kinds") ||
					strings.HasSuffix(path, ".error_headers") || strings.HasSuffix(path, ".desc") {
					key = "<counted by name>"
				}
				out[key] = path + "." + k
				continue
			}
			numberKeys(e, path+"."+k, out)
		}
	case []any:
		for _, e := range x {
			numberKeys(e, path, out)
		}
	}
}

// TestDocument_UnitConvention checks that every number result.json holds
// names its unit, `_ms` or `_rps`, or is a count, fraction or factor: one
// convention over the run, analysis and search sections.
func TestDocument_UnitConvention(t *testing.T) {
	t.Parallel()
	docs := map[string][]byte{}
	for _, name := range append([]string{"v1-find.json"}, v2Files...) {
		doc, err := ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := doc.WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
		docs[name] = buf.Bytes()
	}
	seen := 0
	for name, data := range docs {
		keys := map[string]string{}
		numberKeys(generic(t, data), "", keys)
		for k, where := range keys {
			seen++
			switch {
			case k == "<counted by name>", k == "schema":
			case strings.HasSuffix(k, "_ns"):
				t.Errorf("%s: %s is in nanoseconds; result.json's durations are milliseconds (_ms)", name, where)
			case strings.HasSuffix(k, "_ms"), strings.HasSuffix(k, "_rps"):
			case slices.Contains(unitless, k):
			default:
				t.Errorf("%s: %s has no unit suffix (_ms, _rps) and is not a known count, fraction or factor", name, where)
			}
		}
	}
	if seen < 100 {
		t.Errorf("only %d number fields seen; the fixtures should cover the whole document", seen)
	}
}
