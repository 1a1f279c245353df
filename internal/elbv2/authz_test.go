package elbv2

import (
	"testing"

	api "overcast/internal/api/elbv2"
	"overcast/internal/authz/authztest"
)

func TestAuthzTable(t *testing.T) {
	const arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:"
	authztest.Run(t, authzTable, []authztest.Case{
		{Op: "RegisterTargets", In: &api.RegisterTargetsInput{TargetGroupArn: new(arn + "targetgroup/web/6d0ecf831eec9f09")},
			Action: "elasticloadbalancing:RegisterTargets", Resources: []string{arn + "targetgroup/web/6d0ecf831eec9f09"}},
		{Op: "SetRulePriorities", In: &api.SetRulePrioritiesInput{RulePriorities: api.RulePriorityList{{RuleArn: new(arn + "listener-rule/app/lb/1/2/3")}}},
			Resources: []string{arn + "listener-rule/app/lb/1/2/3"}},
		{Op: "DescribeTargetHealth", In: &api.DescribeTargetHealthInput{TargetGroupArn: new(arn + "targetgroup/web/6d0ecf831eec9f09")}, Resources: []string{"*"}},
	})
}
