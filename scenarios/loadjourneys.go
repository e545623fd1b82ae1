package scenarios

import (
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"sort"
	"strings"
	"time"
)

// varNameRE is what a session variable's name looks like: a template field
// name ({{.Vars.name}}).
var varNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// journeys validates and resolves the journeys. It returns every step as a
// request named "journey/step", journey after journey and step after step,
// each weighted by its journey's share of arrivals (every visitor sends
// each step of their journey once, unless they abandon it), and the
// journeys whose steps point into that list.
func (v *validator) journeys(specs []JourneySpec, opts Options) ([]*Request, []*Journey) {
	if len(specs) == 0 {
		v.errf("journeys", "must list at least one journey")
		return nil, nil
	}
	if len(specs) > MaxJourneys {
		v.errf("journeys", "at most %d journeys, got %d", MaxJourneys, len(specs))
		return nil, nil
	}
	var (
		reqs []*Request
		out  []*Journey
		sum  float64
	)
	seen := map[string]int{}
	for i, js := range specs {
		base := fmt.Sprintf("journeys[%d]", i)
		j := &Journey{Name: js.Name, Weight: 1, Cookies: js.Cookies == nil || *js.Cookies}
		switch {
		case strings.TrimSpace(js.Name) == "":
			v.errf(base+".name", "must be set: the journey's name, e.g. name: signup")
		case strings.Contains(js.Name, "/"):
			v.errf(base+".name", "must not hold a slash (steps are recorded as journey/step), got %q", js.Name)
		case controlChar(js.Name) >= 0:
			v.errf(base+".name", "holds a control character: %q", js.Name)
		}
		if k, dup := seen[js.Name]; dup && js.Name != "" {
			v.errf(base+".name", "duplicate journey name %q (also journeys[%d])", js.Name, k)
		}
		seen[js.Name] = i
		if js.Weight != nil {
			w := *js.Weight
			if !(w > 0) || math.IsInf(w, 0) {
				v.errf(base+".weight", "must be > 0, got %v", w)
			} else {
				j.Weight = w
			}
		}
		sum += j.Weight
		switch {
		case len(js.Steps) == 0:
			v.errf(base+".steps", "must list at least one step")
		case len(js.Steps) > MaxSteps:
			v.errf(base+".steps", "at most %d steps in a journey, got %d", MaxSteps, len(js.Steps))
		default:
			j.Steps = v.steps(base, js, opts, len(reqs))
			for _, st := range j.Steps {
				reqs = append(reqs, st.Request)
			}
		}
		out = append(out, j)
	}
	// A step's weight is its share of the request stream: its journey's
	// share of arrivals, each visitor sending the step once.
	if sum > 0 {
		for _, j := range out {
			for _, st := range j.Steps {
				st.Request.Weight = j.Weight / sum
			}
		}
	}
	return reqs, out
}

// steps validates a journey's steps; first is the index in Plan.Requests
// of its first step.
func (v *validator) steps(base string, js JourneySpec, opts Options, first int) []*Step {
	// known holds the variables extracted so far, each with a sample value,
	// so that a step's templates can use only what earlier steps extract.
	known := map[string]string{}
	var out []*Step
	seen := map[string]int{}
	for k, ss := range js.Steps {
		sb := fmt.Sprintf("%s.steps[%d]", base, k)
		vars := NewVars(rand.New(rand.NewPCG(1, 2)), opts.Users)
		vars.Vars = known
		r := v.request(sb, ss.RequestSpec, &scope{vars: vars, journey: js.Name})
		if ss.Weight != nil {
			v.errf(sb+".weight", "a step has no weight: every visitor of the journey sends each step once (weigh the journey instead)")
		}
		if i, dup := seen[r.Name]; dup {
			v.errf(sb+".name", "duplicate step name %q in journey %q (also steps[%d])", r.Name, js.Name, i)
		}
		seen[r.Name] = k
		r.Name = js.Name + "/" + r.Name
		st := &Step{Req: first + k, Request: r}
		if ss.Think != "" {
			t, err := ParseThink(ss.Think)
			switch {
			case err != nil:
				v.errf(sb+".think", "%v", err)
			case t.Min > MaxThink || t.Max > MaxThink:
				v.errf(sb+".think", "must be at most %s, got %q", fmtDur(MaxThink), ss.Think)
			default:
				st.Think = t
			}
		}
		st.Extract = v.extracts(sb+".extract", ss.Extract)
		// Later steps may use what this one extracts, even when an
		// extraction was refused: one mistake, one error.
		next := make(map[string]string, len(known)+len(ss.Extract))
		for name, val := range known {
			next[name] = val
		}
		for name := range ss.Extract {
			next[name] = "x"
		}
		known = next
		out = append(out, st)
	}
	return out
}

// extracts validates a step's extractions at base, in variable name order.
func (v *validator) extracts(base string, specs map[string]ExtractSpec) []Extract {
	if len(specs) > MaxExtracts {
		v.errf(base, "at most %d variables per step, got %d", MaxExtracts, len(specs))
		return nil
	}
	names := make([]string, 0, len(specs))
	for name := range specs {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []Extract
	for _, name := range names {
		path := base + "." + name
		if !varNameRE.MatchString(name) {
			v.errf(path, "variable name must be letters, digits and _ (not starting with a digit), got %q", name)
			continue
		}
		es := specs[name]
		var from, what string
		n := 0
		for _, f := range []struct{ from, what string }{
			{ExtractJSON, es.JSON}, {ExtractHeader, es.Header}, {ExtractCookie, es.Cookie}, {ExtractRegex, es.Regex},
		} {
			if f.what != "" {
				from, what = f.from, f.what
				n++
			}
		}
		if n != 1 {
			v.errf(path, "give exactly one of json, header, cookie, regex; got %d", n)
			continue
		}
		e, err := NewExtract(name, from, what)
		if err != nil {
			v.errf(path+"."+from, "%v", err)
			continue
		}
		out = append(out, e)
	}
	return out
}

// fmtDur writes a duration for a message: 1h rather than 1h0m0s.
func fmtDur(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}
