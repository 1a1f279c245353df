package logs

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"

	api "overcast/internal/api/logs"
	"overcast/internal/awsproto"
	"overcast/internal/store"
)

// maxMetricFilters is AWS's quota of metric filters per log group.
const maxMetricFilters = 100

// maxDimensions is the most dimensions one metric transformation may have.
const maxDimensions = 3

// metricFilter is a metric filter's record, keyed by filterKey.
type metricFilter struct {
	Name    string `json:"name"`
	Group   string `json:"group"`
	Pattern string `json:"pattern"`
	Created int64  `json:"created"`
	// Transformations holds the one the model allows, as AWS stores it.
	Transformations  []transformation `json:"transformations"`
	OnTransformed    bool             `json:"onTransformed,omitempty"`
	SelectionCrit    string           `json:"selection,omitempty"`
	SystemDimensions []string         `json:"systemDimensions,omitempty"`
}

type transformation struct {
	Name       string            `json:"name"`
	Namespace  string            `json:"namespace"`
	Value      string            `json:"value"`
	Default    *float64          `json:"default,omitempty"`
	Dimensions map[string]string `json:"dimensions,omitempty"`
	Unit       string            `json:"unit,omitempty"`
}

// filterKey keys a group's metric and subscription filters: a group name
// cannot contain ':', so one group's filters are the keys with the prefix
// filterPrefix(ref), in name order.
func filterKey(ref groupRef, name string) string { return filterPrefix(ref) + name }

func filterPrefix(ref groupRef) string { return ref.key() + ":" }

// PutMetricFilter implements api.Server: it creates or replaces the filter.
func (s *Service) PutMetricFilter(ctx context.Context, in *api.PutMetricFilterRequest) error {
	ref := groupFromName(ctx, *in.LogGroupName)
	pat, err := compilePattern(*in.FilterPattern)
	if err != nil {
		return err
	}
	f := metricFilter{Name: *in.FilterName, Group: ref.Name, Pattern: *in.FilterPattern, Created: s.nowMillis(),
		OnTransformed: in.ApplyOnTransformedLogs != nil && *in.ApplyOnTransformedLogs,
		SelectionCrit: deref(in.FieldSelectionCriteria), SystemDimensions: in.EmitSystemFieldDimensions}
	for _, t := range in.MetricTransformations {
		tr := transformation{Name: *t.MetricName, Namespace: *t.MetricNamespace, Value: *t.MetricValue,
			Default: t.DefaultValue, Dimensions: maps.Clone(map[string]string(t.Dimensions)), Unit: deref(t.Unit)}
		if err := checkTransformation(pat, &tr, len(f.SystemDimensions)); err != nil {
			return err
		}
		f.Transformations = append(f.Transformations, tr)
	}
	for _, d := range f.SystemDimensions {
		if d != "@aws.account" && d != "@aws.region" {
			return invalidParameter("Invalid emitSystemFieldDimensions: %s. Valid values are @aws.account and @aws.region.", d)
		}
	}
	return s.putFilter(ctx, ref, metricFiltersTable, f.Name, &f, func(g *group) *int32 { return &g.MetricFilters }, maxMetricFilters)
}

// putFilter stores a metric or subscription filter f named name in table,
// counting it in the group's count when it is new, up to quota.
func (s *Service) putFilter(ctx context.Context, ref groupRef, table, name string, f any, count func(*group) *int32, quota int32) error {
	return s.update(ctx, func(tx store.Tx) error {
		g, _, err := loadGroup(tx, ref)
		if err != nil {
			return err
		}
		key := filterKey(ref, name)
		switch _, err := tx.Get(table, key); {
		case errors.Is(err, store.ErrNotFound):
			if *count(&g) >= quota {
				return errLimitExceeded()
			}
			*count(&g)++
			if err := putGroup(tx, &g); err != nil {
				return err
			}
		case err != nil:
			return err
		}
		_, err = store.PutJSON(tx, table, key, f, store.AnyVersion)
		return err
	})
}

