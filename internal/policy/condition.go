package policy

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// setQualifier is a condition operator's ForAnyValue:/ForAllValues: prefix,
// which says how a key with several values in the request is compared.
type setQualifier int

const (
	singleValue setQualifier = iota
	forAnyValue
	forAllValues
)

// operator is a condition operator taken apart: "ForAllValues:StringLikeIfExists"
// is StringLike, qualified by ForAllValues, with IfExists.
type operator struct {
	base     string // StringLike
	set      setQualifier
	ifExists bool
	negated  bool                        // StringNotLike, NotIpAddress...: true when the key is absent
	compare  func(got, want string) bool // nil for an unknown operator and for Null
}

// comparison returns how an operator compares one request value with one
// policy value, and whether it is negated. A negated operator compares as
// its positive twin; the negation applies to the result over all values.
// Unknown operators get nil.
func comparison(base string) (compare func(got, want string) bool, negated bool) {
	switch base {
	case "StringEquals", "BinaryEquals":
		return stringEquals, false
	case "StringNotEquals":
		return stringEquals, true
	case "StringEqualsIgnoreCase", "Bool":
		return strings.EqualFold, false
	case "StringNotEqualsIgnoreCase":
		return strings.EqualFold, true
	case "StringLike":
		return stringLike, false
	case "StringNotLike":
		return stringLike, true
	case "ArnEquals", "ArnLike": // ArnEquals takes wildcards too, as AWS documents
		return arnLike, false
	case "ArnNotEquals", "ArnNotLike":
		return arnLike, true
	case "IpAddress":
		return ipInRange, false
	case "NotIpAddress":
		return ipInRange, true
	}
	for _, family := range []struct {
		prefix string
		parse  func(string) (float64, bool)
	}{{"Numeric", parseNumber}, {"Date", parseDate}} {
		rel, ok := strings.CutPrefix(base, family.prefix)
		if !ok {
			continue
		}
		var holds func(cmp int) bool
		switch rel {
		case "Equals", "NotEquals":
			holds = func(c int) bool { return c == 0 }
		case "LessThan":
			holds = func(c int) bool { return c < 0 }
		case "LessThanEquals":
			holds = func(c int) bool { return c <= 0 }
		case "GreaterThan":
			holds = func(c int) bool { return c > 0 }
		case "GreaterThanEquals":
			holds = func(c int) bool { return c >= 0 }
		default:
			return nil, false
		}
		return ordered(family.parse, holds), rel == "NotEquals"
	}
	return nil, false
}

// parseOperator takes an operator apart; an unknown base leaves compare
// nil, which no request satisfies.
func parseOperator(op string) operator {
	var o operator
	if q, rest, ok := strings.Cut(op, ":"); ok {
		switch q {
		case "ForAnyValue":
			o.set = forAnyValue
		case "ForAllValues":
			o.set = forAllValues
		default:
			return operator{base: op}
		}
		op = rest
	}
	o.base, o.ifExists = strings.CutSuffix(op, "IfExists")
	if o.base == "Null" && o.ifExists {
		return operator{base: op} // NullIfExists means nothing
	}
	o.compare, o.negated = comparison(o.base)
	return o
}

// known reports whether the operator is one AWS defines.
func (o operator) known() bool {
	return o.compare != nil || (o.base == "Null" && o.set == singleValue)
}

// holds evaluates one condition against the request: AWS's rules for
// absent keys (false, except that negated operators, ...IfExists and
// ForAllValues hold), for Null, and for keys with several values.
func (c *Condition) holds(r *evaluation) bool {
	got, present := r.lookup(c.key)
	if c.op.base == "Null" {
		// "true": the key must be absent; "false": present.
		for _, want := range c.Values {
			if strings.EqualFold(want, "true") == !present {
				return true
			}
		}
		return false
	}
	if c.op.compare == nil {
		return false
	}
	if !present || len(got) == 0 {
		switch {
		case c.op.ifExists, c.op.set == forAllValues:
			return true
		case c.op.set == forAnyValue:
			return false
		}
		return c.op.negated
	}
	wants := c.Values
	if r.variables {
		wants = r.expandAll(c.Values)
	}
	// matches: does one request value equal (like, ...) any policy value?
	matches := func(g string) bool {
		for _, w := range wants {
			if c.op.compare(g, w) {
				return true
			}
		}
		return false
	}
	// For a negated operator a request value passes when it matches none.
	passes := func(g string) bool { return matches(g) != c.op.negated }
	switch c.op.set {
	case forAllValues:
		for _, g := range got {
			if !passes(g) {
				return false
			}
		}
		return true
	case forAnyValue:
		for _, g := range got {
			if passes(g) {
				return true
			}
		}
		return false
	}
	// An unqualified operator on a key with several values: the positive
	// operator holds when any value matches; the negated one when none does.
	for _, g := range got {
		if matches(g) {
			return !c.op.negated
		}
	}
	return c.op.negated
}

func stringEquals(got, want string) bool { return got == want }
func stringLike(got, want string) bool   { return Match(want, got) }
func arnLike(got, want string) bool      { return matchARN(want, got) }

// ordered compares numbers or dates: parse reads both sides, holds judges
// the sign of got - want.
func ordered(parse func(string) (float64, bool), holds func(cmp int) bool) func(got, want string) bool {
	return func(got, want string) bool {
		g, ok1 := parse(got)
		w, ok2 := parse(want)
		if !ok1 || !ok2 {
			return false
		}
		switch {
		case g < w:
			return holds(-1)
		case g > w:
			return holds(1)
		}
		return holds(0)
	}
}

func parseNumber(s string) (float64, bool) {
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// Date conditions take ISO 8601 dates, or seconds since the epoch
// (aws:EpochTime).
// parseDate reads a date as seconds since the epoch, with their fraction.
func parseDate(s string) (float64, bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return float64(n), true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04Z07:00", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return float64(t.UnixNano()) / 1e9, true
		}
	}
	return 0, false
}

// ipInRange reports whether ip is in cidr (a CIDR block or one address).
func ipInRange(ip, cidr string) bool {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	if !strings.Contains(cidr, "/") {
		other, err := netip.ParseAddr(cidr)
		return err == nil && other.Unmap() == addr
	}
	pfx, err := netip.ParsePrefix(cidr)
	return err == nil && pfx.Masked().Contains(addr)
}
