package awsproto

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// AWS's request validation (Coral, behind most services) checks a decoded
// request against the model's constraints before the service sees it:
// required members, then each member's pattern, length or value range and
// enum, in the model's member order, every failure reported ("2
// validation errors detected: A; B") up to ten. The rules below follow
// responses recorded from AWS by people who compared (kinesalite and
// dynalite's suites, issue reports quoted in the tests):
//
//   - one failure per broken constraint, a member's pattern before its
//     length: "Value '' at 'streamName' ... pattern ...; Value '' at
//     'streamName' ... length greater than or equal to 1";
//   - a list's own length before its elements; a structure element's
//     members at "records.1.member.partitionKey"; scalar elements of a
//     list or map judged as one, at the collection, listing every
//     constraint of the element: "Member must satisfy constraint:
//     [Member must have length less than or equal to 256, Member must
//     have length greater than or equal to 1]", "Map value must satisfy
//     constraint: [...]", keys before values;
//   - values as Java prints them ('[a, b]', '{k=v}', a blob as
//     'java.nio.HeapByteBuffer[pos=0 lim=3 cap=3]'), none for sensitive
//     members or collections of structures ("Value at 'tags'");
//   - lengths in UTF-16 code units (Java's String.length()), blobs in bytes.
//
// What no recording settles is chosen and said: enum values are listed in
// the model's order (AWS's own order is its internal set's, which only
// sometimes matches), map entries by key.

const patternText = "Member must satisfy regular expression pattern: "

// maxProblems is how many failures AWS reports; the count says how many it
// listed, not how many there were.
const maxProblems = 10

// problem is one failed check, kept in parts until it is worded.
type problem struct {
	path       string
	value      string
	hasValue   bool // false prints "Value at" (sensitive, or a collection of structures)
	null       bool // a required member is absent
	constraint string
	wireName   string // for missingParameterWording
	inBody     bool   // the member travels in the body (for malformedBody)
}

// validator walks a decoded request. It allocates nothing until a check
// fails: the path is a stack of segments joined only for a problem.
type validator struct {
	policy   *validationPolicy
	path     []pathSeg
	problems []problem
}

type pathSeg struct {
	name  string // a member's path name, or a map key
	index int    // a list index from 1, when name is ""
}

func (v *validator) full() bool {
	if v.policy.wording != coralWording {
		return len(v.problems) > 0
	}
	return len(v.problems) >= maxProblems
}

func (v *validator) pathString() string {
	var b strings.Builder
	for i, s := range v.path {
		if i > 0 {
			b.WriteByte('.')
		}
		if s.name != "" {
			b.WriteString(s.name)
		} else {
			b.WriteString(strconv.Itoa(s.index))
			b.WriteString(".member")
		}
	}
	return b.String()
}

func (v *validator) fail(value string, hasValue bool, constraint string) {
	v.problems = append(v.problems, problem{path: v.pathString(), value: value, hasValue: hasValue, constraint: constraint})
}

// validate checks in, a decoded request, against its model the way policy
// says, and returns the error AWS would answer with, or nil.
func validate(in any, policy *validationPolicy) error {
	rv := reflect.ValueOf(in)
	t := planOf(rv.Type())
	if !t.validates {
		return nil
	}
	v := validators.Get().(*validator)
	defer validators.Put(v)
	v.policy, v.path, v.problems = policy, v.path[:0], nil
	v.structure(t, elemOf(rv))
	if len(v.problems) == 0 {
		return nil
	}
	if policy.malformedBody && v.problems[0].inBody {
		return &Error{Code: "MalformedXML", Status: http.StatusBadRequest, Message: malformedXMLMessage}
	}
	return &Error{Code: policy.code, Status: http.StatusBadRequest, Message: v.message()}
}

// malformedXMLMessage is S3's MalformedXML text.
const malformedXMLMessage = "The XML you provided was not well-formed or did not validate against our published schema"

// validators keeps validate from allocating a path stack per request.
var validators = sync.Pool{New: func() any { return &validator{path: make([]pathSeg, 0, 16)} }}

func (v *validator) message() string {
	switch v.policy.wording {
	case ecrWording:
		p := v.problems[0]
		if p.null {
			p.constraint = "Member must not be null"
		}
		// ECR words a pattern its own way: "must satisfy regular
		// expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*...'".
		if pattern, ok := strings.CutPrefix(p.constraint, patternText); ok {
			p.constraint = "must satisfy regular expression '" + pattern + "'"
		}
		return fmt.Sprintf("Invalid parameter at '%s' failed to satisfy constraint: '%s'", p.path, p.constraint)
	case missingParameterWording:
		msg := "The request must contain the parameter " + v.problems[0].wireName
		if v.policy.fullStop {
			msg += "."
		}
		return msg
	}
	texts := make([]string, len(v.problems))
	for i, p := range v.problems {
		switch {
		case p.null:
			texts[i] = fmt.Sprintf("Value null at '%s' failed to satisfy constraint: Member must not be null", p.path)
		case p.hasValue:
			texts[i] = fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: %s", p.value, p.path, p.constraint)
		default:
			texts[i] = fmt.Sprintf("Value at '%s' failed to satisfy constraint: %s", p.path, p.constraint)
		}
	}
	return ValidationMessage(texts)
}

