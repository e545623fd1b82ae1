// Package search finds a target's capacity with an adaptive breakpoint
// search: the highest constant request rate it holds within the scenario's
// SLO, the rate at which it breaks, and the layer that breaks first there.
//
// # The search
//
// [Find] runs a series of steps, each a constant rate held for a while on a
// fresh attacker (through a [Runner]; [EngineRunner] is the real one). It
// starts at Config.From (default: the scenario's baseline) and multiplies
// the rate by Config.Factor after every step that holds the SLO (the climb)
// until one does not. When the very first step fails, it divides instead
// (the descent) until one holds. It then bisects between the highest good
// and the lowest bad rate until they are within Config.Precision of each
// other, and finally holds the good rate for Config.Confirm to confirm it.
// A confirmation that fails makes that rate bad, and the search goes on
// below it. The good and bad rates are always derived from every step so
// far: bad is the lowest failing rate, good the highest passing rate below
// it.
//
// # Judging a step
//
// A step is judged by [analysis.Analyze], the same window analysis as
// `spike run`, on the step's windows that start at or after Config.Skip
// (a warm-up): it fails when the SLO breaks (`sustain` failing windows in a
// row; per-request limits included). At a constant rate, failures that
// come and go are failures too: a step also fails when a request breaks
// its limits over all the judged windows together (its error rate, or its
// p95 with at least MinSamples samples). A step that ended early because it
// was clearly broken (Config.EarlyStop, see [NewAbortRule]) fails.
//
// Generator honesty: windows where spike fell behind are not judged. The
// engine flags a window generator-bound for a send lag p99 over 10 ms; a
// window whose lag stayed under a tenth of the SLO's p95 while spike sent
// (nearly) all its planned requests is judged all the same (latency counts
// from the intended send time, so such lag cannot turn a pass into a fail)
// and counted in Step.LaggedWindows. A step with fewer than `sustain`
// windows left to judge, or whose first violation the analysis finds
// coinciding with generator lag, is generator-bound: it is run once more
// (Config.Retries), and if spike falls behind again the search stops,
// "inconclusive above X req/s".
//
// # Bounds
//
// Config.MaxRate caps the climb; a target that holds it is reported as
// holding at least that rate. Config.MaxDuration bounds the load time, the
// sum of the steps' lengths (each step may take a little longer to drain its
// requests in flight); the search keeps time for the confirmation and
// reports the best answer it has when the time is up. Cancelling the
// context (Ctrl-C) ends the step in progress, which is not judged, and Find
// returns the answer so far with Result.Stopped set to "interrupted".
//
// The [Result] is JSON-serialisable (durations in ms in fields ending in
// _ms, rates in req/s in fields ending in _rps, as in package analysis);
// [Result.Combine] turns the steps into one engine.Result (windows laid end
// to end) carrying the search in its Search field, and [Result.Analyze]
// analyses it with the search's answer as the verdict, for the report.
package search
