package engine

import (
	"encoding/json"
	"io"
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
	r := &Result{Meta: Meta{Tool: "spike", Started: time.Unix(100, 0), Ended: time.Unix(102, 0)}}
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

func TestResult_Validate(t *testing.T) {
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
		{"no window length", func(r *Result) { r.Plan.Window = 0 }, "plan.window_ms: must be > 0"},
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
		_, err = parseResult(b)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: Validate() = %v; want no error", tt.name, err)
		case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
			t.Errorf("%s: Validate() = %v; want an error starting %q", tt.name, err, tt.want)
		}
	}
}

// writeJSON writes r as JSON: the run section of result.json (package
// result writes the whole document).
func writeJSON(w io.Writer, r *Result) error { return json.NewEncoder(w).Encode(r) }

// parseResult decodes a run written by writeJSON and validates it.
func parseResult(b []byte) (*Result, error) {
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}
