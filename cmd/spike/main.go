// Command spike tells a team, before a launch, what breaks first when
// traffic goes viral. See `spike --help`.
package main

import (
	"os"
	"runtime/debug"
)

func main() {
	if os.Getenv("GOGC") == "" {
		// spike's live heap is a few megabytes, so the default GOGC=100
		// collects every few megabytes of per-request garbage: at 1,000
		// req/s twice a second, each collection delaying the pacer on a
		// busy CPU. A 4x heap goal keeps memory small and halves the
		// collections' share of send lag.
		debug.SetGCPercent(400)
	}
	os.Exit(Main())
}
