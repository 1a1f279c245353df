package autoscaling_test

import (
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
	"overcast/internal/clock"
)

const ecsImage = "ami-0a7e5c31a0d1e5f01"

type fixture struct {
	as  *autoscaling.Client
	ec2 *ec2.Client
	ecs *ecs.Client
	clk *clock.Fake
}

func start(t *testing.T) fixture {
	t.Helper()
	srv, clk := awstest.StartAt(t, time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC))
	cfg := awstest.KeepRequestBodies(srv.Config())
	return fixture{as: autoscaling.NewFromConfig(cfg), ec2: ec2.NewFromConfig(cfg), ecs: ecs.NewFromConfig(cfg), clk: clk}
}

// defaultSubnets are the default VPC's subnets of two zones.
func (f fixture) defaultSubnets(t *testing.T) (ids []string, zones map[string]string) {
	t.Helper()
	out := awstest.Call(t, f.ec2.DescribeSubnets, &ec2.DescribeSubnetsInput{
		Filters: []ec2types.Filter{{Name: aws.String("default-for-az"), Values: []string{"true"}}}})
	slices.SortFunc(out.Subnets, func(a, b ec2types.Subnet) int {
		return strings.Compare(aws.ToString(a.AvailabilityZone), aws.ToString(b.AvailabilityZone))
	})
	if len(out.Subnets) < 2 {
		t.Fatalf("got %d default subnets, want at least 2", len(out.Subnets))
	}
	zones = map[string]string{}
	for _, sn := range out.Subnets[:2] {
		ids = append(ids, aws.ToString(sn.SubnetId))
		zones[aws.ToString(sn.SubnetId)] = aws.ToString(sn.AvailabilityZone)
	}
	return ids, zones
}

// launchConfiguration makes a launch configuration of a t3.micro.
func (f fixture) launchConfiguration(t *testing.T, name, userData string) {
	t.Helper()
	awstest.Call(t, f.as.CreateLaunchConfiguration, &autoscaling.CreateLaunchConfigurationInput{
		LaunchConfigurationName: aws.String(name), ImageId: aws.String(ecsImage), InstanceType: aws.String("t3.micro"),
		UserData: aws.String(base64.StdEncoding.EncodeToString([]byte(userData)))})
}

func (f fixture) group(t *testing.T, name string) astypes.AutoScalingGroup {
	t.Helper()
	out := awstest.Call(t, f.as.DescribeAutoScalingGroups, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}})
	if len(out.AutoScalingGroups) != 1 {
		t.Fatalf("DescribeAutoScalingGroups %s: got %d groups, want 1", name, len(out.AutoScalingGroups))
	}
	return out.AutoScalingGroups[0]
}

// waitInService waits until the group has exactly n instances, all
// InService, and returns them.
func (f fixture) waitInService(t *testing.T, name string, n int) []astypes.Instance {
	t.Helper()
	var got []astypes.Instance
	awstest.WaitFor(t, fmt.Sprintf("%d InService instances in %s", n, name), func() bool {
		got = f.group(t, name).Instances
		return len(got) == n && !slices.ContainsFunc(got, func(i astypes.Instance) bool { return i.LifecycleState != astypes.LifecycleStateInService })
	})
	return got
}

