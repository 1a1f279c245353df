package logs

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// pattern is a compiled filter pattern (FilterLogEvents' filterPattern).
// Three syntaxes, told apart by their first character as AWS does:
//
//   - terms: `ERROR`, `ERROR Exception` (all must occur), `"exact phrase"`,
//     `-excluded`, `?either ?or`, and `%regular expression%`; matching is
//     case-sensitive and by substring;
//   - JSON: `{ $.level = "ERROR" && $.latency > 100 }`, with =, !=, <, <=,
//     >, >=, `*` wildcards in strings, IS NULL, IS TRUE, IS FALSE,
//     NOT EXISTS, parentheses, && and ||;
//   - space-delimited: `[ip, user, ..., status = 404, size > 1000]`.
type pattern interface {
	match(message string) bool
}

// fieldLookup returns a matched event's field by the name a metric filter
// gives it: "$.a.b" in a JSON event, "$name" in a space-delimited one.
type fieldLookup func(ref string) (string, bool)

// fieldPattern is a pattern whose matches have fields (JSON and
// space-delimited ones): metric filters take their values and dimensions
// from them.
type fieldPattern interface {
	pattern
	matchFields(message string) (fieldLookup, bool)
	// fieldNames are the fields the pattern names, "$.a" or "$a".
	fieldNames() []string
}

var (
	_ fieldPattern = jsonPattern{}
	_ fieldPattern = spacePattern(nil)
)

// matchAll is the empty pattern.
type matchAll struct{}

func (matchAll) match(string) bool { return true }

// patternError is what a pattern that does not parse gets, in AWS's words.
func patternError(format string, args ...any) error {
	return invalidParameter("Invalid filter pattern: %s", fmt.Sprintf(format, args...))
}

func compilePattern(src string) (pattern, error) {
	s := strings.TrimSpace(src)
	switch {
	case s == "":
		return matchAll{}, nil
	case s[0] == '{':
		// AWS's own sentence for an unclosed pattern (jorgebastida/awslogs#210).
		if !strings.HasSuffix(s, "}") {
			return nil, invalidParameter("If a filter pattern starts with '{' it must end with '}'")
		}
		return compileJSONPattern(s[1 : len(s)-1])
	case s[0] == '[':
		if !strings.HasSuffix(s, "]") {
			return nil, invalidParameter("If a filter pattern starts with '[' it must end with ']'")
		}
		return compileSpacePattern(s[1 : len(s)-1])
	}
	return compileTerms(s)
}

// Term patterns.

type term struct {
	text string
	re   *regexp.Regexp
}

func (t term) in(msg string) bool {
	if t.re != nil {
		return t.re.MatchString(msg)
	}
	return strings.Contains(msg, t.text)
}

type termPattern struct {
	all, none, any []term
}

func (p *termPattern) match(msg string) bool {
	for _, t := range p.all {
		if !t.in(msg) {
			return false
		}
	}
	for _, t := range p.none {
		if t.in(msg) {
			return false
		}
	}
	if len(p.any) == 0 {
		return true
	}
	for _, t := range p.any {
		if t.in(msg) {
			return true
		}
	}
	return false
}

func compileTerms(s string) (pattern, error) {
	p := &termPattern{}
	for i := 0; i < len(s); {
		if s[i] == ' ' || s[i] == '\t' {
			i++
			continue
		}
		kind := byte(0)
		if (s[i] == '-' || s[i] == '?') && i+1 < len(s) && s[i+1] != ' ' {
			kind = s[i]
			i++
		}
		var t term
		switch {
		case s[i] == '"':
			text, n, err := readQuoted(s[i:])
			if err != nil {
				return nil, err
			}
			t.text, i = text, i+n
		default:
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '\t' {
				j++
			}
			word := s[i:j]
			i = j
			if len(word) >= 2 && word[0] == '%' && word[len(word)-1] == '%' {
				re, err := regexp.Compile(word[1 : len(word)-1])
				if err != nil {
					return nil, patternError("invalid regular expression %s", word)
				}
				t.re = re
			} else {
				t.text = word
			}
		}
		switch kind {
		case '-':
			p.none = append(p.none, t)
		case '?':
			p.any = append(p.any, t)
		default:
			p.all = append(p.all, t)
		}
	}
	return p, nil
}

