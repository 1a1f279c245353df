package taskendpoint_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"overcast"
	"overcast/internal/awstest"
	"overcast/internal/docker"
	"overcast/internal/ecs/taskendpoint"
)

// stsRoles issues task role credentials through STS's AssumeRole, as
// overcast's own adapter does with the service principal.
type stsRoles struct{ client *sts.Client }

func (r stsRoles) TaskRoleCredentials(ctx context.Context, account, principal, roleARN, session string) (overcast.Credentials, error) {
	out, err := r.client.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: &roleARN, RoleSessionName: &session})
	if err != nil {
		return overcast.Credentials{}, err
	}
	c := out.Credentials
	return overcast.Credentials{SecretAccessKey: aws.ToString(c.SecretAccessKey), SessionToken: aws.ToString(c.SessionToken),
		Expires: aws.ToTime(c.Expiration), Caller: overcast.Caller{AccessKeyID: aws.ToString(c.AccessKeyId)}}, nil
}

// dockerEngine connects to the engine, skipping without one unless
// OVERCAST_TEST_DOCKER=1 says one must be there.
func dockerEngine(t *testing.T) *docker.Engine {
	t.Helper()
	e, err := docker.New(docker.Options{})
	if err == nil {
		t.Cleanup(func() { e.Close() })
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = e.Ping(ctx)
	}
	switch {
	case err == nil:
		return e
	case os.Getenv("OVERCAST_TEST_DOCKER") == "1":
		t.Fatalf("no Docker engine (%v) and OVERCAST_TEST_DOCKER=1", err)
	}
	t.Skipf("no Docker engine (%v); set OVERCAST_TEST_DOCKER=1 to make this a failure", err)
	return nil
}

// TestTaskRoleInContainer is a task's view: a container on the tasks'
// network reads its credentials and metadata from 169.254.170.2 and, with
// the SDK's container credentials provider, calls STS on the injected
// endpoint as the task role's session.
func TestTaskRoleInContainer(t *testing.T) {
	e := dockerEngine(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	run := randomHex(4)
	labels := map[string]string{docker.LabelTest: "taskendpoint-" + run}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := e.Purge(ctx, labels); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})

	// Overcast itself, with a task role.
	api := awstest.Start(t)
	role, err := iam.NewFromConfig(api.Config()).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("task-app"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	target, _ := url.Parse(api.URL)

	// The tasks' network: overcast's own when one runs here, else one of
	// the test's (a second network cannot take the same subnet).
	network := taskendpoint.NetworkName
	if _, err := e.InspectNetwork(ctx, network); errors.Is(err, docker.ErrNotFound) {
		network += "-test-" + run
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := e.RemoveNetwork(ctx, network); err != nil {
				t.Errorf("removing network %s: %v", network, err)
			}
		})
	}
	srv := taskendpoint.New(taskendpoint.Config{Key: []byte(run), Credentials: stsRoles{sts.NewFromConfig(api.Config())},
		API: httputil.NewSingleHostReverseProxy(target), Engine: e, Network: network})
	// The ECS package's tests, run in parallel, serve the address too.
	awstest.HoldTaskEndpointAddress(t)
	if err := srv.Start(ctx); errors.Is(err, syscall.EADDRINUSE) {
		// A running overcast (not a test) serves it.
		t.Skipf("%s is served by another process: %v", taskendpoint.Address, err)
	} else if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	info := testTask()
	info.TaskRoleArn, info.Account, info.Containers = aws.ToString(role.Role.Arn), "000000000000", info.Containers[:1]
	envs, err := srv.Register(ctx, info)
	if err != nil {
		t.Fatal(err)
	}
	image := "overcast-test/taskapp:" + run
	if _, err := e.ImportImage(ctx, "ecs-test", bytes.NewReader(rootfs(t, buildTaskApp(t))), image,
		docker.ImageConfig{Entrypoint: []string{"/app"}, Labels: labels}); err != nil {
		t.Fatal(err)
	}
	// A task container, on the tasks' network (the engine's default).
	code, out := runContainer(ctx, t, e, docker.ContainerSpec{Owner: "ecs-test", Labels: labels, Image: image,
		Env: envs["app"], NetworkMode: srv.Network()})
	if code != 0 {
		t.Fatalf("task container: exit %d\n%s", code, out)
	}
	for _, want := range []string{
		`credentials: {"RoleArn":"arn:aws:iam::000000000000:role/task-app","AccessKeyId":"ASIA`,
		"task: " + taskARN,
		"identity: arn:aws:sts::000000000000:assumed-role/task-app/0123456789abcdef0123456789abcdef",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("container output lacks %q:\n%s", want, out)
		}
	}
	// Another container, on a network of its own, is refused even with
	// the task's variables.
	other := "overcast-test-other-" + run
	if _, err := e.CreateNetwork(ctx, docker.NetworkSpec{Name: other, Owner: "ecs-test", Labels: labels}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.RemoveNetwork(context.WithoutCancel(ctx), other) })
	code, out = runContainer(ctx, t, e, docker.ContainerSpec{Owner: "ecs-test", Labels: labels, Image: image, Env: envs["app"], NetworkMode: other})
	if code == 0 || strings.Contains(out, "credentials: {") {
		t.Errorf("a container off the tasks' network: exit %d, want a failure to get credentials\n%s", code, out)
	}
	t.Logf("a container off the tasks' network: %s", out)
	if _, ok := envs["app"]["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]; !ok {
		t.Logf("port 80 was not available: the container used AWS_CONTAINER_CREDENTIALS_FULL_URI (%s)", srv.BaseURL())
	}
}

// runContainer runs a container to its end and returns its exit code and
// output.
func runContainer(ctx context.Context, t *testing.T, e *docker.Engine, spec docker.ContainerSpec) (int, string) {
	t.Helper()
	id, err := e.CreateContainer(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	code, err := e.WaitContainer(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := e.Logs(ctx, id, docker.LogsOptions{Stdout: &out, Stderr: &out}); err != nil {
		t.Fatal(err)
	}
	return code, out.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// buildTaskApp builds testdata/taskapp as a static Linux binary.
func buildTaskApp(t *testing.T) []byte {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "app")
	build := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./testdata/taskapp")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building testdata/taskapp: %v\n%s", err, out)
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rootfs is a root filesystem of one executable, /app.
func rootfs(t *testing.T, program []byte) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "app", Mode: 0o755, Size: int64(len(program)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	tw.Write(program)
	tw.Close()
	return buf.Bytes()
}
