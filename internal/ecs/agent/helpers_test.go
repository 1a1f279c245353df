package agent_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"overcast/internal/api/ecs"
	"overcast/internal/docker"
	"overcast/internal/docker/dockertest"
	"overcast/internal/ecs/agent"
	"overcast/internal/service/servicetest"
)

// runID tells this test process's engine objects from any other's.
var runID = randomHex(4)

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// greeting is the content of /greeting in the test image.
const greeting = "hello from the image"

// image is the test image: the docker package's test app as /app, and
// /greeting; made once per test process.
var image struct {
	dockertest.OnceImage
	checked bool
}

func TestMain(m *testing.M) {
	code := m.Run()
	if image.checked {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if e, err := docker.New(docker.Options{}); err == nil {
			if err := e.Purge(ctx, map[string]string{docker.LabelTest: runID}); err != nil {
				fmt.Fprintln(os.Stderr, "removing the test image:", err)
			}
			// The pause image stays: it is shared with every other test
			// process on the engine (ECS's tests run beside these), as
			// overcast itself leaves it.
			e.Close()
		}
		cancel()
	}
	os.Exit(code)
}

// appImage returns the test image; its entrypoint is /app (see
// internal/docker/testdata/testapp for its commands).
func appImage(t testing.TB, e *docker.Engine) string {
	t.Helper()
	return image.Get(t, func(ctx context.Context) (string, error) {
		image.checked = true
		ref := "overcast-test/ecs-app:" + runID
		return ref, dockertest.ImportApp(ctx, e, ref, map[string][]byte{"greeting": []byte(greeting)},
			map[string]string{docker.LabelTest: runID})
	})
}

// env is one test's engine, agent and labels.
type env struct {
	engine *docker.Engine
	agent  *agent.Agent
	cfg    agent.Config
	ctx    context.Context
	image  string
	logs   *sink
}

// newEnv begins a parallel test against the engine with its own Agent;
// everything the test creates carries its labels, and its cleanup removes
// it all.
func newEnv(t *testing.T, cfg agent.Config) *env {
	t.Helper()
	t.Parallel()
	e := dockertest.Engine(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	labels := dockertest.Labels(t, e, runID)
	cfg.Labels = labels
	cfg.PollInterval = 200 * time.Millisecond
	s := &sink{}
	if cfg.Logs == nil {
		cfg.Logs = s
	}
	en := &env{engine: e, cfg: cfg, ctx: ctx, image: appImage(t, e), logs: s}
	en.agent = en.newAgent(t)
	return en
}

// newAgent is another Agent on the test's engine, as after a restart;
// it follows the engine's events until the test ends.
func (en *env) newAgent(t *testing.T) *agent.Agent {
	a := agent.New(en.engine, en.cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; a.Close() })
	return a
}

// spec is a task of containers, each of the test image unless it names
// another.
func (en *env) spec(mode string, containers ...ecs.ContainerDefinition) agent.Spec {
	id := randomHex(16)
	for i := range containers {
		if containers[i].Image == nil {
			containers[i].Image = new(en.image)
		}
	}
	return agent.Spec{
		TaskARN:     "arn:aws:ecs:us-east-1:000000000000:task/test/" + id,
		Cluster:     "arn:aws:ecs:us-east-1:000000000000:cluster/test",
		Definition:  ecs.TaskDefinition{Family: new("test"), Revision: new(int32(1)), ContainerDefinitions: containers},
		NetworkMode: mode,
		HostIP:      loopback(),
	}
}

// loopback is a random address of 127.0.0.0/8, as the controller gives
// each virtual instance and awsvpc task.
func loopback() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1<<22))
	v := n.Int64()
	return fmt.Sprintf("127.%d.%d.%d", 1+v%250, (v>>8)%250, 2+(v>>16)%250)
}

func (en *env) start(t *testing.T, a *agent.Agent, spec agent.Spec) agent.Observed {
	t.Helper()
	o, err := a.Start(en.ctx, spec)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return o
}

// run starts a task on the test's agent and waits until cond holds.
func (en *env) run(t *testing.T, spec agent.Spec, what string, cond func(agent.Observed) bool) agent.Observed {
	t.Helper()
	en.start(t, en.agent, spec)
	return en.waitTask(t, en.agent, spec.TaskARN, what, cond)
}

// waitTask polls the task until cond holds, and returns what it saw.
func (en *env) waitTask(t *testing.T, a *agent.Agent, arn, what string, cond func(agent.Observed) bool) agent.Observed {
	t.Helper()
	var o agent.Observed
	servicetest.WaitForEvery(t, what, 100*time.Millisecond, 60*time.Second, func() bool {
		var err error
		o, err = a.Observe(en.ctx, arn)
		if err != nil {
			t.Fatalf("Observe: %v", err)
		}
		return cond(o)
	})
	return o
}

func status(want string) func(agent.Observed) bool {
	return func(o agent.Observed) bool { return o.LastStatus == want }
}

// get fetches url's body, retrying while the server is not up yet (a
// RUNNING container may not listen yet).
func get(t *testing.T, url string) string {
	t.Helper()
	c := http.Client{Timeout: 10 * time.Second}
	var body string
	var last error
	servicetest.WaitForEvery(t, "GET "+url, 50*time.Millisecond, 20*time.Second, func() bool {
		resp, err := c.Get(url)
		if err != nil {
			last = err
			return false
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		body, last = string(b), err
		return err == nil
	})
	if last != nil {
		t.Fatalf("GET %s: %v", url, last)
	}
	return body
}

func container(t *testing.T, o agent.Observed, name string) agent.ContainerState {
	t.Helper()
	c, ok := o.Container(name)
	if !ok {
		t.Fatalf("task %s has no container %s: %+v", o.TaskARN, name, o)
	}
	return c
}

func exitCode(c agent.ContainerState) string {
	if c.ExitCode == nil {
		return "none"
	}
	return fmt.Sprint(*c.ExitCode)
}

// sink is a LogSink keeping what it is sent.
type sink struct {
	mu     sync.Mutex
	events map[string][]string // by group/stream
}

func (s *sink) PutLogEvents(_ context.Context, dest agent.LogDestination, events []agent.LogEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.events == nil {
		s.events = map[string][]string{}
	}
	for _, e := range events {
		s.events[dest.Group+":"+dest.Stream] = append(s.events[dest.Group+":"+dest.Stream], e.Message)
	}
	return nil
}

func (s *sink) lines(key string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.events[key]...)
}

// webServer is an essential container "web" serving the test app on
// port 8080, which it maps.
func webServer() ecs.ContainerDefinition {
	web := def("web", true, "serve", ":8080")
	web.PortMappings = []ecs.PortMapping{portMapping(8080)}
	return web
}

// wantServedAt checks that an awsvpc task's web container answers at the
// task's own address, bound there on port 8080.
func wantServedAt(t *testing.T, o agent.Observed, hostIP string) {
	t.Helper()
	if got := get(t, fmt.Sprintf("http://%s:8080/", hostIP)); !strings.HasPrefix(got, "hello from") {
		t.Errorf("GET the task's address: got %q, want the app's greeting", got)
	}
	c := container(t, o, "web")
	if len(c.NetworkBindings) != 1 || *c.NetworkBindings[0].BindIP != hostIP || *c.NetworkBindings[0].HostPort != 8080 {
		t.Errorf("web's bindings: got %+v, want %s:8080", c.NetworkBindings, hostIP)
	}
}

// wantContainers checks that the engine holds n containers with the
// test's labels; when says at which point of the test.
func (en *env) wantContainers(t *testing.T, n int, when string) {
	t.Helper()
	if cs, err := en.engine.ListContainers(en.ctx, en.cfg.Labels); err != nil || len(cs) != n {
		t.Errorf("containers %s: got %d (%v), want %d", when, len(cs), err, n)
	}
}

// def is a container definition of the test image running command.
func def(name string, essential bool, command ...string) ecs.ContainerDefinition {
	return ecs.ContainerDefinition{Name: new(name), Essential: new(essential), Command: command, StopTimeout: new(int32(5))}
}
