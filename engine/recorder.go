package engine

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spikeload/spike/hist"
	"github.com/spikeload/spike/scenarios"
)

// MaxErrorSamples bounds a request's whole-run error samples
// (RequestTotal.ErrorSamples).
const MaxErrorSamples = 5

// Generator self-check thresholds: a window is GeneratorBound when its send
// lag p99 exceeds MaxLagP99 (with at least MinLagged late requests), or
// fewer than MinSentShare of its planned requests were sent.
const (
	MaxLagP99    = 10 * time.Millisecond
	MinSentShare = 0.98
	// MinLagged is the fewest late requests that make a window's lag count.
	MinLagged = 2
)

// Sample is one finished request, as the recorder sees it. Times are offsets
// from the start of the run.
type Sample struct {
	// Req is the request's index in the mix.
	Req int
	// Seq is the request's number in the curve's schedule (from 0); it
	// decides the request's window.
	Seq uint64
	// Intended is when the curve planned the request; Sent when it was
	// actually sent; End when it finished.
	Intended, Sent, End time.Duration
	// Code is the HTTP status, or 0 when no response arrived.
	Code int
	// Err is the transport error when Code is 0.
	Err string
	// BytesIn and BytesOut are the body sizes.
	BytesIn, BytesOut uint64
	// Header is the response header, if any.
	Header http.Header
	// FirstByte is when the response's header arrived (0 when unknown or
	// no response came).
	FirstByte time.Duration
	// Snippet is the start of an error response's body.
	Snippet []byte
	// Fail, when set, makes an answered request a failure, saying why (a
	// journey step whose extraction found nothing).
	Fail string
}

// Recorder turns samples into windows. It is not safe for concurrent use:
// the engine feeds it from one goroutine.
type Recorder struct {
	curve   *scenarios.Curve
	reqs    []*scenarios.Request
	window  time.Duration
	timeout time.Duration
	nwin    int
	cum     []uint64 // cum[w]: requests planned before window w

	open     map[int]*liveWindow
	next     int // index of the next window to close
	closed   []Window
	totals   []*liveTotal
	pool     []*hist.Hist
	sum      Summarizer // reused by every window and total it summarises
	late     uint64
	maxOpen  int
	stopAt   time.Duration // run end for partial runs; curve duration otherwise
	interval intervalStats
	// bodyCache maps raw error bodies of content type bodyCT to their
	// normalised text (see normalize).
	bodyCache map[string]string
	bodyCT    string
	shard     Shard // windows plan only this shard's share
	// byTime places samples in the window of their intended time, and
	// extra counts planned requests beyond the curve's (journeys: the curve
	// plans first steps, each completion plans the next step).
	byTime bool
	extra  []uint64
}

type liveWindow struct {
	idx        int
	start, end time.Duration
	planned    uint64
	sent       uint64
	ok, errs   uint64
	all, lag   *hist.Hist
	lagged     uint64 // requests sent more than MaxLagP99 late
	reqs       []*liveReq
}

type liveReq struct {
	count, ok, errs   uint64
	statuses          map[int]uint64
	kinds             [len(errorKinds)]uint64
	bytesIn, bytesOut uint64
	hist              *hist.Hist
	timing            map[string]*TimingStat
	badTiming         uint64
	// Evidence about failures and transfers (see WindowRequest).
	bodies     []BodySample
	bodyOther  uint64
	errHeaders map[string]uint64
	errLat     ErrLatency
	firstByte  float64 // sum, ms
	firstByteN uint64
}

type liveTotal struct {
	liveReq
	maxBytes     uint64
	headers      map[string]string
	serverTiming bool
	errSamples   map[string]uint64
	errOther     uint64 // failures whose message was not kept (past 50 distinct)
}

var p95Only = []float64{95}

type intervalStats struct {
	count, errs uint64
	hist        *hist.Hist
}

// NewRecorder returns a recorder for the plan.
func NewRecorder(plan *scenarios.Plan) *Recorder {
	r := &Recorder{
		curve:   plan.Curve,
		reqs:    plan.Requests,
		window:  plan.Options.Window,
		timeout: plan.Options.Timeout,
		open:    map[int]*liveWindow{},
		stopAt:  plan.Curve.Duration(),
	}
	if r.window <= 0 {
		r.window = scenarios.DefaultWindow
	}
	r.nwin = int((plan.Curve.Duration() + r.window - 1) / r.window)
	r.cum = make([]uint64, r.nwin+1)
	for w := 0; w <= r.nwin; w++ {
		r.cum[w] = plan.Curve.PlannedIn(0, time.Duration(w)*r.window)
	}
	r.cum[r.nwin] = plan.Curve.Total()
	for range plan.Requests {
		r.totals = append(r.totals, &liveTotal{liveReq: liveReq{hist: newLiveHist()}, errSamples: map[string]uint64{}})
	}
	r.interval.hist = newLiveHist()
	// Pay the first window's set-up before the run: histograms for two
	// windows and the encoder's buffers. Done during the run, the page faults
	// and allocations of the first close held up the pacer by several
	// milliseconds on one CPU.
	for i := 0; i < 2*(len(plan.Requests)+2); i++ {
		r.pool = append(r.pool, newLiveHist())
	}
	warm := r.hist()
	warm.Record(1)
	r.sum.StatsOf(warm, true)
	r.release(warm)
	return r
}

