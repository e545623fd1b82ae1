package analysis

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spikeload/spike/engine"
)

// shortSymptom names each class in a few words, for headlines.
var shortSymptom = map[string]string{
	SymptomLatencyThenErrors:     "latency climbed, then errors",
	SymptomRisingLatency:         "latency climbed",
	SymptomErrorsAcrossEndpoints: "5xx across endpoints at once",
	SymptomRateLimited:           "rate-limited upstream",
	SymptomUpstreamFailed:        "third-party calls failed",
	SymptomAuthFailures:          "logins failed",
	SymptomAuthSlow:              "logins slowed",
	SymptomSlowStatic:            "static assets slowed",
	SymptomErrors:                "errors",
	SymptomOverLimit:             "over the latency limit",
	SymptomShedding:              "requests rejected at once, latency flat",
	SymptomLimiter:               "a rate limiter answered 429 at once",
	SymptomBandwidth:             "large responses hit a bytes/s ceiling",
	SymptomSaturation:            "every request slowed together",
}

// seen aggregates what a layer's requests showed over a span of windows.
type seen struct {
	count, errors uint64
	statuses      map[int]uint64
	kinds         map[string]uint64
	firstErr      int
	samples       []engine.ErrorSample
	maxBody       uint64
	maxBodyReq    string
}

func (s *seen) status(lo, hi int) uint64 {
	var n uint64
	for c, k := range s.statuses {
		if c >= lo && c <= hi {
			n += k
		}
	}
	return n
}

// summary formats the failures: "503 ×412, 502 ×12, timeout ×3".
func (s *seen) summary() string {
	type kv struct {
		k string
		n uint64
	}
	var items []kv
	for c, n := range s.statuses {
		if c >= 400 && n > 0 {
			items = append(items, kv{strconv.Itoa(c), n})
		}
	}
	for k, n := range s.kinds {
		if n > 0 {
			items = append(items, kv{k, n})
		}
	}
	slices.SortFunc(items, func(x, y kv) int { return cmp.Or(cmp.Compare(y.n, x.n), cmp.Compare(x.k, y.k)) })
	parts := make([]string, 0, len(items))
	for _, it := range items {
		parts = append(parts, fmt.Sprintf("%s ×%d", it.k, it.n))
	}
	return strings.Join(parts, ", ")
}

// topSample returns the most frequent error message, its detail quoted:
// `"database pool exhausted" (412)`.
func (s *seen) topSample() string {
	if len(s.samples) == 0 {
		return ""
	}
	e := s.samples[0]
	return fmt.Sprintf("%q (%d)", shorten(errorDetail(e.Message), 70), e.Count)
}

// errorDetail strips the status line from an error sample ("503 Service
// Unavailable: database pool exhausted" → "database pool exhausted").
func errorDetail(msg string) string {
	if i := strings.Index(msg, ": "); i > 0 {
		if _, err := strconv.Atoi(strings.Fields(msg[:i])[0]); err == nil {
			return strings.TrimSpace(msg[i+2:])
		}
	}
	return msg
}

// hasDetail reports whether an error sample says more than its status.
func hasDetail(msg string) bool {
	d := errorDetail(msg)
	if d == msg {
		// A transport error, or a bare status line.
		f := strings.Fields(msg)
		if len(f) > 0 {
			if _, err := strconv.Atoi(f[0]); err == nil {
				return false
			}
		}
		return true
	}
	return len(strings.TrimSpace(d)) >= 3
}

