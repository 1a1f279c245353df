package autoscaling_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"

	"overcast/internal/awstest"
)

func TestSimpleScalingPolicies(t *testing.T) {
	f := start(t)
	f.launchConfiguration(t, "lc", "")
	awstest.Call(t, f.as.CreateAutoScalingGroup, &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("g"),
		LaunchConfigurationName: aws.String("lc"), MinSize: aws.Int32(1), MaxSize: aws.Int32(3),
		AvailabilityZones: []string{"us-east-1a", "us-east-1b"}})
	f.waitInService(t, "g", 1)

	put := func(name, adjustmentType string, adjustment int32) {
		awstest.Call(t, f.as.PutScalingPolicy, &autoscaling.PutScalingPolicyInput{AutoScalingGroupName: aws.String("g"),
			PolicyName: aws.String(name), AdjustmentType: aws.String(adjustmentType), ScalingAdjustment: aws.Int32(adjustment)})
	}
	execute := func(name string) {
		awstest.Call(t, f.as.ExecutePolicy, &autoscaling.ExecutePolicyInput{AutoScalingGroupName: aws.String("g"), PolicyName: aws.String(name)})
	}
	put("out", "ChangeInCapacity", 5)
	put("in", "PercentChangeInCapacity", -50)
	if got := awstest.Call(t, f.as.DescribePolicies, &autoscaling.DescribePoliciesInput{AutoScalingGroupName: aws.String("g")}); len(got.ScalingPolicies) != 2 {
		t.Errorf("DescribePolicies: got %d policies, want 2", len(got.ScalingPolicies))
	}

	execute("out") // 1 + 5, held to the maximum of 3
	f.waitInService(t, "g", 3)
	execute("in") // 3 - 50% is 3 - 1 (AWS truncates)
	f.waitInService(t, "g", 2)
	if got := aws.ToInt32(f.group(t, "g").DesiredCapacity); got != 2 {
		t.Errorf("desired capacity: got %d, want 2", got)
	}

	awstest.Call(t, f.as.DeletePolicy, &autoscaling.DeletePolicyInput{AutoScalingGroupName: aws.String("g"), PolicyName: aws.String("in")})
	_, err := f.as.ExecutePolicy(t.Context(), &autoscaling.ExecutePolicyInput{AutoScalingGroupName: aws.String("g"), PolicyName: aws.String("in")})
	awstest.WantAPIError(t, err, awstest.BadRequest("ValidationError", "No such policy in for AutoScalingGroup g"))
	_, err = f.as.PutScalingPolicy(t.Context(), &autoscaling.PutScalingPolicyInput{AutoScalingGroupName: aws.String("nope"),
		PolicyName: aws.String("p"), AdjustmentType: aws.String("ChangeInCapacity"), ScalingAdjustment: aws.Int32(1)})
	awstest.WantAPIError(t, err, awstest.BadRequest("ValidationError", "AutoScalingGroup name not found - "))
}
