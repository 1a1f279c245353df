package logs

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	api "overcast/internal/api/logs"
	"overcast/internal/awsproto"
)

// The Logs Insights query language, the part of it delivery pipelines use:
//
//	fields @timestamp, @message, latency * 2 as double
//	| parse @message "user=* action=*" as user, action
//	| parse @message /(?<status>\d{3}) (?<bytes>\d+)$/
//	| filter level = "ERROR" and (latency > 100 or @message like /timeout/) and not ispresent(debug)
//	| stats count(*) as n, avg(latency), max(latency) by level, bin(5m)
//	| sort n desc
//	| limit 20
//	| display level, n
//
// Commands are separated by |. Expressions have =, !=, <, <=, >, >=,
// like (a substring, or a /regex/), =~, in [...], and, or, not, + - * / %,
// and the functions ispresent, isempty, isblank, strlen, tolower, toupper,
// trim, concat, abs, ceil, floor and bin (in stats ... by). stats has
// count, sum, avg, min, max and count_distinct.

// A query that does not compile is a MalformedQueryException, with the
// message AWS gives for the symbol where it went wrong, also as the
// exception's queryCompileError with the symbol's offsets.
func errMalformedQuery(src string, at int, format string, args ...any) error {
	at = min(at, len(src))
	line, col := 1, 1
	for _, r := range src[:at] {
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	msg := fmt.Sprintf(format, args...) + fmt.Sprintf(" at line %d and position %d", line, col)
	return &malformedQuery{Message: &msg, QueryCompileError: &api.QueryCompileError{Message: &msg,
		Location: &api.QueryCompileErrorLocation{StartCharOffset: new(int32(at)), EndCharOffset: new(int32(at))}}}
}

// malformedQuery is api.MalformedQueryException with the message member
// the model leaves out but AWS sends.
type malformedQuery struct {
	_                 struct{}               `aws:"structure,error=MalformedQueryException,status=400"`
	Message           *string                `aws:"message"`
	QueryCompileError *api.QueryCompileError `aws:"queryCompileError"`
}

func (e *malformedQuery) ErrorCode() string    { return "MalformedQueryException" }
func (e *malformedQuery) ErrorMessage() string { return *e.Message }
func (e *malformedQuery) HTTPStatusCode() int  { return 400 }
func (e *malformedQuery) Error() string        { return awsproto.ErrorString(e) }

type qtokKind int

const (
	qEOF qtokKind = iota
	qIdent
	qNumber
	qDuration // 5m, 1h: bin()'s argument
	qString
	qRegex
	qOp // = != < <= > >= =~ + - * / % ( ) , [ ] |
)

type qtok struct {
	kind qtokKind
	text string // identifiers unquoted, strings unescaped, regexes without slashes
	at   int    // byte offset in the query
}

// lexQuery splits a query into tokens. A / starts a regular expression
// where a value is expected, and divides after one.
func lexQuery(src string) ([]qtok, error) {
	var toks []qtok
	valueEnded := func() bool {
		if len(toks) == 0 {
			return false
		}
		t := toks[len(toks)-1]
		switch t.kind {
		case qIdent:
			// "parse @message /regex/": the regex follows parse's field.
			afterParse := func(i int) bool {
				return i >= 0 && toks[i].kind == qIdent && strings.EqualFold(toks[i].text, "parse")
			}
			return !isQueryKeyword(t.text) && !afterParse(len(toks)-1) && !afterParse(len(toks)-2)
		case qNumber, qDuration, qString, qRegex:
			return true
		}
		return t.text == ")" || t.text == "]"
	}
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#': // a comment, to the end of the line
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '"' || c == '\'':
			text, n, ok := unquote(src[i:], c)
			if !ok {
				return nil, errMalformedQuery(src, i, "unterminated string")
			}
			toks = append(toks, qtok{qString, text, i})
			i += n
		case c == '`':
			j := strings.IndexByte(src[i+1:], '`')
			if j < 0 {
				return nil, errMalformedQuery(src, i, "unterminated field name")
			}
			toks = append(toks, qtok{qIdent, src[i+1 : i+1+j], i})
			i += j + 2
		case c == '/' && !valueEnded():
			j := i + 1
			for j < len(src) && src[j] != '/' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(src) {
				return nil, errMalformedQuery(src, i, "unterminated regular expression")
			}
			toks = append(toks, qtok{qRegex, src[i+1 : j], i})
			i = j + 1
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			j := i
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '.') {
				j++
			}
			k := j
			for k < len(src) && (src[k] >= 'a' && src[k] <= 'z' || src[k] >= 'A' && src[k] <= 'Z') {
				k++
			}
			kind := qNumber
			if k > j {
				kind = qDuration
			}
			toks = append(toks, qtok{kind, src[i:k], i})
			i = k
		case isIdentStart(c):
			j := i
			for j < len(src) && isIdentPart(src[j]) {
				j++
			}
			toks = append(toks, qtok{qIdent, src[i:j], i})
			i = j
		default:
			op := string(c)
			if i+1 < len(src) {
				switch two := src[i : i+2]; two {
				case "!=", "<=", ">=", "=~", "==":
					op = two
				}
			}
			if !strings.Contains("=!<>+-*/%(),[]|", op[:1]) || op == "!" {
				return nil, errMalformedQuery(src, i, "unexpected symbol found %s", op)
			}
			toks = append(toks, qtok{qOp, op, i})
			i += len(op)
		}
	}
	return append(toks, qtok{qEOF, "", len(src)}), nil
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '@' || c == '$'
}

