package ec2

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strings"

	"overcast"
	api "overcast/internal/api/ec2"
	"overcast/internal/store"
)

func scopeOf(ctx context.Context) scope { return overcast.ScopeOf(ctx) }

func contains(list []string, s string) bool { return slices.Contains(list, s) }

// fields answers a Describe call's filter: the values of the named field
// of a resource, or ok false when no such filter exists for that call.
type fields[T any] func(item T, name string) (values []string, ok bool)

// tagField answers the tag filters every Describe call takes: tag:<key>,
// tag-key and tag-value.
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
func describe[T any](items []T, field fields[T], filters []api.Filter, token *string, maxResults *int32,
	id func(T) string, minMax, maxMax int32) ([]T, *string, error) {
	var zero T
	for _, f := range filters {
		name := derefString(f.Name)
		if _, ok := field(zero, name); !ok {
			return nil, nil, invalidParameterValue("The filter '%s' is invalid", name)
		}
	}
	var matched []T
	for _, it := range items {
		if matchesAll(it, field, filters) {
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

func matchesAll[T any](it T, field fields[T], filters []api.Filter) bool {
	for _, f := range filters {
		values, _ := field(it, derefString(f.Name))
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

func derefString(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// loadAll reads the scope's records of a table: all of them, or those ids
// name, failing with notFoundCode for the ones that do not exist.
func loadAll[T any](tx store.Tx, table string, sc scope, ids []string, notFoundCode, what string) ([]T, error) {
	var out []T
	if len(ids) == 0 {
		err := store.ScanJSON(tx, table, store.ScanOptions{Prefix: sc.Prefix()}, func(_ string, v T, _ int64) error {
			out = append(out, v)
			return nil
		})
		return out, err
	}
	var missing []string
	for _, id := range dedupe(ids) {
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

func dedupe(ids []string) []string {
	var out []string
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}
