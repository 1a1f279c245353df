package applicationautoscaling_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"overcast/internal/awstest"
	"overcast/internal/clock"
)

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

	acts := awstest.Call(t, c.aas.DescribeScalingActivities, &aas.DescribeScalingActivitiesInput{ServiceNamespace: types.ServiceNamespaceEcs})
	if len(acts.ScalingActivities) != 1 {
		t.Fatalf("got %d activities, want 1", len(acts.ScalingActivities))
	}
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
