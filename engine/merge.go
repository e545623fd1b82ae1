package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/spikeload/spike/hist"
	"github.com/spikeload/spike/scenarios"
)

// PlanHash identifies what a run was asked to send: the recorded plan
// (curve, mix, SLO, options and seed, the scenario with secrets redacted)
// and the target. Shards of one plan have equal hashes.
func PlanHash(p PlanInfo, target string) string {
	b, err := json.Marshal(p)
	if err != nil {
		return ""
	}
	h := sha256.New()
	h.Write(b)
	h.Write([]byte("\n" + target))
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// ShardResult is one shard's result and where it came from (for messages).
type ShardResult struct {
	Name   string
	Result *Result
}

// ErrMergeRefused wraps the reasons MergeShards refuses its input: results
// of different plans, duplicate shards, results that are not shards,
// histograms of another geometry.
var ErrMergeRefused = errors.New("cannot merge")

func refuse(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMergeRefused, fmt.Sprintf(format, args...))
}

// MergeShards adds the shards' results into one, as if one machine had sent
// the whole plan: window by window it adds counts, statuses, error kinds and
// samples, bytes and Server-Timing (every numeric and map field of
// WindowRequest, see mergeInto), and merges the latency histograms without
// loss. A window is generator-bound if any shard's was; its send lag is the
// worst shard's. Shards that are absent are named in Meta.MissingShards and
// their share of each window counts as planned and unsent, so the windows
// show that the plan was not sent.
//
// It refuses (ErrMergeRefused) results that are not shards, of different
// plans or shard counts, duplicate shards, misaligned windows and
// histograms of another geometry.
func MergeShards(parts []ShardResult) (*Result, error) {
	if len(parts) == 0 {
		return nil, refuse("no results")
	}
	type shardPart struct {
		ShardResult
		shard Shard
	}
	var ps []shardPart
	first := parts[0]
	for _, p := range parts {
		r := p.Result
		if r.Meta.Shard == "" {
			return nil, refuse("%s is not a shard's result (no meta.shard): run with --shard i/N", p.Name)
		}
		s, err := ParseShard(r.Meta.Shard)
		if err != nil {
			return nil, refuse("%s: meta.shard: %v", p.Name, err)
		}
		if r.Meta.PlanHash == "" {
			return nil, refuse("%s has no plan hash (written by an older spike)", p.Name)
		}
		if r.Meta.PlanHash != first.Result.Meta.PlanHash && r.Meta.Version != first.Result.Meta.Version {
			return nil, refuse("%s and %s were written by different spike versions (%s, %s), whose plan hashes differ: run every shard with the same spike",
				first.Name, p.Name, orDevel(first.Result.Meta.Version), orDevel(r.Meta.Version))
		}
		if r.Meta.PlanHash != first.Result.Meta.PlanHash {
			return nil, refuse("%s and %s are shards of different plans (plan hash %s, %s): same scenario, overrides and target needed",
				first.Name, p.Name, first.Result.Meta.PlanHash, r.Meta.PlanHash)
		}
		if f, _ := ParseShard(first.Result.Meta.Shard); f.Count != s.Count {
			return nil, refuse("%s is shard %s but %s is shard %s: the shard counts differ", first.Name, f, p.Name, s)
		}
		for _, q := range ps {
			if q.shard == s {
				return nil, refuse("%s and %s are both shard %s", q.Name, p.Name, s)
			}
		}
		ps = append(ps, shardPart{p, s})
	}
	sort.Slice(ps, func(a, b int) bool { return ps[a].shard.Index < ps[b].shard.Index })
	n := ps[0].shard.Count
	base := ps[0].Result

	curve, err := scenarios.NewCurve(base.Plan.Segments)
	if err != nil {
		return nil, refuse("%s: plan segments: %v", ps[0].Name, err)
	}
	plan := &scenarios.Plan{Curve: curve, Options: base.Plan.Options}

	out := &Result{Plan: base.Plan}
	m := &out.Meta
	m.Tool, m.Version, m.Scenario, m.ScenarioFile, m.Target = base.Meta.Tool, base.Meta.Version, base.Meta.Scenario, base.Meta.ScenarioFile, base.Meta.Target
	m.PlanHash = base.Meta.PlanHash

	present := make([]bool, n)
	windows := map[int]*Window{}
	seen := map[int][]bool{} // window index → shards that reported it
	totals := map[string]*RequestTotal{}
	var journeys []JourneyTotal
	for _, p := range ps {
		r := p.Result
		present[p.shard.Index] = true
		info := ShardInfo{Shard: r.Meta.Shard, File: p.Name, Started: r.Meta.Started, Ended: r.Meta.Ended, Start: r.Meta.Start, Partial: r.Meta.Partial}
		if m.Started.IsZero() || r.Meta.Started.Before(m.Started) {
			m.Started = r.Meta.Started
		}
		if r.Meta.Ended.After(m.Ended) {
			m.Ended = r.Meta.Ended
		}
		m.Partial = m.Partial || r.Meta.Partial
		if r.Meta.Aborted && !m.Aborted {
			m.Aborted, m.AbortReason = true, fmt.Sprintf("shard %s: %s", r.Meta.Shard, r.Meta.AbortReason)
		}
		for _, note := range r.Meta.Notes {
			m.Notes = append(m.Notes, fmt.Sprintf("shard %s: %s", r.Meta.Shard, note))
		}
		for i := range r.Windows {
			w := &r.Windows[i]
			info.LagP99 = max(info.LagP99, w.Lag.P99)
			if w.GeneratorBound {
				info.GeneratorBound++
			}
			if seen[w.Index] == nil {
				seen[w.Index] = make([]bool, n)
			}
			seen[w.Index][p.shard.Index] = true
			mw, ok := windows[w.Index]
			if !ok {
				c := *w
				c.Requests = map[string]*WindowRequest{}
				if len(w.Journeys) > 0 {
					c.Journeys = map[string]*WindowJourney{}
					if err := mergeInto(reflect.ValueOf(&c.Journeys).Elem(), reflect.ValueOf(w.Journeys), ""); err != nil {
						return nil, refuse("%s: window %d: journeys: %v", p.Name, w.Index, err)
					}
				}
				c.Requests, err = mergeMap(c.Requests, w.Requests)
				if err != nil {
					return nil, refuse("%s: window %d: %v", p.Name, w.Index, err)
				}
				windows[w.Index] = &c
				continue
			}
			if mw.Start != w.Start {
				return nil, refuse("%s: window %d starts at %s, another shard's at %s", p.Name, w.Index, w.Start, mw.Start)
			}
			mw.End = max(mw.End, w.End)
			mw.PlannedRate += w.PlannedRate
			mw.Planned += w.Planned
			mw.Sent += w.Sent
			mw.OK += w.OK
			mw.Errors += w.Errors
			mw.Lag = LagStats{P50: max(mw.Lag.P50, w.Lag.P50), P99: max(mw.Lag.P99, w.Lag.P99), Max: max(mw.Lag.Max, w.Lag.Max)}
			mw.GeneratorBound = mw.GeneratorBound || w.GeneratorBound
			if mw.Latency, err = mergeLatency(mw.Latency, w.Latency); err != nil {
				return nil, refuse("%s: window %d: %v", p.Name, w.Index, err)
			}
			if mw.Requests, err = mergeMap(mw.Requests, w.Requests); err != nil {
				return nil, refuse("%s: window %d: %v", p.Name, w.Index, err)
			}
			if len(w.Journeys) > 0 {
				if mw.Journeys == nil {
					mw.Journeys = map[string]*WindowJourney{}
				}
				if err := mergeInto(reflect.ValueOf(&mw.Journeys).Elem(), reflect.ValueOf(w.Journeys), ""); err != nil {
					return nil, refuse("%s: window %d: journeys: %v", p.Name, w.Index, err)
				}
			}
		}
		for i := range r.Journeys {
			t := &r.Journeys[i]
			k := slices.IndexFunc(journeys, func(j JourneyTotal) bool { return j.Name == t.Name })
			if k < 0 {
				journeys = append(journeys, JourneyTotal{})
				k = len(journeys) - 1
			}
			if err := mergeInto(reflect.ValueOf(&journeys[k]).Elem(), reflect.ValueOf(t).Elem(), ""); err != nil {
				return nil, refuse("%s: journey %q: %v", p.Name, t.Name, err)
			}
		}
		for i := range r.Requests {
			t := &r.Requests[i]
			mt, ok := totals[t.Name]
			if !ok {
				mt = &RequestTotal{}
				totals[t.Name] = mt
			}
			if err := mergeInto(reflect.ValueOf(mt).Elem(), reflect.ValueOf(t).Elem(), ""); err != nil {
				return nil, refuse("%s: request %q: %v", p.Name, t.Name, err)
			}
		}
		m.Shards = append(m.Shards, info)
	}

	// The share of absent shards in every window, and of shards that
	// stopped (interrupted) before a window: planned, never sent.
	var missing []Shard
	for i, ok := range present {
		if !ok {
			missing = append(missing, Shard{i, n})
			m.MissingShards = append(m.MissingShards, Shard{i, n}.String())
		}
	}
	shares := make([][]uint64, n)
	share := func(i int) []uint64 {
		if shares[i] == nil {
			shares[i] = PlannedWindows(plan, Shard{i, n})
		}
		return shares[i]
	}
	for idx, w := range windows {
		for i, ok := range seen[idx] {
			if ok || idx >= len(share(i)) {
				continue
			}
			w.Planned += share(i)[idx]
		}
		if d := (w.End - w.Start).Seconds(); d > 0 {
			w.PlannedRate = (curve.Integral(w.End) - curve.Integral(w.Start)) / d
		}
		if float64(w.Sent) < MinSentShare*float64(w.Planned) {
			w.GeneratorBound = true
		}
	}
	if len(missing) > 0 {
		names := strings.Join(m.MissingShards, ", ")
		m.Notes = append(m.Notes, fmt.Sprintf("shard %s missing: its share of every window counts as planned and not sent, so the plan was not sent in full and the verdict cannot be trusted", names))
	}

	idxs := make([]int, 0, len(windows))
	for i := range windows {
		idxs = append(idxs, i)
	}
	sort.Ints(idxs)
	for _, i := range idxs {
		out.Windows = append(out.Windows, *windows[i])
	}
	// Totals in the mix's order.
	for _, ri := range base.Plan.Requests {
		if t, ok := totals[ri.Name]; ok {
			t.Name = ri.Name
			out.Requests = append(out.Requests, *t)
			delete(totals, ri.Name)
		}
	}
	for name := range totals {
		return nil, refuse("request %q is not in the plan", name)
	}
	out.Journeys = journeys
	return out, nil
}

