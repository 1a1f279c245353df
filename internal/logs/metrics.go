package logs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"overcast/internal/store"
)

// What metric filters publish is kept here, a minute at a time, for
// CloudWatch metrics to read through MetricData once that service exists:
// per account and region, per metric (namespace, name, dimensions) and
// minute of the events' timestamps, the count, sum, minimum and maximum of
// the values, as CloudWatch's statistic sets hold them.

// minuteStats is one metric's minute.
type minuteStats struct {
	Namespace  string            `json:"namespace"`
	Name       string            `json:"name"`
	Dimensions map[string]string `json:"dimensions,omitempty"`
	Unit       string            `json:"unit,omitempty"`
	Minute     int64             `json:"minute"` // ms since the epoch
	Count      float64           `json:"count"`
	Sum        float64           `json:"sum"`
	Min        float64           `json:"min"`
	Max        float64           `json:"max"`
	// Default is the filter's default value when events were ingested
	// that minute and none matched: the minute then reads as one sample
	// of it.
	Default *float64 `json:"default,omitempty"`
}

func (m *minuteStats) add(v float64) {
	if m.Count == 0 {
		m.Min, m.Max = v, v
	}
	m.Count++
	m.Sum += v
	m.Min, m.Max = min(m.Min, v), max(m.Max, v)
}

// merge adds what one batch found to what the store holds.
func (m *minuteStats) merge(o *minuteStats) {
	if o.Count > 0 {
		if m.Count == 0 {
			m.Min, m.Max = o.Min, o.Max
		}
		m.Count += o.Count
		m.Sum += o.Sum
		m.Min, m.Max = min(m.Min, o.Min), max(m.Max, o.Max)
	}
	if o.Default != nil {
		m.Default = o.Default
	}
	if o.Unit != "" {
		m.Unit = o.Unit
	}
}

// metricKey orders a scope's minutes by namespace, metric, dimensions,
// then time.
func metricKey(scope, namespace, name string, dims map[string]string, minute int64) string {
	var b strings.Builder
	b.WriteString(scope)
	b.WriteString(namespace)
	b.WriteByte(0)
	b.WriteString(name)
	b.WriteByte(0)
	for i, k := range slices.Sorted(maps.Keys(dims)) {
		if i > 0 {
			b.WriteByte(1)
		}
		b.WriteString(k + "=" + dims[k])
	}
	b.WriteByte(0)
	fmt.Fprintf(&b, "%016x", minute)
	return b.String()
}

const msPerMinute = int64(time.Minute / time.Millisecond)

// patterns caches compiled filter patterns by their text: every
// PutLogEvents applies its group's filters, and they rarely change.
type patternCache struct {
	mu sync.Mutex
	m  map[string]pattern
}

func (c *patternCache) compile(src string) (pattern, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.m[src]; ok {
		return p, nil
	}
	p, err := compilePattern(src)
	if err != nil {
		return nil, err
	}
	if c.m == nil || len(c.m) > 10_000 {
		c.m = map[string]pattern{}
	}
	c.m[src] = p
	return p, nil
}

