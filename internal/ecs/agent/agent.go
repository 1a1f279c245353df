// Package agent runs ECS tasks as containers on the local Docker engine,
// as the ECS container agent does on an EC2 instance: it pulls images,
// creates the task's volumes and containers, starts them in dependsOn
// order, watches health and essential containers, and stops the task.
//
// It keeps no state of its own that matters: every container carries
// overcast.* labels (the task, the container's name and what the agent must
// know of its definition), so a restarted overcast adopts the running tasks
// from the engine (Adopt) instead of starting them twice, and sees the
// containers that died meanwhile as STOPPED with their exit codes.
//
// The ECS service's task controller decides where a task runs (its host
// address, network mode) and writes back what the agent observes.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"overcast"
	"overcast/internal/api/ecs"
	"overcast/internal/docker"
)

// Owner is the overcast.owner of everything the agent creates.
const Owner = "ecs"

// Task and container statuses, as ECS reports them.
const (
	StatusPending = "PENDING"
	StatusRunning = "RUNNING"
	StatusStopped = "STOPPED"

	HealthHealthy   = "HEALTHY"
	HealthUnhealthy = "UNHEALTHY"
	HealthUnknown   = "UNKNOWN"
)

// Stop codes and the reasons the agent gives with them.
const (
	StopCodeTaskFailedToStart        = "TaskFailedToStart"
	StopCodeEssentialContainerExited = "EssentialContainerExited"
	StopCodeUserInitiated            = "UserInitiated"

	ReasonEssentialContainerExited = "Essential container in task exited"
)

// Secrets resolves a secret's valueFrom (a Secrets Manager secret ARN,
// with an optional json-key:stage:version-id tail, or an SSM parameter
// name or ARN) to its value, with the task's execution role.
type Secrets interface {
	Resolve(ctx context.Context, valueFrom string) (string, error)
}

// EnvironmentFiles reads an environmentFiles entry (an S3 object ARN, type
// "s3") as the variables it holds.
type EnvironmentFiles interface {
	Read(ctx context.Context, objectARN string) (map[string]string, error)
}

// LogSink receives the output of containers whose log driver is awslogs:
// what CloudWatch Logs' PutLogEvents would. The app adapts its Logs
// service to it.
type LogSink interface {
	PutLogEvents(ctx context.Context, dest LogDestination, events []LogEvent) error
}

// FileSystems gives the host directory of an EFS file system (or of one
// of its access points): every task that mounts it binds that directory.
type FileSystems interface {
	MountSource(ctx context.Context, account, region, fileSystemID, accessPointID, rootDirectory string) (string, error)
}

// LogDestination is where one container's awslogs output goes.
type LogDestination struct {
	Group  string `json:"g"`
	Stream string `json:"s"`
	Region string `json:"r,omitempty"`
	// Account is the task's: the group's owner.
	Account string `json:"a,omitempty"`
	// CreateGroup is awslogs-create-group: make the group when missing.
	CreateGroup bool `json:"c,omitempty"`
}

// LogEvent is one line of a container's output.
type LogEvent struct {
	Time    time.Time
	Message string
}

// Config configures an Agent.
type Config struct {
	// AllowedHostRoots are the host directories a task's host volumes
	// (sourcePath) may bind: a path outside all of them is refused, and so
	// is every host path when there are none.
	AllowedHostRoots []string
	// Network is the Docker network of bridge tasks and of awsvpc tasks'
	// pause containers, created (with Labels) when missing; empty means
	// the engine's default bridge.
	Network string
	// Labels go on everything the agent creates, and select what Adopt
	// takes over (e.g. the account and region).
	Labels           map[string]string
	Secrets          Secrets
	EnvironmentFiles EnvironmentFiles
	Logs             LogSink
	// FileSystems mounts EFS volumes; nil refuses them.
	FileSystems FileSystems
	// OnChange is called, from the agent's goroutines, each time a task's
	// observed state changes.
	OnChange func(Observed)
	// PollInterval bounds how long a missed engine event can go unnoticed
	// (default 2s); Run's events make changes seen at once.
	PollInterval time.Duration
	Logger       *slog.Logger
}

// Spec is one task to run, with what the task controller decided for it.
type Spec struct {
	TaskARN string
	// Cluster is the cluster's ARN.
	Cluster    string
	Definition ecs.TaskDefinition
	Overrides  *ecs.TaskOverride
	// NetworkMode is bridge (also when empty), host, none or awsvpc.
	NetworkMode string
	// HostIP is the address ports are published on: the virtual
	// instance's for bridge tasks, the task's own for awsvpc tasks. Empty
	// publishes on every address.
	HostIP string
	// PullAuth resolves the task's images to pullable references and
	// credentials; nil uses the engine's RegistryAuth.
	PullAuth docker.RegistryAuth
	// Labels go on the task's containers and volumes, after Config.Labels.
	Labels map[string]string
	// Environment is what the agent itself gives every container (the
	// credentials and metadata endpoints, AWS_REGION ...); the task
	// definition's variables override it.
	Environment map[string]string
	// ContainerEnvironment is, by container name, what the agent gives
	// one container over Environment (its task metadata endpoint).
	ContainerEnvironment map[string]map[string]string
	// Caller is who the agent acts as to read secrets and environment
	// files and to pull images: the task's execution role. Nil: the
	// caller of the context Start gets.
	Caller *overcast.Caller
}

