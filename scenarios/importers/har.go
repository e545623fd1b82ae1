package importers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"regexp"
	"sort"
	"strings"
)

// har is the part of a HAR 1.2 file (as Chromium, Firefox and Safari save
// it) the importer reads.
type har struct {
	Log struct {
		Creator struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		} `json:"creator"`
		Pages []struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		} `json:"pages"`
		Entries []harEntry `json:"entries"`
	} `json:"log"`
}

type harEntry struct {
	// ResourceType is Chromium's own field: document, script, stylesheet,
	// image, font, media, xhr, fetch, preflight, websocket, other, …
	ResourceType string `json:"_resourceType"`
	Request      struct {
		Method   string      `json:"method"`
		URL      string      `json:"url"`
		Headers  []harNV     `json:"headers"`
		PostData *harPayload `json:"postData"`
	} `json:"request"`
	Response struct {
		Status  int `json:"status"`
		Content struct {
			MimeType string `json:"mimeType"`
		} `json:"content"`
		Error string `json:"_error"`
	} `json:"response"`
}

type harNV struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type harPayload struct {
	MimeType string  `json:"mimeType"`
	Text     string  `json:"text"`
	Params   []harNV `json:"params"`
}

// browserHeaders are request headers the browser adds on its own, or that
// the HTTP client sets per connection; they are not copied.
var browserHeaders = map[string]bool{
	"host": true, "connection": true, "content-length": true, "accept-encoding": true, "user-agent": true,
	"upgrade-insecure-requests": true, "referer": true, "origin": true, "priority": true, "pragma": true,
	"cache-control": true, "if-none-match": true, "if-modified-since": true, "accept-language": true,
	"dnt": true, "te": true, "keep-alive": true, "transfer-encoding": true, "purpose": true, "x-client-data": true,
}

var (
	staticExt  = regexp.MustCompile(`(?i)\.(js|mjs|css|png|jpe?g|gif|webp|avif|svg|ico|woff2?|ttf|otf|eot|map|mp4|webm|mp3|wasm|json\.gz)$`)
	authPath   = regexp.MustCompile(`(?i)(^|/)(login|logout|signin|sign-in|signup|sign-up|register|auth|oauth2?|token|session|sessions|sso|password)(/|$|\.)`)
	apiPath    = regexp.MustCompile(`(?i)(^|/)(api|graphql|rpc|v[0-9]+)(/|$)`)
	staticType = map[string]bool{"script": true, "stylesheet": true, "image": true, "font": true, "media": true, "manifest": true, "texttrack": true}
)

// guessLayer tags a request from what the recording says about it: static
// assets are frontend, login and token calls auth, API calls backend.
// Documents (HTML pages) are left to spike's evidence.
func guessLayer(resourceType, method, p, mime string) string {
	rt := strings.ToLower(resourceType)
	switch {
	case staticType[rt] || (rt == "" || rt == "other") && method == "GET" && staticExt.MatchString(p):
		return "frontend"
	case authPath.MatchString(p):
		return "auth"
	case rt == "xhr" || rt == "fetch" || apiPath.MatchString(p) || strings.Contains(mime, "json"):
		return "backend"
	}
	return ""
}

