package engine

import (
	"strconv"
	"strings"
)

// TimingMetric is one entry of a W3C Server-Timing header.
type TimingMetric struct {
	Name   string
	Dur    float64 // milliseconds
	HasDur bool
	Desc   string
}

// ParseServerTiming parses a Server-Timing header value such as
// `db;dur=12.3, app;dur=15;desc="render", cache;desc=hit` and calls fn for each
// metric. It returns the number of malformed entries, which are skipped.
// It does not allocate for well-formed, unquoted input beyond what fn keeps.
func ParseServerTiming(v string, fn func(TimingMetric)) (bad int) {
	for len(v) > 0 {
		var entry string
		if i := strings.IndexByte(v, ','); i >= 0 {
			entry, v = v[:i], v[i+1:]
		} else {
			entry, v = v, ""
		}
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		m, ok := parseTimingEntry(entry)
		if !ok {
			bad++
			continue
		}
		fn(m)
	}
	return bad
}

func parseTimingEntry(e string) (TimingMetric, bool) {
	var m TimingMetric
	name, rest, _ := strings.Cut(e, ";")
	m.Name = strings.TrimSpace(name)
	if !isToken(m.Name) {
		return m, false
	}
	for rest != "" {
		var p string
		if i := strings.IndexByte(rest, ';'); i >= 0 {
			p, rest = rest[:i], rest[i+1:]
		} else {
			p, rest = rest, ""
		}
		k, val, hasVal := strings.Cut(strings.TrimSpace(p), "=")
		k = strings.TrimSpace(k)
		val = strings.TrimSpace(val)
		if !isToken(k) {
			return m, false
		}
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = val[1 : len(val)-1]
		}
		switch strings.ToLower(k) {
		case "dur":
			if !hasVal {
				return m, false
			}
			d, err := strconv.ParseFloat(val, 64)
			if err != nil || d < 0 || d != d {
				return m, false
			}
			m.Dur, m.HasDur = d, true
		case "desc":
			m.Desc = val
		}
	}
	return m, true
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
