package iam

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"unicode"

	"overcast"
	api "overcast/internal/api/iam"
)

// docKind says which grammar a policy document must follow: identity
// policies (managed and inline) name actions on resources; trust policies
// name who may assume a role.
type docKind int

const (
	identityPolicy docKind = iota
	trustPolicy
)

// Size quotas, in characters not counting white space, as IAM counts them.
const (
	managedPolicySizeQuota = 6144
	trustPolicySizeQuota   = 2048
	userInlineSizeQuota    = 2048
	groupInlineSizeQuota   = 5120
	roleInlineSizeQuota    = 10240
)

var (
	statementKeys = map[string]bool{"Sid": true, "Effect": true, "Principal": true, "NotPrincipal": true,
		"Action": true, "NotAction": true, "Resource": true, "NotResource": true, "Condition": true}
	sidPattern    = regexp.MustCompile(`^[0-9A-Za-z]*$`)
	actionPattern = regexp.MustCompile(`^[A-Za-z0-9-]+:[A-Za-z0-9*?]+$`)
)

func malformed(format string, args ...any) error {
	return api.NewMalformedPolicyDocumentException(format, args...)
}

// checkPolicyDocument validates doc against IAM's policy grammar, with the
// messages IAM gives for the mistakes people make most.
func checkPolicyDocument(doc string, kind docKind) error {
	top, err := decodeObject([]byte(doc))
	if err != nil {
		return malformed("This policy contains invalid Json")
	}
	for k := range top {
		if k != "Version" && k != "Id" && k != "Statement" {
			return malformed("Syntax errors in policy.")
		}
	}
	if raw, ok := top["Version"]; ok {
		var v string
		if json.Unmarshal(raw, &v) != nil || (v != "2012-10-17" && v != "2008-10-17") {
			return malformed("The policy failed legacy parsing")
		}
	}
	raw, ok := top["Statement"]
	if !ok {
		return malformed("Syntax errors in policy.")
	}
	statements, err := decodeStatements(raw)
	if err != nil {
		return malformed("Syntax errors in policy.")
	}
	sids := map[string]bool{}
	for _, st := range statements {
		if err := checkStatement(st, kind); err != nil {
			return err
		}
		if raw, ok := st["Sid"]; ok && kind == identityPolicy {
			var sid string
			json.Unmarshal(raw, &sid)
			if sid != "" && sids[sid] {
				return malformed("Statement IDs (SID) in a single policy must be unique.")
			}
			sids[sid] = true
		}
	}
	return nil
}

// decodeObject decodes exactly one JSON object and nothing after it.
// Keys stay case-sensitive, as IAM's are ("effect" is not "Effect").
func decodeObject(b []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	var obj map[string]json.RawMessage
	if err := dec.Decode(&obj); err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, fmt.Errorf("not an object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("data after the policy")
	}
	return obj, nil
}

// decodeStatements reads Statement: one object or a non-empty list of them.
func decodeStatements(raw json.RawMessage) ([]map[string]json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '{' {
		var st map[string]json.RawMessage
		if err := json.Unmarshal(raw, &st); err != nil {
			return nil, err
		}
		return []map[string]json.RawMessage{st}, nil
	}
	var list []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("no statements")
	}
	for _, st := range list {
		if st == nil {
			return nil, fmt.Errorf("null statement")
		}
	}
	return list, nil
}

func checkStatement(st map[string]json.RawMessage, kind docKind) error {
	for k := range st {
		if !statementKeys[k] {
			return malformed("Syntax errors in policy.")
		}
	}
	if raw, ok := st["Sid"]; ok {
		var sid string
		if json.Unmarshal(raw, &sid) != nil {
			return malformed("Syntax errors in policy.")
		}
		if kind == identityPolicy && !sidPattern.MatchString(sid) {
			return malformed("Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*")
		}
	}
	raw, ok := st["Effect"]
	if !ok {
		return malformed("Missing required field Effect")
	}
	var effect string
	if json.Unmarshal(raw, &effect) != nil || (effect != "Allow" && effect != "Deny") {
		return malformed("Syntax errors in policy.")
	}

	actions, err := exactlyOne(st, "Action", "NotAction")
	if err != nil {
		return err
	}
	if actions == nil {
		return malformed("Policy statement must contain actions.")
	}
	for _, a := range actions {
		switch {
		case kind == trustPolicy:
			if a != "*" && !strings.HasPrefix(strings.ToLower(a), "sts:") {
				return malformed("AssumeRole policy may only specify STS AssumeRole actions.")
			}
		case a != "*" && !actionPattern.MatchString(a):
			return malformed("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")
		}
	}

	resources, err := exactlyOne(st, "Resource", "NotResource")
	if err != nil {
		return err
	}
	_, hasPrincipal := st["Principal"]
	_, hasNotPrincipal := st["NotPrincipal"]
	switch kind {
	case identityPolicy:
		if hasPrincipal || hasNotPrincipal {
			return malformed("Policy document should not specify a principal.")
		}
		if resources == nil {
			return malformed("Policy statement must contain resources.")
		}
		for _, r := range resources {
			if r != "*" && !isARNPattern(r) {
				return malformed("Resource %s must be in ARN format or \"*\".", r)
			}
		}
	case trustPolicy:
		if resources != nil {
			if _, ok := st["Resource"]; ok {
				return malformed("Has prohibited field Resource")
			}
			return malformed("Has prohibited field NotResource")
		}
		switch {
		case hasPrincipal && hasNotPrincipal:
			return malformed("Syntax errors in policy.")
		case hasPrincipal:
			if err := checkPrincipal(st["Principal"]); err != nil {
				return err
			}
		case hasNotPrincipal:
			if err := checkPrincipal(st["NotPrincipal"]); err != nil {
				return err
			}
		default:
			return malformed("Missing required field Principal")
		}
	}

	if raw, ok := st["Condition"]; ok && !validCondition(raw) {
		return malformed("Syntax errors in policy.")
	}
	return nil
}

