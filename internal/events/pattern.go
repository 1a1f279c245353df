package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// maxCombinations is how many match branches $or may expand a pattern
// into before EventBridge refuses it.
const maxCombinations = 1000

// pattern is a compiled event pattern: the event matches when any branch
// does ($or expands a pattern into several branches).
type pattern struct {
	branches []branch
}

// branch is one conjunction of field conditions.
type branch []condition

// condition is what one field (a dotted path, as Ruler names fields) must
// hold: any of its matchers, or its existence or absence.
type condition struct {
	path string
	// pid numbers path within a ruleSet.
	pid      int
	matchers []valueMatcher
	// exists and absent come from {"exists": true|false} in the list.
	exists, absent bool
}

// valueKind is a JSON leaf's type.
type valueKind uint8

const (
	kindString valueKind = iota
	kindNumber
	kindBool
	kindNull
)

// leaf is one leaf value of an event; arrays give a path several.
type leaf struct {
	kind valueKind
	text string // the string itself, or the JSON text of a number, bool or null
	num  float64
}

type matchOp uint8

const (
	opExact      matchOp = iota // text and kind equal (numbers: numerically)
	opPrefix                    // string prefix
	opSuffix                    // string suffix
	opEqualsFold                // string equal ignoring case
	opWildcard                  // string against * globs
	opNumeric                   // number in a range
	opCIDR                      // string IP address in a prefix
	opNot                       // anything-but: none of the inner matchers
)

// valueMatcher matches one leaf value.
type valueMatcher struct {
	op   matchOp
	kind valueKind // opExact
	text string    // opExact, opPrefix, opSuffix, opEqualsFold (folded when fold)
	num  float64   // opExact on numbers
	fold bool      // opPrefix, opSuffix: ignore case
	// opWildcard: the literal runs between stars; a pattern "a*b" is
	// ["a", "b"].
	parts []string
	// opNumeric
	lo, hi         float64
	loOpen, hiOpen bool
	prefix         netip.Prefix // opCIDR
	// opNot: the values excluded; the leaf matches when none of them
	// matches, and (for lists of numbers) only numbers are considered.
	not      []valueMatcher
	notKinds valueKind
}

func (m *valueMatcher) match(v *leaf) bool {
	switch m.op {
	case opExact:
		if m.kind == kindNumber {
			return v.kind == kindNumber && v.num == m.num
		}
		return v.kind == m.kind && v.text == m.text
	case opPrefix:
		if v.kind != kindString {
			return false
		}
		if m.fold {
			return len(v.text) >= len(m.text) && strings.EqualFold(v.text[:len(m.text)], m.text)
		}
		return strings.HasPrefix(v.text, m.text)
	case opSuffix:
		if v.kind != kindString {
			return false
		}
		if m.fold {
			return len(v.text) >= len(m.text) && strings.EqualFold(v.text[len(v.text)-len(m.text):], m.text)
		}
		return strings.HasSuffix(v.text, m.text)
	case opEqualsFold:
		return v.kind == kindString && strings.EqualFold(v.text, m.text)
	case opWildcard:
		return v.kind == kindString && wildcardMatch(m.parts, v.text)
	case opNumeric:
		if v.kind != kindNumber {
			return false
		}
		if v.num < m.lo || (m.loOpen && v.num == m.lo) {
			return false
		}
		return v.num < m.hi || (!m.hiOpen && v.num == m.hi)
	case opCIDR:
		if v.kind != kindString {
			return false
		}
		addr, err := netip.ParseAddr(v.text)
		return err == nil && m.prefix.Contains(addr)
	case opNot:
		if m.notKinds == kindNumber && v.kind != kindNumber {
			return true
		}
		for i := range m.not {
			if m.not[i].match(v) {
				return false
			}
		}
		return true
	}
	return false
}

