package applicationautoscaling_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"overcast/internal/awstest"
	"overcast/internal/docker"
	"overcast/internal/docker/dockertest"
)

// TestCPULoadScalesServiceOutAndIn goes all the way with real containers:
// the service's task burns CPU, ECS measures it into AWS/ECS
// CPUUtilization, the target tracking policy's high alarm scales the
// service out; once the load stops, its low alarm scales it back in. The
// fake clock moves a minute at a time, each step waiting for ECS's
// datapoints of the minute, so every evaluation sees a full series.
func TestCPULoadScalesServiceOutAndIn(t *testing.T) {
	engine := dockertest.Engine(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b := make([]byte, 4)
	rand.Read(b)
	image := "overcast-test/cpu-load:" + hex.EncodeToString(b)
	if err := dockertest.ImportApp(ctx, engine, image, nil, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { engine.RemoveImage(context.Background(), image, true) })

	srv, fake := awstest.StartAt(t, time.Now().UTC().Truncate(time.Minute))
	c := connect(srv)
	const cluster, service = "load", "cpu"
	t.Cleanup(func() { purgeTasks(t, engine, c.ecs, cluster) })
	subnets := awstest.Call(t, ec2.NewFromConfig(srv.Config()).DescribeSubnets, &ec2.DescribeSubnetsInput{})
	awstest.Call(t, c.ecs.CreateCluster, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)})
	awstest.Call(t, c.ecs.RegisterTaskDefinition, &ecs.RegisterTaskDefinitionInput{Family: aws.String(service),
		NetworkMode: ecstypes.NetworkModeAwsvpc, RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
		Cpu: aws.String("256"), Memory: aws.String("512"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(image)}}})
	awstest.Call(t, c.ecs.CreateService, &ecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String(service),
		TaskDefinition: aws.String(service), DesiredCount: aws.Int32(1), LaunchType: ecstypes.LaunchTypeFargate,
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
			Subnets: []string{aws.ToString(subnets.Subnets[0].SubnetId)}}}})
	resource := "service/" + cluster + "/" + service
	awstest.Call(t, c.aas.RegisterScalableTarget, &aas.RegisterScalableTargetInput{ServiceNamespace: types.ServiceNamespaceEcs,
		ResourceId: aws.String(resource), ScalableDimension: dimension, MinCapacity: aws.Int32(1), MaxCapacity: aws.Int32(2)})
	awstest.Call(t, c.aas.PutScalingPolicy, &aas.PutScalingPolicyInput{PolicyName: aws.String("cpu50"), ServiceNamespace: types.ServiceNamespaceEcs,
		ResourceId: aws.String(resource), ScalableDimension: dimension, PolicyType: types.PolicyTypeTargetTrackingScaling,
		TargetTrackingScalingPolicyConfiguration: &types.TargetTrackingScalingPolicyConfiguration{TargetValue: aws.Float64(20),
			PredefinedMetricSpecification: &types.PredefinedMetricSpecification{PredefinedMetricType: types.MetricTypeECSServiceAverageCPUUtilization}}})

	desired := func() int32 {
		out := awstest.Call(t, c.ecs.DescribeServices, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{service}})
		return out.Services[0].DesiredCount
	}
	running := func() []ecstypes.Task {
		arns := awstest.Call(t, c.ecs.ListTasks, &ecs.ListTasksInput{Cluster: aws.String(cluster), ServiceName: aws.String(service),
			DesiredStatus: ecstypes.DesiredStatusRunning}).TaskArns
		if len(arns) == 0 {
			return nil
		}
		var out []ecstypes.Task
		for _, task := range awstest.Call(t, c.ecs.DescribeTasks, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: arns}).Tasks {
			if aws.ToString(task.LastStatus) == "RUNNING" {
				out = append(out, task)
			}
		}
		return out
	}
	// setLoad has every running task burn percent of a CPU: against the
	// task's 256 CPU units a whole CPU is 400% utilization, far above the
	// 20% target even when the machine's other work leaves the task a
	// fraction of a core.
	setLoad := func(percent int) {
		t.Helper()
		for _, task := range running() {
			res, err := engine.Exec(ctx, aws.ToString(task.Containers[0].RuntimeId), docker.ExecSpec{
				Cmd: []string{"/app", "get", fmt.Sprintf("http://127.0.0.1:8080/cpu?percent=%d", percent)}})
			if err != nil || res.ExitCode != 0 {
				t.Fatalf("setting the load of %s: %v %s", aws.ToString(task.TaskArn), err, res.Stderr)
			}
		}
	}
	// minute moves the clock a minute on and waits for ECS's datapoint of
	// that minute (memory has one from the first sample; CPU from the
	// second).
	minute := func() {
		t.Helper()
		fake.Advance(time.Minute)
		at := fake.Now()
		awstest.WaitFor(t, "ECS's datapoints of "+at.Format("15:04"), func() bool {
			out := awstest.Call(t, c.cw.GetMetricStatistics, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("AWS/ECS"),
				MetricName: aws.String("MemoryUtilization"), Dimensions: []cwtypes.Dimension{{Name: aws.String("ClusterName"), Value: aws.String(cluster)},
					{Name: aws.String("ServiceName"), Value: aws.String(service)}},
				StartTime: aws.Time(at), EndTime: aws.Time(at.Add(time.Minute)), Period: aws.Int32(60), Statistics: []cwtypes.Statistic{cwtypes.StatisticAverage}})
			return len(out.Datapoints) == 1
		})
	}
	until := func(what string, minutes int, cond func() bool) {
		t.Helper()
		for range minutes {
			if cond() {
				return
			}
			minute()
		}
		if !cond() {
			t.Fatalf("%s: not after %d minutes", what, minutes)
		}
	}

	awstest.WaitFor(t, "the service's task to run", func() bool { return len(running()) == 1 })
	setLoad(100)
	// Three minutes above the target put the high alarm in ALARM.
	until("the service to scale out under load", 15, func() bool { return desired() == 2 })
	awstest.WaitFor(t, "the second task to run", func() bool { return len(running()) == 2 })

	setLoad(0)
	// Fifteen minutes below 90% of the target put the low alarm in ALARM.
	until("the service to scale back in", 25, func() bool { return desired() == 1 })

	acts := awstest.Call(t, c.aas.DescribeScalingActivities, &aas.DescribeScalingActivitiesInput{ServiceNamespace: types.ServiceNamespaceEcs,
		ResourceId: aws.String(resource)})
	var got []string
	for _, a := range acts.ScalingActivities {
		got = append(got, aws.ToString(a.Description))
	}
	if want := []string{"Setting desired count to 1.", "Setting desired count to 2."}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got activities %q, want %q", got, want)
	}
}

// purgeTasks removes the containers of the cluster's tasks, which the
// test does not run itself.
func purgeTasks(t *testing.T, engine *docker.Engine, c *ecs.Client, cluster string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, desired := range []ecstypes.DesiredStatus{ecstypes.DesiredStatusRunning, ecstypes.DesiredStatusStopped} {
		out, err := c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(cluster), DesiredStatus: desired})
		if err != nil {
			t.Errorf("listing the tasks: %v", err)
			return
		}
		for _, arn := range out.TaskArns {
			if err := engine.Purge(ctx, map[string]string{docker.LabelTask: arn}); err != nil {
				t.Errorf("removing the containers of %s: %v", arn, err)
			}
		}
	}
}
