package ecs_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"overcast/internal/awstest"
	"overcast/internal/bus"
	"overcast/internal/clock"
	"overcast/internal/docker"
	"overcast/internal/docker/dockertest"
	"overcast/internal/service/servicetest"
)

// testImage is the docker package's test app as /app, serving on :8080;
// imported once per test process and removed by the tests' cleanups.
var testImage dockertest.OnceImage

func TestMain(m *testing.M) {
	code := m.Run()
	if testImage.Ref() != "" {
		if e, err := docker.New(docker.Options{}); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if err := e.RemoveImage(ctx, testImage.Ref(), true); err != nil {
				fmt.Fprintln(os.Stderr, "removing the test image:", err)
			}
			cancel()
			e.Close()
		}
	}
	os.Exit(code)
}

func appImage(t *testing.T) string {
	t.Helper()
	e := dockertest.Engine(t)
	return testImage.Get(t, func(ctx context.Context) (string, error) {
		b := make([]byte, 4)
		rand.Read(b)
		ref := "overcast-test/ecs-tasks:" + hex.EncodeToString(b)
		return ref, dockertest.ImportApp(ctx, e, ref, nil, nil)
	})
}

// taskEnv is a server with a Docker engine, its ECS client, and a cleanup
// that removes the containers of the tasks the test ran.
type taskEnv struct {
	srv    *awstest.Server
	c      *ecs.Client
	engine *docker.Engine
	image  string
	ctx    context.Context
	mu     sync.Mutex
	tasks  []string
}

func newTaskEnv(t *testing.T, opts ...awstest.Option) *taskEnv {
	t.Helper()
	engine := dockertest.Engine(t)
	image := appImage(t)
	srv, c := start(t, opts...)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	e := &taskEnv{srv: srv, c: c, engine: engine, image: image, ctx: ctx}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, arn := range e.tasks {
			if err := engine.Purge(ctx, map[string]string{docker.LabelTask: arn}); err != nil {
				t.Errorf("removing the containers of %s: %v", arn, err)
			}
		}
	})
	return e
}

// run runs a task and returns it, failing the test on failures.
func (e *taskEnv) run(t *testing.T, in *ecs.RunTaskInput) types.Task {
	t.Helper()
	out := awstest.Call(t, e.c.RunTask, in)
	if len(out.Failures) != 0 || len(out.Tasks) != 1 {
		t.Fatalf("RunTask: got tasks %d, failures %s", len(out.Tasks), failures(out.Failures))
	}
	e.mu.Lock()
	e.tasks = append(e.tasks, aws.ToString(out.Tasks[0].TaskArn))
	e.mu.Unlock()
	return out.Tasks[0]
}

func failures(fs []types.Failure) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "[%s: %s] ", aws.ToString(f.Arn), aws.ToString(f.Reason))
	}
	return b.String()
}

func (e *taskEnv) describe(t *testing.T, cluster, arn string) types.Task {
	t.Helper()
	d := awstest.Call(t, e.c.DescribeTasks, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{arn}, Include: []types.TaskField{types.TaskFieldTags}})
	if len(d.Tasks) != 1 {
		t.Fatalf("DescribeTasks %s: got %+v", arn, d)
	}
	return d.Tasks[0]
}

func (e *taskEnv) waitRunning(t *testing.T, cluster, arn string) types.Task {
	t.Helper()
	w := ecs.NewTasksRunningWaiter(e.c, func(o *ecs.TasksRunningWaiterOptions) {
		o.MinDelay, o.MaxDelay = 200*time.Millisecond, time.Second
	})
	if err := w.Wait(e.ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{arn}}, 2*time.Minute); err != nil {
		task := e.describe(t, cluster, arn)
		why := []string{aws.ToString(task.LastStatus), string(task.StopCode), aws.ToString(task.StoppedReason)}
		for _, c := range task.Containers {
			why = append(why, aws.ToString(c.Name)+": "+aws.ToString(c.Reason))
		}
		t.Fatalf("waiting for %s to run: %v (task: %s)", arn, err, strings.Join(why, "; "))
	}
	return e.describe(t, cluster, arn)
}

func (e *taskEnv) waitStopped(t *testing.T, cluster, arn string) types.Task {
	t.Helper()
	w := ecs.NewTasksStoppedWaiter(e.c, func(o *ecs.TasksStoppedWaiterOptions) {
		o.MinDelay, o.MaxDelay = 200*time.Millisecond, time.Second
	})
	if err := w.Wait(e.ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{arn}}, 2*time.Minute); err != nil {
		t.Fatalf("waiting for %s to stop: %v", arn, err)
	}
	return e.describe(t, cluster, arn)
}

