package result

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spikeload/spike/scenarios"
)

// ReadFile reads and validates a result written by WriteFile, of this
// schema version or an older one (see Read).
func ReadFile(path string) (*Document, error) { return readFile(path, MaxSize) }

func readFile(path string, limit int64) (*Document, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read result: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() > limit {
		return nil, fmt.Errorf("read result: %w", &scenarios.SizeError{Path: path, Limit: limit})
	}
	return Read(path, f, limit)
}

// Read decodes a result from r, at most limit bytes (checked while reading,
// so a pipe or a device is bounded too), migrates it from an older schema
// version and validates it (engine.Result.Validate); name is used in
// errors. Decoding from the stream refuses what is not JSON at its first
// byte (/dev/zero, a binary file) instead of reading it up to the limit. A
// result of a newer schema version than SchemaVersion is refused, naming
// both versions.
func Read(name string, r io.Reader, limit int64) (*Document, error) {
	cr := &countingReader{r: io.LimitReader(r, limit+1)}
	return decode(name, cr, func() error {
		if cr.n > limit {
			return fmt.Errorf("read result: %w", &scenarios.SizeError{Path: name, Limit: limit})
		}
		return nil
	})
}

// Parse decodes, migrates and validates a result held in memory, as Read
// does; name is used in errors.
func Parse(name string, data []byte) (*Document, error) {
	return decode(name, bytes.NewReader(data), func() error { return nil })
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// decode decodes one JSON result from r, migrates and validates it; tooBig
// says whether a decoding error was the size bound's doing.
func decode(name string, r io.Reader, tooBig func() error) (*Document, error) {
	var raw json.RawMessage
	dec := json.NewDecoder(r)
	if err := dec.Decode(&raw); err != nil {
		if big := tooBig(); big != nil {
			return nil, big
		}
		return nil, fmt.Errorf("read result %s: not a spike result: %w", name, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if big := tooBig(); big != nil {
			return nil, big
		}
		return nil, fmt.Errorf("read result %s: not a spike result: data after the result", name)
	}
	var head struct {
		Schema int `json:"schema"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, fmt.Errorf("read result %s: not a spike result: %w", name, err)
	}
	if head.Schema > 0 && head.Schema < 3 {
		up, err := upgrade(raw)
		if err != nil {
			return nil, fmt.Errorf("read result %s: schema version %d: %w", name, head.Schema, err)
		}
		raw = up
	}
	var d Document
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("read result %s: not a spike result: %w", name, err)
	}
	if err := migrate(&d); err != nil {
		return nil, fmt.Errorf("read result %s: %w", name, err)
	}
	if err := d.Result.Validate(); err != nil {
		return nil, fmt.Errorf("read result %s: %w", name, err)
	}
	return &d, nil
}

// upgrade rewrites a version 1 or 2 document in version 3's names and
// units (upgradeUnits).
func upgrade(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	if err := upgradeUnits(doc); err != nil {
		return nil, err
	}
	return json.Marshal(doc)
}

// migrate brings a decoded document of an older schema version to
// SchemaVersion, or refuses it.
//
// Version 1 → 2: the analysis and search sections lose their own "version"
// fields (1 in every file version 1 was written in; decoding ignores
// them). Nothing else changed: same fields, same units, same histogram
// encoding.
//
// Version 2 → 3: one unit convention. Durations are float milliseconds in
// fields named `…_ms` and rates per second in fields named `…_rps`
// everywhere; version 2's run section had integer nanoseconds (`…_ns`, and
// unsuffixed in the plan) and some unsuffixed rates. decode rewrites the
// names and units before decoding (upgradeUnits).
func migrate(d *Document) error {
	switch {
	case d.Schema == 0:
		return fmt.Errorf("not a spike result (no schema version)")
	case d.Schema > SchemaVersion:
		return fmt.Errorf("schema version %d is newer than this spike understands (%d); upgrade spike", d.Schema, SchemaVersion)
	case d.Schema < 0:
		return fmt.Errorf("schema version %d is not one spike ever wrote", d.Schema)
	}
	d.Schema = SchemaVersion
	return nil
}
