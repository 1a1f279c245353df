package app

import (
	"context"
	"fmt"
	"strings"

	"overcast"
	asapi "overcast/internal/api/autoscaling"
	"overcast/internal/autoscaling"
	"overcast/internal/cloudwatch"
	"overcast/internal/ecs"
)

// ecsGroups is EC2 Auto Scaling seen in ECS's terms: the groups of Auto
// Scaling group capacity providers, read and scaled through Auto
// Scaling's own API as the account's root.
type ecsGroups struct{ as *autoscaling.Service }

var (
	_ ecs.AutoScalingGroups = ecsGroups{}
	_ ecs.ScalingMetrics    = ecsMetrics{}
)

func (g ecsGroups) Group(ctx context.Context, account, region, nameOrARN string) (ecs.AutoScalingGroup, error) {
	name := nameOrARN
	if a, ok := overcast.ParseARN(nameOrARN); ok {
		_, name, _ = strings.Cut(a.Resource, ":autoScalingGroupName/")
	}
	out, err := g.as.DescribeAutoScalingGroups(asCaller(ctx, account, region),
		&asapi.AutoScalingGroupNamesType{AutoScalingGroupNames: asapi.AutoScalingGroupNames{name}})
	if err != nil {
		return ecs.AutoScalingGroup{}, err
	}
	if len(out.AutoScalingGroups) == 0 || (name != nameOrARN && *out.AutoScalingGroups[0].AutoScalingGroupARN != nameOrARN) {
		return ecs.AutoScalingGroup{}, fmt.Errorf("%w: %s", ecs.ErrGroupNotFound, nameOrARN)
	}
	v := out.AutoScalingGroups[0]
	group := ecs.AutoScalingGroup{Name: *v.AutoScalingGroupName, ARN: *v.AutoScalingGroupARN,
		Min: int(*v.MinSize), Max: int(*v.MaxSize), Desired: int(*v.DesiredCapacity)}
	for _, i := range v.Instances {
		if state := *i.LifecycleState; !strings.HasPrefix(state, "Terminat") {
			group.Instances = append(group.Instances, *i.InstanceId)
		}
	}
	return group, nil
}

func (g ecsGroups) SetDesiredCapacity(ctx context.Context, account, region, group string, desired int) error {
	return g.as.SetDesiredCapacity(asCaller(ctx, account, region),
		&asapi.SetDesiredCapacityType{AutoScalingGroupName: &group, DesiredCapacity: new(int32(desired))})
}

func (g ecsGroups) TerminateInstance(ctx context.Context, account, region, id string) error {
	_, err := g.as.TerminateInstanceInAutoScalingGroup(asCaller(ctx, account, region),
		&asapi.TerminateInstanceInAutoScalingGroupType{InstanceId: &id, ShouldDecrementDesiredCapacity: new(true)})
	return err
}

// PutCapacityProviderReservation publishes managed scaling's metric as ECS
// does: AWS/ECS/ManagedScaling, by capacity provider and cluster.
func (m ecsMetrics) PutCapacityProviderReservation(ctx context.Context, account, region, cluster, provider string, percent float64) error {
	return m.cw.Put(ctx, account, region, "AWS/ECS/ManagedScaling", []cloudwatch.Datum{{MetricName: "CapacityProviderReservation",
		Dimensions: []cloudwatch.Dimension{{Name: "CapacityProviderName", Value: provider}, {Name: "ClusterName", Value: cluster}},
		Values:     []float64{percent}, Unit: "Percent"}})
}
