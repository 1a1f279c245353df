package policy

import (
	"strings"

	"overcast"
)

// Decision is what policies say about a request.
type Decision int

const (
	// NoMatch: no statement applies, which AWS calls an implicit deny;
	// whether the request goes ahead is the caller's rule (a bucket's
	// owner, say, needs no Allow in the bucket policy).
	NoMatch Decision = iota
	// Allowed: a statement allows the request and none denies it.
	Allowed
	// Denied: a statement denies the request, whatever else allows it.
	Denied
)

func (d Decision) String() string {
	switch d {
	case Allowed:
		return "Allowed"
	case Denied:
		return "Denied"
	}
	return "NoMatch"
}

// Principal is who a request is evaluated for.
type Principal struct {
	// Kind is the kind of IAM identity; "" is worked out from ARN.
	Kind      overcast.PrincipalKind
	AccountID string
	ARN       string // user, role session, federated user or account root ARN
	UserID    string // aws:userid: AIDA..., or AROA...:session
	// RoleARN is the role behind an assumed-role session, with its path;
	// when empty it is worked out from the session's ARN.
	RoleARN string
	// Service is an AWS service principal (cloudfront.amazonaws.com)
	// acting on its own behalf; it belongs to no account.
	Service string
	// Federated is an identity provider's ARN (an IAM OIDC or SAML
	// provider) vouching for a caller who has no IAM identity yet, as in
	// AssumeRoleWithWebIdentity and AssumeRoleWithSAML.
	Federated string
}

// PrincipalOf is the principal a request's caller is.
func PrincipalOf(c overcast.Caller) Principal {
	if c.Kind == overcast.PrincipalAnonymous {
		return Principal{Kind: overcast.PrincipalAnonymous}
	}
	return Principal{Kind: c.Kind, AccountID: c.AccountID, ARN: c.ARN, UserID: c.UserID, RoleARN: c.RoleARN}
}

func (p *Principal) anonymous() bool {
	return p.Kind == overcast.PrincipalAnonymous || (p.AccountID == "" && p.Service == "")
}

func (p *Principal) kind() overcast.PrincipalKind {
	switch {
	case p.Kind != "":
		return p.Kind
	case p.anonymous():
		return overcast.PrincipalAnonymous
	}
	a, _ := overcast.ParseARN(p.ARN)
	switch {
	case a.Resource == "root":
		return overcast.PrincipalRoot
	case strings.HasPrefix(a.Resource, "user/"):
		return overcast.PrincipalUser
	case strings.HasPrefix(a.Resource, "assumed-role/"):
		return overcast.PrincipalAssumedRole
	case strings.HasPrefix(a.Resource, "federated-user/"):
		return overcast.PrincipalFederated
	}
	return ""
}

// role is the role ARN an assumed-role session stands for, or "".
func (p *Principal) role() string {
	if p.RoleARN != "" {
		return p.RoleARN
	}
	a, ok := overcast.ParseARN(p.ARN)
	if !ok || a.Service != "sts" {
		return ""
	}
	rest, ok := strings.CutPrefix(a.Resource, "assumed-role/")
	if !ok {
		return ""
	}
	name, _, ok := strings.Cut(rest, "/")
	if !ok {
		return ""
	}
	return overcast.ARN{Partition: a.Partition, Service: "iam", AccountID: a.AccountID, Resource: "role/" + name}.String()
}

// Request is one question put to policies: may Principal do Action on
// Resource, given Context?
type Request struct {
	Principal Principal
	Action    string // s3:GetObject
	// Resource is the resource's ARN; statements without Resource or
	// NotResource apply whatever it is.
	Resource string
	// Context holds the condition keys the service knows, by name in any
	// case: aws:SourceArn, aws:SecureTransport, s3:prefix, sts:ExternalId...
	// The keys about the principal (aws:PrincipalArn, aws:PrincipalAccount,
	// aws:PrincipalType, aws:userid, aws:username, aws:PrincipalIsAWSService,
	// aws:PrincipalServiceName) are worked out from Principal unless given.
	Context map[string][]string
}

