package applicationautoscaling_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
	"overcast/internal/clock"
)

// TestAlarmKeepsScaling: the high alarm goes into ALARM once and stays
// there; CloudWatch runs the policy again every minute, so the service
// keeps scaling out, one scale-out per cooldown, up to its maximum.
func TestAlarmKeepsScaling(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	fake := clock.NewFake(t0)
	c := start(t, awstest.Clock(fake))
	awstest.Call(t, c.aas.RegisterScalableTarget, register(1, 8))
	awstest.Call(t, c.aas.PutScalingPolicy, &aas.PutScalingPolicyInput{PolicyName: aws.String("load"), ServiceNamespace: types.ServiceNamespaceEcs,
		ResourceId: aws.String(resourceID), ScalableDimension: dimension, PolicyType: types.PolicyTypeTargetTrackingScaling,
		TargetTrackingScalingPolicyConfiguration: &types.TargetTrackingScalingPolicyConfiguration{TargetValue: aws.Float64(50),
			ScaleOutCooldown: aws.Int32(120), CustomizedMetricSpecification: &types.CustomizedMetricSpecification{Namespace: aws.String("App"),
				MetricName: aws.String("Load"), Statistic: types.MetricStatisticAverage}}})
	activities := func() []string {
		out := awstest.Call(t, c.aas.DescribeScalingActivities, &aas.DescribeScalingActivitiesInput{ServiceNamespace: types.ServiceNamespaceEcs,
			IncludeNotScaledActivities: aws.Bool(true)})
		var lines []string
		for _, a := range out.ScalingActivities {
			line := aws.ToString(a.Description)
			for _, r := range a.NotScaledReasons {
				line += " " + aws.ToString(r.Code)
			}
			lines = append(lines, line)
		}
		return lines
	}
	// How many activities there are after each minute's evaluation, from
	// 12:01: the alarm goes into ALARM at 12:03 (3 datapoints of 3 above
	// 50); -1 is a minute whose evaluation leaves nothing to see.
	wantCounts := []int{0, 0, 1, 2, 3, 4, 5, 6, -1}
	for i, want := range wantCounts {
		awstest.Call(t, c.cw.PutMetricData, &cloudwatch.PutMetricDataInput{Namespace: aws.String("App"), MetricData: []cwtypes.MetricDatum{{
			MetricName: aws.String("Load"), Timestamp: aws.Time(t0.Add(time.Duration(i)*time.Minute + 10*time.Second)), Value: aws.Float64(100)}}})
		fake.Advance(time.Minute)
		if want >= 0 {
			awstest.WaitFor(t, fake.Now().Format("15:04")+"'s evaluation", func() bool { return len(activities()) == want })
		}
	}
	want := []string{
		"Attempting to scale due to alarm triggered AlreadyAtMaxCapacity",     // 12:08, and again (not recorded) at 12:09
		"Setting desired count to 8.",                                         // 12:07, the cooldown over: 4 at 100% of 50%
		"Attempting to scale due to alarm triggered AlreadyAtDesiredCapacity", // 12:06, in the cooldown
		"Setting desired count to 4.",                                         // 12:05, the cooldown over
		"Attempting to scale due to alarm triggered AlreadyAtDesiredCapacity", // 12:04, in the cooldown
		"Setting desired count to 2.",                                         // 12:03, the transition
	}
	if diff := cmp.Diff(want, activities()); diff != "" {
		t.Errorf("activities, newest first (-want +got):\n%s", diff)
	}
	if got := desiredCount(t, c); got != 8 {
		t.Errorf("got desired count %d, want 8", got)
	}
}