// awsvpc is a network configuration in one of EC2's default subnets.
func (e *taskEnv) awsvpc(t *testing.T) *types.NetworkConfiguration { return awsvpc(t, e.srv) }

func awsvpc(t *testing.T, srv *awstest.Server) *types.NetworkConfiguration {
	t.Helper()
	out := awstest.Call(t, ec2.NewFromConfig(srv.Config()).DescribeSubnets, &ec2.DescribeSubnetsInput{})
	if len(out.Subnets) == 0 {
		t.Fatal("EC2 has no default subnet")
	}
	return &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{aws.ToString(out.Subnets[0].SubnetId)}}}
}

// wantServes checks the test app answers at url.
func wantServes(t *testing.T, url string) {
	t.Helper()
	if body := dockertest.Get(t, url); !strings.HasPrefix(body, "hello from") {
		t.Errorf("GET %s: got %q", url, body)
	}
}

// bindingURL is http://address:port of a network binding.
func bindingURL(b types.NetworkBinding) string {
	return fmt.Sprintf("http://%s:%d", aws.ToString(b.BindIP), aws.ToInt32(b.HostPort))
}

// stop stops a task and waits until it has.
func (e *taskEnv) stop(t *testing.T, cluster, arn string) types.Task {
	t.Helper()
	awstest.Call(t, e.c.StopTask, &ecs.StopTaskInput{Cluster: aws.String(cluster), Task: aws.String(arn), Reason: aws.String("done")})
	return e.waitStopped(t, cluster, arn)
}

func (e *taskEnv) cluster(t *testing.T, name string) {
	t.Helper()
	awstest.Call(t, e.c.CreateCluster, &ecs.CreateClusterInput{ClusterName: aws.String(name)})
}

// registerInstance registers a container instance directly, as an agent
// on a host without an EC2 instance overcast knows.
func (e *taskEnv) registerInstance(t *testing.T, cluster string, memory int32) string {
	t.Helper()
	return e.registerInstanceIn(t, cluster, "i-0"+strings.ToLower(cluster), "us-east-1a", memory)
}

// registerInstanceIn registers a container instance of an EC2 instance id
// in zone az.
func (e *taskEnv) registerInstanceIn(t *testing.T, cluster, id, az string, memory int32) string {
	t.Helper()
	return aws.ToString(awstest.Call(t, e.c.RegisterContainerInstance, &ecs.RegisterContainerInstanceInput{
		Cluster:                  aws.String(cluster),
		InstanceIdentityDocument: aws.String(identity(id, az)),
		TotalResources: []types.Resource{
			{Name: aws.String("CPU"), Type: aws.String("INTEGER"), IntegerValue: 2048},
			{Name: aws.String("MEMORY"), Type: aws.String("INTEGER"), IntegerValue: memory},
		},
		// What an agent registers that the tests' task definitions require.
		Attributes: attributes("com.amazonaws.ecs.capability.logging-driver.awslogs", "com.amazonaws.ecs.capability.docker-remote-api.1.19",
			"ecs.capability.secrets.ssm.environment-variables", "ecs.capability.secrets.asm.environment-variables", "ecs.capability.env-files.s3",
			"ecs.capability.container-health-check", "com.amazonaws.ecs.capability.ecr-auth",
			"ecs.capability.efs", "ecs.capability.efsAuth"),
	}).ContainerInstance.ContainerInstanceArn)
}

// registerEC2 registers an EC2 task definition of one container of the
// test image, which mutate changes.
func (e *taskEnv) registerEC2(t *testing.T, family string, memory int32, mutate func(*types.ContainerDefinition)) {
	t.Helper()
	cd := types.ContainerDefinition{Name: aws.String("main"), Image: aws.String(e.image), Memory: aws.Int32(memory)}
	if mutate != nil {
		mutate(&cd)
	}
	awstest.Call(t, e.c.RegisterTaskDefinition, &ecs.RegisterTaskDefinitionInput{Family: aws.String(family),
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityEc2}, ContainerDefinitions: []types.ContainerDefinition{cd}})
}

