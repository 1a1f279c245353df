package ecs_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/app"
	"overcast/internal/awstest"
	"overcast/internal/clock"
	"overcast/internal/docker"
	"overcast/internal/docker/dockertest"
)

// Tasks spread over two engines, each pulling the image from overcast's
// ECR; when the second engine goes away its tasks stop as ECS stops those
// of a lost host, health says so, and a service gets back to its count on
// the engine left.
func TestTasksSpreadOverDockerHosts(t *testing.T) {
	second := dockertest.StartSecondEngine(t, true) // over TCP with TLS, as a remote engine
	first := dockertest.Engine(t)
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("no docker client to push with")
	}
	e := serviceEnv(t, "hosts", awstest.Configure(func(c *app.Config) {
		c.DockerHosts = []docker.Options{{Host: first.Host()}, second.Options}
		c.DockerHostLostAfter = 2 * time.Second
	}))

	// The image is in overcast's ECR only: each engine pulls it.
	awstest.Call(t, ecr.NewFromConfig(e.srv.Config()).CreateRepository, &ecr.CreateRepositoryInput{RepositoryName: aws.String("spread")})
	registry := e.srv.RegistryHost()
	pushed := registry + "/spread:v1"
	dockerConfig := t.TempDir()
	cli := func(stdin string, args ...string) {
		t.Helper()
		cmd := exec.Command("docker", args...)
		cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+dockerConfig, "DOCKER_HOST="+first.Host())
		cmd.Stdin = strings.NewReader(stdin)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	user, password := e.srv.RegistryLogin(t)
	cli(password, "login", "--username", user, "--password-stdin", registry)
	cli("", "tag", e.image, pushed)
	cli("", "push", pushed)
	cli("", "rmi", pushed)
	t.Cleanup(func() {
		// What the first engine pulled, under the registry's reference.
		first.RemoveImage(context.Background(), registry+"/000000000000.dkr.ecr.us-east-1.amazonaws.com/spread:v1", true)
	})

	td := web("spread")
	td.ContainerDefinitions[0].Image = aws.String("000000000000.dkr.ecr.us-east-1.amazonaws.com/spread:v1")
	td.ExecutionRoleArn = e.executionRole(t)
	td.ContainerDefinitions[0].PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(8080)}}
	healthChecked(&td.ContainerDefinitions[0])
	awstest.Call(t, e.c.RegisterTaskDefinition, td)

	out := awstest.Call(t, e.c.RunTask, &ecs.RunTaskInput{Cluster: aws.String("hosts"), TaskDefinition: aws.String("spread"),
		LaunchType: types.LaunchTypeFargate, Count: aws.Int32(4), NetworkConfiguration: e.awsvpc(t)})
	if len(out.Tasks) != 4 || len(out.Failures) != 0 {
		t.Fatalf("RunTask: got %d tasks, failures %s", len(out.Tasks), failures(out.Failures))
	}
	onEngine := func(eng *docker.Engine, arn string) bool {
		cs, err := eng.ListContainers(e.ctx, map[string]string{docker.LabelTask: arn})
		if err != nil {
			t.Fatalf("listing the containers of %s on %s: %v", arn, eng.Host(), err)
		}
		return len(cs) > 0
	}
	count := map[string]int{}
	for _, task := range out.Tasks {
		arn := aws.ToString(task.TaskArn)
		running := e.waitRunning(t, "hosts", arn)
		switch first, second := onEngine(first, arn), onEngine(second.Engine, arn); {
		case first && !second:
			count["first"]++
		case second && !first:
			count["second"]++
		default:
			t.Errorf("task %s: containers on the first engine %v, on the second %v; want on one", arn, first, second)
		}
		for _, d := range running.Attachments[0].Details {
			if aws.ToString(d.Name) == "privateIPv4Address" {
				wantServes(t, "http://"+aws.ToString(d.Value)+":8080/")
			}
		}
		e.stop(t, "hosts", arn)
	}
	if count["first"] != 2 || count["second"] != 2 {
		t.Errorf("tasks per engine: got %v, want 2 on each", count)
	}

	// EC2 instances run their tasks on the engine of their zone: a and b,
	// the first and second engines.
	ec2c := ec2.NewFromConfig(e.srv.Config())
	images := awstest.Call(t, ec2c.DescribeImages, &ec2.DescribeImagesInput{Filters: []ec2types.Filter{
		{Name: aws.String("name"), Values: []string{"al2023-ami-ecs-hvm-*"}}, {Name: aws.String("architecture"), Values: []string{"x86_64"}}}})
	userData := base64.StdEncoding.EncodeToString([]byte("#!/bin/bash\necho ECS_CLUSTER=hosts >> /etc/ecs/ecs.config\n"))
	var instances []string
	for _, zone := range []string{"us-east-1a", "us-east-1b"} {
		subnet := awstest.Call(t, ec2c.DescribeSubnets, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{
			{Name: aws.String("availability-zone"), Values: []string{zone}}}}).Subnets[0].SubnetId
		inst := awstest.Call(t, ec2c.RunInstances, &ec2.RunInstancesInput{ImageId: images.Images[0].ImageId, InstanceType: ec2types.InstanceTypeT3Medium,
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1), UserData: aws.String(userData), SubnetId: subnet}).Instances[0]
		instances = append(instances, aws.ToString(inst.InstanceId))
	}
	t.Cleanup(func() {
		ec2c.TerminateInstances(context.Background(), &ec2.TerminateInstancesInput{InstanceIds: instances})
	})
	awstest.WaitFor(t, "the instances to join cluster hosts", func() bool {
		return len(awstest.Call(t, e.c.ListContainerInstances, &ecs.ListContainerInstancesInput{Cluster: aws.String("hosts")}).ContainerInstanceArns) == 2
	})
	e.registerEC2(t, "spread-ec2", 64, func(cd *types.ContainerDefinition) {
		cd.Image = td.ContainerDefinitions[0].Image
		publish8080(cd)
	})
	placed := awstest.Call(t, e.c.RunTask, &ecs.RunTaskInput{Cluster: aws.String("hosts"), TaskDefinition: aws.String("spread-ec2"), Count: aws.Int32(2),
		PlacementStrategy: []types.PlacementStrategy{{Type: types.PlacementStrategyTypeSpread, Field: aws.String("attribute:ecs.availability-zone")}}})
	if len(placed.Tasks) != 2 || len(placed.Failures) != 0 {
		t.Fatalf("RunTask on EC2: got %d tasks, failures %s", len(placed.Tasks), failures(placed.Failures))
	}
	engines := map[string]bool{}
	for _, task := range placed.Tasks {
		arn := aws.ToString(task.TaskArn)
		running := e.waitRunning(t, "hosts", arn)
		wantServes(t, bindingURL(running.Containers[0].NetworkBindings[0])+"/")
		engines[fmt.Sprint(onEngine(first, arn), onEngine(second.Engine, arn))] = true
		e.stop(t, "hosts", arn)
	}
	if !engines["true false"] || !engines["false true"] {
		t.Errorf("EC2 tasks on the engines (first, second): got %v, want one on each", engines)
	}
	awstest.Call(t, ec2c.TerminateInstances, &ec2.TerminateInstancesInput{InstanceIds: instances})

	// A service's two tasks run one on each engine.
	awstest.Call(t, e.c.CreateService, &ecs.CreateServiceInput{Cluster: aws.String("hosts"), ServiceName: aws.String("web"),
		TaskDefinition: aws.String("spread"), DesiredCount: aws.Int32(2), LaunchType: types.LaunchTypeFargate,
		NetworkConfiguration: e.awsvpc(t)})
	e.waitStable(t, "hosts", "web")
	var lost []string
	for _, task := range e.serviceTasks(t, "hosts", "web", types.DesiredStatusRunning) {
		if arn := aws.ToString(task.TaskArn); onEngine(second.Engine, arn) {
			lost = append(lost, arn)
		}
	}
	if len(lost) != 1 {
		t.Fatalf("service tasks on the second engine: got %d, want 1", len(lost))
	}

	// The second host stops answering. A dockerd that exits stops its
	// containers first, which the agent would see exit; a host that is
	// lost says nothing.
	second.Freeze()
	stopped := e.waitStopped(t, "hosts", lost[0])
	if got, want := aws.ToString(stopped.StoppedReason), "Host EC2 (instance "+second.Options.Host+") stopped/terminated."; got != want || stopped.StopCode != types.TaskStopCodeTerminationNotice {
		t.Errorf("the lost host's task stopped with %s %q, want %s %q", stopped.StopCode, got, types.TaskStopCodeTerminationNotice, want)
	}
	health := overcastHealth(t, e.srv.URL)
	if health.Status != "degraded" || len(health.Docker.Hosts) != 2 || !health.Docker.Hosts[0].Reachable || health.Docker.Hosts[1].Reachable {
		t.Errorf("health with the second host gone: %+v", health)
	}
	stable := e.waitStable(t, "hosts", "web")
	if stable.RunningCount != 2 {
		t.Errorf("running tasks after the host was lost: got %d, want 2", stable.RunningCount)
	}
	for _, task := range e.serviceTasks(t, "hosts", "web", types.DesiredStatusRunning) {
		if arn := aws.ToString(task.TaskArn); !onEngine(first, arn) {
			t.Errorf("task %s runs on no engine left", arn)
		}
	}

	// Back, the host's leftover containers of the lost task go.
	second.Thaw()
	deadline := time.Now().Add(30 * time.Second)
	for onEngine(second.Engine, lost[0]) {
		if time.Now().After(deadline) {
			t.Fatalf("the lost task's containers are still on the second engine once it is back")
		}
		time.Sleep(200 * time.Millisecond)
	}
	awstest.Call(t, e.c.UpdateService, &ecs.UpdateServiceInput{Cluster: aws.String("hosts"), Service: aws.String("web"), DesiredCount: aws.Int32(0)})
	awstest.Call(t, e.c.DeleteService, &ecs.DeleteServiceInput{Cluster: aws.String("hosts"), Service: aws.String("web"), Force: aws.Bool(true)})
}

