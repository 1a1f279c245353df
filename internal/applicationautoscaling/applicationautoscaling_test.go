package applicationautoscaling_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
	"overcast/internal/clock"
)

const (
	resourceID = "service/prod/web"
	dimension  = types.ScalableDimensionECSServiceDesiredCount
)

type clients struct {
	aas *aas.Client
	cw  *cloudwatch.Client
	ecs *ecs.Client
}

// start runs overcast with an ECS service "web" in cluster "prod" that
// runs no task.
func start(t *testing.T, opts ...awstest.Option) clients {
	t.Helper()
	_, c := startServer(t, opts...)
	return c
}

// startServer is start, with the server to restart.
func startServer(t *testing.T, opts ...awstest.Option) (*awstest.Server, clients) {
	t.Helper()
	srv := awstest.Start(t, opts...)
	c := connect(srv)
	awstest.Call(t, c.ecs.CreateCluster, &ecs.CreateClusterInput{ClusterName: aws.String("prod")})
	awstest.Call(t, c.ecs.RegisterTaskDefinition, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("web"), Image: aws.String("web:latest"), Memory: aws.Int32(64)}}})
	awstest.Call(t, c.ecs.CreateService, &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("web"),
		TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(0)})
	return srv, c
}

func connect(srv *awstest.Server) clients {
	return clients{aas.NewFromConfig(srv.Config()), cloudwatch.NewFromConfig(srv.Config()), ecs.NewFromConfig(srv.Config())}
}

func register(min, max int32) *aas.RegisterScalableTargetInput {
	return &aas.RegisterScalableTargetInput{ServiceNamespace: types.ServiceNamespaceEcs, ResourceId: aws.String(resourceID),
		ScalableDimension: dimension, MinCapacity: aws.Int32(min), MaxCapacity: aws.Int32(max)}
}

func TestScalableTargets(t *testing.T) {
	c := start(t)
	reg := awstest.Call(t, c.aas.RegisterScalableTarget, register(0, 4))
	if arn := aws.ToString(reg.ScalableTargetARN); !strings.HasPrefix(arn, "arn:aws:application-autoscaling:us-east-1:") || !strings.Contains(arn, ":scalable-target/") {
		t.Errorf("got ARN %q, want a scalable-target ARN", arn)
	}
	// A second registration updates what it names and keeps the rest.
	awstest.Call(t, c.aas.RegisterScalableTarget, &aas.RegisterScalableTargetInput{ServiceNamespace: types.ServiceNamespaceEcs,
		ResourceId: aws.String(resourceID), ScalableDimension: dimension, MaxCapacity: aws.Int32(6),
		SuspendedState: &types.SuspendedState{DynamicScalingInSuspended: aws.Bool(true)}})

	got := awstest.Call(t, c.aas.DescribeScalableTargets, &aas.DescribeScalableTargetsInput{ServiceNamespace: types.ServiceNamespaceEcs})
	if len(got.ScalableTargets) != 1 {
		t.Fatalf("got %d targets, want 1", len(got.ScalableTargets))
	}
	st := got.ScalableTargets[0]
	type view struct {
		ResourceID, RoleARN, ARN string
		Min, Max                 int32
		InSuspended              bool
	}
	want := view{resourceID, "arn:aws:iam::000000000000:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService",
		aws.ToString(reg.ScalableTargetARN), 0, 6, true}
	if diff := cmp.Diff(want, view{aws.ToString(st.ResourceId), aws.ToString(st.RoleARN), aws.ToString(st.ScalableTargetARN),
		aws.ToInt32(st.MinCapacity), aws.ToInt32(st.MaxCapacity), aws.ToBool(st.SuspendedState.DynamicScalingInSuspended)}); diff != "" {
		t.Errorf("target (-want +got):\n%s", diff)
	}
	other := awstest.Call(t, c.aas.DescribeScalableTargets, &aas.DescribeScalableTargetsInput{ServiceNamespace: types.ServiceNamespaceEcs,
		ResourceIds: []string{"service/prod/other"}})
	if len(other.ScalableTargets) != 0 {
		t.Errorf("got %d targets for another resource, want 0", len(other.ScalableTargets))
	}

	arn := reg.ScalableTargetARN
	awstest.Call(t, c.aas.TagResource, &aas.TagResourceInput{ResourceARN: arn, Tags: map[string]string{"team": "web", "env": "prod"}})
	awstest.Call(t, c.aas.UntagResource, &aas.UntagResourceInput{ResourceARN: arn, TagKeys: []string{"env"}})
	tags := awstest.Call(t, c.aas.ListTagsForResource, &aas.ListTagsForResourceInput{ResourceARN: arn})
	if diff := cmp.Diff(map[string]string{"team": "web"}, tags.Tags); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}

	awstest.Call(t, c.aas.DeregisterScalableTarget, &aas.DeregisterScalableTargetInput{ServiceNamespace: types.ServiceNamespaceEcs,
		ResourceId: aws.String(resourceID), ScalableDimension: dimension})
	_, err := c.aas.ListTagsForResource(context.Background(), &aas.ListTagsForResourceInput{ResourceARN: arn})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ResourceNotFoundException", Status: 400, Message: "No scalable target found for ARN " + *arn})
	got = awstest.Call(t, c.aas.DescribeScalableTargets, &aas.DescribeScalableTargetsInput{ServiceNamespace: types.ServiceNamespaceEcs})
	if len(got.ScalableTargets) != 0 {
		t.Errorf("got %d targets after deregistering, want 0", len(got.ScalableTargets))
	}
}