// exactlyOne reads the one of a pair of mutually exclusive members
// (Action/NotAction, Resource/NotResource) a statement has; nil, nil when it
// has neither.
func exactlyOne(st map[string]json.RawMessage, name, notName string) ([]string, error) {
	raw, has := st[name]
	notRaw, hasNot := st[notName]
	if has && hasNot {
		return nil, malformed("Syntax errors in policy.")
	}
	if hasNot {
		raw, has = notRaw, true
	}
	if !has {
		return nil, nil
	}
	values, err := stringOrList(raw)
	if err != nil {
		return nil, malformed("Syntax errors in policy.")
	}
	if len(values) == 0 {
		return nil, nil
	}
	return values, nil
}

// stringOrList reads IAM's "a string or a list of strings".
func stringOrList(raw json.RawMessage) ([]string, error) {
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, err
	}
	return many, nil
}

// isARNPattern accepts ARNs and ARN patterns with wildcards and policy
// variables: "arn:" and at least five more colon-separated fields.
func isARNPattern(s string) bool {
	return strings.HasPrefix(s, "arn:") && strings.Count(s, ":") >= 5
}

// checkPrincipal validates a trust policy's Principal: "*" or a map from
// principal type to one or more principals.
func checkPrincipal(raw json.RawMessage) error {
	var star string
	if json.Unmarshal(raw, &star) == nil {
		if star == "*" {
			return nil
		}
		return malformed("Invalid principal in policy: %s", star)
	}
	var byType map[string]json.RawMessage
	if json.Unmarshal(raw, &byType) != nil || len(byType) == 0 {
		return malformed("Syntax errors in policy.")
	}
	for typ, raw := range byType {
		values, err := stringOrList(raw)
		if err != nil || len(values) == 0 {
			return malformed("Syntax errors in policy.")
		}
		for _, v := range values {
			if !validPrincipal(typ, v) {
				return malformed("Invalid principal in policy: \"%s\":\"%s\"", strings.ToUpper(typ), v)
			}
		}
	}
	return nil
}

func validPrincipal(typ, v string) bool {
	switch typ {
	case "AWS":
		if v == "*" || overcast.IsAccountID(v) {
			return true
		}
		a, ok := overcast.ParseARN(v)
		return ok && (a.Service == "iam" || a.Service == "sts") && (overcast.IsAccountID(a.AccountID) || a.AccountID == "aws") && a.Resource != ""
	case "Service":
		return v == "*" || (strings.Contains(v, ".") && !strings.ContainsFunc(v, unicode.IsSpace))
	case "Federated", "CanonicalUser":
		return v != "" && !strings.ContainsFunc(v, unicode.IsSpace)
	}
	return false
}

// validCondition checks Condition's shape: operator → key → a scalar or a
// list of scalars.
func validCondition(raw json.RawMessage) bool {
	var ops map[string]map[string]json.RawMessage
	if json.Unmarshal(raw, &ops) != nil {
		return false
	}
	for op, keys := range ops {
		if op == "" || keys == nil {
			return false
		}
		for key, v := range keys {
			if key == "" || !scalarOrList(v) {
				return false
			}
		}
	}
	return true
}

func scalarOrList(raw json.RawMessage) bool {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return false
	}
	scalar := func(x any) bool {
		switch x.(type) {
		case string, float64, bool:
			return true
		}
		return false
	}
	if list, ok := v.([]any); ok {
		for _, x := range list {
			if !scalar(x) {
				return false
			}
		}
		return true
	}
	return scalar(v)
}

// policySize is a document's size as IAM's quotas count it: characters,
// white space excluded.
func policySize(doc string) int {
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// encodeDocument URL-encodes a policy document the way IAM returns one
// (RFC 3986: only unreserved characters stay; a space is %20, not "+").
// The aws CLI decodes it; SDK users call url.QueryUnescape.
func encodeDocument(doc string) string {
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}