// executionRole creates ecsTaskExecutionRole, trusting ECS tasks, and
// returns its ARN.
func (e *taskEnv) executionRole(t *testing.T) *string {
	t.Helper()
	out := awstest.Call(t, iam.NewFromConfig(e.srv.Config()).CreateRole, &iam.CreateRoleInput{RoleName: aws.String("ecsTaskExecutionRole"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	return out.Role.Arn
}

func publish8080(cd *types.ContainerDefinition) {
	cd.PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(8080)}}
}

func attributes(names ...string) []types.Attribute {
	out := make([]types.Attribute, 0, len(names))
	for _, n := range names {
		out = append(out, types.Attribute{Name: aws.String(n)})
	}
	return out
}

func TestFargateTaskServesOnItsInterface(t *testing.T) {
	e := newTaskEnv(t)
	e.cluster(t, "fargate")
	td := web("fargate-web")
	td.ContainerDefinitions[0].Image = aws.String(e.image)
	td.ContainerDefinitions[0].PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(8080)}}
	awstest.Call(t, e.c.RegisterTaskDefinition, td)

	// awsvpc needs a network configuration.
	_, err := e.c.RunTask(e.ctx, &ecs.RunTaskInput{Cluster: aws.String("fargate"), TaskDefinition: aws.String("fargate-web"), LaunchType: types.LaunchTypeFargate})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Message: "Network Configuration must be provided"})
	_, err = e.c.RunTask(e.ctx, &ecs.RunTaskInput{Cluster: aws.String("fargate"), TaskDefinition: aws.String("fargate-web"), LaunchType: types.LaunchTypeFargate,
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}},
		PlacementConstraints: []types.PlacementConstraint{{Type: types.PlacementConstraintTypeDistinctInstance}}})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Message: "Placement constraints are not supported with FARGATE"})

	statuses := e.taskChanges(t)
	task := e.run(t, &ecs.RunTaskInput{Cluster: aws.String("fargate"), TaskDefinition: aws.String("fargate-web"),
		CapacityProviderStrategy: []types.CapacityProviderStrategyItem{{CapacityProvider: aws.String("FARGATE")}},
		NetworkConfiguration:     e.awsvpc(t),
		Tags:                     []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}}, StartedBy: aws.String("me")})
	arn := aws.ToString(task.TaskArn)
	if !strings.HasPrefix(arn, arnPrefix+"task/fargate/") || len(arn) != len(arnPrefix+"task/fargate/")+32 {
		t.Errorf("task ARN: got %s", arn)
	}
	if aws.ToString(task.LastStatus) != "PROVISIONING" || aws.ToString(task.Group) != "family:fargate-web" || task.LaunchType != types.LaunchTypeFargate {
		t.Errorf("RunTask: got status %s group %s launch type %s", aws.ToString(task.LastStatus), aws.ToString(task.Group), task.LaunchType)
	}
	running := e.waitRunning(t, "fargate", arn)
	var ip, eni string
	for _, a := range running.Attachments {
		for _, d := range a.Details {
			switch aws.ToString(d.Name) {
			case "privateIPv4Address":
				ip = aws.ToString(d.Value)
			case "networkInterfaceId":
				eni = aws.ToString(d.Value)
			}
		}
	}
	if !strings.HasPrefix(ip, "127.") || !strings.HasPrefix(eni, "eni-") || len(running.Tags) != 1 {
		t.Fatalf("running task: got attachments %+v tags %v", running.Attachments, running.Tags)
	}
	wantServes(t, "http://"+ip+":8080/")
	enis := awstest.Call(t, ec2.NewFromConfig(e.srv.Config()).DescribeNetworkInterfaces, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{eni}})
	if len(enis.NetworkInterfaces) != 1 || aws.ToString(enis.NetworkInterfaces[0].PrivateIpAddress) != ip {
		t.Errorf("EC2's view of the task's interface: got %+v", enis.NetworkInterfaces)
	}
	list := awstest.Call(t, e.c.ListTasks, &ecs.ListTasksInput{Cluster: aws.String("fargate"), StartedBy: aws.String("me")})
	if len(list.TaskArns) != 1 || list.TaskArns[0] != arn {
		t.Errorf("ListTasks: got %v, want [%s]", list.TaskArns, arn)
	}

	stopped := e.stop(t, "fargate", arn)
	if stopped.StopCode != types.TaskStopCodeUserInitiated || aws.ToString(stopped.StoppedReason) != "done" || stopped.StoppedAt == nil {
		t.Errorf("stopped: got code %s reason %q at %v", stopped.StopCode, aws.ToString(stopped.StoppedReason), stopped.StoppedAt)
	}
	list = awstest.Call(t, e.c.ListTasks, &ecs.ListTasksInput{Cluster: aws.String("fargate"), DesiredStatus: types.DesiredStatusStopped})
	if len(list.TaskArns) != 1 {
		t.Errorf("ListTasks STOPPED: got %v", list.TaskArns)
	}
	// The task gave its interface back to EC2.
	_, err = ec2.NewFromConfig(e.srv.Config()).DescribeNetworkInterfaces(e.ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{eni}})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidNetworkInterfaceID.NotFound"})
	want := []string{"PROVISIONING", "PENDING", "RUNNING", "STOPPING", "DEPROVISIONING", "STOPPED"}
	awstest.WaitFor(t, "the task's state changes on the bus", func() bool { return slices.Equal(statuses(arn), want) })
}

