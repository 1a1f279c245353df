package placement

import (
	"cmp"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// An Expression is a parsed cluster query language expression: the
// expression of a memberOf placement constraint, or the filter of
// ListContainerInstances. The grammar is
//
//	expr    := term | expr (and|&&) expr | expr (or|'||') expr | (not|!) expr | '(' expr ')'
//	term    := subject operator [argument]
//	subject := agentConnected | agentVersion | attribute:<name> | ec2InstanceId
//	         | registeredAt | runningTasksCount | task:group
//
// where not binds tighter than and, and and tighter than or. An argument is
// a literal, bare or quoted with ' or ", or for in and not_in a list
// [a, b, …]. matches and not_matches take a Java-style regular expression
// that must match the whole value, as java.util.regex.Pattern.matches does.
type Expression struct {
	text string
	root node
}

// String returns the expression as it was written.
func (e *Expression) String() string { return e.text }

// Match reports whether inst satisfies the expression. task:group looks at
// the groups of the tasks inst runs (Instance.Groups).
func (e *Expression) Match(inst *Instance) bool { return e.root.match(inst) }

// A ParseError is an expression that does not follow the cluster query
// language. Its message is the one ECS answers with, so the API layer can
// return it as an InvalidParameterException unchanged.
type ParseError struct {
	Expression string
	Pos        int // byte offset of the problem in Expression
	Reason     string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("Invalid expression '%s': %s at position %d.", e.Expression, e.Reason, e.Pos+1)
}

type node interface{ match(*Instance) bool }

type andNode struct{ left, right node }
type orNode struct{ left, right node }
type notNode struct{ inner node }

func (n andNode) match(i *Instance) bool { return n.left.match(i) && n.right.match(i) }
func (n orNode) match(i *Instance) bool  { return n.left.match(i) || n.right.match(i) }
func (n notNode) match(i *Instance) bool { return !n.inner.match(i) }

type subject int

const (
	subjectAgentConnected subject = iota
	subjectAgentVersion
	subjectAttribute
	subjectEC2InstanceID
	subjectRegisteredAt
	subjectRunningTasksCount
	subjectTaskGroup
)

type operator int

const (
	opEquals operator = iota
	opNotEquals
	opGreater
	opGreaterEqual
	opLess
	opLessEqual
	opExists
	opNotExists
	opIn
	opNotIn
	opMatches
	opNotMatches
)

var subjects = map[string]subject{
	"agentConnected":    subjectAgentConnected,
	"agentVersion":      subjectAgentVersion,
	"ec2InstanceId":     subjectEC2InstanceID,
	"registeredAt":      subjectRegisteredAt,
	"runningTasksCount": subjectRunningTasksCount,
	"task:group":        subjectTaskGroup,
}

// Symbolic operators, longest first so that ">=" is not read as ">".
var symbolOperators = []struct {
	text string
	op   operator
}{
	{"!exists", opNotExists}, {"!in", opNotIn},
	{"==", opEquals}, {"!=", opNotEquals}, {">=", opGreaterEqual}, {"<=", opLessEqual},
	{"=~", opMatches}, {"!~", opNotMatches}, {">", opGreater}, {"<", opLess},
}

var wordOperators = map[string]operator{
	"equals": opEquals, "not_equals": opNotEquals,
	"greater_than": opGreater, "greater_than_equal": opGreaterEqual,
	"less_than": opLess, "less_than_equal": opLessEqual,
	"exists": opExists, "not_exists": opNotExists,
	"in": opIn, "not_in": opNotIn,
	"matches": opMatches, "not_matches": opNotMatches,
}

var (
	equalityOps = []operator{opEquals, opNotEquals, opIn, opNotIn, opMatches, opNotMatches}
	orderingOps = []operator{opEquals, opNotEquals, opGreater, opGreaterEqual, opLess, opLessEqual}
)

// validOperators lists, per subject, the operators the developer guide
// allows. Attributes take every operator; task:group every one but the
// orderings, which mean nothing for a set of group names.
var validOperators = map[subject][]operator{
	subjectAgentConnected:    equalityOps,
	subjectAgentVersion:      orderingOps,
	subjectEC2InstanceID:     equalityOps,
	subjectRegisteredAt:      orderingOps,
	subjectRunningTasksCount: orderingOps,
	subjectTaskGroup:         {opEquals, opNotEquals, opIn, opNotIn, opMatches, opNotMatches, opExists, opNotExists},
}

// A term is one comparison: subject operator [argument].
type term struct {
	subject   subject
	attribute string // the name after "attribute:"
	op        operator
	args      []string
	re        *regexp.Regexp // matches, not_matches
	prefix    string         // set when re is a literal followed by .*
	isPrefix  bool
	number    int64     // runningTasksCount
	at        time.Time // registeredAt
	dateOnly  bool      // registeredAt given as a day: compare days
}

// Parse parses a cluster query language expression.
func Parse(expr string) (*Expression, error) {
	p := &parser{src: expr}
	p.skipSpace()
	if p.eof() {
		return nil, p.fail("expression is empty")
	}
	root, err := p.parseBinary(0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if !p.eof() {
		return nil, p.fail(fmt.Sprintf("unexpected '%s'", p.src[p.pos:]))
	}
	return &Expression{text: expr, root: root}, nil
}

type parser struct {
	src string
	pos int
}

func (p *parser) eof() bool { return p.pos >= len(p.src) }

func (p *parser) fail(reason string) *ParseError {
	return &ParseError{Expression: p.src, Pos: min(p.pos, max(len(p.src)-1, 0)), Reason: reason}
}

func (p *parser) skipSpace() {
	for !p.eof() && unicode.IsSpace(rune(p.src[p.pos])) {
		p.pos++
	}
}

// keyword consumes word (case-insensitively) if it stands alone at the
// current position: followed by the end, a space or a parenthesis.
func (p *parser) keyword(word string) bool {
	end := p.pos + len(word)
	if end > len(p.src) || !strings.EqualFold(p.src[p.pos:end], word) {
		return false
	}
	if end < len(p.src) && !unicode.IsSpace(rune(p.src[end])) && p.src[end] != '(' {
		return false
	}
	p.pos = end
	return true
}

func (p *parser) symbol(s string) bool {
	if strings.HasPrefix(p.src[p.pos:], s) {
		p.pos += len(s)
		return true
	}
	return false
}

// connectives are the binary boolean operators, loosest first: or, then
// and.
var connectives = []struct {
	symbol, word string
	join         func(left, right node) node
}{
	{"||", "or", func(l, r node) node { return orNode{l, r} }},
	{"&&", "and", func(l, r node) node { return andNode{l, r} }},
}

// parseBinary parses a chain of the connective at level, whose operands
// bind tighter: the next level, or a unary expression after the last.
func (p *parser) parseBinary(level int) (node, error) {
	if level == len(connectives) {
		return p.parseUnary()
	}
	c := connectives[level]
	left, err := p.parseBinary(level + 1)
	if err != nil {
		return nil, err
	}
	for {
		p.skipSpace()
		if !p.symbol(c.symbol) && !p.keyword(c.word) {
			return left, nil
		}
		right, err := p.parseBinary(level + 1)
		if err != nil {
			return nil, err
		}
		left = c.join(left, right)
	}
}

func (p *parser) parseUnary() (node, error) {
	p.skipSpace()
	if p.eof() {
		return nil, p.fail("expression ends early")
	}
	switch {
	case p.symbol("!") || p.keyword("not"):
		inner, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return notNode{inner}, nil
	case p.symbol("("):
		inner, err := p.parseBinary(0)
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if !p.symbol(")") {
			return nil, p.fail("missing ')'")
		}
		return inner, nil
	}
	return p.parseTerm()
}

// isWordByte reports whether c can be part of a subject or operator name.
func isWordByte(c byte) bool {
	return !unicode.IsSpace(rune(c)) && !strings.ContainsRune("()[],'\"=!<>~&|", rune(c))
}

func (p *parser) word() string {
	start := p.pos
	for !p.eof() && isWordByte(p.src[p.pos]) {
		p.pos++
	}
	return p.src[start:p.pos]
}

func (p *parser) parseTerm() (node, error) {
	start := p.pos
	name := p.word()
	if name == "" {
		return nil, p.fail(fmt.Sprintf("expected a subject, found '%c'", p.src[p.pos]))
	}
	t := &term{}
	if attr, ok := strings.CutPrefix(name, "attribute:"); ok {
		if attr == "" {
			p.pos = start
			return nil, p.fail("attribute name is empty")
		}
		t.subject, t.attribute = subjectAttribute, attr
	} else if s, ok := subjects[name]; ok {
		t.subject = s
	} else {
		p.pos = start
		return nil, p.fail(fmt.Sprintf("unknown subject '%s'", name))
	}

	p.skipSpace()
	opStart := p.pos
	op, ok := p.operator()
	if !ok {
		return nil, p.fail(fmt.Sprintf("expected an operator after '%s'", name))
	}
	if allowed, limited := validOperators[t.subject]; limited && !containsOp(allowed, op) {
		opText := p.src[opStart:p.pos]
		p.pos = opStart
		return nil, p.fail(fmt.Sprintf("operator '%s' is not valid for %s", opText, name))
	}
	t.op = op

	switch op {
	case opExists, opNotExists:
		return t, nil
	case opIn, opNotIn:
		args, err := p.list()
		if err != nil {
			return nil, err
		}
		t.args = args
	default:
		arg, err := p.value(false)
		if err != nil {
			return nil, err
		}
		t.args = []string{arg}
	}
	if err := p.compileArgs(t); err != nil {
		return nil, err
	}
	return t, nil
}

func containsOp(ops []operator, op operator) bool {
	for _, o := range ops {
		if o == op {
			return true
		}
	}
	return false
}

func (p *parser) operator() (operator, bool) {
	for _, s := range symbolOperators {
		if !strings.HasPrefix(p.src[p.pos:], s.text) {
			continue
		}
		// "!exists" and "!in" are words: "!inX" is not "!in".
		end := p.pos + len(s.text)
		if s.text[0] == '!' && len(s.text) > 2 && end < len(p.src) && isWordByte(p.src[end]) {
			continue
		}
		p.pos = end
		return s.op, true
	}
	start := p.pos
	if op, ok := wordOperators[strings.ToLower(p.word())]; ok {
		return op, true
	}
	p.pos = start
	return 0, false
}

// list parses [a, b, …].
func (p *parser) list() ([]string, error) {
	p.skipSpace()
	if !p.symbol("[") {
		return nil, p.fail("expected '[' to open the argument list")
	}
	var args []string
	for {
		arg, err := p.value(true)
		if err != nil {
			return nil, err
		}
		args = append(args, arg)
		p.skipSpace()
		if p.symbol("]") {
			return args, nil
		}
		if !p.symbol(",") {
			return nil, p.fail("expected ',' or ']' in the argument list")
		}
	}
}

// value parses one literal argument: quoted with ' or ", or bare. A bare
// value ends at a space; in a list also at ',' or ']'; outside one at an
// unbalanced ')' or at && and ||, so that "(a == b)" and "a==b&&c==d" read
// as written while a regular expression such as "t2.(small|medium)" keeps
// its parentheses.
func (p *parser) value(inList bool) (string, error) {
	p.skipSpace()
	if p.eof() {
		return "", p.fail("missing argument")
	}
	if q := p.src[p.pos]; q == '\'' || q == '"' {
		end := strings.IndexByte(p.src[p.pos+1:], q)
		if end < 0 {
			return "", p.fail(fmt.Sprintf("unterminated %c", q))
		}
		v := p.src[p.pos+1 : p.pos+1+end]
		p.pos += end + 2
		return v, nil
	}
	start, depth := p.pos, 0
loop:
	for ; !p.eof(); p.pos++ {
		c := p.src[p.pos]
		switch {
		case unicode.IsSpace(rune(c)):
			break loop
		case inList && (c == ',' || c == ']'):
			break loop
		case !inList && c == '(':
			depth++
		case !inList && c == ')':
			if depth == 0 {
				break loop
			}
			depth--
		case !inList && depth == 0 && (strings.HasPrefix(p.src[p.pos:], "&&") || strings.HasPrefix(p.src[p.pos:], "||")):
			break loop
		}
	}
	if p.pos == start {
		return "", p.fail("missing argument")
	}
	return p.src[start:p.pos], nil
}

// compileArgs checks the arguments against the subject and prepares what
// Match needs, so that matching never parses.
func (p *parser) compileArgs(t *term) error {
	if t.op == opMatches || t.op == opNotMatches {
		re, err := regexp.Compile(`^(?:` + t.args[0] + `)$`)
		if err != nil {
			return p.fail(fmt.Sprintf("invalid regular expression '%s'", t.args[0]))
		}
		t.re = re
		// The documented patterns (t2.*, g2.*) are a prefix: test it
		// without running the regular expression.
		if lit, ok := strings.CutSuffix(t.args[0], ".*"); ok && regexp.QuoteMeta(lit) == lit {
			t.prefix, t.isPrefix = lit, true
		}
		return nil
	}
	switch t.subject {
	case subjectAgentConnected:
		for _, a := range t.args {
			if a != "true" && a != "false" {
				return p.fail(fmt.Sprintf("agentConnected takes true or false, not '%s'", a))
			}
		}
	case subjectAgentVersion:
		if _, ok := compareVersions(t.args[0], t.args[0]); !ok {
			return p.fail(fmt.Sprintf("'%s' is not an agent version", t.args[0]))
		}
	case subjectRunningTasksCount:
		n, err := strconv.ParseInt(t.args[0], 10, 64)
		if err != nil {
			return p.fail(fmt.Sprintf("'%s' is not a number", t.args[0]))
		}
		t.number = n
	case subjectRegisteredAt:
		at, dateOnly, ok := parseDate(t.args[0])
		if !ok {
			return p.fail(fmt.Sprintf("'%s' is not a date (use 2018-06-18T22:28:28+00:00, 2018-06-18T22:28:28Z, 2018-06-18T22:28:28 or 2018-06-18)", t.args[0]))
		}
		t.at, t.dateOnly = at, dateOnly
	}
	return nil
}

// Date formats the developer guide lists for registeredAt; a time without a
// zone is UTC.
var dateLayouts = []string{time.RFC3339, "2006-01-02T15:04:05"}

func parseDate(s string) (t time.Time, dateOnly, ok bool) {
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, false, true
		}
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, true, true
	}
	return time.Time{}, false, false
}

