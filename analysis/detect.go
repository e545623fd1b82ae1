package analysis

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/spikeload/spike/scenarios"
)

// canonicalLayers is the display order of layers that did not break.
var canonicalLayers = [...]string{LayerDatabase, LayerBackend, LayerFrontend, LayerThirdParty, LayerAuth}

// attribution is how a request got its layer.
type attribution struct {
	layer     string
	evidence  string
	comps     []Component
	cacheHits float64
	callsOut  bool // a third-party timing component is present
}

// A request's layer is decided, in order, by:
//
//  1. the scenario's layer tag ("tag");
//  2. the specific Server-Timing component (db/sql/query → database,
//     cache/redis → database read path, ext/api/email/payment → third-party,
//     auth/session/login → auth) whose mean duration grew most from low to
//     high load, when it grew by at least CrackMinGrowth and half its
//     low-load mean; else the specific component taking the most time;
//  3. path and content heuristics: static assets → frontend ("path:
//     /static/", "path: .png", "content-type: image/png"), login, session,
//     token and auth paths → auth;
//  4. a generic component (app, render, total, …) that grew → backend;
//  5. backend, by default.
//
// Generic components come after the path because they usually measure the
// whole request, so they grow with every other component and with queueing:
// a static file waiting for the app's disk grows "app" but is a frontend
// problem.
func (a *analyzer) attribute() {
	low, high := a.loadBands()
	a.attrib = make([]attribution, len(a.names))
	for i := range a.names {
		a.attrib[i] = a.attributeOne(i, low, high)
	}
	present := map[string][]int{}
	for i, at := range a.attrib {
		present[at.layer] = append(present[at.layer], i)
	}
	a.layerOf = make([]int, len(a.names))
	for _, l := range canonicalLayers {
		reqs, ok := present[l]
		if !ok {
			continue
		}
		for _, i := range reqs {
			a.layerOf[i] = len(a.layers)
		}
		a.layers = append(a.layers, l)
		a.layerReqs = append(a.layerReqs, reqs)
		lims := make([]scenarios.Limits, len(reqs))
		for k, i := range reqs {
			lims[k] = a.reqLim[i]
		}
		a.layerLim = append(a.layerLim, loosest(a.top, lims))
	}
}

// loadBands returns the windows that count as low load and as high load for
// Server-Timing growth: high load is the top quarter of the judged planned
// rates (every judged window when the run is flat).
func (a *analyzer) loadBands() (low, high []bool) {
	peak := 0.0
	for w := range a.nwin {
		if !a.bound[w] && a.overall[w].count > 0 {
			peak = max(peak, a.r.Windows[w].PlannedRate)
		}
	}
	threshold := a.lowRate + 0.75*(peak-a.lowRate)
	flat := peak <= a.lowRate*1.05
	high = make([]bool, a.nwin)
	for w := range a.nwin {
		if a.bound[w] || a.overall[w].count == 0 {
			continue
		}
		high[w] = flat || a.r.Windows[w].PlannedRate >= threshold
	}
	return a.low, high
}

type compAgg struct {
	lowSum, highSum, allSum float64
	lowN, highN, allN       uint64
}

func (a *analyzer) attributeOne(i int, low, high []bool) attribution {
	name := a.names[i]
	info := a.info[i]
	var at attribution

	// Server-Timing components.
	aggs := map[string]*compAgg{}
	var hits, misses uint64
	for w := range a.nwin {
		wr := a.r.Windows[w].Requests[name]
		if wr == nil {
			continue
		}
		for cname, ts := range wr.Timing {
			if ts == nil {
				continue
			}
			if isReadPath(cname) {
				for d, n := range ts.Desc {
					switch strings.ToLower(d) {
					case "hit":
						hits += n
					case "miss":
						misses += n
					}
				}
			}
			if ts.WithDur == 0 {
				continue
			}
			g := aggs[cname]
			if g == nil {
				g = &compAgg{}
				aggs[cname] = g
			}
			g.allSum += ts.SumMs
			g.allN += ts.WithDur
			if low[w] {
				g.lowSum += ts.SumMs
				g.lowN += ts.WithDur
			}
			if high[w] {
				g.highSum += ts.SumMs
				g.highN += ts.WithDur
			}
		}
	}
	if hits+misses > 0 {
		at.cacheHits = float64(hits) / float64(hits+misses)
	}
	names := make([]string, 0, len(aggs))
	for c := range aggs {
		names = append(names, c)
	}
	slices.Sort(names)
	type cand struct {
		name, layer string
		generic     bool
		lowMs       float64
		highMs      float64
		allMs       float64
		growth      float64
		grewEnough  bool
		high        bool
	}
	var cands []cand
	for _, c := range names {
		g := aggs[c]
		l, generic := componentLayer(c)
		k := cand{name: c, layer: l, generic: generic, allMs: g.allSum / float64(g.allN)}
		if g.lowN > 0 {
			k.lowMs = g.lowSum / float64(g.lowN)
		}
		if g.highN > 0 {
			k.highMs, k.high = g.highSum/float64(g.highN), true
		}
		if k.high {
			k.growth = k.highMs - k.lowMs
			k.grewEnough = k.growth >= ms(CrackMinGrowth) && k.growth >= 0.5*k.lowMs
		}
		cands = append(cands, k)
		at.comps = append(at.comps, Component{Name: c, Layer: l, LowMs: round1(k.lowMs), HighMs: round1(k.highMs)})
		if l == LayerThirdParty && !generic {
			at.callsOut = true
		}
	}
	best := func(generic bool, byGrowth bool) *cand {
		var b *cand
		for j := range cands {
			k := &cands[j]
			if k.layer == "" || k.generic != generic || (byGrowth && !k.grewEnough) {
				continue
			}
			if b == nil || (byGrowth && k.growth > b.growth) || (!byGrowth && k.allMs > b.allMs) {
				b = k
			}
		}
		return b
	}
	grew := func(k *cand) string {
		return fmt.Sprintf("server-timing: %s grew %s→%s", k.name, fmtMs(k.lowMs), fmtMs(k.highMs))
	}
	readPath := func(k *cand) string {
		if isReadPath(k.name) {
			return " (database read path)"
		}
		return ""
	}

	if info.Layer != "" && scenarios.IsLayer(info.Layer) {
		at.layer, at.evidence = info.Layer, "tag"
		return at
	}
	if k := best(false, true); k != nil {
		at.layer, at.evidence = k.layer, grew(k)+readPath(k)
		return at
	}
	if k := best(false, false); k != nil {
		at.layer = k.layer
		at.evidence = fmt.Sprintf("server-timing: %s takes the most time (%s mean)%s", k.name, fmtMs(k.allMs), readPath(k))
		return at
	}
	if l, ev := pathLayer(info.URL, a.totals[i].Headers); l != "" {
		at.layer, at.evidence = l, ev
		return at
	}
	if k := best(true, true); k != nil {
		at.layer, at.evidence = LayerBackend, grew(k)
		return at
	}
	at.layer, at.evidence = LayerBackend, "default: no tag, no layer-specific Server-Timing, not a static or auth path"
	return at
}