// taskChanges follows the "ECS Task State Change" events on the server's
// bus; the function it returns is the task's successive lastStatus values.
func (e *taskEnv) taskChanges(t *testing.T) func(arn string) []string {
	t.Helper()
	var mu sync.Mutex
	seen := map[string][]string{}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	_, err := e.srv.Main.Bus().Subscribe(ctx, "test-"+t.Name(), bus.Pattern{Source: "aws.ecs", Types: []string{"ECS Task State Change"}},
		func(_ context.Context, ev bus.Event) error {
			var detail struct{ TaskArn, LastStatus string }
			if err := json.Unmarshal(ev.Detail, &detail); err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			if s := seen[detail.TaskArn]; len(s) == 0 || s[len(s)-1] != detail.LastStatus {
				seen[detail.TaskArn] = append(s, detail.LastStatus)
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	return func(arn string) []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(seen[arn])
	}
}

func TestEC2TaskDynamicPort(t *testing.T) {
	e := newTaskEnv(t)
	e.cluster(t, "ec2")

	// No container instance yet.
	e.registerEC2(t, "bridge-web", 128, publish8080)
	_, err := e.c.RunTask(e.ctx, &ecs.RunTaskInput{Cluster: aws.String("ec2"), TaskDefinition: aws.String("bridge-web")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Message: "No Container Instances were found in your cluster."})

	instance := e.registerInstance(t, "ec2", 1024)
	task := e.run(t, &ecs.RunTaskInput{Cluster: aws.String("ec2"), TaskDefinition: aws.String("bridge-web:1")})
	if aws.ToString(task.ContainerInstanceArn) != instance {
		t.Errorf("container instance: got %s, want %s", aws.ToString(task.ContainerInstanceArn), instance)
	}
	running := e.waitRunning(t, "ec2", aws.ToString(task.TaskArn))
	bindings := running.Containers[0].NetworkBindings
	if len(bindings) != 1 || aws.ToInt32(bindings[0].HostPort) == 0 {
		t.Fatalf("network bindings: got %+v", bindings)
	}
	url := bindingURL(bindings[0]) + "/"
	wantServes(t, url)

	// The instance has 1024 MiB, 128 of it taken: a 2048 MiB task fits nowhere.
	e.registerEC2(t, "big", 2048, nil)
	big := awstest.Call(t, e.c.RunTask, &ecs.RunTaskInput{Cluster: aws.String("ec2"), TaskDefinition: aws.String("big")})
	if len(big.Tasks) != 0 || len(big.Failures) != 1 || aws.ToString(big.Failures[0].Reason) != "RESOURCE:MEMORY" || aws.ToString(big.Failures[0].Arn) != instance {
		t.Errorf("too big a task: got tasks %d failures %+v, want RESOURCE:MEMORY for %s", len(big.Tasks), big.Failures, instance)
	}

	stopped := e.stop(t, "ec2", aws.ToString(task.TaskArn))
	if stopped.StopCode != types.TaskStopCodeUserInitiated {
		t.Errorf("stop code: got %s", stopped.StopCode)
	}
}

func TestEssentialContainerExit(t *testing.T) {
	e := newTaskEnv(t)
	e.cluster(t, "exits")
	e.registerInstance(t, "exits", 1024)
	e.registerEC2(t, "exiter", 64, func(cd *types.ContainerDefinition) {
		cd.Command = []string{"exit", "7", "last words"}
		cd.LogConfiguration = &types.LogConfiguration{LogDriver: types.LogDriverAwslogs, Options: map[string]string{
			"awslogs-group": "/ecs/exiter", "awslogs-create-group": "true", "awslogs-stream-prefix": "ecs"}}
	})
	task := e.run(t, &ecs.RunTaskInput{Cluster: aws.String("exits"), TaskDefinition: aws.String("exiter")})
	stopped := e.waitStopped(t, "exits", aws.ToString(task.TaskArn))
	if stopped.StopCode != types.TaskStopCodeEssentialContainerExited || len(stopped.Containers) != 1 || aws.ToInt32(stopped.Containers[0].ExitCode) != 7 {
		t.Errorf("stopped: got code %s reason %q containers %+v", stopped.StopCode, aws.ToString(stopped.StoppedReason), stopped.Containers)
	}
	// Its output went to CloudWatch Logs, in the stream ECS names.
	id := aws.ToString(task.TaskArn)[strings.LastIndex(aws.ToString(task.TaskArn), "/")+1:]
	logsClient := cloudwatchlogs.NewFromConfig(e.srv.Config())
	awstest.WaitFor(t, "the container's output in CloudWatch Logs", func() bool {
		out, err := logsClient.GetLogEvents(e.ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("/ecs/exiter"), LogStreamName: aws.String("ecs/main/" + id)})
		return err == nil && len(out.Events) == 1 && aws.ToString(out.Events[0].Message) == "last words"
	})
}

func TestRestartAdoptsRunningTask(t *testing.T) {
	e := newTaskEnv(t)
	e.cluster(t, "keep")
	e.registerInstance(t, "keep", 1024)
	e.registerEC2(t, "kept", 64, publish8080)
	task := e.run(t, &ecs.RunTaskInput{Cluster: aws.String("keep"), TaskDefinition: aws.String("kept")})
	arn := aws.ToString(task.TaskArn)
	before := e.waitRunning(t, "keep", arn)

	e.srv.Restart(t)
	e.c = ecs.NewFromConfig(e.srv.Config())
	after := e.waitRunning(t, "keep", arn)
	if got, want := aws.ToString(after.Containers[0].RuntimeId), aws.ToString(before.Containers[0].RuntimeId); got != want || got == "" {
		t.Errorf("runtime ID after the restart: got %s, want %s (the same container)", got, want)
	}
	cs, err := e.engine.ListContainers(e.ctx, map[string]string{docker.LabelTask: arn})
	if err != nil || len(cs) != 1 {
		t.Errorf("containers of the task: got %d (%v), want 1", len(cs), err)
	}
	b := after.Containers[0].NetworkBindings
	if len(b) != 1 {
		t.Fatalf("bindings after the restart: got %+v", b)
	}
	wantServes(t, bindingURL(b[0])+"/")
	e.stop(t, "keep", arn)
}

func TestVanishedContainersStopTheTask(t *testing.T) {
	e := newTaskEnv(t)
	e.cluster(t, "gone")
	e.registerInstance(t, "gone", 1024)
	e.registerEC2(t, "gone", 64, nil)
	arn := aws.ToString(e.run(t, &ecs.RunTaskInput{Cluster: aws.String("gone"), TaskDefinition: aws.String("gone")}).TaskArn)
	e.waitRunning(t, "gone", arn)

	// While overcast is down, someone removes the task's containers.
	if err := e.srv.Main.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.engine.Purge(e.ctx, map[string]string{docker.LabelTask: arn}); err != nil {
		t.Fatal(err)
	}
	e.srv = awstest.Start(t, awstest.InDir(e.srv.DataDir))
	e.c = ecs.NewFromConfig(e.srv.Config())
	stopped := e.waitStopped(t, "gone", arn)
	if !strings.Contains(aws.ToString(stopped.StoppedReason), "containers no longer exist") {
		t.Errorf("stopped reason: got %q", aws.ToString(stopped.StoppedReason))
	}
}

func TestStoppedTasksGoAfterAnHour(t *testing.T) {
	fake := clock.NewFake(time.Now())
	e := newTaskEnv(t, awstest.Clock(fake))
	e.cluster(t, "hour")
	td := web("hour")
	td.ContainerDefinitions[0].Image = aws.String(e.image)
	awstest.Call(t, e.c.RegisterTaskDefinition, td)
	arn := aws.ToString(e.run(t, &ecs.RunTaskInput{Cluster: aws.String("hour"), TaskDefinition: aws.String("hour"), LaunchType: types.LaunchTypeFargate,
		NetworkConfiguration: e.awsvpc(t)}).TaskArn)
	e.waitRunning(t, "hour", arn)
	e.stop(t, "hour", arn)

	fake.Advance(59 * time.Minute)
	if d := awstest.Call(t, e.c.DescribeTasks, &ecs.DescribeTasksInput{Cluster: aws.String("hour"), Tasks: []string{arn}}); len(d.Tasks) != 1 {
		t.Fatalf("after 59 minutes: got %+v, want the task still there", d.Failures)
	}
	fake.Advance(time.Minute)
	awstest.WaitFor(t, "the stopped task to go", func() bool {
		d := awstest.Call(t, e.c.DescribeTasks, &ecs.DescribeTasksInput{Cluster: aws.String("hour"), Tasks: []string{arn}})
		return len(d.Tasks) == 0 && len(d.Failures) == 1 && aws.ToString(d.Failures[0].Reason) == "MISSING"
	})
}

func TestNoEngineRefusesTasksOnly(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix://"+t.TempDir()+"/no-docker.sock")
	srv, c := start(t)
	awstest.Call(t, c.CreateCluster, &ecs.CreateClusterInput{ClusterName: aws.String("idle")})
	awstest.Call(t, c.RegisterTaskDefinition, web("idle"))
	_, err := c.RunTask(context.Background(), &ecs.RunTaskInput{Cluster: aws.String("idle"), TaskDefinition: aws.String("idle"), LaunchType: types.LaunchTypeFargate,
		NetworkConfiguration: awsvpc(t, srv)})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ServerException", Message: "No Docker engine is reachable"})
	list := awstest.Call(t, c.ListTasks, &ecs.ListTasksInput{Cluster: aws.String("idle")})
	if len(list.TaskArns) != 0 {
		t.Errorf("ListTasks: got %v, want none", list.TaskArns)
	}
}

func TestTaskContainersFindTheEndpoint(t *testing.T) {
	e := newTaskEnv(t, awstest.TaskEndpoint())
	e.cluster(t, "creds")
	e.registerInstance(t, "creds", 1024)
	e.registerEC2(t, "creds", 64, publish8080)
	task := e.run(t, &ecs.RunTaskInput{Cluster: aws.String("creds"), TaskDefinition: aws.String("creds"),
		Overrides: &types.TaskOverride{TaskRoleArn: aws.String("arn:aws:iam::000000000000:role/app"),
			ContainerOverrides: []types.ContainerOverride{{Name: aws.String("main"), Environment: []types.KeyValuePair{{Name: aws.String("STAGE"), Value: aws.String("beta")}}}}}})
	running := e.waitRunning(t, "creds", aws.ToString(task.TaskArn))
	b := running.Containers[0].NetworkBindings[0]
	env := func(name string) string {
		return dockertest.Get(t, bindingURL(b)+"/env?name="+name)
	}
	if got := env("AWS_REGION"); got != "us-east-1" {
		t.Errorf("AWS_REGION: got %q", got)
	}
	if got := env("STAGE"); got != "beta" {
		t.Errorf("STAGE (a container override): got %q", got)
	}
	metadata := env("ECS_CONTAINER_METADATA_URI_V4")
	if metadata == "" {
		// Only one overcast on the machine can serve 169.254.170.2.
		t.Skip("the task endpoint did not start (is 169.254.170.2 taken?): no endpoint variables to check")
	}
	if !strings.HasPrefix(metadata, "http://169.254.170.2") {
		t.Errorf("ECS_CONTAINER_METADATA_URI_V4: got %q", metadata)
	}
	if env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")+env("AWS_CONTAINER_CREDENTIALS_FULL_URI") == "" {
		t.Errorf("a task with a role got no credentials URI")
	}
}

