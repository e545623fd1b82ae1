package analysis

import (
	"fmt"
	"regexp"
	"strings"
)

// rule is one evidence rule: an observation about one request's
// degradation turned into evidence. Rules are values in one table (rules,
// below); adding one touches this file and its table of cases in
// rules_test.go. A rule reads only what observation holds, says what it saw with
// the numbers, and returns nothing when its observation is absent.
type rule struct {
	name string
	// doc says what the rule looks for and what it concludes.
	doc   string
	apply func(o *observation) []Evidence
}

// rules are the evidence rules, applied to every request in this order
// (the order matters only for listing: weights decide).
var rules = []rule{
	{
		name: "error-text",
		doc: "error bodies and transport messages that name a component: pool/acquire/" +
			"deadlock/SQLSTATE/statement timeout → database (queueing), too many clients/connection slots → database (refusing past its limit); redis/memcached/session store → auth " +
			"for login and session requests, else database; upstream/provider/quota → third-party; " +
			"token/session/unauthorised on a request that succeeded at low load → auth; overloaded/in flight/" +
			"queue full → backend (shedding)",
		apply: errorTextRule,
	},
	{
		name:  "status",
		doc:   "429 from the target itself → a rate limiter in front of the app; 429 or 502/504 with X-Upstream-Status, an upstream-naming body, or from a request that calls out → third-party; 401/403 that appear under load → auth",
		apply: statusRule,
	},
	{
		name:  "latency",
		doc:   "latency signatures: errors answered fast while latency stays flat → shedding; latency climbing to a deadline, then errors at that deadline → queueing; latency climbing without errors → queueing (weak); large bodies whose transfer, not the first byte, grew → bandwidth (frontend)",
		apply: latencyRule,
	},
	{
		name:  "own-call",
		doc:   "a request far slower than the others already at low load, that slows alone while they stay fast, then fails with a bare 500 at a fixed deadline → the app gave up, at its own timeout, on a call only this request makes: most often an outside API (third-party, weak)",
		apply: ownCallRule,
	},
	{
		name:  "transport",
		doc:   "connections refused or reset only under load → the app's listener or process gave out (backend)",
		apply: transportRule,
	},
}

// Error texts, matched case-insensitively on normalised bodies and
// transport messages. Status lines ("502 Bad Gateway") are removed before
// matching: a stock proxy page names no dependency.
var (
	dbTextRE = regexp.MustCompile(`(?i)\b(database|db|sql|sqlstate|postgres(ql)?|pq|pgx?|pgbouncer|mysql|mariadb|sqlite|mongo(db)?|deadlock|too many (clients|connections)|connection slots|statement timeout|query timeout|lock wait|connection pool|pool (exhausted|timeout|timed out)|acquir(e|ing) (a )?(db |database )?connection)\b`)
	dbPoolRE = regexp.MustCompile(`(?i)\b(pool|acquir|too many (clients|connections)|connection slots|timeout|timed out|lock wait|deadlock)`)
	// dbRefuseRE: the database refusing a connection past its limit, at
	// once, rather than a pool making requests wait.
	dbRefuseRE     = regexp.MustCompile(`(?i)(too many (clients|connections)|connection slots are reserved|sqlstate 53300|max_connections)`)
	cacheTextRE    = regexp.MustCompile(`(?i)\b(redis|memcached?|session store|valkey|keydb)\b`)
	upstreamTextRE = regexp.MustCompile(`(?i)\b(upstream|provider|quota|third[- ]party|external (api|service)|stripe|sendgrid|mailgun|postmark|twilio|smtp|paypal|openai|rate limit(ed)? by|api limit)\b`)
	authTextRE     = regexp.MustCompile(`(?i)\b(token|session|unauthori[sz]ed|jwt|csrf|not logged in|logged out|invalid credentials|expired)\b`)
	overloadTextRE = regexp.MustCompile(`(?i)\b(overload(ed)?|in flight|queue (is )?full|too busy|server busy|at capacity|max(imum)? connections|worker(s)? (busy|exhausted)|backpressure|shedding)\b`)
	limitTextRE    = regexp.MustCompile(`(?i)(\b429\b|too many requests|rate.?limit|quota|throttl)`)
	statusLineRE   = regexp.MustCompile(`(?i)\b\d{3}\s+(bad gateway|gateway time-?out|service (temporarily )?unavailable|internal server error|too many requests)\b`)
)