func (f fixture) ec2Instance(t *testing.T, id string) ec2types.Instance {
	t.Helper()
	out := awstest.Call(t, f.ec2.DescribeInstances, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if len(out.Reservations) != 1 || len(out.Reservations[0].Instances) != 1 {
		t.Fatalf("DescribeInstances %s: got %d reservations, want 1", id, len(out.Reservations))
	}
	return out.Reservations[0].Instances[0]
}

func (f fixture) waitTerminated(t *testing.T, id string) {
	t.Helper()
	awstest.WaitFor(t, id+" terminated", func() bool {
		return f.ec2Instance(t, id).State.Name == ec2types.InstanceStateNameTerminated
	})
}

func zonesOf(instances []astypes.Instance) map[string]int {
	zones := map[string]int{}
	for _, i := range instances {
		zones[aws.ToString(i.AvailabilityZone)]++
	}
	return zones
}

func ids(instances []astypes.Instance) []string {
	return awstest.Strings(instances, func(i astypes.Instance) *string { return i.InstanceId })
}

func TestGroupKeepsDesiredCapacity(t *testing.T) {
	f := start(t)
	subnets, subnetZones := f.defaultSubnets(t)
	awstest.Call(t, f.ecs.CreateCluster, &ecs.CreateClusterInput{ClusterName: aws.String("web")})
	userData := "#!/bin/bash\necho ECS_CLUSTER=web >> /etc/ecs/ecs.config\n"
	f.launchConfiguration(t, "web-lc", userData)
	awstest.Call(t, f.as.CreateAutoScalingGroup, &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String("web"), LaunchConfigurationName: aws.String("web-lc"),
		MinSize: aws.Int32(0), MaxSize: aws.Int32(4), DesiredCapacity: aws.Int32(2),
		VPCZoneIdentifier: aws.String(strings.Join(subnets, ",")),
		Tags: []astypes.Tag{{Key: aws.String("team"), Value: aws.String("blue"), PropagateAtLaunch: aws.Bool(true)},
			{Key: aws.String("internal"), Value: aws.String("x"), PropagateAtLaunch: aws.Bool(false)}}})

	two := f.waitInService(t, "web", 2)
	if got, want := zonesOf(two), map[string]int{subnetZones[subnets[0]]: 1, subnetZones[subnets[1]]: 1}; !cmp.Equal(got, want) {
		t.Errorf("instances per zone: got %v, want %v", got, want)
	}
	for _, id := range ids(two) {
		inst := f.ec2Instance(t, id)
		if inst.State.Name != ec2types.InstanceStateNameRunning {
			t.Errorf("%s: got EC2 state %s, want running", id, inst.State.Name)
		}
		tags := map[string]string{}
		for _, tag := range inst.Tags {
			tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
		}
		// Every instance of a group carries its name, as on AWS.
		if diff := cmp.Diff(map[string]string{"team": "blue", "aws:autoscaling:groupName": "web"}, tags); diff != "" {
			t.Errorf("%s: tags (-want +got):\n%s", id, diff)
		}
		attr := awstest.Call(t, f.ec2.DescribeInstanceAttribute, &ec2.DescribeInstanceAttributeInput{
			InstanceId: aws.String(id), Attribute: ec2types.InstanceAttributeNameUserData})
		got, _ := base64.StdEncoding.DecodeString(aws.ToString(attr.UserData.Value))
		if string(got) != userData {
			t.Errorf("%s: got user data %q, want %q", id, got, userData)
		}
	}

	// The instances' user data names the cluster: they join it.
	awstest.WaitFor(t, "the group's instances to join the web cluster", func() bool {
		out := awstest.Call(t, f.ecs.ListContainerInstances, &ecs.ListContainerInstancesInput{Cluster: aws.String("web")})
		if len(out.ContainerInstanceArns) != 2 {
			return false
		}
		described := awstest.Call(t, f.ecs.DescribeContainerInstances, &ecs.DescribeContainerInstancesInput{
			Cluster: aws.String("web"), ContainerInstances: out.ContainerInstanceArns})
		var joined []string
		for _, ci := range described.ContainerInstances {
			joined = append(joined, aws.ToString(ci.Ec2InstanceId))
		}
		slices.Sort(joined)
		return slices.Equal(joined, slices.Sorted(slices.Values(ids(two))))
	})

	awstest.Call(t, f.as.SetDesiredCapacity, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("web"), DesiredCapacity: aws.Int32(3)})
	three := f.waitInService(t, "web", 3)
	if got := zonesOf(three); len(got) != 2 {
		t.Errorf("3 instances per zone: got %v, want them over both zones", got)
	}

	awstest.Call(t, f.as.SetDesiredCapacity, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("web"), DesiredCapacity: aws.Int32(1)})
	one := f.waitInService(t, "web", 1)
	for _, id := range ids(three) {
		if id == aws.ToString(one[0].InstanceId) {
			continue
		}
		f.waitTerminated(t, id)
	}

	// An instance EC2 terminates fails the EC2 health check: the group
	// replaces it.
	victim := aws.ToString(one[0].InstanceId)
	awstest.Call(t, f.ec2.TerminateInstances, &ec2.TerminateInstancesInput{InstanceIds: []string{victim}})
	awstest.WaitFor(t, "a replacement for "+victim, func() bool {
		got := f.group(t, "web").Instances
		return len(got) == 1 && aws.ToString(got[0].InstanceId) != victim && got[0].LifecycleState == astypes.LifecycleStateInService
	})

	activities := awstest.Call(t, f.as.DescribeScalingActivities, &autoscaling.DescribeScalingActivitiesInput{AutoScalingGroupName: aws.String("web")})
	var descriptions []string
	for _, a := range activities.Activities {
		descriptions = append(descriptions, aws.ToString(a.Description))
	}
	for _, want := range []string{"Launching a new EC2 instance: " + ids(two)[0], "Terminating EC2 instance: " + victim} {
		if !slices.Contains(descriptions, want) {
			t.Errorf("activities: got %q, want one %q", descriptions, want)
		}
	}
	if cause := aws.ToString(activities.Activities[0].Cause); !strings.Contains(cause, "in response to a difference between desired and actual capacity, increasing the capacity from 0 to 1") {
		t.Errorf("newest activity's cause: got %q, want the replacement's", cause)
	}

	auto := awstest.Call(t, f.as.DescribeAutoScalingInstances, &autoscaling.DescribeAutoScalingInstancesInput{})
	if len(auto.AutoScalingInstances) != 1 || aws.ToString(auto.AutoScalingInstances[0].AutoScalingGroupName) != "web" {
		t.Errorf("DescribeAutoScalingInstances: got %d instances, want the group's 1", len(auto.AutoScalingInstances))
	}

	last := f.group(t, "web").Instances[0]
	awstest.Call(t, f.as.DeleteAutoScalingGroup, &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String("web"), ForceDelete: aws.Bool(true)})
	awstest.WaitFor(t, "web deleted", func() bool {
		out := awstest.Call(t, f.as.DescribeAutoScalingGroups, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"web"}})
		return len(out.AutoScalingGroups) == 0
	})
	f.waitTerminated(t, aws.ToString(last.InstanceId))
	awstest.Call(t, f.as.DeleteLaunchConfiguration, &autoscaling.DeleteLaunchConfigurationInput{LaunchConfigurationName: aws.String("web-lc")})
}