func TestTaskSecretsAndEnvironmentFiles(t *testing.T) {
	e := newTaskEnv(t)
	cfg := e.srv.Config()
	awstest.Call(t, ssm.NewFromConfig(cfg).PutParameter, &ssm.PutParameterInput{Name: aws.String("/app/db-password"), Value: aws.String("hunter2"), Type: ssmtypes.ParameterTypeSecureString})
	secret := awstest.Call(t, secretsmanager.NewFromConfig(cfg).CreateSecret, &secretsmanager.CreateSecretInput{Name: aws.String("app/api"), SecretString: aws.String(`{"token":"t0k3n","port":8443}`)})
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	awstest.Call(t, s3c.CreateBucket, &s3.CreateBucketInput{Bucket: aws.String("config")})
	awstest.Call(t, s3c.PutObject, &s3.PutObjectInput{Bucket: aws.String("config"), Key: aws.String("app.env"),
		Body: strings.NewReader("# settings\nMODE=production\n\nGREETING=hello=world\n")})

	e.cluster(t, "secrets")
	e.registerInstance(t, "secrets", 1024)
	cd := types.ContainerDefinition{Name: aws.String("main"), Image: aws.String(e.image), Memory: aws.Int32(64),
		Secrets: []types.Secret{
			{Name: aws.String("DB_PASSWORD"), ValueFrom: aws.String("/app/db-password")},
			{Name: aws.String("API_TOKEN"), ValueFrom: aws.String(aws.ToString(secret.ARN) + ":token::")},
		},
		EnvironmentFiles: []types.EnvironmentFile{{Type: types.EnvironmentFileTypeS3, Value: aws.String("arn:aws:s3:::config/app.env")}}}
	publish8080(&cd)
	awstest.Call(t, e.c.RegisterTaskDefinition, &ecs.RegisterTaskDefinitionInput{Family: aws.String("secrets"),
		ExecutionRoleArn: e.executionRole(t), ContainerDefinitions: []types.ContainerDefinition{cd}}) // who reads them
	task := e.run(t, &ecs.RunTaskInput{Cluster: aws.String("secrets"), TaskDefinition: aws.String("secrets")})
	running := e.waitRunning(t, "secrets", aws.ToString(task.TaskArn))
	b := running.Containers[0].NetworkBindings[0]
	for name, want := range map[string]string{"DB_PASSWORD": "hunter2", "API_TOKEN": "t0k3n", "MODE": "production", "GREETING": "hello=world"} {
		if got := dockertest.Get(t, bindingURL(b)+"/env?name="+name); got != want {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
}

// The way users run their own images: docker push to ECR, then a task
// definition naming the repository's URI, which the agent pulls.
func TestTaskRunsAnECRImage(t *testing.T) {
	e := newTaskEnv(t)
	e.pushToECR(t, "web", "v1")
	host := e.srv.RegistryHost()

	e.cluster(t, "ecr")
	td := web("from-ecr")
	td.ContainerDefinitions[0].Image = aws.String("000000000000.dkr.ecr.us-east-1.amazonaws.com/web:v1")
	td.ExecutionRoleArn = e.executionRole(t)
	td.ContainerDefinitions[0].PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(8080)}}
	awstest.Call(t, e.c.RegisterTaskDefinition, td)
	arn := aws.ToString(e.run(t, &ecs.RunTaskInput{Cluster: aws.String("ecr"), TaskDefinition: aws.String("from-ecr"), LaunchType: types.LaunchTypeFargate,
		NetworkConfiguration: e.awsvpc(t)}).TaskArn)
	running := e.waitRunning(t, "ecr", arn)
	// The agent pulled the image under the registry's reference: remove it after.
	if cs, err := e.engine.ListContainers(e.ctx, map[string]string{docker.LabelTask: arn}); err == nil {
		for _, c := range cs {
			if strings.HasPrefix(c.Image, host+"/") {
				t.Cleanup(func() { e.engine.RemoveImage(context.Background(), c.Image, true) })
			}
		}
	}
	if running.PullStartedAt == nil || running.PullStoppedAt == nil {
		t.Errorf("pull times: got %v, %v", running.PullStartedAt, running.PullStoppedAt)
	}
	ip := ""
	for _, d := range running.Attachments[0].Details {
		if aws.ToString(d.Name) == "privateIPv4Address" {
			ip = aws.ToString(d.Value)
		}
	}
	wantServes(t, "http://"+ip+":8080/")
	e.stop(t, "ecr", arn)
}

