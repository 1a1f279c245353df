package service

import "slices"

// Tag is one key/value tag of a resource, as a service keeps it in its
// record. Its JSON names are those every service's own tag type used, so
// records written before read the same.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// SetTag is tags with key set to value: the tag of that key takes the new
// value where it stands, or a new tag goes last. tags itself is not
// changed, so a record read from the store can be edited and compared.
func SetTag(tags []Tag, key, value string) []Tag {
	i := slices.IndexFunc(tags, func(t Tag) bool { return t.Key == key })
	if i < 0 {
		return append(slices.Clip(tags), Tag{Key: key, Value: value})
	}
	tags = slices.Clone(tags)
	tags[i].Value = value
	return tags
}

// TagMap is tags by key, nil for none: what authorization reads as the
// resource's aws:ResourceTag keys.
func TagMap(tags []Tag) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return m
}
