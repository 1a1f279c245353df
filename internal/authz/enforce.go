package authz

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"overcast"
	"overcast/internal/awsproto"
	"overcast/internal/policy"
)

// Evaluator authorizes calls as IAM does, against the policies its
// Sources hold: the --enforce-iam interceptor, the checks services make
// when they act as a principal (pulls with a task's execution role), and
// IAM's policy simulator.
type Evaluator struct {
	src Sources
	// tables are by the service's ID (awsproto.Service.ID).
	tables map[string]*Table
}

// NewEvaluator returns an evaluator over src, with the services' tables by
// service ID.
func NewEvaluator(src Sources, tables map[string]*Table) *Evaluator {
	return &Evaluator{src: src, tables: tables}
}

// Denied is a refusal: who may not do what on which resource, and why in
// AWS's words.
type Denied struct {
	Principal string
	Action    string
	Resource  string
	Reason    string
}

func (d *Denied) Error() string { return d.Message(false) }

// Message is AWS's refusal message; S3 quotes the resource.
func (d *Denied) Message(quoteResource bool) string {
	resource := d.Resource
	if quoteResource {
		resource = strconv.Quote(resource)
	}
	return fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s %s", d.Principal, d.Action, resource, d.Reason)
}

// Interceptor authorizes every call before its service sees it, refusing
// it with the protocol's AccessDenied error.
func (e *Evaluator) Interceptor() awsproto.Interceptor {
	return func(ctx context.Context, c *Call, next func(ctx context.Context) (any, error)) (any, error) {
		if c.Refused || c.Authorized {
			return next(ctx) // refused before it could be authorized, or authorized already
		}
		authCtx := context.WithValue(ctx, describedKey{}, &described{})
		checks := e.checksOf(authCtx, c)
		if len(checks) == 0 {
			return next(ctx)
		}
		if err := e.authorize(authCtx, overcast.CallerFrom(ctx), c.Input, checks); err != nil {
			return nil, RefusalFor(c.Service, err)
		}
		return next(ctx)
	}
}

// described holds what a table's Resources functions read of the resources
// they named while one call was being authorized (Describe).
type described struct{ byARN map[string]Resource }

type describedKey struct{}

// Describe hands the evaluator authorizing the call in ctx what a table's
// Resources function read of the resource arn names while naming it (a
// secret read to find its full ARN has its tags and policy at hand), so
// that the evaluator does not ask the service to read it again
// (Resources.ResourceOf). Outside an authorization it does nothing.
func Describe(ctx context.Context, arn string, r Resource) {
	d, ok := ctx.Value(describedKey{}).(*described)
	if !ok {
		return
	}
	if d.byARN == nil {
		d.byARN = map[string]Resource{}
	}
	d.byARN[arn] = r
}

// Call is awsproto's, named here for the interceptor's signature.
type Call = awsproto.Call

// checksOf is what the call must be allowed, by its service's table.
func (e *Evaluator) checksOf(ctx context.Context, c *Call) []Check {
	t := e.tables[c.Service.ID]
	if t == nil {
		t = &Table{Prefix: c.Service.SigningName}
	}
	caller := overcast.CallerFrom(ctx)
	region := caller.Region
	if region == "" {
		region = overcast.DefaultRegion
	}
	return t.Checks(ctx, c.Operation.Name, Scope{Region: region, AccountID: caller.AccountID}, c.Input)
}

// RefusalFor is err, a *Denied, as svc's protocol refuses a call: query
// services (IAM, STS) AccessDenied 403, S3 AccessDenied 403 with the
// resource quoted, EC2 UnauthorizedOperation 403, JSON services
// AccessDeniedException 400 and REST-JSON ones 403. Other errors pass.
func RefusalFor(svc *awsproto.Service, err error) error {
	d, ok := err.(*Denied)
	if !ok {
		return err
	}
	switch {
	case svc.ID == "s3":
		return &awsproto.Error{Code: "AccessDenied", Status: http.StatusForbidden, Message: d.Message(true)}
	case svc.Speaks("ec2"):
		return &awsproto.Error{Code: "UnauthorizedOperation", Status: http.StatusForbidden,
			Message: "You are not authorized to perform this operation. " + d.Message(false)}
	case svc.Speaks("query"):
		return &awsproto.Error{Code: "AccessDenied", Status: http.StatusForbidden, Message: d.Message(false)}
	case svc.Speaks("json"):
		return &awsproto.Error{Code: "AccessDeniedException", Status: http.StatusBadRequest, Message: d.Message(false)}
	}
	return &awsproto.Error{Code: "AccessDeniedException", Status: http.StatusForbidden, Message: d.Message(false)}
}

