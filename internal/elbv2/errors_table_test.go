package elbv2_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"overcast/internal/awstest"
)

// TestErrorsTable holds ELBv2's common failures to the codes of the
// operations' Errors sections in the ELBv2 API Reference, with the
// messages AWS words them with where users quote them.
func TestErrorsTable(t *testing.T) {
	f := start(t)
	s := f.service(t, "errors")
	lbARN := aws.ToString(s.lb.LoadBalancerArn)
	ruleARN := f.rule(t, s.listener, 7, forwardTo(s.tg), types.RuleCondition{Field: aws.String("path-pattern"), Values: []string{"/a"}})
	secondRule := f.rule(t, s.listener, 11, forwardTo(s.tg), types.RuleCondition{Field: aws.String("path-pattern"), Values: []string{"/b"}})
	rules := awstest.Call(t, f.elb.DescribeRules, &elb.DescribeRulesInput{ListenerArn: aws.String(s.listener)})
	defaultRule := aws.ToString(rules.Rules[len(rules.Rules)-1].RuleArn)
	unused := f.targetGroup(t, "unused")
	missingTG := strings.Replace(s.tg, "/errors/", "/nothing/", 1)
	missingLB := strings.Replace(lbARN, "/errors/", "/nothing/", 1)
	missingListener := strings.Replace(s.listener, "/errors/", "/nothing/", 1)
	pathIs := func(p string) types.RuleCondition {
		return types.RuleCondition{Field: aws.String("path-pattern"), Values: []string{p}}
	}

	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "CreateRule: a priority in use", Want: awstest.APIError{Code: "PriorityInUse", Status: 400, Message: "Priority '7' is currently in use"},
			Call: awstest.Fails(f.elb.CreateRule, &elb.CreateRuleInput{ListenerArn: aws.String(s.listener), Priority: aws.Int32(7),
				Actions: forwardTo(s.tg), Conditions: []types.RuleCondition{pathIs("/b")}})},
		{Name: "CreateRule: an unknown target group", Want: awstest.APIError{Code: "TargetGroupNotFound", Status: 400, Message: missingTG},
			Call: awstest.Fails(f.elb.CreateRule, &elb.CreateRuleInput{ListenerArn: aws.String(s.listener), Priority: aws.Int32(8),
				Actions: forwardTo(missingTG), Conditions: []types.RuleCondition{pathIs("/b")}})},
		{Name: "CreateRule: Values and HostHeaderConfig", Want: awstest.APIError{Code: "ValidationError", Status: 400,
			Message: "You cannot provide both Values and 'HostHeaderConfig' for a condition of type 'host-header'"},
			Call: awstest.Fails(f.elb.CreateRule, &elb.CreateRuleInput{ListenerArn: aws.String(s.listener), Priority: aws.Int32(9),
				Actions: forwardTo(s.tg), Conditions: []types.RuleCondition{{Field: aws.String("host-header"), Values: []string{"a.example.com"},
					HostHeaderConfig: &types.HostHeaderConditionConfig{Values: []string{"b.example.com"}}}}})},
		{Name: "SetRulePriorities: onto another rule's priority", Want: awstest.APIError{Code: "PriorityInUse", Status: 400},
			Call: awstest.Fails(f.elb.SetRulePriorities, &elb.SetRulePrioritiesInput{RulePriorities: []types.RulePriorityPair{
				{RuleArn: aws.String(secondRule), Priority: aws.Int32(7)}}})},
		{Name: "SetRulePriorities: the default rule", Want: awstest.APIError{Code: "OperationNotPermitted", Status: 400},
			Call: awstest.Fails(f.elb.SetRulePriorities, &elb.SetRulePrioritiesInput{RulePriorities: []types.RulePriorityPair{
				{RuleArn: aws.String(defaultRule), Priority: aws.Int32(3)}}})},
		{Name: "DeleteRule: the default rule", Want: awstest.APIError{Code: "OperationNotPermitted", Status: 400},
			Call: awstest.Fails(f.elb.DeleteRule, &elb.DeleteRuleInput{RuleArn: aws.String(defaultRule)})},
		{Name: "DeleteTargetGroup: in use", Want: awstest.APIError{Code: "ResourceInUse", Status: 400,
			Message: "Target group '" + s.tg + "' is currently in use by a listener or a rule"},
			Call: awstest.Fails(f.elb.DeleteTargetGroup, &elb.DeleteTargetGroupInput{TargetGroupArn: aws.String(s.tg)})},
		{Name: "CreateLoadBalancer: same name, other settings", Want: awstest.APIError{Code: "DuplicateLoadBalancerName", Status: 400,
			Message: "A load balancer with the same name 'errors' exists, but with different settings"},
			Call: awstest.Fails(f.elb.CreateLoadBalancer, &elb.CreateLoadBalancerInput{Name: aws.String("errors"), Subnets: f.subnets,
				Scheme: types.LoadBalancerSchemeEnumInternal})},
		{Name: "CreateLoadBalancer: one subnet", Want: awstest.APIError{Code: "ValidationError", Status: 400},
			Call: awstest.Fails(f.elb.CreateLoadBalancer, &elb.CreateLoadBalancerInput{Name: aws.String("one"), Subnets: f.subnets[:1]})},
		{Name: "CreateLoadBalancer: an unknown subnet", Want: awstest.APIError{Code: "SubnetNotFound", Status: 400},
			Call: awstest.Fails(f.elb.CreateLoadBalancer, &elb.CreateLoadBalancerInput{Name: aws.String("two"),
				Subnets: []string{f.subnets[0], "subnet-00000000000000000"}})},
		{Name: "CreateLoadBalancer: an unknown security group", Want: awstest.APIError{Code: "InvalidSecurityGroup", Status: 400},
			Call: awstest.Fails(f.elb.CreateLoadBalancer, &elb.CreateLoadBalancerInput{Name: aws.String("three"), Subnets: f.subnets,
				SecurityGroups: []string{"sg-00000000000000000"}})},
		{Name: "CreateTargetGroup: timeout not below interval", Want: awstest.APIError{Code: "ValidationError", Status: 400,
			Message: "Health check interval must be greater than the timeout."},
			Call: awstest.Fails(f.elb.CreateTargetGroup, &elb.CreateTargetGroupInput{Name: aws.String("hc"), Protocol: types.ProtocolEnumHttp,
				Port: aws.Int32(80), VpcId: aws.String(f.vpc), HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(5)})},
		{Name: "CreateTargetGroup: a matcher out of range", Want: awstest.APIError{Code: "ValidationError", Status: 400},
			Call: awstest.Fails(f.elb.CreateTargetGroup, &elb.CreateTargetGroupInput{Name: aws.String("m"), Protocol: types.ProtocolEnumHttp,
				Port: aws.Int32(80), VpcId: aws.String(f.vpc), Matcher: &types.Matcher{HttpCode: aws.String("200-600")}})},
		{Name: "CreateTargetGroup: same name, other settings", Want: awstest.APIError{Code: "DuplicateTargetGroupName", Status: 400},
			Call: awstest.Fails(f.elb.CreateTargetGroup, &elb.CreateTargetGroupInput{Name: aws.String("errors"), Protocol: types.ProtocolEnumHttp,
				Port: aws.Int32(8080), VpcId: aws.String(f.vpc), TargetType: types.TargetTypeEnumIp})},
		{Name: "RegisterTargets: an unknown target group", Want: awstest.APIError{Code: "TargetGroupNotFound", Status: 400},
			Call: awstest.Fails(f.elb.RegisterTargets, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(missingTG),
				Targets: []types.TargetDescription{{Id: aws.String("127.0.0.1")}}})},
		{Name: "RegisterTargets: an address outside the VPC", Want: awstest.APIError{Code: "ValidationError", Status: 400,
			Message: "The Availability Zone is required for IP address '10.9.8.7' because it is not in the VPC"},
			Call: awstest.Fails(f.elb.RegisterTargets, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(unused),
				Targets: []types.TargetDescription{{Id: aws.String("10.9.8.7")}}})},
		{Name: "RegisterTargets: an instance that does not exist", Want: awstest.APIError{Code: "InvalidTarget", Status: 400},
			Call: awstest.Fails(f.elb.RegisterTargets, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(f.instanceGroup(t)),
				Targets: []types.TargetDescription{{Id: aws.String("i-00000000000000000")}}})},
		{Name: "CreateListener: a port in use", Want: awstest.APIError{Code: "DuplicateListener", Status: 400},
			Call: awstest.Fails(f.elb.CreateListener, &elb.CreateListenerInput{LoadBalancerArn: aws.String(lbARN), Protocol: types.ProtocolEnumHttp,
				Port: aws.Int32(s.port), DefaultActions: forwardTo(unused)})},
		{Name: "CreateListener: HTTPS without a certificate", Want: awstest.APIError{Code: "ValidationError", Status: 400,
			Message: "A certificate must be specified for HTTPS listeners"},
			Call: awstest.Fails(f.elb.CreateListener, &elb.CreateListenerInput{LoadBalancerArn: aws.String(lbARN), Protocol: types.ProtocolEnumHttps,
				Port: aws.Int32(443), DefaultActions: forwardTo(s.tg)})},
		{Name: "CreateListener: an unknown load balancer", Want: awstest.APIError{Code: "LoadBalancerNotFound", Status: 400},
			Call: awstest.Fails(f.elb.CreateListener, &elb.CreateListenerInput{LoadBalancerArn: aws.String(missingLB), Protocol: types.ProtocolEnumHttp,
				Port: aws.Int32(81), DefaultActions: forwardTo(s.tg)})},
		{Name: "DescribeListeners: an unknown listener", Want: awstest.APIError{Code: "ListenerNotFound", Status: 400},
			Call: awstest.Fails(f.elb.DescribeListeners, &elb.DescribeListenersInput{ListenerArns: []string{missingListener}})},
		{Name: "DescribeLoadBalancers: an unknown name", Want: awstest.APIError{Code: "LoadBalancerNotFound", Status: 400,
			Message: "Load balancers '[nothing]' not found"},
			Call: awstest.Fails(f.elb.DescribeLoadBalancers, &elb.DescribeLoadBalancersInput{Names: []string{"nothing"}})},
		{Name: "DescribeTargetGroups: a malformed ARN", Want: awstest.APIError{Code: "ValidationError", Status: 400,
			Message: "'arn:nope' is not a valid target group ARN"},
			Call: awstest.Fails(f.elb.DescribeTargetGroups, &elb.DescribeTargetGroupsInput{TargetGroupArns: []string{"arn:nope"}})},
		{Name: "ModifyLoadBalancerAttributes: an unknown key", Want: awstest.APIError{Code: "ValidationError", Status: 400,
			Message: "Load balancer attribute key 'nope' is not recognized"},
			Call: awstest.Fails(f.elb.ModifyLoadBalancerAttributes, &elb.ModifyLoadBalancerAttributesInput{LoadBalancerArn: aws.String(lbARN),
				Attributes: []types.LoadBalancerAttribute{{Key: aws.String("nope"), Value: aws.String("1")}}})},
		{Name: "ModifyTargetGroupAttributes: a delay out of range", Want: awstest.APIError{Code: "ValidationError", Status: 400},
			Call: awstest.Fails(f.elb.ModifyTargetGroupAttributes, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(s.tg),
				Attributes: []types.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("4000")}}})},
		{Name: "ModifyRule: an unknown rule", Want: awstest.APIError{Code: "RuleNotFound", Status: 400},
			Call: awstest.Fails(f.elb.ModifyRule, &elb.ModifyRuleInput{RuleArn: aws.String(ruleARN[:len(ruleARN)-1] + "x"),
				Conditions: []types.RuleCondition{pathIs("/c")}})},
	})
}

// instanceGroup is a target group of instances in the default VPC.
func (f *fixture) instanceGroup(t *testing.T) string {
	t.Helper()
	return f.targetGroup(t, "instances", func(in *elb.CreateTargetGroupInput) { in.TargetType = types.TargetTypeEnumInstance })
}
