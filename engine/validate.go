package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spikeload/spike/hist"
	"github.com/spikeload/spike/scenarios"
)

// MaxResultSize is the largest result.json ReadFile reads, in bytes: about
// 80 hours of one-second windows for a mix of ten requests.
const MaxResultSize = 1 << 30

// ReadFile reads and validates a result written by WriteFile. The size is
// checked while reading (MaxResultSize), and a result whose figures cannot be
// trusted (see Validate) is refused.
func ReadFile(path string) (*Result, error) { return readFile(path, MaxResultSize) }

func readFile(path string, limit int64) (*Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read result: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() > limit {
		return nil, fmt.Errorf("read result: %w", &scenarios.SizeError{Path: path, Limit: limit})
	}
	return readResult(path, f, limit)
}

// readResult decodes a result from r, at most limit bytes. Decoding from
// the stream refuses what is not JSON at its first byte (/dev/zero, a binary
// file) instead of reading it up to the limit.
func readResult(name string, r io.Reader, limit int64) (*Result, error) {
	cr := &countingReader{r: io.LimitReader(r, limit+1)}
	return decodeResult(name, cr, func() error {
		if cr.n > limit {
			return fmt.Errorf("read result: %w", &scenarios.SizeError{Path: name, Limit: limit})
		}
		return nil
	})
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// ParseResult decodes and validates a result; name is used in errors.
func ParseResult(name string, data []byte) (*Result, error) {
	return decodeResult(name, bytes.NewReader(data), func() error { return nil })
}

// decodeResult decodes one JSON result from r and validates it; tooBig
// says whether a decoding error was the size bound's doing.
func decodeResult(name string, r io.Reader, tooBig func() error) (*Result, error) {
	var res Result
	dec := json.NewDecoder(r)
	if err := dec.Decode(&res); err != nil {
		if big := tooBig(); big != nil {
			return nil, big
		}
		return nil, fmt.Errorf("read result %s: not a spike result: %w", name, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if big := tooBig(); big != nil {
			return nil, big
		}
		return nil, fmt.Errorf("read result %s: not a spike result: data after the result", name)
	}
	if res.Schema == 0 {
		return nil, fmt.Errorf("read result %s: not a spike result (no schema version)", name)
	}
	if res.Schema > SchemaVersion {
		return nil, fmt.Errorf("read result %s: schema version %d is newer than this spike understands (%d); upgrade spike", name, res.Schema, SchemaVersion)
	}
	if err := res.Validate(); err != nil {
		return nil, fmt.Errorf("read result %s: %w", name, err)
	}
	return &res, nil
}

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
		return fmt.Errorf("plan.window_ns: must be > 0, got %d", r.Plan.Window)
	}
	for i, w := range r.Windows {
		at := fmt.Sprintf("windows[%d]", i)
		if w.Start < 0 || w.End <= w.Start {
			return fmt.Errorf("%s: ends at %s, not after its start %s (start_ns %d, end_ns %d)", at, w.End, w.Start, w.Start, w.End)
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
