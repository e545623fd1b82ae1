package scenarios_test

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/spikeload/spike/scenarios"
)

func TestRate_Resolve(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in       string
		baseline float64
		want     float64
		err      string
	}{
		{"300", 0, 300, ""},
		{"300", 50, 300, ""},
		{"12.5", 0, 12.5, ""},
		{"0", 0, 0, ""},
		{"1e3", 0, 1000, ""},
		{" 7 ", 0, 7, ""},
		{"5x", 20, 100, ""},
		{"5 x", 20, 100, ""},
		{"2.5X", 20, 50, ""},
		{"0x", 20, 0, ""},
		{"1x", 3.5, 3.5, ""},
		{"500%", 20, 100, ""},
		{"50 %", 20, 10, ""},
		{"0.5%", 200, 1, ""},
		{"", 20, 0, "must be set"},
		{"   ", 20, 0, "must be set"},
		{"fast", 20, 0, `not a rate (want req/s like 300, or a multiple of the baseline like 5x or 500%), got "fast"`},
		{"x", 20, 0, `not a rate (want req/s like 300, or a multiple of the baseline like 5x or 500%), got "x"`},
		{"5xx", 20, 0, `not a rate (want req/s like 300, or a multiple of the baseline like 5x or 500%), got "5xx"`},
		{"%", 20, 0, `not a rate (want req/s like 300, or a multiple of the baseline like 5x or 500%), got "%"`},
		{"5 req/s", 20, 0, `not a rate (want req/s like 300, or a multiple of the baseline like 5x or 500%), got "5 req/s"`},
		{"NaN", 20, 0, `not a rate (want req/s like 300, or a multiple of the baseline like 5x or 500%), got "NaN"`},
		{"inf", 20, 0, `not a rate (want req/s like 300, or a multiple of the baseline like 5x or 500%), got "inf"`},
		{"-Infx", 20, 0, `not a rate (want req/s like 300, or a multiple of the baseline like 5x or 500%), got "-Infx"`},
		{"-5", 20, 0, "must be >= 0, got -5"},
		{"-0.1", 0, 0, "must be >= 0, got -0.1"},
		{"-2x", 20, 0, "must be >= 0, got -2x"},
		{"-50%", 20, 0, "must be >= 0, got -50%"},
		{"5x", 0, 0, `relative rate "5x" needs a baseline > 0`},
		{"500%", 0, 0, `relative rate "500%" needs a baseline > 0`},
		{"2X", -1, 0, `relative rate "2X" needs a baseline > 0`},
	}
	for _, tt := range tests {
		r := scenarios.Rate{}
		if tt.in != "" {
			// Keep the spaces: UnmarshalText trims them, YAML keeps quoted ones.
			if err := yaml.Unmarshal([]byte(`"`+tt.in+`"`), &r); err != nil {
				t.Fatalf("yaml.Unmarshal(%q) = %v", tt.in, err)
			}
		}
		got, err := r.Resolve(tt.baseline)
		switch {
		case tt.err != "" && (err == nil || err.Error() != tt.err):
			t.Errorf("Rate(%q).Resolve(%v) = (%v, %v); want error %q", tt.in, tt.baseline, got, err, tt.err)
		case tt.err == "" && (err != nil || math.Abs(got-tt.want) > 1e-12):
			t.Errorf("Rate(%q).Resolve(%v) = (%v, %v); want (%v, nil)", tt.in, tt.baseline, got, err, tt.want)
		}
	}
}

func TestRate_Constructors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		r        scenarios.Rate
		str      string
		baseline float64
		want     float64
	}{
		{scenarios.RateOf(300), "300", 0, 300},
		{scenarios.RateOf(12.25), "12.25", 0, 12.25},
		{scenarios.Multiple(5), "5x", 20, 100},
		{scenarios.Multiple(0.5), "0.5x", 20, 10},
	}
	for _, tt := range tests {
		if got := tt.r.String(); got != tt.str || !tt.r.IsSet() {
			t.Errorf("Rate.String() = %q, IsSet() = %t; want %q, true", got, tt.r.IsSet(), tt.str)
		}
		if got, err := tt.r.Resolve(tt.baseline); err != nil || got != tt.want {
			t.Errorf("Rate(%q).Resolve(%v) = (%v, %v); want (%v, nil)", tt.str, tt.baseline, got, err, tt.want)
		}
	}
	if (scenarios.Rate{}).IsSet() {
		t.Errorf("Rate{}.IsSet() = true; want false")
	}
}