// readQuoted reads a double-quoted string at the start of s, with
// backslash escapes, returning its text and the bytes consumed.
func readQuoted(s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case '"':
			return b.String(), i + 1, nil
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, patternError("unterminated quoted string %s", s)
}

// Values compared with = and friends, in JSON and space-delimited
// patterns: a number, or a string that may contain * wildcards.
type value struct {
	isNum bool
	num   float64
	str   string
}

func parseValue(text string, quoted bool) value {
	if !quoted {
		if f, err := strconv.ParseFloat(text, 64); err == nil {
			return value{isNum: true, num: f, str: text}
		}
	}
	return value{str: text}
}

// compare applies op to a field: a JSON value (json.Number for numbers),
// or a field of a space-delimited message.
func compare(op string, field any, v value) bool {
	if v.isNum {
		// A JSON string is not a number, even when it looks like one.
		n, ok := field.(json.Number)
		if !ok {
			return false
		}
		f, err := n.Float64()
		if err != nil {
			return false
		}
		switch op {
		case "=":
			return f == v.num
		case "!=":
			return f != v.num
		case "<":
			return f < v.num
		case "<=":
			return f <= v.num
		case ">":
			return f > v.num
		case ">=":
			return f >= v.num
		}
		return false
	}
	s, ok := field.(string)
	if !ok {
		// A lone wildcard is the idiom for "has a value": `{ $.latency = * }`.
		return v.str == "*" && field != nil && op == "="
	}
	switch op {
	case "=":
		return glob(v.str, s)
	case "!=":
		return !glob(v.str, s)
	}
	return false
}

// glob matches s against a pattern whose only metacharacter is *.
func glob(pat, s string) bool {
	parts := strings.Split(pat, "*")
	if len(parts) == 1 {
		return pat == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

// JSON patterns.

type jsonPattern struct {
	expr jsonExpr
	// selectors are the ones the pattern names, in order: what
	// TestMetricFilter reports as a match's extracted values.
	selectors []string
}

func (p jsonPattern) match(msg string) bool {
	_, ok := p.matchDoc(msg)
	return ok
}

// matchDoc is match, also returning the parsed event.
func (p jsonPattern) matchDoc(msg string) (any, bool) {
	doc, ok := parseJSONEvent(msg)
	return doc, ok && p.expr.eval(doc)
}

func (p jsonPattern) matchFields(msg string) (fieldLookup, bool) {
	doc, ok := p.matchDoc(msg)
	if !ok {
		return nil, false
	}
	return func(ref string) (string, bool) {
		sel, err := parseSelector(ref)
		if err != nil {
			return "", false
		}
		v, ok := sel.lookup(doc)
		if !ok {
			return "", false
		}
		return jsonText(v)
	}, true
}

func (p jsonPattern) fieldNames() []string { return p.selectors }

// parseJSONEvent parses an event that is a JSON object or array, with
// numbers as json.Number so that they keep their text.
func parseJSONEvent(msg string) (any, bool) {
	msg = strings.TrimSpace(msg)
	if msg == "" || (msg[0] != '{' && msg[0] != '[') {
		return nil, false
	}
	dec := json.NewDecoder(strings.NewReader(msg))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, false
	}
	return doc, true
}

// jsonText is a JSON value as a field's text: strings as they are, numbers
// as written, true and false; objects, arrays and null have none.
func jsonText(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		return string(v), true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}

type jsonExpr interface{ eval(doc any) bool }

type andExpr []jsonExpr

func (e andExpr) eval(doc any) bool {
	for _, x := range e {
		if !x.eval(doc) {
			return false
		}
	}
	return true
}

type orExpr []jsonExpr

func (e orExpr) eval(doc any) bool {
	for _, x := range e {
		if x.eval(doc) {
			return true
		}
	}
	return false
}

// selector is a parsed $.a.b[0] path: string keys and int indexes.
type selector []any

func (sel selector) lookup(doc any) (any, bool) {
	cur := doc
	for _, step := range sel {
		switch k := step.(type) {
		case string:
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, false
			}
			if cur, ok = m[k]; !ok {
				return nil, false
			}
		case int:
			a, ok := cur.([]any)
			if !ok || k >= len(a) {
				return nil, false
			}
			cur = a[k]
		}
	}
	return cur, true
}