func (v *validator) structure(t *typeInfo, sv reflect.Value) {
	for _, m := range t.members {
		if v.full() {
			return
		}
		if !m.validates {
			continue
		}
		f := sv.Field(m.index)
		v.path = append(v.path, pathSeg{name: m.pathName})
		if !isSet(f) {
			if m.required {
				v.problems = append(v.problems, problem{path: v.pathString(), null: true, wireName: m.paramName,
					inBody: m.loc == inBody || len(v.path) > 1})
			}
		} else {
			v.value(m.t, m.check, elemOf(f), v.policy.model && !v.exempted(t, m))
		}
		v.path = v.path[:len(v.path)-1]
	}
}

func (v *validator) exempted(t *typeInfo, m *member) bool {
	for _, e := range v.policy.exempt {
		if shape, name, _ := strings.Cut(e, "."); shape == t.shapeName && name == m.name {
			return true
		}
	}
	return false
}

// value checks a present value: its own constraints and its scalar
// elements' when the codec checks the model's constraints here (model),
// then the structures it contains, for their required members at least.
func (v *validator) value(t *typeInfo, ck *check, fv reflect.Value, model bool) {
	if model && ck != nil {
		v.own(t, ck, fv)
	}
	switch t.kind {
	case kindStruct:
		v.structure(t, fv)
	case kindList:
		if model {
			v.scalarElements(t, fv)
		}
		v.structElements(t, fv)
	case kindMap:
		if model {
			v.mapSide(t, fv, t.keyCheck, "Map keys", func(it *reflect.MapIter) (*typeInfo, reflect.Value) { return mapKeyType, it.Key() })
			v.mapSide(t, fv, t.elemCheck, "Map value", func(it *reflect.MapIter) (*typeInfo, reflect.Value) { return t.elem, it.Value() })
		}
		v.structValues(t, fv)
	}
}

// structElements checks the structures of a list.
func (v *validator) structElements(t *typeInfo, fv reflect.Value) {
	if t.elem.kind != kindStruct || !t.elem.validates {
		return
	}
	for i := 0; i < fv.Len() && !v.full(); i++ {
		v.element(pathSeg{index: i + 1}, t.elem, fv.Index(i))
	}
}

// structValues checks the structures of a map, in the order of their keys.
func (v *validator) structValues(t *typeInfo, fv reflect.Value) {
	if t.elem.kind != kindStruct || !t.elem.validates || fv.Len() == 0 {
		return
	}
	for _, k := range sortedKeys(fv) {
		if v.full() {
			return
		}
		v.element(pathSeg{name: k.String()}, t.elem, fv.MapIndex(k))
	}
}

// element checks a structure inside a list or map, at seg.
func (v *validator) element(seg pathSeg, t *typeInfo, sv reflect.Value) {
	v.path = append(v.path, seg)
	v.structure(t, sv)
	v.path = v.path[:len(v.path)-1]
}

func sortedKeys(m reflect.Value) []reflect.Value {
	keys := m.MapKeys()
	slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
	return keys
}

// own checks the constraints of a value itself, each broken one a problem:
// pattern first, then length or range, then enum, as AWS lists them.
func (v *validator) own(t *typeInfo, ck *check, fv reflect.Value) {
	for _, c := range ck.broken(t, fv) {
		if v.full() {
			return
		}
		value, ok := renderValue(t, ck, fv)
		v.fail(value, ok, c)
	}
}

// broken lists the constraint texts fv fails; nil (and no allocation)
// when it passes.
func (ck *check) broken(t *typeInfo, fv reflect.Value) []string {
	var out []string
	switch t.kind {
	case kindString:
		s := fv.String()
		if ck.re != nil && !ck.matches(s) {
			out = append(out, patternText+ck.c.Pattern)
		}
		out = ck.length(out, ck.stringLength(s))
		if len(ck.enum) > 0 && !slices.Contains(ck.enum, s) {
			out = append(out, "Member must satisfy enum value set: ["+strings.Join(ck.enum, ", ")+"]")
		}
	case kindBlob, kindList, kindMap:
		out = ck.length(out, fv.Len())
	case kindInt:
		out = ck.valueRange(out, float64(fv.Int()))
	case kindFloat:
		out = ck.valueRange(out, fv.Float())
	}
	return out
}

func (ck *check) length(out []string, n int) []string {
	switch {
	case ck.hasMin && float64(n) < ck.min:
		return append(out, "Member must have length greater than or equal to "+ck.minText)
	case ck.hasMax && float64(n) > ck.max:
		return append(out, "Member must have length less than or equal to "+ck.maxText)
	}
	return out
}

func (ck *check) valueRange(out []string, f float64) []string {
	switch {
	case ck.hasMin && f < ck.min:
		return append(out, "Member must have value greater than or equal to "+ck.minText)
	case ck.hasMax && f > ck.max:
		return append(out, "Member must have value less than or equal to "+ck.maxText)
	}
	return out
}

