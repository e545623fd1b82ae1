package scenarios

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"text/template"
	"text/template/parse"
)

// Vars are the per-request values a template can use:
//
//	{{.Seq}}            the request's sequence number (0, 1, 2, …)
//	{{.RandInt 1 100}}  a random integer in [1, 100]
//	{{.UUID}}           a random version-4 UUID
//	{{.User}}           a user id drawn from a pool of options.users ids (1…users)
//	{{env "NAME"}}      the environment variable NAME (for secrets: tokens, cookies);
//	                    loading fails, naming it, when it is not set
//	{{.Vars.token}}     in a journey, the session's variable token, extracted
//	                    by an earlier step
//
// A Vars is not safe for concurrent use; the engine renders under a lock.
type Vars struct {
	Seq uint64
	// Vars are the session's variables (journeys only).
	Vars  map[string]string
	rng   *rand.Rand
	users int
}

// NewVars returns Vars drawing from rng, with a user pool of size users.
func NewVars(rng *rand.Rand, users int) *Vars {
	if users < 1 {
		users = 1
	}
	return &Vars{rng: rng, users: users}
}

// RandInt returns a random integer in [lo, hi].
func (v *Vars) RandInt(lo, hi int) (int, error) {
	if hi < lo {
		return 0, fmt.Errorf("RandInt %d %d: the first bound must not exceed the second", lo, hi)
	}
	// hi-lo+1 overflows int for the widest ranges, so count in uint64; for
	// other ranges this draws exactly what IntN(hi-lo+1) would.
	span := uint64(hi) - uint64(lo) + 1
	if span == 0 {
		return int(v.rng.Uint64()), nil
	}
	return lo + int(v.rng.Uint64N(span)), nil
}

// UUID returns a random version-4 UUID drawn from the run's seeded generator.
func (v *Vars) UUID() string {
	var b [16]byte
	x, y := v.rng.Uint64(), v.rng.Uint64()
	for i := 0; i < 8; i++ {
		b[i] = byte(x >> (8 * i))
		b[8+i] = byte(y >> (8 * i))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// User returns a user id in [1, users].
func (v *Vars) User() int { return 1 + v.rng.IntN(v.users) }

// Text is a string that may be a template. Text without template actions
// renders to itself at no cost.
type Text struct {
	raw  string
	tmpl *template.Template
}

func compileText(name, s string) (Text, error) {
	if !strings.Contains(s, "{{") {
		return Text{raw: s}, nil
	}
	t, err := template.New(name).Funcs(template.FuncMap{"env": env}).Option("missingkey=error").Parse(s)
	if err != nil {
		return Text{}, cleanTemplateErr(err)
	}
	return Text{raw: s, tmpl: t}, nil
}

// env is the template function {{env "NAME"}}: the value of an environment
// variable, so secrets stay out of scenario files. An unset variable is an
// error, which the loader reports when it renders each template once.
func env(name string) (string, error) {
	v, ok := os.LookupEnv(name)
	if !ok {
		return "", fmt.Errorf("environment variable %s is not set", name)
	}
	return v, nil
}

func cleanTemplateErr(err error) error {
	msg := err.Error()
	// text/template prefixes "template: NAME:LINE:" — keep only the reason.
	if i := strings.LastIndex(msg, ": "); i >= 0 && strings.HasPrefix(msg, "template: ") {
		msg = msg[i+2:]
	}
	return fmt.Errorf("bad template: %s", msg)
}

// VarsUsed returns the session variables the text names as {{.Vars.name}},
// sorted, each once: what earlier steps of a journey must extract.
func (t Text) VarsUsed() []string {
	if t.tmpl == nil {
		return nil
	}
	seen := map[string]bool{}
	for _, tt := range t.tmpl.Templates() {
		if tt.Tree != nil {
			varsIn(tt.Tree.Root, seen)
		}
	}
	out := make([]string, 0, len(seen))
	for name := range seen {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// varsIn adds to seen the names of the .Vars.name fields under n. A field
// read with another dot ({{with .Vars}}{{.name}}{{end}}) is not seen here;
// rendering with missingkey=error still refuses it.
func varsIn(n parse.Node, seen map[string]bool) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			varsIn(c, seen)
		}
	case *parse.ActionNode:
		varsIn(n.Pipe, seen)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			varsIn(c, seen)
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			varsIn(a, seen)
		}
	case *parse.FieldNode:
		if len(n.Ident) >= 2 && n.Ident[0] == "Vars" {
			seen[n.Ident[1]] = true
		}
	case *parse.ChainNode:
		varsIn(n.Node, seen)
	case *parse.IfNode:
		varsInBranch(&n.BranchNode, seen)
	case *parse.RangeNode:
		varsInBranch(&n.BranchNode, seen)
	case *parse.WithNode:
		varsInBranch(&n.BranchNode, seen)
	case *parse.TemplateNode:
		varsIn(n.Pipe, seen)
	}
}

