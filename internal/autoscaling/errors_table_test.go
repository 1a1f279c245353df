package autoscaling_test

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"overcast/internal/awstest"
)

func TestErrors(t *testing.T) {
	f := start(t)
	subnets, _ := f.defaultSubnets(t)
	f.launchConfiguration(t, "lc", "")
	group := func(name string, min, max, desired int32) *autoscaling.CreateAutoScalingGroupInput {
		return &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String(name), LaunchConfigurationName: aws.String("lc"),
			MinSize: aws.Int32(min), MaxSize: aws.Int32(max), DesiredCapacity: aws.Int32(desired), VPCZoneIdentifier: aws.String(subnets[0])}
	}
	// createWith is a row creating group g changed by change.
	createWith := func(change func(*autoscaling.CreateAutoScalingGroupInput)) func(context.Context) error {
		in := group("g", 0, 1, 0)
		change(in)
		return awstest.Fails(f.as.CreateAutoScalingGroup, in)
	}
	setDesired := func(name string, desired int32) func(context.Context) error {
		return awstest.Fails(f.as.SetDesiredCapacity, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String(name), DesiredCapacity: aws.Int32(desired)})
	}
	update := func(in *autoscaling.UpdateAutoScalingGroupInput) func(context.Context) error {
		return awstest.Fails(f.as.UpdateAutoScalingGroup, in)
	}
	deleteGroup := func(name string) func(context.Context) error {
		return awstest.Fails(f.as.DeleteAutoScalingGroup, &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String(name)})
	}
	deleteLaunchConfiguration := func(name string) func(context.Context) error {
		return awstest.Fails(f.as.DeleteLaunchConfiguration, &autoscaling.DeleteLaunchConfigurationInput{LaunchConfigurationName: aws.String(name)})
	}
	terminate := func(id *string, decrement bool) func(context.Context) error {
		return awstest.Fails(f.as.TerminateInstanceInAutoScalingGroup, &autoscaling.TerminateInstanceInAutoScalingGroupInput{
			InstanceId: id, ShouldDecrementDesiredCapacity: aws.Bool(decrement)})
	}
	awstest.Call(t, f.as.CreateAutoScalingGroup, group("busy", 1, 2, 1))
	busy := f.waitInService(t, "busy", 1)

	bad := awstest.BadRequest
	noGroup := bad("ValidationError", "AutoScalingGroup name not found - ")
	const unmanaged = "i-0123456789abcdef0"
	notManaged := bad("ValidationError", "Instance Id not found - No managed instance found for instance ID: "+unmanaged)
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "launch configuration exists", Call: awstest.Fails(f.as.CreateLaunchConfiguration, &autoscaling.CreateLaunchConfigurationInput{
			LaunchConfigurationName: aws.String("lc"), ImageId: aws.String(ecsImage), InstanceType: aws.String("t3.micro")}),
			Want: bad("AlreadyExists", "Launch Configuration by this name already exists - A launch configuration already exists with the name lc")},
		{Name: "launch configuration without image", Call: awstest.Fails(f.as.CreateLaunchConfiguration, &autoscaling.CreateLaunchConfigurationInput{
			LaunchConfigurationName: aws.String("no-image"), InstanceType: aws.String("t3.micro")}),
			Want: bad("ValidationError", "")},
		{Name: "delete unknown launch configuration", Call: deleteLaunchConfiguration("nope"),
			Want: bad("ValidationError", "Launch configuration name not found - Launch configuration nope not found")},
		{Name: "delete launch configuration in use", Call: deleteLaunchConfiguration("lc"),
			Want: bad("ResourceInUse", "Cannot delete launch configuration lc because it is attached to AutoScalingGroup busy")},
		{Name: "group exists", Call: awstest.Fails(f.as.CreateAutoScalingGroup, group("busy", 1, 2, 1)),
			Want: bad("AlreadyExists", "AutoScalingGroup by this name already exists - A group with the name busy already exists")},
		{Name: "group with unknown launch configuration", Call: createWith(func(in *autoscaling.CreateAutoScalingGroupInput) { in.LaunchConfigurationName = aws.String("nope") }),
			Want: bad("ValidationError", "Launch configuration name not found - Launch configuration nope not found")},
		{Name: "group without launch source", Call: createWith(func(in *autoscaling.CreateAutoScalingGroupInput) { in.LaunchConfigurationName = nil }),
			Want: bad("ValidationError", "Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter.")},
		{Name: "desired above max", Call: awstest.Fails(f.as.CreateAutoScalingGroup, group("g", 1, 2, 3)),
			Want: bad("ValidationError", "Desired capacity:3 must be between the specified min size:1 and max size:2")},
		{Name: "min above max", Call: awstest.Fails(f.as.CreateAutoScalingGroup, group("g", 3, 2, 3)),
			Want: bad("ValidationError", "Max bound, 2, must be greater than or equal to min bound, 3")},
		{Name: "unknown subnet", Call: createWith(func(in *autoscaling.CreateAutoScalingGroupInput) {
			in.VPCZoneIdentifier = aws.String("subnet-0123456789abcdef0")
		}),
			Want: bad("ValidationError", "The subnet ID 'subnet-0123456789abcdef0' does not exist")},
		{Name: "no placement", Call: createWith(func(in *autoscaling.CreateAutoScalingGroupInput) { in.VPCZoneIdentifier = nil }),
			Want: bad("ValidationError", "At least one Availability Zone or VPC Subnet is required.")},
		{Name: "set desired on unknown group", Call: setDesired("nope", 1), Want: noGroup},
		{Name: "set desired above max", Call: setDesired("busy", 5),
			Want: bad("ValidationError", "New SetDesiredCapacity value 5 is above max value 2 for the AutoScalingGroup.")},
		{Name: "set desired below min", Call: setDesired("busy", 0),
			Want: bad("ValidationError", "New SetDesiredCapacity value 0 is below min value 1 for the AutoScalingGroup.")},
		{Name: "update unknown group", Call: update(&autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String("nope"), MaxSize: aws.Int32(3)}),
			Want: noGroup},
		{Name: "update desired above max", Call: update(&autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String("busy"), DesiredCapacity: aws.Int32(3)}),
			Want: bad("ValidationError", "Desired capacity:3 must be between the specified min size:1 and max size:2")},
		{Name: "delete group with instances", Call: deleteGroup("busy"),
			Want: bad("ResourceInUse", "You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request(s) still in the group.")},
		{Name: "delete unknown group", Call: deleteGroup("nope"), Want: noGroup},
		{Name: "terminate unmanaged instance", Call: terminate(aws.String(unmanaged), false), Want: notManaged},
		{Name: "terminate below min", Call: terminate(busy[0].InstanceId, true),
			Want: bad("ValidationError", "Currently, desiredSize equals minSize (1).")},
		{Name: "health of unmanaged instance", Call: awstest.Fails(f.as.SetInstanceHealth, &autoscaling.SetInstanceHealthInput{
			InstanceId: aws.String(unmanaged), HealthStatus: aws.String("Unhealthy")}),
			Want: notManaged},
		{Name: "activities of unknown group", Call: awstest.Fails(f.as.DescribeScalingActivities, &autoscaling.DescribeScalingActivitiesInput{
			AutoScalingGroupName: aws.String("nope")}),
			Want: noGroup},
	})
}

