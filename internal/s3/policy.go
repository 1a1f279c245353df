package s3

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Bucket policies: parsed and validated on PutBucketPolicy, evaluated for
// every request that is not the bucket owner's own (anonymous callers,
// other accounts, AWS service principals such as CloudFront).

// policy is a parsed bucket policy.
type policy struct {
	Version    string
	ID         string
	Statements []statement
}

type statement struct {
	Sid          string
	Effect       string // Allow or Deny
	Principal    *principalSet
	NotPrincipal *principalSet
	Action       []string
	NotAction    []string
	Resource     []string
	NotResource  []string
	Condition    map[string]map[string][]string // operator → key → values
}

// principalSet is a Principal element: "*" or a map of kinds to values.
type principalSet struct {
	Any bool                // "*"
	IDs map[string][]string // AWS, Service, CanonicalUser, Federated
}

// stringList decodes a JSON string or array of strings.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var items []any
		if err := json.Unmarshal(b, &items); err != nil {
			return err
		}
		for _, it := range items {
			s, err := scalarString(it)
			if err != nil {
				return err
			}
			*l = append(*l, s)
		}
		return nil
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	s, err := scalarString(v)
	if err != nil {
		return err
	}
	*l = stringList{s}
	return nil
}

// scalarString accepts the scalars IAM accepts in policies: strings,
// and numbers and booleans that it reads as strings.
func scalarString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	}
	return "", fmt.Errorf("expected a string, got %T", v)
}

type rawStatement struct {
	Sid          string                           `json:"Sid"`
	Effect       string                           `json:"Effect"`
	Principal    json.RawMessage                  `json:"Principal"`
	NotPrincipal json.RawMessage                  `json:"NotPrincipal"`
	Action       stringList                       `json:"Action"`
	NotAction    stringList                       `json:"NotAction"`
	Resource     stringList                       `json:"Resource"`
	NotResource  stringList                       `json:"NotResource"`
	Condition    map[string]map[string]stringList `json:"Condition"`
}

// parsePolicy parses and validates a bucket policy for bucket, with the
// messages S3 gives in MalformedPolicy errors.
func parsePolicy(doc, bucket string) (*policy, error) {
	doc = strings.TrimSpace(doc)
	if !strings.HasPrefix(doc, "{") {
		return nil, errMalformedPolicy("Policies must be valid JSON and the first byte must be '{'")
	}
	var raw struct {
		Version   string          `json:"Version"`
		ID        string          `json:"Id"`
		Statement json.RawMessage `json:"Statement"`
	}
	dec := json.NewDecoder(strings.NewReader(doc))
	if err := dec.Decode(&raw); err != nil {
		return nil, errMalformedPolicy("Policies must be valid JSON and the first byte must be '{'")
	}
	if raw.Version != "" && raw.Version != "2012-10-17" && raw.Version != "2008-10-17" {
		return nil, errMalformedPolicy("The policy must contain a valid version string")
	}
	var stmts []rawStatement
	switch s := bytes.TrimSpace(raw.Statement); {
	case len(s) == 0:
		return nil, errMalformedPolicy("Missing required field Statement")
	case s[0] == '[':
		if err := json.Unmarshal(s, &stmts); err != nil {
			return nil, errMalformedPolicy("Statement is not valid: " + err.Error())
		}
	default:
		var one rawStatement
		if err := json.Unmarshal(s, &one); err != nil {
			return nil, errMalformedPolicy("Statement is not valid: " + err.Error())
		}
		stmts = []rawStatement{one}
	}
	if len(stmts) == 0 {
		return nil, errMalformedPolicy("Could not parse the policy: Statement is empty!")
	}
	p := &policy{Version: raw.Version, ID: raw.ID}
	for _, rs := range stmts {
		st, err := parseStatement(rs, bucket)
		if err != nil {
			return nil, err
		}
		p.Statements = append(p.Statements, st)
	}
	return p, nil
}

