// Package importers turns traffic people already have — a browser recording
// (HAR), "Copy as cURL" commands, vegeta targets, an OpenAPI description —
// into a commented spike scenario.
//
// It is a subpackage of scenarios because what it produces is a scenario
// file, checked by the scenarios loader, while the parsers it needs (HAR and
// OpenAPI documents, shell words, vegeta's targeters) have no place in the
// scenarios package itself, which must stay free of HTTP and input formats.
// Dependencies point one way: importers → scenarios.
//
// Each importer returns a [Scenario]; [Scenario.YAML] writes it. Secrets
// found in the input (Authorization and Cookie headers, API keys and tokens
// in headers, query strings and bodies) never reach the output: they become
// {{env "NAME"}} references, listed in the file's header comment.
package importers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Defaults for the settings an input does not carry.
const (
	// DefaultBaseline is the baseline written when none is given, in req/s.
	DefaultBaseline = 10.0
	// DefaultShape is the preset written when none is given.
	DefaultShape = "producthunt"
	// MaxInputSize bounds every input file: 256 MiB covers long recordings.
	MaxInputSize = 256 << 20
	// maxNameLen bounds a generated request name.
	maxNameLen = 80
)

// Options are the settings every importer shares. The zero value works.
type Options struct {
	// Source names the input in comments and errors (a file name, or "-").
	Source string
	// Name is the scenario's name; default: derived from Source.
	Name string
	// Target is the base URL; default: the input's main host.
	Target string
	// Baseline is today's normal traffic in req/s; default DefaultBaseline.
	Baseline float64
	// Shape is the preset to replay; default DefaultShape.
	Shape string
	// IncludeHosts are hosts other than the main one whose requests are
	// kept (as absolute URLs); others are listed in a comment and left out.
	IncludeHosts []string
}

// Scenario is an imported scenario, ready to be written as YAML.
type Scenario struct {
	Name        string
	Description string
	// Target is the base URL relative request URLs resolve against.
	Target   string
	Baseline float64
	Shape    string
	Requests []Request
	// AllowHosts are the hosts other than the target's that requests go to
	// (written as allow_hosts, which the loader requires for them).
	AllowHosts []string
	// Notes are comment lines for the top of the file.
	Notes []string
	// Secrets are the environment variables the scenario reads.
	Secrets []Secret
}

// Request is one request of an imported mix.
type Request struct {
	Name   string
	Method string
	// URL is relative to the target, or absolute for an included host. It
	// is a template: literal "{{" is escaped.
	URL     string
	Headers []Header
	// Body is a template, like URL.
	Body   string
	Weight float64
	// Layer is the layer tag, or "".
	Layer string
	// Expect lists the statuses that count as success; empty means 2xx/3xx.
	Expect []int
	// Comment is written above the request.
	Comment string
}

// Header is one request header; Value is a template.
type Header struct{ Key, Value string }

// Secret is one environment variable an imported scenario reads.
type Secret struct {
	// Env is the variable's name.
	Env string
	// Where says where the value was found ("the Authorization header").
	Where string
	// Uses is how many requests carried it.
	Uses int
}

// errorf is an input error: the message names the input.
func errorf(source, format string, args ...any) error {
	return &InputError{Source: source, Msg: fmt.Sprintf(format, args...)}
}

// InputError is a problem with the input itself (as opposed to, say, an
// unreadable file); the command exits 2 on it.
type InputError struct {
	Source string
	Msg    string
}

func (e *InputError) Error() string { return e.Source + ": " + e.Msg }

// escapeTemplate makes literal text safe inside a spike template.
func escapeTemplate(s string) string {
	if !strings.Contains(s, "{{") {
		return s
	}
	return strings.ReplaceAll(s, "{{", `{{"{{"}}`)
}

// builder collects requests: identical ones (method, URL, headers, body)
// add up their weights, names are made unique, other hosts are counted.
type builder struct {
	opts    Options
	origin  *url.URL
	reqs    []*Request
	index   map[string]*Request
	names   map[string]int
	target  string          // the scenario's target
	skipped map[string]int  // host → requests left out
	allowed map[string]bool // other hosts requests go to
	dropped map[string]int  // header name → times left out
	sec     *secrets
	// pendingComment is the comment for the next new request.
	pendingComment string
}

func newBuilder(opts Options) *builder {
	return &builder{opts: opts, index: map[string]*Request{}, names: map[string]int{}, skipped: map[string]int{}, dropped: map[string]int{}, allowed: map[string]bool{}, sec: newSecrets()}
}

