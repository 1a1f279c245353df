package agent_test

// Integration tests against the real engine at DOCKER_HOST, with images
// made here: nothing is pulled.

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"overcast/internal/api/ecs"
	"overcast/internal/ecs/agent"
)

func portMapping(containerPort int32) ecs.PortMapping {
	return ecs.PortMapping{ContainerPort: new(containerPort)}
}

func TestBridgeDynamicPort(t *testing.T) {
	en := newEnv(t, agent.Config{})
	web := webServer()
	web.Environment = []ecs.KeyValuePair{{Name: new("GREETING"), Value: new("from the definition")}, {Name: new("KEPT"), Value: new("kept")}}
	spec := en.spec("", web)
	spec.Overrides = &ecs.TaskOverride{ContainerOverrides: []ecs.ContainerOverride{{
		Name: new("web"), Environment: []ecs.KeyValuePair{{Name: new("GREETING"), Value: new("from the override")}},
	}}}
	o := en.run(t, spec, "the task to run", status(agent.StatusRunning))

	c := container(t, o, "web")
	if len(c.NetworkBindings) != 1 {
		t.Fatalf("network bindings: got %+v, want one", c.NetworkBindings)
	}
	b := c.NetworkBindings[0]
	if *b.BindIP != spec.HostIP || *b.ContainerPort != 8080 || *b.HostPort < 32768 || *b.Protocol != "tcp" {
		t.Errorf("binding: got %s:%d->%d/%s, want %s:<ephemeral>->8080/tcp", *b.BindIP, *b.HostPort, *b.ContainerPort, *b.Protocol, spec.HostIP)
	}
	base := fmt.Sprintf("http://%s:%d", *b.BindIP, *b.HostPort)
	if got := get(t, base+"/"); !strings.HasPrefix(got, "hello from") {
		t.Errorf("GET /: got %q, want the app's greeting", got)
	}
	for name, want := range map[string]string{"GREETING": "from the override", "KEPT": "kept"} {
		if got := get(t, base+"/env?name="+name); got != want {
			t.Errorf("%s in the container: got %q, want %q", name, got, want)
		}
	}
	if c.RuntimeID == "" || c.HealthStatus != agent.HealthUnknown || o.HealthStatus != agent.HealthUnknown {
		t.Errorf("container: got %+v, want a runtime ID and UNKNOWN health", c)
	}

	o, err := en.agent.Stop(en.ctx, spec.TaskARN, "Task stopped by user")
	if err != nil {
		t.Fatalf("Stop: %v", err)
	}
	c = container(t, o, "web")
	got := []string{o.LastStatus, o.StopCode, o.StoppedReason, c.LastStatus, exitCode(c)}
	want := []string{agent.StatusStopped, agent.StopCodeUserInitiated, "Task stopped by user", agent.StatusStopped, "3"} // the app exits 3 on SIGTERM
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stopped task (-want +got):\n%s", diff)
	}
	en.wantContainers(t, 0, "after Stop")
}

func TestAWSVPC(t *testing.T) {
	// The agent makes its network.
	en := newEnv(t, agent.Config{Network: "overcast-agent-test-" + runID})
	web := webServer()
	web.HealthCheck = &ecs.HealthCheck{Command: []string{"CMD", "/app", "get", "http://localhost:8080/"}, Interval: new(int32(1)), Retries: new(int32(1))}
	// The client reaches the web server on localhost: they share the
	// pause container's network namespace.
	client := def("client", false, "get", "http://localhost:8080/")
	client.DependsOn = []ecs.ContainerDependency{{ContainerName: new("web"), Condition: new("HEALTHY")}}
	spec := en.spec(agent.ModeAWSVPC, web, client)
	o := en.run(t, spec, "the client to have fetched", func(o agent.Observed) bool {
		c, _ := o.Container("client")
		return c.LastStatus == agent.StatusStopped
	})
	if c := container(t, o, "client"); exitCode(c) != "0" {
		t.Errorf("client: got exit code %s, want 0", exitCode(c))
	}
	if o.LastStatus != agent.StatusRunning || o.IPv4Address != spec.HostIP || o.HealthStatus != agent.HealthHealthy {
		t.Errorf("task: got %s at %q, health %s, want RUNNING at %s, HEALTHY", o.LastStatus, o.IPv4Address, o.HealthStatus, spec.HostIP)
	}
	wantServedAt(t, o, spec.HostIP)

	if _, err := en.agent.Stop(en.ctx, spec.TaskARN, "done"); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	en.wantContainers(t, 0, "after Stop (the pause container too)")
}

