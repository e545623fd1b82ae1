package importers

import (
	"bytes"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/spikeload/spike/scenarios"
)

// Weights the OpenAPI importer gives each method: reads dominate real
// traffic, so a GET is weighted well above a write.
var openAPIWeights = map[string]float64{
	"GET": 10, "HEAD": 5, "POST": 3, "PUT": 2, "PATCH": 2, "DELETE": 1, "OPTIONS": 1,
}

// maxExampleDepth bounds the example bodies made from schemas (and so
// recursive schemas).
const maxExampleDepth = 8

// OpenAPI imports an OpenAPI 3.0 or 3.1 description (YAML or JSON): one
// request per operation, with the spec's example bodies (or ones made from
// the schemas), GETs weighted above writes, path parameters templated, and
// the security schemes' credentials read from the environment.
//
// The document is read into a plain tree with go-yaml and the few fields an
// import needs are looked up in it, $refs followed within the document;
// both versions differ only in details this handles (3.1's type lists,
// examples arrays and const).
func OpenAPI(r io.Reader, opts Options) (*Scenario, error) {
	data, err := readAll(r, opts.Source)
	if err != nil {
		return nil, err
	}
	root, err := decodeTree(data)
	if err != nil {
		return nil, errorf(opts.Source, "%v", err)
	}
	d := &oaDoc{root: root, src: opts.Source}
	version := str(get(root, "openapi"))
	switch {
	case strings.HasPrefix(version, "3.0") || strings.HasPrefix(version, "3.1"):
	case str(get(root, "swagger")) != "":
		return nil, errorf(opts.Source, "swagger %s (OpenAPI 2) is not supported; convert it to OpenAPI 3 first (e.g. with swagger2openapi)", str(get(root, "swagger")))
	case version == "":
		return nil, errorf(opts.Source, "no openapi field: not an OpenAPI document")
	default:
		return nil, errorf(opts.Source, "openapi %s is not supported (want 3.0 or 3.1)", version)
	}
	paths, ok := get(root, "paths").(yaml.MapSlice)
	if !ok || len(paths) == 0 {
		return nil, errorf(opts.Source, "no paths: nothing to import")
	}

	b := newBuilder(opts)
	var notes []string
	serverURL, basePath := d.server(&notes)
	if err := b.setOrigin(serverURL); err != nil {
		return nil, &InputError{Source: opts.Source, Msg: err.Error()}
	}
	if b.origin == nil {
		notes = append(notes, "The spec names no absolute server URL: set target below, or pass --target to spike run.")
		b.origin = &url.URL{}
	}
	ops := 0
	for _, item := range paths {
		p := fmt.Sprint(item.Key)
		pathItem := d.resolve(item.Value)
		pathParams := d.params(get(pathItem, "parameters"))
		pi, _ := pathItem.(yaml.MapSlice)
		for _, m := range pi {
			method := strings.ToUpper(fmt.Sprint(m.Key))
			if _, ok := openAPIWeights[method]; !ok {
				if method == "TRACE" {
					notes = append(notes, fmt.Sprintf("TRACE %s left out: spike does not send TRACE.", p))
				}
				continue
			}
			op := d.resolve(m.Value)
			ops++
			req, opNotes := d.operation(b, method, p, basePath, pathParams, op)
			notes = append(notes, opNotes...)
			b.add(req)
		}
	}
	if ops == 0 {
		return nil, errorf(opts.Source, "no operations under paths")
	}
	title := str(get(get(root, "info"), "title"))
	s, err := b.scenario(fmt.Sprintf("Imported from the OpenAPI %s description %q (version %s): %d operations", version, title, str(get(get(root, "info"), "version")), ops))
	if err != nil {
		return nil, err
	}
	if opts.Name == "" && title != "" {
		s.Name = nameFromSource(title)
	}
	// Comments were set on the builder's requests before they were copied.
	s.Notes = append(s.Notes, "Weights: GET 10, HEAD 5, POST 3, PUT and PATCH 2, DELETE and OPTIONS 1 per operation;",
		"set them to your real traffic mix. Path parameters are templates ({{.RandInt …}}, {{.UUID}},",
		"{{.User}}, {{.Seq}}) or the spec's examples; check that they name things that exist.")
	s.Notes = append(s.Notes, dedupe(notes)...)
	return s, nil
}