// setOrigin sets the main host from u (the input's), and the target the
// scenario names: Options.Target when given, else that host. Requests to
// the main host become relative to the target.
func (b *builder) setOrigin(u *url.URL) error {
	if b.origin != nil {
		return nil
	}
	if b.opts.Target != "" {
		t, err := url.Parse(b.opts.Target)
		if err != nil || (t.Scheme != "http" && t.Scheme != "https") || t.Host == "" {
			return fmt.Errorf("--target must be an http(s) URL like https://staging.example.com, got %q", b.opts.Target)
		}
		b.target = strings.TrimSuffix(t.String(), "/")
		if u == nil {
			u = t
		}
	}
	if u != nil {
		b.origin = &url.URL{Scheme: u.Scheme, Host: u.Host}
		if b.target == "" {
			b.target = b.origin.String()
		}
	}
	return nil
}

func (b *builder) included(host string) bool {
	for _, h := range b.opts.IncludeHosts {
		if strings.EqualFold(h, host) {
			return true
		}
	}
	return false
}

// raw is a request as an importer read it, before secrets and hosts.
type raw struct {
	Method  string
	URL     *url.URL
	Headers []Header
	Body    string
	// ContentType is the body's media type, for finding secrets in it.
	ContentType string
	// Layer is the importer's guess, or "".
	Layer string
	// Name overrides the generated name.
	Name string
	// Weight is the request's share; 0 means 1.
	Weight float64
	// Template marks URL path and body as already templates (OpenAPI).
	Template bool
	// Expect is the request's expected statuses, if not 2xx/3xx.
	Expect []int
}

// add adds one request. It reports false when the request's host is left out.
func (b *builder) add(r raw) bool {
	u := r.URL
	host := strings.ToLower(u.Host)
	main := b.origin != nil && strings.EqualFold(u.Host, b.origin.Host) && u.Scheme == b.origin.Scheme
	if !main && u.Host != "" && !b.included(host) && !b.included(u.Hostname()) {
		b.skipped[u.Host]++
		return false
	}
	p := u.EscapedPath()
	if r.Template {
		p = u.Path // already a template; keep {{ }} unescaped
	} else {
		p = escapeTemplate(p)
	}
	if p == "" {
		p = "/"
	}
	target := p
	if u.RawQuery != "" {
		target += "?" + b.sec.query(u.RawQuery, r.Template)
	}
	layer := r.Layer
	if !main && u.Host != "" {
		b.allowed[u.Hostname()] = true
		target = u.Scheme + "://" + u.Host + target
		if layer == "" || layer == "backend" {
			layer = "third-party"
		}
	}
	req := &Request{Method: strings.ToUpper(r.Method), URL: target, Layer: layer, Weight: r.Weight, Comment: b.pendingComment, Expect: r.Expect}
	b.pendingComment = ""
	if req.Weight == 0 {
		req.Weight = 1
	}
	seen := map[string]int{}
	for _, h := range r.Headers {
		if !headerName.MatchString(h.Key) || strings.ContainsAny(h.Value, "\r\n") {
			b.dropped[h.Key]++
			continue
		}
		v := b.sec.header(h.Key, h.Value)
		// One YAML key per header: repeated headers are joined, as HTTP
		// allows ("; " for cookies).
		if i, ok := seen[strings.ToLower(h.Key)]; ok {
			sep := ", "
			if strings.EqualFold(h.Key, "cookie") {
				sep = "; "
			}
			req.Headers[i].Value += sep + v
			continue
		}
		seen[strings.ToLower(h.Key)] = len(req.Headers)
		req.Headers = append(req.Headers, Header{Key: h.Key, Value: v})
	}
	sort.SliceStable(req.Headers, func(i, j int) bool { return strings.ToLower(req.Headers[i].Key) < strings.ToLower(req.Headers[j].Key) })
	if r.Template {
		req.Body = b.sec.body(r.ContentType, r.Body, true)
	} else {
		req.Body = b.sec.body(r.ContentType, r.Body, false)
	}
	var key bytes.Buffer
	fmt.Fprintf(&key, "%s %s\x00%s\x00", req.Method, req.URL, req.Body)
	for _, h := range req.Headers {
		fmt.Fprintf(&key, "%s=%s\x00", h.Key, h.Value)
	}
	b.sec.count(req)
	if old, ok := b.index[key.String()]; ok {
		old.Weight += req.Weight
		return true
	}
	req.Name = b.name(r.Name, req.Method, u)
	b.index[key.String()] = req
	b.reqs = append(b.reqs, req)
	return true
}

