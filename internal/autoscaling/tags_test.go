package autoscaling_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
)

func TestTags(t *testing.T) {
	f := start(t)
	f.launchConfiguration(t, "lc", "")
	for _, name := range []string{"a", "b"} {
		awstest.Call(t, f.as.CreateAutoScalingGroup, &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String(name),
			LaunchConfigurationName: aws.String("lc"), MinSize: aws.Int32(0), MaxSize: aws.Int32(1), AvailabilityZones: []string{"us-east-1a"}})
	}
	tag := func(group, key, value string, propagate bool) astypes.Tag {
		return astypes.Tag{ResourceId: aws.String(group), ResourceType: aws.String("auto-scaling-group"), Key: aws.String(key),
			Value: aws.String(value), PropagateAtLaunch: aws.Bool(propagate)}
	}
	awstest.Call(t, f.as.CreateOrUpdateTags, &autoscaling.CreateOrUpdateTagsInput{Tags: []astypes.Tag{
		tag("a", "team", "blue", true), tag("a", "env", "prod", false), tag("b", "team", "red", true)}})
	awstest.Call(t, f.as.CreateOrUpdateTags, &autoscaling.CreateOrUpdateTagsInput{Tags: []astypes.Tag{tag("a", "team", "green", false)}})
	awstest.Call(t, f.as.DeleteTags, &autoscaling.DeleteTagsInput{Tags: []astypes.Tag{tag("a", "env", "", false)}})

	describe := func(filters ...astypes.Filter) []string {
		out := awstest.Call(t, f.as.DescribeTags, &autoscaling.DescribeTagsInput{Filters: filters})
		var got []string
		for _, t := range out.Tags {
			got = append(got, aws.ToString(t.ResourceId)+":"+aws.ToString(t.Key)+"="+aws.ToString(t.Value))
		}
		return got
	}
	if diff := cmp.Diff([]string{"a:team=green", "b:team=red"}, describe()); diff != "" {
		t.Errorf("DescribeTags (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"b:team=red"}, describe(astypes.Filter{Name: aws.String("propagate-at-launch"), Values: []string{"true"}})); diff != "" {
		t.Errorf("DescribeTags propagate-at-launch=true (-want +got):\n%s", diff)
	}
	groups := awstest.Call(t, f.as.DescribeAutoScalingGroups, &autoscaling.DescribeAutoScalingGroupsInput{
		Filters: []astypes.Filter{{Name: aws.String("tag:team"), Values: []string{"red", "yellow"}}}})
	if len(groups.AutoScalingGroups) != 1 || aws.ToString(groups.AutoScalingGroups[0].AutoScalingGroupName) != "b" {
		t.Errorf("DescribeAutoScalingGroups tag:team=red: got %d groups, want b", len(groups.AutoScalingGroups))
	}
	_, err := f.as.DescribeTags(t.Context(), &autoscaling.DescribeTagsInput{Filters: []astypes.Filter{{Name: aws.String("colour"), Values: []string{"x"}}}})
	awstest.WantAPIError(t, err, awstest.BadRequest("ValidationError", "Filter type colour is not correct."))
	_, err = f.as.CreateOrUpdateTags(t.Context(), &autoscaling.CreateOrUpdateTagsInput{Tags: []astypes.Tag{tag("nope", "k", "v", false)}})
	awstest.WantAPIError(t, err, awstest.BadRequest("ValidationError", "AutoScalingGroup name not found - "))
}
