package ecr_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"overcast/internal/awstest"
)

// requireDocker skips without a Docker engine, unless OVERCAST_TEST_DOCKER=1
// says one must be there.
func requireDocker(t *testing.T) {
	t.Helper()
	if err := exec.Command("docker", "version").Run(); err != nil {
		if os.Getenv("OVERCAST_TEST_DOCKER") == "1" {
			t.Fatalf("no Docker engine reachable (docker version: %v) and OVERCAST_TEST_DOCKER=1", err)
		}
		t.Skipf("no Docker engine reachable (docker version: %v); set OVERCAST_TEST_DOCKER=1 to make this a failure", err)
	}
}

// TestDockerPushPullRun is the real client: docker logs in with the
// token, pushes an image built here (a static Go binary imported as a root
// filesystem), forgets it, pulls it back and runs it.
func TestDockerPushPullRun(t *testing.T) {
	requireDocker(t)
	ctx := context.Background()
	e := start(t)
	e.createRepo("docker/hello")
	dir := t.TempDir()
	dockerConfig := filepath.Join(dir, "docker-config") // leave the user's logins alone
	docker := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command("docker", args...)
		cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+dockerConfig)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}

	src := filepath.Join(dir, "src")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "main.go"), []byte("package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello from an ECR image\") }\n"), 0o644)
	os.WriteFile(filepath.Join(src, "go.mod"), []byte("module hello\n\ngo 1.22\n"), 0o644)
	rootfs := filepath.Join(dir, "rootfs")
	build := exec.Command(awstest.GoTool(), "build", "-o", filepath.Join(rootfs, "hello"), ".")
	build.Dir = src
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the test binary: %v\n%s", err, out)
	}
	tarball := filepath.Join(dir, "rootfs.tar")
	if out, err := exec.Command("tar", "-C", rootfs, "-cf", tarball, "hello").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}

	user, password := e.srv.RegistryLogin(t)
	host := e.srv.RegistryHost()
	docker(password, "login", "--username", user, "--password-stdin", host)

	ref := host + "/docker/hello:v1"
	docker("", "import", "-c", `ENTRYPOINT ["/hello"]`, tarball, ref)
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", ref).Run() })
	docker("", "push", ref)
	docker("", "rmi", ref)
	docker("", "pull", ref)
	if out := docker("", "run", "--rm", ref); out != "hello from an ECR image" {
		t.Errorf("docker run: got %q", out)
	}
	d, err := e.c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("docker/hello")})
	if err != nil || len(d.ImageDetails) != 1 || d.ImageDetails[0].ImageTags[0] != "v1" {
		t.Errorf("DescribeImages after docker push: got %+v, %v", d, err)
	}

	// What ECS and CodeBuild will do: overcast's own engine layer pulls the
	// repositoryUri, logging in to its own registry with a token it makes.
	docker("", "rmi", ref)
	engine := e.srv.Main.Docker()
	pulled, err := engine.PullImage(ctx, ref)
	if err != nil {
		t.Fatalf("the engine layer pulling %s: %v", ref, err)
	}
	t.Cleanup(func() { engine.RemoveImage(context.Background(), pulled, true) })
	if ok, err := engine.ImageExists(ctx, pulled); !ok || err != nil {
		t.Errorf("after the engine layer's pull: %s exists %v, %v", pulled, ok, err)
	}
}
