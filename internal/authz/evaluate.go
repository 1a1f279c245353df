package authz

import (
	"context"
	"strings"

	"overcast"
	"overcast/internal/policy"
)

// Policy is one parsed policy that applies to a request, with what the
// policy simulator reports of it.
type Policy struct {
	// ID is the policy's name as the simulator reports it (SourcePolicyId).
	ID string
	// Type is the simulator's SourcePolicyType: user, group, role,
	// aws-managed, user-managed, resource, none.
	Type string
	Doc  *policy.Document
	// Text is the document as stored, for the positions of its statements.
	Text string
	// ARN is a managed policy's; Holder the name of the user, group or
	// role an inline policy is embedded in: what the simulator's
	// PolicyExclusionList names policies by.
	ARN, Holder string
}

// Identity is what IAM holds about a user or a role that authorization
// reads: its permissions policies (a user's own and its groups'), its
// permissions boundary, and its tags (aws:PrincipalTag).
type Identity struct {
	Policies []Policy
	Boundary *Policy
	Tags     map[string]string
}

// Identities is what the evaluator needs of IAM. IAM caches its answers
// and forgets them on every write, because they are read on every
// request.
type Identities interface {
	// IdentityOf returns the policies of the IAM user or role arn names;
	// nil, nil for one IAM does not know.
	IdentityOf(ctx context.Context, arn string) (*Identity, error)
	// ManagedPolicy returns a managed policy's default version (a session
	// policy's PolicyArns); nil, nil for one that does not exist.
	ManagedPolicy(ctx context.Context, arn string) (*Policy, error)
}

// Session is what STS holds about temporary credentials that
// authorization reads: the session policies given when they were issued.
type Session struct {
	Policy      *Policy  // the inline Policy, if any
	PolicyARNs  []string // the PolicyArns
	HasPolicies bool     // either was given: the session is capped by them
	// Parent is the IAM user whose policies (and boundary) also bound a
	// federated user's session: the user that called GetFederationToken.
	// "" for the account root's federated users, bound by their session
	// policies alone.
	Parent string
}

// Sessions is what the evaluator needs of STS.
type Sessions interface {
	// SessionOf returns the session of temporary credentials; nil, nil
	// for long-term keys.
	SessionOf(ctx context.Context, accessKeyID string) (*Session, error)
}

// Resource is what a service says of one of its resources: who owns it,
// its resource-based policy, its tags (aws:ResourceTag).
type Resource struct {
	Owner  string // account ID; "" when the resource does not exist
	Policy *Policy
	Tags   map[string]string
}

// Resources is implemented by the services with resource-based policies
// (S3 buckets, ECR repositories, Secrets Manager secrets).
type Resources interface {
	// ResourceOf describes the resource arn names; a zero Resource for one
	// that does not exist.
	ResourceOf(ctx context.Context, arn string) (Resource, error)
}

// Sources are where the evaluator finds the policies of a request.
type Sources struct {
	Identities Identities
	Sessions   Sessions
	// Resources are by the service part of a resource's ARN: "s3", "ecr",
	// "secretsmanager".
	Resources map[string]Resources
}

// Decision is how one action on one resource was decided, in the
// simulator's terms.
type Decision struct {
	Action   string
	Resource string
	// EvalDecision: "allowed", "explicitDeny" or "implicitDeny".
	EvalDecision string
	// Matched are the statements that decided it: the denying ones when
	// denied explicitly, the allowing ones when allowed.
	Matched []Matched
	// Boundary is the permissions boundary's own decision, when there is one.
	Boundary string
	// Reason completes AWS's refusal message: "because no identity-based
	// policy allows the s3:GetObject action", "with an explicit deny in a
	// resource-based policy".
	Reason string
	// ResourcePolicy is the resource policy's own decision, "" without one.
	ResourcePolicy string
}

// Matched is one statement that matched, in the policy it belongs to.
type Matched struct {
	Policy *Policy
	Index  int // the statement's index in the policy's Statement
}

// Allowed reports whether d lets the call go ahead.
func (d *Decision) Allowed() bool { return d.EvalDecision == "allowed" }