// all is every constraint of an element, as AWS lists them for a
// collection whose elements break one: max, min, pattern, enum.
func (ck *check) all() string {
	var parts []string
	word := "length"
	if ck.kind == kindInt || ck.kind == kindFloat {
		word = "value"
	}
	if ck.hasMax {
		parts = append(parts, "Member must have "+word+" less than or equal to "+ck.maxText)
	}
	if ck.hasMin {
		parts = append(parts, "Member must have "+word+" greater than or equal to "+ck.minText)
	}
	if ck.c.Pattern != "" {
		parts = append(parts, patternText+ck.c.Pattern)
	}
	if len(ck.enum) > 0 {
		parts = append(parts, "Member must satisfy enum value set: ["+strings.Join(ck.enum, ", ")+"]")
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// scalarElements reports once if any element of a list breaks its
// constraint.
func (v *validator) scalarElements(t *typeInfo, fv reflect.Value) {
	if t.elemCheck != nil && !v.full() {
		for i := 0; i < fv.Len(); i++ {
			if t.elemCheck.broken(t.elem, fv.Index(i)) != nil {
				value, ok := renderValue(t, nil, fv)
				v.fail(value, ok, "Member must satisfy constraint: "+t.elemCheck.all())
				return
			}
		}
	}
}

// mapKeyType is the plan of map keys, which are strings in every model.
var mapKeyType = &typeInfo{kind: kindString, rtype: reflect.TypeFor[string]()}

// mapSide reports once if any key (or value) of a map breaks ck.
func (v *validator) mapSide(t *typeInfo, fv reflect.Value, ck *check, what string, side func(*reflect.MapIter) (*typeInfo, reflect.Value)) {
	if ck == nil || v.full() {
		return
	}
	var it reflect.MapIter
	it.Reset(fv)
	for it.Next() {
		if et, ev := side(&it); ck.broken(et, ev) != nil {
			value, ok := renderValue(t, nil, fv)
			v.fail(value, ok, what+" must satisfy constraint: "+ck.all())
			return
		}
	}
}

// renderValue prints a value as Java's toString does in AWS's messages, or
// reports that AWS prints none.
func renderValue(t *typeInfo, ck *check, fv reflect.Value) (string, bool) {
	if ck != nil && ck.c.Sensitive {
		return "", false
	}
	var b strings.Builder
	if !writeJavaValue(&b, t, fv) {
		return "", false
	}
	return b.String(), true
}

func writeJavaValue(b *strings.Builder, t *typeInfo, fv reflect.Value) bool {
	switch t.kind {
	case kindString:
		b.WriteString(fv.String())
	case kindBool:
		b.WriteString(strconv.FormatBool(fv.Bool()))
	case kindInt:
		b.WriteString(strconv.FormatInt(fv.Int(), 10))
	case kindFloat:
		b.WriteString(javaDouble(fv.Float()))
	case kindBlob:
		fmt.Fprintf(b, "java.nio.HeapByteBuffer[pos=0 lim=%d cap=%d]", fv.Len(), fv.Len())
	case kindList:
		if t.elemCheck != nil && t.elemCheck.c.Sensitive {
			return false
		}
		b.WriteByte('[')
		for i := 0; i < fv.Len(); i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			if !writeJavaValue(b, t.elem, fv.Index(i)) {
				return false
			}
		}
		b.WriteByte(']')
	case kindMap:
		b.WriteByte('{')
		for i, k := range sortedKeys(fv) {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(k.String())
			b.WriteByte('=')
			if !writeJavaValue(b, t.elem, fv.MapIndex(k)) {
				return false
			}
		}
		b.WriteByte('}')
	default:
		// Structures print as Java object references, timestamps as
		// dates: nothing worth imitating, so AWS's "Value at" form.
		return false
	}
	return true
}

// PageSize is the page size a request asks for (MaxResults, Limit), or def
// when it names none. The codec has already held it to the model's bounds.
func PageSize(requested *int32, def int) int {
	if requested == nil {
		return def
	}
	return int(*requested)
}

// pageTokenMark starts every token PageToken makes, so that PageAfter can
// tell a token of ours from any other base64 string, as AWS refuses a
// token it did not issue instead of starting the listing somewhere.
const pageTokenMark = "overcast-page:"

// PageToken is an opaque pagination token (NextToken) carrying key, where
// the next page starts after.
func PageToken(key string) *string {
	return new(base64.RawURLEncoding.EncodeToString([]byte(pageTokenMark + key)))
}

// PageAfter is the key a request's PageToken carries, or "" when it has
// none. A token PageToken did not make gets invalid, the service's own
// error for it.
func PageAfter(token *string, invalid error) (string, error) {
	if token == nil || *token == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(*token)
	if err != nil {
		return "", invalid
	}
	key, ok := strings.CutPrefix(string(b), pageTokenMark)
	if !ok {
		return "", invalid
	}
	return key, nil
}
