package iam

import (
	"strings"

	api "overcast/internal/api/iam"
)

const maxTags = 50

func toTags(in api.TagListType) []tag {
	out := make([]tag, 0, len(in))
	for _, t := range in {
		out = append(out, tag{Key: *t.Key, Value: *t.Value})
	}
	return out
}

func apiTags(ts []tag) api.TagListType {
	if len(ts) == 0 {
		return nil
	}
	out := make(api.TagListType, 0, len(ts))
	for _, t := range ts {
		out = append(out, api.Tag{Key: new(t.Key), Value: new(t.Value)})
	}
	return out
}

// checkTagKeys rejects a request naming one key twice: IAM tag keys are
// case-insensitive.
func checkTagKeys(in api.TagListType) error {
	seen := map[string]bool{}
	for _, t := range in {
		k := strings.ToLower(*t.Key)
		if seen[k] {
			return api.NewInvalidInputException("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[k] = true
	}
	return nil
}

// mergeTags adds or overwrites tags, matching keys regardless of case.
func mergeTags(existing []tag, add api.TagListType) ([]tag, error) {
	out := append([]tag(nil), existing...)
	for _, t := range toTags(add) {
		i := indexTag(out, t.Key)
		if i >= 0 {
			out[i] = t
		} else {
			out = append(out, t)
		}
	}
	if len(out) > maxTags {
		return nil, api.NewLimitExceededException("The number of tags has reached the maximum limit.")
	}
	return out, nil
}

func removeTags(existing []tag, keys []string) []tag {
	var out []tag
	for _, t := range existing {
		drop := false
		for _, k := range keys {
			if strings.EqualFold(k, t.Key) {
				drop = true
			}
		}
		if !drop {
			out = append(out, t)
		}
	}
	return out
}

func indexTag(ts []tag, key string) int {
	for i, t := range ts {
		if strings.EqualFold(t.Key, key) {
			return i
		}
	}
	return -1
}

// tagsPage answers the List*Tags operations.
func tagsPage(ts []tag, marker *string, maxItems *int32) (api.TagListType, *bool, *string, error) {
	pg, err := newPage(marker, maxItems)
	if err != nil {
		return nil, nil, nil, err
	}
	items, next := pageSlice(ts, func(t tag) string { return strings.ToLower(t.Key) }, pg)
	more, m := truncated(next)
	out := apiTags(items)
	if out == nil {
		out = api.TagListType{}
	}
	return out, more, m, nil
}