// mergeLatency merges two latency summaries through their histograms,
// which must have spike's geometry; the figures are recomputed from the sum.
func mergeLatency(a, b LatencyStats) (LatencyStats, error) {
	if b.Count == 0 {
		return a, nil
	}
	if a.Count == 0 {
		return b, nil
	}
	if a.Hist == "" || b.Hist == "" {
		return a, errors.New("a latency summary has no histogram to merge")
	}
	m := mergers.Get().(*latencyMerger)
	defer mergers.Put(m)
	m.h.Reset()
	want := &latencyGeometry
	for _, s := range []string{a.Hist, b.Hist} {
		bs, g, err := m.d.Decode(s)
		if err != nil {
			return a, err
		}
		if g.Lowest != want.Lowest || g.Highest != want.Highest || g.SigDigits != want.SigDigits {
			return a, fmt.Errorf("histogram geometry %d..%d µs at %d digits differs from spike's %d..%d at %d",
				g.Lowest, g.Highest, g.SigDigits, want.Lowest, want.Highest, want.SigDigits)
		}
		if dropped := m.h.Add(bs, &g); dropped != 0 {
			return a, fmt.Errorf("%d values fell outside the histogram when merging", dropped)
		}
	}
	return m.z.StatsOf(m.h, true), nil
}