// Split makes the recorder plan only shard s's share of every window (see
// Shard); samples still carry plan indexes. Call it before the first Add.
func (r *Recorder) Split(s Shard) { r.shard = s }

func (r *Recorder) hist() *hist.Hist {
	if n := len(r.pool); n > 0 {
		h := r.pool[n-1]
		r.pool = r.pool[:n-1]
		return h
	}
	return newLiveHist()
}

func (r *Recorder) release(h *hist.Hist) {
	if h != nil {
		h.Reset()
		r.pool = append(r.pool, h)
	}
}

func (r *Recorder) windowBounds(i int) (time.Duration, time.Duration) {
	start := time.Duration(i) * r.window
	end := start + r.window
	if end > r.stopAt {
		end = r.stopAt
	}
	return start, end
}

func (r *Recorder) liveWindow(i int) *liveWindow {
	if w, ok := r.open[i]; ok {
		return w
	}
	start, end := r.windowBounds(i)
	w := &liveWindow{idx: i, start: start, end: end, planned: r.planned(i), reqs: make([]*liveReq, len(r.reqs))}
	r.open[i] = w
	if len(r.open) > r.maxOpen {
		r.maxOpen = len(r.open)
	}
	return w
}

// planned returns how many requests are planned in window i, up to the
// run's end.
func (r *Recorder) planned(i int) uint64 {
	hi := r.cum[i+1]
	if _, end := r.windowBounds(i); end < time.Duration(i+1)*r.window {
		if n := r.curve.PlannedIn(0, end); n < hi {
			hi = n
		}
	}
	n := r.shard.In(r.cum[i], hi)
	if r.extra != nil {
		n += r.extra[i]
	}
	return n
}

// ByTime makes the recorder place each sample in the window of its
// intended time, and count as planned the curve's requests plus those
// announced with AddPlanned: for journeys, whose later steps are planned
// as earlier ones complete. Call it before the first Add.
func (r *Recorder) ByTime() {
	r.byTime = true
	r.extra = make([]uint64, r.nwin)
}

// AddPlanned counts one more planned request at intended time at (ByTime
// only). A request planned into a window that is already closed is not
// counted (it cannot happen while at is not in the past).
func (r *Recorder) AddPlanned(at time.Duration) {
	if r.extra == nil || at < 0 {
		return
	}
	w := int(at / r.window)
	if w >= r.nwin || w < r.next {
		return
	}
	r.extra[w]++
	if lw, ok := r.open[w]; ok {
		lw.planned++
	}
}

// windowOf returns the window of request seq: the one whose planned
// requests include it. Using the schedule rather than the send time keeps
// Planned and Sent consistent by construction.
func (r *Recorder) windowOf(seq uint64) int {
	return sort.Search(r.nwin-1, func(w int) bool { return r.cum[w+1] > seq })
}

func us(d time.Duration) int64 {
	v := int64(d / time.Microsecond)
	if v < histLowest {
		v = histLowest
	}
	if v > histHighest {
		v = histHighest
	}
	return v
}

// auditHeaders are the response headers kept as a sample for the audit.
var auditHeaders = [...]string{
	"Cache-Control", "Content-Encoding", "Content-Type", "Content-Length", "Expires", "ETag",
	"Last-Modified", "Vary", "Via", "Age", "X-Cache", "X-Cache-Status", "CF-Cache-Status",
	"X-Served-By", "X-Amz-Cf-Id", "Server", "Server-Timing",
}

