// Package scenarios owns spike's scenario format: the YAML schema, strict
// loading with file:line:column errors, the built-in traffic shape presets,
// the rate curve r(t) with its exact integral and inverse, the request mix
// with its templates, journeys (steps within a visitor's session, values
// extracted from one response for the next, think times), and the SLO
// settings.
//
// A scenario file is loaded into a [Plan]: the validated, resolved scenario,
// ready for the engine to run. The package never sends traffic and knows
// nothing about HTTP clients; [Curve] satisfies vegeta's Pacer interface by
// shape alone (Pace and Rate), so the engine can hand it to an attacker.
//
// Rates are requests per second (with journeys, arriving visitors per
// second), written either absolute ("300") or relative to the scenario's
// baseline ("5x", "500%"). Durations use Go syntax ("90s",
// "2m", "1h30m").
package scenarios