// subject is the principal of a request with everything its policies say.
type subject struct {
	caller    overcast.Caller
	principal policy.Principal
	root      bool
	identity  *Identity // nil for the root and for callers without one
	session   []Policy  // session policies, when the session has any
	capped    bool      // the session was given session policies
}

// evaluation is one request's question, built once per call.
type evaluation struct {
	*subject
	context map[string][]string
}

// kinds of policies, in AWS's wording of its refusals.
const (
	identityBased = "an identity-based policy"
	resourceBased = "a resource-based policy"
	boundaryKind  = "a permissions boundary"
	sessionKind   = "a session policy"
)

func explicitDeny(kind string) string { return "with an explicit deny in " + kind }

func noAllow(kind, action string) string {
	kind = strings.TrimPrefix(kind, "an ")
	kind = strings.TrimPrefix(kind, "a ")
	return "because no " + kind + " allows the " + action + " action"
}

// decide decides one action on one resource, as AWS's policy evaluation
// logic does: an explicit deny anywhere first; within the resource's
// account an Allow of its resource-based policy or of the identity-based
// policies (capped by the boundary and the session policies); across
// accounts both sides must allow.
func (e *evaluation) decide(action, resource string, res Resource, extra map[string][]string) Decision {
	d := Decision{Action: action, Resource: resource}
	r := policy.Request{Principal: e.principal, Action: action, Resource: resource, Context: e.context}
	if len(extra) > 0 || len(res.Tags) > 0 {
		r.Context = withKeys(e.context, extra, res.Tags, resourceTagKeys(resource))
	}
	identity := e.identityPolicies()
	var boundary []Policy
	if e.identity != nil && e.identity.Boundary != nil {
		boundary = []Policy{*e.identity.Boundary}
	}
	var resourcePolicies []Policy
	if res.Policy != nil {
		resourcePolicies = []Policy{*res.Policy}
	}
	sets := []struct {
		kind     string
		policies []Policy
	}{{identityBased, identity}, {resourceBased, resourcePolicies}, {boundaryKind, boundary}, {sessionKind, e.session}}
	allows := make([][]Matched, len(sets))
	for i, set := range sets {
		denies, allowing := match(&r, set.policies)
		if len(denies) > 0 {
			d.EvalDecision, d.Matched, d.Reason = "explicitDeny", denies, explicitDeny(set.kind)
			if set.kind == boundaryKind {
				d.Boundary = "explicitDeny"
			}
			return d
		}
		allows[i] = allowing
	}
	identityAllows, resourceAllows, boundaryAllows, sessionAllows := allows[0], allows[1], allows[2], allows[3]
	// Within the account, a resource policy that names the account (its
	// ID or root) rather than the principal delegates to the account's
	// identity-based policies: it grants nothing of its own.
	direct := resourceAllows
	if res.Owner == "" || res.Owner == e.caller.AccountID {
		direct = e.naming(resourceAllows)
	}
	if boundary != nil {
		d.Boundary = decisionWord(len(boundaryAllows) > 0)
	}
	if res.Policy != nil {
		d.ResourcePolicy = decisionWord(len(resourceAllows) > 0)
	}
	// An anonymous caller has no account and no policies of its own:
	// only a resource policy lets it in.
	anonymous := e.caller.Kind == overcast.PrincipalAnonymous
	sameAccount := !anonymous && (res.Owner == "" || res.Owner == e.caller.AccountID)
	// What the principal's own side allows: the root everything, others
	// what their identity-based policies allow within the boundary and
	// the session's policies.
	var identitySide string
	switch {
	case e.root, anonymous:
	case len(identityAllows) == 0:
		identitySide = noAllow(identityBased, action)
	case boundary != nil && len(boundaryAllows) == 0:
		identitySide = noAllow(boundaryKind, action)
	case e.capped && len(sessionAllows) == 0:
		identitySide = noAllow(sessionKind, action)
	}
	// A resource policy's Allow is enough within the account, except
	// that a role session stays capped by its boundary and session
	// policies.
	resourceSide := ""
	if len(direct) == 0 {
		resourceSide = noAllow(resourceBased, action)
	} else if e.caller.Kind == overcast.PrincipalAssumedRole {
		if boundary != nil && len(boundaryAllows) == 0 {
			resourceSide = noAllow(boundaryKind, action)
		} else if e.capped && len(sessionAllows) == 0 {
			resourceSide = noAllow(sessionKind, action)
		}
	}
	switch {
	case sameAccount && identitySide == "":
		d.EvalDecision = "allowed"
		d.Matched = append(identityAllows, resourceAllows...)
	case sameAccount && resourceSide == "":
		d.EvalDecision = "allowed"
		d.Matched = direct
	case !sameAccount && identitySide == "" && len(resourceAllows) > 0:
		d.EvalDecision = "allowed"
		d.Matched = append(identityAllows, resourceAllows...)
	default:
		d.EvalDecision = "implicitDeny"
		d.Reason = identitySide
		if d.Reason == "" {
			d.Reason = resourceSide
		}
	}
	return d
}

