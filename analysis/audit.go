package analysis

import (
	"fmt"
	"strings"
)

// Header audit checks, as Finding.Check values.
const (
	CheckCacheControl = "cache_control"
	CheckCompression  = "compression"
	CheckCDN          = "cdn"
	CheckImageFormat  = "image_format"
	CheckLargeBody    = "large_body"
)

// Size thresholds of the header audit.
const (
	largeStaticBytes  = 200_000   // a static asset this large should be optimised
	largeDynamicBytes = 1_000_000 // any response this large is very large
	compressMinBytes  = 1_000     // text smaller than this gains little from compression
)

// cdnHeaders are response headers that show a CDN or cache in front.
var cdnHeaders = []string{"Via", "Age", "X-Cache", "X-Cache-Status", "CF-Cache-Status", "X-Served-By", "X-Amz-Cf-Id"}

// isStatic reports whether a request is a static asset: by path or content
// type, or because it was attributed to the frontend.
func (a *analyzer) isStatic(i int) bool {
	return a.attrib[i].layer == LayerFrontend || staticEvidence(a.info[i].URL, a.totals[i].Headers) != ""
}

func cdnMarker(h map[string]string) string {
	for _, k := range cdnHeaders {
		if v := header(h, k); v != "" {
			return k + ": " + v
		}
	}
	return ""
}

// servedBy names the origin's server software when the response said it
// (" (Server: nginx)"), else "": whether the app or a web server in front
// of it sent the bytes is not known from the absence of a CDN alone.
func servedBy(h map[string]string) string {
	if v := header(h, "Server"); v != "" {
		if len(v) > 40 {
			v = v[:40]
		}
		return " (Server: " + v + ")"
	}
	return ""
}

func isTextual(ct, path string) bool {
	ct = strings.ToLower(ct)
	if strings.HasPrefix(ct, "text/") || strings.Contains(ct, "javascript") || strings.Contains(ct, "json") ||
		strings.Contains(ct, "xml") || strings.Contains(ct, "svg") {
		return true
	}
	for _, e := range []string{".js", ".mjs", ".css", ".html", ".svg", ".json", ".map"} {
		if strings.HasSuffix(path, e) {
			return true
		}
	}
	return false
}

// audit reads the sampled response headers of each request (the first
// successful response) and reports static assets without Cache-Control
// (or with no-store/no-cache/max-age=0), text without compression, static
// assets with no CDN marker, images that are not WebP/AVIF, and very large
// bodies. Every finding belongs to fix step 2 (CDN and image optimisation),
// except a very large dynamic response, which belongs to step 3 (cache it,
// or send less).
func (a *analyzer) audit(reqs []RequestReport) []Finding {
	var out []Finding
	add := func(req, check, detail string, step int) {
		out = append(out, Finding{Request: req, Check: check, Detail: detail, Step: step, Area: StepName(step)})
	}
	for i, name := range a.names {
		t := a.totals[i]
		h := t.Headers
		if len(h) == 0 && t.MaxBytesIn == 0 {
			continue // never answered successfully: nothing to audit
		}
		static := a.isStatic(i)
		path := urlPath(a.info[i].URL)
		ct := mediaType(header(h, "Content-Type"))
		enc := strings.ToLower(header(h, "Content-Encoding"))
		cc := strings.ToLower(header(h, "Cache-Control"))
		if static {
			switch {
			case cc == "":
				add(name, CheckCacheControl, "static asset sent without Cache-Control: browsers and CDNs must ask again every time", StepCDN)
			case strings.Contains(cc, "no-store") || strings.Contains(cc, "no-cache") || strings.Contains(cc, "max-age=0") || strings.Contains(cc, "private"):
				add(name, CheckCacheControl, fmt.Sprintf("static asset sent with Cache-Control %q: it is not cached by a CDN", header(h, "Cache-Control")), StepCDN)
			}
			if m := cdnMarker(h); m == "" {
				add(name, CheckCDN, "no CDN marker (Via, Age, X-Cache, CF-Cache-Status, …): served from the origin"+servedBy(h), StepCDN)
			}
			if strings.HasPrefix(ct, "image/") || hasAnySuffix(path, ".png", ".jpg", ".jpeg", ".gif", ".bmp") {
				if !strings.Contains(ct, "webp") && !strings.Contains(ct, "avif") && !strings.Contains(ct, "svg") && !strings.Contains(ct, "icon") {
					what := ct
					if what == "" {
						what = path
					}
					add(name, CheckImageFormat, fmt.Sprintf("image served as %s, not WebP or AVIF", what), StepCDN)
				}
			}
		}
		textual := isTextual(ct, path)
		if textual && enc == "" && t.MaxBytesIn >= compressMinBytes && (static || t.MaxBytesIn >= 100_000) {
			add(name, CheckCompression, fmt.Sprintf("%s text (%s) sent without compression (gzip or brotli)", fmtBytes(t.MaxBytesIn), orUnknown(ct)), StepCDN)
		}
		switch {
		case static && t.MaxBytesIn >= largeStaticBytes:
			add(name, CheckLargeBody, fmt.Sprintf("largest response %s: optimise it (resize, WebP/AVIF, minify) and serve it from a CDN", fmtBytes(t.MaxBytesIn)), StepCDN)
		case !static && t.MaxBytesIn >= largeDynamicBytes:
			add(name, CheckLargeBody, fmt.Sprintf("largest response %s: paginate or trim it, and cache it", fmtBytes(t.MaxBytesIn)), StepCache)
		}
	}
	return out
}

