package engine

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/spikeload/spike/scenarios"
)

// fragmentKey tags each request's URL fragment with its index in the mix.
// A URL fragment is never sent over HTTP, so the target sees nothing extra,
// yet vegeta copies the URL into its Result and the recorder can attribute
// every result, failures included, to its request name.
const fragmentKey = "#spike-req="

// targeter picks requests from the mix by weight and renders their
// templates. Request k of the plan (counting from 0) is a pure function of
// the seed and k: its mix pick and template values come from a generator
// seeded with both, so any shard renders request k exactly as a single run
// would, whichever worker asks for it and in whatever order. It is safe for
// concurrent use (vegeta calls it from many workers); a mutex guards the
// generator and the render buffer.
type targeter struct {
	mu   sync.Mutex
	seed uint64
	src  *rand.PCG
	rng  *rand.Rand
	mix  *scenarios.Mix
	// interleaved picks request k's kind by Mix.At (options.mix).
	interleaved bool
	reqs        []*compiled
	vars        *scenarios.Vars
	buf         bytes.Buffer
	shard       Shard
	calls       atomic.Uint64
}

type compiled struct {
	req     *scenarios.Request
	base    string // target base URL, no trailing slash
	url     string // static URL with fragment, when the URL has no template
	header  http.Header
	dynamic bool // some header value is a template
	body    []byte
}

// defaultAcceptEncoding is sent unless the scenario sets Accept-Encoding,
// as a browser would.
const defaultAcceptEncoding = "gzip, deflate, br"

func newTargeter(plan *scenarios.Plan, target string, seed int64, shard Shard) (*targeter, error) {
	if len(plan.Requests) == 0 {
		return nil, errNoRequests
	}
	src := rand.NewPCG(uint64(seed), 0x5ba1e)
	rng := rand.New(src)
	t := &targeter{seed: uint64(seed), src: src, rng: rng, mix: scenarios.NewMix(plan.Requests), vars: scenarios.NewVars(rng, plan.Options.Users), shard: shard}
	if plan.Options.Mix == scenarios.MixInterleaved {
		t.mix.Interleave()
		t.interleaved = true
	}
	base := strings.TrimRight(target, "/")
	for i, r := range plan.Requests {
		// Checked at load too; here for plans built without a target, or
		// whose target was set later: nothing leaves for another host
		// unless allow_hosts names it.
		if msg := scenarios.CheckURLHost(r.URL.Raw(), base, plan.AllowHosts); msg != "" {
			return nil, fmt.Errorf("request %s: url %s", r.Name, msg)
		}
		c := &compiled{req: r, base: base, header: http.Header{}}
		for _, h := range r.Headers {
			if h.Value.IsTemplate() {
				c.dynamic = true
			} else {
				c.header.Add(h.Key, h.Value.Raw())
			}
		}
		if c.header.Get("Accept-Encoding") == "" && !hasHeader(r, "Accept-Encoding") {
			c.header.Set("Accept-Encoding", defaultAcceptEncoding)
		}
		if !r.URL.IsTemplate() {
			c.url = joinURL(base, r.URL.Raw()) + fragmentKey + strconv.Itoa(i) + "."
		}
		if !r.Body.IsTemplate() && r.Body.Raw() != "" {
			c.body = []byte(r.Body.Raw())
		}
		t.reqs = append(t.reqs, c)
	}
	return t, nil
}

func hasHeader(r *scenarios.Request, key string) bool {
	for _, h := range r.Headers {
		if strings.EqualFold(h.Key, key) {
			return true
		}
	}
	return false
}

// joinURL makes u absolute against base unless it already is.
func joinURL(base, u string) string {
	if strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") {
		return u
	}
	if !strings.HasPrefix(u, "/") {
		u = "/" + u
	}
	return base + u
}

// Targeter returns the vegeta.Targeter. Its j-th call renders the shard's
// j-th request, plan index shard.Global(j).
func (t *targeter) Targeter() vegeta.Targeter {
	return func(tgt *vegeta.Target) error {
		k := t.shard.Global(t.calls.Add(1) - 1)
		t.mu.Lock()
		defer t.mu.Unlock()
		return t.render(k, tgt)
	}
}

// splitmix64 is SplitMix64's output function: it spreads consecutive
// request indexes over the generator's seed space.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// render fills tgt with request k of the plan. The URL carries the mix
// index and k in its fragment ("#spike-req=i.k"), for the recorder. It must
// be called with t.mu held.
func (t *targeter) render(k uint64, tgt *vegeta.Target) error {
	t.src.Seed(t.seed, splitmix64(k))
	var i int
	if t.interleaved {
		i = t.mix.At(k)
	} else {
		i = t.mix.Pick(t.rng)
	}
	t.vars.Seq = k
	return t.renderReq(i, k, tgt)
}

// renderReq fills tgt with request i of the mix, tagged with k, rendering
// its templates with t.vars. It must be called with t.mu held.
func (t *targeter) renderReq(i int, k uint64, tgt *vegeta.Target) error {
	c := t.reqs[i]
	tgt.Method = c.req.Method
	// k is formatted on the stack: the concatenation is the one allocation.
	var nb [20]byte
	num := strconv.AppendUint(nb[:0], k, 10)
	if c.url != "" {
		tgt.URL = c.url + string(num)
	} else {
		u, err := c.req.URL.Render(t.vars, &t.buf)
		if err != nil {
			return fmt.Errorf("request %q: url: %w", c.req.Name, err)
		}
		// Drop any fragment of the user's: ours must be the last one.
		if j := strings.IndexByte(u, '#'); j >= 0 {
			u = u[:j]
		}
		tgt.URL = joinURL(c.base, u) + fragmentKey + strconv.Itoa(i) + "." + string(num)
	}
	tgt.Header = c.header
	if c.dynamic {
		h := c.header.Clone()
		for _, hd := range c.req.Headers {
			if hd.Value.IsTemplate() {
				v, err := hd.Value.Render(t.vars, &t.buf)
				if err != nil {
					return fmt.Errorf("request %q: header %s: %w", c.req.Name, hd.Key, err)
				}
				h.Set(hd.Key, v)
			}
		}
		tgt.Header = h
	}
	tgt.Body = c.body
	if c.req.Body.IsTemplate() {
		b, err := c.req.Body.Render(t.vars, &t.buf)
		if err != nil {
			return fmt.Errorf("request %q: body: %w", c.req.Name, err)
		}
		tgt.Body = []byte(b)
	}
	return nil
}

// requestIndex recovers the mix index and the plan index k from a URL
// tagged by the targeter; req is -1 when the URL carries no tag.
func requestIndex(u string) (req int, k uint64) {
	i := strings.LastIndex(u, fragmentKey)
	if i < 0 {
		return -1, 0
	}
	a, b, ok := strings.Cut(u[i+len(fragmentKey):], ".")
	if !ok {
		return -1, 0
	}
	n, err1 := strconv.Atoi(a)
	k, err2 := strconv.ParseUint(b, 10, 64)
	if err1 != nil || err2 != nil {
		return -1, 0
	}
	return n, k
}