// TestAWSVPCAlone: the one container of an awsvpc task holds the task's
// network itself, reachable at the task's address with no pause container.
func TestAWSVPCAlone(t *testing.T) {
	en := newEnv(t, agent.Config{Network: "overcast-agent-alone-" + runID})
	web := webServer()
	spec := en.spec(agent.ModeAWSVPC, web)
	o := en.run(t, spec, "the task to run", status(agent.StatusRunning))
	wantServedAt(t, o, spec.HostIP)
	en.wantContainers(t, 1, "of the running task (no pause container)")
	if _, err := en.agent.Stop(en.ctx, spec.TaskARN, "done"); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

func TestEssentialContainerExit(t *testing.T) {
	en := newEnv(t, agent.Config{})
	web := def("web", false, "serve", ":8080")
	main := def("main", true, "exit", "7")
	main.DependsOn = []ecs.ContainerDependency{{ContainerName: new("web"), Condition: new("START")}}
	spec := en.spec("", web, main)
	o := en.run(t, spec, "the task to stop", status(agent.StatusStopped))

	w, m := container(t, o, "web"), container(t, o, "main")
	got := []string{o.StopCode, o.StoppedReason, m.LastStatus, exitCode(m), w.LastStatus, exitCode(w)}
	want := []string{agent.StopCodeEssentialContainerExited, "Essential container in task exited", agent.StatusStopped, "7", agent.StatusStopped, "3"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stopped task (-want +got):\n%s", diff)
	}
	// Stopping it later keeps why it stopped.
	o, err := en.agent.Stop(en.ctx, spec.TaskARN, "cleanup")
	if err != nil || o.StopCode != agent.StopCodeEssentialContainerExited {
		t.Errorf("Stop: got %s, %v, want the stop code kept", o.StopCode, err)
	}
}

func TestDependsOnSuccessSharedVolumeAndLogs(t *testing.T) {
	hostDir := t.TempDir()
	en := newEnv(t, agent.Config{AllowedHostRoots: []string{hostDir}})
	// init writes into the task's empty volume; publish copies it out to
	// the host once init succeeded; reader prints it once publish did.
	initc := def("init", false, "copy", "/greeting", "/shared/ready")
	publish := def("publish", false, "copy", "/shared/ready", "/host/ready")
	publish.DependsOn = []ecs.ContainerDependency{{ContainerName: new("init"), Condition: new("SUCCESS")}}
	reader := def("reader", true, "cat", "/shared/ready")
	reader.DependsOn = []ecs.ContainerDependency{{ContainerName: new("publish"), Condition: new("SUCCESS")}}
	reader.LogConfiguration = &ecs.LogConfiguration{LogDriver: new("awslogs"), Options: map[string]string{
		"awslogs-group": "/ecs/test", "awslogs-stream-prefix": "app", "awslogs-region": "us-east-1"}}
	shared := []ecs.MountPoint{{SourceVolume: new("shared"), ContainerPath: new("/shared")}}
	initc.MountPoints, reader.MountPoints = shared, shared
	publish.MountPoints = append(shared, ecs.MountPoint{SourceVolume: new("host"), ContainerPath: new("/host")})
	spec := en.spec("", initc, publish, reader)
	spec.Definition.Volumes = []ecs.Volume{
		{Name: new("shared")},
		{Name: new("host"), Host: &ecs.HostVolumeProperties{SourcePath: new(hostDir)}},
	}
	o := en.run(t, spec, "the task to stop", status(agent.StatusStopped))

	var got []string
	for _, c := range o.Containers {
		got = append(got, c.Name+" "+c.LastStatus+" "+exitCode(c))
	}
	want := []string{"init STOPPED 0", "publish STOPPED 0", "reader STOPPED 0"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("containers (-want +got):\n%s", diff)
	}
	if o.StopCode != agent.StopCodeEssentialContainerExited {
		t.Errorf("stop code: got %q, want %s", o.StopCode, agent.StopCodeEssentialContainerExited)
	}
	if b, err := os.ReadFile(filepath.Join(hostDir, "ready")); err != nil || string(b) != greeting {
		t.Errorf("the host volume's file: got %q, %v, want %q", b, err, greeting)
	}
	stream := "/ecs/test:app/reader/" + o.TaskARN[strings.LastIndex(o.TaskARN, "/")+1:]
	en.waitTask(t, en.agent, spec.TaskARN, "the reader's output in "+stream, func(agent.Observed) bool {
		return slices.Equal(en.logs.lines(stream), []string{greeting})
	})

	if _, err := en.agent.Stop(en.ctx, spec.TaskARN, "cleanup"); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if vs, err := en.engine.ListVolumes(en.ctx, en.cfg.Labels); err != nil || len(vs) != 0 {
		t.Errorf("volumes after Stop: got %+v (%v), want the task's removed", vs, err)
	}
}

func TestDependsOnSuccessNeverMet(t *testing.T) {
	en := newEnv(t, agent.Config{})
	initc := def("init", false, "exit", "1")
	app := def("app", true, "serve", ":8080")
	app.DependsOn = []ecs.ContainerDependency{{ContainerName: new("init"), Condition: new("SUCCESS")}}
	spec := en.spec("", initc, app)
	o := en.run(t, spec, "the task to stop", status(agent.StatusStopped))
	c := container(t, o, "app")
	if o.StopCode != agent.StopCodeTaskFailedToStart || c.LastStatus != agent.StatusStopped || c.ExitCode != nil ||
		!strings.HasPrefix(c.Reason, "DependencyConditionError") {
		t.Errorf("task: got %s %q, app %s %q, want TaskFailedToStart and app never started", o.StopCode, o.StoppedReason, c.LastStatus, c.Reason)
	}
}

func TestHealthCheck(t *testing.T) {
	en := newEnv(t, agent.Config{})
	check := func(name string, essential bool, test ...string) ecs.ContainerDefinition {
		d := def(name, essential, "serve", ":8080")
		d.HealthCheck = &ecs.HealthCheck{Command: append([]string{"CMD"}, test...), Interval: new(int32(1)), Retries: new(int32(1))}
		return d
	}
	good := check("good", true, "/app", "get", "http://localhost:8080/")
	bad := check("bad", false, "/app", "exit", "1")
	// Only essential containers count for the task's health.
	spec := en.spec("", good, bad)
	o := en.run(t, spec, "both health checks to settle", func(o agent.Observed) bool {
		g, _ := o.Container("good")
		b, _ := o.Container("bad")
		return g.HealthStatus != agent.HealthUnknown && b.HealthStatus != agent.HealthUnknown
	})
	got := []string{container(t, o, "good").HealthStatus, container(t, o, "bad").HealthStatus, o.HealthStatus}
	if diff := cmp.Diff([]string{agent.HealthHealthy, agent.HealthUnhealthy, agent.HealthHealthy}, got); diff != "" {
		t.Errorf("good, bad and task health (-want +got):\n%s", diff)
	}

	bad.Essential = new(true)
	spec = en.spec("", check("good", true, "/app", "get", "http://localhost:8080/"), bad)
	en.start(t, en.agent, spec)
	en.waitTask(t, en.agent, spec.TaskARN, "the task to turn UNHEALTHY", func(o agent.Observed) bool {
		return o.HealthStatus == agent.HealthUnhealthy
	})
}

func TestPullFailure(t *testing.T) {
	en := newEnv(t, agent.Config{})
	web := def("web", true, "serve", ":8080")
	web.Image = new("127.0.0.1:9/overcast-test/missing:" + runID)
	spec := en.spec("", web)
	o := en.start(t, en.agent, spec)
	c := container(t, o, "web")
	if o.LastStatus != agent.StatusStopped || o.StopCode != agent.StopCodeTaskFailedToStart ||
		!strings.HasPrefix(o.StoppedReason, "CannotPullContainerError: ") || c.Reason != o.StoppedReason {
		t.Errorf("task: got %s %s %q (web: %q), want STOPPED TaskFailedToStart CannotPullContainerError", o.LastStatus, o.StopCode, o.StoppedReason, c.Reason)
	}
	if again, err := en.agent.Observe(en.ctx, spec.TaskARN); err != nil || again.StoppedReason != o.StoppedReason {
		t.Errorf("Observe: got %+v, %v, want the failure kept", again, err)
	}
}

func TestHostPathOutsideAllowedRoots(t *testing.T) {
	root := t.TempDir()
	en := newEnv(t, agent.Config{AllowedHostRoots: []string{root}})
	web := def("web", true, "serve", ":8080")
	web.MountPoints = []ecs.MountPoint{{SourceVolume: new("host"), ContainerPath: new("/host")}}
	for _, path := range []string{"/etc", root + "/../..", root + "-other"} {
		spec := en.spec("", web)
		spec.Definition.Volumes = []ecs.Volume{{Name: new("host"), Host: &ecs.HostVolumeProperties{SourcePath: new(path)}}}
		if err := en.agent.Validate(spec); err == nil || !strings.Contains(err.Error(), "outside the allowed roots") {
			t.Errorf("Validate with host path %s: got %v, want it refused", path, err)
		}
		o := en.start(t, en.agent, spec)
		if o.StopCode != agent.StopCodeTaskFailedToStart || !strings.Contains(o.StoppedReason, "outside the allowed roots") {
			t.Errorf("Start with host path %s: got %s %q, want TaskFailedToStart", path, o.StopCode, o.StoppedReason)
		}
	}
	en.wantContainers(t, 0, "after the refused Starts")
}

func TestAdoptAfterRestart(t *testing.T) {
	en := newEnv(t, agent.Config{})
	web := webServer()
	side := def("side", false, "serve", ":9090")
	spec := en.spec("", web, side)
	// Two Starts at once make one task.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() { _, errs[i] = en.agent.Start(en.ctx, spec) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("Start: %v", err)
	}
	before := en.waitTask(t, en.agent, spec.TaskARN, "the task to run", status(agent.StatusRunning))
	en.wantContainers(t, 2, "after two Starts")
	en.agent.Close()

	// A new overcast: starting the task again starts nothing.
	restarted := en.newAgent(t)
	again := en.start(t, restarted, spec)
	if diff := cmp.Diff(before.Containers, again.Containers); diff != "" {
		t.Errorf("Start after a restart (-before +after):\n%s", diff)
	}
	en.wantContainers(t, 2, "after a restart (the 2 first started)")
	b := container(t, again, "web").NetworkBindings[0]
	if got := get(t, fmt.Sprintf("http://%s:%d/", *b.BindIP, *b.HostPort)); !strings.HasPrefix(got, "hello from") {
		t.Errorf("GET the adopted task: got %q", got)
	}

	// The essential container dies while no overcast runs; the next one
	// sees it STOPPED with its exit code, and stops the task.
	restarted.Close()
	if err := en.engine.KillContainer(en.ctx, container(t, again, "web").RuntimeID, "SIGUSR1"); err != nil {
		t.Fatalf("KillContainer: %v", err)
	}
	third := en.newAgent(t)
	adopted, err := third.Adopt(en.ctx)
	if err != nil || len(adopted) != 1 || adopted[0].TaskARN != spec.TaskARN {
		t.Fatalf("Adopt: got %+v, %v, want the task", adopted, err)
	}
	o := en.waitTask(t, third, spec.TaskARN, "the task to stop", status(agent.StatusStopped))
	w, s := container(t, o, "web"), container(t, o, "side")
	got := []string{o.StopCode, w.LastStatus, exitCode(w), s.LastStatus, exitCode(s)}
	want := []string{agent.StopCodeEssentialContainerExited, agent.StatusStopped, "4", agent.StatusStopped, "3"} // the app exits 4 on SIGUSR1
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("adopted task (-want +got):\n%s", diff)
	}
	if _, err := third.Stop(en.ctx, spec.TaskARN, "cleanup"); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if _, err := third.Observe(en.ctx, spec.TaskARN); !errors.Is(err, agent.ErrNoTask) {
		t.Errorf("Observe after Stop: got %v, want ErrNoTask", err)
	}
}