// Authorize returns a *Denied unless caller may make every check: what a
// service uses when it works on a principal's behalf (ECS pulling a
// task's image as its execution role). ctx's origin, if any, gives the
// request's condition keys.
func (e *Evaluator) Authorize(ctx context.Context, caller overcast.Caller, checks ...Check) error {
	return e.authorize(ctx, caller, nil, checks)
}

func (e *Evaluator) authorize(ctx context.Context, caller overcast.Caller, in any, checks []Check) error {
	if caller.Kind == "" {
		caller.Kind = overcast.PrincipalRoot
	}
	ev, err := e.evaluation(ctx, caller, in)
	if err != nil {
		return err
	}
	for _, c := range checks {
		for _, resource := range c.Resources {
			d, err := e.decide(ctx, ev, c.Action, resource, c.Context)
			if err != nil {
				return err
			}
			if !d.Allowed() {
				return &Denied{Principal: cmp.Or(caller.ARN, "anonymous"), Action: c.Action, Resource: resource, Reason: d.Reason}
			}
		}
	}
	return nil
}

// decide looks up the resource's owner and policy, then decides.
func (e *Evaluator) decide(ctx context.Context, ev *evaluation, action, resource string, extra map[string][]string) (Decision, error) {
	// A service that enforces its resource policies itself (S3) needs no
	// look-up when the caller's own policies allow the call: its owner's
	// policy is applied by the service, denies and other accounts' grants.
	if src, ok := e.resourcesOf(resource).(SelfEnforcing); ok && src.EnforcesResourcePolicies() && !ev.root {
		if d := ev.decide(action, resource, Resource{}, extra); d.Allowed() && !ev.anonymous() {
			return d, nil
		}
	}
	res, err := e.resourceOf(ctx, resource)
	if err != nil {
		return Decision{}, err
	}
	// The account root may do everything its account owns, unless a
	// resource policy denies it.
	if ev.root && (res.Owner == "" || res.Owner == ev.caller.AccountID) && res.Policy == nil && ownedBy(resource, ev.caller.AccountID) {
		return Decision{Action: action, Resource: resource, EvalDecision: "allowed"}, nil
	}
	return ev.decide(action, resource, res, extra), nil
}

// ownedBy reports whether the ARN's account (none for S3's) is account.
func ownedBy(arn, account string) bool {
	if arn == "*" {
		return true
	}
	a, ok := overcast.ParseARN(arn)
	return !ok || a.AccountID == "" || a.AccountID == account
}

// SelfEnforcing is implemented by the Resources of a service that enforces
// its resource policies itself, whatever the caller's identity policies
// say (S3 its bucket policies).
type SelfEnforcing interface {
	EnforcesResourcePolicies() bool
}

// resourcesOf is the service that describes the ARN's resources, or nil.
func (e *Evaluator) resourcesOf(arn string) Resources {
	service, _, _ := strings.Cut(strings.TrimPrefix(arn, "arn:aws:"), ":")
	return e.src.Resources[service]
}

// resourceOf asks the service that owns the ARN's resource about it; an
// ARN of a service without resource policies names a resource owned by
// the account in the ARN.
func (e *Evaluator) resourceOf(ctx context.Context, arn string) (Resource, error) {
	if arn == "*" {
		return Resource{}, nil
	}
	a, ok := overcast.ParseARN(arn)
	if !ok {
		return Resource{}, nil
	}
	if d, ok := ctx.Value(describedKey{}).(*described); ok {
		if r, ok := d.byARN[arn]; ok {
			return r, nil
		}
	}
	if src := e.src.Resources[a.Service]; src != nil {
		return src.ResourceOf(ctx, arn)
	}
	return Resource{Owner: a.AccountID}, nil
}