func (t *term) match(inst *Instance) bool {
	if t.subject == subjectTaskGroup {
		return t.matchGroups(inst)
	}
	value, present := t.value(inst)
	switch t.op {
	case opExists:
		return present
	case opNotExists:
		return !present
	}
	// A comparison needs something to compare: "attribute:stack != prod"
	// lists the instances that have a stack attribute other than prod.
	if !present {
		return false
	}
	switch t.op {
	case opMatches:
		return t.matches(value)
	case opNotMatches:
		return !t.matches(value)
	case opIn, opNotIn:
		in := false
		for _, a := range t.args {
			if c, ok := t.compare(inst, value, a); ok && c == 0 {
				in = true
				break
			}
		}
		return in == (t.op == opIn)
	}
	c, ok := t.compare(inst, value, t.args[0])
	if !ok {
		return false
	}
	switch t.op {
	case opEquals:
		return c == 0
	case opNotEquals:
		return c != 0
	case opGreater:
		return c > 0
	case opGreaterEqual:
		return c >= 0
	case opLess:
		return c < 0
	case opLessEqual:
		return c <= 0
	}
	return false
}

// value returns the subject's value on inst as text, and whether inst has
// one at all.
func (t *term) value(inst *Instance) (string, bool) {
	switch t.subject {
	case subjectAgentConnected:
		return strconv.FormatBool(inst.AgentConnected), true
	case subjectAgentVersion:
		return inst.AgentVersion, inst.AgentVersion != ""
	case subjectAttribute:
		v, ok := inst.Attributes[t.attribute]
		return v, ok
	case subjectEC2InstanceID:
		return inst.EC2InstanceID, inst.EC2InstanceID != ""
	case subjectRegisteredAt:
		// Compared as a time by compare; no operator needs the text.
		return "", !inst.RegisteredAt.IsZero()
	case subjectRunningTasksCount:
		return "", true
	}
	return "", false
}

// compare orders the instance's value against an argument: as versions,
// numbers or dates where the subject says so, as numbers where both sides
// are numbers (attributes), else as text.
func (t *term) compare(inst *Instance, value, arg string) (int, bool) {
	switch t.subject {
	case subjectAgentVersion:
		return compareVersions(value, arg)
	case subjectRunningTasksCount:
		return cmp.Compare(int64(inst.RunningTasksCount), t.number), true
	case subjectRegisteredAt:
		at := inst.RegisteredAt.UTC()
		if t.dateOnly {
			at = at.Truncate(24 * time.Hour)
		}
		return at.Compare(t.at), true
	case subjectAttribute:
		if a, err := strconv.ParseFloat(value, 64); err == nil {
			if b, err := strconv.ParseFloat(arg, 64); err == nil {
				return cmp.Compare(a, b), true
			}
		}
	}
	return strings.Compare(value, arg), true
}

// matchGroups evaluates task:group, a subject with one value per group of
// task the instance runs: == holds when one of them is the argument, !=
// when none is (the anti-affinity "not(task:group == database)" and
// "task:group != database" agree), exists when the instance runs any task.
func (t *term) matchGroups(inst *Instance) bool {
	anyGroup := func(pred func(string) bool) bool {
		for g, n := range inst.Groups {
			if n > 0 && pred(g) {
				return true
			}
		}
		return false
	}
	inArgs := func() bool {
		for _, a := range t.args {
			if inst.Groups[a] > 0 {
				return true
			}
		}
		return false
	}
	switch t.op {
	case opExists:
		return anyGroup(func(string) bool { return true })
	case opNotExists:
		return !anyGroup(func(string) bool { return true })
	case opEquals, opIn:
		return inArgs()
	case opNotEquals, opNotIn:
		return !inArgs()
	case opMatches:
		return anyGroup(t.matches)
	case opNotMatches:
		return !anyGroup(t.matches)
	}
	return false
}

func (t *term) matches(value string) bool {
	if t.isPrefix {
		// . does not match a newline, so neither may the rest.
		return strings.HasPrefix(value, t.prefix) && !strings.Contains(value[len(t.prefix):], "\n")
	}
	return t.re.MatchString(value)
}

// compareVersions compares dotted versions such as 1.14.5 (a leading v is
// allowed) without allocating; ok is false when either is not a version.
func compareVersions(a, b string) (int, bool) {
	a, b = strings.TrimPrefix(a, "v"), strings.TrimPrefix(b, "v")
	if a == "" || b == "" {
		return 0, false
	}
	for a != "" || b != "" {
		var x, y int64
		var ok bool
		if x, a, ok = versionPart(a); !ok {
			return 0, false
		}
		if y, b, ok = versionPart(b); !ok {
			return 0, false
		}
		if c := cmp.Compare(x, y); c != 0 {
			return c, true
		}
	}
	return 0, true
}

// versionPart splits the leading number off a version; a missing part
// counts as 0, so 1.14 == 1.14.0.
func versionPart(s string) (int64, string, bool) {
	if s == "" {
		return 0, "", true
	}
	head, rest, found := strings.Cut(s, ".")
	n, err := strconv.ParseInt(head, 10, 64)
	if err != nil || (found && rest == "") {
		return 0, "", false
	}
	return n, rest, true
}
