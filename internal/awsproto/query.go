package awsproto

import (
	"fmt"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// queryForm is a decoded application/x-www-form-urlencoded body with its
// keys sorted, so "is there any key under this prefix" is a binary search.
type queryForm struct {
	values url.Values
	keys   []string
	ec2    bool
}

func newQueryForm(values url.Values, ec2 bool) *queryForm {
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return &queryForm{values: values, keys: keys, ec2: ec2}
}

// has reports whether key itself or any "key.<suffix>" is present.
func (q *queryForm) has(key string) bool {
	i := sort.SearchStrings(q.keys, key)
	if i < len(q.keys) && q.keys[i] == key {
		return true
	}
	i = sort.SearchStrings(q.keys, key+".")
	return i < len(q.keys) && strings.HasPrefix(q.keys[i], key+".")
}

func (q *queryForm) get(key string) (string, bool) {
	vs, ok := q.values[key]
	if !ok || len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

// memberName is the form key segment of a structure member.
func (q *queryForm) memberName(m *member) string {
	if q.ec2 {
		if m.queryName != "" {
			return m.queryName
		}
		return upperFirst(m.wireName())
	}
	return m.xmlName()
}

func upperFirst(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError || unicode.IsUpper(r) {
		return s
	}
	return string(unicode.ToUpper(r)) + s[size:]
}

func joinKey(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// decodeStruct fills the structure v from the keys under prefix.
func (q *queryForm) decodeStruct(t *typeInfo, v reflect.Value, prefix string) error {
	for _, m := range t.members {
		key := joinKey(prefix, q.memberName(m))
		f := v.Field(m.index)
		var err error
		switch m.t.kind {
		case kindList:
			listKey := key
			if !q.ec2 && m.flattened {
				listKey = joinKey(prefix, m.flatName())
			}
			err = q.decodeList(m.t, f, listKey, m.flattened)
		case kindMap:
			err = q.decodeMap(m.t, f, key, m.flattened)
		default:
			err = q.decodeValue(m.t, f, key, m.tsFormat)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
	}
	return nil
}

// decodeValue decodes the value at key into f, if present.
func (q *queryForm) decodeValue(t *typeInfo, f reflect.Value, key, tsFormat string) error {
	switch t.kind {
	case kindStruct:
		if !q.has(key) {
			return nil
		}
		return q.decodeStruct(t, alloc(f), key)
	case kindList:
		return q.decodeList(t, f, key, false)
	case kindMap:
		return q.decodeMap(t, f, key, false)
	case kindDocument, kindStream:
		return nil
	}
	s, ok := q.get(key)
	if !ok {
		return nil
	}
	return setScalar(t, alloc(f), s, orDefault(tsFormat, tsISO8601))
}

// decodeList reads key.member.N (or key.N when flattened, and always on
// ec2), N counting from 1. An empty "key=" is an empty list.
func (q *queryForm) decodeList(t *typeInfo, f reflect.Value, key string, flattened bool) error {
	base := key
	if !q.ec2 && !flattened {
		base = key + "." + orDefault(t.coll.Member.LocationName, "member")
	}
	list := reflect.MakeSlice(t.rtype, 0, 0)
	for i := 1; ; i++ {
		itemKey := base + "." + strconv.Itoa(i)
		if !q.has(itemKey) {
			break
		}
		ev := reflect.New(t.elem.rtype).Elem()
		if err := q.decodeValue(t.elem, ev, itemKey, t.coll.Member.TimestampFormat); err != nil {
			return err
		}
		list = reflect.Append(list, ev)
	}
	if list.Len() == 0 {
		if s, ok := q.get(key); !ok || s != "" {
			return nil
		}
	}
	f.Set(list)
	return nil
}

// decodeMap reads key.entry.N.key / key.entry.N.value (no ".entry" when
// flattened), with the key and value names the model gives.
func (q *queryForm) decodeMap(t *typeInfo, f reflect.Value, key string, flattened bool) error {
	base := key
	if !flattened {
		base = key + ".entry"
	}
	keyName := orDefault(t.coll.Key.LocationName, "key")
	valueName := orDefault(t.coll.Value.LocationName, "value")
	for i := 1; ; i++ {
		entry := base + "." + strconv.Itoa(i)
		if !q.has(entry) {
			break
		}
		k, ok := q.get(entry + "." + keyName)
		if !ok {
			return fmt.Errorf("map entry %s has no %s", entry, keyName)
		}
		if f.IsNil() {
			f.Set(reflect.MakeMap(t.rtype))
		}
		ev := reflect.New(t.elem.rtype).Elem()
		if err := q.decodeValue(t.elem, ev, entry+"."+valueName, t.coll.Value.TimestampFormat); err != nil {
			return err
		}
		f.SetMapIndex(reflect.ValueOf(k).Convert(t.rtype.Key()), ev)
	}
	return nil
}
