package awsproto

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Constraint is what a botocore model asks of the values of one shape: its
// min and max (a length for strings, blobs, lists and maps, a value for
// numbers), its pattern and its enum. The generator declares one per
// constrained shape that requests use and attaches it to the members, list
// elements and map keys and values that refer to the shape; the handler
// checks them after decoding (see validate.go).
type Constraint struct {
	Min, Max *float64
	// Pattern is the model's text: a Java regular expression, printed as
	// is in messages and translated by GoPattern to be checked.
	Pattern string
	Enum    []string
	// Sensitive values are never echoed in messages ("Value at 'x'").
	Sensitive bool
}

// constrained is implemented by generated structures with members that
// refer to constrained shapes; the map is keyed by member name.
type constrained interface {
	AWSConstraints() map[string]*Constraint
}

// check is a Constraint compiled for the kind of value it applies to.
type check struct {
	c                *Constraint
	kind             kind
	hasMin, hasMax   bool
	min, max         float64
	re               *regexp.Regexp // nil without a pattern, or with one RE2 cannot express
	class            *classMatcher  // re's fast path, when re is one character class repeated
	enum             []string
	minText, maxText string // the bounds as AWS prints them
}

// checks holds the compiled form of each Constraint; plans are compiled
// under planMu, which guards it too.
var checks = map[*Constraint]*check{}

func compileCheck(c *Constraint, t *typeInfo) *check {
	if c == nil {
		return nil
	}
	if ck, ok := checks[c]; ok {
		return ck
	}
	ck := &check{c: c, kind: t.kind, enum: c.Enum}
	if c.Min != nil {
		ck.hasMin, ck.min, ck.minText = true, *c.Min, formatBound(*c.Min, t.kind)
	}
	if c.Max != nil {
		ck.hasMax, ck.max, ck.maxText = true, *c.Max, formatBound(*c.Max, t.kind)
	}
	if c.Pattern != "" && t.kind == kindString {
		if expr, err := GoPattern(c.Pattern); err == nil {
			ck.re = regexp.MustCompile(expr)
			ck.class = newClassMatcher(expr)
		}
	}
	checks[c] = ck
	return ck
}