// componentLayer maps a Server-Timing component name to a layer; generic
// components (app, render, total, …) measure the request itself.
func componentLayer(name string) (layer string, generic bool) {
	for _, tok := range tokens(strings.ToLower(name)) {
		switch {
		case hasAnyPrefix(tok, "cache", "redis", "memcache", "db", "sql", "query", "database",
			"postgres", "pg", "mysql", "mongo", "dynamo"):
			return LayerDatabase, false
		case hasAnyPrefix(tok, "auth", "session", "login", "token", "jwt", "oauth"):
			return LayerAuth, false
		case hasAnyPrefix(tok, "ext", "api", "email", "mail", "smtp", "payment", "stripe", "upstream", "thirdparty"):
			return LayerThirdParty, false
		case hasAnyPrefix(tok, "app", "render", "total", "handler", "server", "origin", "backend"):
			return LayerBackend, true
		}
	}
	return "", false
}

// isReadPath reports whether a component is a cache in front of the database.
func isReadPath(name string) bool {
	for _, tok := range tokens(strings.ToLower(name)) {
		if hasAnyPrefix(tok, "cache", "redis", "memcache") {
			return true
		}
	}
	return false
}

func tokens(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	})
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// Static asset markers.
var (
	staticExts = []string{".js", ".mjs", ".css", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif",
		".svg", ".ico", ".woff", ".woff2", ".ttf", ".otf", ".eot", ".map", ".mp4", ".webm", ".wasm"}
	staticDirs = []string{"/static/", "/assets/", "/public/", "/_next/static/", "/img/", "/images/",
		"/fonts/", "/media/", "/dist/", "/build/", "/cdn/"}
	authSegments = []string{"login", "logout", "signin", "sign-in", "session", "sessions", "token",
		"tokens", "auth", "oauth", "oauth2", "sso", "jwt", "refresh"}
)

// urlPath returns the lower-cased path of a request URL (which may be a
// template or absolute).
func urlPath(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
		if j := strings.IndexByte(u, '/'); j >= 0 {
			u = u[j:]
		} else {
			u = "/"
		}
	}
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	return strings.ToLower(u)
}

// staticEvidence says why a request looks like a static asset ("" if not).
func staticEvidence(u string, headers map[string]string) string {
	p := urlPath(u)
	for _, d := range staticDirs {
		if strings.Contains(p, d) {
			return "path: " + d
		}
	}
	for _, e := range staticExts {
		if strings.HasSuffix(p, e) {
			return "path: " + e
		}
	}
	ct := strings.ToLower(header(headers, "Content-Type"))
	if strings.HasPrefix(ct, "image/") || strings.HasPrefix(ct, "text/css") || strings.Contains(ct, "javascript") ||
		strings.HasPrefix(ct, "font/") {
		if i := strings.IndexByte(ct, ';'); i >= 0 {
			ct = ct[:i]
		}
		return "content-type: " + ct
	}
	return ""
}

// pathLayer applies the path and content heuristics.
func pathLayer(u string, headers map[string]string) (layer, evidence string) {
	if ev := staticEvidence(u, headers); ev != "" {
		return LayerFrontend, ev
	}
	for _, seg := range strings.FieldsFunc(urlPath(u), func(r rune) bool { return r == '/' || r == '.' || r == '_' }) {
		if slices.Contains(authSegments, seg) {
			return LayerAuth, "path: /" + seg
		}
	}
	return "", ""
}

// header returns a header's value, matching its name case-insensitively.
func header(h map[string]string, name string) string {
	if v, ok := h[name]; ok {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }
