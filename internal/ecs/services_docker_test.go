package ecs_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"overcast/internal/awstest"
	"overcast/internal/docker"
	"overcast/internal/service/servicetest"
)

// serviceEnv is a task environment whose cleanup also removes the
// containers of the services' tasks, which the test does not run itself.
func serviceEnv(t *testing.T, cluster string, opts ...awstest.Option) *taskEnv {
	t.Helper()
	e := newTaskEnv(t, opts...)
	e.cluster(t, cluster)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// By task: another test run on the same engine may have a cluster
		// of the same name.
		for _, desired := range []types.DesiredStatus{types.DesiredStatusRunning, types.DesiredStatusStopped} {
			out, err := e.c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(cluster), DesiredStatus: desired})
			if err != nil {
				t.Errorf("listing the services' tasks: %v", err)
				return
			}
			for _, arn := range out.TaskArns {
				// overcast may be removing some itself: that is no failure.
				if err := e.engine.Purge(ctx, map[string]string{docker.LabelTask: arn}); err != nil && !errors.Is(err, docker.ErrConflict) {
					t.Errorf("removing the containers of %s: %v", arn, err)
				}
			}
		}
	})
	return e
}

// waitStable waits as `aws ecs wait services-stable` does, and then for
// the deployment to have completed (its tasks healthy, the steady state
// reached), which can come later.
func (e *taskEnv) waitStable(t *testing.T, cluster, service string) types.Service {
	t.Helper()
	w := ecs.NewServicesStableWaiter(e.c, func(o *ecs.ServicesStableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 200*time.Millisecond, time.Second
	})
	in := &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{service}}
	err := w.Wait(e.ctx, in, 2*time.Minute)
	for err == nil {
		out, derr := e.c.DescribeServices(e.ctx, in)
		if derr != nil {
			err = derr
			break
		}
		sv := out.Services[0]
		if len(sv.Deployments) == 1 && sv.RunningCount == sv.DesiredCount && sv.Deployments[0].RolloutState == types.DeploymentRolloutStateCompleted {
			return sv
		}
		select {
		case <-e.ctx.Done():
			err = e.ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	if err != nil {
		var events []string
		if out, err := e.c.DescribeServices(context.Background(), in); err == nil && len(out.Services) == 1 {
			for _, ev := range out.Services[0].Events {
				events = append(events, aws.ToString(ev.Message))
			}
		}
		t.Fatalf("waiting for %s to be stable: %v; its events:\n%s", service, err, strings.Join(events, "\n"))
	}
	return types.Service{}
}

// serviceTasks are the ARNs of the service's tasks with desiredStatus.
func (e *taskEnv) serviceTasks(t *testing.T, cluster, service string, desired types.DesiredStatus) []types.Task {
	t.Helper()
	arns := awstest.Call(t, e.c.ListTasks, &ecs.ListTasksInput{Cluster: aws.String(cluster), ServiceName: aws.String(service),
		DesiredStatus: desired}).TaskArns
	if len(arns) == 0 {
		return nil
	}
	return awstest.Call(t, e.c.DescribeTasks, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: arns}).Tasks
}

// healthChecked gives the container a health check, so that its tasks
// count as healthy once it passes rather than 40 s after they run.
func healthChecked(cd *types.ContainerDefinition) {
	cd.HealthCheck = &types.HealthCheck{Command: []string{"CMD", "/app", "get", "http://127.0.0.1:8080/"}, Interval: aws.Int32(5), Retries: aws.Int32(3)}
}

func revisionOf(t types.Task) string {
	arn := aws.ToString(t.TaskDefinitionArn)
	return arn[strings.LastIndex(arn, ":")+1:]
}

// A Fargate service over three subnets: it reaches its desired count
// spread over the zones, replaces a task that stops, rolls to a new
// revision, and drains when deleted.
func TestServiceRollsAndReplacesTasks(t *testing.T) {
	e := serviceEnv(t, "svc")
	td := web("svc-web")
	td.ContainerDefinitions[0].Image = aws.String(e.image)
	td.ContainerDefinitions[0].PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(8080)}}
	healthChecked(&td.ContainerDefinitions[0])
	awstest.Call(t, e.c.RegisterTaskDefinition, td)
	td.ContainerDefinitions[0].Environment = []types.KeyValuePair{{Name: aws.String("REVISION"), Value: aws.String("2")}}
	awstest.Call(t, e.c.RegisterTaskDefinition, td)

	var subnets []string
	for _, sn := range awstest.Call(t, ec2.NewFromConfig(e.srv.Config()).DescribeSubnets, &ec2.DescribeSubnetsInput{}).Subnets {
		subnets = append(subnets, aws.ToString(sn.SubnetId))
	}
	created := awstest.Call(t, e.c.CreateService, &ecs.CreateServiceInput{Cluster: aws.String("svc"), ServiceName: aws.String("web"),
		TaskDefinition: aws.String("svc-web:1"), DesiredCount: aws.Int32(3), LaunchType: types.LaunchTypeFargate,
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: subnets}}}).Service
	if got, want := aws.ToString(created.ServiceArn), arnPrefix+"service/svc/web"; got != want {
		t.Errorf("service ARN: got %s, want %s", got, want)
	}
	stable := e.waitStable(t, "svc", "web")
	if stable.RunningCount != 3 || len(stable.Deployments) != 1 || stable.Deployments[0].RolloutState != types.DeploymentRolloutStateCompleted {
		t.Errorf("stable service: running %d, deployments %+v", stable.RunningCount, stable.Deployments)
	}
	if !slices.ContainsFunc(stable.Events, func(ev types.ServiceEvent) bool {
		return aws.ToString(ev.Message) == "(service web) has reached a steady state."
	}) {
		t.Errorf("events: got %+v, want a steady state", stable.Events)
	}
	tasks := e.serviceTasks(t, "svc", "web", types.DesiredStatusRunning)
	zones := map[string]bool{}
	for _, task := range tasks {
		zones[aws.ToString(task.AvailabilityZone)] = true
		if aws.ToString(task.Group) != "service:web" || !strings.HasPrefix(aws.ToString(task.StartedBy), "ecs-svc/") {
			t.Errorf("task %s: group %q startedBy %q", aws.ToString(task.TaskArn), aws.ToString(task.Group), aws.ToString(task.StartedBy))
		}
	}
	if len(zones) != 3 {
		t.Errorf("the service's tasks run in zones %v, want three", zones)
	}

	// A task that stops is replaced.
	stopped := aws.ToString(tasks[0].TaskArn)
	e.stop(t, "svc", stopped)
	e.waitStable(t, "svc", "web")

	// A new revision rolls out: every running task is of it, the old ones
	// stopped by the scheduler.
	awstest.Call(t, e.c.UpdateService, &ecs.UpdateServiceInput{Cluster: aws.String("svc"), Service: aws.String("web"), TaskDefinition: aws.String("svc-web:2")})
	rolled := e.waitStable(t, "svc", "web")
	if got := aws.ToString(rolled.TaskDefinition); !strings.HasSuffix(got, "svc-web:2") {
		t.Errorf("task definition after the update: %s", got)
	}
	for _, task := range e.serviceTasks(t, "svc", "web", types.DesiredStatusRunning) {
		if revisionOf(task) != "2" {
			t.Errorf("running task %s is of revision %s, want 2", aws.ToString(task.TaskArn), revisionOf(task))
		}
	}
	for _, task := range e.serviceTasks(t, "svc", "web", types.DesiredStatusStopped) {
		if revisionOf(task) == "1" && task.StopCode != types.TaskStopCodeServiceSchedulerInitiated && aws.ToString(task.TaskArn) != stopped {
			t.Errorf("old task %s stopped with %s %q", aws.ToString(task.TaskArn), task.StopCode, aws.ToString(task.StoppedReason))
		}
	}

	// Deleting: refused while scaled, then drained to INACTIVE.
	_, err := e.c.DeleteService(e.ctx, &ecs.DeleteServiceInput{Cluster: aws.String("svc"), Service: aws.String("web")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Message: "The service cannot be stopped while it is scaled above 0."})
	awstest.Call(t, e.c.DeleteService, &ecs.DeleteServiceInput{Cluster: aws.String("svc"), Service: aws.String("web"), Force: aws.Bool(true)})
	w := ecs.NewServicesInactiveWaiter(e.c, func(o *ecs.ServicesInactiveWaiterOptions) { o.MinDelay, o.MaxDelay = 200*time.Millisecond, time.Second })
	if err := w.Wait(e.ctx, &ecs.DescribeServicesInput{Cluster: aws.String("svc"), Services: []string{"web"}}, 2*time.Minute); err != nil {
		t.Fatalf("waiting for the deleted service to be INACTIVE: %v", err)
	}
	if listed := awstest.Call(t, e.c.ListServices, &ecs.ListServicesInput{Cluster: aws.String("svc")}).ServiceArns; len(listed) != 0 {
		t.Errorf("ListServices after the delete: %v", listed)
	}
}