// recordMetrics applies the group's metric filters to events just stored,
// in the transaction that stores them.
func (s *Service) recordMetrics(tx store.Tx, g *group, events []storedEvent) error {
	if g.MetricFilters == 0 || len(events) == 0 {
		return nil
	}
	ref := groupRef{Account: g.Account, Region: g.Region, Name: g.Name}
	scope := groupKey(g.Account, g.Region, "")
	found := map[string]*minuteStats{}
	err := store.ScanJSON(tx, metricFiltersTable, store.ScanOptions{Prefix: filterPrefix(ref)}, func(_ string, f metricFilter, _ int64) error {
		pat, err := s.patterns.compile(f.Pattern)
		if err != nil {
			return nil // stored before the pattern language changed: it matches nothing
		}
		for _, t := range f.Transformations {
			applyTransformation(scope, g, &f, t, pat, events, found)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, key := range slices.Sorted(maps.Keys(found)) {
		var m minuteStats
		if _, err := store.GetJSON(tx, metricsTable, key, &m); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if m.Name == "" {
			m = minuteStats{Namespace: found[key].Namespace, Name: found[key].Name, Dimensions: found[key].Dimensions, Minute: found[key].Minute}
		}
		m.merge(found[key])
		if _, err := store.PutJSON(tx, metricsTable, key, &m, store.AnyVersion); err != nil {
			return err
		}
	}
	return nil
}

// applyTransformation adds to found the values one transformation of f
// takes from events: each match's value (events without it, or without a
// dimension, publish nothing), and the default value in the minutes
// without a match.
func applyTransformation(scope string, g *group, f *metricFilter, t transformation, pat pattern, events []storedEvent, found map[string]*minuteStats) {
	literal, err := strconv.ParseFloat(t.Value, 64)
	isLiteral := err == nil
	matchedMinutes := map[int64]bool{}
	for _, e := range events {
		minute := e.Pos.TS - e.Pos.TS%msPerMinute
		var lookup fieldLookup
		if fp, ok := pat.(fieldPattern); ok {
			var matched bool
			if lookup, matched = fp.matchFields(e.Message); !matched {
				continue
			}
		} else if !pat.match(e.Message) {
			continue
		}
		matchedMinutes[minute] = true
		v := literal
		if !isLiteral {
			text, ok := lookup(t.Value)
			var err error
			if v, err = strconv.ParseFloat(text, 64); !ok || err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
		}
		dims, ok := dimensionsOf(t, f, g, lookup)
		if !ok {
			continue
		}
		key := metricKey(scope, t.Namespace, t.Name, dims, minute)
		m := found[key]
		if m == nil {
			m = &minuteStats{Namespace: t.Namespace, Name: t.Name, Dimensions: dims, Unit: t.Unit, Minute: minute}
			found[key] = m
		}
		m.add(v)
	}
	if t.Default == nil {
		return
	}
	for _, e := range events {
		minute := e.Pos.TS - e.Pos.TS%msPerMinute
		if matchedMinutes[minute] {
			continue
		}
		key := metricKey(scope, t.Namespace, t.Name, nil, minute)
		if found[key] == nil {
			found[key] = &minuteStats{Namespace: t.Namespace, Name: t.Name, Unit: t.Unit, Minute: minute, Default: t.Default}
		}
	}
}

// dimensionsOf are a match's dimensions: the transformation's fields and
// the system fields the filter emits. An event missing a field has none.
func dimensionsOf(t transformation, f *metricFilter, g *group, lookup fieldLookup) (map[string]string, bool) {
	if len(t.Dimensions) == 0 && len(f.SystemDimensions) == 0 {
		return nil, true
	}
	dims := map[string]string{}
	for k, ref := range t.Dimensions {
		v, ok := lookup(ref)
		if !ok {
			return nil, false
		}
		dims[k] = v
	}
	for _, d := range f.SystemDimensions {
		switch d {
		case "@aws.account":
			dims[d] = g.Account
		case "@aws.region":
			dims[d] = g.Region
		}
	}
	return dims, true
}

// MetricDatum is one minute of a metric that metric filters published:
// what CloudWatch metrics will read as a statistic set.
type MetricDatum struct {
	Namespace   string
	MetricName  string
	Dimensions  map[string]string
	Unit        string // "" when the filter set none (CloudWatch's None)
	Timestamp   time.Time
	SampleCount float64
	Sum         float64
	Minimum     float64
	Maximum     float64
}

// MetricData lists the minutes from..to (to excluded) of the metrics that
// the metric filters of an account and region published in namespace
// (only metric name's when name is not ""), ordered by metric, dimensions,
// then time. A minute with ingested events but no match reads as one
// sample of the filter's default value, when it has one.
func (s *Service) MetricData(ctx context.Context, account, region, namespace, name string, from, to time.Time) ([]MetricDatum, error) {
	prefix := groupKey(account, region, "") + namespace + "\x00"
	if name != "" {
		prefix += name + "\x00"
	}
	var out []MetricDatum
	err := s.Store.View(ctx, func(tx store.Tx) error {
		return tx.Scan(metricsTable, store.ScanOptions{Prefix: prefix}, func(it store.Item) error {
			var m minuteStats
			if err := json.Unmarshal(it.Value, &m); err != nil {
				return err
			}
			at := time.UnixMilli(m.Minute).UTC()
			if at.Before(from) || !at.Before(to) {
				return nil
			}
			d := MetricDatum{Namespace: m.Namespace, MetricName: m.Name, Dimensions: m.Dimensions, Unit: m.Unit, Timestamp: at,
				SampleCount: m.Count, Sum: m.Sum, Minimum: m.Min, Maximum: m.Max}
			if m.Count == 0 {
				if m.Default == nil {
					return nil
				}
				d.SampleCount, d.Sum, d.Minimum, d.Maximum = 1, *m.Default, *m.Default, *m.Default
			}
			out = append(out, d)
			return nil
		})
	})
	return out, err
}
