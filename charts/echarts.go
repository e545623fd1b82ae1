package charts

import (
	"encoding/json"
	"fmt"
	"html/template"
	"math"

	ec "github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
)

// Chart IDs: fixed, so the page is deterministic and tests can find each
// chart. Each is also the id of the chart's <div>; its options live in the
// <script type="application/json"> element with the id ID+"-options".
const (
	IDThroughput  = "chart-throughput"
	IDLatency     = "chart-latency"
	IDLayers      = "chart-layers"
	IDErrors      = "chart-errors"
	IDKneeLatency = "chart-knee-latency"
	IDKneeSuccess = "chart-knee-success"
	IDDistrib     = "chart-distribution"
	IDTiming      = "chart-server-timing"
	// Journey runs only.
	IDFunnel   = "chart-funnel"
	IDJourneys = "chart-journeys"
)

// Axis label formatters. echarts wants functions for these; the options are
// JSON, so they name a function of the page's own script (page/init.js),
// which swaps the name for the function. Only values of "formatter" keys
// are swapped, and only these names, so data cannot smuggle code in.
const (
	fmtOffsetJS = "spike:fmt:offset" // milliseconds → m:ss
	fmtMsJS     = "spike:fmt:ms"     // milliseconds → "250 ms", "1.5 s"
	fmtPctJS    = "spike:fmt:pct"    // 1/(1-q) → "99.9%"
)

// Colours, fixed per meaning so that a layer has the same colour everywhere.
var layerColors = map[string]string{
	"database":    "#5470c6",
	"backend":     "#ee6666",
	"frontend":    "#3ba272",
	"third-party": "#9a60b4",
	"auth":        "#fc8452",
}

const (
	colorPlanned   = "#8c96a3"
	colorSent      = "#5470c6"
	colorOK        = "#3ba272"
	colorBreak     = "#c23531"
	colorRecovered = "#3ba272"
	colorCapacity  = "#2f4554"
	colorKnee      = "#d48265"
	colorSLO       = "#c23531"
	colorOverall   = "#2f4554"
	shadeFailed    = "rgba(238,102,102,0.16)"
	shadeBound     = "rgba(84,84,84,0.18)"
)

func layerColor(l string) string {
	if c, ok := layerColors[l]; ok {
		return c
	}
	return "#73c0de"
}

// chartJSON is what every go-echarts chart type offers.
type chartJSON interface {
	Validate()
	JSON() map[string]any
}

// optionsJSON returns a chart's echarts options as JSON that is safe to
// place inside a <script> element: encoding/json escapes <, > and & (and
// U+2028/U+2029), so no string from a target or a scenario can close the
// element or open a comment. go-echarts' own templates are not used: they
// write the options unescaped and turn any "__f__" in a string into code.
func optionsJSON(c chartJSON, trigger string) (template.JS, error) {
	c.Validate()
	obj := c.JSON()
	// Tooltips are drawn on the canvas (richText), never as HTML, so a name
	// in a tooltip is text whatever it holds.
	obj["tooltip"] = map[string]any{"show": true, "trigger": trigger, "renderMode": "richText", "confine": true}
	// The time axis shows offsets from the start of the run as if they were
	// timestamps from 1970: in UTC, so no time zone moves them.
	obj["useUTC"] = true
	obj["textStyle"] = map[string]any{"fontFamily": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"}
	b, err := json.Marshal(obj)
	if err != nil {
		return "", fmt.Errorf("chart options: %w", err)
	}
	return template.JS(b), nil
}

// baseOpts are the options every chart shares.
func baseOpts(id string) []ec.GlobalOpts {
	return []ec.GlobalOpts{
		ec.WithInitializationOpts(opts.Initialization{ChartID: id}),
		ec.WithAnimation(false),
		ec.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Type: "scroll", Top: "0", Left: "center"}),
		ec.WithGridOpts(opts.Grid{Left: "72", Right: "48", Top: "44", Bottom: "56"}),
	}
}

// timeAxis is the x axis of the charts over time: milliseconds from the
// start of the run, labelled m:ss. It is an echarts "time" axis (over the
// offsets as if they were UTC timestamps from 1970): ticks fall on round
// seconds and minutes, and stacking adds up the y values (on a "value" x
// axis echarts would stack the x values).
func timeAxis(r *run) opts.XAxis {
	x := opts.XAxis{
		Type: "time", Name: "time into run", NameLocation: "middle", NameGap: 30, Min: 0,
		AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), Formatter: fmtOffsetJS, HideOverlap: opts.Bool(true)},
		SplitLine: &opts.SplitLine{Show: opts.Bool(false)},
	}
	if r.duration > 0 {
		x.Max = tms(r.duration)
	}
	return x
}