func isIdentPart(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' || c == '.' }

func isQueryKeyword(s string) bool {
	switch strings.ToLower(s) {
	case "and", "or", "not", "like", "in", "as", "by", "asc", "desc":
		return true
	}
	return false
}

// unquote reads a string quoted with q at the start of s, with backslash
// escapes, returning its text and the bytes consumed.
func unquote(s string, q byte) (string, int, bool) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s):
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			default:
				b.WriteByte(s[i])
			}
		case c == q:
			return b.String(), i + 1, true
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, false
}

// The compiled query.

type query struct {
	commands []queryCommand
	// display is the last display command's fields: what results show.
	display []projection
}

type queryCommand interface{ command() string }

type fieldsCmd struct{ projs []projection }
type filterCmd struct{ cond expr }
type parseCmd struct {
	src   expr
	re    *regexp.Regexp
	names []string // the fields the pattern's groups set, in order
}
type statsCmd struct {
	aggs []aggregate
	by   []projection
}
type sortCmd struct{ keys []sortKey }
type limitCmd struct{ n int }
type dedupCmd struct{ fields []expr }

func (fieldsCmd) command() string { return "fields" }
func (filterCmd) command() string { return "filter" }
func (parseCmd) command() string  { return "parse" }
func (statsCmd) command() string  { return "stats" }
func (sortCmd) command() string   { return "sort" }
func (limitCmd) command() string  { return "limit" }
func (dedupCmd) command() string  { return "dedup" }

// projection is an expression and the name its value takes: the alias,
// or the expression as written.
type projection struct {
	e    expr
	name string
}

type aggregate struct {
	fn   string // count, sum, avg, min, max, count_distinct
	arg  expr   // nil for count(*)
	name string
}

type sortKey struct {
	e    expr
	desc bool
}

type queryParser struct {
	src  string
	toks []qtok
	pos  int
}

func compileQuery(src string) (*query, error) {
	toks, err := lexQuery(src)
	if err != nil {
		return nil, err
	}
	p := &queryParser{src: src, toks: toks}
	q := &query{}
	for {
		cmd, err := p.command(q)
		if err != nil {
			return nil, err
		}
		if cmd != nil {
			q.commands = append(q.commands, cmd)
		}
		t := p.next()
		if t.kind == qEOF {
			break
		}
		if t.text != "|" {
			return nil, p.unexpected(t)
		}
	}
	return q, nil
}

func (p *queryParser) peek() qtok { return p.toks[p.pos] }

func (p *queryParser) next() qtok {
	t := p.toks[p.pos]
	if t.kind != qEOF {
		p.pos++
	}
	return t
}

func (p *queryParser) unexpected(t qtok) error {
	if t.kind == qEOF {
		return errMalformedQuery(p.src, t.at, "unexpected end of query")
	}
	return errMalformedQuery(p.src, t.at, "unexpected symbol found %s", p.src[t.at:t.at+max(1, tokenLen(p.src, t))])
}

