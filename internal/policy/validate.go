package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"

	"overcast"
)

// Kind says which grammar a document follows.
type Kind int

const (
	// Identity policies (IAM managed and inline policies, session
	// policies) name actions on resources and no principal.
	Identity Kind = iota + 1
	// RoleTrust policies (a role's AssumeRolePolicyDocument) name who may
	// assume the role: a principal, sts: actions and no resource.
	RoleTrust
	// Resource policies (S3 bucket, ECR repository, Secrets Manager secret
	// policies) name a principal and actions; see Scope.
	Resource
)

// Scope is what a service adds to the Resource grammar for the policies
// attached to its resources.
type Scope struct {
	// Vendor is the prefix the policy's actions must have ("s3" for
	// s3:GetObject); "" takes any vendor.
	Vendor string
	// Resource, when set, makes Resource (or NotResource) required and
	// accepts only the patterns it returns true for: a bucket policy may
	// only name its bucket and objects. When nil, Resource is optional
	// and need only look like an ARN: the policy is attached to one resource.
	Resource func(pattern string) bool
}

// AWS's messages. IAM words identity and trust policies' faults; the
// Resource grammar's faults are worded as S3 words them, the one
// resource-policy service with a message per fault.
const (
	msgInvalidJSON = "This policy contains invalid Json"
	msgSyntax      = "Syntax errors in policy."

	msgLegacyParsing     = "The policy failed legacy parsing"
	msgNoEffect          = "Missing required field Effect"
	msgNoActions         = "Policy statement must contain actions."
	msgNoResources       = "Policy statement must contain resources."
	msgNoPrincipal       = "Missing required field Principal"
	msgPrincipalInIdent  = "Policy document should not specify a principal."
	msgTrustActions      = "AssumeRole policy may only specify STS AssumeRole actions."
	msgActionVendor      = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
	msgSidPattern        = "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"
	msgSidUnique         = "Statement IDs (SID) in a single policy must be unique."
	msgResourceFormat    = "Resource %s must be in ARN format or \"*\"."
	msgProhibitedField   = "Has prohibited field %s"
	msgInvalidPrincipal  = "Invalid principal in policy"
	msgResFirstByte      = "Policies must be valid JSON and the first byte must be '{'"
	msgResVersion        = "The policy must contain a valid version string"
	msgResNoStatement    = "Missing required field Statement"
	msgResEmptyStatement = "Could not parse the policy: Statement is empty!"
	msgResEffect         = "Invalid effect: %s"
	msgResNoAction       = "Missing required field Action"
	msgResAction         = "Policy has invalid action"
	msgResNoResource     = "Missing required field Resource"
	msgResResource       = "Policy has invalid resource"
	msgResConditionKey   = "Policy has an invalid condition key"
	msgPartition         = "Partition \"%s\" is not valid for resource \"%s\"."
	msgIAMRegion         = "IAM resource %s cannot contain region information."
)

func fault(format string, args ...any) error {
	if len(args) == 0 {
		return &Error{Message: format}
	}
	return &Error{Message: fmt.Sprintf(format, args...)}
}

// Validate parses text and checks it against kind's grammar (for
// Resource, with no Scope: any vendor, Resource optional). Every error is an
// *Error with AWS's message; one for text that is not a JSON object also
// wraps ErrInvalidJSON.
func Validate(text string, kind Kind) (*Document, error) {
	switch kind {
	case Identity, RoleTrust, Resource:
	default:
		return nil, fmt.Errorf("policy: unknown kind %d", kind)
	}
	return validate(text, kind, Scope{})
}

// ValidateResource parses text and checks it against the Resource grammar
// narrowed by s, as Validate does.
func ValidateResource(text string, s Scope) (*Document, error) {
	return validate(text, Resource, s)
}

func validate(text string, kind Kind, scope Scope) (*Document, error) {
	v := validator{kind: kind, scope: scope}
	raw, err := decode(text)
	if err != nil {
		msg := msgInvalidJSON
		if kind == Resource && !strings.HasPrefix(strings.TrimSpace(text), "{") {
			msg = msgResFirstByte
		}
		return nil, &Error{Message: msg, err: ErrInvalidJSON}
	}
	if err := v.document(raw); err != nil {
		return nil, err
	}
	d, err := raw.build()
	if err != nil {
		return nil, v.syntax() // a shape the checks above let through
	}
	return d, nil
}

// validator checks one document; its checks run in the order AWS's do,
// so that a document with several faults gets the message AWS gives.
type validator struct {
	kind  Kind
	scope Scope
}

func (v validator) iam() bool { return v.kind != Resource }

// syntax is the error for an element of the wrong JSON type or shape.
func (v validator) syntax() error {
	if v.iam() {
		return fault(msgSyntax)
	}
	return fault(msgInvalidJSON)
}