// A service with a task on each of two engines gets CPU and memory
// utilization from both: each task is measured on its own engine. The
// fake clock moves a minute at a time, each step waiting for ECS's
// datapoints of that minute.
func TestServiceMetricsOverDockerHosts(t *testing.T) {
	second := dockertest.StartSecondEngine(t, false)
	first := dockertest.Engine(t)
	clk := clock.NewFake(time.Now().UTC().Truncate(time.Minute))
	e := serviceEnv(t, "metrics", awstest.Clock(clk), awstest.Configure(func(c *app.Config) {
		c.DockerHosts = []docker.Options{{Host: first.Host()}, second.Options}
	}))
	td := web("metrics")
	// The image is in overcast's ECR only: each engine pulls it.
	e.pushToECR(t, "metrics", "v1")
	image := "000000000000.dkr.ecr.us-east-1.amazonaws.com/metrics:v1"
	t.Cleanup(func() {
		// What the first engine pulled, under the registry's reference.
		first.RemoveImage(context.Background(), e.srv.RegistryHost()+"/"+image, true)
	})
	td.ContainerDefinitions[0].Image = aws.String(image)
	td.ExecutionRoleArn = e.executionRole(t)
	td.ContainerDefinitions[0].PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(8080)}}
	awstest.Call(t, e.c.RegisterTaskDefinition, td)
	awstest.Call(t, e.c.CreateService, &ecs.CreateServiceInput{Cluster: aws.String("metrics"), ServiceName: aws.String("web"),
		TaskDefinition: aws.String("metrics"), DesiredCount: aws.Int32(2), LaunchType: types.LaunchTypeFargate,
		NetworkConfiguration: e.awsvpc(t)})
	// Longer than awstest.WaitFor's 10 s: each engine pulls the image
	// from overcast's ECR before its task starts, slow on a loaded machine.
	deadline := time.Now().Add(2 * time.Minute) // a hang, not a measurement
	for {
		n := 0
		for _, task := range e.serviceTasks(t, "metrics", "web", types.DesiredStatusRunning) {
			if aws.ToString(task.LastStatus) == "RUNNING" {
				n++
			}
		}
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the service's two tasks are not running after 2 minutes (%d are)", n)
		}
		time.Sleep(200 * time.Millisecond)
	}
	onSecond := 0
	for _, task := range e.serviceTasks(t, "metrics", "web", types.DesiredStatusRunning) {
		if cs, err := second.Engine.ListContainers(e.ctx, map[string]string{docker.LabelTask: aws.ToString(task.TaskArn)}); err == nil && len(cs) > 0 {
			onSecond++
		}
	}
	if onSecond != 1 {
		t.Fatalf("service tasks on the second engine: got %d, want 1", onSecond)
	}

	cw := cloudwatch.NewFromConfig(e.srv.Config())
	// samples are the tasks each series of the minute at counts: the
	// SampleCount of its datapoint, by metric and scope.
	samples := func(at time.Time) map[string][]float64 {
		var queries []cwtypes.MetricDataQuery
		for _, metric := range []string{"CPUUtilization", "MemoryUtilization"} {
			for _, dims := range [][]cwtypes.Dimension{
				{{Name: aws.String("ClusterName"), Value: aws.String("metrics")}, {Name: aws.String("ServiceName"), Value: aws.String("web")}},
				{{Name: aws.String("ClusterName"), Value: aws.String("metrics")}},
			} {
				scope := "cluster"
				if len(dims) == 2 {
					scope = "service"
				}
				queries = append(queries, cwtypes.MetricDataQuery{Id: aws.String(strings.ToLower(metric[:3]) + "_" + scope),
					MetricStat: &cwtypes.MetricStat{Metric: &cwtypes.Metric{Namespace: aws.String("AWS/ECS"), MetricName: aws.String(metric), Dimensions: dims},
						Period: aws.Int32(60), Stat: aws.String("SampleCount")}})
			}
		}
		out := awstest.Call(t, cw.GetMetricData, &cloudwatch.GetMetricDataInput{MetricDataQueries: queries,
			StartTime: aws.Time(at), EndTime: aws.Time(at.Add(time.Minute))})
		got := map[string][]float64{}
		for _, r := range out.MetricDataResults {
			got[aws.ToString(r.Id)] = r.Values
		}
		return got
	}
	// Memory has a datapoint from the first sample, CPU from the second
	// (or the first, had the pass at start already seen the tasks).
	wants := []map[string][]float64{
		{"mem_service": {2}, "mem_cluster": {2}},
		{"cpu_service": {2}, "cpu_cluster": {2}, "mem_service": {2}, "mem_cluster": {2}},
	}
	for i, want := range wants {
		clk.Advance(time.Minute)
		at := clk.Now()
		var got map[string][]float64
		awstest.WaitFor(t, fmt.Sprintf("ECS's memory datapoint of minute %d", i+1), func() bool {
			got = samples(at)
			return len(got["mem_service"]) > 0
		})
		for k := range got {
			if _, ok := want[k]; !ok {
				delete(got, k)
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("minute %d: tasks counted (-want +got):\n%s", i+1, diff)
		}
	}
}

type healthBody struct {
	Status string `json:"status"`
	Docker struct {
		Hosts []struct {
			Host      string `json:"host"`
			Reachable bool   `json:"reachable"`
		} `json:"hosts"`
	} `json:"docker"`
}

func overcastHealth(t *testing.T, url string) healthBody {
	t.Helper()
	resp, err := http.Get(url + "/_overcast/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var h healthBody
	if err := json.Unmarshal(body, &h); err != nil {
		t.Fatalf("health: %v\n%s", err, body)
	}
	return h
}