// TaskID is the last part of the task's ARN.
func (s Spec) TaskID() string { return taskID(s.TaskARN) }

func taskID(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

// Observed is what the agent sees of a task: what the controller writes
// back to the task and its containers.
type Observed struct {
	TaskARN string
	// LastStatus is PENDING until every container that can start has,
	// RUNNING, then STOPPED once no container runs. A task with a StopCode
	// is stopping: its desired status is STOPPED.
	LastStatus string
	// HealthStatus is of the essential containers with a health check:
	// UNHEALTHY if one is, HEALTHY if all are, else UNKNOWN.
	HealthStatus  string
	StopCode      string
	StoppedReason string
	// IPv4Address is the awsvpc task's own address.
	IPv4Address   string
	PullStartedAt time.Time
	PullStoppedAt time.Time
	StartedAt     time.Time
	StoppedAt     time.Time
	Containers    []ContainerState
}

// ContainerState is one container of an observed task.
type ContainerState struct {
	Name      string
	Image     string
	Essential bool
	// RuntimeID is the Docker container's ID.
	RuntimeID    string
	LastStatus   string
	ExitCode     *int32
	Reason       string
	HealthStatus string
	// NetworkBindings are the published ports.
	NetworkBindings []ecs.NetworkBinding
	StartedAt       time.Time
	StoppedAt       time.Time
}

// Container returns the named container's state, and whether there is one.
func (o Observed) Container(name string) (ContainerState, bool) {
	i := slices.IndexFunc(o.Containers, func(c ContainerState) bool { return c.Name == name })
	if i < 0 {
		return ContainerState{}, false
	}
	return o.Containers[i], true
}

// APIContainers are the observed containers as ECS's API shows them; the
// controller adds what only it knows (containerArn, cpu, memory).
func (o Observed) APIContainers() []ecs.Container {
	out := make([]ecs.Container, 0, len(o.Containers))
	for _, c := range o.Containers {
		ac := ecs.Container{
			TaskArn:         new(o.TaskARN),
			Name:            new(c.Name),
			Image:           new(c.Image),
			LastStatus:      new(c.LastStatus),
			ExitCode:        c.ExitCode,
			NetworkBindings: c.NetworkBindings,
			HealthStatus:    new(c.HealthStatus),
		}
		if c.RuntimeID != "" {
			ac.RuntimeId = new(c.RuntimeID)
		}
		if c.Reason != "" {
			ac.Reason = new(c.Reason)
		}
		out = append(out, ac)
	}
	return out
}

// ErrNoTask is returned for a task the agent neither runs nor finds on the
// engine.
var ErrNoTask = errors.New("agent: no such task")

// Agent runs tasks on one engine. It is safe for concurrent use.
type Agent struct {
	engine *docker.Engine
	cfg    Config
	log    *slog.Logger

	ctx    context.Context // the supervisors', ended by Close
	cancel context.CancelFunc

	mu    sync.Mutex
	tasks map[string]*task // by ARN
	// failed are tasks that stopped before any container was created:
	// nothing on the engine remembers them.
	failed map[string]Observed

	pauseMu sync.Mutex
	netMu   sync.Mutex
}

// New returns an Agent for engine. It starts nothing: Start and Adopt do.
func New(engine *docker.Engine, cfg Config) *Agent {
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 2 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Agent{engine: engine, cfg: cfg, log: log, ctx: ctx, cancel: cancel,
		tasks: map[string]*task{}, failed: map[string]Observed{}}
}

// Close stops supervising, as a shutdown of overcast does: the tasks' containers
// keep running, for the next Agent to Adopt.
func (a *Agent) Close() error {
	a.cancel()
	a.mu.Lock()
	tasks := slices.Collect(maps.Values(a.tasks))
	a.mu.Unlock()
	for _, t := range tasks {
		<-t.done
	}
	return nil
}

// selector selects the containers of the agent's tasks (all with arn "").
func (a *Agent) selector(arn string) map[string]string {
	sel := maps.Clone(a.cfg.Labels)
	if sel == nil {
		sel = map[string]string{}
	}
	maps.Copy(sel, docker.OwnerSelector(Owner))
	sel[docker.LabelTask] = arn
	return sel
}

// Validate reports what in spec the agent would refuse to run: the task
// controller may call it to fail RunTask early. Start reports the same
// problems as a task that failed to start.
func (a *Agent) Validate(spec Spec) error {
	_, err := a.plan(spec)
	return err
}

// Start runs the task: it pulls the images, creates the volumes and every
// container, starts those without dependencies and returns; a supervisor
// starts the rest as their dependencies allow, and watches the task until
// Stop. Starting a task that runs already (here or, before a restart, on
// the engine) starts nothing and returns what is observed.
//
// A task that cannot start (an image that cannot be pulled, a secret that
// cannot be read, a refused host path) is returned STOPPED with stop code
// TaskFailedToStart and nil error: the error is for failures to reach the
// engine at all, after which the controller may try again.
func (a *Agent) Start(ctx context.Context, spec Spec) (Observed, error) {
	if spec.TaskARN == "" {
		return Observed{}, errors.New("agent: a task ARN is required")
	}
	a.mu.Lock()
	if t := a.tasks[spec.TaskARN]; t != nil {
		a.mu.Unlock()
		// Another Start of it may be under way: what it made is the task.
		select {
		case <-t.launched:
		case <-ctx.Done():
			return Observed{}, ctx.Err()
		}
		return a.Observe(ctx, spec.TaskARN)
	}
	if o, ok := a.failed[spec.TaskARN]; ok {
		a.mu.Unlock()
		return o, nil
	}
	// Holding the slot while starting keeps a second Start of the same
	// task from creating it twice.
	t := newTask(spec.TaskARN)
	t.launched = make(chan struct{})
	a.tasks[spec.TaskARN] = t
	a.mu.Unlock()

	existing, err := a.engine.ListContainers(ctx, a.selector(spec.TaskARN))
	if err != nil {
		a.abandon(t)
		return Observed{}, err
	}
	if len(existing) > 0 {
		t.adopted = time.Now()
		close(t.launched)
		a.supervise(t)
		return a.Observe(ctx, spec.TaskARN)
	}

	failure, err := a.launch(ctx, t, spec)
	if err != nil || failure != nil {
		// Leave nothing half made: the task is over before it began.
		cleanupErr := a.remove(context.WithoutCancel(ctx), spec.TaskARN)
		if err != nil {
			a.abandon(t)
			return Observed{}, errors.Join(err, cleanupErr)
		}
		o := failure.observed(spec)
		o.PullStartedAt, o.PullStoppedAt = t.pullStarted, t.pullStopped
		a.mu.Lock()
		a.failed[spec.TaskARN] = o
		a.mu.Unlock()
		a.abandon(t)
		a.notify(o)
		return o, nil
	}
	close(t.launched)
	a.supervise(t)
	return a.Observe(ctx, spec.TaskARN)
}

// abandon forgets a task whose launch failed: no supervisor will watch it.
func (a *Agent) abandon(t *task) {
	a.forget(t)
	close(t.launched)
	close(t.done)
}

func (a *Agent) forget(t *task) {
	a.mu.Lock()
	if a.tasks[t.arn] == t {
		delete(a.tasks, t.arn)
	}
	a.mu.Unlock()
}

// Observe inspects the task's containers on the engine.
func (a *Agent) Observe(ctx context.Context, arn string) (Observed, error) {
	a.mu.Lock()
	t := a.tasks[arn]
	o, failed := a.failed[arn]
	a.mu.Unlock()
	if failed {
		return o, nil
	}
	cs, err := a.engine.ListContainers(ctx, a.selector(arn))
	if err != nil {
		return Observed{}, err
	}
	if len(cs) == 0 {
		return Observed{}, fmt.Errorf("%w: %s", ErrNoTask, arn)
	}
	var stop *stopRequest
	if t != nil {
		stop = t.stopRequested()
	}
	return observe(arn, cs, stop), nil
}

// Adopt takes over the tasks found on the engine that no supervisor of
// this Agent watches (those a previous overcast started), and returns what
// is observed of every task on the engine.
func (a *Agent) Adopt(ctx context.Context) ([]Observed, error) {
	cs, err := a.engine.ListContainers(ctx, a.selector(""))
	if err != nil {
		return nil, err
	}
	byTask := map[string][]docker.Container{}
	for _, c := range cs {
		byTask[c.Labels[docker.LabelTask]] = append(byTask[c.Labels[docker.LabelTask]], c)
	}
	var out []Observed
	for _, arn := range slices.Sorted(maps.Keys(byTask)) {
		a.mu.Lock()
		t := a.tasks[arn]
		if t == nil {
			t = newTask(arn)
			t.adopted = time.Now()
			a.tasks[arn] = t
			a.mu.Unlock()
			a.supervise(t)
		} else {
			a.mu.Unlock()
		}
		out = append(out, observe(arn, byTask[arn], t.stopRequested()))
	}
	return out, nil
}

// Stop stops the task as ECS does: SIGTERM to every container, SIGKILL
// after its stopTimeout; then it removes the containers, the pause
// container and the task's own volumes (shared volumes stay), and returns
// the task's last observed state. A task that had already stopped keeps
// its stop code and reason; otherwise they are UserInitiated and reason.
func (a *Agent) Stop(ctx context.Context, arn, reason string) (Observed, error) {
	a.mu.Lock()
	t := a.tasks[arn]
	o, failed := a.failed[arn]
	delete(a.failed, arn)
	a.mu.Unlock()
	if failed {
		return o, nil
	}
	if t == nil {
		// A task of a previous overcast, not adopted yet.
		t = newTask(arn)
		a.mu.Lock()
		a.tasks[arn] = t
		a.mu.Unlock()
		close(t.done)
	}
	cs, err := a.engine.ListContainers(ctx, a.selector(arn))
	if err != nil {
		return Observed{}, err
	}
	if len(cs) == 0 {
		t.requestStop(StopCodeUserInitiated, reason)
		t.wake()
		if err := waitDone(ctx, t); err != nil {
			return Observed{}, err
		}
		a.forget(t)
		return Observed{}, fmt.Errorf("%w: %s", ErrNoTask, arn)
	}
	// A task that stopped on its own keeps its stop code and reason.
	code, why := StopCodeUserInitiated, reason
	if f := taskFailure(mustMembers(cs)); f != nil {
		code, why = f.code, f.reason
	}
	t.requestStop(code, why)
	t.wake()
	// The supervisor starts nothing more once done.
	if err := waitDone(ctx, t); err != nil {
		return Observed{}, err
	}
	if cs, err = a.engine.ListContainers(ctx, a.selector(arn)); err != nil {
		return Observed{}, err
	}
	if err := a.stopAll(ctx, cs); err != nil {
		return Observed{}, err
	}
	if cs, err = a.engine.ListContainers(ctx, a.selector(arn)); err != nil {
		return Observed{}, err
	}
	o = observe(arn, cs, t.stopRequested())
	t.wait() // log forwarders have read the last lines
	if err := a.remove(ctx, arn); err != nil {
		return o, err
	}
	a.forget(t)
	a.notify(o)
	return o, nil
}

// Lost stops supervising a task whose engine has been lost, without
// asking the engine anything: nothing there answers. Should the engine
// come back with the task's containers, Stop removes them.
func (a *Agent) Lost(arn string) {
	a.mu.Lock()
	t := a.tasks[arn]
	delete(a.failed, arn)
	a.mu.Unlock()
	if t == nil {
		return
	}
	// Its supervisor ends at its next look; waiting for it could mean
	// waiting on a call to the engine that is gone.
	t.requestStop(StopCodeUserInitiated, "")
	t.wake()
	a.forget(t)
}

// waitDone waits for the task's supervisor to end, or ctx: a supervisor
// may be held by an engine that stopped answering.
func waitDone(ctx context.Context, t *task) error {
	select {
	case <-t.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// remove deletes the task's containers (pause last: the others use its
// network namespace) and its task-scoped volumes.
func (a *Agent) remove(ctx context.Context, arn string) error {
	cs, err := a.engine.ListContainers(ctx, a.selector(arn))
	if err != nil {
		return err
	}
	slices.SortStableFunc(cs, func(x, y docker.Container) int {
		return compareBool(isPause(x), isPause(y))
	})
	var errs []error
	keep := func(err error) {
		if err != nil && !errors.Is(err, docker.ErrNotFound) {
			errs = append(errs, err)
		}
	}
	for _, c := range cs {
		keep(a.engine.RemoveContainer(ctx, c.ID, docker.RemoveOptions{Force: true, Volumes: true}))
	}
	vols, err := a.engine.ListVolumes(ctx, a.selector(arn))
	keep(err)
	for _, v := range vols {
		keep(a.engine.RemoveVolume(ctx, v.Name, true))
	}
	return errors.Join(errs...)
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// Run follows the engine's events, so that supervisors see a container
// stop, start or change health at once rather than at their next poll. It
// returns when ctx ends or the Agent is closed.
func (a *Agent) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(a.ctx, cancel)
	defer stop()
	return a.engine.Watch(ctx, docker.EventFilter{Labels: a.selector("")}, func(ev docker.Event) {
		a.mu.Lock()
		defer a.mu.Unlock()
		if ev.Action == docker.ActionResync {
			for _, t := range a.tasks {
				t.wake()
			}
			return
		}
		if t := a.tasks[ev.Labels[docker.LabelTask]]; t != nil {
			t.wake()
		}
	})
}

func (a *Agent) notify(o Observed) {
	if a.cfg.OnChange != nil {
		a.cfg.OnChange(o)
	}
}