// decodeTree decodes YAML or JSON into ordered mappings, within
// scenarios' bounds on nesting and alias expansion. go-yaml panics on some
// malformed input; that becomes an error.
func decodeTree(data []byte) (root any, err error) {
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, fmt.Errorf("not YAML or JSON: malformed input (%v)", r)
		}
	}()
	if err := scenarios.CheckYAMLBounds(data); err != nil {
		return nil, fmt.Errorf("%s", strings.ReplaceAll(yaml.FormatError(err, false, false), "\n", " "))
	}
	if err := yaml.UnmarshalWithOptions(data, &root, yaml.UseOrderedMap()); err != nil {
		return nil, fmt.Errorf("not YAML or JSON: %s", strings.ReplaceAll(yaml.FormatError(err, false, false), "\n", " "))
	}
	return root, nil
}

type oaDoc struct {
	root any
	src  string
}

// get looks up key in a mapping node; nil when absent.
func get(n any, key string) any {
	m, ok := n.(yaml.MapSlice)
	if !ok {
		return nil
	}
	for _, it := range m {
		if fmt.Sprint(it.Key) == key {
			return it.Value
		}
	}
	return nil
}

func str(n any) string {
	switch x := n.(type) {
	case nil:
		return ""
	case string:
		return x
	default:
		return fmt.Sprint(x)
	}
}

// resolve follows local $refs ("#/components/schemas/Pet"), up to a bound.
func (d *oaDoc) resolve(n any) any {
	for i := 0; i < 16; i++ {
		ref := str(get(n, "$ref"))
		if !strings.HasPrefix(ref, "#/") {
			return n
		}
		cur := d.root
		for _, part := range strings.Split(ref[2:], "/") {
			part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
			if p, err := url.PathUnescape(part); err == nil {
				part = p
			}
			cur = get(cur, part)
		}
		if cur == nil {
			return nil
		}
		n = cur
	}
	return n
}

