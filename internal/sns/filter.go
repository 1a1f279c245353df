package sns

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// A filter policy, as SNS reads it: an object whose leaves are arrays of
// conditions (OR), whose keys must all match (AND), with "$or" taking
// alternatives. With the MessageAttributes scope it names attributes and
// is flat; with MessageBody it follows the body's JSON nesting. This is
// SNS's semantic, not EventBridge's: attribute types decide which
// conditions can match (a Number attribute matches numbers, a String.Array
// matches when any element does), and anything-but needs the key present.

type filterObject struct {
	fields map[string]filterField
	// ors are the $or groups: each needs one of its alternatives to match.
	ors [][]*filterObject
}

type filterField struct {
	object     *filterObject // a nested object (body scope only)
	conditions []condition
}

// value is one value a condition is matched against: a string, a number,
// true/false or null, as found in an attribute or the body.
type value struct {
	kind   valueKind
	str    string
	number float64
}

type valueKind int

const (
	kindString valueKind = iota
	kindNumber
	kindBool
	kindNull
)

// condition matches one value, or the key's absence (exists:false).
type condition interface {
	match(v value) bool
}

const (
	maxFilterPolicyBytes = 256 * 1024
	maxCombinations      = 150
	maxAttributeKeys     = 5
)

func errFilter(format string, args ...any) error {
	return errInvalid("FilterPolicy: "+format, args...)
}

// parseFilterPolicy compiles a filter policy for its scope.
func parseFilterPolicy(doc string, body bool) (*filterObject, error) {
	if len(doc) > maxFilterPolicyBytes {
		return nil, errFilter("Filter policy is too long")
	}
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return nil, errFilter("failed to parse JSON. %v", err)
	}
	p := &policyParser{body: body}
	obj, err := p.object(raw, 0)
	if err != nil {
		return nil, err
	}
	if combos := obj.combinations(1); combos > maxCombinations {
		return nil, errFilter("Filter policy is too complex")
	}
	if len(raw) > maxAttributeKeys {
		return nil, errFilter("Filter policy can not have more than %d keys", maxAttributeKeys)
	}
	return obj, nil
}

type policyParser struct{ body bool }

func (p *policyParser) object(raw map[string]any, depth int) (*filterObject, error) {
	if len(raw) == 0 {
		return nil, errFilter("Empty objects are not allowed")
	}
	obj := &filterObject{fields: map[string]filterField{}}
	for key, v := range raw {
		if key == "$or" {
			alts, err := p.or(v, depth)
			if err != nil {
				return nil, err
			}
			obj.ors = append(obj.ors, alts)
			continue
		}
		switch v := v.(type) {
		case map[string]any:
			if !p.body {
				return nil, errInvalid("Filter policy scope MessageAttributes does not support nested filter policy")
			}
			nested, err := p.object(v, depth+1)
			if err != nil {
				return nil, err
			}
			obj.fields[key] = filterField{object: nested}
		case []any:
			conds, err := p.conditions(key, v)
			if err != nil {
				return nil, err
			}
			obj.fields[key] = filterField{conditions: conds}
		default:
			return nil, errFilter("\"%s\" must be an object or an array", key)
		}
	}
	return obj, nil
}

func (p *policyParser) or(v any, depth int) ([]*filterObject, error) {
	list, ok := v.([]any)
	if !ok || len(list) < 2 {
		return nil, errFilter("There must have at least 2 Objects in $or relationship.")
	}
	var alts []*filterObject
	for _, a := range list {
		m, ok := a.(map[string]any)
		if !ok {
			return nil, errFilter("There must have at least 2 Objects in $or relationship.")
		}
		o, err := p.object(m, depth)
		if err != nil {
			return nil, err
		}
		alts = append(alts, o)
	}
	return alts, nil
}

func (p *policyParser) conditions(key string, list []any) ([]condition, error) {
	if len(list) == 0 {
		return nil, errFilter("Empty arrays are not allowed")
	}
	var conds []condition
	for _, item := range list {
		c, err := p.condition(key, item)
		if err != nil {
			return nil, err
		}
		conds = append(conds, c)
	}
	return conds, nil
}