// deleteFilter deletes a metric or subscription filter, uncounting it.
func (s *Service) deleteFilter(ctx context.Context, ref groupRef, table, name string, count func(*group) *int32, notFound error) error {
	return s.update(ctx, func(tx store.Tx) error {
		g, _, err := loadGroup(tx, ref)
		if err != nil {
			return err
		}
		err = tx.Delete(table, filterKey(ref, name), store.AnyVersion)
		if errors.Is(err, store.ErrNotFound) {
			return notFound
		}
		if err != nil {
			return err
		}
		*count(&g) = max(0, *count(&g)-1)
		return putGroup(tx, &g)
	})
}

func errLimitExceeded() error {
	return &awsproto.Error{Code: "LimitExceededException", Status: 400, Message: "Resource limit exceeded."}
}

// checkTransformation holds a transformation to what AWS accepts: a value
// that is a number or a field the pattern can give, dimensions that are
// fields (three at most, counting the system fields emitted), and no
// default value beside dimensions.
func checkTransformation(pat pattern, t *transformation, systemDims int) error {
	if _, err := strconv.ParseFloat(t.Value, 64); err != nil {
		if !isFieldRef(pat, t.Value) {
			return invalidParameter("Invalid metric value %s: it must be a number, or a field the filter pattern selects "+
				"($.name in a JSON pattern, $name for a named field of a space-delimited pattern).", t.Value)
		}
	}
	if len(t.Dimensions)+systemDims > maxDimensions {
		return invalidParameter("A metric transformation can have at most %d dimensions.", maxDimensions)
	}
	for _, k := range slices.Sorted(maps.Keys(t.Dimensions)) {
		if v := t.Dimensions[k]; !isFieldRef(pat, v) {
			return invalidParameter("Invalid dimension %s: %s is not a field of the filter pattern.", k, v)
		}
	}
	if len(t.Dimensions) > 0 && t.Default != nil {
		return invalidParameter("A metric transformation with dimensions cannot have a default value.")
	}
	return nil
}

// isFieldRef reports whether ref names a field matches of pat have: any
// $.selector for a JSON pattern, a named field for a space-delimited one.
func isFieldRef(pat pattern, ref string) bool {
	switch p := pat.(type) {
	case jsonPattern:
		_, err := parseSelector(ref)
		return strings.HasPrefix(ref, "$.") && err == nil
	case spacePattern:
		return slices.Contains(p.fieldNames(), ref)
	}
	return false
}

// DeleteMetricFilter implements api.Server.
func (s *Service) DeleteMetricFilter(ctx context.Context, in *api.DeleteMetricFilterRequest) error {
	return s.deleteFilter(ctx, groupFromName(ctx, *in.LogGroupName), metricFiltersTable, *in.FilterName,
		func(g *group) *int32 { return &g.MetricFilters },
		&awsproto.Error{Code: "ResourceNotFoundException", Status: 400, Message: "The specified metric filter does not exist."})
}

const describeFiltersMax = 50

// DescribeMetricFilters implements api.Server: one group's filters by name
// (or name prefix), or every group's, optionally only those publishing a
// metric; either way in filter name order.
func (s *Service) DescribeMetricFilters(ctx context.Context, in *api.DescribeMetricFiltersRequest) (*api.DescribeMetricFiltersResponse, error) {
	if (in.MetricName == nil) != (in.MetricNamespace == nil) {
		return nil, invalidParameter("metricName and metricNamespace must be specified together.")
	}
	keep := func(f *metricFilter) bool {
		return in.MetricName == nil || slices.ContainsFunc(f.Transformations, func(t transformation) bool {
			return t.Name == *in.MetricName && t.Namespace == *in.MetricNamespace
		})
	}
	page, next, err := listFilters(ctx, s, metricFiltersTable, in.LogGroupName, in.FilterNamePrefix, in.NextToken,
		awsproto.PageSize(in.Limit, describeFiltersMax), keep, func(f *metricFilter) string { return f.Name })
	if err != nil {
		return nil, err
	}
	out := &api.DescribeMetricFiltersResponse{MetricFilters: api.MetricFilters{}, NextToken: next}
	for _, f := range page {
		out.MetricFilters = append(out.MetricFilters, f.describe())
	}
	return out, nil
}

