package engine

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spikeload/spike/scenarios"
)

// sideInfo carries what vegeta's Result cannot: the response body's size
// (vegeta is told to keep no body), the start of an error body, and when
// the response's header arrived.
type sideInfo struct {
	bytesIn  int64
	snippet  []byte
	headerAt time.Time
	// body is the start of the body (up to scenarios.MaxExtractBody) of a
	// journey step whose extraction reads it.
	body []byte
}

// keepBodyHeader marks a request whose response body the transport keeps
// (up to scenarios.MaxExtractBody) for a journey step's extraction. It is
// removed before the request leaves.
const keepBodyHeader = "X-Spike-Keep-Body"

// transport wraps an http.Transport for spike: it removes the headers
// vegeta adds (X-Vegeta-Seq, X-Vegeta-Attack) so the target sees only what
// the scenario asked for, and counts response bytes without keeping them.
type transport struct {
	base *http.Transport
	warm *warmConns
	side sync.Map // seq (uint64) -> *sideInfo
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	// Subtleness ahead! vegeta builds a fresh header map per request (a copy
	// of the Target's), so deleting from it here does not race with other
	// requests. The sequence number it carries is the key under which the
	// recorder later finds this request's side information.
	seqs := req.Header["X-Vegeta-Seq"]
	delete(req.Header, "X-Vegeta-Seq")
	delete(req.Header, "X-Vegeta-Attack")
	_, keepBody := req.Header[keepBodyHeader]
	delete(req.Header, keepBodyHeader)
	resp, err := t.base.RoundTrip(req)
	headerAt := time.Now()
	if err != nil || len(seqs) == 0 {
		return resp, err
	}
	seq, perr := strconv.ParseUint(seqs[0], 10, 64)
	if perr != nil {
		return resp, err
	}
	info := &sideInfo{headerAt: headerAt}
	t.side.Store(seq, info)
	resp.Body = &countingBody{rc: resp.Body, info: info, keep: resp.StatusCode >= 400, keepBody: keepBody}
	return resp, nil
}

// take returns and forgets the side information of request seq.
func (t *transport) take(seq uint64) *sideInfo {
	v, ok := t.side.LoadAndDelete(seq)
	if !ok {
		return nil
	}
	return v.(*sideInfo)
}

// countingBody counts the bytes read through it and, for error responses,
// keeps the first few as a sample.
type countingBody struct {
	rc       io.ReadCloser
	info     *sideInfo
	keep     bool
	keepBody bool
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.info.bytesIn += int64(n)
	if b.keep && n > 0 && len(b.info.snippet) < errBodyCapture {
		room := errBodyCapture - len(b.info.snippet)
		if room > n {
			room = n
		}
		b.info.snippet = append(b.info.snippet, p[:room]...)
	}
	if b.keepBody && n > 0 && len(b.info.body) < scenarios.MaxExtractBody {
		room := min(scenarios.MaxExtractBody-len(b.info.body), n)
		b.info.body = append(b.info.body, p[:room]...)
	}
	return n, err
}

func (b *countingBody) Close() error { return b.rc.Close() }

// maxRedirects is how many redirects a request follows.
const maxRedirects = 10

// newClient builds the HTTP client for a run. Connections bound both the
// open connections and (through vegeta's worker limit) the requests in
// flight, so a stalled target cannot make the generator spiral.
func newClient(o scenarios.Options) (*http.Client, *transport) {
	conns := o.Connections
	if conns <= 0 {
		conns = scenarios.DefaultConnections
	}
	dialer := &net.Dialer{Timeout: o.Timeout, KeepAlive: 30 * time.Second}
	warm := &warmConns{dial: dialer.DialContext}
	base := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         warm.DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     90 * time.Second,
		DisableKeepAlives:   !o.KeepAlive,
		// Compression is left to the target and the scenario: the engine
		// sends Accept-Encoding like a browser and counts bytes as they
		// travel, and the header audit sees Content-Encoding.
		DisableCompression:  true,
		ForceAttemptHTTP2:   o.HTTP2,
		TLSHandshakeTimeout: o.Timeout,
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: o.Insecure}, //nolint:gosec // opt-in via options.insecure
	}
	tr := &transport{base: base, warm: warm}
	client := &http.Client{
		Transport:     tr,
		Timeout:       o.Timeout,
		CheckRedirect: checkRedirect(o.Redirects),
	}
	return client, tr
}

// checkRedirect is the client's redirect policy (options.redirects). By
// default no redirect is followed: the 3xx is recorded as what it is. With
// same-host, redirects are followed up to maxRedirects while they stay on
// the first request's host; a redirect to another host ends there, its 3xx
// recorded. No Referer is ever sent: it would carry the request's URL (and
// anything in it) to wherever the target points.
func checkRedirect(policy string) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		req.Header.Del("Referer")
		if policy != scenarios.RedirectsSameHost || len(via) == 0 {
			return http.ErrUseLastResponse
		}
		if !strings.EqualFold(req.URL.Host, via[0].URL.Host) || req.URL.Scheme != via[0].URL.Scheme {
			return http.ErrUseLastResponse
		}
		if len(via) > maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		return nil
	}
}

var errNoRequests = errors.New("the plan has no requests")