// shorten cuts s to about n bytes, on a rune boundary, marking the cut.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// gather sums what requests showed in windows [from, to).
func (a *analyzer) gather(reqs []int, from, to int) *seen {
	s := &seen{statuses: map[int]uint64{}, kinds: map[string]uint64{}, firstErr: -1}
	for w := max(0, from); w < min(to, a.nwin); w++ {
		for _, i := range reqs {
			wr := a.r.Windows[w].Requests[a.names[i]]
			if wr == nil {
				continue
			}
			s.count += wr.OK + wr.Errors
			s.errors += wr.Errors
			if wr.Errors > 0 && s.firstErr < 0 {
				s.firstErr = w
			}
			for code, n := range wr.Statuses {
				if c, err := strconv.Atoi(code); err == nil {
					s.statuses[c] += n
				}
			}
			for k, n := range wr.ErrorKinds {
				s.kinds[k] += n
			}
		}
	}
	// Error samples over the same windows as the counts, so that the
	// numbers in one sentence add up; the whole run's samples only for
	// results without per-window bodies, and for transport errors.
	keys := map[string]int{}
	for w := max(0, from); w < min(to, a.nwin); w++ {
		for _, i := range reqs {
			wr := a.r.Windows[w].Requests[a.names[i]]
			if wr == nil {
				continue
			}
			for _, b := range wr.ErrorBodies {
				msg := strconv.Itoa(b.Status) + " " + http.StatusText(b.Status)
				if b.Text != "" && !strings.EqualFold(b.Text, msg) {
					msg += ": " + b.Text
				}
				k := engine.BodyKey(msg)
				if j, ok := keys[k]; ok {
					s.samples[j].Count += b.Count
					continue
				}
				keys[k] = len(s.samples)
				s.samples = append(s.samples, engine.ErrorSample{Message: msg, Count: b.Count})
			}
		}
	}
	perWindow := len(s.samples) > 0
	for _, i := range reqs {
		t := a.totals[i]
		for _, e := range t.ErrorSamples {
			transport := e.Message == "" || e.Message[0] < '0' || e.Message[0] > '9'
			if !perWindow || transport && len(s.kinds) > 0 {
				s.samples = append(s.samples, e)
			}
		}
		if t.MaxBytesIn > s.maxBody {
			s.maxBody, s.maxBodyReq = t.MaxBytesIn, a.names[i]
		}
	}
	// The same message from several requests counts once, summed.
	merged := map[string]uint64{}
	var order []string
	for _, e := range s.samples {
		if _, ok := merged[e.Message]; !ok {
			order = append(order, e.Message)
		}
		merged[e.Message] += e.Count
	}
	s.samples = s.samples[:0]
	for _, m := range order {
		s.samples = append(s.samples, engine.ErrorSample{Message: m, Count: merged[m]})
	}
	slices.SortStableFunc(s.samples, func(x, y engine.ErrorSample) int {
		return cmp.Or(cmp.Compare(y.Count, x.Count), cmp.Compare(x.Message, y.Message))
	})
	return s
}

