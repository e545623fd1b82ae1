// Package grafana holds a Grafana dashboard for spike's live Prometheus
// metrics (spike-live.json); its test keeps the dashboard's queries in step
// with what spike exports.
package grafana

import (
	"encoding/json"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/live"
	"github.com/spikeload/spike/scenarios"
)

// exported returns every series name spike's Prometheus endpoint can
// show: each family, and for histograms its classic _bucket, _sum and
// _count series as well as the native histogram under the bare name.
func exported(t *testing.T) map[string]bool {
	t.Helper()
	c, err := scenarios.NewCurve([]scenarios.Segment{{Kind: "hold", From: 1, To: 1, Duration: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	m := live.New(&scenarios.Plan{Curve: c, Requests: []*scenarios.Request{{Name: "home", Method: "GET"}}})
	reg := prometheus.NewRegistry()
	if err := m.Register(reg); err != nil {
		t.Fatal(err)
	}
	m.Observe(&engine.Sample{Req: 0, End: time.Millisecond, Code: 200})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
		if mf.GetType() == dto.MetricType_HISTOGRAM {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[mf.GetName()+s] = true
			}
		}
	}
	return names
}

// grafanaVar matches Grafana's interval variables, which stand for a
// duration in a range selector.
var grafanaVar = regexp.MustCompile(`\$__(rate_interval|interval|range)`)

// exprs returns every "expr" string in the dashboard, and the metrics named
// by label_values(...) variable queries.
func exprs(v any, found *[]string, labelValues *[]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok {
				switch {
				case k == "expr":
					*found = append(*found, s)
				case k == "query" && strings.HasPrefix(s, "label_values("):
					*labelValues = append(*labelValues, strings.TrimSpace(strings.SplitN(strings.TrimPrefix(s, "label_values("), ",", 2)[0]))
				}
				continue
			}
			exprs(e, found, labelValues)
		}
	case []any:
		for _, e := range x {
			exprs(e, found, labelValues)
		}
	}
}

func TestDashboard_NamesOnlyExportedMetrics(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("spike-live.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash map[string]any
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("spike-live.json: %v", err)
	}
	var found, labelValues []string
	exprs(dash, &found, &labelValues)
	if len(found) < 5 {
		t.Fatalf("spike-live.json has %d PromQL expressions; want the dashboard's panels", len(found))
	}
	names := exported(t)
	used := map[string]bool{}
	for _, raw := range found {
		e, err := parser.NewParser(parser.Options{}).ParseExpr(grafanaVar.ReplaceAllString(raw, "1m"))
		if err != nil {
			t.Errorf("%q does not parse: %v", raw, err)
			continue
		}
		parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
			vs, ok := n.(*parser.VectorSelector)
			if !ok {
				return nil
			}
			if vs.Name == "" {
				t.Errorf("%q selects series without a metric name", raw)
			}
			if !names[vs.Name] {
				t.Errorf("%q names %s, which spike does not export", raw, vs.Name)
			}
			used[vs.Name] = true
			return nil
		})
	}
	for _, n := range labelValues {
		if !names[n] {
			t.Errorf("variable query label_values(%s, …) names a metric spike does not export", n)
		}
	}
	// The panels the dashboard promises: rates, p95, errors by status,
	// send lag, generator-bound windows.
	for _, want := range []string{
		live.NamePlannedRate, live.NameSent, live.NameLatency + "_bucket", live.NameResponses,
		live.NameSendLag + "_bucket", live.NameGeneratorBound, live.NameInFlight,
	} {
		if !used[want] {
			var all []string
			for n := range used {
				all = append(all, n)
			}
			sort.Strings(all)
			t.Errorf("no panel queries %s (queried: %v)", want, all)
		}
	}
}
