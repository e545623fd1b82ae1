package analysis

import (
	"math"
	"time"
)

// fakeReq is a request of a fake target whose latency and errors are a known
// function of the total planned rate: flat at base up to capacity, then
// climbing by climb per 10% of overload, then failing (a share errFrac per
// 10% past errAt × capacity) with status (or transport kind).
type fakeReq struct {
	share    float64
	base     time.Duration
	capacity float64 // total req/s at which it saturates (0: never)
	climb    time.Duration
	errAt    float64 // multiple of capacity where errors begin (0: never)
	errFrac  float64
	status   int
	kind     string
	comp     string  // Server-Timing component that carries the wait
	compBase float64 // its low-load mean, ms
	extra    map[string]float64
	fastFail bool // errors answer at once (no latency climb), like an in-flight limit
	bytes    uint64
}

func (f fakeReq) at(rate float64) obs {
	n := int(math.Round(rate * f.share))
	o := obs{n: n, lat: f.base, status: f.status, kind: f.kind, bytes: f.bytes}
	over := 0.0
	if f.capacity > 0 && rate > f.capacity {
		over = rate/f.capacity - 1
	}
	wait := time.Duration(0)
	if !f.fastFail {
		wait = time.Duration(over * 10 * float64(f.climb))
	}
	o.lat += wait
	if f.errAt > 0 && f.capacity > 0 && rate > f.errAt*f.capacity {
		frac := math.Min(1, (rate/(f.errAt*f.capacity)-1)*10*f.errFrac)
		o.errs = int(math.Ceil(frac * float64(n)))
	}
	if f.comp != "" || len(f.extra) > 0 {
		o.timing = map[string]float64{}
		if f.comp != "" {
			o.timing[f.comp] = f.compBase + float64(wait)/float64(time.Millisecond)
		}
		for k, v := range f.extra {
			o.timing[k] = v
		}
		o.timing["app"] = float64(o.lat) / float64(time.Millisecond)
	}
	return o
}

// fakeTarget maps request names to fake requests.
type fakeTarget map[string]fakeReq

func (t fakeTarget) model() model {
	return func(_ int, rate float64) map[string]obs {
		out := make(map[string]obs, len(t))
		for name, f := range t {
			out[name] = f.at(rate)
		}
		return out
	}
}

// reqs returns the builder requests of the target with the given URLs and
// layer tags.
func (t fakeTarget) reqs(urls map[string]string, layers map[string]string) []req {
	var out []req
	for _, name := range sortedKeys(t) {
		f := t[name]
		method := "GET"
		u := urls[name]
		if len(u) > 5 && u[:5] == "POST " {
			method, u = "POST", u[5:]
		}
		out = append(out, req{name: name, method: method, url: u, layer: layers[name], weight: f.share})
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// mvp is a fake of the example app: the database saturates at dbCap,
// logins at authCap, the email API at emailCap, static files at staticCap.
func mvp(dbCap, authCap, emailCap, staticCap float64) (fakeTarget, map[string]string) {
	t := fakeTarget{
		"feed":    {share: 0.30, base: 145 * time.Millisecond, capacity: dbCap, climb: 150 * time.Millisecond, errAt: 1.25, errFrac: 0.3, status: 503, comp: "db", compBase: 140},
		"profile": {share: 0.30, base: 72 * time.Millisecond, capacity: dbCap, climb: 150 * time.Millisecond, errAt: 1.25, errFrac: 0.3, status: 503, comp: "db", compBase: 70},
		"login":   {share: 0.12, base: 75 * time.Millisecond, capacity: authCap, climb: 200 * time.Millisecond, errAt: 1.15, errFrac: 0.5, status: 503, comp: "auth", compBase: 70},
		"signup":  {share: 0.06, base: 225 * time.Millisecond, capacity: emailCap, climb: 0, errAt: 1.0, errFrac: 0.5, status: 502, fastFail: true, comp: "ext", compBase: 150, extra: map[string]float64{"db": 70}},
		"home":    {share: 0.10, base: 2 * time.Millisecond, capacity: staticCap, climb: 100 * time.Millisecond, errAt: 1.3, errFrac: 0.3, status: 503, bytes: 4_000},
		"appjs":   {share: 0.08, base: 17 * time.Millisecond, capacity: staticCap, climb: 100 * time.Millisecond, errAt: 1.3, errFrac: 0.3, status: 503, bytes: 48_000},
		"hero":    {share: 0.04, base: 121 * time.Millisecond, capacity: staticCap, climb: 100 * time.Millisecond, errAt: 1.3, errFrac: 0.3, status: 503, bytes: 361_000},
	}
	urls := map[string]string{
		"feed": "/api/feed", "profile": "/api/profile/{{user}}", "login": "POST /api/login",
		"signup": "POST /api/signup", "home": "/", "appjs": "/static/app.js", "hero": "/static/hero.png",
	}
	return t, urls
}
