package ecs_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"overcast/internal/awstest"
)

// pushToECR pushes the test image to repository name of the server's
// registry as the account's root, and removes the local copy so that a
// task must pull it.
func (e *taskEnv) pushToECR(t *testing.T, name, tag string) {
	t.Helper()
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("no docker client to push with")
	}
	awstest.Call(t, ecr.NewFromConfig(e.srv.Config()).CreateRepository, &ecr.CreateRepositoryInput{RepositoryName: aws.String(name)})
	host := e.srv.RegistryHost()
	pushed := host + "/" + name + ":" + tag
	t.Cleanup(func() { e.engine.RemoveImage(context.Background(), pushed, true) })
	dockerConfig := t.TempDir() // leave the user's logins alone
	cli := func(stdin string, args ...string) {
		t.Helper()
		cmd := exec.Command("docker", args...)
		cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+dockerConfig)
		cmd.Stdin = strings.NewReader(stdin)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	user, password := e.srv.RegistryLogin(t)
	cli(password, "login", "--username", user, "--password-stdin", host)
	cli("", "tag", e.image, pushed)
	cli("", "push", pushed)
	cli("", "rmi", pushed)
}

// Under --enforce-iam a task's images are pulled as its execution role: a
// role that may not ecr:BatchGetImage the repository fails the task to
// start, as ECS reports it.
func TestExecutionRoleWithoutPullPermission(t *testing.T) {
	e := newTaskEnv(t, awstest.EnforceIAM())
	e.pushToECR(t, "locked", "v1")
	role := e.executionRole(t)
	awstest.Call(t, iam.NewFromConfig(e.srv.Config()).PutRolePolicy, &iam.PutRolePolicyInput{RoleName: aws.String("ecsTaskExecutionRole"),
		PolicyName: aws.String("almost"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
		"Action":["ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer","logs:*"],"Resource":"*"}]}`)})

	e.cluster(t, "locked")
	td := web("locked")
	td.ContainerDefinitions[0].Image = aws.String("000000000000.dkr.ecr.us-east-1.amazonaws.com/locked:v1")
	td.ExecutionRoleArn = role
	awstest.Call(t, e.c.RegisterTaskDefinition, td)
	arn := aws.ToString(e.run(t, &ecs.RunTaskInput{Cluster: aws.String("locked"), TaskDefinition: aws.String("locked"), LaunchType: types.LaunchTypeFargate,
		NetworkConfiguration: e.awsvpc(t)}).TaskArn)
	stopped := e.waitStopped(t, "locked", arn)

	const want = "CannotPullContainerError: pull image manifest has been retried"
	denial := "not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:us-east-1:000000000000:repository/locked"
	reason := aws.ToString(stopped.StoppedReason)
	if stopped.StopCode != types.TaskStopCodeTaskFailedToStart || !strings.HasPrefix(reason, want) || !strings.Contains(reason, denial) {
		t.Errorf("stopped: got code %s reason %q, want %s and %q ... %q", stopped.StopCode, reason, types.TaskStopCodeTaskFailedToStart, want, denial)
	}
	if got := aws.ToString(stopped.Containers[0].Reason); got != reason {
		t.Errorf("container's reason: got %q, want the task's %q", got, reason)
	}
}
