package codebuild_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/codebuild"
	"github.com/aws/aws-sdk-go-v2/service/codebuild/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
	"overcast/internal/docker"
	"overcast/internal/docker/dockertest"
	"overcast/internal/service/servicetest"
)

var runID = func() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}()

// buildImage is a busybox image, the shell builds run in (no registry is
// reachable to pull AWS's images from), removed when the test ends.
func buildImage(t *testing.T) string {
	t.Helper()
	engine := dockertest.Engine(t)
	if _, err := dockertest.BusyboxTar(); err != nil {
		if os.Getenv("OVERCAST_TEST_DOCKER") == "1" {
			t.Fatalf("%v; builds need a shell image", err)
		}
		t.Skipf("%v; builds need a shell image", err)
	}
	labels := dockertest.Labels(t, engine, runID)
	ref := "overcast-test/codebuild-service:" + strings.ToLower(labels[docker.LabelTest])
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := dockertest.ImportBusybox(ctx, engine, ref, labels); err != nil {
		t.Fatal(err)
	}
	return ref
}

// waitForBuild waits for the build to complete and returns it.
func waitForBuild(t *testing.T, c *codebuild.Client, id string) types.Build {
	t.Helper()
	var b types.Build
	servicetest.WaitForEvery(t, "build "+id+" to complete", 100*time.Millisecond, 3*time.Minute, func() bool {
		out, err := c.BatchGetBuilds(context.Background(), &codebuild.BatchGetBuildsInput{Ids: []string{id}})
		if err != nil || len(out.Builds) != 1 {
			return false
		}
		b = out.Builds[0]
		return b.BuildComplete
	})
	return b
}

func phases(b types.Build) []string {
	var out []string
	for _, p := range b.Phases {
		out = append(out, string(p.PhaseType)+":"+string(p.PhaseStatus))
	}
	return out
}

// seedBuildspec is the seed: a parameter-store variable, four
// phases, an artifact file and a cache path, and an exported variable.
const seedBuildspec = `version: 0.2
env:
  variables:
    STAGE: test
  parameter-store:
    GREETING: /app/greeting
  exported-variables:
    - BUILT_BY
phases:
  install:
    commands:
      - echo installing
  pre_build:
    commands:
      - echo "$GREETING from $STAGE" > greeting.txt
  build:
    commands:
      - mkdir -p out deps && cp greeting.txt out/ && echo cached > deps/marker
      - export BUILT_BY="build $CODEBUILD_BUILD_NUMBER"
  post_build:
    commands:
      - echo "post_build with CODEBUILD_BUILD_SUCCEEDING=$CODEBUILD_BUILD_SUCCEEDING"
artifacts:
  files:
    - out/greeting.txt
cache:
  paths:
    - deps/**/*
`

func TestSeedBuildEndToEnd(t *testing.T) {
	image := buildImage(t)
	srv := awstest.Start(t)
	cfg := srv.Config()
	c, s3c, ssmc := codebuild.NewFromConfig(cfg), s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }), ssm.NewFromConfig(cfg)
	awstest.Call(t, s3c.CreateBucket, &s3.CreateBucketInput{Bucket: aws.String("artifacts")})
	awstest.Call(t, ssmc.PutParameter, &ssm.PutParameterInput{Name: aws.String("/app/greeting"), Value: aws.String("hello"), Type: ssmtypes.ParameterTypeSecureString})

	in := noSourceProject("seed", seedBuildspec)
	in.Environment.Image = aws.String(image)
	in.Artifacts = &types.ProjectArtifacts{Type: types.ArtifactsTypeS3, Location: aws.String("artifacts"), Name: aws.String("app.zip"),
		Packaging: types.ArtifactPackagingZip}
	in.Cache = &types.ProjectCache{Type: types.CacheTypeS3, Location: aws.String("artifacts/cache")}
	awstest.Call(t, c.CreateProject, in)

	id := aws.ToString(awstest.Call(t, c.StartBuild, &codebuild.StartBuildInput{ProjectName: aws.String("seed")}).Build.Id)
	b := waitForBuild(t, c, id)
	if b.BuildStatus != types.StatusTypeSucceeded {
		t.Fatalf("build status: got %s, want SUCCEEDED; phases %v", b.BuildStatus, phases(b))
	}
	want := []string{"SUBMITTED:SUCCEEDED", "QUEUED:SUCCEEDED", "PROVISIONING:SUCCEEDED", "DOWNLOAD_SOURCE:SUCCEEDED",
		"INSTALL:SUCCEEDED", "PRE_BUILD:SUCCEEDED", "BUILD:SUCCEEDED", "POST_BUILD:SUCCEEDED", "UPLOAD_ARTIFACTS:SUCCEEDED",
		"FINALIZING:SUCCEEDED", "COMPLETED:"}
	if diff := cmp.Diff(want, phases(b)); diff != "" {
		t.Errorf("phases (-want +got):\n%s", diff)
	}
	if got := aws.ToString(b.Artifacts.Location); got != "arn:aws:s3:::artifacts/app.zip" {
		t.Errorf("artifact location: got %q, want arn:aws:s3:::artifacts/app.zip", got)
	}
	if len(b.ExportedEnvironmentVariables) != 1 || aws.ToString(b.ExportedEnvironmentVariables[0].Value) != "build 1" {
		t.Errorf("exported variables: got %+v, want BUILT_BY=build 1", b.ExportedEnvironmentVariables)
	}

	obj := awstest.Call(t, s3c.GetObject, &s3.GetObjectInput{Bucket: aws.String("artifacts"), Key: aws.String("app.zip")})
	body, _ := io.ReadAll(obj.Body)
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("the artifact is not a zip: %v", err)
	}
	var greeting string
	for _, f := range zr.File {
		if f.Name == "out/greeting.txt" {
			rc, _ := f.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			greeting = string(b)
		}
	}
	if greeting != "hello from test\n" {
		t.Errorf("out/greeting.txt in the artifact: got %q, want the parameter's value", greeting)
	}
	caches := awstest.Call(t, s3c.ListObjectsV2, &s3.ListObjectsV2Input{Bucket: aws.String("artifacts"), Prefix: aws.String("cache/")})
	if len(caches.Contents) == 0 {
		t.Errorf("no cache saved under s3://artifacts/cache/")
	}

	logs := cloudwatchlogs.NewFromConfig(cfg)
	events := awstest.Call(t, logs.GetLogEvents, &cloudwatchlogs.GetLogEventsInput{LogGroupName: b.Logs.GroupName,
		LogStreamName: b.Logs.StreamName, StartFromHead: aws.Bool(true)})
	var log strings.Builder
	for _, e := range events.Events {
		log.WriteString(aws.ToString(e.Message) + "\n")
	}
	if !strings.Contains(log.String(), "post_build with CODEBUILD_BUILD_SUCCEEDING=1") {
		t.Errorf("the log in %s/%s lacks post_build's line:\n%s", aws.ToString(b.Logs.GroupName), aws.ToString(b.Logs.StreamName), log.String())
	}
}