type cmpExpr struct {
	sel selector
	op  string // =, !=, <, <=, >, >=, or IS NULL / IS TRUE / IS FALSE / NOT EXISTS
	val value
}

func (e cmpExpr) eval(doc any) bool {
	field, ok := e.sel.lookup(doc)
	switch e.op {
	case "NOT EXISTS":
		return !ok
	case "IS NULL":
		return ok && field == nil
	case "IS TRUE":
		return ok && field == true
	case "IS FALSE":
		return ok && field == false
	}
	return ok && compare(e.op, field, e.val)
}

func compileJSONPattern(s string) (pattern, error) {
	p := &jsonParser{toks: nil}
	if err := p.lex(s); err != nil {
		return nil, err
	}
	e, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, patternError("unexpected %q", p.toks[p.pos].text)
	}
	return jsonPattern{expr: e, selectors: p.selectors}, nil
}

type tokKind int

const (
	tokWord tokKind = iota // selector, bare value or keyword
	tokString
	tokOp
	tokAnd
	tokOr
	tokOpen
	tokClose
)

type jsonTok struct {
	kind tokKind
	text string
}

type jsonParser struct {
	toks      []jsonTok
	pos       int
	selectors []string
}

func (p *jsonParser) lex(s string) error {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case unicode.IsSpace(rune(c)):
			i++
		case c == '(':
			p.toks = append(p.toks, jsonTok{tokOpen, "("})
			i++
		case c == ')':
			p.toks = append(p.toks, jsonTok{tokClose, ")"})
			i++
		case strings.HasPrefix(s[i:], "&&"):
			p.toks = append(p.toks, jsonTok{tokAnd, "&&"})
			i += 2
		case strings.HasPrefix(s[i:], "||"):
			p.toks = append(p.toks, jsonTok{tokOr, "||"})
			i += 2
		case c == '=' || c == '!' || c == '<' || c == '>':
			j := i + 1
			if j < len(s) && s[j] == '=' {
				j++
			}
			op := s[i:j]
			if op == "==" {
				op = "="
			}
			if op == "!" {
				return patternError("unexpected '!'")
			}
			p.toks = append(p.toks, jsonTok{tokOp, op})
			i = j
		case c == '"':
			text, n, err := readQuoted(s[i:])
			if err != nil {
				return err
			}
			p.toks = append(p.toks, jsonTok{tokString, text})
			i += n
		default:
			j := i
			for j < len(s) && !unicode.IsSpace(rune(s[j])) && !strings.ContainsRune("()=!<>&|\"", rune(s[j])) {
				j++
			}
			p.toks = append(p.toks, jsonTok{tokWord, s[i:j]})
			i = j
		}
	}
	return nil
}

func (p *jsonParser) peek() (jsonTok, bool) {
	if p.pos < len(p.toks) {
		return p.toks[p.pos], true
	}
	return jsonTok{}, false
}

func (p *jsonParser) next() (jsonTok, bool) {
	t, ok := p.peek()
	if ok {
		p.pos++
	}
	return t, ok
}

func (p *jsonParser) parseOr() (jsonExpr, error) {
	return parseJoined[orExpr](p, tokOr, p.parseAnd)
}

func (p *jsonParser) parseAnd() (jsonExpr, error) {
	return parseJoined[andExpr](p, tokAnd, p.parsePrimary)
}

// parseJoined parses operands, each with operand, joined by the operator
// token op (&& binds tighter than ||, so parseOr's operands are parseAnd's).
// A lone operand stands for itself.
func parseJoined[E interface {
	~[]jsonExpr
	jsonExpr
}](p *jsonParser, op tokKind, operand func() (jsonExpr, error)) (jsonExpr, error) {
	var terms E
	for {
		e, err := operand()
		if err != nil {
			return nil, err
		}
		terms = append(terms, e)
		if t, ok := p.peek(); !ok || t.kind != op {
			break
		}
		p.pos++
	}
	if len(terms) == 1 {
		return terms[0], nil
	}
	return terms, nil
}