func TestErrors(t *testing.T) {
	c := start(t)
	notRegistered := "No scalable target registered for service namespace: ecs, resource ID: service/prod/web, scalable dimension: ecs:service:DesiredCount"
	withResource := func(id string) *aas.RegisterScalableTargetInput {
		in := register(1, 2)
		in.ResourceId = aws.String(id)
		return in
	}
	policy := &aas.PutScalingPolicyInput{PolicyName: aws.String("cpu"), ServiceNamespace: types.ServiceNamespaceEcs,
		ResourceId: aws.String(resourceID), ScalableDimension: dimension, PolicyType: types.PolicyTypeTargetTrackingScaling,
		TargetTrackingScalingPolicyConfiguration: &types.TargetTrackingScalingPolicyConfiguration{TargetValue: aws.Float64(50),
			PredefinedMetricSpecification: &types.PredefinedMetricSpecification{PredefinedMetricType: types.MetricTypeECSServiceAverageCPUUtilization}}}
	validation := func(msg string) awstest.APIError {
		return awstest.APIError{Code: "ValidationException", Status: 400, Message: msg}
	}
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "unknown service", Call: awstest.Fails(c.aas.RegisterScalableTarget, withResource("service/prod/nope")),
			Want: validation("ECS service doesn't exist: service/prod/nope")},
		{Name: "unknown cluster", Call: awstest.Fails(c.aas.RegisterScalableTarget, withResource("service/nope/web")),
			Want: validation("ECS service doesn't exist: service/nope/web")},
		{Name: "malformed resource ID", Call: awstest.Fails(c.aas.RegisterScalableTarget, withResource("web")),
			Want: validation("Unsupported resource ID: web. ECS resource IDs have the form service/<cluster-name>/<service-name>.")},
		{Name: "new target without bounds", Call: awstest.Fails(c.aas.RegisterScalableTarget, &aas.RegisterScalableTargetInput{
			ServiceNamespace: types.ServiceNamespaceEcs, ResourceId: aws.String(resourceID), ScalableDimension: dimension}),
			Want: validation("MinCapacity and MaxCapacity are required for registering a new scalable target.")},
		{Name: "min above max", Call: awstest.Fails(c.aas.RegisterScalableTarget, register(3, 2)),
			Want: validation("Minimum capacity cannot be greater than maximum capacity")},
		{Name: "policy of an unregistered target", Call: awstest.Fails(c.aas.PutScalingPolicy, policy),
			Want: awstest.APIError{Code: "ObjectNotFoundException", Status: 400, Message: notRegistered}},
		{Name: "deregister an unregistered target", Call: awstest.Fails(c.aas.DeregisterScalableTarget, &aas.DeregisterScalableTargetInput{
			ServiceNamespace: types.ServiceNamespaceEcs, ResourceId: aws.String(resourceID), ScalableDimension: dimension}),
			Want: awstest.APIError{Code: "ObjectNotFoundException", Status: 400, Message: notRegistered}},
		{Name: "delete an unknown policy", Call: awstest.Fails(c.aas.DeleteScalingPolicy, &aas.DeleteScalingPolicyInput{PolicyName: aws.String("cpu"),
			ServiceNamespace: types.ServiceNamespaceEcs, ResourceId: aws.String(resourceID), ScalableDimension: dimension}),
			Want: awstest.APIError{Code: "ObjectNotFoundException", Status: 400, Message: "No scaling policy found for " + strings.TrimPrefix(notRegistered, "No scalable target registered for ") + ", policy name: cpu"}},
		{Name: "target tracking without its configuration", Call: func(ctx context.Context) error {
			awstest.Call(t, c.aas.RegisterScalableTarget, register(1, 2))
			_, err := c.aas.PutScalingPolicy(ctx, &aas.PutScalingPolicyInput{PolicyName: aws.String("cpu"), ServiceNamespace: types.ServiceNamespaceEcs,
				ResourceId: aws.String(resourceID), ScalableDimension: dimension, PolicyType: types.PolicyTypeTargetTrackingScaling})
			return err
		},
			Want: validation("TargetTrackingScalingPolicyConfiguration is required for a policy of type TargetTrackingScaling")},
		{Name: "ALBRequestCountPerTarget without its label", Call: awstest.Fails(c.aas.PutScalingPolicy, &aas.PutScalingPolicyInput{
			PolicyName: aws.String("requests"), ServiceNamespace: types.ServiceNamespaceEcs, ResourceId: aws.String(resourceID),
			ScalableDimension: dimension, PolicyType: types.PolicyTypeTargetTrackingScaling,
			TargetTrackingScalingPolicyConfiguration: &types.TargetTrackingScalingPolicyConfiguration{TargetValue: aws.Float64(100),
				PredefinedMetricSpecification: &types.PredefinedMetricSpecification{PredefinedMetricType: types.MetricTypeALBRequestCountPerTarget}}}),
			Want: validation("ResourceLabel must be specified for ALBRequestCountPerTarget, as app/<load-balancer-name>/<load-balancer-id>/targetgroup/<target-group-name>/<target-group-id>.")},
		{Name: "step scaling with a gap", Call: awstest.Fails(c.aas.PutScalingPolicy, &aas.PutScalingPolicyInput{
			PolicyName: aws.String("steps"), ServiceNamespace: types.ServiceNamespaceEcs, ResourceId: aws.String(resourceID),
			ScalableDimension: dimension, PolicyType: types.PolicyTypeStepScaling,
			StepScalingPolicyConfiguration: &types.StepScalingPolicyConfiguration{AdjustmentType: types.AdjustmentTypeChangeInCapacity,
				StepAdjustments: []types.StepAdjustment{
					{MetricIntervalLowerBound: aws.Float64(0), MetricIntervalUpperBound: aws.Float64(10), ScalingAdjustment: aws.Int32(1)},
					{MetricIntervalLowerBound: aws.Float64(20), ScalingAdjustment: aws.Int32(2)}}}}),
			Want: validation("Step adjustments must not overlap or leave gaps between them.")},
	})
}