// errorTextRule reads the failures' texts.
func errorTextRule(o *observation) []Evidence {
	if o.errors == 0 {
		return nil
	}
	var out []Evidence
	type hit struct {
		n      uint64
		sample string
	}
	var db, pool, refuse, cache, upstream, auth, overload, limit hit
	for _, t := range o.texts {
		text := statusLineRE.ReplaceAllString(t.text, "")
		mark := func(h *hit, re *regexp.Regexp) {
			if re.MatchString(text) || re == limitTextRE && re.MatchString(t.text) {
				h.n += t.count
				if h.sample == "" {
					h.sample = t.text
				}
			}
		}
		// A cache or session store's own pool is not the database's.
		if cacheTextRE.MatchString(text) {
			mark(&cache, cacheTextRE)
		} else {
			mark(&db, dbTextRE)
			if dbTextRE.MatchString(text) {
				mark(&pool, dbPoolRE)
				mark(&refuse, dbRefuseRE)
			}
		}
		mark(&upstream, upstreamTextRE)
		mark(&auth, authTextRE)
		mark(&overload, overloadTextRE)
		mark(&limit, limitTextRE)
	}
	// A text seen in a meaningful share of the failures is strong
	// evidence; a stray one is fair.
	weight := func(h hit) float64 {
		if 5*h.n >= o.errors {
			return weightStrong
		}
		return weightFair
	}
	said := func(h hit) string {
		return fmt.Sprintf("error text: %q in %d of %d failures", shorten(h.sample, 90), h.n, o.errors)
	}
	if db.n > 0 {
		mech := MechErrors
		switch {
		case 2*refuse.n >= db.n && (o.errLatCount == 0 || o.errLatMean <= max(3*o.lowP95, o.lowP95+10)):
			// Refused past its connection limit, at once (a pool that
			// waited, then passed the refusal on, is queueing).
			mech = MechShedding
		case pool.n > 0:
			mech = MechQueueing
		}
		out = append(out, Evidence{Rule: "error-text", Layer: LayerDatabase, Mechanism: mech, Weight: weight(db), Text: said(db)})
	}
	if cache.n > 0 {
		l := LayerDatabase
		if o.authLike() {
			l = LayerAuth
		}
		out = append(out, Evidence{Rule: "error-text", Layer: l, Mechanism: MechQueueing, Weight: weight(cache), Text: said(cache)})
	}
	if upstream.n > 0 && db.n == 0 {
		mech := MechErrors
		if limit.n > 0 || o.statuses[429] > 0 {
			mech = MechUpstream
		}
		out = append(out, Evidence{Rule: "error-text", Layer: LayerThirdParty, Mechanism: mech, Weight: weight(upstream), Text: said(upstream)})
	}
	if auth.n > 0 && o.lowErrRate < 0.01 && db.n == 0 && upstream.n == 0 {
		out = append(out, Evidence{Rule: "error-text", Layer: LayerAuth, Mechanism: MechSession, Weight: weight(auth) - 2, Text: said(auth) + ", on a request that succeeded at low load"})
	}
	if overload.n > 0 && db.n == 0 && upstream.n == 0 {
		out = append(out, Evidence{Rule: "error-text", Layer: LayerBackend, Mechanism: MechShedding, Weight: weight(overload) - 2, Text: said(overload)})
	}
	return out
}