// Add records one sample.
func (r *Recorder) Add(s *Sample) {
	if s.Req < 0 || s.Req >= len(r.reqs) {
		return
	}
	req := r.reqs[s.Req]
	lat := s.End - s.Intended
	if lat < 0 {
		lat = 0
	}
	lag := s.Sent - s.Intended
	if lag < 0 {
		lag = 0
	}
	ok := s.Code != 0 && req.OK(s.Code) && s.Fail == ""
	kind := -1
	if s.Code == 0 {
		kind = kindIndex(ClassifyError(s.Err))
	}
	body := ""
	if !ok && s.Code != 0 && len(s.Snippet) > 0 {
		ct := ""
		if s.Header != nil {
			ct = s.Header.Get("Content-Type")
		}
		body = r.normalize(ct, s.Snippet)
	}

	// Whole-run totals.
	t := r.totals[s.Req]
	t.add(s, ok, kind, lat, body)
	if s.BytesIn > t.maxBytes {
		t.maxBytes = s.BytesIn
	}
	if ok && t.headers == nil && s.Header != nil {
		t.headers = map[string]string{}
		for _, k := range auditHeaders {
			if v := s.Header.Get(k); v != "" {
				t.headers[k] = truncate(v, 200)
			}
		}
	}
	if !ok {
		msg := sampleMessage(s, body)
		if _, seen := t.errSamples[msg]; seen || len(t.errSamples) < 50 {
			t.errSamples[msg]++
		} else {
			t.errOther++
		}
	}
	if s.Header != nil && len(s.Header["Server-Timing"]) > 0 {
		t.serverTiming = true
	}

	r.interval.count++
	if !ok {
		r.interval.errs++
	}
	r.interval.hist.Record(us(lat))

	var idx int
	if r.byTime {
		idx = min(max(int(s.Intended/r.window), 0), r.nwin-1)
	} else {
		idx = r.windowOf(s.Seq)
	}
	if idx < r.next {
		r.late++
		return
	}
	w := r.liveWindow(idx)
	w.sent++
	if ok {
		w.ok++
	} else {
		w.errs++
	}
	if w.all == nil {
		w.all, w.lag = r.hist(), r.hist()
	}
	w.all.Record(us(lat))
	w.lag.Record(us(lag))
	if lag > MaxLagP99 {
		w.lagged++
	}
	wr := w.reqs[s.Req]
	if wr == nil {
		wr = &liveReq{hist: r.hist()}
		w.reqs[s.Req] = wr
	}
	wr.add(s, ok, kind, lat, body)
}

func (q *liveReq) add(s *Sample, ok bool, kind int, lat time.Duration, body string) {
	q.count++
	if ok {
		q.ok++
	} else {
		q.errs++
		q.addFailure(s, lat, body)
	}
	if s.Code != 0 && s.FirstByte > 0 {
		if fb := s.FirstByte - s.Intended; fb > 0 {
			q.firstByte += float64(fb) / float64(time.Millisecond)
			q.firstByteN++
		}
	}
	if s.Code != 0 {
		if q.statuses == nil {
			q.statuses = map[int]uint64{}
		}
		q.statuses[s.Code]++
	} else {
		q.kinds[kind]++
	}
	q.bytesIn += s.BytesIn
	q.bytesOut += s.BytesOut
	q.hist.Record(us(lat))
	if s.Header == nil {
		return
	}
	for _, v := range s.Header["Server-Timing"] {
		q.badTiming += uint64(ParseServerTiming(v, func(m TimingMetric) {
			if q.timing == nil {
				q.timing = map[string]*TimingStat{}
			}
			ts := q.timing[m.Name]
			if ts == nil {
				if len(q.timing) >= 32 {
					return
				}
				ts = &TimingStat{}
				q.timing[strings.Clone(m.Name)] = ts
			}
			ts.Count++
			if m.HasDur {
				ts.WithDur++
				ts.SumMs += m.Dur
				if m.Dur > ts.MaxMs {
					ts.MaxMs = m.Dur
				}
			}
			if m.Desc != "" && len(m.Desc) <= 32 {
				if ts.Desc == nil {
					ts.Desc = map[string]uint64{}
				}
				if _, seen := ts.Desc[m.Desc]; seen || len(ts.Desc) < 10 {
					ts.Desc[strings.Clone(m.Desc)]++
				}
			}
		}))
	}
}

// maxBodyCache bounds the recorder's cache of normalised error bodies.
const maxBodyCache = 256

// normalize is NormalizeBody with a cache: a target that sheds load sends
// the same error body thousands of times a second, and the recorder runs
// on the run loop's goroutine. The lookup does not allocate; the cache is
// emptied when full.
func (r *Recorder) normalize(ct string, body []byte) string {
	if ct == r.bodyCT {
		if t, ok := r.bodyCache[string(body)]; ok {
			return t
		}
	}
	t := NormalizeBody(ct, body)
	if r.bodyCache == nil || ct != r.bodyCT || len(r.bodyCache) >= maxBodyCache {
		r.bodyCache, r.bodyCT = make(map[string]string, 16), ct
	}
	r.bodyCache[string(body)] = t
	return t
}

