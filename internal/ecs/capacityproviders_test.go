package ecs_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"overcast/internal/awstest"
)

// groups makes Auto Scaling groups whose instances join an ECS cluster.
type groups struct {
	as  *autoscaling.Client
	ec2 *ec2.Client
}

func newGroups(srv *awstest.Server) groups {
	cfg := awstest.KeepRequestBodies(srv.Config())
	return groups{as: autoscaling.NewFromConfig(cfg), ec2: ec2.NewFromConfig(cfg)}
}

// create makes a group of ECS-optimized instances whose user data joins
// cluster, of size desired (at most max), and returns its ARN.
func (g groups) create(t *testing.T, name, cluster string, desired, max int32) string {
	t.Helper()
	images := awstest.Call(t, g.ec2.DescribeImages, &ec2.DescribeImagesInput{Filters: []ec2types.Filter{
		{Name: aws.String("name"), Values: []string{"al2023-ami-ecs-hvm-*"}}, {Name: aws.String("architecture"), Values: []string{"x86_64"}}}})
	if len(images.Images) == 0 {
		t.Fatal("no ECS-optimized x86_64 image")
	}
	subnets := awstest.Call(t, g.ec2.DescribeSubnets, &ec2.DescribeSubnetsInput{
		Filters: []ec2types.Filter{{Name: aws.String("default-for-az"), Values: []string{"true"}}}})
	var ids []string
	for _, sn := range subnets.Subnets {
		ids = append(ids, aws.ToString(sn.SubnetId))
	}
	userData := "#!/bin/bash\necho ECS_CLUSTER=" + cluster + " >> /etc/ecs/ecs.config\n"
	awstest.Call(t, g.as.CreateLaunchConfiguration, &autoscaling.CreateLaunchConfigurationInput{
		LaunchConfigurationName: aws.String(name), ImageId: images.Images[0].ImageId, InstanceType: aws.String("t3.medium"),
		UserData: aws.String(base64.StdEncoding.EncodeToString([]byte(userData)))})
	awstest.Call(t, g.as.CreateAutoScalingGroup, &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String(name),
		LaunchConfigurationName: aws.String(name), MinSize: aws.Int32(0), MaxSize: aws.Int32(max), DesiredCapacity: aws.Int32(desired),
		VPCZoneIdentifier: aws.String(strings.Join(ids, ","))})
	out := awstest.Call(t, g.as.DescribeAutoScalingGroups, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}})
	return aws.ToString(out.AutoScalingGroups[0].AutoScalingGroupARN)
}

// provider creates a capacity provider of a group.
func provider(t *testing.T, c *ecs.Client, name, groupARN string, managed bool) types.CapacityProvider {
	t.Helper()
	status := types.ManagedScalingStatusDisabled
	if managed {
		status = types.ManagedScalingStatusEnabled
	}
	return *awstest.Call(t, c.CreateCapacityProvider, &ecs.CreateCapacityProviderInput{Name: aws.String(name),
		AutoScalingGroupProvider: &types.AutoScalingGroupProvider{AutoScalingGroupArn: aws.String(groupARN),
			ManagedScaling: &types.ManagedScaling{Status: status}}}).CapacityProvider
}