func TestSharedDockerVolume(t *testing.T) {
	en := newEnv(t, agent.Config{})
	volume := func(name string, autoprovision bool) []ecs.Volume {
		return []ecs.Volume{{Name: new(name), DockerVolumeConfiguration: &ecs.DockerVolumeConfiguration{
			Scope: new("shared"), Autoprovision: new(autoprovision), Driver: new("local")}}}
	}
	name := "overcast-agent-test-" + runID
	mount := []ecs.MountPoint{{SourceVolume: new(name), ContainerPath: new("/data")}}

	// One task writes into the shared volume and ends; the volume outlives
	// it, and the next task reads what it wrote.
	writer := def("writer", true, "copy", "/greeting", "/data/ready")
	writer.MountPoints = mount
	spec := en.spec("", writer)
	spec.Definition.Volumes = volume(name, true)
	en.start(t, en.agent, spec)
	en.waitTask(t, en.agent, spec.TaskARN, "the writer to finish", status(agent.StatusStopped))
	if _, err := en.agent.Stop(en.ctx, spec.TaskARN, "done"); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	reader := def("reader", true, "cat", "/data/ready")
	reader.MountPoints = mount
	reader.LogConfiguration = &ecs.LogConfiguration{LogDriver: new("awslogs"), Options: map[string]string{"awslogs-group": "g", "awslogs-stream-prefix": "p"}}
	spec = en.spec("", reader)
	spec.Definition.Volumes = volume(name, false)
	o := en.run(t, spec, "the reader to finish", status(agent.StatusStopped))
	if c := container(t, o, "reader"); exitCode(c) != "0" {
		t.Errorf("reader: got exit code %s, want 0", exitCode(c))
	}
	stream := "g:p/reader/" + o.TaskARN[strings.LastIndex(o.TaskARN, "/")+1:]
	en.waitTask(t, en.agent, spec.TaskARN, "the reader's output", func(agent.Observed) bool {
		return slices.Equal(en.logs.lines(stream), []string{greeting})
	})

	// Without autoprovision, a missing shared volume fails the task.
	spec = en.spec("", reader)
	spec.Definition.Volumes = volume(name+"-missing", false)
	spec.Definition.ContainerDefinitions[0].MountPoints = []ecs.MountPoint{{SourceVolume: new(name + "-missing"), ContainerPath: new("/data")}}
	if o := en.start(t, en.agent, spec); o.StopCode != agent.StopCodeTaskFailedToStart || !strings.Contains(o.StoppedReason, "autoprovision") {
		t.Errorf("missing shared volume: got %s %q, want TaskFailedToStart", o.StopCode, o.StoppedReason)
	}
}

