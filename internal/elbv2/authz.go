package elbv2

import (
	api "overcast/internal/api/elbv2"
	"overcast/internal/authz"
)

// authzTable is how IAM authorizes Elastic Load Balancing's operations
// (the Service Authorization Reference's "Elastic Load Balancing V2"):
// on the load balancer, listener, rule or target group a call names by
// ARN. The Describe* operations take no resource, and neither do the
// Create* ones of a load balancer or target group, whose ARN has an ID
// that only the call makes.
var authzTable = &authz.Table{Prefix: "elasticloadbalancing", Rules: map[string]authz.Rule{
	"DeleteLoadBalancer":           onLoadBalancer,
	"ModifyLoadBalancerAttributes": onLoadBalancer,
	"CreateListener":               onLoadBalancer,
	"DeleteListener":               onListener,
	"ModifyListener":               onListener,
	"CreateRule":                   onListener,
	"DeleteRule":                   onRule,
	"ModifyRule":                   onRule,
	"SetRulePriorities": {Resources: authz.On(func(_ authz.Scope, in *api.SetRulePrioritiesInput) []string {
		var out []string
		for _, p := range in.RulePriorities {
			if p.RuleArn != nil {
				out = append(out, *p.RuleArn)
			}
		}
		return out
	})},
	"DeleteTargetGroup":           onTargetGroup,
	"ModifyTargetGroup":           onTargetGroup,
	"ModifyTargetGroupAttributes": onTargetGroup,
	"RegisterTargets":             onTargetGroup,
	"DeregisterTargets":           onTargetGroup,
	"AddTags":                     {Resources: authz.Ref("ResourceArns", nil)},
	"RemoveTags":                  {Resources: authz.Ref("ResourceArns", nil)},
}}

var (
	onLoadBalancer = authz.Rule{Resources: authz.Ref("LoadBalancerArn", nil)}
	onListener     = authz.Rule{Resources: authz.Ref("ListenerArn", nil)}
	onRule         = authz.Rule{Resources: authz.Ref("RuleArn", nil)}
	onTargetGroup  = authz.Rule{Resources: authz.Ref("TargetGroupArn", nil)}
)