func hasAnySuffix(s string, suffixes ...string) bool {
	for _, x := range suffixes {
		if strings.HasSuffix(s, x) {
			return true
		}
	}
	return false
}

func orUnknown(s string) string {
	if s == "" {
		return "no content type"
	}
	return s
}

// readiness answers the pre-launch questions: p95 at baseline, the slowest
// request, whether anything looks cached, whether a third-party call sits
// in the request path, whether static assets come from the app server.
func (a *analyzer) readiness(out *Analysis) Readiness {
	var r Readiness
	// p95 at baseline.
	q := "Is p95 at baseline under 500 ms?"
	if a.lowOverall.samples >= a.minSamples {
		r.BaselineP95Ms = ms(a.lowOverall.p95)
		r.BaselineHealthy = r.BaselineP95Ms < 500
		at := fmt.Sprintf("at ≤ %s req/s", fmtRate(a.lowRate))
		switch {
		case r.BaselineHealthy:
			r.Answers = append(r.Answers, Answer{q, fmt.Sprintf("yes: %s %s", fmtMs(r.BaselineP95Ms), at), true})
		case r.BaselineP95Ms < 2000:
			r.Answers = append(r.Answers, Answer{q, fmt.Sprintf("no: %s %s; above 1–2 s users feel it", fmtMs(r.BaselineP95Ms), at), false})
		default:
			r.Answers = append(r.Answers, Answer{q, fmt.Sprintf("no: %s %s; users already feel it", fmtMs(r.BaselineP95Ms), at), false})
		}
	} else {
		r.Answers = append(r.Answers, Answer{q, fmt.Sprintf("unknown: fewer than %d samples at low load", a.minSamples), false})
	}

	// The slowest request at low load.
	slow := -1
	for i := range out.Requests {
		if out.Requests[i].LowP95Ms > 0 && (slow < 0 || out.Requests[i].LowP95Ms > out.Requests[slow].LowP95Ms) {
			slow = i
		}
	}
	q = "Which request is slowest at baseline?"
	if slow >= 0 {
		rr := &out.Requests[slow]
		r.Slowest, r.SlowestP95Ms = rr.Name, rr.LowP95Ms
		ans := fmt.Sprintf("%s: p95 %s", rr.Name, fmtMs(rr.LowP95Ms))
		ok := rr.LowP95Ms <= 500
		if !ok {
			ans += "; over 500 ms, it needs an index or a cache"
		}
		r.Answers = append(r.Answers, Answer{q, ans, ok})
	} else {
		r.Answers = append(r.Answers, Answer{q, "unknown: too few samples at low load", false})
	}

	// Anything cached?
	var cached []string
	for i, rr := range out.Requests {
		if rr.CacheHits > 0 {
			cached = append(cached, fmt.Sprintf("%s %s cache hits", rr.Name, fmtPct(rr.CacheHits)))
			continue
		}
		h := a.totals[i].Headers
		for _, k := range []string{"X-Cache", "X-Cache-Status", "CF-Cache-Status"} {
			if v := header(h, k); strings.Contains(strings.ToUpper(v), "HIT") {
				cached = append(cached, fmt.Sprintf("%s %s: %s", rr.Name, k, v))
				break
			}
		}
		if v := header(h, "Age"); v != "" && v != "0" && !strings.Contains(strings.Join(cached, " "), rr.Name+" ") {
			cached = append(cached, fmt.Sprintf("%s Age: %s", rr.Name, v))
		}
	}
	r.Cached = len(cached) > 0
	q = "Does anything look cached?"
	if r.Cached {
		r.Answers = append(r.Answers, Answer{q, "yes: " + joinAnd(cached), true})
	} else {
		r.Answers = append(r.Answers, Answer{q, "no: no cache hits in Server-Timing, no Age or X-Cache headers", false})
	}

	// A third-party call in the request path?
	var calls []string
	for i, rr := range out.Requests {
		for _, c := range rr.Timing {
			if c.Layer == LayerThirdParty {
				calls = append(calls, fmt.Sprintf("%s waits for %s (%s)", rr.Name, c.Name, fmtMs(max(c.LowMs, c.HighMs))))
				break
			}
		}
		if rr.Layer == LayerThirdParty && !a.attrib[i].callsOut {
			calls = append(calls, rr.Name+" ("+rr.Evidence+")")
		}
	}
	r.ThirdPartyInPath = len(calls) > 0
	q = "Is a third-party call inside a request?"
	if r.ThirdPartyInPath {
		r.Answers = append(r.Answers, Answer{q, "yes: " + joinAnd(calls) + "; its limits become yours", false})
	} else {
		r.Answers = append(r.Answers, Answer{q, "none seen", true})
	}

	// Static assets from the origin (the app, or a web server beside it)?
	var fromApp, viaCDN []string
	for i, name := range a.names {
		if !a.isStatic(i) || len(a.totals[i].Headers) == 0 {
			continue
		}
		if cdnMarker(a.totals[i].Headers) == "" {
			fromApp = append(fromApp, name)
		} else {
			viaCDN = append(viaCDN, name)
		}
	}
	r.StaticFromApp = len(fromApp) > 0
	q = "Are static assets served from the origin, with no CDN in front?"
	switch {
	case r.StaticFromApp:
		r.Answers = append(r.Answers, Answer{q, "yes: no CDN marker on " + joinAnd(fromApp), false})
	case len(viaCDN) > 0:
		r.Answers = append(r.Answers, Answer{q, "no: a CDN marker on " + joinAnd(viaCDN), true})
	default:
		r.Answers = append(r.Answers, Answer{q, "no static assets in the mix", true})
	}
	return r
}
