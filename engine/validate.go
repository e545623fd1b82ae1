package engine

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/spikeload/spike/hist"
)

// Validate checks what every reader of a result relies on: windows that end
// after they start, in time order, with a positive window length;
// histograms that decode; counts that add up. It names the first problem by
// its JSON path.
func (r *Result) Validate() error {
	var d hist.Decoder
	if !r.Meta.Ended.IsZero() && r.Meta.Ended.Before(r.Meta.Started) {
		return fmt.Errorf("meta: ended %s before it started %s", r.Meta.Ended.Format("15:04:05"), r.Meta.Started.Format("15:04:05"))
	}
	if len(r.Windows) > 0 && r.Plan.Window <= 0 {
		return fmt.Errorf("plan.window_ms: must be > 0, got %s", fmtMs(r.Plan.Window))
	}
	for i, w := range r.Windows {
		at := fmt.Sprintf("windows[%d]", i)
		if w.Start < 0 || w.End <= w.Start {
			return fmt.Errorf("%s: ends at %s, not after its start %s (start_ms %s, end_ms %s)", at, w.End, w.Start, fmtMs(w.Start), fmtMs(w.End))
		}
		if i > 0 && w.Start < r.Windows[i-1].Start {
			return fmt.Errorf("%s: starts at %s, before windows[%d] (%s)", at, w.Start, i-1, r.Windows[i-1].Start)
		}
		if w.OK+w.Errors > w.Sent && w.Sent > 0 {
			return fmt.Errorf("%s: ok %d + errors %d is more than the %d sent", at, w.OK, w.Errors, w.Sent)
		}
		if err := checkHist(&d, at+".latency", w.Latency); err != nil {
			return err
		}
		for name, wr := range w.Requests {
			if wr == nil {
				return fmt.Errorf("%s.requests[%q]: null", at, name)
			}
			if err := checkHist(&d, fmt.Sprintf("%s.requests[%q].latency", at, name), wr.Latency); err != nil {
				return err
			}
		}
	}
	for i, t := range r.Requests {
		if err := checkHist(&d, fmt.Sprintf("requests[%d].latency", i), t.Latency); err != nil {
			return err
		}
	}
	return nil
}

// fmtMs formats d as result.json writes it, in milliseconds.
func fmtMs(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', -1, 64) }

// errCorruptHist wraps every histogram decoding failure.
var errCorruptHist = errors.New("corrupt histogram")

func checkHist(d *hist.Decoder, at string, l LatencyStats) error {
	if l.Hist == "" {
		return nil
	}
	if _, _, err := d.Decode(l.Hist); err != nil {
		return fmt.Errorf("%s.hist: %w: %v", at, errCorruptHist, err)
	}
	return nil
}