func TestCapacityProviderLifecycle(t *testing.T) {
	srv, c := start(t)
	asg := newGroups(srv).create(t, "web-asg", "web", 0, 4)
	created := awstest.Call(t, c.CreateCapacityProvider, &ecs.CreateCapacityProviderInput{Name: aws.String("web-cp"),
		AutoScalingGroupProvider: &types.AutoScalingGroupProvider{AutoScalingGroupArn: aws.String("web-asg"),
			ManagedScaling: &types.ManagedScaling{Status: types.ManagedScalingStatusEnabled, TargetCapacity: aws.Int32(80)}},
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}}}).CapacityProvider
	want := &types.CapacityProvider{CapacityProviderArn: aws.String(arnPrefix + "capacity-provider/web-cp"), Name: aws.String("web-cp"),
		Status: types.CapacityProviderStatusActive, Type: types.CapacityProviderTypeEc2Autoscaling,
		AutoScalingGroupProvider: &types.AutoScalingGroupProvider{AutoScalingGroupArn: aws.String(asg),
			ManagedScaling: &types.ManagedScaling{Status: types.ManagedScalingStatusEnabled, TargetCapacity: aws.Int32(80),
				MinimumScalingStepSize: aws.Int32(1), MaximumScalingStepSize: aws.Int32(10000), InstanceWarmupPeriod: aws.Int32(300)},
			ManagedTerminationProtection: types.ManagedTerminationProtectionDisabled, ManagedDraining: types.ManagedDrainingEnabled},
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}}}
	if diff := cmp.Diff(want, created, cmpopts.IgnoreUnexported(types.CapacityProvider{}, types.AutoScalingGroupProvider{}, types.ManagedScaling{}, types.Tag{})); diff != "" {
		t.Errorf("CreateCapacityProvider (-want +got):\n%s", diff)
	}

	// All of them, a page at a time: Fargate's first.
	first := awstest.Call(t, c.DescribeCapacityProviders, &ecs.DescribeCapacityProvidersInput{MaxResults: aws.Int32(2)})
	next := awstest.Call(t, c.DescribeCapacityProviders, &ecs.DescribeCapacityProvidersInput{MaxResults: aws.Int32(2), NextToken: first.NextToken,
		Include: []types.CapacityProviderField{types.CapacityProviderFieldTags}})
	if got := providerNames(first.CapacityProviders, next.CapacityProviders); !cmp.Equal(got, []string{"FARGATE", "FARGATE_SPOT", "web-cp"}) || next.NextToken != nil {
		t.Errorf("DescribeCapacityProviders pages: got %v, next token %v", got, next.NextToken)
	}
	if len(next.CapacityProviders) != 1 || len(next.CapacityProviders[0].Tags) != 1 {
		t.Errorf("DescribeCapacityProviders include TAGS: got %+v", next.CapacityProviders)
	}

	updated := awstest.Call(t, c.UpdateCapacityProvider, &ecs.UpdateCapacityProviderInput{Name: aws.String("web-cp"),
		AutoScalingGroupProvider: &types.AutoScalingGroupProviderUpdate{ManagedScaling: &types.ManagedScaling{TargetCapacity: aws.Int32(90)}}}).CapacityProvider
	if ms := updated.AutoScalingGroupProvider.ManagedScaling; aws.ToInt32(ms.TargetCapacity) != 90 || ms.Status != types.ManagedScalingStatusEnabled ||
		updated.UpdateStatus != types.CapacityProviderUpdateStatusUpdateComplete {
		t.Errorf("UpdateCapacityProvider: got scaling %+v, update status %s", ms, updated.UpdateStatus)
	}

	cluster := awstest.Call(t, c.CreateCluster, &ecs.CreateClusterInput{ClusterName: aws.String("web"), CapacityProviders: []string{"web-cp"},
		DefaultCapacityProviderStrategy: []types.CapacityProviderStrategyItem{{CapacityProvider: aws.String("web-cp"), Weight: 1}}}).Cluster
	if !cmp.Equal(cluster.CapacityProviders, []string{"web-cp"}) || len(cluster.DefaultCapacityProviderStrategy) != 1 {
		t.Errorf("CreateCluster: got providers %v, strategy %+v", cluster.CapacityProviders, cluster.DefaultCapacityProviderStrategy)
	}
	_, err := c.DeleteCapacityProvider(t.Context(), &ecs.DeleteCapacityProviderInput{CapacityProvider: aws.String("web-cp")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ResourceInUseException", Status: 400, Message: "The specified capacity provider is in use and cannot be removed."})

	awstest.Call(t, c.PutClusterCapacityProviders, &ecs.PutClusterCapacityProvidersInput{Cluster: aws.String("web"),
		CapacityProviders: []string{}, DefaultCapacityProviderStrategy: []types.CapacityProviderStrategyItem{}})
	deleted := awstest.Call(t, c.DeleteCapacityProvider, &ecs.DeleteCapacityProviderInput{CapacityProvider: aws.String(arnPrefix + "capacity-provider/web-cp")}).CapacityProvider
	if deleted.UpdateStatus != types.CapacityProviderUpdateStatusDeleteInProgress {
		t.Errorf("DeleteCapacityProvider: got update status %s, want DELETE_IN_PROGRESS", deleted.UpdateStatus)
	}
	gone := awstest.Call(t, c.DescribeCapacityProviders, &ecs.DescribeCapacityProvidersInput{CapacityProviders: []string{"web-cp"}}).CapacityProviders
	if len(gone) != 1 || gone[0].Status != types.CapacityProviderStatusInactive || gone[0].UpdateStatus != types.CapacityProviderUpdateStatusDeleteComplete {
		t.Errorf("a deleted provider: got %+v, want INACTIVE and DELETE_COMPLETE", gone)
	}
	// Its group is free for another provider.
	provider(t, c, "web-cp2", asg, false)
}

// providerNames are the names of the providers of every page, in order.
func providerNames(pages ...[]types.CapacityProvider) []string {
	var out []string
	for _, page := range pages {
		for _, p := range page {
			out = append(out, aws.ToString(p.Name))
		}
	}
	return out
}

func TestCapacityProviderTags(t *testing.T) {
	srv, c := start(t)
	arn := aws.ToString(provider(t, c, "tagged", newGroups(srv).create(t, "tagged", "tagged", 0, 1), false).CapacityProviderArn)
	awstest.Call(t, c.TagResource, &ecs.TagResourceInput{ResourceArn: aws.String(arn), Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("dev")}}})
	got := awstest.Call(t, c.ListTagsForResource, &ecs.ListTagsForResourceInput{ResourceArn: aws.String(arn)}).Tags
	if len(got) != 1 || aws.ToString(got[0].Key) != "env" {
		t.Errorf("ListTagsForResource: got %+v", got)
	}
}