// Evaluate decides r against docs taken together: an explicit Deny in any
// of them wins, then an Allow in any; nil documents are skipped.
func Evaluate(r Request, docs ...*Document) Decision {
	e := &evaluation{Request: &r}
	d := NoMatch
	for _, doc := range docs {
		if doc == nil {
			continue
		}
		e.variables = doc.Version == "2012-10-17"
		for i := range doc.Statement {
			st := &doc.Statement[i]
			if !st.applies(e) {
				continue
			}
			if st.Effect == Deny {
				return Denied
			}
			if st.Effect == Allow {
				d = Allowed
			}
		}
	}
	return d
}

// Matching returns the indexes of doc's statements that apply to r, Allow
// and Deny alike: what IAM's policy simulator reports as matched
// statements, and what tells an evaluator which kind of policy denied.
func Matching(r Request, doc *Document) []int {
	if doc == nil {
		return nil
	}
	e := &evaluation{Request: &r, variables: doc.Version == "2012-10-17"}
	var matched []int
	for i := range doc.Statement {
		if doc.Statement[i].applies(e) {
			matched = append(matched, i)
		}
	}
	return matched
}

// evaluation is a Request being evaluated against one document.
type evaluation struct {
	*Request
	// variables: the document is of the version that has policy variables.
	variables bool
}

func (st *Statement) applies(e *evaluation) bool {
	p := &e.Principal
	if st.Principal != nil && !st.Principal.match(p) {
		return false
	}
	if st.NotPrincipal != nil && st.NotPrincipal.match(p) {
		return false
	}
	switch {
	case st.Action != nil:
		if !anyAction(st.Action, e.Action) {
			return false
		}
	case st.NotAction != nil:
		if anyAction(st.NotAction, e.Action) {
			return false
		}
	default:
		return false // a statement without actions allows and denies nothing
	}
	if st.Resource != nil && !e.anyResource(st.Resource) {
		return false
	}
	if st.NotResource != nil && e.anyResource(st.NotResource) {
		return false
	}
	for i := range st.Condition {
		if !st.Condition[i].holds(e) {
			return false
		}
	}
	return true
}

func anyAction(patterns []string, action string) bool {
	for _, p := range patterns {
		if matchAction(p, action) {
			return true
		}
	}
	return false
}

func (e *evaluation) anyResource(patterns []string) bool {
	for _, p := range patterns {
		if e.variables {
			var ok bool
			if p, ok = e.expand(p); !ok {
				continue
			}
		}
		if Match(p, e.Resource) {
			return true
		}
	}
	return false
}

// match reports whether the element names p: "*" names everyone; an
// account (by ID or root ARN) every identity of the account; a role every
// session of the role; a service its service principal.
func (ps *Principals) match(p *Principal) bool {
	if ps.All {
		return true
	}
	if p.Service != "" {
		return namesAny(ps.Service, p.Service)
	}
	if p.Federated != "" {
		return namesAny(ps.Federated, p.Federated)
	}
	anonymous := p.anonymous()
	role := ""
	if !anonymous {
		role = p.role()
	}
	for _, id := range ps.AWS {
		switch {
		case id == "*":
			return true
		case anonymous:
		case id == p.AccountID || id == p.ARN || (role != "" && id == role):
			return true
		case isAccountRoot(id, p.AccountID):
			return true
		}
	}
	return false
}

// namesAny reports whether ids names id, or holds "*".
func namesAny(ids []string, id string) bool {
	for _, s := range ids {
		if s == id || s == "*" {
			return true
		}
	}
	return false
}

// isAccountRoot reports whether id is arn:<partition>:iam::<account>:root.
func isAccountRoot(id, account string) bool {
	a, ok := overcast.ParseARN(id)
	return ok && a.Service == "iam" && a.Resource == "root" && a.AccountID == account
}