// HAR imports a browser recording: each distinct request becomes one entry
// of the mix, weighted by how often it was made. Static assets, API calls
// and auth requests get layers; requests to other hosts are listed in a
// comment and left out unless Options.IncludeHosts names them.
func HAR(r io.Reader, opts Options) (*Scenario, error) {
	data, err := readAll(r, opts.Source)
	if err != nil {
		return nil, err
	}
	var h har
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, jsonError(opts.Source, data, err, "a HAR file (JSON with a log.entries list)")
	}
	if len(h.Log.Entries) == 0 {
		return nil, errorf(opts.Source, "no log.entries: not a HAR file, or an empty recording")
	}
	b := newBuilder(opts)
	type parsed struct {
		e *harEntry
		u *url.URL
	}
	var todo []parsed
	skipped := map[string]int{}
	hostCount := map[string]int{}
	var firstDoc *url.URL
	for i := range h.Log.Entries {
		e := &h.Log.Entries[i]
		u, err := url.Parse(e.Request.URL)
		switch {
		case err != nil || e.Request.URL == "":
			return nil, errorf(opts.Source, "log.entries[%d].request.url: not a URL: %q", i, e.Request.URL)
		case u.Scheme != "http" && u.Scheme != "https":
			skipped[u.Scheme+": URLs"]++
			continue
		case strings.EqualFold(e.ResourceType, "preflight"):
			skipped["CORS preflights (the browser sends them)"]++
			continue
		case !knownMethod(e.Request.Method):
			skipped[fmt.Sprintf("%s requests (spike sends GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS)", e.Request.Method)]++
			continue
		case e.Response.Status == 0:
			skipped["requests that got no response in the browser (blocked or cancelled)"]++
			continue
		}
		u.Fragment = ""
		hostCount[u.Scheme+"://"+u.Host]++
		if firstDoc == nil && strings.EqualFold(e.ResourceType, "document") {
			firstDoc = u
		}
		todo = append(todo, parsed{e, u})
	}
	if len(todo) == 0 {
		return nil, errorf(opts.Source, "no HTTP requests to import (%d entries, all left out)", len(h.Log.Entries))
	}
	main := firstDoc
	if main == nil {
		// No page load in the recording: the busiest origin is the app.
		best := ""
		for o, n := range hostCount {
			if n > hostCount[best] || n == hostCount[best] && o < best {
				best = o
			}
		}
		main, _ = url.Parse(best)
	}
	if err := b.setOrigin(main); err != nil {
		return nil, &InputError{Source: opts.Source, Msg: err.Error()}
	}
	comments := map[string]string{}
	for _, p := range todo {
		e := p.e
		var hdrs []Header
		ct := ""
		for _, hv := range e.Request.Headers {
			lk := strings.ToLower(hv.Name)
			if strings.HasPrefix(lk, ":") || strings.HasPrefix(lk, "sec-") || browserHeaders[lk] {
				continue
			}
			if lk == "content-type" {
				ct = hv.Value
			}
			hdrs = append(hdrs, Header{Key: hv.Name, Value: hv.Value})
		}
		body := ""
		if pd := e.Request.PostData; pd != nil {
			body = pd.Text
			if body == "" && len(pd.Params) > 0 {
				v := url.Values{}
				for _, nv := range pd.Params {
					v.Add(nv.Name, nv.Value)
				}
				body = v.Encode()
			}
			if ct == "" {
				ct = pd.MimeType
			}
		}
		layer := guessLayer(e.ResourceType, e.Request.Method, p.u.Path, e.Response.Content.MimeType)
		n := len(b.reqs)
		var expect []int
		if st := e.Response.Status; st >= 400 && st < 500 {
			// A 404 favicon in the recording is not the target failing.
			expect = []int{st}
		}
		if !b.add(raw{Method: e.Request.Method, URL: p.u, Headers: hdrs, Body: body, ContentType: ct, Layer: layer, Expect: expect}) {
			continue
		}
		if len(b.reqs) > n {
			r := b.reqs[len(b.reqs)-1]
			what := e.ResourceType
			if what == "" {
				what = "request"
			}
			comments[r.Name] = fmt.Sprintf("%s, answered %d %s", what, e.Response.Status, strings.TrimSpace(strings.Split(e.Response.Content.MimeType, ";")[0]))
		}
	}
	s, err := b.scenario("")
	if err != nil {
		return nil, err
	}
	total := 0
	for i := range s.Requests {
		r := &s.Requests[i]
		total += int(r.Weight)
		r.Comment = fmt.Sprintf("%s; %g in the recording", comments[r.Name], r.Weight)
	}
	page := ""
	if len(h.Log.Pages) > 0 && h.Log.Pages[0].Title != "" {
		page = fmt.Sprintf(", page %q", h.Log.Pages[0].Title)
	}
	s.Description = fmt.Sprintf("Imported from a browser recording (%s%s): %d requests to %s as a weighted mix", creator(h), page, total, s.Target)
	if len(skipped) > 0 {
		s.Notes = append(s.Notes, "Also left out:")
		for _, k := range sortedKeys(skipped) {
			s.Notes = append(s.Notes, fmt.Sprintf("  %d %s", skipped[k], k))
		}
	}
	s.Notes = append(s.Notes, "Layers are guesses from the recording (static assets: frontend, logins: auth, API calls:",
		"backend). A tag overrides spike's own evidence; remove it where the analysis should decide.")
	return s, nil
}

func creator(h har) string {
	c := strings.TrimSpace(h.Log.Creator.Name + " " + h.Log.Creator.Version)
	if c == "" {
		return "HAR"
	}
	return "HAR from " + c
}

func knownMethod(m string) bool {
	switch strings.ToUpper(m) {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS":
		return true
	}
	return false
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// readAll reads an input up to MaxInputSize.
func readAll(r io.Reader, source string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxInputSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", source, err)
	}
	if len(data) > MaxInputSize {
		return nil, errorf(source, "larger than %d MiB", MaxInputSize>>20)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errorf(source, "empty input")
	}
	return data, nil
}

// jsonError turns a JSON decoding error into one naming line and column.
func jsonError(source string, data []byte, err error, want string) error {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
		if te.Field != "" {
			return errorf(source, "%s: %s: want %s, got a JSON %s (is this %s?)", pos(data, off-1), te.Field, jsonKind(te.Type.Kind()), te.Value, want)
		}
	}
	if off >= 0 {
		return errorf(source, "%s: %v (want %s)", pos(data, off-1), err, want)
	}
	return errorf(source, "%v (want %s)", err, want)
}

func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.String:
		return "text"
	case reflect.Bool:
		return "true or false"
	}
	return "a number"
}

// pos returns "line:col" of a byte offset.
func pos(data []byte, off int64) string {
	off = max(0, min(off, int64(len(data))))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("%d:%d", line, col)
}