// symptom classifies what a layer showed from its first crack or break to
// the break's recovery (or the run's end), and says it with numbers.
func (a *analyzer) symptom(ls *layerState, reqs []RequestReport) *Symptom {
	rep := &ls.rep
	from := a.nwin
	if rep.Cracked != nil {
		from = rep.Cracked.Window
	}
	if rep.Broke != nil {
		from = min(from, rep.Broke.Window)
	}
	to := a.nwin
	if rep.Recovered != nil {
		to = rep.Recovered.Window
	} else if rep.Broke == nil && len(ls.cracked) > 0 && ls.cracked[0].end >= 0 {
		to = ls.cracked[0].end
	}

	if ls.wide != nil {
		all := make([]int, len(a.names))
		for i := range all {
			all[i] = i
		}
		s := a.gather(all, ls.wide.window, min(a.nwin, ls.wide.window+2*a.sustain))
		codes := make([]string, 0, len(ls.wide.statuses))
		for c := range ls.wide.statuses {
			codes = append(codes, c)
		}
		slices.Sort(codes)
		sym := &Symptom{Class: SymptomErrorsAcrossEndpoints}
		sym.Text = fmt.Sprintf("%s across %d of %d endpoints at once from %s",
			strings.Join(codes, "/"), ls.wide.failing, ls.wide.total, a.point(ls.wide.window).at())
		if t := topServerSample(s.samples); t != "" {
			sym.Text += ": " + t
		}
		sym.Evidence = append(sym.Evidence,
			fmt.Sprintf("%d of %d request types answered %s in the %d windows from the break, in %d layers",
				ls.wide.failing, ls.wide.total, strings.Join(codes, "/"), 2*a.sustain, ls.wide.layers))
		if sum := s.summary(); sum != "" {
			sym.Evidence = append(sym.Evidence, "errors: "+sum)
		}
		return sym
	}

	s := a.gather(a.layerReqs[ls.idx], from, to)
	grew := rep.Cracked != nil || (rep.LowP95Ms > 0 && rep.PeakP95Ms > a.factor*rep.LowP95Ms &&
		rep.PeakP95Ms-rep.LowP95Ms >= ms(CrackMinGrowth))
	timeouts := s.kinds[engine.KindTimeout] + s.statuses[504]
	fivexx := s.status(500, 599)
	authFail := s.statuses[401] + s.statuses[403]
	upstream := s.statuses[429] + s.statuses[502]
	latency := ""
	switch {
	case grew && rep.LowP95Ms > 0:
		latency = fmt.Sprintf("p95 rose from %s to %s", fmtMs(rep.LowP95Ms), fmtMs(rep.PeakP95Ms))
		if rep.PeakAt != nil {
			latency += " at " + rep.PeakAt.at()
		}
	case rep.PeakP95Ms > 0:
		latency = "p95 reached " + fmtMs(rep.PeakP95Ms)
		if rep.LowP95Ms > 0 {
			latency = fmt.Sprintf("p95 %s at low load, %s at most", fmtMs(rep.LowP95Ms), fmtMs(rep.PeakP95Ms))
		}
	}
	errs := ""
	if s.errors > 0 {
		errs = fmt.Sprintf("%d errors (%s)", s.errors, s.summary())
		if t := s.topSample(); t != "" {
			errs += ": " + t
		}
		if o := a.layerObs(ls.idx); o != nil && o.deadline() {
			errs += ", after " + fmtSpan(o.errLatMin, o.errLatMax) + " (a deadline)"
		}
	}
	start := rep.Broke
	if start == nil {
		start = rep.Cracked
	}
	sym := &Symptom{}
	o := a.layerObs(ls.idx)
	grew = grew && (o == nil || o.climbed())
	// A request too sparse for a p95 under load has none to quote.
	timed := o != nil && o.peakP95 > 0
	switch {
	case rep.Mechanism == MechRateLimit && timed && o.errLatCount > 0 && !grew:
		sym.Class = SymptomLimiter
		sym.Text = fmt.Sprintf("a limiter answered %d of %d requests with 429 from %s, in %s on average, while p95 stayed at %s (%s at low load); about %s req/s got through",
			s.statuses[429], s.count, start.at(), fmtMs(o.errLatMean), fmtMs(o.peakP95), fmtMs(o.lowP95), fmtRate(a.passedRate(a.layerReqs[ls.idx], from, to)))
	case (rep.Mechanism == MechShedding || rep.Mechanism == MechRateLimit) && timed && o.errLatCount > 0 && !grew:
		sym.Class = SymptomShedding
		sym.Text = fmt.Sprintf("%d of %d requests rejected from %s (%s), answered in %s on average, while p95 stayed at %s (%s at low load); about %s req/s got through",
			s.errors, s.count, start.at(), s.summary(), fmtMs(o.errLatMean), fmtMs(o.peakP95), fmtMs(o.lowP95), fmtRate(a.passedRate(a.layerReqs[ls.idx], from, to)))
		if t := s.topSample(); t != "" {
			sym.Text += ": " + t
		}
	case rep.Mechanism == MechBandwidth && o != nil:
		sym.Class = SymptomBandwidth
		sym.Text = fmt.Sprintf("%s: %s bodies took %s to transfer while the first byte came after %s", latency,
			fmtBytes(uint64(o.meanBytes)), fmtMs(o.spanTransferMs), fmtMs(o.spanFirstByteMs))
		if o.plateauBps > 0 {
			sym.Text += fmt.Sprintf("; throughput plateaued at %s/s", fmtBytes(uint64(o.plateauBps)))
		}
		if errs != "" {
			sym.Text += "; " + errs
		}
	case rep.Mechanism == MechSaturation && grew:
		sym.Class = SymptomSaturation
		sym.Text = "every request slowed together: " + latency
		if errs != "" {
			sym.Text += ", then " + errs
		}
	case s.statuses[429] > 0 || (rep.Layer == LayerThirdParty && mentions429(s.samples)):
		sym.Class = SymptomRateLimited
		sym.Text = fmt.Sprintf("rate-limited upstream from %s: %s", start.at(), errs)
	case rep.Layer == LayerThirdParty && upstream > 0:
		// 502/504 from the upstream call without a 429 in sight: it
		// failed (timed out, refused), it did not say it was limiting.
		sym.Class = SymptomUpstreamFailed
		sym.Text = fmt.Sprintf("calls to a third party failed from %s: %s", start.at(), errs)
	case rep.Layer == LayerAuth && (authFail > 0 || fivexx > 0 || timeouts > 0):
		sym.Class = SymptomAuthFailures
		sym.Text = fmt.Sprintf("login/session requests failed from %s: %s", start.at(), errs)
		if grew && latency != "" {
			sym.Text += "; " + latency
		}
	case rep.Layer == LayerAuth && grew:
		sym.Class = SymptomAuthSlow
		sym.Text = fmt.Sprintf("login/session requests slowed first: %s", latency)
	case rep.Layer == LayerFrontend && (grew || s.errors > 0):
		sym.Class = SymptomSlowStatic
		sym.Text = "static assets slowed"
		if latency != "" {
			sym.Text += ": " + latency
		}
		if s.maxBody > 0 {
			sym.Text += fmt.Sprintf("; largest body %s (%s)", fmtBytes(s.maxBody), s.maxBodyReq)
		}
		if errs != "" {
			sym.Text += "; " + errs
		}
	case grew && (timeouts > 0 || fivexx > 0 || s.errors > 0):
		sym.Class = SymptomLatencyThenErrors
		sym.Text = latency + ", then " + errs
	case grew:
		sym.Class = SymptomRisingLatency
		sym.Text = latency + ", without errors"
	default:
		sym.Class = SymptomErrors
		if errs == "" {
			errs = "SLO violations"
			if s.errors == 0 {
				sym.Class = SymptomOverLimit
			}
		}
		sym.Text = fmt.Sprintf("%s from %s", errs, start.at())
		if latency != "" {
			sym.Text += "; " + latency
		}
	}
	if latency != "" {
		sym.Evidence = append(sym.Evidence, latency)
	}
	if sum := s.summary(); sum != "" {
		sym.Evidence = append(sym.Evidence, "errors: "+sum)
	}
	for k, e := range s.samples {
		if k == 3 {
			break
		}
		sym.Evidence = append(sym.Evidence, fmt.Sprintf("error sample: %q ×%d", shorten(e.Message, 120), e.Count))
	}
	for _, i := range a.layerReqs[ls.idx] {
		for _, c := range reqs[i].Timing {
			if _, generic := componentLayer(c.Name); c.Layer != "" && !generic && c.HighMs-c.LowMs >= ms(CrackMinGrowth) {
				sym.Evidence = append(sym.Evidence, fmt.Sprintf("%s: server-timing %s %s→%s", a.names[i], c.Name, fmtMs(c.LowMs), fmtMs(c.HighMs)))
			}
		}
	}
	return sym
}

