package ecs_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"overcast/internal/awstest"
	"overcast/internal/clock"
	"overcast/internal/docker/dockertest"
)

// A task is tagged while it waits for capacity and once it has stopped,
// until it is no longer shown. Its provider can never grow and RunTask
// only asks that an engine answer: the task never gets an instance, so
// no container is made.
func TestTaskTags(t *testing.T) {
	dockertest.Engine(t)
	fake := clock.NewFake(time.Now())
	srv, c := start(t, awstest.Clock(fake))
	provider(t, c, "wait-cp", newGroups(srv).create(t, "wait-asg", "wait", 0, 0), true)
	awstest.Call(t, c.CreateCluster, &ecs.CreateClusterInput{ClusterName: aws.String("wait"), CapacityProviders: []string{"wait-cp"}})
	registerBatch(t, c)
	run := awstest.Call(t, c.RunTask, &ecs.RunTaskInput{Cluster: aws.String("wait"), TaskDefinition: aws.String("batch"),
		CapacityProviderStrategy: []types.CapacityProviderStrategyItem{{CapacityProvider: aws.String("wait-cp")}}, Tags: tagList("team", "web")})
	if len(run.Tasks) != 1 {
		t.Fatalf("RunTask: got %+v", run)
	}
	arn := aws.ToString(run.Tasks[0].TaskArn)
	describe := func() types.Task {
		t.Helper()
		out := awstest.Call(t, c.DescribeTasks, &ecs.DescribeTasksInput{Cluster: aws.String("wait"), Tasks: []string{arn},
			Include: []types.TaskField{types.TaskFieldTags}})
		if len(out.Tasks) != 1 {
			t.Fatalf("DescribeTasks: got %+v", out)
		}
		return out.Tasks[0]
	}
	version := describe().Version
	wantTagging(t, c, arn, func() []types.Tag { return describe().Tags })
	if got := describe(); aws.ToString(got.LastStatus) != "PROVISIONING" || got.Version != version {
		t.Errorf("after tagging: got %s, version %d; want PROVISIONING, version %d (tags are no change of state)",
			aws.ToString(got.LastStatus), got.Version, version)
	}
	out := awstest.Call(t, c.DescribeTasks, &ecs.DescribeTasksInput{Cluster: aws.String("wait"), Tasks: []string{arn}})
	if out.Tasks[0].Tags != nil {
		t.Errorf("DescribeTasks without TAGS: got tags %+v", out.Tasks[0].Tags)
	}

	awstest.Call(t, c.TagResource, &ecs.TagResourceInput{ResourceArn: aws.String(arn), Tags: tagList("team", "web")})
	awstest.Call(t, c.StopTask, &ecs.StopTaskInput{Cluster: aws.String("wait"), Task: aws.String(arn)})
	awstest.WaitFor(t, "the task to stop", func() bool { return aws.ToString(describe().LastStatus) == "STOPPED" })
	wantTagging(t, c, arn, func() []types.Tag { return describe().Tags })

	fake.Advance(time.Hour)
	_, err := c.TagResource(t.Context(), &ecs.TagResourceInput{ResourceArn: aws.String(arn), Tags: tagList("a", "b")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ResourceNotFoundException", Status: 400, Message: "The specified resource could not be found."})
}
