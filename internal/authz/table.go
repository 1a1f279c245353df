// Package authz is how overcast authorizes a call the way IAM does: each
// service declares, in a Table next to its operations, the action each
// operation needs and the resources it touches; the enforcement
// interceptor (--enforce-iam) and IAM's policy simulator evaluate those
// against the caller's policies with internal/policy.
package authz

import (
	"context"
	"maps"
	"strings"

	"overcast"
)

// Scope is where a call is made: what the ARNs of its resources are built
// from.
type Scope struct {
	Partition string // "aws"
	Region    string
	AccountID string
}

// ARN is the ARN of resource in service, in s's region and account.
func (s Scope) ARN(service, resource string) string {
	return "arn:" + s.partition() + ":" + service + ":" + s.Region + ":" + s.AccountID + ":" + resource
}

// GlobalARN is the ARN of resource in a service without regions (IAM).
func (s Scope) GlobalARN(service, resource string) string {
	return "arn:" + s.partition() + ":" + service + "::" + s.AccountID + ":" + resource
}

// Local is s as services scope their resources, for their own ARN
// helpers.
func (s Scope) Local() overcast.Scope {
	return overcast.Scope{Account: s.AccountID, Region: s.Region}
}

func (s Scope) partition() string {
	if s.Partition == "" {
		return "aws"
	}
	return s.Partition
}

// Rule says how one operation is authorized.
type Rule struct {
	// Action is the IAM action the operation needs when it is not the
	// table's prefix and the operation's name (S3's ListObjectsV2 needs
	// s3:ListBucket, HeadObject s3:GetObject).
	Action string
	// Resources returns the ARNs of what the call touches. None means the
	// action takes no resource and is checked against "*" (ListBuckets).
	Resources func(ctx context.Context, s Scope, in any) []string
	// Context returns the service's condition keys for the call
	// (s3:prefix, s3:x-amz-acl), added to the global ones. It has the
	// scope for the keys whose values are ARNs (ecs:cluster).
	Context func(s Scope, in any) map[string][]string
	// Also are further checks the operation needs: CopyObject must read
	// its source as well as write its destination.
	Also []Rule
	// Unauthorized marks an operation that IAM does not authorize at all
	// (STS's AssumeRoleWithWebIdentity: the token is the credential).
	Unauthorized bool
}

// Table is a service's rules, by operation name. An operation without a
// rule needs Prefix:Operation on "*".
type Table struct {
	Prefix string // the IAM action prefix: "s3", "elasticloadbalancing"
	Rules  map[string]Rule
}

// Check is one action a call must be allowed, on its resources.
type Check struct {
	Action    string
	Resources []string // never empty: "*" when the action takes no resource
	Context   map[string][]string
}

// Checks returns what a call of op with input in must be allowed, in
// order; nil when the operation is not authorized by IAM at all.
func (t *Table) Checks(ctx context.Context, op string, s Scope, in any) []Check {
	rule := t.Rules[op]
	if rule.Unauthorized {
		return nil
	}
	checks := []Check{t.check(ctx, op, rule, s, in)}
	for _, also := range rule.Also {
		checks = append(checks, t.check(ctx, op, also, s, in))
	}
	return checks
}

func (t *Table) check(ctx context.Context, op string, rule Rule, s Scope, in any) Check {
	c := Check{Action: rule.Action, Resources: []string{"*"}}
	if c.Action == "" {
		c.Action = t.Prefix + ":" + op
	} else if !strings.Contains(c.Action, ":") {
		c.Action = t.Prefix + ":" + c.Action
	}
	if rule.Resources != nil {
		if arns := rule.Resources(ctx, s, in); len(arns) > 0 {
			c.Resources = arns
		}
	}
	// The tags a call brings are the same condition keys in every
	// service; the rule's own keys come on top.
	c.Context = RequestTags(in)
	if rule.Context != nil {
		if c.Context == nil {
			c.Context = map[string][]string{}
		}
		maps.Copy(c.Context, rule.Context(s, in))
	}
	return c
}

// On adapts a function of an operation's typed input to Rule.Resources.
func On[In any](f func(s Scope, in *In) []string) func(context.Context, Scope, any) []string {
	return func(_ context.Context, s Scope, in any) []string {
		typed, ok := in.(*In)
		if !ok || typed == nil {
			return nil
		}
		return f(s, typed)
	}
}

// Named is On for the common case: one resource, from one name in the
// input, under a resource type ("repository/"+name). An empty name means
// the call names no resource of that type.
func Named[In any](service, resourceType string, name func(*In) *string) func(context.Context, Scope, any) []string {
	return On(func(s Scope, in *In) []string {
		n := name(in)
		if n == nil || *n == "" {
			return nil
		}
		if strings.HasPrefix(*n, "arn:") {
			return []string{*n}
		}
		return []string{s.ARN(service, resourceType+*n)}
	})
}

// Made is Rule.Resources for a call that makes a resource whose ID only the
// call draws (a distribution, a file system): AWS authorizes it on the
// resource's ARN with the ID a wildcard ("arn:aws:cloudfront::<acct>:
// distribution/*"), so that a policy granting the resource type allows it
// and one naming a particular resource does not.
func Made(arn func(s Scope) string) func(context.Context, Scope, any) []string {
	return func(_ context.Context, s Scope, _ any) []string { return []string{arn(s)} }
}
