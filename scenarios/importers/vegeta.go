package importers

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strings"
	"unicode/utf8"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/spikeload/spike/scenarios"
)

// Vegeta target formats.
const (
	// VegetaAuto picks the JSON format when the input starts with "{".
	VegetaAuto = ""
	// VegetaHTTP is vegeta's line format ("GET https://…", headers, "@body").
	VegetaHTTP = "http"
	// VegetaJSON is vegeta's JSON lines format ({"method": …, "url": …}).
	VegetaJSON = "json"
)

// Vegeta imports a vegeta targets file, read with vegeta's own targeters
// (so every file vegeta attack accepts reads the same here). Bodies named
// with "@path" are read by vegeta, relative to the current directory, as
// vegeta attack does. Each distinct target becomes one request of the mix;
// repeated targets add up their weights.
func Vegeta(r io.Reader, format string, opts Options) (*Scenario, error) {
	data, err := readAll(r, opts.Source)
	if err != nil {
		return nil, err
	}
	// vegeta's JSON targeter drops a last line without a newline.
	if !bytes.HasSuffix(data, []byte("\n")) {
		data = append(data, '\n')
	}
	if format == VegetaAuto {
		format = VegetaHTTP
		if bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
			format = VegetaJSON
		}
	}
	var tr vegeta.Targeter
	switch format {
	case VegetaHTTP:
		if err := checkBodyFiles(data); err != nil {
			return nil, errorf(opts.Source, "%v", err)
		}
		tr = vegeta.NewHTTPTargeter(bytes.NewReader(data), nil, nil)
	case VegetaJSON:
		tr = vegeta.NewJSONTargeter(bytes.NewReader(data), nil, nil)
	default:
		return nil, fmt.Errorf("unknown vegeta format %q (want http or json)", format)
	}
	var targets []vegeta.Target
	for i := 1; ; i++ {
		var t vegeta.Target
		err := tr.Decode(&t)
		if errors.Is(err, vegeta.ErrNoTargets) {
			break
		}
		if err != nil {
			return nil, errorf(opts.Source, "target %d: %v (vegeta's %s format)", i, err, format)
		}
		targets = append(targets, t)
	}
	if len(targets) == 0 {
		return nil, errorf(opts.Source, "no targets (want vegeta's %s format)", format)
	}
	parsed := make([]*url.URL, len(targets))
	for i, t := range targets {
		u, err := url.Parse(t.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, errorf(opts.Source, "target %d: not an http(s) URL: %q", i+1, t.URL)
		}
		if !knownMethod(t.Method) {
			return nil, errorf(opts.Source, "target %d: method %s: spike sends GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS", i+1, t.Method)
		}
		if !utf8.Valid(t.Body) {
			return nil, errorf(opts.Source, "target %d: the body is binary; spike bodies are text", i+1)
		}
		u.Fragment = ""
		parsed[i] = u
	}
	b := newBuilder(opts)
	if err := b.setOrigin(parsed[0]); err != nil {
		return nil, &InputError{Source: opts.Source, Msg: err.Error()}
	}
	for i, t := range targets {
		keys := make([]string, 0, len(t.Header))
		for k := range t.Header {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var hdrs []Header
		ct := ""
		for _, k := range keys {
			v := strings.Join(t.Header[k], ", ")
			if strings.EqualFold(k, "content-type") {
				ct = v
			}
			hdrs = append(hdrs, Header{Key: k, Value: v})
		}
		u := parsed[i]
		b.add(raw{Method: t.Method, URL: u, Headers: hdrs, Body: string(t.Body), ContentType: ct, Layer: guessLayer("", t.Method, u.Path, ct)})
	}
	return b.scenario(fmt.Sprintf("Imported from %d vegeta targets (%s format)", len(targets), format))
}

// checkBodyFiles checks the "@path" body files of vegeta's http format
// before vegeta reads them whole: each must be a regular file of at most
// scenarios.MaxBodySize bytes (so not /dev/zero, nor a FIFO that never ends).
func checkBodyFiles(data []byte) error {
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "@") {
			continue
		}
		p := line[1:]
		st, err := os.Stat(p)
		switch {
		case err != nil:
			return fmt.Errorf("line %d: bad body: %w", i+1, err)
		case !st.Mode().IsRegular():
			return fmt.Errorf("line %d: bad body: %s is not a regular file", i+1, p)
		case st.Size() > scenarios.MaxBodySize:
			return fmt.Errorf("line %d: bad body: %s is larger than %d MiB", i+1, p, scenarios.MaxBodySize>>20)
		}
	}
	return nil
}
