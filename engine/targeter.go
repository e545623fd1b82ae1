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
// templates. It is safe for concurrent use (vegeta calls it from many
// workers); a mutex guards the seeded generator so runs are reproducible in
// which requests they send, though not in which worker sends them.
type targeter struct {
	mu    sync.Mutex
	rng   *rand.Rand
	mix   *scenarios.Mix
	reqs  []*compiled
	vars  *scenarios.Vars
	buf   bytes.Buffer
	seq   uint64
	calls atomic.Uint64
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

func newTargeter(plan *scenarios.Plan, target string, seed int64) (*targeter, error) {
	if len(plan.Requests) == 0 {
		return nil, errNoRequests
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5ba1e))
	t := &targeter{rng: rng, mix: scenarios.NewMix(plan.Requests), vars: scenarios.NewVars(rng, plan.Options.Users)}
	base := strings.TrimRight(target, "/")
	for i, r := range plan.Requests {
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
			c.url = joinURL(base, r.URL.Raw()) + fragmentKey + strconv.Itoa(i)
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

// Targeter returns the vegeta.Targeter.
func (t *targeter) Targeter() vegeta.Targeter {
	return func(tgt *vegeta.Target) error {
		t.calls.Add(1)
		t.mu.Lock()
		defer t.mu.Unlock()
		i := t.mix.Pick(t.rng)
		c := t.reqs[i]
		t.vars.Seq = t.seq
		t.seq++
		tgt.Method = c.req.Method
		if c.url != "" {
			tgt.URL = c.url
		} else {
			u, err := c.req.URL.Render(t.vars, &t.buf)
			if err != nil {
				return fmt.Errorf("request %q: url: %w", c.req.Name, err)
			}
			// Drop any fragment of the user's: ours must be the last one.
			if j := strings.IndexByte(u, '#'); j >= 0 {
				u = u[:j]
			}
			tgt.URL = joinURL(c.base, u) + fragmentKey + strconv.Itoa(i)
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
}

// requestIndex recovers the mix index from a URL tagged by the targeter.
func requestIndex(u string) int {
	i := strings.LastIndex(u, fragmentKey)
	if i < 0 {
		return -1
	}
	n, err := strconv.Atoi(u[i+len(fragmentKey):])
	if err != nil {
		return -1
	}
	return n
}