// name returns a unique request name: given, or "METHOD /path" (with the
// host for other hosts), shortened, numbered when taken.
func (b *builder) name(given, method string, u *url.URL) string {
	n := given
	if n == "" {
		p := u.Path
		if p == "" {
			p = "/"
		}
		n = method + " " + p
		if b.origin == nil || !strings.EqualFold(u.Host, b.origin.Host) {
			n = method + " " + u.Host + p
		}
	}
	n = strings.ReplaceAll(n, "{{", "{")
	n = strings.ReplaceAll(n, "}}", "}")
	if len(n) > maxNameLen {
		n = n[:maxNameLen-1] + "…"
	}
	b.names[n]++
	if k := b.names[n]; k > 1 {
		n = fmt.Sprintf("%s #%d", n, k)
	}
	return n
}

// scenario finishes the build.
func (b *builder) scenario(desc string) (*Scenario, error) {
	if len(b.reqs) == 0 {
		msg := "no requests to import"
		if len(b.skipped) > 0 {
			msg += fmt.Sprintf(" on the main host (left out: %s; add --include-host)", strings.Join(hostList(b.skipped), ", "))
		}
		return nil, errorf(b.opts.Source, "%s", msg)
	}
	s := &Scenario{
		Name:        b.opts.Name,
		Description: desc,
		Baseline:    b.opts.Baseline,
		Shape:       b.opts.Shape,
		Secrets:     b.sec.list(),
	}
	if s.Name == "" {
		s.Name = nameFromSource(b.opts.Source)
	}
	if s.Baseline <= 0 {
		s.Baseline = DefaultBaseline
	}
	if s.Shape == "" {
		s.Shape = DefaultShape
	}
	s.Target = b.target
	for h := range b.allowed {
		s.AllowHosts = append(s.AllowHosts, h)
	}
	sort.Strings(s.AllowHosts)
	for _, r := range b.reqs {
		s.Requests = append(s.Requests, *r)
	}
	if len(b.dropped) > 0 {
		var names []string
		for n := range b.dropped {
			names = append(names, fmt.Sprintf("%q", n))
		}
		sort.Strings(names)
		s.Notes = append(s.Notes, "Headers left out (not a valid name, or a value with a line break): "+strings.Join(names, ", "))
	}
	if len(b.skipped) > 0 {
		s.Notes = append(s.Notes, "Requests to other hosts were left out (add --include-host HOST to keep them):")
		for _, h := range hostList(b.skipped) {
			s.Notes = append(s.Notes, "  "+h)
		}
	}
	return s, nil
}

func hostList(m map[string]int) []string {
	hosts := make([]string, 0, len(m))
	for h := range m {
		hosts = append(hosts, h)
	}
	sort.Slice(hosts, func(i, j int) bool {
		if m[hosts[i]] != m[hosts[j]] {
			return m[hosts[i]] > m[hosts[j]]
		}
		return hosts[i] < hosts[j]
	})
	out := make([]string, len(hosts))
	for i, h := range hosts {
		out[i] = fmt.Sprintf("%s (%s)", h, plural(m[h], "request"))
	}
	return out
}

// headerName is an HTTP header name (RFC 9110 token characters).
var headerName = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

var nonName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func nameFromSource(src string) string {
	base := path.Base(strings.ReplaceAll(src, "\\", "/"))
	base = strings.TrimSuffix(base, path.Ext(base))
	base = strings.Trim(nonName.ReplaceAllString(base, "-"), "-")
	if base == "" || base == "." {
		return "imported"
	}
	return base
}

