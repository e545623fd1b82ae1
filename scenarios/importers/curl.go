package importers

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strings"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"
)

// curlFlag describes one curl option the importer understands.
type curlFlag struct {
	value bool // takes a value
	// ignored options change nothing spike would send (output, verbosity).
	ignored bool
}

// curlFlags are curl's options as "Copy as cURL" (Chromium, Firefox,
// Safari) and people write them, by long name; curlShort maps short ones.
var curlFlags = map[string]curlFlag{
	"request": {value: true}, "header": {value: true}, "data": {value: true}, "data-raw": {value: true},
	"data-binary": {value: true}, "data-ascii": {value: true}, "data-urlencode": {value: true}, "json": {value: true},
	"cookie": {value: true}, "user": {value: true}, "user-agent": {value: true}, "referer": {value: true},
	"url": {value: true}, "get": {}, "head": {}, "insecure": {},
	"compressed": {ignored: true}, "location": {ignored: true}, "silent": {ignored: true}, "show-error": {ignored: true},
	"verbose": {ignored: true}, "include": {ignored: true}, "fail": {ignored: true}, "http2": {ignored: true},
	"http1.1": {ignored: true}, "http2-prior-knowledge": {ignored: true}, "globoff": {ignored: true}, "no-buffer": {ignored: true},
	"output": {value: true, ignored: true}, "write-out": {value: true, ignored: true}, "max-time": {value: true, ignored: true},
	"connect-timeout": {value: true, ignored: true}, "retry": {value: true, ignored: true}, "max-redirs": {value: true, ignored: true},
	"resolve": {value: true, ignored: true}, "cacert": {value: true, ignored: true}, "ipv4": {ignored: true}, "ipv6": {ignored: true},
}

var curlShort = map[byte]string{
	'X': "request", 'H': "header", 'd': "data", 'b': "cookie", 'u': "user", 'A': "user-agent", 'e': "referer",
	'G': "get", 'I': "head", 'k': "insecure", 'L': "location", 's': "silent", 'S': "show-error", 'v': "verbose",
	'i': "include", 'f': "fail", 'o': "output", 'w': "write-out", 'm': "max-time", 'g': "globoff", 'N': "no-buffer",
	'4': "ipv4", '6': "ipv6",
}

// envOpen and envClose bracket a shell variable's name while words are
// expanded, so that $TOKEN in a command becomes {{env "TOKEN"}}. They are
// plain letters, so they survive URL parsing and escaping unchanged.
const (
	envOpen  = "XspikeenvX"
	envClose = "XvneekipsX"
)

var envMarked = regexp.MustCompile(envOpen + "([A-Za-z_][A-Za-z0-9_]*?)" + envClose)