func TestCapacityProviderErrors(t *testing.T) {
	srv, c := start(t)
	g := newGroups(srv)
	a := g.create(t, "a-asg", "a", 0, 1)
	b := g.create(t, "b-asg", "b", 0, 1)
	provider(t, c, "a-cp", a, true)
	provider(t, c, "b-cp", b, false)
	awstest.Call(t, c.CreateCluster, &ecs.CreateClusterInput{ClusterName: aws.String("a"), CapacityProviders: []string{"a-cp", "FARGATE"}})
	awstest.Call(t, c.CreateCluster, &ecs.CreateClusterInput{ClusterName: aws.String("b")})
	awstest.Call(t, c.RegisterTaskDefinition, &ecs.RegisterTaskDefinitionInput{Family: aws.String("batch"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("main"), Image: aws.String("batch"), Memory: aws.Int32(64)}}})
	sv := awstest.Call(t, c.CreateService, &ecs.CreateServiceInput{Cluster: aws.String("a"), ServiceName: aws.String("batch"),
		TaskDefinition: aws.String("batch"), DesiredCount: aws.Int32(0), CapacityProviderStrategy: []types.CapacityProviderStrategyItem{
			{CapacityProvider: aws.String("a-cp"), Weight: 1}}}).Service
	if sv.LaunchType != "" || len(sv.CapacityProviderStrategy) != 1 {
		t.Errorf("CreateService: got launch type %q, strategy %+v", sv.LaunchType, sv.CapacityProviderStrategy)
	}
	sv = awstest.Call(t, c.UpdateService, &ecs.UpdateServiceInput{Cluster: aws.String("a"), Service: aws.String("batch"),
		CapacityProviderStrategy: []types.CapacityProviderStrategyItem{{CapacityProvider: aws.String("a-cp"), Base: 1, Weight: 2}}}).Service
	if got := sv.CapacityProviderStrategy; len(got) != 1 || got[0].Base != 1 || got[0].Weight != 2 || len(sv.Deployments) != 2 {
		t.Errorf("UpdateService: got strategy %+v, %d deployments; want the new strategy in a new deployment", got, len(sv.Deployments))
	}
	create := func(name, group string, scaling *types.ManagedScaling, protection types.ManagedTerminationProtection) func() *ecs.CreateCapacityProviderInput {
		return func() *ecs.CreateCapacityProviderInput {
			return &ecs.CreateCapacityProviderInput{Name: aws.String(name), AutoScalingGroupProvider: &types.AutoScalingGroupProvider{
				AutoScalingGroupArn: aws.String(group), ManagedScaling: scaling, ManagedTerminationProtection: protection}}
		}
	}
	badName := awstest.APIError{Code: "ClientException", Status: 400, Message: "The specified capacity provider name is invalid."}
	strategy := func(names ...string) []types.CapacityProviderStrategyItem {
		out := []types.CapacityProviderStrategyItem{}
		for _, n := range names {
			out = append(out, types.CapacityProviderStrategyItem{CapacityProvider: aws.String(n), Weight: 1})
		}
		return out
	}
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "name prefixed ecs", Call: awstest.Fails(c.CreateCapacityProvider, create("ecs-web", a, nil, "")()), Want: badName},
		{Name: "name prefixed AWS", Call: awstest.Fails(c.CreateCapacityProvider, create("AWSweb", a, nil, "")()), Want: badName},
		{Name: "name prefixed fargate", Call: awstest.Fails(c.CreateCapacityProvider, create("fargate2", a, nil, "")()), Want: badName},
		{Name: "name with a space", Call: awstest.Fails(c.CreateCapacityProvider, create("a b", a, nil, "")()), Want: badName},
		{Name: "unknown group", Call: awstest.Fails(c.CreateCapacityProvider, create("x", "nope", nil, "")()),
			Want: awstest.APIError{Code: "ClientException", Status: 400, Message: "Auto Scaling group ARN is not valid"}},
		{Name: "group ARN of another name", Call: awstest.Fails(c.CreateCapacityProvider, create("x", strings.Replace(a, "a-asg", "c-asg", 1), nil, "")()),
			Want: awstest.APIError{Code: "ClientException", Message: "Auto Scaling group ARN is not valid"}},
		{Name: "group of another provider", Call: awstest.Fails(c.CreateCapacityProvider, create("x", a, nil, "")()),
			Want: awstest.APIError{Code: "ClientException", Message: "The specified Auto Scaling group ARN is already being used by another capacity provider."}},
		{Name: "name taken", Call: awstest.Fails(c.CreateCapacityProvider, create("a-cp", a, nil, "")()),
			Want: awstest.APIError{Code: "ClientException", Message: "The specified capacity provider already exists."}},
		{Name: "target capacity out of range", Call: awstest.Fails(c.CreateCapacityProvider,
			create("x", "a-asg", &types.ManagedScaling{TargetCapacity: aws.Int32(101)}, "")()), Want: awstest.APIError{Status: 400}},
		{Name: "termination protection without managed scaling", Call: awstest.Fails(c.CreateCapacityProvider,
			create("x", "a-asg", nil, types.ManagedTerminationProtectionEnabled)()),
			Want: awstest.APIError{Code: "ClientException", Message: "managed scaling must be enabled"}},
		{Name: "step sizes crossed", Call: awstest.Fails(c.CreateCapacityProvider, create("x", "a-asg",
			&types.ManagedScaling{MinimumScalingStepSize: aws.Int32(5), MaximumScalingStepSize: aws.Int32(2)}, "")()),
			Want: awstest.APIError{Code: "InvalidParameterException"}},
		{Name: "update unknown", Call: awstest.Fails(c.UpdateCapacityProvider, &ecs.UpdateCapacityProviderInput{Name: aws.String("nope"),
			AutoScalingGroupProvider: &types.AutoScalingGroupProviderUpdate{}}),
			Want: awstest.APIError{Code: "ClientException", Message: "The specified capacity provider does not exist."}},
		{Name: "delete unknown", Call: awstest.Fails(c.DeleteCapacityProvider, &ecs.DeleteCapacityProviderInput{CapacityProvider: aws.String("nope")}),
			Want: awstest.APIError{Code: "ClientException", Message: "The specified capacity provider does not exist."}},
		{Name: "delete FARGATE", Call: awstest.Fails(c.DeleteCapacityProvider, &ecs.DeleteCapacityProviderInput{CapacityProvider: aws.String("FARGATE")}),
			Want: awstest.APIError{Code: "InvalidParameterException"}},
		{Name: "put unknown provider", Call: awstest.Fails(c.PutClusterCapacityProviders, &ecs.PutClusterCapacityProvidersInput{Cluster: aws.String("b"),
			CapacityProviders: []string{"nope"}, DefaultCapacityProviderStrategy: strategy()}),
			Want: awstest.APIError{Code: "InvalidParameterException", Message: "The specified capacity provider 'nope' is not in an ACTIVE state."}},
		{Name: "put a provider of another cluster", Call: awstest.Fails(c.PutClusterCapacityProviders, &ecs.PutClusterCapacityProvidersInput{Cluster: aws.String("b"),
			CapacityProviders: []string{"a-cp"}, DefaultCapacityProviderStrategy: strategy()}),
			Want: awstest.APIError{Code: "InvalidParameterException", Message: "already associated with another cluster"}},
		{Name: "strategy mixing Fargate and a group", Call: awstest.Fails(c.PutClusterCapacityProviders, &ecs.PutClusterCapacityProvidersInput{Cluster: aws.String("a"),
			CapacityProviders: []string{"a-cp", "FARGATE"}, DefaultCapacityProviderStrategy: strategy("a-cp", "FARGATE")}),
			Want: awstest.APIError{Code: "InvalidParameterException", Message: "A capacity provider strategy cannot contain a mix of capacity providers using Auto Scaling groups and Fargate providers."}},
		{Name: "strategy of weights 0", Call: awstest.Fails(c.PutClusterCapacityProviders, &ecs.PutClusterCapacityProvidersInput{Cluster: aws.String("b"),
			CapacityProviders: []string{"FARGATE", "FARGATE_SPOT"}, DefaultCapacityProviderStrategy: []types.CapacityProviderStrategyItem{
				{CapacityProvider: aws.String("FARGATE")}, {CapacityProvider: aws.String("FARGATE_SPOT")}}}),
			Want: awstest.APIError{Code: "InvalidParameterException", Message: "weight greater than zero"}},
		{Name: "RunTask with a provider not associated", Call: awstest.Fails(c.RunTask, &ecs.RunTaskInput{Cluster: aws.String("b"), TaskDefinition: aws.String("x"),
			CapacityProviderStrategy: strategy("b-cp")}),
			Want: awstest.APIError{Code: "InvalidParameterException", Message: "not associated with the cluster"}},
		{Name: "UpdateService to Fargate's providers", Call: awstest.Fails(c.UpdateService, &ecs.UpdateServiceInput{Cluster: aws.String("a"),
			Service: aws.String("batch"), CapacityProviderStrategy: strategy("FARGATE")}),
			Want: awstest.APIError{Code: "InvalidParameterException", Message: "places tasks on FARGATE"}},
		{Name: "UpdateService to a provider not associated", Call: awstest.Fails(c.UpdateService, &ecs.UpdateServiceInput{Cluster: aws.String("a"),
			Service: aws.String("batch"), CapacityProviderStrategy: strategy("b-cp")}),
			Want: awstest.APIError{Code: "InvalidParameterException", Message: "not associated with the cluster"}},
		{Name: "CreateService mixing kinds", Call: awstest.Fails(c.CreateService, &ecs.CreateServiceInput{Cluster: aws.String("a"), ServiceName: aws.String("s"),
			TaskDefinition: aws.String("x"), DesiredCount: aws.Int32(1), CapacityProviderStrategy: strategy("a-cp", "FARGATE")}),
			Want: awstest.APIError{Code: "InvalidParameterException", Message: "cannot contain a mix"}},
	})
}