func (p *jsonParser) parsePrimary() (jsonExpr, error) {
	t, ok := p.next()
	if !ok {
		return nil, patternError("the JSON pattern ends early")
	}
	if t.kind == tokOpen {
		e, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if c, ok := p.next(); !ok || c.kind != tokClose {
			return nil, patternError("missing ')'")
		}
		return e, nil
	}
	if t.kind != tokWord || !strings.HasPrefix(t.text, "$") {
		return nil, patternError("expected a selector like $.field, got %q", t.text)
	}
	sel, err := parseSelector(t.text)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(p.selectors, t.text) {
		p.selectors = append(p.selectors, t.text)
	}
	op, ok := p.next()
	if !ok {
		return nil, patternError("missing operator after %s", t.text)
	}
	if op.kind == tokWord {
		kw, ok := p.next()
		if !ok {
			return nil, patternError("unexpected end after %s", op.text)
		}
		switch k := strings.ToUpper(op.text) + " " + strings.ToUpper(kw.text); k {
		case "IS NULL", "IS TRUE", "IS FALSE", "NOT EXISTS":
			return cmpExpr{sel: sel, op: k}, nil
		}
		return nil, patternError("unknown operator %s %s", op.text, kw.text)
	}
	if op.kind != tokOp {
		return nil, patternError("expected an operator after %s, got %q", t.text, op.text)
	}
	v, ok := p.next()
	if !ok || (v.kind != tokWord && v.kind != tokString) {
		return nil, patternError("missing value after %s %s", t.text, op.text)
	}
	val := parseValue(v.text, v.kind == tokString)
	if !val.isNum && op.text != "=" && op.text != "!=" {
		return nil, patternError("%s compares numbers, got %q", op.text, v.text)
	}
	return cmpExpr{sel: sel, op: op.text, val: val}, nil
}

var selectorStepRE = regexp.MustCompile(`^(?:\.([^.\[\]]+)|\[(\d+)\]|\['([^']*)'\])`)

func parseSelector(s string) (selector, error) {
	rest := s[1:]
	var sel selector
	for rest != "" {
		m := selectorStepRE.FindStringSubmatch(rest)
		if m == nil {
			return nil, patternError("invalid selector %s", s)
		}
		switch {
		case m[2] != "":
			n, _ := strconv.Atoi(m[2])
			sel = append(sel, n)
		case m[1] != "":
			sel = append(sel, m[1])
		default:
			sel = append(sel, m[3])
		}
		rest = rest[len(m[0]):]
	}
	if len(sel) == 0 {
		return nil, patternError("invalid selector %s", s)
	}
	return sel, nil
}

// Space-delimited patterns.

// spaceField is one position of a space-delimited pattern: a name, any
// conditions on it, or the ellipsis matching any number of fields.
type spaceField struct {
	ellipsis bool
	name     string      // the field's name, "" for the ellipsis
	conds    []spaceCond // alternatives (||) of conjunctions (&&)
}

type spaceCond []spaceCheck

type spaceCheck struct {
	op  string
	val value
}

type spacePattern []spaceField

func compileSpacePattern(s string) (pattern, error) {
	var p spacePattern
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		switch {
		case part == "":
			return nil, patternError("empty field in [%s]", s)
		case part == "...":
			p = append(p, spaceField{ellipsis: true})
			continue
		}
		f := spaceField{}
		for alt := range strings.SplitSeq(part, "||") {
			var c spaceCond
			for conj := range strings.SplitSeq(alt, "&&") {
				conj = strings.TrimSpace(conj)
				name, op, rest, ok := splitCondition(conj)
				if !ok {
					if !isFieldName(conj) {
						return nil, patternError("invalid field %q", conj)
					}
					f.name = cmp.Or(f.name, conj)
					continue // a bare name: no condition
				}
				if !isFieldName(name) {
					return nil, patternError("invalid field %q", name)
				}
				f.name = cmp.Or(f.name, name)
				quoted := strings.HasPrefix(rest, `"`)
				if quoted {
					text, n, err := readQuoted(rest)
					if err != nil || n != len(rest) {
						return nil, patternError("invalid value %s", rest)
					}
					rest = text
				}
				val := parseValue(rest, quoted)
				if !val.isNum && op != "=" && op != "!=" {
					return nil, patternError("%s compares numbers, got %q", op, rest)
				}
				c = append(c, spaceCheck{op, val})
			}
			if len(c) > 0 {
				f.conds = append(f.conds, c)
			}
		}
		p = append(p, f)
	}
	return p, nil
}