// formatBound prints a bound the way Coral does: integers as integers,
// floating-point bounds as Java prints a double ("1.0").
func formatBound(f float64, k kind) string {
	if k == kindFloat {
		return javaDouble(f)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// javaDouble is Double.toString for the values requests carry: "1.0",
// "0.25", "1.0E7".
func javaDouble(f float64) string {
	if a := abs(f); a != 0 && (a < 1e-3 || a >= 1e7) {
		s := strconv.FormatFloat(f, 'E', -1, 64)
		mant, exp, _ := strings.Cut(s, "E")
		if !strings.Contains(mant, ".") {
			mant += ".0"
		}
		e, _ := strconv.Atoi(exp)
		return mant + "E" + strconv.Itoa(e)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// javaLength is String.length() in Java, which AWS's validation counts:
// UTF-16 code units, so a character outside the BMP counts twice.
func javaLength(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// lengthOf is the length of a string, blob, list or map value, the
// string's counted only when its byte length could be misleading: UTF-8
// never has fewer bytes than UTF-16 has code units.
func (ck *check) stringLength(s string) int {
	n := len(s)
	if (ck.hasMax && float64(n) > ck.max) || (ck.hasMin && ck.min > 1 && float64(n) >= ck.min) {
		if !isASCII(s) {
			return javaLength(s)
		}
	}
	return n
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// matches applies the pattern to the whole of s.
func (ck *check) matches(s string) bool {
	if ck.class != nil {
		if ok, decided := ck.class.match(s); decided {
			return ok
		}
	}
	return ck.re.MatchString(s)
}

// classMatcher is the fast path of the commonest patterns, one character
// class repeated ("[\w+=,.@-]+", "[\p{L}\p{Z}\p{N}_.:/=+\-@]*",
// "[0-9]{12}"): for an
// ASCII value a bitmap decides, which is many times quicker than the
// regexp engine on every request's names and tags.
type classMatcher struct {
	ascii    [2]uint64 // the class's members below 128
	min, max int       // how many times, max -1 for no bound
}

// newClassMatcher returns the fast path of expr, or nil when expr is not
// one character class repeated.
func newClassMatcher(expr string) *classMatcher {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	for re.Op == syntax.OpConcat || re.Op == syntax.OpCapture {
		if re.Op == syntax.OpCapture {
			re = re.Sub[0]
			continue
		}
		subs := re.Sub
		for len(subs) > 0 && subs[0].Op == syntax.OpBeginText {
			subs = subs[1:]
		}
		for len(subs) > 0 && subs[len(subs)-1].Op == syntax.OpEndText {
			subs = subs[:len(subs)-1]
		}
		if len(subs) != 1 {
			return nil
		}
		re = subs[0]
	}
	m := &classMatcher{max: -1}
	switch re.Op {
	case syntax.OpStar:
	case syntax.OpPlus:
		m.min = 1
	case syntax.OpRepeat:
		m.min, m.max = re.Min, re.Max
	default:
		return nil
	}
	if re.Sub[0].Op != syntax.OpCharClass {
		return nil
	}
	ranges := re.Sub[0].Rune
	for i := 0; i+1 < len(ranges); i += 2 {
		for r := ranges[i]; r <= ranges[i+1] && r < utf8.RuneSelf; r++ {
			m.ascii[r>>6] |= 1 << (r & 63)
		}
	}
	return m
}

// match reports whether s matches, and whether it could tell: a value with
// a non-ASCII character is left to the regexp.
func (m *classMatcher) match(s string) (ok, decided bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return false, false
		}
		if m.ascii[c>>6]&(1<<(c&63)) == 0 {
			return false, true
		}
	}
	// All ASCII: bytes are characters.
	return len(s) >= m.min && (m.max < 0 || len(s) <= m.max), true
}

// errUnsupported reports a pattern RE2 cannot express.
var errUnsupported = errors.New("no RE2 equivalent")

// GoPattern translates a botocore pattern (Java's regular expression
// syntax) into Go's, anchored to the whole value as AWS applies it. Where
// Java and RE2 differ in what a construct accepts, the translation accepts
// at least what Java does, so a value AWS takes is never refused: a
// possessive quantifier or atomic group becomes a plain one, a repetition
// bound over RE2's 1000 is dropped. It fails for what RE2 cannot express at
// all (lookaround, backreferences, class intersection), and the codec then
// leaves the pattern unchecked.
func GoPattern(java string) (string, error) {
	var b strings.Builder
	b.WriteString(`^(?:`)
	depth := 0 // inside a character class when > 0
	for i := 0; i < len(java); i++ {
		c := java[i]
		switch {
		case c == '\\':
			n, err := translateEscape(&b, java, i, depth > 0)
			if err != nil {
				return "", fmt.Errorf("%q: %w", java, err)
			}
			i += n - 1
			continue
		case c == '[' && depth > 0:
			// Java reads a class inside a class as their union; RE2 as a '['.
			return "", fmt.Errorf("%q: nested character class: %w", java, errUnsupported)
		case c == '[':
			depth++
			b.WriteByte(c)
			// A ']' (or '^]') right after the opening bracket is a literal.
			if strings.HasPrefix(java[i+1:], "^]") {
				b.WriteString(`^\]`)
				i += 2
			} else if strings.HasPrefix(java[i+1:], "]") {
				b.WriteString(`\]`)
				i++
			}
			continue
		case c == ']' && depth > 0:
			depth--
		case c == '&' && depth > 0 && strings.HasPrefix(java[i:], "&&"):
			return "", fmt.Errorf("%q: class intersection: %w", java, errUnsupported)
		case depth == 0 && c == '+' && i > 0 && isQuantifierEnd(java, i-1):
			continue // possessive: the greedy quantifier accepts at least as much
		case depth == 0 && c == '(' && strings.HasPrefix(java[i:], "(?>"):
			b.WriteString("(?:") // atomic group, likewise
			i += 2
			continue
		case depth == 0 && c == '{':
			if n, ok := widenRepeat(&b, java[i:]); ok {
				i += n - 1
				continue
			}
		}
		b.WriteByte(c)
	}
	b.WriteString(`)$`)
	expr := b.String()
	if _, err := regexp.Compile(expr); err != nil {
		return "", fmt.Errorf("%q: %w (%v)", java, errUnsupported, err)
	}
	return expr, nil
}

// isQuantifierEnd reports whether java[i] ends a quantifier (so a '+'
// after it makes it possessive rather than repeating something).
func isQuantifierEnd(java string, i int) bool {
	if java[i] == '}' {
		// A repetition {n} or {n,m}, not the end of \p{L} or \x{41}.
		j := strings.LastIndexByte(java[:i], '{')
		return j >= 0 && repeatBounds.MatchString(java[j+1:i]) &&
			!(j >= 2 && java[j-2] == '\\' && strings.IndexByte("pPx", java[j-1]) >= 0)
	}
	switch java[i] {
	case '*', '+', '?':
		// Not when the character is itself escaped ("\+").
		backslashes := 0
		for j := i - 1; j >= 0 && java[j] == '\\'; j-- {
			backslashes++
		}
		if backslashes%2 == 1 {
			return false
		}
		// "a++" is possessive, but in "a+++" only the second '+' makes it so.
		if java[i] == '+' && i > 0 && isQuantifierEnd(java, i-1) {
			return false
		}
		return true
	}
	return false
}

var repeatBounds = regexp.MustCompile(`^[0-9]+(,[0-9]*)?$`)

// widenRepeat rewrites a {m,n} bound over RE2's limit of 1000 as {m,},
// which accepts more. It reports how much of s it consumed.
func widenRepeat(b *strings.Builder, s string) (int, bool) {
	end := strings.IndexByte(s, '}')
	if end < 0 {
		return 0, false
	}
	lo, hi, isRange := strings.Cut(s[1:end], ",")
	m, err1 := strconv.Atoi(lo)
	n, err2 := strconv.Atoi(hi)
	if !isRange || err1 != nil || err2 != nil || n <= 1000 || m > 1000 {
		return 0, false
	}
	fmt.Fprintf(b, "{%d,}", m)
	return end + 1, true
}

// javaPOSIX maps Java's US-ASCII property classes to RE2's POSIX classes.
var javaPOSIX = map[string]string{
	"Lower": "lower", "Upper": "upper", "ASCII": "ascii", "Alpha": "alpha", "Digit": "digit",
	"Alnum": "alnum", "Punct": "punct", "Graph": "graph", "Print": "print", "Blank": "blank",
	"Cntrl": "cntrl", "XDigit": "xdigit", "Space": "space",
}

// javaWhiteSpace is Unicode's White_Space property, Java's \p{IsWhite_Space}.
const javaWhiteSpace = `\t-\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}`

// translateEscape writes the RE2 form of the escape at java[i] and returns
// how many bytes of java it used.
func translateEscape(b *strings.Builder, java string, i int, inClass bool) (int, error) {
	if i+1 >= len(java) {
		return 0, fmt.Errorf("trailing backslash: %w", errUnsupported)
	}
	switch e := java[i+1]; e {
	case 'u':
		r, n, err := javaUnicodeEscape(java[i:])
		if err != nil {
			return 0, err
		}
		fmt.Fprintf(b, `\x{%X}`, r)
		return n, nil
	case 'p', 'P':
		name, n := propertyName(java[i:])
		if n == 0 {
			return 0, fmt.Errorf(`malformed \%c: %w`, e, errUnsupported)
		}
		neg := e == 'P'
		if posix, ok := javaPOSIX[strings.TrimPrefix(name, "Is")]; ok {
			switch {
			case inClass && neg:
				fmt.Fprintf(b, "[:^%s:]", posix)
			case inClass:
				fmt.Fprintf(b, "[:%s:]", posix)
			case neg:
				fmt.Fprintf(b, "[^[:%s:]]", posix)
			default:
				fmt.Fprintf(b, "[[:%s:]]", posix)
			}
			return n, nil
		}
		if name == "IsWhitespace" || name == "IsWhite_Space" {
			switch {
			case inClass && !neg:
				b.WriteString(javaWhiteSpace)
			case !inClass && !neg:
				b.WriteString("[" + javaWhiteSpace + "]")
			case !inClass && neg:
				b.WriteString("[^" + javaWhiteSpace + "]")
			default:
				return 0, fmt.Errorf(`negated \p{%s} in a class: %w`, name, errUnsupported)
			}
			return n, nil
		}
		// Unicode categories and scripts: Java accepts an "Is" prefix, RE2 does not.
		name = strings.TrimPrefix(name, "Is")
		fmt.Fprintf(b, `\%c{%s}`, e, name)
		return n, nil
	case 's':
		// Java's \s includes the vertical tab, RE2's does not.
		if inClass {
			b.WriteString(`\t-\r `)
		} else {
			b.WriteString(`[\t-\r ]`)
		}
		return 2, nil
	case 'e':
		b.WriteString(`\x{1B}`)
		return 2, nil
	case 'h', 'H', 'v', 'V', 'R', 'X', 'N', 'G', 'Z', 'c', 'k':
		return 0, fmt.Errorf(`\%c: %w`, e, errUnsupported)
	}
	if d := java[i+1]; d >= '1' && d <= '9' {
		return 0, fmt.Errorf("backreference: %w", errUnsupported)
	}
	b.WriteString(java[i : i+2])
	return 2, nil
}

// javaUnicodeEscape reads \uXXXX, joining a surrogate pair written as two
// escapes into the one code point Java reads it as.
func javaUnicodeEscape(s string) (rune, int, error) {
	hex := func(s string) (rune, bool) {
		if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
			return 0, false
		}
		v, err := strconv.ParseUint(s[2:6], 16, 16)
		return rune(v), err == nil
	}
	r, ok := hex(s)
	if !ok {
		return 0, 0, fmt.Errorf(`malformed \u escape: %w`, errUnsupported)
	}
	if utf16.IsSurrogate(r) {
		if lo, ok := hex(s[6:]); ok {
			if pair := utf16.DecodeRune(r, lo); pair != utf8.RuneError {
				return pair, 12, nil
			}
		}
		return 0, 0, fmt.Errorf("lone surrogate: %w", errUnsupported)
	}
	return r, 6, nil
}

// propertyName reads the name of \p{Name} or \pL, returning the name and
// the length of the escape, or 0 when malformed.
func propertyName(s string) (string, int) {
	if len(s) < 3 {
		return "", 0
	}
	if s[2] != '{' {
		return s[2:3], 3
	}
	end := strings.IndexByte(s, '}')
	if end < 0 {
		return "", 0
	}
	return s[3:end], end + 1
}
