package scenarios

import (
	"fmt"
	"sort"
	"time"
)

// Preset is a named traffic shape modelled on a real event.
type Preset struct {
	// Name is how a scenario refers to it (`shape: producthunt`).
	Name string
	// Summary is one line on what real event it models.
	Summary string
	// Peak is the default peak, as a multiple of the baseline.
	Peak float64
	// Duration is the default length of a run.
	Duration time.Duration
	// build lays out segments for a baseline b, peak p (req/s) and length d.
	build func(b, p float64, d time.Duration) []Segment
}

// Segments resolves the preset for a baseline and peak in req/s and a length.
func (p Preset) Segments(baseline, peak float64, d time.Duration) []Segment {
	return p.build(baseline, peak, d)
}

func frac(d time.Duration, f float64) time.Duration {
	return time.Duration(float64(d) * f).Round(time.Millisecond)
}

func hold(r float64, d time.Duration) Segment {
	return Segment{Kind: "hold", From: r, To: r, Duration: d}
}

func ramp(from, to float64, d time.Duration) Segment {
	return Segment{Kind: "ramp", From: from, To: to, Duration: d}
}

func decay(from, to float64, half, d time.Duration) Segment {
	return Segment{Kind: "decay", From: from, To: to, HalfLife: half, Duration: d}
}

// spikeRise is how fast presets' near-instant jumps happen.
const spikeRise = time.Second

// rest returns what remains of d after the given parts.
func rest(d time.Duration, parts ...time.Duration) time.Duration {
	for _, p := range parts {
		d -= p
	}
	if d < 0 {
		return 0
	}
	return d
}

// presets returns the built-in shapes. It builds a new map on each call so
// no package-level state can be changed by callers.
func presets() map[string]Preset {
	list := []Preset{
		{
			Name:     "producthunt",
			Summary:  "launch day: a quiet start, a climb as the post reaches the front page, a plateau at the top, then a long tail",
			Peak:     8,
			Duration: 2 * time.Minute,
			build: func(b, p float64, d time.Duration) []Segment {
				q, climb, top := frac(d, 0.10), frac(d, 0.40), frac(d, 0.20)
				tail := rest(d, q, climb, top)
				return []Segment{hold(b, q), ramp(b, p, climb), hold(p, top), decay(p, b, frac(d, 0.08), tail)}
			},
		},
		{
			Name:     "burst",
			Summary:  "a 500% burst: normal traffic, a sudden jump to 5x (a push notification, a TV mention) that holds, then back to normal",
			Peak:     5,
			Duration: time.Minute,
			build: func(b, p float64, d time.Duration) []Segment {
				pre, top := frac(d, 0.25), frac(d, 0.40)
				post := rest(d, pre, spikeRise, top, spikeRise)
				return []Segment{hold(b, pre), ramp(b, p, spikeRise), hold(p, top), ramp(p, b, spikeRise), hold(b, post)}
			},
		},
		{
			Name:     "viral",
			Summary:  "a tweet goes viral: an instant jump to the peak as it spreads, then a fast exponential fall-off",
			Peak:     10,
			Duration: 2 * time.Minute,
			build: func(b, p float64, d time.Duration) []Segment {
				pre := frac(d, 0.10)
				tail := rest(d, pre, spikeRise)
				return []Segment{hold(b, pre), ramp(b, p, spikeRise), decay(p, b, frac(d, 0.12), tail)}
			},
		},
		{
			Name:     "newsletter",
			Summary:  "a newsletter send: opens arrive over the first minutes after the send, peak quickly, then decay over the hours after",
			Peak:     4,
			Duration: 2 * time.Minute,
			build: func(b, p float64, d time.Duration) []Segment {
				pre, rise := frac(d, 0.10), frac(d, 0.08)
				tail := rest(d, pre, rise)
				return []Segment{hold(b, pre), ramp(b, p, rise), decay(p, b, frac(d, 0.20), tail)}
			},
		},
		{
			Name:     "hackernews",
			Summary:  "a Hacker News front page: a steady climb while the post rises, hours on the front page, then a slow slide off it",
			Peak:     6,
			Duration: 2 * time.Minute,
			build: func(b, p float64, d time.Duration) []Segment {
				pre, climb, top := frac(d, 0.05), frac(d, 0.25), frac(d, 0.30)
				tail := rest(d, pre, climb, top)
				return []Segment{hold(b, pre), ramp(b, p, climb), hold(p, top), decay(p, b, frac(d, 0.15), tail)}
			},
		},
		{
			Name:     "tenx",
			Summary:  "\"10x tomorrow\": a ladder of equal steps from 1x to the peak, to see which step breaks first",
			Peak:     10,
			Duration: 2 * time.Minute,
			build: func(b, p float64, d time.Duration) []Segment {
				const steps = 10
				var segs []Segment
				step := d / steps
				for i := 0; i < steps; i++ {
					r := b + (p-b)*float64(i)/float64(steps-1)
					segs = append(segs, hold(r, step))
				}
				return segs
			},
		},
		{
			Name:     "ramp",
			Summary:  "the classic breakpoint test: one straight ramp from the baseline to the peak",
			Peak:     10,
			Duration: 2 * time.Minute,
			build: func(b, p float64, d time.Duration) []Segment {
				return []Segment{ramp(b, p, d)}
			},
		},
	}
	m := make(map[string]Preset, len(list))
	for _, p := range list {
		m[p.Name] = p
	}
	return m
}

// Presets returns the built-in shapes, sorted by name.
func Presets() []Preset {
	m := presets()
	out := make([]Preset, 0, len(m))
	for _, p := range m {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// LookupPreset returns the preset with the given name.
func LookupPreset(name string) (Preset, error) {
	p, ok := presets()[name]
	if !ok {
		names := make([]string, 0)
		for _, q := range Presets() {
			names = append(names, q.Name)
		}
		return Preset{}, fmt.Errorf("unknown preset %q (known: %v)", name, names)
	}
	return p, nil
}