func parseStatement(rs rawStatement, bucket string) (statement, error) {
	st := statement{Sid: rs.Sid, Effect: rs.Effect, Action: rs.Action, NotAction: rs.NotAction,
		Resource: rs.Resource, NotResource: rs.NotResource}
	if st.Effect != "Allow" && st.Effect != "Deny" {
		return st, errMalformedPolicy("Invalid effect: " + st.Effect)
	}
	var err error
	if st.Principal, err = parsePrincipal(rs.Principal); err != nil {
		return st, err
	}
	if st.NotPrincipal, err = parsePrincipal(rs.NotPrincipal); err != nil {
		return st, err
	}
	if st.Principal == nil && st.NotPrincipal == nil {
		return st, errMalformedPolicy("Missing required field Principal")
	}
	if len(st.Action) == 0 && len(st.NotAction) == 0 {
		return st, errMalformedPolicy("Missing required field Action")
	}
	for _, a := range append(append([]string(nil), st.Action...), st.NotAction...) {
		if a != "*" && !strings.HasPrefix(strings.ToLower(a), "s3:") {
			return st, errMalformedPolicy("Policy has invalid action")
		}
	}
	if len(st.Resource) == 0 && len(st.NotResource) == 0 {
		return st, errMalformedPolicy("Missing required field Resource")
	}
	for _, r := range append(append([]string(nil), st.Resource...), st.NotResource...) {
		if !resourceInBucket(r, bucket) {
			return st, errMalformedPolicy("Policy has invalid resource")
		}
	}
	if len(rs.Condition) > 0 {
		st.Condition = map[string]map[string][]string{}
		for op, kv := range rs.Condition {
			if !knownConditionOperator(op) {
				return st, errMalformedPolicy("Policy has an invalid condition key")
			}
			m := map[string][]string{}
			for k, v := range kv {
				m[strings.ToLower(k)] = v
			}
			st.Condition[op] = m
		}
	}
	return st, nil
}

// resourceInBucket reports whether a Resource pattern can only name the
// bucket or its objects, as S3 requires of a bucket policy.
func resourceInBucket(r, bucket string) bool {
	if r == "*" {
		return true
	}
	rest, ok := strings.CutPrefix(r, "arn:aws:s3:::")
	if !ok {
		return false
	}
	name, _, _ := strings.Cut(rest, "/")
	return wildcardMatch(name, bucket, false)
}

func parsePrincipal(raw json.RawMessage) (*principalSet, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var star string
	if json.Unmarshal(raw, &star) == nil {
		if star != "*" {
			return nil, errMalformedPolicy("Invalid principal in policy")
		}
		return &principalSet{Any: true}, nil
	}
	var m map[string]stringList
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, errMalformedPolicy("Invalid principal in policy")
	}
	ps := &principalSet{IDs: map[string][]string{}}
	for kind, ids := range m {
		switch kind {
		case "AWS", "Service", "CanonicalUser", "Federated":
		default:
			return nil, errMalformedPolicy("Invalid principal in policy")
		}
		for _, id := range ids {
			if kind == "AWS" && id != "*" && !strings.HasPrefix(id, "arn:") && !isAccountID(id) {
				return nil, errMalformedPolicy("Invalid principal in policy")
			}
		}
		ps.IDs[kind] = ids
	}
	return ps, nil
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

var conditionOperators = []string{
	"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
	"StringLike", "StringNotLike", "ArnEquals", "ArnNotEquals", "ArnLike", "ArnNotLike",
	"NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
	"NumericGreaterThan", "NumericGreaterThanEquals", "Bool", "IpAddress", "NotIpAddress", "Null",
	"DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals",
}

// splitOperator strips the ForAnyValue:/ForAllValues: qualifier and the
// IfExists suffix from a condition operator.
func splitOperator(op string) (base string, ifExists bool, set string) {
	if q, rest, ok := strings.Cut(op, ":"); ok {
		set, op = q, rest
	}
	base, ifExists = strings.CutSuffix(op, "IfExists")
	return base, ifExists, set
}

func knownConditionOperator(op string) bool {
	base, _, set := splitOperator(op)
	if set != "" && set != "ForAnyValue" && set != "ForAllValues" {
		return false
	}
	for _, o := range conditionOperators {
		if o == base {
			return true
		}
	}
	return false
}

// principal is who a policy is evaluated for.
type principal struct {
	Anonymous bool
	Account   string // AWS principals
	ARN       string // user, role, or assumed-role session ARN
	RoleARN   string // the role behind an assumed-role session
	Service   string // AWS service principal, e.g. cloudfront.amazonaws.com
}

// request is what a policy decides on.
type request struct {
	Principal principal
	Action    string            // s3:GetObject
	Resource  string            // arn:aws:s3:::bucket/key
	Context   map[string]string // condition keys, lower case: aws:sourcearn, s3:prefix ...
}

type decision int

const (
	noDecision decision = iota
	allowed
	denied
)

// evaluate applies the policy: an explicit Deny wins, then an Allow.
func (p *policy) evaluate(r request) decision {
	d := noDecision
	for _, st := range p.Statements {
		if !st.applies(r) {
			continue
		}
		if st.Effect == "Deny" {
			return denied
		}
		d = allowed
	}
	return d
}

func (st *statement) applies(r request) bool {
	if st.Principal != nil && !st.Principal.matches(r.Principal) {
		return false
	}
	if st.NotPrincipal != nil && st.NotPrincipal.matches(r.Principal) {
		return false
	}
	if len(st.Action) > 0 && !anyMatch(st.Action, r.Action, true) {
		return false
	}
	if len(st.NotAction) > 0 && anyMatch(st.NotAction, r.Action, true) {
		return false
	}
	if len(st.Resource) > 0 && !anyMatch(st.Resource, r.Resource, false) {
		return false
	}
	if len(st.NotResource) > 0 && anyMatch(st.NotResource, r.Resource, false) {
		return false
	}
	for op, kv := range st.Condition {
		for key, values := range kv {
			if !conditionHolds(op, key, values, r.Context) {
				return false
			}
		}
	}
	return true
}

