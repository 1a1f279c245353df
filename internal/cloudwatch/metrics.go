package cloudwatch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/cloudwatch"
	"overcast/internal/service"
	"overcast/internal/store"
)

// Dimension is a name/value pair of a metric's identity.
type Dimension struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Datum is one metric observation, as other services publish it through
// Put: one or more values (with Counts, parallel, when a value was seen
// more than once), or a pre-aggregated Stats.
type Datum struct {
	MetricName string
	Dimensions []Dimension
	Timestamp  time.Time // zero: now
	Values     []float64
	Counts     []float64 // nil: each value once
	Stats      *Stats
	Unit       string // "" is AWS's None
}

// Stats is a statistic set: what a client aggregated itself.
type Stats struct {
	SampleCount, Sum, Minimum, Maximum float64
}

// metricsTable holds one record per metric (namespace, name and
// dimensions), for ListMetrics, keyed by scope and metric ID.
const metricsTable = "cloudwatch.metrics"

// metric is the record of one metric: its identity and when it last got data.
type metric struct {
	Namespace  string      `json:"namespace"`
	Name       string      `json:"name"`
	Dimensions []Dimension `json:"dimensions,omitempty"` // sorted by name
	LastPut    time.Time   `json:"lastPut"`
}

// datapointsTable holds what PutMetricData received, keyed by scope,
// metric ID and time, so that a prefix scan reads one metric in order.
const datapointsTable = "cloudwatch.datapoints"

// point is one stored observation: the statistic set of what arrived in
// one datum, and the raw values (with counts) percentiles are read from.
type point struct {
	Time   time.Time `json:"t"`
	Unit   string    `json:"u,omitempty"`
	N      float64   `json:"n"`
	Sum    float64   `json:"s"`
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
	Values []float64 `json:"v,omitempty"`
	Counts []float64 `json:"c,omitempty"`
}