// TestRate_Marshal checks that rates, durations and fractions round-trip
// through YAML and JSON as written.
func TestRate_Marshal(t *testing.T) {
	t.Parallel()
	type doc struct {
		Peak   scenarios.Rate     `yaml:"peak" json:"peak"`
		For    scenarios.Duration `yaml:"for" json:"for"`
		Errors scenarios.Fraction `yaml:"errors" json:"errors"`
	}
	var d doc
	if err := yaml.Unmarshal([]byte("peak: 500%\nfor: '1h30m'\nerrors: \"0.5%\"\n"), &d); err != nil {
		t.Fatalf("yaml.Unmarshal = %v", err)
	}
	if d.Peak.String() != "500%" || d.For.String() != "1h30m" || d.Errors.String() != "0.5%" {
		t.Errorf("yaml.Unmarshal = %q, %q, %q; want 500%%, 1h30m, 0.5%%", d.Peak, d.For, d.Errors)
	}
	j, err := json.Marshal(d)
	if want := `{"peak":"500%","for":"1h30m","errors":"0.5%"}`; err != nil || string(j) != want {
		t.Errorf("json.Marshal = %s, %v; want %s", j, err, want)
	}
	var back doc
	if err := json.Unmarshal(j, &back); err != nil || back != d {
		t.Errorf("json.Unmarshal(%s) = %+v, %v; want %+v", j, back, err, d)
	}
	y, err := yaml.Marshal(d)
	if err != nil {
		t.Fatalf("yaml.Marshal = %v", err)
	}
	var again doc
	if err := yaml.Unmarshal(y, &again); err != nil || again != d {
		t.Errorf("yaml round trip %q = %+v, %v; want %+v", y, again, err, d)
	}
}

func TestDuration_Parse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"90s", 90 * time.Second, ""},
		{"2m", 2 * time.Minute, ""},
		{"1h30m", 90 * time.Minute, ""},
		{"500ms", 500 * time.Millisecond, ""},
		{"1.5h", 90 * time.Minute, ""},
		{"5", 5 * time.Second, ""},
		{"0.25", 250 * time.Millisecond, ""},
		{" 30 ", 30 * time.Second, ""},
		{"0", 0, ""},
		{"-5", -5 * time.Second, ""},
		{"-1m", -time.Minute, ""},
		{"", 0, "must be set"},
		{"soon", 0, `not a duration (want e.g. 30s, 2m, 1h30m), got "soon"`},
		{"5 minutes", 0, `not a duration (want e.g. 30s, 2m, 1h30m), got "5 minutes"`},
		{"1d", 0, `not a duration (want e.g. 30s, 2m, 1h30m), got "1d"`},
		{"NaN", 0, `not a duration, got "NaN"`},
		{"Inf", 0, `not a duration, got "Inf"`},
		{"1e10", 0, `not a duration, got "1e10"`},
		{"9999999999h", 0, `not a duration (want e.g. 30s, 2m, 1h30m), got "9999999999h"`},
	}
	for _, tt := range tests {
		var d scenarios.Duration
		if err := d.UnmarshalText([]byte(tt.in)); err != nil {
			t.Fatalf("Duration.UnmarshalText(%q) = %v", tt.in, err)
		}
		got, err := d.Parse()
		switch {
		case tt.err != "" && (err == nil || err.Error() != tt.err):
			t.Errorf("Duration(%q).Parse() = (%s, %v); want error %q", tt.in, got, err, tt.err)
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("Duration(%q).Parse() = (%s, %v); want (%s, nil)", tt.in, got, err, tt.want)
		}
	}
	if d, err := scenarios.Dur(90 * time.Second).Parse(); err != nil || d != 90*time.Second {
		t.Errorf("Dur(90s).Parse() = (%s, %v); want (1m30s, nil)", d, err)
	}
	if (scenarios.Duration{}).IsSet() || !scenarios.Dur(time.Second).IsSet() {
		t.Errorf("Duration{}.IsSet(), Dur(1s).IsSet() = %t, %t; want false, true", (scenarios.Duration{}).IsSet(), scenarios.Dur(time.Second).IsSet())
	}
}

func TestFraction_Parse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want float64
		err  string
	}{
		{"1%", 0.01, ""},
		{"0.01", 0.01, ""},
		{"0.5%", 0.005, ""},
		{"100%", 1, ""},
		{"1", 1, ""},
		{"0", 0, ""},
		{"0%", 0, ""},
		{" 2 % ", 0.02, ""},
		{"150%", 0, "must be between 0% and 100%, got 150%"},
		{"-1%", 0, "must be between 0% and 100%, got -1%"},
		{"1.5", 0, "must be between 0% and 100%, got 1.5"},
		{"-0.01", 0, "must be between 0% and 100%, got -0.01"},
		{"Inf%", 0, "must be between 0% and 100%, got Inf%"},
		{"", 0, `not a percentage (want e.g. 1% or 0.01), got ""`},
		{"%", 0, `not a percentage (want e.g. 1% or 0.01), got "%"`},
		{"one", 0, `not a percentage (want e.g. 1% or 0.01), got "one"`},
		{"NaN%", 0, `not a percentage (want e.g. 1% or 0.01), got "NaN%"`},
	}
	for _, tt := range tests {
		var f scenarios.Fraction
		if tt.in != "" {
			if err := yaml.Unmarshal([]byte(`"`+tt.in+`"`), &f); err != nil {
				t.Fatalf("yaml.Unmarshal(%q) = %v", tt.in, err)
			}
		}
		got, err := f.Parse()
		switch {
		case tt.err != "" && (err == nil || err.Error() != tt.err):
			t.Errorf("Fraction(%q).Parse() = (%v, %v); want error %q", tt.in, got, err, tt.err)
		case tt.err == "" && (err != nil || math.Abs(got-tt.want) > 1e-15):
			t.Errorf("Fraction(%q).Parse() = (%v, %v); want (%v, nil)", tt.in, got, err, tt.want)
		}
	}
}