// YAML writes the scenario as a commented spike scenario file that the
// strict loader accepts (once the secrets' variables are set).
func (s *Scenario) YAML() []byte {
	var w bytes.Buffer
	w.WriteString("# yaml-language-server: $schema=https://raw.githubusercontent.com/spikeload/spike/main/scenarios/schema.json\n")
	if s.Description != "" {
		fmt.Fprintf(&w, "# %s\n", oneLine(s.Description))
	}
	w.WriteString("#\n# Check it with `spike plan FILE`; set baseline to your real normal traffic and pick\n" +
		"# a shape (`spike shapes`). Weights are each request's share of the traffic.\n")
	if len(s.Secrets) > 0 {
		w.WriteString("#\n# Secrets in the input were not copied: the requests read them from the environment.\n" +
			"# Set these before spike plan or spike run (loading fails, naming the variable, if one is unset):\n")
		for _, sec := range s.Secrets {
			fmt.Fprintf(&w, "#   export %s=…   # %s, in %s\n", sec.Env, oneLine(sec.Where), plural(sec.Uses, "request"))
		}
	}
	if len(s.Notes) > 0 {
		w.WriteString("#\n")
		for _, n := range s.Notes {
			fmt.Fprintf(&w, "# %s\n", oneLine(n))
		}
	}
	fmt.Fprintf(&w, "name: %s\n", scalar(s.Name))
	if s.Description != "" {
		fmt.Fprintf(&w, "description: %s\n", scalar(s.Description))
	}
	if s.Target != "" {
		if !localTarget(s.Target) {
			w.WriteString("# spike run sends to a target outside loopback and private networks only once it is\n" +
				"# named in allow_hosts (or with --allow-host): point it at staging, not production.\n")
		}
		fmt.Fprintf(&w, "target: %s   # or pass --target to spike run\n", scalar(s.Target))
	} else {
		w.WriteString("# target: https://staging.example.com   # none in the input: set it, or pass --target\n")
	}
	if len(s.AllowHosts) > 0 {
		hosts := make([]string, len(s.AllowHosts))
		for i, h := range s.AllowHosts {
			hosts[i] = scalar(h)
		}
		fmt.Fprintf(&w, "allow_hosts: [%s]   # other hosts these requests go to\n", strings.Join(hosts, ", "))
	}
	fmt.Fprintf(&w, "baseline: %s   # req/s on a normal day\n", strconv.FormatFloat(s.Baseline, 'f', -1, 64))
	fmt.Fprintf(&w, "shape: %s   # a preset; see spike shapes\n", scalar(s.Shape))
	w.WriteString("requests:\n")
	for _, r := range s.Requests {
		if r.Comment != "" {
			for _, line := range strings.Split(r.Comment, "\n") {
				fmt.Fprintf(&w, "  # %s\n", oneLine(line))
			}
		}
		fmt.Fprintf(&w, "  - name: %s\n", scalar(r.Name))
		if r.Method != "GET" {
			fmt.Fprintf(&w, "    method: %s\n", r.Method)
		}
		fmt.Fprintf(&w, "    url: %s\n", scalar(r.URL))
		fmt.Fprintf(&w, "    weight: %s\n", strconv.FormatFloat(r.Weight, 'f', -1, 64))
		if r.Layer != "" {
			fmt.Fprintf(&w, "    layer: %s\n", r.Layer)
		}
		if len(r.Expect) > 0 {
			codes := make([]string, len(r.Expect))
			for i, c := range r.Expect {
				codes[i] = strconv.Itoa(c)
			}
			fmt.Fprintf(&w, "    expect: [%s]\n", strings.Join(codes, ", "))
		}
		if len(r.Headers) > 0 {
			w.WriteString("    headers:\n")
			for _, h := range r.Headers {
				fmt.Fprintf(&w, "      %s: %s\n", scalar(h.Key), scalar(h.Value))
			}
		}
		if r.Body != "" {
			fmt.Fprintf(&w, "    body: %s\n", scalar(r.Body))
		}
	}
	return w.Bytes()
}

var (
	plainScalar = regexp.MustCompile(`^[A-Za-z0-9/][A-Za-z0-9/_.\-]*$`)
	yamlWords   = regexp.MustCompile(`^(?i:true|false|yes|no|on|off|y|n|null|~|[-+]?[0-9._]+([eE][-+]?[0-9]+)?|0x[0-9a-f]+|0o[0-7]+|\.inf|\.nan)$`)
)

// scalar writes s as a YAML scalar: plain when that reads back as the same
// text, else double-quoted (JSON's quoting is valid YAML).
func scalar(s string) string {
	if plainScalar.MatchString(s) && !yamlWords.MatchString(s) {
		return s
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// plural says "1 request" or "3 requests".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// oneLine makes text safe in a YAML comment: control characters and the
// line breaks YAML knows (NEL, LS, PS) become spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0x85 || r == 0x2028 || r == 0x2029 {
			return ' '
		}
		return r
	}, s)
}

// localTarget reports whether a target URL names this machine or a private
// address, which spike run sends to without allow_hosts.
func localTarget(target string) bool {
	u, err := url.Parse(target)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && (a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast())
}
