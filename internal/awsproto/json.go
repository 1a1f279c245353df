package awsproto

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// decodeJSON decodes a JSON document into the structure v points to.
// scope selects the members that travel in the body.
func decodeJSON(body []byte, v reflect.Value, scope scope) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("the request body is not valid JSON: %v", err)
	}
	if dec.More() {
		return fmt.Errorf("the request body has data after the JSON document")
	}
	t := planOf(v.Type())
	return setJSON(t, alloc(v), doc, "", scope)
}

// setJSON stores the decoded JSON value j into v (a non-pointer value of
// type t.rtype). tsFormat is the member's timestamp format, if declared.
func setJSON(t *typeInfo, v reflect.Value, j any, tsFormat string, scope scope) error {
	switch t.kind {
	case kindStruct:
		obj, ok := j.(map[string]any)
		if !ok {
			return fmt.Errorf("expected an object for %s, got %s", t.shapeName, jsonKind(j))
		}
		for _, m := range t.members {
			if !scope.includes(m) {
				continue
			}
			val, ok := obj[m.wireName()]
			if !ok || val == nil {
				continue
			}
			f := v.Field(m.index)
			if err := setJSONField(m.t, f, val, m.tsFormat); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
		}
	case kindList:
		arr, ok := j.([]any)
		if !ok {
			return fmt.Errorf("expected a list, got %s", jsonKind(j))
		}
		list := reflect.MakeSlice(t.rtype, 0, len(arr))
		for i, e := range arr {
			ev, ok, err := jsonElem(t, e, t.coll.Member.TimestampFormat)
			if err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
			if ok {
				list = reflect.Append(list, ev)
			}
		}
		v.Set(list)
	case kindMap:
		obj, ok := j.(map[string]any)
		if !ok {
			return fmt.Errorf("expected a map, got %s", jsonKind(j))
		}
		m := reflect.MakeMapWithSize(t.rtype, len(obj))
		for k, e := range obj {
			ev, ok, err := jsonElem(t, e, t.coll.Value.TimestampFormat)
			if err != nil {
				return fmt.Errorf("[%q]: %w", k, err)
			}
			if ok {
				m.SetMapIndex(reflect.ValueOf(k).Convert(t.rtype.Key()), ev)
			}
		}
		v.Set(m)
	case kindDocument:
		v.Set(reflect.ValueOf(&j).Elem())
	case kindString:
		s, ok := j.(string)
		if !ok {
			return fmt.Errorf("expected a string, got %s", jsonKind(j))
		}
		v.SetString(s)
	case kindBool:
		b, ok := j.(bool)
		if !ok {
			return fmt.Errorf("expected a boolean, got %s", jsonKind(j))
		}
		v.SetBool(b)
	case kindInt:
		n, ok := j.(json.Number)
		if !ok {
			return fmt.Errorf("expected an integer, got %s", jsonKind(j))
		}
		i, err := strconv.ParseInt(n.String(), 10, t.bits)
		if err != nil {
			return fmt.Errorf("%s is not an integer of %d bits", n, t.bits)
		}
		v.SetInt(i)
	case kindFloat:
		switch n := j.(type) {
		case json.Number:
			f, err := strconv.ParseFloat(n.String(), t.bits)
			if err != nil {
				return fmt.Errorf("%s is not a number", n)
			}
			v.SetFloat(f)
		case string:
			f, err := parseFloat(n, t.bits)
			if err != nil || !(math.IsNaN(f) || math.IsInf(f, 0)) {
				return fmt.Errorf("expected a number, got a string")
			}
			v.SetFloat(f)
		default:
			return fmt.Errorf("expected a number, got %s", jsonKind(j))
		}
	case kindTime:
		var tm any
		var err error
		switch n := j.(type) {
		case json.Number:
			var f float64
			f, err = strconv.ParseFloat(n.String(), 64)
			tm = epochTime(f)
		case string:
			tm, err = parseTime(n, tsFormat)
		default:
			return fmt.Errorf("expected a timestamp, got %s", jsonKind(j))
		}
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(tm))
	case kindBlob:
		s, ok := j.(string)
		if !ok {
			return fmt.Errorf("expected base64 data, got %s", jsonKind(j))
		}
		return setScalar(t, v, s, "") // base64, as in a header or XML
	default:
		return fmt.Errorf("cannot decode %s from JSON", t.rtype)
	}
	return nil
}