// wildcardMatch matches s against the literal runs of a wildcard pattern
// split at its stars: the first run anchors the start, the last the end.
func wildcardMatch(parts []string, s string) bool {
	if len(parts) == 1 {
		return s == parts[0]
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return len(s) >= len(last) && strings.HasSuffix(s, last)
}

// match reports whether the flattened event ev matches.
func (p *pattern) match(ev flatEvent) bool {
	for _, b := range p.branches {
		if b.match(ev) {
			return true
		}
	}
	return false
}

func (b branch) match(ev flatEvent) bool {
	for i := range b {
		if !b[i].match(ev) {
			return false
		}
	}
	return true
}

func (c *condition) match(ev flatEvent) bool {
	vals, present := ev[c.path]
	return c.matchValues(vals, present)
}

// matchValues reports whether the field's values (present says whether
// the event has the field) satisfy the condition.
func (c *condition) matchValues(vals []leaf, present bool) bool {
	if !present {
		return c.absent
	}
	if c.exists {
		return true
	}
	for i := range vals {
		for j := range c.matchers {
			if c.matchers[j].match(&vals[i]) {
				return true
			}
		}
	}
	return false
}

// flatEvent is an event as its leaves: every dotted path to a leaf value,
// with the values of arrays (of values or objects) gathered under one
// path. A path to an object or an empty array has no entry.
type flatEvent map[string][]leaf

// flatten decodes a JSON event into its leaves.
func flatten(event []byte) (flatEvent, error) {
	dec := json.NewDecoder(bytes.NewReader(event))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, errors.New("the event is not a JSON object")
	}
	ev := flatEvent{}
	ev.add("", v)
	return ev, nil
}

func (ev flatEvent) add(path string, v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, c := range v {
			if path != "" {
				k = path + "." + k
			}
			ev.add(k, c)
		}
	case []any:
		for _, c := range v {
			ev.add(path, c)
		}
	case string:
		ev[path] = append(ev[path], leaf{kind: kindString, text: v})
	case json.Number:
		f, _ := strconv.ParseFloat(string(v), 64)
		ev[path] = append(ev[path], leaf{kind: kindNumber, text: string(v), num: f})
	case bool:
		ev[path] = append(ev[path], leaf{kind: kindBool, text: strconv.FormatBool(v)})
	case nil:
		ev[path] = append(ev[path], leaf{kind: kindNull, text: "null"})
	}
}

// patternError is an invalid pattern, with the reason Ruler's compiler
// gives and where it stopped reading.
type patternError struct {
	reason string
	offset int64
}

func (e *patternError) Error() string { return e.reason }

