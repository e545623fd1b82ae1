package scenarios

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// Segment is one piece of a resolved rate curve. Rates are requests per
// second; times are offsets from the start of the run, after time scaling.
// In JSON the times are start_ms, duration_ms, half_life_ms and period_ms
// (see Millis), the rates from_rps, to_rps, low_rps and high_rps.
type Segment struct {
	// Kind is the stage kind it came from: ramp, hold, spike, decay or wave.
	Kind string `json:"kind"`
	// Start is the segment's offset from the start of the run.
	Start time.Duration `json:"-"`
	// Duration is the segment's length.
	Duration time.Duration `json:"-"`
	// From and To are the rates at the ends of a ramp, hold or decay (a
	// decay approaches To; it reaches it only after many half-lives).
	From float64 `json:"from_rps"`
	To   float64 `json:"to_rps"`
	// HalfLife is a decay's half-life.
	HalfLife time.Duration `json:"-"`
	// Low, High and Period describe a wave, which starts at Low.
	Low    float64       `json:"low_rps,omitempty"`
	High   float64       `json:"high_rps,omitempty"`
	Period time.Duration `json:"-"`

	before float64 // requests planned before this segment
}

func (s *Segment) dur() float64 { return s.Duration.Seconds() }

// rate returns r(u), u seconds into the segment.
func (s *Segment) rate(u float64) float64 {
	switch s.Kind {
	case "decay":
		lambda := math.Ln2 / s.HalfLife.Seconds()
		return s.To + (s.From-s.To)*math.Exp(-lambda*u)
	case "wave":
		w := 2 * math.Pi / s.Period.Seconds()
		return s.Low + (s.High-s.Low)*(1-math.Cos(w*u))/2
	default:
		d := s.dur()
		if d == 0 {
			return s.To
		}
		return s.From + (s.To-s.From)*u/d
	}
}

// integral returns the requests planned in the first u seconds of the segment.
func (s *Segment) integral(u float64) float64 {
	switch s.Kind {
	case "decay":
		lambda := math.Ln2 / s.HalfLife.Seconds()
		return s.To*u + (s.From-s.To)/lambda*(-math.Expm1(-lambda*u))
	case "wave":
		w := 2 * math.Pi / s.Period.Seconds()
		return s.Low*u + (s.High-s.Low)/2*(u-math.Sin(w*u)/w)
	default:
		d := s.dur()
		if d == 0 {
			return 0
		}
		k := (s.To - s.From) / d
		return s.From*u + k*u*u/2
	}
}

// inverse returns u such that integral(u) = n, for 0 <= n <= integral(dur).
func (s *Segment) inverse(n float64) float64 {
	d := s.dur()
	if n <= 0 {
		return 0
	}
	if s.Kind != "decay" && s.Kind != "wave" {
		a := s.From
		k := (s.To - s.From) / d
		if math.Abs(k)*d < 1e-12*math.Max(1, a) {
			return math.Min(n/a, d)
		}
		disc := a*a + 2*k*n
		if disc < 0 {
			disc = 0
		}
		// The form 2n/(a+sqrt(a²+2kn)) avoids cancellation when k is small.
		den := a + math.Sqrt(disc)
		if den <= 0 {
			return d
		}
		return math.Min(2*n/den, d)
	}
	// Safeguarded Newton on the monotone integral.
	lo, hi := 0.0, d
	u := d * n / s.integral(d)
	for i := 0; i < 60; i++ {
		if u <= lo || u >= hi || math.IsNaN(u) {
			u = (lo + hi) / 2
		}
		f := s.integral(u) - n
		if math.Abs(f) < 1e-9 {
			break
		}
		if f > 0 {
			hi = u
		} else {
			lo = u
		}
		if hi-lo < 1e-12 {
			break
		}
		if r := s.rate(u); r > 0 {
			u -= f / r
		} else {
			u = (lo + hi) / 2
		}
	}
	return u
}

// Curve is a run's planned request rate r(t), made of segments laid end to
// end. The i-th request (counting from 0) is planned at the time T(i) where
// the curve's integral reaches i, so any window [a, b) holds exactly the
// requests i with N(a) <= i < N(b): the planned area to within ±1.
//
// A Curve is immutable after construction and safe for concurrent use.
type Curve struct {
	segs  []Segment
	total float64 // integral over the whole curve
	dur   time.Duration
}

// StopGrace is how far past the curve's end a lagging generator may still
// send; requests not sent by then are dropped and show as unsent.
const StopGrace = time.Second

// NewCurve lays the segments end to end (their Start fields are recomputed).
func NewCurve(segs []Segment) (*Curve, error) {
	c := &Curve{segs: make([]Segment, len(segs))}
	var at time.Duration
	before := 0.0
	for i, s := range segs {
		if s.Duration < 0 {
			return nil, fmt.Errorf("segment %d: negative duration %s", i, s.Duration)
		}
		if s.Duration > math.MaxInt64-at {
			return nil, fmt.Errorf("segment %d: the curve is too long", i)
		}
		// A zero half-life or period would make the rate NaN.
		if s.Kind == "decay" && s.HalfLife <= 0 {
			return nil, fmt.Errorf("segment %d: decay half-life must be > 0, got %s", i, s.HalfLife)
		}
		if s.Kind == "wave" && s.Period <= 0 {
			return nil, fmt.Errorf("segment %d: wave period must be > 0, got %s", i, s.Period)
		}
		s.Start = at
		s.before = before
		before += s.integral(s.dur())
		at += s.Duration
		c.segs[i] = s
	}
	c.total = before
	c.dur = at
	return c, nil
}

// Segments returns a copy of the curve's segments.
func (c *Curve) Segments() []Segment { return append([]Segment(nil), c.segs...) }