// tokenLen is how much of the query a token spans.
func tokenLen(src string, t qtok) int {
	if t.kind == qIdent || t.kind == qNumber || t.kind == qDuration || t.kind == qOp {
		return len(t.text)
	}
	for i := t.at + 1; i < len(src); i++ { // a quoted string or a regex: to its closing quote
		if src[i] == src[t.at] && src[i-1] != '\\' {
			return i + 1 - t.at
		}
	}
	return len(src) - t.at
}

// keyword reports whether the next token is the keyword kw, and takes it.
func (p *queryParser) keyword(kw string) bool {
	if t := p.peek(); t.kind == qIdent && strings.EqualFold(t.text, kw) {
		p.pos++
		return true
	}
	return false
}

func (p *queryParser) op(op string) bool {
	if t := p.peek(); t.kind == qOp && t.text == op {
		p.pos++
		return true
	}
	return false
}

// command parses one command; display is recorded in q, not returned.
func (p *queryParser) command(q *query) (queryCommand, error) {
	t := p.next()
	if t.kind != qIdent {
		return nil, p.unexpected(t)
	}
	switch strings.ToLower(t.text) {
	case "fields":
		projs, err := p.projections()
		return fieldsCmd{projs}, err
	case "display":
		projs, err := p.projections()
		q.display = projs
		return nil, err
	case "filter":
		e, err := p.expr()
		return filterCmd{e}, err
	case "parse":
		return p.parse()
	case "stats":
		return p.stats()
	case "sort":
		keys, err := commaSeparated(p, func() (sortKey, error) {
			e, err := p.expr()
			k := sortKey{e: e}
			if p.keyword("desc") {
				k.desc = true
			} else {
				p.keyword("asc")
			}
			return k, err
		})
		return sortCmd{keys}, err
	case "limit":
		n := p.next()
		v, err := strconv.Atoi(n.text)
		if n.kind != qNumber || err != nil || v < 1 {
			return nil, p.unexpected(n)
		}
		return limitCmd{v}, nil
	case "dedup":
		fields, err := commaSeparated(p, p.primary)
		return dedupCmd{fields}, err
	}
	return nil, p.unexpected(t)
}

func (p *queryParser) projections() ([]projection, error) {
	return commaSeparated(p, func() (projection, error) {
		start := p.peek().at
		e, err := p.expr()
		if err != nil {
			return projection{}, err
		}
		return projection{e: e, name: p.alias(start)}, nil
	})
}

// commaSeparated parses one or more items separated by commas.
func commaSeparated[T any](p *queryParser, item func() (T, error)) ([]T, error) {
	var items []T
	for {
		v, err := item()
		if err != nil {
			return nil, err
		}
		items = append(items, v)
		if !p.op(",") {
			return items, nil
		}
	}
}

// alias is the name of the expression that started at start and just
// ended: what follows "as", or the expression's text.
func (p *queryParser) alias(start int) string {
	end := p.peek().at
	if p.keyword("as") {
		if t := p.peek(); t.kind == qIdent {
			p.pos++
			return t.text
		}
	}
	name := strings.TrimSpace(p.src[start:end])
	if e := p.toks[p.pos-1]; e.kind == qIdent && e.at == start && p.src[start] == '`' {
		name = e.text
	}
	return name
}

func (p *queryParser) parse() (queryCommand, error) {
	cmd := parseCmd{src: fieldRef("@message")}
	if t := p.peek(); t.kind != qString && t.kind != qRegex {
		e, err := p.primary()
		if err != nil {
			return nil, err
		}
		cmd.src = e
	}
	t := p.next()
	switch t.kind {
	case qString:
		// A glob: * captures, lazily but for the last one, and the names
		// follow "as".
		parts := strings.Split(t.text, "*")
		var b strings.Builder
		for i, part := range parts {
			if i > 0 {
				if i == len(parts)-1 {
					b.WriteString("(.*)")
				} else {
					b.WriteString("(.*?)")
				}
			}
			b.WriteString(regexp.QuoteMeta(part))
		}
		cmd.re = regexp.MustCompile("(?s)" + b.String())
		if !p.keyword("as") {
			return nil, p.unexpected(p.peek())
		}
		for {
			n := p.next()
			if n.kind != qIdent {
				return nil, p.unexpected(n)
			}
			cmd.names = append(cmd.names, n.text)
			if !p.op(",") {
				break
			}
		}
		if len(cmd.names) != len(parts)-1 {
			return nil, errMalformedQuery(p.src, t.at, "the pattern has %d wildcards for %d fields", len(parts)-1, len(cmd.names))
		}
	case qRegex:
		re, err := regexp.Compile(t.text)
		if err != nil {
			return nil, errMalformedQuery(p.src, t.at, "invalid regular expression /%s/", t.text)
		}
		cmd.re = re
		for i, name := range re.SubexpNames() {
			if i > 0 && name == "" {
				return nil, errMalformedQuery(p.src, t.at, "every group of a parse regular expression must be named, as (?<name>...)")
			}
			if i > 0 {
				cmd.names = append(cmd.names, name)
			}
		}
		if len(cmd.names) == 0 {
			return nil, errMalformedQuery(p.src, t.at, "the regular expression names no field")
		}
	default:
		return nil, p.unexpected(t)
	}
	return cmd, nil
}

