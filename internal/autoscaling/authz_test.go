package autoscaling

import (
	"context"
	"testing"

	"overcast"
	api "overcast/internal/api/autoscaling"
	"overcast/internal/authz/authztest"
	"overcast/internal/service/servicetest"
)

func TestAuthzTable(t *testing.T) {
	s := New(servicetest.Env(t), nil)
	ctx := overcast.WithCaller(context.Background(), overcast.RootCaller(authztest.Scope.AccountID, authztest.Scope.Region))
	if err := s.CreateLaunchConfiguration(ctx, &api.CreateLaunchConfigurationType{LaunchConfigurationName: new("web"),
		ImageId: new("ami-0abc"), InstanceType: new("t3.micro")}); err != nil {
		t.Fatal(err)
	}
	lcs, err := s.DescribeLaunchConfigurations(ctx, &api.LaunchConfigurationNamesType{})
	if err != nil || len(lcs.LaunchConfigurations) != 1 {
		t.Fatalf("DescribeLaunchConfigurations: %v, %v", lcs, err)
	}
	const arn = "arn:aws:autoscaling:us-east-1:123456789012:"
	authztest.Run(t, s.authzTable(), []authztest.Case{
		{Name: "existing", Op: "DeleteLaunchConfiguration", In: &api.LaunchConfigurationNameType{LaunchConfigurationName: new("web")},
			Resources: []string{*lcs.LaunchConfigurations[0].LaunchConfigurationARN}},
		{Name: "new", Op: "CreateAutoScalingGroup", In: &api.CreateAutoScalingGroupType{AutoScalingGroupName: new("web")},
			Resources: []string{arn + "autoScalingGroup:*:autoScalingGroupName/web"}},
		{Op: "CreateOrUpdateTags", In: &api.CreateOrUpdateTagsType{Tags: api.Tags{{ResourceId: new("web"), ResourceType: new("auto-scaling-group")}}},
			Resources: []string{arn + "autoScalingGroup:*:autoScalingGroupName/web"}},
		{Op: "DescribeAutoScalingGroups", In: &api.AutoScalingGroupNamesType{}, Resources: []string{"*"}},
	})
}