// A revision whose container exits trips the circuit breaker, which rolls
// the service back to the revision that worked.
func TestServiceCircuitBreakerRollsBack(t *testing.T) {
	e := serviceEnv(t, "breaker")
	e.registerInstance(t, "breaker", 4096)
	e.registerEC2(t, "good", 32, func(cd *types.ContainerDefinition) { cd.Command = []string{"serve", ":8080"}; healthChecked(cd) })
	awstest.Call(t, e.c.CreateService, &ecs.CreateServiceInput{Cluster: aws.String("breaker"), ServiceName: aws.String("app"),
		TaskDefinition: aws.String("good"), DesiredCount: aws.Int32(1),
		DeploymentConfiguration: &types.DeploymentConfiguration{
			DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: true, Rollback: true}}})
	good := e.waitStable(t, "breaker", "app")

	e.registerEC2(t, "bad", 32, func(cd *types.ContainerDefinition) { cd.Command = []string{"exit", "1"}; healthChecked(cd) })
	awstest.Call(t, e.c.UpdateService, &ecs.UpdateServiceInput{Cluster: aws.String("breaker"), Service: aws.String("app"), TaskDefinition: aws.String("bad")})
	back := e.waitStable(t, "breaker", "app")
	if got, want := aws.ToString(back.TaskDefinition), aws.ToString(good.TaskDefinition); got != want {
		t.Errorf("after the breaker: task definition %s, want %s", got, want)
	}
	var messages []string
	for _, ev := range back.Events {
		messages = append(messages, aws.ToString(ev.Message))
	}
	joined := strings.Join(messages, "\n")
	for _, want := range []string{"deployment failed: tasks failed to start.", "rolling back to deployment"} {
		if !strings.Contains(joined, want) {
			t.Errorf("events lack %q:\n%s", want, joined)
		}
	}
}

