package docker_test

// Integration tests against the real engine at DOCKER_HOST. Nothing is
// pulled from anywhere: every image is made here from testdata/testapp.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"overcast/internal/docker"
	"overcast/internal/docker/dockertest"
)

func TestVersion(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	v, err := e.Version(testCtx(t))
	if err != nil {
		t.Fatalf("Version: %v", err)
	}
	if v.APIVersion == "" || v.EngineVersion == "" || v.OS != "linux" || v.Arch == "" {
		t.Errorf("Version: got %+v, want API and engine versions on linux", v)
	}
	if compareVersions(v.APIVersion, v.EngineAPIVersion) > 0 {
		t.Errorf("APIVersion %s is above the engine's %s: not negotiated down", v.APIVersion, v.EngineAPIVersion)
	}
	if !e.Reachable(testCtx(t)) {
		t.Errorf("Reachable: got false, want true")
	}
}

// compareVersions compares "1.41" and "1.57" numerically.
func compareVersions(a, b string) int {
	var amaj, amin, bmaj, bmin int
	fmt.Sscanf(a, "%d.%d", &amaj, &amin)
	fmt.Sscanf(b, "%d.%d", &bmaj, &bmin)
	if amaj != bmaj {
		return amaj - bmaj
	}
	return amin - bmin
}

func TestImportInspectTagRemove(t *testing.T) {
	e, ctx, labels := engineTest(t)
	ref := "overcast-test/import:" + runID
	id, err := e.ImportImage(ctx, testOwner, bytes.NewReader(rootfsTar(appBinary(t), "import")), ref, docker.ImageConfig{
		Entrypoint:   []string{"/app"},
		Cmd:          []string{"exit", "0"},
		Env:          map[string]string{"GREETING": `say "hi" for $5`, "EMPTY": ""},
		WorkingDir:   "/work",
		User:         "1000:1000",
		Labels:       merge(labels, map[string]string{"quoted": `a "b" $c`}),
		ExposedPorts: []string{"8080", "53/udp"},
	})
	if err != nil {
		t.Fatalf("ImportImage: %v", err)
	}
	img, err := e.InspectImage(ctx, ref)
	if err != nil {
		t.Fatalf("InspectImage: %v", err)
	}
	if img.ID != id {
		t.Errorf("ID: got %s, want %s (from ImportImage)", img.ID, id)
	}
	got := docker.Image{Entrypoint: img.Entrypoint, Cmd: img.Cmd, Env: img.Env, WorkingDir: img.WorkingDir, User: img.User, Labels: img.Labels, ExposedPorts: img.ExposedPorts, RepoTags: img.RepoTags}
	want := docker.Image{
		Entrypoint:   []string{"/app"},
		Cmd:          []string{"exit", "0"},
		Env:          []string{"EMPTY=", `GREETING=say "hi" for $5`},
		WorkingDir:   "/work",
		User:         "1000:1000",
		Labels:       docker.ManagedLabels(testOwner, merge(labels, map[string]string{"quoted": `a "b" $c`})),
		ExposedPorts: []string{"53/udp", "8080/tcp"},
		RepoTags:     []string{ref},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("InspectImage (-want +got):\n%s", diff)
	}

	other := "overcast-test/import-tag:" + runID
	if err := e.TagImage(ctx, ref, other); err != nil {
		t.Fatalf("TagImage: %v", err)
	}
	if ok, err := e.ImageExists(ctx, other); !ok || err != nil {
		t.Errorf("ImageExists(%s) after TagImage: got %v, %v, want true", other, ok, err)
	}
	if err := e.RemoveImage(ctx, other, false); err != nil {
		t.Fatalf("RemoveImage: %v", err)
	}
	if ok, err := e.ImageExists(ctx, other); ok || err != nil {
		t.Errorf("ImageExists(%s) after RemoveImage: got %v, %v, want false", other, ok, err)
	}
	if ok, _ := e.ImageExists(ctx, ref); !ok {
		t.Errorf("RemoveImage of one tag removed the other")
	}
	if _, err := e.InspectImage(ctx, other); !errors.Is(err, docker.ErrNotFound) {
		t.Errorf("InspectImage of a removed tag: got %v, want ErrNotFound", err)
	}
	imgs, err := e.ListImages(ctx, labels)
	if err != nil || len(imgs) != 1 || imgs[0].ID != id {
		t.Errorf("ListImages by label: got %+v, %v, want the one image %s", imgs, err, id)
	}
}