func (p *policyParser) condition(key string, item any) (condition, error) {
	switch v := item.(type) {
	case string:
		return exact{value{kind: kindString, str: v}}, nil
	case json.Number:
		n, err := policyNumber(v)
		if err != nil {
			return nil, err
		}
		return exact{value{kind: kindNumber, number: n}}, nil
	case bool:
		return exact{value{kind: kindBool, str: strconv.FormatBool(v)}}, nil
	case nil:
		return exact{value{kind: kindNull}}, nil
	case map[string]any:
		if len(v) != 1 {
			return nil, errFilter("Only one key allowed in match expression")
		}
		for op, arg := range v {
			return operator(op, arg)
		}
	}
	return nil, errFilter("Match value must be String, number, true, false, or null")
}

func policyNumber(n json.Number) (float64, error) {
	f, err := n.Float64()
	if err != nil {
		return 0, errFilter("Value of %s is not within the supported range", n)
	}
	return f, nil
}

func operator(op string, arg any) (condition, error) {
	switch op {
	case "prefix", "suffix":
		s, ok := arg.(string)
		if !ok {
			return nil, errFilter("%s match pattern must be a string", op)
		}
		return affix{suffix: op == "suffix", text: s}, nil
	case "equals-ignore-case":
		s, ok := arg.(string)
		if !ok {
			return nil, errFilter("equals-ignore-case match pattern must be a string")
		}
		return ignoreCase(s), nil
	case "exists":
		b, ok := arg.(bool)
		if !ok {
			return nil, errFilter("exists match pattern must be either true or false.")
		}
		return exists(b), nil
	case "numeric":
		return parseNumeric(arg)
	case "anything-but":
		return parseAnythingBut(arg)
	case "cidr":
		return parseCIDR(arg)
	}
	return nil, errFilter("Unrecognized match type %s", op)
}

func parseCIDR(arg any) (condition, error) {
	s, ok := arg.(string)
	if !ok {
		return nil, errFilter("prefix match pattern must be a string") // sic: SNS words it so
	}
	addr, bits, found := strings.Cut(s, "/")
	if !found || strings.Contains(bits, "/") {
		return nil, errFilter("Malformed CIDR, one '/' required")
	}
	if _, err := strconv.Atoi(bits); err != nil {
		return nil, errFilter("Malformed CIDR, mask bits must be an integer")
	}
	prefix, err := netip.ParsePrefix(s)
	if err != nil {
		return nil, errFilter("Nonstandard IP address: %s", addr)
	}
	return cidr{prefix.Masked()}, nil
}

// parseNumeric reads [op, n] or a range [">" or ">=", low, "<" or "<=",
// high], with SNS's faults in the order it finds them.
func parseNumeric(arg any) (condition, error) {
	list, _ := arg.([]any)
	if len(list) == 0 {
		return nil, errFilter("Invalid member in numeric match: ]")
	}
	first, err := numericBound(list[0], list[1:], "Invalid member in numeric match: %v", "Unrecognized numeric range operator: %v",
		[]string{"<", "<=", "=", ">", ">="})
	if err != nil {
		return nil, err
	}
	n := numeric{first}
	if len(list) == 2 {
		return n, nil
	}
	if first.op != ">" && first.op != ">=" {
		return nil, errFilter("Too many elements in numeric expression")
	}
	second, err := numericBound(list[2], list[3:], "Bad value in numeric range: %v", "Bad numeric range operator: %v", []string{"<", "<="})
	if err != nil {
		return nil, err
	}
	switch {
	case second.n <= first.n:
		return nil, errFilter("Bottom must be less than top")
	case len(list) > 4:
		return nil, errFilter("Too many terms in numeric range expression")
	}
	return append(n, second), nil
}

// numericBound reads an operator and the number after it (rest[0]).
func numericBound(opValue any, rest []any, notString, unknown string, allowed []string) (bound, error) {
	op, ok := opValue.(string)
	if !ok {
		return bound{}, errFilter(notString, opValue)
	}
	if !slices.Contains(allowed, op) {
		return bound{}, errFilter(unknown, op)
	}
	name := op
	if op == "=" {
		name = "equals"
	}
	if len(rest) == 0 {
		return bound{}, errFilter("Value of %s must be numeric", name)
	}
	num, isNum := rest[0].(json.Number)
	if !isNum {
		return bound{}, errFilter("Value of %s must be numeric", name)
	}
	f, err := policyNumber(num)
	return bound{op, f}, err
}