func (ps *principalSet) matches(p principal) bool {
	if ps.Any {
		return true
	}
	if p.Service != "" {
		for _, s := range ps.IDs["Service"] {
			if s == p.Service {
				return true
			}
		}
		return false
	}
	for _, id := range ps.IDs["AWS"] {
		switch {
		case id == "*":
			return true
		case p.Anonymous:
		case id == p.Account || id == "arn:aws:iam::"+p.Account+":root":
			return true
		case id == p.ARN || (p.RoleARN != "" && id == p.RoleARN):
			return true
		}
	}
	return false
}

func anyMatch(patterns []string, s string, foldCase bool) bool {
	for _, p := range patterns {
		if wildcardMatch(p, s, foldCase) {
			return true
		}
	}
	return false
}

// wildcardMatch matches s against a pattern where * is any run of
// characters and ? any one character.
func wildcardMatch(pattern, s string, foldCase bool) bool {
	if foldCase {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	// Iterative glob with backtracking to the last star.
	p, i, star, mark := 0, 0, -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// conditionHolds evaluates one condition key against the request context.
func conditionHolds(op, key string, values []string, ctx map[string]string) bool {
	base, ifExists, _ := splitOperator(op)
	got, present := ctx[key]
	if base == "Null" {
		want := len(values) > 0 && strings.EqualFold(values[0], "true")
		return want == !present
	}
	if !present {
		// Negated operators hold when the key is absent, as in IAM.
		return ifExists || strings.Contains(base, "Not")
	}
	match := func(v string) bool {
		switch base {
		case "StringEquals", "StringNotEquals", "ArnEquals", "ArnNotEquals":
			return got == v
		case "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase":
			return strings.EqualFold(got, v)
		case "StringLike", "StringNotLike", "ArnLike", "ArnNotLike":
			return wildcardMatch(v, got, false)
		case "Bool":
			return strings.EqualFold(got, v)
		case "IpAddress", "NotIpAddress":
			return ipInCIDR(got, v)
		case "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
			"NumericGreaterThan", "NumericGreaterThanEquals":
			a, err1 := strconv.ParseFloat(got, 64)
			b, err2 := strconv.ParseFloat(v, 64)
			if err1 != nil || err2 != nil {
				return false
			}
			switch base {
			case "NumericEquals", "NumericNotEquals":
				return a == b
			case "NumericLessThan":
				return a < b
			case "NumericLessThanEquals":
				return a <= b
			case "NumericGreaterThan":
				return a > b
			default:
				return a >= b
			}
		}
		return false
	}
	any := false
	for _, v := range values {
		if match(v) {
			any = true
			break
		}
	}
	if strings.Contains(base, "Not") {
		return !any
	}
	return any
}

func ipInCIDR(ip, cidr string) bool {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	if !strings.Contains(cidr, "/") {
		other, err := netip.ParseAddr(cidr)
		return err == nil && other == addr
	}
	pfx, err := netip.ParsePrefix(cidr)
	return err == nil && pfx.Contains(addr)
}

// isPublic reports whether the policy grants access to everyone: an Allow
// for Principal "*" not pinned down by a condition on who or where the
// caller is (S3's definition, simplified to the keys it names).
func (p *policy) isPublic() bool {
	for _, st := range p.Statements {
		if st.Effect != "Allow" || st.Principal == nil || !st.Principal.public() {
			continue
		}
		if !st.restricted() {
			return true
		}
	}
	return false
}

func (ps *principalSet) public() bool {
	if ps.Any {
		return true
	}
	for _, id := range ps.IDs["AWS"] {
		if id == "*" {
			return true
		}
	}
	return false
}

// restricted reports whether a condition fixes the caller's account,
// source ARN, network or organization to values without wildcards.
func (st *statement) restricted() bool {
	fixing := map[string]bool{"aws:sourcearn": true, "aws:sourceaccount": true, "aws:sourcevpc": true,
		"aws:sourcevpce": true, "aws:sourceip": true, "aws:principalaccount": true, "aws:principalarn": true,
		"aws:principalorgid": true, "aws:sourceowner": true, "aws:userid": true}
	for op, kv := range st.Condition {
		base, _, _ := splitOperator(op)
		if strings.Contains(base, "Not") {
			continue
		}
		for key, values := range kv {
			if !fixing[key] {
				continue
			}
			fixed := len(values) > 0
			for _, v := range values {
				if strings.ContainsAny(v, "*?") {
					fixed = false
				}
			}
			if fixed {
				return true
			}
		}
	}
	return false
}
