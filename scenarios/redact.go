package scenarios

import (
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// Masked replaces a secret wherever spike would otherwise write it.
const Masked = "REDACTED"

// MinSecretLen is the shortest secret value a Redactor masks wherever it
// appears. Shorter values (a "pw" password) would mask ordinary words and
// numbers; they are still masked where their key shows (password=…,
// "password": "…", Authorization: …).
const MinSecretLen = 6

// secretWords are the parts of a header, query-parameter or body-field name
// that make its value a secret.
var secretWords = []string{
	"authorization", "auth", "cookie", "apikey", "api_key", "api-key", "token", "secret",
	"password", "passwd", "passphrase", "session", "signature", "credential", "private_key",
	"private-key", "privatekey",
}

// secretNames are short names that are secrets only as a whole name.
var secretNames = map[string]bool{"pw": true, "pwd": true, "pass": true, "sig": true, "key": true, "jwt": true}

// IsSecretKey reports whether the value of a header, query parameter or body
// field called name is a secret: credentials, cookies, API keys, tokens,
// signatures and passwords.
func IsSecretKey(name string) bool {
	n := strings.ToLower(strings.TrimSpace(name))
	if secretNames[n] {
		return true
	}
	for _, w := range secretWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// secretParamWords are the words of a parameter or field name, found in
// free text (key=value, "key": "value"), that make its value a secret.
// Free text is matched word by word, not by substring: a base64 histogram
// or a line of JavaScript must not look like a secret by accident.
var secretParamWords = map[string]bool{
	"password": true, "passwd": true, "pwd": true, "pass": true, "passphrase": true,
	"token": true, "secret": true, "signature": true, "sig": true, "auth": true,
	"authorization": true, "session": true, "sessionid": true, "sid": true, "jwt": true,
	"apikey": true, "credential": true, "credentials": true, "cookie": true,
}

// isSecretParam reports whether a key found in free text names a secret:
// one of its words (split at '_', '-', '.', '[', ']') is a secret word, or
// it is an API key ("api_key", "x-api-key", "apiKey").
func isSecretParam(key string) bool {
	k := strings.ToLower(key)
	if strings.Contains(k, "api_key") || strings.Contains(k, "api-key") || strings.Contains(k, "apikey") || strings.Contains(k, "access_token") {
		return true
	}
	for _, w := range strings.FieldsFunc(k, func(r rune) bool { return r == '_' || r == '-' || r == '.' || r == '[' || r == ']' }) {
		if secretParamWords[w] {
			return true
		}
	}
	return false
}

// Text patterns masked by key, whatever the Redactor's values.
var (
	// scheme://user:password@host
	userinfoRE = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^/\s:@"'<>]*):[^/\s@"'<>]*@`)
	// key=value in a query string or form body.
	pairRE = regexp.MustCompile(`([A-Za-z0-9_.\-\[\]]+)=([^&\s"'<>#;,\\]+)`)
	// "key": "value" in JSON, also when the JSON is itself inside a JSON string.
	jsonFieldRE = regexp.MustCompile(`(\\*"([A-Za-z0-9_.\-]+)\\*"\s*:\s*\\*")([^"\\]*)`)
	// A header line: "Authorization: Basic …".
	// (Not after a dot: "headers.cookie: must be set" is spike's own message.)
	headerLineRE = regexp.MustCompile(`(?im)((?:^|[\s"'{,;])(?:proxy-)?authorization|(?:^|[\s"'{,;])(?:set-)?cookie|(?:^|[\s"'{,;])(?:x-api-key|api-key|x-auth-token|x-access-token))(\s*:\s*)([^\r\n"]+)`)
	// Bearer tokens and basic credentials anywhere.
	bearerRE = regexp.MustCompile(`(?i)\b((?:bearer|basic)\s+)[A-Za-z0-9._~+/=\-]+`)
)

// Redactor masks secrets in text: values whose key shows they are secret
// (headers such as Authorization, query parameters such as api_key, JSON and
// form fields such as password, the password in user:pass@host), and every
// secret value it was given, wherever it reappears (in an error body the
// target echoed, say), also in its JSON-, HTML- and URL-escaped forms.
//
// The zero value and nil mask by key only. A Redactor is safe for concurrent
// use; it is not changed after it is built.
type Redactor struct {
	values   []string // longest first
	replacer *strings.Replacer
}

// NewRedactor returns a Redactor that masks values (those shorter than
// MinSecretLen only by key) and everything masked by key.
func NewRedactor(values ...string) *Redactor {
	seen := map[string]bool{}
	var all []string
	for _, v := range values {
		v = strings.TrimSpace(v)
		if len(v) < MinSecretLen || v == Masked {
			continue
		}
		for _, form := range escapedForms(v) {
			if len(form) >= MinSecretLen && !seen[form] {
				seen[form] = true
				all = append(all, form)
			}
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if len(all[i]) != len(all[j]) {
			return len(all[i]) > len(all[j])
		}
		return all[i] < all[j]
	})
	r := &Redactor{values: all}
	if len(all) > 0 {
		pairs := make([]string, 0, 2*len(all))
		for _, v := range all {
			pairs = append(pairs, v, Masked)
		}
		r.replacer = strings.NewReplacer(pairs...)
	}
	return r
}

// With returns a Redactor that also masks values.
func (r *Redactor) With(values ...string) *Redactor {
	if r == nil {
		return NewRedactor(values...)
	}
	return NewRedactor(append(append([]string(nil), r.values...), values...)...)
}

// escapedForms are the ways v can appear in spike's outputs.
func escapedForms(v string) []string {
	forms := []string{v, html.EscapeString(v), url.QueryEscape(v), url.PathEscape(v)}
	if b, err := json.Marshal(v); err == nil {
		forms = append(forms, strings.Trim(string(b), `"`))
	}
	// html/template escapes quotes as &#34; and &#39;.
	forms = append(forms, strings.NewReplacer(`"`, "&#34;", `'`, "&#39;", "&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(v))
	return forms
}

// String returns s with every secret masked.
func (r *Redactor) String(s string) string {
	if r != nil && r.replacer != nil {
		s = r.replacer.Replace(s)
	}
	return redactKeys(s)
}

// ValueBytes returns b with the Redactor's values masked, and nothing masked
// by key: for text whose structure must not be touched (a page's scripts).
func (r *Redactor) ValueBytes(b []byte) []byte {
	if r == nil || r.replacer == nil {
		return b
	}
	return []byte(r.replacer.Replace(string(b)))
}

// Bytes returns b with every secret masked.
func (r *Redactor) Bytes(b []byte) []byte { return []byte(r.String(string(b))) }

// Values returns how many distinct forms of secret values r masks.
func (r *Redactor) Values() int {
	if r == nil {
		return 0
	}
	return len(r.values)
}

// redactKeys masks values by the key they stand under.
func redactKeys(s string) string {
	if strings.Contains(s, "@") {
		s = userinfoRE.ReplaceAllString(s, "${1}:"+Masked+"@")
	}
	if strings.Contains(s, "=") {
		s = pairRE.ReplaceAllStringFunc(s, func(m string) string {
			k, _, _ := strings.Cut(m, "=")
			if isSecretParam(k) {
				return k + "=" + Masked
			}
			return m
		})
	}
	if strings.Contains(s, ":") {
		s = jsonFieldRE.ReplaceAllStringFunc(s, func(m string) string {
			sub := jsonFieldRE.FindStringSubmatch(m)
			if isSecretParam(sub[2]) && sub[3] != "" {
				return sub[1] + Masked
			}
			return m
		})
		s = headerLineRE.ReplaceAllString(s, "${1}${2}"+Masked)
	}
	return bearerRE.ReplaceAllString(s, "${1}"+Masked)
}

// Writer returns a writer that masks secrets in each Write before passing it
// to w. Secrets are found within one Write call: fmt.Fprint* and the
// encoders write whole values, so a secret is not split across calls. Write
// reports len(p) written when w took all of the masked text.
func (r *Redactor) Writer(w io.Writer) io.Writer { return &redactWriter{r: r, w: w} }

type redactWriter struct {
	r *Redactor
	w io.Writer
}

func (rw *redactWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(rw.w, rw.r.String(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Redactor returns a Redactor for everything p sends: the secret values of its
// headers, query parameters and body fields, and the password in its
// target, plus extra values (a --target given apart, say).
func (p *Plan) Redactor(extra ...string) *Redactor {
	vals := append([]string(nil), extra...)
	vals = append(vals, targetSecrets(p.Target)...)
	vals = append(vals, targetSecrets(p.Scenario.Target)...)
	for _, r := range p.Scenario.AllRequests() {
		vals = append(vals, requestSecrets(r)...)
	}
	for _, r := range p.Requests { // bodies read from body_file, URLs made absolute
		vals = append(vals, bodySecrets(r.Body.Raw())...)
		vals = append(vals, urlSecrets(r.URL.Raw())...)
	}
	return NewRedactor(vals...)
}

// targetSecrets returns the password of a URL's user:password@ part.
func targetSecrets(target string) []string {
	u, err := url.Parse(target)
	if err != nil || u.User == nil {
		return nil
	}
	if pw, ok := u.User.Password(); ok {
		// Also as the client sends it: Authorization: Basic base64(user:pass).
		basic := base64.StdEncoding.EncodeToString([]byte(u.User.Username() + ":" + pw))
		return append(literalParts(pw), basic)
	}
	return literalParts(u.User.Username())
}

// requestSecrets returns the secret values in one request as written.
func requestSecrets(r RequestSpec) []string {
	var vals []string
	for k, v := range r.Headers {
		if IsSecretKey(k) || strings.HasPrefix(strings.ToLower(v), "bearer ") {
			v = strings.TrimSpace(v)
			if scheme, rest, ok := strings.Cut(v, " "); ok && isAuthScheme(scheme) {
				v = rest
			}
			vals = append(vals, literalParts(v)...)
			if strings.Contains(strings.ToLower(k), "cookie") {
				// Each cookie's value too, as a target may echo it alone.
				for _, c := range strings.Split(v, ";") {
					if _, val, ok := strings.Cut(c, "="); ok {
						vals = append(vals, literalParts(val)...)
					}
				}
			}
		}
	}
	vals = append(vals, urlSecrets(r.URL)...)
	vals = append(vals, bodySecrets(r.Body)...)
	return vals
}

func isAuthScheme(s string) bool {
	switch strings.ToLower(s) {
	case "bearer", "basic", "token", "digest", "apikey":
		return true
	}
	return false
}

// urlSecrets returns the values of secret query parameters and the password
// of a URL.
func urlSecrets(raw string) []string {
	vals := targetSecrets(raw)
	_, q, ok := strings.Cut(raw, "?")
	if !ok {
		return vals
	}
	q, _, _ = strings.Cut(q, "#")
	return append(vals, formSecrets(q)...)
}

// formSecrets returns the values of secret fields of a query string or form.
func formSecrets(q string) []string {
	var vals []string
	for _, kv := range strings.FieldsFunc(q, func(r rune) bool { return r == '&' || r == ';' }) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !IsSecretKey(k) {
			continue
		}
		if u, err := url.QueryUnescape(v); err == nil {
			v = u
		}
		vals = append(vals, literalParts(v)...)
	}
	return vals
}

// bodySecrets returns the values of secret fields of a JSON or form body.
func bodySecrets(body string) []string {
	body = strings.TrimSpace(body)
	if body == "" {
		return nil
	}
	var doc any
	if json.Unmarshal([]byte(body), &doc) == nil {
		var vals []string
		jsonSecrets(doc, false, &vals)
		return vals
	}
	return formSecrets(body)
}

// jsonSecrets collects the strings under secret keys of a JSON document.
func jsonSecrets(v any, secret bool, vals *[]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			jsonSecrets(e, secret || IsSecretKey(k), vals)
		}
	case []any:
		for _, e := range v {
			jsonSecrets(e, secret, vals)
		}
	case string:
		if secret {
			*vals = append(*vals, literalParts(v)...)
		}
	}
}

// literalParts returns the fixed text of a template: a secret written as
// "{{.Seq}}-abcdef" is masked by its fixed part.
func literalParts(v string) []string {
	var parts []string
	for {
		i := strings.Index(v, "{{")
		if i < 0 {
			break
		}
		parts = append(parts, v[:i])
		j := strings.Index(v[i:], "}}")
		if j < 0 {
			v = ""
			break
		}
		v = v[i+j+2:]
	}
	return append(parts, v)
}

// RedactURL masks the password and secret query parameters of a URL.
func RedactURL(raw string) string { return redactKeys(raw) }

// Redacted returns a copy of sc with secret values masked by key: secret
// headers, secret query parameters in URLs, secret fields of bodies (of
// requests and of journeys' steps), and the password in the target.
func (sc Scenario) Redacted() Scenario {
	sc.Target = RedactURL(sc.Target)
	if sc.Requests != nil {
		reqs := make([]RequestSpec, len(sc.Requests))
		for i, r := range sc.Requests {
			reqs[i] = r.redacted()
		}
		sc.Requests = reqs
	}
	if sc.Journeys != nil {
		js := make([]JourneySpec, len(sc.Journeys))
		for i, j := range sc.Journeys {
			steps := make([]StepSpec, len(j.Steps))
			for k, st := range j.Steps {
				st.RequestSpec = st.RequestSpec.redacted()
				steps[k] = st
			}
			j.Steps = steps
			js[i] = j
		}
		sc.Journeys = js
	}
	return sc
}

// redacted returns a copy of r with its secret values masked by key.
func (r RequestSpec) redacted() RequestSpec {
	if len(r.Headers) > 0 {
		h := make(map[string]string, len(r.Headers))
		for k, v := range r.Headers {
			if IsSecretKey(k) || strings.HasPrefix(strings.ToLower(v), "bearer ") {
				v = Masked
			}
			h[k] = v
		}
		r.Headers = h
	}
	r.URL = RedactURL(r.URL)
	r.Body = redactKeys(r.Body)
	return r
}
