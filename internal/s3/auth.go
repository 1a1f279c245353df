package s3

import (
	"context"
	"strings"

	"overcast"
)

// Access control. IAM identity policies are not enforced yet (see README),
// so the bucket owner's account may do everything its bucket policy does
// not explicitly deny; everyone else — anonymous callers, other accounts,
// AWS service principals — needs an Allow in the bucket policy.

// parsedPolicy returns b's policy, or nil when it has none. Records from
// getBucket carry it parsed.
func parsedPolicy(b *bucketRecord) *policy {
	if b.Policy == "" {
		return nil
	}
	if b.parsed != nil {
		return b.parsed
	}
	p, _ := parsePolicy(b.Policy, b.Name) // validated when it was stored
	return p
}

func principalOf(c overcast.Caller) principal {
	if c.Kind == overcast.PrincipalAnonymous {
		return principal{Anonymous: true}
	}
	return principal{Account: c.AccountID, ARN: c.ARN, RoleARN: c.RoleARN}
}

// access is one authorization question.
type access struct {
	principal principal
	owner     bool // the caller's account owns the bucket
	context   map[string]string
}

// accessFor describes the caller in ctx against bucket b.
func accessFor(ctx context.Context, b *bucketRecord) access {
	if p, ok := ctx.Value(servicePrincipalKey{}).(principal); ok {
		return access{principal: p, context: map[string]string{
			"aws:sourcearn": p.sourceARN(ctx), "aws:sourceaccount": p.Account}}
	}
	c := overcast.CallerFrom(ctx)
	p := principalOf(c)
	a := access{principal: p, owner: !p.Anonymous && c.AccountID == b.Owner, context: map[string]string{
		"aws:securetransport": "false",
	}}
	if !p.Anonymous {
		a.context["aws:principalaccount"] = c.AccountID
		a.context["aws:principalarn"] = c.ARN
		a.context["aws:userid"] = c.UserID
		a.context["aws:principaltype"] = principalType(c.Kind)
	} else {
		a.context["aws:principaltype"] = "Anonymous"
	}
	return a
}

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

// servicePrincipalKey carries an AWS service principal (CloudFront reading
// an origin) in place of the gateway's caller.
type servicePrincipalKey struct{}
type sourceARNKey struct{}

func (p principal) sourceARN(ctx context.Context) string {
	s, _ := ctx.Value(sourceARNKey{}).(string)
	return s
}

func withServicePrincipal(ctx context.Context, service, sourceARN, sourceAccount string) context.Context {
	ctx = context.WithValue(ctx, servicePrincipalKey{}, principal{Service: service, Account: sourceAccount})
	return context.WithValue(ctx, sourceARNKey{}, sourceARN)
}

// allows reports whether a may perform action on the resource (the bucket,
// or key within it when key is not empty). extra adds condition keys.
func (a access) allows(b *bucketRecord, action, key string, extra map[string]string) bool {
	pol := parsedPolicy(b)
	if pol == nil {
		return a.owner
	}
	if !a.owner && a.principal.Service == "" && pabRestricts(b) && pol.isPublic() {
		// RestrictPublicBuckets: a public policy lets only the owner's
		// account and AWS services in.
		return false
	}
	resource := b.arn()
	if key != "" {
		resource += "/" + key
	}
	ctx := a.context
	if len(extra) > 0 {
		ctx = make(map[string]string, len(a.context)+len(extra))
		for k, v := range a.context {
			ctx[k] = v
		}
		for k, v := range extra {
			ctx[strings.ToLower(k)] = v
		}
	}
	switch pol.evaluate(request{Principal: a.principal, Action: action, Resource: resource, Context: ctx}) {
	case denied:
		return false
	case allowed:
		return true
	}
	return a.owner
}

func pabRestricts(b *bucketRecord) bool {
	return b.PublicAccessBlock != nil && b.PublicAccessBlock.RestrictPublicBuckets != nil && *b.PublicAccessBlock.RestrictPublicBuckets
}

func pabBlocksPolicy(b *bucketRecord) bool {
	return b.PublicAccessBlock != nil && b.PublicAccessBlock.BlockPublicPolicy != nil && *b.PublicAccessBlock.BlockPublicPolicy
}

// authorize returns AccessDenied unless the caller in ctx may perform
// action on bucket b (and key).
func authorize(ctx context.Context, b *bucketRecord, action, key string, extra map[string]string) error {
	if accessFor(ctx, b).allows(b, action, key, extra) {
		return nil
	}
	return errAccessDenied()
}

// missingKey is the error for a key that does not exist: NoSuchKey for
// callers allowed to list the bucket, AccessDenied for the others, as S3
// does so that existence does not leak.
func missingKey(ctx context.Context, b *bucketRecord, key string) error {
	if accessFor(ctx, b).allows(b, "s3:ListBucket", "", nil) {
		return errNoSuchKey(key)
	}
	return errAccessDenied()
}

// ownerOnly lets the bucket owner's account through, and others only with
// a policy Allow; bucket configuration operations use it.
func ownerOnly(ctx context.Context, b *bucketRecord, action string) error {
	return authorize(ctx, b, action, "", nil)
}