var aggregateFuncs = map[string]bool{"count": true, "sum": true, "avg": true, "min": true, "max": true, "count_distinct": true}

func (p *queryParser) stats() (queryCommand, error) {
	var cmd statsCmd
	for {
		start := p.peek().at
		t := p.next()
		fn := strings.ToLower(t.text)
		if t.kind != qIdent || !aggregateFuncs[fn] || !p.op("(") {
			return nil, p.unexpected(t)
		}
		agg := aggregate{fn: fn}
		switch {
		case p.op(")"):
			if fn != "count" {
				return nil, p.unexpected(p.toks[p.pos-1])
			}
		case fn == "count" && p.peek().text == "*" && p.peek().kind == qOp:
			p.pos++
			if !p.op(")") {
				return nil, p.unexpected(p.peek())
			}
		default:
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			if !p.op(")") {
				return nil, p.unexpected(p.peek())
			}
			agg.arg = e
		}
		agg.name = p.alias(start)
		cmd.aggs = append(cmd.aggs, agg)
		if !p.op(",") {
			break
		}
	}
	if p.keyword("by") {
		projs, err := p.projections()
		if err != nil {
			return nil, err
		}
		cmd.by = projs
	}
	return cmd, nil
}

// Expressions.

type expr interface{ eval(r *row) val }

func (p *queryParser) expr() (expr, error) { return p.or() }

func (p *queryParser) or() (expr, error) {
	l, err := p.and()
	for err == nil && p.keyword("or") {
		var r expr
		if r, err = p.and(); err == nil {
			l = logical{or: true, l: l, r: r}
		}
	}
	return l, err
}

func (p *queryParser) and() (expr, error) {
	l, err := p.not()
	for err == nil && p.keyword("and") {
		var r expr
		if r, err = p.not(); err == nil {
			l = logical{l: l, r: r}
		}
	}
	return l, err
}

func (p *queryParser) not() (expr, error) {
	if p.keyword("not") {
		e, err := p.not()
		return negation{e}, err
	}
	return p.comparison()
}

func (p *queryParser) comparison() (expr, error) {
	l, err := p.additive()
	if err != nil {
		return nil, err
	}
	negate := false
	if t := p.peek(); t.kind == qIdent && strings.EqualFold(t.text, "not") {
		if n := p.toks[p.pos+1]; n.kind == qIdent && (strings.EqualFold(n.text, "like") || strings.EqualFold(n.text, "in")) {
			p.pos++
			negate = true
		}
	}
	var e expr
	switch t := p.peek(); {
	case p.keyword("like"), t.kind == qOp && t.text == "=~" && p.op("=~"):
		r := p.next()
		switch {
		case r.kind == qRegex:
			re, err := regexp.Compile(r.text)
			if err != nil {
				return nil, errMalformedQuery(p.src, r.at, "invalid regular expression /%s/", r.text)
			}
			e = matchExpr{l: l, re: re}
		case r.kind == qString && t.text != "=~":
			e = matchExpr{l: l, substr: r.text}
		default:
			return nil, p.unexpected(r)
		}
	case p.keyword("in"):
		if !p.op("[") {
			return nil, p.unexpected(p.peek())
		}
		list, err := p.list("]", p.additive)
		if err != nil {
			return nil, err
		}
		e = inExpr{l: l, list: list}
	case t.kind == qOp && (t.text == "=" || t.text == "==" || t.text == "!=" || t.text == "<" || t.text == "<=" || t.text == ">" || t.text == ">="):
		if negate {
			return nil, p.unexpected(t)
		}
		p.pos++
		r, err := p.additive()
		if err != nil {
			return nil, err
		}
		return comparison{op: strings.Replace(t.text, "==", "=", 1), l: l, r: r}, nil
	default:
		if negate {
			return nil, p.unexpected(t)
		}
		return l, nil
	}
	if negate {
		e = negation{e}
	}
	return e, nil
}