// Curl imports one or more curl commands, as "Copy as cURL" or "Copy all as
// cURL" in a browser's network panel gives them (bash quoting, $'…' strings,
// line continuations; commands on separate lines or joined with ; or &&).
// Shell variables in the commands ($TOKEN) become {{env "TOKEN"}}.
func Curl(script string, opts Options) (*Scenario, error) {
	if strings.TrimSpace(script) == "" {
		return nil, errorf(opts.Source, "no curl command given")
	}
	if len(script) > MaxInputSize {
		return nil, errorf(opts.Source, "larger than %d MiB", MaxInputSize>>20)
	}
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(script), "")
	if err != nil {
		var pe syntax.ParseError
		if errors.As(err, &pe) {
			return nil, errorf(opts.Source, "%d:%d: %s (want curl commands with shell quoting)", pe.Pos.Line(), pe.Pos.Col(), pe.Text)
		}
		return nil, errorf(opts.Source, "%v", err)
	}
	var calls []*syntax.CallExpr
	var other []string
	syntax.Walk(f, func(n syntax.Node) bool {
		ce, ok := n.(*syntax.CallExpr)
		if !ok || len(ce.Args) == 0 {
			return true
		}
		if name := ce.Args[0].Lit(); path.Base(name) == "curl" || name == "curl.exe" {
			calls = append(calls, ce)
		} else {
			other = append(other, fmt.Sprintf("%d:%d: %s", ce.Pos().Line(), ce.Pos().Col(), ce.Args[0].Lit()))
		}
		return false
	})
	if len(calls) == 0 {
		return nil, errorf(opts.Source, "no curl command found")
	}
	cfg := &expand.Config{Env: expand.FuncEnviron(func(name string) string { return envOpen + name + envClose })}
	b := newBuilder(opts)
	var notes []string
	type cmd struct {
		r   raw
		pos string
	}
	var cmds []cmd
	for _, ce := range calls {
		at := fmt.Sprintf("%d:%d", ce.Pos().Line(), ce.Pos().Col())
		args := make([]string, 0, len(ce.Args)-1)
		for _, w := range ce.Args[1:] {
			s, err := expand.Literal(cfg, w)
			if err != nil {
				return nil, errorf(opts.Source, "%d:%d: %v (command substitutions and the like are not run; paste the value)", w.Pos().Line(), w.Pos().Col(), err)
			}
			args = append(args, s)
		}
		r, n, err := curlRequest(args)
		if err != nil {
			return nil, errorf(opts.Source, "%s: curl: %v", at, err)
		}
		notes = append(notes, n...)
		cmds = append(cmds, cmd{r, at})
	}
	if err := b.setOrigin(cmds[0].r.URL); err != nil {
		return nil, &InputError{Source: opts.Source, Msg: err.Error()}
	}
	for _, c := range cmds {
		b.add(c.r)
	}
	s, err := b.scenario("Imported from " + plural(len(calls), "curl command"))
	if err != nil {
		return nil, err
	}
	for i := range s.Requests {
		r := &s.Requests[i]
		r.URL = envRefs(r.URL, s)
		r.Body = envRefs(r.Body, s)
		for j := range r.Headers {
			r.Headers[j].Value = envRefs(r.Headers[j].Value, s)
		}
	}
	if len(other) > 0 {
		s.Notes = append(s.Notes, "Commands other than curl were ignored: "+strings.Join(other, ", "))
	}
	s.Notes = append(s.Notes, dedupe(notes)...)
	return s, nil
}

// envRefs turns marked shell variables into {{env "NAME"}} and lists them
// with the scenario's secrets.
func envRefs(s string, sc *Scenario) string {
	return envMarked.ReplaceAllStringFunc(s, func(m string) string {
		name := envMarked.FindStringSubmatch(m)[1]
		found := false
		for i := range sc.Secrets {
			if sc.Secrets[i].Env == name {
				sc.Secrets[i].Uses++
				found = true
			}
		}
		if !found {
			sc.Secrets = append(sc.Secrets, Secret{Env: name, Where: "a shell variable in the command", Uses: 1})
		}
		return `{{env "` + name + `"}}`
	})
}

