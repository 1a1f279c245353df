package s3

import (
	"context"
	"errors"
	"strings"

	"overcast"
	"overcast/internal/policy"
)

// Access control. IAM identity policies are not enforced yet (see README),
// so the bucket owner's account may do everything its bucket policy does
// not explicitly deny; everyone else — anonymous callers, other accounts,
// AWS service principals — needs an Allow in the bucket policy.

// checkBucketPolicy validates a bucket policy for bucket, as
// MalformedPolicy with S3's message: S3 actions, and resources that are
// the bucket or its objects.
func checkBucketPolicy(doc, bucket string) (*policy.Document, error) {
	p, err := policy.ValidateResource(doc, policy.Scope{Vendor: "s3", Resource: func(r string) bool { return resourceInBucket(r, bucket) }})
	var pe *policy.Error
	if errors.As(err, &pe) {
		return nil, errMalformedPolicy(pe.Message)
	}
	return p, err
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
	return policy.Match(name, bucket)
}

// parsedPolicy returns b's policy, or nil when it has none. Records from
// getBucket carry it parsed.
func parsedPolicy(b *bucketRecord) *policy.Document {
	if b.Policy == "" {
		return nil
	}
	if b.parsed != nil {
		return b.parsed
	}
	p, _ := policy.Parse(b.Policy) // validated when it was stored
	return p
}

// access is one authorization question.
type access struct {
	principal policy.Principal
	owner     bool // the caller's account owns the bucket
	context   map[string][]string
}

// accessFor describes the caller in ctx against bucket b.
func accessFor(ctx context.Context, b *bucketRecord) access {
	if sp, ok := ctx.Value(servicePrincipalKey{}).(servicePrincipal); ok {
		return access{principal: policy.Principal{Service: sp.name}, context: map[string][]string{
			"aws:SourceArn": {sp.sourceARN}, "aws:SourceAccount": {sp.sourceAccount}}}
	}
	c := overcast.CallerFrom(ctx)
	p := policy.PrincipalOf(c)
	anonymous := c.Kind == overcast.PrincipalAnonymous
	return access{principal: p, owner: !anonymous && c.AccountID == b.Owner,
		context: map[string][]string{"aws:SecureTransport": {"false"}}}
}

// servicePrincipal is an AWS service (CloudFront reading an origin) acting
// in place of the gateway's caller, for the resource sourceARN names.
type servicePrincipal struct {
	name, sourceARN, sourceAccount string
}

type servicePrincipalKey struct{}

func withServicePrincipal(ctx context.Context, service, sourceARN, sourceAccount string) context.Context {
	return context.WithValue(ctx, servicePrincipalKey{}, servicePrincipal{service, sourceARN, sourceAccount})
}

// allows reports whether a may perform action on the resource (the bucket,
// or key within it when key is not empty). extra adds condition keys.
func (a access) allows(b *bucketRecord, action, key string, extra map[string]string) bool {
	pol := parsedPolicy(b)
	if pol == nil {
		return a.owner
	}
	if !a.owner && a.principal.Service == "" && pabRestricts(b) && pol.Public() {
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
		ctx = make(map[string][]string, len(a.context)+len(extra))
		for k, v := range a.context {
			ctx[k] = v
		}
		for k, v := range extra {
			ctx[k] = []string{v}
		}
	}
	switch policy.Evaluate(policy.Request{Principal: a.principal, Action: action, Resource: resource, Context: ctx}, pol) {
	case policy.Denied:
		return false
	case policy.Allowed:
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