// listFilters pages through metric or subscription filters (T) of one
// group, with a name prefix, or of every group of the caller when group
// is nil, sorted by filter name then group name. The token is the sort
// key of the last filter returned.
func listFilters[T any](ctx context.Context, s *Service, table string, group, prefix, token *string, limit int,
	keep func(*T) bool, name func(*T) string) ([]T, *string, error) {
	after, err := awsproto.PageAfter(token, errBadToken())
	if err != nil {
		return nil, nil, err
	}
	type entry struct {
		sortKey string
		f       T
	}
	var all []entry
	scope := callerGroup(ctx, "").key() // every group of the caller
	err = s.Store.View(ctx, func(tx store.Tx) error {
		base := scope
		if group != nil {
			ref := callerGroup(ctx, *group)
			if _, _, err := loadGroup(tx, ref); err != nil {
				return err
			}
			base = filterPrefix(ref) + deref(prefix)
		}
		return store.ScanJSON(tx, table, store.ScanOptions{Prefix: base}, func(key string, f T, _ int64) error {
			if keep(&f) {
				groupName, _, _ := strings.Cut(key[len(scope):], ":")
				all = append(all, entry{sortKey: name(&f) + "\x00" + groupName, f: f})
			}
			return nil
		})
	})
	if err != nil {
		return nil, nil, err
	}
	slices.SortFunc(all, func(a, b entry) int { return cmp.Compare(a.sortKey, b.sortKey) })
	i, _ := slices.BinarySearchFunc(all, after, func(e entry, k string) int { return cmp.Compare(e.sortKey, k) })
	if i < len(all) && after != "" && all[i].sortKey == after {
		i++
	}
	all = all[i:]
	var next *string
	if len(all) > limit {
		all = all[:limit]
		next = awsproto.PageToken(all[limit-1].sortKey)
	}
	page := make([]T, len(all))
	for i, e := range all {
		page[i] = e.f
	}
	return page, next, nil
}

func (f *metricFilter) describe() api.MetricFilter {
	mf := api.MetricFilter{FilterName: new(f.Name), FilterPattern: new(f.Pattern), CreationTime: new(f.Created),
		LogGroupName: new(f.Group), MetricTransformations: api.MetricTransformations{}}
	if f.OnTransformed {
		mf.ApplyOnTransformedLogs = new(true)
	}
	if f.SelectionCrit != "" {
		mf.FieldSelectionCriteria = new(f.SelectionCrit)
	}
	mf.EmitSystemFieldDimensions = f.SystemDimensions
	for _, t := range f.Transformations {
		mt := api.MetricTransformation{MetricName: new(t.Name), MetricNamespace: new(t.Namespace), MetricValue: new(t.Value),
			DefaultValue: t.Default}
		if len(t.Dimensions) > 0 {
			mt.Dimensions = api.Dimensions(maps.Clone(t.Dimensions))
		}
		if t.Unit != "" {
			mt.Unit = new(t.Unit)
		}
		mf.MetricTransformations = append(mf.MetricTransformations, mt)
	}
	return mf
}

// TestMetricFilter implements api.Server: which messages the pattern
// matches, numbered from 1, with the fields it names.
func (s *Service) TestMetricFilter(ctx context.Context, in *api.TestMetricFilterRequest) (*api.TestMetricFilterResponse, error) {
	pat, err := compilePattern(*in.FilterPattern)
	if err != nil {
		return nil, err
	}
	out := &api.TestMetricFilterResponse{Matches: api.MetricFilterMatches{}}
	for i, msg := range in.LogEventMessages {
		values := api.ExtractedValues{}
		if fp, ok := pat.(fieldPattern); ok {
			lookup, ok := fp.matchFields(msg)
			if !ok {
				continue
			}
			for _, name := range fp.fieldNames() {
				if v, ok := lookup(name); ok {
					values[name] = v
				}
			}
		} else if !pat.match(msg) {
			continue
		}
		out.Matches = append(out.Matches, api.MetricFilterMatchRecord{EventNumber: new(int64(i + 1)), EventMessage: new(msg), ExtractedValues: values})
	}
	return out, nil
}