func (v validator) document(raw *rawDocument) error {
	if v.iam() {
		for k := range raw.top {
			if k != "Version" && k != "Id" && k != "Statement" {
				return fault(msgSyntax)
			}
		}
	}
	if r, ok := raw.top["Version"]; ok {
		var version string
		if json.Unmarshal(r, &version) != nil || (version != "2012-10-17" && version != "2008-10-17") {
			if v.iam() {
				return fault(msgLegacyParsing)
			}
			return fault(msgResVersion)
		}
	}
	if r, ok := raw.top["Id"]; ok && !isString(r) {
		return v.syntax()
	}
	switch {
	case raw.stmtErr == nil:
	case v.iam():
		return fault(msgSyntax)
	case errors.Is(raw.stmtErr, errNoStatement):
		return fault(msgResNoStatement)
	case errors.Is(raw.stmtErr, errEmptyStatement):
		return fault(msgResEmptyStatement)
	default:
		return v.syntax()
	}
	sids := map[string]bool{}
	for _, st := range raw.statements {
		var err error
		if v.iam() {
			err = v.iamStatement(st)
		} else {
			err = v.resourceStatement(st)
		}
		if err != nil {
			return err
		}
		if v.kind == Identity {
			var sid string
			json.Unmarshal(st["Sid"], &sid)
			if sid != "" && sids[sid] {
				return fault(msgSidUnique)
			}
			sids[sid] = true
		}
	}
	return nil
}

// iamStatement checks a statement of an identity or trust policy.
func (v validator) iamStatement(st object) error {
	for k := range st {
		switch k {
		case "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition":
		default:
			return fault(msgSyntax)
		}
	}
	if r, ok := st["Sid"]; ok {
		var sid string
		if json.Unmarshal(r, &sid) != nil {
			return fault(msgSyntax)
		}
		if v.kind == Identity && !validSid(sid) {
			return fault(msgSidPattern)
		}
	}
	r, ok := st["Effect"]
	if !ok {
		return fault(msgNoEffect)
	}
	var effect Effect
	if json.Unmarshal(r, &effect) != nil || (effect != Allow && effect != Deny) {
		return fault(msgSyntax)
	}

	actions, err := v.actions(st, msgNoActions)
	if err != nil {
		return err
	}
	for _, a := range actions {
		switch {
		case v.kind == RoleTrust:
			if a != "*" && !strings.HasPrefix(strings.ToLower(a), "sts:") {
				return fault(msgTrustActions)
			}
		case a != "*" && !validAction(a):
			return fault(msgActionVendor)
		}
	}

	resources, err := v.either(st, "Resource", "NotResource")
	if err != nil {
		return err
	}
	_, hasPrincipal := st["Principal"]
	_, hasNotPrincipal := st["NotPrincipal"]
	switch v.kind {
	case Identity:
		if hasPrincipal || hasNotPrincipal {
			return fault(msgPrincipalInIdent)
		}
		if len(resources) == 0 {
			return fault(msgNoResources)
		}
		for _, r := range resources {
			if r == "*" {
				continue
			}
			if !isARNPattern(r) {
				return fault(msgResourceFormat, r)
			}
			if err := checkResourceARN(r); err != nil {
				return err
			}
		}
	case RoleTrust:
		if len(resources) > 0 {
			if _, ok := st["Resource"]; ok {
				return fault(msgProhibitedField, "Resource")
			}
			return fault(msgProhibitedField, "NotResource")
		}
		if err := v.principal(st); err != nil {
			return err
		}
	}
	return v.condition(st)
}

// resourceStatement checks a statement of a resource policy.
func (v validator) resourceStatement(st object) error {
	if r, ok := st["Sid"]; ok && !isString(r) {
		return v.syntax()
	}
	var effect string
	if r, ok := st["Effect"]; ok && json.Unmarshal(r, &effect) != nil {
		return v.syntax()
	}
	if Effect(effect) != Allow && Effect(effect) != Deny {
		return fault(msgResEffect, effect)
	}
	if err := v.principal(st); err != nil {
		return err
	}

	actions, err := v.actions(st, msgResNoAction)
	if err != nil {
		return err
	}
	for _, a := range actions {
		ok := a == "*" || validAction(a)
		if v.scope.Vendor != "" {
			ok = a == "*" || strings.HasPrefix(strings.ToLower(a), v.scope.Vendor+":")
		}
		if !ok {
			return fault(msgResAction)
		}
	}

	resources, err := v.either(st, "Resource", "NotResource")
	if err != nil {
		return err
	}
	if len(resources) == 0 && v.scope.Resource != nil {
		return fault(msgResNoResource)
	}
	for _, r := range resources {
		ok := r == "*" || isARNPattern(r)
		if v.scope.Resource != nil {
			ok = v.scope.Resource(r)
		}
		if !ok {
			return fault(msgResResource)
		}
	}
	return v.condition(st)
}

// actions reads Action or NotAction, which every statement needs; missing
// is the kind's message for a statement with neither or an empty list.
func (v validator) actions(st object, missing string) ([]string, error) {
	actions, err := v.either(st, "Action", "NotAction")
	if err == nil && len(actions) == 0 {
		err = &Error{Message: missing}
	}
	return actions, err
}

