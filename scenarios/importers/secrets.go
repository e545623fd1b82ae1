package importers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
)

// envPrefix starts every environment variable an import asks for.
const envPrefix = "SPIKE_"

// secrets replaces secret values with {{env "NAME"}} references. The same
// value always gets the same variable; a second value for the same kind of
// secret gets a numbered one (SPIKE_AUTHORIZATION_2).
type secrets struct {
	byValue map[string]string // kind + value → env name
	taken   map[string]bool   // env names in use
	where   map[string]string // env name → where it was found
	uses    map[string]int    // env name → requests carrying it
	pending map[string]bool   // env names seen in the request being added
	order   []string
}

func newSecrets() *secrets {
	return &secrets{byValue: map[string]string{}, taken: map[string]bool{}, where: map[string]string{}, uses: map[string]int{}, pending: map[string]bool{}}
}

// secretHeaders are header names whose values are always secret.
var secretHeaders = map[string]bool{
	"authorization": true, "proxy-authorization": true, "cookie": true,
	"x-api-key": true, "api-key": true, "apikey": true, "x-auth-token": true, "x-access-token": true,
	"x-csrf-token": true, "x-xsrf-token": true, "x-amz-security-token": true, "x-goog-api-key": true,
}

// secretWord matches names (of headers, query parameters, body fields)
// that hold credentials: api_key, access_token, client_secret, password, …
var secretWord = regexp.MustCompile(`(?i)(api[-_]?key|apikey|token|secret|passw(or)?d|passwd|^pwd$|^pass$|session|^sid$|signature|^sig$|credential|^auth$|^key$|^code$|jwt)`)

var nonEnv = regexp.MustCompile(`[^A-Z0-9]+`)

// isSecretName reports whether a header, parameter or field name holds a
// credential.
func isSecretName(name string) bool {
	return secretHeaders[strings.ToLower(name)] || secretWord.MatchString(name)
}

// ref returns {{env "NAME"}} for value, found as kind (a header, parameter
// or field name) at where.
func (s *secrets) ref(kind, value, where string) string {
	key := strings.ToLower(kind) + "\x00" + value
	name, ok := s.byValue[key]
	if !ok {
		base := envPrefix + strings.Trim(nonEnv.ReplaceAllString(strings.ToUpper(kind), "_"), "_")
		name = base
		for i := 2; s.taken[name]; i++ {
			name = fmt.Sprintf("%s_%d", base, i)
		}
		s.taken[name] = true
		s.byValue[key] = name
		s.where[name] = where
		s.order = append(s.order, name)
	}
	s.pending[name] = true
	return `{{env "` + name + `"}}`
}

// header returns the header's value with any secret replaced. An
// authorization scheme ("Bearer", "Basic") stays in the file.
func (s *secrets) header(key, value string) string {
	if !isSecretName(key) || value == "" || strings.Contains(value, envOpen) || strings.Contains(value, `{{env "`) {
		if strings.Contains(value, `{{env "`) {
			return value // a reference the importer wrote
		}
		return escapeTemplate(value)
	}
	lk := strings.ToLower(key)
	if lk == "authorization" || lk == "proxy-authorization" {
		if scheme, cred, ok := strings.Cut(value, " "); ok && !strings.ContainsAny(scheme, "=,") {
			return scheme + " " + s.ref(key, strings.TrimSpace(cred), fmt.Sprintf("the %s header (%s credentials)", key, scheme))
		}
	}
	return s.ref(key, value, fmt.Sprintf("the %s header", key))
}

