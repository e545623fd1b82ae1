package engine

import (
	"bytes"
	"encoding/json"
	"html"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Error-body evidence limits.
const (
	// BodyTextMax bounds a normalised error-body text, in bytes.
	BodyTextMax = 200
	// MaxBodySamples bounds the distinct error-body texts kept per window
	// and request name; further texts are counted in BodyOther.
	MaxBodySamples = 4
	// maxErrHeaders bounds the distinct diagnosis-header keys kept per
	// window and request name.
	maxErrHeaders = 12
	// errBodyCapture is how much of an error response's body the transport
	// keeps to normalise (a JSON error document or an HTML page's head).
	errBodyCapture = 2048
)

// NormalizeBody turns the start of an error response's body into one short
// readable line: a JSON document's error/message/detail field (nested
// "error": {"message": …} too), an HTML page's <title> (else its first
// heading, else its first text), or plain text's first non-empty line.
// Whitespace is collapsed, credentials that look like credentials are
// scrubbed (see ScrubSecrets), and the result is at most BodyTextMax bytes.
// contentType may be empty; the body may be cut anywhere.
func NormalizeBody(contentType string, body []byte) string {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return ""
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	var s string
	switch {
	case strings.Contains(mt, "json") || (mt == "" || mt == "text/plain") && (body[0] == '{' || body[0] == '['):
		s = jsonMessage(body)
	case strings.Contains(mt, "html") || bytes.HasPrefix(bytes.ToLower(body), []byte("<!doctype html")) || bytes.HasPrefix(bytes.ToLower(body), []byte("<html")):
		s = htmlMessage(body)
	}
	if s == "" {
		s = firstLine(string(body))
	}
	s = ScrubSecrets(collapse(s))
	return truncateUTF8(s, BodyTextMax)
}

// jsonFields are the fields of a JSON error document that carry its message,
// most specific first.
var jsonFields = []string{"message", "error_description", "detail", "error", "title", "msg", "reason", "description"}

// jsonFieldRE finds a message field in a JSON document cut short.
var jsonFieldRE = regexp.MustCompile(`"(message|error_description|detail|error|title|msg|reason|description)"\s*:\s*"((?:[^"\\]|\\.)*)`)

func jsonMessage(body []byte) string {
	var v any
	if err := json.Unmarshal(body, &v); err == nil {
		if s := findMessage(v, 0); s != "" {
			return s
		}
		return ""
	}
	if m := jsonFieldRE.FindSubmatch(body); m != nil {
		var s string
		if err := json.Unmarshal(append(append([]byte{'"'}, m[2]...), '"'), &s); err == nil {
			return s
		}
		return string(m[2])
	}
	return ""
}

// findMessage returns the first message field of a decoded JSON error,
// looking into nested error objects and arrays ("errors": [{…}]).
func findMessage(v any, depth int) string {
	if depth > 4 {
		return ""
	}
	switch x := v.(type) {
	case map[string]any:
		for _, f := range jsonFields {
			for k, val := range x {
				if !strings.EqualFold(k, f) {
					continue
				}
				switch y := val.(type) {
				case string:
					if strings.TrimSpace(y) != "" {
						// Fields are tried most specific first:
						// {"error": "db_timeout", "message": "…"} gives
						// the message.
						return y
					}
				case map[string]any, []any:
					if s := findMessage(y, depth+1); s != "" {
						return s
					}
				}
			}
		}
		for _, k := range []string{"errors", "error", "data"} {
			for key, val := range x {
				if strings.EqualFold(key, k) {
					if s := findMessage(val, depth+1); s != "" {
						return s
					}
				}
			}
		}
	case []any:
		for _, e := range x {
			if s := findMessage(e, depth+1); s != "" {
				return s
			}
		}
	case string:
		return x
	}
	return ""
}

var (
	titleRE   = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)
	headingRE = regexp.MustCompile(`(?is)<h[1-3][^>]*>(.*?)</h[1-3]>`)
	tagRE     = regexp.MustCompile(`(?s)<[^>]*>`)
	scriptRE  = regexp.MustCompile(`(?is)<(script|style|head)[^>]*>.*?</(script|style|head)>`)
)

