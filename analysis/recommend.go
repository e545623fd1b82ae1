package analysis

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Recommendations follow the DESIGN.md fix order and are made only for what
// the run showed:
//
//  1. observability: no response carried Server-Timing, or errors carried no
//     detail beyond their status;
//  2. CDN and image optimisation: the frontend cracked or broke;
//  3. a cache for hot reads: the database cracked or broke; one per GET
//     request of the database layer, with the DESIGN.md TTL for what it
//     looks like (profiles 5–15 min, feeds 1–5 min, home and featured
//     1–60 min, tokens the session's length; real-time prices never);
//  4. queues: the third-party layer cracked or broke, or a request that
//     calls out answered 429/502;
//  5. horizontal scaling: 5xx across most endpoints at once, the backend
//     broke, or the auth layer broke (sessions must leave the process first);
//  6. read replicas: the database broke with reads that cannot be cached
//     (real-time, already cached, or writes only);
//  7. extracting services is never recommended from one load test.
//
// Each title cites the measured numbers. Within a step, recommendations for
// layers that broke earlier come first, then by share of the mix.
func (a *analyzer) recommend(out *Analysis) []Recommendation {
	type rec struct {
		Recommendation
		rank  int
		share float64
	}
	var recs []rec
	add := func(r Recommendation, rank int, share float64) {
		r.Area = StepName(r.Step)
		if rank == 0 {
			rank = 1 << 20
		}
		recs = append(recs, rec{r, rank, share})
	}
	layer := func(name string) *LayerReport {
		for k := range out.Layers {
			if out.Layers[k].Layer == name {
				return &out.Layers[k]
			}
		}
		return nil
	}
	degraded := func(l *LayerReport) bool { return l != nil && !l.Collateral && (l.Broke != nil || l.Cracked != nil) }
	when := func(l *LayerReport) *Point {
		if l.Broke != nil {
			return l.Broke
		}
		return l.Cracked
	}

	// 1. Observability.
	anyTiming := false
	var errs uint64
	detail := false
	for i, t := range a.totals {
		anyTiming = anyTiming || t.ServerTiming || len(out.Requests[i].Timing) > 0
		errs += t.Errors
		for _, e := range t.ErrorSamples {
			detail = detail || hasDetail(e.Message)
		}
	}
	noDetail := errs > 0 && !detail
	if !anyTiming || noDetail {
		var why []string
		if !anyTiming {
			why = append(why, fmt.Sprintf("none of the %d request types returned Server-Timing", len(a.names)))
		}
		if noDetail {
			why = append(why, fmt.Sprintf("%d errors carried no detail beyond their status", errs))
		} else if errs > 0 {
			why = append(why, fmt.Sprintf("%d errors were seen", errs))
		}
		title := "Add observability first: " + joinAnd(why)
		if !anyTiming {
			guessed, degraded := false, false
			for _, l := range out.Layers {
				if l.Broke != nil || l.Cracked != nil {
					degraded = true
					guessed = guessed || l.Confidence == ConfidenceWeak || l.Confidence == ConfidenceUnconfirmed
				}
			}
			switch {
			case guessed:
				title += ", so some layers were guessed from paths and timing alone"
			case degraded:
				title += ", so layers were read from error texts, statuses and latency alone"
			}
		}
		add(Recommendation{Step: StepObservability, Title: title,
			Detail: "error tracking with the real error message, query and upstream timing (Server-Timing: db, cache, ext, or an APM), and p95 dashboards per endpoint"}, 0, 1)
	}

	if a.stalls != nil {
		add(Recommendation{Step: StepObservability, Title: "Find the periodic pauses: " + a.stalls.Text,
			Detail: "look for what runs at that period: garbage-collection pauses (GC logs, GODEBUG=gctrace=1, the JVM's GC log), stop-the-world events, cron jobs, backups or cache flushes"}, 0, 0.5)
	}

	// 2. CDN and image optimisation.
	if l := layer(LayerFrontend); degraded(l) {
		title := fmt.Sprintf("Serve static assets from a CDN and optimise images: they are %s of requests and %s",
			fmtPct(l.Share), reached("their", l.PeakP95Ms, l.Errors, pointOr(l.PeakAt, when(l))))
		var big []string
		for _, name := range l.Requests {
			i := slices.Index(a.names, name)
			if n := a.totals[i].MaxBytesIn; n >= 100_000 {
				big = append(big, fmt.Sprintf("%s is %s %s", name, fmtBytes(n), mediaType(header(a.totals[i].Headers, "Content-Type"))))
			}
		}
		if len(big) > 0 {
			title += "; " + joinAnd(big)
		}
		add(Recommendation{Step: StepCDN, Layer: LayerFrontend, Requests: l.Requests, Title: title,
			Detail: "put a CDN in front of the static files with long-lived Cache-Control on fingerprinted names, serve WebP/AVIF images, compress text (gzip or brotli)"},
			l.Rank, l.Share)
	}

	// 3. Cache for hot reads (and 6. replicas for what a cache cannot take).
	if l := layer(LayerDatabase); degraded(l) {
		type hotRead struct {
			key, ttl, what string
			names          []string
			share, peakP95 float64
			errors         uint64
			peak           *Point
		}
		var hot []hotRead
		var uncacheable []string
		reads := 0
		if l.Mechanism == MechShedding && l.Broke != nil {
			// The database refused at once: more connections were asked
			// for than it allows.
			add(Recommendation{Step: StepCache, Layer: LayerDatabase, Requests: l.Requests,
				Title:  fmt.Sprintf("Keep connections to the database below its limit: it refused at once from %s; size each app instance's pool so that all of them together stay under max_connections, or put a pooler (PgBouncer) in front", l.Broke.at()),
				Detail: "a pool that waits (with a deadline) instead of opening more connections turns refusals into short queues; then cache hot reads so that fewer queries need one"},
				l.Rank, l.Share)
		}
		for _, name := range l.Requests {
			i := slices.Index(a.names, name)
			rr := &out.Requests[i]
			if rr.Method != "" && !strings.EqualFold(rr.Method, "GET") && !strings.EqualFold(rr.Method, "HEAD") && rr.Mechanism != MechSlowWork &&
				rr.PeakP95Ms > 0 && (rr.LowP95Ms <= 0 || rr.PeakP95Ms >= 2*rr.LowP95Ms) {
				// A write that slowed holds its connection (and its row
				// locks) while it waits: reads then wait for connections.
				add(Recommendation{Step: StepCache, Layer: LayerDatabase, Requests: []string{name},
					Title:  fmt.Sprintf("Keep %s's transaction short: %s; a write that waits on a lock holds a connection the reads then wait for", display(rr), reached("its", rr.PeakP95Ms, rr.Errors, pointOr(rr.PeakAt, when(l)))),
					Detail: "no network calls or sleeps inside the transaction; update hot rows (counters, stock) atomically or batch them through a queue; index what its WHERE clause looks up"},
					l.Rank, rr.Share)
				continue
			}
			if rr.Mechanism == MechSlowWork {
				// Slow at any load: make it fast before caching around it.
				add(Recommendation{Step: StepCache, Layer: LayerDatabase, Requests: []string{name},
					Title:  fmt.Sprintf("Make %s fast at any load first: it was over its limit from the lowest load and %s", display(rr), reached("its", rr.PeakP95Ms, rr.Errors, pointOr(rr.PeakAt, when(l)))),
					Detail: "find its query (EXPLAIN ANALYZE with the parameters it is sent), add the index it scans without, bound what it returns (pagination, a LIMIT); then cache it if it is a hot read"},
					l.Rank, rr.Share)
				continue
			}
			if rr.Method != "" && !strings.EqualFold(rr.Method, "GET") {
				continue
			}
			reads++
			ttl, what := cacheTTL(rr.URL)
			if ttl == "" || rr.CacheHits >= 0.5 {
				uncacheable = append(uncacheable, name)
				if ttl != "" {
					continue
				}
			}
			if ttl == "" {
				continue
			}
			// One endpoint sent under several names (a journey's feed-1,
			// feed-2, …) is one thing to cache.
			key := display(rr)
			k := slices.IndexFunc(hot, func(h hotRead) bool { return h.key == key })
			if k < 0 {
				hot = append(hot, hotRead{key: key, ttl: ttl, what: what})
				k = len(hot) - 1
			}
			h := &hot[k]
			h.names = append(h.names, name)
			h.share += rr.Share
			h.errors += rr.Errors
			if rr.PeakP95Ms >= h.peakP95 {
				h.peakP95, h.peak = rr.PeakP95Ms, pointOr(rr.PeakAt, when(l))
			}
		}
		for _, h := range hot {
			title := fmt.Sprintf("Cache %s for %s (%s): it carried %s of requests and %s",
				h.key, h.ttl, h.what, fmtPct(h.share), reached("its", h.peakP95, h.errors, h.peak))
			add(Recommendation{Step: StepCache, Layer: LayerDatabase, Requests: h.names, Title: title,
				Detail: "cache the response (or its query) in Redis or in process with that TTL, and invalidate it on writes; size the connection pool to what the database can run at once (more app instances would only open more connections)"},
				l.Rank, h.share)
		}
		if l.Broke != nil && (len(uncacheable) > 0 || reads == 0) {
			what := "the database's load"
			reqs := l.Requests
			if len(uncacheable) > 0 {
				what = joinAnd(uncacheable) + ", which a cache cannot take"
				reqs = uncacheable
			}
			add(Recommendation{Step: StepReplicas, Layer: LayerDatabase, Requests: reqs,
				Title:  fmt.Sprintf("Add read replicas (or a larger database) for %s: the database broke at %s", what, l.Broke.at()),
				Detail: "route reads to replicas and keep writes on the primary; size the connection pool to what the database can run at once"},
				l.Rank, l.Share)
		}
	}

	// 4. Queues for calls to third parties.
	tp := layer(LayerThirdParty)
	var outCalls, outNames []string
	share := 0.0
	var failed uint64
	var first *Point
	for i, rr := range out.Requests {
		upstream := rr.Statuses["429"] + rr.Statuses["502"]
		calledOut := a.attrib[i].callsOut && upstream >= 3 && float64(upstream) >= 0.01*float64(rr.Count)
		if !(rr.Layer == LayerThirdParty && degraded(tp)) && !calledOut {
			continue
		}
		if d := display(&out.Requests[i]); !slices.Contains(outCalls, d) {
			outCalls = append(outCalls, d)
		}
		outNames = append(outNames, rr.Name)
		share += rr.Share
		failed += rr.Statuses["429"] + rr.Statuses["502"] + rr.Statuses["503"] + rr.Statuses["504"]
		if p := pointOr(rr.Broke, rr.Cracked); p != nil && (first == nil || p.Window < first.Window) {
			first = p
		}
	}
	if len(outCalls) > 0 {
		title := fmt.Sprintf("Put the third-party call of %s on a queue with retry and backoff: %s of requests", joinAnd(outCalls), fmtPct(share))
		if failed > 0 {
			title += fmt.Sprintf(", %d answered 429/502/503/504", failed)
		}
		if first != nil {
			title += " from " + first.at()
		}
		if tp != nil && tp.Symptom != nil && len(tp.Symptom.Evidence) > 0 {
			for _, e := range tp.Symptom.Evidence {
				if strings.HasPrefix(e, "error sample") {
					title += " (" + strings.TrimPrefix(e, "error sample: ") + ")"
					break
				}
			}
		}
		rank := 0
		if tp != nil {
			rank = tp.Rank
		}
		add(Recommendation{Step: StepQueue, Layer: LayerThirdParty, Requests: outNames, Title: title,
			Detail: "enqueue the call and answer at once (202); workers send within the provider's rate limit, retrying 429s with exponential backoff"},
			rank, share)
	}

	// 5. Horizontal scaling, and sessions out of the process.
	if l := layer(LayerBackend); l != nil && l.Broke != nil {
		switch {
		case l.Mechanism == MechRateLimit || l.Mechanism == MechShedding:
			reqs := make([]int, 0, len(l.Requests))
			for _, name := range l.Requests {
				reqs = append(reqs, slices.Index(a.names, name))
			}
			passed := a.passedRate(reqs, l.Broke.Window, a.nwin)
			what := "a limiter rejects"
			if l.Mechanism == MechShedding {
				what = "the target sheds"
			}
			add(Recommendation{Step: StepScale, Layer: LayerBackend, Requests: l.Requests,
				Title: fmt.Sprintf("Raise the limit, or scale what it protects: %s the excess above ~%s req/s from %s (e.g. nginx limit_req, a gateway quota, an in-flight cap)",
					what, fmtRate(passed), l.Broke.at()),
				Detail: "find the limiter (its responses came back at once, latency flat): nginx limit_req/limit_conn, the API gateway's quota or the app's admission limit; raise it to the launch's peak if what it protects has room, otherwise scale that first"},
				l.Rank, max(l.Share, 1))
		case l.Confidence == ConfidenceUnconfirmed || l.Confidence == ConfidenceWeak:
			title := fmt.Sprintf("Find what saturates, then run more instances: the backend broke at %s (unconfirmed: no error text, status or Server-Timing named a layer)", l.Broke.at())
			if l.Symptom != nil {
				title += ": " + l.Symptom.Text
			}
			add(Recommendation{Step: StepScale, Layer: LayerBackend, Requests: l.Requests, Title: title,
				Detail: "add Server-Timing or an APM to see whether the app's CPU, a pool or a dependency saturates; if it is the app itself, add instances behind a load balancer (sessions and caches out of the process first)"},
				l.Rank, max(l.Share, 1))
		default:
			title := fmt.Sprintf("Run more instances behind a load balancer: the backend broke at %s", l.Broke.at())
			if l.Symptom != nil {
				title += ": " + l.Symptom.Text
			}
			add(Recommendation{Step: StepScale, Layer: LayerBackend, Requests: l.Requests, Title: title,
				Detail: "add instances behind a load balancer (and move sessions and caches out of the process first, so any instance can serve any user)"},
				l.Rank, max(l.Share, 1))
		}
	}
	if l := layer(LayerAuth); degraded(l) {
		var shown []string
		for _, name := range l.Requests {
			if d := display(&out.Requests[slices.Index(a.names, name)]); !slices.Contains(shown, d) {
				shown = append(shown, d)
			}
		}
		title := fmt.Sprintf("Unblock the session store: a shared store with enough connections, no global lock and no slow commands on the login path: %s (%s of requests) degraded from %s",
			joinAnd(shown), fmtPct(l.Share), when(l).at())
		if l.Errors > 0 {
			title += fmt.Sprintf(", %d failed", l.Errors)
		}
		if l.Symptom != nil {
			for _, e := range l.Symptom.Evidence {
				if strings.HasPrefix(e, "error sample") {
					title += " (" + strings.TrimPrefix(e, "error sample: ") + ")"
					break
				}
			}
		}
		add(Recommendation{Step: StepScale, Layer: LayerAuth, Requests: l.Requests, Title: title,
			Detail: "keep sessions in Redis or the database (or use signed tokens) so logins don't serialise on one process's lock and instances can be added"},
			l.Rank, l.Share)
	}

	// What moves the breakpoint (a fix for the layer that broke first)
	// leads; among fixes of equal effect, the fix order.
	// With thin evidence for the first layer, finding out (observability)
	// comes first and nothing claims to move the breakpoint.
	sure := map[string]bool{}
	for _, l := range out.Layers {
		sure[l.Layer] = l.Rank == 1 && (l.Confidence == ConfidenceTagged || l.Confidence == ConfidenceStrong || l.Confidence == ConfidenceModerate)
	}
	for k := range recs {
		recs[k].MovesBreakpoint = recs[k].rank == 1 && sure[recs[k].Layer]
	}
	moves := func(r rec) int {
		if r.MovesBreakpoint {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(recs, func(x, y rec) int {
		return cmp.Or(cmp.Compare(moves(x), moves(y)), cmp.Compare(x.Step, y.Step), cmp.Compare(x.rank, y.rank), cmp.Compare(y.share, x.share))
	})
	res := make([]Recommendation, len(recs))
	for k, r := range recs {
		res[k] = r.Recommendation
	}
	return res
}

// reached says how far a request or layer degraded: "its p95 reached 1.8 s
// at 62 req/s (3.1x), with 87 errors", or, without a judged p95, its
// errors.
func reached(whose string, p95 float64, errs uint64, at *Point) string {
	var s string
	switch {
	case p95 > 0:
		s = fmt.Sprintf("%s p95 reached %s", whose, fmtMs(p95))
		if at != nil {
			s += " at " + at.at()
		}
		if errs > 0 {
			s += fmt.Sprintf(", with %d errors", errs)
		}
	case errs > 0:
		s = fmt.Sprintf("%d failed", errs)
		if at != nil {
			s += " from " + at.at()
		}
	default:
		s = "it degraded"
		if at != nil {
			s += " from " + at.at()
		}
	}
	return s
}

func pointOr(p, q *Point) *Point {
	if p != nil {
		return p
	}
	return q
}

// cacheTTL returns the DESIGN.md caching guidance for what a URL looks
// like; "" for real-time data that must not be cached.
func cacheTTL(u string) (ttl, what string) {
	p := urlPath(u)
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(p, w) {
				return true
			}
		}
		return false
	}
	switch {
	case has("price", "stock", "quote", "ticker", "inventory", "realtime", "live"):
		return "", "real-time data"
	case has("token", "session", "auth"):
		return "the session's length", "auth tokens"
	case has("profile", "user", "account", "/me"):
		return "5–15 min", "user profiles"
	case has("feed", "timeline", "activity", "notification", "inbox"):
		return "1–5 min, per user, conditionally", "per-user feeds"
	case p == "/" || p == "" || has("home", "index", "featured", "popular", "trending", "landing", "top"):
		return "1–60 min", "homepage and featured content"
	}
	return "1–5 min", "a hot read"
}

var templateRE = regexp.MustCompile(`\{\{[^}]*\}\}`)

// display names a request as "GET /api/profile/{id}".
func display(rr *RequestReport) string {
	p := rr.URL
	if i := strings.Index(p, "://"); i >= 0 {
		p = urlPathKeepCase(p)
	}
	p = templateRE.ReplaceAllStringFunc(p, func(t string) string {
		l := strings.ToLower(t)
		if strings.Contains(l, "id") || strings.Contains(l, "user") || strings.Contains(l, "seq") || strings.Contains(l, "int") {
			return "{id}"
		}
		return "{…}"
	})
	if p == "" {
		return rr.Name
	}
	m := rr.Method
	if m == "" {
		m = "GET"
	}
	return m + " " + p
}

func urlPathKeepCase(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
		if j := strings.IndexByte(u, '/'); j >= 0 {
			return u[j:]
		}
		return "/"
	}
	return u
}

// mediaType returns a Content-Type without parameters.
func mediaType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.TrimSpace(ct)
}