// server returns the first server's origin (nil when it is relative or
// absent) and its path, with variables set to their defaults.
func (d *oaDoc) server(notes *[]string) (*url.URL, string) {
	servers, _ := get(d.root, "servers").([]any)
	if len(servers) == 0 {
		return nil, ""
	}
	s := servers[0]
	raw := str(get(s, "url"))
	vars, _ := get(s, "variables").(yaml.MapSlice)
	for _, v := range vars {
		def := str(get(v.Value, "default"))
		raw = strings.ReplaceAll(raw, "{"+fmt.Sprint(v.Key)+"}", def)
	}
	if len(servers) > 1 {
		*notes = append(*notes, fmt.Sprintf("The spec lists %d servers; the first (%s) is the target.", len(servers), raw))
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		if err == nil {
			return nil, strings.TrimSuffix(u.Path, "/")
		}
		return nil, ""
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, strings.TrimSuffix(u.Path, "/")
}

type oaParam struct {
	name, in string
	required bool
	schema   any
	example  any
	hasEx    bool
}

// params reads a parameters list, $refs resolved.
func (d *oaDoc) params(n any) []oaParam {
	list, _ := n.([]any)
	var out []oaParam
	for _, p := range list {
		p = d.resolve(p)
		op := oaParam{name: str(get(p, "name")), in: str(get(p, "in")), required: get(p, "required") == true, schema: d.resolve(get(p, "schema"))}
		if ex, ok := d.paramExample(p); ok {
			op.example, op.hasEx = ex, true
		}
		out = append(out, op)
	}
	return out
}

func (d *oaDoc) paramExample(p any) (any, bool) {
	if ex := get(p, "example"); ex != nil {
		return ex, true
	}
	if exs, ok := get(p, "examples").(yaml.MapSlice); ok && len(exs) > 0 {
		if v := get(d.resolve(exs[0].Value), "value"); v != nil {
			return v, true
		}
	}
	return d.schemaExample(get(p, "schema"))
}

// schemaExample returns an example the schema itself gives, if any.
func (d *oaDoc) schemaExample(s any) (any, bool) {
	s = d.resolve(s)
	if ex := get(s, "example"); ex != nil {
		return ex, true
	}
	if exs, ok := get(s, "examples").([]any); ok && len(exs) > 0 {
		return exs[0], true
	}
	if c := get(s, "const"); c != nil {
		return c, true
	}
	if def := get(s, "default"); def != nil {
		return def, true
	}
	if enum, ok := get(s, "enum").([]any); ok && len(enum) > 0 {
		return enum[0], true
	}
	return nil, false
}

// schemaType returns the schema's type; 3.1 allows a list (["string", "null"]).
func schemaType(s any) string {
	switch t := get(s, "type").(type) {
	case string:
		return t
	case []any:
		for _, x := range t {
			if str(x) != "null" {
				return str(x)
			}
		}
	}
	if get(s, "properties") != nil {
		return "object"
	}
	if get(s, "items") != nil {
		return "array"
	}
	return ""
}

var userParam = regexp.MustCompile(`(?i)^(user|account|customer|member)[-_]?id$`)

// pathValue is the template or example a path parameter becomes, and what
// the comment says about it.
func (d *oaDoc) pathValue(p oaParam) (string, string) {
	s := p.schema
	t := schemaType(s)
	switch {
	case userParam.MatchString(p.name) && (t == "integer" || t == "number"):
		return "{{.User}}", p.name + " is {{.User}}"
	case t == "integer" || t == "number":
		lo, hi := 1, 1000
		if v, err := strconv.Atoi(str(get(s, "minimum"))); err == nil {
			lo = v
		}
		if v, err := strconv.Atoi(str(get(s, "maximum"))); err == nil && v >= lo {
			hi = v
		}
		return fmt.Sprintf("{{.RandInt %d %d}}", lo, hi), fmt.Sprintf("%s is a random integer in [%d, %d]", p.name, lo, hi)
	case str(get(s, "format")) == "uuid":
		return "{{.UUID}}", p.name + " is a random UUID"
	case p.hasEx:
		return escapeTemplate(url.PathEscape(str(p.example))), fmt.Sprintf("%s is the spec's example %q", p.name, str(p.example))
	}
	return "{{.Seq}}", p.name + " is the request's sequence number"
}

var pathParamRE = regexp.MustCompile(`\{([^{}]+)\}`)

// operation builds one request.
func (d *oaDoc) operation(b *builder, method, p, basePath string, pathParams []oaParam, op any) (raw, []string) {
	var notes []string
	params := map[string]oaParam{}
	var order []string
	for _, list := range [][]oaParam{pathParams, d.params(get(op, "parameters"))} {
		for _, pp := range list {
			k := pp.in + ":" + pp.name
			if _, seen := params[k]; !seen {
				order = append(order, k)
			}
			params[k] = pp
		}
	}
	var said []string
	// Literal parts of the path are escaped; parameters become templates.
	var path strings.Builder
	last := 0
	for _, m := range pathParamRE.FindAllStringSubmatchIndex(p, -1) {
		path.WriteString(escapeTemplate(p[last:m[0]]))
		name := p[m[2]:m[3]]
		pp, ok := params["path:"+name]
		if !ok {
			pp = oaParam{name: name, in: "path"}
		}
		v, say := d.pathValue(pp)
		path.WriteString(v)
		said = append(said, say)
		last = m[1]
	}
	path.WriteString(escapeTemplate(p[last:]))

	var query []string
	var hdrs []Header
	for _, k := range order {
		pp := params[k]
		if !pp.required && !pp.hasEx || pp.in == "path" {
			continue
		}
		val := str(pp.example)
		if !pp.hasEx {
			val = exampleScalar(schemaType(pp.schema), pp.schema)
		}
		switch pp.in {
		case "query":
			if isSecretName(pp.name) {
				query = append(query, url.QueryEscape(pp.name)+"="+b.sec.ref(pp.name, "param:"+pp.name, fmt.Sprintf("the %s query parameter of the spec", pp.name)))
			} else if pp.required {
				query = append(query, url.QueryEscape(pp.name)+"="+escapeTemplate(url.QueryEscape(val)))
			}
		case "header":
			if pp.required {
				hdrs = append(hdrs, Header{Key: pp.name, Value: val})
			}
		case "cookie":
			if pp.required {
				notes = append(notes, fmt.Sprintf("%s %s needs the cookie %s; add a Cookie header.", method, p, pp.name))
			}
		}
	}
	for _, h := range d.security(b, op) {
		if h.Key == "?" {
			query = append(query, h.Value)
			continue
		}
		hdrs = append(hdrs, h)
	}

	body, ct := d.requestBody(get(op, "requestBody"), &notes, method, p)
	if ct != "" {
		hdrs = append(hdrs, Header{Key: "Content-Type", Value: ct})
	}
	if resp := d.responseType(get(op, "responses")); resp != "" {
		hdrs = append(hdrs, Header{Key: "Accept", Value: resp})
	}
	u := &url.URL{Path: basePath + path.String(), RawQuery: strings.Join(query, "&")}
	if b.origin != nil {
		u.Scheme, u.Host = b.origin.Scheme, b.origin.Host
	}
	name := str(get(op, "operationId"))
	if name == "" {
		name = method + " " + basePath + p
	}
	layer := ""
	tags, _ := get(op, "tags").([]any)
	words := p + " " + name
	for _, t := range tags {
		words += " " + str(t)
	}
	if authPath.MatchString(p) || regexp.MustCompile(`(?i)\b(auth|login|logout|signin|signup|token|session)`).MatchString(words) {
		layer = "auth"
	}
	comment := strings.TrimSpace(strings.SplitN(str(get(op, "summary")), "\n", 2)[0])
	if comment == "" {
		comment = method + " " + p
	}
	if len(said) > 0 {
		comment += "\n" + strings.Join(said, "; ")
	}
	r := raw{Method: method, URL: u, Headers: hdrs, Body: body, ContentType: ct, Layer: layer, Name: name, Weight: openAPIWeights[method], Template: true}
	b.pendingComment = comment
	return r, notes
}

// security returns the headers (and, with Key "?", query items) the
// operation's first security requirement needs, each reading its secret
// from the environment.
func (d *oaDoc) security(b *builder, op any) []Header {
	reqs := get(op, "security")
	if reqs == nil {
		reqs = get(d.root, "security")
	}
	list, _ := reqs.([]any)
	if len(list) == 0 {
		return nil
	}
	first, _ := list[0].(yaml.MapSlice)
	var out []Header
	for _, it := range first {
		name := fmt.Sprint(it.Key)
		sch := d.resolve(get(get(get(d.root, "components"), "securitySchemes"), name))
		where := fmt.Sprintf("the %q security scheme of the spec", name)
		switch str(get(sch, "type")) {
		case "apiKey":
			param := str(get(sch, "name"))
			ref := b.sec.ref(param, "scheme:"+name, where)
			switch str(get(sch, "in")) {
			case "header":
				out = append(out, Header{Key: param, Value: ref})
			case "query":
				out = append(out, Header{Key: "?", Value: url.QueryEscape(param) + "=" + ref})
			case "cookie":
				out = append(out, Header{Key: "Cookie", Value: param + "=" + ref})
			}
		case "http":
			scheme := strings.ToLower(str(get(sch, "scheme")))
			label := "Bearer"
			if scheme == "basic" {
				label = "Basic"
			}
			out = append(out, Header{Key: "Authorization", Value: label + " " + b.sec.ref("authorization", "scheme:"+name, where)})
		case "oauth2", "openIdConnect":
			out = append(out, Header{Key: "Authorization", Value: "Bearer " + b.sec.ref("access_token", "scheme:"+name, where)})
		}
	}
	return out
}

// requestBody returns an example body and its media type.
func (d *oaDoc) requestBody(n any, notes *[]string, method, p string) (string, string) {
	rb := d.resolve(n)
	content, _ := get(rb, "content").(yaml.MapSlice)
	if len(content) == 0 {
		return "", ""
	}
	pick := -1
	for _, pref := range []func(string) bool{
		func(ct string) bool { return ct == "application/json" },
		func(ct string) bool { return strings.HasSuffix(ct, "+json") || strings.Contains(ct, "json") },
		func(ct string) bool { return ct == "application/x-www-form-urlencoded" },
		func(ct string) bool { return strings.HasPrefix(ct, "text/") },
	} {
		for i, c := range content {
			if pick < 0 && pref(strings.ToLower(fmt.Sprint(c.Key))) {
				pick = i
			}
		}
	}
	if pick < 0 {
		*notes = append(*notes, fmt.Sprintf("%s %s takes %s; no body was written, add one.", method, p, fmt.Sprint(content[0].Key)))
		return "", ""
	}
	ct := fmt.Sprint(content[pick].Key)
	media := content[pick].Value
	var ex any
	found := false
	if v := get(media, "example"); v != nil {
		ex, found = v, true
	} else if exs, ok := get(media, "examples").(yaml.MapSlice); ok && len(exs) > 0 {
		if v := get(d.resolve(exs[0].Value), "value"); v != nil {
			ex, found = v, true
		}
	}
	if !found {
		ex = d.example(get(media, "schema"), 0)
	}
	if str(ct) == "application/x-www-form-urlencoded" {
		v := url.Values{}
		if m, ok := ex.(yaml.MapSlice); ok {
			for _, it := range m {
				v.Set(fmt.Sprint(it.Key), str(it.Value))
			}
		}
		return escapeTemplate(v.Encode()), ct
	}
	if s, ok := ex.(string); ok && !strings.Contains(ct, "json") {
		return escapeTemplate(s), ct
	}
	var buf bytes.Buffer
	writeJSON(&buf, ex)
	return buf.String(), ct
}

// responseType is the media type of the first 2xx response, for Accept.
func (d *oaDoc) responseType(n any) string {
	rs, _ := n.(yaml.MapSlice)
	for _, r := range rs {
		if !strings.HasPrefix(fmt.Sprint(r.Key), "2") {
			continue
		}
		content, _ := get(d.resolve(r.Value), "content").(yaml.MapSlice)
		if len(content) > 0 {
			return fmt.Sprint(content[0].Key)
		}
		return ""
	}
	return ""
}

// example makes an example value from a schema: its own example, else one
// built from its type, properties and items. readOnly properties are left
// out (they are not sent).
func (d *oaDoc) example(s any, depth int) any {
	s = d.resolve(s)
	if s == nil || depth > maxExampleDepth {
		return nil
	}
	if ex, ok := d.schemaExample(s); ok {
		return ex
	}
	if all, ok := get(s, "allOf").([]any); ok {
		var merged yaml.MapSlice
		for _, sub := range all {
			if m, ok := d.example(sub, depth+1).(yaml.MapSlice); ok {
				merged = append(merged, m...)
			}
		}
		return merged
	}
	for _, k := range []string{"oneOf", "anyOf"} {
		if alts, ok := get(s, k).([]any); ok && len(alts) > 0 {
			return d.example(alts[0], depth+1)
		}
	}
	t := schemaType(s)
	switch t {
	case "object":
		var out yaml.MapSlice
		props, _ := get(s, "properties").(yaml.MapSlice)
		for _, p := range props {
			ps := d.resolve(p.Value)
			if get(ps, "readOnly") == true {
				continue
			}
			out = append(out, yaml.MapItem{Key: p.Key, Value: d.example(ps, depth+1)})
		}
		if out == nil {
			out = yaml.MapSlice{}
		}
		return out
	case "array":
		return []any{d.example(get(s, "items"), depth+1)}
	case "":
		return nil
	}
	return exampleValue(t, s)
}

func exampleValue(t string, s any) any {
	switch t {
	case "integer":
		if v, err := strconv.Atoi(str(get(s, "minimum"))); err == nil {
			return v
		}
		return 1
	case "number":
		return 1.5
	case "boolean":
		return true
	}
	switch str(get(s, "format")) {
	case "date-time":
		return "2026-01-01T00:00:00Z"
	case "date":
		return "2026-01-01"
	case "email":
		return "user@example.com"
	case "uuid":
		return "123e4567-e89b-42d3-a456-426614174000"
	case "uri", "url":
		return "https://example.com/"
	}
	return "string"
}

func exampleScalar(t string, s any) string { return str(exampleValue(t, s)) }