// query returns a raw query string with secret parameters' values
// replaced, leaving the rest as written. template says the query is
// already a template.
func (s *secrets) query(rawQuery string, template bool) string {
	parts := strings.Split(rawQuery, "&")
	for i, p := range parts {
		k, v, _ := strings.Cut(p, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		if v != "" && isSecretName(name) && !strings.Contains(v, "{{") && !strings.Contains(v, envOpen) {
			val, err := url.QueryUnescape(v)
			if err != nil {
				val = v
			}
			parts[i] = k + "=" + s.ref(name, val, fmt.Sprintf("the %s query parameter", name))
		} else if !template {
			parts[i] = escapeTemplate(p)
		}
	}
	return strings.Join(parts, "&")
}

// body returns the body with secret fields replaced, for JSON objects and
// form-encoded bodies; other bodies are kept as they are.
func (s *secrets) body(contentType, body string, template bool) string {
	if body == "" {
		return ""
	}
	ct := strings.ToLower(contentType)
	trimmed := strings.TrimSpace(body)
	switch {
	case strings.Contains(ct, "json") || (ct == "" && strings.HasPrefix(trimmed, "{")):
		if template {
			return body
		}
		var v any
		dec := json.NewDecoder(strings.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return escapeTemplate(body)
		}
		found := false
		v = s.redactJSON(v, &found)
		if !found {
			return escapeTemplate(body)
		}
		// Re-encode with placeholders, then swap the template in, so the
		// JSON stays valid around it.
		return s.encodeJSON(v)
	case strings.Contains(ct, "x-www-form-urlencoded"):
		return s.query(body, template)
	}
	if template {
		return body
	}
	return escapeTemplate(body)
}

// jsonSecret marks a JSON string value to be replaced by a template.
type jsonSecret struct{ ref string }

func (s *secrets) redactJSON(v any, found *bool) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if str, ok := e.(string); ok && str != "" && isSecretName(k) && !strings.Contains(str, envOpen) {
				x[k] = jsonSecret{s.ref(k, str, fmt.Sprintf("the %q field of a JSON body", k))}
				*found = true
				continue
			}
			x[k] = s.redactJSON(e, found)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = s.redactJSON(e, found)
		}
		return x
	}
	return v
}

// encodeJSON writes v as compact JSON; see writeJSON.
func (s *secrets) encodeJSON(v any) string {
	var b bytes.Buffer
	writeJSON(&b, v)
	return b.String()
}

// writeJSON writes v as compact JSON for a body template: objects decoded
// from JSON with sorted keys, ordered YAML mappings in their order, secrets
// as "{{env "NAME"}}", and literal "{{" escaped everywhere else.
func writeJSON(w *bytes.Buffer, v any) {
	writeObject := func(keys []string, value func(string) any) {
		w.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				w.WriteByte(',')
			}
			kb, _ := json.Marshal(k)
			w.WriteString(escapeTemplate(string(kb)))
			w.WriteByte(':')
			writeJSON(w, value(k))
		}
		w.WriteByte('}')
	}
	switch x := v.(type) {
	case jsonSecret:
		w.WriteString(`"` + x.ref + `"`)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		writeObject(keys, func(k string) any { return x[k] })
	case yaml.MapSlice:
		keys := make([]string, len(x))
		vals := make(map[string]any, len(x))
		for i, it := range x {
			keys[i] = fmt.Sprint(it.Key)
			vals[keys[i]] = it.Value
		}
		writeObject(keys, func(k string) any { return vals[k] })
	case []any:
		w.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				w.WriteByte(',')
			}
			writeJSON(w, e)
		}
		w.WriteByte(']')
	default:
		b, err := json.Marshal(x)
		if err != nil {
			b, _ = json.Marshal(fmt.Sprint(x))
		}
		w.WriteString(escapeTemplate(string(b)))
	}
}

// count records the secrets of the request just added.
func (s *secrets) count(*Request) {
	for n := range s.pending {
		s.uses[n]++
		delete(s.pending, n)
	}
}

// list returns the secrets in the order they were found.
func (s *secrets) list() []Secret {
	out := make([]Secret, 0, len(s.order))
	for _, n := range s.order {
		if s.uses[n] == 0 {
			continue
		}
		out = append(out, Secret{Env: n, Where: s.where[n], Uses: s.uses[n]})
	}
	return out
}