// either reads the one of a pair of exclusive elements (Action/NotAction,
// Resource/NotResource) a statement has; nil when it has neither.
func (v validator) either(st object, name, notName string) ([]string, error) {
	r, has := st[name]
	notRaw, hasNot := st[notName]
	if has && hasNot {
		return nil, fault(msgSyntax)
	}
	if hasNot {
		r, has = notRaw, true
	}
	if !has {
		return nil, nil
	}
	values, err := stringOrList(r)
	if err != nil {
		return nil, v.syntax()
	}
	return values, nil
}

// principal checks Principal or NotPrincipal, one of which trust and
// resource policies need: "*" or principals by type.
func (v validator) principal(st object) error {
	r, hasPrincipal := st["Principal"]
	notRaw, hasNot := st["NotPrincipal"]
	switch {
	case hasPrincipal && hasNot:
		return fault(msgSyntax)
	case hasNot:
		r = notRaw
	case !hasPrincipal:
		return fault(msgNoPrincipal)
	}
	invalid := func(value string) error {
		if !v.iam() {
			return fault(msgInvalidPrincipal)
		}
		return fault(msgInvalidPrincipal+": %s", value)
	}
	var star string
	if json.Unmarshal(r, &star) == nil {
		if star == "*" {
			return nil
		}
		return invalid(star)
	}
	var byType object
	if json.Unmarshal(r, &byType) != nil || len(byType) == 0 {
		if !v.iam() {
			return fault(msgInvalidPrincipal)
		}
		return fault(msgSyntax)
	}
	types := make([]string, 0, len(byType))
	for typ := range byType {
		types = append(types, typ)
	}
	sort.Strings(types)
	for _, typ := range types {
		values, err := stringOrList(byType[typ])
		if err != nil || len(values) == 0 {
			if !v.iam() {
				return fault(msgInvalidPrincipal)
			}
			return fault(msgSyntax)
		}
		for _, id := range values {
			if !validPrincipal(typ, id) {
				return invalid(fmt.Sprintf("\"%s\":\"%s\"", strings.ToUpper(typ), id))
			}
		}
	}
	return nil
}

func validPrincipal(typ, id string) bool {
	switch typ {
	case "AWS":
		if id == "*" || overcast.IsAccountID(id) {
			return true
		}
		a, ok := overcast.ParseARN(id)
		// Besides accounts' own, AWS's ("aws") and CloudFront's, whose
		// origin access identities are users of its account "cloudfront".
		return ok && (a.Service == "iam" || a.Service == "sts") &&
			(overcast.IsAccountID(a.AccountID) || a.AccountID == "aws" || a.AccountID == "cloudfront") && a.Resource != ""
	case "Service":
		return id == "*" || (strings.Contains(id, ".") && !strings.ContainsFunc(id, unicode.IsSpace))
	case "Federated", "CanonicalUser":
		return id != "" && !strings.ContainsFunc(id, unicode.IsSpace)
	}
	return false
}

// condition checks Condition's shape, operator → key → a scalar or a list
// of scalars, and for resource policies that each operator is AWS's.
func (v validator) condition(st object) error {
	r, ok := st["Condition"]
	if !ok {
		return nil
	}
	var ops map[string]object
	if json.Unmarshal(r, &ops) != nil {
		return v.syntax()
	}
	for op, keys := range ops {
		if op == "" || keys == nil {
			return v.syntax()
		}
		for key, value := range keys {
			if _, err := scalarOrList(value); key == "" || err != nil {
				return v.syntax()
			}
		}
		if !v.iam() && !parseOperator(op).known() {
			return fault(msgResConditionKey)
		}
	}
	return nil
}

// isARNPattern accepts ARNs and ARN patterns with wildcards and policy
// variables: "arn:" and at least five more colon-separated fields.
// checkResourceARN checks what IAM checks of an identity policy's resource
// ARN beyond its shape: the partition is the account's (overcast's accounts
// are all in "aws"; a wildcard or policy variable stands for it), and IAM's
// own resources are global, so they name no region.
func checkResourceARN(arn string) error {
	parts := strings.SplitN(arn, ":", 6)
	partition, service, region := parts[1], parts[2], parts[3]
	if partition != "aws" && !strings.ContainsAny(partition, "*?$") {
		return fault(msgPartition, partition, arn)
	}
	if service == "iam" && region != "" && !strings.ContainsAny(region, "*?$") {
		return fault(msgIAMRegion, arn)
	}
	return nil
}

func isARNPattern(s string) bool {
	return strings.HasPrefix(s, "arn:") && strings.Count(s, ":") >= 5
}

func isString(r json.RawMessage) bool {
	var s string
	return json.Unmarshal(r, &s) == nil && !isNull(r)
}

// validSid: IAM's Sids match [0-9A-Za-z]*.
func validSid(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return !isAlnum(r) })
}

// validAction: a vendor and an action name, [A-Za-z0-9-]+:[A-Za-z0-9*?]+.
func validAction(s string) bool {
	vendor, name, ok := strings.Cut(s, ":")
	return ok && vendor != "" && name != "" &&
		!strings.ContainsFunc(vendor, func(r rune) bool { return !isAlnum(r) && r != '-' }) &&
		!strings.ContainsFunc(name, func(r rune) bool { return !isAlnum(r) && r != '*' && r != '?' })
}

func isAlnum(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
}