// TestFailedBuildNotifiesThroughEventBridge is the seed's "CloudWatch
// Events rule when a build fails": a rule on CodeBuild Build State Change
// with build-status FAILED sends the event to a queue.
func TestFailedBuildNotifiesThroughEventBridge(t *testing.T) {
	image := buildImage(t)
	srv := awstest.Start(t)
	cfg := srv.Config()
	c, eb, q := codebuild.NewFromConfig(cfg), eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)

	url := aws.ToString(awstest.Call(t, q.CreateQueue, &sqs.CreateQueueInput{QueueName: aws.String("build-failures")}).QueueUrl)
	queueARN := "arn:aws:sqs:" + region + ":" + account + ":build-failures"
	ruleARN := aws.ToString(awstest.Call(t, eb.PutRule, &eventbridge.PutRuleInput{Name: aws.String("failed-builds"),
		EventPattern: aws.String(`{"source":["aws.codebuild"],"detail-type":["CodeBuild Build State Change"],"detail":{"build-status":["FAILED"]}}`)}).RuleArn)
	awstest.Call(t, q.SetQueueAttributes, &sqs.SetQueueAttributesInput{QueueUrl: &url, Attributes: map[string]string{"Policy": fmt.Sprintf(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sqs:SendMessage","Resource":%q,"Condition":{"ArnEquals":{"aws:SourceArn":%q}}}]}`,
		queueARN, ruleARN)}})
	awstest.Call(t, eb.PutTargets, &eventbridge.PutTargetsInput{Rule: aws.String("failed-builds"),
		Targets: []ebtypes.Target{{Id: aws.String("queue"), Arn: &queueARN}}})

	in := noSourceProject("broken", "version: 0.2\nphases:\n  build:\n    commands:\n      - echo building\n      - false\n  post_build:\n    commands:\n      - echo \"succeeding=$CODEBUILD_BUILD_SUCCEEDING\"\n")
	in.Environment.Image = aws.String(image)
	awstest.Call(t, c.CreateProject, in)
	id := aws.ToString(awstest.Call(t, c.StartBuild, &codebuild.StartBuildInput{ProjectName: aws.String("broken")}).Build.Id)
	b := waitForBuild(t, c, id)
	if b.BuildStatus != types.StatusTypeFailed {
		t.Fatalf("build status: got %s, want FAILED", b.BuildStatus)
	}
	want := []string{"SUBMITTED:SUCCEEDED", "QUEUED:SUCCEEDED", "PROVISIONING:SUCCEEDED", "DOWNLOAD_SOURCE:SUCCEEDED",
		"INSTALL:SUCCEEDED", "PRE_BUILD:SUCCEEDED", "BUILD:FAILED", "POST_BUILD:SUCCEEDED", "UPLOAD_ARTIFACTS:SUCCEEDED",
		"FINALIZING:SUCCEEDED", "COMPLETED:"}
	if diff := cmp.Diff(want, phases(b)); diff != "" {
		t.Errorf("phases (-want +got):\n%s", diff)
	}
	for _, p := range b.Phases {
		if p.PhaseType == types.BuildPhaseTypeBuild && (len(p.Contexts) == 0 || aws.ToString(p.Contexts[0].StatusCode) != "COMMAND_EXECUTION_ERROR") {
			t.Errorf("BUILD's contexts: got %+v, want COMMAND_EXECUTION_ERROR", p.Contexts)
		}
	}

	var msg string
	servicetest.WaitForEvery(t, "the failure event in the queue", 100*time.Millisecond, 30*time.Second, func() bool {
		out, err := q.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &url})
		if err != nil || len(out.Messages) == 0 {
			return false
		}
		msg = aws.ToString(out.Messages[0].Body)
		return true
	})
	var ev struct {
		DetailType string `json:"detail-type"`
		Source     string `json:"source"`
		Detail     struct {
			Status  string `json:"build-status"`
			Project string `json:"project-name"`
			BuildID string `json:"build-id"`
		} `json:"detail"`
	}
	if err := json.Unmarshal([]byte(msg), &ev); err != nil {
		t.Fatalf("message %q: %v", msg, err)
	}
	if ev.Source != "aws.codebuild" || ev.DetailType != "CodeBuild Build State Change" || ev.Detail.Status != "FAILED" ||
		ev.Detail.Project != "broken" || ev.Detail.BuildID != aws.ToString(b.Arn) {
		t.Errorf("event: got %+v", ev)
	}
}
