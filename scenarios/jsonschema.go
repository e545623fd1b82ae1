package scenarios

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/invopop/jsonschema"
)

// SchemaDraft is the JSON Schema dialect of the scenario schema: draft-07,
// the newest draft yaml-language-server (the YAML extension of VS Code and
// other editors) fully reads.
const SchemaDraft = "http://json-schema.org/draft-07/schema#"

// SchemaID is the schema's $id.
const SchemaID = "https://github.com/spikeload/spike/scenarios/schema.json"

//go:embed schema.json
var schemaJSON []byte

// JSONSchema returns the JSON Schema of the scenario format, as kept in
// scenarios/schema.json (a test checks that it matches GenerateJSONSchema).
// The caller owns the returned slice.
func JSONSchema() []byte { return append([]byte(nil), schemaJSON...) }

// Patterns of the text forms the loader accepts. JSON Schema regular
// expressions are ECMA-262, so no inline flags.
const (
	numberRE = `[+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?`
	// ratePattern is req/s ("300"), a multiple ("5x") or a percentage ("500%").
	ratePattern = `^\s*` + numberRE + `\s*[xX%]?\s*$`
	// absRatePattern is req/s only.
	absRatePattern = `^\s*` + numberRE + `\s*$`
	// durationPattern is Go's time.ParseDuration syntax or bare seconds.
	durationPattern = `^\s*(` + numberRE + `|[+]?(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)\s*$`
	// multiplePattern is a multiple ("10x").
	multiplePattern = `^\s*` + numberRE + `\s*[xX]\s*$`
	// fractionPattern is a percentage ("1%") or a fraction ("0.01").
	fractionPattern = `^\s*` + numberRE + `\s*%?\s*$`
	// goDurationRE is Go's time.ParseDuration syntax, unit required.
	goDurationRE = `(0|[+]?(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)`
	// thinkPattern is a think time: a duration or a range "1s-5s".
	thinkPattern = `^\s*` + goDurationRE + `(\s*-\s*` + goDurationRE + `)?\s*$`
	// varNamePattern is a session variable's name.
	varNamePattern = `^[A-Za-z_][A-Za-z0-9_]*$`
	// journeyNamePattern refuses an empty name and a slash.
	journeyNamePattern = `^[^/]*[^/\s][^/]*$`
	// methodPattern is an HTTP method the loader knows, in any case.
	methodPattern = `^([Gg][Ee][Tt]|[Hh][Ee][Aa][Dd]|[Pp][Oo][Ss][Tt]|[Pp][Uu][Tt]|[Pp][Aa][Tt][Cc][Hh]|[Dd][Ee][Ll][Ee][Tt][Ee]|[Oo][Pp][Tt][Ii][Oo][Nn][Ss])$`
	// headerNamePattern refuses what the loader refuses in a header name.
	headerNamePattern = "^[^ :\r\n]+$"
)

//go:generate go test -run TestJSONSchema_Fresh -update .