// TerminateInstanceInAutoScalingGroup without decrementing: the group
// replaces the instance.
func TestTerminateInstanceInAutoScalingGroup(t *testing.T) {
	f := start(t)
	f.launchConfiguration(t, "lc", "")
	awstest.Call(t, f.as.CreateAutoScalingGroup, &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("g"),
		LaunchConfigurationName: aws.String("lc"), MinSize: aws.Int32(1), MaxSize: aws.Int32(3), DesiredCapacity: aws.Int32(2),
		AvailabilityZones: []string{"us-east-1a", "us-east-1b"}})
	two := f.waitInService(t, "g", 2)
	if got := zonesOf(two); len(got) != 2 {
		t.Errorf("instances per zone: got %v, want one in each of the group's zones", got)
	}

	out := awstest.Call(t, f.as.TerminateInstanceInAutoScalingGroup, &autoscaling.TerminateInstanceInAutoScalingGroupInput{
		InstanceId: two[0].InstanceId, ShouldDecrementDesiredCapacity: aws.Bool(false)})
	if got, want := aws.ToString(out.Activity.Description), "Terminating EC2 instance: "+aws.ToString(two[0].InstanceId); got != want {
		t.Errorf("activity: got %q, want %q", got, want)
	}
	awstest.WaitFor(t, "a replacement", func() bool {
		got := f.group(t, "g").Instances
		return len(got) == 2 && !slices.Contains(ids(got), aws.ToString(two[0].InstanceId)) &&
			got[0].LifecycleState == astypes.LifecycleStateInService && got[1].LifecycleState == astypes.LifecycleStateInService
	})

	awstest.Call(t, f.as.TerminateInstanceInAutoScalingGroup, &autoscaling.TerminateInstanceInAutoScalingGroupInput{
		InstanceId: two[1].InstanceId, ShouldDecrementDesiredCapacity: aws.Bool(true)})
	f.waitInService(t, "g", 1)
	if got := aws.ToInt32(f.group(t, "g").DesiredCapacity); got != 1 {
		t.Errorf("desired capacity: got %d, want 1", got)
	}

	// An instance a user reports unhealthy is replaced.
	sick := aws.ToString(f.group(t, "g").Instances[0].InstanceId)
	awstest.Call(t, f.as.SetInstanceHealth, &autoscaling.SetInstanceHealthInput{InstanceId: aws.String(sick), HealthStatus: aws.String("Unhealthy")})
	awstest.WaitFor(t, "a replacement for "+sick, func() bool {
		got := f.group(t, "g").Instances
		return len(got) == 1 && aws.ToString(got[0].InstanceId) != sick && got[0].LifecycleState == astypes.LifecycleStateInService
	})
}