// latencyMerger is what mergeLatency reuses from one merge to the next: a
// dense histogram of spike's geometry (about 400 KB of counts, which Reset
// clears only where they were used), a decoder and a summarizer. A merge
// of N shards' windows does thousands of merges.
type latencyMerger struct {
	h *hist.Hist
	d hist.Decoder
	z Summarizer
}

var mergers = sync.Pool{New: func() any { return &latencyMerger{h: NewHist()} }}

// mergeMap merges src's per-request figures into dst (see mergeInto).
func mergeMap(dst, src map[string]*WindowRequest) (map[string]*WindowRequest, error) {
	v := reflect.ValueOf(&dst).Elem()
	if err := mergeInto(v, reflect.ValueOf(src), ""); err != nil {
		return nil, err
	}
	return dst, nil
}

var latencyType = reflect.TypeOf(LatencyStats{})

// bounded lists the sample lists kept to a few entries, with the field that
// counts what they leave out and the recorder's bound; merged lists are cut
// to the same bound and the rest is added to that field.
var bounded = map[string]struct {
	other string
	limit int
}{
	"ErrorSamples": {"ErrorSamplesOther", MaxErrorSamples},
	"ErrorBodies":  {"ErrorBodyOther", MaxBodySamples},
}

// mergeInto adds src into dst, field by field, so that per-window and
// per-request figures of shards add up without a line per field:
//
//   - numbers are summed, except fields named Max… (maximum) and Min…
//     (minimum of the non-zero values);
//   - booleans are or-ed; strings keep the first non-empty value;
//   - maps are merged key by key with the same rules;
//   - a pointer whose type has a Merge(same type) method uses it;
//   - LatencyStats are merged through their histograms (mergeLatency);
//   - lists of numbers are summed position by position; lists of strings
//     keep the first non-empty one;
//   - lists of structs with a Count field are merged by their other exported
//     fields (counts summed), most frequent first; bounded lists are cut back.
//
// name is the field's name, for the Max/Min rule.
func mergeInto(dst, src reflect.Value, name string) error {
	switch dst.Kind() {
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		dst.SetUint(combine(name, dst.Uint(), src.Uint()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		dst.SetInt(combine(name, dst.Int(), src.Int()))
	case reflect.Float32, reflect.Float64:
		dst.SetFloat(combine(name, dst.Float(), src.Float()))
	case reflect.Bool:
		dst.SetBool(dst.Bool() || src.Bool())
	case reflect.String:
		if dst.String() == "" {
			dst.SetString(src.String())
		}
	case reflect.Map:
		if src.Len() == 0 {
			return nil
		}
		if dst.IsNil() {
			dst.Set(reflect.MakeMapWithSize(dst.Type(), src.Len()))
		}
		it := src.MapRange()
		for it.Next() {
			k := it.Key()
			v := reflect.New(dst.Type().Elem()).Elem()
			if old := dst.MapIndex(k); old.IsValid() {
				v.Set(old)
			}
			if err := mergeInto(v, it.Value(), name); err != nil {
				return fmt.Errorf("%v: %w", k, err)
			}
			dst.SetMapIndex(k, v)
		}
	case reflect.Pointer:
		if src.IsNil() {
			return nil
		}
		if dst.IsNil() {
			dst.Set(reflect.New(dst.Type().Elem()))
		}
		if mm := dst.MethodByName("Merge"); mm.IsValid() && mm.Type().NumIn() == 1 && mm.Type().In(0) == src.Type() && mm.Type().NumOut() == 0 {
			mm.Call([]reflect.Value{src})
			return nil
		}
		return mergeInto(dst.Elem(), src.Elem(), name)
	case reflect.Struct:
		if dst.Type() == latencyType {
			l, err := mergeLatency(dst.Interface().(LatencyStats), src.Interface().(LatencyStats))
			if err != nil {
				return err
			}
			dst.Set(reflect.ValueOf(l))
			return nil
		}
		t := dst.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			if err := mergeInto(dst.Field(i), src.Field(i), f.Name); err != nil {
				return fmt.Errorf("%s: %w", f.Name, err)
			}
		}
		for list, b := range bounded {
			l, o := dst.FieldByName(list), dst.FieldByName(b.other)
			if !l.IsValid() || !o.IsValid() || o.Kind() != reflect.Uint64 || l.Len() <= b.limit {
				continue
			}
			var cut uint64
			for i := b.limit; i < l.Len(); i++ {
				cut += l.Index(i).FieldByName("Count").Uint()
			}
			o.SetUint(o.Uint() + cut)
			l.Set(l.Slice(0, b.limit))
		}
	case reflect.Slice:
		switch dst.Type().Elem().Kind() {
		case reflect.Uint64, reflect.Float64:
			// Per-position figures (a journey's counts per step): summed.
			for i := 0; i < src.Len(); i++ {
				if i >= dst.Len() {
					dst.Set(reflect.Append(dst, src.Index(i)))
					continue
				}
				if err := mergeInto(dst.Index(i), src.Index(i), name); err != nil {
					return err
				}
			}
			return nil
		case reflect.String:
			// Names (a journey's steps): the first shard's.
			if dst.Len() == 0 {
				dst.Set(src)
			}
			return nil
		}
		return mergeList(dst, src)
	default:
		return fmt.Errorf("cannot merge a %s", dst.Type())
	}
	return nil
}

// combine adds two figures of the field name: Max… fields keep the larger,
// Min… fields the smaller non-zero one, others are summed.
func combine[T int64 | uint64 | float64](name string, a, b T) T {
	switch {
	case strings.HasPrefix(name, "Max"):
		return max(a, b)
	case strings.HasPrefix(name, "Min"):
		if a == 0 || (b != 0 && b < a) {
			return b
		}
		return a
	}
	return a + b
}

// mergeList merges src's entries into dst: entries equal in every exported
// field but Count are one entry, counts summed; then sorted by Count, most
// first (ties in the order of those fields). Lists without a Count are
// appended.
func mergeList(dst, src reflect.Value) error {
	et := dst.Type().Elem()
	cf, ok := et.FieldByName("Count")
	if et.Kind() != reflect.Struct || !ok || cf.Type.Kind() != reflect.Uint64 {
		dst.Set(reflect.AppendSlice(dst, src))
		return nil
	}
	key := func(v reflect.Value) string {
		if g, ok := v.Interface().(interface{ GroupKey() string }); ok {
			return g.GroupKey()
		}
		var b strings.Builder
		for i := 0; i < et.NumField(); i++ {
			if f := et.Field(i); f.IsExported() && f.Name != "Count" {
				fmt.Fprintf(&b, "%v\x00", v.Field(i).Interface())
			}
		}
		return b.String()
	}
	out := reflect.MakeSlice(dst.Type(), 0, dst.Len()+src.Len())
	var keys []string
	at := map[string]int{}
	for _, l := range []reflect.Value{dst, src} {
		for i := 0; i < l.Len(); i++ {
			e := l.Index(i)
			k := key(e)
			if j, ok := at[k]; ok {
				c := out.Index(j).FieldByIndex(cf.Index)
				c.SetUint(c.Uint() + e.FieldByIndex(cf.Index).Uint())
				continue
			}
			at[k] = out.Len()
			keys = append(keys, k)
			out = reflect.Append(out, e)
		}
	}
	order := make([]int, out.Len())
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool {
		ca, cb := out.Index(order[a]).FieldByIndex(cf.Index).Uint(), out.Index(order[b]).FieldByIndex(cf.Index).Uint()
		if ca != cb {
			return ca > cb
		}
		return keys[order[a]] < keys[order[b]]
	})
	sorted := reflect.MakeSlice(dst.Type(), out.Len(), out.Len())
	for i, j := range order {
		sorted.Index(i).Set(out.Index(j))
	}
	dst.Set(sorted)
	return nil
}

func orDevel(v string) string {
	if v == "" {
		return "unknown"
	}
	return v
}