func TestHostAndNoneNetworkModes(t *testing.T) {
	en := newEnv(t, agent.Config{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	web := def("web", true, "serve", fmt.Sprintf("127.0.0.1:%d", port))
	web.PortMappings = []ecs.PortMapping{portMapping(int32(port))}
	host := en.spec(agent.ModeHost, web)
	en.start(t, en.agent, host)
	o := en.waitTask(t, en.agent, host.TaskARN, "the host task to run", status(agent.StatusRunning))
	if got := get(t, fmt.Sprintf("http://127.0.0.1:%d/", port)); !strings.HasPrefix(got, "hello from") {
		t.Errorf("GET the host-mode server: got %q", got)
	}
	if b := container(t, o, "web").NetworkBindings; len(b) != 1 || *b[0].HostPort != int32(port) || *b[0].ContainerPort != int32(port) {
		t.Errorf("host-mode bindings: got %+v, want %d:%d", b, port, port)
	}

	// Without a network, the same server cannot be reached from inside.
	client := def("client", true, "get", fmt.Sprintf("http://127.0.0.1:%d/", port))
	none := en.spec(agent.ModeNone, client)
	en.start(t, en.agent, none)
	o = en.waitTask(t, en.agent, none.TaskARN, "the isolated client to fail", status(agent.StatusStopped))
	if c := container(t, o, "client"); exitCode(c) != "1" {
		t.Errorf("client without a network: got exit code %s, want 1", exitCode(c))
	}
	for _, arn := range []string{host.TaskARN, none.TaskARN} {
		if _, err := en.agent.Stop(en.ctx, arn, "done"); err != nil {
			t.Errorf("Stop: %v", err)
		}
	}
}