func TestServiceErrors(t *testing.T) {
	e := serviceEnv(t, "bad")
	awstest.Call(t, e.c.RegisterTaskDefinition, web("bad-web"))
	tests := []struct {
		name string
		call func() error
		want awstest.APIError
	}{
		{"unknown task definition", func() error {
			_, err := e.c.CreateService(e.ctx, &ecs.CreateServiceInput{Cluster: aws.String("bad"), ServiceName: aws.String("x"),
				TaskDefinition: aws.String("nope:1"), DesiredCount: aws.Int32(1)})
			return err
		}, awstest.APIError{Code: "ClientException", Message: "TaskDefinition not found."}},
		{"awsvpc without a network", func() error {
			_, err := e.c.CreateService(e.ctx, &ecs.CreateServiceInput{Cluster: aws.String("bad"), ServiceName: aws.String("x"),
				TaskDefinition: aws.String("bad-web"), DesiredCount: aws.Int32(1), LaunchType: types.LaunchTypeFargate})
			return err
		}, awstest.APIError{Code: "InvalidParameterException", Message: "Network Configuration must be provided"}},
		{"update of an unknown service", func() error {
			_, err := e.c.UpdateService(e.ctx, &ecs.UpdateServiceInput{Cluster: aws.String("bad"), Service: aws.String("nope"), DesiredCount: aws.Int32(1)})
			return err
		}, awstest.APIError{Code: "ServiceNotFoundException", Message: "Service not found."}},
		{"unknown cluster", func() error {
			_, err := e.c.DescribeServices(e.ctx, &ecs.DescribeServicesInput{Cluster: aws.String("nope"), Services: []string{"x"}})
			return err
		}, awstest.APIError{Code: "ClusterNotFoundException"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { awstest.WantAPIError(t, tc.call(), tc.want) })
	}
	awstest.Call(t, e.c.CreateService, &ecs.CreateServiceInput{Cluster: aws.String("bad"), ServiceName: aws.String("idle"),
		TaskDefinition: aws.String("bad-web"), DesiredCount: aws.Int32(0), LaunchType: types.LaunchTypeFargate, NetworkConfiguration: e.awsvpc(t)})
	_, err := e.c.UpdateService(e.ctx, &ecs.UpdateServiceInput{Cluster: aws.String("bad"), Service: aws.String("idle"), TaskDefinition: aws.String("nope:3")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ClientException", Message: "TaskDefinition not found."})
	out := awstest.Call(t, e.c.DescribeServices, &ecs.DescribeServicesInput{Cluster: aws.String("bad"), Services: []string{"idle", "missing"}})
	if len(out.Services) != 1 || len(out.Failures) != 1 || aws.ToString(out.Failures[0].Reason) != "MISSING" {
		t.Errorf("DescribeServices idle and missing: %+v", out)
	}
}

// Draining a container instance moves the service's task off it: a
// replacement starts elsewhere before the task there stops.
func TestServiceLeavesDrainingInstance(t *testing.T) {
	e := serviceEnv(t, "drain")
	a := e.registerInstanceIn(t, "drain", "i-0draina", "us-east-1a", 1024)
	b := e.registerInstanceIn(t, "drain", "i-0drainb", "us-east-1b", 1024)
	e.registerEC2(t, "drain-web", 32, func(cd *types.ContainerDefinition) {
		cd.Command = []string{"serve", ":8080"}
		healthChecked(cd)
		publish8080(cd)
	})
	awstest.Call(t, e.c.CreateService, &ecs.CreateServiceInput{Cluster: aws.String("drain"), ServiceName: aws.String("web"),
		TaskDefinition: aws.String("drain-web"), DesiredCount: aws.Int32(1)})
	e.waitStable(t, "drain", "web")
	first := e.serviceTasks(t, "drain", "web", types.DesiredStatusRunning)[0]
	from, to := a, b
	if aws.ToString(first.ContainerInstanceArn) == b {
		from, to = b, a
	}
	awstest.Call(t, e.c.UpdateContainerInstancesState, &ecs.UpdateContainerInstancesStateInput{Cluster: aws.String("drain"),
		ContainerInstances: []string{from}, Status: types.ContainerInstanceStatusDraining})
	servicetest.WaitForEvery(t, "the service's task to move to "+to, 200*time.Millisecond, 2*time.Minute, func() bool {
		tasks := e.serviceTasks(t, "drain", "web", types.DesiredStatusRunning)
		return len(tasks) == 1 && aws.ToString(tasks[0].ContainerInstanceArn) == to && aws.ToString(tasks[0].LastStatus) == "RUNNING"
	})
	if got := e.describe(t, "drain", aws.ToString(first.TaskArn)); got.StopCode != types.TaskStopCodeServiceSchedulerInitiated {
		t.Errorf("the task on the draining instance: stop code %q, want ServiceSchedulerInitiated", got.StopCode)
	}
	e.waitStable(t, "drain", "web")
}

// A DAEMON service runs one task on each active container instance, and
// follows instances joining and leaving.
func TestDaemonServiceFollowsInstances(t *testing.T) {
	e := serviceEnv(t, "daemon")
	e.registerInstanceIn(t, "daemon", "i-0daemona", "us-east-1a", 1024)
	b := e.registerInstanceIn(t, "daemon", "i-0daemonb", "us-east-1b", 1024)
	e.registerEC2(t, "agent", 32, func(cd *types.ContainerDefinition) { cd.Command = []string{"serve", ":8080"}; healthChecked(cd) })
	awstest.Call(t, e.c.CreateService, &ecs.CreateServiceInput{Cluster: aws.String("daemon"), ServiceName: aws.String("agent"),
		TaskDefinition: aws.String("agent"), SchedulingStrategy: types.SchedulingStrategyDaemon})
	onEach := func(want int) {
		t.Helper()
		servicetest.WaitForEvery(t, fmt.Sprintf("one running task on each of %d instances", want), 200*time.Millisecond, 2*time.Minute, func() bool {
			hosts := map[string]bool{}
			for _, task := range e.serviceTasks(t, "daemon", "agent", types.DesiredStatusRunning) {
				if aws.ToString(task.LastStatus) == "RUNNING" {
					hosts[aws.ToString(task.ContainerInstanceArn)] = true
				}
			}
			return len(hosts) == want
		})
	}
	onEach(2)
	e.registerInstanceIn(t, "daemon", "i-0daemonc", "us-east-1c", 1024)
	onEach(3)
	awstest.Call(t, e.c.UpdateContainerInstancesState, &ecs.UpdateContainerInstancesStateInput{Cluster: aws.String("daemon"),
		ContainerInstances: []string{b}, Status: types.ContainerInstanceStatusDraining})
	onEach(2)
	if sv := e.waitStable(t, "daemon", "agent"); sv.DesiredCount != 2 {
		t.Errorf("desired count after the drain: got %d, want 2", sv.DesiredCount)
	}
}

// A task under scale-in protection stays when its service scales in, with
// ECS's event, until the protection ends.
func TestTaskProtectionHoldsScaleIn(t *testing.T) {
	e := serviceEnv(t, "guarded")
	td := web("guarded-web")
	td.ContainerDefinitions[0].Image = aws.String(e.image)
	awstest.Call(t, e.c.RegisterTaskDefinition, td)
	var subnets []string
	for _, sn := range awstest.Call(t, ec2.NewFromConfig(e.srv.Config()).DescribeSubnets, &ec2.DescribeSubnetsInput{}).Subnets {
		subnets = append(subnets, aws.ToString(sn.SubnetId))
	}
	awstest.Call(t, e.c.CreateService, &ecs.CreateServiceInput{Cluster: aws.String("guarded"), ServiceName: aws.String("web"),
		TaskDefinition: aws.String("guarded-web"), DesiredCount: aws.Int32(2), LaunchType: types.LaunchTypeFargate,
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: subnets}}})
	e.waitStable(t, "guarded", "web")
	tasks := e.serviceTasks(t, "guarded", "web", types.DesiredStatusRunning)
	keep := aws.ToString(tasks[0].TaskArn)

	missing := arnPrefix + "task/guarded/0123456789abcdef0123456789abcdef"
	out := awstest.Call(t, e.c.UpdateTaskProtection, &ecs.UpdateTaskProtectionInput{Cluster: aws.String("guarded"), Tasks: []string{keep, missing},
		ProtectionEnabled: true, ExpiresInMinutes: aws.Int32(60)})
	if len(out.ProtectedTasks) != 1 || !out.ProtectedTasks[0].ProtectionEnabled || out.ProtectedTasks[0].ExpirationDate == nil ||
		len(out.Failures) != 1 || aws.ToString(out.Failures[0].Reason) != "MISSING" {
		t.Fatalf("UpdateTaskProtection: got %+v, failures %+v", out.ProtectedTasks, out.Failures)
	}
	awstest.Call(t, e.c.UpdateService, &ecs.UpdateServiceInput{Cluster: aws.String("guarded"), Service: aws.String("web"), DesiredCount: aws.Int32(0)})
	awstest.WaitFor(t, "the unprotected task stopped and ECS said why the other stays", func() bool {
		running := e.serviceTasks(t, "guarded", "web", types.DesiredStatusRunning)
		sv := awstest.Call(t, e.c.DescribeServices, &ecs.DescribeServicesInput{Cluster: aws.String("guarded"), Services: []string{"web"}}).Services[0]
		return len(running) == 1 && aws.ToString(running[0].TaskArn) == keep && len(sv.Events) > 0 &&
			aws.ToString(sv.Events[0].Message) == "(service web) was unable to scale in due to (reason: 1 tasks under protection)."
	})
	got := awstest.Call(t, e.c.GetTaskProtection, &ecs.GetTaskProtectionInput{Cluster: aws.String("guarded"), Tasks: []string{keep}})
	if len(got.ProtectedTasks) != 1 || !got.ProtectedTasks[0].ProtectionEnabled {
		t.Errorf("GetTaskProtection: got %+v, want the task protected", got.ProtectedTasks)
	}
	awstest.Call(t, e.c.UpdateTaskProtection, &ecs.UpdateTaskProtectionInput{Cluster: aws.String("guarded"), Tasks: []string{keep},
		ProtectionEnabled: false})
	awstest.WaitFor(t, "the task stopped once unprotected", func() bool {
		return len(e.serviceTasks(t, "guarded", "web", types.DesiredStatusRunning)) == 0
	})
}
