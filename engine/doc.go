// Package engine turns a scenarios.Plan into traffic with vegeta's attacker
// and records every result into per-window, per-request HDR histograms and
// counters.
//
// The model is open: requests are sent on the curve's schedule whether or not
// earlier ones returned, and latency is measured from each request's
// intended send time, so a stalled target is not hidden by the generator
// waiting for it (coordinated omission). The engine also measures its own
// send lag; windows where the generator fell behind are flagged
// GeneratorBound so the analysis never blames the target for them.
//
// Memory is bounded by the number of open windows times the number of
// request names: a window's live histograms are encoded and released as soon
// as every request planned in it has returned (or could no longer return).
package engine