// msAxis is a latency y axis in milliseconds, logarithmic when log is set.
func msAxis(name string, log bool) opts.YAxis {
	t := "value"
	if log {
		t = "log"
	}
	return opts.YAxis{
		Type: t, Name: name, NameLocation: "middle", NameGap: 56,
		AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), Formatter: fmtMsJS},
		SplitLine: &opts.SplitLine{Show: opts.Bool(true)},
	}
}

// tms converts seconds from the start of the run to the time axis' unit,
// whole milliseconds.
func tms(s float64) float64 { return math.Round(s * 1000) }

// lineData converts points over time (x in seconds) to go-echarts line data
// on the time axis.
func lineData(pts []point) []opts.LineData {
	out := make([]opts.LineData, len(pts))
	for i, p := range pts {
		out[i] = opts.LineData{Value: []any{tms(p.X), sig4(p.Y)}}
	}
	return out
}

// scatterData converts points to go-echarts scatter data.
func scatterData(pts []point) []opts.ScatterData {
	out := make([]opts.ScatterData, len(pts))
	for i, p := range pts {
		out[i] = opts.ScatterData{Value: []any{sig4(p.X), sig4(p.Y)}}
	}
	return out
}

// lineStyle is a series' look: colour, width, dashed or not, no symbols.
func lineStyle(color string, width float32, dashed bool) []ec.SeriesOpts {
	typ := "solid"
	if dashed {
		typ = "dashed"
	}
	return []ec.SeriesOpts{
		ec.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false), Symbol: "none"}),
		ec.WithLineStyleOpts(opts.LineStyle{Color: color, Width: width, Type: typ}),
		ec.WithItemStyleOpts(opts.ItemStyle{Color: color}),
	}
}

// markLine is one mark line item: vertical (XAxis set) or horizontal
// (YAxis set), with its own style and a label showing its name.
type markLine struct {
	Name      string          `json:"name,omitempty"`
	XAxis     any             `json:"xAxis,omitempty"`
	YAxis     any             `json:"yAxis,omitempty"`
	LineStyle *opts.LineStyle `json:"lineStyle,omitempty"`
	Label     *markLabel      `json:"label,omitempty"`
}

type markLabel struct {
	Show      bool   `json:"show"`
	Formatter string `json:"formatter,omitempty"`
	Position  string `json:"position,omitempty"`
	Color     string `json:"color,omitempty"`
}

// vline is a vertical mark at x (in the x axis' unit: milliseconds on the
// time axis, see tms), labelled name.
func vline(name string, x float64, color string, dashed bool) markLine {
	t := "solid"
	if dashed {
		t = "dashed"
	}
	return markLine{Name: name, XAxis: msec(x), LineStyle: &opts.LineStyle{Color: color, Width: 1.5, Type: t},
		Label: &markLabel{Show: true, Formatter: "{b}", Position: "insideEndTop", Color: color}}
}

// hline is a horizontal mark at y, labelled name.
func hline(name string, y float64, color string) markLine {
	return markLine{Name: name, YAxis: sig4(y), LineStyle: &opts.LineStyle{Color: color, Width: 1.5, Type: "dashed"},
		Label: &markLabel{Show: true, Formatter: "{b}", Position: "insideEndTop", Color: color}}
}

// withMarkLines adds mark lines to a series.
func withMarkLines(ls ...markLine) ec.SeriesOpts {
	return func(s *ec.SingleSeries) {
		if len(ls) == 0 {
			return
		}
		if s.MarkLines == nil {
			s.MarkLines = &opts.MarkLines{}
		}
		s.MarkLines.Symbol = []string{"none", "none"}
		for _, l := range ls {
			s.MarkLines.Data = append(s.MarkLines.Data, l)
		}
	}
}

// withShading shades the stretches of spans (seconds) on a series of a
// chart over time, in color.
func withShading(spans []span, name, color string) ec.SeriesOpts {
	return func(s *ec.SingleSeries) {
		if len(spans) == 0 {
			return
		}
		if s.MarkAreas == nil {
			s.MarkAreas = &opts.MarkAreas{}
		}
		for _, sp := range spans {
			s.MarkAreas.Data = append(s.MarkAreas.Data, []opts.MarkAreaData{
				{Name: name, XAxis: tms(sp.From), MarkAreaStyle: opts.MarkAreaStyle{ItemStyle: &opts.ItemStyle{Color: color}}},
				{XAxis: tms(sp.To)},
			})
		}
		s.MarkAreas.Label = &opts.Label{Show: opts.Bool(false)}
	}
}