func TestTargetTrackingPolicyAlarms(t *testing.T) {
	c := start(t)
	awstest.Call(t, c.aas.RegisterScalableTarget, register(1, 4))
	in := &aas.PutScalingPolicyInput{PolicyName: aws.String("cpu50"), ServiceNamespace: types.ServiceNamespaceEcs,
		ResourceId: aws.String(resourceID), ScalableDimension: dimension, PolicyType: types.PolicyTypeTargetTrackingScaling,
		TargetTrackingScalingPolicyConfiguration: &types.TargetTrackingScalingPolicyConfiguration{TargetValue: aws.Float64(50),
			PredefinedMetricSpecification: &types.PredefinedMetricSpecification{PredefinedMetricType: types.MetricTypeECSServiceAverageCPUUtilization},
			ScaleInCooldown:               aws.Int32(60)}}
	put := awstest.Call(t, c.aas.PutScalingPolicy, in)
	arn := aws.ToString(put.PolicyARN)
	if !strings.HasPrefix(arn, "arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:") || !strings.HasSuffix(arn, ":resource/ecs/service/prod/web:policyName/cpu50") {
		t.Errorf("got policy ARN %q", arn)
	}
	if len(put.Alarms) != 2 || !strings.HasPrefix(aws.ToString(put.Alarms[0].AlarmName), "TargetTracking-service/prod/web-AlarmHigh-") ||
		!strings.HasPrefix(aws.ToString(put.Alarms[1].AlarmName), "TargetTracking-service/prod/web-AlarmLow-") {
		t.Fatalf("got alarms %+v, want a high and a low one", put.Alarms)
	}

	type alarmView struct {
		Metric, Namespace, Statistic, Operator string
		Dimensions                             []string
		Threshold                              float64
		Period, Periods                        int32
		Actions                                []string
	}
	dims := []string{"ClusterName=prod", "ServiceName=web"}
	want := []alarmView{
		{"CPUUtilization", "AWS/ECS", "Average", "GreaterThanThreshold", dims, 50, 60, 3, []string{arn}},
		{"CPUUtilization", "AWS/ECS", "Average", "LessThanThreshold", dims, 45, 60, 15, []string{arn}},
	}
	var got []alarmView
	for _, ref := range put.Alarms {
		out := awstest.Call(t, c.cw.DescribeAlarms, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{aws.ToString(ref.AlarmName)}})
		if len(out.MetricAlarms) != 1 {
			t.Fatalf("alarm %s: got %d alarms, want 1", aws.ToString(ref.AlarmName), len(out.MetricAlarms))
		}
		a := out.MetricAlarms[0]
		got = append(got, alarmView{aws.ToString(a.MetricName), aws.ToString(a.Namespace), string(a.Statistic), string(a.ComparisonOperator),
			dimensionStrings(a.Dimensions), aws.ToFloat64(a.Threshold), aws.ToInt32(a.Period), aws.ToInt32(a.EvaluationPeriods), a.AlarmActions})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("alarms (-want +got):\n%s", diff)
	}

	policies := awstest.Call(t, c.aas.DescribeScalingPolicies, &aas.DescribeScalingPoliciesInput{ServiceNamespace: types.ServiceNamespaceEcs,
		ResourceId: aws.String(resourceID)})
	if len(policies.ScalingPolicies) != 1 || aws.ToString(policies.ScalingPolicies[0].PolicyARN) != arn ||
		aws.ToInt32(policies.ScalingPolicies[0].TargetTrackingScalingPolicyConfiguration.ScaleInCooldown) != 60 ||
		len(policies.ScalingPolicies[0].Alarms) != 2 {
		t.Errorf("got policies %+v, want cpu50 with its configuration and alarms", policies.ScalingPolicies)
	}

	// Deregistering the target deletes the policy and its alarms, even
	// when a user deleted one of them.
	awstest.Call(t, c.cw.DeleteAlarms, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{aws.ToString(put.Alarms[0].AlarmName)}})
	awstest.Call(t, c.aas.DeregisterScalableTarget, &aas.DeregisterScalableTargetInput{ServiceNamespace: types.ServiceNamespaceEcs,
		ResourceId: aws.String(resourceID), ScalableDimension: dimension})
	left := awstest.Call(t, c.cw.DescribeAlarms, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("TargetTracking-")})
	if len(left.MetricAlarms) != 0 {
		t.Errorf("got %d alarms after deregistering, want 0", len(left.MetricAlarms))
	}
	policies = awstest.Call(t, c.aas.DescribeScalingPolicies, &aas.DescribeScalingPoliciesInput{ServiceNamespace: types.ServiceNamespaceEcs})
	if len(policies.ScalingPolicies) != 0 {
		t.Errorf("got %d policies after deregistering, want 0", len(policies.ScalingPolicies))
	}
}