func isFieldName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' && r != '-' && r != '.' && r != '$' {
			return false
		}
	}
	return true
}

// splitCondition splits "name op value".
func splitCondition(s string) (name, op, val string, ok bool) {
	i := strings.IndexAny(s, "=!<>")
	if i < 0 {
		return "", "", "", false
	}
	j := i + 1
	if j < len(s) && s[j] == '=' {
		j++
	}
	op = s[i:j]
	if op == "!" {
		return "", "", "", false
	}
	if op == "==" {
		op = "="
	}
	return strings.TrimSpace(s[:i]), op, strings.TrimSpace(s[j:]), true
}

func (p spacePattern) match(msg string) bool {
	return p.bind(splitFields(msg), nil)
}

func (p spacePattern) matchFields(msg string) (fieldLookup, bool) {
	fields := splitFields(msg)
	at := make([]int, len(p))
	if !p.bind(fields, at) {
		return nil, false
	}
	return func(ref string) (string, bool) {
		name, ok := strings.CutPrefix(ref, "$")
		if !ok {
			return "", false
		}
		for i, f := range p {
			if !f.ellipsis && f.name == name {
				return fields[at[i]], true
			}
		}
		return "", false
	}, true
}

func (p spacePattern) fieldNames() []string {
	var names []string
	for _, f := range p {
		if !f.ellipsis {
			names = append(names, "$"+f.name)
		}
	}
	return names
}

// bind matches fields against the pattern from its first position; at,
// when not nil, receives the index of the field each position took (the
// ellipsis takes none).
func (p spacePattern) bind(fields []string, at []int) bool {
	return p.bindFrom(fields, 0, at)
}

func (p spacePattern) bindFrom(fields []string, next int, at []int) bool {
	if len(p) == 0 {
		return next == len(fields)
	}
	f := p[0]
	if f.ellipsis {
		for skip := next; skip <= len(fields); skip++ {
			if p[1:].bindFrom(fields, skip, tail(at)) {
				return true
			}
		}
		return false
	}
	if next == len(fields) || !f.accepts(fields[next]) {
		return false
	}
	if at != nil {
		at[0] = next
	}
	return p[1:].bindFrom(fields, next+1, tail(at))
}

func tail(at []int) []int {
	if at == nil {
		return nil
	}
	return at[1:]
}

func (f spaceField) accepts(text string) bool {
	if len(f.conds) == 0 {
		return true
	}
	var field any = text
	if _, err := strconv.ParseFloat(text, 64); err == nil {
		field = json.Number(text)
	}
	for _, alt := range f.conds {
		ok := true
		for _, c := range alt {
			v := field
			if !c.val.isNum {
				v = text // strings compare with the text, numeric or not
			}
			if !compare(c.op, v, c.val) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// splitFields splits a message on spaces; text in double quotes or square
// brackets is one field, without its delimiters.
func splitFields(msg string) []string {
	var fields []string
	b := []byte(msg)
	for i := 0; i < len(b); {
		switch b[i] {
		case ' ', '\t':
			i++
		case '"', '[':
			end := byte('"')
			if b[i] == '[' {
				end = ']'
			}
			j := bytes.IndexByte(b[i+1:], end)
			if j < 0 {
				fields = append(fields, string(b[i:]))
				return fields
			}
			fields = append(fields, string(b[i+1:i+1+j]))
			i += j + 2
		default:
			j := i
			for j < len(b) && b[j] != ' ' && b[j] != '\t' {
				j++
			}
			fields = append(fields, string(b[i:j]))
			i = j
		}
	}
	return fields
}
