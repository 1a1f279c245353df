package privileged_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"overcast/internal/awstest"
	"overcast/internal/codebuild/buildtest"
	"overcast/internal/codebuild/images"
	"overcast/internal/codebuild/privileged"
	"overcast/internal/codebuild/runner"
	"overcast/internal/docker/dockertest"
)

// TestPrivilegedBuildPushesToECR runs, on AWS's curated image name, a
// privileged build that logs in to overcast's ECR with the aws CLI, builds
// an image with docker and pushes it; the image lands in the repository.
// The same docker command in a build without privileged mode finds no
// engine.
func TestPrivilegedBuildPushesToECR(t *testing.T) {
	e := dockertest.Engine(t)
	srv := awstest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	run := make([]byte, 4)
	rand.Read(run)
	labels := dockertest.Labels(t, e, hex.EncodeToString(run))

	repos := ecr.NewFromConfig(srv.Config())
	repo, err := repos.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("built-in-codebuild")})
	if err != nil {
		t.Fatal(err)
	}
	uri := aws.ToString(repo.Repository.RepositoryUri)
	t.Cleanup(func() { e.RemoveImage(context.Background(), uri+":v1", true) })
	image, note, err := images.New(e, images.Options{}).Resolve(ctx, "aws/codebuild/standard:7.0")
	if err != nil {
		t.Fatal(err)
	}

	build := func(privilegedMode bool, buildspec string) (runner.Result, string) {
		t.Helper()
		b := runner.Build{ID: "push:" + hex.EncodeToString(run), Project: "push", Image: image, ImageNote: note,
			Privileged: privilegedMode, Buildspec: buildspec, Labels: labels, Timeout: 10 * time.Minute,
			// The host's network, to reach the test server's API without the
			// task endpoint (the service's builds use it: see codebuild's
			// TestPrivilegedBuildPushesToECRThroughTheAPI); static keys stand
			// in for the service role.
			Network: "host",
			System: map[string]string{"AWS_ENDPOINT_URL": srv.URL, "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
				"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "REPOSITORY_URI": uri}}
		if err := privileged.Apply(&b, e.Host()); err != nil {
			t.Fatal(err)
		}
		return buildtest.Run(t, ctx, e, b, map[string]string{
			"Dockerfile": "FROM scratch\nCOPY hello.txt /hello.txt\n", "hello.txt": "built in codebuild\n"})
	}

	res, log := build(true, `version: 0.2
phases:
  pre_build:
    commands:
      - aws ecr get-login-password | docker login --username AWS --password-stdin "${REPOSITORY_URI%%/*}"
  build:
    commands:
      - docker build -t "$REPOSITORY_URI:v1" .
  post_build:
    commands:
      - docker push "$REPOSITORY_URI:v1"
`)
	if res.Status != runner.StatusSucceeded {
		t.Fatalf("privileged build: got %s, want SUCCEEDED; phases %+v; log:\n%s", res.Status, res.Phases, log)
	}
	if !strings.Contains(log, images.StandardImage()) {
		t.Errorf("the log does not say which image stood in for the curated one:\n%s", log)
	}
	got, err := repos.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("built-in-codebuild"),
		ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("v1")}}})
	if err != nil || len(got.ImageDetails) != 1 {
		t.Fatalf("DescribeImages of the pushed tag: got %+v, %v", got, err)
	}

	res, log = build(false, "version: 0.2\nphases:\n  build:\n    commands:\n      - docker version\n")
	if res.Status != runner.StatusFailed || !strings.Contains(log, "Cannot connect to the Docker daemon") {
		t.Errorf("unprivileged build: got %s, want FAILED without an engine; log:\n%s", res.Status, log)
	}
}
