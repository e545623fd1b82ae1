package analysis

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/hist"
	"github.com/spikeload/spike/scenarios"
)

// canonicalLayers is the display order of layers that did not break.
var canonicalLayers = [...]string{LayerDatabase, LayerBackend, LayerFrontend, LayerThirdParty, LayerAuth}

// attribution is how a request got its layer: the evidence found for it
// and the decision taken from that evidence.
type attribution struct {
	layer      string
	mechanism  string
	confidence string
	evidence   []Evidence // every piece found, strongest first
	comps      []Component
	cacheHits  float64
	callsOut   bool // a third-party timing component is present
	// static is the evidence a request is a static asset ("" if not).
	static string
}

// summary is the one-line account of the decision: the decisive evidence.
func (at *attribution) summary() string {
	for _, e := range at.evidence {
		if e.Layer == at.layer {
			return e.Text
		}
	}
	return "default: no tag, no Server-Timing, no error text or status that names a layer"
}

// The layer of a request is decided by weighing evidence (see Evidence and
// the rules in rules.go): the scenario's tag wins; otherwise the layer with
// the most weight, from Server-Timing components, error texts, status
// semantics, latency signatures, which requests degrade together and,
// last, path words. A request with no evidence at all is the backend,
// unconfirmed.
//
// attribute finds the evidence a request carries whatever the load did
// (tag, Server-Timing, path and content type) and groups the requests into
// layers; detect adds what the run showed once the requests were judged.
func (a *analyzer) attribute() {
	low, high := a.loadBands()
	a.attrib = make([]attribution, len(a.names))
	for i := range a.names {
		a.attrib[i] = a.attributeOne(i, low, high)
		a.attrib[i].decide()
	}
	a.group()
}

