package elbv2_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
)

func TestTargetGroupDefaults(t *testing.T) {
	f := start(t)
	tg := f.targetGroup(t, "defaults")
	out := awstest.Call(t, f.elb.DescribeTargetGroups, &elb.DescribeTargetGroupsInput{Names: []string{"defaults"}})
	g := out.TargetGroups[0]
	got := []any{aws.ToString(g.HealthCheckPath), aws.ToString(g.HealthCheckPort), aws.ToInt32(g.HealthCheckIntervalSeconds),
		aws.ToInt32(g.HealthCheckTimeoutSeconds), aws.ToInt32(g.HealthyThresholdCount), aws.ToInt32(g.UnhealthyThresholdCount),
		aws.ToString(g.Matcher.HttpCode), g.HealthCheckProtocol, aws.ToString(g.ProtocolVersion)}
	want := []any{"/", "traffic-port", int32(30), int32(5), int32(5), int32(2), "200", types.ProtocolEnumHttp, "HTTP1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("health check defaults (-want +got):\n%s", diff)
	}
	attrs := awstest.Call(t, f.elb.DescribeTargetGroupAttributes, &elb.DescribeTargetGroupAttributesInput{TargetGroupArn: aws.String(tg)})
	gotAttrs := map[string]string{}
	for _, a := range attrs.Attributes {
		gotAttrs[aws.ToString(a.Key)] = aws.ToString(a.Value)
	}
	for k, v := range map[string]string{"deregistration_delay.timeout_seconds": "300", "slow_start.duration_seconds": "0",
		"stickiness.enabled": "false", "stickiness.type": "lb_cookie", "load_balancing.algorithm.type": "round_robin"} {
		if gotAttrs[k] != v {
			t.Errorf("attribute %s: got %q, want %q", k, gotAttrs[k], v)
		}
	}
	// Creating it again with the same settings returns the same group.
	again := f.targetGroup(t, "defaults")
	if again != tg {
		t.Errorf("second create: got %s, want the existing %s", again, tg)
	}
}

func TestRulesDescribeAndReorder(t *testing.T) {
	f := start(t)
	s := f.service(t, "rules")
	a := f.rule(t, s.listener, 10, forwardTo(s.tg), types.RuleCondition{Field: aws.String("path-pattern"), Values: []string{"/a"}})
	b := f.rule(t, s.listener, 20, forwardTo(s.tg), types.RuleCondition{Field: aws.String("path-pattern"), Values: []string{"/b"}})
	awstest.Call(t, f.elb.SetRulePriorities, &elb.SetRulePrioritiesInput{RulePriorities: []types.RulePriorityPair{
		{RuleArn: aws.String(a), Priority: aws.Int32(20)}, {RuleArn: aws.String(b), Priority: aws.Int32(10)}}})
	out := awstest.Call(t, f.elb.DescribeRules, &elb.DescribeRulesInput{ListenerArn: aws.String(s.listener)})
	type row struct {
		ARN, Priority string
		Default       bool
		Values        []string
	}
	var got []row
	for _, r := range out.Rules {
		var values []string
		for _, c := range r.Conditions {
			values = append(values, c.PathPatternConfig.Values...)
		}
		got = append(got, row{aws.ToString(r.RuleArn), aws.ToString(r.Priority), aws.ToBool(r.IsDefault), values})
	}
	want := []row{{b, "10", false, []string{"/b"}}, {a, "20", false, []string{"/a"}}, {got[2].ARN, "default", true, nil}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
	fwd := out.Rules[0].Actions[0]
	if aws.ToString(fwd.TargetGroupArn) != s.tg || len(fwd.ForwardConfig.TargetGroups) != 1 || aws.ToInt32(fwd.ForwardConfig.TargetGroups[0].Weight) != 1 {
		t.Errorf("got forward %+v, want the group both as TargetGroupArn and in ForwardConfig with weight 1", fwd)
	}
}

func TestTags(t *testing.T) {
	f := start(t)
	s := f.service(t, "tagged")
	arns := []string{aws.ToString(s.lb.LoadBalancerArn), s.tg, s.listener}
	awstest.Call(t, f.elb.AddTags, &elb.AddTagsInput{ResourceArns: arns,
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}, {Key: aws.String("tmp"), Value: aws.String("x")}}})
	awstest.Call(t, f.elb.RemoveTags, &elb.RemoveTagsInput{ResourceArns: arns, TagKeys: []string{"tmp"}})
	out := awstest.Call(t, f.elb.DescribeTags, &elb.DescribeTagsInput{ResourceArns: arns})
	for _, d := range out.TagDescriptions {
		if len(d.Tags) != 1 || aws.ToString(d.Tags[0].Key) != "team" || aws.ToString(d.Tags[0].Value) != "web" {
			t.Errorf("%s: got tags %v, want team=web", aws.ToString(d.ResourceArn), d.Tags)
		}
	}
}
