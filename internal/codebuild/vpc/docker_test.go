package vpc_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"overcast/internal/codebuild/vpc"
	"overcast/internal/docker"
	"overcast/internal/docker/dockertest"
	"overcast/internal/service/servicetest"
)

// TestLinkReachesTheVPCOnly runs two containers on the default bridge and
// links one of them to a "VPC" holding a server on the host's loopback:
// the linked one gets the server's answer at the server's own address, the
// other cannot connect; a server outside the range stays out of reach of
// both.
func TestLinkReachesTheVPCOnly(t *testing.T) {
	e := dockertest.Engine(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	run := randomHex(4)
	labels := dockertest.Labels(t, e, run)
	image := "overcast-test/vpc-" + run
	if err := dockertest.ImportApp(ctx, e, image, nil, labels); err != nil {
		t.Fatal(err)
	}

	// The VPC is one random address of 127.250/16 and the server's port
	// the kernel's choice: no other test's listener falls in it.
	b := make([]byte, 2)
	rand.Read(b)
	inside := serve(t, fmt.Sprintf("127.250.%d.%d:0", b[0], b[1]|1), "in the vpc")
	outside := serve(t, "127.0.0.1:0", "outside")
	cidr := netip.PrefixFrom(inside.Addr(), 32)

	linked, plain := start(t, ctx, e, image, labels), start(t, ctx, e, image, labels)
	c, err := e.InspectContainer(ctx, linked)
	if err != nil {
		t.Fatal(err)
	}
	link, err := vpc.Attach(c.State.Pid, cidr, vpc.LinkOptions{Interval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer link.Close()

	if got, code := get(t, ctx, e, linked, inside); code != 0 || got != "in the vpc" {
		t.Errorf("linked container: got %q (exit %d), want the VPC server's answer", got, code)
	}
	// A server that starts in the VPC during the build becomes reachable,
	// and one that stops is no longer linked.
	later, stopLater := serveStoppable(t, netip.AddrPortFrom(inside.Addr(), 0).String(), "started later")
	servicetest.WaitFor(t, "the later server through the link", func() bool {
		got, code := get(t, ctx, e, linked, later)
		return code == 0 && got == "started later"
	})
	stopLater()
	servicetest.WaitFor(t, "the stopped server's address to be unlinked", func() bool {
		got, code := get(t, ctx, e, linked, later)
		return code != 0 && strings.Contains(got, "connection refused")
	})

	for _, tt := range []struct {
		container, name string
		target          netip.AddrPort
	}{{plain, "unlinked container, VPC server", inside}, {linked, "linked container, server outside the VPC", outside}} {
		if got, code := get(t, ctx, e, tt.container, tt.target); code == 0 || !strings.Contains(got, "connection refused") {
			t.Errorf("%s: got %q (exit %d), want connection refused", tt.name, got, code)
		}
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func serve(t *testing.T, addr, body string) netip.AddrPort {
	t.Helper()
	ap, stop := serveStoppable(t, addr, body)
	t.Cleanup(stop)
	return ap
}

// serveStoppable serves body on addr until stop.
func serveStoppable(t *testing.T, addr, body string) (netip.AddrPort, func()) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, body) })}
	go srv.Serve(ln)
	return netip.MustParseAddrPort(ln.Addr().String()), func() { srv.Close() }
}

func start(t *testing.T, ctx context.Context, e *docker.Engine, image string, labels map[string]string) string {
	t.Helper()
	id, err := e.CreateContainer(ctx, docker.ContainerSpec{Owner: "codebuild", Labels: labels, Image: image, Cmd: []string{"sleep"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	return id
}

// get runs the test app's get in the container and returns what it printed.
func get(t *testing.T, ctx context.Context, e *docker.Engine, id string, target netip.AddrPort) (string, int) {
	t.Helper()
	r, err := e.Exec(ctx, id, docker.ExecSpec{Cmd: []string{"/app", "get", "http://" + target.String() + "/"}})
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(r.Stdout) + string(r.Stderr)), r.ExitCode
}
