// Package charts renders a run's HTML report: one self-contained file that a
// founder opens after a run, a CI job attaches, or a team mails around, and
// that renders with no network.
//
// [Render] writes the report of an [engine.Result] and its
// [analysis.Analysis] (nil renders the measurements only, saying "not
// analysed" where the judgement would be); [WriteFile] writes it atomically.
// Top to bottom: the verdict banner; throughput, latency, per-layer p95 and
// errors over time; the knee (p95 and success against planned rate); the
// latency distribution per request (HDR percentile plot); Server-Timing
// components over time; then the breakage order, per-request statistics,
// recommendations, header audit, readiness answers and run metadata.
//
// Every chart is built with go-echarts, one function per chart with a fixed
// chart ID (IDThroughput…), on a "time" x axis (milliseconds from the start of
// the run) or a "value" one (planned rate, percentile). Series longer than
// maxPoints are down-sampled with largest-triangle-three-buckets (lttb.go),
// so an hour-long run's report stays under 5 MB and renders in a fraction of
// a second.
//
// # Self-contained and safe
//
// Apache ECharts ([EChartsVersion], assets/echarts.min.js with its licences
// beside it) is embedded in the binary and inlined in the page; go-echarts'
// own page templates, which load it from a remote host, are not used. Each
// chart's options are JSON in a <script type="application/json"> element,
// encoded with encoding/json (which escapes <, > and &), so a string from the
// target or the scenario cannot close the element; everything else goes
// through html/template. JSON cannot carry functions, so axis formatters are
// named ("spike:fmt:ms") and swapped for fixed functions by the page's own
// script. The page's Content-Security-Policy allows only its own four inline
// scripts (by hash) and no network access at all, so even an escaping bug
// could neither run injected script nor fetch anything.
//
// The page carries a self-test (page/selftest.js) that runs only when it is
// opened with #selftest: the browser tests use it to check, in headless
// Chromium, that every chart drew and nothing failed or was fetched.
package charts