func parseAnythingBut(arg any) (condition, error) {
	switch v := arg.(type) {
	case map[string]any:
		if len(v) != 1 {
			return nil, errFilter("Only one key allowed in match expression")
		}
		for op, inner := range v {
			if op != "prefix" && op != "suffix" {
				return nil, errFilter("Unsupported anything-but pattern: %s", op)
			}
			c, err := operator(op, inner)
			if err != nil {
				return nil, err
			}
			return anythingBut{c}, nil
		}
	case []any:
		var alts anyOf
		for _, item := range v {
			c, err := anythingButValue(item)
			if err != nil {
				return nil, err
			}
			alts = append(alts, c)
		}
		if len(alts) == 0 {
			return nil, errFilter("Empty arrays are not allowed")
		}
		return anythingBut{alts}, nil
	}
	c, err := anythingButValue(arg)
	if err != nil {
		return nil, err
	}
	return anythingBut{c}, nil
}

func anythingButValue(item any) (condition, error) {
	switch v := item.(type) {
	case string:
		return exact{value{kind: kindString, str: v}}, nil
	case json.Number:
		n, err := policyNumber(v)
		return exact{value{kind: kindNumber, number: n}}, err
	}
	return nil, errFilter("anything-but list must contain strings or numbers")
}

// combinations is the number of conditions the policy expands to, which
// SNS caps: each array counts its length times its nesting depth.
func (o *filterObject) combinations(depth int) int {
	total := 1
	for _, f := range o.fields {
		if f.object != nil {
			total *= f.object.combinations(depth + 1)
		} else {
			total *= len(f.conditions) * depth
		}
	}
	for _, alts := range o.ors {
		sum := 0
		for _, a := range alts {
			sum += a.combinations(depth)
		}
		total *= sum
	}
	return total
}

// The conditions.

type exact struct{ want value }

func (c exact) match(v value) bool {
	if c.want.kind != v.kind {
		return false
	}
	if v.kind == kindNumber {
		return c.want.number == v.number
	}
	return c.want.str == v.str
}

type affix struct {
	suffix bool
	text   string
}

func (c affix) match(v value) bool {
	if v.kind != kindString {
		return false
	}
	if c.suffix {
		return strings.HasSuffix(v.str, c.text)
	}
	return strings.HasPrefix(v.str, c.text)
}

type ignoreCase string

func (c ignoreCase) match(v value) bool {
	return v.kind == kindString && strings.EqualFold(v.str, string(c))
}

// exists is matched by matchField: it is about the key, not a value.
type exists bool

func (exists) match(value) bool { return false }

type bound struct {
	op string
	n  float64
}

type numeric []bound

func (c numeric) match(v value) bool {
	if v.kind != kindNumber {
		return false
	}
	for _, b := range c {
		ok := false
		switch b.op {
		case "=":
			ok = v.number == b.n
		case "<":
			ok = v.number < b.n
		case "<=":
			ok = v.number <= b.n
		case ">":
			ok = v.number > b.n
		case ">=":
			ok = v.number >= b.n
		}
		if !ok {
			return false
		}
	}
	return true
}

type anyOf []condition

func (c anyOf) match(v value) bool {
	return slices.ContainsFunc(c, func(x condition) bool { return x.match(v) })
}

type anythingBut struct{ not condition }

func (c anythingBut) match(v value) bool { return !c.not.match(v) }

type cidr struct{ prefix netip.Prefix }

func (c cidr) match(v value) bool {
	if v.kind != kindString {
		return false
	}
	addr, err := netip.ParseAddr(v.str)
	return err == nil && c.prefix.Contains(addr)
}

// Matching.

// lookup finds the values of a key: present is false when the key is
// absent (or, in the body, not a leaf).
type lookup func(key string) (values []value, nested lookup, present bool)

func (o *filterObject) matches(find lookup) bool {
	for key, f := range o.fields {
		values, nested, present := find(key)
		if f.object != nil {
			if nested == nil || !f.object.matches(nested) {
				return false
			}
			continue
		}
		if !matchField(f.conditions, values, present) {
			return false
		}
	}
	for _, alts := range o.ors {
		if !slices.ContainsFunc(alts, func(a *filterObject) bool { return a.matches(find) }) {
			return false
		}
	}
	return true
}