func htmlMessage(body []byte) string {
	for _, re := range []*regexp.Regexp{titleRE, headingRE} {
		if m := re.FindSubmatch(body); m != nil {
			if s := strings.TrimSpace(html.UnescapeString(tagRE.ReplaceAllString(string(m[1]), " "))); s != "" {
				return s
			}
		}
	}
	text := scriptRE.ReplaceAllString(string(body), " ")
	// A tag cut short at the end of the capture.
	if i := strings.LastIndexByte(text, '<'); i > strings.LastIndexByte(text, '>') {
		text = text[:i]
	}
	for _, chunk := range tagRE.Split(text, -1) {
		if c := collapse(html.UnescapeString(chunk)); c != "" {
			return c
		}
	}
	return ""
}

func firstLine(s string) string {
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			return line
		}
	}
	return ""
}

// collapse folds runs of white space and drops control characters.
func collapse(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			space = b.Len() > 0
		case unicode.IsControl(r) || r == utf8.RuneError:
		default:
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// truncateUTF8 cuts s to at most n bytes on a rune boundary, marking the cut.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

var (
	// secretPairRE matches "password=…", "token: …", "api_key":"…" and the
	// like; the value is replaced.
	secretPairRE = regexp.MustCompile(`(?i)("?(?:password|passwd|pwd|secret|token|access_token|refresh_token|id_token|api[_-]?key|apikey|authorization|session(?:id)?|signature|client_secret)"?\s*[:=]\s*"?)([^"\s,;&}]+)`)
	// bearerRE matches a bearer or basic credential.
	bearerRE = regexp.MustCompile(`(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}`)
	// jwtRE matches a JSON Web Token.
	jwtRE = regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`)
	// userinfoRE matches credentials in a URL (scheme://user:pass@host).
	userinfoRE = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@`)
)

// ScrubSecrets masks what looks like a credential in text a target sent
// back: key=value pairs whose key names a secret, bearer and basic
// credentials, JSON Web Tokens and user:password in URLs. It is a safety
// net for error texts; outputs are also redacted by the scenario's own
// secret values.
func ScrubSecrets(s string) string {
	if s == "" {
		return s
	}
	s = userinfoRE.ReplaceAllString(s, "${1}"+Redacted+"@")
	s = bearerRE.ReplaceAllString(s, Redacted)
	s = jwtRE.ReplaceAllString(s, Redacted)
	s = secretPairRE.ReplaceAllString(s, "${1}"+Redacted)
	return s
}

// diagnosisKeys returns the diagnosis-header keys of a failed response:
// "Retry-After", "RateLimit" (any X-RateLimit-* or RateLimit-* header),
// "X-Upstream-Status: 429" (or "X-Upstream" for other X-Upstream-*
// headers), "Server: nginx" (the product, without its version), "Via",
// "X-Cache: MISS", "Content-Type: text/html".
func diagnosisKeys(h http.Header, add func(string)) {
	upstream, rate := false, false
	for k, vs := range h {
		lk := strings.ToLower(k)
		switch {
		case lk == "retry-after":
			add("Retry-After")
		case strings.HasPrefix(lk, "x-ratelimit") || strings.HasPrefix(lk, "ratelimit") || strings.HasPrefix(lk, "x-rate-limit"):
			if !rate {
				add("RateLimit")
				rate = true
			}
		case lk == "x-upstream-status" && len(vs) > 0:
			add("X-Upstream-Status: " + truncateUTF8(strings.TrimSpace(vs[0]), 16))
			upstream = true
		case strings.HasPrefix(lk, "x-upstream"):
			if !upstream {
				add("X-Upstream")
				upstream = true
			}
		case lk == "server" && len(vs) > 0:
			add("Server: " + serverProduct(vs[0]))
		case lk == "via":
			add("Via")
		case (lk == "x-cache" || lk == "cf-cache-status" || lk == "x-cache-status") && len(vs) > 0:
			add("X-Cache: " + strings.ToUpper(truncateUTF8(firstWord(vs[0]), 12)))
		case lk == "content-type" && len(vs) > 0:
			mt, _, _ := mime.ParseMediaType(vs[0])
			if mt != "" {
				add("Content-Type: " + truncateUTF8(mt, 40))
			}
		}
	}
}

// serverProduct returns a Server header's first product without its
// version: "nginx/1.25.3 (Ubuntu)" → "nginx".
func serverProduct(v string) string {
	p := firstWord(v)
	if i := strings.IndexByte(p, '/'); i >= 0 {
		p = p[:i]
	}
	return truncateUTF8(strings.ToLower(p), 32)
}

func firstWord(v string) string {
	f := strings.Fields(v)
	if len(f) == 0 {
		return ""
	}
	return strings.TrimRight(f[0], ",;")
}
