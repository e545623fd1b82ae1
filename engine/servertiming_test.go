package engine

import (
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestParseServerTiming(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []TimingMetric
		bad  int
	}{
		{"db;dur=12.3", []TimingMetric{{Name: "db", Dur: 12.3, HasDur: true}}, 0},
		{"db;dur=12.3, app;dur=15;desc=\"render page\", cache;desc=hit", []TimingMetric{
			{Name: "db", Dur: 12.3, HasDur: true},
			{Name: "app", Dur: 15, HasDur: true, Desc: "render page"},
			{Name: "cache", Desc: "hit"},
		}, 0},
		{"miss", []TimingMetric{{Name: "miss"}}, 0},
		{" db ; dur = 4 ", []TimingMetric{{Name: "db", Dur: 4, HasDur: true}}, 0},
		{"db;dur=abc, ok;dur=1", []TimingMetric{{Name: "ok", Dur: 1, HasDur: true}}, 1},
		{"db;dur=-1", nil, 1},
		{"d b;dur=1", nil, 1},
		{";dur=1", nil, 1},
		{"db;dur", nil, 1},
		{",,", nil, 0},
		{"", nil, 0},
		{"x;unknown=1;dur=2", []TimingMetric{{Name: "x", Dur: 2, HasDur: true}}, 0},
	}
	for _, tt := range tests {
		var got []TimingMetric
		bad := ParseServerTiming(tt.in, func(m TimingMetric) { got = append(got, m) })
		if !reflect.DeepEqual(got, tt.want) || bad != tt.bad {
			t.Errorf("ParseServerTiming(%q) = %+v, bad %d; want %+v, bad %d", tt.in, got, bad, tt.want, tt.bad)
		}
	}
}

func FuzzParseServerTiming(f *testing.F) {
	for _, s := range []string{"db;dur=12.3, app;dur=15;desc=\"x\"", "cache;desc=hit", ";;,=,\"", "a;dur=1e308"} {
		f.Add(s)
	}
	f.Add(strings.Repeat("a;dur=1;desc=\"", 1000))
	f.Fuzz(func(t *testing.T, s string) {
		// Bounds: a header of n bytes is parsed in time and memory linear in n.
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		defer func() {
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			if d := time.Since(start); d > time.Second {
				t.Fatalf("ParseServerTiming(%d bytes) took %s; want < 1s", len(s), d)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20+uint64(64*len(s)) {
				t.Fatalf("ParseServerTiming(%d bytes) allocated %d bytes; want it bounded by the input", len(s), alloc)
			}
		}()
		n := 0
		bad := ParseServerTiming(s, func(m TimingMetric) {
			n++
			if m.Name == "" || (m.HasDur && m.Dur < 0) {
				t.Fatalf("ParseServerTiming(%q) gave metric %+v", s, m)
			}
		})
		if bad < 0 {
			t.Fatalf("negative bad count")
		}
	})
}

func TestClassifyError(t *testing.T) {
	t.Parallel()
	tests := []struct{ msg, want string }{
		{`Get "http://127.0.0.1:1/x": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`, KindTimeout},
		{`Get "http://127.0.0.1:1/x": dial tcp 127.0.0.1:1: connect: connection refused`, KindRefused},
		{`Get "http://127.0.0.1:1/x": read tcp 127.0.0.1:5->127.0.0.1:1: read: connection reset by peer`, KindReset},
		{`Get "http://127.0.0.1:1/x": EOF`, KindReset},
		{`Get "http://nope.invalid/x": dial tcp: lookup nope.invalid: no such host`, KindDNS},
		{`Get "https://127.0.0.1:1/x": tls: failed to verify certificate: x509: certificate signed by unknown authority`, KindTLS},
		{`something odd`, KindOther},
	}
	for _, tt := range tests {
		if got := ClassifyError(tt.msg); got != tt.want {
			t.Errorf("ClassifyError(%q) = %q; want %q", tt.msg, got, tt.want)
		}
	}
	if got := errorMessage(`Get "http://127.0.0.1:1/x?a=1": dial tcp 127.0.0.1:1: connect: connection refused`); got != "dial tcp 127.0.0.1:1: connect: connection refused" {
		t.Errorf("errorMessage dropped the wrong part: %q", got)
	}
}