// addFailure records the evidence of a failed request: its latency, its
// normalised body by status, and its diagnosis headers.
func (q *liveReq) addFailure(s *Sample, lat time.Duration, body string) {
	q.errLat.add(float64(lat) / float64(time.Millisecond))
	if s.Code == 0 {
		return
	}
	found := false
	for k := range q.bodies {
		if b := &q.bodies[k]; b.Status == s.Code && b.key == BodyKey(body) {
			b.Count++
			found = true
			break
		}
	}
	if !found {
		if len(q.bodies) < MaxBodySamples {
			q.bodies = append(q.bodies, BodySample{Status: s.Code, Text: body, Count: 1, key: BodyKey(body)})
		} else {
			q.bodyOther++
		}
	}
	if s.Header != nil {
		diagnosisKeys(s.Header, func(k string) {
			if q.errHeaders == nil {
				q.errHeaders = map[string]uint64{}
			}
			if _, ok := q.errHeaders[k]; ok || len(q.errHeaders) < maxErrHeaders {
				q.errHeaders[k]++
			}
		})
	}
}

// BodyKey groups error texts that differ only in their numbers ("65
// requests in flight" and "71 requests in flight").
func BodyKey(text string) string {
	if strings.IndexFunc(text, func(r rune) bool { return r >= '0' && r <= '9' }) < 0 {
		return text
	}
	var b strings.Builder
	digit := false
	for _, r := range text {
		if r >= '0' && r <= '9' {
			if !digit {
				b.WriteByte('#')
			}
			digit = true
			continue
		}
		digit = false
		b.WriteRune(r)
	}
	return b.String()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// sampleMessage is the error sample text of a failed request: the
// transport error, or the status line and the normalised body.
func sampleMessage(s *Sample, body string) string {
	if s.Code == 0 {
		return errorMessage(s.Err)
	}
	msg := strconv.Itoa(s.Code) + " " + http.StatusText(s.Code)
	if s.Fail != "" {
		return msg + ": " + s.Fail
	}
	if body != "" && !strings.EqualFold(body, msg) && !strings.EqualFold(body, http.StatusText(s.Code)) {
		msg += ": " + body
	}
	return msg
}

// CloseDue closes, in order, every window that can no longer receive
// samples at run offset now: all its planned requests are back, or it ended
// longer ago than the request timeout plus a grace for send lag.
func (r *Recorder) CloseDue(now time.Duration) {
	for r.next < r.nwin {
		start, end := r.windowBounds(r.next)
		if start >= r.stopAt {
			break
		}
		w := r.open[r.next]
		complete := w != nil && w.sent >= w.planned && now >= end
		if w == nil && now >= end && r.planned(r.next) == 0 {
			complete = true
		}
		if !complete && now < end+r.timeout+2*time.Second+scenarios.StopGrace {
			break
		}
		r.closeNext()
	}
}

func (r *Recorder) closeNext() {
	w := r.liveWindow(r.next)
	delete(r.open, r.next)
	r.next++
	out := Window{
		Index: w.idx, Start: w.start, End: w.end, Planned: w.planned, Sent: w.sent, OK: w.ok, Errors: w.errs,
		Requests: map[string]*WindowRequest{},
	}
	if d := (w.end - w.start).Seconds(); d > 0 {
		out.PlannedRate = (r.curve.Integral(w.end) - r.curve.Integral(w.start)) / d / float64(r.shard.n())
	}
	if w.all != nil {
		out.Latency = r.sum.StatsOf(w.all, true)
		l := r.sum.StatsOf(w.lag, false)
		out.Lag = LagStats{P50: l.P50, P99: l.P99, Max: l.Max}
		r.release(w.all)
		r.release(w.lag)
	}
	// Lag p99 over the limit means more than 1% of the window's requests
	// left late. In a sparse window one scheduling hiccup is already "1%",
	// so at least MinLagged late requests are needed before the window is
	// blamed on the generator.
	lagBound := out.Lag.P99 > MaxLagP99 && w.lagged >= MinLagged
	out.GeneratorBound = lagBound || (w.planned > 0 && float64(w.sent) < MinSentShare*float64(w.planned))
	for i, q := range w.reqs {
		if q == nil {
			continue
		}
		out.Requests[r.reqs[i].Name] = q.export(&r.sum, true)
		r.release(q.hist)
	}
	r.closed = append(r.closed, out)
}

func (q *liveReq) export(z *Summarizer, encode bool) *WindowRequest {
	wr := &WindowRequest{
		Count: q.count, OK: q.ok, Errors: q.errs, BytesIn: q.bytesIn, BytesOut: q.bytesOut,
		Latency: z.StatsOf(q.hist, encode), Timing: q.timing, BadTiming: q.badTiming,
		ErrorBodies: q.bodies, ErrorBodyOther: q.bodyOther, ErrorHeaders: q.errHeaders,
		FirstByteSumMs: q.firstByte, FirstByteCount: q.firstByteN,
	}
	if q.errLat.Count > 0 {
		el := q.errLat
		wr.ErrorLatency = &el
	}
	// Most frequent first, as merged results list them.
	sort.SliceStable(wr.ErrorBodies, func(a, b int) bool {
		x, y := wr.ErrorBodies[a], wr.ErrorBodies[b]
		if x.Count != y.Count {
			return x.Count > y.Count
		}
		return x.GroupKey() < y.GroupKey()
	})
	if len(q.statuses) > 0 {
		wr.Statuses = make(map[string]uint64, len(q.statuses))
		for c, n := range q.statuses {
			wr.Statuses[strconv.Itoa(c)] = n
		}
	}
	for i, n := range q.kinds {
		if n > 0 {
			if wr.ErrorKinds == nil {
				wr.ErrorKinds = map[string]uint64{}
			}
			wr.ErrorKinds[errorKinds[i]] = n
		}
	}
	return wr
}

// OpenWindows returns how many windows hold live histograms now.
func (r *Recorder) OpenWindows() int { return len(r.open) }

// MaxOpenWindows returns the most windows that were open at once.
func (r *Recorder) MaxOpenWindows() int { return r.maxOpen }

// Late returns how many samples arrived after their window had closed
// (counted in the totals only).
func (r *Recorder) Late() uint64 { return r.late }

// Stop marks the run as ended at offset at (for interrupted runs): windows
// after it are not reported, and the window holding it is planned only up
// to it.
func (r *Recorder) Stop(at time.Duration) {
	if at < r.stopAt {
		r.stopAt = at
		for i, w := range r.open {
			start, end := r.windowBounds(i)
			if start >= r.stopAt {
				continue
			}
			w.end = end
			w.planned = r.planned(i)
		}
	}
}

// Finish closes every remaining window and returns the windows and the
// per-request totals.
func (r *Recorder) Finish() ([]Window, []RequestTotal) {
	for r.next < r.nwin {
		start, _ := r.windowBounds(r.next)
		if start >= r.stopAt {
			break
		}
		r.closeNext()
	}
	for i, w := range r.open {
		// Windows past an interrupted run's end hold no planned requests.
		_ = w
		delete(r.open, i)
	}
	totals := make([]RequestTotal, len(r.reqs))
	for i, t := range r.totals {
		wr := t.export(&r.sum, true)
		rt := RequestTotal{
			Name: r.reqs[i].Name, Count: wr.Count, OK: wr.OK, Errors: wr.Errors, Statuses: wr.Statuses,
			ErrorKinds: wr.ErrorKinds, BytesIn: wr.BytesIn, BytesOut: wr.BytesOut, MaxBytesIn: t.maxBytes,
			Latency: wr.Latency, Headers: t.headers, ServerTiming: t.serverTiming,
		}
		for m, n := range t.errSamples {
			rt.ErrorSamples = append(rt.ErrorSamples, ErrorSample{Message: m, Count: n})
		}
		rt.ErrorSamplesOther = t.errOther
		sort.Slice(rt.ErrorSamples, func(a, b int) bool {
			x, y := rt.ErrorSamples[a], rt.ErrorSamples[b]
			if x.Count != y.Count {
				return x.Count > y.Count
			}
			return x.Message < y.Message
		})
		if len(rt.ErrorSamples) > MaxErrorSamples {
			for _, e := range rt.ErrorSamples[MaxErrorSamples:] {
				rt.ErrorSamplesOther += e.Count
			}
			rt.ErrorSamples = rt.ErrorSamples[:MaxErrorSamples]
		}
		totals[i] = rt
	}
	return r.closed, totals
}

// Interval returns the count, errors and p95 since the last call, and resets them.
func (r *Recorder) Interval() (count, errs uint64, p95 time.Duration) {
	count, errs = r.interval.count, r.interval.errs
	if count > 0 {
		p95 = time.Duration(r.interval.hist.Summarize(p95Only, nil).Values[0]) * time.Microsecond
	}
	r.interval.count, r.interval.errs = 0, 0
	r.interval.hist.Reset()
	return count, errs, p95
}

// Windows returns the windows closed so far.
func (r *Recorder) Windows() []Window { return r.closed }