// lookup returns a condition key's values: the request's own, else the
// ones worked out from the principal. key is in lower case.
func (e *evaluation) lookup(key string) ([]string, bool) {
	if v, ok := e.Context[key]; ok {
		return v, true
	}
	for k, v := range e.Context {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return e.principalKey(key)
}

// principalKey answers the global condition keys about the principal.
func (e *evaluation) principalKey(key string) ([]string, bool) {
	p := &e.Principal
	one := func(s string) ([]string, bool) { return []string{s}, s != "" }
	switch key {
	case "aws:principalisawsservice":
		return one(boolString(p.Service != ""))
	case "aws:principalservicename":
		return one(p.Service)
	}
	if p.Service != "" {
		return nil, false
	}
	kind := p.kind()
	switch key {
	case "aws:principaltype":
		return one(principalType(kind))
	}
	if p.anonymous() {
		return nil, false
	}
	switch key {
	case "aws:principalaccount":
		return one(p.AccountID)
	case "aws:principalarn":
		// For a role session AWS gives the role's ARN, not the session's.
		if kind == overcast.PrincipalAssumedRole {
			return one(p.role())
		}
		return one(p.ARN)
	case "aws:userid":
		return one(p.UserID)
	case "aws:username":
		if kind != overcast.PrincipalUser {
			return nil, false
		}
		a, _ := overcast.ParseARN(p.ARN)
		return one(a.Resource[strings.LastIndexByte(a.Resource, '/')+1:])
	}
	return nil, false
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// principalType is aws:PrincipalType's value for a kind of identity.
func principalType(k overcast.PrincipalKind) string {
	switch k {
	case overcast.PrincipalRoot:
		return "Account"
	case overcast.PrincipalUser:
		return "User"
	case overcast.PrincipalAssumedRole:
		return "AssumedRole"
	case overcast.PrincipalFederated:
		return "FederatedUser"
	}
	return "Anonymous"
}

// expand replaces the policy variables in s (${aws:username},
// ${s3:prefix, 'default'}) with their single value; ok is false when one
// has no value and no default, for then s names nothing. ${*}, ${?} and
// ${$} stand for the character, which in a pattern is still a wildcard:
// a simplification, as no ARN or name overcast makes contains one.
func (e *evaluation) expand(s string) (string, bool) {
	if !strings.Contains(s, "${") {
		return s, true
	}
	var b strings.Builder
	for {
		start := strings.Index(s, "${")
		if start < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		end := strings.IndexByte(s[start:], '}')
		if end < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		b.WriteString(s[:start])
		name := strings.TrimSpace(s[start+2 : start+end])
		s = s[start+end+1:]
		switch name {
		case "*", "?", "$":
			b.WriteString(name)
			continue
		}
		name, def, hasDefault := strings.Cut(name, ",")
		values, ok := e.lookup(strings.ToLower(strings.TrimSpace(name)))
		switch {
		case ok && len(values) == 1:
			b.WriteString(values[0])
		case hasDefault:
			b.WriteString(strings.Trim(strings.TrimSpace(def), "'"))
		default:
			return "", false
		}
	}
}

// expandAll expands every value, dropping those that name nothing.
func (e *evaluation) expandAll(values []string) []string {
	out := make([]string, 0, len(values))
	for _, v := range values {
		if x, ok := e.expand(v); ok {
			out = append(out, x)
		}
	}
	return out
}

// Public reports whether d grants access to everyone: an Allow for
// Principal "*" (or a "*" of any principal type, or a NotPrincipal) that no
// condition pins to a fixed account, source, network or organization. It is
// the test S3's and Secrets Manager's BlockPublicPolicy settings make,
// simplified to the keys AWS names.
func (d *Document) Public() bool {
	for i := range d.Statement {
		st := &d.Statement[i]
		if st.Effect == Allow && (st.NotPrincipal != nil || (st.Principal != nil && st.Principal.wildcard())) && !st.pinned() {
			return true
		}
	}
	return false
}

func (ps *Principals) wildcard() bool {
	if ps.All {
		return true
	}
	for _, ids := range [][]string{ps.AWS, ps.Service, ps.Federated, ps.CanonicalUser} {
		for _, id := range ids {
			if id == "*" {
				return true
			}
		}
	}
	return false
}

// pinned reports whether a positive condition fixes one of the keys that
// say who or where the caller is to values without wildcards.
func (st *Statement) pinned() bool {
	for i := range st.Condition {
		c := &st.Condition[i]
		if c.op.negated || c.op.compare == nil || c.op.set == forAllValues || len(c.Values) == 0 {
			continue
		}
		switch c.key {
		case "aws:sourcearn", "aws:sourceaccount", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceip",
			"aws:principalaccount", "aws:principalarn", "aws:principalorgid", "aws:sourceowner", "aws:userid":
		default:
			continue
		}
		fixed := true
		for _, v := range c.Values {
			if strings.ContainsAny(v, "*?") {
				fixed = false
			}
		}
		if fixed {
			return true
		}
	}
	return false
}
