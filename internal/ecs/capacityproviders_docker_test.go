package ecs_test

import (
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
	"overcast/internal/clock"
)

// groupInstances are the EC2 IDs of a group's instances.
func (g groups) instances(t *testing.T, name string) []string {
	t.Helper()
	out := awstest.Call(t, g.as.DescribeAutoScalingGroups, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}})
	var ids []string
	for _, i := range out.AutoScalingGroups[0].Instances {
		ids = append(ids, aws.ToString(i.InstanceId))
	}
	return ids
}

func (g groups) desired(t *testing.T, name string) int32 {
	t.Helper()
	out := awstest.Call(t, g.as.DescribeAutoScalingGroups, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}})
	return aws.ToInt32(out.AutoScalingGroups[0].DesiredCapacity)
}

// waitJoined waits for n container instances in cluster.
func (e *taskEnv) waitJoined(t *testing.T, cluster string, n int) {
	t.Helper()
	awstest.WaitFor(t, "instances to join "+cluster, func() bool {
		out := awstest.Call(t, e.c.ListContainerInstances, &ecs.ListContainerInstancesInput{Cluster: aws.String(cluster)})
		return len(out.ContainerInstanceArns) == n
	})
}

// instanceOf is a task's container instance.
func (e *taskEnv) instanceOf(t *testing.T, cluster string, task types.Task) types.ContainerInstance {
	t.Helper()
	out := awstest.Call(t, e.c.DescribeContainerInstances, &ecs.DescribeContainerInstancesInput{Cluster: aws.String(cluster),
		ContainerInstances: []string{aws.ToString(task.ContainerInstanceArn)}})
	return out.ContainerInstances[0]
}

// A strategy gives its base to one provider, shares the rest by weight,
// and each provider's tasks run on its own group's instances.
func TestStrategyPlacesByBaseAndWeight(t *testing.T) {
	e := serviceEnv(t, "mix")
	g := newGroups(e.srv)
	provider(t, e.c, "mix-a", g.create(t, "mix-a", "mix", 0, 2), false)
	provider(t, e.c, "mix-b", g.create(t, "mix-b", "mix", 0, 2), false)
	awstest.Call(t, e.c.PutClusterCapacityProviders, &ecs.PutClusterCapacityProvidersInput{Cluster: aws.String("mix"),
		CapacityProviders: []string{"mix-a", "mix-b"}, DefaultCapacityProviderStrategy: []types.CapacityProviderStrategyItem{}})
	// Instances of a provider's group that register once it is the
	// cluster's carry its name.
	for _, name := range []string{"mix-a", "mix-b"} {
		awstest.Call(t, g.as.SetDesiredCapacity, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String(name), DesiredCapacity: aws.Int32(2)})
	}
	e.waitJoined(t, "mix", 4)
	e.registerEC2(t, "mix-web", 32, nil)

	out := awstest.Call(t, e.c.RunTask, &ecs.RunTaskInput{Cluster: aws.String("mix"), TaskDefinition: aws.String("mix-web"), Count: aws.Int32(5),
		CapacityProviderStrategy: []types.CapacityProviderStrategyItem{
			{CapacityProvider: aws.String("mix-a"), Base: 1, Weight: 1}, {CapacityProvider: aws.String("mix-b"), Weight: 3}}})
	if len(out.Failures) != 0 {
		t.Fatalf("RunTask failures: %s", failures(out.Failures))
	}
	members := map[string][]string{"mix-a": g.instances(t, "mix-a"), "mix-b": g.instances(t, "mix-b")}
	perProvider := map[string]int{}
	for _, task := range out.Tasks {
		name := aws.ToString(task.CapacityProviderName)
		perProvider[name]++
		ci := e.instanceOf(t, "mix", task)
		if id := aws.ToString(ci.Ec2InstanceId); !slices.Contains(members[name], id) || aws.ToString(ci.CapacityProviderName) != name {
			t.Errorf("a task of %s runs on %s (capacity provider %q), not one of its group's %v", name, id, aws.ToString(ci.CapacityProviderName), members[name])
		}
	}
	if diff := cmp.Diff(map[string]int{"mix-a": 2, "mix-b": 3}, perProvider); diff != "" {
		t.Errorf("tasks per provider (-want +got):\n%s", diff)
	}
	e.waitRunning(t, "mix", aws.ToString(out.Tasks[0].TaskArn))

	// A service keeps base and weights over all its tasks.
	awstest.Call(t, e.c.CreateService, &ecs.CreateServiceInput{Cluster: aws.String("mix"), ServiceName: aws.String("web"),
		TaskDefinition: aws.String("mix-web"), DesiredCount: aws.Int32(3), CapacityProviderStrategy: []types.CapacityProviderStrategyItem{
			{CapacityProvider: aws.String("mix-a"), Base: 1, Weight: 1}, {CapacityProvider: aws.String("mix-b"), Weight: 1}}})
	if sv := e.waitStable(t, "mix", "web"); sv.LaunchType != "" || len(sv.CapacityProviderStrategy) != 2 {
		t.Errorf("the service: got launch type %q and strategy %+v, want no launch type and the strategy", sv.LaunchType, sv.CapacityProviderStrategy)
	}
	perProvider = map[string]int{}
	for _, task := range e.serviceTasks(t, "mix", "web", types.DesiredStatusRunning) {
		perProvider[aws.ToString(task.CapacityProviderName)]++
	}
	if diff := cmp.Diff(map[string]int{"mix-a": 2, "mix-b": 1}, perProvider); diff != "" {
		t.Errorf("the service's tasks per provider (-want +got):\n%s", diff)
	}
}