func TestBuild(t *testing.T) {
	e, ctx, labels := engineTest(t)
	dir := t.TempDir()
	dockerfile := `FROM scratch AS base
COPY app /app
ARG FLAVOUR=plain
LABEL flavour=$FLAVOUR
ENTRYPOINT ["/app"]

FROM base AS final
COPY greeting.txt /greeting.txt
CMD ["cat", "/greeting.txt"]
`
	for name, content := range map[string][]byte{"Dockerfile": []byte(dockerfile), "app": appBinary(t), "greeting.txt": []byte("built here\n")} {
		mode := os.FileMode(0o644)
		if name == "app" {
			mode = 0o755
		}
		if err := os.WriteFile(filepath.Join(dir, name), content, mode); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("directory", func(t *testing.T) {
		var out strings.Builder
		ref := "overcast-test/build:" + runID
		id, err := e.Build(ctx, docker.BuildSpec{
			Owner:      testOwner,
			ContextDir: dir,
			Tags:       []string{ref},
			Args:       map[string]string{"FLAVOUR": "spicy"},
			Labels:     labels,
			Output:     &out,
		})
		if err != nil {
			t.Fatalf("Build: %v\n%s", err, out.String())
		}
		if !strings.Contains(out.String(), "Step 1/") {
			t.Errorf("build output: got %q, want the engine's steps", out.String())
		}
		img, err := e.InspectImage(ctx, ref)
		if err != nil || img.ID != id {
			t.Fatalf("InspectImage: got %+v, %v, want ID %s", img, err, id)
		}
		if img.Labels["flavour"] != "spicy" || img.Labels[docker.LabelOwner] != testOwner {
			t.Errorf("labels: got %v, want flavour=spicy (build arg) and the owner label", img.Labels)
		}
		// The final stage runs: its CMD cats the file only it has.
		c := run(t, e, labels, docker.ContainerSpec{Image: ref})
		if code, err := e.WaitContainer(ctx, c); code != 0 || err != nil {
			t.Fatalf("WaitContainer: got %d, %v, want 0", code, err)
		}
		if got := logs(t, e, c).stdout; got != "built here\n" {
			t.Errorf("output: got %q, want %q", got, "built here\n")
		}
	})

	t.Run("stream with target", func(t *testing.T) {
		files := map[string][]byte{}
		for _, name := range []string{"Dockerfile", "app", "greeting.txt"} {
			b, _ := os.ReadFile(filepath.Join(dir, name))
			files[name] = b
		}
		ref := "overcast-test/build-base:" + runID
		_, err := e.Build(ctx, docker.BuildSpec{
			Owner:   testOwner,
			Context: strings.NewReader(string(tarOf(files))),
			Tags:    []string{ref},
			Target:  "base",
			Labels:  labels,
		})
		if err != nil {
			t.Fatalf("Build: %v", err)
		}
		img, err := e.InspectImage(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		if img.Cmd != nil || img.Labels["flavour"] != "plain" {
			t.Errorf("target base: got Cmd %q, flavour %q, want no Cmd and the default flavour", img.Cmd, img.Labels["flavour"])
		}
	})

	t.Run("failing step", func(t *testing.T) {
		var out strings.Builder
		_, err := e.Build(ctx, docker.BuildSpec{
			Owner:   testOwner,
			Context: strings.NewReader(string(tarOf(map[string][]byte{"Dockerfile": []byte("FROM scratch\nCOPY missing.txt /\n")}))),
			Labels:  labels,
			Output:  &out,
		})
		if !errors.Is(err, docker.ErrBuildFailed) || !strings.Contains(err.Error(), "missing.txt") {
			t.Errorf("Build: got %v, want ErrBuildFailed naming missing.txt", err)
		}
		if !strings.Contains(out.String(), "COPY missing.txt") {
			t.Errorf("build output: got %q, want the steps up to the failure", out.String())
		}
	})
}

// output is a container's logs by stream.
type output struct{ stdout, stderr string }

func logs(t testing.TB, e *docker.Engine, id string) output {
	t.Helper()
	var out, errs strings.Builder
	if err := e.Logs(testCtx(t), id, docker.LogsOptions{Stdout: &out, Stderr: &errs}); err != nil {
		t.Fatalf("Logs: %v", err)
	}
	return output{out.String(), errs.String()}
}

// TestServePublished runs the HTTP server on an ephemeral host port and
// talks to it from here, as a user's curl would.
func TestServePublished(t *testing.T) {
	e, ctx, labels := engineTest(t)
	id := run(t, e, labels, docker.ContainerSpec{
		Name:        "overcast-test-serve-" + runID,
		Env:         map[string]string{"GREETING": "hello, host"},
		Ports:       []docker.PortBinding{{ContainerPort: 8080, HostIP: "127.0.0.1"}},
		MemoryBytes: 64 << 20,
		CPUShares:   256,
	})
	c, err := e.InspectContainer(ctx, id)
	if err != nil {
		t.Fatalf("InspectContainer: %v", err)
	}
	if !c.State.Running || c.State.Status != "running" || c.State.StartedAt.IsZero() || c.Name != "overcast-test-serve-"+runID {
		t.Errorf("state: got %+v named %q, want running", c.State, c.Name)
	}
	if len(c.Ports) != 1 || c.Ports[0].HostIP != "127.0.0.1" || c.Ports[0].HostPort == 0 || c.Ports[0].ContainerPort != 8080 || c.Ports[0].Protocol != "tcp" {
		t.Fatalf("ports: got %+v, want 8080/tcp on 127.0.0.1:<ephemeral>", c.Ports)
	}
	if ip := c.Networks["bridge"].IPAddress; ip == "" {
		t.Errorf("networks: got %+v, want an address on the default bridge", c.Networks)
	}

	url := fmt.Sprintf("http://127.0.0.1:%d/env?name=GREETING", c.Ports[0].HostPort)
	if body := dockertest.Get(t, url); body != "hello, host" {
		t.Errorf("GET %s: got %q, want %q", url, body, "hello, host")
	}

	s, err := e.ContainerStats(ctx, id)
	if err != nil {
		t.Fatalf("ContainerStats: %v", err)
	}
	if s.MemoryLimitBytes != 64<<20 || s.MemoryBytes == 0 || s.CPUNanos == 0 || s.PIDs == 0 || len(s.Raw) == 0 {
		t.Errorf("ContainerStats: got %+v, want 64 MiB limit and some memory, CPU and PIDs", s)
	}

	if err := e.StopContainer(ctx, id, 5*time.Second); err != nil {
		t.Fatalf("StopContainer: %v", err)
	}
	if code, err := e.WaitContainer(ctx, id); code != 3 || err != nil {
		t.Errorf("WaitContainer after stop: got %d, %v, want 3 (the app's SIGTERM exit)", code, err)
	}
	c, _ = e.InspectContainer(ctx, id)
	if c.State.Running || c.State.Status != "exited" || c.State.ExitCode != 3 || c.State.FinishedAt.Before(c.State.StartedAt) {
		t.Errorf("state after stop: got %+v, want exited with 3", c.State)
	}
	if err := e.StopContainer(ctx, id, time.Second); err != nil {
		t.Errorf("StopContainer of a stopped container: got %v, want nil", err)
	}
}

func TestExec(t *testing.T) {
	e, ctx, labels := engineTest(t)
	id := run(t, e, labels, docker.ContainerSpec{})
	tests := []struct {
		name string
		spec docker.ExecSpec
		want docker.ExecResult
	}{
		{"exit code and both streams", docker.ExecSpec{Cmd: []string{"/app", "exit", "5", "to stdout", "to stderr"}},
			docker.ExecResult{ExitCode: 5, Stdout: []byte("to stdout\n"), Stderr: []byte("to stderr\n")}},
		{"success", docker.ExecSpec{Cmd: []string{"/app", "exit", "0", "fine"}},
			docker.ExecResult{Stdout: []byte("fine\n")}},
		{"env and working dir", docker.ExecSpec{Cmd: []string{"/app", "cat", "app"}, WorkingDir: "/", Env: map[string]string{"X": "1"}, Stdout: io.Discard},
			docker.ExecResult{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.Exec(ctx, id, tt.spec)
			if err != nil {
				t.Fatalf("Exec: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b []byte) bool { return string(a) == string(b) })); diff != "" {
				t.Errorf("Exec (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := e.Exec(ctx, id, docker.ExecSpec{Cmd: []string{"/no/such/program"}}); err == nil {
		// The engine reports a missing program either as an error or as
		// exit code 126/127, depending on its version: both are fine, as
		// long as it is not silent success.
		res, _ := e.Exec(ctx, id, docker.ExecSpec{Cmd: []string{"/no/such/program"}})
		if res.ExitCode == 0 {
			t.Errorf("Exec of a missing program: got exit 0, want a failure")
		}
	}
}

func TestLogs(t *testing.T) {
	e, ctx, labels := engineTest(t)

	id := run(t, e, labels, docker.ContainerSpec{Cmd: []string{"talk", "3"}})
	counter := run(t, e, labels, docker.ContainerSpec{Cmd: []string{"count", "5"}})
	var mu sync.Mutex
	var outLines, errLines []string
	stdout := docker.Lines(func(l string) { mu.Lock(); outLines = append(outLines, l); mu.Unlock() })
	stderr := docker.Lines(func(l string) { mu.Lock(); errLines = append(errLines, l); mu.Unlock() })
	// Following returns when the container exits.
	if err := e.Logs(ctx, id, docker.LogsOptions{Stdout: stdout, Stderr: stderr, Follow: true}); err != nil {
		t.Fatalf("Logs: %v", err)
	}
	stdout.Close()
	stderr.Close()
	if diff := cmp.Diff([]string{"out 1", "out 2", "out 3"}, outLines); diff != "" {
		t.Errorf("stdout lines (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"err 1", "err 2", "err 3"}, errLines); diff != "" {
		t.Errorf("stderr lines (-want +got):\n%s", diff)
	}

	// The counter writes to stdout only: the engine interleaves the two
	// streams in its log as their writes reach it, which under load is
	// not the order the program wrote them in.
	if code, err := e.WaitContainer(ctx, counter); code != 0 || err != nil {
		t.Fatalf("WaitContainer: %d, %v", code, err)
	}
	var tail strings.Builder
	if err := e.Logs(ctx, counter, docker.LogsOptions{Stdout: &tail, Tail: 2, Timestamps: true}); err != nil {
		t.Fatalf("Logs with Tail: %v", err)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSuffix(tail.String(), "\n"), "\n") {
		stamp, line, _ := strings.Cut(l, " ")
		if _, err := time.Parse(time.RFC3339Nano, stamp); err != nil {
			t.Errorf("Logs with Timestamps: got line %q, want a time first", l)
		}
		got = append(got, line)
	}
	if diff := cmp.Diff([]string{"line 4", "line 5"}, got); diff != "" {
		t.Errorf("Logs with Tail 2 (-want +got):\n%s", diff)
	}
	var none strings.Builder
	if err := e.Logs(ctx, id, docker.LogsOptions{Stdout: &none, Since: time.Now().Add(time.Hour)}); err != nil || none.Len() != 0 {
		t.Errorf("Logs since the future: got %q, %v, want nothing", none.String(), err)
	}

	// Following stops with the context too.
	serving := run(t, e, labels, docker.ContainerSpec{})
	fctx, cancel := context.WithCancel(ctx)
	seen := make(chan struct{})
	var once sync.Once
	done := make(chan error, 1)
	go func() {
		done <- e.Logs(fctx, serving, docker.LogsOptions{Stdout: docker.Lines(func(string) { once.Do(func() { close(seen) }) }), Follow: true})
	}()
	select {
	case <-seen:
	case <-time.After(20 * time.Second):
		t.Fatal("no log line from the server")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Logs after cancel: got %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Logs kept following after its context ended")
	}

	tty := run(t, e, labels, docker.ContainerSpec{Cmd: []string{"exit", "0", "on a tty"}, TTY: true})
	if code, err := e.WaitContainer(ctx, tty); code != 0 || err != nil {
		t.Fatalf("WaitContainer: %d, %v", code, err)
	}
	if got := logs(t, e, tty); got.stdout != "on a tty\r\n" || got.stderr != "" {
		t.Errorf("TTY logs: got %+v, want the raw stream on stdout", got)
	}
}

func TestStopKillWait(t *testing.T) {
	e, _, labels := engineTest(t)
	tests := []struct {
		name string
		spec docker.ContainerSpec
		act  func(ctx context.Context, id string) error
		want int
	}{
		{"exit code", docker.ContainerSpec{Cmd: []string{"exit", "7"}}, nil, 7},
		{"stop sends SIGTERM", docker.ContainerSpec{}, func(ctx context.Context, id string) error { return e.StopContainer(ctx, id, 10*time.Second) }, 3},
		{"stop sends the stop signal", docker.ContainerSpec{StopSignal: "SIGUSR1"}, func(ctx context.Context, id string) error { return e.StopContainer(ctx, id, 10*time.Second) }, 4},
		{"stop kills after the timeout", docker.ContainerSpec{Cmd: []string{"ignore-term"}, StopTimeout: time.Second}, func(ctx context.Context, id string) error { return e.StopContainer(ctx, id, 0) }, 137},
		{"kill", docker.ContainerSpec{}, func(ctx context.Context, id string) error { return e.KillContainer(ctx, id, "") }, 137},
		{"kill with a signal", docker.ContainerSpec{}, func(ctx context.Context, id string) error { return e.KillContainer(ctx, id, "SIGTERM") }, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := testCtx(t)
			id := run(t, e, labels, tt.spec)
			if tt.act != nil {
				// Let the program install its signal handlers.
				waitFor(t, "the program to start", func() bool { return logs(t, e, id).stdout != "" })
				if err := tt.act(ctx, id); err != nil {
					t.Fatalf("act: %v", err)
				}
			}
			if code, err := e.WaitContainer(ctx, id); code != tt.want || err != nil {
				t.Errorf("WaitContainer: got %d, %v, want %d", code, err, tt.want)
			}
			if c, _ := e.InspectContainer(ctx, id); c.State.ExitCode != tt.want || c.State.Running {
				t.Errorf("inspect: got %+v, want exited with %d", c.State, tt.want)
			}
		})
	}

	t.Run("wait is cancellable", func(t *testing.T) {
		t.Parallel()
		id := run(t, e, labels, docker.ContainerSpec{Cmd: []string{"sleep"}})
		ctx, cancel := context.WithTimeout(testCtx(t), 200*time.Millisecond)
		defer cancel()
		if _, err := e.WaitContainer(ctx, id); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("WaitContainer: got %v, want context.DeadlineExceeded", err)
		}
		if c, _ := e.InspectContainer(testCtx(t), id); !c.State.Running {
			t.Errorf("cancelling the wait stopped the container")
		}
	})
}

func TestOOMKilled(t *testing.T) {
	e, ctx, labels := engineTest(t)
	id := run(t, e, labels, docker.ContainerSpec{
		Cmd:             []string{"alloc", "256"},
		MemoryBytes:     32 << 20,
		MemorySwapBytes: 32 << 20,
	})
	if code, err := e.WaitContainer(ctx, id); code != 137 || err != nil {
		t.Fatalf("WaitContainer: got %d, %v, want 137", code, err)
	}
	c, err := e.InspectContainer(ctx, id)
	if err != nil || !c.State.OOMKilled || c.State.ExitCode != 137 {
		t.Errorf("inspect: got %+v, %v, want OOMKilled with 137", c.State, err)
	}
}

// TestNetworks: two containers on a user network reach each other by
// alias; a second, internal network is attached at create (the engine
// takes one network per create: the package connects the others).
func TestNetworks(t *testing.T) {
	e, ctx, labels := engineTest(t)

	shared := "overcast-test-net-" + runID
	if _, err := e.CreateNetwork(ctx, docker.NetworkSpec{Name: shared, Owner: testOwner, Labels: labels}); err != nil {
		t.Fatalf("CreateNetwork: %v", err)
	}
	if _, err := e.CreateNetwork(ctx, docker.NetworkSpec{Name: shared, Owner: testOwner, Labels: labels}); !errors.Is(err, docker.ErrConflict) {
		t.Errorf("CreateNetwork with a taken name: got %v, want ErrConflict", err)
	}
	internal := "overcast-test-internal-" + runID
	subnet, gateway, pinned := freeSubnet(t, e)
	if _, err := e.CreateNetwork(ctx, docker.NetworkSpec{Name: internal, Owner: testOwner, Labels: labels, Internal: true, Subnet: subnet, Gateway: gateway}); err != nil {
		t.Fatalf("CreateNetwork internal: %v", err)
	}
	n, err := e.InspectNetwork(ctx, internal)
	if err != nil {
		t.Fatal(err)
	}
	if n.Name != internal || !n.Internal || n.Subnet != subnet || n.Gateway != gateway || n.Driver != "bridge" || !docker.IsManaged(n.Labels) {
		t.Errorf("InspectNetwork: got %+v, want internal bridge %s via %s, managed", n, subnet, gateway)
	}

	web := run(t, e, labels, docker.ContainerSpec{Networks: []docker.NetworkAttachment{{Network: shared, Aliases: []string{"web"}}}})
	client := run(t, e, labels, docker.ContainerSpec{
		Cmd: []string{"sleep"},
		Networks: []docker.NetworkAttachment{
			{Network: shared},
			{Network: internal, Aliases: []string{"back"}, IPv4Address: pinned},
		},
	})
	c, err := e.InspectContainer(ctx, client)
	if err != nil {
		t.Fatal(err)
	}
	if c.Networks[internal].IPAddress != pinned || !slices.Contains(c.Networks[internal].Aliases, "back") || c.Networks[shared].IPAddress == "" {
		t.Errorf("client networks: got %+v, want %s on %s (alias back) and an address on %s", c.Networks, pinned, internal, shared)
	}
	webC, _ := e.InspectContainer(ctx, web)
	var res docker.ExecResult
	waitFor(t, "web to answer by its alias", func() bool {
		res, err = e.Exec(ctx, client, docker.ExecSpec{Cmd: []string{"/app", "get", "http://web:8080/"}})
		return err == nil && res.ExitCode == 0
	})
	if want := "hello from " + webC.ID[:12] + "\n"; string(res.Stdout) != want {
		t.Errorf("GET http://web:8080/ from the other container: got %q, want %q", res.Stdout, want)
	}

	n, _ = e.InspectNetwork(ctx, shared)
	if _, ok := n.Containers[web]; !ok || len(n.Containers) != 2 {
		t.Errorf("InspectNetwork containers: got %+v, want web and client", n.Containers)
	}
	if err := e.RemoveNetwork(ctx, shared); !errors.Is(err, docker.ErrConflict) {
		t.Errorf("RemoveNetwork with containers attached: got %v, want ErrConflict", err)
	}
	if err := e.ConnectNetwork(ctx, client, docker.NetworkAttachment{Network: shared}); !errors.Is(err, docker.ErrConflict) {
		t.Errorf("ConnectNetwork twice: got %v, want ErrConflict", err)
	}
	if err := e.DisconnectNetwork(ctx, internal, client, false); err != nil {
		t.Fatalf("DisconnectNetwork: %v", err)
	}
	if c, _ := e.InspectContainer(ctx, client); len(c.Networks) != 1 {
		t.Errorf("networks after disconnect: got %+v, want only %s", c.Networks, shared)
	}
	if err := e.ConnectNetwork(ctx, client, docker.NetworkAttachment{Network: internal, Aliases: []string{"again"}}); err != nil {
		t.Fatalf("ConnectNetwork: %v", err)
	}
	if c, _ := e.InspectContainer(ctx, client); !slices.Contains(c.Networks[internal].Aliases, "again") {
		t.Errorf("networks after connect: got %+v, want alias again on %s", c.Networks, internal)
	}
	nets, err := e.ListNetworks(ctx, labels)
	if err != nil || len(nets) != 2 {
		t.Errorf("ListNetworks by label: got %+v, %v, want the two networks", nets, err)
	}
	if err := e.RemoveNetwork(ctx, "overcast-test-no-such-network"); !errors.Is(err, docker.ErrNotFound) {
		t.Errorf("RemoveNetwork of a missing network: got %v, want ErrNotFound", err)
	}
}

// freeSubnet picks a /24 in 10.0.0.0/8 that no network on the engine uses,
// with its gateway and one more address.
func freeSubnet(t testing.TB, e *docker.Engine) (subnet, gateway, host string) {
	t.Helper()
	nets, err := e.ListNetworks(testCtx(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	b := []byte(randomHex(2))
	for i := 0; i < 64; i++ {
		subnet = fmt.Sprintf("10.%d.%d.0/24", 100+int(b[0]+byte(i))%100, int(b[1]+byte(3*i))%250)
		if !slices.ContainsFunc(nets, func(n docker.Network) bool { return n.Subnet == subnet }) {
			p := strings.TrimSuffix(subnet, "0/24")
			return subnet, p + "1", p + "10"
		}
	}
	t.Fatal("no free subnet")
	return
}

func TestVolumesAndMounts(t *testing.T) {
	e, ctx, labels := engineTest(t)
	name := "overcast-test-vol-" + runID
	v, err := e.CreateVolume(ctx, docker.VolumeSpec{Name: name, Owner: testOwner, Labels: labels})
	if err != nil {
		t.Fatalf("CreateVolume: %v", err)
	}
	if v.Name != name || v.Driver != "local" || v.Labels[docker.LabelOwner] != testOwner {
		t.Errorf("CreateVolume: got %+v, want local volume %s with the owner label", v, name)
	}
	if vs, err := e.ListVolumes(ctx, labels); err != nil || len(vs) != 1 || vs[0].Name != name {
		t.Errorf("ListVolumes: got %+v, %v, want %s", vs, err, name)
	}

	host := t.TempDir()
	os.WriteFile(filepath.Join(host, "in"), []byte("from the host"), 0o644)
	mounts := []docker.Mount{
		{Type: docker.MountBind, Source: host, Target: "/host", ReadOnly: true},
		{Type: docker.MountVolume, Source: name, Target: "/data"},
		{Type: docker.MountTmpfs, Target: "/scratch", TmpfsSizeBytes: 1 << 20},
	}
	writer := run(t, e, labels, docker.ContainerSpec{Cmd: []string{"copy", "/host/in", "/data/out"}, Mounts: mounts})
	if code, err := e.WaitContainer(ctx, writer); code != 0 || err != nil {
		t.Fatalf("writer: got %d, %v (%+v), want 0", code, err, logs(t, e, writer))
	}
	c, _ := e.InspectContainer(ctx, writer)
	if len(c.Mounts) != 3 {
		t.Errorf("mounts: got %+v, want 3", c.Mounts)
	}
	readOnly := run(t, e, labels, docker.ContainerSpec{Cmd: []string{"copy", "/host/in", "/host/out"}, Mounts: mounts})
	if code, _ := e.WaitContainer(ctx, readOnly); code == 0 {
		t.Errorf("writing to a read-only bind mount: got exit 0, want a failure")
	}
	reader := run(t, e, labels, docker.ContainerSpec{Cmd: []string{"cat", "/data/out"}, Mounts: mounts[1:2]})
	if code, err := e.WaitContainer(ctx, reader); code != 0 || err != nil {
		t.Fatalf("reader: got %d, %v, want 0", code, err)
	}
	if got := logs(t, e, reader).stdout; got != "from the host" {
		t.Errorf("volume content: got %q, want %q", got, "from the host")
	}

	if err := e.RemoveVolume(ctx, name, false); !errors.Is(err, docker.ErrConflict) {
		t.Errorf("RemoveVolume in use: got %v, want ErrConflict", err)
	}
	for _, id := range []string{writer, readOnly, reader} {
		if err := e.RemoveContainer(ctx, id, docker.RemoveOptions{}); err != nil {
			t.Fatalf("RemoveContainer: %v", err)
		}
	}
	if err := e.RemoveVolume(ctx, name, false); err != nil {
		t.Fatalf("RemoveVolume: %v", err)
	}
	if _, err := e.InspectVolume(ctx, name); !errors.Is(err, docker.ErrNotFound) {
		t.Errorf("InspectVolume after remove: got %v, want ErrNotFound", err)
	}
}

// TestWatch follows one container through start, health, death and
// removal.
func TestWatch(t *testing.T) {
	e, ctx, labels := engineTest(t)
	events := make(chan docker.Event, 100)
	wctx, stop := context.WithCancel(ctx)
	watching := make(chan error, 1)
	go func() {
		watching <- e.Watch(wctx, docker.EventFilter{Labels: labels}, func(ev docker.Event) { events <- ev })
	}()
	next := func(what string) docker.Event {
		t.Helper()
		select {
		case ev := <-events:
			return ev
		case <-time.After(20 * time.Second):
			t.Fatalf("no event; want %s", what)
		}
		panic("unreachable")
	}
	if ev := next("resync"); ev.Action != docker.ActionResync {
		t.Fatalf("first event: got %+v, want resync", ev)
	}
	// A container without the labels stays out of the stream.
	other := run(t, e, nil, docker.ContainerSpec{Cmd: []string{"exit", "0"}, Labels: map[string]string{docker.LabelTest: labels[docker.LabelTest] + "-other"}})
	t.Cleanup(func() { e.RemoveContainer(context.Background(), other, docker.RemoveOptions{Force: true}) })

	id := run(t, e, labels, docker.ContainerSpec{
		Name: "overcast-test-watch-" + runID,
		Init: true,
		HealthCheck: &docker.HealthCheck{
			Test:     []string{"CMD", "/app", "get", "http://127.0.0.1:8080/"},
			Interval: 100 * time.Millisecond,
			Timeout:  time.Second,
			Retries:  3,
		},
	})
	ev := next("start")
	if ev.Action != docker.ActionStart || ev.ContainerID != id || ev.Name != "overcast-test-watch-"+runID || ev.Labels[docker.LabelOwner] != testOwner || ev.Time.IsZero() {
		t.Errorf("got %+v, want start of %s with its labels", ev, id)
	}
	if ev = next("health_status"); ev.Action != docker.ActionHealthStatus || ev.Health != "healthy" {
		t.Errorf("got %+v, want health_status healthy", ev)
	}
	if c, _ := e.InspectContainer(ctx, id); c.State.Health != "healthy" {
		t.Errorf("inspect health: got %q, want healthy", c.State.Health)
	}
	if err := e.StopContainer(ctx, id, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	// With Init, the init process forwards SIGTERM and exits as the app did.
	if ev = next("die"); ev.Action != docker.ActionDie || ev.ExitCode != 3 {
		t.Errorf("got %+v, want die with exit code 3", ev)
	}
	if err := e.RemoveContainer(ctx, id, docker.RemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	if ev = next("destroy"); ev.Action != docker.ActionDestroy || ev.ContainerID != id {
		t.Errorf("got %+v, want destroy of %s", ev, id)
	}
	stop()
	if err := <-watching; !errors.Is(err, context.Canceled) {
		t.Errorf("Watch after cancel: got %v, want context.Canceled", err)
	}
	close(events)
	for ev := range events {
		t.Errorf("unexpected event %+v", ev)
	}
}

// TestAdopt is a controller's restart: a fresh Engine finds what the owner
// left running, and Purge removes all of it.
func TestAdopt(t *testing.T) {
	e, ctx, labels := engineTest(t)
	owner := "adopt-" + runID
	t.Cleanup(func() { e.Purge(context.Background(), docker.OwnerSelector(owner)) })

	net := "overcast-test-adopt-" + runID
	if _, err := e.CreateNetwork(ctx, docker.NetworkSpec{Name: net, Owner: owner, Labels: labels}); err != nil {
		t.Fatal(err)
	}
	vol, err := e.CreateVolume(ctx, docker.VolumeSpec{Owner: owner, Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	running := run(t, e, labels, docker.ContainerSpec{Owner: owner, Networks: []docker.NetworkAttachment{{Network: net}}, Labels: map[string]string{docker.LabelTask: "task-1"}})
	exited := run(t, e, labels, docker.ContainerSpec{Owner: owner, Cmd: []string{"exit", "2"}, Labels: map[string]string{docker.LabelTask: "task-2"}})
	e.WaitContainer(ctx, exited)
	// Someone else's container is not ours to adopt.
	run(t, e, labels, docker.ContainerSpec{Cmd: []string{"exit", "0"}})

	restarted := newEngine(t)
	cs, err := restarted.ListContainers(ctx, docker.OwnerSelector(owner))
	if err != nil {
		t.Fatalf("ListContainers: %v", err)
	}
	type adopted struct {
		ID, Task string
		Running  bool
		ExitCode int
	}
	var got []adopted
	for _, c := range cs {
		got = append(got, adopted{c.ID, c.Labels[docker.LabelTask], c.State.Running, c.State.ExitCode})
		if c.Owner() != owner {
			t.Errorf("Owner: got %q, want %q", c.Owner(), owner)
		}
	}
	want := []adopted{{running, "task-1", true, 0}, {exited, "task-2", false, 2}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListContainers by owner (-want +got):\n%s", diff)
	}
	inv, err := restarted.Inventory(ctx, docker.OwnerSelector(owner))
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Containers) != 2 || len(inv.Networks) != 1 || inv.Networks[0].Name != net || len(inv.Volumes) != 1 || inv.Volumes[0].Name != vol.Name {
		t.Errorf("Inventory: got %+v, want 2 containers, network %s, volume %s", inv, net, vol.Name)
	}
	if err := restarted.Purge(ctx, docker.OwnerSelector(owner)); err != nil {
		t.Fatalf("Purge: %v", err)
	}
	inv, err = restarted.Inventory(ctx, docker.OwnerSelector(owner))
	if err != nil || len(inv.Containers)+len(inv.Networks)+len(inv.Volumes)+len(inv.Images) != 0 {
		t.Errorf("Inventory after Purge: got %+v, %v, want nothing", inv, err)
	}
	if err := restarted.Purge(ctx, nil); !errors.Is(err, docker.ErrInvalid) {
		t.Errorf("Purge with no selector: got %v, want ErrInvalid", err)
	}
}

func TestEngineErrors(t *testing.T) {
	e, ctx, labels := engineTest(t)
	name := "overcast-test-errors-" + runID
	id := run(t, e, labels, docker.ContainerSpec{Name: name})

	missing := "overcast-test-no-such-container"
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"inspect missing", func() error { _, err := e.InspectContainer(ctx, missing); return err }(), docker.ErrNotFound},
		{"start missing", e.StartContainer(ctx, missing), docker.ErrNotFound},
		{"image missing", func() error {
			_, err := e.CreateContainer(ctx, docker.ContainerSpec{Owner: testOwner, Image: "overcast-test/no-such-image:" + runID, Labels: labels})
			return err
		}(), docker.ErrNotFound},
		{"name taken", func() error {
			_, err := e.CreateContainer(ctx, docker.ContainerSpec{Owner: testOwner, Image: appImage(t), Name: name, Labels: labels})
			return err
		}(), docker.ErrConflict},
		{"remove running", e.RemoveContainer(ctx, id, docker.RemoveOptions{}), docker.ErrConflict},
		{"exec missing", func() error { _, err := e.Exec(ctx, missing, docker.ExecSpec{Cmd: []string{"x"}}); return err }(), docker.ErrNotFound},
		{"no owner", func() error { _, err := e.CreateContainer(ctx, docker.ContainerSpec{Image: appImage(t)}); return err }(), docker.ErrInvalid},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, tt.err, tt.want)
		}
		var de *docker.Error
		if !errors.As(tt.err, &de) || de.Err == nil || de.Err.Error() == "" {
			t.Errorf("%s: got %#v, want a *docker.Error keeping the engine's message", tt.name, tt.err)
		}
	}
	if err := e.RemoveContainer(ctx, id, docker.RemoveOptions{Force: true}); err != nil {
		t.Errorf("RemoveContainer with Force: %v", err)
	}
	if err := e.KillContainer(ctx, id, ""); !errors.Is(err, docker.ErrNotFound) {
		t.Errorf("KillContainer of a removed container: got %v, want ErrNotFound", err)
	}
	exited := run(t, e, labels, docker.ContainerSpec{Cmd: []string{"exit", "0"}})
	e.WaitContainer(ctx, exited)
	if err := e.KillContainer(ctx, exited, ""); !errors.Is(err, docker.ErrConflict) {
		t.Errorf("KillContainer of a stopped container: got %v, want ErrConflict", err)
	}
}

// TestUnavailable needs no engine: nothing listens on the socket.
func TestUnavailable(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "docker.sock")
	e, err := docker.New(docker.Options{Host: "unix://" + sock})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	if err := e.Ping(ctx); !errors.Is(err, docker.ErrUnavailable) {
		t.Errorf("Ping: got %v, want ErrUnavailable", err)
	}
	if _, err := e.InspectContainer(ctx, "x"); !errors.Is(err, docker.ErrUnavailable) {
		t.Errorf("InspectContainer: got %v, want ErrUnavailable", err)
	}
	if e.Reachable(ctx) {
		t.Errorf("Reachable: got true, want false")
	}
	// A listener that accepts and hangs up is no engine either.
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	if err := e.Ping(ctx); err == nil {
		t.Errorf("Ping of a listener that hangs up: got nil, want an error")
	}
}

// TestEngineOverTLS: a tcp:// engine that verifies its clients answers
// with the client certificate the options name, and refuses a client
// without one.
func TestEngineOverTLS(t *testing.T) {
	second := dockertest.StartSecondEngine(t, true)
	ctx := context.Background()
	if v, err := second.Engine.Version(ctx); err != nil || v.APIVersion == "" {
		t.Fatalf("Version over TLS: %+v, %v", v, err)
	}
	if _, err := second.Engine.ListContainers(ctx, nil); err != nil {
		t.Errorf("ListContainers over TLS: %v", err)
	}
	for name, opts := range map[string]docker.Options{
		"no client certificate": {Host: second.Options.Host, TLSCA: second.Options.TLSCA},
		"no TLS":                {Host: second.Options.Host},
	} {
		e, err := docker.New(opts)
		if err != nil {
			continue // refused before any connection: as good
		}
		pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = e.Ping(pingCtx)
		cancel()
		e.Close()
		if err == nil {
			t.Errorf("%s: Ping succeeded, want the engine to refuse it", name)
		}
	}
}
