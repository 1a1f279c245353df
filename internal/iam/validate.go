package iam

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	api "overcast/internal/api/iam"
	"overcast/internal/awsproto"
)

// constraint is what IAM's model says a string member must look like. The
// codec checks only that required members are present; lengths and
// patterns are ours to check, with the message AWS's front end writes.
type constraint struct {
	min, max int
	re       *regexp.Regexp // anchored
	pattern  string         // as AWS prints it
}

func newConstraint(min, max int, pattern, goPattern string) constraint {
	c := constraint{min: min, max: max, pattern: pattern}
	if goPattern != "" {
		c.re = regexp.MustCompile(`^(?:` + goPattern + `)$`)
	}
	return c
}

const namePattern = `[\w+=,.@-]+`

var (
	userNameType         = newConstraint(1, 64, namePattern, namePattern)
	existingUserNameType = newConstraint(1, 128, namePattern, namePattern)
	groupNameType        = newConstraint(1, 128, namePattern, namePattern)
	roleNameType         = newConstraint(1, 64, namePattern, namePattern)
	policyNameType       = newConstraint(1, 128, namePattern, namePattern)
	instanceProfileType  = newConstraint(1, 128, namePattern, namePattern)
	customSuffixType     = newConstraint(1, 64, namePattern, namePattern)
	pathType             = newConstraint(1, 512, `(\u002F)|(\u002F[\u0021-\u007E]+\u002F)`, `/|/[\x21-\x7E]+/`)
	policyPathType       = newConstraint(1, 512, `((/[A-Za-z0-9\.,\+@=_-]+)*)/`, `(/[A-Za-z0-9.,+@=_-]+)*/`)
	pathPrefixType       = newConstraint(1, 512, `\u002F[\u0021-\u007F]*`, `/[\x21-\x7F]*`)
	policyDocumentType   = newConstraint(1, 131072, `[\u0009\u000A\u000D\u0020-\u00FF]+`, `[\t\n\r\x{20}-\x{FF}]+`)
	markerType           = newConstraint(1, 320, `[\u0020-\u00FF]+`, `[\x{20}-\x{FF}]+`)
	arnType              = newConstraint(20, 2048, "", "")
	roleDescriptionType  = newConstraint(0, 1000, `[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*`, `[\t\n\r\x{20}-\x{7E}\x{A1}-\x{FF}]*`)
	policyDescType       = newConstraint(0, 1000, "", "")
	tagKeyType           = newConstraint(1, 128, `[\p{L}\p{Z}\p{N}_.:/=+\-@]+`, `[\p{L}\p{Z}\p{N}_.:/=+\-@]+`)
	tagValueType         = newConstraint(0, 256, `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`, `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`)
	accessKeyIDType      = newConstraint(16, 128, `[\w]+`, `\w+`)
	versionIDType        = newConstraint(0, 0, `v[1-9][0-9]*(\.[A-Za-z0-9-]*)?`, `v[1-9][0-9]*(\.[A-Za-z0-9-]*)?`)
	serviceNameType      = newConstraint(1, 128, `[\w+=,.@-]+`, `[\w+=,.@-]+`)
)

// validator collects every constraint a request breaks, because AWS
// reports them all at once ("2 validation errors detected: ...").
type validator struct {
	problems []string
}

func (v *validator) fail(field, value, rule string) {
	v.problems = append(v.problems, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: %s", value, field, rule))
}

// str checks s against c; nil means absent, which the codec already
// rejected if the member is required.
func (v *validator) str(field string, s *string, c constraint) {
	if s == nil {
		return
	}
	if rule := c.check(*s); rule != "" {
		v.fail(field, *s, rule)
	}
}

// check returns the first rule s breaks, or "".
func (c constraint) check(s string) string {
	n := utf8.RuneCountInString(s)
	switch {
	case c.max > 0 && n > c.max:
		return fmt.Sprintf("Member must have length less than or equal to %d", c.max)
	case n < c.min:
		return fmt.Sprintf("Member must have length greater than or equal to %d", c.min)
	case c.re != nil && !c.re.MatchString(s):
		return "Member must satisfy regular expression pattern: " + c.pattern
	}
	return ""
}

func (v *validator) num(field string, n *int32, min, max int32) {
	switch {
	case n == nil:
	case *n < min:
		v.fail(field, fmt.Sprint(*n), fmt.Sprintf("Member must have value greater than or equal to %d", min))
	case *n > max:
		v.fail(field, fmt.Sprint(*n), fmt.Sprintf("Member must have value less than or equal to %d", max))
	}
}

func (v *validator) enum(field string, s *string, values ...string) {
	if s == nil {
		return
	}
	for _, want := range values {
		if *s == want {
			return
		}
	}
	v.fail(field, *s, "Member must satisfy enum value set: ["+strings.Join(values, ", ")+"]")
}

// page checks the Marker and MaxItems every IAM list operation takes.
func (v *validator) page(marker *string, maxItems *int32) {
	v.str("marker", marker, markerType)
	v.num("maxItems", maxItems, 1, 1000)
}

// tags checks a Tags member: at most 50, each key and value well formed.
func (v *validator) tags(tags api.TagListType) {
	if len(tags) > maxTags {
		v.fail("tags", fmt.Sprint(len(tags)), fmt.Sprintf("Member must have length less than or equal to %d", maxTags))
	}
	for i, t := range tags {
		v.str(fmt.Sprintf("tags.%d.member.key", i+1), t.Key, tagKeyType)
		v.str(fmt.Sprintf("tags.%d.member.value", i+1), t.Value, tagValueType)
	}
}

func (v *validator) tagKeys(keys []string) {
	if len(keys) > maxTags {
		v.fail("tagKeys", fmt.Sprint(len(keys)), fmt.Sprintf("Member must have length less than or equal to %d", maxTags))
	}
	for i, k := range keys {
		v.str(fmt.Sprintf("tagKeys.%d.member", i+1), &k, tagKeyType)
	}
}

// err is the ValidationError for everything collected, or nil.
func (v *validator) err() error {
	if len(v.problems) == 0 {
		return nil
	}
	return validationError(awsproto.ValidationMessage(v.problems))
}

func validationError(msg string) error {
	return &awsproto.Error{Code: "ValidationError", Status: 400, Message: msg}
}

// validAccountAlias is IAM's ^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$,
// spelled out because Go's regexp has no lookahead.
func validAccountAlias(s string) bool {
	if len(s) < 3 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
