package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codebuild"
	"github.com/aws/aws-sdk-go-v2/service/codebuild/types"
)

// startToFirstCommand measures what a user of the API sees: from sending
// StartBuild to an `overcast up` to the build's first buildspec command
// running in its container. That command calls back to a listener of this
// process (through the container's default gateway, the host), so the
// figure does not depend on how fast the log reaches CloudWatch Logs.
func startToFirstCommand(ctx context.Context, image string, rounds int) ([]time.Duration, error) {
	tmp, err := os.MkdirTemp("", "bench-codebuild-api-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "overcast")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/overcast").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build: %v: %s", err, out)
	}
	host, err := freeAddr()
	if err != nil {
		return nil, err
	}
	up := exec.Command(bin, "up", "--addr", host, "--data-dir", filepath.Join(tmp, "data"))
	if err := up.Start(); err != nil {
		return nil, err
	}
	defer func() { up.Process.Kill(); up.Wait() }()
	if err := waitHealthy("http://" + host + "/_overcast/health"); err != nil {
		return nil, err
	}

	// The callback: every request is one build's first command.
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	arrived := make(chan time.Time, 1)
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- time.Now()
	}))
	port := ln.Addr().(*net.TCPAddr).Port

	client := codebuild.New(codebuild.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://" + host),
		Credentials: credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "secret", "")})
	spec := fmt.Sprintf("version: 0.2\nphases:\n  build:\n    commands:\n"+
		"      - wget -q -O /dev/null http://$(route -n | awk '$1==\"0.0.0.0\"{print $2}'):%d/\n", port)
	_, err = client.CreateProject(ctx, &codebuild.CreateProjectInput{Name: aws.String("bench"),
		Source:      &types.ProjectSource{Type: types.SourceTypeNoSource, Buildspec: aws.String(spec)},
		Artifacts:   &types.ProjectArtifacts{Type: types.ArtifactsTypeNoArtifacts},
		Environment: &types.ProjectEnvironment{Type: types.EnvironmentTypeLinuxContainer, ComputeType: types.ComputeTypeBuildGeneral1Small, Image: aws.String(image)},
		ServiceRole: aws.String("arn:aws:iam::000000000000:role/bench")})
	if err != nil {
		return nil, err
	}
	var out []time.Duration
	for range rounds {
		start := time.Now()
		b, err := client.StartBuild(ctx, &codebuild.StartBuildInput{ProjectName: aws.String("bench")})
		if err != nil {
			return nil, err
		}
		select {
		case at := <-arrived:
			out = append(out, at.Sub(start))
		case <-time.After(2 * time.Minute):
			return nil, fmt.Errorf("build %s: its first command never called back", aws.ToString(b.Build.Id))
		}
		if err := waitBuilt(ctx, client, aws.ToString(b.Build.Id)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// waitBuilt waits for a build to end, so rounds do not overlap.
func waitBuilt(ctx context.Context, client *codebuild.Client, id string) error {
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		out, err := client.BatchGetBuilds(ctx, &codebuild.BatchGetBuildsInput{Ids: []string{id}})
		if err != nil {
			return err
		}
		if len(out.Builds) == 1 && out.Builds[0].BuildComplete {
			if s := out.Builds[0].BuildStatus; s != types.StatusTypeSucceeded {
				return fmt.Errorf("build %s: %s", id, s)
			}
			return nil
		}
	}
	return fmt.Errorf("build %s did not end", id)
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func waitHealthy(url string) error {
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("%s never answered 200", url)
}
