package elbv2

import (
	"cmp"

	api "overcast/internal/api/elbv2"
	"overcast/internal/authz"
	"overcast/internal/service"
)

// authzTable is how IAM authorizes Elastic Load Balancing's operations
// (the Service Authorization Reference's "Elastic Load Balancing V2"):
// on the load balancer, listener, rule or target group a call names by
// ARN. The Describe* operations take no resource. A load balancer or a
// target group being created is authorized, as AWS does, on its ARN with
// the ID it does not have yet as a wildcard ("targetgroup/web/*"), so that
// a policy can allow creating by name.
var authzTable = &authz.Table{Prefix: "elasticloadbalancing", Rules: map[string]authz.Rule{
	"CreateLoadBalancer": {Resources: authz.On(func(s authz.Scope, in *api.CreateLoadBalancerInput) []string {
		kind := map[string]string{"network": "net", "gateway": "gwy"}[service.Deref(in.Type)]
		return []string{s.ARN(arnService, "loadbalancer/"+cmp.Or(kind, "app")+"/"+service.Deref(in.Name)+"/*")}
	})},
	"CreateTargetGroup": {Resources: authz.On(func(s authz.Scope, in *api.CreateTargetGroupInput) []string {
		return []string{s.ARN(arnService, "targetgroup/"+service.Deref(in.Name)+"/*")}
	})},
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
