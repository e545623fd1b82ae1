package main

import (
	"io"

	"github.com/spikeload/spike/analysis"
)

// printVerdict writes the verdict shown after a run: the headline, the first
// broken layer with its symptom and likely cause, the breakpoint, capacity
// and knee, the breakage order and the top three fixes. Plain text, no
// colours, at most about 25 lines; the rendering lives in
// analysis.(*Analysis).WriteVerdict, where it is tested. A nil analysis
// prints nothing.
func printVerdict(w io.Writer, a *analysis.Analysis) {
	if a == nil {
		return
	}
	_ = a.WriteVerdict(w)
}