func TestGroupFromLaunchTemplate(t *testing.T) {
	f := start(t)
	subnets, _ := f.defaultSubnets(t)
	userData := "#!/bin/bash\necho ECS_CLUSTER=batch >> /etc/ecs/ecs.config\n"
	created := awstest.Call(t, f.ec2.CreateLaunchTemplate, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("batch"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(ecsImage), InstanceType: ec2types.InstanceTypeT3Small,
			UserData: aws.String(base64.StdEncoding.EncodeToString([]byte(userData))),
			TagSpecifications: []ec2types.LaunchTemplateTagSpecificationRequest{{ResourceType: ec2types.ResourceTypeInstance,
				Tags: []ec2types.Tag{{Key: aws.String("from"), Value: aws.String("template")}}}}}})
	templateID := aws.ToString(created.LaunchTemplate.LaunchTemplateId)
	awstest.Call(t, f.as.CreateAutoScalingGroup, &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("batch"),
		LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateName: aws.String("batch"), Version: aws.String("$Latest")},
		MinSize:        aws.Int32(2), MaxSize: aws.Int32(2), VPCZoneIdentifier: aws.String(strings.Join(subnets, ","))})

	two := f.waitInService(t, "batch", 2)
	if got := f.group(t, "batch").LaunchTemplate; aws.ToString(got.LaunchTemplateId) != templateID || aws.ToString(got.Version) != "$Latest" {
		t.Errorf("group's launch template: got %s %s, want %s $Latest", aws.ToString(got.LaunchTemplateId), aws.ToString(got.Version), templateID)
	}
	for _, id := range ids(two) {
		inst := f.ec2Instance(t, id)
		tags := map[string]string{}
		for _, tag := range inst.Tags {
			tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
		}
		if inst.InstanceType != ec2types.InstanceTypeT3Small || len(tags) != 2 || !slices.Contains(slices.Collect(maps.Values(tags)), "template") ||
			tags["aws:autoscaling:groupName"] != "batch" {
			t.Errorf("%s: got type %s and tags %v, want the template's", id, inst.InstanceType, inst.Tags)
		}
		attr := awstest.Call(t, f.ec2.DescribeInstanceAttribute, &ec2.DescribeInstanceAttributeInput{
			InstanceId: aws.String(id), Attribute: ec2types.InstanceAttributeNameUserData})
		if got, _ := base64.StdEncoding.DecodeString(aws.ToString(attr.UserData.Value)); string(got) != userData {
			t.Errorf("%s: got user data %q, want the template's", id, got)
		}
	}

	_, err := f.as.CreateAutoScalingGroup(t.Context(), &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("none"),
		LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateName: aws.String("nope")},
		MinSize:        aws.Int32(0), MaxSize: aws.Int32(1), VPCZoneIdentifier: aws.String(subnets[0])})
	awstest.WantAPIError(t, err, awstest.BadRequest("ValidationError", "You must use a valid fully-formed launch template."))

	_, err = f.ec2.CreateLaunchTemplate(t.Context(), &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("batch"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(ecsImage)}})
	awstest.WantAPIError(t, err, awstest.BadRequest("InvalidLaunchTemplateName.AlreadyExistsException", "Launch template name already in use."))
	awstest.Call(t, f.ec2.DeleteLaunchTemplate, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: aws.String(templateID)})
	if out := awstest.Call(t, f.ec2.DescribeLaunchTemplates, &ec2.DescribeLaunchTemplatesInput{}); len(out.LaunchTemplates) != 0 {
		t.Errorf("after DeleteLaunchTemplate: got %d templates, want 0", len(out.LaunchTemplates))
	}
}
