// Package analysis judges a recorded run: it turns the windows of an
// [engine.Result] into the answer a founder acts on. What broke first, at
// what rate, why, and what to fix first.
//
// Everything here is a pure function of the result: [Analyze] does no I/O,
// keeps no state between calls and is safe for concurrent use on distinct
// (or unchanging) results, so `spike report result.json` can re-analyse an
// old run. The one piece of rendering is [Analysis.WriteVerdict], the
// plain-text verdict printed after a run; charts and other formats read the
// [Analysis] value.
//
// # Units
//
// In the JSON form (and the exported fields behind it), every duration and
// every time offset is a float64 number of milliseconds in a field ending
// in _ms ("p95_ms", "at_ms", offsets from the start of the run). Rates are
// requests per second in fields ending in _rps; multiples are of the
// scenario's baseline (0 when the plan has no baseline); error rates and
// shares are fractions in [0, 1]. Window numbers are indexes into
// Result.Windows.
//
// # Definitions
//
// A check compares one window's measurements (overall, per layer, per
// request) with the SLO: p95, p99 when set, and the error rate (errors over
// responses). Per-request limits come from SLO.For(name). A check's status
// is one of:
//
//   - "fail": a limit was exceeded. The error rate is judged whenever the
//     window holds a response, however few: one failure in five requests is
//     a fifth of the users, and the sustain rule (below) keeps a single blip
//     from becoming a break.
//   - "insufficient": too few samples to judge, and nothing failed (see
//     below).
//   - "generator_bound": the engine flagged the window because spike itself
//     fell behind; it is never judged against the target.
//   - "pass": otherwise.
//
// A percentile needs Options.MinSamples latency samples (p95; five times
// that for p99, so that at least one sample lies above the percentile), and
// a clean error rate needs 1/limit responses (100 for 1%). A window with
// fewer, a sparse window, is judged together with the windows before it,
// pooled back until they hold enough (at most 10 windows): it fails a
// latency limit when more than the percentile's tail (5% for p95, 1% for
// p99) of the pooled samples are above the limit and the window has such a
// sample itself; it is insufficient, not pass, when the pool is failing
// (too slow or too many errors) but the window alone shows nothing, for a
// quiet window cannot clear a failing trend; and it is insufficient when
// the pool is too small to tell and the window has a sample above the
// limit. Without the pool, a request that is 6% of the mix, two or three
// responses a window, would need several errors in a row to break long
// after it really did.
//
// A layer's check merges the histograms of the layer's requests and fails
// when the merged figures fail the loosest of its requests' limits or when
// any of its requests fails its own. The overall check does the same over
// the whole target, and fails when any layer fails. (With no per-request
// overrides, every limit is the overall SLO; the loosest rule only keeps a
// request allowed to be slow from failing its layer, or the target, by
// itself.) A check's Failed list names the merged figures' own limits
// ("p95"), a request's ("feed: p95") and, in the overall check, a layer's
// merged figures ("layer database: p95").
//
// A break is `sustain` consecutive failing windows (Options.Sustain, default
// the plan's SLO.Sustain, else 3); insufficient windows are skipped over,
// and passing or materially generator-bound windows (below) end the run. It
// begins at the run's first window and ends (recovery) at the first window
// of the next `sustain` consecutive passing windows. A crack is the same over the test
// "p95 above CrackFactor (2) times the low-load p95 and at least
// CrackMinGrowth above it". Low load means the windows planned at or below
// the baseline (before the first violation, when they hold enough samples);
// without such windows, the windows within 10% of the lowest planned rate.
//
// The breakpoint is the planned rate of the first window of the first
// overall break (the overall check fails whenever a layer does, so this is
// the first break of anything); capacity is the highest rate r such that
// `sustain` consecutive passing windows before the breakpoint were all
// planned at r or more. The saturation knee is the first of `sustain` consecutive
// windows whose successful responses fall below Knee (0.9) of the planned
// requests.
//
// Generator honesty: windows the engine flagged generator_bound are never
// judged against the target. A flagged window is material when spike sent
// fewer than 98% of its planned requests or its send lag p99 passed a tenth
// of the tightest latency limit (50 ms for p95 ≤ 500 ms; at least the
// engine's 10 ms): a smaller lag cannot move a percentile across the limit.
// Material windows interrupt breaks, cracks and held capacity; the others
// are skipped over. When material windows begin within `sustain` windows
// before the first break (or around the first violation, when no break was
// confirmed), or when the windows that would have tested the planned peak
// were mostly material, the verdict is "inconclusive: spike could not send
// the planned load above X req/s", never a target breakpoint.
//
// Layer attribution is described on RequestReport, the breakage order on
// LayerReport, recommendations on Recommendation, the header audit on
// Finding and the readiness answers on Readiness.
package analysis
