//go:build race

package search

// raceEnabled is set when the tests run under the race detector, which
// slows spike's own sending several times over.
const raceEnabled = true