func TestStepPolicyAndDelete(t *testing.T) {
	c := start(t)
	awstest.Call(t, c.aas.RegisterScalableTarget, register(1, 4))
	in := &aas.PutScalingPolicyInput{PolicyName: aws.String("steps"), ServiceNamespace: types.ServiceNamespaceEcs,
		ResourceId: aws.String(resourceID), ScalableDimension: dimension,
		StepScalingPolicyConfiguration: &types.StepScalingPolicyConfiguration{AdjustmentType: types.AdjustmentTypeChangeInCapacity,
			Cooldown: aws.Int32(120), StepAdjustments: []types.StepAdjustment{{MetricIntervalLowerBound: aws.Float64(0), ScalingAdjustment: aws.Int32(2)}}}}
	put := awstest.Call(t, c.aas.PutScalingPolicy, in)
	if len(put.Alarms) != 0 {
		t.Errorf("got alarms %+v for a step policy, want none (the user creates them)", put.Alarms)
	}
	// Putting it again keeps its ARN.
	again := awstest.Call(t, c.aas.PutScalingPolicy, in)
	if aws.ToString(again.PolicyARN) != aws.ToString(put.PolicyARN) {
		t.Errorf("got ARN %s on update, want %s", aws.ToString(again.PolicyARN), aws.ToString(put.PolicyARN))
	}
	got := awstest.Call(t, c.aas.DescribeScalingPolicies, &aas.DescribeScalingPoliciesInput{ServiceNamespace: types.ServiceNamespaceEcs,
		PolicyNames: []string{"steps"}})
	if len(got.ScalingPolicies) != 1 || got.ScalingPolicies[0].PolicyType != types.PolicyTypeStepScaling ||
		aws.ToInt32(got.ScalingPolicies[0].StepScalingPolicyConfiguration.Cooldown) != 120 {
		t.Errorf("got policies %+v, want the step policy", got.ScalingPolicies)
	}
	awstest.Call(t, c.aas.DeleteScalingPolicy, &aas.DeleteScalingPolicyInput{PolicyName: aws.String("steps"),
		ServiceNamespace: types.ServiceNamespaceEcs, ResourceId: aws.String(resourceID), ScalableDimension: dimension})
	got = awstest.Call(t, c.aas.DescribeScalingPolicies, &aas.DescribeScalingPoliciesInput{ServiceNamespace: types.ServiceNamespaceEcs})
	if len(got.ScalingPolicies) != 0 {
		t.Errorf("got %d policies after deleting, want 0", len(got.ScalingPolicies))
	}
}