// mentions429 reports whether error samples carry an upstream 429.
func mentions429(samples []engine.ErrorSample) bool {
	for _, e := range samples {
		d := errorDetail(e.Message)
		if strings.Contains(d, "429") || strings.Contains(strings.ToLower(d), "too many requests") {
			return true
		}
	}
	return false
}

// topServerDetail returns the detail of the most frequent 5xx error sample.
func topServerDetail(samples []engine.ErrorSample) string {
	for _, e := range samples {
		if strings.HasPrefix(e.Message, "5") {
			return errorDetail(e.Message)
		}
	}
	return ""
}

// topServerSample returns the most frequent 5xx error sample, detail quoted.
func topServerSample(samples []engine.ErrorSample) string {
	for _, e := range samples {
		if strings.HasPrefix(e.Message, "5") {
			return fmt.Sprintf("%q (%d)", shorten(errorDetail(e.Message), 70), e.Count)
		}
	}
	return ""
}

// layerObs returns the observation of the layer's first degraded request
// (the earliest span, then the most errors); nil without one.
func (a *analyzer) layerObs(l int) *observation {
	if l < 0 || a.obs == nil {
		return nil
	}
	var best *observation
	for _, i := range a.layerReqs[l] {
		o := a.obs[i]
		if o == nil || !o.degraded {
			continue
		}
		if best == nil || o.from < best.from || o.from == best.from && o.errors > best.errors {
			best = o
		}
	}
	return best
}

// passedRate is the successful responses per second of reqs over windows
// [from, to).
func (a *analyzer) passedRate(reqs []int, from, to int) float64 {
	var ok uint64
	n := 0
	for w := max(0, from); w < min(to, a.nwin); w++ {
		n++
		for _, i := range reqs {
			if wr := a.r.Windows[w].Requests[a.names[i]]; wr != nil {
				ok += wr.OK
			}
		}
	}
	if n == 0 {
		return 0
	}
	return float64(ok) / (float64(n) * a.winSec)
}

// fmtSpan formats a range of milliseconds, once when both ends read the
// same: "1.0 s", "0.9–1.1 s".
func fmtSpan(lo, hi float64) string {
	if a, b := fmtMs(lo), fmtMs(hi); a != b {
		return a + "–" + b
	}
	return fmtMs(hi)
}