func TestTaskHealth(t *testing.T) {
	e := newTaskEnv(t)
	e.cluster(t, "health")
	e.registerInstance(t, "health", 1024)
	e.registerEC2(t, "health", 64, func(cd *types.ContainerDefinition) {
		cd.HealthCheck = &types.HealthCheck{Command: []string{"CMD", "/app", "get", "http://127.0.0.1:8080/"}, Interval: aws.Int32(5), Retries: aws.Int32(3)}
	})
	arn := aws.ToString(e.run(t, &ecs.RunTaskInput{Cluster: aws.String("health"), TaskDefinition: aws.String("health")}).TaskArn)
	e.waitRunning(t, "health", arn)
	// Docker runs the first check an interval after the start.
	servicetest.WaitForEvery(t, "the task to be HEALTHY", 200*time.Millisecond, time.Minute, func() bool {
		task := e.describe(t, "health", arn)
		return task.HealthStatus == types.HealthStatusHealthy && task.Containers[0].HealthStatus == types.HealthStatusHealthy
	})
}

// An EC2 instance that joins a cluster runs its tasks on its own address.
func TestTaskOnAnEC2Instance(t *testing.T) {
	e := newTaskEnv(t)
	e.cluster(t, "fleet")
	ec2c := ec2.NewFromConfig(awstest.KeepRequestBodies(e.srv.Config()))
	images := awstest.Call(t, ec2c.DescribeImages, &ec2.DescribeImagesInput{Filters: []ec2types.Filter{
		{Name: aws.String("name"), Values: []string{"al2023-ami-ecs-hvm-*"}}, {Name: aws.String("architecture"), Values: []string{"x86_64"}}}})
	if len(images.Images) == 0 {
		t.Fatal("no ECS-optimized x86_64 image")
	}
	userData := base64.StdEncoding.EncodeToString([]byte("#!/bin/bash\necho ECS_CLUSTER=fleet >> /etc/ecs/ecs.config\n"))
	inst := awstest.Call(t, ec2c.RunInstances, &ec2.RunInstancesInput{ImageId: images.Images[0].ImageId, InstanceType: ec2types.InstanceTypeT3Medium,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), UserData: aws.String(userData)}).Instances[0]
	awstest.WaitFor(t, "the instance to join cluster fleet", func() bool {
		return len(awstest.Call(t, e.c.ListContainerInstances, &ecs.ListContainerInstancesInput{Cluster: aws.String("fleet")}).ContainerInstanceArns) == 1
	})
	e.registerEC2(t, "fleet-web", 64, publish8080)
	task := e.run(t, &ecs.RunTaskInput{Cluster: aws.String("fleet"), TaskDefinition: aws.String("fleet-web")})
	running := e.waitRunning(t, "fleet", aws.ToString(task.TaskArn))
	b := running.Containers[0].NetworkBindings[0]
	if got, want := aws.ToString(b.BindIP), aws.ToString(inst.PrivateIpAddress); got != want {
		t.Errorf("binding's address: got %s, want the instance's %s", got, want)
	}
	wantServes(t, bindingURL(b)+"/")
	e.stop(t, "fleet", aws.ToString(task.TaskArn))
	awstest.Call(t, ec2c.TerminateInstances, &ec2.TerminateInstancesInput{InstanceIds: []string{aws.ToString(inst.InstanceId)}})
}