func (p *queryParser) additive() (expr, error) { return p.arithmetic("+-", p.multiplicative) }

func (p *queryParser) multiplicative() (expr, error) { return p.arithmetic("*/%", p.unary) }

// arithmetic parses operands joined, left to right, by the one-character
// operators in ops.
func (p *queryParser) arithmetic(ops string, operand func() (expr, error)) (expr, error) {
	l, err := operand()
	for err == nil {
		t := p.peek()
		if t.kind != qOp || len(t.text) != 1 || !strings.Contains(ops, t.text) {
			break
		}
		p.pos++
		var r expr
		if r, err = operand(); err == nil {
			l = arithmetic{op: t.text[0], l: l, r: r}
		}
	}
	return l, err
}

func (p *queryParser) unary() (expr, error) {
	if p.op("-") {
		e, err := p.unary()
		return arithmetic{op: '-', l: literal{numVal(0)}, r: e}, err
	}
	return p.primary()
}

func (p *queryParser) primary() (expr, error) {
	t := p.next()
	switch t.kind {
	case qNumber:
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, p.unexpected(t)
		}
		return literal{val{s: t.text, n: f, num: true, ok: true}}, nil
	case qString:
		return literal{strVal(t.text)}, nil
	case qOp:
		if t.text == "(" {
			e, err := p.expr()
			if err == nil && !p.op(")") {
				err = p.unexpected(p.peek())
			}
			return e, err
		}
	case qIdent:
		if isQueryKeyword(t.text) {
			break
		}
		if p.op("(") {
			return p.call(t)
		}
		return fieldRef(t.text), nil
	}
	return nil, p.unexpected(t)
}

// call parses a function call whose name t and "(" were read.
func (p *queryParser) call(t qtok) (expr, error) {
	name := strings.ToLower(t.text)
	if name == "bin" {
		d := p.next()
		period, ok := parseBinPeriod(d.text)
		if d.kind != qDuration || !ok {
			return nil, p.unexpected(d)
		}
		if !p.op(")") {
			return nil, p.unexpected(p.peek())
		}
		return binExpr{period: period}, nil
	}
	fn, ok := scalarFuncs[name]
	if !ok {
		return nil, p.unexpected(t)
	}
	args, err := p.list(")", p.expr)
	if err != nil {
		return nil, err
	}
	if len(args) < fn.min || (fn.max >= 0 && len(args) > fn.max) {
		return nil, errMalformedQuery(p.src, t.at, "wrong number of arguments for %s", t.text)
	}
	return callExpr{fn: fn.eval, args: args}, nil
}

// list parses items separated by commas up to the closing delimiter,
// whose opening one was read.
func (p *queryParser) list(closing string, item func() (expr, error)) ([]expr, error) {
	var items []expr
	for !p.op(closing) {
		e, err := item()
		if err != nil {
			return nil, err
		}
		items = append(items, e)
		if !p.op(",") && p.peek().text != closing {
			return nil, p.unexpected(p.peek())
		}
	}
	return items, nil
}

// parseBinPeriod reads bin()'s period: a number and one of ms, s, m, h,
// d, w (also spelled sec, min, hr, day, week...).
func parseBinPeriod(s string) (time.Duration, bool) {
	i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	if i <= 0 {
		return 0, false
	}
	n, err := strconv.Atoi(s[:i])
	if err != nil || n <= 0 {
		return 0, false
	}
	units := map[string]time.Duration{
		"ms": time.Millisecond, "s": time.Second, "sec": time.Second, "m": time.Minute, "min": time.Minute,
		"h": time.Hour, "hr": time.Hour, "d": 24 * time.Hour, "day": 24 * time.Hour, "w": 7 * 24 * time.Hour, "week": 7 * 24 * time.Hour,
	}
	u, ok := units[strings.ToLower(s[i:])]
	return time.Duration(n) * u, ok
}