// A provider whose group has no instance: the task waits in PROVISIONING,
// managed scaling grows the group, the instance joins and runs the task;
// once the task is gone, managed scaling takes the idle instance away.
func TestManagedScalingFromZero(t *testing.T) {
	fake := clock.NewFake(time.Now())
	e := newTaskEnv(t, awstest.Clock(fake))
	e.cluster(t, "grow")
	g := newGroups(e.srv)
	provider(t, e.c, "grow-cp", g.create(t, "grow-asg", "grow", 0, 3), true)
	awstest.Call(t, e.c.PutClusterCapacityProviders, &ecs.PutClusterCapacityProvidersInput{Cluster: aws.String("grow"),
		CapacityProviders: []string{"grow-cp"}, DefaultCapacityProviderStrategy: []types.CapacityProviderStrategyItem{
			{CapacityProvider: aws.String("grow-cp"), Weight: 1}}})
	e.registerEC2(t, "grow-web", 64, publish8080)

	// Neither a launch type nor a strategy: the cluster's default.
	task := e.run(t, &ecs.RunTaskInput{Cluster: aws.String("grow"), TaskDefinition: aws.String("grow-web")})
	arn := aws.ToString(task.TaskArn)
	if aws.ToString(task.LastStatus) != "PROVISIONING" || aws.ToString(task.CapacityProviderName) != "grow-cp" || task.ContainerInstanceArn != nil {
		t.Errorf("RunTask: got status %s, provider %s, instance %v; want PROVISIONING on grow-cp, no instance yet",
			aws.ToString(task.LastStatus), aws.ToString(task.CapacityProviderName), aws.ToString(task.ContainerInstanceArn))
	}
	awstest.WaitFor(t, "managed scaling to raise the group's desired capacity", func() bool { return g.desired(t, "grow-asg") == 1 })
	e.waitJoined(t, "grow", 1)
	running := e.waitRunning(t, "grow", arn)
	if id := aws.ToString(e.instanceOf(t, "grow", running).Ec2InstanceId); !slices.Contains(g.instances(t, "grow-asg"), id) {
		t.Errorf("the task runs on %s, not on the group's instance", id)
	}
	wantServes(t, bindingURL(running.Containers[0].NetworkBindings[0])+"/")

	cw := cloudwatch.NewFromConfig(e.srv.Config())
	metrics := awstest.Call(t, cw.ListMetrics, &cloudwatch.ListMetricsInput{Namespace: aws.String("AWS/ECS/ManagedScaling"),
		MetricName: aws.String("CapacityProviderReservation")}).Metrics
	wantDims := []cwtypes.DimensionFilter{{Name: aws.String("CapacityProviderName"), Value: aws.String("grow-cp")},
		{Name: aws.String("ClusterName"), Value: aws.String("grow")}}
	if len(metrics) != 1 || len(metrics[0].Dimensions) != len(wantDims) {
		t.Errorf("ListMetrics AWS/ECS/ManagedScaling: got %+v", metrics)
	}

	e.stop(t, "grow", arn)
	fake.Advance(time.Minute)
	awstest.WaitFor(t, "managed scaling to take the idle instance away", func() bool { return g.desired(t, "grow-asg") == 0 })
}

// A task whose provider cannot grow waits 30 minutes for capacity, then
// stops.
func TestTaskWaitsForCapacityThenStops(t *testing.T) {
	fake := clock.NewFake(time.Now())
	e := newTaskEnv(t, awstest.Clock(fake))
	e.cluster(t, "full")
	provider(t, e.c, "full-cp", newGroups(e.srv).create(t, "full-asg", "full", 0, 0), true)
	awstest.Call(t, e.c.PutClusterCapacityProviders, &ecs.PutClusterCapacityProvidersInput{Cluster: aws.String("full"),
		CapacityProviders: []string{"full-cp"}, DefaultCapacityProviderStrategy: []types.CapacityProviderStrategyItem{}})
	e.registerEC2(t, "full-web", 64, nil)
	arn := aws.ToString(e.run(t, &ecs.RunTaskInput{Cluster: aws.String("full"), TaskDefinition: aws.String("full-web"),
		CapacityProviderStrategy: []types.CapacityProviderStrategyItem{{CapacityProvider: aws.String("full-cp")}}}).TaskArn)

	fake.Advance(29 * time.Minute)
	if got := e.describe(t, "full", arn); aws.ToString(got.LastStatus) != "PROVISIONING" || aws.ToString(got.DesiredStatus) != "RUNNING" {
		t.Errorf("after 29 minutes: got %s (desired %s), want PROVISIONING", aws.ToString(got.LastStatus), aws.ToString(got.DesiredStatus))
	}
	fake.Advance(time.Minute)
	stopped := e.waitStopped(t, "full", arn)
	if stopped.StopCode != types.TaskStopCodeTaskFailedToStart || stopped.ContainerInstanceArn != nil {
		t.Errorf("stopped: got code %s on %v, want TaskFailedToStart on no instance", stopped.StopCode, aws.ToString(stopped.ContainerInstanceArn))
	}
}