func dimensionStrings(dims []cwtypes.Dimension) []string {
	var out []string
	for _, d := range dims {
		out = append(out, aws.ToString(d.Name)+"="+aws.ToString(d.Value))
	}
	return out
}

func TestRequestCountPerTargetAlarm(t *testing.T) {
	c := start(t)
	awstest.Call(t, c.aas.RegisterScalableTarget, register(1, 4))
	put := awstest.Call(t, c.aas.PutScalingPolicy, &aas.PutScalingPolicyInput{PolicyName: aws.String("requests"), ServiceNamespace: types.ServiceNamespaceEcs,
		ResourceId: aws.String(resourceID), ScalableDimension: dimension, PolicyType: types.PolicyTypeTargetTrackingScaling,
		TargetTrackingScalingPolicyConfiguration: &types.TargetTrackingScalingPolicyConfiguration{TargetValue: aws.Float64(100),
			PredefinedMetricSpecification: &types.PredefinedMetricSpecification{PredefinedMetricType: types.MetricTypeALBRequestCountPerTarget,
				ResourceLabel: aws.String("app/web/50dc6c495c0c9188/targetgroup/web/73e2d6bc24d8a067")}}})
	out := awstest.Call(t, c.cw.DescribeAlarms, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{aws.ToString(put.Alarms[0].AlarmName)}})
	if len(out.MetricAlarms) != 1 {
		t.Fatalf("got %d alarms, want the high one", len(out.MetricAlarms))
	}
	a := out.MetricAlarms[0]
	got := []string{aws.ToString(a.Namespace), aws.ToString(a.MetricName), string(a.Statistic)}
	got = append(got, dimensionStrings(a.Dimensions)...)
	want := []string{"AWS/ApplicationELB", "RequestCountPerTarget", "Sum", "TargetGroup=targetgroup/web/73e2d6bc24d8a067"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("alarm metric (-want +got):\n%s", diff)
	}
}