func matchField(conds []condition, values []value, present bool) bool {
	for _, c := range conds {
		if e, ok := c.(exists); ok {
			if bool(e) == present {
				return true
			}
			continue
		}
		if !present {
			continue
		}
		if _, ok := c.(anythingBut); ok {
			// Every value must differ, so an array holding an excluded
			// value does not match.
			if len(values) > 0 && !slices.ContainsFunc(values, func(v value) bool { return !c.match(v) }) {
				return true
			}
			continue
		}
		if slices.ContainsFunc(values, c.match) {
			return true
		}
	}
	return false
}

// attributeLookup finds keys among message attributes: a String matches
// as a string, a Number as a number, a String.Array by its elements; a
// Binary attribute only exists.
func attributeLookup(attrs map[string]Attribute) lookup {
	return func(key string) ([]value, lookup, bool) {
		a, ok := attrs[key]
		if !ok {
			return nil, nil, false
		}
		base, _, _ := strings.Cut(a.DataType, ".")
		switch {
		case strings.HasPrefix(a.DataType, "String.Array"):
			var raw []any
			if err := decodeJSON(a.StringValue, &raw); err != nil {
				return nil, nil, true
			}
			return jsonValues(raw), nil, true
		case base == "Number":
			n, err := strconv.ParseFloat(a.StringValue, 64)
			if err != nil {
				return nil, nil, true
			}
			return []value{{kind: kindNumber, number: n}}, nil, true
		case base == "String":
			return []value{{kind: kindString, str: a.StringValue}}, nil, true
		}
		return nil, nil, true
	}
}

// bodyLookup finds keys in a JSON object body; arrays match by any
// element, and arrays of objects by any object.
func bodyLookup(obj map[string]any) lookup {
	return func(key string) ([]value, lookup, bool) {
		v, ok := obj[key]
		if !ok {
			// SNS also reads a dotted key as a path: "a.b" finds {"a":{"b":…}}.
			if parent, rest, dotted := strings.Cut(key, "."); dotted {
				if nested, isObject := obj[parent].(map[string]any); isObject {
					return bodyLookup(nested)(rest)
				}
			}
			return nil, nil, false
		}
		switch v := v.(type) {
		case map[string]any:
			return nil, bodyLookup(v), false
		case []any:
			var objects []map[string]any
			for _, e := range v {
				if m, ok := e.(map[string]any); ok {
					objects = append(objects, m)
				}
			}
			if len(objects) > 0 {
				return nil, anyObjectLookup(objects), false
			}
			return jsonValues(v), nil, true
		}
		return jsonValues([]any{v}), nil, true
	}
}

// anyObjectLookup looks a key up in each of several objects, merging what
// it finds.
func anyObjectLookup(objects []map[string]any) lookup {
	return func(key string) ([]value, lookup, bool) {
		var all []value
		var nested []map[string]any
		present := false
		for _, o := range objects {
			switch v := o[key].(type) {
			case map[string]any:
				nested = append(nested, v)
				continue
			}
			values, _, ok := bodyLookup(o)(key)
			all, present = append(all, values...), present || ok
		}
		if len(nested) > 0 {
			return all, anyObjectLookup(nested), present
		}
		return all, nil, present
	}
}

func jsonValues(raw []any) []value {
	var out []value
	for _, e := range raw {
		switch e := e.(type) {
		case string:
			out = append(out, value{kind: kindString, str: e})
		case json.Number:
			if f, err := e.Float64(); err == nil {
				out = append(out, value{kind: kindNumber, number: f})
			}
		case bool:
			out = append(out, value{kind: kindBool, str: strconv.FormatBool(e)})
		case nil:
			out = append(out, value{kind: kindNull})
		}
	}
	return out
}

func decodeJSON(s string, v any) error {
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("sns: %w", err)
	}
	return nil
}

// filterAccepts reports whether a subscription's filter policy lets a
// message through. A body-scoped policy needs a JSON object body.
func filterAccepts(sub *subscription, body string, attrs map[string]Attribute) bool {
	doc := sub.Attributes[attrFilterPolicy]
	if doc == "" {
		return true
	}
	scopeBody := sub.Attributes[attrFilterPolicyScope] == scopeBody
	p, err := parseFilterPolicy(doc, scopeBody)
	if err != nil {
		return false
	}
	if !scopeBody {
		return p.matches(attributeLookup(attrs))
	}
	var obj map[string]any
	if err := decodeJSON(body, &obj); err != nil {
		return false
	}
	return p.matches(bodyLookup(obj))
}