// evaluation gathers what the caller's policies are and the request's
// condition keys. in is the call's input, for aws:RequestTag and
// aws:TagKeys.
func (e *Evaluator) evaluation(ctx context.Context, caller overcast.Caller, in any) (*evaluation, error) {
	s, err := e.subjectOf(ctx, caller)
	if err != nil {
		return nil, err
	}
	return &evaluation{subject: s, context: requestContext(ctx, s, in)}, nil
}

// subjectOf loads the policies of caller.
func (e *Evaluator) subjectOf(ctx context.Context, caller overcast.Caller) (*subject, error) {
	s := &subject{caller: caller, principal: policy.PrincipalOf(caller)}
	switch caller.Kind {
	case overcast.PrincipalRoot:
		s.root = true
	case overcast.PrincipalUser, overcast.PrincipalAssumedRole:
		arn := caller.ARN
		if caller.Kind == overcast.PrincipalAssumedRole {
			arn = caller.RoleARN
		}
		if e.src.Identities != nil {
			id, err := e.src.Identities.IdentityOf(ctx, arn)
			if err != nil {
				return nil, err
			}
			s.identity = id
		}
	}
	if caller.SessionToken != "" && e.src.Sessions != nil {
		sess, err := e.src.Sessions.SessionOf(ctx, caller.AccessKeyID)
		if err != nil {
			return nil, err
		}
		if sess != nil && sess.Parent != "" && caller.Kind == overcast.PrincipalFederated && e.src.Identities != nil {
			id, err := e.src.Identities.IdentityOf(ctx, sess.Parent)
			if err != nil {
				return nil, err
			}
			if id == nil {
				id = &Identity{} // the user is gone: its federated users may do nothing
			}
			s.identity = id
		}
		if sess != nil && sess.HasPolicies {
			s.capped = true
			if sess.Policy != nil {
				s.session = append(s.session, *sess.Policy)
			}
			for _, arn := range sess.PolicyARNs {
				p, err := e.src.Identities.ManagedPolicy(ctx, arn)
				if err != nil {
					return nil, err
				}
				if p != nil {
					s.session = append(s.session, *p)
				}
			}
		}
	}
	return s, nil
}

// requestContext is the global condition keys of a request by caller.
// The keys about the principal's ARN, account and IDs are worked out by
// internal/policy from the principal.
func requestContext(ctx context.Context, s *subject, in any) map[string][]string {
	c := s.caller
	keys := map[string][]string{}
	now := time.Now()
	if o, ok := overcast.OriginFrom(ctx); ok {
		if o.SourceIP != "" {
			keys["aws:SourceIp"] = []string{o.SourceIP}
		}
		keys["aws:SecureTransport"] = []string{strconv.FormatBool(o.SecureTransport)}
		if !o.Time.IsZero() {
			now = o.Time
		}
	}
	now = now.UTC()
	keys["aws:CurrentTime"] = []string{now.Format(time.RFC3339)}
	keys["aws:EpochTime"] = []string{strconv.FormatInt(now.Unix(), 10)}
	if c.Region != "" {
		keys["aws:RequestedRegion"] = []string{c.Region}
	}
	if c.SessionToken != "" {
		// Long-term keys carry no MFA key at all; sessions say whether
		// they were issued with MFA, which overcast never asks for.
		keys["aws:MultiFactorAuthPresent"] = []string{"false"}
	}
	if s.identity != nil {
		for k, v := range s.identity.Tags {
			keys["aws:PrincipalTag/"+k] = []string{v}
		}
	}
	return keys
}

// ParsePolicy parses a stored policy document for evaluation; a document
// that no longer parses (it was validated when stored) is kept without a
// model, and so allows nothing.
func ParsePolicy(id, typ, text string) Policy {
	doc, _ := policy.Parse(text)
	return Policy{ID: id, Type: typ, Doc: doc, Text: text}
}
