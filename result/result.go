// Package result owns result.json: one typed document holding what a run
// measured (engine.Result), its judgement (analysis.Analysis) and, for
// `spike find`, the breakpoint search (search.Result), under one schema
// version. It reads documents with a size bound and validates them, loads
// older versions through a migration, refuses newer ones by name, and writes
// them atomically.
//
// It sits above engine, analysis and search (which know nothing of files),
// so that the document's sections are typed rather than raw JSON slots.
//
// # Units
//
// One convention throughout: every duration is a number of milliseconds
// (a float, exact to the nanosecond) in a field whose name ends in `_ms`,
// and every rate a number per second in a field whose name ends in `_rps`
// (requests per second or, with journeys, visitors per second: the plan's
// journeys say which). Counts, bytes, fractions and factors have no unit
// suffix. The one exception is plan.scenario, the scenario as written,
// which echoes the user's input ("90s", "3x"). Times of day are RFC 3339.
package result

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spikeload/spike/analysis"
	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/search"
)

// SchemaVersion is the version of result.json that Write writes. Version 1
// (spike before the document had one owner) gave the analysis and search
// sections their own "version" fields; version 2 has this one version only;
// version 3 has one unit convention (see Units). Read loads all three and
// refuses newer versions.
const SchemaVersion = 3

// MaxSize is the largest result.json ReadFile reads, in bytes: about
// 80 hours of one-second windows for a mix of ten requests.
const MaxSize = 1 << 30

// Document is result.json: everything a run measured, enough to re-analyse
// it, re-render its report, compare it with another run or merge it with
// other shards, with its analysis and, for a breakpoint search, the search.
type Document struct {
	// Schema is the format version (SchemaVersion once read or written).
	Schema int `json:"schema"`
	// Result is the run: meta, plan, windows, requests and journeys, at the
	// top level of the JSON.
	engine.Result
	// Analysis is the run's judgement (nil until analysed).
	Analysis *analysis.Analysis `json:"analysis,omitempty"`
	// Search is set when the document is a breakpoint search (`spike
	// find`): its steps and answer. The windows are then the steps'
	// windows laid end to end (search.Result.Combine).
	Search *search.Result `json:"search,omitempty"`
}

// New returns the document of run with its analysis a and search s (either
// may be nil).
func New(run *engine.Result, a *analysis.Analysis, s *search.Result) *Document {
	return &Document{Schema: SchemaVersion, Result: *run, Analysis: a, Search: s}
}

// Run returns the document's run section.
func (d *Document) Run() *engine.Result { return &d.Result }

// ShardRun returns d's run to be merged with other shards (as
// engine.ShardResult); name is used in errors. A breakpoint search is refused
// (engine.ErrMergeRefused): only runs can be merged.
func (d *Document) ShardRun(name string) (*engine.Result, error) {
	if d.Search != nil {
		return nil, fmt.Errorf("%w: %s is a breakpoint search (spike find); only runs can be merged", engine.ErrMergeRefused, name)
	}
	return &d.Result, nil
}

// WriteJSON writes d as indented JSON, at SchemaVersion.
func (d *Document) WriteJSON(w io.Writer) error {
	c := *d
	c.Schema = SchemaVersion
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(&c)
}

// WriteFile writes d to path atomically: a reader never sees a half-written
// file under the final name.
func (d *Document) WriteFile(path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".result-*.json")
	if err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := d.WriteJSON(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("write result: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	return nil
}