func TestTaskFailsToStart(t *testing.T) {
	e := newTaskEnv(t)
	e.cluster(t, "broken")
	e.registerInstance(t, "broken", 1024)
	tests := []struct {
		family string
		def    ecs.RegisterTaskDefinitionInput
		want   string
	}{
		{"unpullable", ecs.RegisterTaskDefinitionInput{ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("main"),
			Image: aws.String("000000000000.dkr.ecr.us-east-1.amazonaws.com/nope:v1"), Memory: aws.Int32(64)}}},
			"CannotPullContainerError"},
		{"no-execution-role", ecs.RegisterTaskDefinitionInput{ExecutionRoleArn: aws.String("arn:aws:iam::000000000000:role/missing"),
			ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("main"), Image: aws.String(e.image), Memory: aws.Int32(64)}}},
			"ResourceInitializationError: unable to pull secrets or registry auth: unable to assume the execution role arn:aws:iam::000000000000:role/missing"},
	}
	for _, tc := range tests {
		t.Run(tc.family, func(t *testing.T) {
			tc.def.Family = aws.String(tc.family)
			awstest.Call(t, e.c.RegisterTaskDefinition, &tc.def)
			arn := aws.ToString(e.run(t, &ecs.RunTaskInput{Cluster: aws.String("broken"), TaskDefinition: aws.String(tc.family)}).TaskArn)
			stopped := e.waitStopped(t, "broken", arn)
			if stopped.StopCode != types.TaskStopCodeTaskFailedToStart || !strings.Contains(aws.ToString(stopped.StoppedReason), tc.want) {
				t.Errorf("stopped: got code %s reason %q, want %s and %q", stopped.StopCode, aws.ToString(stopped.StoppedReason),
					types.TaskStopCodeTaskFailedToStart, tc.want)
			}
		})
	}
}