// naming keeps the statements whose Principal names the caller itself
// (its ARN, its role's, or everyone), not merely its account.
func (e *evaluation) naming(ms []Matched) []Matched {
	var out []Matched
	for _, m := range ms {
		st := &m.Policy.Doc.Statement[m.Index]
		if st.Principal == nil || st.Principal.All {
			out = append(out, m)
			continue
		}
		for _, id := range st.Principal.AWS {
			if id == "*" || id == e.caller.ARN || (e.caller.RoleARN != "" && id == e.caller.RoleARN) {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

func decisionWord(allowed bool) string {
	if allowed {
		return "allowed"
	}
	return "implicitDeny"
}

func (s *subject) anonymous() bool { return s.caller.Kind == overcast.PrincipalAnonymous }

// identityPolicies are the principal's identity-based policies; a
// federated user's session policies are its only ones.
func (e *evaluation) identityPolicies() []Policy {
	if e.identity != nil {
		return e.identity.Policies
	}
	if e.caller.Kind == overcast.PrincipalFederated {
		return e.session
	}
	return nil
}

// match returns the statements of policies that deny r and those that
// allow it.
func match(r *policy.Request, policies []Policy) (denies, allows []Matched) {
	for i := range policies {
		p := &policies[i]
		if p.Doc == nil {
			continue
		}
		for _, m := range policy.Matching(*r, p.Doc) {
			entry := Matched{Policy: p, Index: m}
			if p.Doc.Statement[m].Effect == policy.Deny {
				denies = append(denies, entry)
			} else {
				allows = append(allows, entry)
			}
		}
	}
	return denies, allows
}

// serviceResourceTags are the services that name the resource's tags with
// a key of their own as well as aws:ResourceTag (the Service Authorization
// Reference's condition keys): policies written before the global key
// existed use them.
var serviceResourceTags = map[string]string{
	"ecr":            "ecr:ResourceTag/",
	"iam":            "iam:ResourceTag/",
	"secretsmanager": "secretsmanager:ResourceTag/",
	"ssm":            "ssm:resourceTag/",
}

// resourceTagKeys are the prefixes of the condition keys that carry the
// tags of the resource arn names.
func resourceTagKeys(arn string) []string {
	service, _, _ := strings.Cut(strings.TrimPrefix(arn, "arn:aws:"), ":")
	if own, ok := serviceResourceTags[service]; ok {
		return []string{"aws:ResourceTag/", own}
	}
	return []string{"aws:ResourceTag/"}
}

// withKeys returns base with the keys of extra and the resource's tags
// (under each of tagKeys, aws:ResourceTag/<key> and the service's own)
// added, in a new map.
func withKeys(base, extra map[string][]string, tags map[string]string, tagKeys []string) map[string][]string {
	out := make(map[string][]string, len(base)+len(extra)+len(tags))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	for k, v := range tags {
		for _, prefix := range tagKeys {
			out[prefix+k] = []string{v}
		}
	}
	return out
}