// statusRule reads the failures' statuses and headers.
func statusRule(o *observation) []Evidence {
	var out []Evidence
	upstreamMark := o.errHeaderWith("X-Upstream")
	if n := o.statuses[429]; n > 0 && 10*n >= o.errors {
		switch {
		case upstreamMark != "" || o.callsOut:
			why := upstreamMark
			if why == "" {
				why = "the request calls a third party (Server-Timing)"
			}
			out = append(out, Evidence{Rule: "status", Layer: LayerThirdParty, Mechanism: MechUpstream, Weight: weightStrong,
				Text: fmt.Sprintf("429 ×%d passed on from a dependency (%s)", n, why)})
		default:
			hdr := o.headerList("Retry-After", "RateLimit", "Server")
			out = append(out, Evidence{Rule: "status", Layer: LayerBackend, Mechanism: MechRateLimit, Weight: weightFair + 1,
				Text: fmt.Sprintf("429 Too Many Requests ×%d answered by the target itself%s: a rate limiter in front of the app", n, hdr)})
		}
	}
	gw := o.statuses[502] + o.statuses[504]
	if gw > 0 && 10*gw >= o.errors {
		namesUpstream := false
		namesDB := false
		for _, t := range o.texts {
			if t.status != 502 && t.status != 504 {
				continue
			}
			text := statusLineRE.ReplaceAllString(t.text, "")
			namesUpstream = namesUpstream || upstreamTextRE.MatchString(text) || limitTextRE.MatchString(text)
			namesDB = namesDB || dbTextRE.MatchString(text)
		}
		switch {
		case namesDB:
			// The error-text rule names the database.
		case upstreamMark != "" || namesUpstream || o.callsOut:
			why := upstreamMark
			switch {
			case why != "":
			case namesUpstream:
				why = "the body names the upstream"
			default:
				why = "the request calls a third party (Server-Timing)"
			}
			if o.errHeaders["Retry-After"] > 0 {
				why += ", Retry-After"
			}
			out = append(out, Evidence{Rule: "status", Layer: LayerThirdParty, Mechanism: MechUpstream, Weight: weightStrong,
				Text: fmt.Sprintf("502/504 ×%d from a dependency (%s)", gw, why)})
		default:
			// A gateway timeout says the app did not answer in time, not
			// which part of it was slow: no layer (which requests slowed
			// together says that), only the mechanism.
			out = append(out, Evidence{Rule: "status", Mechanism: MechQueueing, Weight: weightPath,
				Text: fmt.Sprintf("502/504 ×%d with no upstream named: a proxy in front could not get an answer from the app in time", gw)})
		}
	}
	if n := o.statuses[401] + o.statuses[403]; n > 0 && 5*n >= o.errors && o.lowErrRate < 0.01 {
		out = append(out, Evidence{Rule: "status", Layer: LayerAuth, Mechanism: MechSession, Weight: weightStrong - 2,
			Text: fmt.Sprintf("401/403 ×%d appeared under load on a request that succeeded at low load", n)})
	}
	return out
}

// latencyRule reads the latency signatures of the degraded span.
func latencyRule(o *observation) []Evidence {
	var out []Evidence
	flat := o.flat()
	errShare := 0.0
	if o.count > 0 {
		errShare = float64(o.errors) / float64(o.count)
	}
	fastErrors := o.errLatCount > 0 && o.errLatMean <= max(3*o.lowP95, o.lowP95+10)
	switch {
	case o.errors >= 5 && errShare >= 0.02 && fastErrors && flat:
		mech := MechShedding
		if o.statuses[429] > 0 && 2*o.statuses[429] >= o.errors {
			mech = MechRateLimit
		}
		text := fmt.Sprintf("%d of %d requests rejected in %s on average while p95 stayed at %s (%s at low load): errors rose, latency did not",
			o.errors, o.count, fmtMs(o.errLatMean), fmtMs(o.peakP95), fmtMs(o.lowP95))
		if o.peakP95 <= 0 {
			// Too few responses per window under load for a p95 there.
			text = fmt.Sprintf("%d of %d requests rejected in %s on average (%s p95 at low load): refused about as fast as it answered",
				o.errors, o.count, fmtMs(o.errLatMean), fmtMs(o.lowP95))
		}
		if o.healthyOther != "" {
			// The app answered other requests without a failure: the
			// refusal is this request's own, not the app's admission
			// control. Most often a dependency only it calls refuses at
			// once (a provider's rate limit, a circuit breaker); a
			// per-route limit is the other reading, hence weak.
			text += fmt.Sprintf(", while %s never failed: a refusal of this request's own, most likely a dependency only it calls (a provider's rate limit, a circuit breaker), else a per-route limit", o.healthyOther)
			out = append(out, Evidence{Rule: "latency", Mechanism: mech, Weight: weightFair, Text: text},
				Evidence{Rule: "latency", Layer: LayerThirdParty, Weight: weightPath - 0.5, Text: "refused alone: " + o.a.info[o.i].Name + " is refused at once while others are not"})
			break
		}
		if mech == MechShedding && 2*o.statuses[500] >= o.errors {
			// A limiter refuses with 503 or 429; a bare 500 answered at
			// once is an error the app passed on from something it called
			// that refused: with other requests failing the same way, what
			// they share, most often the database refusing connections.
			text += ": a bare 500 answered at once is an error passed on from something the app calls, not a limiter (503, 429); most often the database refusing connections (max_connections, a pool that fails fast)"
			out = append(out, Evidence{Rule: "latency", Layer: LayerDatabase, Mechanism: mech, Weight: weightPath + 0.5, Text: text})
			break
		}
		out = append(out, Evidence{Rule: "latency", Layer: LayerBackend, Mechanism: mech, Weight: weightFair, Text: text})
	case o.errors >= 5 && o.grew() && o.deadline():
		out = append(out, Evidence{Rule: "latency", Mechanism: MechQueueing, Weight: weightFair,
			Text: fmt.Sprintf("p95 climbed from %s to %s, then failures at a deadline: %d errors after %s",
				fmtMs(o.lowP95), fmtMs(o.peakP95), o.errLatCount, fmtSpan(o.errLatMin, o.errLatMax))})
	case o.climbed():
		out = append(out, Evidence{Rule: "latency", Mechanism: MechQueueing, Weight: weightPath,
			Text: fmt.Sprintf("p95 climbed from %s to %s", fmtMs(o.lowP95), fmtMs(o.peakP95))})
	}
	if o.meanBytes >= 64<<10 && o.spanTransferMs > 0 && o.grew() &&
		o.spanTransferMs >= 0.6*o.spanLatencyMs && o.spanFirstByteMs <= 0.4*o.spanLatencyMs {
		text := fmt.Sprintf("%s bodies: the transfer took %s of %s on average while the first byte came after %s",
			fmtBytes(uint64(o.meanBytes)), fmtMs(o.spanTransferMs), fmtMs(o.spanLatencyMs), fmtMs(o.spanFirstByteMs))
		if o.plateauBps > 0 {
			text += fmt.Sprintf("; throughput plateaued at %s/s", fmtBytes(uint64(o.plateauBps)))
		}
		out = append(out, Evidence{Rule: "latency", Layer: LayerFrontend, Mechanism: MechBandwidth, Weight: weightStrong - 2, Text: text})
	}
	return out
}

