package taskendpoint

import (
	"context"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"overcast"
	"overcast/internal/docker"
)

// tasksNetwork is an engine whose tasks' network exists.
type tasksNetwork struct{ Engine }

func (tasksNetwork) InspectNetwork(ctx context.Context, name string) (docker.Network, error) {
	return docker.Network{Name: name, Subnet: Subnet, Gateway: Address}, nil
}

type noRoles struct{}

func (noRoles) TaskRoleCredentials(ctx context.Context, account, principal, roleARN, session string) (overcast.Credentials, error) {
	return overcast.Credentials{}, fmt.Errorf("no roles")
}

const testTaskARN = "arn:aws:ecs:us-east-1:000000000000:task/c/t1"

// startWith starts a server that listens through listen, and returns it
// and the environment of a container of a task with a role.
func startWith(t *testing.T, listen func(network, addr string) (net.Listener, error)) (*Server, map[string]string) {
	t.Helper()
	s := New(Config{Key: []byte("key"), Credentials: noRoles{}, Engine: tasksNetwork{}})
	s.listen = listen
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	envs, err := s.Register(context.Background(), TaskInfo{ARN: testTaskARN, TaskRoleArn: "arn:aws:iam::000000000000:role/r",
		Containers: []ContainerInfo{{Name: "app"}}})
	if err != nil {
		t.Fatal(err)
	}
	return s, envs["app"]
}

// TestFallbackPort is a non-root overcast: port 80 is refused, so the
// endpoint listens on FallbackPort and hands out the full URI.
func TestFallbackPort(t *testing.T) {
	var asked []string
	s, env := startWith(t, func(network, addr string) (net.Listener, error) {
		asked = append(asked, addr)
		if addr == "169.254.170.2:80" {
			return nil, &net.OpError{Op: "listen", Net: network, Err: os.NewSyscallError("bind", syscall.EACCES)}
		}
		return net.Listen(network, "127.0.0.1:0")
	})
	if diff := cmp.Diff([]string{"169.254.170.2:80", "169.254.170.2:51679"}, asked); diff != "" {
		t.Errorf("addresses listened on (-want +got):\n%s", diff)
	}
	credsID := s.id("credentials", testTaskARN)
	want := map[string]string{
		"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.2:51679/v2/credentials/" + credsID,
		"AWS_CONTAINER_AUTHORIZATION_TOKEN":  s.token(credsID),
		"AWS_ENDPOINT_URL":                   "http://169.254.170.2:51679",
		"ECS_CONTAINER_METADATA_URI_V4":      "http://169.254.170.2:51679/v4/" + s.id("metadata", testTaskARN, "app"),
		"ECS_CONTAINER_METADATA_URI":         "http://169.254.170.2:51679/v3/" + s.id("metadata", testTaskARN, "app"),
		"ECS_AGENT_URI":                      "http://169.254.170.2:51679/api/" + s.id("metadata", testTaskARN, "app"),
	}
	if diff := cmp.Diff(want, env); diff != "" {
		t.Errorf("environment (-want +got):\n%s", diff)
	}
}

// TestPort80 is a root overcast: containers get the relative URI the SDKs
// resolve against 169.254.170.2.
func TestPort80(t *testing.T) {
	s, env := startWith(t, func(network, addr string) (net.Listener, error) { return net.Listen(network, "127.0.0.1:0") })
	if got, want := env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"], "/v2/credentials/"+s.id("credentials", testTaskARN); got != want {
		t.Errorf("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: got %q, want %q", got, want)
	}
	if got, want := env["AWS_ENDPOINT_URL"], "http://169.254.170.2"; got != want {
		t.Errorf("AWS_ENDPOINT_URL: got %q, want %q", got, want)
	}
	if _, ok := env["AWS_CONTAINER_CREDENTIALS_FULL_URI"]; ok {
		t.Error("got AWS_CONTAINER_CREDENTIALS_FULL_URI too")
	}
}

// otherBridge is another engine whose default bridge is 10.213.7.0/24.
type otherBridge struct{}

func (otherBridge) InspectNetwork(ctx context.Context, name string) (docker.Network, error) {
	return docker.Network{Name: name, Subnet: "10.213.7.0/24", Gateway: "10.213.7.1"}, nil
}

// TestOtherEnginesTasksAllowed: containers on the default bridges of the
// other engines (--docker-host) are tasks; other sources are not.
func TestOtherEnginesTasksAllowed(t *testing.T) {
	s := New(Config{Key: []byte("key"), Credentials: noRoles{}, Engine: tasksNetwork{}, BridgeEngines: []BridgeEngine{otherBridge{}}})
	s.listen = func(network, addr string) (net.Listener, error) { return net.Listen(network, "127.0.0.1:0") }
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for remote, want := range map[string]bool{"10.213.7.5:40000": true, "169.254.170.9:40000": true, "10.213.8.5:40000": false} {
		if got := s.allowed(remote); got != want {
			t.Errorf("allowed(%s): got %v, want %v", remote, got, want)
		}
	}
}
