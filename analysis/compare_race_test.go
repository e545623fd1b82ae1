//go:build race

package analysis

// raceDetector is set when the tests run with -race, which slows the
// example app and the generator too much for timing-based end-to-end cases.
const raceDetector = true