// ownCallRule reads a request that waits on something only it calls: far
// slower than the others from the lowest load (a network call where they
// read locally), slowing alone, and failing with 500 at a deadline the
// app set (not a proxy's 504, not spike's timeout).
func ownCallRule(o *observation) []Evidence {
	// At a deadline: the failures bunched at one latency, well past the
	// request's own low-load p95.
	deadline := o.errLatCount >= 5 && o.errLatMin >= 0.8*o.errLatMax && o.errLatMean >= 2*o.lowP95
	if o.healthyOther == "" || o.othersLowP95 <= 0 || !deadline || 2*o.statuses[500] < o.errors {
		return nil
	}
	if o.lowP95 < max(50, 20*o.othersLowP95) {
		return nil
	}
	return []Evidence{{Rule: "own-call", Layer: LayerThirdParty, Mechanism: MechUpstream, Weight: weightPath,
		Text: fmt.Sprintf("%s took %s at low load where the other requests took %s, slowed alone while %s did not, then failed with 500 at %s: the app gave up, at its own timeout, on a call only it makes; most often an outside API",
			o.a.names[o.i], fmtMs(o.lowP95), fmtMs(o.othersLowP95), o.healthyOther, fmtSpan(o.errLatMin, o.errLatMax))}}
}

// transportRule reads transport failures that only came under load.
func transportRule(o *observation) []Evidence {
	n := o.kinds["refused"] + o.kinds["reset"]
	if n == 0 || 5*n < o.errors || o.lowErrRate >= 0.01 {
		return nil
	}
	return []Evidence{{Rule: "transport", Layer: LayerBackend, Mechanism: MechSaturation, Weight: weightFair - 1,
		Text: fmt.Sprintf("%d connections refused or reset under load (none at low load): the app's listener or process gave out", n)}}
}

// headerList formats the diagnosis headers of the failures that were
// seen among names: " (Retry-After, Server: nginx)".
func (o *observation) headerList(names ...string) string {
	var seen []string
	for _, n := range names {
		if h := o.errHeaderWith(n); h != "" {
			seen = append(seen, h)
		}
	}
	if len(seen) == 0 {
		return ""
	}
	return " (" + strings.Join(seen, ", ") + ")"
}

// errHeaderWith returns the most frequent failure header key starting
// with prefix ("" if none).
func (o *observation) errHeaderWith(prefix string) string {
	best, n := "", uint64(0)
	for k, c := range o.errHeaders {
		if strings.HasPrefix(k, prefix) && (c > n || c == n && k < best) {
			best, n = k, c
		}
	}
	return best
}