// compileError formats err as EventBridge's InvalidEventPatternException
// message for the pattern src.
func compileErrorMessage(src string, err error) string {
	var pe *patternError
	var offset int64
	reason := err.Error()
	if errors.As(err, &pe) {
		offset = pe.offset
	}
	line, col := 1, 1
	for _, r := range src[:min(int(offset), len(src))] {
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	// Jackson quotes the source as it is, cut at 500 characters.
	shown := `"` + src + `"`
	if n := len(src) - 500; n > 0 {
		shown = fmt.Sprintf(`"%s"[truncated %d chars]`, src[:500], n)
	}
	return fmt.Sprintf("Event pattern is not valid. Reason: %s\n at [Source: (String)%s; line: %d, column: %d]",
		reason, shown, line, col)
}

// compiler reads a pattern token by token, as Ruler's JSON compiler does,
// so that its errors are Ruler's.
type compiler struct {
	dec *json.Decoder
}

func (c *compiler) fail(format string, args ...any) error {
	return &patternError{reason: fmt.Sprintf(format, args...), offset: c.dec.InputOffset()}
}

func (c *compiler) token() (json.Token, error) {
	t, err := c.dec.Token()
	if err == io.EOF {
		return nil, c.fail("Unexpected end-of-input")
	}
	if err != nil {
		return nil, &patternError{reason: err.Error(), offset: c.dec.InputOffset()}
	}
	return t, nil
}

// compilePattern compiles an event pattern.
func compilePattern(src string) (*pattern, error) {
	c := &compiler{dec: json.NewDecoder(strings.NewReader(src))}
	c.dec.UseNumber()
	t, err := c.token()
	if err != nil {
		return nil, err
	}
	if t != json.Delim('{') {
		return nil, c.fail("Filter is not an object")
	}
	branches := []branch{nil}
	if branches, err = c.object(branches, "", false); err != nil {
		return nil, err
	}
	if _, err := c.dec.Token(); err != io.EOF {
		return nil, c.fail("Unexpected trailing content")
	}
	return &pattern{branches: branches}, nil
}

// object compiles the members of an object whose '{' has been read into
// every branch, returning the branches ($or multiplies them).
func (c *compiler) object(branches []branch, path string, inOr bool) ([]branch, error) {
	fields, err := c.items('}', func(t json.Token) (err error) {
		name, _ := t.(string)
		if name == "$or" {
			branches, err = c.or(branches, path)
			return err
		}
		if inOr && isMatchKeyword(name) {
			return c.fail("%s is Ruler reserved fieldName which cannot be used inside $or.", name)
		}
		full := name
		if path != "" {
			full = path + "." + name
		}
		if t, err = c.token(); err != nil {
			return err
		}
		switch t {
		case json.Delim('{'):
			branches, err = c.object(branches, full, inOr)
			return err
		case json.Delim('['):
			cond, err := c.values(full)
			for i := range branches {
				branches[i] = withCondition(branches[i], cond)
			}
			return err
		}
		return c.fail("%q must be an object or an array", name)
	})
	if err != nil {
		return nil, err
	}
	if fields == 0 {
		return nil, c.fail("Empty objects are not allowed")
	}
	return branches, nil
}

// items reads the tokens of an object or array whose opening delimiter
// has been read, up to its closing one, end, handing each to fn (which
// reads the rest of the member or element); it returns how many there
// were.
func (c *compiler) items(end json.Delim, fn func(t json.Token) error) (int, error) {
	for n := 0; ; n++ {
		t, err := c.token()
		if err != nil {
			return n, err
		}
		if t == end {
			return n, nil
		}
		if err := fn(t); err != nil {
			return n, err
		}
	}
}

// withCondition returns b with cond, replacing an earlier condition on the
// same path (with duplicate keys the last wins), without touching the
// branches b shares its array with.
func withCondition(b branch, cond condition) branch {
	out := make(branch, 0, len(b)+1)
	for _, c := range b {
		if c.path != cond.path {
			out = append(out, c)
		}
	}
	return append(out, cond)
}

func isMatchKeyword(name string) bool {
	switch name {
	case "anything-but", "numeric", "prefix", "suffix", "exists", "cidr", "equals-ignore-case", "wildcard":
		return true
	}
	return false
}

// or compiles "$or": [ {...}, {...} ], each object forking the branches.
func (c *compiler) or(branches []branch, path string) ([]branch, error) {
	t, err := c.token()
	if err != nil {
		return nil, err
	}
	if t != json.Delim('[') {
		return nil, c.fail("It must be an Array followed with $or.")
	}
	var out []branch
	n, err := c.items(']', func(t json.Token) error {
		if t != json.Delim('{') {
			return c.fail("Only JSON object is allowed in array of $or relationship.")
		}
		forked, err := c.object(slices.Clone(branches), path, true)
		out = append(out, forked...)
		if err == nil && len(out) > maxCombinations {
			return c.fail("Too many combinations in $or: more than %d", maxCombinations)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if n < 2 {
		return nil, c.fail("There must have at least 2 Objects in $or relationship.")
	}
	return out, nil
}

// values compiles a field's array of values and match expressions, whose
// '[' has been read.
func (c *compiler) values(path string) (condition, error) {
	cond := condition{path: path}
	n, err := c.items(']', func(t json.Token) error {
		if t == json.Delim('{') {
			return c.expression(&cond)
		}
		m, ok := literal(t)
		if !ok {
			return c.fail("Match value must be String, number, true, false, or null")
		}
		cond.matchers = append(cond.matchers, m)
		return nil
	})
	if err != nil {
		return cond, err
	}
	if n == 0 {
		return cond, c.fail("Empty arrays are not allowed")
	}
	return cond, nil
}

// literal is the exact matcher of a JSON scalar token. A string that is
// an IP address also matches it written otherwise (Ruler's ranges).
func literal(t json.Token) (valueMatcher, bool) {
	switch t := t.(type) {
	case string:
		return valueMatcher{op: opExact, kind: kindString, text: t}, true
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil {
			return valueMatcher{op: opExact, kind: kindString, text: string(t)}, true
		}
		return valueMatcher{op: opExact, kind: kindNumber, text: string(t), num: f}, true
	case bool:
		return valueMatcher{op: opExact, kind: kindBool, text: strconv.FormatBool(t)}, true
	case nil:
		return valueMatcher{op: opExact, kind: kindNull, text: "null"}, true
	}
	return valueMatcher{}, false
}

// expression compiles one match expression, whose '{' has been read, into
// cond.
func (c *compiler) expression(cond *condition) error {
	t, err := c.token()
	if err != nil {
		return err
	}
	name, ok := t.(string)
	if !ok {
		return c.fail("Match expression name not found")
	}
	var m valueMatcher
	switch name {
	case "exists":
		t, err := c.token()
		if err != nil {
			return err
		}
		b, ok := t.(bool)
		if !ok {
			return c.fail("exists match pattern must be either true or false.")
		}
		if b {
			cond.exists = true
		} else {
			cond.absent = true
		}
		return c.end()
	case "prefix", "suffix":
		m, err = c.affix(name)
	case "equals-ignore-case":
		var s string
		if s, err = c.str(name); err == nil {
			m = valueMatcher{op: opEqualsFold, text: s}
		}
	case "wildcard":
		var s string
		if s, err = c.str(name); err == nil {
			m, err = c.wildcard(s)
		}
	case "cidr":
		var s string
		if s, err = c.str("prefix"); err == nil {
			p, perr := netip.ParsePrefix(s)
			if perr != nil {
				return c.fail("Malformed CIDR, one '/' required")
			}
			m = valueMatcher{op: opCIDR, prefix: p.Masked()}
		}
	case "numeric":
		m, err = c.numeric()
	case "anything-but":
		m, err = c.anythingBut()
	default:
		return c.fail("Unrecognized match type %s", name)
	}
	if err != nil {
		return err
	}
	cond.matchers = append(cond.matchers, m)
	return c.end()
}

// end reads the '}' closing a match expression.
func (c *compiler) end() error { return c.expect('}', "Only one key allowed in match expression") }

// expect reads the closing delimiter d, failing with reason when
// something else comes.
func (c *compiler) expect(d json.Delim, reason string) error {
	t, err := c.token()
	if err != nil {
		return err
	}
	if t != d {
		return c.fail("%s", reason)
	}
	return nil
}

func (c *compiler) str(op string) (string, error) {
	t, err := c.token()
	if err != nil {
		return "", err
	}
	s, ok := t.(string)
	if !ok {
		return "", c.fail("%s match pattern must be a string", op)
	}
	return s, nil
}

// affix compiles the value of prefix or suffix: a string or
// {"equals-ignore-case": string}.
func (c *compiler) affix(op string) (valueMatcher, error) {
	m := valueMatcher{op: opPrefix}
	if op == "suffix" {
		m.op = opSuffix
	}
	t, inner, err := c.operand()
	if err != nil {
		return m, err
	}
	if inner != nil {
		if *inner != "equals-ignore-case" {
			return m, c.fail("Unsupported %s pattern: %s", op, *inner)
		}
		if m.text, err = c.str(op); err != nil {
			return m, err
		}
		m.fold = true
		return m, c.end()
	}
	s, ok := t.(string)
	if !ok {
		return m, c.fail("%s match pattern must be a string", op)
	}
	m.text = s
	return m, nil
}

// operand reads the value of a match expression: a token, or, for an
// object, the name of its one member (whose value is next to read).
func (c *compiler) operand() (json.Token, *string, error) {
	t, err := c.token()
	if err != nil || t != json.Delim('{') {
		return t, nil, err
	}
	if t, err = c.token(); err != nil {
		return nil, nil, err
	}
	name, _ := t.(string)
	return t, &name, nil
}

// wildcard compiles a wildcard pattern: '*' matches any run, "\*" and
// "\\" are a literal star and backslash, "**" and other escapes are
// invalid.
func (c *compiler) wildcard(s string) (valueMatcher, error) {
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*':
			if i+1 < len(s) && s[i+1] == '*' {
				return valueMatcher{}, c.fail("Consecutive wildcard characters at pos %d", i+1)
			}
			parts = append(parts, cur.String())
			cur.Reset()
		case '\\':
			if i+1 >= len(s) || (s[i+1] != '*' && s[i+1] != '\\') {
				return valueMatcher{}, c.fail("Invalid escape character at pos %d", i+1)
			}
			i++
			cur.WriteByte(s[i])
		default:
			cur.WriteByte(s[i])
		}
	}
	parts = append(parts, cur.String())
	return valueMatcher{op: opWildcard, parts: parts}, nil
}

// numeric compiles "numeric": [op, n (, op, n)].
func (c *compiler) numeric() (valueMatcher, error) {
	m := valueMatcher{op: opNumeric, lo: math.Inf(-1), hi: math.Inf(1)}
	t, err := c.token()
	if err != nil {
		return m, err
	}
	if t != json.Delim('[') {
		return m, c.fail("Value of numeric must be an array.")
	}
	bound := func() (string, float64, bool, error) {
		t, err := c.token()
		if err != nil {
			return "", 0, false, err
		}
		if t == json.Delim(']') {
			return "", 0, true, nil
		}
		op, ok := t.(string)
		if !ok {
			return "", 0, false, c.fail("Invalid member in numeric match: %v", t)
		}
		t, err = c.token()
		if err != nil {
			return "", 0, false, err
		}
		n, ok := t.(json.Number)
		if !ok {
			return "", 0, false, c.fail("Value of %s must be numeric", op)
		}
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil || f < -5e9 || f > 5e9 {
			return "", 0, false, c.fail("Value of %s must be between -5.0E9 and 5.0E9 inclusive", op)
		}
		return op, f, false, nil
	}
	op, f, done, err := bound()
	if err != nil {
		return m, err
	}
	if done {
		return m, c.fail("Invalid member in numeric match: ]")
	}
	switch op {
	case "=":
		m.lo, m.hi = f, f
		return m, c.closeNumeric()
	case "<", "<=":
		m.hi, m.hiOpen = f, op == "<"
		return m, c.closeNumeric()
	case ">", ">=":
		m.lo, m.loOpen = f, op == ">"
	default:
		return m, c.fail("Unrecognized numeric range operator: %s", op)
	}
	op, f, done, err = bound()
	if err != nil || done {
		return m, err
	}
	if op != "<" && op != "<=" {
		return m, c.fail("Bad numeric range operator: %s", op)
	}
	if f < m.lo {
		return m, c.fail("Bottom must be less than top")
	}
	m.hi, m.hiOpen = f, op == "<"
	return m, c.expect(']', "Too many terms in numeric range expression")
}

func (c *compiler) closeNumeric() error {
	return c.expect(']', "Too many elements in numeric expression")
}

// anythingBut compiles the value of anything-but: a string, a number, a
// list of all strings or all numbers, or {prefix|suffix|equals-ignore-case|
// wildcard: value or list}.
func (c *compiler) anythingBut() (valueMatcher, error) {
	m := valueMatcher{op: opNot, notKinds: kindString}
	t, nested, err := c.operand()
	if err != nil {
		return m, err
	}
	if nested != nil {
		op := *nested
		var inner func(s string) (valueMatcher, error)
		switch op {
		case "prefix":
			inner = func(s string) (valueMatcher, error) { return valueMatcher{op: opPrefix, text: s}, nil }
		case "suffix":
			inner = func(s string) (valueMatcher, error) { return valueMatcher{op: opSuffix, text: s}, nil }
		case "equals-ignore-case":
			inner = func(s string) (valueMatcher, error) { return valueMatcher{op: opEqualsFold, text: s}, nil }
		case "wildcard":
			inner = c.wildcard
		default:
			return m, c.fail("Unsupported anything-but pattern: %s", op)
		}
		if m.not, err = c.stringsOf(op, inner); err != nil {
			return m, err
		}
		return m, c.end()
	}
	switch t := t.(type) {
	case json.Delim:
		if t != '[' {
			return m, c.fail("Value of anything-but must be an array or single string/number value.")
		}
		var strs, nums int
		_, err := c.items(']', func(t json.Token) error {
			switch t.(type) {
			case string:
				strs++
			case json.Number:
				nums++
			default:
				return c.fail("Inside anything but list, start|null|boolean is not supported.")
			}
			v, _ := literal(t)
			m.not = append(m.not, v)
			return nil
		})
		if err != nil {
			return m, err
		}
		if (strs > 0) == (nums > 0) {
			return m, c.fail("Inside anything but list, either all values are number or string, mixed type is not supported")
		}
		if nums > 0 {
			m.notKinds = kindNumber
		}
	case string, json.Number:
		v, _ := literal(t)
		m.not = []valueMatcher{v}
		if v.kind == kindNumber {
			m.notKinds = kindNumber
		}
	default:
		return m, c.fail("Value of anything-but must be an array or single string/number value.")
	}
	return m, nil
}

// stringsOf reads a string or a list of strings, each compiled by inner.
func (c *compiler) stringsOf(op string, inner func(string) (valueMatcher, error)) ([]valueMatcher, error) {
	t, err := c.token()
	if err != nil {
		return nil, err
	}
	one := func(t json.Token) (valueMatcher, error) {
		s, ok := t.(string)
		if !ok {
			return valueMatcher{}, c.fail("Inside anything-but/%s list, number|start|null|boolean is not supported.", op)
		}
		if s == "" && (op == "prefix" || op == "suffix") {
			return valueMatcher{}, c.fail("Null prefix/suffix not allowed")
		}
		return inner(s)
	}
	if t != json.Delim('[') {
		m, err := one(t)
		return []valueMatcher{m}, err
	}
	var out []valueMatcher
	_, err = c.items(']', func(t json.Token) error {
		m, err := one(t)
		out = append(out, m)
		return err
	})
	return out, err
}