func dedupe(xs []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// curlRequest reads one curl command's arguments (without "curl").
func curlRequest(args []string) (raw, []string, error) {
	var (
		method, rawURL, userAgent, referer string
		headers                            []Header
		data                               []string
		json, get, head                    bool
		notes                              []string
	)
	set := func(name, v string) error {
		switch name {
		case "request":
			method = strings.ToUpper(v)
		case "header":
			k, val, ok := strings.Cut(v, ":")
			if !ok || strings.TrimSpace(k) == "" {
				return fmt.Errorf("-H %q: want \"Name: value\"", v)
			}
			headers = append(headers, Header{Key: strings.TrimSpace(k), Value: strings.TrimSpace(val)})
		case "data", "data-raw", "data-binary", "data-ascii", "json", "data-urlencode":
			if strings.HasPrefix(v, "@") && name != "data-raw" {
				return fmt.Errorf("--%s %s: bodies read from files are not imported; paste the body instead", name, v)
			}
			if name == "data-urlencode" {
				k, val, ok := strings.Cut(v, "=")
				if ok {
					v = k + "=" + url.QueryEscape(val)
				} else {
					v = url.QueryEscape(v)
				}
			}
			if name == "json" {
				json = true
			}
			data = append(data, v)
		case "cookie":
			if !strings.Contains(v, "=") {
				return fmt.Errorf("-b %s: cookies read from files are not imported; give name=value", v)
			}
			headers = append(headers, Header{Key: "Cookie", Value: v})
		case "user":
			headers = append(headers, Header{Key: "Authorization", Value: "Basic " + base64.StdEncoding.EncodeToString([]byte(v))})
		case "user-agent":
			userAgent = v
		case "referer":
			referer = v
		case "url":
			if rawURL != "" {
				return fmt.Errorf("more than one URL (%s, %s): give one request per curl command", rawURL, v)
			}
			rawURL = v
		case "get":
			get = true
		case "head":
			head = true
		case "insecure":
			notes = append(notes, "A command skipped TLS certificate checks (-k); add options: {insecure: true} if the target needs it.")
		}
		return nil
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			for _, rest := range args[i+1:] {
				if err := set("url", rest); err != nil {
					return raw{}, nil, err
				}
			}
			i = len(args)
		case strings.HasPrefix(a, "--"):
			name := a[2:]
			f, ok := curlFlags[name]
			if !ok {
				return raw{}, nil, fmt.Errorf("unsupported option %s", a)
			}
			v := ""
			if f.value {
				if i+1 >= len(args) {
					return raw{}, nil, fmt.Errorf("option %s needs a value", a)
				}
				i++
				v = args[i]
			}
			if !f.ignored {
				if err := set(name, v); err != nil {
					return raw{}, nil, err
				}
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			for j := 1; j < len(a); j++ {
				name, ok := curlShort[a[j]]
				if !ok {
					return raw{}, nil, fmt.Errorf("unsupported option -%c", a[j])
				}
				f := curlFlags[name]
				v := ""
				if f.value {
					if j+1 < len(a) {
						v = a[j+1:]
					} else if i+1 < len(args) {
						i++
						v = args[i]
					} else {
						return raw{}, nil, fmt.Errorf("option -%c needs a value", a[j])
					}
					j = len(a)
				}
				if !f.ignored {
					if err := set(name, v); err != nil {
						return raw{}, nil, err
					}
				}
			}
		default:
			if err := set("url", a); err != nil {
				return raw{}, nil, err
			}
		}
	}
	if rawURL == "" {
		return raw{}, nil, fmt.Errorf("no URL")
	}
	if !strings.Contains(rawURL, "://") {
		rawURL = "http://" + rawURL // as curl does
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return raw{}, nil, fmt.Errorf("not an http(s) URL: %q", rawURL)
	}
	u.Fragment = ""
	body := strings.Join(data, "&")
	if userAgent != "" {
		headers = append(headers, Header{Key: "User-Agent", Value: userAgent})
	}
	if referer != "" {
		headers = append(headers, Header{Key: "Referer", Value: referer})
	}
	ct := ""
	var kept []Header
	for _, h := range headers {
		lk := strings.ToLower(h.Key)
		if strings.HasPrefix(lk, "sec-") || lk == "host" || lk == "content-length" || lk == "connection" || lk == "accept-encoding" || lk == "priority" || lk == "upgrade-insecure-requests" {
			continue
		}
		if lk == "content-type" {
			ct = h.Value
		}
		kept = append(kept, h)
	}
	if json {
		if ct == "" {
			ct = "application/json"
			kept = append(kept, Header{Key: "Content-Type", Value: ct})
		}
		if !hasHeader(kept, "accept") {
			kept = append(kept, Header{Key: "Accept", Value: "application/json"})
		}
	} else if body != "" && ct == "" && !get {
		ct = "application/x-www-form-urlencoded" // curl's default for -d
		kept = append(kept, Header{Key: "Content-Type", Value: ct})
	}
	switch {
	case method != "":
	case head:
		method = "HEAD"
	case get:
		method = "GET"
	case body != "":
		method = "POST"
	default:
		method = "GET"
	}
	if get && body != "" {
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += body
		body = ""
	}
	if !knownMethod(method) {
		return raw{}, nil, fmt.Errorf("-X %s: spike sends GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS", method)
	}
	return raw{Method: method, URL: u, Headers: kept, Body: body, ContentType: ct, Layer: guessLayer("", method, u.Path, ct)}, notes, nil
}

func hasHeader(hs []Header, name string) bool {
	for _, h := range hs {
		if strings.EqualFold(h.Key, name) {
			return true
		}
	}
	return false
}