// jsonElem decodes e, an element of the list or map type t; ok is false
// for a null, which is no element.
func jsonElem(t *typeInfo, e any, tsFormat string) (v reflect.Value, ok bool, err error) {
	if e == nil {
		return v, false, nil
	}
	v = reflect.New(t.elem.rtype).Elem()
	return v, true, setJSON(t.elem, v, e, tsFormat, allMembers)
}

// setJSONField allocates pointer fields before decoding into them.
func setJSONField(t *typeInfo, f reflect.Value, j any, tsFormat string) error {
	if f.Kind() == reflect.Pointer {
		nv := reflect.New(f.Type().Elem())
		if err := setJSON(t, nv.Elem(), j, tsFormat, allMembers); err != nil {
			return err
		}
		f.Set(nv)
		return nil
	}
	return setJSON(t, f, j, tsFormat, allMembers)
}

func jsonKind(j any) string {
	switch j.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", j)
}

// appendJSON encodes v (of plan t) as JSON; scope selects the members of a
// top-level structure.
func appendJSON(b []byte, t *typeInfo, v reflect.Value, tsFormat string, scope scope) []byte {
	v = elemOf(v)
	if !v.IsValid() {
		return append(b, "null"...)
	}
	switch t.kind {
	case kindStruct:
		b = append(b, '{')
		first := true
		for _, m := range t.members {
			if !scope.includes(m) {
				continue
			}
			f := v.Field(m.index)
			if !isSet(f) || m.t.kind == kindStream || (scope == auditRecord && m.t.kind == kindBlob) {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			if scope == auditRecord {
				b = appendJSONString(b, m.pathName)
				b = append(b, ':')
				if m.sensitive {
					b = appendJSONString(b, hiddenValue)
				} else {
					b = appendJSON(b, m.t, f, tsISO8601, auditRecord)
				}
				continue
			}
			b = appendJSONString(b, m.wireName())
			b = append(b, ':')
			b = appendJSON(b, m.t, f, m.tsFormat, allMembers)
		}
		return append(b, '}')
	case kindList:
		b = append(b, '[')
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, t.elem, v.Index(i), t.coll.Member.TimestampFormat, scope.nested())
		}
		return append(b, ']')
	case kindMap:
		b = append(b, '{')
		for i, k := range sortedMapKeys(v) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k.String())
			b = append(b, ':')
			b = appendJSON(b, t.elem, v.MapIndex(k), t.coll.Value.TimestampFormat, scope.nested())
		}
		return append(b, '}')
	case kindDocument:
		doc, err := json.Marshal(v.Interface())
		if err != nil {
			return append(b, "null"...)
		}
		return append(b, doc...)
	case kindString:
		return appendJSONString(b, v.String())
	case kindBool:
		return strconv.AppendBool(b, v.Bool())
	case kindInt:
		return strconv.AppendInt(b, v.Int(), 10)
	case kindFloat:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return appendJSONString(b, formatFloat(f, t.bits))
		}
		return strconv.AppendFloat(b, f, 'f', -1, t.bits)
	case kindTime:
		format := orDefault(tsFormat, tsUnix)
		if scope == auditRecord {
			format = tsISO8601
		}
		s := formatTime(v.Interface().(time.Time), format)
		if format == tsUnix {
			return append(b, s...)
		}
		return appendJSONString(b, s)
	case kindBlob:
		return appendJSONString(b, encodeBase64(v.Bytes()))
	}
	return append(b, "null"...)
}

// sortedMapKeys gives maps a stable order on the wire.
func sortedMapKeys(v reflect.Value) []reflect.Value {
	keys := v.MapKeys()
	slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
	return keys
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string, for code that writes JSON
// by hand where encoding/json's reflection costs too much (CloudTrail's
// recorder writes a record per API call).
func AppendJSONString(b []byte, s string) []byte { return appendJSONString(b, s) }

// appendJSONString writes s as a JSON string, escaping what JSON requires
// and replacing invalid UTF-8.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