func varsInBranch(b *parse.BranchNode, seen map[string]bool) {
	varsIn(b.Pipe, seen)
	varsIn(b.List, seen)
	varsIn(b.ElseList, seen)
}

// Raw returns the text as written.
func (t Text) Raw() string { return t.raw }

// IsTemplate reports whether the text has template actions.
func (t Text) IsTemplate() bool { return t.tmpl != nil }

// Render writes the text for v into buf (which it resets) and returns it.
func (t Text) Render(v *Vars, buf *bytes.Buffer) (string, error) {
	if t.tmpl == nil {
		return t.raw, nil
	}
	buf.Reset()
	if err := t.tmpl.Execute(buf, v); err != nil {
		return "", cleanTemplateErr(err)
	}
	return buf.String(), nil
}

// Header is one request header whose value may be a template.
type Header struct {
	Key   string
	Value Text
}

// Request is one request of the mix, compiled.
type Request struct {
	// Name identifies the request in results.
	Name string
	// Method is the HTTP method.
	Method string
	// URL is the request URL (absolute once the target is known).
	URL Text
	// Headers are sent with each request, in key order.
	Headers []Header
	// Body is the request body.
	Body Text
	// Weight is the request's share of the mix (not normalised).
	Weight float64
	// Layer is the layer the scenario tags the request with, or "".
	Layer string
	// Expect lists the statuses that count as success; empty means 2xx/3xx.
	Expect []int
}

// OK reports whether status counts as success for the request.
func (r *Request) OK(status int) bool {
	if len(r.Expect) == 0 {
		return status >= 200 && status < 400
	}
	for _, s := range r.Expect {
		if s == status {
			return true
		}
	}
	return false
}

// Mix picks requests by weight.
type Mix struct {
	reqs []*Request
	cum  []float64
	// cycle is the interleaved order of one cycle of the weights (nil
	// until Interleave).
	cycle []int
}

// NewMix builds a chooser over reqs; weights must sum to more than zero.
func NewMix(reqs []*Request) *Mix {
	m := &Mix{reqs: reqs, cum: make([]float64, len(reqs))}
	sum := 0.0
	for i, r := range reqs {
		sum += r.Weight
		m.cum[i] = sum
	}
	return m
}

// maxCycle bounds an interleaved cycle: weights are scaled to integers
// summing to at most this many requests.
const maxCycle = 1000

// Interleave prepares At: one cycle of smooth weighted round-robin over
// the weights scaled to integers (at most maxCycle requests; a request
// keeps at least one slot), so that every cycle holds each request's exact
// share, spread evenly.
func (m *Mix) Interleave() {
	total := m.cum[len(m.cum)-1]
	scale := 1.0
	if total > maxCycle || anyFraction(m.reqs) {
		scale = maxCycle / total
	}
	w := make([]int, len(m.reqs))
	n := 0
	for i, r := range m.reqs {
		w[i] = max(1, int(math.Round(r.Weight*scale)))
		n += w[i]
	}
	g := gcdAll(w)
	for i := range w {
		w[i] /= g
	}
	n /= g
	cur := make([]int, len(w))
	m.cycle = make([]int, 0, n)
	for range n {
		best := 0
		for i := range w {
			cur[i] += w[i]
			if cur[i] > cur[best] {
				best = i
			}
		}
		cur[best] -= n
		m.cycle = append(m.cycle, best)
	}
}

// Cycle returns the length of an interleaved cycle (0 before Interleave).
func (m *Mix) Cycle() int { return len(m.cycle) }

// At returns the index of request k's kind in an interleaved mix (see
// Interleave): a pure function of k.
func (m *Mix) At(k uint64) int { return m.cycle[k%uint64(len(m.cycle))] }

func anyFraction(reqs []*Request) bool {
	for _, r := range reqs {
		if r.Weight != math.Trunc(r.Weight) {
			return true
		}
	}
	return false
}

func gcdAll(v []int) int {
	g := 0
	for _, x := range v {
		for x != 0 {
			g, x = x, g%x
		}
	}
	return max(g, 1)
}

// Pick returns the index of a request chosen by weight using rng.
func (m *Mix) Pick(rng *rand.Rand) int {
	if len(m.cum) == 1 {
		return 0
	}
	x := rng.Float64() * m.cum[len(m.cum)-1]
	lo, hi := 0, len(m.cum)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if m.cum[mid] > x {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}
