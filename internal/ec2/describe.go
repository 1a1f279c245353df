package ec2

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"

	"overcast"
	api "overcast/internal/api/ec2"
	"overcast/internal/service"
	"overcast/internal/store"
)

func scopeOf(ctx context.Context) scope { return overcast.ScopeOf(ctx) }

func contains(list []string, s string) bool { return slices.Contains(list, s) }

// fields are the filters a Describe call takes.
type fields[T any] struct {
	// values gives, by filter name, a resource's values for that filter:
	// a string, a []string, a bool or a number; nil is none.
	values map[string]func(T) any
	// aliases are the other names AWS takes for some of those filters:
	// alias → the name in values that answers it.
	aliases map[string]string
	// tags, when set, gives a resource's tags for the tag filters
	// (tag:<key>, tag-key, tag-value).
	tags func(T) map[string]string
	// more answers the names neither values nor tags do (whole families of
	// filters, ip-permission.<field>): a resource's values, or ok false
	// when no such filter exists.
	more func(it T, name string) (values []string, ok bool)
}

// lookup returns the values it has for the filter name, or ok false when
// the call has no such filter.
func (f fields[T]) lookup(it T, name string) (values []string, ok bool) {
	if value, ok := f.value(name); ok {
		return filterValues(value(it)), true
	}
	if f.tags != nil {
		if values, ok := tagField(f.tags(it), name); ok {
			return values, true
		}
	}
	if f.more != nil {
		return f.more(it, name)
	}
	return nil, false
}

// value is what answers the filter name or the one it is an alias of.
func (f fields[T]) value(name string) (func(T) any, bool) {
	if canonical, ok := f.aliases[name]; ok {
		name = canonical
	}
	value, ok := f.values[name]
	return value, ok
}

// has says whether the call takes the filter name, before any resource is
// looked at: only more is asked, about the zero resource.
func (f fields[T]) has(name string) bool {
	if _, ok := f.value(name); ok {
		return true
	}
	if _, ok := tagField(nil, name); ok && f.tags != nil {
		return true
	}
	if f.more == nil {
		return false
	}
	var zero T
	_, ok := f.more(zero, name)
	return ok
}

// always is a filter every resource answers with the same values.
func always[T any](values ...string) func(T) any { return func(T) any { return values } }

func filterValues(v any) []string {
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		return []string{v}
	case []string:
		return v
	}
	return []string{fmt.Sprint(v)}
}