// group builds the layers from the requests' attributed layers.
func (a *analyzer) group() {
	a.layers, a.layerReqs, a.layerLim = nil, nil, nil
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
		at.add(Evidence{Rule: "tag", Layer: info.Layer, Weight: weightTag, Text: "tag: layer " + info.Layer + " in the scenario"})
	}
	if k := best(false, true); k != nil {
		at.add(Evidence{Rule: "server-timing", Layer: k.layer, Weight: weightStrong, Text: grew(k) + readPath(k)})
	} else if k := best(false, false); k != nil {
		at.add(Evidence{Rule: "server-timing", Layer: k.layer, Weight: weightFair,
			Text: fmt.Sprintf("server-timing: %s takes the most time (%s mean)%s", k.name, fmtMs(k.allMs), readPath(k))})
	}
	at.static = staticEvidence(info.URL, a.totals[i].Headers)
	if l, ev := pathLayer(info.URL, a.totals[i].Headers); l != "" {
		at.add(Evidence{Rule: "path", Layer: l, Weight: weightPath, Text: ev})
	}
	if k := best(true, true); k != nil {
		at.add(Evidence{Rule: "server-timing", Layer: LayerBackend, Weight: weightPath - 0.5, Text: grew(k)})
	}
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
	authSegments = []string{"login", "logout", "signin", "sign-in", "session", "sessions", "token", "me", "whoami",
		"tokens", "auth", "oauth", "oauth2", "sso", "jwt", "refresh"}
	// outSegments name requests that usually call a third party in the
	// request path (a payment provider, an SMS gateway).
	outSegments = []string{"checkout", "payment", "payments", "pay", "billing", "charge", "charges", "sms"}
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
	for _, seg := range strings.FieldsFunc(urlPath(u), func(r rune) bool { return r == '/' || r == '.' || r == '_' }) {
		if slices.Contains(outSegments, seg) {
			return LayerThirdParty, "path: /" + seg + " (usually calls a third party)"
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

// observation is what one request showed over its degraded span (its first crack,
// break or failing window to the end of the run; the whole run when it
// never degraded): the facts the evidence rules read. Latencies are in ms.
type observation struct {
	a        *analyzer
	i        int
	from, to int
	degraded bool

	count, errors uint64
	statuses      map[int]uint64
	kinds         map[string]uint64
	texts         []textCount
	errHeaders    map[string]uint64

	errLatCount                      uint64
	errLatMean, errLatMin, errLatMax float64

	lowP95, peakP95 float64
	lowErrRate      float64
	callsOut        bool
	// healthyOther names another request, not a static asset, that
	// answered through the whole run without a failure and without
	// slowing ("" when none did).
	healthyOther string
	// othersLowP95 is the median low-load p95 of the other requests that
	// are not static assets (0 without any).
	othersLowP95 float64

	meanBytes                                      float64
	spanLatencyMs, spanFirstByteMs, spanTransferMs float64
	plateauBps                                     float64
}

// textCount is one failure text (a normalised body or a transport
// message) and how often it came.
type textCount struct {
	status int
	text   string
	count  uint64
}

// flat reports whether the request's p95 stayed within the crack
// threshold of its low-load p95 over the span.
func (o *observation) flat() bool {
	if o.lowP95 <= 0 {
		return false
	}
	return o.peakP95 <= max(o.a.factor*o.lowP95, o.lowP95+o.a.climb)
}

// grew reports whether the request's p95 passed the crack threshold.
func (o *observation) grew() bool {
	return o.lowP95 > 0 && o.peakP95 > o.a.factor*o.lowP95 && o.peakP95-o.lowP95 >= ms(CrackMinGrowth)
}

// climbed reports whether the p95 grew enough to matter: past the crack
// threshold and by at least a tenth of the tightest latency limit, so
// that 1.7 → 11 ms against a 500 ms SLO is not "latency climbed".
func (o *observation) climbed() bool {
	return o.grew() && o.peakP95-o.lowP95 >= o.a.climb
}

// deadline reports whether the failures came at a deadline: their
// latencies bunched (the fastest at least half the slowest) and well above
// the low-load p95.
func (o *observation) deadline() bool {
	return o.errLatCount >= 5 && o.errLatMin >= 0.5*o.errLatMax && o.errLatMean >= max(5*o.lowP95, 50)
}

// authLike reports whether the request looks like a login or session
// request: by its path, or by answering 401/403 at all.
func (o *observation) authLike() bool {
	if l, _ := pathLayer(o.a.info[o.i].URL, nil); l == LayerAuth {
		return true
	}
	t := o.a.totals[o.i]
	return t.Statuses["401"]+t.Statuses["403"] > 0
}

// span returns request i's degraded span: from its first crack, break or
// failing window to the end of the run.
func (a *analyzer) span(i int) (from int, degraded bool) {
	from = a.nwin
	series := func(w int) stat { return a.reqStat[w][i] }
	if c := a.cracks(series, a.lowReq[i]); len(c) > 0 {
		from = c[0].start
	}
	for w := range a.nwin {
		if a.reqStatus(w, i) == StatusFail {
			from = min(from, w)
			break
		}
	}
	if from == a.nwin {
		return 0, false
	}
	return from, true
}

// observe gathers request i's observation.
func (a *analyzer) observe(i int) *observation {
	o := &observation{a: a, i: i, to: a.nwin, statuses: map[int]uint64{}, kinds: map[string]uint64{}, errHeaders: map[string]uint64{}}
	o.from, o.degraded = a.span(i)
	o.callsOut = a.attrib[i].callsOut
	if a.lowReq[i].samples >= a.minSamples {
		o.lowP95 = ms(a.lowReq[i].p95)
	} else {
		// Too sparse at the lowest rate to have a low-load p95 there: its
		// windows before the degraded span (all of them when it never
		// degraded), pooled, are the reference.
		before := a.nwin
		if o.degraded {
			before = o.from
		}
		o.lowP95 = a.earlyP95(i, before)
	}
	o.lowErrRate = a.lowReq[i].errorRate()
	name := a.names[i]
	type key struct {
		status int
		key    string
	}
	texts := map[key]*textCount{}
	var order []key
	var bytes, latSum, fbSum, fbN, latN float64
	var firstBps, maxBps, firstRate, lastRate float64
	for w := o.from; w < o.to; w++ {
		wr := a.r.Windows[w].Requests[name]
		if wr == nil {
			continue
		}
		o.count += wr.OK + wr.Errors
		o.errors += wr.Errors
		for code, n := range wr.Statuses {
			if c, err := strconv.Atoi(code); err == nil && !a.reqOK(i, c) {
				o.statuses[c] += n
			}
		}
		for k, n := range wr.ErrorKinds {
			o.kinds[k] += n
		}
		for _, b := range wr.ErrorBodies {
			k := key{b.Status, engine.BodyKey(b.Text)}
			if texts[k] == nil {
				texts[k] = &textCount{status: b.Status, text: b.Text}
				order = append(order, k)
			}
			texts[k].count += b.Count
		}
		for h, n := range wr.ErrorHeaders {
			o.errHeaders[h] += n
		}
		if el := wr.ErrorLatency; el != nil && el.Count > 0 {
			if o.errLatCount == 0 || el.MinMs < o.errLatMin {
				o.errLatMin = el.MinMs
			}
			o.errLatMax = max(o.errLatMax, el.MaxMs)
			o.errLatMean += el.SumMs
			o.errLatCount += el.Count
		}
		if !a.bound[w] && wr.Latency.Count >= a.minSamples {
			o.peakP95 = max(o.peakP95, ms(wr.Latency.P95))
		}
		bytes += float64(wr.BytesIn)
		latSum += ms(wr.Latency.Mean) * float64(wr.Latency.Count)
		latN += float64(wr.Latency.Count)
		fbSum += wr.FirstByteSumMs
		fbN += float64(wr.FirstByteCount)
		bps := float64(wr.BytesIn) / a.winSec
		if w == o.from {
			firstBps, firstRate = bps, a.r.Windows[w].PlannedRate
		}
		maxBps = max(maxBps, bps)
		lastRate = max(lastRate, a.r.Windows[w].PlannedRate)
	}
	if o.errLatCount > 0 {
		o.errLatMean /= float64(o.errLatCount)
	}
	if o.count > 0 {
		o.meanBytes = bytes / float64(o.count)
	}
	if latN > 0 {
		o.spanLatencyMs = latSum / latN
	}
	if fbN > 0 && latN > 0 {
		o.spanFirstByteMs = fbSum / fbN
		o.spanTransferMs = max(0, o.spanLatencyMs-o.spanFirstByteMs)
	}
	if o.degraded && firstBps > 0 && maxBps <= 1.25*firstBps && lastRate >= 1.3*firstRate {
		o.plateauBps = maxBps
	}
	for _, k := range order {
		o.texts = append(o.texts, *texts[k])
	}
	if len(o.texts) == 0 {
		// Results recorded before bodies were kept per window, and
		// transport errors: the whole run's samples.
		for _, e := range a.totals[i].ErrorSamples {
			status := 0
			if f := strings.Fields(e.Message); len(f) > 0 {
				status, _ = strconv.Atoi(f[0])
			}
			o.texts = append(o.texts, textCount{status: status, text: errorDetail(e.Message), count: e.Count})
		}
	} else {
		for _, e := range a.totals[i].ErrorSamples {
			if f := strings.Fields(e.Message); len(f) > 0 && f[0][0] >= '0' && f[0][0] <= '9' {
				continue
			}
			o.texts = append(o.texts, textCount{text: e.Message, count: e.Count})
		}
	}
	return o
}

// reqOK reports whether a status counts as success for request i.
func (a *analyzer) reqOK(i, code int) bool {
	if exp := a.info[i].Expect; len(exp) > 0 {
		return slices.Contains(exp, code)
	}
	return code >= 200 && code < 400
}

// detect adds the evidence of what the run showed to each request's
// attribution: the rules of rules.go on each request's degraded span, then
// which requests degraded together. It re-decides every layer and reports
// whether any changed, or periodic stalls were found (the layers are then
// grouped anew and the windows judged again).
func (a *analyzer) detect() bool {
	a.detectStalls()
	a.obs = make([]*observation, len(a.names))
	for i := range a.names {
		a.obs[i] = a.observe(i)
	}
	// A request failing while most others stay healthy fails for a reason
	// of its own; when most fail, the app does.
	dynamic, failing := 0, 0
	for j, p := range a.obs {
		if a.attrib[j].static == "" && p.count > 0 {
			dynamic++
			if p.errors > 0 {
				failing++
			}
		}
	}
	specific := 3*failing <= dynamic
	for i, o := range a.obs {
		var lows []float64
		for j, p := range a.obs {
			if j != i && p.lowP95 > 0 && a.attrib[j].static == "" {
				lows = append(lows, p.lowP95)
			}
		}
		if len(lows) > 0 {
			o.othersLowP95 = median(lows)
		}
		for j, p := range a.obs {
			if !specific {
				break
			}
			if j != i && p.lowP95 > 0 && p.count > 0 && p.errors == 0 && p.flat() && a.attrib[j].static == "" {
				o.healthyOther = a.names[j]
				break
			}
		}
		for _, r := range rules {
			for _, e := range r.apply(o) {
				a.attrib[i].add(e)
			}
		}
	}
	a.slowFromStart()
	a.together()
	// Stall windows leave the pools of sparse windows: judge again.
	changed := a.stall != nil
	for i := range a.attrib {
		if a.attrib[i].decide() {
			changed = true
		}
	}
	return changed
}

// slowFromStart reads a request that was over its latency limit in its
// first windows, at the lowest load, while another request in the same
// windows was well within its own: it is slow at any load, not past a
// capacity. Its own work is slow: most often its query (a scan without an
// index, an unbounded result), or, for a login, hashing passwords.
func (a *analyzer) slowFromStart() {
	for i, o := range a.obs {
		if !o.degraded || a.attrib[i].static != "" {
			continue
		}
		first := -1
		for w := range a.nwin {
			if a.hasReq[w][i] && !a.bound[w] {
				first = w
				break
			}
		}
		if first < 0 {
			continue
		}
		limit := ms(a.r.Plan.SLO.For(a.names[i]).P95)
		// Its first windows (a sparse request has few samples in each).
		to := first + 2*a.sustain
		p95 := a.p95Over(i, first, to, 3)
		if limit <= 0 || p95 <= limit {
			continue
		}
		// Another request, in the same windows, well within its limit.
		fine := ""
		for j := range a.obs {
			if j == i || a.attrib[j].static != "" {
				continue
			}
			lj := ms(a.r.Plan.SLO.For(a.names[j]).P95)
			if pj := a.p95Over(j, first, to, 3); pj > 0 && pj <= lj/2 {
				fine = fmt.Sprintf("%s took %s", a.names[j], fmtMs(pj))
				break
			}
		}
		if fine == "" {
			continue
		}
		// Sure of the mechanism (what was measured), not of the layer
		// (by experience: a login hashes passwords, anything else most
		// often runs an expensive query).
		last := min(to, a.nwin) - 1
		a.attrib[i].add(Evidence{Rule: "slow-from-start", Mechanism: MechSlowWork, Weight: weightFair + 0.5,
			Text: fmt.Sprintf("%s was over its %s limit from the lowest load (p95 %s over its first windows, %s to %s %s, when %s): slow at any load, not past a capacity",
				a.names[i], fmtMs(limit), fmtMs(p95), fmtRate(a.r.Windows[first].PlannedRate), fmtRate(a.r.Windows[last].PlannedRate), a.r.Plan.RateUnit(), fine)})
		if o.authLike() {
			// bcrypt, scrypt and argon2 spend ~100–300 ms of CPU by
			// design, and their copies saturate the app's CPU.
			a.attrib[i].add(Evidence{Rule: "slow-from-start", Layer: LayerBackend, Weight: weightPath,
				Text: "a login or session request slow at any load is most often hashing passwords (bcrypt, scrypt, argon2 spend 100–300 ms of CPU by design), whose copies then saturate the app's CPU"})
			continue
		}
		a.attrib[i].add(Evidence{Rule: "slow-from-start", Layer: LayerDatabase, Weight: weightPath,
			Text: "its own work is slow, most often its query (a scan without an index, an unbounded result)"})
	}
}

// together compares the requests that degraded with those that did not.
// Requests that share a bottleneck degrade together: when some slow down
// while a cheap request stays fast, the bottleneck is behind the app (a
// dependency), not its own capacity; when every request slows together,
// it is the app itself.
func (a *analyzer) together() {
	// Static assets are left out: a proxy or a CDN often serves them, so
	// their staying fast says nothing about the app.
	var slow, fast []int
	for i, o := range a.obs {
		switch {
		case o.lowP95 <= 0 || a.attrib[i].static != "":
		case o.degraded && o.grew():
			slow = append(slow, i)
		case !o.degraded && o.flat() && o.errors == 0:
			fast = append(fast, i)
		}
	}
	if len(slow) == 0 {
		return
	}
	strongest := func(i int) (string, float64) {
		l, w := "", 0.0
		for _, e := range a.attrib[i].evidence {
			if e.Layer != "" && e.Rule != "path" && e.Rule != "together" && e.Weight >= weightFair && e.Weight > w {
				l, w = e.Layer, e.Weight
			}
		}
		return l, w
	}
	names := func(ix []int) string {
		s := make([]string, 0, len(ix))
		for _, i := range ix {
			s = append(s, a.names[i])
		}
		return joinAnd(s)
	}
	growth := func(ix []int) (lo, hi float64) {
		lo = math.Inf(1)
		for _, i := range ix {
			g := a.obs[i].peakP95 / a.obs[i].lowP95
			lo, hi = min(lo, g), max(hi, g)
		}
		return lo, hi
	}
	// Together means in the same windows. When some requests slowed
	// clearly before the others (their onsets more than the sustain
	// apart), the first ones are what broke: at their onset the others
	// were still fast, so the app was not saturated; the later ones queue
	// behind what the first hold (a lock, the database's connections).
	lead := a.nwin
	for _, i := range slow {
		lead = min(lead, a.obs[i].from)
	}
	var late []int
	if len(slow) > 1 {
		first := slow[:0:0]
		for _, i := range slow {
			if a.obs[i].from > lead+max(a.sustain, 2) {
				late = append(late, i)
			} else {
				first = append(first, i)
			}
		}
		// Clearly: the first ones' latency had climbed in the windows
		// before the others moved (not one stray timeout).
		lateFrom := a.nwin
		for _, j := range late {
			lateFrom = min(lateFrom, a.obs[j].from)
		}
		for _, i := range first {
			o := a.obs[i]
			if p := a.p95Over(i, lead, lateFrom, 1); p < max(a.factor*o.lowP95, o.lowP95+a.climb) {
				late = nil
				break
			}
		}
		if len(late) > 0 {
			slow = first
		}
	}
	lo, hi := growth(slow)
	// When most of the requests that slowed are login and session
	// requests, the session store is what they share.
	auth := 0
	for _, i := range slow {
		if a.obs[i].authLike() {
			auth++
		}
	}
	allAuth := auth > 0 && 2*auth >= len(slow)
	// stayed says how a request that stayed fast (or slowed only later)
	// fared while the first ones slowed.
	stayed := func(j int) string {
		o := a.obs[j]
		if slices.Contains(late, j) {
			return fmt.Sprintf("%s stayed near its low-load %s until %s", a.names[j], fmtMs(o.lowP95), fmtRate(a.r.Windows[o.from].PlannedRate)+" "+a.r.Plan.RateUnit())
		}
		return fmt.Sprintf("%s stayed at %s", a.names[j], fmtMs(o.peakP95))
	}
	others := append(slices.Clone(late), fast...)
	// The group's layer: the strongest evidence any member has.
	group, gw, from := "", 0.0, ""
	for _, i := range slow {
		if l, w := strongest(i); w > gw {
			group, gw, from = l, w, a.names[i]
		}
	}
	gfrom := 0
	if group != "" {
		gfrom = a.obs[slices.Index(a.names, from)].from
	}
	for _, i := range slow {
		if group != "" {
			// Together means in the same windows, give or take the sustain.
			if _, w := strongest(i); w == 0 && len(slow) > 1 && abs(a.obs[i].from-gfrom) <= 2*a.sustain {
				a.attrib[i].add(Evidence{Rule: "together", Layer: group, Weight: weightFair - 1,
					Text: fmt.Sprintf("degraded together with %s, whose evidence names the %s", from, group)})
			}
			continue
		}
		if len(others) > 0 && allAuth {
			a.attrib[i].add(Evidence{Rule: "together", Layer: LayerAuth, Mechanism: MechSession, Weight: weightFair - 1,
				Text: fmt.Sprintf("%s slowed (p95 %s) while %s: what they share and the others do not is the login and session path (the session store: its commands, its locks, its connections)",
					names(slow), times(lo, hi), stayed(others[0]))})
			continue
		}
		if len(others) > 0 {
			a.attrib[i].add(Evidence{Rule: "together", Layer: LayerDatabase, Mechanism: MechQueueing, Weight: 1,
				Text: fmt.Sprintf("%s slowed (p95 %s) while %s: the bottleneck is behind the app — a dependency such as the database — not its own capacity",
					names(slow), times(lo, hi), stayed(others[0]))})
		}
	}
	// Those that slowed later queue behind what the first ones hold.
	if group == "" && len(late) > 0 {
		layer, mech := LayerDatabase, MechQueueing
		if allAuth {
			layer, mech = LayerAuth, MechSession
		}
		for _, j := range late {
			if _, w := strongest(j); w > 0 {
				continue
			}
			a.attrib[j].add(Evidence{Rule: "together", Layer: layer, Mechanism: mech, Weight: 1,
				Text: fmt.Sprintf("%s slowed from %s, after %s had slowed: it queues behind what they hold (a lock, connections to a shared dependency)",
					a.names[j], fmtRate(a.r.Windows[a.obs[j].from].PlannedRate)+" "+a.r.Plan.RateUnit(), names(slow))})
		}
	}
	withData := 0
	for i, o := range a.obs {
		if o.lowP95 > 0 && a.attrib[i].static == "" {
			withData++
		}
	}
	// Failing fast with a bare 500 is not what a saturated app does (its
	// requests queue, then time out): it answered, and what it called
	// refused at once. Every request type doing so points at what they all
	// share, most often the database refusing connections.
	fastFail := func(i int) bool {
		o := a.obs[i]
		return o.errors >= 5 && 2*o.statuses[500] >= o.errors && o.errLatCount > 0 && o.errLatMean <= max(3*o.lowP95, o.lowP95+10)
	}
	if group == "" && len(fast) == 0 && len(late) == 0 && len(slow) >= 2 && len(slow) == withData && !slices.ContainsFunc(slow, func(i int) bool { return !fastFail(i) }) {
		var errs, n uint64
		var sum float64
		for _, i := range slow {
			errs += a.obs[i].errors
			n += a.obs[i].errLatCount
			sum += a.obs[i].errLatMean * float64(a.obs[i].errLatCount)
		}
		for _, i := range slow {
			if slices.ContainsFunc(a.attrib[i].evidence, func(e Evidence) bool {
				return e.Rule == "latency" && e.Layer == LayerDatabase && e.Mechanism == MechShedding
			}) {
				continue // the latency rule read its bare fast 500s already
			}
			a.attrib[i].add(Evidence{Rule: "together", Layer: LayerDatabase, Mechanism: MechShedding, Weight: weightPath + 0.5,
				Text: fmt.Sprintf("every request type failed fast with 500 (%d errors, answered in %s on average) while p95 rose only %s: the app was answering, not saturated; a dependency they all share refused at once, most often the database refusing connections (max_connections, a pool that fails fast)",
					errs, fmtMs(sum/float64(n)), times(lo, hi))})
		}
		return
	}
	if group == "" && len(fast) == 0 && len(late) == 0 && len(slow) >= 2 && len(slow) == withData {
		for _, i := range slow {
			a.attrib[i].add(Evidence{Rule: "together", Layer: LayerBackend, Mechanism: MechSaturation, Weight: weightFair - 1,
				Text: fmt.Sprintf("every request slowed together (p95 %s across %s): the app itself is saturated", times(lo, hi), all(len(slow)))})
		}
	}
}

// times says a growth range: "×7" or "×7–×56".
func times(lo, hi float64) string {
	if math.Round(lo) == math.Round(hi) {
		return fmt.Sprintf("×%.0f", hi)
	}
	return fmt.Sprintf("×%.0f–×%.0f", lo, hi)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// all says "both request types" or "all 5 request types".
func all(n int) string {
	if n == 2 {
		return "both request types"
	}
	return fmt.Sprintf("all %d request types", n)
}

// detectStalls looks for periodic pauses that do not grow with load: short
// runs (one or two windows) whose slowest request took at least 100 ms and
// five times the low-load p95, between windows that were fine, at least
// three of them, one at low load, and no worse at the high half of the
// planned rates than at the low half (at most twice). GC pauses,
// stop-the-world events and cron jobs look like this; a saturating layer
// does not: it stays slow window after window once the load is past it.
// Such windows are marked, reported in Analysis.Stalls, and never make or
// end a break.
func (a *analyzer) detectStalls() {
	ref := ms(a.lowOverall.p95)
	if ref <= 0 || a.nwin < 4 {
		return
	}
	limit := max(100, 5*ref)
	slow := make([]bool, a.nwin)
	for w := range a.nwin {
		s := a.overall[w]
		slow[w] = !a.bound[w] && s.samples >= a.minSamples && ms(s.max) >= limit && a.pausedTogether(w, limit)
	}
	type run struct{ from, to int }
	var runs []run
	for w := 0; w < a.nwin; {
		if !slow[w] {
			w++
			continue
		}
		e := w
		for e < a.nwin && slow[e] {
			e++
		}
		runs = append(runs, run{w, e})
		w = e
	}
	var short []run
	long := 0
	for _, r := range runs {
		if r.to-r.from <= 2 {
			short = append(short, r)
		} else {
			long += r.to - r.from
		}
	}
	if len(short) < 3 {
		return
	}
	lowest, highest := math.Inf(1), 0.0
	for w := range a.nwin {
		if a.overall[w].count > 0 {
			lowest = min(lowest, a.r.Windows[w].PlannedRate)
			highest = max(highest, a.r.Windows[w].PlannedRate)
		}
	}
	mid := (lowest + highest) / 2
	var atLow bool
	var lowMax, highMax, all []float64
	stall := make([]bool, a.nwin)
	for _, r := range short {
		for w := r.from; w < r.to; w++ {
			stall[w] = true
			m := ms(a.overall[w].max)
			all = append(all, m)
			rate := a.r.Windows[w].PlannedRate
			if a.low[w] || rate <= lowest*1.1 {
				atLow = true
			}
			if rate <= mid {
				lowMax = append(lowMax, m)
			} else {
				highMax = append(highMax, m)
			}
		}
	}
	if !atLow || len(lowMax) > 0 && len(highMax) > 0 && median(highMax) > 2*median(lowMax) {
		return
	}
	a.stall = stall
	st := &Stalls{Runs: len(short), TypicalMs: round1(median(all)), MaxMs: round1(slices.Max(all))}
	if len(short) > 1 {
		gaps := make([]float64, 0, len(short)-1)
		for k := 1; k < len(short); k++ {
			gaps = append(gaps, float64(short[k].from-short[k-1].from)*a.winSec*1000)
		}
		st.PeriodMs = round1(median(gaps))
	}
	st.Text = fmt.Sprintf("the slowest request reached %s (up to %s) in %d short bursts", fmtMs(st.TypicalMs), fmtMs(st.MaxMs), st.Runs)
	if st.PeriodMs > 0 {
		st.Text += fmt.Sprintf(", about every %s", fmtMs(st.PeriodMs))
	}
	st.Text += fmt.Sprintf(", from %s req/s to %s req/s, at low load too: pauses that do not grow with load (GC, stop-the-world, a cron job), not a capacity limit", fmtRate(lowest), fmtRate(highest))
	a.stalls = st
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

// earlyP95 is request i's p95 over the windows before w that spike sent on
// time, pooled, in ms; 0 when they hold fewer than minSamples responses or
// a histogram cannot be read. It is the low-load reference of a request
// too sparse to have one at the lowest rate.
func (a *analyzer) earlyP95(i, w int) float64 {
	return a.p95Over(i, 0, w, a.minSamples)
}

// p95Over returns request i's p95 in ms over windows [from, to), pooled,
// or 0 with fewer than minN samples.
func (a *analyzer) p95Over(i, from, to int, minN int64) float64 {
	var dec hist.Decoder
	var acc hist.Hist
	for k := max(0, from); k < to && k < a.nwin; k++ {
		if a.bound[k] || !a.hasReq[k][i] {
			continue
		}
		wr := a.r.Windows[k].Requests[a.names[i]]
		if wr == nil || wr.Latency.Count == 0 {
			continue
		}
		bs, g, err := dec.Decode(wr.Latency.Hist)
		if err != nil {
			return 0
		}
		acc.Add(bs, &g)
	}
	if acc.Total() < minN {
		return 0
	}
	p95, _, _ := p95p99(&acc)
	return ms(us(p95))
}

// pausedTogether reports whether window w has a response at or past limit
// (ms) from a request whose other responses in the window were fast (its
// slowest at least 5× its fastest): a pause of the process delays some
// requests far past their normal time while others pass, whereas a request
// whose normal time is long (a 150 ms payment call among 10 ms reads)
// topping a window is all slow alike, and is not a pause.
func (a *analyzer) pausedTogether(w int, limit float64) bool {
	for i, name := range a.names {
		if !a.hasReq[w][i] || a.reqStat[w][i].count < 2 {
			continue
		}
		m := ms(a.reqStat[w][i].max)
		wr := a.r.Windows[w].Requests[name]
		if wr == nil {
			continue
		}
		if fastest := ms(wr.Latency.Min); m >= limit && m >= 5*fastest {
			return true
		}
	}
	return false
}