// GenerateJSONSchema reflects the scenario types (Scenario and what it
// holds) into a draft-07 JSON Schema, indented. When srcDir is the
// directory of this package's sources, their doc comments become the
// schema's descriptions; with "" there are none. The result is what
// scenarios/schema.json holds (go generate ./scenarios rewrites it).
func GenerateJSONSchema(srcDir string) ([]byte, error) {
	r := &jsonschema.Reflector{
		FieldNameTag:   "yaml",
		DoNotReference: true, // one tree: no $defs, which draft-07 lacks
		ExpandedStruct: true,
		Anonymous:      true,
		Mapper:         valueSchema,
	}
	if srcDir != "" {
		if err := r.AddGoComments("github.com/spikeload/spike/scenarios", srcDir); err != nil {
			return nil, fmt.Errorf("read doc comments: %w", err)
		}
	}
	s := r.Reflect(&Scenario{})
	s.Version = SchemaDraft
	s.ID = SchemaID
	s.Title = "spike scenario"
	if err := refine(s); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// valueSchema describes the text-or-number value types, which keep what
// was written and are checked by the loader.
func valueSchema(t reflect.Type) *jsonschema.Schema {
	switch t {
	case reflect.TypeFor[Rate]():
		return numberOrText(0, false, ratePattern,
			"A rate: req/s (300) or a multiple of the baseline (5x, 500%).", "5x")
	case reflect.TypeFor[Duration]():
		return numberOrText(0, false, durationPattern,
			"A duration in Go syntax (90s, 2m, 1h30m); a bare number is seconds.", "90s")
	case reflect.TypeFor[Fraction]():
		return numberOrText(0, false, fractionPattern,
			"A share: a percentage (1%) or a fraction (0.01), between 0 and 100%.", "1%")
	}
	return nil
}

func numberOrText(min float64, exclusive bool, pattern, desc string, example any) *jsonschema.Schema {
	num := &jsonschema.Schema{Type: "number"}
	if exclusive {
		num.ExclusiveMinimum = json.Number(fmt.Sprint(min))
	} else {
		num.Minimum = json.Number(fmt.Sprint(min))
	}
	return &jsonschema.Schema{
		Description: desc,
		Examples:    []any{example},
		AnyOf:       []*jsonschema.Schema{num, {Type: "string", Pattern: pattern}},
	}
}

// refine adds what the struct types do not say but the loader checks
// without context: allowed words, ranges, the two forms of shape, one kind
// per stage. Rules that need the whole file (names that must exist, sums
// of weights, lengths after time scaling) stay with the loader.
func refine(root *jsonschema.Schema) error {
	var err error
	get := func(s *jsonschema.Schema, path ...string) *jsonschema.Schema {
		for _, p := range path {
			if s == nil {
				break
			}
			switch p {
			case "[]":
				s = s.Items
			case "{}":
				s = s.AdditionalProperties
			default:
				if s.Properties == nil {
					s = nil
					break
				}
				s, _ = s.Properties.Get(p)
			}
		}
		if s == nil && err == nil {
			err = fmt.Errorf("schema: no %s in the reflected schema", strings.Join(path, "."))
		}
		if s == nil {
			return &jsonschema.Schema{}
		}
		return s
	}
	set := func(parent *jsonschema.Schema, key string, s *jsonschema.Schema) {
		old := get(parent, key)
		s.Description = old.Description
		parent.Properties.Set(key, s)
	}
	one := func(n uint64) *uint64 { return &n }

	// The baseline is absolute and > 0.
	set(root, "baseline", numberOrText(0, true, absRatePattern, "", 20))
	set(root, "target", &jsonschema.Schema{
		AnyOf: []*jsonschema.Schema{
			{Type: "string", Const: "demo"},
			{Type: "string", Pattern: `^[hH][tT][tT][pP][sS]?://[^/?#]+`, Format: ""},
		},
		Examples: []any{"http://127.0.0.1:8080", "demo"},
	})
	ts := get(root, "time_scale")
	ts.ExclusiveMinimum, ts.Minimum = "0", ""

	// shape: a preset name, or a mapping naming one.
	var names []any
	for _, p := range Presets() {
		names = append(names, p.Name)
	}
	shapeObj := get(root, "shape")
	get(shapeObj, "preset").Enum = names
	set(root, "shape", &jsonschema.Schema{
		AnyOf: []*jsonschema.Schema{{Type: "string", Enum: names}, shapeObj},
	})

	// Each stage is exactly one kind.
	stage := get(root, "stages", "[]")
	stage.MinProperties, stage.MaxProperties = one(1), one(1)
	stage.Description = "One stage of the curve: exactly one of ramp, hold, spike, decay, wave."

	// A scenario has requests or journeys, not both.
	root.OneOf = []*jsonschema.Schema{{Required: []string{"requests"}}, {Required: []string{"journeys"}}}
	var layers []any
	for _, l := range layerNames {
		layers = append(layers, l)
	}
	request := func(req *jsonschema.Schema) {
		get(req, "url").MinLength = one(1)
		m := get(req, "method")
		m.Pattern = methodPattern
		m.Examples = []any{"GET", "POST"}
		get(req, "layer").Enum = layers
		st := get(req, "expect", "[]")
		st.Minimum, st.Maximum = "100", "599"
		get(req, "headers").PropertyNames = &jsonschema.Schema{Pattern: headerNamePattern}
	}
	req := get(root, "requests", "[]")
	get(root, "requests").MinItems = one(1)
	request(req)
	get(req, "weight").Minimum = "0"

	// Journeys: named, weighted > 0, steps without weights.
	js := get(root, "journeys")
	js.MinItems, js.MaxItems = one(1), one(MaxJourneys)
	j := get(js, "[]")
	get(j, "name").Pattern = journeyNamePattern
	get(j, "weight").ExclusiveMinimum = "0"
	steps := get(j, "steps")
	steps.MinItems, steps.MaxItems = one(1), one(MaxSteps)
	step := get(steps, "[]")
	request(step)
	get(step, "weight") // present before it is removed
	step.Properties.Delete("weight")
	get(step, "think").Pattern = thinkPattern
	ex := get(step, "extract")
	ex.PropertyNames = &jsonschema.Schema{Pattern: varNamePattern}
	ex.MaxProperties = one(MaxExtracts)
	exv := get(ex, "{}")
	exv.MinProperties, exv.MaxProperties = one(1), one(1)
	exv.Description = "Where the variable comes from: exactly one of json, header, cookie, regex."
	ms := get(root, "options", "max_sessions")
	ms.Minimum, ms.Maximum = "1", json.Number(fmt.Sprint(MaxMaxSessions))

	sus := get(root, "slo", "sustain")
	sus.Minimum, sus.Maximum = "0", "600"
	c := get(root, "options", "connections")
	c.Minimum, c.Maximum = "0", "100000"
	get(root, "options", "users").Minimum = "0"

	// abort.p95 is a latency or a multiple of the SLO's p95.
	set(get(root, "abort"), "p95", &jsonschema.Schema{
		AnyOf: []*jsonschema.Schema{
			{Type: "number", Minimum: "0"},
			{Type: "string", Pattern: durationPattern},
			{Type: "string", Pattern: multiplePattern},
		},
		Examples: []any{"10x", "5s"},
	})
	return err
}