// tagField answers the tag filters: tag:<key>, tag-key and tag-value.
func tagField(tags map[string]string, name string) ([]string, bool) {
	if key, ok := strings.CutPrefix(name, "tag:"); ok {
		if v, ok := tags[key]; ok {
			return []string{v}, true
		}
		return nil, true
	}
	switch name {
	case "tag-key":
		return sortedKeys(tags), true
	case "tag-value":
		var values []string
		for _, k := range sortedKeys(tags) {
			values = append(values, tags[k])
		}
		return values, true
	}
	return nil, false
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// describe filters items as a Describe call's Filters say (AND across
// filters, OR across a filter's values, which may hold the wildcards * and
// ?) and returns the page NextToken and MaxResults ask for. minMax..maxMax
// is the call's MaxResults range; 0 means the call does not paginate.
func describe[T any](items []T, fs fields[T], filters []api.Filter, token *string, maxResults *int32,
	id func(T) string, minMax, maxMax int32) ([]T, *string, error) {
	for _, f := range filters {
		name := service.Deref(f.Name)
		if !fs.has(name) {
			return nil, nil, invalidParameterValue("The filter '%s' is invalid", name)
		}
	}
	var matched []T
	for _, it := range items {
		if matchesAll(it, fs, filters) {
			matched = append(matched, it)
		}
	}
	if maxResults == nil && token == nil || maxMax == 0 {
		return matched, nil, nil
	}
	limit := maxMax
	if maxResults != nil {
		if *maxResults < minMax || *maxResults > maxMax {
			return nil, nil, invalidParameterValue("Value ( %d ) for parameter maxResults is invalid. Expecting a value between %d and %d.",
				*maxResults, minMax, maxMax)
		}
		limit = *maxResults
	}
	slices.SortStableFunc(matched, func(a, b T) int { return strings.Compare(id(a), id(b)) })
	start := 0
	if token != nil {
		after, err := base64.RawURLEncoding.DecodeString(*token)
		if err != nil || len(after) == 0 {
			return nil, nil, invalidParameterValue("Invalid value '%s' for NextToken", *token)
		}
		start, _ = slices.BinarySearchFunc(matched, string(after), func(it T, after string) int {
			if id(it) <= after {
				return -1
			}
			return 1
		})
	}
	end := min(start+int(limit), len(matched))
	page := matched[start:end]
	var next *string
	if end < len(matched) {
		next = new(base64.RawURLEncoding.EncodeToString([]byte(id(page[len(page)-1]))))
	}
	return page, next, nil
}

// describeViews is describe for the calls that page resources by ID,
// with MaxResults from 5 to 1000, answering each as view shows it.
func describeViews[T, V any](items []T, fs fields[T], filters []api.Filter, token *string, maxResults *int32,
	id func(T) string, view func(T) V) ([]V, *string, error) {
	page, next, err := describe(items, fs, filters, token, maxResults, id, 5, 1000)
	if err != nil {
		return nil, nil, err
	}
	views := make([]V, 0, len(page))
	for _, it := range page {
		views = append(views, view(it))
	}
	return views, next, nil
}

// describing is how the Describe calls of the default network's resources
// start: the caller's scope, the IDs asked for checked against prefix
// (malformedCode when one is not an ID), and the scope's default network,
// made on first use.
func (s *Service) describing(ctx context.Context, ids []string, prefix, malformedCode string) (scope, defaults, error) {
	sc := scopeOf(ctx)
	if err := checkIDs(ids, prefix, malformedCode); err != nil {
		return sc, defaults{}, err
	}
	d, err := s.ensureDefaults(ctx, sc)
	return sc, d, err
}

func matchesAll[T any](it T, fs fields[T], filters []api.Filter) bool {
	for _, f := range filters {
		values, _ := fs.lookup(it, service.Deref(f.Name))
		if !slices.ContainsFunc(values, func(v string) bool {
			return slices.ContainsFunc(f.Values, func(pattern string) bool { return globMatch(pattern, v) })
		}) {
			return false
		}
	}
	return true
}

// globMatch matches s against an EC2 filter value: * is any run of
// characters, ? any one, and a backslash escapes the next character.
func globMatch(pattern, s string) bool {
	for len(pattern) > 0 {
		switch c := pattern[0]; c {
		case '*':
			for i := len(s); i >= 0; i-- {
				if globMatch(pattern[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
			pattern, s = pattern[1:], s[1:]
			continue
		case '\\':
			if len(pattern) > 1 {
				pattern = pattern[1:]
			}
		}
		if s == "" || s[0] != pattern[0] {
			return false
		}
		pattern, s = pattern[1:], s[1:]
	}
	return s == ""
}

// loadAll reads the scope's records of a table: all of them, or those ids
// name, failing with notFoundCode for the ones that do not exist.
func loadAll[T any](tx store.Tx, table string, sc scope, ids []string, notFoundCode, what string) ([]T, error) {
	if len(ids) == 0 {
		return store.FilterJSON[T](tx, table, store.ScanOptions{Prefix: sc.Prefix()}, nil)
	}
	var out []T
	var missing []string
	for _, id := range service.Distinct(ids) {
		var v T
		_, err := store.GetJSON(tx, table, sc.Key(id), &v)
		switch {
		case errors.Is(err, store.ErrNotFound):
			missing = append(missing, id)
		case err != nil:
			return nil, err
		default:
			out = append(out, v)
		}
	}
	if len(missing) > 0 {
		return nil, notFound(notFoundCode, what, missing)
	}
	return out, nil
}

// viewRecord reads the scope's record id of table for another service,
// failing with notFound, wrapped with the ID, when there is none.
func viewRecord[T any](ctx context.Context, db store.Store, table string, sc scope, id string, notFound error) (T, error) {
	var v T
	err := db.View(ctx, func(tx store.Tx) error {
		_, err := store.GetJSON(tx, table, sc.Key(id), &v)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		err = fmt.Errorf("%w: %s", notFound, id)
	}
	return v, err
}