// TestAlarmScalesService goes the whole way: datapoints above the target
// put the policy's high alarm in ALARM, whose action sets the ECS
// service's desired count and records the activity.
func TestAlarmScalesService(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	fake := clock.NewFake(t0)
	c := start(t, awstest.Clock(fake))
	awstest.Call(t, c.aas.RegisterScalableTarget, register(1, 4)) // brings the desired count from 0 to 1
	put := awstest.Call(t, c.aas.PutScalingPolicy, &aas.PutScalingPolicyInput{PolicyName: aws.String("load"), ServiceNamespace: types.ServiceNamespaceEcs,
		ResourceId: aws.String(resourceID), ScalableDimension: dimension, PolicyType: types.PolicyTypeTargetTrackingScaling,
		TargetTrackingScalingPolicyConfiguration: &types.TargetTrackingScalingPolicyConfiguration{TargetValue: aws.Float64(50),
			CustomizedMetricSpecification: &types.CustomizedMetricSpecification{Namespace: aws.String("App"), MetricName: aws.String("Load"),
				Statistic: types.MetricStatisticAverage, Dimensions: []types.MetricDimension{{Name: aws.String("Service"), Value: aws.String("web")}}}}})
	if got := desiredCount(t, c); got != 1 {
		t.Fatalf("got desired count %d after registering with min 1, want 1", got)
	}
	for i := range 4 {
		awstest.Call(t, c.cw.PutMetricData, &cloudwatch.PutMetricDataInput{Namespace: aws.String("App"), MetricData: []cwtypes.MetricDatum{{
			MetricName: aws.String("Load"), Dimensions: []cwtypes.Dimension{{Name: aws.String("Service"), Value: aws.String("web")}},
			Timestamp: aws.Time(t0.Add(time.Duration(i)*time.Minute + 10*time.Second)), Value: aws.Float64(100)}}})
		fake.Advance(time.Minute)
	}
	awstest.WaitFor(t, "the service scaled out to 2", func() bool { return desiredCount(t, c) == 2 })

	// The activity is recorded once the desired count is set.
	var acts *aas.DescribeScalingActivitiesOutput
	awstest.WaitFor(t, "the scaling activity", func() bool {
		acts = awstest.Call(t, c.aas.DescribeScalingActivities, &aas.DescribeScalingActivitiesInput{ServiceNamespace: types.ServiceNamespaceEcs})
		return len(acts.ScalingActivities) == 1
	})
	a := acts.ScalingActivities[0]
	wantCause := "monitor alarm " + aws.ToString(put.Alarms[0].AlarmName) + " in state ALARM triggered policy load"
	if aws.ToString(a.Description) != "Setting desired count to 2." || aws.ToString(a.Cause) != wantCause {
		t.Errorf("got activity %q caused by %q, want %q caused by %q", aws.ToString(a.Description), aws.ToString(a.Cause),
			"Setting desired count to 2.", wantCause)
	}
}

func desiredCount(t *testing.T, c clients) int32 {
	t.Helper()
	out := awstest.Call(t, c.ecs.DescribeServices, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web"}})
	if len(out.Services) != 1 {
		t.Fatalf("got %d services, want 1", len(out.Services))
	}
	return out.Services[0].DesiredCount
}