// Duration returns the curve's length.
func (c *Curve) Duration() time.Duration { return c.dur }

// Total returns the number of requests the curve plans.
func (c *Curve) Total() uint64 { return countBelow(c.total) }

// countBelow returns how many whole requests i satisfy i < n (n >= 0),
// forgiving float noise just above an integer.
func countBelow(n float64) uint64 {
	if n <= 0 {
		return 0
	}
	return uint64(math.Ceil(n - 1e-7))
}

func (c *Curve) find(t time.Duration) int {
	i := sort.Search(len(c.segs), func(i int) bool { return c.segs[i].Start+c.segs[i].Duration > t })
	if i == len(c.segs) {
		i = len(c.segs) - 1
	}
	return i
}

// RateAt returns the planned rate at offset t, in requests per second.
func (c *Curve) RateAt(t time.Duration) float64 {
	if len(c.segs) == 0 || t < 0 || t >= c.dur {
		return 0
	}
	s := &c.segs[c.find(t)]
	return s.rate((t - s.Start).Seconds())
}

// Integral returns N(t): the requests planned in [0, t).
func (c *Curve) Integral(t time.Duration) float64 {
	if len(c.segs) == 0 || t <= 0 {
		return 0
	}
	if t >= c.dur {
		return c.total
	}
	s := &c.segs[c.find(t)]
	return s.before + s.integral((t - s.Start).Seconds())
}

// plannedBefore returns how many requests are planned in [0, t): the
// i < Total() with i < N(t), forgiving float noise just above an integer
// (such as N landing on 75.000000000000003 at a wave's trough). The
// allowance is far above N's rounding error, yet so small against the rate
// that it moves no request by as much as a nanosecond in ordinary curves.
func (c *Curve) plannedBefore(t time.Duration) uint64 {
	if t >= c.dur {
		return c.Total() // settle relies on it
	}
	n := c.Integral(t) - 1e-12*max(1, c.total)
	if n <= 0 {
		return 0
	}
	return min(uint64(math.Ceil(n)), c.Total())
}

// PlannedIn returns how many requests are planned in [a, b).
func (c *Curve) PlannedIn(a, b time.Duration) uint64 {
	na, nb := c.plannedBefore(a), c.plannedBefore(b)
	if nb < na {
		return 0
	}
	return nb - na
}

// TimeOf returns T(i), the planned send time of request i (counting from 0).
// For i >= Total() it returns the curve's duration.
func (c *Curve) TimeOf(i uint64) time.Duration {
	n := float64(i)
	if i >= c.Total() || len(c.segs) == 0 {
		return c.dur
	}
	// The first segment whose end count exceeds n holds T(i); segments with
	// zero rate (empty area) are never chosen, so they are skipped over.
	k := sort.Search(len(c.segs), func(k int) bool {
		s := &c.segs[k]
		return s.before+s.integral(s.dur()) > n
	})
	if k == len(c.segs) {
		return c.dur
	}
	s := &c.segs[k]
	u := s.inverse(n - s.before)
	return c.settle(i, s.Start+time.Duration(u*float64(time.Second)))
}

// settle turns t, an estimate of T(i) from the inverse, into the last
// nanosecond t with N(t) <= i (give or take plannedBefore's allowance for
// float noise). Subtleness ahead! The inverse and the integral round
// differently, so an estimate can land a nanosecond on the wrong side of a
// window edge where N is (nearly) an integer; settling on N itself makes
// "TimeOf(i) in [a, b)" agree exactly with PlannedIn(a, b). It needs
// i < Total(), so that the curve's end counts i (and 0 never does): both
// gallops then stop.
func (c *Curve) settle(i uint64, t time.Duration) time.Duration {
	due := func(t time.Duration) bool { return c.plannedBefore(t) > i }
	t = min(max(t, 0), c.dur)
	// Gallop away from t to bracket the edge: !due(lo) and due(hi).
	lo, hi := t, t
	if due(t) {
		for step := time.Duration(1); due(lo); step *= 2 {
			hi, lo = lo, max(lo-step, 0)
		}
	} else {
		for step := time.Duration(1); !due(hi); step *= 2 {
			lo, hi = hi, min(hi+step, c.dur)
		}
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if due(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return lo
}

// Peak returns the highest planned rate and when it is first reached.
func (c *Curve) Peak() (rate float64, at time.Duration) {
	for _, s := range c.segs {
		// Candidates in time order, so the first time the peak is reached wins.
		cand := []float64{0}
		// A wave first tops out half a period in; later crests are no higher.
		if s.Kind == "wave" && s.Period > 0 && s.Period.Seconds()/2 < s.dur() {
			cand = append(cand, s.Period.Seconds()/2)
		}
		cand = append(cand, s.dur())
		for _, u := range cand {
			if r := s.rate(u); r > rate+1e-9 {
				rate, at = r, s.Start+time.Duration(u*float64(time.Second))
			}
		}
	}
	return rate, at
}

// Pace implements vegeta's Pacer: it returns how long to wait before sending
// request number hits (counting from 0), and stops once every planned
// request has been sent or the generator has fallen more than StopGrace
// behind the curve's end.
func (c *Curve) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if hits >= c.Total() || elapsed > c.dur+StopGrace {
		return 0, true
	}
	wait := c.TimeOf(hits) - elapsed
	if wait < 0 {
		wait = 0
	}
	return wait, false
}

// Rate implements vegeta's Pacer: the planned rate at elapsed.
func (c *Curve) Rate(elapsed time.Duration) float64 { return c.RateAt(elapsed) }

// String describes the curve.
func (c *Curve) String() string {
	r, _ := c.Peak()
	return fmt.Sprintf("Curve{%d segments, %s, peak %.1f req/s, %d requests}", len(c.segs), c.dur, r, c.Total())
}