// metricID names a metric in keys: a digest of its identity, so that no
// character of a name or dimension can break a key apart.
func metricID(namespace, name string, dims []Dimension) string {
	b, _ := json.Marshal([]any{namespace, name, dims})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

func sortedDimensions(dims []Dimension) []Dimension {
	out := slices.Clone(dims)
	slices.SortFunc(out, func(a, b Dimension) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func pointsPrefix(sc scope, id string) string { return sc.Key(id + "/") }

func pointKey(sc scope, id string, t time.Time, nonce string) string {
	return pointsPrefix(sc, id) + fmt.Sprintf("%016x/%s", t.UnixMilli(), nonce)
}

// Put stores metric data for the account and region: what other services
// (ECS, the load balancers' data plane) publish under their AWS/ namespaces.
func (s *Service) Put(ctx context.Context, account, region, namespace string, data []Datum) error {
	sc := overcast.Scope{Account: account, Region: region}
	now := s.Now()
	return store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		for _, d := range data {
			if err := s.putDatum(tx, sc, namespace, d, now); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Service) putDatum(tx store.Tx, sc scope, namespace string, d Datum, now time.Time) error {
	dims := sortedDimensions(d.Dimensions)
	id := metricID(namespace, d.MetricName, dims)
	at := d.Timestamp
	if at.IsZero() {
		at = now
	}
	p := point{Time: at.UTC(), Unit: d.Unit}
	if d.Stats != nil {
		p.N, p.Sum, p.Min, p.Max = d.Stats.SampleCount, d.Stats.Sum, d.Stats.Minimum, d.Stats.Maximum
	} else {
		if len(d.Values) == 0 {
			return nil
		}
		p.Min, p.Max = math.Inf(1), math.Inf(-1)
		for i, v := range d.Values {
			c := 1.0
			if i < len(d.Counts) {
				c = d.Counts[i]
			}
			p.N += c
			p.Sum += v * c
			p.Min, p.Max = min(p.Min, v), max(p.Max, v)
		}
		p.Values, p.Counts = d.Values, d.Counts
	}
	if _, err := store.PutJSON(tx, datapointsTable, pointKey(sc, id, p.Time, s.IDs.Hex(8)), p, store.AnyVersion); err != nil {
		return err
	}
	m := metric{Namespace: namespace, Name: d.MetricName, Dimensions: dims, LastPut: now}
	_, err := store.PutJSON(tx, metricsTable, sc.Key(id), m, store.AnyVersion)
	return err
}

// expireDatapoints deletes the datapoints older than the retention.
func (s *Service) expireDatapoints(ctx context.Context) error {
	cutoff := s.Now().Add(-retention)
	return s.Store.Update(ctx, func(tx store.Tx) error {
		var old []string
		err := store.ScanJSON(tx, datapointsTable, store.ScanOptions{}, func(key string, p point, _ int64) error {
			if p.Time.Before(cutoff) {
				old = append(old, key)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return store.DeleteKeys(tx, datapointsTable, old)
	})
}

// PutMetricData stores a client's datapoints.
func (s *Service) PutMetricData(ctx context.Context, in *api.PutMetricDataInput) error {
	ns := *in.Namespace
	if strings.HasPrefix(ns, "AWS/") {
		return api.NewInvalidParameterValueException("The value %s for parameter Namespace is invalid.", ns)
	}
	data := make([]Datum, 0, len(in.MetricData))
	for i, md := range in.MetricData {
		d, err := datumOf(fmt.Sprintf("MetricData.member.%d", i+1), md, s.Now())
		if err != nil {
			return err
		}
		data = append(data, d)
	}
	sc := overcast.ScopeOf(ctx)
	return s.Put(ctx, sc.Account, sc.Region, ns, data)
}

// datumOf checks one MetricDatum the way AWS does, naming it by its query
// path (MetricData.member.1.Value) as AWS's messages do.
func datumOf(path string, md api.MetricDatum, now time.Time) (Datum, error) {
	d := Datum{MetricName: *md.MetricName, Values: md.Values, Counts: md.Counts, Unit: service.Deref(md.Unit)}
	for _, dim := range md.Dimensions {
		d.Dimensions = append(d.Dimensions, Dimension{Name: *dim.Name, Value: *dim.Value})
	}
	if md.Timestamp != nil {
		d.Timestamp = *md.Timestamp
		if d.Timestamp.After(now.Add(2 * time.Hour)) {
			return d, api.NewInvalidParameterValueException("The parameter %s.Timestamp must specify a time no more than two hours in the future.", path)
		}
		if d.Timestamp.Before(now.Add(-retention)) {
			return d, api.NewInvalidParameterValueException("The parameter %s.Timestamp must specify a time within the past two weeks.", path)
		}
	}
	if md.StorageResolution != nil && *md.StorageResolution != 1 && *md.StorageResolution != 60 {
		return d, api.NewInvalidParameterValueException("The value %d for parameter %s.StorageResolution is invalid.", *md.StorageResolution, path)
	}
	given := 0
	if md.Value != nil {
		given++
		d.Values = []float64{*md.Value}
	}
	if md.StatisticValues != nil {
		given++
		sv := md.StatisticValues
		d.Stats = &Stats{SampleCount: *sv.SampleCount, Sum: *sv.Sum, Minimum: *sv.Minimum, Maximum: *sv.Maximum}
		if d.Stats.SampleCount <= 0 || d.Stats.Minimum > d.Stats.Maximum {
			return d, api.NewInvalidParameterValueException("The parameter %s.StatisticValues is invalid: SampleCount must be positive and Minimum at most Maximum.", path)
		}
	}
	if len(md.Values) > 0 {
		given++
	}
	if given > 1 {
		return d, api.NewInvalidParameterCombinationException("The parameters %[1]s.Value, %[1]s.Values and %[1]s.StatisticValues are mutually exclusive and you have specified more than one.", path)
	}
	if given == 0 {
		return d, api.NewMissingRequiredParameterException("The parameter %s.Value, %s.Values or %s.StatisticValues is required.", path, path, path)
	}
	if len(md.Counts) > 0 && len(md.Counts) != len(md.Values) {
		return d, api.NewInvalidParameterValueException("The parameters %[1]s.Values and %[1]s.Counts must be of the same size.", path)
	}
	for _, v := range d.Values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return d, api.NewInvalidParameterValueException("The value %v for parameter %s.Value is invalid.", v, path)
		}
	}
	return d, nil
}

// bucket is the aggregate of one period of a metric.
type bucket struct {
	Start            time.Time
	Unit             string
	N, Sum, Min, Max float64
	values, counts   []float64
	raw              bool // every point in it kept its values
}

// series reads a metric's points in [start, end) and aggregates them into
// periods aligned on the epoch, oldest first; unit, when set, keeps only
// points of that unit.
func series(tx store.Tx, sc scope, namespace, name string, dims []Dimension, start, end time.Time, period time.Duration, unit string) ([]bucket, error) {
	id := metricID(namespace, name, sortedDimensions(dims))
	prefix := pointsPrefix(sc, id)
	stop := prefix + fmt.Sprintf("%016x", end.UnixMilli())
	var out []bucket
	err := store.ScanJSON(tx, datapointsTable, store.ScanOptions{Prefix: prefix, After: prefix + fmt.Sprintf("%016x", start.UnixMilli())},
		func(key string, p point, _ int64) error {
			if key >= stop {
				return store.ErrStop
			}
			if p.Time.Before(start) || (unit != "" && orNone(p.Unit) != unit) {
				return nil
			}
			bs := p.Time.Truncate(period)
			if len(out) == 0 || !out[len(out)-1].Start.Equal(bs) {
				out = append(out, bucket{Start: bs, Unit: orNone(p.Unit), Min: math.Inf(1), Max: math.Inf(-1), raw: true})
			}
			b := &out[len(out)-1]
			b.N += p.N
			b.Sum += p.Sum
			b.Min, b.Max = min(b.Min, p.Min), max(b.Max, p.Max)
			if len(p.Values) == 0 {
				b.raw = false
			}
			for i, v := range p.Values {
				c := 1.0
				if i < len(p.Counts) {
					c = p.Counts[i]
				}
				b.values, b.counts = append(b.values, v), append(b.counts, c)
			}
			return nil
		})
	return out, err
}

func orNone(unit string) string {
	if unit == "" {
		return "None"
	}
	return unit
}

// stat is a bucket's value of a statistic: Average, Sum, Minimum, Maximum,
// SampleCount or a percentile pNN(.NN); ok is false when the bucket cannot
// answer it (a percentile of pre-aggregated data).
func (b *bucket) stat(name string) (float64, bool) {
	switch name {
	case "Average":
		return b.Sum / b.N, true
	case "Sum":
		return b.Sum, true
	case "Minimum":
		return b.Min, true
	case "Maximum":
		return b.Max, true
	case "SampleCount":
		return b.N, true
	}
	p, ok := percentile(name)
	if !ok || !b.raw {
		return 0, false
	}
	return b.percentile(p), true
}

// percentileStat is what a percentile statistic looks like: p0 to p100,
// with up to ten decimals (p99.9).
var percentileStat = regexp.MustCompile(`^p(\d{1,2}(\.\d{1,10})?|100(\.0{1,10})?)$`)

// percentile parses "p90" or "p99.9".
func percentile(name string) (float64, bool) {
	if !percentileStat.MatchString(name) {
		return 0, false
	}
	p, err := strconv.ParseFloat(name[1:], 64)
	return p, err == nil
}

// percentile is the nearest-rank percentile of the bucket's values.
func (b *bucket) percentile(p float64) float64 {
	idx := make([]int, len(b.values))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(x, y int) int { return cmpFloat(b.values[x], b.values[y]) })
	var total float64
	for _, c := range b.counts {
		total += c
	}
	rank := math.Max(1, math.Ceil(p/100*total))
	var seen float64
	for _, i := range idx {
		seen += b.counts[i]
		if seen >= rank {
			return b.values[i]
		}
	}
	return b.Max
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func validStatistic(name string) bool {
	switch name {
	case "Average", "Sum", "Minimum", "Maximum", "SampleCount":
		return true
	}
	_, ok := percentile(name)
	return ok
}

// checkPeriod is AWS's rule for a statistics period in seconds: 1, 5, 10,
// 20, 30 (high resolution) or a multiple of 60.
func checkPeriod(period int32) error {
	switch {
	case period <= 0:
		return api.NewInvalidParameterValueException("The parameter Period must be greater than 0.")
	case period < 60 && !slices.Contains([]int32{1, 5, 10, 20, 30}, period), period >= 60 && period%60 != 0:
		return api.NewInvalidParameterValueException("The parameter Period must be 1, 5, 10, 20, 30, or a multiple of 60.")
	}
	return nil
}

func dimensionsOf(in api.Dimensions) []Dimension {
	out := make([]Dimension, 0, len(in))
	for _, d := range in {
		out = append(out, Dimension{Name: *d.Name, Value: *d.Value})
	}
	return out
}

func apiDimensions(in []Dimension) api.Dimensions {
	out := make(api.Dimensions, 0, len(in))
	for _, d := range in {
		out = append(out, api.Dimension{Name: new(d.Name), Value: new(d.Value)})
	}
	return out
}

// maxDatapoints is the most datapoints GetMetricStatistics returns.
const maxDatapoints = 1440

// GetMetricStatistics aggregates one metric per period.
func (s *Service) GetMetricStatistics(ctx context.Context, in *api.GetMetricStatisticsInput) (*api.GetMetricStatisticsOutput, error) {
	if len(in.Statistics) == 0 && len(in.ExtendedStatistics) == 0 {
		return nil, api.NewMissingRequiredParameterException("Must specify either Statistics or ExtendedStatistics.")
	}
	if len(in.Statistics) > 0 && len(in.ExtendedStatistics) > 0 {
		return nil, api.NewInvalidParameterCombinationException("The parameters Statistics and ExtendedStatistics are mutually exclusive and you have specified both.")
	}
	for _, e := range in.ExtendedStatistics {
		if _, ok := percentile(e); !ok {
			return nil, api.NewInvalidParameterValueException("The value %s for parameter ExtendedStatistics is not supported.", e)
		}
	}
	if err := checkPeriod(*in.Period); err != nil {
		return nil, err
	}
	start, end := *in.StartTime, *in.EndTime
	if !start.Before(end) {
		return nil, api.NewInvalidParameterValueException("The parameter StartTime must be less than the parameter EndTime.")
	}
	period := time.Duration(*in.Period) * time.Second
	if n := int64(end.Sub(start) / period); n > maxDatapoints {
		return nil, api.NewInvalidParameterCombinationException("You have requested up to %d datapoints, which exceeds the limit of %d. You may reduce the datapoints requested by increasing Period, or decreasing the time range.", n, maxDatapoints)
	}
	sc := overcast.ScopeOf(ctx)
	var buckets []bucket
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		buckets, err = series(tx, sc, *in.Namespace, *in.MetricName, dimensionsOf(in.Dimensions), start, end, period, service.Deref(in.Unit))
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &api.GetMetricStatisticsOutput{Label: in.MetricName, Datapoints: api.Datapoints{}}
	for _, b := range buckets {
		dp := api.Datapoint{Timestamp: new(b.Start), Unit: new(b.Unit)}
		for _, st := range in.Statistics {
			v, _ := b.stat(st)
			switch st {
			case "Average":
				dp.Average = new(v)
			case "Sum":
				dp.Sum = new(v)
			case "Minimum":
				dp.Minimum = new(v)
			case "Maximum":
				dp.Maximum = new(v)
			case "SampleCount":
				dp.SampleCount = new(v)
			}
		}
		for _, e := range in.ExtendedStatistics {
			if v, ok := b.stat(e); ok {
				if dp.ExtendedStatistics == nil {
					dp.ExtendedStatistics = api.DatapointValueMap{}
				}
				dp.ExtendedStatistics[e] = v
			}
		}
		out.Datapoints = append(out.Datapoints, dp)
	}
	return out, nil
}

// maxListedMetrics is ListMetrics' page size.
const maxListedMetrics = 500

// ListMetrics lists the metrics that match the filters, 500 a page.
func (s *Service) ListMetrics(ctx context.Context, in *api.ListMetricsInput) (*api.ListMetricsOutput, error) {
	sc := overcast.ScopeOf(ctx)
	var activeSince time.Time
	if in.RecentlyActive != nil {
		if *in.RecentlyActive != "PT3H" {
			return nil, api.NewInvalidParameterValueException("The value %s for parameter RecentlyActive is invalid.", *in.RecentlyActive)
		}
		activeSince = s.Now().Add(-3 * time.Hour)
	}
	after := sc.Prefix()
	if in.NextToken != nil {
		after = sc.Key(*in.NextToken)
		if !strings.HasPrefix(after, sc.Prefix()) {
			return nil, api.NewInvalidNextToken("The next token is invalid.")
		}
	}
	out := &api.ListMetricsOutput{Metrics: api.Metrics{}}
	lastKey := ""
	err := s.Store.View(ctx, func(tx store.Tx) error {
		return store.ScanJSON(tx, metricsTable, store.ScanOptions{Prefix: sc.Prefix(), After: after}, func(key string, m metric, _ int64) error {
			if !m.matches(in, activeSince) {
				return nil
			}
			if len(out.Metrics) == maxListedMetrics {
				// The token names the last metric listed: the next page
				// resumes after it.
				out.NextToken = new(strings.TrimPrefix(lastKey, sc.Prefix()))
				return store.ErrStop
			}
			lastKey = key
			out.Metrics = append(out.Metrics, api.Metric{Namespace: new(m.Namespace), MetricName: new(m.Name), Dimensions: apiDimensions(m.Dimensions)})
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (m metric) matches(in *api.ListMetricsInput, activeSince time.Time) bool {
	if (in.Namespace != nil && *in.Namespace != m.Namespace) || (in.MetricName != nil && *in.MetricName != m.Name) {
		return false
	}
	if !activeSince.IsZero() && m.LastPut.Before(activeSince) {
		return false
	}
	for _, f := range in.Dimensions {
		if !slices.ContainsFunc(m.Dimensions, func(d Dimension) bool {
			return d.Name == *f.Name && (f.Value == nil || d.Value == *f.Value)
		}) {
			return false
		}
	}
	return true
}
